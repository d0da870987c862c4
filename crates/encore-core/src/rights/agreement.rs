//! Agreements: how owners (labels, publishers, self-releasing artists) consent to uses.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasher, Hash};

use super::{AgreementId, FastMap, Key, PartyId, RecordingId, WorkId};
use crate::{Money, Territory, UseType};

/// Which catalog items an agreement covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every recording and work in which the licensor holds a share.
    AllWhereLicensorHoldsShares,
    /// Only these recordings (their master rights; not the works they embody).
    Recordings(BTreeSet<RecordingId>),
    /// Only these works (their publishing rights).
    Works(BTreeSet<WorkId>),
}

impl Scope {
    /// Whether the scope may reach any of these recordings or works: a catalogue-wide scope
    /// always may, a listing scope when it lists one of them.
    pub fn reaches_any<'a>(
        &self,
        mut recordings: impl Iterator<Item = &'a str>,
        mut works: impl Iterator<Item = &'a str>,
    ) -> bool {
        match self {
            Self::AllWhereLicensorHoldsShares => true,
            Self::Recordings(listed) => recordings.any(|r| listed.contains(r)),
            Self::Works(listed) => works.any(|w| listed.contains(w)),
        }
    }
}

/// Where an agreement applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Territories {
    /// Only these territories; a listed `WW` means the whole world.
    List(BTreeSet<Territory>),
    /// The whole world except these countries.
    World {
        /// Countries the agreement does not cover.
        excluding: BTreeSet<Territory>,
    },
}

impl Territories {
    /// Whether a use in `territory` is covered; a world-wide use (`WW`) needs the whole world.
    pub fn covers(&self, territory: Territory) -> bool {
        match self {
            Self::List(list) => list.contains(&Territory::world()) || list.contains(&territory),
            Self::World { excluding } => {
                excluding.is_empty() || (!territory.is_world() && !excluding.contains(&territory))
            }
        }
    }
}

/// Where an agreement is in its life; only accepted agreements license anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgreementStatus {
    /// Proposed by an operator, not yet accepted by the licensor: licenses nothing.
    Proposed,
    /// Accepted by the licensor: active within its window, territories and uses.
    Accepted,
    /// Was accepted, then revoked: licenses nothing at or after `at_ms`.
    Revoked {
        /// When the revocation took effect, Unix ms.
        at_ms: i64,
    },
}

text_enum! {
    /// What happens to published derivatives when the agreement is revoked.
    pub enum OnRevocation ("on_revocation") {
        /// Published derivatives are taken down.
        Delist = "delist",
        /// Published derivatives stay up; only new creations are refused.
        Keep = "keep",
    }
}

/// The licensor's rates for one use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UseRates {
    /// Paid per creation, weighted by the licensor's share of each input.
    pub creation_fee: Money,
    /// Paid per qualified play of a derivative, weighted likewise.
    pub per_stream: Money,
}

/// An owner's signed consent: scope, uses, territories, window and money terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agreement {
    /// Identifier.
    pub id: AgreementId,
    /// The owner who grants the licence.
    pub licensor: PartyId,
    /// Which items it covers.
    pub scope: Scope,
    /// Which uses it licenses.
    pub uses: BTreeSet<UseType>,
    /// Where it applies.
    pub territories: Territories,
    /// Start of the window, Unix ms, inclusive.
    pub starts_at_ms: i64,
    /// End of the window, Unix ms, exclusive; `None` means open-ended.
    pub ends_at_ms: Option<i64>,
    /// Proposed, accepted or revoked.
    pub status: AgreementStatus,
    /// Whether each derivative waits for the licensor's approval before it is public.
    pub requires_approval: bool,
    /// Rates per licensed use.
    pub rates: BTreeMap<UseType, UseRates>,
    /// What revocation does to published derivatives.
    pub on_revocation: OnRevocation,
}

/// Why an agreement's terms are not acceptable as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgreementError {
    /// No use is licensed.
    #[error("uses must list at least one use type")]
    EmptyUses,
    /// The window ends at or before it starts.
    #[error("ends_at ({ends_at_ms}) must be after starts_at ({starts_at_ms})")]
    EmptyWindow {
        /// Start, Unix ms.
        starts_at_ms: i64,
        /// End, Unix ms.
        ends_at_ms: i64,
    },
    /// A scope that lists items lists none.
    #[error("scope must list at least one recording or work")]
    EmptyScope,
    /// A territory list is empty.
    #[error("territories must list at least one territory")]
    EmptyTerritories,
    /// A rate is negative.
    #[error("rates for {use_type} must not be negative")]
    NegativeRate {
        /// The use whose rate is negative.
        use_type: UseType,
    },
}

/// Bit set of the reasons one agreement fails to license a use, in reporting order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Failures(u8);

impl Failures {
    pub(crate) const REVOKED: u8 = 1;
    pub(crate) const OUTSIDE_WINDOW: u8 = 2;
    pub(crate) const USE_NOT_LICENSED: u8 = 4;
    pub(crate) const TERRITORY_EXCLUDED: u8 = 8;

    /// Whether nothing failed, i.e. the agreement licenses the use.
    pub(crate) fn none(self) -> bool {
        self.0 == 0
    }

    /// Whether a given failure bit is set.
    pub(crate) fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// The catalog item an owner's consent is sought for, borrowed so the hot path allocates nothing.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ItemRef<'a> {
    Recording(&'a str),
    Work(&'a str),
}

impl Agreement {
    /// Checks the terms a licensor can get wrong (the 422 cases and a few more).
    pub fn validate(&self) -> Result<(), AgreementError> {
        if self.uses.is_empty() {
            return Err(AgreementError::EmptyUses);
        }
        match self.ends_at_ms {
            Some(ends_at_ms) if ends_at_ms <= self.starts_at_ms => {
                return Err(AgreementError::EmptyWindow {
                    starts_at_ms: self.starts_at_ms,
                    ends_at_ms,
                });
            }
            _ => {}
        }
        match &self.scope {
            Scope::Recordings(items) | Scope::Works(items) if items.is_empty() => {
                return Err(AgreementError::EmptyScope);
            }
            _ => {}
        }
        if matches!(&self.territories, Territories::List(list) if list.is_empty()) {
            return Err(AgreementError::EmptyTerritories);
        }
        for (&use_type, rates) in &self.rates {
            if rates.creation_fee.amount_micros < 0 || rates.per_stream.amount_micros < 0 {
                return Err(AgreementError::NegativeRate { use_type });
            }
        }
        Ok(())
    }

    /// `None` if the agreement does not apply to `item` at all, else what stops it licensing.
    // Proposed and out-of-scope agreements are not "considered", so they yield NO_AGREEMENT
    // rather than a misleadingly specific reason.
    // `scope_known` says the caller already knows `item` is in scope (an index picked the
    // agreement for it), sparing a lookup in the scope's set.
    pub(crate) fn assess(
        &self,
        item: ItemRef<'_>,
        scope_known: bool,
        use_type: UseType,
        territory: Territory,
        at_ms: i64,
    ) -> Option<Failures> {
        let revoked = match self.status {
            AgreementStatus::Proposed => return None,
            AgreementStatus::Accepted => false,
            AgreementStatus::Revoked { at_ms: revoked } => at_ms >= revoked,
        };
        let in_scope = scope_known
            || match (&self.scope, item) {
                (Scope::AllWhereLicensorHoldsShares, _) => true,
                (Scope::Recordings(set), ItemRef::Recording(id)) => set.contains(id),
                (Scope::Works(set), ItemRef::Work(id)) => set.contains(id),
                _ => false,
            };
        if !in_scope {
            return None;
        }
        let in_window = at_ms >= self.starts_at_ms && self.ends_at_ms.is_none_or(|e| at_ms < e);
        let mut bits = 0;
        if revoked {
            bits |= Failures::REVOKED;
        }
        if !in_window {
            bits |= Failures::OUTSIDE_WINDOW;
        }
        if !self.uses.contains(&use_type) {
            bits |= Failures::USE_NOT_LICENSED;
        }
        if !self.territories.covers(territory) {
            bits |= Failures::TERRITORY_EXCLUDED;
        }
        Some(Failures(bits))
    }
}

/// Read access to agreements, indexed by licensor because the engine asks per owner.
pub trait AgreementView {
    /// Every agreement (in any status) whose licensor is `licensor`; empty if none.
    fn by_licensor(&self, licensor: &str) -> &[Agreement];

    /// Agreements of `licensor` that may cover recording `recording`: at least every one
    /// whose scope includes it, in any order; others may be included (the engine re-checks
    /// scope). The default is every agreement of the licensor.
    fn for_recording(&self, licensor: &str, recording: &str) -> Candidates<'_> {
        let _ = recording;
        Candidates::all(self.by_licensor(licensor))
    }

    /// Agreements of `licensor` that may cover work `work`, as [`AgreementView::for_recording`].
    fn for_work(&self, licensor: &str, work: &str) -> Candidates<'_> {
        let _ = work;
        Candidates::all(self.by_licensor(licensor))
    }
}

/// Agreements that may cover an item, borrowed from an [`AgreementView`].
#[derive(Clone, Debug)]
pub struct Candidates<'a> {
    agreements: &'a [Agreement],
    /// Compact terms parallel to `agreements`, when the view keeps them.
    terms: &'a [Terms],
    /// What an index picked; `None` means all of `agreements`, in order.
    picks: Option<Picks<'a>>,
    next: usize,
}

/// The candidates an index picked for an item: the licensor's catalogue-wide agreements, then
/// those of the agreements listing the item that are the licensor's.
#[derive(Clone, Copy, Debug)]
struct Picks<'a> {
    general: &'a [General],
    listed: &'a [Listing],
    licensor: u32,
}

impl<'a> Candidates<'a> {
    /// Every agreement in `agreements`.
    pub fn all(agreements: &'a [Agreement]) -> Self {
        Self {
            agreements,
            terms: &[],
            picks: None,
            next: 0,
        }
    }

    /// Whether every candidate is known to cover the item (an index picked them), so that
    /// their scopes need not be checked again.
    pub fn scope_known(&self) -> bool {
        self.picks.is_some()
    }

    /// The next candidate's position in the licensor's list, the candidate assessed for a use
    /// of `item` (see [`Agreement::assess`]), and whether it requires approval. Reads the
    /// compact terms when the view keeps them, so the common case never touches the agreement
    /// itself.
    pub(crate) fn assess_next(
        &mut self,
        item: ItemRef<'_>,
        use_type: UseType,
        territory: Territory,
        at_ms: i64,
    ) -> Option<(usize, Option<Failures>, bool)> {
        let (at, terms) = self.position()?;
        let agreement = self.agreements.get(at)?;
        let Some(terms) = terms else {
            let scope_known = self.scope_known();
            let assessed = agreement.assess(item, scope_known, use_type, territory, at_ms);
            return Some((at, assessed, agreement.requires_approval));
        };
        // Picked candidates are in scope; only picked candidates come with terms.
        let revoked = match terms.status {
            AgreementStatus::Proposed => return Some((at, None, terms.requires_approval)),
            AgreementStatus::Accepted => false,
            AgreementStatus::Revoked { at_ms: revoked } => at_ms >= revoked,
        };
        let mut bits = 0;
        if revoked {
            bits |= Failures::REVOKED;
        }
        if at_ms < terms.starts_at_ms || (!terms.open_ended && at_ms >= terms.ends_at_ms) {
            bits |= Failures::OUTSIDE_WINDOW;
        }
        if terms.uses & (1 << use_type as u16) == 0 {
            bits |= Failures::USE_NOT_LICENSED;
        }
        if !terms.everywhere && !agreement.territories.covers(territory) {
            bits |= Failures::TERRITORY_EXCLUDED;
        }
        Some((at, Some(Failures(bits)), terms.requires_approval))
    }

    /// The agreement at a position [`Candidates::assess_next`] gave.
    pub(crate) fn agreement(&self, at: usize) -> Option<&'a Agreement> {
        self.agreements.get(at)
    }

    /// Reads every candidate's compact terms (or the agreements, without them) so that they are
    /// cached when assessed; returns a number derived from them, to be used or discarded.
    pub(crate) fn warm(mut self) -> usize {
        let mut touched = 0;
        while let Some((at, terms)) = self.position() {
            touched ^= match terms {
                Some(terms) => terms.uses as usize,
                None => self.agreements.get(at).map_or(0, |a| a.uses.len()),
            };
        }
        touched
    }

    /// Position in `agreements` of the next candidate, and its compact terms if kept.
    fn position(&mut self) -> Option<(usize, Option<Terms>)> {
        let Some(picks) = self.picks else {
            let at = self.next;
            self.next += 1;
            return (at < self.agreements.len()).then_some((at, None));
        };
        if let Some(g) = picks.general.get(self.next) {
            self.next += 1;
            return Some((g.at as usize, Some(g.terms)));
        }
        loop {
            let listing = picks.listed.get(self.next - picks.general.len())?;
            self.next += 1;
            if listing.licensor == picks.licensor {
                let at = listing.at as usize;
                return Some((at, self.terms.get(at).copied()));
            }
        }
    }
}

/// The terms of an agreement the hot path reads, packed small and kept beside the list so that
/// checking a licensor's agreements reads one contiguous array.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Terms {
    status: AgreementStatus,
    starts_at_ms: i64,
    /// Exclusive end, when not open-ended.
    ends_at_ms: i64,
    /// No end: licenses at every time from the start, the last representable one too.
    open_ended: bool,
    /// Bit `u` set when use type `u` is licensed.
    uses: u16,
    /// Covers every territory, including a world-wide use.
    everywhere: bool,
    requires_approval: bool,
}

impl Terms {
    fn of(a: &Agreement) -> Self {
        Self {
            status: a.status,
            starts_at_ms: a.starts_at_ms,
            ends_at_ms: a.ends_at_ms.unwrap_or(i64::MAX),
            open_ended: a.ends_at_ms.is_none(),
            uses: a.uses.iter().fold(0, |m, &u| m | 1 << u as u16),
            everywhere: a.territories.covers(Territory::world()),
            requires_approval: a.requires_approval,
        }
    }
}

impl<'a> Iterator for Candidates<'a> {
    type Item = &'a Agreement;

    fn next(&mut self) -> Option<&'a Agreement> {
        let (at, _) = self.position()?;
        self.agreements.get(at)
    }
}

impl<K, S> AgreementView for HashMap<K, Vec<Agreement>, S>
where
    K: Borrow<str> + Hash + Eq,
    S: BuildHasher,
{
    fn by_licensor(&self, licensor: &str) -> &[Agreement] {
        self.get(licensor).map_or(&[], Vec::as_slice)
    }
}

/// Shared lists, as a store's in-memory copies hand them out without copying agreements.
impl<K, S> AgreementView for HashMap<K, std::sync::Arc<[Agreement]>, S>
where
    K: Borrow<str> + Hash + Eq,
    S: BuildHasher,
{
    fn by_licensor(&self, licensor: &str) -> &[Agreement] {
        self.get(licensor).map_or(&[], |list| list)
    }
}

/// A catalogue-wide agreement: its position in its licensor's list, with its terms beside it
/// so that checking it reads one array.
#[derive(Clone, Copy, Debug)]
struct General {
    at: u32,
    terms: Terms,
}

/// An agreement listing an item: its licensor's tag and its position in that licensor's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Listing {
    licensor: u32,
    at: u32,
}

/// One licensor's agreements, with the terms of each and which apply to everything.
#[derive(Clone, Debug, Default)]
struct Licensed {
    /// Names the licensor in [`Listing`]s; never reused within an index.
    tag: u32,
    list: Vec<Agreement>,
    /// `Terms::of` each agreement in `list`, position for position.
    terms: Vec<Terms>,
    /// The catalogue-wide agreements in `list`.
    general: Vec<General>,
}

/// Agreements grouped by licensor, with an id index for updates and revocation, and an index
/// from each listed recording or work to the agreements (of any licensor) listing it.
// One item index for all licensors rather than one per licensor: a decision asks about each
// owner of an item in turn, and the item's entry, read for the first owner, is then cached.
#[derive(Clone, Debug, Default)]
pub struct AgreementIndex {
    by_licensor: FastMap<Key, Licensed>,
    licensor_of: FastMap<Key, Key>,
    /// The agreements listing each recording.
    recordings: FastMap<Key, Vec<Listing>>,
    /// The agreements listing each work.
    works: FastMap<Key, Vec<Listing>>,
    /// The tag the next new licensor gets.
    next_tag: u32,
}

impl AgreementIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an agreement, replacing any with the same id (even under another licensor).
    pub fn insert(&mut self, agreement: Agreement) {
        self.remove(&agreement.id);
        self.licensor_of
            .insert(Key::new(&agreement.id), Key::new(&agreement.licensor));
        let licensed = match self.by_licensor.get_mut(agreement.licensor.as_str()) {
            Some(licensed) => licensed,
            None => {
                let tag = self.next_tag;
                self.next_tag = tag.checked_add(1).expect("fewer than 2^32 licensors");
                let entry = self.by_licensor.entry(Key::new(&agreement.licensor));
                entry.or_insert(Licensed {
                    tag,
                    ..Licensed::default()
                })
            }
        };
        licensed.list.push(agreement);
        let at = licensed.list.len() - 1;
        index(licensed, at, &mut self.recordings, &mut self.works);
    }

    /// Removes an agreement by id, returning it.
    pub fn remove(&mut self, id: &str) -> Option<Agreement> {
        let licensor = self.licensor_of.remove(id)?;
        let licensed = self.by_licensor.get_mut(&licensor)?;
        let index_of = licensed.list.iter().position(|a| a.id == id)?;
        // Positions after the removed one change: unlist the licensor, then list it again.
        unlist(licensed, &mut self.recordings, &mut self.works);
        let removed = licensed.list.swap_remove(index_of);
        if licensed.list.is_empty() {
            self.by_licensor.remove(&licensor);
        } else {
            licensed.terms.clear();
            licensed.general.clear();
            for at in 0..licensed.list.len() {
                index(licensed, at, &mut self.recordings, &mut self.works);
            }
        }
        Some(removed)
    }

    /// The agreement with this id.
    pub fn get(&self, id: &str) -> Option<&Agreement> {
        let licensor = self.licensor_of.get(id)?;
        self.by_licensor
            .get(licensor)?
            .list
            .iter()
            .find(|a| a.id == id)
    }

    /// Revokes an accepted agreement from `at_ms`; returns whether anything changed.
    // Revoking twice keeps the first revocation (idempotent). A proposal cannot be revoked:
    // `Revoked` counts as accepted before `at_ms`, which a never-accepted proposal must not.
    pub fn revoke(&mut self, id: &str, at_ms: i64) -> bool {
        let Some(licensor) = self.licensor_of.get(id) else {
            return false;
        };
        let Some(licensed) = self.by_licensor.get_mut(licensor) else {
            return false;
        };
        let Some(at) = licensed.list.iter().position(|a| a.id == id) else {
            return false;
        };
        if licensed.list[at].status != AgreementStatus::Accepted {
            return false;
        }
        licensed.list[at].status = AgreementStatus::Revoked { at_ms };
        let terms = Terms::of(&licensed.list[at]);
        licensed.terms[at] = terms;
        for g in licensed.general.iter_mut().filter(|g| g.at as usize == at) {
            g.terms = terms;
        }
        true
    }

    /// Number of agreements.
    pub fn len(&self) -> usize {
        self.licensor_of.len()
    }

    /// Whether there are no agreements.
    pub fn is_empty(&self) -> bool {
        self.licensor_of.is_empty()
    }

    /// Every agreement, grouped by licensor in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Agreement> {
        self.by_licensor.values().flat_map(|l| &l.list)
    }

    fn candidates<'a>(
        &'a self,
        licensor: &str,
        items: &'a FastMap<Key, Vec<Listing>>,
        item: &str,
    ) -> Candidates<'a> {
        let Some(licensed) = self.by_licensor.get(licensor) else {
            return Candidates::all(&[]);
        };
        Candidates {
            agreements: &licensed.list,
            terms: &licensed.terms,
            picks: Some(Picks {
                general: &licensed.general,
                listed: items.get(item).map_or(&[][..], Vec::as_slice),
                licensor: licensed.tag,
            }),
            next: 0,
        }
    }
}

/// Indexes the agreement at position `at` of `licensed`: its terms, and where it applies.
fn index(
    licensed: &mut Licensed,
    at: usize,
    recordings: &mut FastMap<Key, Vec<Listing>>,
    works: &mut FastMap<Key, Vec<Listing>>,
) {
    let pos = u32::try_from(at).expect("fewer than 2^32 agreements per licensor");
    let terms = Terms::of(&licensed.list[at]);
    licensed.terms.push(terms);
    let listing = Listing {
        licensor: licensed.tag,
        at: pos,
    };
    match &licensed.list[at].scope {
        Scope::AllWhereLicensorHoldsShares => licensed.general.push(General { at: pos, terms }),
        Scope::Recordings(set) => {
            for r in set {
                recordings.entry(Key::new(r)).or_default().push(listing);
            }
        }
        Scope::Works(set) => {
            for w in set {
                works.entry(Key::new(w)).or_default().push(listing);
            }
        }
    }
}

/// Removes every listing of `licensed`'s agreements from the item indexes.
fn unlist(
    licensed: &Licensed,
    recordings: &mut FastMap<Key, Vec<Listing>>,
    works: &mut FastMap<Key, Vec<Listing>>,
) {
    for agreement in &licensed.list {
        let (map, set) = match &agreement.scope {
            Scope::AllWhereLicensorHoldsShares => continue,
            Scope::Recordings(set) => (&mut *recordings, set),
            Scope::Works(set) => (&mut *works, set),
        };
        for item in set {
            if let Some(listings) = map.get_mut(item.as_str()) {
                listings.retain(|l| l.licensor != licensed.tag);
                if listings.is_empty() {
                    map.remove(item.as_str());
                }
            }
        }
    }
}

impl AgreementView for AgreementIndex {
    fn by_licensor(&self, licensor: &str) -> &[Agreement] {
        self.by_licensor
            .get(licensor)
            .map_or(&[], |l| l.list.as_slice())
    }

    fn for_recording(&self, licensor: &str, recording: &str) -> Candidates<'_> {
        self.candidates(licensor, &self.recordings, recording)
    }

    fn for_work(&self, licensor: &str, work: &str) -> Candidates<'_> {
        self.candidates(licensor, &self.works, work)
    }
}

impl FromIterator<Agreement> for AgreementIndex {
    fn from_iter<I: IntoIterator<Item = Agreement>>(iter: I) -> Self {
        let mut index = Self::new();
        index.extend(iter);
        index
    }
}

impl Extend<Agreement> for AgreementIndex {
    fn extend<I: IntoIterator<Item = Agreement>>(&mut self, iter: I) {
        for agreement in iter {
            self.insert(agreement);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(code: &str) -> Territory {
        Territory::parse(code).expect("territory")
    }

    #[test]
    fn territory_coverage() {
        let list = Territories::List([t("US"), t("GB")].into());
        assert!(list.covers(t("US")));
        assert!(!list.covers(t("FR")));
        assert!(!list.covers(Territory::world()));
        let ww = Territories::List([Territory::world()].into());
        assert!(ww.covers(t("FR")) && ww.covers(Territory::world()));
        let all = Territories::World {
            excluding: BTreeSet::new(),
        };
        assert!(all.covers(t("FR")) && all.covers(Territory::world()));
        let but_fr = Territories::World {
            excluding: [t("FR")].into(),
        };
        assert!(but_fr.covers(t("US")));
        assert!(!but_fr.covers(t("FR")));
        assert!(!but_fr.covers(Territory::world()));
    }
}
