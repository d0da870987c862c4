//! The SQL of the audit log and stored decisions, written once and compiled for each engine,
//! like `backend.rs`. Hashes and documents are made in `audit.rs`; this file moves text.

macro_rules! backend_audit {
    ($m:ident, $Db:ty, $sqlite:expr) => {
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
                Ok(())
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

            pub async fn insert_decision(
                p: &P,
                id: &str,
                key_id: &str,
                request: &str,
                decision: &str,
                snapshot: &str,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO decisions (id, at_ms, key_id, request, decision, snapshot) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(now_ms())
                .bind(key_id)
                .bind(request)
                .bind(decision)
                .bind(snapshot)
                .execute(p)
                .await?;
                Ok(())
            }

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
