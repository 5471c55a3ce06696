//! Exactly once (SPEC §8.5): the `Idempotency-Key` a till makes and saves before its first send.
//!
//! A key belongs to the principal that sent it (a till — whichever of its keys it used, so sales
//! queued before a key rotation still sync — or an admin). The first *kept* answer (2xx and 409)
//! is stored under the key, status and body byte for byte, in the same transaction as the
//! booking it answers: a crash either keeps both or neither. A repeat with the same body (the
//! same JSON value, whatever its key order) gets that answer; another body is 409
//! `idempotency_conflict`. Answers 400, 401, 403, 404, 413, 429 and 500 are not kept (the
//! transaction is rolled back), so a corrected retry under the same key is a first send.
//!
//! Concurrency: the record is claimed first thing in the write transaction. On SQLite the
//! transaction holds the write lock (`BEGIN IMMEDIATE`, or a savepoint in the group-commit
//! batch that holds it); on PostgreSQL a second transaction inserting the same (principal, key)
//! waits on the primary key until the first commits, then reads its answer. A booking on SQLite
//! looks for the key in its first statement instead and inserts the record with its answer
//! ([`Unclaimed`]): under that lock nothing can claim the key in between.

use crate::http::{json, ApiError};
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 200;

/// Kept at least this long (SPEC: at least 30 days); older records are purged by the sweeper.
pub const KEEP_MS: i64 = 35 * 86_400_000;

/// The `Idempotency-Key` header: required, 1–200 visible ASCII characters.
pub fn key(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "the Idempotency-Key header is required: a key the till makes and saves before the first send",
        ));
    };
    let s = v.to_str().unwrap_or_default();
    if s.is_empty() || s.len() > MAX_KEY_LEN || !s.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            format!("the Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
        ));
    }
    Ok(s.to_string())
}

/// What the request is, for comparing repeats: the route (with its path parameters) and the
/// body as a JSON value.
pub fn fingerprint(route: &str, body: &serde_json::Value) -> String {
    let mut h = Sha256::new();
    h.update(route.as_bytes());
    h.update([0]);
    h.update(json::canonical(body).as_bytes());
    hex::encode(h.finalize())
}

pub enum Claim {
    /// The key is new: go on, then `save` the answer in the same transaction.
    New,
    /// Answered before: (status, body).
    Replay(u16, String),
    /// The key was used with another body.
    Conflict,
}

/// Claims the key inside the write transaction.
pub async fn claim(
    tx: &mut AnyConnection,
    principal: &str,
    key: &str,
    fingerprint: &str,
    now: i64,
) -> Result<Claim, ApiError> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency (principal, key, body_hash, status, response, created_at) \
         VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (principal, key) DO NOTHING",
    )
    .bind(principal)
    .bind(key)
    .bind(fingerprint)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let row = sqlx::query(
        "SELECT body_hash, status, response FROM idempotency WHERE principal = $1 AND key = $2",
    )
    .bind(principal)
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(ApiError::internal("idempotency record vanished"));
    };
    let hash: String = row.get(0);
    if hash != fingerprint {
        return Ok(Claim::Conflict);
    }
    let status: i64 = row.get(1);
    Ok(Claim::Replay(status as u16, row.get(2)))
}

/// A key not claimed yet, whose record is looked for in the booking's first statement instead
/// (SQLite only, `handlers::orders::create`): every SQLite write transaction holds the one
/// write lock from its begin (`BEGIN IMMEDIATE`, or the group-commit batch's) to its COMMIT, so no other request can claim the key
/// between that look and the answer's [`insert_answer`] — one statement less per booking, and
/// the record written once instead of claimed and then updated. When the look finds a record (or
/// no member to lock), the transaction is rolled back and the request claims its key the usual
/// way, which answers the replay or the conflict.
pub struct Unclaimed<'a> {
    pub principal: &'a str,
    pub key: &'a str,
}

impl Unclaimed<'_> {
    /// A column that is not NULL when the key has a record (`$8`, `$9`: [`Unclaimed::bind`]).
    pub const COLUMN: &'static str =
        "(SELECT 'kept' FROM idempotency WHERE principal = $8 AND key = $9)";

    pub fn bind<'q>(
        &self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        q.bind(self.principal.to_string())
            .bind(self.key.to_string())
    }
}

/// Stores the first answer under a key that was looked for, not claimed ([`Unclaimed`]).
pub async fn insert_answer(
    tx: &mut impl crate::storage::writer::Write,
    principal: &str,
    key: &str,
    fingerprint: &str,
    now: i64,
    (status, body): (u16, &str),
) -> Result<(), ApiError> {
    let q = sqlx::query(
        "INSERT INTO idempotency (principal, key, body_hash, status, response, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(principal)
    .bind(key)
    .bind(fingerprint)
    .bind(i64::from(status))
    .bind(body)
    .bind(now);
    tx.write(q).await?;
    Ok(())
}

/// Stores the answer under the claimed key.
pub async fn save(
    tx: &mut impl crate::storage::writer::Write,
    principal: &str,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), ApiError> {
    let q = sqlx::query(
        "UPDATE idempotency SET status = $3, response = $4 WHERE principal = $1 AND key = $2",
    )
    .bind(principal)
    .bind(key)
    .bind(i64::from(status))
    .bind(body);
    tx.write(q).await?;
    Ok(())
}

/// Stores a kept error answer after its transaction was rolled back (so nothing it half did
/// stays): a fresh claim; if another request answered under the key meanwhile, that answer.
pub async fn save_error(
    db: &crate::storage::Db,
    principal: &str,
    key: &str,
    fingerprint: &str,
    now: i64,
    err: &ApiError,
) -> Result<(u16, String), ApiError> {
    let mut tx = db.begin().await?;
    match claim(&mut tx, principal, key, fingerprint, now).await? {
        Claim::New => {
            let body = err.body();
            let status = err.status().as_u16();
            save(&mut tx, principal, key, status, &body).await?;
            tx.commit().await?;
            Ok((status, body))
        }
        Claim::Replay(s, b) => {
            tx.rollback().await?;
            Ok((s, b))
        }
        Claim::Conflict => {
            tx.rollback().await?;
            let e = conflict();
            Ok((e.status().as_u16(), e.body()))
        }
    }
}

pub fn conflict() -> ApiError {
    ApiError::conflict(
        "idempotency_conflict",
        "Idempotency-Key",
        "this Idempotency-Key was used with another request body",
    )
}

/// Is this answer kept under its key?
pub fn kept(status: u16) -> bool {
    (200..300).contains(&status) || status == 409
}

/// Drops records older than the keeping time.
pub async fn purge(db: &crate::storage::Db, now: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM idempotency WHERE created_at < $1")
        .bind(now - KEEP_MS)
        .execute(&db.write)
        .await?;
    Ok(r.rows_affected())
}
