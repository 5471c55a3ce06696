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
    let (mut r, as_of) = run_events(versions, req)?;
    r.state.advance_to(as_of)?;
    r.as_of = as_of;
    Ok(r)
}

/// [`run`] up to the last event it replays (or joining, without one), not yet advanced to the
/// request's `as_of`, which is returned beside it: the same faults as [`run`], except those of
/// the time between that event and `as_of` (expiry, availability, reviews), which
/// [`Replayed::advance_to`] finds.
///
/// Why: the state after the last event, advanced to any instant at or after it, is what [`run`]
/// gives for that instant as `as_of` — provided every event is at or before it (an event after
/// `as_of` is not replayed) and the history has no fault (a static fault ends [`run`] with an
/// error whatever `as_of` is). `as_of` is read by the check only to filter events and to refuse
/// one before joining. A server keeps such a state per member and advances a copy of it to now
/// at each read instead of replaying the whole history again.
// Inlined into `run`, which is the same loop (the progress module: 10 B gzip).
#[inline(always)]
pub fn run_events<'p, 'a>(
    versions: Versions<'p>,
    req: &'a ReplayRequest,
) -> Result<(Replayed<'p, 'a>, crate::time::Instant), Error> {
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
    Ok((
        Replayed {
            member_id: checked.member_id,
            as_of: state.clock,
            state,
        },
        checked.as_of,
    ))
}

impl<'p, 'a> Replayed<'p, 'a> {
    /// Advances the state to `as_of` (what happens on its own up to it), as [`run`] does after
    /// the last event. Refused (`invalid_request` at `as_of`) for an instant before the state's:
    /// a state does not go back; replay again.
    pub fn advance_to(&mut self, as_of: crate::time::Instant) -> Result<(), Error> {
        if as_of < self.state.clock {
            return Err(Error::invalid_request(
                "as_of",
                "as_of is before the replayed state's instant: replay again",
            ));
        }
        self.state.advance_to(as_of)?;
        self.as_of = as_of;
        Ok(())
    }

    /// The replay answer (SPEC §3, §3.1) of this state as of its instant.
    pub fn replay_response(&self) -> Result<ReplayResponse, Error> {
        respond_replay(self.state.versions, self)
    }

    /// [`Replayed::replay_response`] as its one-line JSON (an error line for a fault): the bytes
    /// of [`PolicyVersions::replay_json`] for the same history and instant.
    pub fn replay_json(&self) -> String {
        crate::engine::respond(self.replay_response())
    }

    /// The progress answer (SPEC §4) as its one-line JSON: the bytes of
    /// [`PolicyVersions::progress_json`] for the same history and instant.
    pub fn progress_json(&self) -> String {
        crate::progress::respond(crate::progress::progress_of(self))
    }
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
    respond_replay(versions, &run(versions, req)?)
}

/// The replay answer of a finished replay (`versions`: the ones it ran under).
fn respond_replay(versions: Versions, r: &Replayed) -> Result<ReplayResponse, Error> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Instant;

    /// The split replay ([`run_events`], then [`Replayed::advance_to`] to one instant after
    /// another, as a server keeps a member's state) answers exactly what a whole replay as of
    /// each instant answers — replay and progress, bytes and error lines — on every replay and
    /// progress vector, at the vector's `as_of` and days, a year and three years later.
    #[test]
    fn split_replay_answers_as_a_whole_replay_on_every_vector() {
        let mut compared = 0;
        let mut refused = 0;
        let mut advanced_across = 0;
        for (name, req) in crate::progress::tests::vector_requests() {
            let op = req.get("op").and_then(|o| o.as_str()).unwrap_or_default();
            if op != "replay" && op != "progress" {
                continue;
            }
            let Ok(r) = ReplayRequest::from_json(&crate::progress::tests::history_of(&req)) else {
                continue;
            };
            let versions = if let Some(p) = req.get("policy") {
                let Ok(p) = Policy::from_json(&p.to_string()) else {
                    continue;
                };
                let digest = p.digest().unwrap();
                PolicyVersions::new(vec![(None, p, digest)]).unwrap()
            } else if let Some(v) = req.get("policies") {
                let Ok(v) = versions::policies_from_json(&v.to_string()) else {
                    continue;
                };
                v
            } else {
                continue;
            };
            let list = versions.versions();
            let vs = Versions::many(&list).unwrap();
            let whole = |as_of: &str| {
                let mut r = r.clone();
                r.as_of = as_of.to_string();
                (
                    crate::engine::respond(replay_versions(vs, &r)),
                    crate::progress::respond(crate::progress::progress_versions(vs, &r)),
                )
            };
            let (mut held, as_of) = match run_events(vs, &r) {
                Ok(x) => x,
                Err(e) => {
                    // Refused as the whole replay refuses.
                    assert_eq!(whole(&r.as_of).0, e.to_json(), "{name}");
                    refused += 1;
                    continue;
                }
            };
            // Later instants only when every event is replayed (none after `as_of`).
            let last_event = r
                .events
                .iter()
                .filter_map(|e| Instant::parse_rfc3339(&e.at).ok())
                .max();
            let mut instants = vec![as_of];
            if last_event.is_none_or(|t| t <= as_of) {
                for days in [1, 30, 95, 366, 3 * 366] {
                    if let Some(t) = as_of.checked_add_seconds(days * 86_400) {
                        instants.push(t);
                    }
                }
            }
            let zone = vs.first().policy.time_zone;
            for t in instants {
                let before = held.state.history.len() + held.state.notices.len();
                let advanced = held.advance_to(t);
                let (replay, progress) = whole(&zone.format(t));
                match advanced {
                    Ok(()) => {
                        assert_eq!(held.replay_json(), replay, "{name} replay at {t:?}");
                        assert_eq!(held.progress_json(), progress, "{name} progress at {t:?}");
                        if held.state.history.len() + held.state.notices.len() > before {
                            advanced_across += 1;
                        }
                    }
                    Err(e) => {
                        assert_eq!(e.to_json(), replay, "{name} at {t:?}");
                        refused += 1;
                        break;
                    }
                }
                compared += 1;
            }
            // A state does not go back.
            let back = held.as_of.checked_add_seconds(-1).unwrap_or(Instant::MIN);
            if back < held.state.clock {
                let e = held.advance_to(back).unwrap_err();
                assert_eq!(e.path, "as_of", "{name}");
            }
        }
        assert!(compared >= 200, "only {compared} instants compared");
        assert!(refused >= 10, "only {refused} refusals compared");
        // Some advances crossed an expiry, an availability or a review (rows or notices).
        assert!(
            advanced_across >= 20,
            "only {advanced_across} advances changed the state"
        );
    }
}
