//! `/v1/members`: reading a member (SPEC §8.6) — state = the engine's `replay` of the stored
//! events as of now — and the admin's changes that are ledger events (adjust, status, tier).

use super::in_tx;
use crate::app::App;
use crate::auth::Auth;
use crate::booking;
use crate::clock::{parse_rfc3339, rfc3339};
use crate::http::{json::Raw, ok_json, ApiError};
use crate::ledger;
use crate::read_cache::{replay_now, Op, Read};
use crate::storage::{self, members, settings};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{json, Value};
use sqlx::AnyConnection;

/// `MemberSummary`: what a till needs to quote (SPEC §8.8).
pub(crate) async fn summary(app: &App, c: &mut AnyConnection, id: &str) -> Result<Value, ApiError> {
    let Read { member, answer, .. } = replay_now(app, c, id, Op::Replay).await?;
    let state = ledger::State::parse(answer)?;
    let held = storage::orders::held_points(c, id, app.clock.now_ms()).await?;
    let cards = members::cards_of(c, id).await?;
    Ok(json!({
        "id": member.id, "status": state.status(), "joined_at": rfc3339(member.joined_at),
        "phone": member.phone, "name": member.name, "tier": state.tier(), "cards": cards, "snapshot": state.snapshot(held),
    }))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// At most 1,000 (default 50).
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// active, inactive, excluded, unassigned.
    pub status: Option<String>,
    /// Part of an id, of a name (diacritics ignored: `Nguyen` finds `Nguyễn`), of a phone's
    /// digits; a phone in any written form; a card number.
    pub q: Option<String>,
    /// The tier the member holds.
    pub tier: Option<String>,
    /// Members enrolled at this store or with an order there.
    pub store: Option<String>,
}

/// Members, paged by an opaque cursor.
#[utoipa::path(get, path = "/v1/members", tag = "members", params(ListQuery),
    responses((status = 200, description = "`{ items: [MemberSummary], next_cursor }`", body = Object), (status = 400), (status = 401), (status = 403)))]
pub async fn list(
    State(app): State<App>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    auth.admin()?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be 1 to 1000"));
    }
    let after = match &q.cursor {
        Some(c) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| ApiError::invalid("cursor", "not a cursor this server gave"))?,
        None => String::new(),
    };
    if let Some(s) = &q.status {
        if !["active", "inactive", "excluded", "unassigned"].contains(&s.as_str()) {
            return Err(ApiError::invalid(
                "status",
                "status is active, inactive, excluded or unassigned",
            ));
        }
    }
    let mut c = app.db.read.acquire().await?;
    let q_text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let phone = match q_text {
        Some(t) if t.chars().filter(char::is_ascii_digit).count() >= 8 => {
            let country = settings::get(&mut c, settings::COUNTRY).await?;
            loyalty_engine::import::phone::normalize(t, country.as_deref()).ok()
        }
        _ => None,
    };
    let filter = members::Filter {
        status: q.status.as_deref(),
        tier: q.tier.as_deref().filter(|t| !t.is_empty()),
        store: q.store.as_deref().filter(|t| !t.is_empty()),
        q: q_text,
        phone: phone.as_deref(),
    };
    let page = members::page(&mut c, &after, limit + 1, &filter).await?;
    let more = page.len() as i64 > limit;
    let mut items = Vec::new();
    for m in page.iter().take(limit as usize) {
        items.push(summary(&app, &mut c, &m.id).await?);
    }
    let next = if more {
        page.get(limit as usize - 1)
            .map(|m| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&m.id))
    } else {
        None
    };
    Ok(ok_json(
        json!({ "items": items, "next_cursor": next }).to_string(),
    ))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    pub card: Option<String>,
    /// Any written form; national forms use the programme's country (settings `country`).
    pub phone: Option<String>,
}

/// Finds a member by card number or phone (normalized to E.164 as `loyalty import` does).
pub async fn find(
    app: &App,
    c: &mut AnyConnection,
    card: Option<&str>,
    phone: Option<&str>,
) -> Result<String, ApiError> {
    match (card, phone) {
        (Some(card), None) => match members::card(c, card.trim()).await? {
            Some((k, _)) if k.state == "blocked" || k.state == "retired" => {
                let by = crate::storage::cards::card(c, &k.number)
                    .await?
                    .and_then(|r| r.replaced_by);
                Err(ApiError::conflict(
                    "invalid_state",
                    "card",
                    match by {
                        Some(n) => {
                            format!("card {} is {}; it was replaced by {n}", k.number, k.state)
                        }
                        None => format!("card {} is {}", k.number, k.state),
                    },
                ))
            }
            Some((_, Some(m))) => Ok(m),
            Some((card, None)) => Err(ApiError::not_found(
                "card",
                format!(
                    "card {} is not bound to a member ({})",
                    card.number, card.state
                ),
            )),
            None => Err(ApiError::not_found("card", "no such card")),
        },
        (None, Some(phone)) => {
            let country = settings::get(c, settings::COUNTRY).await?;
            let e164 = loyalty_engine::import::phone::normalize(phone, country.as_deref())
                .map_err(|e| ApiError::invalid("phone", e))?;
            match members::by_phone(c, &e164).await? {
                Some(m) => Ok(m.id),
                None => Err(ApiError::not_found("phone", "no member with this phone")),
            }
        }
        _ => {
            let _ = app;
            Err(ApiError::invalid("", "give exactly one of card and phone"))
        }
    }
}

#[utoipa::path(get, path = "/v1/members/lookup", tag = "members", params(LookupQuery),
    responses((status = 200, description = "MemberSummary `{ id, status, joined_at, phone, cards, snapshot }`", body = Object), (status = 404)))]
pub async fn lookup(
    State(app): State<App>,
    auth: Auth,
    Query(q): Query<LookupQuery>,
) -> Result<Response, ApiError> {
    auth.till_or_admin()?;
    let mut c = app.db.read.acquire().await?;
    let id = find(&app, &mut c, q.card.as_deref(), q.phone.as_deref()).await?;
    Ok(ok_json(summary(&app, &mut c, &id).await?.to_string()))
}

/// The SPEC §3 `replay` response as of now (every published version).
#[utoipa::path(get, path = "/v1/members/{id}", tag = "members", params(("id" = String, Path)),
    responses((status = 200, description = "the replay response", body = Object), (status = 403), (status = 404)))]
pub async fn get(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.may_read_member(&id, false)?;
    let mut c = app.db.read.acquire().await?;
    Ok(ok_json(
        replay_now(&app, &mut c, &id, Op::Replay).await?.answer,
    ))
}

/// The SPEC §4 `progress` response as of now (the storefront widget's data).
#[utoipa::path(get, path = "/v1/members/{id}/progress", tag = "members", params(("id" = String, Path)),
    responses((status = 200, description = "the progress response; 404 for an excluded member (the widget shows nothing)", body = Object), (status = 403), (status = 404)))]
pub async fn progress(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.may_read_member(&id, true)?;
    let mut c = app.db.read.acquire().await?;
    // One replay (the engine's progress); the status is read from the status events.
    let read = replay_now(&app, &mut c, &id, Op::Progress).await?;
    if read.status_now == "excluded" {
        return Err(ApiError::not_found(
            "id",
            "this member is not in the programme",
        ));
    }
    Ok(ok_json(read.answer))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// The member's ledger history (the replay's `history` rows, newest first), paged.
#[utoipa::path(get, path = "/v1/members/{id}/history", tag = "members", params(("id" = String, Path), HistoryQuery),
    responses((status = 200, description = "`{ items: [history row], next_cursor }`", body = Object), (status = 403), (status = 404)))]
pub async fn history(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    auth.may_read_member(&id, false)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be 1 to 1000"));
    }
    let skip: usize = match &q.cursor {
        Some(c) => c
            .parse()
            .map_err(|_| ApiError::invalid("cursor", "not a cursor this server gave"))?,
        None => 0,
    };
    let mut c = app.db.read.acquire().await?;
    let out = replay_now(&app, &mut c, &id, Op::Replay).await?.answer;
    let state = ledger::State::parse(out)?;
    let rows: Vec<Value> = state
        .value()
        .get("history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let items: Vec<&Value> = rows.iter().rev().skip(skip).take(limit).collect();
    let next = (skip + limit < rows.len()).then(|| (skip + limit).to_string());
    Ok(ok_json(
        json!({ "items": items, "next_cursor": next }).to_string(),
    ))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// Default: made by the server.
    #[serde(default)]
    pub id: Option<String>,
    /// Any written form (E.164 stored); immutable once set.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// `inactive` (not activated, the default) or `active`.
    #[serde(default)]
    pub status: Option<String>,
    /// A card to issue with the member: `{ "number", "type" }`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub card: Option<Value>,
}

/// Creates a member (status `inactive` unless `active` is asked), with an optional card.
#[utoipa::path(post, path = "/v1/members", tag = "members", request_body = NewMember,
    responses((status = 201, description = "MemberSummary", body = Object), (status = 400), (status = 409, description = "invalid_state: the phone or card is taken")))]
pub async fn create(State(app): State<App>, auth: Auth, raw: Raw) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let body = raw.parse::<NewMember>()?;
    let b = body.value;
    let now = app.clock.now_ms();
    let status = b.status.clone().unwrap_or_else(|| "inactive".into());
    if !["active", "inactive"].contains(&status.as_str()) {
        return Err(ApiError::invalid(
            "status",
            "a new member is active or inactive",
        ));
    }
    let id = b.id.clone().unwrap_or_else(|| storage::new_id("m-", now));
    if id.is_empty() || id.len() > 100 {
        return Err(ApiError::invalid("id", "id must be 1 to 100 characters"));
    }
    let card = match &b.card {
        Some(c) => Some((
            c.get("number")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::invalid("card.number", "card.number is required"))?
                .to_string(),
            c.get("type")
                .and_then(Value::as_str)
                .unwrap_or("standard")
                .to_string(),
        )),
        None => None,
    };
    in_tx!(app, |tx| {
        let phone = match &b.phone {
            Some(p) => {
                let country = settings::get(tx, settings::COUNTRY).await?;
                Some(
                    loyalty_engine::import::phone::normalize(p, country.as_deref())
                        .map_err(|e| ApiError::invalid("phone", e))?,
                )
            }
            None => None,
        };
        if let Some(p) = &phone {
            if let Some(m) = members::by_phone(tx, p).await? {
                return Err(ApiError::invalid_state(format!(
                    "member {} already has this phone",
                    m.id
                )));
            }
        }
        if !members::insert(
            tx,
            &id,
            &status,
            now,
            phone.as_deref(),
            b.name.as_deref(),
            now,
        )
        .await?
        {
            return Err(ApiError::invalid_state(format!("member {id} exists")));
        }
        if let Some((number, kind)) = &card {
            if !members::insert_card(tx, number, Some(&id), kind, "active", now).await? {
                return Err(ApiError::invalid_state(format!("card {number} exists")));
            }
        }
        crate::reports::store::refresh_id(tx, &id)
            .await
            .map_err(ApiError::internal)?;
        storage::audit(
            tx,
            now,
            &format!("admin:{user}"),
            "member.create",
            &id,
            &json!({ "status": status, "card": card.as_ref().map(|c| &c.0) }),
        )
        .await?;
        Ok((201, json!({ "id": id, "status": status, "joined_at": rfc3339(now), "phone": phone, "cards": card.as_ref().map(|(n, k)| vec![json!({"number": n, "type": k, "state": "active"})]).unwrap_or_default() }).to_string()))
    })
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct MemberEvent {
    /// `adjust` `{ points, reason, counts_for_tier }`, `status` `{ status }`, `set_tier`
    /// `{ tier, locked_until }` — SPEC §3 events; `at` defaults to now.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub at: Option<String>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, Value>,
}

/// An admin's change that is a ledger event: adjust points, change status, set a tier. The
/// event is replayed with the member's history before it is stored (engine errors are 400s).
#[utoipa::path(post, path = "/v1/members/{id}/events", tag = "members", params(("id" = String, Path)), request_body = MemberEvent,
    responses((status = 201, description = "`{ event_id, member }`", body = Object), (status = 400), (status = 404)))]
pub async fn add_event(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let body = raw.parse::<MemberEvent>()?;
    let b = body.value;
    if b.fields.contains_key("id") {
        return Err(ApiError::invalid("id", "the server gives the event its id"));
    }
    if !["adjust", "status", "set_tier"].contains(&b.kind.as_str()) {
        return Err(ApiError::invalid(
            "type",
            "type is adjust, status or set_tier (sales go through /v1/orders)",
        ));
    }
    let now = app.clock.now_ms();
    let (at, at_text) = match &b.at {
        Some(t) => (
            parse_rfc3339(t)
                .ok_or_else(|| ApiError::invalid("at", "at must be RFC 3339 with an offset"))?,
            t.clone(),
        ),
        None => (now, rfc3339(now)),
    };
    if at > now + booking::SKEW_MS {
        return Err(ApiError::invalid("at", "an event cannot be in the future"));
    }
    in_tx!(app, |tx| {
        if !members::lock(tx, &id).await? {
            return Err(ApiError::not_found("id", format!("no member {id}")));
        }
        let Some(l) = ledger::load(tx, &id).await? else {
            return Err(ApiError::not_found("id", "no such member"));
        };
        let event_id = storage::new_id("e-", now);
        let mut ev = serde_json::Map::new();
        ev.insert("id".into(), json!(event_id));
        ev.insert("type".into(), json!(b.kind));
        ev.insert("at".into(), json!(at_text));
        for (k, v) in &b.fields {
            ev.insert(k.clone(), v.clone());
        }
        let principal = format!("admin:{user}");
        let s = booking::append(
            &app,
            tx,
            &l,
            &event_id,
            &b.kind,
            at,
            &Value::Object(ev.clone()).to_string(),
            &principal,
            "",
        )
        .await?;
        storage::audit(
            tx,
            now,
            &principal,
            &format!("member.{}", b.kind),
            &id,
            &Value::Object(ev),
        )
        .await?;
        let held = storage::orders::held_points(tx, &id, now).await?;
        Ok((
            201,
            json!({ "event_id": event_id, "member": booking::member_after(&s, held) }).to_string(),
        ))
    })
}
