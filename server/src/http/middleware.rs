//! Around every request: one structured log line (method, route, status, latency, principal
//! kind), Prometheus metrics (`loyalty_http_requests_total`, `loyalty_http_request_seconds`),
//! and a panic guard that answers 500 `internal` and leaves the other requests in flight alone
//! (the server is built with unwinding panics).

use crate::http::ApiError;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

static METRICS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's Prometheus recorder (installed once; every server in the process shares it).
pub fn metrics_handle() -> Option<PrometheusHandle> {
    METRICS
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .clone()
}

/// JSON log lines on stderr; `RUST_LOG` filters (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_current_span(false)
        .try_init();
}

pub async fn observe(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| {
            if req.uri().path().starts_with("/v1/") {
                "unmatched".into()
            } else {
                "static".into()
            }
        });
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let secs = start.elapsed().as_secs_f64();
    metrics::counter!("loyalty_http_requests_total", "method" => method.to_string(), "route" => route.clone(), "status" => status.to_string()).increment(1);
    metrics::histogram!("loyalty_http_request_seconds", "route" => route.clone()).record(secs);
    if route != "static" {
        tracing::info!(method = %method, route = %route, status, ms = secs * 1000.0, "request");
    }
    response
}

/// A panicking handler's answer: 500 `internal`, no details.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    ApiError::Internal(format!("panic: {what}")).into_response()
}
