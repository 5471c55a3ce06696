//! `/healthz` and `/metrics`.

use crate::app::App;
use crate::http::{json_response, ApiError};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

/// 200 when the database answers, 503 otherwise.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "`{ status: ok }`", body = Object), (status = 503, description = "the database does not answer")))]
pub async fn healthz(State(app): State<App>) -> Response {
    if app.db.ping().await {
        json_response(StatusCode::OK, "{\"status\":\"ok\"}".into())
    } else {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "{\"status\":\"database unavailable\"}".into(),
        )
    }
}

/// Prometheus metrics: requests and latencies by route, bookings, holds, outbox backlog.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(app): State<App>) -> Result<Response, ApiError> {
    let text = app.metrics.as_ref().map(|h| h.render()).unwrap_or_default();
    let mut r = json_response(StatusCode::OK, text);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    Ok(r)
}
