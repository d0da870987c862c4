//! encore's system of record: the storage API and its two implementations.
//!
//! One [`Store`] speaks to SQLite (the embedded default) or PostgreSQL (the scaled mode), chosen
//! by the database URL. Both run the same SQL text where the dialects agree (numbered `$n`
//! parameters, `ON CONFLICT`, `RETURNING`); each backend has its own append-only migrations.
//! Nothing outside this crate sees a SQL type: callers get the records defined here, with domain
//! types from `encore-core` already validated.

mod audit;
mod backend;
mod backend_audit;
mod backend_models;
mod backend_rights;
mod cache;
mod catalog;
mod decision_files;
mod import;
mod keys;
mod models;
mod records;
mod rights;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use audit::{AuditEntry, AuditReport, DecisionRecord, GENESIS_HASH, canonical_text};
pub use cache::{Consulted, Copies, RightsReader, WarmReport};
pub use import::{
    ImportBatch, ImportOutcome, ImportParty, ImportRecording, ImportRowError, ImportWork, Importer,
};
pub use keys::{ApiKey, CreatedKey, NewKey};
pub use models::ModelRecord;
pub use records::*;
pub use rights::{AgreementRecord, ParticipationRecord};

/// Named limits of the store.
pub mod limits {
    /// Largest page a list call returns.
    pub const PAGE_SIZE_MAX: u32 = 200;
    /// Page size when the caller does not say.
    pub const PAGE_SIZE_DEFAULT: u32 = 50;
    /// Most rows of one kind written in one import batch.
    pub const IMPORT_BATCH_ROWS_MAX: usize = 2_000;
    /// Most parties, writers, artists or works one work or recording may list.
    pub const RELATIONS_PER_ITEM_MAX: usize = 64;
    /// Connections in the PostgreSQL pool.
    pub const PG_POOL_CONNECTIONS_MAX: u32 = 16;
    /// A pooled PostgreSQL connection idle this long is pinged before it is handed out.
    pub const PG_PING_IDLE_AFTER: std::time::Duration = std::time::Duration::from_secs(10);
    /// Connections in the SQLite pool (readers; SQLite serialises writers).
    pub const SQLITE_POOL_CONNECTIONS_MAX: u32 = 8;
    /// WAL frames (16 KiB pages) at which `encore serve`'s checkpointer starts the WAL file
    /// over (`Store::spawn_checkpointer`): 256 MiB.
    pub const WAL_RESTART_FRAMES: i64 = 16_384;
    /// On SQLite, the estimated WAL frames (4 KiB pages) the decision writer appends to one
    /// of the two decision files before it moves to the other: 512 KiB, about 25 ms of
    /// 4-input checks at 5,000/s, so that the other file's checkpoint is a 3-5 ms burst
    /// instead of a 100 ms one that the checks around it wait behind (BENCHMARKS.md).
    pub const DECISION_FILE_TURN_FRAMES: u64 = 128;
}

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// A unique field already has that value elsewhere.
    #[error("another {what} already has this {field}")]
    Conflict {
        what: &'static str,
        field: &'static str,
    },
    /// The input names something that does not exist (a party, a work).
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The database URL cannot be used.
    #[error("database URL cannot be used: {0}")]
    Config(String),
    /// The database failed; the cause is logged by the caller, never shown to clients.
    #[error("database error: {0}")]
    Backend(#[from] sqlx::Error),
    /// A write shared with other callers (a group commit) failed; the cause is logged.
    #[error("database error: {0}")]
    Write(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in WAL mode.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Calls the function of the same name in the backend module that matches the pool.
macro_rules! dispatch {
    ($self:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match &$self.pool {
            $crate::Pool::Sqlite(p) => $crate::backend::sqlite::$f(p, $($arg),*).await,
            $crate::Pool::Postgres(p) => $crate::backend::postgres::$f(p, $($arg),*).await,
        }
    };
}
pub(crate) use dispatch;

/// The system of record.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: Pool,
    /// Copies of what decisions and authentication read (`cache.rs`), shared by clones.
    pub(crate) cache: std::sync::Arc<cache::Cache>,
    /// Decisions waiting to be written together (`audit.rs`), shared by clones.
    pub(crate) decisions: std::sync::Arc<audit::GroupCommit>,
    /// On SQLite, the two files decisions are written to (`decision_files.rs`).
    pub(crate) decision_files: Option<std::sync::Arc<decision_files::DecisionFiles>>,
}

impl Store {
    /// Connects to `url` (`sqlite://path`, a bare file path, or `postgres://…`) and applies any
    /// pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options =
                PgConnectOptions::from_str(url).map_err(|e| StoreError::Config(e.to_string()))?;
            let pool = PgPoolOptions::new()
                .max_connections(limits::PG_POOL_CONNECTIONS_MAX)
                .acquire_timeout(Duration::from_secs(10))
                // sqlx pings every connection it hands out by default: a round trip to the
                // server before each statement. Ping only one that sat idle long enough to
                // have been dropped (a restarted server, a proxy's idle timeout); a connection
                // that fails anyway fails its statement, which reports the error, and is
                // closed.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= limits::PG_PING_IDLE_AFTER {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect_with(options)
                .await?;
            return Ok(Self::with_pool(Pool::Postgres(pool), None));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.contains("://") {
            return Err(StoreError::Config(format!(
                "'{url}' is neither sqlite:// nor postgres://; use one of those"
            )));
        }
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    StoreError::Config(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .page_size(16384)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // A 64 MiB page cache and memory-mapped reads keep index lookups (ISRC, refs) off
            // the read syscall path during imports; SQLite's default cache is 2 MiB.
            .pragma("cache_size", "-524288")
            .pragma("mmap_size", "1073741824")
            .pragma("temp_store", "memory")
            // A commit checkpoints once the WAL passes 512 MiB (32,768 pages of 16 KiB), so a
            // page rewritten by consecutive transactions is copied back once; `encore serve`
            // checkpoints and restarts the WAL sooner from a task of its own
            // (`spawn_checkpointer`), keeping that work out of requests. The importer's
            // connection lets the WAL grow further.
            .pragma("wal_autocheckpoint", "32768");
        let pool = SqlitePoolOptions::new()
            .max_connections(limits::SQLITE_POOL_CONNECTIONS_MAX)
            .connect_with(options)
            .await?;
        let files = if path == ":memory:" || path.is_empty() {
            None
        } else {
            let files = decision_files::DecisionFiles::open(std::path::Path::new(path)).await?;
            Some(std::sync::Arc::new(files))
        };
        Ok(Self::with_pool(Pool::Sqlite(pool), files))
    }

    fn with_pool(
        pool: Pool,
        decision_files: Option<std::sync::Arc<decision_files::DecisionFiles>>,
    ) -> Self {
        Self {
            pool,
            cache: Default::default(),
            decisions: Default::default(),
            decision_files,
        }
    }

    /// On SQLite, the two files decisions are written to, beside the main database file
    /// (`<name>-decisions-0.db` and `-1.db`); none on PostgreSQL.
    pub fn decision_file_paths(&self) -> Vec<std::path::PathBuf> {
        self.decision_files
            .as_ref()
            .map(|f| f.paths().to_vec())
            .unwrap_or_default()
    }

    /// On SQLite, how many estimated WAL frames (4 KiB) the decision writer appends to one
    /// decision file before it moves to the other (default
    /// [`limits::DECISION_FILE_TURN_FRAMES`]). Tests make it small to see many turns.
    pub fn set_decision_file_turn(&self, frames: u64) {
        if let Some(files) = &self.decision_files {
            files.set_turn_frames(frames);
        }
    }

    /// Applies pending migrations of this backend. Safe to run again.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Checks that the database answers, for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ())?,
            Pool::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ())?,
        }
        Ok(())
    }

    /// On SQLite, checkpoints the WAL from a task of its own every `every`, so that copying
    /// the WAL back into the database (and its fsync) never runs inside a request's commit.
    ///
    /// A passive checkpoint copies without blocking anyone, but under steady writes the WAL
    /// is never fully copied at the moment a writer starts, so SQLite never starts the file
    /// over and it grows until a commit's own automatic checkpoint does the whole job while
    /// holding the write lock (measured: a 150-250 ms stall at 256 MiB). So once the WAL
    /// holds [`limits::WAL_RESTART_FRAMES`] frames, the task restarts it itself right after a
    /// passive pass, when little is left to copy: writers wait only for that remainder and
    /// two fsyncs (measured: 10-25 ms, once per few seconds when decisions were written to
    /// this file at 5,000/s; they now have files of their own, `decision_files.rs`). The
    /// connections' automatic checkpoint stays as a backstop. Does nothing on PostgreSQL.
    /// The task ends when the store is closed.
    pub fn spawn_checkpointer(&self, every: Duration) {
        let Pool::Sqlite(pool) = &self.pool else {
            return;
        };
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !pool.is_closed() {
                tick.tick().await;
                // (busy, frames in the WAL, frames copied)
                let checkpoint = |mode: &'static str| {
                    sqlx::query_as::<_, (i64, i64, i64)>(mode).fetch_one(&pool)
                };
                let mut outcome = checkpoint("PRAGMA wal_checkpoint(PASSIVE)").await;
                if matches!(outcome, Ok((_, frames, _)) if frames >= limits::WAL_RESTART_FRAMES) {
                    outcome = checkpoint("PRAGMA wal_checkpoint(RESTART)").await;
                }
                if let Err(e) = outcome {
                    if pool.is_closed() {
                        break;
                    }
                    tracing::warn!(error = %e, "WAL checkpoint failed; the next commit will try");
                }
            }
        });
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
        if let Some(files) = &self.decision_files {
            files.close().await;
        }
    }
}

/// Whether an id could name a stored row. PostgreSQL text cannot hold a NUL character and no id
/// encore makes contains one, so such an id names nothing: lookups answer "not found" instead of
/// sending the database a value it refuses.
pub fn storable_id(id: &str) -> bool {
    !id.contains('\0')
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// A new time-ordered identifier with a kind prefix, e.g. `rec_06bq1w3k9f8c2xyz`.
///
/// 80 bits in 16 lowercase base-32 characters: 48 bits of Unix milliseconds, a 16-bit counter
/// that orders ids made in the same process within one millisecond, and 16 random bits drawn
/// once per process so that two processes do not collide. Ids sort by creation time, which
/// keeps index inserts at the right edge of the b-tree, and they are short: every relation row
/// holds two of them, so their length is most of the catalog's index size.
pub(crate) fn new_id(prefix: &str) -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    static NODE: OnceLock<u64> = OnceLock::new();
    let node = *NODE.get_or_init(|| u64::from(rand::random::<u16>()));
    let now = u64::try_from(now_ms()).unwrap_or(0) & 0xFFFF_FFFF_FFFF;
    // STATE packs (ms << 16 | counter); it only moves forward, so ids stay unique and ordered
    // even if the clock steps back or more than 65,536 ids are made in one millisecond.
    let packed = STATE
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |prev| {
            Some((now << 16).max(prev + 1))
        })
        .map(|prev| (now << 16).max(prev + 1))
        .unwrap_or(now << 16);
    let value = (u128::from(packed) << 16) | u128::from(node);
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let text: String = (0..16)
        .rev()
        .map(|i| ALPHABET[((value >> (i * 5)) & 31) as usize] as char)
        .collect();
    format!("{prefix}_{text}")
}

/// `$1, $2, …, $n` starting after `offset`, for IN lists; with `anonymous`, `?, ?, …`.
///
/// SQLite looks a numbered parameter's name up by walking a list, once per parameter, which
/// makes a statement with thousands of `$n` quadratic; anonymous `?` parameters skip that.
/// They bind in order, so they serve wherever the parameters appear in order.
pub(crate) fn placeholders(anonymous: bool, offset: usize, n: usize) -> String {
    if anonymous {
        return vec!["?"; n].join(", ");
    }
    (offset + 1..=offset + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows of `width` placeholders each, `($1, $2), ($3, $4)`, for multi-row inserts.
pub(crate) fn value_rows(anonymous: bool, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders(anonymous, r * width, width)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Maps a unique-constraint failure to the field that clashed.
pub(crate) fn conflict(err: sqlx::Error, what: &'static str) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        if db.is_unique_violation() {
            let text = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
            for field in ["isrc", "iswc", "ipi", "isni", "ext_ref"] {
                if text.contains(field) {
                    return StoreError::Conflict {
                        what,
                        field: if field == "ext_ref" { "ref" } else { field },
                    };
                }
            }
            return StoreError::Conflict { what, field: "id" };
        }
    }
    StoreError::Backend(err)
}

/// Escapes a user's search text for `LIKE … ESCAPE '\'` and lowercases it, matching the stored
/// lowercase columns on both engines.
pub(crate) fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_short_unique_and_ordered() {
        let ids: Vec<String> = (0..100_000).map(|_| super::new_id("rec")).collect();
        assert!(
            ids.iter()
                .all(|id| id.len() == 20 && id.starts_with("rec_"))
        );
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids sort in creation order"
        );
    }
}
