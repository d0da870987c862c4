//! The one error-code table, and errors as `application/problem+json` (RFC 9457).
//!
//! Every error a client can see is an [`ApiError`] with a [`Code`]. The code fixes the HTTP
//! status and the stable `type` URI; `detail` is for people; `errors` names every failing field
//! by its JSON path. A 500 never carries its cause: the cause is logged once, here.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use encore_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Stable error codes. Clients match on `type`, never on `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The body is not valid JSON, or a query string does not parse.
    MalformedRequest,
    /// No API key, or an unknown or revoked one.
    Unauthenticated,
    /// The path exists but not with this method.
    MethodNotAllowed,
    /// The key's role or parties do not allow this.
    Forbidden,
    /// Nothing with that id.
    NotFound,
    /// A unique field (ISRC, ISWC, IPI, ISNI, ref) is taken.
    Conflict,
    /// The body is larger than the endpoint's limit.
    PayloadTooLarge,
    /// The body's media type is not accepted (for audio: not a decodable format).
    UnsupportedMediaType,
    /// A field's value is invalid.
    ValidationFailed,
    /// The request took longer than the server's limit.
    Timeout,
    /// A dependency (database, object storage) is not ready.
    Unavailable,
    /// A bug or an unexpected failure; the cause is in the server log.
    Internal,
}

impl Code {
    /// Every code, for the documentation page.
    pub const ALL: [Code; 12] = [
        Code::MalformedRequest,
        Code::Unauthenticated,
        Code::MethodNotAllowed,
        Code::Forbidden,
        Code::NotFound,
        Code::Conflict,
        Code::PayloadTooLarge,
        Code::UnsupportedMediaType,
        Code::ValidationFailed,
        Code::Timeout,
        Code::Unavailable,
        Code::Internal,
    ];

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Code::MalformedRequest => StatusCode::BAD_REQUEST,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::Conflict => StatusCode::CONFLICT,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            Code::Timeout => StatusCode::REQUEST_TIMEOUT,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable slug at the end of the `type` URI.
    pub fn slug(self) -> &'static str {
        match self {
            Code::MalformedRequest => "malformed-request",
            Code::Unauthenticated => "unauthenticated",
            Code::MethodNotAllowed => "method-not-allowed",
            Code::Forbidden => "forbidden",
            Code::NotFound => "not-found",
            Code::Conflict => "conflict",
            Code::PayloadTooLarge => "payload-too-large",
            Code::UnsupportedMediaType => "unsupported-media-type",
            Code::ValidationFailed => "validation-failed",
            Code::Timeout => "timeout",
            Code::Unavailable => "unavailable",
            Code::Internal => "internal",
        }
    }

    /// A short, fixed summary.
    pub fn title(self) -> &'static str {
        match self {
            Code::MalformedRequest => "The request could not be parsed",
            Code::Unauthenticated => "A valid API key is required",
            Code::MethodNotAllowed => "Method not allowed",
            Code::Forbidden => "This key may not do that",
            Code::NotFound => "Not found",
            Code::Conflict => "Conflicts with an existing item",
            Code::PayloadTooLarge => "The body is too large",
            Code::UnsupportedMediaType => "Unsupported media type",
            Code::ValidationFailed => "A field is invalid",
            Code::Timeout => "The request took too long",
            Code::Unavailable => "The service is not ready",
            Code::Internal => "Internal error",
        }
    }

    /// The `type` URI: a page of the API documentation that explains the code.
    pub fn type_uri(self) -> String {
        format!("/docs/problems#{}", self.slug())
    }
}

/// One failing field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field, e.g. `splits[1].share_ppm`, or a query parameter's name.
    pub field: String,
    /// What is wrong and what a valid value looks like.
    pub message: String,
}

/// An error as the client sees it (RFC 9457 problem details).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the error code; stable.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A fixed summary of the code.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong here, for people.
    pub detail: String,
    /// Every failing field, when the error is about input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error returned by a handler.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The code.
    pub code: Code,
    /// The human detail.
    pub detail: String,
    /// Failing fields.
    pub errors: Vec<FieldError>,
}

impl ApiError {
    /// An error with a detail.
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A 422 about one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let (field, message) = (field.into(), message.into());
        Self {
            code: Code::ValidationFailed,
            detail: format!("{field}: {message}"),
            errors: vec![FieldError { field, message }],
        }
    }

    /// A 422 about several fields.
    pub fn fields(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            code: Code::ValidationFailed,
            detail,
            errors,
        }
    }

    /// A 404 for a kind of thing.
    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("no {what} with that id exists"))
    }

    /// A 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(Code::Forbidden, detail)
    }

    /// A 500 whose cause is logged and not shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            Code::Internal,
            "an unexpected error occurred; it has been logged, and the x-request-id header identifies it",
        )
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: self.code.type_uri(),
            title: self.code.title().to_owned(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.code == Code::Unauthenticated {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { what } => ApiError::not_found(what),
            StoreError::Conflict { what, field } => {
                let mut e = ApiError::new(
                    Code::Conflict,
                    format!("another {what} already has this {field}"),
                );
                e.errors.push(FieldError {
                    field: field.to_owned(),
                    message: "already taken".into(),
                });
                e
            }
            StoreError::Invalid { field, message } => ApiError::field(field, message),
            other => ApiError::internal(&other),
        }
    }
}

impl From<encore_blob::BlobError> for ApiError {
    fn from(err: encore_blob::BlobError) -> Self {
        ApiError::internal(&err)
    }
}

/// Collects field errors while a request body is turned into domain types, so the client
/// hears about every bad field at once.
#[derive(Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    /// Keeps a parsed value, or records why it failed under `field`.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: impl Into<String>,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(FieldError {
                    field: field.into(),
                    message: e.to_string(),
                });
                None
            }
        }
    }

    /// Records a failure.
    pub fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Ends parsing: `Ok` only when no field failed.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::fields(self.errors))
        }
    }
}

/// Takes a value that [`Fields::finish`] has vouched for.
pub fn take<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::internal(&"a field passed validation without a value"))
}
