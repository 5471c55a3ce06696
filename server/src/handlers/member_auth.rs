//! Member login on the card lookup page (card number or phone + one-time code) and widget
//! tokens for storefronts.

use crate::app::App;
use crate::auth::{otp, session, throttle, widget, Auth, MEMBER_COOKIE};
use crate::clock::rfc3339;
use crate::handlers::members::find;
use crate::http::{json::Raw, json_response, ok_json, ApiError};
use crate::storage;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::net::SocketAddr;

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    #[serde(default)]
    pub card: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// Sends a one-time code (through the outbox) to the member with this card or phone. Always
/// 202, whether or not there is such a member; 429 when asked too often.
#[utoipa::path(post, path = "/v1/member/login", tag = "member", request_body = CodeRequest,
    responses((status = 202, body = Object), (status = 400), (status = 429)))]
pub async fn request_code(
    State(app): State<App>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let body = raw.parse::<CodeRequest>()?;
    let now = app.clock.now_ms();
    let ip = addr.ip().to_string();
    throttle::check(&app.db, &throttle::OTP_ADDR, &ip, now).await?;
    throttle::hit(&app.db, &throttle::OTP_ADDR, &ip, now).await?;
    let mut c = app.db.read.acquire().await?;
    let found = find(
        &app,
        &mut c,
        body.value.card.as_deref(),
        body.value.phone.as_deref(),
    )
    .await;
    drop(c);
    match found {
        Ok(member_id) => {
            throttle::check(&app.db, &throttle::OTP_MEMBER, &member_id, now).await?;
            throttle::hit(&app.db, &throttle::OTP_MEMBER, &member_id, now).await?;
            let mut tx = app.db.begin().await?;
            let phone = storage::members::get(&mut tx, &member_id)
                .await?
                .and_then(|m| m.phone);
            otp::issue(&mut tx, &member_id, phone.as_deref(), now).await?;
            tx.commit().await?;
        }
        Err(ApiError::BadRequest {
            code,
            message,
            path,
        }) => {
            return Err(ApiError::BadRequest {
                code,
                message,
                path,
            })
        }
        Err(_) => {}
    }
    Ok(json_response(
        StatusCode::ACCEPTED,
        json!({ "sent": true, "expires_in_seconds": otp::TTL_MS / 1000 }).to_string(),
    ))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeLogin {
    #[serde(default)]
    pub card: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    pub code: String,
}

/// Logs a member in with the code: a member session (cookie, and `token` for `Bearer`).
#[utoipa::path(post, path = "/v1/member/verify", tag = "member", request_body = CodeLogin,
    responses((status = 200, description = "`{ member_id, token, expires_at }` + Set-Cookie", body = Object), (status = 401), (status = 429)))]
pub async fn verify_code(State(app): State<App>, raw: Raw) -> Result<Response, ApiError> {
    let body = raw.parse::<CodeLogin>()?;
    let now = app.clock.now_ms();
    let mut c = app.db.read.acquire().await?;
    let member_id = find(
        &app,
        &mut c,
        body.value.card.as_deref(),
        body.value.phone.as_deref(),
    )
    .await
    .map_err(|_| ApiError::Unauthenticated("wrong or expired code".into()))?;
    drop(c);
    let mut tx = app.db.begin().await?;
    if !otp::redeem(&mut tx, &member_id, body.value.code.trim(), now).await? {
        tx.commit().await?;
        return Err(ApiError::Unauthenticated("wrong or expired code".into()));
    }
    let (token, _) =
        session::create(&mut tx, "member", &member_id, now, session::MEMBER_TTL_MS).await?;
    storage::audit(
        &mut tx,
        now,
        &format!("member:{member_id}"),
        "member.login",
        &member_id,
        &json!({}),
    )
    .await?;
    tx.commit().await?;
    let mut r = ok_json(json!({ "member_id": member_id, "token": token, "expires_at": rfc3339(now + session::MEMBER_TTL_MS) }).to_string());
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{MEMBER_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        session::MEMBER_TTL_MS / 1000
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetTokenRequest {
    pub member_id: String,
}

/// A short-lived (15 minutes) token that reads one member's progress: what a storefront's
/// backend hands to the `<loyalty-progress>` widget.
#[utoipa::path(post, path = "/v1/widget-tokens", tag = "member", request_body = WidgetTokenRequest,
    responses((status = 201, description = "`{ token, expires_at }`", body = Object), (status = 403), (status = 404)))]
pub async fn widget_token(
    State(app): State<App>,
    auth: Auth,
    raw: Raw,
) -> Result<Response, ApiError> {
    auth.storefront_or_admin()?;
    let body = raw.parse::<WidgetTokenRequest>()?;
    let now = app.clock.now_ms();
    let mut c = app.db.read.acquire().await?;
    if storage::members::get(&mut c, &body.value.member_id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("member_id", "no such member"));
    }
    let (token, exp) = widget::issue(&app.widget_secret, &body.value.member_id, now);
    Ok(json_response(
        StatusCode::CREATED,
        json!({ "token": token, "expires_at": rfc3339(exp) }).to_string(),
    ))
}

/// Who is logged in (any credential).
#[utoipa::path(get, path = "/v1/me", tag = "member", responses((status = 200, description = "`{ principal, now }` (a till: also `till`, `store`)", body = Object), (status = 401)))]
pub async fn me(State(app): State<App>, auth: Auth) -> Result<Response, ApiError> {
    let now = crate::clock::rfc3339(app.clock.now_ms());
    match &auth.0 {
        // A till also learns its store and the server's clock (its sales' times are the server's).
        Some(crate::auth::Principal::Till {
            till_id, store_id, ..
        }) => Ok(ok_json(
            json!({ "principal": format!("till:{till_id}"), "till": till_id, "store": store_id, "now": now })
                .to_string(),
        )),
        Some(p) => Ok(ok_json(json!({ "principal": p.id(), "now": now }).to_string())),
        None => Err(ApiError::Unauthenticated("no credential".into())),
    }
}
