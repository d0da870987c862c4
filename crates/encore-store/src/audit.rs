//! The audit log and stored decisions.
//!
//! Every change the rights slice makes (agreement propose, accept, revoke; participation set;
//! model register, update) appends one entry in the same transaction as the change. Entries
//! form a SHA-256 hash chain: each hash covers a canonical text of the entry and the previous
//! entry's hash, so an edited, removed or reordered entry is found by [`Store::verify_audit`].
//! The SQL is in `backend_audit.rs`.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use tokio::sync::oneshot;

use crate::rights::{AgreementRow, ParticipationRow};
use crate::{Store, StoreError};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Rows `verify_audit` reads per statement.
const VERIFY_PAGE_ROWS: i64 = 1_000;

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: i64,
    /// When, Unix ms.
    pub at_ms: i64,
    /// The key that made the change (none for changes made from the command line).
    pub key_id: Option<String>,
    /// What was done, e.g. `agreement.accept`.
    pub action: String,
    /// The kind of thing changed: `agreement`, `participation` or `model`.
    pub subject_kind: String,
    /// Its id.
    pub subject_id: String,
    /// The party ids the entry concerns, as a JSON list (read access follows them).
    pub parties: String,
    /// The state before, JSON text; none for a creation.
    pub before: Option<String>,
    /// The state after, JSON text.
    pub after: String,
    /// The previous entry's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) of [`canonical_text`] of this entry.
    pub hash: String,
}

impl AuditEntry {
    /// The party ids the entry concerns.
    pub fn party_ids(&self) -> Vec<String> {
        serde_json::from_str(&self.parties).unwrap_or_default()
    }

    /// The hash this entry should have, recomputed from its fields.
    pub fn expected_hash(&self) -> String {
        hex::encode(Sha256::digest(canonical_text(self).as_bytes()))
    }
}

/// The text an entry's hash covers: a JSON list of every field but the hash, in a fixed order,
/// with `before` and `after` as the exact stored text.
pub fn canonical_text(e: &AuditEntry) -> String {
    json!([
        e.seq,
        e.at_ms,
        e.key_id,
        e.action,
        e.subject_kind,
        e.subject_id,
        e.parties,
        e.before,
        e.after,
        e.prev_hash
    ])
    .to_string()
}

/// What a change hands to the log; seq, time and hashes are assigned on append.
pub(crate) struct NewAudit<'a> {
    pub key_id: Option<&'a str>,
    pub action: &'a str,
    pub subject_kind: &'a str,
    pub subject_id: &'a str,
    pub parties: &'a [&'a str],
    pub before: Option<String>,
    pub after: String,
}

impl NewAudit<'_> {
    /// The entry that follows `prev` (or starts the log), hashed.
    pub(crate) fn chain(&self, prev: Option<(i64, String)>, at_ms: i64) -> AuditEntry {
        let (seq, prev_hash) = match prev {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, GENESIS_HASH.to_owned()),
        };
        let mut e = AuditEntry {
            seq,
            at_ms,
            key_id: self.key_id.map(str::to_owned),
            action: self.action.to_owned(),
            subject_kind: self.subject_kind.to_owned(),
            subject_id: self.subject_id.to_owned(),
            parties: json!(self.parties).to_string(),
            before: self.before.clone(),
            after: self.after.clone(),
            prev_hash,
            hash: String::new(),
        };
        e.hash = e.expected_hash();
        e
    }
}

/// An agreement row as the JSON the log records.
pub(crate) fn agreement_json(row: &AgreementRow) -> String {
    let terms: Value = serde_json::from_str(&row.terms).unwrap_or(Value::String(row.terms.clone()));
    json!({
        "id": row.id,
        "licensor": row.licensor_id,
        "status": row.status,
        "revoked_at_ms": row.revoked_at_ms,
        "terms": terms,
    })
    .to_string()
}

/// A participation row as the JSON the log records.
pub(crate) fn participation_json(row: &ParticipationRow) -> String {
    let document: Value =
        serde_json::from_str(&row.document).unwrap_or(Value::String(row.document.clone()));
    json!({"party": row.party_id, "uses": document}).to_string()
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries read.
    pub entries: u64,
    /// Whether every hash and link holds and seq has no gaps.
    pub ok: bool,
    /// The first entry that fails, when one does.
    pub first_bad_seq: Option<i64>,
    /// The last entry's hash, when the log is intact and not empty (its seq is `entries`):
    /// the anchor to keep outside the database.
    pub last_hash: Option<String>,
    /// Why it fails.
    pub reason: Option<String>,
}

/// A stored rights decision.
#[derive(Debug, Clone)]
pub struct DecisionRecord {
    /// `dec_…`.
    pub id: String,
    /// When it was made, Unix ms.
    pub at_ms: i64,
    /// The key that asked.
    pub key_id: String,
    /// The request, JSON text.
    pub request: String,
    /// The answer, JSON text.
    pub decision: String,
    /// What the engine saw, JSON text.
    pub snapshot: String,
}

/// Calls the function of the same name in the audit backend module that matches the pool.
macro_rules! dispatch_audit {
    ($self:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match &$self.pool {
            $crate::Pool::Sqlite(p) => $crate::backend_audit::sqlite::$f(p, $($arg),*).await,
            $crate::Pool::Postgres(p) => $crate::backend_audit::postgres::$f(p, $($arg),*).await,
        }
    };
}

pub(crate) use dispatch_audit;

/// A decision to store.
pub(crate) struct NewDecision {
    pub id: String,
    pub at_ms: i64,
    pub key_id: String,
    pub request: String,
    pub decision: String,
    pub snapshot: String,
}

impl NewDecision {
    /// Bytes of text the row stores.
    pub(crate) fn stored_bytes(&self) -> u64 {
        let text = self.id.len()
            + self.key_id.len()
            + self.request.len()
            + self.decision.len()
            + self.snapshot.len();
        text as u64 + 8
    }
}

/// A queued decision and where to send the outcome of its write.
type Queued = (NewDecision, oneshot::Sender<Result<(), String>>);

/// Most decisions written in one transaction.
const DECISIONS_PER_WRITE_MAX: usize = 256;
/// Under load (the previous write ended less than [`BUSY_WITHIN`] before rows were waiting
/// again), the writer waits this long before taking a batch, so that one transaction carries
/// several decisions instead of one or two: each transaction rewrites whole pages (the table's
/// last leaf, the id index's), so small ones multiply what is written, checkpointed and
/// fsynced. A lone request never waits. Measured (BENCHMARKS.md): without it, p99 at 2,000
/// checks/s was 50-67 ms instead of 3-4 ms; at 1.5 ms, p50 rose by 1.3 ms for no clear gain.
const LINGER: std::time::Duration = std::time::Duration::from_micros(500);
/// See [`LINGER`].
const BUSY_WITHIN: std::time::Duration = std::time::Duration::from_millis(2);
/// Rows that end a linger early.
const LINGER_ROWS: usize = 32;
/// An idle writer thread ends after this long; the next decision starts another.
const WRITER_IDLE_EXIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Group commit for decisions: callers queue their row and wait; one writer thread of the
/// store's own takes whatever is queued and writes it in one transaction, then tells each
/// caller the outcome. A caller that goes away (a client hanging up) leaves its row queued,
/// so it is written all the same and no batch is ever abandoned half-way.
#[derive(Default)]
pub(crate) struct GroupCommit {
    state: std::sync::Mutex<WriterState>,
    wake: std::sync::Condvar,
}

#[derive(Default)]
struct WriterState {
    queue: Vec<Queued>,
    /// Whether a writer thread is running (it may be waiting for rows).
    running: bool,
    /// Whether the writer is waiting on the condition variable for rows: only then does a
    /// new row need to wake it (a wake is a system call, even with no one waiting).
    waiting: bool,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    fn lock(&self) -> std::sync::MutexGuard<'_, WriterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// If the writer thread panics, marks it stopped and fails what is queued (the callers see
/// "abandoned"), so the next decision starts another writer instead of waiting for one that
/// is gone. A writer that ends normally marks itself stopped under the same lock as its last
/// look at the queue, so no row can be queued for a writer that is leaving.
struct WriterRunning<'a>(&'a GroupCommit);

impl Drop for WriterRunning<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut state = self.0.lock();
            state.running = false;
            state.queue.clear();
        }
    }
}

/// The writer thread: waits for rows, lingers under load, writes a batch, reports, repeats;
/// ends once idle for [`WRITER_IDLE_EXIT`].
fn run_writer(store: Store, runtime: tokio::runtime::Handle) {
    let commit = std::sync::Arc::clone(&store.decisions);
    let _running = WriterRunning(&commit);
    // Making a decision file ready is a task on the runtime the writer was started from.
    let _runtime = runtime.enter();
    let mut last_write_end: Option<std::time::Instant> = None;
    loop {
        let mut state = commit.lock();
        while state.queue.is_empty() {
            state.waiting = true;
            let (next, wait) = commit
                .wake
                .wait_timeout(state, WRITER_IDLE_EXIT)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            state.waiting = false;
            if wait.timed_out() && state.queue.is_empty() {
                state.running = false;
                return;
            }
        }
        let busy = last_write_end.is_some_and(|t| t.elapsed() < BUSY_WITHIN);
        if busy && state.queue.len() < LINGER_ROWS {
            drop(state);
            std::thread::sleep(LINGER);
            state = commit.lock();
        }
        let n = state.queue.len().min(DECISIONS_PER_WRITE_MAX);
        let batch: Vec<Queued> = state.queue.drain(..n).collect();
        drop(state);
        let (rows, waiters): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        let result = match &store.decision_files {
            // SQLite: this thread writes the decision file itself.
            Some(files) => files.write(&rows),
            None => runtime.block_on(async { dispatch_audit!(store, insert_decisions(&rows)) }),
        }
        .map_err(|e| e.to_string());
        last_write_end = Some(std::time::Instant::now());
        for w in waiters {
            let _ = w.send(result.clone());
        }
    }
}

impl Store {
    /// Stores a decision and returns its new `dec_` id, once it is committed.
    pub async fn record_decision(
        &self,
        key_id: &str,
        request: &str,
        decision: &str,
        snapshot: &str,
    ) -> Result<String, StoreError> {
        let id = crate::new_id("dec");
        let (done, rx) = oneshot::channel();
        let row = NewDecision {
            id: id.clone(),
            at_ms: crate::now_ms(),
            key_id: key_id.to_owned(),
            request: request.to_owned(),
            decision: decision.to_owned(),
            snapshot: snapshot.to_owned(),
        };
        {
            let mut state = self.decisions.lock();
            state.queue.push((row, done));
            if state.running {
                if state.waiting {
                    self.decisions.wake.notify_one();
                }
            } else {
                let store = self.clone();
                let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                    state.queue.pop();
                    return Err(StoreError::Write(
                        "decisions are written from a Tokio runtime; none is running here".into(),
                    ));
                };
                let started = std::thread::Builder::new()
                    .name("encore-decisions".into())
                    .spawn(move || run_writer(store, runtime));
                if let Err(e) = started {
                    state.queue.pop();
                    return Err(StoreError::Write(format!(
                        "cannot start the decision writer thread: {e}"
                    )));
                }
                state.running = true;
            }
        }
        match rx.await {
            Ok(Ok(())) => Ok(id),
            Ok(Err(message)) => Err(StoreError::Write(message)),
            Err(_) => Err(StoreError::Write("the decision write was abandoned".into())),
        }
    }

    /// Audit entries after `after_seq`, oldest first, at most `limit`. With a party filter,
    /// only entries concerning one of those parties (none when the list is empty).
    pub async fn audit_entries(
        &self,
        party_filter: Option<&[String]>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        if party_filter.is_some_and(|p| p.is_empty()) {
            return Ok(Vec::new());
        }
        let limit = limit.min(crate::limits::PAGE_SIZE_MAX);
        dispatch_audit!(self, audit_page(party_filter, after_seq, i64::from(limit)))
    }

    /// Recomputes every hash, checks every link and that seq runs 1, 2, 3… without gaps.
    pub async fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        let mut entries = 0u64;
        let mut prev: Option<AuditEntry> = None;
        let bad = |seq: i64, entries: u64, reason: String| AuditReport {
            entries,
            ok: false,
            first_bad_seq: Some(seq),
            last_hash: None,
            reason: Some(reason),
        };
        loop {
            let after = prev.as_ref().map_or(0, |p| p.seq);
            let page = dispatch_audit!(self, audit_page(None, after, VERIFY_PAGE_ROWS))?;
            if page.is_empty() {
                break;
            }
            for e in page {
                entries += 1;
                let (want_seq, want_prev) = match &prev {
                    Some(p) => (p.seq + 1, p.hash.as_str()),
                    None => (1, GENESIS_HASH),
                };
                if e.seq != want_seq {
                    return Ok(bad(
                        e.seq,
                        entries,
                        format!("expected entry {want_seq} here; entries are missing"),
                    ));
                }
                if e.prev_hash != want_prev {
                    return Ok(bad(
                        e.seq,
                        entries,
                        "prev_hash does not match the previous entry's hash".into(),
                    ));
                }
                if e.hash != e.expected_hash() {
                    return Ok(bad(
                        e.seq,
                        entries,
                        "hash does not match the entry's contents; it was edited".into(),
                    ));
                }
                prev = Some(e);
            }
        }
        Ok(AuditReport {
            entries,
            ok: true,
            first_bad_seq: None,
            last_hash: prev.map(|p| p.hash),
            reason: None,
        })
    }

    /// A stored decision by id.
    pub async fn decision(&self, id: &str) -> Result<Option<DecisionRecord>, StoreError> {
        if !crate::storable_id(id) {
            return Ok(None);
        }
        if let Some(files) = &self.decision_files {
            if let Some(found) = files.get(id).await? {
                return Ok(Some(found));
            }
        }
        // PostgreSQL's decisions, and on SQLite those stored before the decision files.
        dispatch_audit!(self, get_decision(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_links_and_hashes() {
        let n = NewAudit {
            key_id: Some("key_1"),
            action: "agreement.propose",
            subject_kind: "agreement",
            subject_id: "agr_1",
            parties: &["par_1"],
            before: None,
            after: "{}".into(),
        };
        let first = n.chain(None, 5);
        assert_eq!(first.seq, 1);
        assert_eq!(first.prev_hash, GENESIS_HASH);
        assert_eq!(first.hash, first.expected_hash());
        let second = n.chain(Some((first.seq, first.hash.clone())), 6);
        assert_eq!(second.seq, 2);
        assert_eq!(second.prev_hash, first.hash);
        let mut edited = second.clone();
        edited.after = "{\"x\":1}".into();
        assert_ne!(edited.expected_hash(), second.hash);
        assert_eq!(first.party_ids(), vec!["par_1".to_owned()]);
    }
}
