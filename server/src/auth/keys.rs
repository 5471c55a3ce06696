//! Till and storefront keys: `lk_<id>_<secret>`, shown once; only SHA-256(secret) is stored.
//! A key is 32 random bytes, so a fast hash is as safe as a slow one and costs microseconds on
//! every till request.

use super::Principal;
use crate::http::ApiError;
use crate::storage::{random_hex, Db};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time equality.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new key of `kind` (`till` or `storefront`): (key id, the whole key to show once).
pub async fn create(
    c: &mut AnyConnection,
    kind: &str,
    till_id: Option<&str>,
    now: i64,
) -> Result<(String, String), sqlx::Error> {
    let id = random_hex(6);
    let secret = random_hex(32);
    sqlx::query("INSERT INTO api_keys (id, kind, till_id, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(kind)
        .bind(till_id)
        .bind(hash(&secret))
        .bind(now)
        .execute(c)
        .await?;
    Ok((id.clone(), format!("lk_{id}_{secret}")))
}

pub async fn live_count(c: &mut AnyConnection, till_id: &str) -> Result<i64, sqlx::Error> {
    let r = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM api_keys WHERE till_id = $1 AND revoked_at IS NULL",
    )
    .bind(till_id)
    .fetch_one(c)
    .await?;
    Ok(r.get(0))
}

pub async fn revoke(c: &mut AnyConnection, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn authenticate(db: &Db, token: &str) -> Result<Option<Principal>, ApiError> {
    let Some(rest) = token.strip_prefix("lk_") else {
        return Ok(None);
    };
    let Some((id, secret)) = rest.split_once('_') else {
        return Ok(None);
    };
    // On every till request: through the kept connections, not the pool (`storage::direct`).
    let row = db
        .keys
        .fetch_optional(|| {
            sqlx::query(
                "SELECT k.kind, k.till_id, k.secret_hash, t.store_id FROM api_keys k \
                 LEFT JOIN tills t ON t.id = k.till_id WHERE k.id = $1 AND k.revoked_at IS NULL",
            )
            .bind(id)
        })
        .await?;
    let Some(row) = row else { return Ok(None) };
    let stored: String = row.get(2);
    if !same(hash(secret).as_bytes(), stored.as_bytes()) {
        return Ok(None);
    }
    let kind: String = row.get(0);
    Ok(match kind.as_str() {
        "till" => {
            let till_id: Option<String> = row.get(1);
            let store_id: Option<String> = row.get(3);
            match (till_id, store_id) {
                (Some(till_id), Some(store_id)) => Some(Principal::Till {
                    till_id,
                    store_id,
                    key_id: id.to_string(),
                }),
                _ => None,
            }
        }
        "storefront" => Some(Principal::Storefront {
            key_id: id.to_string(),
        }),
        _ => None,
    })
}
