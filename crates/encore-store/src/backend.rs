//! The SQL of the store, written once and compiled for each engine.
//!
//! `backend!` expands its body into one module per engine with that engine's concrete pool,
//! transaction and row types. The SQL text is shared: both engines accept `$n` parameters,
//! `ON CONFLICT … DO UPDATE`, `excluded.` and `LIKE … ESCAPE`. Anything engine-specific goes
//! in a migration, not here.

macro_rules! backend {
    ($m:ident, $Db:ty, $sqlite:expr) => {
        pub(crate) mod $m {
            #![allow(clippy::too_many_arguments)]
            use std::collections::{HashMap, HashSet};

            use encore_core::{Ipi, Isni, Isrc, Iswc, PartyKind, Role, Share, Splits};
            use sqlx::Row;

            use crate::import::{ImportBatch, ImportOutcome, ImportRowError};
            use crate::keys::{ApiKey, NewKey};
            use crate::records::*;
            use crate::{conflict, like_pattern, new_id, now_ms, StoreError};
            use crate::backend_audit::$m::note_change;

            fn placeholders(offset: usize, n: usize) -> String {
                crate::placeholders($sqlite, offset, n)
            }

            fn value_rows(rows: usize, width: usize) -> String {
                crate::value_rows($sqlite, rows, width)
            }

            type Db = $Db;
            type P = sqlx::Pool<Db>;
            type Tx<'a> = sqlx::Transaction<'a, Db>;
            type DbRow = <Db as sqlx::Database>::Row;

            fn corrupt(what: &str, value: &str) -> StoreError {
                StoreError::Backend(sqlx::Error::Decode(
                    format!("stored {what} '{value}' does not parse; the database was edited by hand").into(),
                ))
            }

            // ---------- parties ----------

            const PARTY_COLS: &str =
                "id, ext_ref, name, kind, ipi, isni, created_by, created_at_ms, updated_at_ms";

            fn party_from_row(row: &DbRow) -> Result<Party, StoreError> {
                let kind: String = row.try_get("kind")?;
                let ipi: Option<String> = row.try_get("ipi")?;
                let isni: Option<String> = row.try_get("isni")?;
                Ok(Party {
                    id: row.try_get("id")?,
                    fields: PartyInput {
                        ext_ref: row.try_get("ext_ref")?,
                        name: row.try_get("name")?,
                        kind: PartyKind::parse(&kind).map_err(|_| corrupt("party kind", &kind))?,
                        ipi: ipi.map(|v| Ipi::parse(&v).map_err(|_| corrupt("IPI", &v))).transpose()?,
                        isni: isni.map(|v| Isni::parse(&v).map_err(|_| corrupt("ISNI", &v))).transpose()?,
                    },
                    created_by: row.try_get("created_by")?,
                    created_at_ms: row.try_get("created_at_ms")?,
                    updated_at_ms: row.try_get("updated_at_ms")?,
                })
            }

            pub async fn insert_party(p: &P, input: &PartyInput, created_by: Option<&str>) -> Result<Party, StoreError> {
                let id = new_id("par");
                let now = now_ms();
                sqlx::query(
                    "INSERT INTO parties (id, ext_ref, name, name_lower, kind, ipi, isni, created_by, created_at_ms, updated_at_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                )
                .bind(&id)
                .bind(&input.ext_ref)
                .bind(&input.name)
                .bind(input.name.to_lowercase())
                .bind(input.kind.as_str())
                .bind(input.ipi.as_ref().map(|v| v.as_str().to_owned()))
                .bind(input.isni.as_ref().map(|v| v.as_str().to_owned()))
                .bind(created_by)
                .bind(now)
                .execute(p)
                .await
                .map_err(|e| conflict(e, "party"))?;
                get_party(p, &id).await?.ok_or(StoreError::NotFound { what: "party" })
            }

            pub async fn update_party(p: &P, id: &str, input: &PartyInput) -> Result<Party, StoreError> {
                let mut tx = p.begin().await?;
                let done = sqlx::query(
                    "UPDATE parties SET ext_ref = $2, name = $3, name_lower = $4, kind = $5, ipi = $6, isni = $7, \
                     updated_at_ms = $8 WHERE id = $1",
                )
                .bind(id)
                .bind(&input.ext_ref)
                .bind(&input.name)
                .bind(input.name.to_lowercase())
                .bind(input.kind.as_str())
                .bind(input.ipi.as_ref().map(|v| v.as_str().to_owned()))
                .bind(input.isni.as_ref().map(|v| v.as_str().to_owned()))
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict(e, "party"))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound { what: "party" });
                }
                note_change(&mut tx, "party", id).await?;
                tx.commit().await?;
                get_party(p, id).await?.ok_or(StoreError::NotFound { what: "party" })
            }

            pub async fn get_party(p: &P, id: &str) -> Result<Option<Party>, StoreError> {
                let sql = format!("SELECT {PARTY_COLS} FROM parties WHERE id = $1");
                let row = sqlx::query(&sql).bind(id).fetch_optional(p).await?;
                row.as_ref().map(party_from_row).transpose()
            }

            pub async fn list_parties(p: &P, query: &ListQuery) -> Result<Page<Party>, StoreError> {
                let limit = query.page_size();
                let sql = format!(
                    "SELECT {PARTY_COLS} FROM parties WHERE ($1 IS NULL OR id > $1) \
                     AND ($2 IS NULL OR name_lower LIKE $2 ESCAPE '\\') ORDER BY id LIMIT $3"
                );
                let rows = sqlx::query(&sql)
                    .bind(&query.cursor)
                    .bind(query.q.as_deref().map(like_pattern))
                    .bind(i64::from(limit) + 1)
                    .fetch_all(p)
                    .await?;
                let items = rows.iter().map(party_from_row).collect::<Result<Vec<_>, _>>()?;
                Ok(page(items, limit, |party| party.id.clone()))
            }

            /// The index of the first id in `ids` that names no party.
            async fn first_missing_party(tx: &mut Tx<'_>, ids: &[String]) -> Result<Option<usize>, StoreError> {
                let found = existing_ids(tx, "parties", ids).await?;
                Ok(ids.iter().position(|id| !found.contains(id)))
            }

            async fn existing_ids(tx: &mut Tx<'_>, table: &str, ids: &[String]) -> Result<HashSet<String>, StoreError> {
                let ids: Vec<&String> = ids.iter().filter(|id| crate::storable_id(id)).collect();
                if ids.is_empty() {
                    return Ok(HashSet::new());
                }
                let sql = format!("SELECT id FROM {table} WHERE id IN ({})", placeholders(0, ids.len()));
                let mut query = sqlx::query_scalar::<_, String>(&sql);
                for id in ids {
                    query = query.bind(id);
                }
                Ok(query.fetch_all(&mut **tx).await?.into_iter().collect())
            }

            fn page<T>(mut items: Vec<T>, limit: u32, id_of: impl Fn(&T) -> String) -> Page<T> {
                let more = items.len() > limit as usize;
                items.truncate(limit as usize);
                let next_cursor = if more { items.last().map(id_of) } else { None };
                Page { items, next_cursor }
            }

            fn splits_from(rows: Vec<(String, i64)>) -> Result<Option<Splits<String>>, StoreError> {
                if rows.is_empty() {
                    return Ok(None);
                }
                let entries = rows
                    .into_iter()
                    .map(|(party, ppm)| {
                        let share = u32::try_from(ppm)
                            .ok()
                            .and_then(|v| Share::from_ppm(v).ok())
                            .ok_or_else(|| corrupt("share", &ppm.to_string()))?;
                        Ok((party, share))
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                Splits::new(entries).map(Some).map_err(|e| corrupt("splits", &e.to_string()))
            }

            /// Loads `(owner_id, value, extra)` rows of a relation table for many owners at once.
            async fn relation_rows(
                p: &P,
                table: &str,
                owner_col: &str,
                value_col: &str,
                extra_col: Option<&str>,
                owners: &[String],
            ) -> Result<HashMap<String, Vec<(String, i64)>>, StoreError> {
                let mut out: HashMap<String, Vec<(String, i64)>> = HashMap::new();
                if owners.is_empty() {
                    return Ok(out);
                }
                let extra = extra_col.unwrap_or("CAST(0 AS BIGINT)");
                let sql = format!(
                    "SELECT {owner_col} AS owner, {value_col} AS value, {extra} AS extra FROM {table} \
                     WHERE {owner_col} IN ({}) ORDER BY {owner_col}, position",
                    placeholders(0, owners.len())
                );
                let mut query = sqlx::query(&sql);
                for id in owners {
                    query = query.bind(id);
                }
                for row in query.fetch_all(p).await? {
                    let owner: String = row.try_get("owner")?;
                    let value: String = row.try_get("value")?;
                    let extra: i64 = row.try_get("extra")?;
                    out.entry(owner).or_default().push((value, extra));
                }
                Ok(out)
            }

            async fn insert_relation(
                tx: &mut Tx<'_>,
                table: &str,
                owner_col: &str,
                value_col: &str,
                rows: &[(&str, &str, Option<i64>)],
            ) -> Result<(), StoreError> {
                let with_share = rows.first().is_some_and(|r| r.2.is_some());
                for chunk in rows.chunks(2_000) {
                    let width = if with_share { 4 } else { 3 };
                    let cols = if with_share {
                        format!("{owner_col}, {value_col}, share_ppm, position")
                    } else {
                        format!("{owner_col}, {value_col}, position")
                    };
                    let sql = format!("INSERT INTO {table} ({cols}) VALUES {}", value_rows(chunk.len(), width));
                    let mut query = sqlx::query(&sql);
                    let mut position: i64 = 0;
                    let mut last_owner = "";
                    for (owner, value, share) in chunk {
                        if *owner != last_owner {
                            position = 0;
                            last_owner = owner;
                        }
                        query = query.bind(*owner).bind(*value);
                        if with_share {
                            query = query.bind(share.unwrap_or(0));
                        }
                        query = query.bind(position);
                        position += 1;
                    }
                    query.execute(&mut **tx).await?;
                }
                Ok(())
            }

            async fn delete_relations(tx: &mut Tx<'_>, table: &str, owner_col: &str, owners: &[String]) -> Result<(), StoreError> {
                if owners.is_empty() {
                    return Ok(());
                }
                let sql = format!("DELETE FROM {table} WHERE {owner_col} IN ({})", placeholders(0, owners.len()));
                let mut query = sqlx::query(&sql);
                for id in owners {
                    query = query.bind(id);
                }
                query.execute(&mut **tx).await?;
                Ok(())
            }

            fn split_rows<'a>(owner: &'a str, splits: &'a Option<Splits<String>>) -> Vec<(&'a str, &'a str, Option<i64>)> {
                splits
                    .iter()
                    .flat_map(|s| s.entries())
                    .map(|(party, share)| (owner, party.as_str(), Some(i64::from(share.ppm()))))
                    .collect()
            }

            fn list_rows<'a>(owner: &'a str, values: &'a [String]) -> Vec<(&'a str, &'a str, Option<i64>)> {
                values.iter().map(|v| (owner, v.as_str(), None)).collect()
            }

            fn split_parties(splits: &Option<Splits<String>>) -> Vec<String> {
                splits.iter().flat_map(Splits::parties).cloned().collect()
            }

            async fn check_parties(tx: &mut Tx<'_>, field: &str, ids: &[String]) -> Result<(), StoreError> {
                if let Some(i) = first_missing_party(tx, ids).await? {
                    return Err(StoreError::Invalid {
                        field: format!("{field}[{i}]"),
                        message: format!("no party has id '{}'", ids[i]),
                    });
                }
                Ok(())
            }

            // ---------- works ----------

            const WORK_COLS: &str = "id, ext_ref, iswc, title, created_by, created_at_ms, updated_at_ms";

            async fn works_from_rows(p: &P, rows: Vec<DbRow>) -> Result<Vec<Work>, StoreError> {
                let ids = rows.iter().map(|r| r.try_get::<String, _>("id")).collect::<Result<Vec<_>, _>>()?;
                let mut writers = relation_rows(p, "work_writers", "work_id", "party_id", None, &ids).await?;
                let mut splits = relation_rows(p, "work_splits", "work_id", "party_id", Some("share_ppm"), &ids).await?;
                rows.iter()
                    .map(|row| {
                        let id: String = row.try_get("id")?;
                        let iswc: Option<String> = row.try_get("iswc")?;
                        Ok(Work {
                            fields: WorkInput {
                                ext_ref: row.try_get("ext_ref")?,
                                iswc: iswc.map(|v| Iswc::parse(&v).map_err(|_| corrupt("ISWC", &v))).transpose()?,
                                title: row.try_get("title")?,
                                writers: writers.remove(&id).unwrap_or_default().into_iter().map(|(v, _)| v).collect(),
                                splits: splits_from(splits.remove(&id).unwrap_or_default())?,
                            },
                            created_by: row.try_get("created_by")?,
                            created_at_ms: row.try_get("created_at_ms")?,
                            updated_at_ms: row.try_get("updated_at_ms")?,
                            id,
                        })
                    })
                    .collect()
            }

            async fn work_where(p: &P, col: &str, value: &str) -> Result<Option<Work>, StoreError> {
                let sql = format!("SELECT {WORK_COLS} FROM works WHERE {col} = $1");
                let rows = sqlx::query(&sql).bind(value).fetch_all(p).await?;
                Ok(works_from_rows(p, rows).await?.pop())
            }

            pub async fn get_work(p: &P, id: &str) -> Result<Option<Work>, StoreError> {
                work_where(p, "id", id).await
            }

            pub async fn get_work_by_iswc(p: &P, iswc: &Iswc) -> Result<Option<Work>, StoreError> {
                work_where(p, "iswc", iswc.as_str()).await
            }

            pub async fn list_works(p: &P, query: &ListQuery) -> Result<Page<Work>, StoreError> {
                let limit = query.page_size();
                let sql = format!(
                    "SELECT {WORK_COLS} FROM works WHERE ($1 IS NULL OR id > $1) \
                     AND ($2 IS NULL OR title_lower LIKE $2 ESCAPE '\\') ORDER BY id LIMIT $3"
                );
                let rows = sqlx::query(&sql)
                    .bind(&query.cursor)
                    .bind(query.q.as_deref().map(like_pattern))
                    .bind(i64::from(limit) + 1)
                    .fetch_all(p)
                    .await?;
                let items = works_from_rows(p, rows).await?;
                Ok(page(items, limit, |w| w.id.clone()))
            }

            async fn write_work_relations(tx: &mut Tx<'_>, id: &str, input: &WorkInput) -> Result<(), StoreError> {
                check_parties(tx, "writers", &input.writers).await?;
                check_parties(tx, "splits", &split_parties(&input.splits)).await?;
                insert_relation(tx, "work_writers", "work_id", "party_id", &list_rows(id, &input.writers)).await?;
                insert_relation(tx, "work_splits", "work_id", "party_id", &split_rows(id, &input.splits)).await?;
                Ok(())
            }

            pub async fn insert_work(p: &P, input: &WorkInput, created_by: Option<&str>) -> Result<Work, StoreError> {
                let id = new_id("wrk");
                let now = now_ms();
                let mut tx = p.begin().await?;
                sqlx::query(
                    "INSERT INTO works (id, ext_ref, iswc, title, title_lower, created_by, created_at_ms, updated_at_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                )
                .bind(&id)
                .bind(&input.ext_ref)
                .bind(input.iswc.as_ref().map(|v| v.as_str().to_owned()))
                .bind(&input.title)
                .bind(input.title.to_lowercase())
                .bind(created_by)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict(e, "work"))?;
                write_work_relations(&mut tx, &id, input).await?;
                tx.commit().await?;
                get_work(p, &id).await?.ok_or(StoreError::NotFound { what: "work" })
            }

            pub async fn update_work(p: &P, id: &str, input: &WorkInput) -> Result<Work, StoreError> {
                let mut tx = p.begin().await?;
                let done = sqlx::query(
                    "UPDATE works SET ext_ref = $2, iswc = $3, title = $4, title_lower = $5, updated_at_ms = $6 WHERE id = $1",
                )
                .bind(id)
                .bind(&input.ext_ref)
                .bind(input.iswc.as_ref().map(|v| v.as_str().to_owned()))
                .bind(&input.title)
                .bind(input.title.to_lowercase())
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict(e, "work"))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound { what: "work" });
                }
                let ids = [id.to_owned()];
                delete_relations(&mut tx, "work_writers", "work_id", &ids).await?;
                delete_relations(&mut tx, "work_splits", "work_id", &ids).await?;
                write_work_relations(&mut tx, id, input).await?;
                note_change(&mut tx, "work", id).await?;
                tx.commit().await?;
                get_work(p, id).await?.ok_or(StoreError::NotFound { what: "work" })
            }

            // ---------- recordings ----------

            const RECORDING_COLS: &str =
                "id, ext_ref, isrc, title, duration_ms, created_by, created_at_ms, updated_at_ms";

            async fn recordings_from_rows(p: &P, rows: Vec<DbRow>) -> Result<Vec<Recording>, StoreError> {
                let ids = rows.iter().map(|r| r.try_get::<String, _>("id")).collect::<Result<Vec<_>, _>>()?;
                let mut artists = relation_rows(p, "recording_artists", "recording_id", "party_id", None, &ids).await?;
                let mut works = relation_rows(p, "recording_works", "recording_id", "work_id", None, &ids).await?;
                let mut splits =
                    relation_rows(p, "recording_splits", "recording_id", "party_id", Some("share_ppm"), &ids).await?;
                let mut audio = audio_for(p, &ids).await?;
                rows.iter()
                    .map(|row| {
                        let id: String = row.try_get("id")?;
                        let isrc: String = row.try_get("isrc")?;
                        Ok(Recording {
                            fields: RecordingInput {
                                ext_ref: row.try_get("ext_ref")?,
                                isrc: Isrc::parse(&isrc).map_err(|_| corrupt("ISRC", &isrc))?,
                                title: row.try_get("title")?,
                                duration_ms: row.try_get("duration_ms")?,
                                artists: artists.remove(&id).unwrap_or_default().into_iter().map(|(v, _)| v).collect(),
                                works: works.remove(&id).unwrap_or_default().into_iter().map(|(v, _)| v).collect(),
                                splits: splits_from(splits.remove(&id).unwrap_or_default())?,
                            },
                            audio: audio.remove(&id).unwrap_or_default(),
                            created_by: row.try_get("created_by")?,
                            created_at_ms: row.try_get("created_at_ms")?,
                            updated_at_ms: row.try_get("updated_at_ms")?,
                            id,
                        })
                    })
                    .collect()
            }

            async fn recording_where(p: &P, col: &str, value: &str) -> Result<Option<Recording>, StoreError> {
                let sql = format!("SELECT {RECORDING_COLS} FROM recordings WHERE {col} = $1");
                let rows = sqlx::query(&sql).bind(value).fetch_all(p).await?;
                Ok(recordings_from_rows(p, rows).await?.pop())
            }

            pub async fn get_recording(p: &P, id: &str) -> Result<Option<Recording>, StoreError> {
                recording_where(p, "id", id).await
            }

            pub async fn get_recording_by_isrc(p: &P, isrc: &Isrc) -> Result<Option<Recording>, StoreError> {
                recording_where(p, "isrc", isrc.as_str()).await
            }

            pub async fn list_recordings(p: &P, query: &ListQuery) -> Result<Page<Recording>, StoreError> {
                let limit = query.page_size();
                let sql = format!(
                    "SELECT {RECORDING_COLS} FROM recordings WHERE ($1 IS NULL OR id > $1) \
                     AND ($2 IS NULL OR title_lower LIKE $2 ESCAPE '\\') ORDER BY id LIMIT $3"
                );
                let rows = sqlx::query(&sql)
                    .bind(&query.cursor)
                    .bind(query.q.as_deref().map(like_pattern))
                    .bind(i64::from(limit) + 1)
                    .fetch_all(p)
                    .await?;
                let items = recordings_from_rows(p, rows).await?;
                Ok(page(items, limit, |r| r.id.clone()))
            }

            async fn write_recording_relations(tx: &mut Tx<'_>, id: &str, input: &RecordingInput) -> Result<(), StoreError> {
                check_parties(tx, "artists", &input.artists).await?;
                check_parties(tx, "splits", &split_parties(&input.splits)).await?;
                let found = existing_ids(tx, "works", &input.works).await?;
                if let Some(i) = input.works.iter().position(|w| !found.contains(w)) {
                    return Err(StoreError::Invalid {
                        field: format!("works[{i}]"),
                        message: format!("no work has id '{}'", input.works[i]),
                    });
                }
                insert_relation(tx, "recording_artists", "recording_id", "party_id", &list_rows(id, &input.artists)).await?;
                insert_relation(tx, "recording_works", "recording_id", "work_id", &list_rows(id, &input.works)).await?;
                insert_relation(tx, "recording_splits", "recording_id", "party_id", &split_rows(id, &input.splits)).await?;
                Ok(())
            }

            pub async fn insert_recording(p: &P, input: &RecordingInput, created_by: Option<&str>) -> Result<Recording, StoreError> {
                let id = new_id("rec");
                let now = now_ms();
                let mut tx = p.begin().await?;
                sqlx::query(
                    "INSERT INTO recordings (id, ext_ref, isrc, title, title_lower, duration_ms, created_by, created_at_ms, updated_at_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                )
                .bind(&id)
                .bind(&input.ext_ref)
                .bind(input.isrc.as_str())
                .bind(&input.title)
                .bind(input.title.to_lowercase())
                .bind(input.duration_ms)
                .bind(created_by)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict(e, "recording"))?;
                write_recording_relations(&mut tx, &id, input).await?;
                tx.commit().await?;
                get_recording(p, &id).await?.ok_or(StoreError::NotFound { what: "recording" })
            }

            pub async fn update_recording(p: &P, id: &str, input: &RecordingInput) -> Result<Recording, StoreError> {
                let mut tx = p.begin().await?;
                let done = sqlx::query(
                    "UPDATE recordings SET ext_ref = $2, isrc = $3, title = $4, title_lower = $5, duration_ms = $6, \
                     updated_at_ms = $7 WHERE id = $1",
                )
                .bind(id)
                .bind(&input.ext_ref)
                .bind(input.isrc.as_str())
                .bind(&input.title)
                .bind(input.title.to_lowercase())
                .bind(input.duration_ms)
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict(e, "recording"))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound { what: "recording" });
                }
                let ids = [id.to_owned()];
                for table in ["recording_artists", "recording_works", "recording_splits"] {
                    delete_relations(&mut tx, table, "recording_id", &ids).await?;
                }
                write_recording_relations(&mut tx, id, input).await?;
                note_change(&mut tx, "recording", id).await?;
                tx.commit().await?;
                get_recording(p, id).await?.ok_or(StoreError::NotFound { what: "recording" })
            }

            // ---------- audio ----------

            async fn audio_for(p: &P, ids: &[String]) -> Result<HashMap<String, Vec<AudioAsset>>, StoreError> {
                let mut out: HashMap<String, Vec<AudioAsset>> = HashMap::new();
                if ids.is_empty() {
                    return Ok(out);
                }
                let sql = format!(
                    "SELECT recording_id, slot, sha256, size_bytes, format, codec, sample_rate, channels, duration_ms, \
                     uploaded_by, uploaded_at_ms FROM audio_assets WHERE recording_id IN ({}) ORDER BY recording_id, slot",
                    placeholders(0, ids.len())
                );
                let mut query = sqlx::query(&sql);
                for id in ids {
                    query = query.bind(id);
                }
                for row in query.fetch_all(p).await? {
                    let slot: String = row.try_get("slot")?;
                    out.entry(row.try_get("recording_id")?).or_default().push(AudioAsset {
                        slot: AudioSlot::from_db(&slot),
                        sha256: row.try_get("sha256")?,
                        size_bytes: row.try_get("size_bytes")?,
                        format: row.try_get("format")?,
                        codec: row.try_get("codec")?,
                        sample_rate: row.try_get("sample_rate")?,
                        channels: row.try_get("channels")?,
                        duration_ms: row.try_get("duration_ms")?,
                        uploaded_by: row.try_get("uploaded_by")?,
                        uploaded_at_ms: row.try_get("uploaded_at_ms")?,
                    });
                }
                Ok(out)
            }

            pub async fn put_audio(
                p: &P,
                recording_id: &str,
                asset: &AudioAsset,
                fingerprint: Option<&NewFingerprint>,
            ) -> Result<(), StoreError> {
                let mut tx = p.begin().await?;
                let done = sqlx::query(
                    "INSERT INTO audio_assets (recording_id, slot, sha256, size_bytes, format, codec, sample_rate, channels, \
                     duration_ms, uploaded_by, uploaded_at_ms) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 WHERE EXISTS (SELECT 1 FROM recordings WHERE id = $1) \
                     ON CONFLICT (recording_id, slot) DO UPDATE SET sha256 = excluded.sha256, size_bytes = excluded.size_bytes, \
                     format = excluded.format, codec = excluded.codec, sample_rate = excluded.sample_rate, \
                     channels = excluded.channels, duration_ms = excluded.duration_ms, uploaded_by = excluded.uploaded_by, \
                     uploaded_at_ms = excluded.uploaded_at_ms",
                )
                .bind(recording_id)
                .bind(asset.slot.to_db())
                .bind(&asset.sha256)
                .bind(asset.size_bytes)
                .bind(&asset.format)
                .bind(&asset.codec)
                .bind(asset.sample_rate)
                .bind(asset.channels)
                .bind(asset.duration_ms)
                .bind(&asset.uploaded_by)
                .bind(asset.uploaded_at_ms)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound { what: "recording" });
                }
                if asset.slot == AudioSlot::Mix {
                    put_fingerprint_in(&mut tx, recording_id, &asset.sha256, fingerprint).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            /// Replaces the fingerprint of `recording_id`'s mix (`None`: forgets it) and notes
            /// the change, whose seq the row keeps, so indexes load fingerprints in commit order.
            async fn put_fingerprint_in(
                tx: &mut Tx<'_>,
                recording_id: &str,
                sha256: &str,
                fingerprint: Option<&NewFingerprint>,
            ) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM fingerprints WHERE recording_id = $1")
                    .bind(recording_id)
                    .execute(&mut **tx)
                    .await?;
                note_change(&mut **tx, "fingerprint", recording_id).await?;
                if let Some(f) = fingerprint {
                    sqlx::query(
                        "INSERT INTO fingerprints (recording_id, seq, sha256, algorithm, items, created_at_ms) \
                         SELECT $1, MAX(seq), $2, $3, $4, $5 FROM changes",
                    )
                    .bind(recording_id)
                    .bind(sha256)
                    .bind(f.algorithm)
                    .bind(&f.items)
                    .bind(now_ms())
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            /// Stores the fingerprint of a mix uploaded before fingerprints existed, if the
            /// mix is still the one with `sha256`; returns whether it was stored.
            pub async fn backfill_fingerprint(
                p: &P,
                recording_id: &str,
                sha256: &str,
                fingerprint: &NewFingerprint,
            ) -> Result<bool, StoreError> {
                let mut tx = p.begin().await?;
                let current: Option<String> = sqlx::query_scalar(
                    "SELECT sha256 FROM audio_assets WHERE recording_id = $1 AND slot = 'mix'",
                )
                .bind(recording_id)
                .fetch_optional(&mut *tx)
                .await?;
                let printed: Option<i64> = sqlx::query_scalar("SELECT seq FROM fingerprints WHERE recording_id = $1")
                    .bind(recording_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if current.as_deref() != Some(sha256) || printed.is_some() {
                    return Ok(false);
                }
                put_fingerprint_in(&mut tx, recording_id, sha256, Some(fingerprint)).await?;
                tx.commit().await?;
                Ok(true)
            }

            /// Mixes with no fingerprint yet, after recording `after` in id order, up to
            /// `limit`: (recording id, sha256).
            pub async fn unprinted_mixes(p: &P, after: &str, limit: i64) -> Result<Vec<(String, String)>, StoreError> {
                let rows = sqlx::query(
                    "SELECT a.recording_id, a.sha256 FROM audio_assets a \
                     WHERE a.slot = 'mix' AND a.recording_id > $1 \
                     AND NOT EXISTS (SELECT 1 FROM fingerprints f WHERE f.recording_id = a.recording_id) \
                     ORDER BY a.recording_id LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(p)
                .await?;
                rows.iter()
                    .map(|r| Ok((r.try_get("recording_id")?, r.try_get("sha256")?)))
                    .collect()
            }

            /// Fingerprint changes with seq in `(after, upto]`, oldest first, at most `limit`.
            pub async fn fingerprint_changes(
                p: &P,
                after: i64,
                upto: i64,
                limit: i64,
            ) -> Result<Vec<FingerprintChange>, StoreError> {
                let rows = sqlx::query(
                    "SELECT c.seq, c.item, f.algorithm, f.items FROM changes c \
                     LEFT JOIN fingerprints f ON f.recording_id = c.item AND f.seq = c.seq \
                     WHERE c.seq > $1 AND c.seq <= $2 AND c.kind = 'fingerprint' ORDER BY c.seq LIMIT $3",
                )
                .bind(after)
                .bind(upto)
                .bind(limit)
                .fetch_all(p)
                .await?;
                rows.iter()
                    .map(|r| {
                        let algorithm: Option<i64> = r.try_get("algorithm")?;
                        let items: Option<Vec<u8>> = r.try_get("items")?;
                        Ok(FingerprintChange {
                            seq: r.try_get("seq")?,
                            recording_id: r.try_get("item")?,
                            fingerprint: algorithm.zip(items).map(|(algorithm, items)| NewFingerprint { algorithm, items }),
                        })
                    })
                    .collect()
            }

            // ---------- keys ----------

            fn key_from_row(row: &DbRow, parties: Vec<String>) -> Result<ApiKey, StoreError> {
                let role: String = row.try_get("role")?;
                Ok(ApiKey {
                    id: row.try_get("id")?,
                    prefix: row.try_get("prefix")?,
                    role: Role::parse(&role).map_err(|_| corrupt("role", &role))?,
                    name: row.try_get("name")?,
                    parties,
                    created_at_ms: row.try_get("created_at_ms")?,
                    revoked_at_ms: row.try_get("revoked_at_ms")?,
                })
            }

            pub async fn insert_key(p: &P, id: &str, hash: &str, prefix: &str, key: &NewKey) -> Result<ApiKey, StoreError> {
                let mut tx = p.begin().await?;
                check_parties(&mut tx, "parties", &key.parties).await?;
                sqlx::query(
                    "INSERT INTO api_keys (id, key_hash, prefix, role, name, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(hash)
                .bind(prefix)
                .bind(key.role.as_str())
                .bind(&key.name)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                for party in &key.parties {
                    sqlx::query("INSERT INTO api_key_parties (key_id, party_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(id)
                        .bind(party)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                get_key(p, id).await?.ok_or(StoreError::NotFound { what: "key" })
            }

            async fn key_parties(p: &P, id: &str) -> Result<Vec<String>, StoreError> {
                Ok(sqlx::query_scalar::<_, String>("SELECT party_id FROM api_key_parties WHERE key_id = $1 ORDER BY party_id")
                    .bind(id)
                    .fetch_all(p)
                    .await?)
            }

            pub async fn get_key(p: &P, id: &str) -> Result<Option<ApiKey>, StoreError> {
                let row = sqlx::query("SELECT id, prefix, role, name, created_at_ms, revoked_at_ms FROM api_keys WHERE id = $1")
                    .bind(id)
                    .fetch_optional(p)
                    .await?;
                match row {
                    Some(row) => Ok(Some(key_from_row(&row, key_parties(p, id).await?)?)),
                    None => Ok(None),
                }
            }

            pub async fn key_by_hash(p: &P, hash: &str) -> Result<Option<ApiKey>, StoreError> {
                let row = sqlx::query(
                    "SELECT id, prefix, role, name, created_at_ms, revoked_at_ms FROM api_keys WHERE key_hash = $1",
                )
                .bind(hash)
                .fetch_optional(p)
                .await?;
                match row {
                    Some(row) => {
                        let id: String = row.try_get("id")?;
                        let parties = key_parties(p, &id).await?;
                        Ok(Some(key_from_row(&row, parties)?))
                    }
                    None => Ok(None),
                }
            }

            pub async fn list_keys(p: &P) -> Result<Vec<ApiKey>, StoreError> {
                let rows = sqlx::query("SELECT id, prefix, role, name, created_at_ms, revoked_at_ms FROM api_keys ORDER BY id")
                    .fetch_all(p)
                    .await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let id: String = row.try_get("id")?;
                    let parties = key_parties(p, &id).await?;
                    out.push(key_from_row(&row, parties)?);
                }
                Ok(out)
            }

            pub async fn revoke_key(p: &P, id: &str) -> Result<ApiKey, StoreError> {
                let mut tx = p.begin().await?;
                let done = sqlx::query("UPDATE api_keys SET revoked_at_ms = $2 WHERE id = $1 AND revoked_at_ms IS NULL")
                    .bind(id)
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() > 0 {
                    note_change(&mut tx, "key", id).await?;
                }
                tx.commit().await?;
                get_key(p, id).await?.ok_or(StoreError::NotFound { what: "key" })
            }

            // ---------- import ----------

            /// Maps external refs to ids in `table` for the refs given.
            async fn ids_by(tx: &mut Tx<'_>, table: &str, col: &str, keys: &[&str]) -> Result<HashMap<String, String>, StoreError> {
                let mut out = HashMap::new();
                for chunk in keys.chunks(5_000) {
                    let sql = format!("SELECT {col} AS k, id FROM {table} WHERE {col} IN ({})", placeholders(0, chunk.len()));
                    let mut query = sqlx::query(&sql);
                    for k in chunk {
                        query = query.bind(*k);
                    }
                    for row in query.fetch_all(&mut **tx).await? {
                        out.insert(row.try_get("k")?, row.try_get("id")?);
                    }
                }
                Ok(out)
            }

            fn resolve(
                refs: &HashMap<String, String>,
                wanted: &[String],
                field: &str,
                what: &str,
                line: u64,
            ) -> Result<Vec<String>, ImportRowError> {
                wanted
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        refs.get(r).cloned().ok_or_else(|| ImportRowError {
                            line,
                            field: format!("{field}[{i}]"),
                            message: format!("no {what} with ref '{r}' is in the catalog or earlier in the file"),
                        })
                    })
                    .collect()
            }

            fn resolve_splits(
                refs: &HashMap<String, String>,
                splits: &Option<Splits<String>>,
                line: u64,
            ) -> Result<Option<Splits<String>>, ImportRowError> {
                let Some(splits) = splits else { return Ok(None) };
                let wanted: Vec<String> = splits.entries().iter().map(|(r, _)| r.clone()).collect();
                let ids = resolve(refs, &wanted, "splits", "party", line)?;
                let entries = ids.into_iter().zip(splits.entries().iter().map(|(_, s)| *s)).collect();
                Splits::new(entries).map(Some).map_err(|e| ImportRowError { line, field: "splits".into(), message: e.to_string() })
            }

            /// Writes one batch in one transaction. Any database error aborts the whole batch;
            /// the caller then retries row by row to find and report the bad rows.
            /// A connection of its own for an import session. On SQLite its foreign-key checks
            /// are off: every batch resolves each party and work reference itself, inside its
            /// own transaction, and SQLite has a single writer, so nothing can remove a
            /// referenced row in between; the checks would only repeat those lookups
            /// (measured: about 15% of a million-recording import). The connection is detached
            /// from the pool, so no other request ever runs without the checks.
            pub async fn import_connection(p: &P) -> Result<<Db as sqlx::Database>::Connection, StoreError> {
                let mut conn = p.acquire().await?.detach();
                if $sqlite {
                    sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut conn).await?;
                    // A bulk load rewrites the same index pages batch after batch: checkpoint
                    // every 4 GiB of WAL (the pool's connections: every 512 MiB).
                    sqlx::query("PRAGMA wal_autocheckpoint = 262144").execute(&mut conn).await?;
                }
                Ok(conn)
            }

            /// Writes one batch in one transaction. Any database error aborts the whole batch;
            /// the caller then retries row by row to find and report the bad rows.
            pub async fn import_batch(
                conn: &mut <Db as sqlx::Database>::Connection,
                batch: &ImportBatch,
            ) -> Result<ImportOutcome, StoreError> {
                let mut out = ImportOutcome::default();
                let now = now_ms();
                let mut tx = sqlx::Connection::begin(conn).await?;

                // Parties, keyed by their ref.
                if !batch.parties.is_empty() {
                    let refs: Vec<&str> = batch.parties.iter().map(|r| r.ext_ref.as_str()).collect();
                    let existing = ids_by(&mut tx, "parties", "ext_ref", &refs).await?;
                    let rows: Vec<(String, &crate::import::ImportParty)> = batch
                        .parties
                        .iter()
                        .map(|r| (existing.get(&r.ext_ref).cloned().unwrap_or_else(|| new_id("par")), r))
                        .collect();
                    out.updated += existing.len() as u64;
                    out.created += (rows.len() - existing.len()) as u64;
                    let sql = format!(
                        "INSERT INTO parties (id, ext_ref, name, name_lower, kind, ipi, isni, created_at_ms, updated_at_ms) VALUES {} \
                         ON CONFLICT (ext_ref) DO UPDATE SET name = excluded.name, name_lower = excluded.name_lower, \
                         kind = excluded.kind, ipi = excluded.ipi, isni = excluded.isni, updated_at_ms = excluded.updated_at_ms",
                        value_rows(rows.len(), 9)
                    );
                    let mut query = sqlx::query(&sql);
                    for (id, r) in &rows {
                        query = query
                            .bind(id)
                            .bind(&r.ext_ref)
                            .bind(&r.name)
                            .bind(r.name.to_lowercase())
                            .bind(r.kind.as_str())
                            .bind(r.ipi.as_ref().map(|v| v.as_str().to_owned()))
                            .bind(r.isni.as_ref().map(|v| v.as_str().to_owned()))
                            .bind(now)
                            .bind(now);
                    }
                    query.execute(&mut *tx).await?;
                }

                // Party refs used by works and recordings in this batch.
                let mut party_refs: Vec<&str> = Vec::new();
                for w in &batch.works {
                    party_refs.extend(w.writers.iter().map(String::as_str));
                    party_refs.extend(w.splits.iter().flat_map(Splits::parties).map(String::as_str));
                }
                for r in &batch.recordings {
                    party_refs.extend(r.artists.iter().map(String::as_str));
                    party_refs.extend(r.splits.iter().flat_map(Splits::parties).map(String::as_str));
                }
                party_refs.sort_unstable();
                party_refs.dedup();
                let party_ids = ids_by(&mut tx, "parties", "ext_ref", &party_refs).await?;

                // Works, keyed by their ref.
                if !batch.works.is_empty() {
                    let refs: Vec<&str> = batch.works.iter().map(|w| w.ext_ref.as_str()).collect();
                    let existing = ids_by(&mut tx, "works", "ext_ref", &refs).await?;
                    let mut rows = Vec::new();
                    for w in &batch.works {
                        let resolved = resolve(&party_ids, &w.writers, "writers", "party", w.line)
                            .and_then(|writers| Ok((writers, resolve_splits(&party_ids, &w.splits, w.line)?)));
                        match resolved {
                            Ok((writers, splits)) => {
                                let id = existing.get(&w.ext_ref).cloned();
                                rows.push((id.clone().unwrap_or_else(|| new_id("wrk")), id.is_some(), w, writers, splits));
                            }
                            Err(e) => out.errors.push(e),
                        }
                    }
                    if !rows.is_empty() {
                        let sql = format!(
                            "INSERT INTO works (id, ext_ref, iswc, title, title_lower, created_at_ms, updated_at_ms) VALUES {} \
                             ON CONFLICT (ext_ref) DO UPDATE SET iswc = excluded.iswc, title = excluded.title, \
                             title_lower = excluded.title_lower, updated_at_ms = excluded.updated_at_ms",
                            value_rows(rows.len(), 7)
                        );
                        let mut query = sqlx::query(&sql);
                        for (id, _, w, _, _) in &rows {
                            query = query
                                .bind(id)
                                .bind(&w.ext_ref)
                                .bind(w.iswc.as_ref().map(|v| v.as_str().to_owned()))
                                .bind(&w.title)
                                .bind(w.title.to_lowercase())
                                .bind(now)
                                .bind(now);
                        }
                        query.execute(&mut *tx).await?;
                        let old: Vec<String> = rows.iter().filter(|r| r.1).map(|r| r.0.clone()).collect();
                        delete_relations(&mut tx, "work_writers", "work_id", &old).await?;
                        delete_relations(&mut tx, "work_splits", "work_id", &old).await?;
                        let writers: Vec<_> = rows.iter().flat_map(|(id, _, _, ws, _)| list_rows(id, ws)).collect();
                        insert_relation(&mut tx, "work_writers", "work_id", "party_id", &writers).await?;
                        let splits: Vec<_> = rows.iter().flat_map(|(id, _, _, _, s)| split_rows(id, s)).collect();
                        insert_relation(&mut tx, "work_splits", "work_id", "party_id", &splits).await?;
                        out.updated += old.len() as u64;
                        out.created += (rows.len() - old.len()) as u64;
                    }
                }

                // Recordings, keyed by ISRC.
                if !batch.recordings.is_empty() {
                    let mut work_refs: Vec<&str> =
                        batch.recordings.iter().flat_map(|r| r.works.iter().map(String::as_str)).collect();
                    work_refs.sort_unstable();
                    work_refs.dedup();
                    let work_ids = ids_by(&mut tx, "works", "ext_ref", &work_refs).await?;
                    let isrcs: Vec<&str> = batch.recordings.iter().map(|r| r.isrc.as_str()).collect();
                    let existing = ids_by(&mut tx, "recordings", "isrc", &isrcs).await?;
                    let mut rows = Vec::new();
                    for r in &batch.recordings {
                        let resolved = resolve(&party_ids, &r.artists, "artists", "party", r.line).and_then(|artists| {
                            let works = resolve(&work_ids, &r.works, "works", "work", r.line)?;
                            Ok((artists, works, resolve_splits(&party_ids, &r.splits, r.line)?))
                        });
                        match resolved {
                            Ok((artists, works, splits)) => {
                                let id = existing.get(r.isrc.as_str()).cloned();
                                rows.push((id.clone().unwrap_or_else(|| new_id("rec")), id.is_some(), r, artists, works, splits));
                            }
                            Err(e) => out.errors.push(e),
                        }
                    }
                    if !rows.is_empty() {
                        let sql = format!(
                            "INSERT INTO recordings (id, ext_ref, isrc, title, title_lower, duration_ms, created_at_ms, updated_at_ms) \
                             VALUES {} ON CONFLICT (isrc) DO UPDATE SET ext_ref = excluded.ext_ref, title = excluded.title, \
                             title_lower = excluded.title_lower, duration_ms = excluded.duration_ms, updated_at_ms = excluded.updated_at_ms",
                            value_rows(rows.len(), 8)
                        );
                        let mut query = sqlx::query(&sql);
                        for (id, _, r, _, _, _) in &rows {
                            query = query
                                .bind(id)
                                .bind(&r.ext_ref)
                                .bind(r.isrc.as_str())
                                .bind(&r.title)
                                .bind(r.title.to_lowercase())
                                .bind(r.duration_ms)
                                .bind(now)
                                .bind(now);
                        }
                        query.execute(&mut *tx).await?;
                        let old: Vec<String> = rows.iter().filter(|r| r.1).map(|r| r.0.clone()).collect();
                        for table in ["recording_artists", "recording_works", "recording_splits"] {
                            delete_relations(&mut tx, table, "recording_id", &old).await?;
                        }
                        let artists: Vec<_> = rows.iter().flat_map(|(id, _, _, a, _, _)| list_rows(id, a)).collect();
                        insert_relation(&mut tx, "recording_artists", "recording_id", "party_id", &artists).await?;
                        let works: Vec<_> = rows.iter().flat_map(|(id, _, _, _, w, _)| list_rows(id, w)).collect();
                        insert_relation(&mut tx, "recording_works", "recording_id", "work_id", &works).await?;
                        let splits: Vec<_> = rows.iter().flat_map(|(id, _, _, _, _, s)| split_rows(id, s)).collect();
                        insert_relation(&mut tx, "recording_splits", "recording_id", "party_id", &splits).await?;
                        out.updated += old.len() as u64;
                        out.created += (rows.len() - old.len()) as u64;
                    }
                }

                // Updated rows may be held by a process's copies; new rows cannot be.
                if out.updated > 0 {
                    note_change(&mut tx, "catalog", "").await?;
                }
                tx.commit().await?;
                Ok(out)
            }
        }
    };
}

backend!(sqlite, sqlx::Sqlite, true);
backend!(postgres, sqlx::Postgres, false);
