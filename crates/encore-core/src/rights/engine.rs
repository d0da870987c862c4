//! The decision procedure. Reasons are built only on the denial path, and only when a full
//! explanation is wanted, so an allowed decision with no approvals allocates nothing.

use std::slice;

use super::agreement::{Failures, ItemRef};
use super::{
    AgreementView, ArtistRule, CatalogView, Choice, Decision, Input, Item, Key, Model, ModelView,
    ParticipationView, PartyId, Reason, ReasonCode, TrainingSet, UseRequest, UseRule, UseTable,
};
use super::{Candidates, Participation, RecordingRights, WorkRights};
use crate::{Splits, Territory, UseType};

/// Decides whether `request` may go ahead, who must approve it, and every reason if not.
// Every party the table requires for every input is checked: owners through accepted,
// in-scope, in-window, in-territory agreements licensing the use (any one suffices), people
// through participation. A named model must support the use and be cleared: each item of its
// training set is judged for `train` at the request's time and territory, so a revocation
// makes the model uncleared at once, with no cached state to invalidate.
pub fn decide(
    request: &UseRequest,
    catalog: &(impl CatalogView + ?Sized),
    agreements: &(impl AgreementView + ?Sized),
    participation: &(impl ParticipationView + ?Sized),
    table: &UseTable,
    models: &(impl ModelView + ?Sized),
) -> Decision {
    let rule = *table.rule(request.use_type);
    let judge = Judge {
        catalog,
        agreements,
        participation,
        rule,
        use_type: request.use_type,
        territory: request.territory,
        at_ms: request.at_ms,
    };
    judge.warm(&request.recordings, &request.works);
    let mut out = Out::explain();

    let inputs = distinct(&request.recordings).count() + distinct(&request.works).count();
    if inputs < usize::from(rule.min_inputs) {
        out.deny(|| reason(ReasonCode::InputMissing, None, None, None, None));
    }
    for r in distinct(&request.recordings) {
        judge.recording(r, &mut out);
    }
    for w in distinct(&request.works) {
        judge.work(w, None, &mut out);
    }
    if rule.artists == ArtistRule::VoicedArtist {
        judge.voiced_artist(request, &mut out);
    }
    if let Some(m) = &request.model {
        let at = At::input(InputRef::Model(m));
        match models.model(m) {
            None => out.deny(|| at.reason(ReasonCode::InputNotFound, None, None)),
            Some(model) => {
                if !model.uses.contains(&request.use_type) {
                    out.deny(|| at.reason(ReasonCode::ModelUseUnsupported, None, None));
                }
                let train = judge.for_use(UseType::Train, table);
                train.training_items(model, |item, judged| {
                    if judged.failed {
                        let at = At {
                            input: InputRef::Model(m),
                            item: Some(item),
                        };
                        out.deny(|| at.reason(ReasonCode::ModelNotCleared, None, None));
                    }
                });
            }
        }
    }
    out.into_decision()
}

/// Explains a model's clearance: the `train` decision over its training set, items as inputs.
pub fn model_clearance(
    model: &Model,
    territory: Territory,
    at_ms: i64,
    catalog: &(impl CatalogView + ?Sized),
    agreements: &(impl AgreementView + ?Sized),
    participation: &(impl ParticipationView + ?Sized),
    table: &UseTable,
) -> Decision {
    let judge = Judge {
        catalog,
        agreements,
        participation,
        rule: *table.rule(UseType::Train),
        use_type: UseType::Train,
        territory,
        at_ms,
    };
    let mut out = Out::explain();
    if let TrainingSet::Items { recordings, works } = &model.training {
        for r in distinct(recordings) {
            judge.recording(r, &mut out);
        }
        for w in distinct(works) {
            judge.work(w, None, &mut out);
        }
    }
    out.into_decision()
}

/// The items without repeats, first kept: quadratic, but inputs are few and it never allocates.
fn distinct<T: PartialEq>(items: &[T]) -> impl Iterator<Item = &T> {
    items
        .iter()
        .enumerate()
        .filter(move |(i, x)| !items[..*i].contains(x))
        .map(|(_, x)| x)
}

/// Where the verdict goes: a full explanation, or (for training items) just pass/fail.
struct Out {
    explain: bool,
    failed: bool,
    reasons: Vec<Reason>,
    approvals: Vec<PartyId>,
}

impl Out {
    fn explain() -> Self {
        Self {
            explain: true,
            failed: false,
            reasons: Vec::new(),
            approvals: Vec::new(),
        }
    }

    fn check() -> Self {
        Self {
            explain: false,
            ..Self::explain()
        }
    }

    /// Records a denial; the reason is built only if it will be reported.
    fn deny(&mut self, make: impl FnOnce() -> Reason) {
        self.failed = true;
        if self.explain {
            self.reasons.push(make());
        }
    }

    fn approve(&mut self, party: &str) {
        if self.explain && !self.approvals.iter().any(|p| p == party) {
            self.approvals.push(party.to_owned());
        }
    }

    /// Whether the outcome is known and nothing more needs to be looked at.
    fn settled(&self) -> bool {
        self.failed && !self.explain
    }

    fn into_decision(self) -> Decision {
        Decision {
            allowed: !self.failed && self.reasons.is_empty(),
            approvals_required: self.approvals,
            reasons: self.reasons,
        }
    }
}

/// A request input, borrowed until a reason needs it owned.
#[derive(Clone, Copy)]
enum InputRef<'a> {
    Recording(&'a str),
    Work(&'a str),
    Artist(&'a str),
    Model(&'a str),
}

/// The input, and item within it, that a check concerns.
#[derive(Clone, Copy)]
struct At<'a> {
    input: InputRef<'a>,
    item: Option<ItemRef<'a>>,
}

impl<'a> At<'a> {
    fn input(input: InputRef<'a>) -> Self {
        Self { input, item: None }
    }

    fn reason(&self, code: ReasonCode, party: Option<&str>, agreement: Option<&str>) -> Reason {
        let input = match self.input {
            InputRef::Recording(id) => Input::Recording(id.to_owned()),
            InputRef::Work(id) => Input::Work(id.to_owned()),
            InputRef::Artist(id) => Input::Artist(id.to_owned()),
            InputRef::Model(id) => Input::Model(id.to_owned()),
        };
        let item = self.item.map(|item| match item {
            ItemRef::Recording(id) => Item::Recording(id.to_owned()),
            ItemRef::Work(id) => Item::Work(id.to_owned()),
        });
        reason(code, Some(input), item, party, agreement)
    }
}

fn reason(
    code: ReasonCode,
    input: Option<Input>,
    item: Option<Item>,
    party: Option<&str>,
    agreement: Option<&str>,
) -> Reason {
    Reason {
        code,
        input,
        item,
        party: party.map(str::to_owned),
        agreement: agreement.map(str::to_owned),
    }
}

/// How many inputs, and how many works linked to them, [`Judge::warm`] reads ahead.
const WARM: usize = 8;
/// How many owners' agreement lists, and people's choices, [`Judge::warm`] reads ahead.
const WARM_LOOKUPS: usize = 32;

/// A few things to read ahead, on the stack; what does not fit is left out.
struct Ahead<T, const N: usize> {
    items: [Option<T>; N],
    len: usize,
}

impl<T, const N: usize> Ahead<T, N> {
    fn new() -> Self {
        Self {
            items: [const { None }; N],
            len: 0,
        }
    }

    fn push(&mut self, item: T) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = Some(item);
            self.len += 1;
        }
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.items[..self.len].iter().flatten()
    }
}

/// Everything one decision reads, fixed for its duration.
struct Judge<'v, C: ?Sized, A: ?Sized, P: ?Sized> {
    catalog: &'v C,
    agreements: &'v A,
    participation: &'v P,
    rule: UseRule,
    use_type: UseType,
    territory: Territory,
    at_ms: i64,
}

impl<C, A, P> Judge<'_, C, A, P>
where
    C: CatalogView + ?Sized,
    A: AgreementView + ?Sized,
    P: ParticipationView + ?Sized,
{
    /// The same judge for another use (a model's training items are judged for `train`).
    fn for_use(&self, use_type: UseType, table: &UseTable) -> Self {
        Self {
            rule: *table.rule(use_type),
            use_type,
            ..*self
        }
    }

    /// Reads, level by level across all inputs, what judging them will read: the inputs; then
    /// their owners' agreement lists, their people and their linked works; then those works'
    /// owners and writers; then the agreements' terms and the people's choices. Each level's
    /// lookups are independent of one another, so their cache misses overlap instead of
    /// queueing behind each other as they do in the depth-first judging that follows, which
    /// then finds them cached. Only reads, and only a warm-up: the decision never depends on
    /// it, and what does not fit in its small buffers is skipped.
    fn warm(&self, recordings: &[String], works: &[String]) {
        let rule = self.rule;
        let mut recs: Ahead<(&str, &RecordingRights), WARM> = Ahead::new();
        for r in recordings {
            if let Some(rec) = self.catalog.recording(r) {
                recs.push((r, rec));
            }
        }
        let mut linked: Ahead<(&str, Option<&str>, &WorkRights), WARM> = Ahead::new();
        for w in works {
            if let Some(work) = self.catalog.work(w) {
                linked.push((w, None, work));
            }
        }
        let mut owners: Ahead<Candidates<'_>, WARM_LOOKUPS> = Ahead::new();
        let mut people: Ahead<(&Participation, Option<&str>, &[Key]), WARM_LOOKUPS> = Ahead::new();
        for &(r, rec) in recs.iter() {
            if rule.master_owners {
                for owner in rec.master_splits.iter().flat_map(Splits::parties) {
                    owners.push(self.agreements.for_recording(owner, r));
                }
            }
            if rule.artists == ArtistRule::MainArtists {
                for artist in &rec.main_artists {
                    if let Some(p) = self.participation.participation(artist) {
                        people.push((p, Some(r), &rec.works));
                    }
                }
            }
            if rule.publishing_owners || rule.writers {
                for w in &rec.works {
                    if let Some(work) = self.catalog.work(w) {
                        linked.push((w, Some(r), work));
                    }
                }
            }
        }
        for &(w, via, work) in linked.iter() {
            if rule.publishing_owners {
                for owner in work.publishing_splits.iter().flat_map(Splits::parties) {
                    owners.push(self.agreements.for_work(owner, w));
                }
            }
            if rule.writers {
                for writer in &work.writers {
                    if let Some(p) = self.participation.participation(writer) {
                        people.push((p, via, &[]));
                    }
                }
            }
        }
        let mut touched = 0usize;
        for candidates in owners.iter() {
            touched ^= candidates.clone().warm();
        }
        for &(p, recording, works) in people.iter() {
            let choice = p.effective(self.use_type, recording, works);
            touched ^= choice.map_or(3, |c| c as usize);
        }
        std::hint::black_box(touched);
    }

    /// Master owners and main artists of a recording input, then its linked works.
    fn recording(&self, r: &str, out: &mut Out) {
        let at = At::input(InputRef::Recording(r));
        let Some(rec) = self.catalog.recording(r) else {
            out.deny(|| at.reason(ReasonCode::InputNotFound, None, None));
            return;
        };
        if self.rule.master_owners {
            match &rec.master_splits {
                None => out.deny(|| at.reason(ReasonCode::SplitsIncomplete, None, None)),
                Some(splits) => {
                    for (owner, _) in splits.entries() {
                        self.owner(owner, ItemRef::Recording(r), at, out);
                        if out.settled() {
                            return;
                        }
                    }
                }
            }
        }
        if self.rule.artists == ArtistRule::MainArtists {
            for artist in distinct(&rec.main_artists) {
                self.person(artist, Some(r), &rec.works, at, out);
            }
        }
        if self.rule.publishing_owners || self.rule.writers {
            // A recording with no linked work embodies a composition whose owners are unknown.
            if rec.works.is_empty() {
                out.deny(|| at.reason(ReasonCode::SplitsIncomplete, None, None));
            }
            for w in distinct(&rec.works) {
                if out.settled() {
                    return;
                }
                self.work(w, Some(r), out);
            }
        }
    }

    /// Publishing owners and writers of a work, as an input or linked to recording `via`.
    fn work(&self, w: &str, via: Option<&str>, out: &mut Out) {
        let at = match via {
            Some(r) => At {
                input: InputRef::Recording(r),
                item: Some(ItemRef::Work(w)),
            },
            None => At::input(InputRef::Work(w)),
        };
        let Some(work) = self.catalog.work(w) else {
            out.deny(|| at.reason(ReasonCode::InputNotFound, None, None));
            return;
        };
        if self.rule.publishing_owners {
            match &work.publishing_splits {
                None => out.deny(|| at.reason(ReasonCode::SplitsIncomplete, None, None)),
                Some(splits) => {
                    for (owner, _) in splits.entries() {
                        self.owner(owner, ItemRef::Work(w), at, out);
                        if out.settled() {
                            return;
                        }
                    }
                }
            }
        }
        if self.rule.writers {
            let key = Key::new(w);
            let works = slice::from_ref(&key);
            for writer in distinct(&work.writers) {
                self.person(writer, via, works, at, out);
            }
        }
    }

    /// The voiced artist, judged for each performed input (overrides may differ per item).
    fn voiced_artist(&self, request: &UseRequest, out: &mut Out) {
        let Some(artist) = &request.artist else {
            out.deny(|| reason(ReasonCode::InputMissing, None, None, None, None));
            return;
        };
        let input = InputRef::Artist(artist);
        if self.catalog.party_kind(artist).is_none() {
            out.deny(|| At::input(input).reason(ReasonCode::InputNotFound, None, None));
            return;
        }
        let mut performed_any = false;
        for r in distinct(&request.recordings) {
            performed_any = true;
            let works = self.catalog.recording(r).map_or(&[][..], |rec| &rec.works);
            let at = At {
                input,
                item: Some(ItemRef::Recording(r)),
            };
            self.person(artist, Some(r), works, at, out);
        }
        for w in distinct(&request.works) {
            performed_any = true;
            let at = At {
                input,
                item: Some(ItemRef::Work(w)),
            };
            self.person(artist, None, slice::from_ref(&Key::new(w)), at, out);
        }
        if !performed_any {
            self.person(artist, None, &[], At::input(input), out);
        }
    }

    /// Judges each training item of `model` for this judge's use, reporting each verdict.
    fn training_items(&self, model: &Model, mut verdict: impl FnMut(ItemRef<'_>, &Out)) {
        let TrainingSet::Items { recordings, works } = &model.training else {
            return;
        };
        for r in recordings {
            let mut out = Out::check();
            self.recording(r, &mut out);
            verdict(ItemRef::Recording(r), &out);
        }
        for w in works {
            let mut out = Out::check();
            self.work(w, None, &mut out);
            verdict(ItemRef::Work(w), &out);
        }
    }

    /// An owner consents if any agreement it granted licenses this use of `item` now, here.
    fn owner(&self, party: &str, item: ItemRef<'_>, at: At<'_>, out: &mut Out) {
        let mut candidates = match item {
            ItemRef::Recording(id) => self.agreements.for_recording(party, id),
            ItemRef::Work(id) => self.agreements.for_work(party, id),
        };
        let mut considered = false;
        let mut licensed = false;
        let mut needs_approval = false;
        // Candidates that apply but fail, by position, for the explanation if none licenses.
        let mut failing: Vec<(usize, Failures)> = Vec::new();
        while let Some((position, assessed, requires_approval)) =
            candidates.assess_next(item, self.use_type, self.territory, self.at_ms)
        {
            if let Some(failures) = assessed {
                considered = true;
                if failures.none() {
                    licensed = true;
                    // Where several agreements license the use, the stricter terms apply.
                    needs_approval |= requires_approval;
                } else if out.explain && !licensed {
                    failing.push((position, failures));
                }
            }
        }
        if licensed {
            if needs_approval {
                out.approve(party);
            }
            return;
        }
        if !considered || !out.explain {
            out.deny(|| at.reason(ReasonCode::NoAgreement, Some(party), None));
            return;
        }
        // Say what is wrong with each agreement that could have applied, in the licensor's
        // order.
        failing.sort_unstable_by_key(|(position, _)| *position);
        const CODES: [(u8, ReasonCode); 4] = [
            (Failures::REVOKED, ReasonCode::AgreementRevoked),
            (Failures::OUTSIDE_WINDOW, ReasonCode::OutsideWindow),
            (Failures::USE_NOT_LICENSED, ReasonCode::UseNotLicensed),
            (Failures::TERRITORY_EXCLUDED, ReasonCode::TerritoryExcluded),
        ];
        for (position, failures) in failing {
            let id = candidates.agreement(position).map(|a| a.id.as_str());
            for (bit, code) in CODES {
                if failures.has(bit) {
                    out.deny(|| at.reason(code, Some(party), id));
                }
            }
        }
    }

    /// A person's participation for a use of `recording` (if any) embodying `works`.
    fn person(
        &self,
        party: &str,
        recording: Option<&str>,
        works: &[Key],
        at: At<'_>,
        out: &mut Out,
    ) {
        let choice = self
            .participation
            .participation(party)
            .and_then(|p| p.effective(self.use_type, recording, works));
        match choice {
            None => out.deny(|| at.reason(ReasonCode::ParticipationMissing, Some(party), None)),
            Some(Choice::Deny) => {
                out.deny(|| at.reason(ReasonCode::ParticipationDenied, Some(party), None));
            }
            Some(Choice::Approve) => out.approve(party),
            Some(Choice::Allow) => {}
        }
    }
}
