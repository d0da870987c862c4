//! Operations endpoints and the API documents: health, readiness, metrics, `/openapi.json`,
//! `/docs` and the error-code page.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, Code};

/// Liveness.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the process serves requests.
    pub status: String,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
    })
}

/// Readiness, with each dependency's state.
#[derive(Serialize, ToSchema)]
pub struct Ready {
    /// `ready` or `not ready`.
    pub status: String,
    /// `ok` or the failure, for the database.
    pub database: String,
    /// `ok` or the failure, for object storage.
    pub object_storage: String,
}

/// The database and object storage answer.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = Ready), (status = 503, body = Ready)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, axum::Json<Ready>) {
    let database = match state.store.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database");
            "unavailable".to_owned()
        }
    };
    let object_storage = match state.blobs.check().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: object storage");
            "unavailable".to_owned()
        }
    };
    let ready = database == "ok" && object_storage == "ok";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = if ready { "ready" } else { "not ready" };
    (
        status,
        axum::Json(Ready {
            status: word.into(),
            database,
            object_storage,
        }),
    )
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// `/openapi.json`, `/docs` and `/docs/problems`.
pub fn documents(doc: Arc<serde_json::Value>) -> Router<AppState> {
    let json = Arc::new(serde_json::to_string_pretty(&*doc).unwrap_or_default());
    Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        json.as_str().to_owned(),
                    )
                }
            }),
        )
        .route("/docs", get(|| async { Html(include_str!("docs.html")) }))
        .route("/docs/problems", get(problems_page))
}

async fn problems_page() -> Html<String> {
    let rows: String = Code::ALL
        .iter()
        .map(|c| {
            format!(
                "<tr id=\"{slug}\"><td><code>{slug}</code></td><td>{status}</td><td>{title}</td></tr>",
                slug = c.slug(),
                status = c.status().as_u16(),
                title = c.title()
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><meta charset=utf-8><title>encore error codes</title>\
         <style>body{{font:15px system-ui;margin:2em auto;max-width:50em}}td,th{{padding:.3em .8em;text-align:left}}</style>\
         <h1>encore error codes</h1><p>Every error is <code>application/problem+json</code> (RFC 9457). \
         <code>type</code> ends with one of these codes; <code>errors</code> lists each failing field by its JSON path.</p>\
         <table><tr><th>code</th><th>status</th><th>meaning</th></tr>{rows}</table><p><a href=\"/docs\">API reference</a></p>"
    ))
}

/// Unknown paths answer in the problem format too.
pub async fn not_found() -> ApiError {
    ApiError::new(
        Code::NotFound,
        "no endpoint at this path; see /docs for the API",
    )
}

/// Known paths with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        "this path does not accept that method; see /docs",
    )
}

/// Answers 408 in the problem format when a request runs past the deadline.
pub fn timeout(
    limit: Duration,
) -> impl Fn(Request, Next) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>
+ Clone {
    move |req: Request, next: Next| {
        Box::pin(async move {
            match tokio::time::timeout(limit, next.run(req)).await {
                Ok(response) => response,
                Err(_) => ApiError::new(
                    Code::Timeout,
                    format!("the request took longer than {} s", limit.as_secs()),
                )
                .into_response(),
            }
        })
    }
}
