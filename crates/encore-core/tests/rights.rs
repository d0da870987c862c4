//! Scenario tests for the rights engine: every row of the default use table and every reason
//! code, on a small hand-built catalog.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use encore_core::rights::{
    Agreement, AgreementError, AgreementIndex, AgreementStatus, ArtistRule, Choice, Decision,
    Input, Item, Key, MemoryCatalog, Model, OnRevocation, Participation, Reason, ReasonCode,
    RecordingRights, Scope, Territories, TrainingSet, UseRates, UseRequest, UseRule, UseTable,
    WorkRights, decide, model_clearance,
};
use encore_core::{Currency, Money, PartyKind, Share, Splits, Territory, UseType};

const NOW: i64 = 1_000_000;

fn t(code: &str) -> Territory {
    Territory::parse(code).expect("territory")
}

fn sole(owner: &str) -> Option<Splits<Key>> {
    Some(Splits::new(vec![(owner.into(), Share::FULL)]).expect("splits"))
}

fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

/// An agreement licensing every use everywhere, from time 0, for everything the licensor owns.
fn open_agreement(id: &str, licensor: &str) -> Agreement {
    Agreement {
        id: id.to_owned(),
        licensor: licensor.to_owned(),
        scope: Scope::AllWhereLicensorHoldsShares,
        uses: UseType::ALL.into_iter().collect(),
        territories: Territories::World {
            excluding: BTreeSet::new(),
        },
        starts_at_ms: 0,
        ends_at_ms: None,
        status: AgreementStatus::Accepted,
        requires_approval: false,
        rates: BTreeMap::new(),
        on_revocation: OnRevocation::Delist,
    }
}

fn allow_everything() -> Participation {
    UseType::ALL
        .into_iter()
        .fold(Participation::new(), |p, u| p.with(u, Choice::Allow))
}

/// Two recordings, each with its own label, artist, work, publisher and writer, plus a singer
/// for voice; every owner has an open agreement and every person allows everything.
struct World {
    catalog: MemoryCatalog,
    agreements: AgreementIndex,
    people: HashMap<String, Participation>,
    models: HashMap<String, Model>,
    table: UseTable,
}

const OWNERS: [&str; 4] = ["label1", "pub1", "label2", "pub2"];
const PEOPLE: [&str; 5] = ["artist1", "writer1", "artist2", "writer2", "singer"];

impl World {
    fn new() -> Self {
        let mut catalog = MemoryCatalog::default();
        for n in ["1", "2"] {
            catalog.recordings.insert(
                format!("rec{n}").into(),
                RecordingRights {
                    master_splits: sole(&format!("label{n}")),
                    main_artists: vec![format!("artist{n}").into()],
                    works: vec![format!("wrk{n}").into()],
                },
            );
            catalog.works.insert(
                format!("wrk{n}").into(),
                WorkRights {
                    publishing_splits: sole(&format!("pub{n}")),
                    writers: vec![format!("writer{n}").into()],
                },
            );
        }
        for o in OWNERS {
            catalog.parties.insert(o.into(), PartyKind::Organisation);
        }
        for p in PEOPLE {
            catalog.parties.insert(p.into(), PartyKind::Person);
        }
        let agreements = OWNERS
            .iter()
            .map(|o| open_agreement(&format!("agr_{o}"), o))
            .collect();
        let people = PEOPLE
            .iter()
            .map(|p| ((*p).to_owned(), allow_everything()))
            .collect();
        Self {
            catalog,
            agreements,
            people,
            models: HashMap::new(),
            table: UseTable::default(),
        }
    }

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

    /// Takes away one party's consent: an owner's agreements or a person's participation.
    fn without(&self, party: &str) -> Self {
        let mut w = Self {
            catalog: self.catalog.clone(),
            agreements: self.agreements.clone(),
            people: self.people.clone(),
            models: self.models.clone(),
            table: self.table.clone(),
        };
        w.agreements.remove(&format!("agr_{party}"));
        w.people.remove(party);
        w
    }

    /// Replaces an owner's agreement with a changed copy of the open one.
    fn set_agreement(&mut self, owner: &str, change: impl FnOnce(&mut Agreement)) {
        let mut a = open_agreement(&format!("agr_{owner}"), owner);
        change(&mut a);
        self.agreements.insert(a);
    }

    /// Changes one person's participation for one use.
    fn set_choice(&mut self, person: &str, use_type: UseType, choice: Option<Choice>) {
        self.people
            .entry(person.to_owned())
            .or_default()
            .set(use_type, choice);
    }
}

fn request(use_type: UseType) -> UseRequest {
    UseRequest::new(use_type, t("US"), NOW)
}

fn reason(
    code: ReasonCode,
    input: Input,
    item: Option<Item>,
    party: Option<&str>,
    agreement: Option<&str>,
) -> Reason {
    Reason {
        code,
        input: Some(input),
        item,
        party: party.map(str::to_owned),
        agreement: agreement.map(str::to_owned),
    }
}

fn rec(id: &str) -> Input {
    Input::Recording(id.to_owned())
}

fn work_item(id: &str) -> Option<Item> {
    Some(Item::Work(id.to_owned()))
}

fn assert_allowed(d: &Decision) {
    assert!(d.allowed, "expected allowed, got {:#?}", d.reasons);
    assert!(d.reasons.is_empty());
}

fn assert_only(d: &Decision, expected: &[Reason]) {
    assert!(!d.allowed);
    assert_eq!(d.reasons, expected);
}

// ---- the use table ----

#[test]
fn default_table_is_the_product_table() {
    let table = UseTable::default();
    let row = |m, p, a, w, min| UseRule {
        master_owners: m,
        publishing_owners: p,
        artists: a,
        writers: w,
        min_inputs: min,
    };
    use ArtistRule::{MainArtists, NotRequired, VoicedArtist};
    let expected = [
        (UseType::Remix, row(true, true, MainArtists, true, 1)),
        (UseType::Mashup, row(true, true, MainArtists, true, 2)),
        (UseType::Extend, row(true, true, MainArtists, true, 1)),
        (UseType::Sample, row(true, true, MainArtists, true, 1)),
        (UseType::Cover, row(false, true, NotRequired, true, 1)),
        (UseType::Voice, row(false, true, VoicedArtist, true, 0)),
        (UseType::Train, row(true, true, MainArtists, true, 1)),
    ];
    for (use_type, rule) in expected {
        assert_eq!(table.rule(use_type), &rule, "{use_type}");
    }
    assert_eq!(table.rows().count(), UseType::ALL.len());
}

/// Which of the world's parties must agree: each one's consent is taken away in turn.
fn who_must_agree(world: &World, request: &UseRequest) -> BTreeSet<String> {
    assert_allowed(&world.decide(request));
    OWNERS
        .iter()
        .chain(PEOPLE.iter())
        .filter(|p| !world.without(p).decide(request).allowed)
        .map(|p| (*p).to_owned())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn remix_extend_sample_train_need_everyone_of_the_recording() {
    let world = World::new();
    for use_type in [
        UseType::Remix,
        UseType::Extend,
        UseType::Sample,
        UseType::Train,
    ] {
        // The singer is named but only a voice use reads the artist input.
        let req = request(use_type).recording("rec1").artist("singer");
        assert_eq!(
            who_must_agree(&world, &req),
            set(&["label1", "pub1", "artist1", "writer1"]),
            "{use_type}"
        );
    }
}

#[test]
fn mashup_needs_everyone_of_each_recording() {
    let world = World::new();
    let req = request(UseType::Mashup).recording("rec1").recording("rec2");
    assert_eq!(
        who_must_agree(&world, &req),
        set(&[
            "label1", "pub1", "artist1", "writer1", "label2", "pub2", "artist2", "writer2"
        ])
    );
}

#[test]
fn cover_needs_publishers_and_writers_only() {
    let world = World::new();
    let of_recording = request(UseType::Cover).recording("rec1");
    assert_eq!(
        who_must_agree(&world, &of_recording),
        set(&["pub1", "writer1"])
    );
    let of_work = request(UseType::Cover).work("wrk2");
    assert_eq!(who_must_agree(&world, &of_work), set(&["pub2", "writer2"]));
}

#[test]
fn voice_needs_the_voiced_artist_and_the_works_performed() {
    let world = World::new();
    let alone = request(UseType::Voice).artist("singer");
    assert_eq!(who_must_agree(&world, &alone), set(&["singer"]));
    let singing_a_work = request(UseType::Voice).artist("singer").work("wrk1");
    assert_eq!(
        who_must_agree(&world, &singing_a_work),
        set(&["singer", "pub1", "writer1"])
    );
    // Over a recording: its works' owners and writers, not its label or main artist.
    let over_a_recording = request(UseType::Voice).artist("singer").recording("rec2");
    assert_eq!(
        who_must_agree(&world, &over_a_recording),
        set(&["singer", "pub2", "writer2"])
    );
}

#[test]
fn the_table_is_data_an_operator_can_change() {
    let mut world = World::new();
    world.table.set_rule(
        UseType::Remix,
        UseRule {
            artists: ArtistRule::NotRequired,
            writers: false,
            ..UseRule::everyone(1)
        },
    );
    let req = request(UseType::Remix).recording("rec1");
    assert_eq!(who_must_agree(&world, &req), set(&["label1", "pub1"]));
}

// ---- reason codes ----

#[test]
fn no_agreement() {
    let world = World::new().without("label1");
    let d = world.decide(&request(UseType::Remix).recording("rec1"));
    assert_only(
        &d,
        &[reason(
            ReasonCode::NoAgreement,
            rec("rec1"),
            None,
            Some("label1"),
            None,
        )],
    );
}

#[test]
fn agreements_that_do_not_apply_are_no_agreement() {
    let mut world = World::new();
    // Only proposed: licenses nothing and is not a more specific reason.
    world.set_agreement("label1", |a| a.status = AgreementStatus::Proposed);
    // Scoped to recordings only: a recording scope does not cover the work it embodies.
    world.set_agreement("pub1", |a| a.scope = Scope::Recordings(set(&["rec1"])));
    let d = world.decide(&request(UseType::Remix).recording("rec1"));
    assert_only(
        &d,
        &[
            reason(
                ReasonCode::NoAgreement,
                rec("rec1"),
                None,
                Some("label1"),
                None,
            ),
            reason(
                ReasonCode::NoAgreement,
                rec("rec1"),
                work_item("wrk1"),
                Some("pub1"),
                None,
            ),
        ],
    );
    let mut world = World::new();
    world.set_agreement("label1", |a| a.scope = Scope::Recordings(set(&["rec1"])));
    world.set_agreement("pub1", |a| a.scope = Scope::Works(set(&["wrk1"])));
    assert_allowed(&world.decide(&request(UseType::Remix).recording("rec1")));
}

#[test]
fn use_not_licensed() {
    let mut world = World::new();
    world.set_agreement("label1", |a| a.uses = [UseType::Cover].into());
    let d = world.decide(&request(UseType::Remix).recording("rec1"));
    assert_only(
        &d,
        &[reason(
            ReasonCode::UseNotLicensed,
            rec("rec1"),
            None,
            Some("label1"),
            Some("agr_label1"),
        )],
    );
}

#[test]
fn territory_excluded() {
    let mut world = World::new();
    world.set_agreement("label1", |a| {
        a.territories = Territories::World {
            excluding: [t("FR")].into(),
        }
    });
    world.set_agreement("pub1", |a| {
        a.territories = Territories::List([t("US")].into())
    });
    let fr = UseRequest::new(UseType::Remix, t("FR"), NOW).recording("rec1");
    assert_only(
        &world.decide(&fr),
        &[
            reason(
                ReasonCode::TerritoryExcluded,
                rec("rec1"),
                None,
                Some("label1"),
                Some("agr_label1"),
            ),
            reason(
                ReasonCode::TerritoryExcluded,
                rec("rec1"),
                work_item("wrk1"),
                Some("pub1"),
                Some("agr_pub1"),
            ),
        ],
    );
    assert_allowed(&world.decide(&request(UseType::Remix).recording("rec1")));
    // A world-wide use needs the whole world from every owner.
    let ww = UseRequest::new(UseType::Remix, Territory::world(), NOW).recording("rec1");
    assert_eq!(world.decide(&ww).reasons.len(), 2);
    assert!(
        world
            .decide(&ww)
            .reasons
            .iter()
            .all(|r| r.code == ReasonCode::TerritoryExcluded)
    );
}

#[test]
fn outside_window() {
    let mut world = World::new();
    world.set_agreement("label1", |a| {
        a.starts_at_ms = NOW;
        a.ends_at_ms = Some(NOW + 10);
    });
    let at = |ms| UseRequest::new(UseType::Remix, t("US"), ms).recording("rec1");
    let outside = [reason(
        ReasonCode::OutsideWindow,
        rec("rec1"),
        None,
        Some("label1"),
        Some("agr_label1"),
    )];
    assert_only(&world.decide(&at(NOW - 1)), &outside);
    assert_allowed(&world.decide(&at(NOW)));
    assert_allowed(&world.decide(&at(NOW + 9)));
    assert_only(&world.decide(&at(NOW + 10)), &outside);
}

#[test]
fn agreement_revoked() {
    let mut world = World::new();
    assert!(world.agreements.revoke("agr_label1", NOW));
    // Idempotent: the first revocation stands.
    assert!(!world.agreements.revoke("agr_label1", NOW - 100));
    assert_eq!(
        world.agreements.get("agr_label1").map(|a| a.status),
        Some(AgreementStatus::Revoked { at_ms: NOW })
    );
    let at = |ms| UseRequest::new(UseType::Remix, t("US"), ms).recording("rec1");
    // Takes effect for every decision at or after the revocation, not before.
    assert_allowed(&world.decide(&at(NOW - 1)));
    let revoked = [reason(
        ReasonCode::AgreementRevoked,
        rec("rec1"),
        None,
        Some("label1"),
        Some("agr_label1"),
    )];
    assert_only(&world.decide(&at(NOW)), &revoked);
    assert_only(&world.decide(&at(NOW + 1)), &revoked);
    // A proposal was never active and cannot be revoked.
    world.set_agreement("pub1", |a| a.status = AgreementStatus::Proposed);
    assert!(!world.agreements.revoke("agr_pub1", NOW));
    assert!(!world.agreements.revoke("agr_unknown", NOW));
}

#[test]
fn one_licensing_agreement_suffices_otherwise_every_failure_is_reported() {
    let mut world = World::new();
    let mut narrow = open_agreement("agr_label1_fr", "label1");
    narrow.territories = Territories::List([t("FR")].into());
    narrow.ends_at_ms = Some(NOW - 1);
    world.agreements.insert(narrow);
    assert_allowed(&world.decide(&request(UseType::Remix).recording("rec1")));

    world.agreements.remove("agr_label1");
    let mut revoked = open_agreement("agr_label1_old", "label1");
    revoked.status = AgreementStatus::Revoked { at_ms: 10 };
    revoked.uses = [UseType::Cover].into();
    world.agreements.insert(revoked);
    let d = world.decide(&request(UseType::Remix).recording("rec1"));
    let mut got: Vec<_> = d
        .reasons
        .iter()
        .map(|r| (r.code, r.agreement.as_deref().unwrap_or("-")))
        .collect();
    got.sort_unstable();
    assert_eq!(
        got,
        [
            (ReasonCode::UseNotLicensed, "agr_label1_old"),
            (ReasonCode::TerritoryExcluded, "agr_label1_fr"),
            (ReasonCode::OutsideWindow, "agr_label1_fr"),
            (ReasonCode::AgreementRevoked, "agr_label1_old"),
        ]
    );
    assert!(!d.has(ReasonCode::NoAgreement));
}

#[test]
fn participation_missing() {
    let mut world = World::new().without("artist1");
    world.set_choice("writer1", UseType::Remix, None);
    let d = world.decide(&request(UseType::Remix).recording("rec1"));
    assert_only(
        &d,
        &[
            reason(
                ReasonCode::ParticipationMissing,
                rec("rec1"),
                None,
                Some("artist1"),
                None,
            ),
            reason(
                ReasonCode::ParticipationMissing,
                rec("rec1"),
                work_item("wrk1"),
                Some("writer1"),
                None,
            ),
        ],
    );
}

#[test]
fn participation_denied_and_overrides() {
    let mut world = World::new();
    world.set_choice("writer1", UseType::Remix, Some(Choice::Deny));
    let d = world.decide(&request(UseType::Remix).recording("rec1"));
    assert_only(
        &d,
        &[reason(
            ReasonCode::ParticipationDenied,
            rec("rec1"),
            work_item("wrk1"),
            Some("writer1"),
            None,
        )],
    );

    // A per-recording override refuses one recording while the default allows.
    let mut world = World::new();
    let remix = world
        .people
        .get_mut("artist1")
        .expect("artist1")
        .for_use_mut(UseType::Remix);
    remix.recordings.insert("rec1".to_owned(), Choice::Deny);
    let d = world.decide(&request(UseType::Remix).recording("rec1"));
    assert_eq!(d.reasons.len(), 1);
    assert_eq!(d.reasons[0].code, ReasonCode::ParticipationDenied);
    assert_eq!(d.reasons[0].party.as_deref(), Some("artist1"));

    // A per-work override opts in to one work while the default is unset.
    let mut world = World::new();
    world.set_choice("writer1", UseType::Remix, None);
    let remix = world
        .people
        .get_mut("writer1")
        .expect("writer1")
        .for_use_mut(UseType::Remix);
    remix.works.insert("wrk1".to_owned(), Choice::Allow);
    assert_allowed(&world.decide(&request(UseType::Remix).recording("rec1")));
    // A work override also binds a main artist through the recordings embodying it.
    world
        .people
        .get_mut("artist1")
        .expect("artist1")
        .for_use_mut(UseType::Remix)
        .works
        .insert("wrk1".to_owned(), Choice::Deny);
    assert!(
        world
            .decide(&request(UseType::Remix).recording("rec1"))
            .has(ReasonCode::ParticipationDenied)
    );
}

#[test]
fn splits_incomplete() {
    let mut world = World::new();
    if let Some(r) = world.catalog.recordings.get_mut("rec1") {
        r.master_splits = None;
    }
    if let Some(w) = world.catalog.works.get_mut("wrk1") {
        w.publishing_splits = None;
    }
    let d = world.decide(&request(UseType::Remix).recording("rec1"));
    assert_only(
        &d,
        &[
            reason(ReasonCode::SplitsIncomplete, rec("rec1"), None, None, None),
            reason(
                ReasonCode::SplitsIncomplete,
                rec("rec1"),
                work_item("wrk1"),
                None,
                None,
            ),
        ],
    );
    // Master splits are not needed for a cover, publishing splits are.
    let cover = world.decide(&request(UseType::Cover).recording("rec1"));
    assert_eq!(cover.reasons.len(), 1);
    assert_eq!(cover.reasons[0].item, work_item("wrk1"));

    // A recording linked to no work embodies a composition whose owners are unknown.
    let mut world = World::new();
    if let Some(r) = world.catalog.recordings.get_mut("rec2") {
        r.works.clear();
    }
    let d = world.decide(&request(UseType::Cover).recording("rec2"));
    assert_only(
        &d,
        &[reason(
            ReasonCode::SplitsIncomplete,
            rec("rec2"),
            None,
            None,
            None,
        )],
    );
}

fn model(uses: &[UseType], recordings: &[&str]) -> Model {
    Model {
        id: "mdl1".to_owned(),
        uses: uses.iter().copied().collect(),
        training: TrainingSet::Items {
            recordings: strings(recordings),
            works: Vec::new(),
        },
    }
}

#[test]
fn model_not_cleared() {
    let mut world = World::new();
    world
        .models
        .insert("mdl1".to_owned(), model(&[UseType::Remix], &["rec2"]));
    let req = request(UseType::Remix).recording("rec1").model("mdl1");
    assert_allowed(&world.decide(&req));

    // Revoking train consent for a training item makes the model uncleared.
    world.set_choice("writer2", UseType::Train, Some(Choice::Deny));
    let d = world.decide(&req);
    assert_only(
        &d,
        &[Reason {
            code: ReasonCode::ModelNotCleared,
            input: Some(Input::Model("mdl1".to_owned())),
            item: Some(Item::Recording("rec2".to_owned())),
            party: None,
            agreement: None,
        }],
    );
    // The model's page explains why, item by item.
    let why = model_clearance(
        &world.models["mdl1"],
        t("US"),
        NOW,
        &world.catalog,
        &world.agreements,
        &world.people,
        &world.table,
    );
    assert_only(
        &why,
        &[reason(
            ReasonCode::ParticipationDenied,
            rec("rec2"),
            work_item("wrk2"),
            Some("writer2"),
            None,
        )],
    );

    // Owners too: a revoked agreement of a training item's label.
    let mut world = World::new();
    world.models.insert(
        "mdl1".to_owned(),
        model(&[UseType::Remix], &["rec2", "nope"]),
    );
    assert!(world.agreements.revoke("agr_label2", NOW));
    let d = world.decide(&req);
    let items: Vec<_> = d.reasons.iter().map(|r| (r.code, r.item.clone())).collect();
    assert_eq!(
        items,
        [
            (
                ReasonCode::ModelNotCleared,
                Some(Item::Recording("rec2".to_owned()))
            ),
            (
                ReasonCode::ModelNotCleared,
                Some(Item::Recording("nope".to_owned()))
            ),
        ]
    );

    // A model declaring no catalog training data is cleared.
    let mut clean = model(&[UseType::Remix], &[]);
    clean.training = TrainingSet::NoCatalogItems;
    world.models.insert("mdl1".to_owned(), clean);
    assert_allowed(&world.decide(&req));
}

#[test]
fn model_use_unsupported() {
    let mut world = World::new();
    world
        .models
        .insert("mdl1".to_owned(), model(&[UseType::Cover], &[]));
    let d = world.decide(&request(UseType::Remix).recording("rec1").model("mdl1"));
    assert_only(
        &d,
        &[Reason {
            code: ReasonCode::ModelUseUnsupported,
            input: Some(Input::Model("mdl1".to_owned())),
            item: None,
            party: None,
            agreement: None,
        }],
    );
}

#[test]
fn input_not_found() {
    let mut world = World::new();
    if let Some(r) = world.catalog.recordings.get_mut("rec2") {
        r.works.push("wrk_gone".into());
    }
    let req = request(UseType::Voice)
        .artist("nobody")
        .recording("rec_gone")
        .recording("rec2")
        .work("wrk_gone")
        .model("mdl_gone");
    let d = world.decide(&req);
    assert_only(
        &d,
        &[
            reason(ReasonCode::InputNotFound, rec("rec_gone"), None, None, None),
            reason(
                ReasonCode::InputNotFound,
                rec("rec2"),
                work_item("wrk_gone"),
                None,
                None,
            ),
            reason(
                ReasonCode::InputNotFound,
                Input::Work("wrk_gone".to_owned()),
                None,
                None,
                None,
            ),
            reason(
                ReasonCode::InputNotFound,
                Input::Artist("nobody".to_owned()),
                None,
                None,
                None,
            ),
            reason(
                ReasonCode::InputNotFound,
                Input::Model("mdl_gone".to_owned()),
                None,
                None,
                None,
            ),
        ],
    );
}

#[test]
fn input_missing() {
    let world = World::new();
    let missing = Reason {
        code: ReasonCode::InputMissing,
        input: None,
        item: None,
        party: None,
        agreement: None,
    };
    // A mashup needs two distinct recordings; a repeat does not count twice.
    let one = request(UseType::Mashup).recording("rec1").recording("rec1");
    assert_only(&world.decide(&one), std::slice::from_ref(&missing));
    // A voice use needs the voiced artist.
    let voice = request(UseType::Voice).work("wrk1");
    assert_only(&world.decide(&voice), std::slice::from_ref(&missing));
    // Nothing to remix.
    assert_only(
        &world.decide(&request(UseType::Remix)),
        std::slice::from_ref(&missing),
    );
}

// ---- approvals, and every reason at once ----

#[test]
fn approvals_from_agreements_and_participation_each_once() {
    let mut world = World::new();
    world.set_agreement("pub1", |a| a.requires_approval = true);
    world.set_choice("artist1", UseType::Mashup, Some(Choice::Approve));
    // artist1 is also a main artist of rec2, and pub1 also publishes wrk2.
    if let Some(r) = world.catalog.recordings.get_mut("rec2") {
        r.main_artists.push("artist1".into());
    }
    if let Some(w) = world.catalog.works.get_mut("wrk2") {
        w.publishing_splits = Some(
            Splits::new(vec![
                ("pub2".into(), Share::from_ppm(500_000).expect("share")),
                ("pub1".into(), Share::from_ppm(500_000).expect("share")),
            ])
            .expect("splits"),
        );
    }
    let d = world.decide(&request(UseType::Mashup).recording("rec1").recording("rec2"));
    assert_allowed(&d);
    assert_eq!(d.approvals_required, strings(&["artist1", "pub1"]));
}

#[test]
fn every_reason_is_reported_and_a_no_wins() {
    let mut world = World::new().without("label2");
    world.set_choice("artist1", UseType::Mashup, Some(Choice::Deny));
    world.set_choice("writer2", UseType::Mashup, Some(Choice::Approve));
    let d = world.decide(&request(UseType::Mashup).recording("rec1").recording("rec2"));
    assert!(!d.allowed);
    let codes: Vec<_> = d
        .reasons
        .iter()
        .map(|r| (r.code, r.party.as_deref()))
        .collect();
    assert_eq!(
        codes,
        [
            (ReasonCode::ParticipationDenied, Some("artist1")),
            (ReasonCode::NoAgreement, Some("label2")),
        ]
    );
    assert_eq!(d.approvals_required, strings(&["writer2"]));
}

// ---- agreements as data ----

#[test]
fn agreement_validation() {
    let ok = open_agreement("a", "label1");
    assert_eq!(ok.validate(), Ok(()));
    let bad = |change: fn(&mut Agreement)| {
        let mut a = open_agreement("a", "label1");
        change(&mut a);
        a.validate()
    };
    assert_eq!(bad(|a| a.uses.clear()), Err(AgreementError::EmptyUses));
    assert_eq!(
        bad(|a| a.ends_at_ms = Some(0)),
        Err(AgreementError::EmptyWindow {
            starts_at_ms: 0,
            ends_at_ms: 0
        })
    );
    assert_eq!(
        bad(|a| a.scope = Scope::Works(BTreeSet::new())),
        Err(AgreementError::EmptyScope)
    );
    assert_eq!(
        bad(|a| a.territories = Territories::List(BTreeSet::new())),
        Err(AgreementError::EmptyTerritories)
    );
    let negative = UseRates {
        creation_fee: Money::new(-1, Currency::USD),
        per_stream: Money::new(0, Currency::USD),
    };
    let mut a = open_agreement("a", "label1");
    a.rates.insert(UseType::Remix, negative);
    assert_eq!(
        a.validate(),
        Err(AgreementError::NegativeRate {
            use_type: UseType::Remix
        })
    );
    assert_eq!(
        AgreementError::EmptyUses.to_string(),
        "uses must list at least one use type"
    );
}

#[test]
fn agreement_index_replaces_by_id() {
    let mut index = AgreementIndex::new();
    index.insert(open_agreement("a", "label1"));
    index.insert(open_agreement("a", "label2"));
    assert_eq!(index.len(), 1);
    assert_eq!(index.get("a").map(|a| a.licensor.as_str()), Some("label2"));
    assert!(encore_core::rights::AgreementView::by_licensor(&index, "label1").is_empty());
    assert!(index.remove("a").is_some());
    assert!(index.is_empty());
}

#[test]
fn works_through_trait_objects() {
    let world = World::new();
    let catalog: &dyn encore_core::rights::CatalogView = &world.catalog;
    let agreements: &dyn encore_core::rights::AgreementView = &world.agreements;
    let d = decide(
        &request(UseType::Cover).work("wrk1"),
        catalog,
        agreements,
        &world.people,
        &world.table,
        &(),
    );
    assert_allowed(&d);
}
