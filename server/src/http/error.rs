//! The error that is the HTTP answer (SPEC §8.2): every handler returns `Result<_, ApiError>`,
//! and each variant knows its status and writes `{"error":{"code","message","path"[,"details"]}}`.
//! An `Internal` error is logged with its cause and answered without it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Every answer that is not a success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: `invalid_request` and the engine's input codes (`invalid_policy`, `unknown_order`, …).
    #[error("{code} at {path}: {message}")]
    BadRequest {
        code: String,
        message: String,
        path: String,
    },
    /// 401 `unauthenticated`.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// 403 `forbidden`.
    #[error("forbidden: {message}")]
    Forbidden { message: String, path: String },
    /// 404 `not_found`.
    #[error("not found: {message}")]
    NotFound { message: String, path: String },
    /// 409: `quote_mismatch`, `insufficient_points`, `idempotency_conflict`,
    /// `duplicate_document`, `invalid_state`.
    #[error("{code}: {message}")]
    Conflict {
        code: &'static str,
        message: String,
        path: String,
        details: Option<Value>,
    },
    /// 413 `limit_exceeded`.
    #[error("limit exceeded: {message}")]
    TooLarge { message: String, path: String },
    /// 429 `rate_limited`.
    #[error("rate limited: {0}")]
    RateLimited(String),
    /// 500 `internal`: the cause is logged, never sent.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code: "invalid_request".into(),
            message: message.into(),
            path: path.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::Forbidden {
            message: message.into(),
            path: String::new(),
        }
    }

    pub fn forbidden_at(path: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Forbidden {
            message: message.into(),
            path: path.into(),
        }
    }

    pub fn not_found(path: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::NotFound {
            message: message.into(),
            path: path.into(),
        }
    }

    pub fn conflict(
        code: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError::Conflict {
            code,
            message: message.into(),
            path: path.into(),
            details: None,
        }
    }

    pub fn invalid_state(message: impl Into<String>) -> ApiError {
        ApiError::conflict("invalid_state", "", message)
    }

    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(e.to_string())
    }

    /// An engine error (its code and path), the path prefixed with where the input sat in the
    /// body (`quote_request.`): the engine's input codes are 400s.
    pub fn engine(e: &loyalty_engine::Error, prefix: &str) -> ApiError {
        let path = match (prefix.is_empty(), e.path.is_empty()) {
            (true, _) => e.path.clone(),
            (false, true) => prefix.trim_end_matches('.').to_string(),
            (false, false) => format!("{prefix}{}", e.path),
        };
        ApiError::BadRequest {
            code: e.code.as_str().to_string(),
            message: e.message.clone(),
            path,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            ApiError::BadRequest { code, .. } => code,
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::NotFound { .. } => "not_found",
            ApiError::Conflict { code, .. } => code,
            ApiError::TooLarge { .. } => "limit_exceeded",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The answer's body, `{"error":{…}}`, as compact JSON.
    pub fn body(&self) -> String {
        let (message, path, details) = match self {
            ApiError::BadRequest { message, path, .. } => (message.clone(), path.clone(), None),
            ApiError::Unauthenticated(m) => (m.clone(), String::new(), None),
            ApiError::Forbidden { message, path } => (message.clone(), path.clone(), None),
            ApiError::NotFound { message, path } => (message.clone(), path.clone(), None),
            ApiError::Conflict {
                message,
                path,
                details,
                ..
            } => (message.clone(), path.clone(), details.clone()),
            ApiError::TooLarge { message, path } => (message.clone(), path.clone(), None),
            ApiError::RateLimited(m) => (m.clone(), String::new(), None),
            ApiError::Internal(_) => (
                "the server could not answer; the request was not applied".to_string(),
                String::new(),
                None,
            ),
        };
        let mut error = json!({ "code": self.code(), "message": message, "path": path });
        if let (Some(d), Some(obj)) = (details, error.as_object_mut()) {
            obj.insert("details".into(), d);
        }
        json!({ "error": error }).to_string()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(cause = %cause, "internal error");
        }
        crate::http::json_response(self.status(), self.body())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        ApiError::Internal(format!("database: {e}"))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
