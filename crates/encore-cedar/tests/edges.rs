//! Hand-picked edges the random worlds reach rarely, asked of both engines.

use std::collections::{BTreeSet, HashMap};

use encore_cedar::CedarRights;
use encore_core::rights::{
    Agreement, AgreementIndex, AgreementStatus, Choice, MemoryCatalog, Model, OnRevocation,
    Participation, RecordingRights, Scope, Territories, UseRequest, UseTable, WorkRights, decide,
};
use encore_core::{PartyKind, Share, Splits, Territory, UseType};

fn world() -> (MemoryCatalog, HashMap<String, Participation>) {
    let mut catalog = MemoryCatalog::default();
    catalog
        .parties
        .insert("label".into(), PartyKind::Organisation);
    catalog.parties.insert("ann".into(), PartyKind::Person);
    let owner = || Some(Splits::new(vec![("label".into(), Share::FULL)]).expect("splits"));
    catalog.works.insert(
        "w".into(),
        WorkRights {
            publishing_splits: owner(),
            writers: vec!["ann".into()],
        },
    );
    catalog.recordings.insert(
        "r".into(),
        RecordingRights {
            master_splits: owner(),
            main_artists: vec!["ann".into()],
            works: vec!["w".into()],
        },
    );
    let everything = UseType::ALL
        .into_iter()
        .fold(Participation::new(), |p, u| p.with(u, Choice::Allow));
    (catalog, HashMap::from([("ann".to_owned(), everything)]))
}

fn agreement(ends_at_ms: Option<i64>, territories: Territories) -> Agreement {
    Agreement {
        id: "a".into(),
        licensor: "label".into(),
        scope: Scope::AllWhereLicensorHoldsShares,
        uses: UseType::ALL.into_iter().collect(),
        territories,
        starts_at_ms: 0,
        ends_at_ms,
        status: AgreementStatus::Accepted,
        requires_approval: false,
        rates: Default::default(),
        on_revocation: OnRevocation::Keep,
    }
}

/// Both engines' answers for a remix of `r` at `at_ms` in `territory`.
fn both(a: Agreement, territory: &str, at_ms: i64) -> (bool, bool) {
    let (catalog, participation) = world();
    let table = UseTable::default();
    let request = UseRequest::new(
        UseType::Remix,
        Territory::parse(territory).expect("territory"),
        at_ms,
    )
    .recording("r");
    let index: AgreementIndex = [a.clone()].into_iter().collect();
    let plain = HashMap::from([(a.licensor.clone(), vec![a])]);
    let models: HashMap<String, Model> = HashMap::new();
    let encore = decide(&request, &catalog, &index, &participation, &table, &models).allowed;
    let cedar = CedarRights::new(&table)
        .and_then(|c| c.decide(&request, &catalog, &plain, &participation, &models))
        .expect("cedar decides");
    (encore, cedar)
}

#[test]
fn world_wide_requests_need_the_whole_world() {
    let world = |ex: &[&str]| Territories::World {
        excluding: ex
            .iter()
            .map(|t| Territory::parse(t).expect("t"))
            .collect::<BTreeSet<_>>(),
    };
    assert_eq!(both(agreement(None, world(&[])), "WW", 1), (true, true));
    assert_eq!(
        both(agreement(None, world(&["US"])), "WW", 1),
        (false, false)
    );
    assert_eq!(both(agreement(None, world(&["US"])), "GB", 1), (true, true));
    let list = Territories::List([Territory::world()].into_iter().collect());
    assert_eq!(both(agreement(None, list), "WW", 1), (true, true));
}

#[test]
fn window_end_is_exclusive() {
    let everywhere = || Territories::World {
        excluding: BTreeSet::new(),
    };
    assert_eq!(
        both(agreement(Some(10), everywhere()), "US", 9),
        (true, true)
    );
    assert_eq!(
        both(agreement(Some(10), everywhere()), "US", 10),
        (false, false)
    );
}

/// An open-ended agreement licenses at every later time, the last representable one too.
#[test]
fn open_ended_agreements_have_no_end() {
    let everywhere = Territories::World {
        excluding: BTreeSet::new(),
    };
    assert_eq!(
        both(agreement(None, everywhere), "US", i64::MAX),
        (true, true)
    );
}
