//! How each request type is read from JSON ([`FromJson`]), in one place: the wire format of
//! every operation's input. Field lists mirror the types' serde attributes (which the Rust API
//! and the generated TypeScript types keep); `tests/reader.rs` checks that both read every
//! conformance vector alike.

use super::read::{
    invalid_type, invalid_value, read_enum, read_struct, required, unknown_field, FromJson, Number,
    Parser, Slot, Token,
};
use super::Fault;
use crate::generate::GenerateOptions;
use crate::ledger::request::{
    Event, EventCart, EventType, LedgerMember, QuotedMember, RefundLine, ReplayRequest,
};
use crate::member::{MemberSnapshot, MemberStatus};
use crate::money::{EarnRounding, MoneyRounding};
use crate::policy::document::{
    Clawback, ConditionDocument, DecimalString, DowngradeDocument, EarnBasis, EarningDocument,
    ExpiryDocument, ExpiryKind, LevelDocument, MembersDocument, Period, PolicyDocument,
    RedemptionDocument, RefundsDocument, Review, RewardDocument, RuleDocument, TierMetric,
    TiersDocument, Weekday,
};
use crate::policy::Window;
use crate::quote::{Cart, CartLine, QuoteRequest, RedeemPoints};
use crate::simulate::MemberHistory;
use crate::verify::{Json, VerifyRequest};

/// What a struct reader accepts: its type's name and its fields (JSON name, required).
#[cfg(feature = "schema")]
pub trait StructReader {
    const NAME: &'static str;
    const FIELDS: &'static [(&'static str, bool)];
}

/// What a string-enum reader accepts: its type's name and the names of its variants.
#[cfg(feature = "schema")]
pub trait EnumReader {
    const NAME: &'static str;
    const NAMES: &'static [&'static str];
}

/// One reader's accepted shape (see [`reader_shapes`]).
#[cfg(feature = "schema")]
#[derive(Clone, Copy, Debug)]
pub enum ReaderShape {
    Object {
        name: &'static str,
        fields: &'static [(&'static str, bool)],
    },
    Enum {
        name: &'static str,
        names: &'static [&'static str],
    },
}

/// A struct's [`FromJson`] by [`read_struct`] (`req` fields required, `opt` / `default` ones
/// optional), and with feature `schema` its [`StructReader`] from the same list.
macro_rules! struct_reader {
    ($ty:ident { $($field:ident : $mode:ident $key:literal),* $(,)? }) => {
        impl FromJson for $ty {
            fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
                read_struct!(p, $ty { $($field: $mode $key),* })
            }
        }
        #[cfg(feature = "schema")]
        impl StructReader for $ty {
            const NAME: &'static str = stringify!($ty);
            const FIELDS: &'static [(&'static str, bool)] =
                &[$(($key, struct_reader!(@required $mode))),*];
        }
    };
    (@required req) => { true };
    (@required opt) => { false };
    (@required default) => { false };
}

/// A string enum's [`FromJson`] by [`read_enum`], and with feature `schema` its
/// [`EnumReader`] from the same list.
macro_rules! enum_reader {
    ($ty:ident { $($variant:ident $name:literal),* $(,)? }) => {
        impl FromJson for $ty {
            fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
                read_enum!(p, $ty { $($variant $name),* })
            }
        }
        impl $crate::json::write::Named for $ty {
            fn json_name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),*
                }
            }
        }
        #[cfg(feature = "schema")]
        impl EnumReader for $ty {
            const NAME: &'static str = stringify!($ty);
            const NAMES: &'static [&'static str] = &[$($name),*];
        }
    };
}

// ------------------------------------------------------------------ policy (SPEC §1)

impl FromJson for DecimalString {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        String::read(p).map(DecimalString)
    }
}

struct_reader!(PolicyDocument {
    schema: req "schema",
    id: req "id",
    currency: req "currency",
    minor_units: opt "minor_units",
    time_zone: req "time_zone",
    money_rounding: opt "money_rounding",
    earning: req "earning",
    tiers: opt "tiers",
    redemption: opt "redemption",
    rewards: opt "rewards",
    expiry: opt "expiry",
    expiry_notice_days: opt "expiry_notice_days",
    members: opt "members",
    refunds: opt "refunds",
});

struct_reader!(EarningDocument {
    spend: req "spend",
    points: req "points",
    rounding: opt "rounding",
    basis: opt "basis",
    exclude_categories: opt "exclude_categories",
    pending_days: opt "pending_days",
    max_points_per_order: opt "max_points_per_order",
    rules: opt "rules",
});

struct_reader!(RuleDocument {
    id: req "id",
    priority: opt "priority",
    when: opt "when",
    multiplier: opt "multiplier",
    bonus_points: opt "bonus_points",
    points_per_item: opt "points_per_item",
});

struct_reader!(ConditionDocument {
    categories: opt "categories",
    skus: opt "skus",
    stores: opt "stores",
    channels: opt "channels",
    tiers: opt "tiers",
    days_of_week: opt "days_of_week",
    min_subtotal: opt "min_subtotal",
    from: opt "from",
    until: opt "until",
});

struct_reader!(TiersDocument {
    metric: opt "metric",
    window: opt "window",
    levels: req "levels",
    discount_exclude_categories: opt "discount_exclude_categories",
    downgrade: opt "downgrade",
});

struct_reader!(LevelDocument {
    id: req "id",
    name: req "name",
    threshold: req "threshold",
    discount_percent: opt "discount_percent",
    earn_multiplier: opt "earn_multiplier",
});

struct_reader!(DowngradeDocument {
    review: opt "review",
    retain_months: opt "retain_months",
    max_steps: opt "max_steps",
});

struct_reader!(RedemptionDocument {
    point_value: req "point_value",
    min_points: opt "min_points",
    step: opt "step",
    max_share: opt "max_share",
    max_points_per_order: opt "max_points_per_order",
});

struct_reader!(RewardDocument {
    id: req "id",
    name: req "name",
    points: req "points",
    min_tier: opt "min_tier",
});

struct_reader!(ExpiryDocument {
    kind: req "kind",
    months: opt "months",
    period: opt "period",
    after: opt "after",
});

struct_reader!(MembersDocument {
    inactive_earns: opt "inactive_earns",
    unassigned_card_earns: opt "unassigned_card_earns",
});

struct_reader!(RefundsDocument {
    clawback: opt "clawback",
});

/// `"lifetime"`, `"calendar_year"` or `{"rolling_months": n}`.
impl FromJson for Window {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        const EXPECTING: &str = "\"lifetime\", \"calendar_year\" or {\"rolling_months\": n}";
        match p.token()? {
            Token::Str(s) => match s.as_ref() {
                "lifetime" => Ok(Window::Lifetime),
                "calendar_year" => Ok(Window::CalendarYear),
                _ => Err(invalid_value(&Token::Str(s), EXPECTING)),
            },
            Token::ObjectStart => {
                let mut months = None;
                p.object_members(|p, key| match key {
                    "rolling_months" => months.fill(p, key),
                    _ => Err(unknown_field(key, &["rolling_months"])),
                })?;
                required(months, "rolling_months").map(Window::RollingMonths)
            }
            other => Err(invalid_type(&other, EXPECTING)),
        }
    }
}

enum_reader!(MoneyRounding {
    HalfUp "half_up",
    HalfEven "half_even",
    Down "down",
});

enum_reader!(EarnRounding {
    Floor "floor",
    HalfUp "half_up",
    Ceil "ceil",
});

enum_reader!(EarnBasis {
    Paid "paid",
    AfterDiscount "after_discount",
    Gross "gross",
});

enum_reader!(Weekday {
    Mon "mon",
    Tue "tue",
    Wed "wed",
    Thu "thu",
    Fri "fri",
    Sat "sat",
    Sun "sun",
});

enum_reader!(TierMetric {
    Points "points",
    Spend "spend",
    Orders "orders",
});

enum_reader!(Review {
    Never "never",
    Anniversary "anniversary",
    CalendarYearEnd "calendar_year_end",
    HalfYearEnd "half_year_end",
});

enum_reader!(ExpiryKind {
    Never "never",
    After "after",
    EndOfPeriod "end_of_period",
    Inactivity "inactivity",
});

enum_reader!(Period {
    Month "month",
    Quarter "quarter",
    Year "year",
});

enum_reader!(Clawback {
    Unlimited "unlimited",
    WithinBalance "within_balance",
});

// ------------------------------------------------------------------ quote (SPEC §2)

enum_reader!(MemberStatus {
    Active "active",
    Inactive "inactive",
    Excluded "excluded",
    Unassigned "unassigned",
});

struct_reader!(MemberSnapshot {
    id: req "id",
    status: req "status",
    tier: opt "tier",
    points: req "points",
});

struct_reader!(QuoteRequest {
    member: req "member",
    cart: req "cart",
    redeem_points: default "redeem_points",
});

struct_reader!(Cart {
    id: req "id",
    at: req "at",
    store: opt "store",
    channel: opt "channel",
    lines: req "lines",
});

struct_reader!(CartLine {
    id: req "id",
    sku: opt "sku",
    category: opt "category",
    quantity: req "quantity",
    unit_price: req "unit_price",
});

/// `0` (none), a non-negative number of points, or `"max"`.
impl FromJson for RedeemPoints {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        const EXPECTING: &str = "a non-negative integer or \"max\"";
        let token = p.token()?;
        match &token {
            Token::Number(Number::U64(n)) => i64::try_from(*n)
                .map(RedeemPoints::Points)
                .map_err(|_| invalid_value(&token, EXPECTING)),
            Token::Number(Number::I64(_)) => Err(invalid_value(&token, EXPECTING)),
            Token::Str(s) if s == "max" => Ok(RedeemPoints::Max),
            Token::Str(_) => Err(invalid_value(&token, EXPECTING)),
            _ => Err(invalid_type(&token, EXPECTING)),
        }
    }
}

// ------------------------------------------------------------------ ledger (SPEC §3, §4, §5)

struct_reader!(ReplayRequest {
    member: req "member",
    events: req "events",
    as_of: req "as_of",
});

struct_reader!(MemberHistory {
    member: req "member",
    events: req "events",
});

struct_reader!(LedgerMember {
    id: req "id",
    status: req "status",
    joined_at: req "joined_at",
});

enum_reader!(EventType {
    Purchase "purchase",
    Refund "refund",
    Adjust "adjust",
    OpeningBalance "opening_balance",
    SetTier "set_tier",
    Status "status",
    RedeemReward "redeem_reward",
});

struct_reader!(Event {
    id: req "id",
    kind: req "type",
    at: req "at",
    cart: opt "cart",
    redeem_points: opt "redeem_points",
    earn: opt "earn",
    order_id: opt "order_id",
    lines: opt "lines",
    points: opt "points",
    reason: opt "reason",
    counts_for_tier: opt "counts_for_tier",
    expires_at: opt "expires_at",
    tier: opt "tier",
    locked_until: opt "locked_until",
    status: opt "status",
    reward_id: opt "reward_id",
    policy_digest: opt "policy_digest",
    quoted_member: opt "quoted_member",
});

struct_reader!(QuotedMember {
    status: req "status",
    tier: opt "tier",
    points: req "points",
});

struct_reader!(EventCart {
    id: opt "id",
    at: opt "at",
    store: opt "store",
    channel: opt "channel",
    lines: req "lines",
});

struct_reader!(RefundLine {
    line_id: req "line_id",
    quantity: req "quantity",
});

// ------------------------------------------------------------------ verify, generate

struct_reader!(VerifyRequest {
    request: req "request",
    response: req "response",
});

/// Any JSON value, objects in input order, a repeated key refused.
impl FromJson for Json {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        Ok(match p.token()? {
            Token::Null => Json::Null,
            Token::Bool(b) => Json::Bool(b),
            Token::Number(Number::U64(n)) => Json::Number(n.into()),
            Token::Number(Number::I64(n)) => Json::Number(n.into()),
            Token::Number(Number::Float(text)) => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Json::Number)
                .ok_or_else(|| Fault::new("number out of range"))?,
            Token::Str(s) => Json::String(s.into_owned()),
            Token::ArrayStart => {
                let mut out = Vec::new();
                p.array_items(|p, _| {
                    out.push(Json::read(p)?);
                    Ok(())
                })?;
                Json::Array(out)
            }
            Token::ObjectStart => {
                let mut out: Vec<(String, Json)> = Vec::new();
                p.object_members(|p, key| {
                    out.push((key.to_string(), Json::read(p)?));
                    Ok(())
                })?;
                if let Some(fault) = super::read::repeated_key(out.iter().map(|(k, _)| k.as_str()))
                {
                    return Err(fault);
                }
                Json::Object(out)
            }
        })
    }
}

struct_reader!(GenerateOptions {
    members: req "members",
    seed: req "seed",
    months: req "months",
    profile: req "profile",
    as_of: opt "as_of",
});

/// What each reader above accepts, for the schema test (tests/schema.rs): every object type's
/// fields (name, required) and every string enum's names, read off the same macro invocations
/// that build the readers.
#[cfg(feature = "schema")]
pub fn reader_shapes() -> Vec<ReaderShape> {
    fn shape<T: StructReader>() -> ReaderShape {
        ReaderShape::Object {
            name: T::NAME,
            fields: T::FIELDS,
        }
    }
    fn variants<T: EnumReader>() -> ReaderShape {
        ReaderShape::Enum {
            name: T::NAME,
            names: T::NAMES,
        }
    }
    vec![
        // Read by the simulator's own header reader (src/simulate/mod.rs).
        ReaderShape::Object {
            name: "SimulateRequest",
            fields: &crate::simulate::SIMULATE_REQUEST_FIELDS,
        },
        shape::<PolicyDocument>(),
        shape::<EarningDocument>(),
        shape::<RuleDocument>(),
        shape::<ConditionDocument>(),
        shape::<TiersDocument>(),
        shape::<LevelDocument>(),
        shape::<DowngradeDocument>(),
        shape::<RedemptionDocument>(),
        shape::<RewardDocument>(),
        shape::<ExpiryDocument>(),
        shape::<MembersDocument>(),
        shape::<RefundsDocument>(),
        shape::<MemberSnapshot>(),
        shape::<QuoteRequest>(),
        shape::<Cart>(),
        shape::<CartLine>(),
        shape::<ReplayRequest>(),
        shape::<MemberHistory>(),
        shape::<LedgerMember>(),
        shape::<Event>(),
        shape::<QuotedMember>(),
        shape::<EventCart>(),
        shape::<RefundLine>(),
        shape::<VerifyRequest>(),
        shape::<GenerateOptions>(),
        variants::<MoneyRounding>(),
        variants::<EarnRounding>(),
        variants::<EarnBasis>(),
        variants::<Weekday>(),
        variants::<TierMetric>(),
        variants::<Review>(),
        variants::<ExpiryKind>(),
        variants::<Period>(),
        variants::<Clawback>(),
        variants::<MemberStatus>(),
        variants::<EventType>(),
    ]
}
