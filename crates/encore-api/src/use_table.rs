//! The use table as operator data: `GET /v1/use-table` (any key) and `PUT /v1/use-table`
//! (operators; every row checked, the change audited). Decisions read the stored table.

use std::collections::BTreeMap;

use axum::extract::State;
use encore_core::UseType;
use encore_core::rights::{ArtistRule, UseRule, UseTable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Fields, Problem};
use crate::extract::Json;

/// Most distinct inputs a row may require.
pub const MIN_INPUTS_MAX: u8 = 10;

/// Who must agree for one use.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UseRuleWire {
    /// Every master owner of each recording input needs an agreement licensing the use.
    pub master_owners: bool,
    /// Every publishing owner of each work performed needs an agreement licensing the use.
    pub publishing_owners: bool,
    /// Which artists must have opted in: `none`, `main` (main artists of each recording) or
    /// `voiced` (the request's `artist`; `voice` only).
    pub artists: String,
    /// Every writer of each work concerned must have opted in.
    pub writers: bool,
    /// Fewest distinct recording and work inputs a request needs (0 to 10).
    pub min_inputs: u8,
}

/// The whole use table: one row per use type.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UseTableWire {
    /// A row for every use type, keyed by use type.
    pub uses: BTreeMap<String, UseRuleWire>,
}

fn artists_str(a: ArtistRule) -> &'static str {
    match a {
        ArtistRule::NotRequired => "none",
        ArtistRule::MainArtists => "main",
        ArtistRule::VoicedArtist => "voiced",
    }
}

pub(crate) fn rule_wire(r: &UseRule) -> UseRuleWire {
    UseRuleWire {
        master_owners: r.master_owners,
        publishing_owners: r.publishing_owners,
        artists: artists_str(r.artists).to_owned(),
        writers: r.writers,
        min_inputs: r.min_inputs,
    }
}

/// One row as JSON, for a stored decision's snapshot of the rule it followed.
fn to_wire(t: &UseTable) -> UseTableWire {
    let uses = t
        .rows()
        .map(|(u, r)| (u.as_str().to_owned(), rule_wire(r)))
        .collect();
    UseTableWire { uses }
}

fn from_wire(body: &UseTableWire) -> Result<UseTable, ApiError> {
    let mut f = Fields::default();
    for key in body.uses.keys() {
        if let Err(e) = UseType::parse(key) {
            f.fail(format!("uses.{key}"), e.to_string());
        }
    }
    let table = UseTable::from_fn(|u| {
        let name = u.as_str();
        let Some(row) = body.uses.get(name) else {
            f.fail(format!("uses.{name}"), "every use type needs a row");
            return UseRule::everyone(1);
        };
        let artists = match (row.artists.as_str(), u) {
            ("none", _) => ArtistRule::NotRequired,
            ("main", _) => ArtistRule::MainArtists,
            ("voiced", UseType::Voice) => ArtistRule::VoicedArtist,
            ("voiced", _) => {
                f.fail(
                    format!("uses.{name}.artists"),
                    "'voiced' applies to the voice use only",
                );
                ArtistRule::NotRequired
            }
            (other, _) => {
                f.fail(
                    format!("uses.{name}.artists"),
                    format!("'{other}' is not one of none, main, voiced"),
                );
                ArtistRule::NotRequired
            }
        };
        if row.min_inputs > MIN_INPUTS_MAX {
            f.fail(
                format!("uses.{name}.min_inputs"),
                format!("must be at most {MIN_INPUTS_MAX}"),
            );
        }
        UseRule {
            master_owners: row.master_owners,
            publishing_owners: row.publishing_owners,
            artists,
            writers: row.writers,
            min_inputs: row.min_inputs,
        }
    });
    f.finish()?;
    Ok(table)
}

/// The use table decisions follow now: for each use, which owners and which people must agree.
#[utoipa::path(get, path = "/v1/use-table", tag = "rights",
    responses((status = 200, body = UseTableWire)), security(("api_key" = [])))]
pub async fn get_use_table(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<axum::Json<UseTableWire>, ApiError> {
    Ok(axum::Json(to_wire(&state.store.use_table().await?)))
}

/// Replace the use table (operators). Every use type needs a valid row; the change is logged
/// as `use_table.set` with the table before and after, and holds for every later decision.
#[utoipa::path(put, path = "/v1/use-table", tag = "rights", request_body = UseTableWire,
    responses((status = 200, body = UseTableWire), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_use_table(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<UseTableWire>,
) -> Result<axum::Json<UseTableWire>, ApiError> {
    caller.require(&[], "change the use table")?;
    let table = from_wire(&body)?;
    let stored = state
        .store
        .set_use_table(&table, Some(&caller.key.id))
        .await?;
    Ok(axum::Json(to_wire(&stored)))
}
