//! Request rate limits (SPEC §8.3 "request size and rate limits"): every `/v1/` request counts
//! against its credential — a till or storefront key (`Authorization: Bearer …`), an admin or a
//! member session (its cookie) — or, without one, against the client's address. A credential
//! past its budget gets 429 `rate_limited` with `Retry-After`; the others are not slowed.
//!
//! The budget is a GCRA bucket (`governor`): `--rate-limit N` requests per second sustained, bursts
//! of 2·N (default N = 500; 0 turns the limit off). It is counted in this process's memory: with
//! several server processes on one database each counts its own share (the login and one-time-code
//! throttles, which must be shared, are in the database: `auth/throttle.rs`). Credentials are
//! keyed by a SHA-256 prefix of their secret, never the secret itself; idle buckets are dropped.

use crate::auth::{cookie, ADMIN_COOKIE, MEMBER_COOKIE};
use crate::http::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Who a request counts against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Credential([u8; 16]),
    Address(std::net::IpAddr),
}

pub struct Limiter {
    buckets: DefaultKeyedRateLimiter<Key>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl Limiter {
    /// `per_second` requests per second, bursts of twice that; None when 0 (no limit).
    pub fn new(per_second: u32) -> Option<Arc<Limiter>> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(per_second.saturating_mul(2)).unwrap_or(rate);
        Some(Arc::new(Limiter {
            buckets: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }))
    }

    /// Ok, or the seconds to wait (at least 1).
    fn check(&self, key: &Key) -> Result<(), u64> {
        // Now and then, forget the buckets that have refilled (idle credentials and addresses).
        if self.checks.fetch_add(1, Ordering::Relaxed) % 10_000 == 9_999 {
            self.buckets.retain_recent();
        }
        self.buckets.check_key(key).map_err(|not_until| {
            not_until
                .wait_time_from(self.clock.now())
                .as_secs_f64()
                .ceil()
                .max(1.0) as u64
        })
    }
}

fn key_of(req: &Request) -> Option<Key> {
    let h = req.headers();
    let secret = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .or_else(|| cookie(h, ADMIN_COOKIE))
        .or_else(|| cookie(h, MEMBER_COOKIE));
    match secret {
        Some(s) => {
            let d = Sha256::digest(s.as_bytes());
            let mut k = [0u8; 16];
            k.copy_from_slice(&d[..16]);
            Some(Key::Credential(k))
        }
        None => req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| Key::Address(c.0.ip())),
    }
}

pub async fn limit(
    State(limiter): State<Option<Arc<Limiter>>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(l) = &limiter {
        if req.uri().path().starts_with("/v1/") {
            if let Some(key) = key_of(&req) {
                if let Err(wait) = l.check(&key) {
                    metrics::counter!("loyalty_rate_limited_total").increment(1);
                    let mut r = ApiError::RateLimited(format!(
                        "too many requests with this credential: try again in {wait} s"
                    ))
                    .into_response();
                    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                        r.headers_mut().insert(header::RETRY_AFTER, v);
                    }
                    return r;
                }
            }
        }
    }
    next.run(req).await
}
