//! `/v1/orders`: booking in two steps, refunds (SPEC §8.5).

use super::{idempotent, in_tx, Saving};
use crate::app::App;
use crate::auth::Auth;
use crate::booking::{self, OrderRequest, RefundRequest};
use crate::http::json::Raw;
use crate::http::{ok_json, ApiError};
use crate::idempotency;
use crate::storage::Kind;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

/// Step 1: hold the redeemed points (or book at once with `confirm`, or book an offline sale).
#[utoipa::path(post, path = "/v1/orders", tag = "orders",
    request_body = OrderRequest,
    params(("Idempotency-Key" = String, Header, description = "made and saved by the till before the first send")),
    responses(
        (status = 201, description = "`{ order_id, state: held|booked, hold_expires_at, flags, quote, member }`", body = Object),
        (status = 400, description = "invalid_request and the engine's input codes"),
        (status = 401, description = "unauthenticated"), (status = 403, description = "another store's till, or not a till/admin"),
        (status = 404, description = "unknown member"),
        (status = 409, description = "quote_mismatch (details: figures, server_quote, server_error), insufficient_points, idempotency_conflict, duplicate_document"),
    ))]
pub async fn create(
    State(app): State<App>,
    auth: Auth,
    headers: HeaderMap,
    raw: Raw,
) -> Result<Response, ApiError> {
    let actor = auth.till_or_admin()?;
    let body = raw.parse::<OrderRequest>()?;
    let key = idempotency::key(&headers)?;
    let now = app.clock.now_ms();
    let checked = booking::precheck(&actor, &body.value, now)?;
    let fp = idempotency::fingerprint("POST /v1/orders", &body.raw);
    let req = body.value;
    if app.db.kind == Kind::Sqlite {
        if let Some(answer) = create_unclaimed(&app, &actor, &key, &fp, &req, &checked).await? {
            return Ok(answer);
        }
    }
    idempotent!(&app, &actor.principal, &key, &fp, |tx| booking::create(
        &app, tx, &actor, &req, &checked, None
    )
    .await?
    .ok_or_else(|| ApiError::internal("a claimed key was looked for again")))
}

/// SQLite: the booking with its key looked for in its first statement, not claimed before it
/// (`idempotency::Unclaimed`; every SQLite write transaction holds the one write lock from its
/// begin). None: the key has a record, or there is no such member — the usual way answers
/// (the first answer, `idempotency_conflict`, or 404).
async fn create_unclaimed(
    app: &App,
    actor: &crate::auth::Actor,
    key: &str,
    fp: &str,
    req: &OrderRequest,
    checked: &booking::Checked,
) -> Result<Option<Response>, ApiError> {
    let mut tx = app.db.begin().await?;
    let unclaimed = idempotency::Unclaimed {
        principal: &actor.principal,
        key,
    };
    let r = match booking::create(app, &mut tx, actor, req, checked, Some(&unclaimed)).await {
        Ok(Some(answer)) => Ok(answer),
        Ok(None) => {
            tx.rollback().await?;
            return Ok(None);
        }
        Err(e) => Err(e),
    };
    super::keep(app, tx, &actor.principal, key, fp, Saving::Insert, r)
        .await
        .map(Some)
}

/// Step 2: payment done — the purchase is appended to the ledger. A repeat gets the first answer.
#[utoipa::path(post, path = "/v1/orders/{id}/confirm", tag = "orders",
    params(("id" = String, Path, description = "order id")),
    responses((status = 200, description = "`{ order_id, state: booked, quote, member: { points, tier, snapshot } }`", body = Object),
        (status = 404, description = "no such order"), (status = 409, description = "invalid_state: voided or expired hold")))]
pub async fn confirm(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = auth.till_or_admin()?;
    in_tx!(&app, |tx| { booking::confirm(&app, tx, &actor, &id).await })
}

/// Releases a hold. A repeat gets the first answer.
#[utoipa::path(post, path = "/v1/orders/{id}/void", tag = "orders",
    params(("id" = String, Path, description = "order id")),
    responses((status = 200, description = "`{ order_id, state: voided|expired }`", body = Object),
        (status = 404, description = "no such order"), (status = 409, description = "invalid_state: a booked order")))]
pub async fn void(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = auth.till_or_admin()?;
    in_tx!(&app, |tx| { booking::void(&app, tx, &actor, &id).await })
}

/// A refund of a booked order (SPEC §3, §7.14): lines and quantities, or the whole order.
#[utoipa::path(post, path = "/v1/orders/{id}/refunds", tag = "orders",
    request_body = RefundRequest,
    params(("id" = String, Path, description = "order id"), ("Idempotency-Key" = String, Header, description = "the refund's own key")),
    responses((status = 201, description = "`{ refund_id, order_id, at, points_delta, shortfall, member }`", body = Object),
        (status = 400, description = "refund_exceeds_order, invalid_request"), (status = 404, description = "no such order"),
        (status = 409, description = "invalid_state: order not booked; idempotency_conflict")))]
pub async fn refund(
    State(app): State<App>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let actor = auth.till_or_admin()?;
    let body = raw.parse::<RefundRequest>()?;
    let key = idempotency::key(&headers)?;
    let fp = idempotency::fingerprint(&format!("POST /v1/orders/{id}/refunds"), &body.raw);
    let req = body.value;
    idempotent!(&app, &actor.principal, &key, &fp, |tx| booking::refund(
        &app, tx, &actor, &id, &req
    )
    .await)
}

/// One order: its state, flags, the till's request and quote, and what has been refunded of it.
///
/// `refunds` is the server's account of the refunds booked against the order (the member's stored
/// `refund` events for it): `ids` (the refund events, in order) and `lines`, one per line of the
/// order's cart: `{ "line_id", "quantity" (bought), "refunded" (so far), "refundable"
/// (quantity − refunded: the most a further refund may return) }`. A refund without `lines`
/// returns the whole order, so every line's `refundable` is then 0.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "order id")),
    responses((status = 200, description = "the order: `{ order_id, member_id, store, till, document_no, card, state, \
        offline, flags, at, redeemed_points, policy_digest, hold_expires_at, quote_request, quote, refunds: { ids: [string], \
        lines: [{ line_id, quantity, refunded, refundable }] } }`", body = Object),
        (status = 404, description = "no such order")))]
pub async fn get(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = auth.till_or_admin()?;
    let mut c = app.db.read.acquire().await?;
    let Some(o) = crate::storage::orders::get(&mut c, &id).await? else {
        return Err(ApiError::not_found("id", format!("no order {id}")));
    };
    actor.check_store(&o.store_id, "id")?;
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap_or_default();
    let request = parse(&o.quote_request);
    let refunded = crate::storage::orders::refunded(&mut c, &o.member_id, &o.id).await?;
    let lines: Vec<serde_json::Value> = request["cart"]["lines"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .filter_map(|l| {
                    let id = l["id"].as_str()?;
                    let bought = l["quantity"].as_i64().unwrap_or(0);
                    let back = refunded.of_line(id, bought);
                    Some(json!({ "line_id": id, "quantity": bought, "refunded": back, "refundable": bought - back }))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ok_json(
        json!({
            "order_id": o.id, "member_id": o.member_id, "store": o.store_id, "till": o.till_id,
            "document_no": o.document_no, "card": o.card, "state": o.state, "offline": o.offline,
            "flags": parse(&o.flags), "at": crate::clock::rfc3339(o.at), "redeemed_points": o.redeemed_points,
            "policy_digest": o.policy_digest,
            "hold_expires_at": o.hold_expires_at.map(crate::clock::rfc3339),
            "quote_request": request, "quote": parse(&o.quote),
            "refunds": { "ids": refunded.ids, "lines": lines },
        })
        .to_string(),
    ))
}
