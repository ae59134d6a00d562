//! Every API error is a status code with a JSON body naming what went wrong: `{"error": {"code", "message",
//! "details"}}`. Status codes are chosen here and nowhere else.

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable word for programs: `not_found`, `invalid_workflow`, `invalid_inputs`, `unauthorized`, ...
    pub code: String,
    /// One sentence for people.
    pub message: String,
    /// More, when there is: the diagnostics of a workflow that does not compile, say.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Boxed: handlers return `Result<_, ApiError>`, and the error should not make every answer large.
    pub body: Box<ErrorBody>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: Box::new(ErrorBody {
                error: ErrorDetail { code: code.to_owned(), message: message.into(), details: None },
            }),
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> ApiError {
        self.body.error.details = Some(details);
        self
    }

    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn unprocessable(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(*self.body)).into_response()
    }
}

/// Axum's own refusals come as plain text: a body that is not the JSON a route reads (400, 415, 422), a query that
/// does not parse (400), a method a route does not take (405). This turns every such answer of the API into the
/// same JSON error as ours, keeping its status, its text and its other headers (`Allow`).
pub(super) async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("refused").to_owned() } else { text };
    let mut answer = ApiError::new(status, refusal_code(status), message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| {
        let media = value.split(';').next().unwrap_or_default().trim();
        media == "application/json" || media.ends_with("+json")
    })
}

fn refusal_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        status if status.is_server_error() => "internal",
        _ => "refused",
    }
}

impl From<executor::store::StoreError> for ApiError {
    fn from(err: executor::store::StoreError) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "store", err.to_string())
    }
}

impl From<crate::daemon::AcceptError> for ApiError {
    fn from(err: crate::daemon::AcceptError) -> ApiError {
        use crate::daemon::AcceptError;
        match &err {
            AcceptError::Stopping => ApiError::unavailable(err.to_string()),
            AcceptError::Disabled { .. } => ApiError::conflict(err.to_string()),
            AcceptError::Inputs(_) => ApiError::unprocessable("invalid_inputs", err.to_string()),
            AcceptError::Store(store) => ApiError::from(store.clone()),
        }
    }
}

impl From<executor::engine::EngineError> for ApiError {
    fn from(err: executor::engine::EngineError) -> ApiError {
        use executor::engine::EngineError;
        use executor::store::LookupError;
        match &err {
            EngineError::Lookup(LookupError::NotFound { .. }) => ApiError::not_found(err.to_string()),
            EngineError::Lookup(LookupError::Ambiguous { .. }) => ApiError::bad_request(err.to_string()),
            EngineError::AlreadyFinished { .. }
            | EngineError::NotFinished { .. }
            | EngineError::NotRunningHere { .. }
            | EngineError::MissingSecret { .. }
            | EngineError::MissingDefinition { .. }
            | EngineError::DoesNotCompile { .. } => ApiError::conflict(err.to_string()),
            EngineError::UnknownStep { .. } | EngineError::NothingToRetry { .. } => {
                ApiError::unprocessable("invalid_retry", err.to_string())
            }
            EngineError::Input(_) => ApiError::unprocessable("invalid_inputs", err.to_string()),
            _ => ApiError::internal(err.to_string()),
        }
    }
}
