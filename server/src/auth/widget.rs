//! Widget tokens: `wt_<member id, base64url>.<expiry ms>.<HMAC-SHA256 hex>`, signed with the
//! programme's widget secret (settings, made on first start). A storefront backend asks for one
//! per page view; it reads that member's progress for 15 minutes and nothing else.

use super::Principal;
use base64::Engine as _;
use hmac::{KeyInit, Mac};

pub const TTL_MS: i64 = 15 * 60_000;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn sign(secret: &[u8], payload: &str) -> String {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| {
        // HMAC takes keys of any length; unreachable.
        <HmacSha256 as KeyInit>::new_from_slice(b"-").unwrap_or_else(|_| unreachable!())
    });
    m.update(payload.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

pub fn issue(secret: &[u8], member_id: &str, now: i64) -> (String, i64) {
    let exp = now + TTL_MS;
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(member_id);
    let payload = format!("{id}.{exp}");
    (format!("wt_{payload}.{}", sign(secret, &payload)), exp)
}

pub fn verify(secret: &[u8], token: &str, now: i64) -> Option<Principal> {
    let rest = token.strip_prefix("wt_")?;
    let (payload, mac) = rest.rsplit_once('.')?;
    if !super::keys::same(sign(secret, payload).as_bytes(), mac.as_bytes()) {
        return None;
    }
    let (id, exp) = payload.split_once('.')?;
    let exp: i64 = exp.parse().ok()?;
    if exp <= now {
        return None;
    }
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .ok()?;
    Some(Principal::Widget {
        member_id: String::from_utf8(id).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_and_cannot_be_forged() {
        let (t, exp) = issue(b"secret", "m-001", 1_000);
        assert_eq!(exp, 1_000 + TTL_MS);
        assert_eq!(
            verify(b"secret", &t, 2_000),
            Some(Principal::Widget {
                member_id: "m-001".into()
            })
        );
        assert_eq!(verify(b"secret", &t, exp), None);
        assert_eq!(verify(b"other", &t, 2_000), None);
        let forged = t.replace("bS0wMDE", "bS0wMDI");
        assert_eq!(verify(b"secret", &forged, 2_000), None);
    }
}
