//! Progress (SPEC §4, §7.22): what a storefront widget shows — "380 points to Gold", what it
//! takes to keep the tier at the next review, and points about to expire.
//!
//! Why separate from the ledger: it replays nothing itself; it reads the state a replay ends
//! in and asks the tier rules about the future from what is known at `as_of` (pending points
//! becoming available count at their instants; events not yet happened do not).

use crate::error::Error;
use crate::ledger::{self, MetricValue, ReplayRequest};
use crate::policy::{Policy, Window};
use crate::tiers;
use crate::time::{Instant, Period};
use serde::Serialize;

#[cfg(target_arch = "wasm32")]
use tsify::Tsify;

/// The progress answer, fields in contract order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProgressResponse {
    pub tier: String,
    /// Null at the top level.
    pub next_tier: Option<String>,
    pub metric: String,
    pub current: MetricValue,
    /// Null at the top level.
    pub next_threshold: Option<MetricValue>,
    /// Null at the top level; else max(0, next_threshold − current).
    pub remaining: Option<MetricValue>,
    /// Next local 1 January for `calendar_year`, `as_of` for rolling, null for lifetime.
    pub window_end: Option<String>,
    /// Null when there is no next review.
    pub keep: Option<Keep>,
    pub expiring: Vec<Expiring>,
    pub available_points: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Keep {
    pub review_at: String,
    pub required: MetricValue,
    pub remaining: MetricValue,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Expiring {
    pub points: i64,
    pub expires_at: String,
}

/// Answers a progress request (SPEC §4) under one policy (`policy_digest`: its digest, what a
/// purchase's `policy_digest` may name).
pub fn progress(
    policy: &Policy,
    policy_digest: &str,
    req: &ReplayRequest,
) -> Result<ProgressResponse, Error> {
    progress_versions(ledger::Versions::single(policy, policy_digest), req)
}

/// Answers a progress request under policy versions (SPEC §3.1): what the version in force at
/// `as_of` says (its thresholds, review schedule and `expiry_notice_days`).
pub fn progress_versions(
    versions: ledger::Versions,
    req: &ReplayRequest,
) -> Result<ProgressResponse, Error> {
    let r = ledger::run(versions, req)?;
    let s = &r.state;
    let policy = s.policy;
    let zone = policy.time_zone;
    let value = |v: i64| ledger::metric_value(policy, v);
    let current = s.value_at(r.as_of, "as_of")?;
    let levels = &policy.tiers.levels;
    let next = levels.get(s.tier.tier + 1);
    let window_end = match policy.tiers.window {
        Window::Lifetime => None,
        Window::RollingMonths(_) => Some(r.as_of),
        Window::CalendarYear => zone.period_start(r.as_of, Period::Year, 1),
    };
    let keep = match tiers::next_review(policy, s.tier, r.as_of) {
        None => None,
        Some(review_at) => {
            let required = levels.get(s.tier.tier).map_or(0, |l| l.threshold.value);
            let will_hold = s.review_value(review_at, "as_of")?;
            Some(Keep {
                review_at: zone.format(review_at),
                required: value(required),
                remaining: value(required.saturating_sub(will_hold).max(0)),
            })
        }
    };
    // Lots expiring in (as_of, as_of + expiry_notice_days local days], grouped by instant.
    let horizon = zone
        .add_local_days(r.as_of, policy.expiry_notice_days)
        .unwrap_or(Instant::MAX);
    let mut groups: Vec<(Instant, i64)> = Vec::new();
    for l in s.lots.lots.iter().filter(|l| l.points > 0) {
        if let Some(e) = l.expires_at() {
            if e > r.as_of && e <= horizon {
                match groups.iter_mut().find(|(x, _)| *x == e) {
                    Some(g) => g.1 += l.points,
                    None => groups.push((e, l.points)),
                }
            }
        }
    }
    crate::sort::sort_by_key(&mut groups, |g| g.0);
    Ok(ProgressResponse {
        tier: ledger::clock::level_id(policy, s.tier.tier),
        next_tier: next.map(|l| l.id.clone()),
        metric: ledger::metric_name(policy),
        current: value(current),
        next_threshold: next.map(|l| value(l.threshold.value)),
        remaining: next.map(|l| value(l.threshold.value.saturating_sub(current).max(0))),
        window_end: window_end.map(|t| zone.format(t)),
        keep,
        expiring: groups
            .into_iter()
            .map(|(e, points)| Expiring {
                points,
                expires_at: zone.format(e),
            })
            .collect(),
        available_points: s.lots.available(),
    })
}
