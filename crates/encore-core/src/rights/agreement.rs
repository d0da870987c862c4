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
    /// Indices into `agreements`; `None` means all of them, in order.
    picks: Option<(&'a [u32], &'a [u32])>,
    next: usize,
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

    /// The agreements at positions `first` then `second` of `agreements`; every one of them
    /// must cover the item.
    fn picked(licensed: &'a Licensed, first: &'a [u32], second: &'a [u32]) -> Self {
        Self {
            agreements: &licensed.list,
            terms: &licensed.terms,
            picks: Some((first, second)),
            next: 0,
        }
    }

    /// The next candidate, assessed for a use of `item` (see [`Agreement::assess`]), and
    /// whether it requires approval. Reads the compact terms when the view keeps them, so the
    /// common case never touches the agreement itself.
    pub(crate) fn assess_next(
        &mut self,
        item: ItemRef<'_>,
        use_type: UseType,
        territory: Territory,
        at_ms: i64,
    ) -> Option<(Option<Failures>, bool)> {
        let at = self.position()?;
        let agreement = self.agreements.get(at)?;
        let Some(terms) = self.terms.get(at) else {
            let scope_known = self.scope_known();
            let assessed = agreement.assess(item, scope_known, use_type, territory, at_ms);
            return Some((assessed, agreement.requires_approval));
        };
        // Picked candidates are in scope; `terms` exist only on picked candidates.
        let revoked = match terms.status {
            AgreementStatus::Proposed => return Some((None, terms.requires_approval)),
            AgreementStatus::Accepted => false,
            AgreementStatus::Revoked { at_ms: revoked } => at_ms >= revoked,
        };
        let mut bits = 0;
        if revoked {
            bits |= Failures::REVOKED;
        }
        if at_ms < terms.starts_at_ms || at_ms >= terms.ends_at_ms {
            bits |= Failures::OUTSIDE_WINDOW;
        }
        if terms.uses & (1 << use_type as u16) == 0 {
            bits |= Failures::USE_NOT_LICENSED;
        }
        if !terms.everywhere && !agreement.territories.covers(territory) {
            bits |= Failures::TERRITORY_EXCLUDED;
        }
        Some((Some(Failures(bits)), terms.requires_approval))
    }

    /// The remaining candidates with their positions in the licensor's list.
    pub(crate) fn positioned(mut self) -> impl Iterator<Item = (usize, &'a Agreement)> {
        std::iter::from_fn(move || {
            let at = self.position()?;
            Some((at, self.agreements.get(at)?))
        })
    }

    /// Position in `agreements` of the next candidate.
    fn position(&mut self) -> Option<usize> {
        let i = self.next;
        self.next += 1;
        match self.picks {
            None => (i < self.agreements.len()).then_some(i),
            Some((first, second)) => {
                let at = match first.get(i) {
                    Some(&at) => at,
                    None => *second.get(i - first.len())?,
                };
                Some(at as usize)
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
    /// Exclusive end; `i64::MAX` when open-ended.
    ends_at_ms: i64,
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
            uses: a.uses.iter().fold(0, |m, &u| m | 1 << u as u16),
            everywhere: a.territories.covers(Territory::world()),
            requires_approval: a.requires_approval,
        }
    }
}

impl<'a> Iterator for Candidates<'a> {
    type Item = &'a Agreement;

    fn next(&mut self) -> Option<&'a Agreement> {
        let at = self.position()?;
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

/// One licensor's agreements, with which of them apply to everything and which list items.
#[derive(Clone, Debug, Default)]
struct Licensed {
    list: Vec<Agreement>,
    /// `Terms::of` each agreement in `list`, position for position.
    terms: Vec<Terms>,
    /// Positions in `list` of catalogue-wide agreements.
    general: Vec<u32>,
    /// Positions in `list` of the agreements listing each recording.
    recordings: FastMap<Key, Vec<u32>>,
    /// Positions in `list` of the agreements listing each work.
    works: FastMap<Key, Vec<u32>>,
}

impl Licensed {
    fn index(&mut self, at: usize) {
        let pos = u32::try_from(at).expect("fewer than 2^32 agreements per licensor");
        self.terms.push(Terms::of(&self.list[at]));
        match &self.list[at].scope {
            Scope::AllWhereLicensorHoldsShares => self.general.push(pos),
            Scope::Recordings(set) => {
                for r in set {
                    self.recordings.entry(Key::new(r)).or_default().push(pos);
                }
            }
            Scope::Works(set) => {
                for w in set {
                    self.works.entry(Key::new(w)).or_default().push(pos);
                }
            }
        }
    }

    fn reindex(&mut self) {
        self.terms.clear();
        self.general.clear();
        self.recordings.clear();
        self.works.clear();
        for at in 0..self.list.len() {
            self.index(at);
        }
    }

    fn for_item<'a>(&'a self, map: &'a FastMap<Key, Vec<u32>>, id: &str) -> Candidates<'a> {
        let listed = map.get(id).map_or(&[][..], Vec::as_slice);
        Candidates::picked(self, &self.general, listed)
    }
}

/// Agreements grouped by licensor, with an id index for updates and revocation, and per
/// licensor an index from listed item to the agreements listing it.
#[derive(Clone, Debug, Default)]
pub struct AgreementIndex {
    by_licensor: FastMap<Key, Licensed>,
    licensor_of: FastMap<Key, Key>,
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
        let licensed = self
            .by_licensor
            .entry(Key::new(&agreement.licensor))
            .or_default();
        licensed.list.push(agreement);
        licensed.index(licensed.list.len() - 1);
    }

    /// Removes an agreement by id, returning it.
    pub fn remove(&mut self, id: &str) -> Option<Agreement> {
        let licensor = self.licensor_of.remove(id)?;
        let licensed = self.by_licensor.get_mut(&licensor)?;
        let index = licensed.list.iter().position(|a| a.id == id)?;
        let removed = licensed.list.swap_remove(index);
        if licensed.list.is_empty() {
            self.by_licensor.remove(&licensor);
        } else {
            licensed.reindex();
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
        licensed.terms[at] = Terms::of(&licensed.list[at]);
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
}

impl AgreementView for AgreementIndex {
    fn by_licensor(&self, licensor: &str) -> &[Agreement] {
        self.by_licensor
            .get(licensor)
            .map_or(&[], |l| l.list.as_slice())
    }

    fn for_recording(&self, licensor: &str, recording: &str) -> Candidates<'_> {
        match self.by_licensor.get(licensor) {
            Some(l) => l.for_item(&l.recordings, recording),
            None => Candidates::all(&[]),
        }
    }

    fn for_work(&self, licensor: &str, work: &str) -> Candidates<'_> {
        match self.by_licensor.get(licensor) {
            Some(l) => l.for_item(&l.works, work),
            None => Candidates::all(&[]),
        }
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
