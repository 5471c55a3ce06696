//! What a merchant's reports read from one member's ledger: the replay of SPEC §3.1 (every
//! published version, booked snapshots), reduced to
//! - **flows**: one row per event that moves money or points, and one per expiry instant —
//!   sales, tier discounts, redeemed points and money, points earned, clawed back, adjusted,
//!   expired, with the store, channel, tier and status they belong to;
//! - **points**: the member's state (available, pending, tier, status) after every change, so
//!   the state at any instant — a period's end — is the last point at or before it.
//!
//! It is the ledger's own clock ([`State::advance_to`] one instant at a time, [`State::step`]),
//! so a report summed over members equals the sum of their `replay` answers as of any instant.
//! Money is in minor units of the programme's currency; days are local dates in its zone.

use crate::error::Error;
use crate::ledger::clock::State;
use crate::ledger::orders::OrderLine;
use crate::ledger::request::{self, Body};
use crate::ledger::{PolicyVersions, ReplayRequest, Versions};
use crate::money::div_round;
use crate::policy::Policy;
use crate::time::Instant;

/// One row of a member's flows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flow {
    /// `purchase`, `refund`, `adjust`, `opening_balance`, `redeem_reward`, `set_tier`,
    /// `status` or `expire`.
    pub kind: &'static str,
    /// None for `expire`.
    pub event_id: Option<String>,
    /// Epoch milliseconds, and the local date (`YYYY-MM-DD`) in the programme's zone.
    pub at_ms: i64,
    pub day: String,
    /// The purchase's own id, or the order a refund returns to.
    pub order_id: Option<String>,
    pub store: Option<String>,
    pub channel: Option<String>,
    /// Level id: the tier an order was priced at (refunds: their order's), else the member's
    /// tier before the row.
    pub tier: String,
    /// The member's status before the row (an order's: the one it was priced with).
    pub status: &'static str,
    /// 1 for a purchase; 1 for a refund (in `refunds`).
    pub orders: i64,
    pub refunds: i64,
    /// Subtotal, tier discount, money paid with points, money paid (minor units); a refund
    /// writes what it takes back, negative.
    pub gross: i64,
    pub discount: i64,
    pub redeemed_amount: i64,
    pub paid: i64,
    /// Points redeemed (net of returned points: a refund's are negative) — on orders and
    /// rewards.
    pub redeemed: i64,
    pub earned: i64,
    pub clawed_back: i64,
    pub adjusted: i64,
    pub expired: i64,
    pub opening: i64,
}

/// The member's state after a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    pub at_ms: i64,
    pub day: String,
    pub available: i64,
    pub pending: i64,
    pub tier: String,
    pub status: &'static str,
}

/// A member's report facts up to `as_of`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberFacts {
    pub flows: Vec<Flow>,
    /// The first point is the state at `joined_at` (lowest level, no points).
    pub points: Vec<Point>,
}

/// Epoch milliseconds of an instant.
pub fn ms(t: Instant) -> i64 {
    t.unix_seconds() * 1000 + i64::from(t.subsec_nanos() / 1_000_000)
}

/// The instant of epoch milliseconds.
pub fn instant(ms: i64) -> Result<Instant, Error> {
    Instant::from_unix(
        ms.div_euclid(1000),
        (ms.rem_euclid(1000) as u32) * 1_000_000,
    )
    .map_err(|e| Error::invalid_request("as_of", e.to_string()))
}

/// The local date of `ms` in the policy's zone, `YYYY-MM-DD`.
pub fn day_of(policy: &Policy, ms_at: i64) -> String {
    match instant(ms_at) {
        Ok(t) => {
            let (y, m, d) = policy.time_zone.local_ymd(t);
            format!("{y:04}-{m:02}-{d:02}")
        }
        Err(_) => String::new(),
    }
}

/// The instant (epoch ms) a local date `YYYY-MM-DD` starts in the policy's zone (SPEC §7.3
/// for gaps); None for a malformed date.
pub fn day_start_ms(policy: &Policy, day: &str) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let t = policy.time_zone.from_local(d.and_hms_opt(0, 0, 0)?).ok()?;
    Some(ms(t))
}

/// Σ amount(line) × refunded ÷ quantity over the lines, rounded once with the policy's
/// `money_rounding` (SPEC §7.14 keeps the remaining units' original amounts, exactly).
fn prorated(
    policy: &Policy,
    lines: &[OrderLine],
    refunded: &[i64],
    amount: impl Fn(&OrderLine) -> i64,
) -> Option<i128> {
    let mut num: i128 = 0;
    let mut den: i128 = 1;
    for (l, r) in lines.iter().zip(refunded) {
        if *r == 0 || l.quantity == 0 {
            continue;
        }
        let q = i128::from(l.quantity);
        let g = gcd(den, q);
        let lcm = den.checked_mul(q / g)?;
        num = num.checked_mul(lcm / den)?.checked_add(
            i128::from(amount(l))
                .checked_mul(i128::from(*r))?
                .checked_mul(lcm / q)?,
        )?;
        den = lcm;
    }
    div_round(num, den, policy.money_rounding.into())
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

fn narrow(v: i128, path: &str) -> Result<i64, Error> {
    i64::try_from(v).map_err(|_| Error::overflow(path.to_string()))
}

/// The report facts of a replay request (the §3.1 request a server builds: `policies` or one
/// `policy`), as of its `as_of`.
pub fn member_facts(versions: &PolicyVersions, req: &ReplayRequest) -> Result<MemberFacts, Error> {
    let list = versions.versions();
    let versions = Versions::many(&list).ok_or_else(|| {
        Error::invalid_request("policies", "policies must list at least one version")
    })?;
    let checked = request::check(&versions, &req.view(), &req.as_of)?;
    let mut order: Vec<&request::Checked> = checked
        .events
        .iter()
        .filter(|e| e.at <= checked.as_of)
        .collect();
    crate::sort::sort_by_key(&mut order, |e| e.at);
    let mut state = State::with_versions(versions, checked.status, checked.joined_at);
    state.record = false;
    let mut facts = MemberFacts::default();
    let policy0 = versions.first().policy;
    facts.points.push(point(&state, checked.joined_at, policy0));
    for e in order {
        run(&mut state, &mut facts, e.at, policy0)?;
        let before = (state.totals.clone(), state.opening, state.orders.len());
        let tier_before = crate::ledger::clock::level_id(state.policy, state.tier.tier);
        let status_before = state.status.as_str();
        // A refund's order and its refunded units before the refund.
        let refund_of: Option<(usize, Vec<i64>)> = match &e.body {
            Body::Refund { order_id, .. } => state
                .orders
                .iter()
                .enumerate()
                .find(|(_, o)| o.id == *order_id)
                .map(|(i, o)| (i, o.lines.iter().map(|l| l.refunded).collect())),
            _ => None,
        };
        state.apply(e)?;
        let (t0, opening0, orders0) = before;
        let t1 = state.totals.clone();
        let mut f = Flow {
            kind: e.body.kind().as_str(),
            event_id: Some(e.id.to_string()),
            at_ms: ms(e.at),
            day: day_of(policy0, ms(e.at)),
            tier: tier_before,
            status: status_before,
            redeemed: t1.redeemed - t0.redeemed,
            earned: t1.earned - t0.earned,
            clawed_back: t1.clawed_back - t0.clawed_back,
            adjusted: t1.adjusted - t0.adjusted,
            expired: t1.expired - t0.expired,
            opening: state.opening - opening0,
            ..Flow::default()
        };
        let path = format!("events[{}]", e.index);
        match &e.body {
            Body::Purchase { .. } => {
                if let Some(o) = state.orders.get(orders0) {
                    let gross: i128 = o
                        .lines
                        .iter()
                        .map(|l| i128::from(l.quantity) * i128::from(l.unit_price))
                        .sum();
                    let after: i128 = o.lines.iter().map(|l| i128::from(l.after_discount)).sum();
                    let paid: i128 = o.lines.iter().map(|l| i128::from(l.paid)).sum();
                    f.order_id = Some(o.id.to_string());
                    f.store = o.store.map(str::to_string);
                    f.channel = o.channel.map(str::to_string);
                    f.tier = crate::ledger::clock::level_id(state.policy, o.member.tier);
                    f.status = o.member.status.as_str();
                    f.orders = 1;
                    f.gross = narrow(gross, &path)?;
                    f.discount = narrow(gross - after, &path)?;
                    f.redeemed_amount = narrow(after - paid, &path)?;
                    f.paid = narrow(paid, &path)?;
                }
            }
            Body::Refund { .. } => {
                if let Some((o, was)) =
                    refund_of.and_then(|(i, was)| state.orders.get(i).map(|o| (o, was)))
                {
                    let policy = state.versions.get(o.version).policy;
                    let now: Vec<i64> = o.lines.iter().map(|l| l.refunded).collect();
                    let diff = |amount: &dyn Fn(&OrderLine) -> i64| -> Result<i64, Error> {
                        let a = prorated(policy, &o.lines, &now, amount);
                        let b = prorated(policy, &o.lines, &was, amount);
                        match (a, b) {
                            (Some(a), Some(b)) => narrow(b - a, &path),
                            _ => Err(Error::overflow(path.clone())),
                        }
                    };
                    let gross = diff(&|l: &OrderLine| l.quantity * l.unit_price)?;
                    let after = diff(&|l: &OrderLine| l.after_discount)?;
                    let paid = diff(&|l: &OrderLine| l.paid)?;
                    f.order_id = Some(o.id.to_string());
                    f.store = o.store.map(str::to_string);
                    f.channel = o.channel.map(str::to_string);
                    f.tier = crate::ledger::clock::level_id(policy, o.member.tier);
                    f.status = o.member.status.as_str();
                    f.refunds = 1;
                    f.gross = gross;
                    f.discount = gross - after;
                    f.redeemed_amount = after - paid;
                    f.paid = paid;
                }
            }
            _ => {}
        }
        facts.flows.push(f);
        push_point(&mut facts, point(&state, e.at, policy0));
    }
    if let Some((_, err)) = checked.fault {
        return Err(err);
    }
    run(&mut state, &mut facts, checked.as_of, policy0)?;
    Ok(facts)
}

fn point(s: &State, at: Instant, policy0: &Policy) -> Point {
    Point {
        at_ms: ms(at),
        day: day_of(policy0, ms(at)),
        available: s.lots.available(),
        pending: s.lots.pending(),
        tier: crate::ledger::clock::level_id(s.policy, s.tier.tier),
        status: s.status.as_str(),
    }
}

/// Adds a point unless the state did not change.
fn push_point(facts: &mut MemberFacts, p: Point) {
    let same = facts.points.last().is_some_and(|l| {
        (l.available, l.pending, &l.tier, l.status) == (p.available, p.pending, &p.tier, p.status)
    });
    if !same {
        facts.points.push(p);
    }
}

/// Runs the clock to `limit` one instant at a time: expiry rows and state points.
fn run(
    state: &mut State,
    facts: &mut MemberFacts,
    limit: Instant,
    policy0: &Policy,
) -> Result<(), Error> {
    loop {
        let expired0 = state.totals.expired;
        let Some(t) = state.step(limit)? else {
            break;
        };
        let gone = state.totals.expired - expired0;
        if gone != 0 {
            facts.flows.push(Flow {
                kind: "expire",
                at_ms: ms(t),
                day: day_of(policy0, ms(t)),
                tier: crate::ledger::clock::level_id(state.policy, state.tier.tier),
                status: state.status.as_str(),
                expired: gone,
                ..Flow::default()
            });
        }
        push_point(facts, point(state, t, policy0));
    }
    state.advance_to(limit)
}

/// [`member_facts`] of a replay request as JSON text (`op` optional; `policies` or `policy`).
pub fn member_facts_json(text: &str) -> Result<MemberFacts, Error> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Error::invalid_request("", format!("not JSON: {e}")))?;
    let mut obj = match value {
        serde_json::Value::Object(o) => o,
        _ => return Err(Error::invalid_request("", "a replay request is an object")),
    };
    obj.remove("op");
    let versions = match (obj.remove("policies"), obj.remove("policy")) {
        (Some(p), None) => crate::ledger::versions::policies_from_json(&p.to_string())?,
        (None, Some(p)) => {
            let policy = Policy::from_json(&p.to_string()).map_err(|e| e.within("policy"))?;
            let digest = policy.digest()?;
            PolicyVersions::new(vec![(None, policy, digest)])?
        }
        _ => {
            return Err(Error::invalid_request(
                "policies",
                "a replay request gives policy or policies",
            ))
        }
    };
    let req: ReplayRequest = crate::json::parse(
        &serde_json::Value::Object(obj).to_string(),
        crate::error::ErrorCode::InvalidRequest,
    )?;
    member_facts(&versions, &req)
}

/// [`member_facts`] of a replay request's JSON text without `op` and `policy`/`policies`
/// (what [`crate::ledger::PolicyVersions::replay_json`] reads), under versions read once.
pub fn member_facts_request(
    versions: &PolicyVersions,
    request_json: &str,
) -> Result<MemberFacts, Error> {
    let req: ReplayRequest =
        crate::json::parse(request_json, crate::error::ErrorCode::InvalidRequest)?;
    member_facts(versions, &req)
}

/// Money in minor units written in the policy's currency (`"1315000"`, `"12.50"`).
pub fn money(policy: &Policy, minor: i64) -> String {
    policy.currency.format(minor)
}

/// The liability of `outstanding` points as SPEC §5 computes it: outstanding × `point_value`
/// × `expected_redemption` (1 when None), rounded once with `money_rounding`; None without a
/// `redemption` section. `expected` is a decimal string (`"0.7"`).
pub fn liability(
    policy: &Policy,
    outstanding: i64,
    expected: Option<&str>,
) -> Result<Option<String>, Error> {
    use crate::money::{mul, pow10, Dec, Rounding};
    let Some(r) = &policy.redemption else {
        return Ok(None);
    };
    let e = match expected {
        None => Dec::one(),
        Some(s) => Dec::parse(s)
            .ok()
            .filter(|d| !d.is_negative())
            .ok_or_else(|| {
                Error::invalid_request(
                    "expected_redemption",
                    format!("{s:?} is not a non-negative decimal"),
                )
            })?,
    };
    let (m, s) = e.parts();
    let overflow = || Error::overflow("expected_redemption");
    let v = mul(i128::from(outstanding), i128::from(r.point_value.minor))
        .and_then(|v| mul(v, m))
        .and_then(|v| pow10(s).and_then(|d| div_round(v, d, Rounding::from(policy.money_rounding))))
        .ok_or_else(overflow)?;
    Ok(Some(money(
        policy,
        i64::try_from(v).map_err(|_| overflow())?,
    )))
}

/// `num ÷ den` rounded with the policy's `money_rounding` (averages of money); None when
/// `den` is 0.
pub fn money_ratio(policy: &Policy, num: i64, den: i64) -> Option<String> {
    if den == 0 {
        return None;
    }
    div_round(
        i128::from(num),
        i128::from(den),
        policy.money_rounding.into(),
    )
    .and_then(|v| i64::try_from(v).ok())
    .map(|v| money(policy, v))
}
