//! The replay response (SPEC §3), fields in contract order, every field present.

use crate::member::{MemberSnapshot, MemberStatus};
use serde::Serialize;

#[cfg(all(target_arch = "wasm32", feature = "full"))]
use tsify::Tsify;

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReplayResponse {
    pub policy_digest: String,
    pub member_id: String,
    pub as_of: String,
    pub status: MemberStatus,
    pub tier: TierOut,
    pub points: PointsOut,
    pub qualification: QualificationOut,
    pub totals: Totals,
    /// The §2 member snapshot at `as_of`, ready for a quote.
    pub snapshot: MemberSnapshot,
    pub history: Vec<HistoryRow>,
    pub notices: Vec<NoticeOut>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TierOut {
    pub id: String,
    pub since: String,
    pub locked_until: Option<String>,
    pub next_review: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PointsOut {
    /// Negative when the member owes points.
    pub available: i64,
    pub pending: i64,
    pub lots: Vec<LotOut>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LotOut {
    pub points: i64,
    pub earned_at: String,
    pub available_at: String,
    pub expires_at: Option<String>,
}

/// A metric value: a JSON integer for `points` / `orders`, a money string for `spend` (§7.8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum MetricValue {
    Count(i64),
    Money(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QualificationOut {
    pub metric: String,
    pub value: MetricValue,
    pub window_start: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Totals {
    pub earned: i64,
    /// Net of points returned by refunds.
    pub redeemed: i64,
    pub expired: i64,
    pub adjusted: i64,
    pub clawed_back: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryRow {
    /// Null on `expire` and `tier_review` rows.
    pub event_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    /// Change of available + pending.
    pub points_delta: i64,
    pub available_after: i64,
    pub tier_after: String,
    /// Points a `within_balance` refund could not claw back; null elsewhere.
    pub shortfall: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NoticeOut {
    /// `tier_up`, `tier_down`, `points_expiring`, `points_expired`.
    pub kind: String,
    pub at: String,
    /// Null on tier notices.
    pub points: Option<i64>,
    /// Null on points notices.
    pub tier: Option<String>,
}
