//! Model endpoints: register a generative model with its uses and declared training set, read
//! it with its clearance, list them.
//!
//! A model is cleared while every item of its training set is cleared for `train`; the engine
//! ([`model_clearance`]) judges that from the same views a rights check loads, so a revocation
//! shows at once. The model page judges at the time of the request and for territory `WW`: a
//! model is published for use everywhere, so "cleared" means cleared worldwide, and an
//! agreement that licenses `train` in some territories only does not clear it.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use encore_core::rights::{Model, TrainingSet, model_clearance};
use encore_core::{Territory, UseType};
use encore_store::{ModelRecord, limits as store_limits};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::catalog::TEXT_CHARS_MAX;
use crate::error::{ApiError, Fields, Problem};
use crate::extract::{Json, Query};
use crate::rights::{CheckOut, ReasonOut, Views};
use crate::wire::rfc3339;

/// Most recordings plus works a model's declared training set may list.
pub const TRAINING_ITEMS_MAX: usize = 1_000;

/// A declared training set: `{"none": true}`, or the catalog items used.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingWire {
    /// `true` when the model was trained on no catalog item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub none: Option<bool>,
    /// Recordings (`rec_…`) in the training set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recordings: Option<Vec<String>>,
    /// Works (`wrk_…`) in the training set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub works: Option<Vec<String>>,
}

/// A model to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelCreate {
    /// Display name.
    pub name: String,
    /// The uses it can perform (at least one), e.g. `["remix", "extend"]`.
    pub uses: Vec<String>,
    /// What it was trained on.
    pub training: TrainingWire,
}

/// A registered model and whether it is cleared now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelOut {
    /// `mdl_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The uses it can perform.
    pub uses: Vec<&'static str>,
    /// Its declared training set.
    pub training: TrainingWire,
    /// Whether every training item is cleared for `train` now, worldwide (`WW`).
    pub cleared: bool,
    /// Why it is not cleared (the `train` reasons per training item); absent when cleared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<ReasonOut>>,
    /// Registration time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

/// A page of models.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    /// The models, in id order.
    pub items: Vec<ModelOut>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<String>,
}

/// Paging for the model list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModelParams {
    /// Models after this id (the `next_after` of the previous page).
    pub after: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

fn training_wire(t: &TrainingSet) -> TrainingWire {
    match t {
        TrainingSet::NoCatalogItems => TrainingWire {
            none: Some(true),
            ..TrainingWire::default()
        },
        TrainingSet::Items { recordings, works } => TrainingWire {
            none: None,
            recordings: Some(recordings.clone()),
            works: Some(works.clone()),
        },
    }
}

/// Parses a registration, checking that every training item exists.
async fn parse(state: &AppState, body: &ModelCreate) -> Result<(String, Model), ApiError> {
    let mut f = Fields::default();
    let name = body.name.trim();
    if name.is_empty() {
        f.fail("name", "must not be empty");
    } else if name.chars().count() > TEXT_CHARS_MAX {
        f.fail(
            "name",
            format!("must be at most {TEXT_CHARS_MAX} characters"),
        );
    }
    let mut uses = BTreeSet::new();
    if body.uses.is_empty() {
        f.fail("uses", "must list at least one use");
    }
    for (i, u) in body.uses.iter().enumerate() {
        if let Some(u) = f.check(format!("uses[{i}]"), UseType::parse(u)) {
            uses.insert(u);
        }
    }
    let t = &body.training;
    let training = match (t.none, &t.recordings, &t.works) {
        (Some(true), None, None) => TrainingSet::NoCatalogItems,
        (None, r, w) if r.is_some() || w.is_some() => {
            let recordings = r.clone().unwrap_or_default();
            let works = w.clone().unwrap_or_default();
            if recordings.len() + works.len() > TRAINING_ITEMS_MAX {
                f.fail(
                    "training",
                    format!("must list at most {TRAINING_ITEMS_MAX} items"),
                );
            } else {
                for (i, id) in recordings.iter().enumerate() {
                    if state.store.recording(id).await?.is_none() {
                        f.fail(
                            format!("training.recordings[{i}]"),
                            format!("no recording has id '{}'", id.escape_debug()),
                        );
                    }
                }
                for (i, id) in works.iter().enumerate() {
                    if state.store.work(id).await?.is_none() {
                        f.fail(
                            format!("training.works[{i}]"),
                            format!("no work has id '{}'", id.escape_debug()),
                        );
                    }
                }
            }
            TrainingSet::Items { recordings, works }
        }
        _ => {
            f.fail(
                "training",
                "must be {\"none\": true} or list \"recordings\" and/or \"works\"",
            );
            TrainingSet::NoCatalogItems
        }
    };
    f.finish()?;
    let model = Model {
        id: String::new(),
        uses,
        training,
    };
    Ok((name.to_owned(), model))
}

/// The model's page: the record plus its clearance now, worldwide.
async fn model_out(state: &AppState, record: ModelRecord) -> Result<ModelOut, ApiError> {
    let (recordings, works) = match &record.model.training {
        TrainingSet::NoCatalogItems => (Vec::new(), Vec::new()),
        TrainingSet::Items { recordings, works } => (recordings.clone(), works.clone()),
    };
    let reader = state.store.rights().await?;
    let views = Views::load_from(&reader, &recordings, &works, None).await?;
    let table = reader.use_table().await?;
    let decision = model_clearance(
        &record.model,
        Territory::world(),
        crate::now_ms(),
        &views.catalog,
        &views.agreements,
        &views.participation,
        &table,
    );
    let cleared = decision.allowed;
    let reasons = (!cleared).then(|| CheckOut::from(decision).reasons);
    Ok(ModelOut {
        id: record.model.id,
        name: record.name,
        uses: record.model.uses.iter().map(|u| u.as_str()).collect(),
        training: training_wire(&record.model.training),
        cleared,
        reasons,
        created_at: rfc3339(record.created_at_ms),
        updated_at: rfc3339(record.updated_at_ms),
    })
}

/// Register a model (operators only) with the uses it can perform and its training set.
#[utoipa::path(post, path = "/v1/models", tag = "models", request_body = ModelCreate,
    responses((status = 201, body = ModelOut), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_model(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ModelCreate>,
) -> Result<(StatusCode, axum::Json<ModelOut>), ApiError> {
    caller.require(&[], "register models")?;
    let (name, model) = parse(&state, &body).await?;
    let record = state
        .store
        .register_model(&name, &model, Some(&caller.key.id))
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(model_out(&state, record).await?),
    ))
}

/// A model, with whether it is cleared now in territory `WW` and, if not, every reason.
#[utoipa::path(get, path = "/v1/models/{id}", tag = "models", params(("id" = String, Path)),
    responses((status = 200, body = ModelOut), (status = 404, body = Problem)), security(("api_key" = [])))]
pub async fn get_model(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ModelOut>, ApiError> {
    let record = state
        .store
        .model(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("model"))?;
    Ok(axum::Json(model_out(&state, record).await?))
}

/// Registered models in id order, each with its clearance (any key).
#[utoipa::path(get, path = "/v1/models", tag = "models", params(ModelParams),
    responses((status = 200, body = ModelList), (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn list_models(
    State(state): State<AppState>,
    _caller: Caller,
    Query(params): Query<ModelParams>,
) -> Result<axum::Json<ModelList>, ApiError> {
    let limit = params.limit.unwrap_or(store_limits::PAGE_SIZE_DEFAULT);
    if !(1..=store_limits::PAGE_SIZE_MAX).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            format!("must be 1 to {}", store_limits::PAGE_SIZE_MAX),
        ));
    }
    let after = params.after.unwrap_or_default();
    if !encore_store::storable_id(&after) {
        return Err(ApiError::field("after", "must be a model id"));
    }
    let records = state.store.models(&after, limit).await?;
    let next_after = (records.len() == limit as usize)
        .then(|| records.last().map(|r| r.model.id.clone()))
        .flatten();
    let mut items = Vec::with_capacity(records.len());
    for r in records {
        items.push(model_out(&state, r).await?);
    }
    Ok(axum::Json(ModelList { items, next_after }))
}
