//! What the server says about a member is what the engine's `replay` (SPEC §3.1) of the stored
//! events says: this module builds that request from the database (every published version,
//! the member, its events in recorded order) and reads the figures the server needs from the
//! answer. The answers are the engine's string API's (`loyalty_engine::api::eval_line`), the
//! same bytes the CLI and the packages answer: the published versions are read once per process
//! ([`parsed`]), a member's events once per transaction ([`History`]), and a replay's state is
//! the engine's typed answer, turned into a JSON value only when one is asked for ([`State`];
//! the unit tests compare both with the text answers).

use crate::http::ApiError;
use crate::storage::events::Stored;
use crate::storage::members::Member;
use crate::storage::policies::Version;
use crate::storage::{self, Tx};
use loyalty_engine::ledger::versions::policies_from_json;
use loyalty_engine::ledger::{PolicyVersions, ReplayRequest, ReplayResponse};
use loyalty_engine::Engine;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Parsed policies by digest (a policy is parsed once per process).
#[derive(Default)]
pub struct Engines {
    by_digest: Mutex<HashMap<String, Arc<Engine>>>,
}

impl Engines {
    pub fn get(&self, digest: &str, document: &str) -> Result<Arc<Engine>, ApiError> {
        if let Ok(m) = self.by_digest.lock() {
            if let Some(e) = m.get(digest) {
                return Ok(e.clone());
            }
        }
        let e = Arc::new(Engine::from_json(document).map_err(|e| {
            ApiError::internal(format!(
                "stored policy {digest} does not load: {}",
                e.message
            ))
        })?);
        if let Ok(mut m) = self.by_digest.lock() {
            m.insert(digest.to_string(), e.clone());
        }
        Ok(e)
    }
}

/// The version in force at `at`: the last with `effective_at` ≤ it, else the first (which
/// applies from the beginning, SPEC §3.1).
pub fn in_force(versions: &[Version], at: i64) -> Option<&Version> {
    versions
        .iter()
        .rev()
        .find(|v| v.effective_at <= at)
        .or(versions.first())
}

/// (code, message, path) of an engine error line.
pub fn error_parts(answer: &str) -> Option<(String, String, String)> {
    let v: Value = serde_json::from_str(answer).ok()?;
    let e = v.get("error")?;
    Some((
        e.get("code")?.as_str()?.to_string(),
        e.get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        e.get("path")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    ))
}

/// The `policy` / `policies` part of a replay or progress request.
fn policies_json(versions: &[Version]) -> String {
    match versions {
        [one] => format!("\"policy\":{}", one.document),
        many => format!("\"policies\":{}", versions_array(many)),
    }
}

/// `[{ "effective_at", "policy" }, …]`: the versions as a request's `policies`.
fn versions_array(versions: &[Version]) -> String {
    let items: Vec<String> = versions
        .iter()
        .map(|v| {
            format!(
                "{{\"effective_at\":\"{}\",\"policy\":{}}}",
                crate::clock::rfc3339(v.effective_at),
                v.document
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// The published versions read once per process: parsed and hashed the first time a list of
/// versions (by digest and effective instant) is replayed under, then lent to every replay —
/// the policies are the largest part of a replay request and their reading the costliest.
/// Published versions never change (a digest names one document), so the cache needs no
/// invalidation; it is emptied if it ever holds more lists than a programme plausibly has.
pub(crate) fn parsed(versions: &[Version]) -> Result<Arc<PolicyVersions>, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<PolicyVersions>>>> = OnceLock::new();
    const MAX_LISTS: usize = 256;
    let key: String = versions
        .iter()
        .map(|v| format!("{}@{};", v.digest, v.effective_at))
        .collect();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(p) = cache.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(p);
    }
    // One version applies from the beginning (as a request's single `policy` does).
    let text = match versions {
        [one] => format!("[{{\"effective_at\":null,\"policy\":{}}}]", one.document),
        _ => versions_array(versions),
    };
    let p = Arc::new(policies_from_json(&text).map_err(|e| e.to_json())?);
    if let Ok(mut m) = cache.lock() {
        if m.len() >= MAX_LISTS {
            m.clear();
        }
        m.insert(key, p.clone());
    }
    Ok(p)
}

/// The replay (or progress) request of a member's stored events as of `as_of`.
pub fn request(
    op: &str,
    versions: &[Version],
    member: &Member,
    events: &[Stored],
    extra: Option<&str>,
    as_of: i64,
) -> String {
    let body = request_body(member, events, extra, as_of);
    format!(
        "{{\"op\":\"{op}\",{},{}",
        policies_json(versions),
        &body[1..]
    )
}

/// [`request`] without `op` and the policies: `{"member","events","as_of"}`, what
/// [`PolicyVersions::replay_json`] reads.
pub fn request_body(member: &Member, events: &[Stored], extra: Option<&str>, as_of: i64) -> String {
    let mut s = String::with_capacity(256 + events.iter().map(|e| e.body.len() + 1).sum::<usize>());
    s.push_str("{\"member\":");
    s.push_str(&member_json(
        &member.id,
        &member.status,
        &crate::clock::rfc3339(member.joined_at),
    ));
    s.push_str(",\"events\":[");
    let mut first = true;
    for e in events.iter().map(|e| e.body.as_str()).chain(extra) {
        if !first {
            s.push(',');
        }
        first = false;
        s.push_str(e);
    }
    s.push_str("],\"as_of\":\"");
    s.push_str(&crate::clock::rfc3339(as_of));
    s.push_str("\"}");
    s
}

/// A replay request's `member`.
fn member_json(id: &str, status: &impl serde::Serialize, joined_at: &str) -> String {
    serde_json::json!({ "id": id, "status": status, "joined_at": joined_at }).to_string()
}

/// The instant a member's state is read at: now, or the latest recorded event if a till's clock
/// ran ahead (never hide a booked sale).
pub fn as_of(now: i64, events: &[Stored]) -> i64 {
    events.iter().map(|e| e.at).max().unwrap_or(now).max(now)
}

/// The member's status after its stored events (SPEC §3: the last `status` event by its `at`,
/// recorded order breaking ties — the engine's order — else the status it joined with), without
/// a replay.
pub fn status_now(member: &Member, events: &[Stored]) -> String {
    #[derive(serde::Deserialize)]
    struct StatusEvent {
        status: String,
    }
    events
        .iter()
        .filter(|e| e.kind == "status")
        .max_by_key(|e| (e.at, e.seq))
        .and_then(|e| serde_json::from_str::<StatusEvent>(&e.body).ok())
        .map(|e| e.status)
        .unwrap_or_else(|| member.status.clone())
}

/// A member's history as the engine reads it (its replay request), read once for several
/// replays and the report facts of one booking: a one-call booking replays the member before
/// its sale and after it and sums the facts after it, and each of the three used to read every
/// stored event's JSON again (docs/server.md "Numbers", session 20). Its replays are the values
/// of the engine's text answers ([`answer`]) to the same events and instant, its facts
/// [`facts`]' (unit-tested below).
#[derive(Clone)]
pub struct History {
    req: ReplayRequest,
}

impl History {
    /// The member's stored events as of `as_of`; the engine's error line when they do not read.
    pub fn read(member: &Member, events: &[Stored], as_of: i64) -> Result<History, String> {
        ReplayRequest::from_json(&request_body(member, events, None, as_of))
            .map(|req| History { req })
            .map_err(|e| e.to_json())
    }

    /// The instant the next replay is as of.
    pub fn set_as_of(&mut self, as_of: i64) {
        self.req.as_of = crate::clock::rfc3339(as_of);
    }

    /// Adds an event not yet stored (its JSON body) after the stored ones. When it does not
    /// read, the engine's error line at its place in the events (`events[n]…`), as the request
    /// with it among the events gives.
    pub fn push(&mut self, body: &str) -> Result<(), String> {
        let n = self.req.events.len();
        let one = format!(
            "{{\"member\":{},\"events\":[{body}],\"as_of\":\"{}\"}}",
            member_json(
                &self.req.member.id,
                &self.req.member.status,
                &self.req.member.joined_at
            ),
            self.req.as_of
        );
        match ReplayRequest::from_json(&one) {
            Ok(mut r) if r.events.len() == 1 => {
                self.req.events.append(&mut r.events);
                Ok(())
            }
            Ok(_) => Err(loyalty_engine::Error::invalid_request(
                format!("events[{n}]"),
                "one event was expected",
            )
            .to_json()),
            Err(mut e) => {
                if let Some(rest) = e.path.strip_prefix("events[0]") {
                    e.path = format!("events[{n}]{rest}");
                }
                Err(e.to_json())
            }
        }
    }

    /// [`replay`] of this history.
    pub fn replay(&self, versions: &[Version]) -> Result<State, String> {
        self.replay_under(&*parsed(versions)?)
    }

    /// [`History::replay`] under versions already parsed.
    fn replay_under(&self, p: &PolicyVersions) -> Result<State, String> {
        let answer = p.replay(&self.req).map_err(|e| e.to_json())?;
        Ok(State::of(answer))
    }

    /// [`facts`] of this history.
    pub fn facts(
        &self,
        versions: &[Version],
    ) -> Result<loyalty_engine::report::MemberFacts, loyalty_engine::Error> {
        let p = parsed(versions).map_err(|e| {
            loyalty_engine::Error::invalid_request("policies", format!("versions do not load: {e}"))
        })?;
        loyalty_engine::report::member_facts(&p, &self.req)
    }
}

/// A replay answer with the figures the server reads from it: the engine's typed answer when
/// this process replayed (a booking reads its figures from it directly), or the value of an
/// answer read as text. The whole answer as a JSON value ([`State::value`]) is made only when
/// asked for: a booking reads a handful of figures, and turning every answer into a value (a
/// history row per event) was 3 % of a booking's CPU (docs/server.md, "Numbers", session 22).
#[derive(Clone, Debug)]
pub struct State {
    typed: Option<Arc<ReplayResponse>>,
    value: OnceLock<Value>,
}

/// A notice of a replay answer, as the outbox writes it.
pub struct Notice {
    pub kind: String,
    pub at: String,
    /// The points (null on tier notices).
    pub points: Value,
    pub tier: Option<String>,
}

impl State {
    pub fn parse(text: String) -> Result<State, ApiError> {
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| ApiError::internal(format!("replay answer is not JSON: {e}")))?;
        Ok(State {
            typed: None,
            value: OnceLock::from(value),
        })
    }
    /// The engine's answer, kept typed.
    pub fn of(answer: ReplayResponse) -> State {
        State {
            typed: Some(Arc::new(answer)),
            value: OnceLock::new(),
        }
    }
    /// The whole answer as the value its JSON text reads as (made once, when first asked for).
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| match &self.typed {
            // A replay answer is texts, numbers and lists of them: it always converts.
            Some(t) => serde_json::to_value(&**t).unwrap_or(Value::Null),
            None => Value::Null,
        })
    }
    fn i(&self, p: &str) -> i64 {
        self.value()
            .pointer(p)
            .and_then(Value::as_i64)
            .unwrap_or_default()
    }
    fn s(&self, p: &str) -> String {
        self.value()
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }
    pub fn member_id(&self) -> String {
        match &self.typed {
            Some(t) => t.member_id.clone(),
            None => self.s("/member_id"),
        }
    }
    pub fn available(&self) -> i64 {
        match &self.typed {
            Some(t) => t.points.available,
            None => self.i("/points/available"),
        }
    }
    pub fn pending(&self) -> i64 {
        match &self.typed {
            Some(t) => t.points.pending,
            None => self.i("/points/pending"),
        }
    }
    pub fn tier(&self) -> String {
        match &self.typed {
            Some(t) => t.tier.id.clone(),
            None => self.s("/tier/id"),
        }
    }
    pub fn status(&self) -> String {
        match &self.typed {
            Some(t) => t.status.as_str().to_string(),
            None => self.s("/status"),
        }
    }
    /// The answer's notices.
    pub fn notices(&self) -> Vec<Notice> {
        if let Some(t) = &self.typed {
            return t
                .notices
                .iter()
                .map(|n| Notice {
                    kind: n.kind.clone(),
                    at: n.at.clone(),
                    points: n.points.map(Value::from).unwrap_or(Value::Null),
                    tier: n.tier.clone(),
                })
                .collect();
        }
        let text = |n: &Value, k: &str| n.get(k).and_then(Value::as_str).map(str::to_string);
        self.value()
            .get("notices")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|n| Notice {
                        kind: text(n, "kind").unwrap_or_default(),
                        at: text(n, "at").unwrap_or_default(),
                        points: n.get("points").cloned().unwrap_or(Value::Null),
                        tier: text(n, "tier"),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
    /// The history row of one event.
    pub fn history_row(&self, event_id: &str) -> Option<&Value> {
        self.value()
            .get("history")?
            .as_array()?
            .iter()
            .find(|r| r.get("event_id").and_then(Value::as_str) == Some(event_id))
    }
    /// The §2 snapshot a till quotes with: the replay's, points less open holds.
    pub fn snapshot(&self, held: i64) -> Value {
        let mut s = match &self.typed {
            Some(t) => serde_json::to_value(&t.snapshot).unwrap_or(Value::Null),
            None => self.value().get("snapshot").cloned().unwrap_or(Value::Null),
        };
        if let Some(p) = s.get_mut("points") {
            *p = Value::from(p.as_i64().unwrap_or_default() - held);
        }
        s
    }
    /// The next instant the cached figures change without an event: pending points becoming
    /// available, a lot expiring (or its notice), the next review. None when nothing is due.
    pub fn next_due(&self, as_of: i64, notice_days: i64) -> Option<i64> {
        fn t(v: Option<&Value>) -> Option<&str> {
            v.and_then(Value::as_str)
        }
        if let Some(r) = &self.typed {
            let lots = r
                .points
                .lots
                .iter()
                .map(|l| (Some(l.available_at.as_str()), l.expires_at.as_deref()));
            return next_due(lots, r.tier.next_review.as_deref(), as_of, notice_days);
        }
        let lots: Vec<(Option<&str>, Option<&str>)> = self
            .value()
            .pointer("/points/lots")
            .and_then(Value::as_array)
            .map(|lots| {
                lots.iter()
                    .map(|l| (t(l.get("available_at")), t(l.get("expires_at"))))
                    .collect()
            })
            .unwrap_or_default();
        next_due(
            lots,
            t(self.value().pointer("/tier/next_review")),
            as_of,
            notice_days,
        )
    }
}

/// The next instant a member's cached figures change without an event, from the replay's lots
/// (`available_at`, `expires_at`) and the tier's `next_review` (RFC 3339 texts): pending points
/// becoming available, a lot expiring (or its notice, a local day early at most — a sweep that
/// finds nothing new is harmless), the next review. None when nothing is due after `as_of`.
pub fn next_due<'a>(
    lots: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
    next_review: Option<&str>,
    as_of: i64,
    notice_days: i64,
) -> Option<i64> {
    let t = |v: Option<&str>| v.and_then(crate::clock::parse_rfc3339);
    let mut due: Vec<i64> = Vec::new();
    for (available_at, expires_at) in lots {
        if let Some(a) = t(available_at) {
            due.push(a);
        }
        if let Some(x) = t(expires_at) {
            due.push(x);
            due.push(x - (notice_days + 1) * 86_400_000);
        }
    }
    if let Some(r) = t(next_review) {
        due.push(r);
    }
    due.into_iter().filter(|&d| d > as_of).min()
}

/// The engine's answer (`op`: replay or progress) to the member's stored events (plus `extra`)
/// as of `as_of`: the bytes `eval_line` answers to [`request`], under the versions read once.
pub fn answer(
    op: &str,
    versions: &[Version],
    member: &Member,
    events: &[Stored],
    extra: Option<&str>,
    as_of: i64,
) -> String {
    let body = request_body(member, events, extra, as_of);
    match parsed(versions) {
        Ok(p) if op == "progress" => p.progress_json(&body),
        Ok(p) => p.replay_json(&body),
        Err(e) => e,
    }
}

/// The engine's report facts (`loyalty_engine::report`) of the member's stored events as of
/// `as_of`, under the versions read once.
pub fn facts(
    versions: &[Version],
    member: &Member,
    events: &[Stored],
    as_of: i64,
) -> Result<loyalty_engine::report::MemberFacts, loyalty_engine::Error> {
    let p = parsed(versions).map_err(|e| {
        loyalty_engine::Error::invalid_request("policies", format!("versions do not load: {e}"))
    })?;
    loyalty_engine::report::member_facts_request(&p, &request_body(member, events, None, as_of))
}

/// The local date of `ms` in the programme's zone (every version shares it) as a day number
/// (days since 0001-01-01, `reports::cells`).
pub fn local_day_number(versions: &[Version], ms: i64) -> Result<i64, String> {
    let p = parsed(versions)?;
    let policy = &p
        .policies
        .first()
        .ok_or_else(|| "no published version".to_string())?
        .1;
    Ok(crate::reports::cells::day_number(
        &loyalty_engine::report::day_of(policy, ms),
    ))
}

/// Replays a member's stored events (plus `extra`, an event not yet stored) as of `as_of`.
/// An engine error is returned as the error line.
pub fn replay(
    versions: &[Version],
    member: &Member,
    events: &[Stored],
    extra: Option<&str>,
    as_of: i64,
) -> Result<State, String> {
    // The versions first, as the request's text is read: a refusal names them before an event.
    let p = parsed(versions)?;
    let mut h = History::read(member, events, as_of)?;
    if let Some(extra) = extra {
        h.push(extra)?;
    }
    h.replay_under(&p)
}

/// Everything loaded for one member inside a transaction.
pub struct Loaded {
    pub member: Member,
    pub events: Vec<Stored>,
    pub versions: Vec<Version>,
}

pub async fn load(
    tx: &mut sqlx::AnyConnection,
    member_id: &str,
) -> Result<Option<Loaded>, ApiError> {
    let Some(member) = storage::members::get(tx, member_id).await? else {
        return Ok(None);
    };
    load_rest(tx, member).await
}

/// [`load`] under the member's lock: one statement locks the member and reads its row, its
/// events and the published versions (`storage::events::lock_member_with_events_and_versions`).
pub async fn load_locked(
    tx: &mut sqlx::AnyConnection,
    member_id: &str,
) -> Result<Option<Loaded>, ApiError> {
    let Some(l) =
        storage::events::lock_member_with_events_and_versions(tx, member_id, &[], |q| q).await?
    else {
        return Ok(None);
    };
    loaded(l.member, l.events, l.versions).map(Some)
}

/// What a one-call booking reads first ([`load_for_booking`]).
pub struct ForBooking {
    pub loaded: Loaded,
    /// The member's stored report rows (`reports::store::plan` compares them).
    pub reports: crate::reports::store::StoredTexts,
    /// The open order holding the till's document number (id, state), and the points the
    /// member's open holds keep (`storage::orders::document_and_held_columns`).
    pub open: Option<(String, String)>,
    pub held: i64,
    /// The [`crate::idempotency::Unclaimed`] key has a record.
    pub key_kept: bool,
}

/// [`load_locked`] with what a one-call booking checks and compares read in the same statement
/// on SQLite: the member's stored report rows (the booking writes nothing before it refreshes
/// them) and the till's document number with the member's held points. A booking's reads are
/// one hand-off to SQLite's thread where they were four (PostgreSQL: two round trips, see
/// `storage::events::lock_member_with_events_and_versions`).
///
/// With `unclaimed` (SQLite only), whether its key has a record is read too: `key_kept`.
pub async fn load_for_booking(
    tx: &mut sqlx::AnyConnection,
    member_id: &str,
    document: (&str, &str, &str),
    now: i64,
    unclaimed: Option<&crate::idempotency::Unclaimed<'_>>,
) -> Result<Option<ForBooking>, ApiError> {
    let mut more = crate::reports::store::StoredTexts::columns();
    let document_columns = storage::orders::document_and_held_columns();
    let k = document_columns.len();
    more.extend(document_columns);
    if unclaimed.is_some() {
        more.push(crate::idempotency::Unclaimed::COLUMN.to_string());
    }
    let Some(mut l) =
        storage::events::lock_member_with_events_and_versions(tx, member_id, &more, |q| {
            let q = storage::orders::bind_document_and_held(q, document, now);
            match unclaimed {
                Some(u) => u.bind(q),
                None => q,
            }
        })
        .await?
    else {
        return Ok(None);
    };
    let key_kept = match unclaimed {
        Some(_) => l.more.pop().flatten().is_some(),
        None => false,
    };
    let doc = l.more.split_off(l.more.len() - k);
    let (open, held) = storage::orders::document_and_held_of(doc)?;
    let reports = crate::reports::store::StoredTexts::of(l.more);
    Ok(Some(ForBooking {
        loaded: loaded(l.member, l.events, l.versions)?,
        reports,
        open,
        held,
        key_kept,
    }))
}

async fn load_rest(
    tx: &mut sqlx::AnyConnection,
    member: Member,
) -> Result<Option<Loaded>, ApiError> {
    let member_id = member.id.as_str();
    let (events, versions) = storage::events::of_member_and_versions(tx, member_id).await?;
    loaded(member, events, versions).map(Some)
}

/// A member's loaded rows; refused when nothing is published yet.
fn loaded(member: Member, events: Vec<Stored>, versions: Vec<Version>) -> Result<Loaded, ApiError> {
    if versions.is_empty() {
        return Err(ApiError::invalid_state(
            "the programme has no published policy yet",
        ));
    }
    Ok(Loaded {
        member,
        events,
        versions,
    })
}

/// The policies' `expiry_notice_days` for the cache's next due instant: the largest of the
/// versions' (a sweep that comes early finds nothing new, one that comes late sends a notice late),
/// read from the versions parsed once ([`parsed`]).
pub fn notice_days(versions: &[Version]) -> Result<i64, ApiError> {
    let p = parsed(versions)
        .map_err(|e| ApiError::internal(format!("stored policies do not load: {e}")))?;
    Ok(p.policies
        .iter()
        .map(|(_, policy, _)| policy.expiry_notice_days)
        .max()
        .unwrap_or(0))
}

/// After a change: caches the replay's figures and writes the notices that became due since
/// the last look (SPEC §8.7) to the outbox, in the same transaction.
pub async fn after_change(
    tx: &mut Tx,
    member: &Member,
    state: &State,
    previous_look: Option<i64>,
    as_of: i64,
    now: i64,
    notice_days: i64,
) -> Result<(), ApiError> {
    // Never looked at (a member written straight to the database): its history up to joining
    // is not news.
    let since = previous_look.unwrap_or(member.joined_at);
    for n in state.notices() {
        let at = crate::clock::parse_rfc3339(&n.at).unwrap_or_default();
        if at <= since || at > as_of {
            continue;
        }
        let id = format!(
            "n-{}-{}-{}-{}",
            member.id,
            n.kind,
            at,
            n.tier.clone().unwrap_or_else(|| n.points.to_string())
        );
        let payload = serde_json::json!({
            "id": id, "kind": n.kind, "member_id": member.id,
            "at": n.at, "points": n.points, "tier": n.tier,
        });
        storage::outbox::add(
            tx,
            &id,
            &n.kind,
            Some(&member.id),
            at,
            &payload.to_string(),
            now,
        )
        .await?;
    }
    storage::members::cache(
        tx,
        &member.id,
        as_of,
        state.available(),
        state.pending(),
        &state.tier(),
        &state.status(),
        state.next_due(as_of, notice_days),
    )
    .await?;
    Ok(())
}

/// The last instant the member's notices were looked at (the cache's).
pub async fn last_look(
    tx: &mut sqlx::AnyConnection,
    member_id: &str,
) -> Result<Option<i64>, ApiError> {
    use sqlx::Row;
    let r = sqlx::query("SELECT cached_at FROM members WHERE id = $1")
        .bind(member_id)
        .fetch_optional(&mut *tx)
        .await?;
    Ok(r.and_then(|r| r.get::<Option<i64>, _>(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `status_now` (read from the status events) is the engine's replayed status, whatever
    /// the order the events were recorded in and however their `at`s tie.
    #[test]
    fn status_now_is_the_replays_status() {
        let doc = crate::demo::spec_policy();
        let digest = Engine::from_json(&doc).unwrap().policy_digest().to_string();
        let versions = [Version {
            effective_at: 0,
            digest,
            document: doc,
            published_at: 0,
        }];
        let member = Member {
            id: "m-1".into(),
            status: "inactive".into(),
            joined_at: crate::clock::parse_rfc3339("2026-01-01T00:00:00+07:00").unwrap(),
            phone: None,
            name: None,
            version: 0,
            cached_at: None,
        };
        let ev = |seq: i64, at: &str, status: &str| {
            let body =
                format!(r#"{{"id":"s{seq}","type":"status","at":"{at}","status":"{status}"}}"#);
            Stored {
                seq,
                id: format!("s{seq}"),
                kind: "status".into(),
                at: crate::clock::parse_rfc3339(at).unwrap(),
                body,
            }
        };
        let cases: Vec<Vec<Stored>> = vec![
            vec![],
            vec![ev(1, "2026-02-01T09:00:00+07:00", "active")],
            vec![
                ev(1, "2026-03-01T09:00:00+07:00", "excluded"),
                // recorded later, effective earlier: the exclusion stands
                ev(2, "2026-02-01T09:00:00+07:00", "active"),
            ],
            vec![
                ev(1, "2026-02-01T09:00:00+07:00", "active"),
                ev(2, "2026-03-01T09:00:00+07:00", "excluded"),
                // the same instant, recorded last: it wins
                ev(3, "2026-03-01T09:00:00+07:00", "active"),
            ],
        ];
        let as_of = crate::clock::parse_rfc3339("2026-04-01T00:00:00+07:00").unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for events in cases {
            let state = replay(&versions, &member, &events, None, as_of).unwrap();
            assert_eq!(
                status_now(&member, &events),
                state.status(),
                "{:?}",
                events.iter().map(|e| &e.body).collect::<Vec<_>>()
            );
            seen.insert(state.status());
        }
        assert_eq!(seen.len(), 3, "{seen:?}");
    }

    /// Every figure of a replayed (typed) state is the one read from the same answer's text:
    /// (notices, lots) compared.
    fn same_figures(typed: &State, read: &State, as_of: i64) -> (usize, usize) {
        assert!(typed.typed.is_some() && read.typed.is_none());
        assert_eq!(typed.member_id(), read.member_id());
        assert_eq!(typed.available(), read.available());
        assert_eq!(typed.pending(), read.pending());
        assert_eq!(typed.tier(), read.tier());
        assert_eq!(typed.status(), read.status());
        assert_eq!(typed.snapshot(7), read.snapshot(7));
        for days in [0, 30] {
            assert_eq!(typed.next_due(as_of, days), read.next_due(as_of, days));
        }
        let notices = |s: &State| {
            s.notices()
                .into_iter()
                .map(|n| (n.kind, n.at, n.points, n.tier))
                .collect::<Vec<_>>()
        };
        assert_eq!(notices(typed), notices(read));
        assert_eq!(typed.history_row("p1"), read.history_row("p1"));
        assert!(typed.history_row("p1").is_some());
        let lots = typed
            .value()
            .pointer("/points/lots")
            .and_then(Value::as_array);
        (notices(typed).len(), lots.map_or(0, Vec::len))
    }

    /// The versions read once answer exactly what `eval_line` answers to the whole request
    /// (policies in it), for one version and for two, for replay and progress, and for a history
    /// the engine refuses; report facts likewise equal those of the whole request.
    #[test]
    fn versions_read_once_answer_as_eval_line() {
        let doc = crate::demo::spec_policy();
        let digest = Engine::from_json(&doc).unwrap().policy_digest().to_string();
        let mut v2: Value = serde_json::from_str(&doc).unwrap();
        v2["earning"]["points"] = serde_json::json!(2);
        let doc2 = v2.to_string();
        let digest2 = Engine::from_json(&doc2)
            .unwrap()
            .policy_digest()
            .to_string();
        let t = |s: &str| crate::clock::parse_rfc3339(s).unwrap();
        let one = vec![Version {
            effective_at: t("2026-01-01T00:00:00+07:00"),
            digest: digest.clone(),
            document: doc.clone(),
            published_at: 0,
        }];
        let mut two = one.clone();
        two.push(Version {
            effective_at: t("2026-03-01T00:00:00+07:00"),
            digest: digest2,
            document: doc2,
            published_at: 0,
        });
        let member = Member {
            id: "m-1".into(),
            status: "active".into(),
            joined_at: t("2026-01-01T00:00:00+07:00"),
            phone: None,
            name: None,
            version: 0,
            cached_at: None,
        };
        let priced = |seq: i64, at: &str, price: &str| {
            let body = format!(
                r#"{{"id":"p{seq}","type":"purchase","at":"{at}","cart":{{"id":"c{seq}","at":"{at}","lines":[{{"id":"A","category":"shoes","quantity":1,"unit_price":"{price}"}}]}}}}"#
            );
            Stored {
                seq,
                id: format!("p{seq}"),
                kind: "purchase".into(),
                at: t(at),
                body,
            }
        };
        let purchase = |seq: i64, at: &str| priced(seq, at, "1200000");
        let events = vec![
            purchase(1, "2026-02-10T10:00:00+07:00"),
            purchase(2, "2026-03-10T10:00:00+07:00"),
        ];
        let bad = r#"{"id":"x","type":"adjust","at":"2026-03-11T10:00:00+07:00","points":"many"}"#;
        let as_of = t("2026-04-01T00:00:00+07:00");
        let mut answers = std::collections::BTreeSet::new();
        let mut seen = (0, 0);
        for versions in [&one, &two] {
            for op in ["replay", "progress"] {
                for extra in [None, Some(bad)] {
                    let whole = request(op, versions, &member, &events, extra, as_of);
                    let expected = loyalty_engine::api::eval_line(&whole).unwrap();
                    let got = answer(op, versions, &member, &events, extra, as_of);
                    assert_eq!(got, expected, "{op} under {} versions", versions.len());
                    answers.insert(got);
                }
            }
            let whole = request("replay", versions, &member, &events, None, as_of);
            assert_eq!(
                facts(versions, &member, &events, as_of).unwrap(),
                loyalty_engine::report::member_facts_json(&whole).unwrap()
            );
            // The history read once answers as the text each time: before a new event, at
            // another instant, after it (replay and facts), and a new event that does not read.
            // Large enough to reach silver: a tier notice.
            let third = priced(3, "2026-03-20T10:00:00+07:00", "30000000");
            let mut h = History::read(&member, &events, as_of).unwrap();
            let value = |text: String| State::parse(text).unwrap().value().clone();
            assert_eq!(
                h.replay(versions).unwrap().value().clone(),
                value(answer("replay", versions, &member, &events, None, as_of))
            );
            let read = |text: String| State::parse(text).unwrap();
            let (n, l) = same_figures(
                &h.replay(versions).unwrap(),
                &read(answer("replay", versions, &member, &events, None, as_of)),
                as_of,
            );
            seen = (seen.0 + n, seen.1 + l);
            let early = t("2026-02-20T00:00:00+07:00");
            h.set_as_of(early);
            assert_eq!(
                h.replay(versions).unwrap().value().clone(),
                value(answer("replay", versions, &member, &events, None, early))
            );
            let mut refused = h.clone();
            assert_eq!(
                refused.push(bad).unwrap_err(),
                answer("replay", versions, &member, &events, Some(bad), as_of)
            );
            h.set_as_of(as_of);
            h.push(&third.body).unwrap();
            let after = answer(
                "replay",
                versions,
                &member,
                &events,
                Some(&third.body),
                as_of,
            );
            let (n, l) = same_figures(&h.replay(versions).unwrap(), &read(after.clone()), as_of);
            seen = (seen.0 + n, seen.1 + l);
            assert_eq!(h.replay(versions).unwrap().value().clone(), value(after));
            let mut with_third = events.clone();
            with_third.push(third);
            assert_eq!(
                h.facts(versions).unwrap(),
                facts(versions, &member, &with_third, as_of).unwrap()
            );
        }
        // The typed states were compared on notices and lots, not only on empty lists.
        assert!(seen.0 > 0 && seen.1 > 0, "{seen:?}");
        // Four different answers (the versions and the op each tell) and the one refusal.
        assert_eq!(answers.len(), 5, "{answers:#?}");
        assert_eq!(
            answers
                .iter()
                .filter(|a| a.starts_with("{\"error\":"))
                .count(),
            1
        );
    }
}
