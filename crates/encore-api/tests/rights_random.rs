//! Random catalogs through the public HTTP API, on SQLite and PostgreSQL: no decision endpoint
//! ever answers 5xx, every refusal is a problem document naming the bad field, every check is
//! internally consistent and stored as given, and every valid check agrees with
//! `encore_core::rights::decide` run in-process on a mirror of the same world.
//!
//! Each seed builds a fresh world on a fresh database. `ENCORE_RIGHTS_RANDOM_SEEDS=n` runs
//! seeds `0..n` (default [`SEEDS_DEFAULT`]); `ENCORE_RIGHTS_RANDOM_SEED=s` runs seed `s` only.
//! The seed being run is printed before each world, so a failure names it.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeSet, HashMap};

use encore_core::rights::{
    Agreement, AgreementIndex, AgreementStatus, ArtistRule, Choice, Decision, Input, Item,
    MemoryCatalog, Model, OnRevocation, Participation, RecordingRights, Scope, Territories,
    TrainingSet, UseRequest, UseRule, UseTable, WorkRights, decide,
};
use encore_core::{PartyKind, Share, Splits, Territory, UseType};
use reqwest::Method;
use serde_json::{Value, json};

/// Seeds per store when `ENCORE_RIGHTS_RANDOM_SEEDS` is not set.
const SEEDS_DEFAULT: u64 = 8;
/// Check requests per seed.
const CHECKS: usize = 60;
/// Uses-page requests per seed.
const PAGES: usize = 8;

const USES: [&str; 7] = [
    "remix", "mashup", "extend", "sample", "cover", "voice", "train",
];
const TERRITORIES: [&str; 7] = ["US", "GB", "FR", "DE", "JP", "BR", "WW"];
const EXCLUDABLE: [&str; 4] = ["US", "GB", "FR", "DE"];
/// Agreement window starts and ends (ends `None` is open-ended).
const STARTS: [&str; 5] = [
    "2018-01-01T00:00:00Z",
    "2022-01-01T00:00:00Z",
    "2024-01-01T00:00:00Z",
    "2027-01-01T00:00:00Z",
    "2030-01-01T00:00:00Z",
];
const ENDS: [&str; 4] = [
    "2021-01-01T00:00:00Z",
    "2025-01-01T00:00:00Z",
    "2029-01-01T00:00:00Z",
    "2040-01-01T00:00:00Z",
];
/// Times of checked uses: inside and outside windows, on their edges, and after revocations
/// (which happen now, as the test runs).
const ATS: [&str; 9] = [
    "2017-06-01T00:00:00Z",
    "2019-06-01T00:00:00Z",
    "2022-01-01T00:00:00Z",
    "2024-12-31T23:59:59.999Z",
    "2025-01-01T00:00:00Z",
    "2025-06-01T12:00:00+02:00",
    "2028-06-01T00:00:00Z",
    "2035-06-01T00:00:00Z",
    "2045-01-01T00:00:00Z",
];
/// Ids that name nothing, some of them hostile.
const UNKNOWN: [&str; 9] = [
    "rec_nope",
    "wrk_nope",
    "par_nope",
    "mdl_nope",
    "",
    "\u{0}",
    "rec_\u{0}x",
    "ré€🎵",
    "'; DROP TABLE parties; --",
];

/// A seeded xorshift64 (seed mixed by splitmix64, so 0 is a fine seed).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True `n` times in `d`.
    fn chance(&mut self, n: usize, d: usize) -> bool {
        self.below(d) < n
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    /// Up to `max` distinct items, in random order.
    fn some<T: Clone>(&mut self, items: &[T], max: usize) -> Vec<T> {
        let mut idx: Vec<usize> = (0..items.len()).collect();
        for i in (1..idx.len()).rev() {
            let j = self.below(i + 1);
            idx.swap(i, j);
        }
        let n = self.below(max.min(items.len()) + 1);
        idx[..n].iter().map(|&i| items[i].clone()).collect()
    }
}

fn ms(rfc3339: &str) -> i64 {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"));
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap()
}

fn now_ms() -> i64 {
    ms(&time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap())
}

fn id_of(a: &common::Answer, seed: u64, what: &str) -> String {
    assert_eq!(a.status.as_u16(), 201, "seed {seed}: {what}: {}", a.body);
    a.body["id"].as_str().unwrap().to_owned()
}

/// The world as the engine sees it, built beside the HTTP calls that make it.
#[derive(Default)]
struct Mirror {
    catalog: MemoryCatalog,
    agreements: AgreementIndex,
    participation: HashMap<String, Participation>,
    models: HashMap<String, Model>,
    table: UseTable,
}

impl Mirror {
    fn decide(&self, request: &UseRequest) -> Decision {
        decide(
            request,
            &self.catalog,
            &self.agreements,
            &self.participation,
            &self.table,
            &self.models,
        )
    }
}

/// One random world: its ids, keys and mirror.
struct World {
    seed: u64,
    orgs: Vec<String>,
    persons: Vec<String>,
    works: Vec<String>,
    recordings: Vec<String>,
    models: Vec<String>,
    partner_keys: HashMap<String, String>,
    artist_keys: HashMap<String, String>,
    mirror: Mirror,
}

/// Random splits over `parties` (1 to 3 distinct), each share at least 1 ppm.
fn random_splits(rng: &mut Rng, parties: &[String]) -> Vec<(String, u32)> {
    let mut owners = rng.some(parties, 3);
    if owners.is_empty() {
        owners.push(rng.pick(parties));
    }
    let mut cuts = BTreeSet::new();
    while cuts.len() < owners.len() - 1 {
        cuts.insert(1 + rng.below(999_999) as u32);
    }
    let mut bounds: Vec<u32> = vec![0];
    bounds.extend(cuts);
    bounds.push(1_000_000);
    owners
        .into_iter()
        .zip(bounds.windows(2))
        .map(|(p, w)| (p, w[1] - w[0]))
        .collect()
}

/// A distinct ISRC for each recording `i` (fewer than 10) of each seed (below 10^6).
fn isrc(seed: u64, i: usize) -> String {
    format!(
        "US-RND-{:02}-{:05}",
        seed / 10_000 % 100,
        seed % 10_000 * 10 + i as u64
    )
}

/// Three times in four random splits, mostly over organisations; otherwise none.
fn maybe_splits(rng: &mut Rng, owners: &[String], orgs: &[String]) -> Option<Vec<(String, u32)>> {
    if !rng.chance(3, 4) {
        return None;
    }
    let parties = if rng.chance(1, 6) { owners } else { orgs };
    Some(random_splits(rng, parties))
}

fn splits_json(splits: &Option<Vec<(String, u32)>>) -> Value {
    match splits {
        None => Value::Null,
        Some(s) => s
            .iter()
            .map(|(p, ppm)| json!({"party": p, "share_ppm": ppm}))
            .collect(),
    }
}

fn splits_core(splits: &Option<Vec<(String, u32)>>) -> Option<Splits<encore_core::rights::Key>> {
    splits.as_ref().map(|s| {
        Splits::new(
            s.iter()
                .map(|(p, ppm)| (p.as_str().into(), Share::from_ppm(*ppm).unwrap()))
                .collect(),
        )
        .unwrap()
    })
}

fn choice(rng: &mut Rng) -> &'static str {
    match rng.below(7) {
        0..=3 => "allow",
        4 | 5 => "approve",
        _ => "deny",
    }
}

async fn build(app: &common::TestApp, seed: u64, rng: &mut Rng) -> World {
    let mut w = World {
        seed,
        orgs: Vec::new(),
        persons: Vec::new(),
        works: Vec::new(),
        recordings: Vec::new(),
        models: Vec::new(),
        partner_keys: HashMap::new(),
        artist_keys: HashMap::new(),
        mirror: Mirror::default(),
    };
    for i in 0..1 + rng.below(4) {
        let id = app.party(&format!("Org {i}"), "organisation").await;
        w.mirror
            .catalog
            .parties
            .insert(id.as_str().into(), PartyKind::Organisation);
        let key = app.key("partner", &[&id]).await;
        w.partner_keys.insert(id.clone(), key);
        w.orgs.push(id);
    }
    for i in 0..1 + rng.below(5) {
        let id = app.party(&format!("Person {i}"), "person").await;
        w.mirror
            .catalog
            .parties
            .insert(id.as_str().into(), PartyKind::Person);
        let key = app.key("artist", &[&id]).await;
        w.artist_keys.insert(id.clone(), key);
        w.persons.push(id);
    }
    // Owners are mostly organisations; now and then a self-published person.
    let mut owners = w.orgs.clone();
    owners.push(w.persons[0].clone());
    // People are mostly persons; now and then a band registered as an organisation.
    let mut people = w.persons.clone();
    people.push(w.orgs[0].clone());

    for i in 0..rng.below(6) {
        let writers = if rng.chance(1, 8) {
            rng.some(&people, 2)
        } else {
            rng.some(&w.persons, 2)
        };
        let splits = maybe_splits(rng, &owners, &w.orgs);
        let a = app
            .post(
                "/v1/works",
                &app.admin,
                json!({"title": format!("Work {i}"), "writers": writers,
                       "splits": splits_json(&splits)}),
            )
            .await;
        let id = id_of(&a, seed, "work");
        w.mirror.catalog.works.insert(
            id.as_str().into(),
            WorkRights {
                publishing_splits: splits_core(&splits),
                writers: writers.iter().map(|p| p.as_str().into()).collect(),
            },
        );
        w.works.push(id);
    }
    for i in 0..1 + rng.below(7) {
        let artists = if rng.chance(1, 8) {
            rng.some(&people, 2)
        } else {
            rng.some(&w.persons, 2)
        };
        let works = rng.some(&w.works, 2);
        let splits = maybe_splits(rng, &owners, &w.orgs);
        let a = app
            .post(
                "/v1/recordings",
                &app.admin,
                json!({"isrc": isrc(seed, i), "title": format!("Recording {i}"),
                       "artists": artists, "works": works, "splits": splits_json(&splits)}),
            )
            .await;
        let id = id_of(&a, seed, "recording");
        w.mirror.catalog.recordings.insert(
            id.as_str().into(),
            RecordingRights {
                master_splits: splits_core(&splits),
                main_artists: artists.iter().map(|p| p.as_str().into()).collect(),
                works: works.iter().map(|p| p.as_str().into()).collect(),
            },
        );
        w.recordings.push(id);
    }

    for org in w.orgs.clone() {
        // Half the owners license everything, everywhere, from 2018 on, so checks are allowed
        // often enough to exercise approvals and the allowed path.
        if rng.chance(1, 2) {
            let body = json!({"licensor": org, "scope": {"kind": "all"}, "uses": USES,
                "territories": {"world": true}, "starts_at": STARTS[0]});
            let a = app.post("/v1/agreements", &app.admin, body).await;
            let id = id_of(&a, seed, "agreement");
            let path = format!("/v1/agreements/{id}/accept");
            app.post(&path, &w.partner_keys[&org], json!({}))
                .await
                .ok(200);
            w.mirror.agreements.insert(Agreement {
                id,
                licensor: org,
                scope: Scope::AllWhereLicensorHoldsShares,
                uses: UseType::ALL.into_iter().collect(),
                territories: Territories::World {
                    excluding: BTreeSet::new(),
                },
                starts_at_ms: ms(STARTS[0]),
                ends_at_ms: None,
                status: AgreementStatus::Accepted,
                requires_approval: false,
                rates: Default::default(),
                on_revocation: OnRevocation::Delist,
            });
        }
    }
    for _ in 0..rng.below(2 * w.orgs.len() + 3) {
        agreement(app, &mut w, rng).await;
    }
    for person in w.persons.clone() {
        if rng.chance(4, 5) {
            participation(app, &mut w, rng, &person).await;
        }
        if rng.chance(1, 5) {
            participation(app, &mut w, rng, &person).await;
        }
    }
    if rng.chance(1, 2) {
        for _ in 0..1 + rng.below(2) {
            model(app, &mut w, rng).await;
        }
    }
    if rng.chance(1, 4) {
        use_table(app, &mut w, rng).await;
    }
    w
}

/// Proposes a random agreement as operator; the licensor's partner accepts it (or not), and
/// it may be revoked.
async fn agreement(app: &common::TestApp, w: &mut World, rng: &mut Rng) {
    let seed = w.seed;
    let licensor = rng.pick(&w.orgs);
    let listed = |rng: &mut Rng, ids: &[String], unknown: &str| -> Vec<String> {
        let mut items = rng.some(ids, 3);
        if items.is_empty() || rng.chance(1, 6) {
            items.push(unknown.to_owned());
        }
        items
    };
    let (scope_json, scope) = match rng.below(4) {
        0 | 1 => (json!({"kind": "all"}), Scope::AllWhereLicensorHoldsShares),
        2 => {
            let items = listed(rng, &w.recordings, "rec_nope");
            (
                json!({"kind": "recordings", "items": items}),
                Scope::Recordings(items.into_iter().collect()),
            )
        }
        _ => {
            let items = listed(rng, &w.works, "wrk_nope");
            (
                json!({"kind": "works", "items": items}),
                Scope::Works(items.into_iter().collect()),
            )
        }
    };
    let mut uses: Vec<&str> = if rng.chance(1, 3) {
        USES.to_vec()
    } else {
        rng.some(&USES, 4)
    };
    if uses.is_empty() {
        uses.push(rng.pick(&USES));
    }
    let (territories_json, territories) = if rng.chance(1, 2) {
        let exclude = rng.some(&EXCLUDABLE, 2);
        (
            json!({"world": true, "exclude": exclude}),
            Territories::World {
                excluding: exclude
                    .iter()
                    .map(|t| Territory::parse(t).unwrap())
                    .collect(),
            },
        )
    } else {
        let mut include = rng.some(&TERRITORIES, 3);
        if include.is_empty() {
            include.push("US");
        }
        (
            json!({"include": include}),
            Territories::List(
                include
                    .iter()
                    .map(|t| Territory::parse(t).unwrap())
                    .collect(),
            ),
        )
    };
    let starts = rng.pick(&STARTS);
    let ends = rng
        .chance(1, 2)
        .then(|| rng.pick(&ENDS))
        .filter(|e| ms(e) > ms(starts));
    let requires_approval = rng.chance(1, 4);
    let mut body = json!({
        "licensor": licensor, "scope": scope_json, "uses": uses,
        "territories": territories_json, "starts_at": starts,
        "requires_approval": requires_approval,
    });
    if let Some(e) = ends {
        body["ends_at"] = json!(e);
    }
    let a = app.post("/v1/agreements", &app.admin, body.clone()).await;
    let id = id_of(&a, seed, &format!("agreement {body}"));
    let key = w.partner_keys[&licensor].clone();
    let status = match rng.below(20) {
        0..=2 => AgreementStatus::Proposed,
        fate => {
            let path = format!("/v1/agreements/{id}/accept");
            let a = app.post(&path, &key, json!({})).await;
            assert_eq!(a.ok(200)["status"], "accepted", "seed {seed}");
            if fate >= 15 {
                let by = if rng.chance(1, 2) { &key } else { &app.admin };
                let path = format!("/v1/agreements/{id}/revoke");
                let a = app.post(&path, by, json!({})).await;
                assert_eq!(a.ok(200)["status"], "revoked", "seed {seed}");
                let at = a.body["revoked_at"].as_str().unwrap();
                AgreementStatus::Revoked { at_ms: ms(at) }
            } else {
                AgreementStatus::Accepted
            }
        }
    };
    w.mirror.agreements.insert(Agreement {
        id,
        licensor,
        scope,
        uses: uses.iter().map(|u| UseType::parse(u).unwrap()).collect(),
        territories,
        starts_at_ms: ms(starts),
        ends_at_ms: ends.map(ms),
        status,
        requires_approval,
        rates: Default::default(),
        on_revocation: OnRevocation::Delist,
    });
}

/// Sets a person's participation: by their artist key, a delegate partner, or an operator.
async fn participation(app: &common::TestApp, w: &mut World, rng: &mut Rng, person: &str) {
    let seed = w.seed;
    let mut p = Participation::new();
    let mut uses = serde_json::Map::new();
    for u in USES {
        if rng.chance(3, 4) {
            let c = choice(rng);
            uses.insert(u.to_owned(), json!(c));
            p.set(UseType::parse(u).unwrap(), Some(Choice::parse(c).unwrap()));
        }
    }
    let mut overrides = Vec::new();
    for _ in 0..rng.below(4) {
        let u = rng.pick(&USES);
        let c = choice(rng);
        let per_use = p.for_use_mut(UseType::parse(u).unwrap());
        let c_core = Choice::parse(c).unwrap();
        if rng.chance(1, 2) && !w.recordings.is_empty() {
            let r = rng.pick(&w.recordings);
            overrides.push(json!({"use": u, "recording": r, "choice": c}));
            per_use.recordings.insert(r, c_core);
        } else {
            let id = if w.works.is_empty() || rng.chance(1, 6) {
                "wrk_nope".to_owned()
            } else {
                rng.pick(&w.works)
            };
            overrides.push(json!({"use": u, "work": id, "choice": c}));
            per_use.works.insert(id, c_core);
        }
    }
    let body = json!({"uses": uses, "overrides": overrides});
    let path = format!("/v1/parties/{person}/participation");
    let key = match rng.below(5) {
        0 => app.admin.clone(),
        1 => {
            // A partner may act for the person only once delegated to.
            let org = rng.pick(&w.orgs);
            let partner = w.partner_keys[&org].clone();
            let refused = app
                .call(Method::PUT, &path, Some(&partner), Some(body.clone()))
                .await;
            if refused.status.as_u16() != 200 {
                refused.problem(403, None);
                let a = app
                    .call(
                        Method::PUT,
                        &format!("{path}/delegates"),
                        Some(&w.artist_keys[person]),
                        Some(json!({"partners": [org]})),
                    )
                    .await;
                a.ok(200);
            }
            partner
        }
        _ => w.artist_keys[person].clone(),
    };
    let a = app.call(Method::PUT, &path, Some(&key), Some(body)).await;
    assert_eq!(a.status.as_u16(), 200, "seed {seed}: {}", a.body);
    w.mirror.participation.insert(person.to_owned(), p);
}

/// Registers a model with random uses and training set.
async fn model(app: &common::TestApp, w: &mut World, rng: &mut Rng) {
    let mut uses = rng.some(&USES, 3);
    if uses.is_empty() {
        uses.push(rng.pick(&USES));
    }
    let (training_json, training) = if rng.chance(1, 3) {
        (json!({"none": true}), TrainingSet::NoCatalogItems)
    } else {
        let recordings = rng.some(&w.recordings, 3);
        let works = rng.some(&w.works, 2);
        (
            json!({"recordings": recordings, "works": works}),
            TrainingSet::Items { recordings, works },
        )
    };
    let a = app
        .post(
            "/v1/models",
            &app.admin,
            json!({"name": "Random", "uses": uses, "training": training_json}),
        )
        .await;
    let id = id_of(&a, w.seed, "model");
    w.mirror.models.insert(
        id.clone(),
        Model {
            id: id.clone(),
            uses: uses.iter().map(|u| UseType::parse(u).unwrap()).collect(),
            training,
        },
    );
    w.models.push(id);
}

/// Replaces the use table with a random one.
async fn use_table(app: &common::TestApp, w: &mut World, rng: &mut Rng) {
    let table = UseTable::from_fn(|u| UseRule {
        master_owners: rng.chance(2, 3),
        publishing_owners: rng.chance(2, 3),
        artists: match rng.below(3) {
            0 => ArtistRule::NotRequired,
            1 if u == UseType::Voice => ArtistRule::VoicedArtist,
            _ => ArtistRule::MainArtists,
        },
        writers: rng.chance(2, 3),
        min_inputs: rng.below(3) as u8,
    });
    put_table(app, w.seed, &table).await;
    w.mirror.table = table;
}

/// Stores `table` as the use table.
async fn put_table(app: &common::TestApp, seed: u64, table: &UseTable) {
    let rows: serde_json::Map<String, Value> = table
        .rows()
        .map(|(u, rule)| {
            let artists = match rule.artists {
                ArtistRule::NotRequired => "none",
                ArtistRule::MainArtists => "main",
                ArtistRule::VoicedArtist => "voiced",
            };
            let row = json!({"master_owners": rule.master_owners,
                "publishing_owners": rule.publishing_owners, "artists": artists,
                "writers": rule.writers, "min_inputs": rule.min_inputs});
            (u.as_str().to_owned(), row)
        })
        .collect();
    let a = app
        .call(
            Method::PUT,
            "/v1/use-table",
            Some(&app.admin),
            Some(json!({"uses": rows})),
        )
        .await;
    assert_eq!(a.status.as_u16(), 200, "seed {seed}: {}", a.body);
}

/// A decision's reasons as the API writes them.
fn reasons_json(d: &Decision) -> Vec<Value> {
    let input = |i: &Input| match i {
        Input::Recording(id) => json!({"kind": "recording", "id": id}),
        Input::Work(id) => json!({"kind": "work", "id": id}),
        Input::Artist(id) => json!({"kind": "artist", "id": id}),
        Input::Model(id) => json!({"kind": "model", "id": id}),
    };
    let item = |i: &Item| match i {
        Item::Recording(id) => json!({"kind": "recording", "id": id}),
        Item::Work(id) => json!({"kind": "work", "id": id}),
    };
    d.reasons
        .iter()
        .map(|r| {
            json!({"code": r.code.as_str(), "input": r.input.as_ref().map(input),
                   "item": r.item.as_ref().map(item), "party": r.party, "agreement": r.agreement})
        })
        .collect()
}

/// Values as a sorted multiset, for order-free comparison.
fn multiset(values: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = values.iter().map(Value::to_string).collect();
    out.sort_unstable();
    out
}

const CODES: [&str; 12] = [
    "NO_AGREEMENT",
    "USE_NOT_LICENSED",
    "TERRITORY_EXCLUDED",
    "OUTSIDE_WINDOW",
    "AGREEMENT_REVOKED",
    "PARTICIPATION_MISSING",
    "PARTICIPATION_DENIED",
    "SPLITS_INCOMPLETE",
    "MODEL_NOT_CLEARED",
    "MODEL_USE_UNSUPPORTED",
    "INPUT_NOT_FOUND",
    "INPUT_MISSING",
];

/// Asserts an answer is not a server error, and that a client error is a problem document
/// whose field errors each name a field.
#[track_caller]
fn not_5xx(a: &common::Answer, seed: u64, what: &str) {
    let status = a.status.as_u16();
    assert!(status < 500, "seed {seed}: {status} for {what}: {}", a.body);
    if (400..500).contains(&status) {
        a.problem(status, None);
        if let Some(errors) = a.body.get("errors") {
            let errors = errors.as_array().unwrap();
            assert!(!errors.is_empty(), "seed {seed}: {what}: {}", a.body);
            for e in errors {
                assert!(
                    e["field"].as_str().is_some_and(|f| !f.is_empty()),
                    "seed {seed}: {what}: {}",
                    a.body
                );
            }
        }
        if status == 422 {
            assert!(
                a.body["errors"].is_array(),
                "seed {seed}: 422 without fields for {what}: {}",
                a.body
            );
        }
    }
}

/// A valid check request and the engine request it stands for.
fn valid_check(w: &World, rng: &mut Rng) -> (Value, UseRequest) {
    let use_type = rng.pick(&USES);
    let territory = rng.pick(&TERRITORIES);
    let at = rng.pick(&ATS);
    let mut request = UseRequest::new(
        UseType::parse(use_type).unwrap(),
        Territory::parse(territory).unwrap(),
        ms(at),
    );
    let mut body = json!({"use": use_type, "territory": territory, "at": at});
    let ids = |rng: &mut Rng, known: &[String], max: usize| -> Vec<String> {
        (0..rng.below(max + 1))
            .map(|_| {
                if known.is_empty() || rng.chance(1, 6) {
                    rng.pick(&UNKNOWN).to_owned()
                } else {
                    rng.pick(known)
                }
            })
            .collect()
    };
    if use_type != "voice" || rng.chance(1, 2) {
        request.recordings = ids(rng, &w.recordings, 5);
        body["recordings"] = json!(request.recordings);
    }
    if rng.chance(2, 5) || (use_type == "cover" && rng.chance(3, 4)) {
        request.works = ids(rng, &w.works, 2);
        body["works"] = json!(request.works);
    }
    if (use_type == "voice" && rng.chance(6, 7)) || rng.chance(1, 8) {
        let artist = match rng.below(8) {
            0 => rng.pick(&UNKNOWN).to_owned(),
            1 => rng.pick(&w.orgs),
            _ => rng.pick(&w.persons),
        };
        body["artist"] = json!(artist);
        request.artist = Some(artist);
    }
    if rng.chance(1, 4) {
        let model = if w.models.is_empty() || rng.chance(1, 4) {
            "mdl_nope".to_owned()
        } else {
            rng.pick(&w.models)
        };
        body["model"] = json!(model);
        request.model = Some(model);
    }
    (body, request)
}

/// Fires a valid check, and compares it with the engine on the mirror and the stored decision.
async fn valid(app: &common::TestApp, w: &World, rng: &mut Rng, fan: &str) -> bool {
    let seed = w.seed;
    let (body, request) = valid_check(w, rng);
    let a = app.post("/v1/rights/check", fan, body.clone()).await;
    not_5xx(&a, seed, &body.to_string());
    assert_eq!(a.status.as_u16(), 200, "seed {seed}: {body}: {}", a.body);
    let d = &a.body;
    let allowed = d["allowed"].as_bool().unwrap();
    let reasons = d["reasons"].as_array().unwrap();
    assert_eq!(allowed, reasons.is_empty(), "seed {seed}: {body}: {d}");
    for r in reasons {
        assert!(
            CODES.contains(&r["code"].as_str().unwrap_or_default()),
            "seed {seed}: {d}"
        );
    }

    let expected = w.mirror.decide(&request);
    assert_eq!(
        allowed, expected.allowed,
        "seed {seed}: HTTP and engine disagree on {body}:\nHTTP {d}\nengine {expected:?}"
    );
    assert_eq!(
        multiset(reasons),
        multiset(&reasons_json(&expected)),
        "seed {seed}: reasons differ for {body}:\nHTTP {d}\nengine {expected:?}"
    );
    let approvals: BTreeSet<&str> = d["approvals_required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    let expected_approvals: BTreeSet<&str> = expected
        .approvals_required
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        approvals, expected_approvals,
        "seed {seed}: approvals differ for {body}: {d}"
    );

    // The stored decision is the answer given, for the request as given.
    let id = d["id"].as_str().unwrap();
    let stored = app.get(&format!("/v1/decisions/{id}"), fan).await;
    let stored = stored.ok(200);
    let mut answer = d.clone();
    answer.as_object_mut().unwrap().remove("id");
    assert_eq!(stored["decision"], answer, "seed {seed}: {body}");
    assert_eq!(stored["request"]["at_ms"], request.at_ms, "seed {seed}");
    assert_eq!(
        stored["request"]["recordings"],
        json!(request.recordings),
        "seed {seed}"
    );
    allowed
}

/// Fires a malformed check and asserts the refusal (and, for field errors, the field named).
async fn invalid(app: &common::TestApp, w: &World, rng: &mut Rng, fan: &str) {
    let seed = w.seed;
    let (mut body, _) = valid_check(w, rng);
    let many = |n: usize| -> Value { (0..n).map(|i| json!(format!("rec_{i}"))).collect() };
    // (status, field) expected, or None for "any client error".
    let expected: Option<(u16, &str)> = match rng.below(17) {
        0 => {
            body["use"] = json!(rng.pick(&["stream", "", "\u{0}", "re mix", "🎵"]));
            Some((422, "use"))
        }
        1 => {
            body["territory"] = json!(rng.pick(&["USA", "", "1A", "\u{0}", "U\u{0}", "ÜS"]));
            Some((422, "territory"))
        }
        2 => {
            body["at"] = json!(rng.pick(&[
                "yesterday",
                "",
                "2026-02-30T00:00:00Z",
                "2026-06-01",
                "2026-06-01T00:00:00",
                "\u{0}"
            ]));
            Some((422, "at"))
        }
        3 => {
            body["recordings"] = many(65 + rng.below(1000));
            Some((422, "recordings"))
        }
        4 => {
            body["works"] = many(65 + rng.below(100));
            Some((422, "works"))
        }
        5 => {
            body["recordings"] = json!(42);
            Some((422, "recordings"))
        }
        6 => {
            body["at"] = json!(1_700_000_000_000_u64);
            Some((422, "at"))
        }
        7 => {
            body["artist"] = json!(["par_nope"]);
            Some((422, "artist"))
        }
        8 => {
            body["use"] = json!(5);
            Some((422, "use"))
        }
        9 => {
            body["works"] = json!([1, {"id": "x"}]);
            Some((422, "works[0]"))
        }
        10 => {
            body.as_object_mut().unwrap().remove("use");
            Some((422, "use"))
        }
        11 => {
            body.as_object_mut().unwrap().remove("territory");
            Some((422, "territory"))
        }
        12 => {
            body["extra"] = json!(true);
            Some((422, "extra"))
        }
        13 => {
            body["territory"] = Value::Null;
            Some((422, "territory"))
        }
        14 => {
            // serde reads a struct from a sequence too, so the first element is `use`.
            body = json!([body]);
            Some((422, "[0]"))
        }
        15 => {
            body["model"] = json!({"id": "mdl_nope"});
            Some((422, "model"))
        }
        _ => {
            // Not JSON, or not said to be JSON.
            let (bytes, content_type, status) = match rng.below(5) {
                0 => (b"{\"use\": \"remix\",".to_vec(), "application/json", 400),
                1 => (Vec::new(), "application/json", 400),
                2 => (body.to_string().into_bytes(), "text/plain", 415),
                3 => (vec![0xff, 0xfe, 0x00, 0x7b], "application/json", 400),
                _ => (body.to_string().into_bytes(), "", 415),
            };
            let mut req = app
                .client
                .post(format!("{}/v1/rights/check", app.base))
                .bearer_auth(fan)
                .body(bytes.clone());
            if !content_type.is_empty() {
                req = req.header("content-type", content_type);
            }
            let a = common::TestApp::answer(req.send().await.unwrap()).await;
            let what = format!("{content_type} {:?}", String::from_utf8_lossy(&bytes));
            not_5xx(&a, seed, &what);
            assert_eq!(a.status.as_u16(), status, "seed {seed}: {what}: {}", a.body);
            return;
        }
    };
    let a = app.post("/v1/rights/check", fan, body.clone()).await;
    let what = body.to_string();
    not_5xx(&a, seed, &what);
    if let Some((status, field)) = expected {
        assert_eq!(a.status.as_u16(), status, "seed {seed}: {what}: {}", a.body);
        a.problem(status, Some(field));
    }
}

/// Asks the uses page of a recording (or of something that is not one) and compares the uses
/// it lists with the engine's decisions now.
async fn page(app: &common::TestApp, w: &World, rng: &mut Rng, fan: &str) {
    let seed = w.seed;
    let known = !w.recordings.is_empty() && rng.chance(4, 5);
    let id = if known {
        rng.pick(&w.recordings)
    } else {
        rng.pick(&UNKNOWN).to_owned()
    };
    let valid_territory = rng.chance(5, 6);
    let territory = if valid_territory {
        rng.pick(&TERRITORIES).to_owned()
    } else {
        rng.pick(&["", "USA", "\u{0}", "é", "%", "us%00"])
            .to_owned()
    };
    let path = format!(
        "/v1/recordings/{}/uses?territory={}",
        urlencode(&id),
        urlencode(&territory)
    );
    let before = now_ms();
    let a = app.get(&path, fan).await;
    let after = now_ms();
    not_5xx(&a, seed, &path);
    match (known, valid_territory) {
        (_, false) => a.problem(422, Some("territory")),
        (false, true) => {
            assert_eq!(a.status.as_u16(), 404, "seed {seed}: {path}: {}", a.body);
        }
        (true, true) => {
            let body = a.ok(200);
            let got: Vec<(String, BTreeSet<String>)> = body["uses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| {
                    let approvals = u["approvals_required"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p.as_str().unwrap().to_owned())
                        .collect();
                    (u["use"].as_str().unwrap().to_owned(), approvals)
                })
                .collect();
            // No window edge or revocation lies between `before` and `after`.
            let t = Territory::parse(&territory).unwrap();
            let expected: Vec<(String, BTreeSet<String>)> = UseType::ALL
                .into_iter()
                .filter(|u| !matches!(u, UseType::Mashup | UseType::Voice))
                .filter_map(|u| {
                    let at = before + (after - before) / 2;
                    let d = w
                        .mirror
                        .decide(&UseRequest::new(u, t, at).recording(id.clone()));
                    d.allowed.then(|| {
                        (
                            u.as_str().to_owned(),
                            d.approvals_required.into_iter().collect(),
                        )
                    })
                })
                .collect();
            assert_eq!(got, expected, "seed {seed}: {path}: {body}");
        }
    }
}

/// Percent-encodes everything but unreserved characters.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("ENCORE_RIGHTS_RANDOM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let n = std::env::var("ENCORE_RIGHTS_RANDOM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEEDS_DEFAULT);
    (0..n).collect()
}

// One server and database per store: each seed's world is new parties, items and agreements
// beside the earlier seeds' (which its checks never name), so the mirror of one seed is exact.
async fn run(db: common::Db) {
    let Some(app) = common::TestApp::spawn(db).await else {
        return;
    };
    let fan = app.key("fan", &[]).await;
    let mut allowed = 0;
    let mut denied = 0;
    for seed in seeds() {
        eprintln!(
            "rights_random on {db:?}: seed {seed} (rerun with ENCORE_RIGHTS_RANDOM_SEED={seed})"
        );
        let mut rng = Rng::new(seed);
        let w = build(&app, seed, &mut rng).await;
        if seed % 2 == 1 {
            // Load everything into the store's in-memory copies, as `encore serve` does at
            // start: answers must not change, and later seeds' changes must still be seen.
            let report = app.store.warm_rights().await.expect("warm-up");
            assert!(report.recordings > 0, "warm-up loaded nothing: {report:?}");
        }
        for _ in 0..CHECKS {
            if rng.chance(1, 4) {
                invalid(&app, &w, &mut rng, &fan).await;
            } else if valid(&app, &w, &mut rng, &fan).await {
                allowed += 1;
            } else {
                denied += 1;
            }
        }
        for _ in 0..PAGES {
            page(&app, &w, &mut rng, &fan).await;
        }
        if w.mirror.table != UseTable::default() {
            put_table(&app, seed, &UseTable::default()).await;
        }
    }
    eprintln!("rights_random on {db:?}: {allowed} allowed, {denied} denied");
    assert!(
        allowed > 0 && denied > 0,
        "{allowed} allowed, {denied} denied"
    );
}

#[tokio::test]
async fn sqlite() {
    run(common::Db::Sqlite).await;
}

#[tokio::test]
async fn postgres() {
    run(common::Db::Postgres).await;
}
