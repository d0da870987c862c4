//! Differential test (issue 3): on random small worlds, encore's `decide` and the Cedar
//! policies give the same allow/deny.
//!
//! Each scenario is a fresh world (parties, recordings with or without splits, works,
//! links, agreements of every scope, status, window and territory shape, participation with
//! defaults and overrides, models with training sets, sometimes a random use table) and one
//! request. Unknown ids are mixed in on purpose. Times sit on a coarse grid so that window
//! ends and revocations often fall exactly on the request's time.
//!
//! `ENCORE_CEDAR_SCENARIOS` sets how many (default 2,000); `ENCORE_CEDAR_SEED` replays one.
//! encore reads agreements through `AgreementIndex` (its item index), Cedar through a plain
//! map giving every agreement of a licensor as a candidate, so the index is checked too.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::hash::Hash;

use encore_cedar::CedarRights;
use encore_core::rights::{
    Agreement, AgreementIndex, AgreementStatus, ArtistRule, Choice, MemoryCatalog, Model,
    OnRevocation, Participation, RecordingRights, Scope, Territories, TrainingSet, UseRequest,
    UseRule, UseTable, WorkRights, decide,
};
use encore_core::{PartyKind, Share, Splits, Territory, UseType};

const DEFAULT_SCENARIOS: usize = 2_000;
const T0: i64 = 1_780_000_000_000;
const DAY: i64 = 86_400_000;

/// xorshift64*: small and deterministic.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // splitmix64 of the seed, so that nearby seeds give unrelated streams (never zero).
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Self((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `p` (0..=1).
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const PARTIES: usize = 8;
/// Parties `p0`..`p2` are organisations, the rest persons.
const ORGS: usize = 3;
const RECORDINGS: usize = 6;
const WORKS: usize = 5;
const COUNTRIES: [&str; 3] = ["US", "GB", "DE"];
const REQUEST_TERRITORIES: [&str; 7] = ["US", "GB", "DE", "FR", "WW", "WW", "WW"];

fn party(i: usize) -> String {
    format!("p{i}")
}

fn recording(i: usize) -> String {
    format!("r{i}")
}

fn work(i: usize) -> String {
    format!("w{i}")
}

fn territory(code: &str) -> Territory {
    Territory::parse(code).expect("known territory")
}

/// One random world and request.
#[derive(Debug)]
struct Scenario {
    table: UseTable,
    catalog: MemoryCatalog,
    agreements: Vec<Agreement>,
    participation: HashMap<String, Participation>,
    models: HashMap<String, Model>,
    request: UseRequest,
}

/// A world where everything goes wrong with probability `bad`, so that some are allowed.
struct Gen {
    rng: Rng,
    bad: f64,
}

impl Gen {
    fn bad(&mut self) -> bool {
        let p = self.bad;
        self.rng.chance(p)
    }

    /// Mostly known ids, sometimes one that does not exist.
    fn recording_ref(&mut self) -> String {
        if self.rng.chance(self.bad / 4.0) {
            "r_missing".to_owned()
        } else {
            recording(self.rng.below(RECORDINGS))
        }
    }

    fn work_ref(&mut self) -> String {
        if self.rng.chance(self.bad / 4.0) {
            "w_missing".to_owned()
        } else {
            work(self.rng.below(WORKS))
        }
    }

    fn org_or_anyone(&mut self) -> String {
        if self.rng.chance(0.8) {
            party(self.rng.below(ORGS))
        } else {
            party(self.rng.below(PARTIES))
        }
    }

    fn person(&mut self) -> String {
        party(ORGS + self.rng.below(PARTIES - ORGS))
    }

    fn splits<K: for<'a> From<&'a str> + Clone + Eq + Hash>(&mut self) -> Option<Splits<K>> {
        if self.rng.chance(self.bad / 3.0) {
            return None;
        }
        let n = 1 + self.rng.below(2);
        let mut owners: Vec<String> = Vec::new();
        while owners.len() < n {
            let o = self.org_or_anyone();
            if !owners.contains(&o) {
                owners.push(o);
            }
        }
        let first = 1_000_000 - 400_000 * (n as u32 - 1);
        let entries = owners
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                let ppm = if i == 0 { first } else { 400_000 };
                (o.as_str().into(), Share::from_ppm(ppm).expect("share"))
            })
            .collect();
        Some(Splits::new(entries).expect("valid splits"))
    }

    fn people<K: for<'a> From<&'a str>>(&mut self, most: usize) -> Vec<K> {
        (0..self.rng.below(most + 1))
            .map(|_| self.person().as_str().into())
            .collect()
    }

    fn uses(&mut self, all: bool) -> BTreeSet<UseType> {
        if all {
            return UseType::ALL.into_iter().collect();
        }
        let mut uses: BTreeSet<UseType> = UseType::ALL
            .into_iter()
            .filter(|_| self.rng.chance(0.5))
            .collect();
        if uses.is_empty() {
            uses.insert(*self.rng.pick(&UseType::ALL));
        }
        uses
    }

    fn time(&mut self) -> i64 {
        T0 + self.rng.below(5) as i64 * DAY
    }

    fn choice(&mut self) -> Option<Choice> {
        if !self.bad() {
            return Some(if self.rng.chance(0.8) {
                Choice::Allow
            } else {
                Choice::Approve
            });
        }
        *self.rng.pick(&[
            None,
            Some(Choice::Deny),
            Some(Choice::Allow),
            Some(Choice::Approve),
        ])
    }

    fn any_choice(&mut self) -> Choice {
        *self
            .rng
            .pick(&[Choice::Allow, Choice::Deny, Choice::Approve])
    }

    fn table(&mut self) -> UseTable {
        if self.rng.chance(0.75) {
            return UseTable::default();
        }
        UseTable::from_fn(|_| UseRule {
            master_owners: self.rng.chance(0.5),
            publishing_owners: self.rng.chance(0.5),
            artists: *self.rng.pick(&[
                ArtistRule::NotRequired,
                ArtistRule::MainArtists,
                ArtistRule::VoicedArtist,
            ]),
            writers: self.rng.chance(0.5),
            min_inputs: self.rng.below(4) as u8,
        })
    }

    fn agreement(&mut self, i: usize, licensor: String) -> Agreement {
        let kinds = if self.bad() { 3 } else { 1 };
        let scope = match self.rng.below(kinds) {
            0 => Scope::AllWhereLicensorHoldsShares,
            1 => Scope::Recordings(
                (0..1 + self.rng.below(3))
                    .map(|_| self.recording_ref())
                    .collect(),
            ),
            _ => Scope::Works(
                (0..1 + self.rng.below(3))
                    .map(|_| self.work_ref())
                    .collect(),
            ),
        };
        let all = !self.bad();
        let uses = self.uses(all);
        let territories = if !self.bad() {
            Territories::World {
                excluding: BTreeSet::new(),
            }
        } else if self.rng.chance(0.5) {
            Territories::World {
                excluding: (0..1 + self.rng.below(2))
                    .map(|_| territory(COUNTRIES[self.rng.below(COUNTRIES.len())]))
                    .collect(),
            }
        } else {
            let mut list: BTreeSet<Territory> = (0..1 + self.rng.below(3))
                .map(|_| territory(COUNTRIES[self.rng.below(COUNTRIES.len())]))
                .collect();
            if self.rng.chance(0.3) {
                list.insert(Territory::world());
            }
            Territories::List(list)
        };
        let (starts_at_ms, ends_at_ms) = if !self.bad() {
            (T0 - 100 * DAY, None)
        } else {
            let start = self.time();
            let end = self
                .rng
                .chance(0.7)
                .then(|| start + (1 + self.rng.below(3)) as i64 * DAY);
            (start, end)
        };
        let status = if !self.bad() {
            AgreementStatus::Accepted
        } else if self.rng.chance(0.5) {
            AgreementStatus::Proposed
        } else {
            AgreementStatus::Revoked { at_ms: self.time() }
        };
        Agreement {
            id: format!("a{i}"),
            licensor,
            scope,
            uses,
            territories,
            starts_at_ms,
            ends_at_ms,
            status,
            requires_approval: self.rng.chance(0.2),
            rates: Default::default(),
            on_revocation: OnRevocation::Keep,
        }
    }

    fn participation(&mut self) -> Participation {
        let mut p = Participation::new();
        for use_type in UseType::ALL {
            let c = self.choice();
            p.set(use_type, c);
            // Overrides often, on the few items there are, so they meet the inputs.
            if self.rng.chance(0.3) {
                if self.rng.chance(0.5) {
                    // An override matters most where the default says no or nothing.
                    let c = *self.rng.pick(&[None, Some(Choice::Deny)]);
                    p.set(use_type, c);
                }
                for _ in 0..1 + self.rng.below(2) {
                    let c = self.any_choice();
                    let per_use = p.for_use_mut(use_type);
                    if self.rng.chance(0.5) {
                        let r = recording(self.rng.below(RECORDINGS));
                        per_use.recordings.insert(r.as_str().into(), c);
                    } else {
                        let w = work(self.rng.below(WORKS));
                        per_use.works.insert(w.as_str().into(), c);
                    }
                }
            }
        }
        p
    }

    fn scenario(&mut self) -> Scenario {
        let table = self.table();
        let mut catalog = MemoryCatalog::default();
        for i in 0..PARTIES {
            let kind = if i < ORGS {
                PartyKind::Organisation
            } else {
                PartyKind::Person
            };
            catalog.parties.insert(party(i).as_str().into(), kind);
        }
        for i in 0..WORKS {
            let rights = WorkRights {
                publishing_splits: self.splits(),
                writers: self.people(2),
            };
            catalog.works.insert(work(i).as_str().into(), rights);
        }
        for i in 0..RECORDINGS {
            let works = if self.rng.chance(self.bad / 3.0) {
                Vec::new()
            } else {
                (0..1 + self.rng.below(2))
                    .map(|_| self.work_ref().as_str().into())
                    .collect()
            };
            let rights = RecordingRights {
                master_splits: self.splits(),
                main_artists: self.people(2),
                works,
            };
            catalog
                .recordings
                .insert(recording(i).as_str().into(), rights);
        }
        // Agreements: usually one catalogue-wide licence per owner, plus random others.
        let mut agreements = Vec::new();
        for o in 0..PARTIES {
            if !self.bad() {
                let a = self.agreement(agreements.len(), party(o));
                agreements.push(a);
            }
        }
        for _ in 0..self.rng.below(8) {
            let licensor = self.org_or_anyone();
            let a = self.agreement(agreements.len(), licensor);
            agreements.push(a);
        }
        let mut participation = HashMap::new();
        for i in 0..PARTIES {
            // Organisations rarely set participation; persons usually do.
            if self
                .rng
                .chance(if i < ORGS { 0.1 } else { 1.0 - self.bad / 2.0 })
            {
                participation.insert(party(i), self.participation());
            }
        }
        let mut models = HashMap::new();
        for i in 0..self.rng.below(3) {
            let training = if self.rng.chance(0.3) {
                TrainingSet::NoCatalogItems
            } else {
                TrainingSet::Items {
                    recordings: (0..self.rng.below(3))
                        .map(|_| self.recording_ref())
                        .collect(),
                    works: (0..self.rng.below(2)).map(|_| self.work_ref()).collect(),
                }
            };
            let all = !self.bad();
            let model = Model {
                id: format!("m{i}"),
                uses: self.uses(all),
                training,
            };
            models.insert(model.id.clone(), model);
        }
        let use_type = *self.rng.pick(&UseType::ALL);
        let at = self.time();
        let mut request = UseRequest::new(
            use_type,
            territory(REQUEST_TERRITORIES[self.rng.below(REQUEST_TERRITORIES.len())]),
            at,
        );
        let inputs = match use_type {
            UseType::Mashup => 1 + self.rng.below(4),
            UseType::Voice | UseType::Cover => self.rng.below(3),
            _ => 1 + usize::from(self.bad()),
        };
        for _ in 0..inputs {
            if use_type != UseType::Cover && self.rng.chance(0.8) {
                request.recordings.push(self.recording_ref());
            } else {
                request.works.push(self.work_ref());
            }
        }
        if use_type == UseType::Voice || self.rng.chance(0.1) {
            request.artist = match self.rng.below(10) {
                0 => None,
                1 => Some("p_missing".to_owned()),
                2 => Some(party(self.rng.below(ORGS))),
                _ => Some(self.person()),
            };
        }
        if self.rng.chance(0.3) {
            request.model = Some(match self.rng.below(4) {
                0 => "m_missing".to_owned(),
                _ => format!("m{}", self.rng.below(2)),
            });
        }
        Scenario {
            table,
            catalog,
            agreements,
            participation,
            models,
            request,
        }
    }
}

fn scenario(seed: u64) -> Scenario {
    let mut rng = Rng::new(seed);
    let bad = [0.0, 0.02, 0.05, 0.1, 0.2, 0.4][rng.below(6)];
    Gen { rng, bad }.scenario()
}

/// Whether encore and Cedar agree on `seed`; on disagreement, a readable account.
fn run(seed: u64) -> Result<bool, String> {
    let s = scenario(seed);
    let index: AgreementIndex = s.agreements.iter().cloned().collect();
    let mut by_licensor: HashMap<String, Vec<Agreement>> = HashMap::new();
    for a in &s.agreements {
        by_licensor
            .entry(a.licensor.clone())
            .or_default()
            .push(a.clone());
    }
    let encore = decide(
        &s.request,
        &s.catalog,
        &index,
        &s.participation,
        &s.table,
        &s.models,
    );
    let cedar = CedarRights::new(&s.table).and_then(|c| {
        c.decide(
            &s.request,
            &s.catalog,
            &by_licensor,
            &s.participation,
            &s.models,
        )
    });
    match cedar {
        Ok(allowed) if allowed == encore.allowed => Ok(allowed),
        other => {
            let mut text = String::new();
            let _ = writeln!(
                text,
                "seed {seed}: encore allowed={} cedar={other:?}",
                encore.allowed
            );
            let _ = writeln!(text, "encore reasons: {:#?}", encore.reasons);
            let _ = writeln!(text, "scenario: {s:#?}");
            Err(text)
        }
    }
}

#[test]
fn encore_and_cedar_agree_on_random_worlds() {
    if let Ok(seed) = std::env::var("ENCORE_CEDAR_SEED") {
        let seed: u64 = seed.parse().expect("ENCORE_CEDAR_SEED is a number");
        if let Err(text) = run(seed) {
            panic!("{text}");
        }
        return;
    }
    let n = std::env::var("ENCORE_CEDAR_SCENARIOS")
        .ok()
        .map_or(DEFAULT_SCENARIOS, |v| {
            v.parse().expect("ENCORE_CEDAR_SCENARIOS is a number")
        });
    let mut allowed = 0usize;
    let mut mismatches = Vec::new();
    for seed in 0..n as u64 {
        match run(seed) {
            Ok(a) => allowed += usize::from(a),
            Err(text) => mismatches.push(text),
        }
    }
    println!(
        "{n} scenarios: {allowed} allowed, {} denied, {} mismatches",
        n - allowed - mismatches.len(),
        mismatches.len()
    );
    if let Some(first) = mismatches.first() {
        panic!(
            "{} of {n} scenarios disagree; first:\n{first}",
            mismatches.len()
        );
    }
    // Both answers must occur often, or the comparison says little.
    assert!(allowed * 10 >= n, "too few allowed: {allowed} of {n}");
    assert!(
        (n - allowed) * 10 >= n,
        "too few denied: {} of {n}",
        n - allowed
    );
}
