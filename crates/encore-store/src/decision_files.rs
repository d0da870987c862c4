//! On SQLite, stored decisions live in two database files of their own beside the main one,
//! and the decision writer appends to one while the other's WAL is copied back and started
//! over in the background.
//!
//! Why: every rights check stores a decision, so at thousands of checks a second the decision
//! writes are nearly all of the database's writes. In one file, SQLite can only start its WAL
//! over when a checkpoint has copied all of it while no one writes, which a steady stream of
//! commits never allows; so the WAL either grows without end or is restarted under the write
//! lock (a copy of the remainder and two fsyncs, 10-25 ms on this machine's disk, during which
//! every check waits). With two files the writer never waits for a checkpoint: when the file
//! it appends to has taken [`crate::limits::DECISION_FILE_TURN_FRAMES`] frames, it moves to
//! the other, whose WAL a background task has already copied back, fsynced and started over.
//! Turns are small (512 KiB), so each checkpoint is a short burst (3-5 ms here) rather than a
//! long one: with 32 MiB turns, the 100 ms checkpoint every 1.6 s at 5,000 checks/s lined up
//! with every latency spike of a traced run (BENCHMARKS.md). Each file has 4 KiB pages, so a
//! commit of a few decisions rewrites 4 KiB pages rather than the main file's 16 KiB ones, and
//! catalog writes never queue behind decisions.
//!
//! The writer thread runs SQLite itself, through a connection of its own to each file
//! (`rusqlite`, linking the same bundled SQLite as sqlx): handing each batch to a sqlx pool
//! connection's worker thread and waiting for its answer cost two thread switches per batch,
//! which at 5,000 checks a second was more CPU than the inserts (BENCHMARKS.md). Reads,
//! checkpoints and WAL restarts go through each file's sqlx pool.
//!
//! A decision is in exactly one of the files (one transaction per batch), so a lookup by id
//! asks both, then the main database's `decisions` table, which holds the decisions stored
//! before this layout and stays readable. PostgreSQL keeps decisions in its one database.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::StoreError;
use crate::audit::{DecisionRecord, NewDecision};
use crate::backend_audit::sqlite as sql;

/// Frames at which a file's own commits checkpoint it anyway (SQLite's automatic
/// checkpoint), a backstop for when the other file cannot be made ready (another process
/// holding a read open on it): 256 MiB.
const WAL_AUTOCHECKPOINT_FRAMES: &str = "65536";

/// The page size of a decision file. A decision is 1 to 3 KB (about 2.9 KB with four inputs),
/// and a commit rewrites the last page of the table and of the id index, so small pages keep
/// the WAL small.
const PAGE_BYTES: u64 = 4_096;

/// Connections per file: the writer and a reader or two.
const CONNECTIONS_PER_FILE: u32 = 3;

/// The schema of a decision file, made when a connection opens it. `decisions` has the same
/// columns as the main database's table; `wal_restarts` has one row, which the background
/// task updates to make SQLite start a fully copied WAL over.
const SCHEMA: &str = "\
CREATE TABLE IF NOT EXISTS decisions (
    id       TEXT PRIMARY KEY,
    at_ms    INTEGER NOT NULL,
    key_id   TEXT NOT NULL,
    request  TEXT NOT NULL,
    decision TEXT NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS wal_restarts (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT OR IGNORE INTO wal_restarts (id, n) VALUES (1, 0);";

/// Longest wait between attempts to start a file's WAL over while a reader holds it.
const RETRY_MAX: Duration = Duration::from_secs(1);

/// The two decision files and which one the writer appends to.
#[derive(Debug)]
pub(crate) struct DecisionFiles {
    pools: [SqlitePool; 2],
    /// The decision writer's own connection to each file, opened on first use. The writer
    /// thread runs SQLite itself through these, rather than handing each batch to a pool
    /// connection's worker thread and waiting for it: at thousands of checks a second those
    /// two thread switches per batch cost more than the inserts.
    writers: [std::sync::Mutex<Option<rusqlite::Connection>>; 2],
    paths: [PathBuf; 2],
    /// The file the writer appends to (0 or 1).
    active: AtomicUsize,
    /// Whether the other file's WAL has been copied back and started over, so the writer may
    /// move to it.
    other_ready: AtomicBool,
    /// Whether a background task is making the other file ready.
    preparing: AtomicBool,
    /// Estimated frames appended to the active file since the writer moved to it.
    frames: AtomicU64,
    /// See [`crate::limits::DECISION_FILE_TURN_FRAMES`].
    turn_frames: AtomicU64,
    /// Whether files are made ready by background tasks (tests turn this off and call
    /// [`DecisionFiles::prepare`] themselves).
    background: AtomicBool,
}

/// The decision file paths for the main database at `main`: `encore.db` gives
/// `encore-decisions-0.db` and `encore-decisions-1.db` in the same folder.
pub(crate) fn paths_for(main: &Path) -> [PathBuf; 2] {
    let stem = main
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "encore".to_owned());
    [0, 1].map(|i| main.with_file_name(format!("{stem}-decisions-{i}.db")))
}

impl DecisionFiles {
    /// Opens (creating when missing) the two files for the main database at `main`.
    pub(crate) async fn open(main: &Path) -> Result<Self, StoreError> {
        let paths = paths_for(main);
        let mut pools = Vec::with_capacity(2);
        for path in &paths {
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .page_size(PAGE_BYTES as u32)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_FRAMES);
            let pool = SqlitePoolOptions::new()
                .max_connections(CONNECTIONS_PER_FILE)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::Executor::execute(conn, SCHEMA).await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await
                .map_err(|e| {
                    StoreError::Config(format!(
                        "cannot open the decision file {}: {e}",
                        path.display()
                    ))
                })?;
            pools.push(pool);
        }
        let [first, second]: [SqlitePool; 2] = pools
            .try_into()
            .map_err(|_| StoreError::Config("two decision files expected".into()))?;
        Ok(Self {
            pools: [first, second],
            writers: [std::sync::Mutex::new(None), std::sync::Mutex::new(None)],
            paths,
            active: AtomicUsize::new(0),
            other_ready: AtomicBool::new(false),
            preparing: AtomicBool::new(false),
            frames: AtomicU64::new(0),
            turn_frames: AtomicU64::new(crate::limits::DECISION_FILE_TURN_FRAMES),
            background: AtomicBool::new(true),
        })
    }

    /// The two files' paths.
    pub(crate) fn paths(&self) -> &[PathBuf; 2] {
        &self.paths
    }

    /// Sets how many estimated frames the writer appends to one file before it moves on.
    pub(crate) fn set_turn_frames(&self, frames: u64) {
        self.turn_frames.store(frames.max(1), Ordering::Relaxed);
    }

    /// Writes `rows` in one transaction to the active file, then, once that file has taken
    /// its turn's frames, moves the writer to the other file if it is ready, or starts making
    /// it ready (on the Tokio runtime the caller has entered). Called by the one decision
    /// writer of this store (`audit.rs`), on its own thread: this blocks while SQLite writes.
    pub(crate) fn write(
        self: &std::sync::Arc<Self>,
        rows: &[NewDecision],
    ) -> Result<(), StoreError> {
        let active = self.active.load(Ordering::Acquire);
        self.insert(active, rows)?;
        // Each commit rewrites about two pages (the table's last leaf, the id index's) plus
        // the pages its rows fill.
        let bytes: u64 = rows.iter().map(NewDecision::stored_bytes).sum();
        let added = bytes / PAGE_BYTES + 2;
        let frames = self.frames.fetch_add(added, Ordering::Relaxed) + added;
        if frames < self.turn_frames.load(Ordering::Relaxed) {
            return Ok(());
        }
        if self.other_ready.swap(false, Ordering::AcqRel) {
            tracing::debug!(
                from = active,
                to = 1 - active,
                frames,
                "decision writer turns"
            );
            self.active.store(1 - active, Ordering::Release);
            self.frames.store(0, Ordering::Relaxed);
            self.spawn_prepare(active);
        } else {
            self.spawn_prepare(1 - active);
        }
        Ok(())
    }

    /// Inserts `rows` into file `index` in one transaction, through the writer's connection.
    fn insert(&self, index: usize, rows: &[NewDecision]) -> Result<(), StoreError> {
        let mut slot = self.writers[index]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let conn = match &mut *slot {
            Some(conn) => conn,
            empty => empty.insert(self.open_writer(index)?),
        };
        let written = (|| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO decisions (id, at_ms, key_id, request, decision, snapshot) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for r in rows {
                    insert.execute(rusqlite::params![
                        r.id, r.at_ms, r.key_id, r.request, r.decision, r.snapshot
                    ])?;
                }
            }
            tx.commit()
        })();
        written.map_err(|e| {
            // Open it afresh next time, in case the connection itself is what failed.
            *slot = None;
            StoreError::Write(format!(
                "storing {} decisions in {} failed: {e}",
                rows.len(),
                self.paths[index].display()
            ))
        })
    }

    /// Opens the writer's connection to file `index` (made, with its schema, by [`Self::open`]).
    fn open_writer(&self, index: usize) -> Result<rusqlite::Connection, StoreError> {
        let path = &self.paths[index];
        let conn = rusqlite::Connection::open(path)
            .and_then(|conn| {
                conn.busy_timeout(Duration::from_secs(10))?;
                // FULL: each batch's commit is fsynced before its decisions are acknowledged,
                // so an acknowledged decision survives a power loss too (NORMAL would only
                // survive a crash of encore). Measured at 5,000 checks/s: +0.17 ms p50 and
                // about 8 µs of CPU per check (BENCHMARKS.md).
                conn.execute_batch(&format!(
                    "PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_FRAMES};"
                ))?;
                Ok(conn)
            })
            .map_err(|e| {
                StoreError::Write(format!(
                    "cannot open the decision file {} for writing: {e}",
                    path.display()
                ))
            })?;
        Ok(conn)
    }

    /// Starts making file `index` ready in the background, unless that is already under way.
    fn spawn_prepare(self: &std::sync::Arc<Self>, index: usize) {
        if !self.background.load(Ordering::Relaxed) || self.preparing.swap(true, Ordering::AcqRel) {
            return;
        }
        let files = std::sync::Arc::clone(self);
        tokio::spawn(async move {
            let mut wait = Duration::from_millis(10);
            let started = std::time::Instant::now();
            loop {
                match files.prepare(index).await {
                    Ok(true) => {
                        tracing::debug!(
                            file = index,
                            took_ms = started.elapsed().as_millis() as u64,
                            "decision file checkpointed and ready"
                        );
                        return;
                    }
                    Ok(false) => {}
                    Err(e) => {
                        if files.pools[index].is_closed() {
                            break;
                        }
                        tracing::warn!(error = %e, file = %files.paths[index].display(),
                            "checkpointing a decision file failed; trying again");
                    }
                }
                if files.pools[index].is_closed() {
                    break;
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
            }
            files.preparing.store(false, Ordering::Release);
        });
    }

    /// One attempt to make file `index` ready for the writer: copy its WAL back into the file
    /// (a passive checkpoint, which fsyncs), then make one small write, which starts a fully
    /// copied WAL over from its beginning. Ready when the WAL then holds only that write.
    /// Returns whether it is ready; `false` when a reader kept SQLite from starting over.
    pub(crate) async fn prepare(&self, index: usize) -> Result<bool, StoreError> {
        let pool = &self.pools[index];
        let checkpoint = || {
            sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(pool)
        };
        // (busy, frames in the WAL, frames copied back)
        let (_, frames, copied) = checkpoint().await?;
        if frames > 0 {
            if copied < frames {
                return Ok(false);
            }
            sqlx::query("UPDATE wal_restarts SET n = n + 1 WHERE id = 1")
                .execute(pool)
                .await?;
            let (_, after, copied_after) = checkpoint().await?;
            // Started over: the WAL holds the one small transaction, copied back.
            if after > 4 || copied_after < after {
                return Ok(false);
            }
        }
        // In this order, so that the writer, once it has moved on, can start preparing the
        // file it left.
        self.preparing.store(false, Ordering::Release);
        self.other_ready.store(true, Ordering::Release);
        Ok(true)
    }

    /// A decision by id, from whichever file holds it.
    pub(crate) async fn get(&self, id: &str) -> Result<Option<DecisionRecord>, StoreError> {
        let active = self.active.load(Ordering::Acquire);
        for index in [active, 1 - active] {
            if let Some(found) = sql::get_decision(&self.pools[index], id).await? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// Closes both files' connections.
    pub(crate) async fn close(&self) {
        for writer in &self.writers {
            writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        }
        for pool in &self.pools {
            pool.close().await;
        }
    }

    /// The file the writer appends to now (0 or 1).
    #[cfg(test)]
    pub(crate) fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    /// How many times file `index`'s WAL has been started over by [`Self::prepare`].
    #[cfg(test)]
    pub(crate) async fn restarts(&self, index: usize) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT n FROM wal_restarts WHERE id = 1")
                .fetch_one(&self.pools[index])
                .await?,
        )
    }

    /// Decisions stored in file `index`.
    #[cfg(test)]
    pub(crate) async fn count(&self, index: usize) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM decisions")
            .fetch_one(&self.pools[index])
            .await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::Store;

    fn rows(tag: &str, n: usize) -> Vec<NewDecision> {
        (0..n)
            .map(|i| NewDecision {
                id: crate::new_id("dec"),
                at_ms: 1,
                key_id: "key_test".into(),
                request: format!("{{\"tag\":\"{tag}\",\"i\":{i}}}"),
                decision: "{}".into(),
                snapshot: "x".repeat(2_000),
            })
            .collect()
    }

    /// Frames in file `index`'s WAL, and how many of them are copied back.
    async fn wal(files: &DecisionFiles, index: usize) -> (i64, i64) {
        let (_, frames, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&files.pools[index])
            .await
            .unwrap();
        (frames, copied)
    }

    /// A SQLite store in a new folder, and its decision files, made ready only by hand.
    async fn store() -> (tempfile::TempDir, Store, Arc<DecisionFiles>) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("encore.db").display());
        let store = Store::open(&url).await.unwrap();
        let files: Arc<DecisionFiles> = store.decision_files.clone().unwrap();
        files.background.store(false, Ordering::Relaxed);
        (dir, store, files)
    }

    #[tokio::test]
    async fn the_writer_alternates_files_and_every_decision_stays_readable() {
        let (dir, store, files) = store().await;
        assert_eq!(
            store.decision_file_paths(),
            vec![
                dir.path().join("encore-decisions-0.db"),
                dir.path().join("encore-decisions-1.db")
            ]
        );
        files.set_turn_frames(1);
        let mut written = Vec::new();
        let mut write = |tag: &'static str| {
            let batch = rows(tag, 3);
            written.extend(batch.iter().map(|r| r.id.clone()));
            files.write(&batch).unwrap();
        };

        // The other file is not ready yet, so the writer stays where it is.
        write("a");
        assert_eq!(files.active(), 0);
        assert!(files.prepare(1).await.unwrap());
        assert_eq!(files.restarts(1).await.unwrap(), 1);
        // It moves after the write that ends its turn, and only when the other is ready.
        write("b");
        assert_eq!(files.active(), 1);
        write("c");
        assert_eq!(files.active(), 1);

        // A reader with a transaction open on file 0 keeps its WAL from starting over: not
        // ready, and the writer keeps to file 1.
        let mut reader = files.pools[0].begin().await.unwrap();
        let _: i64 = sqlx::query_scalar("SELECT count(*) FROM decisions")
            .fetch_one(&mut *reader)
            .await
            .unwrap();
        assert!(!files.prepare(0).await.unwrap());
        write("d");
        assert_eq!(files.active(), 1);
        reader.rollback().await.unwrap();

        let (frames, _) = wal(&files, 0).await;
        assert!(
            frames > 4,
            "file 0's WAL holds its writes until it is started over"
        );
        assert!(files.prepare(0).await.unwrap());
        let (frames, copied) = wal(&files, 0).await;
        assert!(
            frames <= 4 && copied == frames,
            "WAL started over: {frames} frames"
        );
        write("e");
        assert_eq!(files.active(), 0);
        write("f");

        assert_eq!(files.count(0).await.unwrap(), 9, "a, b and f");
        assert_eq!(files.count(1).await.unwrap(), 9, "c, d and e");
        for id in &written {
            let found = store.decision(id).await.unwrap().expect("stored");
            assert_eq!(&found.id, id);
        }
        assert!(store.decision("dec_missing").await.unwrap().is_none());
        store.close().await;
    }

    #[tokio::test]
    async fn a_batch_is_written_whole_or_not_at_all_at_any_size() {
        let (_dir, store, files) = store().await;
        for n in [1, 5, 64, 70] {
            let batch = rows("size", n);
            files.write(&batch).unwrap();
            for r in &batch {
                assert!(
                    store.decision(&r.id).await.unwrap().is_some(),
                    "batch of {n}"
                );
            }
            // The same batch again clashes on its last row's id: nothing of it is written
            // twice, and nothing new either.
            let mut again = rows("again", n);
            again.last_mut().unwrap().id = batch[0].id.clone();
            let before = files.count(0).await.unwrap();
            assert!(files.write(&again).is_err());
            assert_eq!(files.count(0).await.unwrap(), before, "batch of {n}");
            assert!(store.decision(&again[0].id).await.unwrap().is_none() || n == 1);
        }
        store.close().await;
    }

    #[tokio::test]
    async fn the_pool_insert_stores_a_batch_whole_or_not_at_all() {
        let (_dir, store, _) = store().await;
        let crate::Pool::Sqlite(pool) = &store.pool else {
            unreachable!()
        };
        let batch = rows("pooled", 5);
        sql::insert_decisions(pool, &batch).await.unwrap();
        let mut again = rows("pooled-again", 5);
        again.last_mut().unwrap().id = batch[0].id.clone();
        assert!(sql::insert_decisions(pool, &again).await.is_err());
        for r in &batch {
            assert!(store.decision(&r.id).await.unwrap().is_some());
        }
        assert!(store.decision(&again[0].id).await.unwrap().is_none());
        store.close().await;
    }

    #[tokio::test]
    async fn decisions_stored_in_the_main_file_before_stay_readable() {
        let (_dir, store, _) = store().await;
        let crate::Pool::Sqlite(pool) = &store.pool else {
            unreachable!()
        };
        let old = rows("old", 1);
        sql::insert_decisions(pool, &old).await.unwrap();
        let found = store.decision(&old[0].id).await.unwrap().expect("found");
        assert_eq!(found.request, old[0].request);
        store.close().await;
    }
}
