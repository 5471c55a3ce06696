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

#[cfg(all(target_arch = "wasm32", feature = "full"))]
use tsify::Tsify;

/// The progress answer, fields in contract order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
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
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Keep {
    pub review_at: String,
    pub required: MetricValue,
    pub remaining: MetricValue,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
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
    progress_of(&ledger::run(versions, req)?)
}

/// The progress answer of a finished replay (SPEC §4): what the version in force at its instant
/// says.
// Inlined into `progress_versions`: as a call of its own the storefront widget's module was
// 325 B larger (gzip, after wasm-opt).
#[inline(always)]
pub fn progress_of(r: &ledger::Replayed) -> Result<ProgressResponse, Error> {
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

impl ProgressResponse {
    /// Compact JSON, written by hand (`json::write`): the same bytes as serde_json gives for
    /// this struct (checked on every progress vector), without serde's writer in the progress
    /// Wasm module.
    pub fn to_json(&self) -> String {
        use crate::json::write::{int, list, opt_string, string};
        let mut out = String::with_capacity(256);
        let o = &mut out;
        o.push_str("{\"tier\":");
        string(o, &self.tier);
        o.push_str(",\"next_tier\":");
        opt_string(o, self.next_tier.as_deref());
        o.push_str(",\"metric\":");
        string(o, &self.metric);
        o.push_str(",\"current\":");
        metric(o, Some(&self.current));
        o.push_str(",\"next_threshold\":");
        metric(o, self.next_threshold.as_ref());
        o.push_str(",\"remaining\":");
        metric(o, self.remaining.as_ref());
        o.push_str(",\"window_end\":");
        opt_string(o, self.window_end.as_deref());
        o.push_str(",\"keep\":");
        match &self.keep {
            Some(k) => {
                o.push_str("{\"review_at\":");
                string(o, &k.review_at);
                o.push_str(",\"required\":");
                metric(o, Some(&k.required));
                o.push_str(",\"remaining\":");
                metric(o, Some(&k.remaining));
                o.push('}');
            }
            None => o.push_str("null"),
        }
        o.push_str(",\"expiring\":");
        list(o, &self.expiring, |o, e| {
            o.push_str("{\"points\":");
            int(o, e.points);
            o.push_str(",\"expires_at\":");
            string(o, &e.expires_at);
            o.push('}');
        });
        o.push_str(",\"available_points\":");
        int(o, self.available_points);
        o.push('}');
        out
    }
}

/// A metric value as serde writes the untagged enum (an integer or a money string), or `null`.
fn metric(o: &mut String, v: Option<&MetricValue>) {
    match v {
        Some(MetricValue::Count(n)) => crate::json::write::int(o, *n),
        Some(MetricValue::Money(s)) => crate::json::write::string(o, s),
        None => o.push_str("null"),
    }
}

/// A progress result as its one-line JSON answer (the answer or `{"error":…}`).
pub(crate) fn respond(result: Result<ProgressResponse, Error>) -> String {
    match result {
        Ok(r) => r.to_json(),
        Err(e) => e.to_json(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::policy::Policy;
    use crate::Engine;

    /// Every request of the conformance vectors (`tests/vectors/**/*.json`) as
    /// (name, request object).
    /// A vector's request without its `op` and policy fields: the replay request itself.
    pub(crate) fn history_of(req: &serde_json::Value) -> String {
        let mut rest = req.clone();
        if let Some(m) = rest.as_object_mut() {
            m.remove("op");
            m.remove("policy");
            m.remove("policies");
        }
        rest.to_string()
    }

    pub(crate) fn vector_requests() -> Vec<(String, serde_json::Value)> {
        let mut out = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/vectors"
        ))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                    if let Some(req) = v.get("request") {
                        out.push((path.display().to_string(), req.clone()));
                    }
                }
            }
        }
        out
    }

    /// Every policy of a vector request (`policy`, or each version of `policies`).
    pub(crate) fn vector_policies() -> Vec<(String, Policy)> {
        let mut out = Vec::new();
        for (name, req) in vector_requests() {
            let mut docs: Vec<&serde_json::Value> = req.get("policy").into_iter().collect();
            if let Some(serde_json::Value::Array(versions)) = req.get("policies") {
                docs.extend(versions.iter().filter_map(|v| v.get("policy")));
            }
            for doc in docs {
                if let Ok(p) = Policy::from_json(&doc.to_string()) {
                    out.push((name.clone(), p));
                }
            }
        }
        out
    }

    /// `ProgressResponse::to_json` (written by hand) gives serde_json's bytes for the answer of
    /// every progress vector with one policy.
    #[test]
    fn to_json_is_serde_jsons_bytes_on_every_progress_vector() {
        let mut checked = 0;
        for (name, req) in vector_requests() {
            if req.get("op").and_then(|o| o.as_str()) != Some("progress") {
                continue;
            }
            let Ok(r) = crate::json::parse::<crate::ledger::ReplayRequest>(
                &history_of(&req),
                crate::ErrorCode::InvalidRequest,
            ) else {
                continue;
            };
            let answer = if let Some(p) = req.get("policy") {
                Engine::from_json(&p.to_string()).and_then(|e| e.progress(&r))
            } else if let Some(versions) = req.get("policies") {
                crate::ledger::versions::policies_from_json(&versions.to_string())
                    .and_then(|v| v.progress(&r))
            } else {
                continue;
            };
            if let Ok(answer) = answer {
                assert_eq!(
                    answer.to_json(),
                    serde_json::to_string(&answer).unwrap(),
                    "{name}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 14, "only {checked} progress answers checked");
    }

    /// The canonical form written by hand (`policy/canonical.rs`) is serde_json's bytes of the
    /// policy's `Serialize`, on every valid policy of the vectors.
    #[test]
    fn canonical_policy_is_serde_jsons_bytes_on_every_vector_policy() {
        let policies = vector_policies();
        for (name, p) in &policies {
            assert_eq!(
                p.canonical_json().unwrap(),
                serde_json::to_string(p).unwrap(),
                "{name}"
            );
        }
        assert!(policies.len() >= 100, "only {} policies", policies.len());
    }
}
