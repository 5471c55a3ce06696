//! Member one-time codes: six digits, 10 minutes, five guesses; stored hashed; sent through the
//! outbox (kind `one_time_code`, with the member's phone) for the SMS or e-mail sender.

use crate::storage::{self, Tx};
use sqlx::Row;

pub const TTL_MS: i64 = 10 * 60_000;
pub const MAX_GUESSES: i64 = 5;

pub fn code() -> String {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    format!("{:06}", u32::from_le_bytes(b) % 1_000_000)
}

fn hash(member_id: &str, code: &str) -> String {
    super::keys::hash(&format!("{member_id}:{code}"))
}

/// A new code for the member (replacing any earlier one) and its outbox row.
pub async fn issue(
    tx: &mut Tx,
    member_id: &str,
    phone: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let code = code();
    sqlx::query(
        "INSERT INTO otps (member_id, code_hash, expires_at, attempts) VALUES ($1, $2, $3, 0) \
         ON CONFLICT (member_id) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = 0",
    )
    .bind(member_id)
    .bind(hash(member_id, &code))
    .bind(now + TTL_MS)
    .execute(&mut **tx)
    .await?;
    let id = storage::new_id("otp-", now);
    let payload = serde_json::json!({
        "id": id, "kind": "one_time_code", "member_id": member_id, "phone": phone,
        "code": code, "expires_at": crate::clock::rfc3339(now + TTL_MS),
    });
    storage::outbox::add(
        tx,
        &id,
        "one_time_code",
        Some(member_id),
        now,
        &payload.to_string(),
        now,
    )
    .await?;
    Ok(())
}

/// Checks a code: true once (the code is then used up).
pub async fn redeem(
    tx: &mut Tx,
    member_id: &str,
    code: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT code_hash, expires_at, attempts FROM otps WHERE member_id = $1")
        .bind(member_id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(r) = row else { return Ok(false) };
    let stored: String = r.get(0);
    let expires: i64 = r.get(1);
    let attempts: i64 = r.get(2);
    if expires <= now || attempts >= MAX_GUESSES {
        return Ok(false);
    }
    if super::keys::same(hash(member_id, code).as_bytes(), stored.as_bytes()) {
        sqlx::query("DELETE FROM otps WHERE member_id = $1")
            .bind(member_id)
            .execute(&mut **tx)
            .await?;
        return Ok(true);
    }
    sqlx::query("UPDATE otps SET attempts = attempts + 1 WHERE member_id = $1")
        .bind(member_id)
        .execute(&mut **tx)
        .await?;
    Ok(false)
}
