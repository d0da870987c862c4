//! In-memory copies of what rights decisions and authentication read, kept exact by following
//! the `changes` table.
//!
//! Every write that can alter a decision or a key (catalog updates, imports, agreements,
//! participation, models, the use table, key revocation) notes what it changed in `changes`, in
//! its own transaction and in commit order (migration 0007). A reader first *syncs*: one query
//! for the changes after the last one applied, usually none, then drops exactly the copies they
//! name. So a read that starts after a write committed, in this process or any other on the
//! same database, never sees what the write replaced; that is how a revocation made through one
//! `encore serve` is honoured by the very next request to another.
//!
//! Copies are filled on first use (a miss reads the database) and are only inserted when no
//! change was applied since the reader synced, so a slow read can never put back something a
//! change already dropped. Only what exists is copied for the catalog and keys; for
//! agreements, participation and models "none" is copied too, since a write creating one is
//! noted like any other change.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use encore_core::PartyKind;
use encore_core::rights::{
    Agreement, FastMap, Key, Model, Participation, RecordingRights, UseTable, WorkRights,
};

use crate::audit::dispatch_audit;
use crate::keys::ApiKey;
use crate::{Store, StoreError};

/// Most changes applied one by one in a sync; past this, every copy is dropped at once.
const CHANGES_PER_SYNC_MAX: i64 = 10_000;
/// Most copies of one kind kept; a map that would grow past it is emptied first.
const ENTRIES_MAX: usize = 2_000_000;

/// The copies, and the last change applied to them.
#[derive(Default)]
pub(crate) struct Cache {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The last change applied.
    seq: i64,
    recordings: FastMap<Key, RecordingRights>,
    works: FastMap<Key, WorkRights>,
    parties: FastMap<Key, PartyKind>,
    /// Every agreement of a licensor (any status), possibly none.
    licensors: FastMap<Key, Arc<[Agreement]>>,
    /// A person's participation, or `None` when they never set any.
    participation: FastMap<Key, Option<Arc<Participation>>>,
    models: FastMap<Key, Option<Arc<Model>>>,
    use_table: Option<Arc<UseTable>>,
    /// Live keys by the digest of their secret.
    keys: HashMap<String, ApiKey>,
}

impl Inner {
    fn clear(&mut self) {
        let seq = self.seq;
        *self = Self::default();
        self.seq = seq;
    }

    fn apply(&mut self, kind: &str, item: &str) {
        match kind {
            "recording" => {
                self.recordings.remove(item);
            }
            "work" => {
                self.works.remove(item);
            }
            "party" => {
                self.parties.remove(item);
            }
            "licensor" => {
                self.licensors.remove(item);
            }
            "participation" => {
                self.participation.remove(item);
            }
            "model" => {
                self.models.remove(item);
            }
            "use_table" => self.use_table = None,
            "key" => self.keys.retain(|_, k| k.id != item),
            "catalog" => {
                self.recordings.clear();
                self.works.clear();
                self.parties.clear();
            }
            // Unknown to this version (a newer process wrote it): drop everything to be safe.
            _ => self.clear(),
        }
    }
}

/// Inserts into a bounded map.
fn bounded_insert<V>(map: &mut FastMap<Key, V>, key: &str, value: V) {
    if map.len() >= ENTRIES_MAX {
        map.clear();
    }
    map.insert(Key::new(key), value);
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("seq", &self.read().seq)
            .finish_non_exhaustive()
    }
}

impl Cache {
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// Reads through the copies, as of one sync. Get one with [`Store::rights`].
pub struct RightsReader<'s> {
    store: &'s Store,
    /// The change the copies reflected when this reader synced.
    seq: i64,
}

impl Store {
    /// Applies every change committed since the last sync; returns the last change applied.
    pub async fn sync_changes(&self) -> Result<i64, StoreError> {
        let seq = self.cache.read().seq;
        let changes = dispatch_audit!(self, changes_since(seq, CHANGES_PER_SYNC_MAX))?;
        let Some(&(last, _, _)) = changes.last() else {
            return Ok(seq);
        };
        if changes.len() as i64 >= CHANGES_PER_SYNC_MAX {
            // Far behind (a large import, or a long pause): start again from the newest.
            let newest = dispatch_audit!(self, last_change())?;
            let mut inner = self.cache.write();
            inner.clear();
            inner.seq = inner.seq.max(newest);
            return Ok(inner.seq);
        }
        let mut inner = self.cache.write();
        for (seq, kind, item) in &changes {
            if *seq > inner.seq {
                inner.apply(kind, item);
            }
        }
        inner.seq = inner.seq.max(last);
        Ok(inner.seq)
    }

    /// Syncs, then returns a reader of the facts rights decisions need.
    pub async fn rights(&self) -> Result<RightsReader<'_>, StoreError> {
        let seq = self.sync_changes().await?;
        Ok(RightsReader { store: self, seq })
    }

    /// Inserts with `f` unless a change was applied since `seq` (the copy might be stale).
    fn fill(&self, seq: i64, f: impl FnOnce(&mut Inner)) {
        let mut inner = self.cache.write();
        if inner.seq == seq {
            f(&mut inner);
        }
    }

    /// A live key by digest, from the copies or the database.
    pub(crate) async fn cached_key(&self, digest: &str) -> Result<Option<ApiKey>, StoreError> {
        let seq = self.sync_changes().await?;
        if let Some(key) = self.cache.read().keys.get(digest) {
            return Ok(Some(key.clone()));
        }
        let key =
            crate::dispatch!(self, key_by_hash(digest))?.filter(|k| k.revoked_at_ms.is_none());
        if let Some(key) = &key {
            self.fill(seq, |c| {
                if c.keys.len() >= ENTRIES_MAX {
                    c.keys.clear();
                }
                c.keys.insert(digest.to_owned(), key.clone());
            });
        }
        Ok(key)
    }
}

impl RightsReader<'_> {
    /// The rights facts of a recording, `None` if there is no such recording.
    pub async fn recording(&self, id: &str) -> Result<Option<RecordingRights>, StoreError> {
        if let Some(r) = self.store.cache.read().recordings.get(id) {
            return Ok(Some(r.clone()));
        }
        let Some(rec) = self.store.recording(id).await? else {
            return Ok(None);
        };
        let f = rec.fields;
        let rights = RecordingRights {
            master_splits: f.splits.map(|s| s.map_parties(|p| Key::new(p))),
            main_artists: f.artists.into_iter().map(Key::from).collect(),
            works: f.works.into_iter().map(Key::from).collect(),
        };
        self.store.fill(self.seq, |c| {
            bounded_insert(&mut c.recordings, id, rights.clone());
        });
        Ok(Some(rights))
    }

    /// The rights facts of a work, `None` if there is no such work.
    pub async fn work(&self, id: &str) -> Result<Option<WorkRights>, StoreError> {
        if let Some(w) = self.store.cache.read().works.get(id) {
            return Ok(Some(w.clone()));
        }
        let Some(work) = self.store.work(id).await? else {
            return Ok(None);
        };
        let f = work.fields;
        let rights = WorkRights {
            publishing_splits: f.splits.map(|s| s.map_parties(|p| Key::new(p))),
            writers: f.writers.into_iter().map(Key::from).collect(),
        };
        self.store.fill(self.seq, |c| {
            bounded_insert(&mut c.works, id, rights.clone());
        });
        Ok(Some(rights))
    }

    /// A party's kind, `None` if there is no such party.
    pub async fn party_kind(&self, id: &str) -> Result<Option<PartyKind>, StoreError> {
        if let Some(&k) = self.store.cache.read().parties.get(id) {
            return Ok(Some(k));
        }
        let Some(party) = self.store.party(id).await? else {
            return Ok(None);
        };
        let kind = party.fields.kind;
        self.store
            .fill(self.seq, |c| bounded_insert(&mut c.parties, id, kind));
        Ok(Some(kind))
    }

    /// Every agreement (any status) of each of `licensors`.
    pub async fn agreements(&self, licensors: &[String]) -> Result<Vec<Agreement>, StoreError> {
        let mut out = Vec::new();
        let mut missing = Vec::new();
        {
            let c = self.store.cache.read();
            for l in licensors {
                match c.licensors.get(l.as_str()) {
                    Some(list) => out.extend(list.iter().cloned()),
                    None => missing.push(l.clone()),
                }
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let loaded = self.store.agreements_for_licensors(&missing).await?;
        let mut by_licensor: FastMap<Key, Vec<Agreement>> = FastMap::default();
        for l in &missing {
            by_licensor.entry(Key::new(l)).or_default();
        }
        for a in &loaded {
            by_licensor
                .entry(Key::new(&a.licensor))
                .or_default()
                .push(a.clone());
        }
        self.store.fill(self.seq, |c| {
            for (l, list) in by_licensor {
                bounded_insert(&mut c.licensors, &l, Arc::from(list));
            }
        });
        out.extend(loaded);
        Ok(out)
    }

    /// The participation of each of `people` who set any.
    pub async fn participations(
        &self,
        people: &[String],
    ) -> Result<HashMap<String, Participation>, StoreError> {
        let mut out = HashMap::new();
        let mut missing = Vec::new();
        {
            let c = self.store.cache.read();
            for p in people {
                match c.participation.get(p.as_str()) {
                    Some(Some(part)) => {
                        out.insert(p.clone(), Participation::clone(part));
                    }
                    Some(None) => {}
                    None => missing.push(p.clone()),
                }
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let loaded = self.store.participations(&missing).await?;
        self.store.fill(self.seq, |c| {
            for p in &missing {
                let part = loaded.get(p).map(|x| Arc::new(x.clone()));
                bounded_insert(&mut c.participation, p, part);
            }
        });
        out.extend(loaded);
        Ok(out)
    }

    /// A registered model, `None` if there is no such model.
    pub async fn model(&self, id: &str) -> Result<Option<Model>, StoreError> {
        if let Some(m) = self.store.cache.read().models.get(id) {
            return Ok(m.as_deref().cloned());
        }
        let model = self.store.model(id).await?.map(|r| r.model);
        let copy = model.clone().map(Arc::new);
        self.store
            .fill(self.seq, |c| bounded_insert(&mut c.models, id, copy));
        Ok(model)
    }

    /// The use table decisions follow.
    pub async fn use_table(&self) -> Result<UseTable, StoreError> {
        if let Some(t) = &self.store.cache.read().use_table {
            return Ok(UseTable::clone(t));
        }
        let table = self.store.stored_use_table().await?;
        let copy = Arc::new(table.clone());
        self.store.fill(self.seq, |c| c.use_table = Some(copy));
        Ok(table)
    }
}
