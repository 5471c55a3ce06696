//! Admin passwords: argon2id (≈ 23 ms a verify here), always on a blocking thread so that the
//! async workers keep serving tills meanwhile.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

pub async fn hash(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        let h: PasswordHash = Argon2::default()
            .hash_password(password.as_bytes())
            .map_err(|e| e.to_string())?;
        Ok(h.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

pub async fn verify(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A dummy verify for unknown users, so the answer takes as long either way.
pub async fn burn(password: String) {
    let _ = hash(password).await;
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn argon2id_round_trip() {
        let h = super::hash("correct horse".into())
            .await
            .unwrap_or_default();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(super::verify("correct horse".into(), h.clone()).await);
        assert!(!super::verify("wrong".into(), h).await);
        assert!(!super::verify("x".into(), "not a hash".into()).await);
    }
}
