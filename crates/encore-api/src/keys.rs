//! API key endpoints (admins only) and `GET /v1/me`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use encore_core::{PartyKind, Role};
use encore_store::NewKey;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Fields, Problem, take};
use crate::extract::Json;
use crate::wire::{KeyCreate, KeyList, KeyOut};

/// Longest key label.
pub const KEY_NAME_CHARS_MAX: usize = 100;

/// Checks a key request against the rules for its role: partners act for one or more parties,
/// artists for exactly one person, the other roles for none.
pub async fn validate_new_key(
    store: &encore_store::Store,
    role: &str,
    parties: Vec<String>,
    name: Option<String>,
) -> Result<NewKey, ApiError> {
    let mut f = Fields::default();
    let role = f.check("role", Role::parse(role));
    let name = name.unwrap_or_default().trim().to_owned();
    if name.chars().count() > KEY_NAME_CHARS_MAX {
        f.fail(
            "name",
            format!("must be at most {KEY_NAME_CHARS_MAX} characters"),
        );
    }
    match role {
        Some(Role::Partner) if parties.is_empty() => {
            f.fail("parties", "a partner key must act for at least one party")
        }
        Some(Role::Artist) if parties.len() != 1 => {
            f.fail("parties", "an artist key acts for exactly one person party")
        }
        Some(Role::Admin | Role::Fan | Role::Worker) if !parties.is_empty() => f.fail(
            "parties",
            "only partner and artist keys act for parties; leave this empty",
        ),
        _ => {}
    }
    f.finish()?;
    let role = take(role)?;
    if role == Role::Artist {
        let party = store.party(&parties[0]).await?;
        match party {
            None => {
                return Err(ApiError::field(
                    "parties[0]",
                    format!("no party has id '{}'", parties[0]),
                ));
            }
            Some(p) if p.fields.kind != PartyKind::Person => {
                return Err(ApiError::field(
                    "parties[0]",
                    "an artist key must act for a person, not an organisation",
                ));
            }
            Some(_) => {}
        }
    }
    Ok(NewKey {
        role,
        parties,
        name,
    })
}

/// Create an API key. The secret is in this response only.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = KeyCreate,
    responses((status = 201, body = KeyOut), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<KeyCreate>,
) -> Result<(StatusCode, axum::Json<KeyOut>), ApiError> {
    caller.require(&[], "manage API keys")?;
    let new = validate_new_key(&state.store, &body.role, body.parties, body.name).await?;
    let created = state.store.create_key(&new).await?;
    let mut out = KeyOut::from(created.key);
    out.secret = Some(created.secret);
    Ok((StatusCode::CREATED, axum::Json(out)))
}

/// List API keys.
#[utoipa::path(get, path = "/v1/keys", tag = "keys", responses((status = 200, body = KeyList), (status = 403, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<KeyList>, ApiError> {
    caller.require(&[], "manage API keys")?;
    let items = state
        .store
        .keys()
        .await?
        .into_iter()
        .map(KeyOut::from)
        .collect();
    Ok(axum::Json(KeyList { items }))
}

/// Revoke an API key at once. Revoking again changes nothing.
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "keys", params(("id" = String, Path)),
    responses((status = 200, body = KeyOut), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<KeyOut>, ApiError> {
    caller.require(&[], "manage API keys")?;
    Ok(axum::Json(state.store.revoke_key(&id).await?.into()))
}

/// The calling key: its role and the parties it acts for.
#[utoipa::path(get, path = "/v1/me", tag = "keys", responses((status = 200, body = KeyOut), (status = 401, body = Problem)),
    security(("api_key" = [])))]
pub async fn me(caller: Caller) -> axum::Json<KeyOut> {
    axum::Json(caller.key.into())
}
