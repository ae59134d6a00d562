//! Every API error is a status code with a JSON body naming what went wrong: `{"error": {"code", "message",
//! "details"}}`. Status codes are chosen here and nowhere else.

use axum::Json;
use axum::http::StatusCode;
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
            EngineError::AlreadyFinished { .. } | EngineError::NotFinished { .. } => {
                ApiError::conflict(err.to_string())
            }
            EngineError::UnknownStep { .. } | EngineError::NothingToRetry { .. } => {
                ApiError::unprocessable("invalid_retry", err.to_string())
            }
            EngineError::Input(_) => ApiError::unprocessable("invalid_inputs", err.to_string()),
            _ => ApiError::internal(err.to_string()),
        }
    }
}
