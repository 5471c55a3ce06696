//! `/v1/schemas`: the JSON Schemas (2020-12) of the policy document and of every engine request
//! and response, generated from the engine's Rust types (`loyalty_engine::schema`, the same
//! documents as `schema/*.json` and the npm and Python packages). Public: they describe the
//! contract, not a merchant's data, and editors load them without a credential.

use crate::http::{json_response, ApiError};
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use std::sync::OnceLock;

/// `(file name, pretty JSON)`, generated once per process.
fn all() -> &'static [(&'static str, String)] {
    static ALL: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    ALL.get_or_init(|| {
        loyalty_engine::schema::schemas()
            .into_iter()
            .map(|(name, _, schema)| {
                let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
                (name, text + "\n")
            })
            .collect()
    })
}

fn cacheable(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// The schemas served: `{ schemas: [{ name, url }] }`.
#[utoipa::path(get, path = "/v1/schemas", tag = "operations",
    responses((status = 200, description = "`{ schemas: [{ name, url }] }`", body = Object)))]
pub async fn list() -> Response {
    let schemas: Vec<_> = all()
        .iter()
        .map(|(name, _)| serde_json::json!({ "name": name, "url": format!("/v1/schemas/{name}.json") }))
        .collect();
    cacheable(json_response(
        StatusCode::OK,
        serde_json::json!({ "schemas": schemas }).to_string(),
    ))
}

/// One schema by file name, e.g. `/v1/schemas/policy.json`.
#[utoipa::path(get, path = "/v1/schemas/{name}", tag = "operations",
    params(("name" = String, Path, description = "`policy.json`, `quote-request.json`, … (see `/v1/schemas`)")),
    responses((status = 200, description = "a JSON Schema (2020-12)", body = Object),
        (status = 404, description = "`not_found`: no schema of that name")))]
pub async fn get(Path(name): Path<String>) -> Result<Response, ApiError> {
    let stem = name.strip_suffix(".json").unwrap_or(&name);
    all()
        .iter()
        .find(|(n, _)| *n == stem)
        .map(|(_, text)| {
            let mut r = json_response(StatusCode::OK, text.clone());
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/schema+json"),
            );
            cacheable(r)
        })
        .ok_or_else(|| ApiError::NotFound {
            message: format!("no schema {name:?}; GET /v1/schemas lists them"),
            path: "name".into(),
        })
}
