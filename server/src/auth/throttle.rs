//! Throttles for logins and one-time codes, counted in the database per (scope, subject) in a
//! fixed window, so that every server process on one database shares them.

use crate::http::ApiError;
use crate::storage::Db;
use sqlx::Row;

pub struct Limit {
    pub scope: &'static str,
    pub max: i64,
    pub window_ms: i64,
}

/// Failed admin logins per user name and per address; one-time codes asked per member and per
/// address; code guesses per member.
pub const LOGIN_USER: Limit = Limit {
    scope: "login_user",
    max: 5,
    window_ms: 15 * 60_000,
};
pub const LOGIN_ADDR: Limit = Limit {
    scope: "login_addr",
    max: 30,
    window_ms: 15 * 60_000,
};
pub const OTP_MEMBER: Limit = Limit {
    scope: "otp_member",
    max: 3,
    window_ms: 15 * 60_000,
};
pub const OTP_ADDR: Limit = Limit {
    scope: "otp_addr",
    max: 20,
    window_ms: 15 * 60_000,
};

/// 429 when the subject has used up its window.
pub async fn check(db: &Db, l: &Limit, subject: &str, now: i64) -> Result<(), ApiError> {
    let row =
        sqlx::query("SELECT window_start, count FROM throttle WHERE scope = $1 AND subject = $2")
            .bind(l.scope)
            .bind(subject)
            .fetch_optional(&db.read)
            .await?;
    if let Some(r) = row {
        let start: i64 = r.get(0);
        let count: i64 = r.get(1);
        if now < start + l.window_ms && count >= l.max {
            return Err(ApiError::RateLimited(format!(
                "too many attempts; try again after {}",
                crate::clock::rfc3339(start + l.window_ms)
            )));
        }
    }
    Ok(())
}

/// Counts one attempt (a new window when the last one has passed).
pub async fn hit(db: &Db, l: &Limit, subject: &str, now: i64) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO throttle (scope, subject, window_start, count) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (scope, subject) DO UPDATE SET \
           count = CASE WHEN throttle.window_start + $4 <= $3 THEN 1 ELSE throttle.count + 1 END, \
           window_start = CASE WHEN throttle.window_start + $4 <= $3 THEN $3 ELSE throttle.window_start END",
    )
    .bind(l.scope)
    .bind(subject)
    .bind(now)
    .bind(l.window_ms)
    .execute(&db.write)
    .await?;
    Ok(())
}

pub async fn reset(db: &Db, l: &Limit, subject: &str) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM throttle WHERE scope = $1 AND subject = $2")
        .bind(l.scope)
        .bind(subject)
        .execute(&db.write)
        .await?;
    Ok(())
}
