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

// ------------------------------------------------------------------ policy (SPEC §1)

impl FromJson for DecimalString {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        String::read(p).map(DecimalString)
    }
}

impl FromJson for PolicyDocument {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, PolicyDocument {
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
        })
    }
}

impl FromJson for EarningDocument {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, EarningDocument {
            spend: req "spend",
            points: req "points",
            rounding: opt "rounding",
            basis: opt "basis",
            exclude_categories: opt "exclude_categories",
            pending_days: opt "pending_days",
            max_points_per_order: opt "max_points_per_order",
            rules: opt "rules",
        })
    }
}

impl FromJson for RuleDocument {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, RuleDocument {
            id: req "id",
            priority: opt "priority",
            when: opt "when",
            multiplier: opt "multiplier",
            bonus_points: opt "bonus_points",
            points_per_item: opt "points_per_item",
        })
    }
}

impl FromJson for ConditionDocument {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, ConditionDocument {
            categories: opt "categories",
            skus: opt "skus",
            stores: opt "stores",
            channels: opt "channels",
            tiers: opt "tiers",
            days_of_week: opt "days_of_week",
            min_subtotal: opt "min_subtotal",
            from: opt "from",
            until: opt "until",
        })
    }
}

impl FromJson for TiersDocument {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, TiersDocument {
            metric: opt "metric",
            window: opt "window",
            levels: req "levels",
            discount_exclude_categories: opt "discount_exclude_categories",
            downgrade: opt "downgrade",
        })
    }
}

impl FromJson for LevelDocument {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, LevelDocument {
            id: req "id",
            name: req "name",
            threshold: req "threshold",
            discount_percent: opt "discount_percent",
            earn_multiplier: opt "earn_multiplier",
        })
    }
}

impl FromJson for DowngradeDocument {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, DowngradeDocument {
            review: opt "review",
            retain_months: opt "retain_months",
            max_steps: opt "max_steps",
        })
    }
}

impl FromJson for RedemptionDocument {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, RedemptionDocument {
            point_value: req "point_value",
            min_points: opt "min_points",
            step: opt "step",
            max_share: opt "max_share",
            max_points_per_order: opt "max_points_per_order",
        })
    }
}

impl FromJson for RewardDocument {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, RewardDocument {
            id: req "id",
            name: req "name",
            points: req "points",
            min_tier: opt "min_tier",
        })
    }
}

impl FromJson for ExpiryDocument {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, ExpiryDocument {
            kind: req "kind",
            months: opt "months",
            period: opt "period",
            after: opt "after",
        })
    }
}

impl FromJson for MembersDocument {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, MembersDocument {
            inactive_earns: opt "inactive_earns",
            unassigned_card_earns: opt "unassigned_card_earns",
        })
    }
}

impl FromJson for RefundsDocument {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, RefundsDocument { clawback: opt "clawback" })
    }
}

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

impl FromJson for MoneyRounding {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_enum!(p, MoneyRounding { HalfUp "half_up", HalfEven "half_even", Down "down" })
    }
}

impl FromJson for EarnRounding {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_enum!(p, EarnRounding { Floor "floor", HalfUp "half_up", Ceil "ceil" })
    }
}

impl FromJson for EarnBasis {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_enum!(p, EarnBasis { Paid "paid", AfterDiscount "after_discount", Gross "gross" })
    }
}

impl FromJson for Weekday {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_enum!(p, Weekday {
            Mon "mon", Tue "tue", Wed "wed", Thu "thu", Fri "fri", Sat "sat", Sun "sun",
        })
    }
}

impl FromJson for TierMetric {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_enum!(p, TierMetric { Points "points", Spend "spend", Orders "orders" })
    }
}

impl FromJson for Review {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_enum!(p, Review {
            Never "never",
            Anniversary "anniversary",
            CalendarYearEnd "calendar_year_end",
            HalfYearEnd "half_year_end",
        })
    }
}

impl FromJson for ExpiryKind {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_enum!(p, ExpiryKind {
            Never "never",
            After "after",
            EndOfPeriod "end_of_period",
            Inactivity "inactivity",
        })
    }
}

impl FromJson for Period {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_enum!(p, Period { Month "month", Quarter "quarter", Year "year" })
    }
}

impl FromJson for Clawback {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_enum!(p, Clawback { Unlimited "unlimited", WithinBalance "within_balance" })
    }
}

// ------------------------------------------------------------------ quote (SPEC §2)

impl FromJson for MemberStatus {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_enum!(p, MemberStatus {
            Active "active",
            Inactive "inactive",
            Excluded "excluded",
            Unassigned "unassigned",
        })
    }
}

impl FromJson for MemberSnapshot {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, MemberSnapshot {
            id: req "id",
            status: req "status",
            tier: opt "tier",
            points: req "points",
        })
    }
}

impl FromJson for QuoteRequest {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, QuoteRequest {
            member: req "member",
            cart: req "cart",
            redeem_points: default "redeem_points",
        })
    }
}

impl FromJson for Cart {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, Cart {
            id: req "id",
            at: req "at",
            store: opt "store",
            channel: opt "channel",
            lines: req "lines",
        })
    }
}

impl FromJson for CartLine {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, CartLine {
            id: req "id",
            sku: opt "sku",
            category: opt "category",
            quantity: req "quantity",
            unit_price: req "unit_price",
        })
    }
}

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

impl FromJson for ReplayRequest {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, ReplayRequest {
            member: req "member",
            events: req "events",
            as_of: req "as_of",
        })
    }
}

impl FromJson for MemberHistory {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, MemberHistory { member: req "member", events: req "events" })
    }
}

impl FromJson for LedgerMember {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, LedgerMember {
            id: req "id",
            status: req "status",
            joined_at: req "joined_at",
        })
    }
}

impl FromJson for EventType {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_enum!(p, EventType {
            Purchase "purchase",
            Refund "refund",
            Adjust "adjust",
            OpeningBalance "opening_balance",
            SetTier "set_tier",
            Status "status",
            RedeemReward "redeem_reward",
        })
    }
}

impl FromJson for Event {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, Event {
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
        })
    }
}

impl FromJson for QuotedMember {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, QuotedMember {
            status: req "status",
            tier: opt "tier",
            points: req "points",
        })
    }
}

impl FromJson for EventCart {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, EventCart {
            id: opt "id",
            at: opt "at",
            store: opt "store",
            channel: opt "channel",
            lines: req "lines",
        })
    }
}

impl FromJson for RefundLine {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, RefundLine { line_id: req "line_id", quantity: req "quantity" })
    }
}

// ------------------------------------------------------------------ verify, generate

impl FromJson for VerifyRequest {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, VerifyRequest { request: req "request", response: req "response" })
    }
}

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

impl FromJson for GenerateOptions {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, GenerateOptions {
            members: req "members",
            seed: req "seed",
            months: req "months",
            profile: req "profile",
            as_of: opt "as_of",
        })
    }
}
