//! encore's rights rules as [Cedar](https://www.cedarpolicy.com) policies, to check
//! `encore_core::rights::decide` against an independent engine (issue 3) and to compare speed.
//!
//! Not used by the service: the `encore-core` engine decides; this crate answers the same
//! question (allowed or not; no reasons, no approvals) through the `cedar-policy` crate.
//!
//! # Mapping
//!
//! The policies are `src/rights.cedar` (read it: its header lists every entity type and
//! attribute). The use table becomes data: one `Use` entity per row of the [`UseTable`]
//! given to [`CedarRights::new`] (`master_owners`, `publishing_owners`, `writers`, `artists`,
//! `min_inputs`), which the policies read; nothing about the default table is written into
//! the policies. Recordings, works, agreements, participation (one `Participation` entity
//! per person and use, its overrides as sets of items answered yes and no) and models become
//! entities whose attributes copy encore's data.
//!
//! Cedar has no quantifiers ("every owner must hold some agreement"), so one decision is a
//! set of Cedar authorizations, and the translator combines their answers:
//!
//! - **all of** the questions below must be allowed;
//! - an owner's question is asked once without an agreement (allowed exactly when the use
//!   table does not need that owner) and once per candidate agreement of that owner for
//!   that item (the view's `for_recording`/`for_work`), and is allowed when **any** is.
//!
//! The questions (principal, action, resource):
//!
//! | action | asked for | Cedar decides |
//! |---|---|---|
//! | `request` | the request, resource the `Use` | enough distinct inputs; a voiced artist named and existing |
//! | `model` | a named model | it exists and supports the use |
//! | `recording` | each recording input, each training recording (use `train`) | it exists; master splits known, at least one work, when needed |
//! | `work` | each work input, each work linked to a recording asked about (`via`) | it exists; publishing splits known when needed; linked works only when needed |
//! | `master_owner` | each owner in each known recording's master splits | needed at all; else the agreement's licensor, scope, status and revocation, window, uses, territory (`WW` needs the whole world) |
//! | `publishing_owner` | each owner in each known work's publishing splits | the same for publishing |
//! | `main_artist` | each main artist of each known recording | needed at all; the default, overrides for the recording or its works (a deny override forbids) |
//! | `writer` | each writer of each known work, with the recording it was reached through | the same, overrides for the work or that recording |
//! | `voiced_artist` | the request's artist, per recording and work input (or once, without items) | the same |
//!
//! What the translator does, beyond copying data into entities: it removes repeated inputs
//! and counts them, walks from each item to the owners and people attached to it (all of
//! them, whatever the use; the policies decide who is needed), picks the candidate
//! agreements of each owner and the `Participation` entity of the person for the use (the
//! policies check that they belong to the principal and use), walks a named model's
//! training items (for `train`) when the model exists, and combines answers as above. It
//! never evaluates the use table, a status, a window, a scope, a territory or an override:
//! those are attributes the policies read. The one simplification in copying is that
//! `allow` and `approve` both become "yes" (both let the use go ahead; approvals are not
//! modelled). Questions not about a party have the principal `Requester::"request"`.
//!
//! A policy evaluation error is reported as an [`Error`] rather than read as a denial, so a
//! modelling mistake cannot hide behind default-deny.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, RestrictedExpression,
};
use encore_core::UseType;
use encore_core::rights::{
    AgreementStatus, AgreementView, ArtistRule, CatalogView, Choice, ModelView, ParticipationView,
    Scope, Territories, TrainingSet, UseRequest, UseTable,
};

/// The policies, in Cedar's language.
pub const POLICIES: &str = include_str!("rights.cedar");

/// Why a decision could not be made through Cedar (always a bug in this crate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn err(what: &str, e: impl fmt::Display) -> Error {
    Error(format!("{what}: {e}"))
}

/// Entity type names, parsed once.
#[derive(Clone, Debug)]
struct Types {
    action: EntityTypeName,
    use_: EntityTypeName,
    party: EntityTypeName,
    recording: EntityTypeName,
    work: EntityTypeName,
    agreement: EntityTypeName,
    participation: EntityTypeName,
    model: EntityTypeName,
    requester: EntityTypeName,
}

impl Types {
    fn new() -> Result<Self, Error> {
        let t = |name: &str| EntityTypeName::from_str(name).map_err(|e| err(name, e));
        Ok(Self {
            action: t("Action")?,
            use_: t("Use")?,
            party: t("Party")?,
            recording: t("Recording")?,
            work: t("Work")?,
            agreement: t("Agreement")?,
            participation: t("Participation")?,
            model: t("Model")?,
            requester: t("Requester")?,
        })
    }
}

fn uid(ty: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
}

/// The actions the policies know, one per kind of question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Request,
    Model,
    Recording,
    Work,
    MasterOwner,
    PublishingOwner,
    MainArtist,
    Writer,
    VoicedArtist,
}

impl Action {
    const ALL: [Self; 9] = [
        Self::Request,
        Self::Model,
        Self::Recording,
        Self::Work,
        Self::MasterOwner,
        Self::PublishingOwner,
        Self::MainArtist,
        Self::Writer,
        Self::VoicedArtist,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Model => "model",
            Self::Recording => "recording",
            Self::Work => "work",
            Self::MasterOwner => "master_owner",
            Self::PublishingOwner => "publishing_owner",
            Self::MainArtist => "main_artist",
            Self::Writer => "writer",
            Self::VoicedArtist => "voiced_artist",
        }
    }
}

/// encore's rules as a Cedar policy set, with the use table as `Use` entities.
pub struct CedarRights {
    policies: PolicySet,
    authorizer: Authorizer,
    types: Types,
    actions: Vec<EntityUid>,
    /// The `Use` entity of each row of the table, by `UseType as usize`.
    uses: Vec<Entity>,
}

impl fmt::Debug for CedarRights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CedarRights").finish_non_exhaustive()
    }
}

impl CedarRights {
    /// Parses the policies and translates `table` into `Use` entities.
    pub fn new(table: &UseTable) -> Result<Self, Error> {
        let policies = PolicySet::from_str(POLICIES).map_err(|e| err("policies", e))?;
        let types = Types::new()?;
        let actions = Action::ALL
            .iter()
            .map(|a| uid(&types.action, a.name()))
            .collect();
        let mut uses = Vec::with_capacity(UseType::ALL.len());
        for (use_type, rule) in table.rows() {
            let artists = match rule.artists {
                ArtistRule::NotRequired => "none",
                ArtistRule::MainArtists => "main",
                ArtistRule::VoicedArtist => "voiced",
            };
            let attrs = HashMap::from([
                attr_bool("master_owners", rule.master_owners),
                attr_bool("publishing_owners", rule.publishing_owners),
                attr_bool("writers", rule.writers),
                attr_str("artists", artists),
                (
                    "min_inputs".to_owned(),
                    RestrictedExpression::new_long(i64::from(rule.min_inputs)),
                ),
            ]);
            let entity = Entity::new(uid(&types.use_, use_type.as_str()), attrs, HashSet::new())
                .map_err(|e| err("use entity", e))?;
            uses.push(entity);
        }
        Ok(Self {
            policies,
            authorizer: Authorizer::new(),
            types,
            actions,
            uses,
        })
    }

    /// Decides `request` through Cedar: entities built, then every question asked.
    pub fn decide(
        &self,
        request: &UseRequest,
        catalog: &(impl CatalogView + ?Sized),
        agreements: &(impl AgreementView + ?Sized),
        participation: &(impl ParticipationView + ?Sized),
        models: &(impl ModelView + ?Sized),
    ) -> Result<bool, Error> {
        self.prepare(request, catalog, agreements, participation, models)?
            .authorize(self)
    }

    /// Translates `request` and the parts of the world it touches into Cedar entities and
    /// requests, to be authorized with [`Prepared::authorize`].
    pub fn prepare(
        &self,
        request: &UseRequest,
        catalog: &(impl CatalogView + ?Sized),
        agreements: &(impl AgreementView + ?Sized),
        participation: &(impl ParticipationView + ?Sized),
        models: &(impl ModelView + ?Sized),
    ) -> Result<Prepared, Error> {
        let mut p = Planner {
            rights: self,
            catalog,
            agreements,
            participation,
            territory: request.territory.as_str(),
            at_ms: request.at_ms,
            entities: HashMap::new(),
            groups: Vec::new(),
        };
        p.plan(request, models)?;
        let entities = Entities::from_entities(p.entities.into_values(), None)
            .map_err(|e| err("entities", e))?;
        Ok(Prepared {
            entities,
            groups: p.groups,
        })
    }
}

/// One decision translated: the entities and the questions, grouped.
#[derive(Debug)]
pub struct Prepared {
    entities: Entities,
    /// Every group must have an allowed request; within a group one suffices.
    groups: Vec<Vec<Request>>,
}

impl Prepared {
    /// Number of groups (consents and checks) and of Cedar requests in them.
    pub fn size(&self) -> (usize, usize) {
        (self.groups.len(), self.groups.iter().map(Vec::len).sum())
    }

    /// Asks Cedar every question; allowed when each group has an allowed request.
    pub fn authorize(&self, rights: &CedarRights) -> Result<bool, Error> {
        for group in &self.groups {
            let mut allowed = false;
            for request in group {
                let response =
                    rights
                        .authorizer
                        .is_authorized(request, &rights.policies, &self.entities);
                if let Some(e) = response.diagnostics().errors().next() {
                    return Err(err("policy evaluation", e));
                }
                if response.decision() == Decision::Allow {
                    allowed = true;
                    break;
                }
            }
            if !allowed {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn attr_bool(name: &str, value: bool) -> (String, RestrictedExpression) {
    (name.to_owned(), RestrictedExpression::new_bool(value))
}

fn attr_str(name: &str, value: &str) -> (String, RestrictedExpression) {
    (
        name.to_owned(),
        RestrictedExpression::new_string(value.to_owned()),
    )
}

fn attr_uid(name: &str, value: EntityUid) -> (String, RestrictedExpression) {
    (name.to_owned(), RestrictedExpression::new_entity_uid(value))
}

fn attr_set<'a, S: AsRef<str> + 'a>(
    name: &str,
    ty: &EntityTypeName,
    ids: impl IntoIterator<Item = &'a S>,
) -> (String, RestrictedExpression) {
    let set = RestrictedExpression::new_set(
        ids.into_iter()
            .map(|id| RestrictedExpression::new_entity_uid(uid(ty, id.as_ref()))),
    );
    (name.to_owned(), set)
}

/// The items without repeats, first kept.
fn distinct<T: PartialEq>(items: &[T]) -> impl Iterator<Item = &T> {
    items
        .iter()
        .enumerate()
        .filter(move |(i, x)| !items[..*i].contains(x))
        .map(|(_, x)| x)
}

/// Walks one request, collecting entities and questions.
struct Planner<'a, C: ?Sized, A: ?Sized, P: ?Sized> {
    rights: &'a CedarRights,
    catalog: &'a C,
    agreements: &'a A,
    participation: &'a P,
    territory: &'a str,
    at_ms: i64,
    entities: HashMap<EntityUid, Entity>,
    groups: Vec<Vec<Request>>,
}

impl<C, A, P> Planner<'_, C, A, P>
where
    C: CatalogView + ?Sized,
    A: AgreementView + ?Sized,
    P: ParticipationView + ?Sized,
{
    fn types(&self) -> &Types {
        &self.rights.types
    }

    fn plan(
        &mut self,
        request: &UseRequest,
        models: &(impl ModelView + ?Sized),
    ) -> Result<(), Error> {
        let use_type = request.use_type;
        self.add_use(use_type);
        let inputs = distinct(&request.recordings).count() + distinct(&request.works).count();
        let mut extra = vec![(
            "inputs".to_owned(),
            RestrictedExpression::new_long(i64::try_from(inputs).unwrap_or(i64::MAX)),
        )];
        if let Some(artist) = &request.artist {
            let party = uid(&self.types().party, artist);
            self.add_party(artist, party.clone())?;
            extra.push(attr_uid("artist", party));
        }
        let use_uid = uid(&self.types().use_, use_type.as_str());
        let requester = uid(&self.types().requester, "request");
        self.ask(Action::Request, requester.clone(), use_uid, use_type, extra)?;

        for r in distinct(&request.recordings) {
            self.recording(r, use_type)?;
        }
        for w in distinct(&request.works) {
            self.work(w, None, use_type)?;
        }
        if let Some(artist) = &request.artist {
            let party = uid(&self.types().party, artist);
            let mut performed = false;
            for r in distinct(&request.recordings) {
                performed = true;
                let resource = uid(&self.types().recording, r);
                self.person(Action::VoicedArtist, artist, resource, None, use_type)?;
            }
            for w in distinct(&request.works) {
                performed = true;
                let resource = uid(&self.types().work, w);
                self.person(Action::VoicedArtist, artist, resource, None, use_type)?;
            }
            if !performed {
                self.person(Action::VoicedArtist, artist, party, None, use_type)?;
            }
        }
        if let Some(m) = &request.model {
            let model = models.model(m);
            let resource = uid(&self.types().model, m);
            let attrs = HashMap::from([
                attr_bool("known", model.is_some()),
                (
                    "uses".to_owned(),
                    RestrictedExpression::new_set(model.into_iter().flat_map(|m| &m.uses).map(
                        |u| {
                            RestrictedExpression::new_entity_uid(uid(
                                &self.types().use_,
                                u.as_str(),
                            ))
                        },
                    )),
                ),
            ]);
            self.add(resource.clone(), attrs)?;
            self.ask(Action::Model, requester, resource, use_type, Vec::new())?;
            if let Some(model) = model
                && let TrainingSet::Items { recordings, works } = &model.training
            {
                self.add_use(UseType::Train);
                for r in distinct(recordings) {
                    self.recording(r, UseType::Train)?;
                }
                for w in distinct(works) {
                    self.work(w, None, UseType::Train)?;
                }
            }
        }
        Ok(())
    }

    fn add_use(&mut self, use_type: UseType) {
        let entity = &self.rights.uses[use_type as usize];
        self.entities
            .entry(entity.uid())
            .or_insert_with(|| entity.clone());
    }

    fn add_party(&mut self, id: &str, party: EntityUid) -> Result<(), Error> {
        let known = self.catalog.party_kind(id).is_some();
        self.add(party, HashMap::from([attr_bool("known", known)]))
    }

    fn add(
        &mut self,
        id: EntityUid,
        attrs: HashMap<String, RestrictedExpression>,
    ) -> Result<(), Error> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.entities.entry(id) {
            let entity = Entity::new(slot.key().clone(), attrs, HashSet::new())
                .map_err(|e| err("entity", e))?;
            slot.insert(entity);
        }
        Ok(())
    }

    /// One question, alone in its group.
    fn ask(
        &mut self,
        action: Action,
        principal: EntityUid,
        resource: EntityUid,
        use_type: UseType,
        extra: Vec<(String, RestrictedExpression)>,
    ) -> Result<(), Error> {
        let request = self.request(action, principal, resource, use_type, extra)?;
        self.groups.push(vec![request]);
        Ok(())
    }

    fn request(
        &self,
        action: Action,
        principal: EntityUid,
        resource: EntityUid,
        use_type: UseType,
        extra: Vec<(String, RestrictedExpression)>,
    ) -> Result<Request, Error> {
        let context = Context::from_pairs(
            [
                attr_uid("use", uid(&self.types().use_, use_type.as_str())),
                attr_str("territory", self.territory),
                ("at".to_owned(), RestrictedExpression::new_long(self.at_ms)),
            ]
            .into_iter()
            .chain(extra),
        )
        .map_err(|e| err("context", e))?;
        let action = self.rights.actions[action as usize].clone();
        Request::new(principal, action, resource, context, None).map_err(|e| err("request", e))
    }

    /// A recording (an input or a training item), its owners, artists and linked works.
    fn recording(&mut self, r: &str, use_type: UseType) -> Result<(), Error> {
        let resource = uid(&self.types().recording, r);
        let rec = self.catalog.recording(r);
        let empty = Vec::new();
        let attrs = HashMap::from([
            attr_bool("known", rec.is_some()),
            attr_bool(
                "master_known",
                rec.is_some_and(|rec| rec.master_splits.is_some()),
            ),
            attr_set(
                "master_owners",
                &self.types().party,
                rec.and_then(|rec| rec.master_splits.as_ref())
                    .into_iter()
                    .flat_map(|s| s.entries().iter().map(|(p, _)| p)),
            ),
            attr_set(
                "main_artists",
                &self.types().party,
                rec.map_or(&empty, |rec| &rec.main_artists),
            ),
            attr_set(
                "works",
                &self.types().work,
                rec.map_or(&empty, |rec| &rec.works),
            ),
        ]);
        self.add(resource.clone(), attrs)?;
        let requester = uid(&self.types().requester, "request");
        self.ask(
            Action::Recording,
            requester,
            resource.clone(),
            use_type,
            Vec::new(),
        )?;
        let Some(rec) = rec else {
            return Ok(());
        };
        if let Some(splits) = &rec.master_splits {
            for (owner, _) in splits.entries() {
                let candidates: Vec<_> = self.agreements.for_recording(owner, r).collect();
                self.owner(
                    Action::MasterOwner,
                    owner,
                    resource.clone(),
                    candidates,
                    use_type,
                )?;
            }
        }
        for artist in distinct(&rec.main_artists) {
            self.person(Action::MainArtist, artist, resource.clone(), None, use_type)?;
        }
        for w in distinct(&rec.works) {
            self.work(w, Some(r), use_type)?;
        }
        Ok(())
    }

    /// A work (an input, a training item, or linked to recording `via`), owners and writers.
    fn work(&mut self, w: &str, via: Option<&str>, use_type: UseType) -> Result<(), Error> {
        let resource = uid(&self.types().work, w);
        let work = self.catalog.work(w);
        let empty = Vec::new();
        let attrs = HashMap::from([
            attr_bool("known", work.is_some()),
            attr_bool(
                "publishing_known",
                work.is_some_and(|work| work.publishing_splits.is_some()),
            ),
            attr_set(
                "publishing_owners",
                &self.types().party,
                work.and_then(|work| work.publishing_splits.as_ref())
                    .into_iter()
                    .flat_map(|s| s.entries().iter().map(|(p, _)| p)),
            ),
            attr_set(
                "writers",
                &self.types().party,
                work.map_or(&empty, |work| &work.writers),
            ),
        ]);
        self.add(resource.clone(), attrs)?;
        let requester = uid(&self.types().requester, "request");
        let via_set = ("via".to_owned(), self.via(via));
        self.ask(
            Action::Work,
            requester,
            resource.clone(),
            use_type,
            vec![via_set],
        )?;
        let Some(work) = work else {
            return Ok(());
        };
        if let Some(splits) = &work.publishing_splits {
            for (owner, _) in splits.entries() {
                let candidates: Vec<_> = self.agreements.for_work(owner, w).collect();
                self.owner(
                    Action::PublishingOwner,
                    owner,
                    resource.clone(),
                    candidates,
                    use_type,
                )?;
            }
        }
        for writer in distinct(&work.writers) {
            self.person(Action::Writer, writer, resource.clone(), via, use_type)?;
        }
        Ok(())
    }

    fn via(&self, via: Option<&str>) -> RestrictedExpression {
        RestrictedExpression::new_set(
            via.map(|r| RestrictedExpression::new_entity_uid(uid(&self.types().recording, r))),
        )
    }

    /// An owner's consent: without an agreement, then with each candidate; any one suffices.
    fn owner(
        &mut self,
        action: Action,
        owner: &str,
        resource: EntityUid,
        candidates: Vec<&encore_core::rights::Agreement>,
        use_type: UseType,
    ) -> Result<(), Error> {
        let principal = uid(&self.types().party, owner);
        let mut group = Vec::with_capacity(1 + candidates.len());
        group.push(self.request(
            action,
            principal.clone(),
            resource.clone(),
            use_type,
            Vec::new(),
        )?);
        for a in candidates {
            let agreement = uid(&self.types().agreement, &a.id);
            self.add_agreement(agreement.clone(), a)?;
            group.push(self.request(
                action,
                principal.clone(),
                resource.clone(),
                use_type,
                vec![attr_uid("agreement", agreement)],
            )?);
        }
        self.groups.push(group);
        Ok(())
    }

    fn add_agreement(
        &mut self,
        id: EntityUid,
        a: &encore_core::rights::Agreement,
    ) -> Result<(), Error> {
        if self.entities.contains_key(&id) {
            return Ok(());
        }
        let types = self.types();
        let (status, revoked_at) = match a.status {
            AgreementStatus::Proposed => ("proposed", 0),
            AgreementStatus::Accepted => ("accepted", 0),
            AgreementStatus::Revoked { at_ms } => ("revoked", at_ms),
        };
        let (world, territories) = match &a.territories {
            Territories::List(list) => (false, list),
            Territories::World { excluding } => (true, excluding),
        };
        let no_items = std::collections::BTreeSet::new();
        let (scope, recordings, works) = match &a.scope {
            Scope::AllWhereLicensorHoldsShares => ("all", &no_items, &no_items),
            Scope::Recordings(set) => ("recordings", set, &no_items),
            Scope::Works(set) => ("works", &no_items, set),
        };
        let attrs =
            HashMap::from([
                attr_uid("licensor", uid(&types.party, &a.licensor)),
                attr_str("status", status),
                (
                    "revoked_at".to_owned(),
                    RestrictedExpression::new_long(revoked_at),
                ),
                (
                    "starts_at".to_owned(),
                    RestrictedExpression::new_long(a.starts_at_ms),
                ),
                attr_bool("has_end", a.ends_at_ms.is_some()),
                (
                    "ends_at".to_owned(),
                    RestrictedExpression::new_long(a.ends_at_ms.unwrap_or(0)),
                ),
                (
                    "uses".to_owned(),
                    RestrictedExpression::new_set(a.uses.iter().map(|u| {
                        RestrictedExpression::new_entity_uid(uid(&types.use_, u.as_str()))
                    })),
                ),
                attr_bool("world", world),
                (
                    "territories".to_owned(),
                    RestrictedExpression::new_set(
                        territories
                            .iter()
                            .map(|t| RestrictedExpression::new_string(t.as_str().to_owned())),
                    ),
                ),
                attr_str("scope", scope),
                attr_set("recordings", &types.recording, recordings),
                attr_set("works", &types.work, works),
            ]);
        self.add(id, attrs)
    }

    /// A person's participation for `use_type`, about `resource` reached through `via`.
    fn person(
        &mut self,
        action: Action,
        person: &str,
        resource: EntityUid,
        via: Option<&str>,
        use_type: UseType,
    ) -> Result<(), Error> {
        let principal = uid(&self.types().party, person);
        let participation = uid(
            &self.types().participation,
            &format!("{person}/{}", use_type.as_str()),
        );
        if !self.entities.contains_key(&participation) {
            let answers = self
                .participation
                .participation(person)
                .map(|p| p.for_use(use_type));
            let no_overrides = BTreeMap::new();
            let (default, recordings, works) = match answers {
                Some(u) => (u.default, &u.recordings, &u.works),
                None => (None, &no_overrides, &no_overrides),
            };
            let yes = |c: &Choice| matches!(c, Choice::Allow | Choice::Approve);
            let types = self.types();
            let attrs = HashMap::from([
                attr_uid("person", principal.clone()),
                attr_uid("use", uid(&types.use_, use_type.as_str())),
                attr_bool("default_yes", default.as_ref().is_some_and(yes)),
                attr_set(
                    "yes_recordings",
                    &types.recording,
                    recordings.iter().filter(|(_, c)| yes(c)).map(|(r, _)| r),
                ),
                attr_set(
                    "deny_recordings",
                    &types.recording,
                    recordings.iter().filter(|(_, c)| !yes(c)).map(|(r, _)| r),
                ),
                attr_set(
                    "yes_works",
                    &types.work,
                    works.iter().filter(|(_, c)| yes(c)).map(|(w, _)| w),
                ),
                attr_set(
                    "deny_works",
                    &types.work,
                    works.iter().filter(|(_, c)| !yes(c)).map(|(w, _)| w),
                ),
            ]);
            self.add(participation.clone(), attrs)?;
        }
        let extra = vec![
            attr_uid("participation", participation),
            ("via".to_owned(), self.via(via)),
        ];
        self.ask(action, principal, resource, use_type, extra)
    }
}
