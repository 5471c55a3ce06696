//! Admin: login, stores, tills and their keys, settings, webhooks, the audit log, the outbox
//! export, and (tests and demos only) the steerable clock.

use super::in_tx;
use crate::app::App;
use crate::auth::{keys, password, session, throttle, Auth, ADMIN_COOKIE};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::http::{json::Raw, json_response, ok_json, ApiError};
use crate::storage::{self, settings};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use sqlx::Row;
use std::net::SocketAddr;

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub user: String,
    pub password: String,
}

/// Logs an admin in: 200 with the session cookie (HttpOnly, SameSite=Strict) and the CSRF token
/// every unsafe request repeats in `X-CSRF-Token`; 401 otherwise; 429 after too many failures
/// (per user and per address).
#[utoipa::path(post, path = "/v1/admin/login", tag = "admin", request_body = Login,
    responses((status = 200, description = "`{ user, csrf_token, expires_at }` + Set-Cookie", body = Object), (status = 401), (status = 429)))]
pub async fn login(
    State(app): State<App>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let body = raw.parse::<Login>()?;
    let now = app.clock.now_ms();
    let ip = addr.ip().to_string();
    let user = body.value.user.clone();
    throttle::check(&app.db, &throttle::LOGIN_USER, &user, now).await?;
    throttle::check(&app.db, &throttle::LOGIN_ADDR, &ip, now).await?;
    let stored = sqlx::query("SELECT password_hash FROM admins WHERE username = $1")
        .bind(&user)
        .fetch_optional(&app.db.read)
        .await?
        .map(|r| r.get::<String, _>(0));
    let ok = match stored {
        Some(h) => password::verify(body.value.password.clone(), h).await,
        None => {
            password::burn(body.value.password.clone()).await;
            false
        }
    };
    if !ok {
        throttle::hit(&app.db, &throttle::LOGIN_USER, &user, now).await?;
        throttle::hit(&app.db, &throttle::LOGIN_ADDR, &ip, now).await?;
        return Err(ApiError::Unauthenticated("wrong user or password".into()));
    }
    throttle::reset(&app.db, &throttle::LOGIN_USER, &user).await?;
    let mut tx = app.db.begin().await?;
    let (token, csrf) =
        session::create(&mut tx, "admin", &user, now, session::ADMIN_TTL_MS).await?;
    storage::audit(
        &mut tx,
        now,
        &format!("admin:{user}"),
        "admin.login",
        &user,
        &json!({ "address": ip }),
    )
    .await?;
    tx.commit().await?;
    let mut r = ok_json(json!({ "user": user, "csrf_token": csrf, "expires_at": rfc3339(now + session::ADMIN_TTL_MS) }).to_string());
    let cookie = format!(
        "{ADMIN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        session::ADMIN_TTL_MS / 1000
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// Ends the admin session.
#[utoipa::path(post, path = "/v1/admin/logout", tag = "admin", responses((status = 200, body = Object), (status = 401)))]
pub async fn logout(
    State(app): State<App>,
    auth: Auth,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    auth.admin()?;
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == ADMIN_COOKIE)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default();
    session::end(&app.db, &token).await?;
    let mut r = ok_json("{\"logged_out\":true}".into());
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("loyalty_admin=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(r)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStore {
    pub id: String,
    pub name: String,
}

fn check_id(path: &str, id: &str) -> Result<(), ApiError> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(ApiError::invalid(
            path,
            "an id is 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(())
}

/// Adds a store.
#[utoipa::path(post, path = "/v1/stores", tag = "admin", request_body = NewStore,
    responses((status = 201, body = Object), (status = 400), (status = 409, description = "invalid_state: exists")))]
pub async fn create_store(
    State(app): State<App>,
    auth: Auth,
    raw: Raw,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let body = raw.parse::<NewStore>()?;
    check_id("id", &body.value.id)?;
    let now = app.clock.now_ms();
    in_tx!(app, |tx| {
        let r = sqlx::query(
            "INSERT INTO stores (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(&body.value.id)
        .bind(&body.value.name)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(ApiError::invalid_state(format!(
                "store {} exists",
                body.value.id
            )));
        }
        storage::audit(
            tx,
            now,
            &format!("admin:{user}"),
            "store.create",
            &body.value.id,
            &json!({ "name": body.value.name }),
        )
        .await?;
        Ok((
            201,
            json!({ "id": body.value.id, "name": body.value.name }).to_string(),
        ))
    })
}

/// Stores with their tills.
#[utoipa::path(get, path = "/v1/stores", tag = "admin", responses((status = 200, description = "`{ items: [{ id, name, tills: [{ id, name, keys }] }] }`", body = Object)))]
pub async fn list_stores(State(app): State<App>, auth: Auth) -> Result<Response, ApiError> {
    auth.admin()?;
    let stores = sqlx::query("SELECT id, name FROM stores ORDER BY id")
        .fetch_all(&app.db.read)
        .await?;
    let tills = sqlx::query(
        "SELECT t.id, t.store_id, t.name, (SELECT CAST(COUNT(*) AS BIGINT) FROM api_keys k WHERE k.till_id = t.id AND k.revoked_at IS NULL) FROM tills t ORDER BY t.id",
    )
    .fetch_all(&app.db.read)
    .await?;
    let items: Vec<Value> = stores
        .iter()
        .map(|s| {
            let id: String = s.get(0);
            let ts: Vec<Value> = tills
                .iter()
                .filter(|t| t.get::<String, _>(1) == id)
                .map(|t| json!({ "id": t.get::<String, _>(0), "name": t.get::<String, _>(2), "live_keys": t.get::<i64, _>(3) }))
                .collect();
            json!({ "id": id, "name": s.get::<String, _>(1), "tills": ts })
        })
        .collect();
    Ok(ok_json(json!({ "items": items }).to_string()))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTill {
    pub id: String,
    pub store: String,
    pub name: String,
}

/// Adds a till to a store.
#[utoipa::path(post, path = "/v1/tills", tag = "admin", request_body = NewTill,
    responses((status = 201, body = Object), (status = 400), (status = 404, description = "no such store"), (status = 409)))]
pub async fn create_till(
    State(app): State<App>,
    auth: Auth,
    raw: Raw,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let body = raw.parse::<NewTill>()?;
    check_id("id", &body.value.id)?;
    let now = app.clock.now_ms();
    let b = body.value;
    in_tx!(app, |tx| {
        if sqlx::query("SELECT 1 FROM stores WHERE id = $1")
            .bind(&b.store)
            .fetch_optional(&mut **tx)
            .await?
            .is_none()
        {
            return Err(ApiError::not_found(
                "store",
                format!("no store {}", b.store),
            ));
        }
        let r = sqlx::query("INSERT INTO tills (id, store_id, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(&b.id)
            .bind(&b.store)
            .bind(&b.name)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(ApiError::invalid_state(format!("till {} exists", b.id)));
        }
        storage::audit(
            tx,
            now,
            &format!("admin:{user}"),
            "till.create",
            &b.id,
            &json!({ "store": b.store }),
        )
        .await?;
        Ok((
            201,
            json!({ "id": b.id, "store": b.store, "name": b.name }).to_string(),
        ))
    })
}

/// A new key for a till, shown once. A till holds at most two live keys (rotate: make the new
/// one, move the till over, revoke the old one).
#[utoipa::path(post, path = "/v1/tills/{id}/keys", tag = "admin", params(("id" = String, Path)),
    responses((status = 201, description = "`{ key_id, key }` — the key is shown only now", body = Object), (status = 404), (status = 409, description = "invalid_state: two live keys already")))]
pub async fn create_till_key(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let now = app.clock.now_ms();
    in_tx!(app, |tx| {
        if sqlx::query("SELECT 1 FROM tills WHERE id = $1")
            .bind(&id)
            .fetch_optional(&mut **tx)
            .await?
            .is_none()
        {
            return Err(ApiError::not_found("id", format!("no till {id}")));
        }
        if keys::live_count(tx, &id).await? >= 2 {
            return Err(ApiError::invalid_state(
                "this till has two live keys: revoke one first",
            ));
        }
        let (key_id, key) = keys::create(tx, "till", Some(&id), now).await?;
        storage::audit(
            tx,
            now,
            &format!("admin:{user}"),
            "till.key.create",
            &id,
            &json!({ "key_id": key_id }),
        )
        .await?;
        Ok((
            201,
            json!({ "key_id": key_id, "key": key, "till": id }).to_string(),
        ))
    })
}

/// A storefront backend's key: it may only ask for widget tokens.
#[utoipa::path(post, path = "/v1/storefront-keys", tag = "admin",
    responses((status = 201, description = "`{ key_id, key }` — shown only now", body = Object)))]
pub async fn create_storefront_key(
    State(app): State<App>,
    auth: Auth,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let now = app.clock.now_ms();
    in_tx!(app, |tx| {
        let (key_id, key) = keys::create(tx, "storefront", None, now).await?;
        storage::audit(
            tx,
            now,
            &format!("admin:{user}"),
            "storefront.key.create",
            &key_id,
            &json!({}),
        )
        .await?;
        Ok((201, json!({ "key_id": key_id, "key": key }).to_string()))
    })
}

/// Revokes a till or storefront key.
#[utoipa::path(delete, path = "/v1/keys/{key_id}", tag = "admin", params(("key_id" = String, Path)),
    responses((status = 200, body = Object), (status = 404)))]
pub async fn revoke_key(
    State(app): State<App>,
    auth: Auth,
    Path(key_id): Path<String>,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let now = app.clock.now_ms();
    in_tx!(app, |tx| {
        if !keys::revoke(tx, &key_id, now).await? {
            return Err(ApiError::not_found("key_id", "no live key with this id"));
        }
        storage::audit(
            tx,
            now,
            &format!("admin:{user}"),
            "key.revoke",
            &key_id,
            &json!({}),
        )
        .await?;
        Ok((
            200,
            json!({ "key_id": key_id, "revoked_at": rfc3339(now) }).to_string(),
        ))
    })
}

/// The programme's settings (the widget secret is never shown).
#[utoipa::path(get, path = "/v1/settings", tag = "admin", responses((status = 200, description = "`{ key: value }` as an array of `{ key, value }`", body = Object)))]
pub async fn get_settings(State(app): State<App>, auth: Auth) -> Result<Response, ApiError> {
    auth.admin()?;
    let mut c = app.db.read.acquire().await?;
    let items: Vec<Value> = settings::all(&mut c)
        .await?
        .into_iter()
        .filter(|(k, _)| k != settings::WIDGET_SECRET)
        .map(|(k, v)| json!({ "key": k, "value": v }))
        .collect();
    Ok(ok_json(json!({ "items": items }).to_string()))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetSetting {
    /// `hold_minutes` (1–1440), `country` (ISO 3166 alpha-2 for national phone numbers),
    /// `widget_origins` (space-separated origins allowed to call the progress route),
    /// `programme_name`, `export_max_rows` (the most rows a background export may have, ≥ 1),
    /// `export_part_bytes` (an export's CSV part size, 4,096–67,108,864), `import_indexes_at`
    /// (the fewest members an import builds the report rows' indexes at its end for, ≥ 0:
    /// default 100,000, 0 never).
    pub key: String,
    pub value: String,
}

#[utoipa::path(put, path = "/v1/settings", tag = "admin", request_body = SetSetting,
    responses((status = 200, body = Object), (status = 400)))]
pub async fn set_setting(
    State(app): State<App>,
    auth: Auth,
    raw: Raw,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let body = raw.parse::<SetSetting>()?;
    let b = body.value;
    match b.key.as_str() {
        settings::HOLD_MINUTES => {
            if !b
                .value
                .parse::<i64>()
                .is_ok_and(|m| (1..=1440).contains(&m))
            {
                return Err(ApiError::invalid("value", "hold_minutes is 1 to 1440"));
            }
        }
        settings::COUNTRY => {
            if loyalty_engine::import::phone::country(&b.value).is_none() {
                return Err(ApiError::invalid(
                    "value",
                    "country is an ISO 3166 alpha-2 code the phone rules know (VN, SK, CZ, …)",
                ));
            }
        }
        settings::EXPORT_MAX_ROWS => {
            if !b.value.parse::<i64>().is_ok_and(|n| n >= 1) {
                return Err(ApiError::invalid(
                    "value",
                    "export_max_rows is a whole number ≥ 1",
                ));
            }
        }
        settings::EXPORT_PART_BYTES => {
            if !b
                .value
                .parse::<i64>()
                .is_ok_and(|n| (4096..=64 << 20).contains(&n))
            {
                return Err(ApiError::invalid(
                    "value",
                    "export_part_bytes is 4096 to 67108864",
                ));
            }
        }
        settings::IMPORT_INDEXES_AT => {
            if !b.value.parse::<i64>().is_ok_and(|n| n >= 0) {
                return Err(ApiError::invalid(
                    "value",
                    "import_indexes_at is a whole number ≥ 0",
                ));
            }
        }
        settings::WIDGET_ORIGINS | settings::PROGRAMME_NAME => {}
        _ => {
            return Err(ApiError::invalid(
                "key",
                "key is hold_minutes, country, widget_origins, programme_name, export_max_rows, export_part_bytes or import_indexes_at",
            ))
        }
    }
    let now = app.clock.now_ms();
    in_tx!(app, |tx| {
        settings::set(tx, &b.key, &b.value).await?;
        storage::audit(
            tx,
            now,
            &format!("admin:{user}"),
            "settings.set",
            &b.key,
            &json!({ "value": b.value }),
        )
        .await?;
        Ok((200, json!({ "key": b.key, "value": b.value }).to_string()))
    })
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// http:// or https:// URL receiving each notice as a signed POST.
    pub url: String,
    /// The notice kinds to send (see [`NOTICE_KINDS`]); absent or null: every kind.
    #[serde(default)]
    pub events: Option<Vec<String>>,
}

/// The notice kinds the outbox holds (SPEC §8.7): the replay's and the server's own.
pub const NOTICE_KINDS: [&str; 6] = [
    "tier_up",
    "tier_down",
    "points_expiring",
    "points_expired",
    "receipt",
    "one_time_code",
];

/// Adds a webhook: notices written from now on are POSTed to it with
/// `X-Loyalty-Signature: sha256=<HMAC-SHA256 of the body with the secret>` and
/// `X-Loyalty-Event-Id`, retried with backoff until a 2xx; only the kinds listed in `events`
/// when it is given.
#[utoipa::path(post, path = "/v1/webhooks", tag = "admin", request_body = NewWebhook,
    responses((status = 201, description = "`{ id, url, events, secret }` — the secret is shown only now", body = Object), (status = 400)))]
pub async fn create_webhook(
    State(app): State<App>,
    auth: Auth,
    raw: Raw,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let body = raw.parse::<NewWebhook>()?;
    let url = body.value.url.clone();
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2000 {
        return Err(ApiError::invalid("url", "url must be http:// or https://"));
    }
    let events: Option<Vec<String>> = match &body.value.events {
        None => None,
        Some(list) => {
            let mut kinds: Vec<String> = Vec::new();
            for (i, k) in list.iter().enumerate() {
                if !NOTICE_KINDS.contains(&k.as_str()) {
                    return Err(ApiError::invalid(
                        format!("events[{i}]"),
                        format!(
                            "unknown notice kind {k:?}: expected one of {}",
                            NOTICE_KINDS.join(", ")
                        ),
                    ));
                }
                if !kinds.contains(k) {
                    kinds.push(k.clone());
                }
            }
            if kinds.is_empty() {
                return Err(ApiError::invalid(
                    "events",
                    "events lists at least one kind (or is left out for every kind)",
                ));
            }
            Some(kinds)
        }
    };
    let now = app.clock.now_ms();
    in_tx!(app, |tx| {
        let id = storage::new_id("wh-", now);
        let secret = storage::random_hex(32);
        sqlx::query(
            "INSERT INTO webhooks (id, url, secret, created_at, events) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(&url)
        .bind(&secret)
        .bind(now)
        .bind(events.as_ref().map(|e| e.join(" ")))
        .execute(&mut **tx)
        .await?;
        storage::audit(
            tx,
            now,
            &format!("admin:{user}"),
            "webhook.create",
            &id,
            &json!({ "url": url, "events": events }),
        )
        .await?;
        Ok((
            201,
            json!({ "id": id, "url": url, "events": events, "secret": secret }).to_string(),
        ))
    })
}

/// The webhooks, oldest first, without their secrets (a secret is shown once, when created).
#[utoipa::path(get, path = "/v1/webhooks", tag = "admin",
    responses((status = 200, description = "`{ items: [{ id, url, created_at, pending, events }] }` (`pending`: deliveries not yet accepted; `events`: the kinds sent, null for every kind)", body = Object),
        (status = 401), (status = 403, description = "not an admin")))]
pub async fn list_webhooks(State(app): State<App>, auth: Auth) -> Result<Response, ApiError> {
    auth.admin()?;
    let mut c = app.db.read.acquire().await?;
    let rows = sqlx::query(
        "SELECT w.id, w.url, w.created_at, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM deliveries d WHERE d.webhook_id = w.id AND d.delivered_at IS NULL), \
         w.events FROM webhooks w ORDER BY w.created_at, w.id",
    )
    .fetch_all(&mut *c)
    .await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.get::<String, _>(0),
                "url": r.get::<String, _>(1),
                "created_at": crate::clock::rfc3339(r.get::<i64, _>(2)),
                "pending": r.get::<i64, _>(3),
                "events": r.get::<Option<String>, _>(4).map(|e| e.split(' ').map(str::to_string).collect::<Vec<_>>()),
            })
        })
        .collect();
    Ok(ok_json(json!({ "items": items }).to_string()))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Outbox only: one kind (`tier_up`, `points_expiring`, `one_time_code`, `receipt`, …).
    pub kind: Option<String>,
}

fn cursor(c: &Option<String>) -> Result<(i64, String), ApiError> {
    match c {
        None => Ok((i64::MIN, String::new())),
        Some(c) => c
            .split_once(':')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.to_string())))
            .ok_or_else(|| ApiError::invalid("cursor", "not a cursor this server gave")),
    }
}

/// The outbox as NDJSON (one notice a line, oldest first), for e-mail and SMS tools; page with
/// the `X-Next-Cursor` header.
#[utoipa::path(get, path = "/v1/outbox", tag = "admin", params(PageQuery),
    responses((status = 200, description = "NDJSON: `{ id, kind, member_id, at, created_at, payload }` a line", content_type = "application/x-ndjson")))]
pub async fn outbox(
    State(app): State<App>,
    auth: Auth,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    auth.admin()?;
    let limit = q.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be 1 to 10000"));
    }
    let (t, id) = cursor(&q.cursor)?;
    let mut c = app.db.read.acquire().await?;
    let rows = storage::outbox::page(&mut c, (t, &id), limit, q.kind.as_deref()).await?;
    let mut out = String::new();
    for r in &rows {
        let payload: Value = serde_json::from_str(&r.payload).unwrap_or(Value::Null);
        out.push_str(&json!({ "id": r.id, "kind": r.kind, "member_id": r.member_id, "at": rfc3339(r.at), "created_at": rfc3339(r.created_at), "payload": payload }).to_string());
        out.push('\n');
    }
    let mut resp = json_response(StatusCode::OK, out);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    if rows.len() as i64 == limit {
        if let Some(last) = rows.last() {
            if let Ok(v) = HeaderValue::from_str(&format!("{}:{}", last.created_at, last.id)) {
                resp.headers_mut().insert("x-next-cursor", v);
            }
        }
    }
    Ok(resp)
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/v1/audit", tag = "admin", params(PageQuery),
    responses((status = 200, description = "`{ items: [{ id, at, actor, action, target, detail }], next_cursor }`", body = Object)))]
pub async fn audit(
    State(app): State<App>,
    auth: Auth,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    auth.admin()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let (t, id) = match &q.cursor {
        None => (i64::MAX, "\u{10ffff}".to_string()),
        Some(_) => cursor(&q.cursor)?,
    };
    let rows = sqlx::query(
        "SELECT id, at, actor, action, target, detail FROM audit WHERE (at < $1 OR (at = $1 AND id < $2)) ORDER BY at DESC, id DESC LIMIT $3",
    )
    .bind(t)
    .bind(&id)
    .bind(limit)
    .fetch_all(&app.db.read)
    .await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| json!({ "id": r.get::<String, _>(0), "at": rfc3339(r.get(1)), "actor": r.get::<String, _>(2), "action": r.get::<String, _>(3), "target": r.get::<String, _>(4), "detail": serde_json::from_str::<Value>(&r.get::<String, _>(5)).unwrap_or(Value::Null) }))
        .collect();
    let next = (rows.len() as i64 == limit)
        .then(|| {
            rows.last()
                .map(|r| format!("{}:{}", r.get::<i64, _>(1), r.get::<String, _>(0)))
        })
        .flatten();
    Ok(ok_json(
        json!({ "items": items, "next_cursor": next }).to_string(),
    ))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetClock {
    /// Set the clock to this instant (RFC 3339)…
    #[serde(default)]
    pub now: Option<String>,
    /// …or move it by this many milliseconds.
    #[serde(default)]
    pub advance_ms: Option<i64>,
}

/// Moves the server's fixed clock (only when started with `--clock … --clock-steerable`, for
/// tests and demos; 404 otherwise).
#[utoipa::path(post, path = "/v1/admin/clock", tag = "admin", request_body = SetClock,
    responses((status = 200, description = "`{ now }`", body = Object), (status = 404, description = "the clock is not steerable")))]
pub async fn clock(State(app): State<App>, auth: Auth, raw: Raw) -> Result<Response, ApiError> {
    auth.admin()?;
    let body = raw.parse::<SetClock>()?;
    if !app.steerable_clock || !app.clock.is_fixed() {
        return Err(ApiError::not_found(
            "",
            "this server's clock is not steerable",
        ));
    }
    match (&body.value.now, body.value.advance_ms) {
        (Some(t), None) => {
            let ms = parse_rfc3339(t)
                .ok_or_else(|| ApiError::invalid("now", "now must be RFC 3339 with an offset"))?;
            app.clock.set(ms);
        }
        (None, Some(d)) => {
            app.clock.advance(d);
        }
        _ => {
            return Err(ApiError::invalid(
                "",
                "give exactly one of now and advance_ms",
            ))
        }
    }
    Ok(ok_json(
        json!({ "now": rfc3339(app.clock.now_ms()) }).to_string(),
    ))
}
