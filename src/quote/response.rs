//! The quote response (SPEC §2), fields in contract order.

use serde::Serialize;

#[cfg(target_arch = "wasm32")]
use tsify::Tsify;

/// What the till shows and the server re-checks by `digest`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QuoteResponse {
    pub policy_digest: String,
    pub member_id: String,
    pub currency: String,
    /// The member's level id (benefits apply only to active members).
    pub tier: String,
    pub subtotal: String,
    pub tier_discount: String,
    pub redeemed_points: i64,
    pub redeemed_amount: String,
    pub max_redeemable_points: i64,
    pub total: String,
    pub earned_points: i64,
    pub lines: Vec<LineQuote>,
    pub applied_rules: Vec<AppliedRule>,
    pub notes: Vec<Note>,
    /// `"sha256:<hex>"` of this response without `digest`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub digest: String,
}

/// One cart line's share of everything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LineQuote {
    pub id: String,
    pub subtotal: String,
    pub tier_discount: String,
    pub redeemed_amount: String,
    pub paid: String,
    pub earn_basis: String,
}

/// A rule that contributed points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AppliedRule {
    pub rule: String,
    pub lines: Vec<String>,
    /// The effect as written: `{"multiplier":"2"}`, `{"bonus_points":10}` or
    /// `{"points_per_item":1}`.
    #[cfg_attr(
        target_arch = "wasm32",
        tsify(
            type = "{ multiplier: string } | { bonus_points: number } | { points_per_item: number }"
        )
    )]
    pub effect: crate::policy::Effect,
}

/// Why a quote looks the way it does (codes and messages: README, "Notes").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Note {
    pub code: &'static str,
    pub message: String,
}
