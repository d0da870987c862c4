//! Registered generative models: the uses each can perform and its declared training set.
//!
//! The engine's [`Model`] carries no serialisation, so the uses (a JSON list) and the training
//! set (`{"none": true}` or `{"recordings": [..], "works": [..]}`) are written and read here by
//! hand. Registering and updating a model append an audit entry in the same transaction. The
//! SQL is in `backend_models.rs`.

use std::collections::BTreeSet;

use encore_core::UseType;
use encore_core::rights::{Model, TrainingSet};
use serde_json::{Value, json};

use crate::{Store, StoreError};

/// A stored model: the engine's value plus its name and who registered it when.
#[derive(Debug, Clone)]
pub struct ModelRecord {
    /// The model (id, uses, training set).
    pub model: Model,
    /// Its display name.
    pub name: String,
    /// The key that registered it.
    pub created_by: Option<String>,
    /// Registration time, Unix ms.
    pub created_at_ms: i64,
    /// Last change, Unix ms.
    pub updated_at_ms: i64,
}

/// A model row as the backend reads it.
pub(crate) struct ModelRow {
    pub id: String,
    pub name: String,
    pub uses: String,
    pub training: String,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(sqlx::Error::Decode(
        format!("stored {what} does not parse ({detail}); the database was edited by hand").into(),
    ))
}

/// The uses as JSON text.
pub(crate) fn uses_to_text(uses: &BTreeSet<UseType>) -> String {
    json!(uses.iter().map(|u| u.as_str()).collect::<Vec<_>>()).to_string()
}

/// The training set as JSON text.
pub(crate) fn training_to_text(training: &TrainingSet) -> String {
    match training {
        TrainingSet::NoCatalogItems => json!({"none": true}),
        TrainingSet::Items { recordings, works } => {
            json!({"recordings": recordings, "works": works})
        }
    }
    .to_string()
}

fn strings(v: &Value) -> Result<Vec<String>, String> {
    v.as_array()
        .ok_or("expected a list")?
        .iter()
        .map(|s| {
            s.as_str()
                .map(str::to_owned)
                .ok_or_else(|| "expected text".to_owned())
        })
        .collect()
}

fn uses_from_text(text: &str) -> Result<BTreeSet<UseType>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    strings(&v)?
        .iter()
        .map(|u| UseType::parse(u).map_err(|e| e.to_string()))
        .collect()
}

fn training_from_text(text: &str) -> Result<TrainingSet, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if v["none"].as_bool() == Some(true) {
        return Ok(TrainingSet::NoCatalogItems);
    }
    Ok(TrainingSet::Items {
        recordings: strings(&v["recordings"])?,
        works: strings(&v["works"])?,
    })
}

/// Training-set ids bound per statement when finding the parties behind them.
pub(crate) const TRAINING_IDS_PER_QUERY: usize = 200;

/// The recordings and works a stored training set names (none for `{"none": true}` or text
/// that does not parse, which `into_record` reports).
pub(crate) fn training_items(text: &str) -> (Vec<String>, Vec<String>) {
    match training_from_text(text) {
        Ok(TrainingSet::Items { recordings, works }) => (recordings, works),
        _ => (Vec::new(), Vec::new()),
    }
}

/// A model row as the JSON the audit log records.
pub(crate) fn model_json(row: &ModelRow) -> String {
    let parse = |t: &str| serde_json::from_str(t).unwrap_or(Value::String(t.to_owned()));
    json!({
        "id": row.id,
        "name": row.name,
        "uses": parse(&row.uses),
        "training": parse(&row.training),
    })
    .to_string()
}

impl ModelRow {
    pub(crate) fn into_record(self) -> Result<ModelRecord, StoreError> {
        let uses = uses_from_text(&self.uses).map_err(|e| corrupt("model uses", e))?;
        let training =
            training_from_text(&self.training).map_err(|e| corrupt("model training set", e))?;
        Ok(ModelRecord {
            model: Model {
                id: self.id,
                uses,
                training,
            },
            name: self.name,
            created_by: self.created_by,
            created_at_ms: self.created_at_ms,
            updated_at_ms: self.updated_at_ms,
        })
    }
}

/// Calls the function of the same name in the models backend module that matches the pool.
macro_rules! dispatch_models {
    ($self:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match &$self.pool {
            $crate::Pool::Sqlite(p) => $crate::backend_models::sqlite::$f(p, $($arg),*).await,
            $crate::Pool::Postgres(p) => $crate::backend_models::postgres::$f(p, $($arg),*).await,
        }
    };
}

impl Store {
    /// Registers a model with `uses` and `training` (the id of `model` is ignored: the store
    /// assigns a new `mdl_` id). `by` is the acting key, recorded in the audit log.
    pub async fn register_model(
        &self,
        name: &str,
        model: &Model,
        by: Option<&str>,
    ) -> Result<ModelRecord, StoreError> {
        let id = crate::new_id("mdl");
        let uses = uses_to_text(&model.uses);
        let training = training_to_text(&model.training);
        let out = dispatch_models!(self, insert_model(&id, name, &uses, &training, by));
        self.wrote();
        out?;
        self.model(&id)
            .await?
            .ok_or(StoreError::NotFound { what: "model" })
    }

    /// Replaces the name, uses and training set of the model `model.id`, logging the change.
    pub async fn update_model(
        &self,
        name: &str,
        model: &Model,
        by: Option<&str>,
    ) -> Result<ModelRecord, StoreError> {
        let uses = uses_to_text(&model.uses);
        let training = training_to_text(&model.training);
        let out = dispatch_models!(self, update_model(&model.id, name, &uses, &training, by));
        self.wrote();
        out?;
        self.model(&model.id)
            .await?
            .ok_or(StoreError::NotFound { what: "model" })
    }

    /// A model by id.
    pub async fn model(&self, id: &str) -> Result<Option<ModelRecord>, StoreError> {
        if !crate::storable_id(id) {
            return Ok(None);
        }
        let row = dispatch_models!(self, get_model(id))?;
        row.map(ModelRow::into_record).transpose()
    }

    /// Models with ids after `after` (empty for the first page), in id order, at most `limit`.
    pub async fn models(&self, after: &str, limit: u32) -> Result<Vec<ModelRecord>, StoreError> {
        let limit = i64::from(limit.min(crate::limits::PAGE_SIZE_MAX));
        dispatch_models!(self, list_models(after, limit))?
            .into_iter()
            .map(ModelRow::into_record)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_and_training_round_trip() {
        let uses: BTreeSet<UseType> = [UseType::Remix, UseType::Train].into();
        assert_eq!(uses_from_text(&uses_to_text(&uses)).expect("parses"), uses);
        for t in [
            TrainingSet::NoCatalogItems,
            TrainingSet::Items {
                recordings: vec!["rec_1".into()],
                works: vec!["wrk_1".into(), "wrk_2".into()],
            },
        ] {
            assert_eq!(
                training_from_text(&training_to_text(&t)).expect("parses"),
                t
            );
        }
    }

    #[tokio::test]
    async fn register_and_update_are_audited() {
        let dir = std::env::temp_dir().join(crate::new_id("encore-models-test"));
        std::fs::create_dir_all(&dir).expect("dir");
        let store = Store::open(&dir.join("db.sqlite").display().to_string())
            .await
            .expect("store");
        let mut model = Model {
            id: String::new(),
            uses: [UseType::Remix].into(),
            training: TrainingSet::NoCatalogItems,
        };
        let made = store
            .register_model("first", &model, Some("key_1"))
            .await
            .expect("register");
        assert!(made.model.id.starts_with("mdl_"));
        model.id = made.model.id.clone();
        model.uses.insert(UseType::Extend);
        let changed = store
            .update_model("second", &model, Some("key_2"))
            .await
            .expect("update");
        assert_eq!(changed.name, "second");
        assert_eq!(changed.model, model);
        let log = store.audit_entries(None, 0, 10).await.expect("log");
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["model.register", "model.update"]);
        assert_eq!(log[1].key_id.as_deref(), Some("key_2"));
        assert!(
            log[1]
                .before
                .as_deref()
                .is_some_and(|b| b.contains("first"))
        );
        model.id = "mdl_nope".into();
        assert!(matches!(
            store.update_model("x", &model, None).await,
            Err(StoreError::NotFound { what: "model" })
        ));
        assert!(store.model("mdl_nope").await.expect("read").is_none());
        assert_eq!(store.models("", 10).await.expect("list").len(), 1);
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
