//! The ledger (SPEC §3): replaying a member's history under a policy.
//!
//! - [`request`]: the request as written and its static check (shapes, times, ids);
//!   [`view`]: the same history borrowed (what the check reads: owned requests lend theirs,
//!   the simulator's fast reader borrows from the NDJSON line).
//! - [`clock`]: the replay itself — events in order, and expiry, availability and reviews at
//!   their own instants between them.
//! - `purchases` and `refunds`: what those events do to the balance, the orders and the
//!   qualification (the other event types are a few lines in the clock).
//! - [`lots`]: point lots and debt; [`expiry`]: when lots go ([`memo`]: those instants
//!   remembered by local day across a simulation's members); [`orders`]: purchases and their
//!   recomputation after refunds.
//! - [`response`]: what a replay answers.
//!
//! [`run`] gives the final state, which both [`replay`] and `progress` (§4) read.

pub mod clock;
pub mod expiry;
pub mod lots;
pub mod memo;
pub mod orders;
mod purchases;
mod refunds;
pub mod request;
pub mod response;
pub mod versions;
pub mod view;

pub use request::{
    Event, EventCart, EventCartLine, EventType, LedgerMember, QuotedMember, RefundLine,
    ReplayRequest,
};
pub use response::{
    HistoryRow, LotOut, MetricValue, NoticeOut, PointsOut, QualificationOut, ReplayResponse,
    TierOut, Totals,
};
pub use versions::{PolicyVersions, Version, Versions};

use crate::error::Error;
use crate::member::MemberSnapshot;
use crate::policy::document::TierMetric;
use crate::policy::{Policy, Window};
use crate::tiers;
use clock::{level_id, State};

/// A finished replay: the state at `as_of` (`'a`: the request's strings, which booked orders
/// keep).
pub struct Replayed<'p, 'a> {
    pub member_id: &'a str,
    pub as_of: crate::time::Instant,
    pub state: State<'p, 'a>,
}

/// Replays the request's history up to `as_of`.
///
/// Faults: member and `as_of` first; then the first event that fails its static check (by
/// index) — unless replaying the events before it, in time order, fails first; faults that
/// depend on history are found in time order (SPEC §7.18).
pub fn run<'p, 'a>(
    versions: Versions<'p>,
    req: &'a ReplayRequest,
) -> Result<Replayed<'p, 'a>, Error> {
    let checked = request::check(&versions, &req.view(), &req.as_of)?;
    let mut order: Vec<&request::Checked> = checked
        .events
        .iter()
        .filter(|e| e.at <= checked.as_of)
        .collect();
    // Stable: ties keep input order.
    crate::sort::sort_by_key(&mut order, |e| e.at);
    let mut state = State::with_versions(versions, checked.status, checked.joined_at);
    for e in order {
        state.advance_to(e.at)?;
        state.apply(e)?;
    }
    if let Some((_, err)) = checked.fault {
        return Err(err);
    }
    state.advance_to(checked.as_of)?;
    Ok(Replayed {
        member_id: checked.member_id,
        as_of: checked.as_of,
        state,
    })
}

/// Writes a metric value: an integer for points/orders, money for spend (§7.8).
pub fn metric_value(policy: &Policy, v: i64) -> MetricValue {
    match policy.tiers.metric {
        TierMetric::Spend => MetricValue::Money(policy.currency.format(v)),
        _ => MetricValue::Count(v),
    }
}

pub fn metric_name(policy: &Policy) -> String {
    match policy.tiers.metric {
        TierMetric::Points => "points",
        TierMetric::Spend => "spend",
        TierMetric::Orders => "orders",
    }
    .to_string()
}

/// Answers a replay request (SPEC §3) under one policy.
pub fn replay(
    policy: &Policy,
    policy_digest: &str,
    req: &ReplayRequest,
) -> Result<ReplayResponse, Error> {
    replay_versions(Versions::single(policy, policy_digest), req)
}

/// Answers a replay request under policy versions (SPEC §3.1): the response is written under
/// the version in force at `as_of`, whose digest it carries.
pub fn replay_versions(versions: Versions, req: &ReplayRequest) -> Result<ReplayResponse, Error> {
    let r = run(versions, req)?;
    let s = &r.state;
    let policy = s.policy;
    let policy_digest = versions.get(s.version).digest;
    let zone = policy.time_zone;
    let fmt = |t| zone.format(t);
    let value = s.value_at(r.as_of, "as_of")?;
    let window_start = match policy.tiers.window {
        Window::Lifetime => None,
        _ => tiers::window_at(policy, r.as_of).lo.map(fmt),
    };
    let mut lots: Vec<&lots::Lot> = s.lots.lots.iter().filter(|l| l.points > 0).collect();
    crate::sort::sort_by_key(&mut lots, |l| (l.earned_at, l.seq));
    let available = s.lots.available();
    Ok(ReplayResponse {
        policy_digest: policy_digest.to_string(),
        member_id: r.member_id.to_string(),
        as_of: fmt(r.as_of),
        status: s.status,
        tier: TierOut {
            id: level_id(policy, s.tier.tier),
            since: fmt(s.tier.since),
            locked_until: s.tier.locked_until.map(fmt),
            next_review: tiers::next_review(policy, s.tier, r.as_of).map(fmt),
        },
        points: PointsOut {
            available,
            pending: s.lots.pending(),
            lots: lots
                .into_iter()
                .map(|l| LotOut {
                    points: l.points,
                    earned_at: fmt(l.earned_at),
                    available_at: fmt(l.available_at),
                    expires_at: l.expires_at().map(fmt),
                })
                .collect(),
        },
        qualification: QualificationOut {
            metric: metric_name(policy),
            value: metric_value(policy, value),
            window_start,
        },
        totals: s.totals.clone(),
        snapshot: MemberSnapshot {
            id: r.member_id.to_string(),
            status: s.status,
            tier: Some(level_id(policy, s.tier.tier)),
            points: available,
        },
        history: s.history.iter().map(|row| row.write(policy)).collect(),
        notices: s
            .notices
            .iter()
            .map(|n| NoticeOut {
                kind: n.kind.to_string(),
                at: fmt(n.at),
                points: n.points,
                tier: n.tier.map(|t| level_id(policy, t)),
            })
            .collect(),
    })
}
