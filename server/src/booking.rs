//! Booking an order in two steps (SPEC §8.5): the server's check of the till's quote, holds,
//! confirm / void, refunds, offline sales. Every write happens in one transaction with the
//! idempotency record (`crate::idempotency`) and the member's lock (`storage::members::lock`),
//! and every new event is replayed with the member's stored history before it is committed: the
//! server's figures are the engine's.

use crate::app::App;
use crate::auth::Actor;
use crate::clock::{parse_rfc3339, rfc3339};
use crate::http::ApiError;
use crate::ledger::{self, Loaded, State};
use crate::storage::{self, orders::Order, Tx};
use serde_json::value::RawValue;
use serde_json::{json, Value};

/// How far a till's clock may be from the server's for an online sale (and ahead of it for an
/// offline one or a refund).
pub const SKEW_MS: i64 = 5 * 60_000;

/// `POST /v1/orders` body.
#[derive(Clone, Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// The till's receipt number: a (store, till, document_no) belongs to at most one order
    /// that is held or booked.
    pub document_no: String,
    /// The card number scanned, kept for reports.
    #[serde(default)]
    pub card: Option<String>,
    /// The SPEC §2 quote request the till priced (member snapshot, cart, redeem_points).
    #[schema(value_type = Object)]
    pub quote_request: Box<RawValue>,
    /// The till's quote response, as the engine wrote it (compared byte for byte).
    #[schema(value_type = Object)]
    pub quote: Box<RawValue>,
    /// Book at once (hold and confirm in one call).
    #[serde(default)]
    pub confirm: bool,
    /// A sale that already happened while the till was offline: booked as quoted.
    #[serde(default)]
    pub offline: bool,
}

/// `POST /v1/orders/{id}/refunds` body.
#[derive(Clone, Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// `[{ "line_id", "quantity" }]` as in SPEC §3; absent: the whole order.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub lines: Option<Value>,
    /// When the refund happened (RFC 3339); default now.
    #[serde(default)]
    pub at: Option<String>,
}

fn str_at<'a>(v: &'a Value, p: &str) -> Option<&'a str> {
    v.pointer(p).and_then(Value::as_str)
}

/// What a booking changed for the member: the figures a till shows after payment.
pub fn member_after(state: &State, held: i64) -> Value {
    json!({
        "id": state.member_id(),
        "status": state.status(),
        "tier": state.tier(),
        "points": { "available": state.available(), "pending": state.pending() },
        "snapshot": state.snapshot(held),
    })
}

/// The parts of an order request checked before any transaction (their answers are not kept).
pub struct Checked {
    /// The till's request and quote, read (their texts stay in the `OrderRequest`).
    pub qr: Value,
    pub quote: Value,
    pub member_id: String,
    pub store: String,
    pub at: i64,
    pub at_text: String,
    pub redeemed: i64,
    pub digest: String,
}

pub fn precheck(actor: &Actor, r: &OrderRequest, now: i64) -> Result<Checked, ApiError> {
    if r.document_no.trim().is_empty() || r.document_no.len() > 100 {
        return Err(ApiError::invalid(
            "document_no",
            "document_no must be 1 to 100 characters",
        ));
    }
    let qr: Value = serde_json::from_str(r.quote_request.get()).map_err(ApiError::internal)?;
    let quote: Value = serde_json::from_str(r.quote.get()).map_err(ApiError::internal)?;
    if !qr.is_object() {
        return Err(ApiError::invalid(
            "quote_request",
            "quote_request must be an object",
        ));
    }
    if !quote.is_object() {
        return Err(ApiError::invalid(
            "quote",
            "quote must be the till's quote response object",
        ));
    }
    let member_id = str_at(&qr, "/member/id")
        .ok_or_else(|| ApiError::invalid("quote_request.member.id", "the member id is required"))?
        .to_string();
    let store = str_at(&qr, "/cart/store")
        .ok_or_else(|| {
            ApiError::invalid(
                "quote_request.cart.store",
                "the cart's store is required to book a sale",
            )
        })?
        .to_string();
    actor.check_store(&store, "quote_request.cart.store")?;
    let at_text = str_at(&qr, "/cart/at")
        .ok_or_else(|| ApiError::invalid("quote_request.cart.at", "the cart's time is required"))?
        .to_string();
    let at = parse_rfc3339(&at_text).ok_or_else(|| {
        ApiError::invalid(
            "quote_request.cart.at",
            "the cart's time must be RFC 3339 with an offset",
        )
    })?;
    if !r.offline && (at - now).abs() > SKEW_MS {
        return Err(ApiError::invalid(
            "quote_request.cart.at",
            format!(
                "an online sale must be within 5 minutes of the server's clock ({}); a sale made offline is sent with \"offline\": true",
                rfc3339(now)
            ),
        ));
    }
    if r.offline && at > now + SKEW_MS {
        return Err(ApiError::invalid(
            "quote_request.cart.at",
            "an offline sale cannot be more than 5 minutes in the future",
        ));
    }
    let redeemed = quote
        .get("redeemed_points")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            ApiError::invalid(
                "quote.redeemed_points",
                "the quote's redeemed_points is missing",
            )
        })?;
    let digest = str_at(&quote, "/policy_digest")
        .ok_or_else(|| {
            ApiError::invalid(
                "quote.policy_digest",
                "the quote's policy_digest is missing",
            )
        })?
        .to_string();
    Ok(Checked {
        qr,
        quote,
        member_id,
        store,
        at,
        at_text,
        redeemed,
        digest,
    })
}

/// The engine's `verify` of the till's quote under one version: Ok(None) when valid,
/// Ok(Some(mismatches)) when not, Err for a request the engine refuses (400).
fn verify(
    app: &App,
    v: &storage::policies::Version,
    r: &OrderRequest,
) -> Result<Option<Value>, ApiError> {
    let engine = app.engines.get(&v.digest, &v.document)?;
    let req = format!(
        "{{\"request\":{},\"response\":{}}}",
        r.quote_request.get(),
        r.quote.get()
    );
    let out = engine.verify_json(&req);
    if let Some((code, message, path)) = ledger::error_parts(&out) {
        if code == "invalid_request"
            || code.starts_with("redemption")
            || code == "member_not_active"
        {
            let path = path
                .strip_prefix("request")
                .map(|p| format!("quote_request{p}"))
                .or_else(|| path.strip_prefix("response").map(|p| format!("quote{p}")))
                .unwrap_or(path);
            // A request the engine refuses outright is the till's fault, not a mismatch.
            if code == "invalid_request" {
                return Err(ApiError::BadRequest {
                    code,
                    message,
                    path,
                });
            }
            return Ok(Some(
                json!([{ "field": path, "expected": { "error": { "code": code, "message": message } }, "received": Value::Null }]),
            ));
        }
        return Err(ApiError::BadRequest {
            code,
            message,
            path,
        });
    }
    let v: Value = serde_json::from_str(&out).map_err(ApiError::internal)?;
    if v.get("valid") == Some(&Value::Bool(true)) {
        Ok(None)
    } else {
        Ok(Some(v.get("mismatches").cloned().unwrap_or(json!([]))))
    }
}

/// The server's own quote of the request, with its own member snapshot: for `quote_mismatch`.
fn server_quote(
    app: &App,
    v: &storage::policies::Version,
    qr: &Value,
    snapshot: Option<&Value>,
) -> (Value, Value) {
    let engine = match app.engines.get(&v.digest, &v.document) {
        Ok(e) => e,
        Err(_) => return (Value::Null, Value::Null),
    };
    let mut req = qr.clone();
    if let (Some(s), Some(obj)) = (snapshot, req.as_object_mut()) {
        obj.insert("member".into(), s.clone());
    }
    let out = engine.quote_json(&req.to_string());
    let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
    match v.get("error") {
        Some(e) => (Value::Null, e.clone()),
        None => (v, Value::Null),
    }
}

fn mismatch(figures: Value, server: (Value, Value), message: &str) -> ApiError {
    ApiError::Conflict {
        code: "quote_mismatch",
        message: message.to_string(),
        path: "quote".into(),
        details: Some(
            json!({ "figures": figures, "server_quote": server.0, "server_error": server.1 }),
        ),
    }
}

/// The purchase event a booked order appends (SPEC §8.5): priced as the till quoted it.
pub fn purchase_event(order_id: &str, qr: &Value, quote: &Value, at_text: &str) -> String {
    json!({
        "id": order_id,
        "type": "purchase",
        "at": at_text,
        "cart": qr.get("cart"),
        "redeem_points": quote.get("redeemed_points"),
        "policy_digest": quote.get("policy_digest"),
        "quoted_member": {
            "status": qr.pointer("/member/status").cloned().unwrap_or(json!("active")),
            "tier": quote.get("tier"),
            "points": qr.pointer("/member/points").cloned().unwrap_or(json!(0)),
        },
    })
    .to_string()
}

/// Engine errors about a new event, answered at the body's path.
fn event_error(out: &str, prefix: &str) -> ApiError {
    match ledger::error_parts(out) {
        Some((code, message, path)) => {
            let rest = match path.find("].") {
                Some(i) if path.starts_with("events[") => &path[i + 2..],
                _ => "",
            };
            let path = match (prefix.is_empty(), rest.is_empty()) {
                (_, true) => prefix.trim_end_matches('.').to_string(),
                (true, false) => rest.to_string(),
                (false, false) => format!("{prefix}{rest}"),
            };
            ApiError::BadRequest {
                code,
                message,
                path,
            }
        }
        None => ApiError::internal(format!("engine answer: {out}")),
    }
}

/// Appends an event after replaying it with the stored history; returns the new state.
#[allow(clippy::too_many_arguments)]
pub async fn append(
    app: &App,
    tx: &mut Tx,
    l: &Loaded,
    id: &str,
    kind: &str,
    at: i64,
    body: &str,
    by: &str,
    error_prefix: &str,
) -> Result<State, ApiError> {
    append_then(
        app,
        tx,
        l,
        None,
        (id, kind, at, body),
        by,
        error_prefix,
        false,
    )
    .await
}

/// [`append`]; with `defer`, every write from here on is kept and sent with the commit
/// (`Tx::defer_writes`): the caller only writes after it. `read`: the stored events as the
/// engine read them and the member's stored report rows, when the caller has read them already
/// and written nothing since.
#[allow(clippy::too_many_arguments)]
async fn append_then(
    app: &App,
    tx: &mut Tx,
    l: &Loaded,
    read: Option<(ledger::History, crate::reports::store::StoredTexts)>,
    (id, kind, at, body): (&str, &str, i64, &str),
    by: &str,
    error_prefix: &str,
    defer: bool,
) -> Result<State, ApiError> {
    let now = app.clock.now_ms();
    let as_of = ledger::as_of(now, &l.events).max(at);
    // The stored events read once (or as the caller read them), the new one after them: the
    // replay and the report facts below both use this reading.
    let (mut history, stored_reports) = match read {
        Some((h, r)) => (h, Some(r)),
        None => (
            ledger::History::read(&l.member, &l.events, as_of)
                .map_err(|out| event_error(&out, error_prefix))?,
            None,
        ),
    };
    history.set_as_of(as_of);
    history
        .push(body)
        .map_err(|out| event_error(&out, error_prefix))?;
    let state = history
        .replay(&l.versions)
        .map_err(|out| event_error(&out, error_prefix))?;
    let seq = l.events.last().map(|e| e.seq).unwrap_or(0) + 1;
    let notice_days = ledger::notice_days(&l.versions)?;
    // Reports (issue 15): the member's report rows and the day sums, in this transaction —
    // read and computed before anything is written.
    let facts = history
        .facts(&l.versions)
        .map_err(|e| ApiError::internal(crate::reports::store::facts_error(&l.member.id, &e)))?;
    let change =
        crate::reports::store::plan(tx, &l.versions, &l.member.id, facts, as_of, stored_reports)
            .await
            .map_err(ApiError::internal)?;
    if defer {
        tx.defer_writes();
    }
    storage::events::append(tx, &l.member.id, seq, id, kind, at, body, now, by).await?;
    // The last look is the cache's instant as loaded (nothing in between writes the cache).
    let look = l.member.cached_at;
    ledger::after_change(tx, &l.member, &state, look, as_of, now, notice_days).await?;
    crate::reports::store::write(tx, change)
        .await
        .map_err(ApiError::internal)?;
    Ok(state)
}

/// Step 1 (and, with `confirm`, step 2; with `offline`, a sale booked as quoted). Runs inside
/// the caller's transaction after the idempotency claim; returns (status, body).
///
/// With `unclaimed` (a key not claimed yet: `idempotency::Unclaimed`), Ok(None) when the key has
/// a record or there is no member: the caller rolls back and claims the key first.
pub async fn create(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    r: &OrderRequest,
    c: &Checked,
    unclaimed: Option<&crate::idempotency::Unclaimed<'_>>,
) -> Result<Option<(u16, String)>, ApiError> {
    let now = app.clock.now_ms();
    let loaded = ledger::load_for_booking(
        tx,
        &c.member_id,
        (&c.store, &actor.till, &r.document_no),
        now,
        unclaimed,
    )
    .await?;
    let Some(ledger::ForBooking {
        loaded: l,
        reports: stored_reports,
        open,
        held,
        key_kept,
    }) = loaded
    else {
        if unclaimed.is_some() {
            return Ok(None);
        }
        return Err(ApiError::not_found(
            "quote_request.member.id",
            format!("no member {}", c.member_id),
        ));
    };
    if key_kept {
        return Ok(None);
    }
    if let Some((id, state)) = open {
        return Err(ApiError::conflict(
            "duplicate_document",
            "document_no",
            format!(
                "document {} of this till is already order {id} ({state})",
                r.document_no
            ),
        ));
    }
    let as_of = ledger::as_of(now, &l.events);
    let does_not_replay = |e: String| {
        ApiError::internal(format!(
            "stored history of {} does not replay: {e}",
            c.member_id
        ))
    };
    // Read once: replayed now, at an offline sale's instant, and after the sale with it.
    let mut history =
        ledger::History::read(&l.member, &l.events, as_of).map_err(does_not_replay)?;
    let state = history.replay(&l.versions).map_err(does_not_replay)?;
    let mut flags: Vec<&str> = Vec::new();
    let order_id = storage::new_id("o-", now);
    let qr = &c.qr;

    if r.offline {
        if c.at < l.member.joined_at {
            return Err(ApiError::invalid(
                "quote_request.cart.at",
                format!(
                    "the sale is before the member joined ({})",
                    rfc3339(l.member.joined_at)
                ),
            ));
        }
        let Some(v) = l.versions.iter().find(|v| v.digest == c.digest) else {
            return Err(mismatch(
                json!([{ "field": "policy_digest", "expected": l.versions.iter().map(|v| v.digest.clone()).collect::<Vec<_>>(), "received": c.digest }]),
                (
                    Value::Null,
                    json!({ "code": "unknown_policy", "message": format!("{} is not a published version", c.digest), "path": "quote.policy_digest" }),
                ),
                "the quote names a policy that was never published",
            ));
        };
        if let Some(figures) = verify(app, v, r)? {
            return Err(mismatch(
                figures,
                server_quote(app, v, qr, None),
                "the till's quote does not match the engine's",
            ));
        }
        // The member as the server knew it at the sale's instant.
        history.set_as_of(c.at.max(l.member.joined_at));
        let then = history
            .replay(&l.versions)
            .map_err(|e| ApiError::internal(format!("replay: {e}")))?;
        let quoted_status = str_at(qr, "/member/status").unwrap_or("active");
        let quoted_tier = str_at(&c.quote, "/tier").unwrap_or_default();
        if then.status() != quoted_status || then.tier() != quoted_tier {
            flags.push("stale_member");
        }
    } else {
        let Some(v) = ledger::in_force(&l.versions, now) else {
            return Err(ApiError::invalid_state("no published policy"));
        };
        let snapshot = state.snapshot(held);
        let figures = verify(app, v, r)?;
        let mut member_diffs = Vec::new();
        let quoted_status = str_at(qr, "/member/status").unwrap_or_default();
        if quoted_status != state.status() {
            member_diffs.push(json!({ "field": "member.status", "expected": state.status(), "received": quoted_status }));
        }
        let quoted_tier = str_at(&c.quote, "/tier").unwrap_or_default();
        if quoted_tier != state.tier() {
            member_diffs.push(json!({ "field": "member.tier", "expected": state.tier(), "received": quoted_tier }));
        }
        if figures.is_some() || !member_diffs.is_empty() {
            let mut all = figures
                .and_then(|f| f.as_array().cloned())
                .unwrap_or_default();
            all.extend(member_diffs);
            return Err(mismatch(
                Value::Array(all),
                server_quote(app, v, qr, Some(&snapshot)),
                "the till's quote is not what the server computes now: re-quote with the server's figures",
            ));
        }
        // A sale that redeems nothing is never refused for the balance: a member in debt (a
        // clawback, an offline overdraft) still buys, and the earning pays the debt off first.
        let spendable = state.available() - held;
        if c.redeemed > 0 && c.redeemed > spendable {
            return Err(ApiError::conflict(
                "insufficient_points",
                "quote.redeemed_points",
                format!(
                    "{} points cannot be redeemed: {} are available less {} held by open orders",
                    c.redeemed,
                    state.available(),
                    held
                ),
            ));
        }
    }

    let book_now = r.confirm || r.offline;
    let hold_expires_at = if book_now {
        None
    } else {
        Some(now + app.hold_ms().await)
    };
    let flags_text = serde_json::to_string(&flags).unwrap_or_default();
    let at_text = c.at_text.clone();
    let mut answer = json!({
        "order_id": order_id,
        "state": if book_now { "booked" } else { "held" },
        "hold_expires_at": hold_expires_at.map(rfc3339),
        "flags": flags,
        "member": Value::Null,
    });
    let mut state_after = None;
    if book_now {
        let body = purchase_event(&order_id, qr, &c.quote, &at_text);
        // Only writes follow (here, and the answer kept under the key): they are sent together.
        let s = append_then(
            app,
            tx,
            &l,
            Some((history, stored_reports)),
            (&order_id, "purchase", c.at, &body),
            &actor.principal,
            "quote_request.",
            true,
        )
        .await?;
        if r.offline {
            let after = s
                .history_row(&order_id)
                .and_then(|h| h.get("available_after"))
                .and_then(Value::as_i64)
                .unwrap_or_default();
            if after < 0 {
                flags.push("overdraft");
                answer["flags"] = json!(flags);
            }
        }
        answer["member"] = member_after(&s, held);
        state_after = Some(s);
    }
    let flags_text = if flags.is_empty() {
        flags_text
    } else {
        serde_json::to_string(&flags).unwrap_or_default()
    };
    let quote_text = r.quote.get().to_string();
    let body = with_quote(&answer, &quote_text);
    storage::orders::insert(
        tx,
        &storage::orders::NewOrder {
            id: &order_id,
            member_id: &c.member_id,
            store_id: &c.store,
            till_id: &actor.till,
            document_no: &r.document_no,
            card: r.card.as_deref(),
            channel: str_at(qr, "/cart/channel"),
            state: if book_now { "booked" } else { "held" },
            offline: r.offline,
            flags: &flags_text,
            at: c.at,
            redeemed_points: c.redeemed,
            earned_points: c
                .quote
                .get("earned_points")
                .and_then(Value::as_i64)
                .unwrap_or_default(),
            subtotal: str_at(&c.quote, "/subtotal").unwrap_or_default(),
            total: str_at(&c.quote, "/total").unwrap_or_default(),
            policy_digest: &c.digest,
            quote_request: r.quote_request.get(),
            quote: &quote_text,
            hold_expires_at,
            now,
            by: &actor.principal,
            confirm_answer: state_after.is_some().then_some(body.as_str()),
        },
    )
    .await?;
    if let Some(s) = &state_after {
        receipt(tx, &order_id, &c.member_id, s, now).await?;
        metrics::counter!("loyalty_bookings_total", "kind" => if r.offline { "offline" } else { "one_call" }).increment(1);
    } else {
        metrics::counter!("loyalty_holds_total").increment(1);
    }
    storage::audit(
        tx,
        now,
        &actor.principal,
        if book_now { "order.book" } else { "order.hold" },
        &order_id,
        &json!({ "document_no": r.document_no, "store": c.store, "flags": flags }),
    )
    .await?;
    Ok(Some((201, body)))
}

/// An order answer `{ order_id, state, hold_expires_at, flags, quote, member }` with the till's
/// quote written back exactly as it was sent.
fn with_quote(answer: &Value, quote_text: &str) -> String {
    let f = |k: &str| {
        answer
            .get(k)
            .map(Value::to_string)
            .unwrap_or_else(|| "null".into())
    };
    format!(
        "{{\"order_id\":{},\"state\":{},\"hold_expires_at\":{},\"flags\":{},\"quote\":{},\"member\":{}}}",
        f("order_id"),
        f("state"),
        f("hold_expires_at"),
        f("flags"),
        quote_text,
        f("member")
    )
}

/// A booking receipt in the outbox (for the SMS / e-mail sender).
async fn receipt(
    tx: &mut Tx,
    order_id: &str,
    member_id: &str,
    s: &State,
    now: i64,
) -> Result<(), ApiError> {
    let id = format!("receipt-{order_id}");
    let payload = json!({
        "id": id, "kind": "receipt", "member_id": member_id, "order_id": order_id,
        "points": { "available": s.available(), "pending": s.pending() }, "tier": s.tier(),
    });
    storage::outbox::add(
        tx,
        &id,
        "receipt",
        Some(member_id),
        now,
        &payload.to_string(),
        now,
    )
    .await?;
    Ok(())
}

/// The order, if this till (its store) or admin may act on it: 404 / 403 otherwise.
async fn order_for(tx: &mut Tx, actor: &Actor, order_id: &str) -> Result<Order, ApiError> {
    let Some(o) = storage::orders::get(tx, order_id).await? else {
        return Err(ApiError::not_found("id", format!("no order {order_id}")));
    };
    actor.check_store(&o.store_id, "id")?;
    Ok(o)
}

/// Step 2: confirm (payment done). Repeats get the first answer.
pub async fn confirm(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    order_id: &str,
) -> Result<(u16, String), ApiError> {
    let now = app.clock.now_ms();
    let o = order_for(tx, actor, order_id).await?;
    storage::members::lock(tx, &o.member_id).await?;
    // Read again under the member's lock: a concurrent confirm or void may have moved it.
    let o = order_for(tx, actor, order_id).await?;
    match o.state.as_str() {
        "booked" => return Ok((200, o.confirm_answer.unwrap_or_default())),
        "held" if o.hold_expires_at.is_some_and(|t| t <= now) => {
            storage::orders::close_hold(tx, &o.id, "expired", now, None).await?;
            return Err(ApiError::invalid_state(format!(
                "the hold expired at {}: a sale already paid is booked with \"offline\": true",
                rfc3339(o.hold_expires_at.unwrap_or_default())
            )));
        }
        "held" => {}
        other => {
            return Err(ApiError::invalid_state(format!(
                "order {order_id} is {other}: a sale already paid is booked with \"offline\": true"
            )))
        }
    }
    let Some(l) = ledger::load(tx, &o.member_id).await? else {
        return Err(ApiError::internal("order without member"));
    };
    let qr: Value = serde_json::from_str(&o.quote_request).map_err(ApiError::internal)?;
    let quote: Value = serde_json::from_str(&o.quote).map_err(ApiError::internal)?;
    let at_text = str_at(&qr, "/cart/at").unwrap_or_default().to_string();
    let body = purchase_event(&o.id, &qr, &quote, &at_text);
    let s = append(
        app,
        tx,
        &l,
        &o.id,
        "purchase",
        o.at,
        &body,
        &actor.principal,
        "",
    )
    .await?;
    let held = storage::orders::held_points(tx, &o.member_id, now).await? - o.redeemed_points;
    let answer = with_quote(
        &json!({
            "order_id": o.id, "state": "booked", "hold_expires_at": Value::Null,
            "flags": serde_json::from_str::<Value>(&o.flags).unwrap_or(json!([])),
            "member": member_after(&s, held.max(0)),
        }),
        &o.quote,
    );
    storage::orders::mark_booked(tx, &o.id, now, &answer).await?;
    receipt(tx, &o.id, &o.member_id, &s, now).await?;
    storage::audit(
        tx,
        now,
        &actor.principal,
        "order.confirm",
        &o.id,
        &json!({}),
    )
    .await?;
    metrics::counter!("loyalty_bookings_total", "kind" => "confirm").increment(1);
    Ok((200, answer))
}

/// Releases a hold. Repeats get the first answer; a booked order cannot be voided (refund it).
pub async fn void(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    order_id: &str,
) -> Result<(u16, String), ApiError> {
    let now = app.clock.now_ms();
    let o = order_for(tx, actor, order_id).await?;
    match o.state.as_str() {
        "voided" => Ok((200, o.void_answer.unwrap_or_default())),
        "expired" => Ok((
            200,
            json!({ "order_id": o.id, "state": "expired" }).to_string(),
        )),
        "held" => {
            let expired = o.hold_expires_at.is_some_and(|t| t <= now);
            let state = if expired { "expired" } else { "voided" };
            let answer = json!({ "order_id": o.id, "state": state }).to_string();
            storage::orders::close_hold(tx, &o.id, state, now, Some(&answer)).await?;
            storage::audit(tx, now, &actor.principal, "order.void", &o.id, &json!({})).await?;
            Ok((200, answer))
        }
        other => Err(ApiError::invalid_state(format!(
            "order {order_id} is {other}: a booked sale is refunded, not voided"
        ))),
    }
}

/// A refund against the original receipt (SPEC §3 and §7.14).
pub async fn refund(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    order_id: &str,
    r: &RefundRequest,
) -> Result<(u16, String), ApiError> {
    let now = app.clock.now_ms();
    let o = order_for(tx, actor, order_id).await?;
    if o.state != "booked" {
        return Err(ApiError::invalid_state(format!(
            "order {order_id} is {}: only a booked order can be refunded",
            o.state
        )));
    }
    let (at, at_text) = match &r.at {
        Some(t) => (
            parse_rfc3339(t)
                .ok_or_else(|| ApiError::invalid("at", "at must be RFC 3339 with an offset"))?,
            t.clone(),
        ),
        None => (now, rfc3339(now)),
    };
    if at > now + SKEW_MS {
        return Err(ApiError::invalid(
            "at",
            "a refund cannot be more than 5 minutes in the future",
        ));
    }
    if at < o.at {
        return Err(ApiError::invalid(
            "at",
            format!("the refund is before the sale ({})", rfc3339(o.at)),
        ));
    }
    let Some(l) = ledger::load_locked(tx, &o.member_id).await? else {
        return Err(ApiError::internal("order without member"));
    };
    let n = l
        .events
        .iter()
        .filter(|e| e.kind == "refund" && e.id.starts_with(&format!("{order_id}-r")))
        .count()
        + 1;
    let id = format!("{order_id}-r{n}");
    let mut ev = json!({ "id": id, "type": "refund", "at": at_text, "order_id": order_id });
    if let Some(lines) = &r.lines {
        ev["lines"] = lines.clone();
    }
    let s = append(
        app,
        tx,
        &l,
        &id,
        "refund",
        at,
        &ev.to_string(),
        &actor.principal,
        "",
    )
    .await?;
    let row = s.history_row(&id).cloned().unwrap_or(Value::Null);
    let held = storage::orders::held_points(tx, &o.member_id, now).await?;
    let answer = json!({
        "refund_id": id, "order_id": order_id, "at": row.get("at"),
        "points_delta": row.get("points_delta"), "shortfall": row.get("shortfall"),
        "member": member_after(&s, held),
    })
    .to_string();
    storage::audit(
        tx,
        now,
        &actor.principal,
        "order.refund",
        order_id,
        &json!({ "refund_id": id }),
    )
    .await?;
    metrics::counter!("loyalty_refunds_total").increment(1);
    Ok((201, answer))
}
