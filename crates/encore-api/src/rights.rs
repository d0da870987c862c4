//! Rights endpoints: agreements, participation, decisions and "what can I make with this".
//!
//! Handlers parse bodies into `encore_core::rights` types and call [`decide`] on the store's
//! in-memory copies in place when those hold everything a decision reads, or else on views
//! loaded from the store. The rules are in the engine.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use encore_core::rights::{
    Agreement, AgreementStatus, Choice, Decision, Input, Item, Key, MemoryCatalog, Model,
    OnRevocation, Participation, Scope, Territories, TrainingSet, UseRates, UseRequest, UseTable,
    decide,
};
use encore_core::{Currency, Money, Role, Splits, Territory, UseType};
use encore_store::{AgreementRecord, ParticipationRecord, limits as store_limits};
use encore_store::{Consulted, RightsReader};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Fields, Problem, take};
use crate::extract::{Json, Query};
use crate::wire::rfc3339;

/// Most recordings or works an agreement's scope may list.
pub const SCOPE_ITEMS_MAX: usize = 1_000;
/// Most territories an agreement may list or exclude.
pub const TERRITORIES_MAX: usize = 300;
/// Most per-item overrides one participation document may hold.
pub const OVERRIDES_MAX: usize = 1_000;

// ---------------- wire shapes ----------------

/// Which catalog items an agreement covers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeWire {
    /// `all` (everything where the licensor holds shares), `recordings` or `works`.
    pub kind: String,
    /// The recording or work ids, for `recordings` and `works`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
}

/// Where an agreement applies: `{include: [..]}` or `{world: true, exclude: [..]}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerritoriesWire {
    /// ISO 3166-1 alpha-2 codes (or `WW`) covered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// The whole world, except `exclude`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub world: bool,
    /// Countries not covered, with `world`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

/// The licensor's rates for one use, in micro-units of `currency`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatesWire {
    /// Paid per creation.
    pub creation_fee_micros: i64,
    /// Paid per qualified play of a derivative.
    pub per_stream_micros: i64,
    /// ISO 4217 code.
    pub currency: String,
}

/// An operator's proposal of an agreement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementCreate {
    /// The owner party who grants the licence.
    pub licensor: String,
    /// Which items it covers.
    pub scope: ScopeWire,
    /// Licensed use types.
    pub uses: Vec<String>,
    /// Where it applies.
    pub territories: TerritoriesWire,
    /// Start, RFC 3339 (or give `starts_at_ms`); now when neither is given.
    pub starts_at: Option<String>,
    /// Start, Unix ms.
    pub starts_at_ms: Option<i64>,
    /// End (exclusive), RFC 3339; open-ended when absent.
    pub ends_at: Option<String>,
    /// End, Unix ms.
    pub ends_at_ms: Option<i64>,
    /// Whether each derivative waits for the licensor's approval before it is public.
    #[serde(default)]
    pub requires_approval: bool,
    /// `delist` (default) or `keep`: what revocation does to published derivatives.
    pub on_revocation: Option<String>,
    /// Rates per use type.
    #[serde(default)]
    pub rates: BTreeMap<String, RatesWire>,
}

/// An agreement.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementOut {
    /// Identifier.
    pub id: String,
    /// The licensor party.
    pub licensor: String,
    /// `proposed`, `accepted` or `revoked`.
    pub status: String,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Which items it covers.
    pub scope: ScopeWire,
    /// Licensed use types.
    pub uses: Vec<String>,
    /// Where it applies.
    pub territories: TerritoriesWire,
    /// Start, RFC 3339.
    pub starts_at: String,
    /// Start, Unix ms.
    pub starts_at_ms: i64,
    /// End, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    /// End, Unix ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at_ms: Option<i64>,
    /// Whether each derivative waits for the licensor's approval.
    pub requires_approval: bool,
    /// `delist` or `keep`.
    pub on_revocation: String,
    /// Rates per use type.
    pub rates: BTreeMap<String, RatesWire>,
    /// The key that proposed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Proposal time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<AgreementRecord> for AgreementOut {
    fn from(r: AgreementRecord) -> Self {
        let a = r.agreement;
        let (status, revoked_at) = match a.status {
            AgreementStatus::Proposed => ("proposed", None),
            AgreementStatus::Accepted => ("accepted", None),
            AgreementStatus::Revoked { at_ms } => ("revoked", Some(rfc3339(at_ms))),
        };
        let scope = match &a.scope {
            Scope::AllWhereLicensorHoldsShares => ScopeWire {
                kind: "all".into(),
                items: vec![],
            },
            Scope::Recordings(items) => ScopeWire {
                kind: "recordings".into(),
                items: items.iter().cloned().collect(),
            },
            Scope::Works(items) => ScopeWire {
                kind: "works".into(),
                items: items.iter().cloned().collect(),
            },
        };
        let codes = |set: &BTreeSet<Territory>| set.iter().map(|t| t.as_str().to_owned()).collect();
        let territories = match &a.territories {
            Territories::List(list) => TerritoriesWire {
                include: Some(codes(list)),
                ..TerritoriesWire::default()
            },
            Territories::World { excluding } => TerritoriesWire {
                include: None,
                world: true,
                exclude: codes(excluding),
            },
        };
        let rates = a
            .rates
            .iter()
            .map(|(u, r)| {
                (
                    u.as_str().to_owned(),
                    RatesWire {
                        creation_fee_micros: r.creation_fee.amount_micros,
                        per_stream_micros: r.per_stream.amount_micros,
                        currency: r.creation_fee.currency.as_str().to_owned(),
                    },
                )
            })
            .collect();
        Self {
            id: a.id,
            licensor: a.licensor,
            status: status.into(),
            revoked_at,
            scope,
            uses: a.uses.iter().map(|u| u.as_str().to_owned()).collect(),
            territories,
            starts_at: rfc3339(a.starts_at_ms),
            starts_at_ms: a.starts_at_ms,
            ends_at: a.ends_at_ms.map(rfc3339),
            ends_at_ms: a.ends_at_ms,
            requires_approval: a.requires_approval,
            on_revocation: a.on_revocation.as_str().into(),
            rates,
            created_by: r.created_by,
            created_at: rfc3339(r.created_at_ms),
            updated_at: rfc3339(r.updated_at_ms),
        }
    }
}

/// One per-item exception to a person's answer for a use.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideWire {
    /// The use type.
    #[serde(rename = "use")]
    pub use_type: String,
    /// A recording id (give this or `work`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
    /// A work id (give this or `recording`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work: Option<String>,
    /// `allow`, `deny` or `approve`.
    pub choice: String,
}

/// A person's participation: per use type `allow`, `deny` or `approve`; unset means no.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipationIn {
    /// Answer per use type, e.g. `{"remix": "allow", "voice": "deny"}`.
    #[serde(default)]
    pub uses: BTreeMap<String, String>,
    /// Exceptions for particular recordings or works.
    #[serde(default)]
    pub overrides: Vec<OverrideWire>,
}

/// A person's stored participation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipationOut {
    /// The person party.
    pub party: String,
    /// Answer per use type; absent uses are unset (no).
    pub uses: BTreeMap<String, String>,
    /// Exceptions for particular recordings or works.
    pub overrides: Vec<OverrideWire>,
    /// Last change, when ever set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

impl ParticipationOut {
    fn new(party: String, record: Option<ParticipationRecord>) -> Self {
        let mut uses = BTreeMap::new();
        let mut overrides = Vec::new();
        let updated_at = record.as_ref().map(|r| rfc3339(r.updated_at_ms));
        if let Some(r) = record {
            for u in UseType::ALL {
                let up = r.participation.for_use(u);
                if let Some(c) = up.default {
                    uses.insert(u.as_str().to_owned(), c.as_str().to_owned());
                }
                for (id, c) in &up.recordings {
                    overrides.push(OverrideWire {
                        use_type: u.as_str().into(),
                        recording: Some(id.clone()),
                        work: None,
                        choice: c.as_str().into(),
                    });
                }
                for (id, c) in &up.works {
                    overrides.push(OverrideWire {
                        use_type: u.as_str().into(),
                        recording: None,
                        work: Some(id.clone()),
                        choice: c.as_str().into(),
                    });
                }
            }
        }
        Self {
            party,
            uses,
            overrides,
            updated_at,
        }
    }
}

/// A proposed use to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    /// The use type.
    #[serde(rename = "use")]
    pub use_type: String,
    /// Recording inputs.
    #[serde(default)]
    pub recordings: Vec<String>,
    /// Work inputs.
    #[serde(default)]
    pub works: Vec<String>,
    /// The voiced artist, for `voice`.
    pub artist: Option<String>,
    /// Where the result will be available (ISO 3166-1 alpha-2, or `WW`).
    pub territory: String,
    /// When the use happens, RFC 3339; now when absent.
    pub at: Option<String>,
    /// The registered model (`mdl_…`) that will perform the use, if any: it must support the
    /// use (`MODEL_USE_UNSUPPORTED`) and be cleared (`MODEL_NOT_CLEARED`); an unknown id is
    /// `INPUT_NOT_FOUND`.
    pub model: Option<String>,
}

/// What a reason is about: `{kind: recording|work|artist|model, id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefOut {
    /// `recording`, `work`, `artist` or `model`.
    pub kind: &'static str,
    /// The id.
    pub id: String,
}

/// One reason for a denial.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonOut {
    /// Stable code, e.g. `NO_AGREEMENT`.
    pub code: &'static str,
    /// The request input concerned.
    pub input: Option<RefOut>,
    /// The item within the input, when it is not the input itself.
    pub item: Option<RefOut>,
    /// The party whose consent is missing.
    pub party: Option<String>,
    /// The failing agreement.
    pub agreement: Option<String>,
}

/// The answer to a check.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckOut {
    /// The stored decision's id (`dec_…`), for `GET /v1/decisions/{id}`.
    pub id: String,
    /// Whether the use may go ahead.
    pub allowed: bool,
    /// Parties who must approve each derivative before it is public.
    pub approvals_required: Vec<String>,
    /// Every reason for a denial.
    pub reasons: Vec<ReasonOut>,
}

impl From<Decision> for CheckOut {
    fn from(d: Decision) -> Self {
        let reasons = d
            .reasons
            .into_iter()
            .map(|r| ReasonOut {
                code: r.code.as_str(),
                input: r.input.map(|i| match i {
                    Input::Recording(id) => RefOut {
                        kind: "recording",
                        id,
                    },
                    Input::Work(id) => RefOut { kind: "work", id },
                    Input::Artist(id) => RefOut { kind: "artist", id },
                    Input::Model(id) => RefOut { kind: "model", id },
                }),
                item: r.item.map(|i| match i {
                    Item::Recording(id) => RefOut {
                        kind: "recording",
                        id,
                    },
                    Item::Work(id) => RefOut { kind: "work", id },
                }),
                party: r.party,
                agreement: r.agreement,
            })
            .collect();
        Self {
            id: String::new(),
            allowed: d.allowed,
            approvals_required: d.approvals_required,
            reasons,
        }
    }
}

/// Where the uses are wanted.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsesParams {
    /// ISO 3166-1 alpha-2 code, or `WW`.
    pub territory: Option<String>,
}

/// One use open now.
#[derive(Debug, Serialize, ToSchema)]
pub struct UseOut {
    /// The use type.
    #[serde(rename = "use")]
    pub use_type: &'static str,
    /// Parties who must approve each derivative.
    pub approvals_required: Vec<String>,
}

/// The uses open to a fan for one recording.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsesOut {
    /// The recording.
    pub recording: String,
    /// The territory asked about.
    pub territory: String,
    /// The allowed uses.
    pub uses: Vec<UseOut>,
}

// ---------------- parsing ----------------

fn parse_time(
    f: &mut Fields,
    field: &str,
    text: Option<&str>,
    ms: Option<i64>,
) -> Option<Option<i64>> {
    match (text, ms) {
        (Some(_), Some(_)) => {
            f.fail(field, format!("give {field} or {field}_ms, not both"));
            None
        }
        (None, ms) => Some(ms),
        (Some(t), None) => {
            let parsed =
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| {
                        format!("must be an RFC 3339 time such as 2026-01-31T12:00:00Z; got '{t}'")
                    })
                    .and_then(|t| {
                        i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
                            .map_err(|_| "is out of range".to_owned())
                    });
            f.check(field, parsed).map(Some)
        }
    }
}

fn territory_list(f: &mut Fields, field: &str, codes: &[String]) -> Option<BTreeSet<Territory>> {
    if codes.len() > TERRITORIES_MAX {
        f.fail(
            field,
            format!("must list at most {TERRITORIES_MAX} territories"),
        );
        return None;
    }
    let mut out = BTreeSet::new();
    let mut ok = true;
    for (i, c) in codes.iter().enumerate() {
        match Territory::parse(c) {
            Ok(t) => {
                out.insert(t);
            }
            Err(e) => {
                f.fail(format!("{field}[{i}]"), e.to_string());
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn agreement_terms(body: &AgreementCreate) -> Result<Agreement, ApiError> {
    let mut f = Fields::default();
    let licensor = body.licensor.trim();
    if licensor.is_empty() {
        f.fail("licensor", "must name a party id");
    }
    let scope = match body.scope.kind.as_str() {
        "all" if body.scope.items.is_empty() => Some(Scope::AllWhereLicensorHoldsShares),
        "all" => {
            f.fail("scope.items", "must be empty when scope.kind is 'all'");
            None
        }
        "recordings" | "works" if body.scope.items.is_empty() => {
            f.fail("scope.items", "must list at least one id");
            None
        }
        "recordings" | "works" if body.scope.items.len() > SCOPE_ITEMS_MAX => {
            f.fail(
                "scope.items",
                format!("must list at most {SCOPE_ITEMS_MAX} ids"),
            );
            None
        }
        "recordings" => Some(Scope::Recordings(
            body.scope.items.iter().cloned().collect(),
        )),
        "works" => Some(Scope::Works(body.scope.items.iter().cloned().collect())),
        other => {
            f.fail(
                "scope.kind",
                format!("must be one of: all, recordings, works; got '{other}'"),
            );
            None
        }
    };
    let mut uses = BTreeSet::new();
    if body.uses.is_empty() {
        f.fail("uses", "must list at least one use type");
    }
    for (i, u) in body.uses.iter().enumerate() {
        if let Some(u) = f.check(format!("uses[{i}]"), UseType::parse(u)) {
            uses.insert(u);
        }
    }
    let t = &body.territories;
    let territories = match (&t.include, t.world) {
        (Some(_), true) => {
            f.fail(
                "territories",
                "give include, or world with exclude, not both",
            );
            None
        }
        (Some(list), false) if list.is_empty() => {
            f.fail("territories.include", "must list at least one territory");
            None
        }
        (Some(_), false) if !t.exclude.is_empty() => {
            f.fail("territories.exclude", "only applies with world: true");
            None
        }
        (Some(list), false) => {
            territory_list(&mut f, "territories.include", list).map(Territories::List)
        }
        (None, true) => territory_list(&mut f, "territories.exclude", &t.exclude)
            .map(|excluding| Territories::World { excluding }),
        (None, false) => {
            f.fail("territories", "give include: [..] or world: true");
            None
        }
    };
    let starts = parse_time(
        &mut f,
        "starts_at",
        body.starts_at.as_deref(),
        body.starts_at_ms,
    );
    let ends = parse_time(&mut f, "ends_at", body.ends_at.as_deref(), body.ends_at_ms);
    let starts_at_ms = starts.map(|s| s.unwrap_or_else(crate::now_ms));
    if let (Some(s), Some(Some(e))) = (starts_at_ms, ends) {
        if e <= s {
            f.fail("ends_at", "must be after starts_at");
        }
    }
    let on_revocation = match &body.on_revocation {
        None => Some(OnRevocation::Delist),
        Some(v) => f.check("on_revocation", OnRevocation::parse(v)),
    };
    let mut rates = BTreeMap::new();
    for (u, r) in &body.rates {
        let use_type = f.check(format!("rates.{u}"), UseType::parse(u));
        let currency = f.check(format!("rates.{u}.currency"), Currency::parse(&r.currency));
        if r.creation_fee_micros < 0 {
            f.fail(
                format!("rates.{u}.creation_fee_micros"),
                "must not be negative",
            );
        }
        if r.per_stream_micros < 0 {
            f.fail(
                format!("rates.{u}.per_stream_micros"),
                "must not be negative",
            );
        }
        if let (Some(use_type), Some(currency)) = (use_type, currency) {
            if !uses.contains(&use_type) {
                f.fail(format!("rates.{u}"), "is not one of the licensed uses");
            }
            rates.insert(
                use_type,
                UseRates {
                    creation_fee: Money::new(r.creation_fee_micros, currency),
                    per_stream: Money::new(r.per_stream_micros, currency),
                },
            );
        }
    }
    f.finish()?;
    let agreement = Agreement {
        id: String::new(),
        licensor: licensor.to_owned(),
        scope: take(scope)?,
        uses,
        territories: take(territories)?,
        starts_at_ms: take(starts_at_ms)?,
        ends_at_ms: take(ends)?,
        status: AgreementStatus::Proposed,
        requires_approval: body.requires_approval,
        rates,
        on_revocation: take(on_revocation)?,
    };
    agreement
        .validate()
        .map_err(|e| ApiError::field("agreement", e.to_string()))?;
    Ok(agreement)
}

// ---------------- agreements ----------------

/// Propose an agreement (operators only). It licenses nothing until the licensor accepts.
#[utoipa::path(post, path = "/v1/agreements", tag = "rights", request_body = AgreementCreate,
    responses((status = 201, body = AgreementOut), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_agreement(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<AgreementCreate>,
) -> Result<(StatusCode, axum::Json<AgreementOut>), ApiError> {
    caller.require(&[], "propose agreements")?;
    let terms = agreement_terms(&body)?;
    let record = state
        .store
        .create_agreement(&terms, Some(&caller.key.id))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(record.into())))
}

/// Loads an agreement the caller may see: admins and keys acting for the licensor; to anyone
/// else it does not exist.
async fn visible_agreement(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<AgreementRecord, ApiError> {
    match state.store.agreement(id).await? {
        Some(r) if caller.is_admin() || caller.acts_for(&r.agreement.licensor) => Ok(r),
        _ => Err(ApiError::not_found("agreement")),
    }
}

/// An agreement (operators and the licensor's keys).
#[utoipa::path(get, path = "/v1/agreements/{id}", tag = "rights", params(("id" = String, Path)),
    responses((status = 200, body = AgreementOut), (status = 404, body = Problem)), security(("api_key" = [])))]
pub async fn get_agreement(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<AgreementOut>, ApiError> {
    Ok(axum::Json(
        visible_agreement(&state, &caller, &id).await?.into(),
    ))
}

/// Accept a proposal, as the licensor's partner key. Operators may not accept for a licensor.
#[utoipa::path(post, path = "/v1/agreements/{id}/accept", tag = "rights", params(("id" = String, Path)),
    responses((status = 200, body = AgreementOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn accept_agreement(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<AgreementOut>, ApiError> {
    let record = visible_agreement(&state, &caller, &id).await?;
    if caller.role() != Role::Partner || !caller.acts_for(&record.agreement.licensor) {
        return Err(ApiError::forbidden(
            "only a partner key acting for the licensor may accept its agreement",
        ));
    }
    Ok(axum::Json(
        state
            .store
            .accept_agreement(&id, Some(&caller.key.id))
            .await?
            .into(),
    ))
}

/// Revoke an accepted agreement at once (the licensor's partner key or an operator).
/// Revoking again changes nothing.
#[utoipa::path(post, path = "/v1/agreements/{id}/revoke", tag = "rights", params(("id" = String, Path)),
    responses((status = 200, body = AgreementOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn revoke_agreement(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<AgreementOut>, ApiError> {
    let record = visible_agreement(&state, &caller, &id).await?;
    let licensor_partner =
        caller.role() == Role::Partner && caller.acts_for(&record.agreement.licensor);
    if !(caller.is_admin() || licensor_partner) {
        return Err(ApiError::forbidden(
            "only a partner key acting for the licensor, or an operator, may revoke an agreement",
        ));
    }
    Ok(axum::Json(
        state
            .store
            .revoke_agreement(&id, Some(&caller.key.id))
            .await?
            .into(),
    ))
}

// ---------------- participation ----------------

fn participation_from(body: &ParticipationIn) -> Result<Participation, ApiError> {
    let mut f = Fields::default();
    let mut p = Participation::new();
    for (u, c) in &body.uses {
        let use_type = f.check(format!("uses.{u}"), UseType::parse(u));
        let choice = f.check(format!("uses.{u}"), Choice::parse(c));
        if let (Some(u), Some(c)) = (use_type, choice) {
            p.set(u, Some(c));
        }
    }
    if body.overrides.len() > OVERRIDES_MAX {
        f.fail(
            "overrides",
            format!("must list at most {OVERRIDES_MAX} overrides"),
        );
    }
    for (i, o) in body.overrides.iter().enumerate() {
        let use_type = f.check(format!("overrides[{i}].use"), UseType::parse(&o.use_type));
        let choice = f.check(format!("overrides[{i}].choice"), Choice::parse(&o.choice));
        let (Some(u), Some(c)) = (use_type, choice) else {
            continue;
        };
        match (&o.recording, &o.work) {
            (Some(r), None) => {
                p.for_use_mut(u).recordings.insert(r.clone(), c);
            }
            (None, Some(w)) => {
                p.for_use_mut(u).works.insert(w.clone(), c);
            }
            _ => f.fail(
                format!("overrides[{i}]"),
                "give exactly one of recording or work",
            ),
        }
    }
    f.finish()?;
    Ok(p)
}

/// Set a person's participation: per use, `allow`, `deny` or `approve`, with per-item
/// exceptions. Only that person's artist key, a partner key acting for a party they delegated
/// to, or an operator may change it.
#[utoipa::path(put, path = "/v1/parties/{id}/participation", tag = "rights", params(("id" = String, Path)),
    request_body = ParticipationIn,
    responses((status = 200, body = ParticipationOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn put_participation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ParticipationIn>,
) -> Result<axum::Json<ParticipationOut>, ApiError> {
    let party = load_party(&state, &id).await?;
    let own_artist_key = caller.role() == Role::Artist && caller.acts_for(&party.id);
    let delegate = caller.role() == Role::Partner
        && state
            .store
            .participation_delegates(&party.id)
            .await?
            .iter()
            .any(|d| caller.acts_for(d));
    if !(caller.is_admin() || own_artist_key || delegate) {
        return Err(ApiError::forbidden(
            "only the person's own artist key, a partner they delegated to, or an operator, may change their participation",
        ));
    }
    if party.fields.kind != encore_core::PartyKind::Person {
        return Err(ApiError::field(
            "id",
            "participation is set by people, not organisations",
        ));
    }
    let participation = participation_from(&body)?;
    let record = state
        .store
        .set_participation(&id, &participation, Some(&caller.key.id))
        .await?;
    Ok(axum::Json(ParticipationOut::new(id, Some(record))))
}

/// Most partners one person may delegate participation changes to.
pub const DELEGATES_MAX: usize = 100;

/// The partner parties (organisations) a person lets change their participation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegatesWire {
    /// Organisation party ids; replaces the whole set (empty removes every delegate).
    pub partners: Vec<String>,
}

/// Replace the partners a person delegates participation changes to (that person's artist key
/// or an operator). Logged as `participation.delegate`.
#[utoipa::path(put, path = "/v1/parties/{id}/participation/delegates", tag = "rights", params(("id" = String, Path)),
    request_body = DelegatesWire,
    responses((status = 200, body = DelegatesWire), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn put_delegates(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<DelegatesWire>,
) -> Result<axum::Json<DelegatesWire>, ApiError> {
    let party = load_party(&state, &id).await?;
    let own_artist_key = caller.role() == Role::Artist && caller.acts_for(&party.id);
    if !(caller.is_admin() || own_artist_key) {
        return Err(ApiError::forbidden(
            "only the person's own artist key, or an operator, may choose their delegates",
        ));
    }
    if party.fields.kind != encore_core::PartyKind::Person {
        return Err(ApiError::field(
            "id",
            "participation is set by people, not organisations",
        ));
    }
    let mut f = Fields::default();
    if body.partners.len() > DELEGATES_MAX {
        f.fail(
            "partners",
            format!("must list at most {DELEGATES_MAX} partners"),
        );
    }
    for (i, p) in body.partners.iter().enumerate() {
        if !encore_store::storable_id(p) {
            f.fail(format!("partners[{i}]"), format!("no party has id '{p}'"));
        }
    }
    f.finish()?;
    let partners = state
        .store
        .set_participation_delegates(&id, &body.partners, Some(&caller.key.id))
        .await?;
    Ok(axum::Json(DelegatesWire { partners }))
}

/// The partners a person delegates participation changes to: readable by operators, the
/// person's own artist key and the delegates themselves.
#[utoipa::path(get, path = "/v1/parties/{id}/participation/delegates", tag = "rights", params(("id" = String, Path)),
    responses((status = 200, body = DelegatesWire), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_delegates(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<DelegatesWire>, ApiError> {
    let party = load_party(&state, &id).await?;
    let partners = state.store.participation_delegates(&party.id).await?;
    let own_artist_key = caller.role() == Role::Artist && caller.acts_for(&party.id);
    let delegate = caller.role() == Role::Partner && partners.iter().any(|d| caller.acts_for(d));
    if !(caller.is_admin() || own_artist_key || delegate) {
        return Err(ApiError::forbidden(
            "only an operator, the person's own artist key or one of their delegates may see their delegates",
        ));
    }
    Ok(axum::Json(DelegatesWire { partners }))
}

/// A person's participation (operators and the person's keys).
#[utoipa::path(get, path = "/v1/parties/{id}/participation", tag = "rights", params(("id" = String, Path)),
    responses((status = 200, body = ParticipationOut), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_participation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ParticipationOut>, ApiError> {
    if state.store.party(&id).await?.is_none() {
        return Err(ApiError::not_found("party"));
    }
    if !caller.is_admin() && !caller.acts_for(&id) {
        return Err(ApiError::forbidden(
            "participation is readable by the person's own keys and operators",
        ));
    }
    let record = state.store.participation(&id).await?;
    Ok(axum::Json(ParticipationOut::new(id, record)))
}

// ---------------- decisions ----------------

/// The party at `id`, or 404.
async fn load_party(state: &AppState, id: &str) -> Result<encore_store::Party, ApiError> {
    state
        .store
        .party(id)
        .await?
        .ok_or_else(|| ApiError::not_found("party"))
}

/// What the engine needs to decide about some inputs, loaded from the store.
pub(crate) struct Views {
    pub(crate) catalog: MemoryCatalog,
    pub(crate) agreements: HashMap<String, Arc<[Agreement]>>,
    pub(crate) participation: HashMap<String, Arc<Participation>>,
    /// The model the request names, when it exists.
    pub(crate) models: HashMap<String, Model>,
}

impl Views {
    /// Loads the views for `recordings`, `works` and `artist`, plus, when `model` is given,
    /// the model and everything needed to judge its training items for `train`.
    pub(crate) async fn load_with_model(
        reader: &RightsReader<'_>,
        recordings: &[String],
        works: &[String],
        artist: Option<&str>,
        model: Option<Model>,
    ) -> Result<Self, ApiError> {
        let Some(model) = model else {
            return Self::load_from(reader, recordings, works, artist).await;
        };
        let mut recordings = recordings.to_vec();
        let mut works = works.to_vec();
        if let TrainingSet::Items {
            recordings: r,
            works: w,
        } = &model.training
        {
            recordings.extend(r.iter().cloned());
            works.extend(w.iter().cloned());
        }
        let mut views = Self::load_from(reader, &recordings, &works, artist).await?;
        views.models.insert(model.id.clone(), model);
        Ok(views)
    }

    /// Loads through `reader`: the store's in-memory copies, kept exact by its change log.
    pub(crate) async fn load_from(
        reader: &RightsReader<'_>,
        recordings: &[String],
        works: &[String],
        artist: Option<&str>,
    ) -> Result<Self, ApiError> {
        let mut catalog = MemoryCatalog::default();
        let mut owners = BTreeSet::new();
        let mut people = BTreeSet::new();
        let mut work_ids: Vec<String> = works.to_vec();
        for id in recordings {
            if catalog.recordings.contains_key(id.as_str()) {
                continue;
            }
            if let Some(rec) = reader.recording(id).await? {
                owners.extend(
                    rec.master_splits
                        .iter()
                        .flat_map(Splits::parties)
                        .map(Key::to_string),
                );
                people.extend(rec.main_artists.iter().map(Key::to_string));
                work_ids.extend(rec.works.iter().map(Key::to_string));
                catalog.recordings.insert(Key::new(id), rec);
            }
        }
        for id in &work_ids {
            if catalog.works.contains_key(id.as_str()) {
                continue;
            }
            if let Some(work) = reader.work(id).await? {
                owners.extend(
                    work.publishing_splits
                        .iter()
                        .flat_map(Splits::parties)
                        .map(Key::to_string),
                );
                people.extend(work.writers.iter().map(Key::to_string));
                catalog.works.insert(Key::new(id), work);
            }
        }
        if let Some(a) = artist {
            if let Some(kind) = reader.party_kind(a).await? {
                people.insert(a.to_owned());
                catalog.parties.insert(Key::new(a), kind);
            }
        }
        let owners: Vec<String> = owners.into_iter().collect();
        let agreements = reader.agreements(&owners).await?;
        let people: Vec<String> = people.into_iter().collect();
        let participation = reader.participations(&people).await?;
        Ok(Self {
            catalog,
            agreements,
            participation,
            models: HashMap::new(),
        })
    }

    /// What a decision from these views reads, for its snapshot.
    fn consulted(&self) -> Consulted<'_> {
        Consulted {
            recordings: self.catalog.recordings.keys().map(Key::as_str).collect(),
            works: self.catalog.works.keys().map(Key::as_str).collect(),
            agreements: self.agreements.values().map(|list| &**list).collect(),
            participation: self
                .participation
                .iter()
                .map(|(p, part)| (p.as_str(), &**part))
                .collect(),
            model: self.models.values().next(),
        }
    }

    fn decide(&self, request: &UseRequest, table: &UseTable) -> Decision {
        decide(
            request,
            &self.catalog,
            &self.agreements,
            &self.participation,
            table,
            &self.models,
        )
    }
}

/// What a decision about `use_type` saw, as the JSON text stored with it: the agreements of
/// the owners consulted that reach an item judged (a catalogue-wide agreement, or one listing
/// such an item) with their status; each consulted person's choices for that use, their
/// overrides narrowed to the items judged (and their `train` choices under `train` when a
/// model's training set was judged too); the model; and the use table's rules. The same
/// whether the facts were read in place from the store's copies or loaded into [`Views`].
fn snapshot(seen: &Consulted<'_>, use_type: UseType, table: &UseTable) -> String {
    let recordings = || seen.recordings.iter().copied();
    let works = || seen.works.iter().copied();
    let mut agreements: Vec<SnapAgreement<'_>> = seen
        .agreements
        .iter()
        .flat_map(|list| list.iter())
        .filter(|a| a.scope.reaches_any(recordings(), works()))
        .map(|a| {
            let (status, revoked_at_ms) = match a.status {
                AgreementStatus::Proposed => ("proposed", None),
                AgreementStatus::Accepted => ("accepted", None),
                AgreementStatus::Revoked { at_ms } => ("revoked", Some(at_ms)),
            };
            SnapAgreement {
                id: &a.id,
                licensor: &a.licensor,
                status,
                revoked_at_ms,
            }
        })
        .collect();
    agreements.sort_unstable_by(|a, b| a.id.cmp(b.id));
    let with_model = seen.model.is_some() && use_type != UseType::Train;
    /// The overrides in `m` for the items judged.
    fn narrowed<'a>(
        m: &BTreeMap<String, Choice>,
        judged: &[&'a str],
    ) -> BTreeMap<&'a str, &'static str> {
        if m.is_empty() {
            return BTreeMap::new();
        }
        judged
            .iter()
            .filter_map(|k| m.get(*k).map(|c| (*k, c.as_str())))
            .collect()
    }
    fn choices<'v>(seen: &Consulted<'v>, p: &Participation, u: UseType) -> SnapChoices<'v> {
        let up = p.for_use(u);
        SnapChoices {
            default: up.default.map(|c| c.as_str()),
            recordings: narrowed(&up.recordings, &seen.recordings),
            works: narrowed(&up.works, &seen.works),
            train: None,
        }
    }
    let participation = seen
        .participation
        .iter()
        .map(|&(party, p)| {
            let mut choices_seen = choices(seen, p, use_type);
            // A model's clearance is the `train` decision over its training set.
            if with_model {
                choices_seen.train = Some(Box::new(choices(seen, p, UseType::Train)));
            }
            (party, choices_seen)
        })
        .collect();
    let models = seen
        .model
        .iter()
        .map(|m| {
            let training = match &m.training {
                TrainingSet::NoCatalogItems => serde_json::json!({"none": true}),
                TrainingSet::Items { recordings, works } => {
                    serde_json::json!({"recordings": recordings, "works": works})
                }
            };
            let uses: Vec<&str> = m.uses.iter().map(|u| u.as_str()).collect();
            (
                m.id.as_str(),
                serde_json::json!({"uses": uses, "training": training}),
            )
        })
        .collect();
    let snapshot = Snapshot {
        agreements,
        participation,
        models,
        use_rule: crate::use_table::rule_wire(table.rule(use_type)),
        train_rule: with_model.then(|| crate::use_table::rule_wire(table.rule(UseType::Train))),
    };
    serde_json::to_string(&snapshot).unwrap_or_else(|_| "{}".to_owned())
}

/// The request as a decision stores it.
#[derive(Serialize)]
struct StoredRequest<'a> {
    #[serde(rename = "use")]
    use_type: &'a str,
    recordings: &'a [String],
    works: &'a [String],
    artist: Option<&'a str>,
    territory: &'a str,
    at_ms: i64,
    model: Option<&'a str>,
}

/// The answer as a decision stores it (the id is the record's own).
#[derive(Serialize)]
struct StoredDecision<'a> {
    allowed: bool,
    approvals_required: &'a [String],
    reasons: &'a [ReasonOut],
}

/// One agreement in a decision's snapshot.
#[derive(Serialize)]
struct SnapAgreement<'a> {
    id: &'a str,
    licensor: &'a str,
    status: &'static str,
    /// Only for a revoked agreement.
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_at_ms: Option<i64>,
}

/// A person's choices for one use in a decision's snapshot.
#[derive(Serialize)]
struct SnapChoices<'a> {
    default: Option<&'static str>,
    /// Overrides for the items judged; absent when there are none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    recordings: BTreeMap<&'a str, &'static str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    works: BTreeMap<&'a str, &'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    train: Option<Box<SnapChoices<'a>>>,
}

/// What a decision saw ([`snapshot`]).
#[derive(Serialize)]
struct Snapshot<'a> {
    agreements: Vec<SnapAgreement<'a>>,
    participation: BTreeMap<&'a str, SnapChoices<'a>>,
    models: BTreeMap<&'a str, serde_json::Value>,
    use_rule: crate::use_table::UseRuleWire,
    #[serde(skip_serializing_if = "Option::is_none")]
    train_rule: Option<crate::use_table::UseRuleWire>,
}

fn check_ids(f: &mut Fields, field: &str, ids: &[String]) {
    if ids.len() > store_limits::RELATIONS_PER_ITEM_MAX {
        f.fail(
            field,
            format!(
                "must list at most {} ids",
                store_limits::RELATIONS_PER_ITEM_MAX
            ),
        );
    }
}

/// Decide whether a use is allowed, who must approve it, and every reason when it is not.
/// Inputs that do not exist are reasons (`INPUT_NOT_FOUND`), not errors.
#[utoipa::path(post, path = "/v1/rights/check", tag = "rights", request_body = CheckIn,
    responses((status = 200, body = CheckOut), (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CheckIn>,
) -> Result<axum::Json<CheckOut>, ApiError> {
    let mut f = Fields::default();
    let use_type = f.check("use", UseType::parse(&body.use_type));
    let territory = f.check("territory", Territory::parse(&body.territory));
    let at = parse_time(&mut f, "at", body.at.as_deref(), None);
    check_ids(&mut f, "recordings", &body.recordings);
    check_ids(&mut f, "works", &body.works);
    f.finish()?;
    let at_ms = take(at)?.unwrap_or_else(crate::now_ms);
    let mut request = UseRequest::new(take(use_type)?, take(territory)?, at_ms);
    request.recordings = body.recordings;
    request.works = body.works;
    request.artist = body.artist;
    request.model = body.model;
    let reader = state.store.rights().await?;
    let (decision, snapshot) = match decide_in_place(&reader, &request) {
        Some(found) => found,
        None => {
            let model = match request.model.as_deref() {
                Some(m) => reader.model(m).await?,
                None => None,
            };
            let views = Views::load_with_model(
                &reader,
                &request.recordings,
                &request.works,
                request.artist.as_deref(),
                model,
            )
            .await?;
            let table = reader.use_table().await?;
            let decision = views.decide(&request, &table);
            let snapshot = snapshot(&views.consulted(), request.use_type, &table);
            (decision, snapshot)
        }
    };
    let mut out: CheckOut = decision.into();
    let request_json = serde_json::to_string(&StoredRequest {
        use_type: request.use_type.as_str(),
        recordings: &request.recordings,
        works: &request.works,
        artist: request.artist.as_deref(),
        territory: request.territory.as_str(),
        at_ms: request.at_ms,
        model: request.model.as_deref(),
    })
    .map_err(|e| ApiError::internal(&e))?;
    let decision_json = serde_json::to_string(&StoredDecision {
        allowed: out.allowed,
        approvals_required: &out.approvals_required,
        reasons: &out.reasons,
    })
    .map_err(|e| ApiError::internal(&e))?;
    out.id = state
        .store
        .record_decision(&caller.key.id, &request_json, &decision_json, &snapshot)
        .await?;
    Ok(axum::Json(out))
}

/// A decision and its snapshot made from the store's copies in place, without copying them,
/// when the copies hold everything it reads; `None` sends the caller to load the facts.
fn decide_in_place(reader: &RightsReader<'_>, request: &UseRequest) -> Option<(Decision, String)> {
    let copies = reader.copies();
    let table = copies.use_table()?;
    let seen = copies.consult(
        &request.recordings,
        &request.works,
        request.artist.as_deref(),
        request.model.as_deref(),
    )?;
    let decision = decide(request, &copies, &copies, &copies, table, &copies);
    let snapshot = snapshot(&seen, request.use_type, table);
    Some((decision, snapshot))
}

/// The uses of one recording open now in a territory, for its catalog page.
#[utoipa::path(get, path = "/v1/recordings/{id}/uses", tag = "rights", params(("id" = String, Path), UsesParams),
    responses((status = 200, body = UsesOut), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn recording_uses(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<UsesParams>,
) -> Result<axum::Json<UsesOut>, ApiError> {
    let territory = match params.territory.as_deref() {
        None => {
            return Err(ApiError::field(
                "territory",
                "is required, e.g. ?territory=US",
            ));
        }
        Some(t) => Territory::parse(t).map_err(|e| ApiError::field("territory", e.to_string()))?,
    };
    let reader = state.store.rights().await?;
    if reader.recording(&id).await?.is_none() {
        return Err(ApiError::not_found("recording"));
    }
    let recordings = [id.clone()];
    let views = Views::load_from(&reader, &recordings, &[], None).await?;
    let table = reader.use_table().await?;
    let now = crate::now_ms();
    let uses = UseType::ALL
        .into_iter()
        .filter(|u| !matches!(u, UseType::Mashup | UseType::Voice))
        .filter_map(|u| {
            let decision = views.decide(
                &UseRequest::new(u, territory, now).recording(id.clone()),
                &table,
            );
            decision.allowed.then(|| UseOut {
                use_type: u.as_str(),
                approvals_required: decision.approvals_required,
            })
        })
        .collect();
    Ok(axum::Json(UsesOut {
        recording: id,
        territory: territory.as_str().to_owned(),
        uses,
    }))
}
