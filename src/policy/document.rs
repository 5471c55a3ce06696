//! The policy document as written (SPEC §1): what JSON is accepted, before validation.
//!
//! Every struct denies unknown fields, so a typo never silently changes a program. Optional
//! fields are `Option` here; [`super::validate`] fills the defaults and checks the rules, turning
//! this loose shape into a [`super::Policy`] where wrong states cannot be represented.

use crate::money::{EarnRounding, MoneyRounding};
use serde::Deserialize;

#[cfg(target_arch = "wasm32")]
use tsify::Tsify;

/// A decimal written as a JSON string (`"125000"`, `"12.50"`, `"0.5"`): money and rates.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[serde(transparent)]
pub struct DecimalString(pub String);

/// The loyalty policy document.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 1)))]
    pub schema: i64,
    pub id: String,
    #[cfg_attr(feature = "schema", schemars(regex(pattern = "^[A-Z]{3}$")))]
    pub currency: String,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = 6)))]
    pub minor_units: Option<i64>,
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::time_zone"))]
    pub time_zone: String,
    #[serde(default)]
    pub money_rounding: Option<MoneyRounding>,
    pub earning: EarningDocument,
    #[serde(default)]
    pub tiers: Option<TiersDocument>,
    #[serde(default)]
    pub redemption: Option<RedemptionDocument>,
    #[serde(default)]
    pub rewards: Option<Vec<RewardDocument>>,
    #[serde(default)]
    pub expiry: Option<ExpiryDocument>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub expiry_notice_days: Option<i64>,
    #[serde(default)]
    pub members: Option<MembersDocument>,
    #[serde(default)]
    pub refunds: Option<RefundsDocument>,
}

/// What the earning base is: the money a line's points are computed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EarnBasis {
    /// After the tier discount and the points redemption: what the customer paid.
    #[default]
    Paid,
    /// After the tier discount, before redemption.
    AfterDiscount,
    /// The line subtotal.
    Gross,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EarningDocument {
    pub spend: DecimalString,
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::money::MAX_POINTS)))]
    pub points: i64,
    #[serde(default)]
    pub rounding: Option<EarnRounding>,
    #[serde(default)]
    pub basis: Option<EarnBasis>,
    #[serde(default)]
    pub exclude_categories: Option<Vec<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub pending_days: Option<i64>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub max_points_per_order: Option<i64>,
    #[serde(default)]
    pub rules: Option<Vec<RuleDocument>>,
}

/// An earning rule: a condition and exactly one effect.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleDocument {
    pub id: String,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub when: Option<ConditionDocument>,
    #[serde(default)]
    pub multiplier: Option<DecimalString>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub bonus_points: Option<i64>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub points_per_item: Option<i64>,
}

/// SPEC §1.1: line selectors (`categories`, `skus`) and order gates (the rest).
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConditionDocument {
    #[serde(default)]
    pub categories: Option<Vec<String>>,
    #[serde(default)]
    pub skus: Option<Vec<String>>,
    #[serde(default)]
    pub stores: Option<Vec<String>>,
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    #[serde(default)]
    pub tiers: Option<Vec<String>>,
    #[serde(default)]
    pub days_of_week: Option<Vec<Weekday>>,
    #[serde(default)]
    pub min_subtotal: Option<DecimalString>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::LOCAL_TIME)))]
    pub from: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::LOCAL_TIME)))]
    pub until: Option<String>,
}

/// Days of the week as the policy writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// What qualifies a member for a tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TierMetric {
    /// Points earned (net of clawbacks), counted when they become available.
    #[default]
    Points,
    /// Money paid.
    Spend,
    /// Purchases not fully refunded.
    Orders,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TiersDocument {
    #[serde(default)]
    pub metric: Option<TierMetric>,
    #[serde(default)]
    #[cfg_attr(
        target_arch = "wasm32",
        tsify(type = "\"lifetime\" | \"calendar_year\" | { rolling_months: number }")
    )]
    pub window: Option<crate::policy::Window>,
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub levels: Vec<LevelDocument>,
    #[serde(default)]
    pub discount_exclude_categories: Option<Vec<String>>,
    #[serde(default)]
    pub downgrade: Option<DowngradeDocument>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LevelDocument {
    pub id: String,
    pub name: String,
    pub threshold: DecimalString,
    #[serde(default)]
    pub discount_percent: Option<DecimalString>,
    #[serde(default)]
    pub earn_multiplier: Option<DecimalString>,
}

/// When tiers are reviewed for a downgrade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Review {
    #[default]
    Never,
    Anniversary,
    CalendarYearEnd,
    HalfYearEnd,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DowngradeDocument {
    #[serde(default)]
    pub review: Option<Review>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub retain_months: Option<i64>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::money::MAX_POINTS)))]
    pub max_steps: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RedemptionDocument {
    pub point_value: DecimalString,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::money::MAX_POINTS)))]
    pub min_points: Option<i64>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::money::MAX_POINTS)))]
    pub step: Option<i64>,
    #[serde(default)]
    pub max_share: Option<DecimalString>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub max_points_per_order: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RewardDocument {
    pub id: String,
    pub name: String,
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::money::MAX_POINTS)))]
    pub points: i64,
    #[serde(default)]
    pub min_tier: Option<String>,
}

/// Expiry kinds (SPEC §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExpiryKind {
    Never,
    After,
    EndOfPeriod,
    Inactivity,
}

/// Calendar periods for `end_of_period` expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Month,
    Quarter,
    Year,
}

/// Written flat (`{"kind":"after","months":12}`) and checked so that only the chosen kind's
/// fields appear.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ExpiryDocument {
    pub kind: ExpiryKind,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::limits::MAX_MONTHS)))]
    pub months: Option<i64>,
    #[serde(default)]
    pub period: Option<Period>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::limits::MAX_MONTHS)))]
    pub after: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MembersDocument {
    #[serde(default)]
    pub inactive_earns: Option<bool>,
    #[serde(default)]
    pub unassigned_card_earns: Option<bool>,
}

/// What happens when a refund claws back more points than the member has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Clawback {
    /// The balance may go negative; later earning pays the debt first.
    #[default]
    Unlimited,
    /// The balance stops at zero; the shortfall is reported.
    WithinBalance,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundsDocument {
    #[serde(default)]
    pub clawback: Option<Clawback>,
}
