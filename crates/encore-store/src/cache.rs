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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use encore_core::rights::{
    Agreement, AgreementView, CatalogView, FastMap, Key, Model, ModelView, Participation,
    ParticipationView, RecordingRights, TrainingSet, UseTable, WorkRights,
};
use encore_core::{PartyKind, Splits};

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
    /// Writes this process finished (counted after commit), so its own next read syncs.
    local_writes: AtomicU64,
    /// Longest a sync may be skipped for, ms; 0 means every read syncs.
    interval_ms: AtomicU64,
    /// When the last sync started and the local write count it covered.
    last_sync: Mutex<Option<(Instant, u64)>>,
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
            // A recording's fingerprint decides nothing here (the identify index follows it).
            "fingerprint" => {}
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
    /// Lets reads skip syncing for up to `interval` after a sync, unless this process wrote
    /// since: its own writes are always seen at once, other processes' within `interval`.
    /// Zero (the default) syncs on every read.
    pub fn set_sync_interval(&self, interval: Duration) {
        let ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        self.cache.interval_ms.store(ms, Ordering::Relaxed);
    }

    /// Notes that a write of this process committed, so that the next read syncs.
    pub(crate) fn wrote(&self) {
        self.cache.local_writes.fetch_add(1, Ordering::AcqRel);
    }

    /// Applies every change committed since the last sync; returns the last change applied.
    pub async fn sync_changes(&self) -> Result<i64, StoreError> {
        let writes = self.cache.local_writes.load(Ordering::Acquire);
        let interval = Duration::from_millis(self.cache.interval_ms.load(Ordering::Relaxed));
        if !interval.is_zero() {
            let last = *self
                .cache
                .last_sync
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some((at, covered)) = last {
                if covered == writes && at.elapsed() < interval {
                    return Ok(self.cache.read().seq);
                }
            }
        }
        let started = Instant::now();
        let seq = self.sync_from_database().await?;
        *self
            .cache
            .last_sync
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some((started, writes));
        Ok(seq)
    }

    async fn sync_from_database(&self) -> Result<i64, StoreError> {
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

    /// Every agreement (any status) of each of `licensors`, by licensor (a licensor without
    /// agreements maps to an empty list). The lists are shared with the copies, not copied.
    pub async fn agreements(
        &self,
        licensors: &[String],
    ) -> Result<HashMap<String, Arc<[Agreement]>>, StoreError> {
        let mut out = HashMap::with_capacity(licensors.len());
        let mut missing = Vec::new();
        {
            let c = self.store.cache.read();
            for l in licensors {
                match c.licensors.get(l.as_str()) {
                    Some(list) => {
                        out.insert(l.clone(), Arc::clone(list));
                    }
                    None => missing.push(l.clone()),
                }
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let loaded = self.store.agreements_for_licensors(&missing).await?;
        let mut by_licensor: HashMap<String, Vec<Agreement>> = HashMap::new();
        for l in &missing {
            by_licensor.entry(l.clone()).or_default();
        }
        for a in loaded {
            by_licensor.entry(a.licensor.clone()).or_default().push(a);
        }
        let by_licensor: Vec<(String, Arc<[Agreement]>)> = by_licensor
            .into_iter()
            .map(|(l, list)| (l, Arc::from(list)))
            .collect();
        self.store.fill(self.seq, |c| {
            for (l, list) in &by_licensor {
                bounded_insert(&mut c.licensors, l, Arc::clone(list));
            }
        });
        out.extend(by_licensor);
        Ok(out)
    }

    /// The participation of each of `people` who set any, shared with the copies.
    pub async fn participations(
        &self,
        people: &[String],
    ) -> Result<HashMap<String, Arc<Participation>>, StoreError> {
        let mut out = HashMap::with_capacity(people.len());
        let mut missing = Vec::new();
        {
            let c = self.store.cache.read();
            for p in people {
                match c.participation.get(p.as_str()) {
                    Some(Some(part)) => {
                        out.insert(p.clone(), Arc::clone(part));
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
        let loaded: HashMap<String, Arc<Participation>> =
            loaded.into_iter().map(|(p, x)| (p, Arc::new(x))).collect();
        self.store.fill(self.seq, |c| {
            for p in &missing {
                bounded_insert(&mut c.participation, p, loaded.get(p).cloned());
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

    /// The use table decisions follow, shared with the copies.
    pub async fn use_table(&self) -> Result<Arc<UseTable>, StoreError> {
        if let Some(t) = &self.store.cache.read().use_table {
            return Ok(Arc::clone(t));
        }
        let table = Arc::new(self.store.stored_use_table().await?);
        self.store
            .fill(self.seq, |c| c.use_table = Some(Arc::clone(&table)));
        Ok(table)
    }
}

/// The copies under one read lock, as the engine's views: a decision made from them reads the
/// maps in place, copying nothing. Get one with [`RightsReader::copies`]; a decision may only
/// be made from it when [`Copies::consult`] finds everything it reads. Hold it only for
/// synchronous work: while it is held, no change can be applied to the copies.
pub struct Copies<'s> {
    inner: RwLockReadGuard<'s, Inner>,
}

/// What a decision reads, found in the copies ([`Copies::consult`]), or gathered by the caller
/// when it loaded the facts itself: the items judged, the agreements of their owners, the
/// people consulted, and the model. A stored decision's snapshot is made from it.
#[derive(Debug, Default)]
pub struct Consulted<'a> {
    /// Recordings judged that exist, each once, in the order first met.
    pub recordings: Vec<&'a str>,
    /// Works judged that exist (those named, the recordings' works, training works), each once.
    pub works: Vec<&'a str>,
    /// Every agreement of each owner (master or publishing) of an item judged.
    pub agreements: Vec<&'a [Agreement]>,
    /// The artists and writers of the items judged (and a named artist) who set participation.
    pub participation: Vec<(&'a str, &'a Participation)>,
    /// The model named, when it exists.
    pub model: Option<&'a Model>,
}

/// Adds `id` to `judged` unless it is there already; `false` when it was.
fn note<'a>(judged: &mut Vec<&'a str>, id: &'a str) -> bool {
    let new = !judged.contains(&id);
    if new {
        judged.push(id);
    }
    new
}

impl RightsReader<'_> {
    /// The copies, locked for reading (see [`Copies`]).
    pub fn copies(&self) -> Copies<'_> {
        Copies {
            inner: self.store.cache.read(),
        }
    }
}

impl Copies<'_> {
    /// The use table, when it is copied.
    pub fn use_table(&self) -> Option<&UseTable> {
        self.inner.use_table.as_deref()
    }

    /// Everything a decision about these inputs reads (with `model`, its training items too),
    /// when the copies hold all of it, so that deciding from them decides exactly as from the
    /// database; `None` when something is not copied (never loaded, dropped by a change, or
    /// not existing: only what exists is copied for the catalog), and the caller must load it
    /// through the reader instead.
    pub fn consult<'c>(
        &'c self,
        recordings: &'c [String],
        works: &'c [String],
        artist: Option<&'c str>,
        model: Option<&'c str>,
    ) -> Option<Consulted<'c>> {
        let c = &*self.inner;
        let mut seen = Consulted::default();
        let mut owners: Vec<&str> = Vec::new();
        let mut people: Vec<&str> = Vec::new();
        let add_work = |seen: &mut Consulted<'c>,
                        owners: &mut Vec<&'c str>,
                        people: &mut Vec<&'c str>,
                        id: &'c str| {
            let (key, work) = c.works.get_key_value(id)?;
            if note(&mut seen.works, key) {
                owners.extend(
                    work.publishing_splits
                        .iter()
                        .flat_map(Splits::parties)
                        .map(Key::as_str),
                );
                people.extend(work.writers.iter().map(Key::as_str));
            }
            Some(())
        };
        let model = match model {
            Some(id) => c.models.get(id)?.as_deref(),
            None => None,
        };
        let (training_recordings, training_works): (&[String], &[String]) =
            match model.map(|m| &m.training) {
                Some(TrainingSet::Items { recordings, works }) => (recordings, works),
                _ => (&[], &[]),
            };
        for id in recordings.iter().chain(training_recordings) {
            let (key, rec) = c.recordings.get_key_value(id.as_str())?;
            if !note(&mut seen.recordings, key) {
                continue;
            }
            owners.extend(
                rec.master_splits
                    .iter()
                    .flat_map(Splits::parties)
                    .map(Key::as_str),
            );
            people.extend(rec.main_artists.iter().map(Key::as_str));
            for w in &rec.works {
                add_work(&mut seen, &mut owners, &mut people, w)?;
            }
        }
        for id in works.iter().chain(training_works) {
            add_work(&mut seen, &mut owners, &mut people, id)?;
        }
        if let Some(a) = artist {
            c.parties.get(a)?;
            people.push(a);
        }
        owners.sort_unstable();
        owners.dedup();
        for o in owners {
            seen.agreements.push(c.licensors.get(o)?);
        }
        people.sort_unstable();
        people.dedup();
        for p in people {
            let (key, part) = c.participation.get_key_value(p)?;
            if let Some(part) = part {
                seen.participation.push((key, part));
            }
        }
        seen.model = model;
        Some(seen)
    }
}

impl CatalogView for Copies<'_> {
    fn recording(&self, id: &str) -> Option<&RecordingRights> {
        self.inner.recordings.get(id)
    }

    fn work(&self, id: &str) -> Option<&WorkRights> {
        self.inner.works.get(id)
    }

    fn party_kind(&self, id: &str) -> Option<PartyKind> {
        self.inner.parties.get(id).copied()
    }
}

impl AgreementView for Copies<'_> {
    fn by_licensor(&self, licensor: &str) -> &[Agreement] {
        self.inner.licensors.get(licensor).map_or(&[], |list| list)
    }
}

impl ParticipationView for Copies<'_> {
    fn participation(&self, party: &str) -> Option<&Participation> {
        self.inner.participation.get(party)?.as_deref()
    }
}

impl ModelView for Copies<'_> {
    fn model(&self, id: &str) -> Option<&Model> {
        self.inner.models.get(id)?.as_deref()
    }
}

/// Rows for [`Store::warm_rights`], as the database holds them.
#[derive(Default)]
pub(crate) struct WarmRows {
    pub recordings: Vec<String>,
    pub works: Vec<String>,
    pub parties: Vec<(String, String)>,
    /// (owner id, party or work id, share ppm or 0), in position order per owner.
    pub recording_splits: Vec<(String, String, i64)>,
    pub recording_artists: Vec<(String, String, i64)>,
    pub recording_works: Vec<(String, String, i64)>,
    pub work_splits: Vec<(String, String, i64)>,
    pub work_writers: Vec<(String, String, i64)>,
    pub agreements: Vec<crate::rights::AgreementRow>,
    pub participation: Vec<crate::rights::ParticipationRow>,
}

/// Groups `(owner, item, share)` rows by owner (rows arrive ordered by owner).
fn grouped(rows: Vec<(String, String, i64)>) -> FastMap<Key, Vec<(Key, i64)>> {
    let mut out: FastMap<Key, Vec<(Key, i64)>> = FastMap::default();
    for (owner, item, share) in rows {
        out.entry(Key::from(owner))
            .or_default()
            .push((Key::from(item), share));
    }
    out
}

/// Splits from stored rows; `None` when there are none or they are not valid splits.
fn splits_of(rows: Option<Vec<(Key, i64)>>) -> Option<encore_core::Splits<Key>> {
    let entries = rows?
        .into_iter()
        .map(|(p, ppm)| {
            Some((
                p,
                encore_core::Share::from_ppm(u32::try_from(ppm).ok()?).ok()?,
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    encore_core::Splits::new(entries).ok()
}

/// What a warm-up loaded.
#[derive(Debug, Clone, Copy, Default)]
pub struct WarmReport {
    /// Recordings now held.
    pub recordings: usize,
    /// Works now held.
    pub works: usize,
    /// Parties now held.
    pub parties: usize,
    /// Agreements now held.
    pub agreements: usize,
}

impl Store {
    /// Loads the rights facts of the whole catalog into the copies, so that no decision has
    /// to read the database for them (about 250 bytes per recording). Changes committed while
    /// it loads are applied after, so nothing it loads can be staler than a sync.
    pub async fn warm_rights(&self) -> Result<WarmReport, StoreError> {
        let before = self.sync_changes().await?;
        let rows = match &self.pool {
            crate::Pool::Sqlite(p) => crate::backend_rights::sqlite::warm_rows(p).await?,
            crate::Pool::Postgres(p) => crate::backend_rights::postgres::warm_rows(p).await?,
        };
        let mut recording_splits = grouped(rows.recording_splits);
        let mut recording_artists = grouped(rows.recording_artists);
        let mut recording_works = grouped(rows.recording_works);
        let mut work_splits = grouped(rows.work_splits);
        let mut work_writers = grouped(rows.work_writers);
        let mut recordings: FastMap<Key, RecordingRights> = FastMap::default();
        recordings.reserve(rows.recordings.len());
        for id in rows.recordings {
            let id = Key::from(id);
            let rights = RecordingRights {
                master_splits: splits_of(recording_splits.remove(&id)),
                main_artists: recording_artists
                    .remove(&id)
                    .map(|v| v.into_iter().map(|(p, _)| p).collect())
                    .unwrap_or_default(),
                works: recording_works
                    .remove(&id)
                    .map(|v| v.into_iter().map(|(w, _)| w).collect())
                    .unwrap_or_default(),
            };
            recordings.insert(id, rights);
        }
        let mut works: FastMap<Key, WorkRights> = FastMap::default();
        for id in rows.works {
            let id = Key::from(id);
            let rights = WorkRights {
                publishing_splits: splits_of(work_splits.remove(&id)),
                writers: work_writers
                    .remove(&id)
                    .map(|v| v.into_iter().map(|(p, _)| p).collect())
                    .unwrap_or_default(),
            };
            works.insert(id, rights);
        }
        let mut parties: FastMap<Key, PartyKind> = FastMap::default();
        let mut licensors: FastMap<Key, Vec<Agreement>> = FastMap::default();
        let mut participation: FastMap<Key, Option<Arc<Participation>>> = FastMap::default();
        for (id, kind) in rows.parties {
            let Ok(kind) = PartyKind::parse(&kind) else {
                continue;
            };
            let id = Key::from(id);
            licensors.insert(id.clone(), Vec::new());
            // Only people can set participation, but any party can be named as a writer or
            // an artist, so "none set" is copied for organisations too: a decision naming one
            // must not have to ask the database.
            participation.insert(id.clone(), None);
            parties.insert(id, kind);
        }
        let mut agreements = 0;
        for row in rows.agreements {
            let a = row.into_record()?.agreement;
            agreements += 1;
            licensors.entry(Key::new(&a.licensor)).or_default().push(a);
        }
        for row in rows.participation {
            let record = row.into_record()?;
            participation.insert(
                Key::from(record.party_id),
                Some(Arc::new(record.participation)),
            );
        }
        let report = WarmReport {
            recordings: recordings.len(),
            works: works.len(),
            parties: parties.len(),
            agreements,
        };
        // Changes committed since `before` may be missing from what was read: drop those
        // items again after inserting everything, under one lock, so no reader sees them.
        let (since, mut inner) = loop {
            let since = dispatch_audit!(self, changes_since(before, CHANGES_PER_SYNC_MAX))?;
            if since.len() as i64 >= CHANGES_PER_SYNC_MAX {
                return Ok(WarmReport::default());
            }
            let covered = since.last().map_or(before, |c| c.0);
            let inner = self.cache.write();
            // A sync may have applied changes this list lacks; then it must be read again.
            if inner.seq <= covered {
                break (since, inner);
            }
        };
        inner.recordings.extend(recordings);
        inner.works.extend(works);
        inner.parties.extend(parties);
        inner
            .licensors
            .extend(licensors.into_iter().map(|(k, v)| (k, Arc::from(v))));
        inner.participation.extend(participation);
        for (seq, kind, item) in &since {
            inner.apply(kind, item);
            inner.seq = inner.seq.max(*seq);
        }
        Ok(report)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use encore_core::{Isrc, PartyKind, Share, Splits};

    use crate::{PartyInput, RecordingInput, Store, WorkInput};

    async fn party(store: &Store, name: &str, kind: PartyKind) -> String {
        let input = PartyInput {
            ext_ref: None,
            name: name.into(),
            kind,
            ipi: None,
            isni: None,
        };
        store.create_party(&input, None).await.unwrap().id
    }

    /// `consult` finds a decision's facts in the copies only when all of them are there: after
    /// a warm-up (an organisation named as a writer included), not for an input that does not
    /// exist, and not once a change has dropped one of them.
    #[tokio::test]
    async fn copies_cover_a_decision_only_when_they_hold_all_it_reads() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("encore.db").display());
        let store = Store::open(&url).await.unwrap();
        let label = party(&store, "Label", PartyKind::Organisation).await;
        let artist = party(&store, "Artist", PartyKind::Person).await;
        let writers = party(&store, "Writing Company", PartyKind::Organisation).await;
        let work = WorkInput {
            ext_ref: None,
            iswc: None,
            title: "Song".into(),
            writers: vec![writers.clone()],
            splits: None,
        };
        let work = store.create_work(&work, None).await.unwrap().id;
        let mut recording = RecordingInput {
            ext_ref: None,
            isrc: Isrc::parse("US-RC1-76-07839").unwrap(),
            title: "Song".into(),
            duration_ms: None,
            artists: vec![artist.clone()],
            works: vec![work.clone()],
            splits: Some(
                Splits::new(vec![(label.clone(), Share::from_ppm(1_000_000).unwrap())]).unwrap(),
            ),
        };
        let rec = store.create_recording(&recording, None).await.unwrap().id;
        let inputs = [rec.clone()];
        let consulted = |reader: &crate::RightsReader<'_>, inputs: &[String]| {
            let copies = reader.copies();
            copies.consult(inputs, &[], Some(&artist), None).map(|c| {
                (
                    c.recordings.len(),
                    c.works.len(),
                    c.agreements.len(),
                    c.participation.len(),
                )
            })
        };
        let reader = store.rights().await.unwrap();
        assert_eq!(
            consulted(&reader, &inputs),
            None,
            "nothing is copied before a warm-up"
        );

        store.warm_rights().await.unwrap();
        let reader = store.rights().await.unwrap();
        // One recording, its work, the label's (empty) agreement list, nobody's participation.
        assert_eq!(consulted(&reader, &inputs), Some((1, 1, 1, 0)));
        assert_eq!(consulted(&reader, &["rec_missing".to_owned()]), None);

        recording.title = "Song (Remastered)".into();
        store.update_recording(&rec, &recording).await.unwrap();
        let reader = store.rights().await.unwrap();
        assert_eq!(
            consulted(&reader, &inputs),
            None,
            "the change dropped the recording's copy"
        );
    }
}
