//! The router: every `/v1` route is registered through `utoipa_axum::routes!`, which puts it in
//! the OpenAPI 3.1 document served at `/v1/openapi.json` (a test walks both). Static files: the
//! pages (`www/`) at `/` and the npm package (`pkg/`) at `/pkg/`.

use crate::app::{App, Config};
use crate::handlers::{
    admin, cards, health, imports, member_admin, member_auth, members, orders, policies, reports,
    schemas,
};
use crate::http::json::MAX_BODY_BYTES;
use crate::http::{json_response, middleware, ApiError};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::ServeDir;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "loyalty-engine server", description = "The loyalty programme's system of record (SPEC §8). Errors are `{\"error\":{\"code\",\"message\",\"path\"[,\"details\"]}}`: 400 invalid_request and the engine's input codes; 401 unauthenticated; 403 forbidden; 404 not_found; 409 quote_mismatch, insufficient_points, idempotency_conflict, duplicate_document, invalid_state; 413 limit_exceeded; 429 rate_limited; 500 internal."),
    tags((name = "orders"), (name = "members"), (name = "cards"), (name = "policies"), (name = "admin"), (name = "member"), (name = "reports"), (name = "operations"))
)]
struct Doc;

/// The documented routes and the document (also used by tests and `loyalty serve openapi`).
pub fn api() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(Doc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::metrics))
        .routes(routes!(schemas::list))
        .routes(routes!(schemas::get))
        .routes(routes!(admin::login))
        .routes(routes!(admin::logout))
        .routes(routes!(admin::clock))
        .routes(routes!(admin::create_store, admin::list_stores))
        .routes(routes!(admin::create_till))
        .routes(routes!(admin::create_till_key))
        .routes(routes!(admin::create_storefront_key))
        .routes(routes!(admin::revoke_key))
        .routes(routes!(admin::get_settings, admin::set_setting))
        .routes(routes!(admin::create_webhook, admin::list_webhooks))
        .routes(routes!(admin::outbox))
        .routes(routes!(admin::audit))
        .routes(routes!(policies::create, policies::list))
        .routes(routes!(policies::active))
        .routes(routes!(policies::get))
        .routes(routes!(policies::publish))
        .routes(routes!(policies::verify))
        .routes(routes!(policies::simulate))
        .routes(routes!(members::list, members::create))
        .routes(routes!(members::lookup))
        .routes(routes!(members::get))
        .routes(routes!(members::progress))
        .routes(routes!(members::history))
        .routes(routes!(members::add_event))
        .routes(routes!(member_admin::move_phone))
        .routes(routes!(member_admin::erase))
        .routes(routes!(member_admin::export))
        .routes(routes!(member_admin::redeem_reward))
        .routes(routes!(cards::list_types, cards::create_type))
        .routes(routes!(cards::issue))
        .routes(routes!(cards::get))
        .routes(routes!(cards::activate))
        .routes(routes!(cards::block))
        .routes(routes!(cards::create_batch, cards::list_batches))
        .routes(routes!(cards::batch_csv))
        .routes(routes!(orders::create))
        .routes(routes!(orders::get))
        .routes(routes!(orders::confirm))
        .routes(routes!(orders::void))
        .routes(routes!(orders::refund))
        .routes(routes!(member_auth::request_code))
        .routes(routes!(member_auth::verify_code))
        .routes(routes!(member_auth::widget_token))
        .routes(routes!(member_auth::me))
        .routes(routes!(imports::get))
        .routes(routes!(imports::report))
        // Uploads stream to disk: their own body limit.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(imports::create, imports::list))
                .layer(DefaultBodyLimit::max(imports::MAX_UPLOAD_BYTES)),
        )
        .routes(routes!(reports::revenue))
        .routes(routes!(reports::frequency))
        .routes(routes!(reports::customers))
        .routes(routes!(reports::tiers))
        .routes(routes!(reports::points))
        .routes(routes!(reports::transactions))
        .routes(routes!(reports::create_export))
        .routes(routes!(reports::get_export))
        .routes(routes!(reports::download_export))
}

/// The OpenAPI document as JSON text.
pub fn openapi_json() -> String {
    let (_, mut doc) = api().split_for_parts();
    doc.paths.paths.insert(
        "/v1/openapi.json".into(),
        utoipa::openapi::PathItem::new(
            utoipa::openapi::HttpMethod::Get,
            utoipa::openapi::path::OperationBuilder::new()
                .summary(Some("This document (OpenAPI 3.1)"))
                .tag("operations")
                .response(
                    "200",
                    utoipa::openapi::Response::new("the OpenAPI document"),
                ),
        ),
    );
    doc.to_json().unwrap_or_default()
}

async fn not_found() -> Response {
    ApiError::not_found("", "no such route").into_response()
}

/// JSON answers for what axum answers bare: 405, 413 from the body limit, 415.
async fn json_errors(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/v1/");
    let r = next.run(req).await;
    if !api || r.headers().get(header::CONTENT_TYPE).is_some() {
        return r;
    }
    match r.status() {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::BadRequest {
            code: "invalid_request".into(),
            message: "this route does not take this method".into(),
            path: String::new(),
        }
        .into_response()
        .map(|b| b)
        .into_response(),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge {
            message: format!("the body is longer than {MAX_BODY_BYTES} bytes"),
            path: String::new(),
        }
        .into_response(),
        _ => r,
    }
}

/// CORS for the storefront widget: the progress route answers the origins listed in the
/// `widget_origins` setting (and their preflights); nothing else is cross-origin.
async fn cors(State(app): State<App>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let widget_route = path.starts_with("/v1/members/") && path.ends_with("/progress");
    let allowed = match (&origin, widget_route) {
        (Some(o), true) => {
            let list = match app.db.read.acquire().await {
                Ok(mut c) => {
                    crate::storage::settings::get(&mut c, crate::storage::settings::WIDGET_ORIGINS)
                        .await
                        .ok()
                        .flatten()
                }
                Err(_) => None,
            };
            list.is_some_and(|l| l.split_whitespace().any(|x| x == o))
        }
        _ => false,
    };
    if req.method() == Method::OPTIONS && widget_route {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if allowed {
            add_cors(&mut r, origin.as_deref());
        }
        return r;
    }
    let mut r = next.run(req).await;
    if allowed {
        add_cors(&mut r, origin.as_deref());
    }
    r
}

fn add_cors(r: &mut Response, origin: Option<&str>) {
    if let Some(Ok(v)) = origin.map(HeaderValue::from_str) {
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

pub fn router(app: App, config: &Config) -> Router {
    let (api, _) = api().split_for_parts();
    let doc = openapi_json();
    let mut r: Router<App> = api
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || {
                let d = doc.clone();
                async move { json_response(StatusCode::OK, d) }
            }),
        )
        .route("/v1/{*rest}", axum::routing::any(not_found));
    if let Some(pkg) = &config.pkg_dir {
        r = r.nest_service("/pkg", ServeDir::new(pkg));
    }
    for (prefix, dir) in &config.mounts {
        r = r.nest_service(prefix, ServeDir::new(dir));
    }
    if let Some(www) = &config.www_dir {
        r = r.fallback_service(ServeDir::new(www));
    }
    r.layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::from_fn_with_state(app.clone(), cors))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            crate::http::rate_limit::Limiter::new(config.rate_limit),
            crate::http::rate_limit::limit,
        ))
        .layer(axum::middleware::from_fn(middleware::observe))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .with_state(app)
}
