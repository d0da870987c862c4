//! The audit log and stored decisions over HTTP: `GET /v1/audit` and `GET /v1/decisions/{id}`.

use axum::extract::{Path, State};
use encore_store::{AuditEntry, DecisionRecord, limits as store_limits};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::Query;
use crate::wire::rfc3339;

/// Which audit entries to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Entries after this seq (the `next_after` of the previous page); from the start when absent.
    pub after: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryOut {
    /// Position in the log, from 1.
    pub seq: i64,
    /// When, RFC 3339.
    pub at: String,
    /// When, Unix ms.
    pub at_ms: i64,
    /// The key that made the change.
    pub key_id: Option<String>,
    /// e.g. `agreement.propose`, `agreement.revoke`, `participation.set`, `participation.delegate`, `use_table.set`.
    pub action: String,
    /// `agreement`, `participation`, `model` or `use_table`.
    pub subject_kind: String,
    /// The agreement or party id.
    pub subject_id: String,
    /// The parties the entry concerns.
    pub parties: Vec<String>,
    /// The state before (absent for a creation).
    #[schema(value_type = Object)]
    pub before: Value,
    /// The state after.
    #[schema(value_type = Object)]
    pub after: Value,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// SHA-256 of this entry and `prev_hash`.
    pub hash: String,
}

fn json_or_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

impl From<AuditEntry> for AuditEntryOut {
    fn from(e: AuditEntry) -> Self {
        Self {
            parties: e.party_ids(),
            seq: e.seq,
            at: rfc3339(e.at_ms),
            at_ms: e.at_ms,
            key_id: e.key_id,
            action: e.action,
            subject_kind: e.subject_kind,
            subject_id: e.subject_id,
            before: e.before.as_deref().map_or(Value::Null, json_or_text),
            after: json_or_text(&e.after),
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// A page of audit entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageOut {
    /// The entries, oldest first.
    pub items: Vec<AuditEntryOut>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<i64>,
}

/// Read the audit log: operators read every entry, other keys the entries concerning a party
/// they act for.
#[utoipa::path(get, path = "/v1/audit", tag = "rights", params(AuditParams),
    responses((status = 200, body = AuditPageOut), (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AuditParams>,
) -> Result<axum::Json<AuditPageOut>, ApiError> {
    let limit = params.limit.unwrap_or(store_limits::PAGE_SIZE_DEFAULT);
    if !(1..=store_limits::PAGE_SIZE_MAX).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            format!("must be 1 to {}", store_limits::PAGE_SIZE_MAX),
        ));
    }
    let after = params.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::field("after", "must not be negative"));
    }
    let filter = (!caller.is_admin()).then_some(caller.key.parties.as_slice());
    let entries = state.store.audit_entries(filter, after, limit).await?;
    let next_after = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(axum::Json(AuditPageOut {
        items: entries.into_iter().map(Into::into).collect(),
        next_after,
    }))
}

/// A stored rights decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionOut {
    /// `dec_…`.
    pub id: String,
    /// When it was made, RFC 3339.
    pub at: String,
    /// The key that asked.
    pub key_id: String,
    /// The request as understood (use, inputs, territory, `at_ms`).
    #[schema(value_type = Object)]
    pub request: Value,
    /// The answer given.
    #[schema(value_type = Object)]
    pub decision: Value,
    /// What the engine saw: `agreements` (each `id`, `licensor`, `status`, and `revoked_at_ms`
    /// when revoked) that reach an item judged; `participation` by person (`default` for the
    /// use, `recordings` and `works` overrides for the items judged when there are any, and
    /// `train` choices when a model was judged); `models`; `use_rule` (and `train_rule`).
    #[schema(value_type = Object)]
    pub snapshot: Value,
}

impl From<DecisionRecord> for DecisionOut {
    fn from(d: DecisionRecord) -> Self {
        Self {
            at: rfc3339(d.at_ms),
            request: json_or_text(&d.request),
            decision: json_or_text(&d.decision),
            snapshot: json_or_text(&d.snapshot),
            id: d.id,
            key_id: d.key_id,
        }
    }
}

/// A stored decision, to operators and the key that asked; to anyone else it does not exist.
#[utoipa::path(get, path = "/v1/decisions/{id}", tag = "rights", params(("id" = String, Path)),
    responses((status = 200, body = DecisionOut), (status = 404, body = Problem)), security(("api_key" = [])))]
pub async fn get_decision(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<DecisionOut>, ApiError> {
    if id.contains('\0') {
        return Err(ApiError::not_found("decision"));
    }
    match state.store.decision(&id).await? {
        Some(d) if caller.is_admin() || d.key_id == caller.key.id => Ok(axum::Json(d.into())),
        _ => Err(ApiError::not_found("decision")),
    }
}
