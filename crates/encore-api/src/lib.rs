//! encore's HTTP API: the axum router, request and response types, the error-code table and
//! the OpenAPI document. Handlers parse requests into domain types first and hold no business
//! rules: those live in `encore-core`; storage lives in `encore-store`.

pub mod audit;
pub mod auth;
pub mod catalog;
pub mod error;
pub mod extract;
pub mod generators;
pub mod identify;
pub mod keys;
pub mod models;
mod ops;
pub mod rights;
pub mod use_table;
pub mod wire;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderName;
use axum::middleware::Next;
use axum::response::Response;
use encore_blob::BlobStore;
use encore_store::Store;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Limits and settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest JSON body, bytes.
    pub json_body_max_bytes: usize,
    /// Largest audio upload, bytes.
    pub audio_body_max_bytes: usize,
    /// Longest audio accepted, ms.
    pub audio_duration_max_ms: u64,
    /// Longest a request may take before it is answered with 408.
    pub request_timeout: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            json_body_max_bytes: 1024 * 1024,
            audio_body_max_bytes: 256 * 1024 * 1024,
            audio_duration_max_ms: 30 * 60 * 1000,
            request_timeout: Duration::from_secs(120),
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts of [`AppState`].
pub struct Inner {
    /// The system of record.
    pub store: Store,
    /// Audio and artefacts.
    pub blobs: BlobStore,
    /// HTTP settings.
    pub config: ApiConfig,
    /// Every recording's mix fingerprint, searchable (`identify.rs`).
    pub fingerprints: identify::Fingerprints,
    metrics: PrometheusHandle,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Bundles the parts.
    pub fn new(store: Store, blobs: BlobStore, config: ApiConfig) -> Self {
        Self(Arc::new(Inner {
            store,
            blobs,
            config,
            fingerprints: identify::Fingerprints::new(),
            metrics: metrics_handle(),
        }))
    }
}

/// The process-wide Prometheus recorder, installed on first use.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (by an embedding program); then our
            // handle renders only what we record through it, which is still correct.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub(crate) fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "encore",
        description = "Artist-first generative music: catalog and rights data, creation flows, consumption and reporting. \
                       Every endpoint but health, metrics and these documents needs `Authorization: Bearer <key>`. \
                       Errors are `application/problem+json` (RFC 9457); see /docs/problems for the codes.",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecurityAddon),
    tags(
        (name = "catalog", description = "Parties, works and recordings, with their identifiers and splits."),
        (name = "audio", description = "A recording's full mix and stems, and identifying catalog recordings in any audio."),
        (name = "rights", description = "Agreements, participation, rights decisions and the audit log."),
        (name = "models", description = "Generative models: the uses each can perform, its training set and whether it is cleared."),
        (name = "generators", description = "The built-in generators: what each makes, its parameters (JSON Schema, also as components `<Name>Params`) and limits."),
        (name = "keys", description = "API keys and roles."),
        (name = "operations", description = "Health, readiness and metrics.")
    )
)]
struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("enc_…")
                    .build(),
            ),
        );
    }
}

/// The routes with their OpenAPI document.
fn api(config: &ApiConfig) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let audio_limit = DefaultBodyLimit::max(config.audio_body_max_bytes);
    let audio = OpenApiRouter::new()
        .routes(routes!(catalog::put_mix, catalog::get_mix))
        .routes(routes!(catalog::put_stem, catalog::get_stem))
        .routes(routes!(identify::identify))
        .layer(audio_limit);
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(catalog::create_party, catalog::list_parties))
        .routes(routes!(catalog::get_party, catalog::patch_party))
        .routes(routes!(catalog::create_work, catalog::list_works))
        .routes(routes!(catalog::get_work, catalog::patch_work))
        .routes(routes!(catalog::get_work_by_iswc))
        .routes(routes!(catalog::create_recording, catalog::list_recordings))
        .routes(routes!(catalog::get_recording, catalog::patch_recording))
        .routes(routes!(catalog::get_recording_by_isrc))
        .routes(routes!(rights::create_agreement))
        .routes(routes!(rights::get_agreement))
        .routes(routes!(rights::accept_agreement))
        .routes(routes!(rights::revoke_agreement))
        .routes(routes!(
            rights::put_participation,
            rights::get_participation
        ))
        .routes(routes!(rights::put_delegates, rights::get_delegates))
        .routes(routes!(use_table::get_use_table, use_table::put_use_table))
        .routes(routes!(models::create_model, models::list_models))
        .routes(routes!(models::get_model))
        .routes(routes!(rights::check))
        .routes(routes!(rights::recording_uses))
        .routes(routes!(audit::get_decision))
        .routes(routes!(audit::list_audit))
        .routes(routes!(generators::list_generators))
        .routes(routes!(generators::get_generator))
        .routes(routes!(keys::create_key, keys::list_keys))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(keys::me))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .layer(DefaultBodyLimit::max(config.json_body_max_bytes))
        .merge(audio)
        .split_for_parts()
}

/// The OpenAPI document, for tools that want it without a server, with the generators'
/// parameter schemas as components.
pub fn openapi() -> serde_json::Value {
    document(&api(&ApiConfig::default()).1)
}

fn document(doc: &utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut value = serde_json::to_value(doc).unwrap_or_default();
    generators::publish_param_schemas(&mut value);
    value
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let (routes, doc) = api(&state.config);
    let doc = Arc::new(document(&doc));
    let request_id = HeaderName::from_static("x-request-id");
    routes
        .merge(ops::documents(doc))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(axum::middleware::from_fn(record_metrics))
        .layer(axum::middleware::from_fn(ops::timeout(state.config.request_timeout)))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// Counts requests and times them by route and status.
async fn record_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("encore_http_requests_total", &labels).increment(1);
    metrics::histogram!("encore_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
