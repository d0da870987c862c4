//! Property tests for the rights engine over random small catalogs, agreements,
//! participation and models, including ids that do not exist.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use encore_core::rights::{
    Agreement, AgreementIndex, AgreementStatus, ArtistRule, Choice, Decision, Input, Key,
    MemoryCatalog, Model, OnRevocation, Participation, RecordingRights, Scope, Territories,
    TrainingSet, UseRequest, UseTable, WorkRights, decide, model_clearance,
};
use encore_core::{PartyKind, Share, Splits, Territory, UseType};
use proptest::prelude::*;

const PARTIES: usize = 6;
const RECORDINGS: usize = 3;
const WORKS: usize = 2;

fn party(i: usize) -> String {
    format!("par{i}")
}
fn recording(i: usize) -> String {
    format!("rec{i}")
}
fn work(i: usize) -> String {
    format!("wrk{i}")
}

fn territories() -> [Territory; 4] {
    ["US", "GB", "FR", "WW"].map(|c| Territory::parse(c).expect("territory"))
}

fn use_type() -> impl Strategy<Value = UseType> {
    (0..UseType::ALL.len()).prop_map(|i| UseType::ALL[i])
}

fn uses() -> impl Strategy<Value = BTreeSet<UseType>> {
    proptest::collection::btree_set(use_type(), 0..=UseType::ALL.len())
}

fn territory() -> impl Strategy<Value = Territory> + Clone {
    (0..4usize).prop_map(|i| territories()[i])
}

/// Known owners (sometimes), split evenly between one or two distinct parties.
fn splits() -> impl Strategy<Value = Option<Splits<String>>> {
    prop_oneof![
        1 => Just(None),
        6 => (0..PARTIES, 0..PARTIES).prop_map(|(a, b)| {
            let entries = if a == b {
                vec![(party(a), Share::FULL)]
            } else {
                let half = Share::from_ppm(500_000).expect("share");
                vec![(party(a), half), (party(b), half)]
            };
            Some(Splits::new(entries).expect("valid splits"))
        }),
    ]
}

fn ids(max: usize, name: fn(usize) -> String) -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec((0..max).prop_map(name), 0..3)
}

fn catalog() -> impl Strategy<Value = MemoryCatalog> {
    let linked = prop_oneof![
        1 => Just(Vec::new()),
        5 => proptest::collection::vec(mostly_known(WORKS, work), 1..3),
    ];
    let rec =
        (splits(), ids(PARTIES, party), linked).prop_map(|(master_splits, main_artists, works)| {
            RecordingRights {
                master_splits: master_splits.map(|s| s.map_parties(|p| Key::new(p))),
                main_artists: main_artists.into_iter().map(Key::from).collect(),
                works: works.into_iter().map(Key::from).collect(),
            }
        });
    let wrk = (splits(), ids(PARTIES, party)).prop_map(|(publishing_splits, writers)| WorkRights {
        publishing_splits: publishing_splits.map(|s| s.map_parties(|p| Key::new(p))),
        writers: writers.into_iter().map(Key::from).collect(),
    });
    (
        proptest::collection::vec(rec, RECORDINGS),
        proptest::collection::vec(wrk, WORKS),
        proptest::collection::vec(any::<bool>(), PARTIES),
    )
        .prop_map(|(recs, works, people)| MemoryCatalog {
            recordings: recs
                .into_iter()
                .enumerate()
                .map(|(i, r)| (recording(i).into(), r))
                .collect(),
            works: works
                .into_iter()
                .enumerate()
                .map(|(i, w)| (work(i).into(), w))
                .collect(),
            parties: people
                .into_iter()
                .enumerate()
                .map(|(i, person)| {
                    let kind = if person {
                        PartyKind::Person
                    } else {
                        PartyKind::Organisation
                    };
                    (party(i).into(), kind)
                })
                .collect(),
        })
}

fn agreement() -> impl Strategy<Value = Agreement> {
    let scope = prop_oneof![
        2 => Just(Scope::AllWhereLicensorHoldsShares),
        1 => ids(RECORDINGS + 1, recording)
            .prop_map(|v| Scope::Recordings(v.into_iter().collect())),
        1 => ids(WORKS + 1, work).prop_map(|v| Scope::Works(v.into_iter().collect())),
    ];
    let places = proptest::collection::btree_set(territory(), 0..3);
    let terr = prop_oneof![
        places.clone().prop_map(Territories::List),
        places.prop_map(|excluding| Territories::World { excluding }),
    ];
    let status = prop_oneof![
        Just(AgreementStatus::Accepted),
        Just(AgreementStatus::Proposed),
        (0i64..40).prop_map(|at_ms| AgreementStatus::Revoked { at_ms }),
    ];
    (
        (0..PARTIES, scope, uses(), terr),
        (
            0i64..30,
            proptest::option::of(0i64..40),
            status,
            any::<bool>(),
        ),
    )
        .prop_map(
            |((licensor, scope, uses, territories), (start, end, status, requires_approval))| {
                Agreement {
                    id: String::new(),
                    licensor: party(licensor),
                    scope,
                    uses,
                    territories,
                    starts_at_ms: start,
                    ends_at_ms: end,
                    status,
                    requires_approval,
                    rates: BTreeMap::new(),
                    on_revocation: OnRevocation::Keep,
                }
            },
        )
}

fn agreements() -> impl Strategy<Value = Vec<Agreement>> {
    proptest::collection::vec(agreement(), 0..10).prop_map(|mut v| {
        for (i, a) in v.iter_mut().enumerate() {
            a.id = format!("agr{i}");
        }
        v
    })
}

fn choice() -> impl Strategy<Value = Option<Choice>> {
    proptest::option::of((0..3usize).prop_map(|i| Choice::ALL[i]))
}

fn participation() -> impl Strategy<Value = HashMap<String, Participation>> {
    let one = (
        proptest::collection::vec(choice(), UseType::ALL.len()),
        proptest::collection::vec(
            (
                use_type(),
                0..RECORDINGS + WORKS,
                (0..3usize).prop_map(|i| Choice::ALL[i]),
            ),
            0..3,
        ),
    )
        .prop_map(|(defaults, overrides)| {
            let mut p = Participation::new();
            for (u, c) in UseType::ALL.into_iter().zip(defaults) {
                p.set(u, c);
            }
            for (u, item, c) in overrides {
                let per_use = p.for_use_mut(u);
                if item < RECORDINGS {
                    per_use.recordings.insert(recording(item), c);
                } else {
                    per_use.works.insert(work(item - RECORDINGS), c);
                }
            }
            p
        });
    proptest::collection::vec(proptest::option::of(one), PARTIES).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .filter_map(|(i, p)| p.map(|p| (party(i), p)))
            .collect()
    })
}

fn models() -> impl Strategy<Value = HashMap<String, Model>> {
    let training = prop_oneof![
        Just(TrainingSet::NoCatalogItems),
        (ids(RECORDINGS + 1, recording), ids(WORKS + 1, work))
            .prop_map(|(recordings, works)| TrainingSet::Items { recordings, works }),
    ];
    let abilities = prop_oneof![Just(UseType::ALL.into_iter().collect()), uses()];
    (abilities, training).prop_map(|(uses, training)| {
        let m = Model {
            id: "mdl0".to_owned(),
            uses,
            training,
        };
        HashMap::from([(m.id.clone(), m)])
    })
}

/// An id of one of the `known` items, or now and then of one that does not exist.
fn mostly_known(known: usize, name: fn(usize) -> String) -> impl Strategy<Value = String> {
    prop_oneof![9 => (0..known).prop_map(name), 1 => Just(name(known))]
}

/// Requests over known and unknown ids (one past the catalog's range of each kind).
fn request() -> impl Strategy<Value = UseRequest> {
    (
        use_type(),
        proptest::collection::vec(mostly_known(RECORDINGS, recording), 0..4),
        proptest::collection::vec(mostly_known(WORKS, work), 0..2),
        proptest::option::of(mostly_known(PARTIES, party)),
        territory(),
        0i64..45,
        proptest::option::of(prop_oneof![9 => Just("mdl0"), 1 => Just("mdl9")]),
    )
        .prop_map(
            |(use_type, recordings, works, artist, territory, at_ms, model)| UseRequest {
                use_type,
                recordings,
                works,
                artist,
                territory,
                at_ms,
                model: model.map(str::to_owned),
            },
        )
}

struct Scenario {
    catalog: MemoryCatalog,
    agreements: AgreementIndex,
    people: HashMap<String, Participation>,
    models: HashMap<String, Model>,
    table: UseTable,
}

impl Scenario {
    fn decide(&self, request: &UseRequest) -> Decision {
        decide(
            request,
            &self.catalog,
            &self.agreements,
            &self.people,
            &self.table,
            &self.models,
        )
    }
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut agreements: Vec<_> = self.agreements.iter().collect();
        agreements.sort_by(|a, b| a.id.cmp(&b.id));
        f.debug_struct("Scenario")
            .field("catalog", &self.catalog)
            .field("agreements", &agreements)
            .field("people", &self.people)
            .field("models", &self.models)
            .finish()
    }
}

/// Anything goes: allowances are rare, so denials are well explored.
fn random_scenario() -> impl Strategy<Value = Scenario> {
    (catalog(), agreements(), participation(), models()).prop_map(
        |(catalog, agreements, people, models)| Scenario {
            catalog,
            agreements: agreements.into_iter().collect(),
            people,
            models,
            table: UseTable::default(),
        },
    )
}

/// Every party has an open agreement and allows everything, then random agreements and
/// overrides are layered on top: allowances are common, so "never turns into an allowance"
/// properties are really tested.
fn generous_scenario() -> impl Strategy<Value = Scenario> {
    (
        catalog(),
        agreements(),
        participation(),
        models(),
        proptest::collection::vec(any::<bool>(), PARTIES),
    )
        .prop_map(|(catalog, extra, random_people, models, approvals)| {
            let open = approvals
                .into_iter()
                .enumerate()
                .map(|(i, requires_approval)| Agreement {
                    id: format!("open{i}"),
                    licensor: party(i),
                    scope: Scope::AllWhereLicensorHoldsShares,
                    uses: UseType::ALL.into_iter().collect(),
                    territories: Territories::World {
                        excluding: BTreeSet::new(),
                    },
                    starts_at_ms: 0,
                    ends_at_ms: None,
                    status: AgreementStatus::Accepted,
                    requires_approval,
                    rates: BTreeMap::new(),
                    on_revocation: OnRevocation::Delist,
                });
            let people = (0..PARTIES)
                .map(|i| {
                    let mut p = UseType::ALL
                        .into_iter()
                        .fold(Participation::new(), |p, u| p.with(u, Choice::Allow));
                    // Keep the random overrides only, so most answers stay "allow".
                    if let Some(random) = random_people.get(&party(i)) {
                        for u in UseType::ALL {
                            let from = random.for_use(u);
                            let to = p.for_use_mut(u);
                            to.recordings.clone_from(&from.recordings);
                            to.works.clone_from(&from.works);
                        }
                    }
                    (party(i), p)
                })
                .collect();
            Scenario {
                catalog,
                agreements: open.chain(extra).collect(),
                people,
                models,
                table: UseTable::default(),
            }
        })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    prop_oneof![random_scenario(), generous_scenario()]
}

/// The people whose participation the table requires for this request (model aside).
fn required_people(s: &Scenario, request: &UseRequest) -> Vec<String> {
    let rule = s.table.rule(request.use_type);
    let mut people = Vec::new();
    let mut works: Vec<&str> = request.works.iter().map(String::as_str).collect();
    for r in &request.recordings {
        if let Some(rec) = s.catalog.recordings.get(r.as_str()) {
            if rule.artists == ArtistRule::MainArtists {
                people.extend(rec.main_artists.iter().map(Key::to_string));
            }
            works.extend(rec.works.iter().map(Key::as_str));
        }
    }
    if rule.writers {
        for w in works {
            if let Some(wrk) = s.catalog.works.get(w) {
                people.extend(wrk.writers.iter().map(Key::to_string));
            }
        }
    }
    if rule.artists == ArtistRule::VoicedArtist {
        people.extend(request.artist.iter().cloned());
    }
    people
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// (c) and (d): never panics, and allowed exactly when there is no reason.
    #[test]
    fn total_and_allowed_iff_no_reasons(s in scenario(), request in request()) {
        let d = s.decide(&request);
        prop_assert_eq!(d.allowed, d.reasons.is_empty());
        let mut approvals = d.approvals_required.clone();
        approvals.sort_unstable();
        approvals.dedup();
        prop_assert_eq!(approvals.len(), d.approvals_required.len());
        for model in s.models.values() {
            let why = model_clearance(
                model, request.territory, request.at_ms,
                &s.catalog, &s.agreements, &s.people, &s.table,
            );
            prop_assert_eq!(why.allowed, why.reasons.is_empty());
        }
    }

    /// (a) Deny wins: a required person refusing the use denies it, whatever else holds.
    #[test]
    fn deny_wins(mut s in scenario(), request in request(), pick in any::<prop::sample::Index>()) {
        let people = required_people(&s, &request);
        if people.is_empty() {
            return Ok(());
        }
        let who = pick.get(&people).clone();
        let mut refusal = Participation::new();
        refusal.set(request.use_type, Some(Choice::Deny));
        s.people.insert(who.clone(), refusal);
        let d = s.decide(&request);
        prop_assert!(!d.allowed);
        // The refusal is named (an unknown voiced artist is named as the missing input).
        let artist = Input::Artist(who.clone());
        let named = d.reasons.iter().any(|r| {
            r.party.as_deref() == Some(who.as_str()) || r.input.as_ref() == Some(&artist)
        });
        prop_assert!(named);
    }

    /// (a') Also through an override: refusing the request's first recording denies it.
    #[test]
    fn deny_override_wins(mut s in scenario(), request in request()) {
        let rule = *s.table.rule(request.use_type);
        let Some(first) = request.recordings.first() else { return Ok(()) };
        let Some(artist) = s
            .catalog
            .recordings
            .get(first.as_str())
            .and_then(|r| r.main_artists.first().map(Key::to_string))
            .filter(|_| rule.artists == ArtistRule::MainArtists)
        else {
            return Ok(());
        };
        s.people
            .entry(artist)
            .or_default()
            .for_use_mut(request.use_type)
            .recordings
            .insert(first.clone(), Choice::Deny);
        prop_assert!(!s.decide(&request).allowed);
    }

    /// (b) Adding a revocation never turns a denial into an allowance.
    #[test]
    fn revocation_is_monotone(
        mut s in scenario(),
        request in request(),
        which in any::<prop::sample::Index>(),
        at_ms in 0i64..45,
    ) {
        let before = s.decide(&request);
        let ids: Vec<String> = s.agreements.iter().map(|a| a.id.clone()).collect();
        if ids.is_empty() {
            return Ok(());
        }
        s.agreements.revoke(which.get::<String>(&ids), at_ms);
        let after = s.decide(&request);
        if !before.allowed {
            prop_assert!(!after.allowed);
        }
    }

    /// Unknown ids anywhere in a request are reported, never ignored.
    #[test]
    fn unknown_inputs_are_reported(s in scenario(), mut request in request()) {
        request.recordings.push(recording(RECORDINGS + 7));
        let d = s.decide(&request);
        prop_assert!(!d.allowed);
        prop_assert!(d.has(encore_core::rights::ReasonCode::InputNotFound));
    }
}

/// A change to an index of agreements.
#[derive(Clone, Debug)]
enum Edit {
    Remove(prop::sample::Index),
    Revoke(prop::sample::Index, i64),
    Insert(Agreement, prop::sample::Index),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        any::<prop::sample::Index>().prop_map(Edit::Remove),
        (any::<prop::sample::Index>(), 0i64..40).prop_map(|(i, at)| Edit::Revoke(i, at)),
        (agreement(), any::<prop::sample::Index>()).prop_map(|(a, i)| Edit::Insert(a, i)),
    ];
    proptest::collection::vec(edit, 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The index's picks (catalogue-wide agreements, then those listing the item) decide
    /// exactly as a scan of all the licensor's agreements does, through inserts (some
    /// replacing an id), removals and revocations.
    #[test]
    fn index_decides_as_a_plain_scan(mut s in scenario(), edits in edits(), request in request()) {
        let mut next = 100;
        for edit in edits {
            let ids: Vec<String> = s.agreements.iter().map(|a| a.id.clone()).collect();
            match edit {
                Edit::Remove(i) if !ids.is_empty() => {
                    prop_assert!(s.agreements.remove(i.get::<String>(&ids)).is_some());
                }
                Edit::Revoke(i, at_ms) if !ids.is_empty() => {
                    s.agreements.revoke(i.get::<String>(&ids), at_ms);
                }
                Edit::Insert(mut a, i) => {
                    a.id = if ids.is_empty() || next % 2 == 0 {
                        format!("agr{next}")
                    } else {
                        i.get::<String>(&ids).clone()
                    };
                    next += 1;
                    s.agreements.insert(a);
                }
                _ => {}
            }
        }
        let plain: HashMap<String, Vec<Agreement>> = (0..PARTIES)
            .map(|p| {
                let list = encore_core::rights::AgreementView::by_licensor(&s.agreements, &party(p));
                (party(p), list.to_vec())
            })
            .collect();
        let indexed = s.decide(&request);
        let scanned = decide(&request, &s.catalog, &plain, &s.people, &s.table, &s.models);
        prop_assert_eq!(indexed, scanned);
        // The last representable time: open-ended agreements still license then.
        let mut last = request.clone();
        last.at_ms = i64::MAX;
        let indexed = s.decide(&last);
        let scanned = decide(&last, &s.catalog, &plain, &s.people, &s.table, &s.models);
        prop_assert_eq!(indexed, scanned);
    }
}
