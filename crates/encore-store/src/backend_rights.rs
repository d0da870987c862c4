//! The SQL of agreements and participation, written once and compiled for each engine, like
//! `backend.rs`. Documents are encoded and decoded in `rights.rs`; this file moves text.

macro_rules! backend_rights {
    ($m:ident, $Db:ty, $sqlite:expr) => {
        pub(crate) mod $m {
            use sqlx::Row;

            use crate::rights::{AgreementRow, ParticipationRow};
            use crate::{now_ms, StoreError};

            type Db = $Db;
            type P = sqlx::Pool<Db>;
            type DbRow = <Db as sqlx::Database>::Row;

            fn placeholders(n: usize) -> String {
                crate::placeholders($sqlite, 0, n)
            }

            async fn party_exists(p: &P, id: &str) -> Result<bool, StoreError> {
                let found = sqlx::query("SELECT 1 FROM parties WHERE id = $1").bind(id).fetch_optional(p).await?;
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

            pub async fn insert_agreement(
                p: &P,
                id: &str,
                licensor: &str,
                terms: &str,
                created_by: Option<&str>,
            ) -> Result<(), StoreError> {
                if !party_exists(p, licensor).await? {
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
                .execute(p)
                .await?;
                Ok(())
            }

            pub async fn get_agreement(p: &P, id: &str) -> Result<Option<AgreementRow>, StoreError> {
                let sql = format!("SELECT {AGREEMENT_COLS} FROM agreements WHERE id = $1");
                let row = sqlx::query(&sql).bind(id).fetch_optional(p).await?;
                row.as_ref().map(agreement_from_row).transpose()
            }

            /// Moves an agreement from status `from` to `to`; does nothing in any other status.
            pub async fn set_agreement_status(
                p: &P,
                id: &str,
                from: &str,
                to: &str,
                revoked_at_ms: Option<i64>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "UPDATE agreements SET status = $3, revoked_at_ms = COALESCE($4, revoked_at_ms), updated_at_ms = $5 \
                     WHERE id = $1 AND status = $2",
                )
                .bind(id)
                .bind(from)
                .bind(to)
                .bind(revoked_at_ms)
                .bind(now_ms())
                .execute(p)
                .await?;
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

            pub async fn upsert_participation(
                p: &P,
                party: &str,
                document: &str,
                by: Option<&str>,
            ) -> Result<(), StoreError> {
                if !party_exists(p, party).await? {
                    return Err(StoreError::NotFound { what: "party" });
                }
                sqlx::query(
                    "INSERT INTO participation (party_id, document, updated_by, updated_at_ms) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (party_id) DO UPDATE SET document = excluded.document, \
                     updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms",
                )
                .bind(party)
                .bind(document)
                .bind(by)
                .bind(now_ms())
                .execute(p)
                .await?;
                Ok(())
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
        }
    };
}

backend_rights!(sqlite, sqlx::Sqlite, true);
backend_rights!(postgres, sqlx::Postgres, false);
