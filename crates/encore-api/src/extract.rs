//! Extractors that turn every rejection into a problem document with the field named.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Code};

/// A JSON body. Malformed JSON is a 400, a wrong or missing field a 422 naming its path, a
/// body over the limit a 413.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        if !is_json {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "send the body as JSON with the header content-type: application/json",
            ));
        }
        let bytes = body_bytes(req, state).await?;
        parse_json(&bytes).map(Json)
    }
}

/// Reads the whole body, mapping an over-limit body to 413.
pub async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                Code::PayloadTooLarge,
                "the body is larger than this endpoint accepts",
            )
        } else {
            ApiError::new(
                Code::MalformedRequest,
                format!("the body could not be read: {}", rejection.body_text()),
            )
        }
    })
}

/// Parses JSON, naming the path of the first field that does not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::new(
                Code::MalformedRequest,
                format!("the body is not valid JSON: {inner}"),
            )
        } else {
            ApiError::field(field_path(&path, &inner.to_string()), inner.to_string())
        }
    })
}

/// Query parameters, with the same error shape.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded_deserializer(query);
        de.map(Query)
    }
}

fn serde_urlencoded_deserializer<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(&format!("/?{query}").parse().map_err(|_| {
        ApiError::new(
            Code::MalformedRequest,
            "the query string could not be parsed",
        )
    })?)
    .map(|q| q.0)
    .map_err(|e| {
        let text = e.body_text();
        let (field, message) = query_field(&text);
        ApiError::field(field, message)
    })
}

/// The parameter a query-string error is about (axum reports `…: name: problem`), or
/// `query` when it names none.
fn query_field(text: &str) -> (String, String) {
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(text);
    if let Some((name, problem)) = detail.split_once(": ")
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '[' || c == ']')
    {
        return (name.to_owned(), problem.to_owned());
    }
    ("query".to_owned(), detail.to_owned())
}

/// The path of the field a serde error is about. serde reports a missing field at its parent's
/// path and names it only in the message, so it is appended here; an unknown field's key
/// already ends the path (`extra`, `scope.extra`), so it is not appended again.
pub fn field_path(path: &str, message: &str) -> String {
    let named = |prefix: &str| {
        message
            .split_once(prefix)
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(name, _)| name)
    };
    match (path, named("missing field `"), named("unknown field `")) {
        (".", Some(name), _) | (".", None, Some(name)) => name.to_owned(),
        (".", None, None) => "body".to_owned(),
        (parent, Some(name), _) => format!("{parent}.{name}"),
        (path, None, _) => path.to_owned(),
    }
}
