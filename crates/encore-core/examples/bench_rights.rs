//! In-process latency of rights decisions (issue 3, "Speed").
//!
//! Builds, deterministically, a catalog of 1,000,000 recordings, 250,000 works, 100,000
//! parties, 100,000 accepted agreements and participation for every person, then times
//! `decide` per call for 100,000 random requests with 1, 2, 3 and 4 recording inputs.
//!
//! Run with `cargo run --release -p encore-core --example bench_rights`.
//!
//! It allocates with mimalloc, as the `encore` binary does: a denial's reasons are allocated.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::Instant;

use encore_core::rights::{
    Agreement, AgreementIndex, AgreementStatus, Choice, FastMap, Key, MemoryCatalog, OnRevocation,
    Participation, RecordingRights, Scope, Territories, UseRequest, UseTable, WorkRights, decide,
};
use encore_core::{PartyKind, Share, Splits, Territory, UseType};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RECORDINGS: usize = 1_000_000;
const WORKS: usize = 250_000;
const PARTIES: usize = 100_000;
const AGREEMENTS: usize = 100_000;
const REQUESTS: usize = 100_000;
const WARMUP: usize = 20_000;
/// The time at which every request is judged, Unix ms (2026-06-01).
const NOW_MS: i64 = 1_780_272_000_000;
const DAY_MS: i64 = 86_400_000;

/// Countries requests are made in; `WW` is added with a small probability.
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

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` / 100 (fractions allowed).
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

/// Organisations are every tenth party; persons are the rest.
fn org(rng: &mut Rng) -> usize {
    rng.below(PARTIES / 10) * 10
}

fn person(rng: &mut Rng) -> usize {
    loop {
        let p = rng.below(PARTIES);
        if p % 10 != 0 {
            return p;
        }
    }
}

/// Splits among `n` distinct organisations, shares summing to 100%; records ownership.
fn org_splits(rng: &mut Rng, n: usize, owned: &mut [Vec<usize>], item: usize) -> Splits<Key> {
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
            (party_id(o).into(), Share::from_ppm(ppm).expect("share"))
        })
        .collect();
    Splits::new(entries).expect("valid splits")
}

fn choice(rng: &mut Rng) -> Option<Choice> {
    let x = rng.below(1000);
    match x {
        0..=969 => Some(Choice::Allow),
        970..=984 => Some(Choice::Approve),
        985..=996 => Some(Choice::Deny),
        _ => None,
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    let mut catalog = MemoryCatalog::default();

    println!("building {PARTIES} parties (10% organisations)…");
    catalog.parties.reserve(PARTIES);
    for i in 0..PARTIES {
        let kind = if i % 10 == 0 {
            PartyKind::Organisation
        } else {
            PartyKind::Person
        };
        catalog.parties.insert(party_id(i).into(), kind);
    }

    // Items each organisation owns, by organisation number (party / 10).
    let mut owned_works: Vec<Vec<usize>> = vec![Vec::new(); PARTIES / 10];
    let mut owned_recordings: Vec<Vec<usize>> = vec![Vec::new(); PARTIES / 10];

    println!("building {WORKS} works…");
    catalog.works.reserve(WORKS);
    for w in 0..WORKS {
        let publishers = 1 + rng.below(2);
        let splits = org_splits(&mut rng, publishers, &mut owned_works, w);
        let writers = 1 + rng.below(2);
        let mut ids: Vec<Key> = Vec::with_capacity(writers);
        while ids.len() < writers {
            let id = Key::from(party_id(person(&mut rng)));
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        catalog.works.insert(
            work_id(w).into(),
            WorkRights {
                publishing_splits: Some(splits),
                writers: ids,
            },
        );
    }

    catalog.recordings.reserve(RECORDINGS);
    for r in 0..RECORDINGS {
        if r % 200_000 == 0 {
            println!(
                "building recordings: {r}/{RECORDINGS} ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
        let owners = 1 + rng.below(3);
        let splits = org_splits(&mut rng, owners, &mut owned_recordings, r);
        catalog.recordings.insert(
            recording_id(r).into(),
            RecordingRights {
                master_splits: Some(splits),
                main_artists: vec![party_id(person(&mut rng)).into()],
                works: vec![work_id(rng.below(WORKS)).into()],
            },
        );
    }

    println!(
        "building {AGREEMENTS} agreements ({:.1} s)…",
        started.elapsed().as_secs_f64()
    );
    let all_uses: BTreeSet<UseType> = UseType::ALL.into_iter().collect();
    let mut agreements = AgreementIndex::new();
    let orgs = PARTIES / 10;
    for a in 0..AGREEMENTS {
        // Ten agreements per organisation: the first is usually a catalogue-wide licence, the
        // rest list particular items.
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
            // A window somewhere around now: some current, some over, some not yet begun.
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
    drop(owned_recordings);
    drop(owned_works);

    println!(
        "building participation for {} persons ({:.1} s)…",
        PARTIES - orgs,
        started.elapsed().as_secs_f64()
    );
    let mut participation: FastMap<Key, Participation> = FastMap::default();
    participation.reserve(PARTIES);
    for p in (0..PARTIES).filter(|p| p % 10 != 0) {
        if rng.chance(0.2) {
            continue; // never set anything: every use refused
        }
        let mut part = Participation::new();
        for use_type in UseType::ALL {
            part.set(use_type, choice(&mut rng));
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
                            .insert(recording_id(rng.below(RECORDINGS)), c);
                    } else {
                        per_use.works.insert(work_id(rng.below(WORKS)), c);
                    }
                }
            }
        }
        participation.insert(party_id(p).into(), part);
    }
    let table = UseTable::default();
    println!(
        "built in {:.1} s: {} recordings, {} works, {} parties, {} agreements, {} participations",
        started.elapsed().as_secs_f64(),
        catalog.recordings.len(),
        catalog.works.len(),
        catalog.parties.len(),
        agreements.len(),
        participation.len()
    );

    println!();
    println!("| inputs | use | requests | allowed | p50 µs | p99 µs | p99.9 µs | max µs |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut total_allowed = 0usize;
    for inputs in 1..=4usize {
        let use_type = if inputs == 1 {
            UseType::Remix
        } else {
            UseType::Mashup
        };
        // Requests are built beforehand so the timed loop allocates nothing outside `decide`.
        let requests: Vec<UseRequest> = (0..REQUESTS)
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
        for request in requests.iter().take(WARMUP) {
            black_box(decide(
                request,
                &catalog,
                &agreements,
                &participation,
                &table,
                &(),
            ));
        }
        let mut nanos: Vec<u64> = Vec::with_capacity(REQUESTS);
        let mut allowed = 0usize;
        for request in &requests {
            let t0 = Instant::now();
            let decision = decide(request, &catalog, &agreements, &participation, &table, &());
            let elapsed = t0.elapsed();
            nanos.push(elapsed.as_nanos() as u64);
            allowed += usize::from(black_box(&decision).allowed);
        }
        total_allowed += allowed;
        nanos.sort_unstable();
        println!(
            "| {inputs} | {use_type} | {REQUESTS} | {:.1}% | {:.2} | {:.2} | {:.2} | {:.2} |",
            100.0 * allowed as f64 / REQUESTS as f64,
            percentile(&nanos, 0.50),
            percentile(&nanos, 0.99),
            percentile(&nanos, 0.999),
            *nanos.last().expect("timings") as f64 / 1000.0,
        );
    }
    println!();
    println!(
        "allowed overall: {:.1}% of {} decisions",
        100.0 * total_allowed as f64 / (4 * REQUESTS) as f64,
        4 * REQUESTS
    );
}
