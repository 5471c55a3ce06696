//! Sessions: admin (cookie `loyalty_admin`, with a CSRF token) and member (cookie
//! `loyalty_member` or `Bearer ms_…`). Only the SHA-256 of a token is stored.

use super::Principal;
use crate::http::ApiError;
use crate::storage::{random_hex, Db};
use sqlx::{AnyConnection, Row};

pub const ADMIN_TTL_MS: i64 = 12 * 3_600_000;
pub const MEMBER_TTL_MS: i64 = 24 * 3_600_000;

/// A new session: (token for the cookie, CSRF token).
pub async fn create(
    c: &mut AnyConnection,
    kind: &str,
    subject: &str,
    now: i64,
    ttl: i64,
) -> Result<(String, String), sqlx::Error> {
    let token = if kind == "member" {
        format!("ms_{}", random_hex(32))
    } else {
        random_hex(32)
    };
    let csrf = random_hex(16);
    sqlx::query("INSERT INTO sessions (id, kind, subject, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(super::keys::hash(&token))
        .bind(kind)
        .bind(subject)
        .bind(&csrf)
        .bind(now)
        .bind(now + ttl)
        .execute(c)
        .await?;
    Ok((token, csrf))
}

async fn find(
    db: &Db,
    token: &str,
    kind: &str,
    now: i64,
) -> Result<Option<(String, String)>, ApiError> {
    let row = sqlx::query(
        "SELECT subject, csrf FROM sessions WHERE id = $1 AND kind = $2 AND expires_at > $3",
    )
    .bind(super::keys::hash(token))
    .bind(kind)
    .bind(now)
    .fetch_optional(&db.read)
    .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// (user, CSRF token) of a live admin session.
pub async fn admin(db: &Db, token: &str, now: i64) -> Result<Option<(String, String)>, ApiError> {
    find(db, token, "admin", now).await
}

pub async fn member(db: &Db, token: &str, now: i64) -> Result<Option<Principal>, ApiError> {
    Ok(find(db, token, "member", now)
        .await?
        .map(|(member_id, _)| Principal::Member { member_id }))
}

pub async fn end(db: &Db, token: &str) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(super::keys::hash(token))
        .execute(&db.write)
        .await?;
    Ok(())
}
