//! The SQL of agreements and participation, written once and compiled for each engine, like
//! `backend.rs`. Documents are encoded and decoded in `rights.rs`; this file moves text.

macro_rules! backend_rights {
    ($m:ident, $Db:ty, $sqlite:expr) => {
        pub(crate) mod $m {
            use sqlx::Row;

            use crate::audit::{agreement_json, participation_json, NewAudit};
            use crate::backend_audit::$m::{append, BEGIN_WRITE};
            use crate::rights::{AgreementRow, ParticipationRow};
            use crate::{now_ms, StoreError};

            type Db = $Db;
            type P = sqlx::Pool<Db>;
            type Conn = <Db as sqlx::Database>::Connection;
            type DbRow = <Db as sqlx::Database>::Row;

            fn placeholders(n: usize) -> String {
                crate::placeholders($sqlite, 0, n)
            }

            async fn party_exists(c: &mut Conn, id: &str) -> Result<bool, StoreError> {
                let found = sqlx::query("SELECT 1 FROM parties WHERE id = $1").bind(id).fetch_optional(&mut *c).await?;
                Ok(found.is_some())
            }

            // ---------- agreements ----------

            const AGREEMENT_COLS: &str =
                "id, licensor_id, status, revoked_at_ms, terms, created_by, created_at_ms, updated_at_ms";

            fn agreement_from_row(row: &DbRow) -> Result<AgreementRow, StoreError> {
                Ok(AgreementRow {
                    id: row.try_get("id")?,
                    licensor_id: row.try_get("licensor_id")?,
                    status: row.try_get("status")?,
                    revoked_at_ms: row.try_get("revoked_at_ms")?,
                    terms: row.try_get("terms")?,
                    created_by: row.try_get("created_by")?,
                    created_at_ms: row.try_get("created_at_ms")?,
                    updated_at_ms: row.try_get("updated_at_ms")?,
                })
            }

            /// Stores a proposal and its audit entry in one transaction.
            pub async fn insert_agreement(
                p: &P,
                id: &str,
                licensor: &str,
                terms: &str,
                created_by: Option<&str>,
            ) -> Result<(), StoreError> {
                let mut tx = p.begin_with(BEGIN_WRITE).await?;
                if !party_exists(&mut tx, licensor).await? {
                    return Err(StoreError::Invalid {
                        field: "licensor".into(),
                        message: format!("no party has id '{licensor}'"),
                    });
                }
                sqlx::query(
                    "INSERT INTO agreements (id, licensor_id, status, revoked_at_ms, terms, created_by, created_at_ms, updated_at_ms) \
                     VALUES ($1, $2, 'proposed', NULL, $3, $4, $5, $5)",
                )
                .bind(id)
                .bind(licensor)
                .bind(terms)
                .bind(created_by)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                let after = agreement_in(&mut tx, id).await?.ok_or(StoreError::NotFound { what: "agreement" })?;
                append(&mut tx, &NewAudit {
                    key_id: created_by,
                    action: "agreement.propose",
                    subject_kind: "agreement",
                    subject_id: id,
                    parties: &[licensor],
                    before: None,
                    after: agreement_json(&after),
                })
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn agreement_in(c: &mut Conn, id: &str) -> Result<Option<AgreementRow>, StoreError> {
                let sql = format!("SELECT {AGREEMENT_COLS} FROM agreements WHERE id = $1");
                let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await?;
                row.as_ref().map(agreement_from_row).transpose()
            }

            pub async fn get_agreement(p: &P, id: &str) -> Result<Option<AgreementRow>, StoreError> {
                let sql = format!("SELECT {AGREEMENT_COLS} FROM agreements WHERE id = $1");
                let row = sqlx::query(&sql).bind(id).fetch_optional(p).await?;
                row.as_ref().map(agreement_from_row).transpose()
            }

            /// Moves an agreement from status `from` to `to`, with an audit entry `action` by
            /// `by`, in one transaction; does nothing (and logs nothing) in any other status.
            pub async fn set_agreement_status(
                p: &P,
                id: &str,
                from: &str,
                to: &str,
                revoked_at_ms: Option<i64>,
                by: Option<&str>,
                action: &str,
            ) -> Result<(), StoreError> {
                let mut tx = p.begin_with(BEGIN_WRITE).await?;
                let Some(before) = agreement_in(&mut tx, id).await? else {
                    return Ok(());
                };
                let done = sqlx::query(
                    "UPDATE agreements SET status = $3, revoked_at_ms = COALESCE($4, revoked_at_ms), updated_at_ms = $5 \
                     WHERE id = $1 AND status = $2",
                )
                .bind(id)
                .bind(from)
                .bind(to)
                .bind(revoked_at_ms)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(());
                }
                let after = agreement_in(&mut tx, id).await?.ok_or(StoreError::NotFound { what: "agreement" })?;
                append(&mut tx, &NewAudit {
                    key_id: by,
                    action,
                    subject_kind: "agreement",
                    subject_id: id,
                    parties: &[before.licensor_id.as_str()],
                    before: Some(agreement_json(&before)),
                    after: agreement_json(&after),
                })
                .await?;
                tx.commit().await?;
                Ok(())
            }

            pub async fn agreements_by_licensors(p: &P, licensors: &[String]) -> Result<Vec<AgreementRow>, StoreError> {
                if licensors.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "SELECT {AGREEMENT_COLS} FROM agreements WHERE licensor_id IN ({}) ORDER BY id",
                    placeholders(licensors.len())
                );
                let mut query = sqlx::query(&sql);
                for id in licensors {
                    query = query.bind(id);
                }
                query.fetch_all(p).await?.iter().map(agreement_from_row).collect()
            }

            // ---------- participation ----------

            fn participation_from_row(row: &DbRow) -> Result<ParticipationRow, StoreError> {
                Ok(ParticipationRow {
                    party_id: row.try_get("party_id")?,
                    document: row.try_get("document")?,
                    updated_by: row.try_get("updated_by")?,
                    updated_at_ms: row.try_get("updated_at_ms")?,
                })
            }

            /// Replaces a participation document and logs the change, in one transaction.
            pub async fn upsert_participation(
                p: &P,
                party: &str,
                document: &str,
                by: Option<&str>,
            ) -> Result<(), StoreError> {
                let mut tx = p.begin_with(BEGIN_WRITE).await?;
                if !party_exists(&mut tx, party).await? {
                    return Err(StoreError::NotFound { what: "party" });
                }
                let before = participation_in(&mut tx, party).await?;
                sqlx::query(
                    "INSERT INTO participation (party_id, document, updated_by, updated_at_ms) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (party_id) DO UPDATE SET document = excluded.document, \
                     updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms",
                )
                .bind(party)
                .bind(document)
                .bind(by)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                let after = participation_in(&mut tx, party).await?.ok_or(StoreError::NotFound { what: "participation" })?;
                append(&mut tx, &NewAudit {
                    key_id: by,
                    action: "participation.set",
                    subject_kind: "participation",
                    subject_id: party,
                    parties: &[party],
                    before: before.as_ref().map(participation_json),
                    after: participation_json(&after),
                })
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn participation_in(c: &mut Conn, party: &str) -> Result<Option<ParticipationRow>, StoreError> {
                let row = sqlx::query(
                    "SELECT party_id, document, updated_by, updated_at_ms FROM participation WHERE party_id = $1",
                )
                .bind(party)
                .fetch_optional(&mut *c)
                .await?;
                row.as_ref().map(participation_from_row).transpose()
            }

            pub async fn get_participation(p: &P, party: &str) -> Result<Option<ParticipationRow>, StoreError> {
                let row = sqlx::query(
                    "SELECT party_id, document, updated_by, updated_at_ms FROM participation WHERE party_id = $1",
                )
                .bind(party)
                .fetch_optional(p)
                .await?;
                row.as_ref().map(participation_from_row).transpose()
            }

            pub async fn participation_by_parties(p: &P, parties: &[String]) -> Result<Vec<ParticipationRow>, StoreError> {
                if parties.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "SELECT party_id, document, updated_by, updated_at_ms FROM participation WHERE party_id IN ({})",
                    placeholders(parties.len())
                );
                let mut query = sqlx::query(&sql);
                for id in parties {
                    query = query.bind(id);
                }
                query.fetch_all(p).await?.iter().map(participation_from_row).collect()
            }

            // ---------- warm-up of the in-memory copies ----------

            /// Every row `cache.rs` needs to hold the whole catalog's rights facts, streamed.
            pub async fn warm_rows(p: &P) -> Result<crate::cache::WarmRows, StoreError> {
                use futures::TryStreamExt;
                let mut w = crate::cache::WarmRows::default();
                let mut rows = sqlx::query("SELECT id FROM recordings").fetch(p);
                while let Some(r) = rows.try_next().await? {
                    w.recordings.push(r.try_get(0)?);
                }
                drop(rows);
                let mut rows = sqlx::query("SELECT id FROM works").fetch(p);
                while let Some(r) = rows.try_next().await? {
                    w.works.push(r.try_get(0)?);
                }
                drop(rows);
                let mut rows = sqlx::query("SELECT id, kind FROM parties").fetch(p);
                while let Some(r) = rows.try_next().await? {
                    w.parties.push((r.try_get(0)?, r.try_get(1)?));
                }
                drop(rows);
                for (sql, out) in [
                    ("SELECT recording_id, party_id, share_ppm FROM recording_splits ORDER BY recording_id, position", &mut w.recording_splits),
                    ("SELECT recording_id, party_id, CAST(0 AS BIGINT) FROM recording_artists ORDER BY recording_id, position", &mut w.recording_artists),
                    ("SELECT recording_id, work_id, CAST(0 AS BIGINT) FROM recording_works ORDER BY recording_id, position", &mut w.recording_works),
                    ("SELECT work_id, party_id, share_ppm FROM work_splits ORDER BY work_id, position", &mut w.work_splits),
                    ("SELECT work_id, party_id, CAST(0 AS BIGINT) FROM work_writers ORDER BY work_id, position", &mut w.work_writers),
                ] {
                    let mut rows = sqlx::query(sql).fetch(p);
                    while let Some(r) = rows.try_next().await? {
                        out.push((r.try_get(0)?, r.try_get(1)?, r.try_get::<i64, _>(2)?));
                    }
                }
                let sql = format!("SELECT {AGREEMENT_COLS} FROM agreements ORDER BY id");
                let mut rows = sqlx::query(&sql).fetch(p);
                while let Some(r) = rows.try_next().await? {
                    w.agreements.push(agreement_from_row(&r)?);
                }
                drop(rows);
                let mut rows = sqlx::query("SELECT party_id, document, updated_by, updated_at_ms FROM participation").fetch(p);
                while let Some(r) = rows.try_next().await? {
                    w.participation.push(participation_from_row(&r)?);
                }
                Ok(w)
            }

            // ---------- delegation ----------

            async fn delegates_in(c: &mut Conn, party: &str) -> Result<Vec<String>, StoreError> {
                let rows = sqlx::query(
                    "SELECT partner_id FROM participation_delegates WHERE party_id = $1 ORDER BY partner_id",
                )
                .bind(party)
                .fetch_all(&mut *c)
                .await?;
                rows.iter().map(|r| Ok(r.try_get("partner_id")?)).collect()
            }

            pub async fn get_delegates(p: &P, party: &str) -> Result<Vec<String>, StoreError> {
                let mut c = p.acquire().await?;
                delegates_in(&mut c, party).await
            }

            /// Replaces the partners `party` delegates participation changes to, and logs the
            /// change, in one transaction. Every partner must be an organisation party.
            pub async fn replace_delegates(
                p: &P,
                party: &str,
                partners: &[String],
                by: Option<&str>,
            ) -> Result<(), StoreError> {
                let mut tx = p.begin_with(BEGIN_WRITE).await?;
                if !party_exists(&mut tx, party).await? {
                    return Err(StoreError::NotFound { what: "party" });
                }
                for (i, partner) in partners.iter().enumerate() {
                    let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM parties WHERE id = $1")
                        .bind(partner)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let problem = match kind.as_deref() {
                        None => format!("no party has id '{partner}'"),
                        Some("organisation") => continue,
                        Some(_) => format!("'{partner}' is a person; delegates are partner organisations"),
                    };
                    return Err(StoreError::Invalid { field: format!("partners[{i}]"), message: problem });
                }
                let before = delegates_in(&mut tx, party).await?;
                sqlx::query("DELETE FROM participation_delegates WHERE party_id = $1")
                    .bind(party)
                    .execute(&mut *tx)
                    .await?;
                for partner in partners {
                    sqlx::query(
                        "INSERT INTO participation_delegates (party_id, partner_id) VALUES ($1, $2) \
                         ON CONFLICT (party_id, partner_id) DO NOTHING",
                    )
                    .bind(party)
                    .bind(partner)
                    .execute(&mut *tx)
                    .await?;
                }
                let after = delegates_in(&mut tx, party).await?;
                let mut parties: Vec<&str> = vec![party];
                for id in before.iter().chain(&after) {
                    if !parties.contains(&id.as_str()) {
                        parties.push(id);
                    }
                }
                append(&mut tx, &NewAudit {
                    key_id: by,
                    action: "participation.delegate",
                    subject_kind: "participation",
                    subject_id: party,
                    parties: &parties,
                    before: Some(serde_json::json!({"party": party, "partners": before}).to_string()),
                    after: serde_json::json!({"party": party, "partners": after}).to_string(),
                })
                .await?;
                tx.commit().await?;
                Ok(())
            }

            // ---------- the use table ----------

            async fn use_table_in(c: &mut Conn) -> Result<Option<String>, StoreError> {
                let doc = sqlx::query_scalar("SELECT document FROM use_table WHERE id = 1")
                    .fetch_optional(&mut *c)
                    .await?;
                Ok(doc)
            }

            pub async fn get_use_table(p: &P) -> Result<Option<String>, StoreError> {
                let mut c = p.acquire().await?;
                use_table_in(&mut c).await
            }

            /// Replaces the stored use table and logs the change (before: the stored table,
            /// or `default` when none was stored), in one transaction.
            pub async fn replace_use_table(
                p: &P,
                document: &str,
                default: &str,
                by: Option<&str>,
            ) -> Result<(), StoreError> {
                let mut tx = p.begin_with(BEGIN_WRITE).await?;
                let before = use_table_in(&mut tx).await?.unwrap_or_else(|| default.to_owned());
                sqlx::query(
                    "INSERT INTO use_table (id, document, updated_by, updated_at_ms) VALUES (1, $1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET document = excluded.document, \
                     updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms",
                )
                .bind(document)
                .bind(by)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                append(&mut tx, &NewAudit {
                    key_id: by,
                    action: "use_table.set",
                    subject_kind: "use_table",
                    subject_id: "use_table",
                    parties: &[],
                    before: Some(before),
                    after: document.to_owned(),
                })
                .await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

backend_rights!(sqlite, sqlx::Sqlite, true);
backend_rights!(postgres, sqlx::Postgres, false);
