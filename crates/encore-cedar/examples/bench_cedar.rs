//! encore's `decide` against the same decisions through Cedar, in one run (issue 3).
//!
//! Builds, deterministically, the world of `encore-core`'s `bench_rights` at a tenth of its
//! size: 100,000 recordings, 25,000 works, 10,000 parties (10% organisations), 10,000
//! agreements (ten per organisation: usually one catalogue-wide, the rest listing items)
//! and participation for every person. Then for 1, 2, 3 and 4 recording inputs (`remix`,
//! then `mashup`) it times, per request and on the same requests:
//!
//! - encore: `decide` (agreements through `AgreementIndex`);
//! - Cedar, whole: the translation of the request and the world it touches into entities
//!   and Cedar requests, then every authorization (what an integration would do per call);
//! - Cedar, authorize only: the authorizations over entities and requests built beforehand.
//!
//! Both engines see the same candidate agreements (the index's `for_recording`/`for_work`).
//! Every answer is compared; a disagreement is counted and reported.
//!
//! Run with `cargo run --release -p encore-cedar --example bench_cedar`.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::hint::black_box;
use std::time::Instant;

use encore_cedar::CedarRights;
use encore_core::rights::{
    Agreement, AgreementIndex, AgreementStatus, Choice, MemoryCatalog, OnRevocation, Participation,
    RecordingRights, Scope, Territories, UseRequest, UseTable, WorkRights, decide,
};
use encore_core::{PartyKind, Share, Splits, Territory, UseType};

const RECORDINGS: usize = 100_000;
const WORKS: usize = 25_000;
const PARTIES: usize = 10_000;
const AGREEMENTS: usize = 10_000;
const REQUESTS: usize = 5_000;
const WARMUP: usize = 500;
/// The time at which every request is judged, Unix ms (2026-06-01).
const NOW_MS: i64 = 1_780_272_000_000;
const DAY_MS: i64 = 86_400_000;

const COUNTRIES: [&str; 12] = [
    "US", "GB", "DE", "FR", "JP", "BR", "CA", "AU", "SE", "NL", "MX", "KR",
];

/// xorshift64*: small, fast and deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 10_000.0 < percent
    }
}

fn territory(code: &str) -> Territory {
    Territory::parse(code).expect("known territory")
}

fn random_territory(rng: &mut Rng) -> Territory {
    if rng.chance(4.0) {
        Territory::world()
    } else {
        territory(COUNTRIES[rng.below(COUNTRIES.len())])
    }
}

fn party_id(i: usize) -> String {
    format!("par_{i:016}")
}

fn recording_id(i: usize) -> String {
    format!("rec_{i:016}")
}

fn work_id(i: usize) -> String {
    format!("wrk_{i:016}")
}

fn org(rng: &mut Rng) -> usize {
    rng.below(PARTIES / 10) * 10
}

fn person(rng: &mut Rng) -> usize {
    loop {
        let p = rng.below(PARTIES);
        if !p.is_multiple_of(10) {
            return p;
        }
    }
}

/// Splits among `n` distinct organisations; records ownership per organisation.
fn org_splits<K: for<'a> From<&'a str> + Clone + Eq + Hash>(
    rng: &mut Rng,
    n: usize,
    owned: &mut [Vec<usize>],
    item: usize,
) -> Splits<K> {
    let mut owners: Vec<usize> = Vec::with_capacity(n);
    while owners.len() < n {
        let o = org(rng);
        if !owners.contains(&o) {
            owners.push(o);
        }
    }
    let base = 1_000_000 / n as u32;
    let entries = owners
        .iter()
        .enumerate()
        .map(|(i, &o)| {
            owned[o / 10].push(item);
            let ppm = if i == 0 {
                1_000_000 - base * (n as u32 - 1)
            } else {
                base
            };
            (
                K::from(party_id(o).as_str()),
                Share::from_ppm(ppm).expect("share"),
            )
        })
        .collect();
    Splits::new(entries).expect("valid splits")
}

fn choice(rng: &mut Rng) -> Option<Choice> {
    match rng.below(1000) {
        0..=969 => Some(Choice::Allow),
        970..=984 => Some(Choice::Approve),
        985..=996 => Some(Choice::Deny),
        _ => None,
    }
}

struct World {
    catalog: MemoryCatalog,
    agreements: AgreementIndex,
    participation: HashMap<String, Participation>,
}

fn build(rng: &mut Rng) -> World {
    let mut catalog = MemoryCatalog::default();
    for i in 0..PARTIES {
        let kind = if i.is_multiple_of(10) {
            PartyKind::Organisation
        } else {
            PartyKind::Person
        };
        catalog.parties.insert(party_id(i).as_str().into(), kind);
    }
    let mut owned_works: Vec<Vec<usize>> = vec![Vec::new(); PARTIES / 10];
    let mut owned_recordings: Vec<Vec<usize>> = vec![Vec::new(); PARTIES / 10];
    for w in 0..WORKS {
        let publishers = 1 + rng.below(2);
        let splits = org_splits(rng, publishers, &mut owned_works, w);
        let writers = 1 + rng.below(2);
        let mut ids = Vec::with_capacity(writers);
        while ids.len() < writers {
            let id = party_id(person(rng));
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        catalog.works.insert(
            work_id(w).as_str().into(),
            WorkRights {
                publishing_splits: Some(splits),
                writers: ids.iter().map(|id| id.as_str().into()).collect(),
            },
        );
    }
    for r in 0..RECORDINGS {
        let owners = 1 + rng.below(3);
        let splits = org_splits(rng, owners, &mut owned_recordings, r);
        catalog.recordings.insert(
            recording_id(r).as_str().into(),
            RecordingRights {
                master_splits: Some(splits),
                main_artists: vec![party_id(person(rng)).as_str().into()],
                works: vec![work_id(rng.below(WORKS)).as_str().into()],
            },
        );
    }
    let all_uses: BTreeSet<UseType> = UseType::ALL.into_iter().collect();
    let mut agreements = AgreementIndex::new();
    let orgs = PARTIES / 10;
    for a in 0..AGREEMENTS {
        let o = a % orgs;
        let first = a < orgs;
        let scope = if first && rng.chance(99.0) {
            Scope::AllWhereLicensorHoldsShares
        } else if rng.chance(50.0) && !owned_recordings[o].is_empty() {
            let items = &owned_recordings[o];
            let n = 1 + rng.below(20);
            Scope::Recordings(
                (0..n)
                    .map(|_| recording_id(items[rng.below(items.len())]))
                    .collect(),
            )
        } else if !owned_works[o].is_empty() {
            let items = &owned_works[o];
            let n = 1 + rng.below(20);
            Scope::Works(
                (0..n)
                    .map(|_| work_id(items[rng.below(items.len())]))
                    .collect(),
            )
        } else {
            Scope::AllWhereLicensorHoldsShares
        };
        let uses: BTreeSet<UseType> = if first && rng.chance(99.5) {
            all_uses.clone()
        } else {
            UseType::ALL
                .into_iter()
                .filter(|_| rng.chance(50.0))
                .chain([UseType::Remix])
                .collect()
        };
        let territories = if rng.chance(if first { 97.0 } else { 80.0 }) {
            Territories::World {
                excluding: BTreeSet::new(),
            }
        } else if rng.chance(50.0) {
            Territories::World {
                excluding: (0..1 + rng.below(3))
                    .map(|_| territory(COUNTRIES[rng.below(COUNTRIES.len())]))
                    .collect(),
            }
        } else {
            Territories::List(
                (0..1 + rng.below(6))
                    .map(|_| territory(COUNTRIES[rng.below(COUNTRIES.len())]))
                    .collect(),
            )
        };
        let (starts_at_ms, ends_at_ms) = if rng.chance(if first { 97.0 } else { 70.0 }) {
            (NOW_MS - 1000 * DAY_MS, None)
        } else {
            let start = NOW_MS - (rng.below(800) as i64 - 100) * DAY_MS;
            (start, Some(start + (30 + rng.below(700) as i64) * DAY_MS))
        };
        let status = if rng.chance(1.0) {
            AgreementStatus::Revoked {
                at_ms: NOW_MS - rng.below(100) as i64 * DAY_MS,
            }
        } else {
            AgreementStatus::Accepted
        };
        agreements.insert(Agreement {
            id: format!("agr_{a:016}"),
            licensor: party_id(o * 10),
            scope,
            uses,
            territories,
            starts_at_ms,
            ends_at_ms,
            status,
            requires_approval: rng.chance(5.0),
            rates: Default::default(),
            on_revocation: OnRevocation::Keep,
        });
    }
    let mut participation: HashMap<String, Participation> = HashMap::with_capacity(PARTIES);
    for p in (0..PARTIES).filter(|p| !p.is_multiple_of(10)) {
        if rng.chance(0.2) {
            continue;
        }
        let mut part = Participation::new();
        for use_type in UseType::ALL {
            part.set(use_type, choice(rng));
        }
        if rng.chance(2.0) {
            for use_type in [UseType::Remix, UseType::Mashup] {
                let per_use = part.for_use_mut(use_type);
                for _ in 0..1 + rng.below(3) {
                    let c = if rng.chance(70.0) {
                        Choice::Deny
                    } else {
                        Choice::Allow
                    };
                    if rng.chance(50.0) {
                        per_use
                            .recordings
                            .insert(recording_id(rng.below(RECORDINGS)).as_str().into(), c);
                    } else {
                        per_use
                            .works
                            .insert(work_id(rng.below(WORKS)).as_str().into(), c);
                    }
                }
            }
        }
        participation.insert(party_id(p), part);
    }
    World {
        catalog,
        agreements,
        participation,
    }
}

/// Mean, p50 and p99 in µs of nanosecond timings (sorted in place).
fn summary(nanos: &mut [u64]) -> (f64, f64, f64) {
    nanos.sort_unstable();
    let at = |p: f64| {
        let i = ((nanos.len() as f64 * p).ceil() as usize).clamp(1, nanos.len()) - 1;
        nanos[i] as f64 / 1000.0
    };
    let mean = nanos.iter().sum::<u64>() as f64 / nanos.len() as f64 / 1000.0;
    (mean, at(0.5), at(0.99))
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    let world = build(&mut rng);
    let table = UseTable::default();
    let cedar = CedarRights::new(&table).expect("policies parse");
    println!(
        "world: {RECORDINGS} recordings, {WORKS} works, {PARTIES} parties, {AGREEMENTS} \
         agreements, {} participations; built in {:.1} s",
        world.participation.len(),
        started.elapsed().as_secs_f64()
    );
    println!();
    println!(
        "| inputs | use | requests | allowed | Cedar questions/decision | encore mean / p50 / p99 µs | \
         Cedar whole mean / p50 / p99 µs | Cedar authorize-only mean / p50 / p99 µs | \
         ratio whole/encore (mean, p99) | ratio authorize-only/encore (mean, p99) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut disagreements = 0usize;
    for inputs in 1..=4usize {
        let use_type = if inputs == 1 {
            UseType::Remix
        } else {
            UseType::Mashup
        };
        let requests: Vec<UseRequest> = (0..REQUESTS + WARMUP)
            .map(|_| {
                let mut request = UseRequest::new(use_type, random_territory(&mut rng), NOW_MS);
                let mut picked: Vec<usize> = Vec::with_capacity(inputs);
                while picked.len() < inputs {
                    let r = rng.below(RECORDINGS);
                    if !picked.contains(&r) {
                        picked.push(r);
                    }
                }
                request.recordings = picked.into_iter().map(recording_id).collect();
                request
            })
            .collect();
        let (warmup, timed) = requests.split_at(WARMUP);
        for request in warmup {
            let c = &world;
            black_box(decide(
                request,
                &c.catalog,
                &c.agreements,
                &c.participation,
                &table,
                &(),
            ));
            black_box(cedar.decide(request, &c.catalog, &c.agreements, &c.participation, &()))
                .expect("cedar decides");
        }
        let mut encore_ns = Vec::with_capacity(REQUESTS);
        let mut whole_ns = Vec::with_capacity(REQUESTS);
        let mut allowed = 0usize;
        let mut questions = 0usize;
        for request in timed {
            let w = &world;
            let t0 = Instant::now();
            let decision = decide(
                request,
                &w.catalog,
                &w.agreements,
                &w.participation,
                &table,
                &(),
            );
            encore_ns.push(t0.elapsed().as_nanos() as u64);
            let t0 = Instant::now();
            let answer = cedar
                .decide(request, &w.catalog, &w.agreements, &w.participation, &())
                .expect("cedar decides");
            whole_ns.push(t0.elapsed().as_nanos() as u64);
            allowed += usize::from(black_box(&decision).allowed);
            disagreements += usize::from(decision.allowed != answer);
        }
        // Authorize only: everything translated first, then timed per decision.
        let prepared: Vec<_> = timed
            .iter()
            .map(|request| {
                cedar
                    .prepare(
                        request,
                        &world.catalog,
                        &world.agreements,
                        &world.participation,
                        &(),
                    )
                    .expect("cedar prepares")
            })
            .collect();
        let mut authorize_ns = Vec::with_capacity(REQUESTS);
        for p in &prepared {
            questions += p.size().1;
            let t0 = Instant::now();
            black_box(p.authorize(&cedar).expect("cedar authorizes"));
            authorize_ns.push(t0.elapsed().as_nanos() as u64);
        }
        let e = summary(&mut encore_ns);
        let w = summary(&mut whole_ns);
        let a = summary(&mut authorize_ns);
        println!(
            "| {inputs} | {use_type} | {REQUESTS} | {:.1}% | {:.1} | {:.2} / {:.2} / {:.2} | \
             {:.1} / {:.1} / {:.1} | {:.1} / {:.1} / {:.1} | {:.0}× / {:.0}× | {:.0}× / {:.0}× |",
            100.0 * allowed as f64 / REQUESTS as f64,
            questions as f64 / REQUESTS as f64,
            e.0,
            e.1,
            e.2,
            w.0,
            w.1,
            w.2,
            a.0,
            a.1,
            a.2,
            w.0 / e.0,
            w.2 / e.2,
            a.0 / e.0,
            a.2 / e.2,
        );
    }
    println!();
    println!("disagreements between encore and Cedar: {disagreements}");
}
