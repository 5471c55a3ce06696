//! The simulate response (SPEC §5, §7.24), fields in contract order, every field present.

use crate::error::Error;
use serde::Serialize;

#[cfg(all(target_arch = "wasm32", feature = "full"))]
use tsify::Tsify;

/// What a policy would have done to the members' histories.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimulateResponse {
    /// The figures under the draft policy (`members`, `points`, `liability`, `tier_discounts`,
    /// `tiers`, `by_month`).
    #[serde(flatten)]
    pub figures: Figures,
    /// Null without a baseline.
    pub diff: Option<Diff>,
    /// Members whose history failed (left out of every figure), in input order.
    pub rejected: Vec<Rejected>,
}

/// The figures of one policy over the accepted members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Figures {
    /// How many members were replayed (rejected ones not counted).
    pub members: u64,
    pub points: PointsFigures,
    /// outstanding × `point_value` × `expected_redemption` (× 1 when null), rounded once with
    /// `money_rounding`; null without a `redemption` section.
    pub liability: Option<String>,
    /// Tier discounts given on orders, net of refunded units' share (money).
    pub tier_discounts: String,
    /// Members at each level at `as_of`, every level in level order.
    pub tiers: Vec<TierCount>,
    /// Every local month from the earliest event to `as_of`.
    pub by_month: Vec<MonthFigures>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PointsFigures {
    /// Points earned by purchases, less clawbacks (opening balances and adjusts not included).
    pub issued: i64,
    /// Purchase and reward redemptions, less points returned by refunds.
    pub redeemed: i64,
    pub expired: i64,
    /// Σ (available + pending) at `as_of` (debt counted negative).
    pub outstanding: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TierCount {
    pub tier: String,
    pub members: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MonthFigures {
    /// `"YYYY-MM"`, local to the draft policy's time zone.
    pub month: String,
    pub issued: i64,
    pub redeemed: i64,
    pub expired: i64,
    pub tier_discounts: String,
}

/// The baseline's figures and how members' final tiers moved from it to the draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Diff {
    pub baseline: Figures,
    pub members_moved: MembersMoved,
}

/// Members whose final level index under the draft is above (`up`) or below (`down`) the
/// baseline's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MembersMoved {
    pub up: u64,
    pub down: u64,
}

/// A member left out of the figures: its id (null when the member line could not be read that
/// far) and the first fault of its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Rejected {
    pub member_id: Option<String>,
    #[cfg_attr(
        all(target_arch = "wasm32", feature = "full"),
        tsify(type = "{ code: string; message: string; path: string }")
    )]
    pub error: Error,
}
