//! Cards (issue 14, the "Online Loyalty" seed): card types with a number format and a check
//! digit, issuing a card to a member, anonymous pre-issued batches (CSV for printing) that a till
//! or an admin activates by binding a card to a phone, blocking a lost card with a replacement
//! that keeps the member's balance and history (the ledger is the member's, not the card's).

use super::in_tx;
use crate::app::App;
use crate::auth::Auth;
use crate::booking;
use crate::clock::rfc3339;
use crate::http::{json::Raw, ok_json, ApiError};
use crate::ledger::{self, State};
use crate::storage::{self, cards, members, settings, Tx};
use axum::extract::{Path, State as AxState};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Appends one event at now to a member already locked in this transaction (`members::lock`):
/// replayed with the history first, so the engine's rules decide (400 with the engine's code).
pub(crate) async fn append_now(
    app: &App,
    tx: &mut Tx,
    member_id: &str,
    kind: &str,
    fields: Value,
    principal: &str,
) -> Result<(String, State), ApiError> {
    let now = app.clock.now_ms();
    let Some(l) = ledger::load(tx, member_id).await? else {
        return Err(ApiError::not_found("id", format!("no member {member_id}")));
    };
    let id = storage::new_id("e-", now);
    let mut ev = json!({ "id": id, "type": kind, "at": rfc3339(now) });
    if let (Some(o), Value::Object(f)) = (ev.as_object_mut(), fields) {
        o.extend(f);
    }
    let s = booking::append(app, tx, &l, &id, kind, now, &ev.to_string(), principal, "").await?;
    Ok((id, s))
}

/// The member's state as of now (inside a transaction).
pub(crate) async fn state_now(tx: &mut Tx, now: i64, member_id: &str) -> Result<State, ApiError> {
    let Some(l) = ledger::load(tx, member_id).await? else {
        return Err(ApiError::not_found("id", format!("no member {member_id}")));
    };
    ledger::replay(
        &l.versions,
        &l.member,
        &l.events,
        None,
        ledger::as_of(now, &l.events),
    )
    .map_err(|e| {
        ApiError::internal(format!(
            "stored history of {member_id} does not replay: {e}"
        ))
    })
}

/// Moves a member's available points to another (both locked): `adjust` −n on the one, +n on
/// the other, the same reason on both (SPEC §3; the programme's liability is counted once).
/// Pending points stay where they are (they can be moved once available). Returns n.
pub(crate) async fn move_points(
    app: &App,
    tx: &mut Tx,
    from: &str,
    to: &str,
    reason: &str,
    principal: &str,
) -> Result<i64, ApiError> {
    let now = app.clock.now_ms();
    let n = state_now(tx, now, from).await?.available();
    if n > 0 {
        append_now(
            app,
            tx,
            from,
            "adjust",
            json!({ "points": -n, "reason": reason, "counts_for_tier": false }),
            principal,
        )
        .await?;
        append_now(
            app,
            tx,
            to,
            "adjust",
            json!({ "points": n, "reason": reason, "counts_for_tier": false }),
            principal,
        )
        .await?;
    }
    Ok(n)
}

pub(crate) async fn normalize_phone(
    tx: &mut Tx,
    phone: &str,
    path: &str,
) -> Result<String, ApiError> {
    let country = settings::get(tx, settings::COUNTRY).await?;
    loyalty_engine::import::phone::normalize(phone, country.as_deref())
        .map_err(|e| ApiError::invalid(path, e))
}

/// A new card number of a type: the next sequence number not taken yet.
async fn next_number(tx: &mut Tx, t: &cards::CardType) -> Result<String, ApiError> {
    for _ in 0..1000 {
        let seq = cards::take_seq(tx, &t.id, 1).await?;
        let number = t.number(seq).ok_or_else(|| {
            ApiError::invalid_state(format!("card type {} has no numbers left", t.id))
        })?;
        if cards::card(tx, &number).await?.is_none() {
            return Ok(number);
        }
    }
    Err(ApiError::invalid_state(format!(
        "no free number found for card type {}",
        t.id
    )))
}

/// A card number for a type: the one given (checked against the type's format) or a new one.
async fn number_for(
    tx: &mut Tx,
    type_id: &str,
    given: Option<&str>,
    path: &str,
) -> Result<String, ApiError> {
    let t = cards::get_type(tx, type_id)
        .await?
        .ok_or_else(|| ApiError::invalid("type", format!("no card type {type_id}")))?;
    match given.map(str::trim) {
        Some(n) => {
            t.check(n).map_err(|e| ApiError::invalid(path, e))?;
            if cards::card(tx, n).await?.is_some() {
                return Err(ApiError::invalid_state(format!(
                    "card {n} exists (numbers are never reused)"
                )));
            }
            Ok(n.to_string())
        }
        None => next_number(tx, &t).await,
    }
}

fn card_json(c: &cards::CardRow) -> Value {
    json!({
        "number": c.number, "type": c.kind, "state": c.state, "member_id": c.member_id,
        "batch_id": c.batch_id, "replaced_by": c.replaced_by, "issued_at": rfc3339(c.issued_at),
        "state_at": c.state_at.map(rfc3339),
    })
}

/// Card types.
#[utoipa::path(get, path = "/v1/card-types", tag = "cards",
    responses((status = 200, description = "`{ items: [CardType] }`", body = Object), (status = 401), (status = 403)))]
pub async fn list_types(AxState(app): AxState<App>, auth: Auth) -> Result<Response, ApiError> {
    auth.till_or_admin()?;
    let mut c = app.db.read.acquire().await?;
    let items = cards::types(&mut c).await?;
    Ok(ok_json(json!({ "items": items }).to_string()))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCardType {
    pub id: String,
    pub name: String,
    /// Digits every number starts with.
    pub prefix: String,
    /// Digits in all (check digit included), 6 to 19.
    pub length: i64,
    /// `luhn` (default) or `none`.
    #[serde(default)]
    pub check_digit: Option<String>,
}

/// A new card type (its numbers: prefix + sequence + check digit).
#[utoipa::path(post, path = "/v1/card-types", tag = "cards", request_body = NewCardType,
    responses((status = 201, description = "CardType", body = Object), (status = 400), (status = 409)))]
pub async fn create_type(
    AxState(app): AxState<App>,
    auth: Auth,
    raw: Raw,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let b = raw.parse::<NewCardType>()?.value;
    let check = b.check_digit.unwrap_or_else(|| "luhn".into());
    if !["luhn", "none"].contains(&check.as_str()) {
        return Err(ApiError::invalid(
            "check_digit",
            "check_digit is luhn or none",
        ));
    }
    let id_ok = !b.id.is_empty()
        && b.id.len() <= 40
        && b.id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    if !id_ok {
        return Err(ApiError::invalid(
            "id",
            "id is 1 to 40 letters, digits, - or _",
        ));
    }
    if b.prefix.is_empty() || !b.prefix.bytes().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid("prefix", "prefix is one or more digits"));
    }
    let room = b.length - b.prefix.len() as i64 - i64::from(check == "luhn");
    if !(6..=19).contains(&b.length) || room < 3 {
        return Err(ApiError::invalid(
            "length",
            "length is 6 to 19 digits, leaving at least 3 for the sequence",
        ));
    }
    let t = cards::CardType {
        id: b.id,
        name: b.name,
        prefix: b.prefix,
        length: b.length,
        check_digit: check,
        next_seq: 1,
    };
    let now = app.clock.now_ms();
    in_tx!(app, |tx| {
        if !cards::insert_type(tx, &t, now).await? {
            return Err(ApiError::invalid_state(format!(
                "card type {} exists",
                t.id
            )));
        }
        storage::audit(
            tx,
            now,
            &format!("admin:{user}"),
            "card_type.create",
            &t.id,
            &json!(t),
        )
        .await?;
        Ok((201, json!(t).to_string()))
    })
}

/// One card: its type, state, member, batch, replacement.
#[utoipa::path(get, path = "/v1/cards/{number}", tag = "cards", params(("number" = String, Path)),
    responses((status = 200, description = "Card", body = Object), (status = 404)))]
pub async fn get(
    AxState(app): AxState<App>,
    auth: Auth,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    auth.till_or_admin()?;
    let mut c = app.db.read.acquire().await?;
    let card = cards::card(&mut c, number.trim())
        .await?
        .ok_or_else(|| ApiError::not_found("number", "no such card"))?;
    Ok(ok_json(card_json(&card).to_string()))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueCard {
    pub member_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// A pre-printed number (checked against the type's format); absent: the next one.
    #[serde(default)]
    pub number: Option<String>,
}

/// Issues a card to an existing member (a member may hold several).
#[utoipa::path(post, path = "/v1/cards", tag = "cards", request_body = IssueCard,
    responses((status = 201, description = "Card", body = Object), (status = 400), (status = 404), (status = 409)))]
pub async fn issue(AxState(app): AxState<App>, auth: Auth, raw: Raw) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let b = raw.parse::<IssueCard>()?.value;
    let now = app.clock.now_ms();
    in_tx!(app, |tx| {
        if !members::lock(tx, &b.member_id).await? {
            return Err(ApiError::not_found(
                "member_id",
                format!("no member {}", b.member_id),
            ));
        }
        if let Some((_, _, Some(_))) = cards::member_extra(tx, &b.member_id).await? {
            return Err(ApiError::invalid_state("this member was erased"));
        }
        let number = number_for(tx, &b.kind, b.number.as_deref(), "number").await?;
        cards::insert(
            tx,
            &number,
            Some(&b.member_id),
            &b.kind,
            "active",
            None,
            now,
        )
        .await?;
        crate::reports::store::refresh_id(tx, &b.member_id)
            .await
            .map_err(ApiError::internal)?;
        storage::audit(
            tx,
            now,
            &format!("admin:{user}"),
            "card.issue",
            &b.member_id,
            &json!({ "card": number, "type": b.kind }),
        )
        .await?;
        let card = cards::card(tx, &number)
            .await?
            .ok_or_else(|| ApiError::internal("card"))?;
        Ok((201, card_json(&card).to_string()))
    })
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBatch {
    #[serde(rename = "type")]
    pub kind: String,
    /// 1 to 10,000 cards.
    pub count: i64,
}

/// Anonymous pre-issued cards: `count` consecutive numbers of a type, each `unassigned` with a
/// member of its own (status `unassigned`: it earns per `members.unassigned_card_earns`) until a
/// till or an admin binds it to a phone.
#[utoipa::path(post, path = "/v1/card-batches", tag = "cards", request_body = NewBatch,
    responses((status = 201, description = "Batch `{ id, type, first, last, count, … }`", body = Object), (status = 400)))]
pub async fn create_batch(
    AxState(app): AxState<App>,
    auth: Auth,
    raw: Raw,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let b = raw.parse::<NewBatch>()?.value;
    if !(1..=10_000).contains(&b.count) {
        return Err(ApiError::invalid("count", "count is 1 to 10,000"));
    }
    let now = app.clock.now_ms();
    in_tx!(app, |tx| {
        let t = cards::get_type(tx, &b.kind)
            .await?
            .ok_or_else(|| ApiError::invalid("type", format!("no card type {}", b.kind)))?;
        let id = storage::new_id("b-", now);
        let mut numbers = Vec::with_capacity(b.count as usize);
        let mut seq = cards::take_seq(tx, &t.id, b.count).await?;
        let mut end = seq + b.count;
        while (numbers.len() as i64) < b.count {
            if seq >= end {
                // Numbers issued by hand were skipped: one more from the sequence (the type's
                // row is locked by this transaction, so it is the next one).
                seq = cards::take_seq(tx, &t.id, 1).await?;
                end = seq + 1;
            }
            let number = t.number(seq).ok_or_else(|| {
                ApiError::invalid_state(format!("card type {} has no numbers left", t.id))
            })?;
            seq += 1;
            if cards::card(tx, &number).await?.is_some() {
                continue;
            }
            let member = format!("anon-{number}");
            members::insert(tx, &member, "unassigned", now, None, None, now).await?;
            cards::insert(
                tx,
                &number,
                Some(&member),
                &t.id,
                "unassigned",
                Some(&id),
                now,
            )
            .await?;
            numbers.push(number);
        }
        // The batch's members in the reports (unassigned cards, their activation), as a member
        // made one at a time is — written for the whole batch at once.
        let versions = storage::policies::versions(tx).await?;
        if !versions.is_empty() {
            let mut facts = Vec::with_capacity(numbers.len());
            for number in &numbers {
                let m = members::Member {
                    id: format!("anon-{number}"),
                    status: "unassigned".into(),
                    joined_at: now,
                    phone: None,
                    name: None,
                    version: 0,
                    cached_at: None,
                };
                let f = crate::reports::store::facts(&versions, &m, &[], now)
                    .map_err(ApiError::internal)?;
                facts.push((m.id, f));
            }
            let new: Vec<_> = facts
                .iter()
                .map(|(id, f)| crate::reports::store::NewFacts {
                    member_id: id,
                    facts: f,
                    as_of: now,
                })
                .collect();
            crate::reports::store::add_new(tx, &new).await?;
        }
        let batch = cards::Batch {
            id: id.clone(),
            kind: t.id.clone(),
            first: numbers.first().cloned().unwrap_or_default(),
            last: numbers.last().cloned().unwrap_or_default(),
            count: b.count,
            created_at: now,
            created_by: format!("admin:{user}"),
            unassigned: b.count,
        };
        cards::insert_batch(tx, &batch).await?;
        storage::audit(
            tx,
            now,
            &batch.created_by,
            "card_batch.create",
            &id,
            &json!(batch),
        )
        .await?;
        Ok((201, batch_json(&batch).to_string()))
    })
}

fn batch_json(b: &cards::Batch) -> Value {
    json!({ "id": b.id, "type": b.kind, "first": b.first, "last": b.last, "count": b.count,
            "unassigned": b.unassigned, "created_at": rfc3339(b.created_at), "created_by": b.created_by })
}

/// Batches, newest first, with how many of their cards are still unassigned.
#[utoipa::path(get, path = "/v1/card-batches", tag = "cards",
    responses((status = 200, description = "`{ items: [Batch] }`", body = Object), (status = 403)))]
pub async fn list_batches(AxState(app): AxState<App>, auth: Auth) -> Result<Response, ApiError> {
    auth.admin()?;
    let mut c = app.db.read.acquire().await?;
    let items: Vec<Value> = cards::batches(&mut c)
        .await?
        .iter()
        .map(batch_json)
        .collect();
    Ok(ok_json(json!({ "items": items }).to_string()))
}

/// A batch's cards as CSV for the printer: `number,type,state,member_id`.
#[utoipa::path(get, path = "/v1/card-batches/{id}/cards.csv", tag = "cards", params(("id" = String, Path)),
    responses((status = 200, description = "text/csv", content_type = "text/csv", body = String), (status = 404)))]
pub async fn batch_csv(
    AxState(app): AxState<App>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.admin()?;
    let mut c = app.db.read.acquire().await?;
    let rows = cards::batch_cards(&mut c, &id).await?;
    if rows.is_empty() {
        return Err(ApiError::not_found("id", "no such batch"));
    }
    let mut out = String::from("number,type,state,member_id\r\n");
    for r in &rows {
        out.push_str(&format!(
            "{},{},{},{}\r\n",
            r.number,
            r.kind,
            r.state,
            r.member_id.as_deref().unwrap_or("")
        ));
    }
    let mut resp = (StatusCode::OK, out).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"cards-{id}.csv\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Activate {
    /// The customer's phone, any written form.
    pub phone: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// Activates an anonymous card by binding it to a phone (a till or an admin). No member with
/// that phone: the card's own member gets the phone and becomes `active`. A member has that
/// phone: the card joins that member, and the card's available points move across (`adjust`
/// −n on the card's member, which is then `excluded`, +n on the phone's member; audited).
#[utoipa::path(post, path = "/v1/cards/{number}/activate", tag = "cards", params(("number" = String, Path)), request_body = Activate,
    responses((status = 200, description = "`{ card, member: MemberSummary, moved_points, merged_from }`", body = Object), (status = 400), (status = 404), (status = 409)))]
pub async fn activate(
    AxState(app): AxState<App>,
    auth: Auth,
    Path(number): Path<String>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let actor = auth.till_or_admin()?;
    let b = raw.parse::<Activate>()?.value;
    let now = app.clock.now_ms();
    let number = number.trim().to_string();
    let name = b.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    in_tx!(app, |tx| {
        let card = cards::card(tx, &number)
            .await?
            .ok_or_else(|| ApiError::not_found("number", "no such card"))?;
        if card.state != "unassigned" {
            return Err(ApiError::invalid_state(format!(
                "card {number} is {}, not unassigned",
                card.state
            )));
        }
        let phone = normalize_phone(tx, &b.phone, "phone").await?;
        let p = &actor.principal;
        let owner = members::by_phone(tx, &phone).await?;
        let (member_id, moved, merged_from) = match (owner, card.member_id.clone()) {
            (None, Some(anon)) => {
                members::lock(tx, &anon).await?;
                if !cards::set_phone_once(tx, &anon, &phone, name, actor.store.as_deref()).await? {
                    return Err(ApiError::invalid_state(format!(
                        "member {anon} of card {number} has a phone already"
                    )));
                }
                append_now(&app, tx, &anon, "status", json!({ "status": "active" }), p).await?;
                (anon, 0, None)
            }
            (None, None) => {
                let id = storage::new_id("m-", now);
                members::insert(tx, &id, "active", now, Some(&phone), name, now).await?;
                if let Some(s) = &actor.store {
                    cards::set_home_store(tx, &id, s).await?;
                }
                (id, 0, None)
            }
            (Some(m), anon) => {
                members::lock(tx, &m.id).await?;
                let mut moved = 0;
                if let Some(anon) = &anon {
                    members::lock(tx, anon).await?;
                    let reason = format!("card {number} bound to member {}", m.id);
                    moved = move_points(&app, tx, anon, &m.id, &reason, p).await?;
                    append_now(&app, tx, anon, "status", json!({ "status": "excluded" }), p)
                        .await?;
                }
                (m.id, moved, anon)
            }
        };
        cards::set(tx, &number, Some(&member_id), "active", None, now).await?;
        // The members' report rows count their cards (card type, activated cards).
        for m in std::iter::once(&member_id).chain(merged_from.as_ref()) {
            crate::reports::store::refresh_id(tx, m)
                .await
                .map_err(ApiError::internal)?;
        }
        storage::audit(
            tx,
            now,
            p,
            "card.activate",
            &member_id,
            &json!({ "card": number, "moved_points": moved, "merged_from": merged_from }),
        )
        .await?;
        let card = cards::card(tx, &number)
            .await?
            .ok_or_else(|| ApiError::internal("card"))?;
        let member = super::members::summary(&app, tx, &member_id).await?;
        Ok((
            200,
            json!({ "card": card_json(&card), "member": member, "moved_points": moved, "merged_from": merged_from })
                .to_string(),
        ))
    })
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Block {
    pub reason: String,
    /// A replacement for the member: `{ "type"?, "number"? }` (absent number: the next of the
    /// type; absent type: the blocked card's). Absent: no replacement.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub replacement: Option<Value>,
}

/// Blocks a lost or stolen card (its number is never used again); with `replacement`, issues a
/// new card to the same member, who keeps balance and history (the ledger is the member's).
#[utoipa::path(post, path = "/v1/cards/{number}/block", tag = "cards", params(("number" = String, Path)), request_body = Block,
    responses((status = 200, description = "`{ blocked: Card, replacement: Card | null }`", body = Object), (status = 400), (status = 404), (status = 409)))]
pub async fn block(
    AxState(app): AxState<App>,
    auth: Auth,
    Path(number): Path<String>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let b = raw.parse::<Block>()?.value;
    if b.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "say why the card is blocked"));
    }
    let now = app.clock.now_ms();
    in_tx!(app, |tx| {
        let card = cards::card(tx, number.trim())
            .await?
            .ok_or_else(|| ApiError::not_found("number", "no such card"))?;
        if card.state == "blocked" || card.state == "retired" {
            return Err(ApiError::invalid_state(format!(
                "card {} is {} already",
                card.number, card.state
            )));
        }
        if let Some(m) = &card.member_id {
            members::lock(tx, m).await?;
        }
        let replacement = match (&b.replacement, &card.member_id) {
            (None, _) | (Some(Value::Null), _) => None,
            (Some(r), Some(m)) => {
                let kind = r
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or(card.kind.as_str())
                    .to_string();
                let n = number_for(
                    tx,
                    &kind,
                    r.get("number").and_then(Value::as_str),
                    "replacement.number",
                )
                .await?;
                cards::insert(tx, &n, Some(m.as_str()), &kind, &card.state, None, now).await?;
                crate::reports::store::refresh_id(tx, m)
                    .await
                    .map_err(ApiError::internal)?;
                Some(n)
            }
            (Some(_), None) => {
                return Err(ApiError::invalid(
                    "replacement",
                    "the card belongs to no member: nothing to carry to a replacement",
                ))
            }
        };
        cards::set(
            tx,
            &card.number,
            card.member_id.as_deref(),
            "blocked",
            replacement.as_deref(),
            now,
        )
        .await?;
        storage::audit(
            tx,
            now,
            &format!("admin:{user}"),
            "card.block",
            card.member_id.as_deref().unwrap_or(&card.number),
            &json!({ "card": card.number, "reason": b.reason, "replacement": replacement }),
        )
        .await?;
        let blocked = cards::card(tx, &card.number)
            .await?
            .ok_or_else(|| ApiError::internal("card"))?;
        let repl = match &replacement {
            Some(n) => cards::card(tx, n).await?.map(|c| card_json(&c)),
            None => None,
        };
        Ok((
            200,
            json!({ "blocked": card_json(&blocked), "replacement": repl }).to_string(),
        ))
    })
}
