//! The SQL of the audit log and stored decisions, written once and compiled for each engine,
//! like `backend.rs`. Hashes and documents are made in `audit.rs`; this file moves text.

/// `insert_decisions` for each engine: on SQLite (only an in-memory store; file stores write
/// their decision files themselves, `decision_files.rs`) one prepared statement per row in one
/// transaction; on PostgreSQL one statement over arrays, whatever the number of rows.
macro_rules! insert_decisions {
    (true) => {
            /// Writes `rows` (the group commit of `audit.rs`) in one transaction, one row per
            /// statement: all are stored or none.
            pub async fn insert_decisions(p: &P, rows: &[crate::audit::NewDecision]) -> Result<(), StoreError> {
                if rows.is_empty() {
                    return Ok(());
                }
                let mut tx = p.begin().await?;
                for r in rows {
                    sqlx::query(
                        "INSERT INTO decisions (id, at_ms, key_id, request, decision, snapshot) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&r.id)
                    .bind(r.at_ms)
                    .bind(&r.key_id)
                    .bind(&r.request)
                    .bind(&r.decision)
                    .bind(&r.snapshot)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }
    };
    (false) => {
            /// Writes `rows` (the group commit of `audit.rs`) as one `INSERT … SELECT … FROM
            /// UNNEST` of six arrays: one statement whatever the number of rows, so one round
            /// trip and one commit per batch, and one prepared statement in the connection's
            /// cache. A single statement is atomic: all rows are stored or none.
            pub async fn insert_decisions(p: &P, rows: &[crate::audit::NewDecision]) -> Result<(), StoreError> {
                if rows.is_empty() {
                    return Ok(());
                }
                let column = |f: fn(&crate::audit::NewDecision) -> &str| rows.iter().map(f).collect::<Vec<&str>>();
                let at_ms: Vec<i64> = rows.iter().map(|r| r.at_ms).collect();
                sqlx::query(
                    "INSERT INTO decisions (id, at_ms, key_id, request, decision, snapshot) \
                     SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[])",
                )
                .bind(column(|r| &r.id))
                .bind(at_ms)
                .bind(column(|r| &r.key_id))
                .bind(column(|r| &r.request))
                .bind(column(|r| &r.decision))
                .bind(column(|r| &r.snapshot))
                .execute(p)
                .await?;
                Ok(())
            }
    };
}

macro_rules! backend_audit {
    ($m:ident, $Db:ty, $sqlite:tt) => {
        pub(crate) mod $m {
            use sqlx::Row;

            use crate::audit::{AuditEntry, DecisionRecord, NewAudit};
            use crate::{now_ms, StoreError};

            type Db = $Db;
            type P = sqlx::Pool<Db>;
            type Conn = <Db as sqlx::Database>::Connection;
            type DbRow = <Db as sqlx::Database>::Row;

            /// Any constant: the advisory lock that serialises appends on PostgreSQL.
            const APPEND_LOCK: i64 = 0x656e_636f_7265_a0d1;

            /// The statement that opens a transaction that will append: SQLite takes the write
            /// lock at once, so a reader never has to upgrade (and fail) mid-transaction.
            pub const BEGIN_WRITE: &str = if $sqlite { "BEGIN IMMEDIATE" } else { "BEGIN" };

            /// Appends an entry in the caller's transaction. On PostgreSQL a transaction-scoped
            /// advisory lock orders concurrent appends; SQLite has a single writer. The chain
            /// cannot fork either way: seq is the primary key.
            pub async fn append(conn: &mut Conn, new: &NewAudit<'_>) -> Result<(), StoreError> {
                if !$sqlite {
                    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(APPEND_LOCK).execute(&mut *conn).await?;
                }
                let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *conn)
                    .await?;
                let prev = match last {
                    Some(row) => Some((row.try_get::<i64, _>("seq")?, row.try_get::<String, _>("hash")?)),
                    None => None,
                };
                let e = new.chain(prev, now_ms());
                sqlx::query(
                    "INSERT INTO audit_log (seq, at_ms, key_id, action, subject_kind, subject_id, parties, before, after, prev_hash, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(e.seq)
                .bind(e.at_ms)
                .bind(&e.key_id)
                .bind(&e.action)
                .bind(&e.subject_kind)
                .bind(&e.subject_id)
                .bind(&e.parties)
                .bind(&e.before)
                .bind(&e.after)
                .bind(&e.prev_hash)
                .bind(&e.hash)
                .execute(&mut *conn)
                .await?;
                // An agreement's change is noted against its licensor, whose agreements a
                // cache holds together (including "none yet").
                let (kind, item) = match new.subject_kind {
                    "agreement" => ("licensor", new.parties.first().copied().unwrap_or_default()),
                    kind => (kind, new.subject_id),
                };
                note_change(conn, kind, item).await
            }

            /// Notes, in the caller's transaction, that `item` of `kind` changed (see
            /// migration 0007 and `cache.rs`). On PostgreSQL the audit log's advisory lock
            /// (re-entrant within a transaction) orders notes by commit; SQLite has one writer.
            pub async fn note_change(conn: &mut Conn, kind: &str, item: &str) -> Result<(), StoreError> {
                if !$sqlite {
                    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(APPEND_LOCK).execute(&mut *conn).await?;
                }
                sqlx::query("INSERT INTO changes (seq, kind, item) SELECT COALESCE(MAX(seq), 0) + 1, $1, $2 FROM changes")
                    .bind(kind)
                    .bind(item)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            /// Up to `limit` changes after `seq`, oldest first.
            pub async fn changes_since(p: &P, seq: i64, limit: i64) -> Result<Vec<(i64, String, String)>, StoreError> {
                let rows = sqlx::query("SELECT seq, kind, item FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(seq)
                    .bind(limit)
                    .fetch_all(p)
                    .await?;
                rows.iter()
                    .map(|r| Ok((r.try_get("seq")?, r.try_get("kind")?, r.try_get("item")?)))
                    .collect()
            }

            /// The latest change's seq, 0 when there is none.
            pub async fn last_change(p: &P) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(seq), 0) FROM changes").fetch_one(p).await?)
            }

            fn entry_from_row(row: &DbRow) -> Result<AuditEntry, StoreError> {
                Ok(AuditEntry {
                    seq: row.try_get("seq")?,
                    at_ms: row.try_get("at_ms")?,
                    key_id: row.try_get("key_id")?,
                    action: row.try_get("action")?,
                    subject_kind: row.try_get("subject_kind")?,
                    subject_id: row.try_get("subject_id")?,
                    parties: row.try_get("parties")?,
                    before: row.try_get("before")?,
                    after: row.try_get("after")?,
                    prev_hash: row.try_get("prev_hash")?,
                    hash: row.try_get("hash")?,
                })
            }

            /// `%"<id>"%` with LIKE's wildcards escaped: matches the id in a JSON list.
            fn party_pattern(id: &str) -> String {
                let mut out = String::from("%\"");
                for c in id.chars() {
                    if matches!(c, '%' | '_' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push_str("\"%");
                out
            }

            pub async fn audit_page(
                p: &P,
                parties: Option<&[String]>,
                after_seq: i64,
                limit: i64,
            ) -> Result<Vec<AuditEntry>, StoreError> {
                let filter = match parties {
                    None => String::new(),
                    Some(ids) => {
                        let ors: Vec<String> = (0..ids.len())
                            .map(|i| format!("parties LIKE ${} ESCAPE '\\'", i + 3))
                            .collect();
                        format!(" AND ({})", ors.join(" OR "))
                    }
                };
                let sql = format!(
                    "SELECT seq, at_ms, key_id, action, subject_kind, subject_id, parties, before, after, prev_hash, hash \
                     FROM audit_log WHERE seq > $1{filter} ORDER BY seq LIMIT $2"
                );
                let mut query = sqlx::query(&sql).bind(after_seq).bind(limit);
                for id in parties.unwrap_or_default() {
                    query = query.bind(party_pattern(id));
                }
                query.fetch_all(p).await?.iter().map(entry_from_row).collect()
            }

            insert_decisions!($sqlite);

            pub async fn get_decision(p: &P, id: &str) -> Result<Option<DecisionRecord>, StoreError> {
                let row = sqlx::query(
                    "SELECT id, at_ms, key_id, request, decision, snapshot FROM decisions WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(p)
                .await?;
                let Some(row) = row else { return Ok(None) };
                Ok(Some(DecisionRecord {
                    id: row.try_get("id")?,
                    at_ms: row.try_get("at_ms")?,
                    key_id: row.try_get("key_id")?,
                    request: row.try_get("request")?,
                    decision: row.try_get("decision")?,
                    snapshot: row.try_get("snapshot")?,
                }))
            }
        }
    };
}

backend_audit!(sqlite, sqlx::Sqlite, true);
backend_audit!(postgres, sqlx::Postgres, false);
