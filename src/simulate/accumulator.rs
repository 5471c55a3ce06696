//! The incremental part of a simulation: one member's replay under a policy reduced to the
//! facts the report needs, and the running sums those facts are added to.
//!
//! Every figure is an integer sum (points, minor units, member counts), so partial sums of any
//! split of the members merge into exactly the single-threaded answer; only `rejected` has an
//! order, which [`Partial::merge`] restores by member index.

use super::response::{Figures, MembersMoved, MonthFigures, PointsFigures, Rejected, TierCount};
use crate::error::Error;
use crate::ledger::clock::State;
use crate::ledger::memo::ExpiryMemo;
use crate::ledger::request::{self, Body, CheckedRequest};
use crate::ledger::view::HistoryView;
use crate::member::MemberStatus;
use crate::money::{div_round, mul, pow10, Dec, Rounding, MAX_POINTS};
use crate::policy::Policy;
use crate::quote::RedeemMode;
use crate::time::{Instant, Zone};
use std::collections::BTreeMap;

/// A local month as `year × 12 + month0`: ordered, cheap to compare and to step through.
pub type MonthKey = i64;

/// The local month of `t`: `zone.local_date(t)`'s year × 12 + month0, with integer arithmetic
/// only (this runs for every event): the local day number from the offset, then the civil date
/// (H. Hinnant's `civil_from_days`).
fn month_key(zone: Zone, t: Instant) -> MonthKey {
    let (year, month, _) = zone.local_ymd(t);
    year * 12 + i64::from(month) - 1
}

fn month_text(k: MonthKey) -> String {
    format!("{:04}-{:02}", k.div_euclid(12), k.rem_euclid(12) + 1)
}

/// Flows of one month: points issued, redeemed, expired, and tier discounts (minor units).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flows {
    pub issued: i128,
    pub redeemed: i128,
    pub expired: i128,
    pub discounts: i128,
}

impl Flows {
    fn add(&mut self, o: &Flows) {
        self.issued += o.issued;
        self.redeemed += o.redeemed;
        self.expired += o.expired;
        self.discounts += o.discounts;
    }
}

/// One member's history under one policy, reduced to what the report sums.
#[derive(Clone, Debug, Default)]
pub struct MemberFacts {
    /// Final level index at `as_of`.
    pub tier: usize,
    /// available + pending at `as_of`.
    pub outstanding: i64,
    /// Flows by month (a few entries; merged into the sums when the member is accepted).
    pub months: Vec<(MonthKey, Flows)>,
    /// The member's earliest event at or before `as_of`.
    pub first_event: Option<Instant>,
}

impl MemberFacts {
    /// Adds to the flows of month `k`.
    fn add(&mut self, k: MonthKey, f: impl FnOnce(&mut Flows)) {
        // Events come in time order, so the month is nearly always the last one.
        if let Some((_, flows)) = self.months.iter_mut().rev().find(|(m, _)| *m == k) {
            f(flows);
            return;
        }
        let mut flows = Flows::default();
        f(&mut flows);
        self.months.push((k, flows));
    }
}

/// Net tier discount still given on an order after `refunded[i]` units of each line were
/// returned: the order's discount less round(Σ discount_i × refunded_i ÷ quantity_i), rounded
/// once with `money_rounding` (§7.14 keeps remaining units' original discount).
fn refunded_discount(
    policy: &Policy,
    lines: &[crate::ledger::orders::OrderLine],
    refunded: &[i64],
) -> Option<i128> {
    let mut num: i128 = 0;
    let mut den: i128 = 1;
    for (l, r) in lines.iter().zip(refunded) {
        if *r == 0 {
            continue;
        }
        let d = i128::from(l.quantity)
            .checked_mul(i128::from(l.unit_price))?
            .checked_sub(i128::from(l.after_discount))?;
        let q = i128::from(l.quantity);
        // num/den + d·r/q over the least common denominator.
        let g = gcd(den, q);
        let lcm = den.checked_mul(q / g)?;
        num = num
            .checked_mul(lcm / den)?
            .checked_add(d.checked_mul(i128::from(*r))?.checked_mul(lcm / q)?)?;
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

/// What the simulator knows of a booked purchase.
struct Booked {
    order: usize,
    /// Its discount counts (an earning purchase; `earn: false` history gave no discount here).
    counts: bool,
}

/// Replays one member under `policy` up to `as_of` the way the ledger does (SPEC §3, same
/// fault order), with the simulation's two differences (SPEC §5): a purchase's
/// `redeem_points` above what the policy allows is clamped, and a `redeem_reward` the member
/// cannot take under the policy (not enough points, tier or status) is skipped. Month keys
/// are local months of `month_zone` (the draft policy's zone, for both policies).
pub fn replay_member(
    policy: &Policy,
    member: &HistoryView,
    as_of: Instant,
    month_zone: Zone,
    memo: &mut Option<Box<ExpiryMemo>>,
) -> Result<MemberFacts, Error> {
    let checked =
        request::check_until(&crate::ledger::Versions::single(policy, ""), member, as_of)?;
    replay_checked(
        policy,
        &History::new(&checked, month_zone),
        month_zone,
        memo,
    )
}

/// A member's history after its static check (which depends on the policy only through its
/// currency, level ids and reward ids, see [`same_static_check`]) and the replay order. Built
/// once per member and replayed under both the draft and the baseline.
pub struct History<'c, 'a> {
    pub checked: &'c CheckedRequest<'a>,
    /// Event indexes at or before `as_of`, in time order (ties in input order), each with its
    /// local month in the report's zone (the same for both replays: computed once).
    order: Vec<(usize, MonthKey)>,
}

impl<'c, 'a> History<'c, 'a> {
    /// `month_zone`: the zone of the report's months (the draft's).
    pub fn new(checked: &'c CheckedRequest<'a>, month_zone: Zone) -> History<'c, 'a> {
        let as_of = checked.as_of;
        let mut order: Vec<(usize, MonthKey)> = checked
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.at <= as_of)
            .map(|(i, e)| (i, month_key(month_zone, e.at)))
            .collect();
        let at = |&(i, _): &(usize, MonthKey)| checked.events.get(i).map(|e| e.at);
        // Stable: ties keep input order.
        if !order.is_sorted_by_key(at) {
            order.sort_by_key(at);
        }
        History { checked, order }
    }

    fn purchases(&self) -> usize {
        self.checked
            .events
            .iter()
            .filter(|e| matches!(e.body, Body::Purchase { .. }))
            .count()
    }
}

/// Whether two policies check a history the same way (same result, same faults): the static
/// check reads only the currency, the level ids and the reward ids.
pub fn same_static_check(a: &Policy, b: &Policy) -> bool {
    a.currency == b.currency
        && a.tiers.levels.len() == b.tiers.levels.len()
        && a.tiers
            .levels
            .iter()
            .zip(&b.tiers.levels)
            .all(|(x, y)| x.id == y.id)
        && a.rewards.len() == b.rewards.len()
        && a.rewards.iter().zip(&b.rewards).all(|(x, y)| x.id == y.id)
}

/// [`replay_member`] of a checked history.
/// `memo`: expiry instants remembered from earlier members (lent to the replay, given back).
pub fn replay_checked(
    policy: &Policy,
    history: &History,
    month_zone: Zone,
    memo: &mut Option<Box<ExpiryMemo>>,
) -> Result<MemberFacts, Error> {
    let mut m = memo.take().unwrap_or_default();
    m.bind(policy);
    let (facts, m) = replay_with(policy, history, month_zone, m);
    *memo = Some(m);
    facts
}

/// [`replay_checked`] with the memo, which it gives back whatever the outcome.
fn replay_with(
    policy: &Policy,
    history: &History,
    month_zone: Zone,
    memo: Box<ExpiryMemo>,
) -> (Result<MemberFacts, Error>, Box<ExpiryMemo>) {
    let mut state = State::new(policy, history.checked.status, history.checked.joined_at);
    state.expiry_memo = Some(memo);
    let facts = replay_state(&mut state, history, month_zone);
    (facts, state.expiry_memo.take().unwrap_or_default())
}

fn replay_state<'a>(
    state: &mut State<'_, 'a>,
    history: &History<'_, 'a>,
    month_zone: Zone,
) -> Result<MemberFacts, Error> {
    let policy = state.policy;
    let checked = history.checked;
    let as_of = checked.as_of;
    // Room for every purchase's order, lot and qualifying entry up front: growing these
    // Vecs one push at a time showed in profiles.
    let purchases = history.purchases();
    state.reserve(purchases);
    state.redeem_mode = RedeemMode::Clamp;
    state.record = false;
    let mut facts = MemberFacts {
        months: Vec::with_capacity(24),
        ..MemberFacts::default()
    };
    // Purchases by event id (a few dozen: a scan beats hashing).
    let mut booked: Vec<(&str, Booked)> = Vec::with_capacity(purchases);
    let mut first: Option<Instant> = None;
    for &(i, month) in &history.order {
        let Some(e) = checked.events.get(i) else {
            continue;
        };
        first = Some(first.map_or(e.at, |f| f.min(e.at)));
        state.advance_to(e.at)?;
        if let Body::RedeemReward { reward } = &e.body {
            if !can_take_reward(state, *reward) {
                continue;
            }
        }
        let (earned0, redeemed0, claw0) = (
            state.totals.earned,
            state.totals.redeemed,
            state.totals.clawed_back,
        );
        let orders_before = state.orders.len();
        let refund_before: Option<(usize, Vec<i64>)> = match &e.body {
            Body::Refund { order_id, .. } => booked
                .iter()
                .rev()
                .find(|(id, _)| id == order_id)
                .map(|(_, b)| b)
                .filter(|b| b.counts)
                .and_then(|b| {
                    state
                        .orders
                        .get(b.order)
                        .map(|o| (b.order, o.lines.iter().map(|l| l.refunded).collect()))
                }),
            _ => None,
        };
        state.apply(e)?;
        let mut discount: i128 = 0;
        match &e.body {
            Body::Purchase { earn, .. } if state.orders.len() > orders_before => {
                if *earn {
                    if let Some(o) = state.orders.get(orders_before) {
                        discount = o
                            .lines
                            .iter()
                            .map(|l| {
                                i128::from(l.quantity) * i128::from(l.unit_price)
                                    - i128::from(l.after_discount)
                            })
                            .sum();
                    }
                }
                booked.push((
                    e.id,
                    Booked {
                        order: orders_before,
                        counts: *earn,
                    },
                ));
            }
            Body::Refund { .. } => {
                if let Some((oi, before)) = refund_before {
                    if let Some(o) = state.orders.get(oi) {
                        let after: Vec<i64> = o.lines.iter().map(|l| l.refunded).collect();
                        let overflow = || Error::overflow(format!("events[{}]", e.index));
                        let was =
                            refunded_discount(policy, &o.lines, &before).ok_or_else(overflow)?;
                        let now =
                            refunded_discount(policy, &o.lines, &after).ok_or_else(overflow)?;
                        discount = was - now;
                    }
                }
            }
            _ => {}
        }
        let issued = i128::from(state.totals.earned)
            - i128::from(earned0)
            - (i128::from(state.totals.clawed_back) - i128::from(claw0));
        let redeemed = i128::from(state.totals.redeemed) - i128::from(redeemed0);
        if issued != 0 || redeemed != 0 || discount != 0 {
            facts.add(month, |f| {
                f.issued += issued;
                f.redeemed += redeemed;
                f.discounts += discount;
            });
        }
    }
    if let Some((_, err)) = &checked.fault {
        return Err(err.clone());
    }
    state.advance_to(as_of)?;
    for row in state.history.iter().filter(|r| r.kind == "expire") {
        let gone = -i128::from(row.points_delta);
        facts.add(month_key(month_zone, row.at), |f| f.expired += gone);
    }
    facts.tier = state.tier.tier;
    facts.outstanding = state.lots.available().saturating_add(state.lots.pending());
    facts.first_event = first;
    Ok(facts)
}

/// Whether a reward redemption would succeed now (status, tier, balance), under this policy.
fn can_take_reward(state: &State, reward: usize) -> bool {
    let Some(r) = state.policy.rewards.get(reward) else {
        return true; // let the ledger report it
    };
    if state.status != MemberStatus::Active {
        return false;
    }
    if let Some(min) = &r.min_tier {
        if state.tier.tier < state.policy.level_index(min).unwrap_or(0) {
            return false;
        }
    }
    state.lots.available() >= r.points
}

/// Running sums of one policy's figures.
#[derive(Clone, Debug, Default)]
pub struct Sums {
    pub members: u64,
    pub outstanding: i128,
    pub tiers: Vec<u64>,
    pub months: BTreeMap<MonthKey, Flows>,
}

impl Sums {
    fn new(levels: usize) -> Sums {
        Sums {
            tiers: vec![0; levels],
            ..Sums::default()
        }
    }

    fn add(&mut self, f: &MemberFacts) {
        self.members += 1;
        self.outstanding += i128::from(f.outstanding);
        if let Some(t) = self.tiers.get_mut(f.tier) {
            *t += 1;
        }
        for (k, flows) in &f.months {
            self.months.entry(*k).or_default().add(flows);
        }
    }

    fn merge(&mut self, o: Sums) {
        self.members += o.members;
        self.outstanding += o.outstanding;
        for (a, b) in self.tiers.iter_mut().zip(&o.tiers) {
            *a += b;
        }
        for (k, flows) in o.months {
            self.months.entry(k).or_default().add(&flows);
        }
    }

    /// The written figures, months `from..=to` (none when `from` is None).
    pub fn figures(
        &self,
        policy: &Policy,
        expected: Option<Dec>,
        range: Option<(MonthKey, MonthKey)>,
    ) -> Result<Figures, Error> {
        let overflow = || Error::overflow("members");
        let pts = |v: i128| -> Result<i64, Error> {
            i64::try_from(v)
                .ok()
                .filter(|v| (-MAX_POINTS..=MAX_POINTS).contains(v))
                .ok_or_else(overflow)
        };
        let money = |v: i128| -> Result<String, Error> {
            i64::try_from(v)
                .map(|v| policy.currency.format(v))
                .map_err(|_| overflow())
        };
        let mut total = Flows::default();
        for f in self.months.values() {
            total.add(f);
        }
        let mut by_month = Vec::new();
        if let Some((from, to)) = range {
            for k in from..=to {
                let f = self.months.get(&k).copied().unwrap_or_default();
                by_month.push(MonthFigures {
                    month: month_text(k),
                    issued: pts(f.issued)?,
                    redeemed: pts(f.redeemed)?,
                    expired: pts(f.expired)?,
                    tier_discounts: money(f.discounts)?,
                });
            }
        }
        let liability = match &policy.redemption {
            None => None,
            Some(r) => {
                let (m, s) = expected.unwrap_or_else(Dec::one).parts();
                let v = mul(self.outstanding, i128::from(r.point_value.minor))
                    .and_then(|v| mul(v, m))
                    .and_then(|v| {
                        pow10(s)
                            .and_then(|d| div_round(v, d, Rounding::from(policy.money_rounding)))
                    })
                    .ok_or_else(overflow)?;
                Some(money(v)?)
            }
        };
        Ok(Figures {
            members: self.members,
            points: PointsFigures {
                issued: pts(total.issued)?,
                redeemed: pts(total.redeemed)?,
                expired: pts(total.expired)?,
                outstanding: pts(self.outstanding)?,
            },
            liability,
            tier_discounts: money(total.discounts)?,
            tiers: policy
                .tiers
                .levels
                .iter()
                .zip(&self.tiers)
                .map(|(l, n)| TierCount {
                    tier: l.id.clone(),
                    members: *n,
                })
                .collect(),
            by_month,
        })
    }
}

/// Sums over some of the members: what one thread (or one chunk) adds up.
#[derive(Clone, Debug, Default)]
pub struct Partial {
    pub draft: Sums,
    pub baseline: Option<Sums>,
    pub moved: MembersMoved,
    /// Earliest event of an accepted member (at or before `as_of`).
    pub earliest: Option<Instant>,
    /// (member index, rejection), sorted by index when finished.
    pub rejected: Vec<(u64, Rejected)>,
    /// Scratch, not a sum: the draft's and the baseline's expiry instants remembered from the
    /// members added so far (never merged or sent).
    pub(crate) memos: [Option<Box<ExpiryMemo>>; 2],
}

impl Partial {
    pub fn new(draft: &Policy, baseline: Option<&Policy>) -> Partial {
        Partial {
            draft: Sums::new(draft.tiers.levels.len()),
            baseline: baseline.map(|b| Sums::new(b.tiers.levels.len())),
            ..Partial::default()
        }
    }

    /// Adds an accepted member's facts under the draft (and the baseline).
    pub fn accept(&mut self, draft: &MemberFacts, baseline: Option<&MemberFacts>) {
        self.draft.add(draft);
        if let (Some(sums), Some(b)) = (self.baseline.as_mut(), baseline) {
            sums.add(b);
            if draft.tier > b.tier {
                self.moved.up += 1;
            } else if draft.tier < b.tier {
                self.moved.down += 1;
            }
        }
        if let Some(f) = draft.first_event {
            self.earliest = Some(self.earliest.map_or(f, |x| x.min(f)));
        }
    }

    pub fn reject(&mut self, index: u64, member_id: Option<String>, error: Error) {
        self.rejected.push((index, Rejected { member_id, error }));
    }

    /// Adds another partial's sums. Sums are order-independent; rejections are re-sorted by
    /// member index at the end, so any merge order gives the same report.
    pub fn merge(&mut self, o: Partial) {
        self.draft.merge(o.draft);
        if let (Some(a), Some(b)) = (self.baseline.as_mut(), o.baseline) {
            a.merge(b);
        }
        self.moved.up += o.moved.up;
        self.moved.down += o.moved.down;
        if let Some(f) = o.earliest {
            self.earliest = Some(self.earliest.map_or(f, |x| x.min(f)));
        }
        self.rejected.extend(o.rejected);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn month_key_is_the_zones_local_month() {
        crate::time::for_sampled_instants(|name, zone, t| {
            let d = zone.local_date(t);
            let want = i64::from(d.year()) * 12 + i64::from(d.month0());
            assert_eq!(month_key(zone, t), want, "{name} {t}");
        });
    }
}
