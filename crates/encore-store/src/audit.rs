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

/// A queued decision and where to send the outcome of its write.
type Queued = (NewDecision, oneshot::Sender<Result<(), String>>);

/// Most decisions written in one transaction.
const DECISIONS_PER_WRITE_MAX: usize = 256;

/// Group commit for decisions: every caller queues its row, then callers take turns (in
/// arrival order) writing whatever is queued in one statement, so under load one transaction
/// carries many decisions. A caller returns only once its own row is committed (or failed).
#[derive(Default)]
pub(crate) struct GroupCommit {
    queue: std::sync::Mutex<Vec<Queued>>,
    writer: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    fn take(&self, max: usize) -> Vec<Queued> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let n = queue.len().min(max);
        queue.drain(..n).collect()
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
        let (done, mut rx) = oneshot::channel();
        let row = NewDecision {
            id: id.clone(),
            at_ms: crate::now_ms(),
            key_id: key_id.to_owned(),
            request: request.to_owned(),
            decision: decision.to_owned(),
            snapshot: snapshot.to_owned(),
        };
        self.decisions
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((row, done));
        // `None`: the write was abandoned (its task panicked).
        let outcome = |r: Option<Result<(), String>>| match r {
            Some(Ok(())) => Ok(id.clone()),
            Some(Err(message)) => Err(StoreError::Write(message)),
            None => Err(StoreError::Write("the decision write was abandoned".into())),
        };
        loop {
            // Either another caller's batch commits this row, or this caller takes the turn
            // and writes what is queued until its own row is committed. Waiting on both means
            // a caller whose row is already written returns at once instead of queueing for
            // a turn it does not need.
            tokio::select! {
                biased;
                done = &mut rx => return outcome(done.ok()),
                turn = self.decisions.writer.lock() => {
                    loop {
                        let batch = self.decisions.take(DECISIONS_PER_WRITE_MAX);
                        if batch.is_empty() {
                            break;
                        }
                        // Written by a task of its own, so that a caller that goes away (a
                        // client hanging up) cannot abandon the rows of the others mid-write.
                        let store = self.clone();
                        let write = tokio::spawn(async move {
                            let (rows, waiters): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                            let result = dispatch_audit!(store, insert_decisions(&rows))
                                .map_err(|e| e.to_string());
                            for w in waiters {
                                let _ = w.send(result.clone());
                            }
                        });
                        let _ = write.await;
                        match rx.try_recv() {
                            Ok(done) => return outcome(Some(done)),
                            Err(oneshot::error::TryRecvError::Empty) => {}
                            Err(oneshot::error::TryRecvError::Closed) => return outcome(None),
                        }
                    }
                    drop(turn);
                }
            }
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
            reason: None,
        })
    }

    /// A stored decision by id.
    pub async fn decision(&self, id: &str) -> Result<Option<DecisionRecord>, StoreError> {
        if !crate::storable_id(id) {
            return Ok(None);
        }
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
