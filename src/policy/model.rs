//! The validated policy: defaults filled in, decimals parsed, references resolved.
//!
//! `Serialize` writes exactly the canonical form of SPEC §7.2 (fields in §1 order, every default
//! present, decimals normalized), which is what `policy_digest` hashes.

use super::document::{Clawback, EarnBasis, Period, Review, TierMetric, Weekday};
use crate::ids::Keys;
use crate::money::{Currency, Dec, EarnRounding, MoneyRounding};
use crate::time::{Instant, Zone};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated policy. Construct it with [`super::Policy::from_json`].
#[derive(Clone, Debug, Serialize)]
pub struct Policy {
    pub schema: i64,
    pub id: String,
    #[serde(rename = "currency", serialize_with = "ser_currency_code")]
    pub currency: Currency,
    pub minor_units: u32,
    #[serde(serialize_with = "ser_zone")]
    pub time_zone: Zone,
    pub money_rounding: MoneyRounding,
    pub earning: Earning,
    pub tiers: Tiers,
    pub redemption: Option<Redemption>,
    pub rewards: Vec<Reward>,
    pub expiry: Expiry,
    pub expiry_notice_days: i64,
    pub members: Members,
    pub refunds: Refunds,
}

fn ser_currency_code<S: Serializer>(c: &Currency, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&c.code)
}

fn ser_zone<S: Serializer>(z: &Zone, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(z.name())
}

/// A money amount from the policy: the normalized decimal (for the canonical form) and its
/// value in minor units (for arithmetic).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyMoney {
    pub dec: Dec,
    pub minor: i64,
}

impl Serialize for PolicyMoney {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.dec)
    }
}

impl Serialize for Dec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Earning {
    pub spend: PolicyMoney,
    pub points: i64,
    pub rounding: EarnRounding,
    pub basis: EarnBasis,
    pub exclude_categories: Vec<String>,
    pub pending_days: i64,
    pub max_points_per_order: Option<i64>,
    pub rules: Vec<Rule>,
    /// `exclude_categories` prepared for lookups (not part of the canonical form).
    #[serde(skip)]
    pub excluded: Keys,
}

/// What a rule does when its condition holds: exactly one effect (SPEC §1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Multiplies the base point units of the selected lines (the highest applies).
    Multiplier(Dec),
    /// Adds points once per order.
    BonusPoints(i64),
    /// Adds points per unit quantity of the selected lines.
    PointsPerItem(i64),
}

impl Serialize for Effect {
    /// The effect as written: `{"multiplier":"2"}`, `{"bonus_points":10}`, `{"points_per_item":1}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        match self {
            Effect::Multiplier(d) => m.serialize_entry("multiplier", d)?,
            Effect::BonusPoints(n) => m.serialize_entry("bonus_points", n)?,
            Effect::PointsPerItem(n) => m.serialize_entry("points_per_item", n)?,
        }
        m.end()
    }
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub priority: i64,
    pub when: Condition,
    pub effect: Effect,
    /// `when`'s line selectors prepared for lookups (not part of the canonical form).
    pub selectors: Selectors,
}

/// A condition's line selectors (`categories`, `skus`) as [`Keys`], built once at validation:
/// a policy may list thousands of categories or skus and a cart may hold a thousand lines.
#[derive(Clone, Debug, Default)]
pub struct Selectors {
    pub categories: Option<Keys>,
    pub skus: Option<Keys>,
}

impl Selectors {
    pub fn of(c: &Condition) -> Selectors {
        let keys = |l: &Option<Vec<String>>| l.as_deref().map(Keys::of);
        Selectors {
            categories: keys(&c.categories),
            skus: keys(&c.skus),
        }
    }

    /// Whether there are any (a rule without selectors applies to the order, not to lines).
    pub fn any(&self) -> bool {
        self.categories.is_some() || self.skus.is_some()
    }
}

impl Serialize for Rule {
    /// Canonical: `id, priority, when, multiplier, bonus_points, points_per_item` with the two
    /// effects not chosen written as null.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("priority", &self.priority)?;
        m.serialize_entry("when", &self.when)?;
        let (mult, bonus, per_item) = match self.effect {
            Effect::Multiplier(d) => (Some(d), None, None),
            Effect::BonusPoints(n) => (None, Some(n), None),
            Effect::PointsPerItem(n) => (None, None, Some(n)),
        };
        m.serialize_entry("multiplier", &mult)?;
        m.serialize_entry("bonus_points", &bonus)?;
        m.serialize_entry("points_per_item", &per_item)?;
        m.end()
    }
}

/// A rule's condition; every key present must hold (SPEC §1.1, §7.9).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Condition {
    pub categories: Option<Vec<String>>,
    pub skus: Option<Vec<String>>,
    pub stores: Option<Vec<String>>,
    pub channels: Option<Vec<String>>,
    pub tiers: Option<Vec<String>>,
    pub days_of_week: Option<Vec<Weekday>>,
    pub min_subtotal: Option<PolicyMoney>,
    pub from: Option<TimeBound>,
    pub until: Option<TimeBound>,
}

/// A `from`/`until` bound: kept as written for the canonical form, resolved to an instant in
/// the policy's zone for evaluation.
#[derive(Clone, Debug)]
pub struct TimeBound {
    pub written: String,
    pub instant: Instant,
}

impl Serialize for TimeBound {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.written)
    }
}

/// The tier qualification window (SPEC §3): `"lifetime"`, `"calendar_year"` or
/// `{"rolling_months": n}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Window {
    #[default]
    Lifetime,
    CalendarYear,
    RollingMonths(i64),
}

impl Serialize for Window {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Window::Lifetime => s.serialize_str("lifetime"),
            Window::CalendarYear => s.serialize_str("calendar_year"),
            Window::RollingMonths(n) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("rolling_months", n)?;
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Window;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"lifetime\", \"calendar_year\" or {\"rolling_months\": n}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Window, E> {
                match v {
                    "lifetime" => Ok(Window::Lifetime),
                    "calendar_year" => Ok(Window::CalendarYear),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Window, A::Error> {
                #[derive(Deserialize)]
                #[serde(field_identifier, rename_all = "snake_case")]
                enum Key {
                    RollingMonths,
                }
                let mut months = None;
                while let Some(Key::RollingMonths) = map.next_key()? {
                    if months.is_some() {
                        return Err(serde::de::Error::duplicate_field("rolling_months"));
                    }
                    months = Some(map.next_value::<i64>()?);
                }
                months
                    .map(Window::RollingMonths)
                    .ok_or_else(|| serde::de::Error::missing_field("rolling_months"))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Tiers {
    pub metric: TierMetric,
    pub window: Window,
    pub levels: Vec<Level>,
    pub discount_exclude_categories: Vec<String>,
    pub downgrade: Downgrade,
    /// `discount_exclude_categories` prepared for lookups (not part of the canonical form).
    #[serde(skip)]
    pub discount_excluded: Keys,
}

/// A tier threshold: an integer for `points`/`orders`, money for `spend` (SPEC §7.8).
/// Compared in the metric's own unit: points, orders or minor units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threshold {
    pub dec: Dec,
    /// Points, orders, or minor units for `spend`.
    pub value: i64,
}

impl Serialize for Threshold {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.dec)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Level {
    pub id: String,
    pub name: String,
    pub threshold: Threshold,
    pub discount_percent: Dec,
    pub earn_multiplier: Dec,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Downgrade {
    pub review: Review,
    pub retain_months: i64,
    pub max_steps: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Redemption {
    pub point_value: PolicyMoney,
    pub min_points: i64,
    pub step: i64,
    pub max_share: Dec,
    pub max_points_per_order: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Reward {
    pub id: String,
    pub name: String,
    pub points: i64,
    pub min_tier: Option<String>,
}

/// Point expiry (SPEC §3). Serialized with `kind` first and only that kind's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expiry {
    Never,
    After { months: i64 },
    EndOfPeriod { period: Period, after: i64 },
    Inactivity { months: i64 },
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Members {
    pub inactive_earns: bool,
    pub unassigned_card_earns: bool,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Refunds {
    pub clawback: Clawback,
}

impl Policy {
    /// Index of a level id.
    pub fn level_index(&self, id: &str) -> Option<usize> {
        self.tiers.levels.iter().position(|l| l.id == id)
    }
}
