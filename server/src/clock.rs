//! The server's clock. The engine never reads one (`as_of` is always given); the server does,
//! through this: the system clock in production, or a fixed instant that tests and demos steer
//! (`--clock 2026-03-07T10:00:00+07:00`, `--clock-steerable` adds `POST /v1/admin/clock`), so
//! hold expiry and points expiring happen when a test says so.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub enum Clock {
    System,
    /// Milliseconds since the epoch, moved only by `set` / `advance`.
    Fixed(Arc<AtomicI64>),
}

impl Clock {
    pub fn fixed(ms: i64) -> Clock {
        Clock::Fixed(Arc::new(AtomicI64::new(ms)))
    }

    /// Now, in milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => chrono::Utc::now().timestamp_millis(),
            Clock::Fixed(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Sets a fixed clock; false for the system clock.
    pub fn set(&self, ms: i64) -> bool {
        match self {
            Clock::System => false,
            Clock::Fixed(t) => {
                t.store(ms, Ordering::SeqCst);
                true
            }
        }
    }

    pub fn advance(&self, ms: i64) -> bool {
        match self {
            Clock::System => false,
            Clock::Fixed(t) => {
                t.fetch_add(ms, Ordering::SeqCst);
                true
            }
        }
    }

    pub fn is_fixed(&self) -> bool {
        matches!(self, Clock::Fixed(_))
    }
}

/// Epoch milliseconds → RFC 3339 in UTC with `+00:00` (SPEC §7.3 writes no `Z`), to the
/// millisecond when it has one.
pub fn rfc3339(ms: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    if ms % 1000 == 0 {
        t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
    }
}

/// RFC 3339 with an offset → epoch milliseconds (fractions kept to the millisecond).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip() {
        let ms = parse_rfc3339("2026-03-07T10:00:00+07:00").unwrap_or_default();
        assert_eq!(ms, 1_772_852_400_000);
        assert_eq!(rfc3339(ms), "2026-03-07T03:00:00+00:00");
        assert_eq!(rfc3339(ms + 5), "2026-03-07T03:00:00.005+00:00");
        assert_eq!(parse_rfc3339("2026-03-07T10:00:00"), None);
        let c = Clock::fixed(ms);
        assert!(c.advance(60_000));
        assert_eq!(c.now_ms(), ms + 60_000);
        assert!(!Clock::System.set(1));
    }
}
