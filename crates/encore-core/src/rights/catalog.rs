//! The catalog facts the engine needs: who owns and who made each recording and work.

use super::{FastMap, Key};
use crate::{PartyKind, Splits};

/// The rights-relevant facts of a recording.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordingRights {
    /// Master owners and shares; `None` while unknown (then nobody can consent for them).
    pub master_splits: Option<Splits<Key>>,
    /// Main artist party ids.
    pub main_artists: Vec<Key>,
    /// The works (compositions) the recording embodies.
    pub works: Vec<Key>,
}

/// The rights-relevant facts of a musical work.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkRights {
    /// Publishing owners and shares; `None` while unknown.
    pub publishing_splits: Option<Splits<Key>>,
    /// Writer party ids.
    pub writers: Vec<Key>,
}

/// Read access to the catalog, by id.
pub trait CatalogView {
    /// A recording, or `None` if there is no such recording.
    fn recording(&self, id: &str) -> Option<&RecordingRights>;
    /// A work, or `None` if there is no such work.
    fn work(&self, id: &str) -> Option<&WorkRights>;
    /// A party's kind, or `None` if there is no such party.
    fn party_kind(&self, id: &str) -> Option<PartyKind>;
}

/// A catalog held in hash maps: for tests, and for stores that keep the catalog in memory.
#[derive(Clone, Debug, Default)]
pub struct MemoryCatalog {
    /// Recordings by id.
    pub recordings: FastMap<Key, RecordingRights>,
    /// Works by id.
    pub works: FastMap<Key, WorkRights>,
    /// Party kinds by id.
    pub parties: FastMap<Key, PartyKind>,
}

impl CatalogView for MemoryCatalog {
    fn recording(&self, id: &str) -> Option<&RecordingRights> {
        self.recordings.get(id)
    }

    fn work(&self, id: &str) -> Option<&WorkRights> {
        self.works.get(id)
    }

    fn party_kind(&self, id: &str) -> Option<PartyKind> {
        self.parties.get(id).copied()
    }
}
