//! The SQL of registered models, written once and compiled for each engine, like `backend.rs`.
//! Documents are encoded and decoded in `models.rs`; this file moves text.

macro_rules! backend_models {
    ($m:ident, $Db:ty) => {
        pub(crate) mod $m {
            use sqlx::Row;

            use crate::audit::NewAudit;
            use crate::backend_audit::$m::{append, BEGIN_WRITE};
            use crate::models::{model_json, training_items, ModelRow, TRAINING_IDS_PER_QUERY};
            use crate::{now_ms, StoreError};

            type Db = $Db;
            type P = sqlx::Pool<Db>;
            type Conn = <Db as sqlx::Database>::Connection;
            type DbRow = <Db as sqlx::Database>::Row;

            const MODEL_COLS: &str = "id, name, uses, training, created_by, created_at_ms, updated_at_ms";

            fn model_from_row(row: &DbRow) -> Result<ModelRow, StoreError> {
                Ok(ModelRow {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    uses: row.try_get("uses")?,
                    training: row.try_get("training")?,
                    created_by: row.try_get("created_by")?,
                    created_at_ms: row.try_get("created_at_ms")?,
                    updated_at_ms: row.try_get("updated_at_ms")?,
                })
            }

            async fn model_in(c: &mut Conn, id: &str) -> Result<Option<ModelRow>, StoreError> {
                let sql = format!("SELECT {MODEL_COLS} FROM models WHERE id = $1");
                let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await?;
                row.as_ref().map(model_from_row).transpose()
            }

            /// The parties whose catalog items a training set (as stored text) names: the
            /// rightsholders and artists of its recordings, and the publishers and writers of
            /// its works and of the works those recordings embody.
            async fn training_parties(
                c: &mut Conn,
                training: &str,
                out: &mut std::collections::BTreeSet<String>,
            ) -> Result<(), StoreError> {
                let (recordings, works) = training_items(training);
                for chunk in recordings.chunks(TRAINING_IDS_PER_QUERY) {
                    // Numbered: each list appears more than once.
                    let list = crate::placeholders(false, 0, chunk.len());
                    let sql = format!(
                        "SELECT party_id FROM recording_splits WHERE recording_id IN ({list}) \
                         UNION SELECT party_id FROM recording_artists WHERE recording_id IN ({list}) \
                         UNION SELECT s.party_id FROM recording_works rw JOIN work_splits s ON s.work_id = rw.work_id \
                               WHERE rw.recording_id IN ({list}) \
                         UNION SELECT w.party_id FROM recording_works rw JOIN work_writers w ON w.work_id = rw.work_id \
                               WHERE rw.recording_id IN ({list})"
                    );
                    let mut q = sqlx::query_scalar::<_, String>(&sql);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    out.extend(q.fetch_all(&mut *c).await?);
                }
                for chunk in works.chunks(TRAINING_IDS_PER_QUERY) {
                    let list = crate::placeholders(false, 0, chunk.len());
                    let sql = format!(
                        "SELECT party_id FROM work_splits WHERE work_id IN ({list}) \
                         UNION SELECT party_id FROM work_writers WHERE work_id IN ({list})"
                    );
                    let mut q = sqlx::query_scalar::<_, String>(&sql);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    out.extend(q.fetch_all(&mut *c).await?);
                }
                Ok(())
            }

            /// Appends the audit entry for model `id` as it now stands in `c`'s transaction.
            /// The entry concerns every party behind a training item, before or after, so each
            /// can read that a model declares (or no longer declares) their catalog.
            async fn log_model(
                c: &mut Conn,
                id: &str,
                by: Option<&str>,
                action: &str,
                before: Option<&ModelRow>,
            ) -> Result<(), StoreError> {
                let after = model_in(c, id).await?.ok_or(StoreError::NotFound { what: "model" })?;
                let mut parties = std::collections::BTreeSet::new();
                if let Some(b) = before {
                    training_parties(c, &b.training, &mut parties).await?;
                }
                training_parties(c, &after.training, &mut parties).await?;
                let parties: Vec<&str> = parties.iter().map(String::as_str).collect();
                append(c, &NewAudit {
                    key_id: by,
                    action,
                    subject_kind: "model",
                    subject_id: id,
                    parties: &parties,
                    before: before.map(model_json),
                    after: model_json(&after),
                })
                .await
            }

            pub async fn insert_model(
                p: &P,
                id: &str,
                name: &str,
                uses: &str,
                training: &str,
                by: Option<&str>,
            ) -> Result<(), StoreError> {
                let mut tx = p.begin_with(BEGIN_WRITE).await?;
                sqlx::query(
                    "INSERT INTO models (id, name, uses, training, created_by, created_at_ms, updated_at_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6)",
                )
                .bind(id)
                .bind(name)
                .bind(uses)
                .bind(training)
                .bind(by)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                log_model(&mut tx, id, by, "model.register", None).await?;
                tx.commit().await?;
                Ok(())
            }

            /// Replaces a model's name, uses and training set with its audit entry, in one
            /// transaction. `NotFound` when there is no such model.
            pub async fn update_model(
                p: &P,
                id: &str,
                name: &str,
                uses: &str,
                training: &str,
                by: Option<&str>,
            ) -> Result<(), StoreError> {
                let mut tx = p.begin_with(BEGIN_WRITE).await?;
                let Some(before) = model_in(&mut tx, id).await? else {
                    return Err(StoreError::NotFound { what: "model" });
                };
                sqlx::query("UPDATE models SET name = $2, uses = $3, training = $4, updated_at_ms = $5 WHERE id = $1")
                    .bind(id)
                    .bind(name)
                    .bind(uses)
                    .bind(training)
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
                log_model(&mut tx, id, by, "model.update", Some(&before)).await?;
                tx.commit().await?;
                Ok(())
            }

            pub async fn get_model(p: &P, id: &str) -> Result<Option<ModelRow>, StoreError> {
                let sql = format!("SELECT {MODEL_COLS} FROM models WHERE id = $1");
                let row = sqlx::query(&sql).bind(id).fetch_optional(p).await?;
                row.as_ref().map(model_from_row).transpose()
            }

            /// Models with ids after `after`, in id order, at most `limit`.
            pub async fn list_models(p: &P, after: &str, limit: i64) -> Result<Vec<ModelRow>, StoreError> {
                let sql = format!("SELECT {MODEL_COLS} FROM models WHERE id > $1 ORDER BY id LIMIT $2");
                let rows = sqlx::query(&sql).bind(after).bind(limit).fetch_all(p).await?;
                rows.iter().map(model_from_row).collect()
            }
        }
    };
}

backend_models!(sqlite, sqlx::Sqlite);
backend_models!(postgres, sqlx::Postgres);
