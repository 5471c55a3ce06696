//! The HTTP layer: the error that is the answer (`error.rs`), the JSON body reader that gives
//! every fault a path (`json.rs`), the router with its OpenAPI document (`routes.rs`) and the
//! per-request log, metrics and panic guard (`middleware.rs`), the per-credential request rate
//! limit (`rate_limit.rs`).

pub mod error;
pub mod json;
pub mod middleware;
pub mod rate_limit;
pub mod routes;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub use error::{ApiError, ApiResult};

/// A response whose body is JSON text already written (engine answers, stored idempotent
/// answers): sent byte for byte.
pub fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// 200 with JSON text.
pub fn ok_json(body: String) -> Response {
    json_response(StatusCode::OK, body)
}
