//! `/v1/policies`: drafts by digest, publishing, the version in force (SPEC §8.4).

use super::in_tx;
use crate::app::App;
use crate::auth::Auth;
use crate::clock::{parse_rfc3339, rfc3339};
use crate::http::{json::Raw, json_response, ok_json, ApiError};
use crate::ledger;
use crate::storage::{self, policies};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

/// Validates a policy and stores it under its digest (a draft; drafts never price a sale).
#[utoipa::path(post, path = "/v1/policies", tag = "policies",
    request_body(content = Object, description = "a SPEC §1 policy document"),
    responses((status = 201, description = "the engine's `validate` answer `{ policy_digest, warnings }`", body = Object),
        (status = 400, description = "invalid_policy with its path"), (status = 401), (status = 403)))]
pub async fn create(State(app): State<App>, auth: Auth, body: Bytes) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::invalid("", "the body is not UTF-8"))?;
    let answer = loyalty_engine::api::validate_json(text);
    if let Some((code, message, path)) = ledger::error_parts(&answer) {
        // The body is the policy: its paths start at the document.
        let path = path
            .strip_prefix("policy.")
            .or(path.strip_prefix("policy"))
            .unwrap_or(&path)
            .to_string();
        return Err(ApiError::BadRequest {
            code,
            message,
            path,
        });
    }
    let v: Value = serde_json::from_str(&answer).map_err(ApiError::internal)?;
    let digest = v
        .get("policy_digest")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    // Stored as the canonical document is not available here; the text as posted, compacted.
    let doc: Value =
        serde_json::from_str(text).map_err(|e| ApiError::invalid("", e.to_string()))?;
    let now = app.clock.now_ms();
    in_tx!(app, |tx| {
        if policies::insert(tx, &digest, &doc.to_string(), now, &format!("admin:{user}")).await? {
            storage::audit(
                tx,
                now,
                &format!("admin:{user}"),
                "policy.create",
                &digest,
                &json!({}),
            )
            .await?;
        }
        Ok((201, answer.clone()))
    })
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    /// RFC 3339; not in the past (default: now).
    #[serde(default)]
    pub effective_at: Option<String>,
}

/// Publishes a stored version from `effective_at` (not in the past). It must keep the
/// currency, time zone and tier level ids of the versions before it (SPEC §3.1).
#[utoipa::path(post, path = "/v1/policies/{digest}/publish", tag = "policies",
    request_body = Publish,
    params(("digest" = String, Path, description = "sha256:…")),
    responses((status = 201, description = "`{ policy_digest, effective_at, published_at }`", body = Object),
        (status = 400, description = "effective_at in the past; invalid_policy (incompatible with earlier versions)"),
        (status = 404, description = "no stored policy with this digest"), (status = 409, description = "invalid_state: a version already starts at that instant")))]
pub async fn publish(
    State(app): State<App>,
    auth: Auth,
    Path(digest): Path<String>,
    raw: Raw,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let body = raw.parse::<Publish>()?;
    let now = app.clock.now_ms();
    let at = match &body.value.effective_at {
        Some(t) => parse_rfc3339(t).ok_or_else(|| {
            ApiError::invalid(
                "effective_at",
                "effective_at must be RFC 3339 with an offset",
            )
        })?,
        None => now,
    };
    if at < now - 1_000 {
        return Err(ApiError::invalid(
            "effective_at",
            format!("effective_at is in the past (now is {})", rfc3339(now)),
        ));
    }
    in_tx!(app, |tx| {
        let Some(doc) = policies::document(tx, &digest).await? else {
            return Err(ApiError::not_found(
                "digest",
                format!("no stored policy {digest}: post it first"),
            ));
        };
        let mut versions = policies::versions(tx).await?;
        if versions.iter().any(|v| v.effective_at == at) {
            return Err(ApiError::invalid_state(format!(
                "a version is already published from {}: choose a later effective_at",
                rfc3339(at)
            )));
        }
        versions.push(policies::Version {
            effective_at: at,
            digest: digest.clone(),
            document: doc,
            published_at: now,
        });
        versions.sort_by_key(|v| v.effective_at);
        if versions.len() > 1 {
            // The engine checks that the versions agree (currency, zone, level ids).
            let probe = storage::members::Member {
                id: "probe".into(),
                status: "active".into(),
                joined_at: now,
                phone: None,
                name: None,
                version: 0,
                cached_at: None,
            };
            if let Err(out) = ledger::replay(&versions, &probe, &[], None, now) {
                let (code, message, path) = ledger::error_parts(&out).unwrap_or_default();
                return Err(ApiError::BadRequest {
                    code,
                    message,
                    path,
                });
            }
        }
        if !policies::publish(tx, &digest, at, now, &format!("admin:{user}")).await? {
            return Err(ApiError::invalid_state(format!(
                "a version is already published from {}",
                rfc3339(at)
            )));
        }
        storage::audit(
            tx,
            now,
            &format!("admin:{user}"),
            "policy.publish",
            &digest,
            &json!({ "effective_at": rfc3339(at) }),
        )
        .await?;
        Ok((201, json!({ "policy_digest": digest, "effective_at": rfc3339(at), "published_at": rfc3339(now) }).to_string()))
    })
}

/// The version in force now.
#[utoipa::path(get, path = "/v1/policies/active", tag = "policies",
    responses((status = 200, description = "`{ policy_digest, effective_at, policy }`", body = Object),
        (status = 404, description = "nothing published yet")))]
pub async fn active(State(app): State<App>, auth: Auth) -> Result<Response, ApiError> {
    auth.till_or_admin()?;
    let mut c = app.db.read.acquire().await?;
    let versions = policies::versions(&mut c).await?;
    let now = app.clock.now_ms();
    let Some(v) = ledger::in_force(&versions, now) else {
        return Err(ApiError::not_found("", "no policy has been published"));
    };
    Ok(ok_json(format!(
        "{{\"policy_digest\":\"{}\",\"effective_at\":\"{}\",\"policy\":{}}}",
        v.digest,
        rfc3339(v.effective_at),
        v.document
    )))
}

/// Every stored policy, newest first, with where it is published.
#[utoipa::path(get, path = "/v1/policies", tag = "policies",
    responses((status = 200, description = "`{ items: [{ policy_digest, created_at, created_by, published: [effective_at] }], versions: [{ policy_digest, effective_at, published_at }] }`", body = Object)))]
pub async fn list(State(app): State<App>, auth: Auth) -> Result<Response, ApiError> {
    auth.admin()?;
    let mut c = app.db.read.acquire().await?;
    let versions = policies::versions(&mut c).await?;
    let items: Vec<Value> = policies::list(&mut c)
        .await?
        .into_iter()
        .map(|(d, at, by)| {
            let published: Vec<String> = versions.iter().filter(|v| v.digest == d).map(|v| rfc3339(v.effective_at)).collect();
            json!({ "policy_digest": d, "created_at": rfc3339(at), "created_by": by, "published": published })
        })
        .collect();
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({ "policy_digest": v.digest, "effective_at": rfc3339(v.effective_at), "published_at": rfc3339(v.published_at) }))
        .collect();
    Ok(ok_json(
        json!({ "items": items, "versions": vs }).to_string(),
    ))
}

/// One stored policy document.
#[utoipa::path(get, path = "/v1/policies/{digest}", tag = "policies",
    params(("digest" = String, Path, description = "sha256:…")),
    responses((status = 200, description = "the policy document", body = Object), (status = 404)))]
pub async fn get(
    State(app): State<App>,
    auth: Auth,
    Path(digest): Path<String>,
) -> Result<Response, ApiError> {
    auth.till_or_admin()?;
    let mut c = app.db.read.acquire().await?;
    match policies::document(&mut c, &digest).await? {
        Some(d) => Ok(json_response(StatusCode::OK, d)),
        None => Err(ApiError::not_found(
            "digest",
            format!("no stored policy {digest}"),
        )),
    }
}

/// Verifies a quote under any stored version (draft or published): the engine's `verify`
/// answer `{ valid, policy_digest, expected_digest, received_digest, mismatches }`.
#[utoipa::path(post, path = "/v1/policies/{digest}/verify", tag = "policies",
    params(("digest" = String, Path, description = "sha256:…")),
    request_body(content = Object, description = "`{ request: <quote request>, response: <the quote as the till has it> }`"),
    responses((status = 200, description = "the verify answer", body = Object),
        (status = 400, description = "a request the engine refuses"), (status = 404)))]
pub async fn verify(
    State(app): State<App>,
    auth: Auth,
    Path(digest): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.till_or_admin()?;
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::invalid("", "the body is not UTF-8"))?;
    let mut c = app.db.read.acquire().await?;
    let Some(doc) = policies::document(&mut c, &digest).await? else {
        return Err(ApiError::not_found(
            "digest",
            format!("no stored policy {digest}"),
        ));
    };
    let engine = app.engines.get(&digest, &doc)?;
    let out = engine.verify_json(text);
    if let Some((code, message, path)) = ledger::error_parts(&out) {
        return Err(ApiError::BadRequest {
            code,
            message,
            path,
        });
    }
    Ok(ok_json(out))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Simulate {
    /// RFC 3339: histories are replayed up to here (default: now).
    #[serde(default)]
    pub as_of: Option<String>,
    /// Share of outstanding points expected to be redeemed (`"0.7"`), in [0, 1]; default 1.
    #[serde(default)]
    pub expected_redemption: Option<String>,
}

/// Members read per batch while simulating.
const SIMULATE_BATCH: i64 = 500;

/// One batch of members (after `after`, by id) as simulate member lines
/// `{"member":{id,status,joined_at},"events":[…]}`: the replay request's member and events
/// (`ledger::request`), without the policies and `as_of`.
async fn member_lines(
    c: &mut sqlx::AnyConnection,
    after: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    use sqlx::Row;
    let rows =
        sqlx::query("SELECT id, status, joined_at FROM members WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(SIMULATE_BATCH)
            .fetch_all(&mut *c)
            .await?;
    let Some(last) = rows.last().map(|r| r.get::<String, _>(0)) else {
        return Ok(Vec::new());
    };
    let mut events: std::collections::HashMap<String, Vec<String>> = Default::default();
    let ev = sqlx::query(
        "SELECT member_id, body FROM events WHERE member_id > $1 AND member_id <= $2 ORDER BY member_id, seq",
    )
    .bind(after)
    .bind(&last)
    .fetch_all(&mut *c)
    .await?;
    for r in &ev {
        events
            .entry(r.get::<String, _>(0))
            .or_default()
            .push(r.get::<String, _>(1));
    }
    Ok(rows
        .iter()
        .map(|r| {
            let id: String = r.get(0);
            let status: String = r.get(1);
            let joined: i64 = r.get(2);
            let member = json!({ "id": id, "status": status, "joined_at": rfc3339(joined) });
            let evs = events.remove(&id).unwrap_or_default().join(",");
            (id, format!("{{\"member\":{member},\"events\":[{evs}]}}"))
        })
        .collect())
}

/// Simulates a stored version (a draft, or any other) over every stored member's history,
/// with the version in force at `as_of` as the baseline (none when nothing is published): the
/// engine's simulate report (SPEC §5) unchanged, as `loyalty simulate --policy <draft>
/// --baseline <active> --members <every member, by id>` prints it.
#[utoipa::path(post, path = "/v1/policies/{digest}/simulate", tag = "policies",
    request_body = Simulate,
    params(("digest" = String, Path, description = "sha256:…")),
    responses((status = 200, description = "the engine's simulate report `{ policy_digest, baseline_digest, as_of, members, rejected, draft, baseline, diff, … }`", body = Object),
        (status = 400, description = "as_of or expected_redemption refused (invalid_request with its path)"),
        (status = 401), (status = 403, description = "not an admin"), (status = 404, description = "no stored policy with this digest")))]
pub async fn simulate(
    State(app): State<App>,
    auth: Auth,
    Path(digest): Path<String>,
    raw: Raw,
) -> Result<Response, ApiError> {
    auth.admin()?;
    let body = raw.parse::<Simulate>()?.value;
    let now = app.clock.now_ms();
    let (as_of, as_of_text) = match &body.as_of {
        Some(t) => (
            parse_rfc3339(t).ok_or_else(|| {
                ApiError::invalid("as_of", "as_of must be RFC 3339 with an offset")
            })?,
            t.clone(),
        ),
        None => (now, rfc3339(now)),
    };
    let mut c = app.db.read.acquire().await?;
    let Some(draft) = policies::document(&mut c, &digest).await? else {
        return Err(ApiError::not_found(
            "digest",
            format!("no stored policy {digest}: post it first"),
        ));
    };
    let versions = policies::versions(&mut c).await?;
    let baseline = ledger::in_force(&versions, as_of).map(|v| v.document.clone());
    let setup = loyalty_engine::simulate::Setup::from_parts(
        &draft,
        baseline.as_deref(),
        &as_of_text,
        body.expected_redemption.as_deref(),
    )
    .map_err(|e| {
        let e = e.into_body();
        ApiError::BadRequest {
            code: e.code.as_str().to_string(),
            message: e.message,
            path: e.path,
        }
    })?;
    let mut sim = loyalty_engine::simulate::Simulator::new(setup);
    let mut after = String::new();
    loop {
        let batch = member_lines(&mut c, &after).await?;
        let Some((last, _)) = batch.last() else { break };
        after = last.clone();
        // Replaying is CPU work: off the async workers.
        sim = tokio::task::spawn_blocking(move || {
            for (_, line) in &batch {
                sim.add_member_json(line);
            }
            sim
        })
        .await
        .map_err(ApiError::internal)?;
    }
    let out = tokio::task::spawn_blocking(move || sim.finish_json())
        .await
        .map_err(ApiError::internal)?;
    if let Some((code, message, path)) = ledger::error_parts(&out) {
        return Err(ApiError::BadRequest {
            code,
            message,
            path,
        });
    }
    Ok(ok_json(out))
}
