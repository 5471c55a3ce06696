//! A member's life beyond the ledger events (issue 14): the phone is immutable, so "changing"
//! it is an explicit move to a new member; erasing personal data while the events stay; the
//! export of everything held about a member; rewards redeemed at a till or by an admin.

use super::cards::{append_now, move_points, normalize_phone, state_now};
use super::{idempotent, in_tx};
use crate::app::App;
use crate::auth::Auth;
use crate::clock::rfc3339;
use crate::http::{json::Raw, ok_json, ApiError};
use crate::idempotency;
use crate::ledger;
use crate::storage::{self, cards, members};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};
use sqlx::Row;

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MovePhone {
    /// The customer's new phone (any written form); no member may have it.
    pub phone: String,
    /// Why (kept in the audit log and in both `adjust` events).
    pub reason: String,
    /// The new member's id (default: made by the server).
    #[serde(default)]
    pub new_id: Option<String>,
    /// Default: the old member's name.
    #[serde(default)]
    pub name: Option<String>,
}

/// "Changing" a phone (it is immutable: fraud at the till): a new member with the new phone;
/// the old member's available points move across (`adjust` −n on the old, +n on the new), its
/// tier is set on the new one (`set_tier`, keeping `locked_until`), its active cards follow the
/// customer, and the old member, history kept, is `excluded`. One transaction, audited.
#[utoipa::path(post, path = "/v1/members/{id}/move", tag = "members", params(("id" = String, Path)), request_body = MovePhone,
    responses((status = 201, description = "`{ old: MemberSummary, new: MemberSummary, moved_points, tier }`", body = Object), (status = 400), (status = 404), (status = 409)))]
pub async fn move_phone(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let b = raw.parse::<MovePhone>()?.value;
    if b.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "say why the phone changes"));
    }
    let now = app.clock.now_ms();
    let new_id = b
        .new_id
        .clone()
        .unwrap_or_else(|| storage::new_id("m-", now));
    if new_id.is_empty() || new_id.len() > 100 {
        return Err(ApiError::invalid(
            "new_id",
            "new_id must be 1 to 100 characters",
        ));
    }
    in_tx!(app, |tx| {
        let p = format!("admin:{user}");
        if !members::lock(tx, &id).await? {
            return Err(ApiError::not_found("id", format!("no member {id}")));
        }
        let old = members::get(tx, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("id", "no such member"))?;
        if let Some((_, _, Some(_))) = cards::member_extra(tx, &id).await? {
            return Err(ApiError::invalid_state("this member was erased"));
        }
        let state = state_now(tx, now, &id).await?;
        if state.status() == "excluded" || state.status() == "unassigned" {
            return Err(ApiError::invalid_state(format!(
                "member {id} is {}: only a member in the programme moves to a new phone",
                state.status()
            )));
        }
        let phone = normalize_phone(tx, &b.phone, "phone").await?;
        if let Some(m) = members::by_phone(tx, &phone).await? {
            return Err(ApiError::invalid_state(format!(
                "member {} already has this phone",
                m.id
            )));
        }
        let name = b.name.as_deref().or(old.name.as_deref());
        if !members::insert(tx, &new_id, "active", now, Some(&phone), name, now).await? {
            return Err(ApiError::invalid_state(format!("member {new_id} exists")));
        }
        let home = cards::member_extra(tx, &id).await?.and_then(|x| x.1);
        if let Some(h) = home {
            cards::set_home_store(tx, &new_id, &h).await?;
        }
        let tier = state.tier();
        let locked = state
            .value()
            .pointer("/tier/locked_until")
            .cloned()
            .unwrap_or(Value::Null);
        let base = ledger::load(tx, &new_id)
            .await?
            .and_then(|l| ledger::replay(&l.versions, &l.member, &l.events, None, now).ok())
            .map(|s| s.tier())
            .unwrap_or_default();
        if tier != base {
            append_now(
                &app,
                tx,
                &new_id,
                "set_tier",
                json!({ "tier": tier, "locked_until": locked }),
                &p,
            )
            .await?;
        }
        let reason = format!("phone moved to member {new_id}: {}", b.reason.trim());
        let moved = move_points(&app, tx, &id, &new_id, &reason, &p).await?;
        append_now(&app, tx, &id, "status", json!({ "status": "excluded" }), &p).await?;
        let mut moved_cards = Vec::new();
        for c in cards::cards_of(tx, &id).await? {
            if c.state == "active" {
                cards::set(tx, &c.number, Some(&new_id), "active", None, now).await?;
                moved_cards.push(c.number);
            }
        }
        storage::audit(
            tx,
            now,
            &p,
            "member.move_phone",
            &id,
            &json!({ "new_member": new_id, "moved_points": moved, "tier": tier, "cards": moved_cards, "reason": b.reason }),
        )
        .await?;
        let old_s = super::members::summary(&app, tx, &id).await?;
        let new_s = super::members::summary(&app, tx, &new_id).await?;
        Ok((
            201,
            json!({ "old": old_s, "new": new_s, "moved_points": moved, "tier": tier, "cards": moved_cards })
                .to_string(),
        ))
    })
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Erase {
    pub reason: String,
}

/// Deletes a member's personal data wherever it was kept (member row, audit entries, stored
/// idempotent answers, outbox payloads, one-time codes, sessions); the events and orders stay,
/// so the programme's totals and reports do not change; the cards are retired (numbers never
/// reused). Refused while the member has an open hold.
#[utoipa::path(post, path = "/v1/members/{id}/erase", tag = "members", params(("id" = String, Path)), request_body = Erase,
    responses((status = 200, description = "`{ id, erased_at, changed }`", body = Object), (status = 404), (status = 409)))]
pub async fn erase(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let b = raw.parse::<Erase>()?.value;
    if b.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "say why the member is deleted"));
    }
    let now = app.clock.now_ms();
    in_tx!(app, |tx| {
        if !members::lock(tx, &id).await? {
            return Err(ApiError::not_found("id", format!("no member {id}")));
        }
        let m = members::get(tx, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("id", "no such member"))?;
        if let Some((_, _, Some(_))) = cards::member_extra(tx, &id).await? {
            return Err(ApiError::invalid_state("this member was erased already"));
        }
        if sqlx::query("SELECT id FROM orders WHERE member_id = $1 AND state = 'held' AND hold_expires_at > $2")
                .bind(&id)
                .bind(now)
                .fetch_optional(&mut **tx)
                .await?
                .is_some()
        {
            return Err(ApiError::invalid_state(
                "the member has an open hold: confirm or void it first",
            ));
        }
        let changed = cards::erase(tx, &id, m.phone.as_deref(), now).await?;
        storage::audit(
            tx,
            now,
            &format!("admin:{user}"),
            "member.erase",
            &id,
            &json!({ "reason": b.reason }),
        )
        .await?;
        Ok((
            200,
            json!({ "id": id, "erased_at": rfc3339(now), "changed": changed }).to_string(),
        ))
    })
}

/// Everything held about a member (for the member, or before erasure): the member row, cards,
/// events, orders, audit entries, notices and the replay as of now.
#[utoipa::path(get, path = "/v1/members/{id}/export", tag = "members", params(("id" = String, Path)),
    responses((status = 200, description = "`{ member, cards, events, orders, audit, outbox, state }`", body = Object), (status = 404)))]
pub async fn export(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.admin()?;
    let mut c = app.db.read.acquire().await?;
    let row = sqlx::query(
        "SELECT id, status, joined_at, phone, name, email, created_at, home_store, erased_at FROM members WHERE id = $1",
    )
    .bind(&id)
    .fetch_optional(&mut *c)
    .await?
    .ok_or_else(|| ApiError::not_found("id", format!("no member {id}")))?;
    let t = |v: Option<i64>| v.map(rfc3339);
    let member = json!({
        "id": row.get::<String, _>(0), "status_at_joining": row.get::<String, _>(1),
        "joined_at": rfc3339(row.get(2)), "phone": row.get::<Option<String>, _>(3),
        "name": row.get::<Option<String>, _>(4), "email": row.get::<Option<String>, _>(5),
        "created_at": rfc3339(row.get(6)), "home_store": row.get::<Option<String>, _>(7),
        "erased_at": t(row.get(8)),
    });
    let card_rows = cards::cards_of(&mut c, &id).await?;
    let events: Vec<Value> = sqlx::query(
        "SELECT seq, body, recorded_at, recorded_by FROM events WHERE member_id = $1 ORDER BY seq",
    )
    .bind(&id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        json!({ "seq": r.get::<i64, _>(0),
                "event": serde_json::from_str::<Value>(&r.get::<String, _>(1)).unwrap_or(Value::Null),
                "recorded_at": rfc3339(r.get(2)), "recorded_by": r.get::<String, _>(3) })
    })
    .collect();
    let orders: Vec<Value> = sqlx::query(
        "SELECT id, store_id, till_id, document_no, card, state, at, subtotal, total, redeemed_points, earned_points \
         FROM orders WHERE member_id = $1 ORDER BY at, id",
    )
    .bind(&id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        json!({ "id": r.get::<String, _>(0), "store": r.get::<String, _>(1), "till": r.get::<String, _>(2),
                "document_no": r.get::<String, _>(3), "card": r.get::<Option<String>, _>(4),
                "state": r.get::<String, _>(5), "at": rfc3339(r.get(6)), "subtotal": r.get::<String, _>(7),
                "total": r.get::<String, _>(8), "redeemed_points": r.get::<i64, _>(9),
                "earned_points": r.get::<i64, _>(10) })
    })
    .collect();
    let audit: Vec<Value> = sqlx::query(
        "SELECT at, actor, action, detail FROM audit WHERE target = $1 ORDER BY at, id",
    )
    .bind(&id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        json!({ "at": rfc3339(r.get(0)), "actor": r.get::<String, _>(1), "action": r.get::<String, _>(2),
                "detail": serde_json::from_str::<Value>(&r.get::<String, _>(3)).unwrap_or(Value::Null) })
    })
    .collect();
    let outbox: Vec<Value> = sqlx::query(
        "SELECT id, kind, at, payload FROM outbox WHERE member_id = $1 ORDER BY created_at, id",
    )
    .bind(&id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        json!({ "id": r.get::<String, _>(0), "kind": r.get::<String, _>(1), "at": rfc3339(r.get(2)),
                "payload": serde_json::from_str::<Value>(&r.get::<String, _>(3)).unwrap_or(Value::Null) })
    })
    .collect();
    let state = crate::read_cache::replay_now(&app, &mut c, &id, crate::read_cache::Op::Replay)
        .await?
        .answer;
    let state: Value = serde_json::from_str(&state).map_err(ApiError::internal)?;
    let cards_json: Vec<Value> = card_rows
        .iter()
        .map(|k| json!({ "number": k.number, "type": k.kind, "state": k.state, "issued_at": rfc3339(k.issued_at), "replaced_by": k.replaced_by }))
        .collect();
    Ok(ok_json(
        json!({ "exported_at": rfc3339(app.clock.now_ms()), "member": member, "cards": cards_json,
                "events": events, "orders": orders, "audit": audit, "outbox": outbox, "state": state })
        .to_string(),
    ))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Redeem {
    /// A reward of the policy in force (`rewards[].id`).
    pub reward_id: String,
    /// The card scanned, kept in the audit log.
    #[serde(default)]
    pub card: Option<String>,
}

/// Redeems a reward (gift) from the policy's catalogue: a `redeem_reward` event (the engine
/// checks `min_tier`, the status and the balance). Needs an `Idempotency-Key` like a sale.
#[utoipa::path(post, path = "/v1/members/{id}/rewards", tag = "members", params(("id" = String, Path)), request_body = Redeem,
    responses((status = 201, description = "`{ event_id, reward_id, points, member }`", body = Object), (status = 400), (status = 404), (status = 409)))]
pub async fn redeem_reward(
    State(app): State<App>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let actor = auth.till_or_admin()?;
    let body = raw.parse::<Redeem>()?;
    let key = idempotency::key(&headers)?;
    let fp = idempotency::fingerprint(&format!("POST /v1/members/{id}/rewards"), &body.raw);
    let b = body.value;
    let now = app.clock.now_ms();
    idempotent!(&app, &actor.principal, &key, &fp, |tx| {
        async {
        if !members::lock(tx, &id).await? {
            return Err(ApiError::not_found("id", format!("no member {id}")));
        }
        let held = storage::orders::held_points(tx, &id, now).await?;
        let before = state_now(tx, now, &id).await?;
        let (event_id, s) = append_now(
            &app,
            tx,
            &id,
            "redeem_reward",
            json!({ "reward_id": b.reward_id }),
            &actor.principal,
        )
        .await
        .map_err(|e| match e {
            ApiError::BadRequest { code, message, path } => ApiError::BadRequest {
                code,
                message,
                path: if path.is_empty() || path == "reward_id" { "reward_id".into() } else { path },
            },
            e => e,
        })?;
        let points = before.available() - s.available();
        if s.available() < held {
            return Err(ApiError::conflict(
                "insufficient_points",
                "reward_id",
                "open holds keep the points this reward needs",
            ));
        }
        storage::audit(
            tx,
            now,
            &actor.principal,
            "member.redeem_reward",
            &id,
            &json!({ "reward_id": b.reward_id, "event_id": event_id, "points": points, "card": b.card }),
        )
        .await?;
        Ok((
            201,
            json!({ "event_id": event_id, "reward_id": b.reward_id, "points": points,
                    "member": crate::booking::member_after(&s, held) })
            .to_string(),
        ))
    }
    .await
    })
}
