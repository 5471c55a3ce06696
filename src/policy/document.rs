//! The policy document as written (SPEC §1): what JSON is accepted, before validation.
//!
//! Every struct denies unknown fields, so a typo never silently changes a program. Optional
//! fields are `Option` here; [`super::validate`] fills the defaults and checks the rules, turning
//! this loose shape into a [`super::Policy`] where wrong states cannot be represented.

use crate::money::{EarnRounding, MoneyRounding};
use serde::Deserialize;

#[cfg(all(target_arch = "wasm32", feature = "full"))]
use tsify::Tsify;

/// A decimal written as a JSON string (`"125000"`, `"12.50"`, `"0.5"`): money and rates.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[serde(transparent)]
pub struct DecimalString(pub String);

/// The loyalty policy document.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// The document format version: must be `1`.
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 1)))]
    pub schema: i64,
    /// The merchant's name for this policy (shown in answers and reports).
    pub id: String,
    /// ISO 4217 code, three capital letters (`VND`, `EUR`, …). A code without built-in minor units needs `minor_units`.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = "^[A-Z]{3}$")))]
    pub currency: String,
    /// Digits after the decimal point of the currency, 0–6 (default: the currency's, e.g. VND 0, EUR 2).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = 6)))]
    pub minor_units: Option<i64>,
    /// IANA time zone (`Asia/Ho_Chi_Minh`, `Europe/Bratislava`): every calendar rule (days, months, expiry, reviews) is read in it.
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::time_zone"))]
    pub time_zone: String,
    /// How the tier discount reaches minor units: `half_up` (default), `half_even` or `down`.
    #[serde(default)]
    pub money_rounding: Option<MoneyRounding>,
    /// How purchases earn points: `spend` money earns `points` points, with rules, rounding and exclusions.
    pub earning: EarningDocument,
    /// Tier levels, what qualifies for them, their discount and earn multiplier, and downgrades (default: one level `member`).
    #[serde(default)]
    pub tiers: Option<TiersDocument>,
    /// Paying with points at the till. Without it points only buy `rewards`.
    #[serde(default)]
    pub redemption: Option<RedemptionDocument>,
    /// The catalogue of rewards (gifts) bought with points (default: none).
    #[serde(default)]
    pub rewards: Option<Vec<RewardDocument>>,
    /// When points expire (default `{"kind": "never"}`).
    #[serde(default)]
    pub expiry: Option<ExpiryDocument>,
    /// How many days before an expiry members are told (default 30).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub expiry_notice_days: Option<i64>,
    /// Which non-active members earn (default: inactive members do not, unassigned cards do).
    #[serde(default)]
    pub members: Option<MembersDocument>,
    /// What a refund's clawback may do to the balance (default `{"clawback": "unlimited"}`).
    #[serde(default)]
    pub refunds: Option<RefundsDocument>,
}

/// What the earning base is: the money a line's points are computed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
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
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EarningDocument {
    /// Money per `points` (> 0), a decimal string: `"10000"` with `points: 1` earns 1 point per 10,000.
    pub spend: DecimalString,
    /// Points per `spend` (≥ 1).
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::money::MAX_POINTS)))]
    pub points: i64,
    /// How the order's point units become whole points, once per order: `floor` (default), `half_up`, `ceil`.
    #[serde(default)]
    pub rounding: Option<EarnRounding>,
    /// The amount a line earns on: `paid` (default; after discount and redemption), `after_discount`, `gross`.
    #[serde(default)]
    pub basis: Option<EarnBasis>,
    /// Lines in these categories never earn, whatever the rules.
    #[serde(default)]
    pub exclude_categories: Option<Vec<String>>,
    /// Earned points become available this many local days later (default 0).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub pending_days: Option<i64>,
    /// Cap on an order's points, after bonus and per-item points (default: none).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub max_points_per_order: Option<i64>,
    /// Earning rules: a condition (`when`) and one effect (`multiplier`, `bonus_points` or `points_per_item`).
    #[serde(default)]
    pub rules: Option<Vec<RuleDocument>>,
}

/// An earning rule: a condition and exactly one effect.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleDocument {
    /// The rule's name, unique in the policy (shown in a quote's applied rules).
    pub id: String,
    /// Display order only (default 0): applied rules are listed by priority, highest first; results never depend on it.
    #[serde(default)]
    pub priority: Option<i64>,
    /// The condition: line selectors (`categories`, `skus`) and order gates (`stores`, `channels`, `tiers`, `days_of_week`, `min_subtotal`, `from`, `until`). Absent: always.
    #[serde(default)]
    pub when: Option<ConditionDocument>,
    /// Multiplies the point units of the selected lines (> 0); the highest of several applies.
    #[serde(default)]
    pub multiplier: Option<DecimalString>,
    /// Points added once per order (≥ 0).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub bonus_points: Option<i64>,
    /// Points added per unit quantity of the selected lines (≥ 0).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub points_per_item: Option<i64>,
}

/// SPEC §1.1: line selectors (`categories`, `skus`) and order gates (the rest).
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConditionDocument {
    /// Selects lines whose category is listed.
    #[serde(default)]
    pub categories: Option<Vec<String>>,
    /// Selects lines whose SKU is listed.
    #[serde(default)]
    pub skus: Option<Vec<String>>,
    /// Holds when the cart's `store` is listed.
    #[serde(default)]
    pub stores: Option<Vec<String>>,
    /// Holds when the cart's `channel` is listed.
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// Holds when the member's tier at the order's time is listed (never for a non-active member).
    #[serde(default)]
    pub tiers: Option<Vec<String>>,
    /// Holds on these local days (`mon` … `sun`).
    #[serde(default)]
    pub days_of_week: Option<Vec<Weekday>>,
    /// Holds when the order subtotal (all lines, before discounts) is at least this.
    #[serde(default)]
    pub min_subtotal: Option<DecimalString>,
    /// Holds from this instant, local date-time or date (read in `time_zone`).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::LOCAL_TIME)))]
    pub from: Option<String>,
    /// Holds before this instant, local date-time or date (read in `time_zone`).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::LOCAL_TIME)))]
    pub until: Option<String>,
}

/// Days of the week as the policy writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
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
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
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
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TiersDocument {
    /// What qualifies for a tier: `points` (default; earned, net of clawbacks), `spend` (money paid) or `orders`.
    #[serde(default)]
    pub metric: Option<TierMetric>,
    #[serde(default)]
    #[cfg_attr(
        all(target_arch = "wasm32", feature = "full"),
        tsify(type = "\"lifetime\" | \"calendar_year\" | { rolling_months: number }")
    )]
    /// The period the metric counts: `lifetime` (default), `calendar_year` or `{"rolling_months": n}`.
    pub window: Option<crate::policy::Window>,
    /// The levels, lowest first: the first threshold is `"0"`, thresholds strictly increase.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub levels: Vec<LevelDocument>,
    /// Lines in these categories never get the tier discount.
    #[serde(default)]
    pub discount_exclude_categories: Option<Vec<String>>,
    /// When and how far members move down: `review`, `retain_months`, `max_steps`.
    #[serde(default)]
    pub downgrade: Option<DowngradeDocument>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LevelDocument {
    /// The level's id (what events and answers name).
    pub id: String,
    /// The name shown to people.
    pub name: String,
    /// The metric needed to reach this level, a string: whole points/orders, or money for `spend`.
    pub threshold: DecimalString,
    /// The tier discount, 0–100 percent, on lines not excluded (default "0").
    #[serde(default)]
    pub discount_percent: Option<DecimalString>,
    /// Multiplies every line's point units (> 0, default "1").
    #[serde(default)]
    pub earn_multiplier: Option<DecimalString>,
}

/// When tiers are reviewed for a downgrade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
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
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DowngradeDocument {
    /// When tiers are reviewed: `never` (default), `anniversary`, `calendar_year_end`, `half_year_end`.
    #[serde(default)]
    pub review: Option<Review>,
    /// No downgrade before the tier was held this many months (default 0).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub retain_months: Option<i64>,
    /// At most this many levels down at one review (default: no limit).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::money::MAX_POINTS)))]
    pub max_steps: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RedemptionDocument {
    /// The money one point pays (> 0, a multiple of the minor unit).
    pub point_value: DecimalString,
    /// The smallest non-zero redemption (default 1).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::money::MAX_POINTS)))]
    pub min_points: Option<i64>,
    /// Redemptions are multiples of this (default 1).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::money::MAX_POINTS)))]
    pub step: Option<i64>,
    /// The share of the order total after discount that points may pay, in (0, 1] (default "1").
    #[serde(default)]
    pub max_share: Option<DecimalString>,
    /// Cap on the points one order may redeem (default: none).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::money::MAX_POINTS)))]
    pub max_points_per_order: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RewardDocument {
    /// The reward's id (what a `redeem_reward` event names).
    pub id: String,
    /// The name shown to people.
    pub name: String,
    /// Its price in points (≥ 1).
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::money::MAX_POINTS)))]
    pub points: i64,
    /// The lowest tier that may redeem it (default: any).
    #[serde(default)]
    pub min_tier: Option<String>,
}

/// Expiry kinds (SPEC §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
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
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
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
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ExpiryDocument {
    /// `never`, `after` (each earning expires `months` later), `inactivity` (the whole balance goes `months` after the last purchase or redemption) or `end_of_period`.
    pub kind: ExpiryKind,
    /// For `after` and `inactivity`: how many months.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::limits::MAX_MONTHS)))]
    pub months: Option<i64>,
    /// For `end_of_period`: `month`, `quarter` or `year`.
    #[serde(default)]
    pub period: Option<Period>,
    /// For `end_of_period` (default 0): points earned in period P are gone at the start of period P + after + 1.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = crate::limits::MAX_MONTHS)))]
    pub after: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MembersDocument {
    /// Whether members not yet activated earn points (default false).
    #[serde(default)]
    pub inactive_earns: Option<bool>,
    /// Whether an anonymous card not yet bound to a person earns points (default true).
    #[serde(default)]
    pub unassigned_card_earns: Option<bool>,
}

/// What happens when a refund claws back more points than the member has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
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
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundsDocument {
    /// `unlimited` (default; the balance may go negative) or `within_balance` (stops at zero).
    #[serde(default)]
    pub clawback: Option<Clawback>,
}
