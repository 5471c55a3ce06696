//! The canonical form of a policy (SPEC §7.2), written by hand (`json::write`): the same bytes
//! as serde_json gives for the [`Policy`]'s `Serialize` (fields in §1 order, every default
//! present, decimals normalized, absent options as `null`), which the tests check on every
//! policy of the vectors. Without a serde instantiation and serde_json's writer in the small
//! Wasm modules, which hash every policy they read.

use super::model::{
    Condition, Downgrade, Earning, Effect, Expiry, Level, Members, Policy, Redemption, Refunds,
    Reward, Rule, Tiers, Window,
};
use crate::json::write::{int, list, name, opt_int, opt_string, string, strings};
use crate::money::Dec;

/// The canonical form as compact JSON.
pub fn write(p: &Policy) -> String {
    let mut out = String::with_capacity(1024);
    let o = &mut out;
    o.push_str("{\"schema\":");
    int(o, p.schema);
    o.push_str(",\"id\":");
    string(o, &p.id);
    o.push_str(",\"currency\":");
    string(o, &p.currency.code);
    o.push_str(",\"minor_units\":");
    int(o, i64::from(p.minor_units));
    o.push_str(",\"time_zone\":");
    string(o, p.time_zone.name());
    o.push_str(",\"money_rounding\":");
    name(o, p.money_rounding);
    o.push_str(",\"earning\":");
    earning(o, &p.earning);
    o.push_str(",\"tiers\":");
    tiers(o, &p.tiers);
    o.push_str(",\"redemption\":");
    match &p.redemption {
        Some(r) => redemption(o, r),
        None => o.push_str("null"),
    }
    o.push_str(",\"rewards\":");
    list(o, &p.rewards, reward);
    o.push_str(",\"expiry\":");
    expiry(o, p.expiry);
    o.push_str(",\"expiry_notice_days\":");
    int(o, p.expiry_notice_days);
    o.push_str(",\"members\":");
    members(o, p.members);
    o.push_str(",\"refunds\":");
    refunds(o, p.refunds);
    o.push('}');
    out
}

/// A decimal as a JSON string (`"12.5"`).
fn dec(o: &mut String, d: &Dec) {
    o.push('"');
    d.write(o);
    o.push('"');
}

fn opt_dec(o: &mut String, d: Option<&Dec>) {
    match d {
        Some(d) => dec(o, d),
        None => o.push_str("null"),
    }
}

fn opt_strings(o: &mut String, l: &Option<Vec<String>>) {
    match l {
        Some(l) => strings(o, l),
        None => o.push_str("null"),
    }
}

fn earning(o: &mut String, e: &Earning) {
    o.push_str("{\"spend\":");
    dec(o, &e.spend.dec);
    o.push_str(",\"points\":");
    int(o, e.points);
    o.push_str(",\"rounding\":");
    name(o, e.rounding);
    o.push_str(",\"basis\":");
    name(o, e.basis);
    o.push_str(",\"exclude_categories\":");
    strings(o, &e.exclude_categories);
    o.push_str(",\"pending_days\":");
    int(o, e.pending_days);
    o.push_str(",\"max_points_per_order\":");
    opt_int(o, e.max_points_per_order);
    o.push_str(",\"rules\":");
    list(o, &e.rules, rule);
    o.push('}');
}

fn rule(o: &mut String, r: &Rule) {
    o.push_str("{\"id\":");
    string(o, &r.id);
    o.push_str(",\"priority\":");
    int(o, r.priority);
    o.push_str(",\"when\":");
    condition(o, &r.when);
    let (mult, bonus, per_item) = match r.effect {
        Effect::Multiplier(d) => (Some(d), None, None),
        Effect::BonusPoints(n) => (None, Some(n), None),
        Effect::PointsPerItem(n) => (None, None, Some(n)),
    };
    o.push_str(",\"multiplier\":");
    opt_dec(o, mult.as_ref());
    o.push_str(",\"bonus_points\":");
    opt_int(o, bonus);
    o.push_str(",\"points_per_item\":");
    opt_int(o, per_item);
    o.push('}');
}

fn condition(o: &mut String, c: &Condition) {
    o.push_str("{\"categories\":");
    opt_strings(o, &c.categories);
    o.push_str(",\"skus\":");
    opt_strings(o, &c.skus);
    o.push_str(",\"stores\":");
    opt_strings(o, &c.stores);
    o.push_str(",\"channels\":");
    opt_strings(o, &c.channels);
    o.push_str(",\"tiers\":");
    opt_strings(o, &c.tiers);
    o.push_str(",\"days_of_week\":");
    match &c.days_of_week {
        Some(days) => list(o, days, |o, d| name(o, *d)),
        None => o.push_str("null"),
    }
    o.push_str(",\"min_subtotal\":");
    opt_dec(o, c.min_subtotal.as_ref().map(|m| &m.dec));
    o.push_str(",\"from\":");
    opt_string(o, c.from.as_ref().map(|b| b.written.as_str()));
    o.push_str(",\"until\":");
    opt_string(o, c.until.as_ref().map(|b| b.written.as_str()));
    o.push('}');
}

fn tiers(o: &mut String, t: &Tiers) {
    o.push_str("{\"metric\":");
    name(o, t.metric);
    o.push_str(",\"window\":");
    match t.window {
        Window::Lifetime => o.push_str("\"lifetime\""),
        Window::CalendarYear => o.push_str("\"calendar_year\""),
        Window::RollingMonths(n) => {
            o.push_str("{\"rolling_months\":");
            int(o, n);
            o.push('}');
        }
    }
    o.push_str(",\"levels\":");
    list(o, &t.levels, level);
    o.push_str(",\"discount_exclude_categories\":");
    strings(o, &t.discount_exclude_categories);
    o.push_str(",\"downgrade\":");
    downgrade(o, t.downgrade);
    o.push('}');
}

fn level(o: &mut String, l: &Level) {
    o.push_str("{\"id\":");
    string(o, &l.id);
    o.push_str(",\"name\":");
    string(o, &l.name);
    o.push_str(",\"threshold\":");
    dec(o, &l.threshold.dec);
    o.push_str(",\"discount_percent\":");
    dec(o, &l.discount_percent);
    o.push_str(",\"earn_multiplier\":");
    dec(o, &l.earn_multiplier);
    o.push('}');
}

fn downgrade(o: &mut String, d: Downgrade) {
    o.push_str("{\"review\":");
    name(o, d.review);
    o.push_str(",\"retain_months\":");
    int(o, d.retain_months);
    o.push_str(",\"max_steps\":");
    opt_int(o, d.max_steps);
    o.push('}');
}

fn redemption(o: &mut String, r: &Redemption) {
    o.push_str("{\"point_value\":");
    dec(o, &r.point_value.dec);
    o.push_str(",\"min_points\":");
    int(o, r.min_points);
    o.push_str(",\"step\":");
    int(o, r.step);
    o.push_str(",\"max_share\":");
    dec(o, &r.max_share);
    o.push_str(",\"max_points_per_order\":");
    opt_int(o, r.max_points_per_order);
    o.push('}');
}

fn reward(o: &mut String, r: &Reward) {
    o.push_str("{\"id\":");
    string(o, &r.id);
    o.push_str(",\"name\":");
    string(o, &r.name);
    o.push_str(",\"points\":");
    int(o, r.points);
    o.push_str(",\"min_tier\":");
    opt_string(o, r.min_tier.as_deref());
    o.push('}');
}

/// `kind` first, then only that kind's fields.
fn expiry(o: &mut String, e: Expiry) {
    match e {
        Expiry::Never => o.push_str("{\"kind\":\"never\"}"),
        Expiry::After { months } => {
            o.push_str("{\"kind\":\"after\",\"months\":");
            int(o, months);
            o.push('}');
        }
        Expiry::EndOfPeriod { period, after } => {
            o.push_str("{\"kind\":\"end_of_period\",\"period\":");
            name(o, period);
            o.push_str(",\"after\":");
            int(o, after);
            o.push('}');
        }
        Expiry::Inactivity { months } => {
            o.push_str("{\"kind\":\"inactivity\",\"months\":");
            int(o, months);
            o.push('}');
        }
    }
}

fn members(o: &mut String, m: Members) {
    o.push_str("{\"inactive_earns\":");
    o.push_str(bool_text(m.inactive_earns));
    o.push_str(",\"unassigned_card_earns\":");
    o.push_str(bool_text(m.unassigned_card_earns));
    o.push('}');
}

fn refunds(o: &mut String, r: Refunds) {
    o.push_str("{\"clawback\":");
    name(o, r.clawback);
    o.push('}');
}

fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}
