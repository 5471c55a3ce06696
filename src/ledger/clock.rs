//! The replay clock: events in `at` order, and between them the things that happen at their
//! own instants — expiry notices, expiry, pending points becoming available (with the upgrade
//! check there) and tier reviews — in that order at one instant, all before events at the same
//! instant (SPEC §3, §7.19–23).
//!
//! Why one loop: every scheduled instant depends on the state (a purchase moves the
//! inactivity deadline, an upgrade moves the anniversary), so the next instant is recomputed
//! from the state each time rather than planned ahead.

use super::expiry::{inactivity_deadline, lot_expiry};
use super::lots::{Lot, Lots};
use super::memo::ExpiryMemo;
use super::orders::Order;
use super::request::{Body, Checked};
use super::response::{HistoryRow, Totals};
use super::versions::Versions;
use crate::error::Error;
use crate::member::MemberStatus;
use crate::money::MAX_POINTS;
use crate::policy::document::TierMetric;
use crate::policy::Policy;
use crate::quote::RedeemMode;
use crate::tiers::{self, Qualifying, TierState};
use crate::time::Instant;

/// A notice before it is written.
#[derive(Clone, Debug)]
pub struct Notice {
    pub kind: &'static str,
    pub at: Instant,
    pub points: Option<i64>,
    pub tier: Option<usize>,
}

/// An expiry instant of some lot: when it is announced, and whether it has been.
#[derive(Clone, Copy, Debug)]
struct Expiring {
    at: Instant,
    notice: Option<Instant>,
    noticed: bool,
}

/// A history row before it is written.
#[derive(Clone, Debug)]
pub struct Row {
    pub event_id: Option<String>,
    pub kind: &'static str,
    pub at: Instant,
    pub points_delta: i64,
    pub available_after: i64,
    pub tier_after: usize,
    pub shortfall: Option<i64>,
}

impl Row {
    pub fn write(&self, policy: &Policy) -> HistoryRow {
        HistoryRow {
            event_id: self.event_id.clone(),
            kind: self.kind.to_string(),
            at: policy.time_zone.format(self.at),
            points_delta: self.points_delta,
            available_after: self.available_after,
            tier_after: level_id(policy, self.tier_after),
            shortfall: self.shortfall,
        }
    }
}

pub fn level_id(policy: &Policy, i: usize) -> String {
    policy
        .tiers
        .levels
        .get(i)
        .map(|l| l.id.clone())
        .unwrap_or_default()
}

/// The member's whole state during a replay (`'a`: the history's strings, which booked orders
/// keep).
pub struct State<'p, 'a> {
    /// The policy versions of the replay (SPEC §3.1; one for a single `policy`).
    pub versions: Versions<'p>,
    /// The index of the version in force at the clock, and its policy: what tier
    /// qualification, reviews and tier notices follow.
    pub version: usize,
    pub policy: &'p Policy,
    /// When the next version takes effect (None: the last is in force).
    next_switch: Option<Instant>,
    /// Everything at or before this instant has happened.
    pub clock: Instant,
    pub status: MemberStatus,
    pub tier: TierState,
    pub lots: Lots,
    /// By version index: under that version's `inactivity`, when its lots go unless there is
    /// activity first (None for other expiry kinds).
    pub deadlines: Vec<Option<Instant>>,
    pub totals: Totals,
    /// Opening balances (in the balance identity, not in `totals`).
    pub opening: i64,
    pub orders: Vec<Order<'a>>,
    /// Orders by event id, once there are more than [`SCAN_ORDERS`] (fewer are scanned).
    order_ids: crate::ids::IdIndex<'a>,
    /// The contributions for the metric of the version in force.
    pub qualifying: Qualifying,
    /// The contributions for the other metrics some version uses (empty when every version
    /// has the same metric): every contribution is pushed to each, so an order's entry has
    /// the same index in all of them; a version switch swaps the in-force metric's in.
    spare: Vec<(TierMetric, Qualifying)>,
    pub history: Vec<Row>,
    pub notices: Vec<Notice>,
    /// Expiry instants seen so far, ascending, with their announcement instant (computed
    /// once: local-calendar arithmetic) and whether a `points_expiring` notice announced them.
    expiring: Vec<Expiring>,
    /// How a purchase's `redeem_points` above the limit is treated: `Strict` (replay: an
    /// error) or `Clamp` (simulate, SPEC §5: the most the policy allows).
    pub redeem_mode: RedeemMode,
    /// Whether history rows and notices are kept (replay). A simulation sets it to false: it
    /// reads only the `expire` rows, which are kept either way.
    pub record: bool,
    /// Scratch buffers of [`State::expiring_groups`] (no allocation per step).
    scratch_instants: Vec<Instant>,
    scratch_groups: Vec<(Instant, Instant)>,
    /// The last scheduled review found: (tier `since`, from, review) — the first review after
    /// any instant in [from, review) for that `since` (reviews are a fixed sequence per
    /// `since`), so the clock's many "next review?" questions need no calendar arithmetic.
    review_memo: Option<(Instant, Instant, Instant)>,
    /// Expiry instants by local day, lent by a simulation for the members of one thread
    /// ([`ExpiryMemo`]); None: each is computed.
    pub expiry_memo: Option<Box<ExpiryMemo>>,
}

/// Up to this many orders, a refund finds its order by scanning (no map, no id copies).
const SCAN_ORDERS: usize = 128;

pub(super) fn pts(v: i128, path: impl std::fmt::Display) -> Result<i64, Error> {
    i64::try_from(v)
        .ok()
        .filter(|v| (-MAX_POINTS..=MAX_POINTS).contains(v))
        .ok_or_else(|| Error::overflow(path.to_string()))
}

/// `events[i]`, the path of an event, written only when an error needs it (the replay
/// applies every event).
#[derive(Clone, Copy, Debug)]
pub struct EventPath(pub usize);

impl std::fmt::Display for EventPath {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "events[{}]", self.0)
    }
}

impl<'p, 'a> State<'p, 'a> {
    /// A replay under one policy (a simulation's).
    pub fn new(policy: &'p Policy, status: MemberStatus, joined_at: Instant) -> State<'p, 'a> {
        State::with_versions(Versions::single(policy, ""), status, joined_at)
    }

    /// A replay under policy versions, starting with the version in force at `joined_at`.
    pub fn with_versions(
        versions: Versions<'p>,
        status: MemberStatus,
        joined_at: Instant,
    ) -> State<'p, 'a> {
        let version = versions.index_at(joined_at);
        let policy = versions.get(version).policy;
        let deadlines = versions
            .list()
            .iter()
            .map(|v| inactivity_deadline(v.policy, joined_at))
            .collect();
        let mut spare: Vec<(TierMetric, Qualifying)> = Vec::new();
        for v in versions.list() {
            let m = v.policy.tiers.metric;
            if m != policy.tiers.metric && spare.iter().all(|(x, _)| *x != m) {
                spare.push((m, Qualifying::default()));
            }
        }
        State {
            versions,
            version,
            policy,
            next_switch: versions.next_switch_after(joined_at),
            clock: joined_at,
            status,
            tier: TierState {
                tier: 0,
                since: joined_at,
                locked_until: None,
            },
            lots: Lots::default(),
            deadlines,
            totals: Totals::default(),
            opening: 0,
            orders: Vec::new(),
            order_ids: crate::ids::IdIndex::default(),
            qualifying: Qualifying::default(),
            spare,
            history: Vec::new(),
            notices: Vec::new(),
            expiring: Vec::new(),
            redeem_mode: RedeemMode::Strict,
            record: true,
            scratch_instants: Vec::new(),
            scratch_groups: Vec::new(),
            review_memo: None,
            expiry_memo: None,
        }
    }

    /// Makes room for `purchases` more orders (and their lots and qualifying entries).
    pub fn reserve(&mut self, purchases: usize) {
        self.orders.reserve(purchases);
        self.lots.lots.reserve(purchases);
        self.qualifying.entries.reserve(purchases);
    }

    pub(super) fn zone(&self) -> crate::time::Zone {
        self.policy.time_zone
    }

    /// The qualifying value of the window ending at `t`.
    pub fn value_at(&self, t: Instant, path: impl std::fmt::Display) -> Result<i64, Error> {
        self.qualifying
            .value(
                tiers::window_at(self.policy, t),
                tiers::metric_max(self.policy),
            )
            .ok_or_else(|| Error::overflow(path.to_string()))
    }

    /// The value a review at `r` judges, from the entries known now.
    pub fn review_value(&self, r: Instant, path: &str) -> Result<i64, Error> {
        self.qualifying
            .value(
                tiers::review_window(self.policy, r),
                tiers::metric_max(self.policy),
            )
            .ok_or_else(|| Error::overflow(path))
    }

    /// Distinct expiry instants of lots holding points not yet announced, ascending, with the
    /// announcement instant of each — up to the first announced well after `t`. Announcement
    /// instants rise with expiry instants (moving a local date back keeps the order, up to a
    /// DST shift inside a fall-back hour, hence a two-hour slack), so the rest cannot be due at
    /// or before `t`; stopping there keeps long histories fast.
    fn expiring_groups(&mut self, t: Instant, out: &mut Vec<(Instant, Instant)>) {
        out.clear();
        let mut seen = std::mem::take(&mut self.scratch_instants);
        seen.clear();
        seen.extend(
            self.lots
                .lots
                .iter()
                .filter(|l| l.points > 0)
                .filter_map(Lot::expires_at),
        );
        crate::sort::sort_unstable(&mut seen);
        seen.dedup();
        let slack = t.checked_add_seconds(7_200).unwrap_or(Instant::MAX);
        for e in seen.iter().copied() {
            let Some(&mut Expiring {
                notice: Some(n),
                noticed: false,
                ..
            }) = self.expiring_entry(e)
            else {
                continue;
            };
            out.push((e, n));
            if n > slack {
                break;
            }
        }
        self.scratch_instants = seen;
    }

    /// The entry of expiry instant `e` (added when first seen, announced `expiry_notice_days`
    /// of the version in force at `e` before it).
    fn expiring_entry(&mut self, e: Instant) -> Option<&mut Expiring> {
        // Expiry instants mostly come in ascending order: the search ends near the end.
        let i = match self.expiring.binary_search_by(|x| x.at.cmp(&e)) {
            Ok(i) => i,
            Err(i) => {
                let days = self
                    .versions
                    .get(self.versions.index_at(e))
                    .policy
                    .expiry_notice_days;
                let notice = self.policy.time_zone.add_local_days(e, -days);
                self.expiring.insert(
                    i,
                    Expiring {
                        at: e,
                        notice,
                        noticed: false,
                    },
                );
                i
            }
        };
        // Always some: found, or just inserted there.
        self.expiring.get_mut(i)
    }

    /// The next instant in (clock, limit] where something happens on its own.
    fn next_instant(&mut self, limit: Instant) -> Option<Instant> {
        let clock = self.clock;
        let mut best: Option<Instant> = None;
        let mut consider = |t: Instant| {
            if t > clock && t <= limit && best.is_none_or(|b| t < b) {
                best = Some(t);
            }
        };
        // The lots' earliest change, remembered by `Lots`; when it is not after the clock (a
        // lot due now), the lots are scanned for the earliest one after it.
        match self.lots.next_change() {
            Some(t) if t <= clock => {
                for l in &self.lots.lots {
                    if l.pending {
                        consider(l.available_at);
                    }
                    if l.points > 0 {
                        if let Some(e) = l.expires_at() {
                            consider(e);
                        }
                    }
                }
            }
            Some(t) => consider(t),
            None => {}
        }
        if let Some(t) = self.next_switch {
            consider(t);
        }
        // Announcement instants only write notices: without recording, nothing happens there
        // (expiry, availability, rises and reviews have instants of their own), so they are
        // not visited.
        if self.record {
            let mut groups = std::mem::take(&mut self.scratch_groups);
            self.expiring_groups(clock, &mut groups);
            for (_, n) in &groups {
                consider(*n);
            }
            self.scratch_groups = groups;
        }
        if self.policy.tiers.metric == TierMetric::Points {
            if let Some(t) = self.qualifying.next_rise_after(clock) {
                consider(t);
            }
        }
        let review = if self.tier.tier > 0 {
            self.next_review_after(clock)
        } else {
            None
        };
        if let Some(r) = review {
            consider(r);
        }
        best
    }

    /// [`tiers::next_scheduled_review`] after `t` for the current tier state, remembered.
    fn next_review_after(&mut self, t: Instant) -> Option<Instant> {
        if let Some((since, from, r)) = self.review_memo {
            if since == self.tier.since && from <= t && t < r {
                return Some(r);
            }
        }
        let r = tiers::next_scheduled_review(self.policy, self.tier, t);
        if let Some(r) = r {
            self.review_memo = Some((self.tier.since, t, r));
        }
        r
    }

    /// Runs everything that happens on its own up to and including `limit`, then sets the
    /// clock to `limit`.
    pub fn advance_to(&mut self, limit: Instant) -> Result<(), Error> {
        while let Some(t) = self.next_instant(limit) {
            self.clock = t;
            self.at_instant(t)?;
        }
        if limit > self.clock {
            self.clock = limit;
        }
        Ok(())
    }

    /// Runs the first instant at or before `limit` at which something happens on its own
    /// (expiry, availability, a review, a version taking effect) and returns it; None when
    /// nothing happens up to `limit` (the clock is then left as it is). Repeated until None,
    /// then [`State::advance_to`]`(limit)`, this is `advance_to(limit)` one instant at a time:
    /// what reports read between events (`crate::report`).
    pub fn step(&mut self, limit: Instant) -> Result<Option<Instant>, Error> {
        match self.next_instant(limit) {
            Some(t) => {
                self.clock = t;
                self.at_instant(t)?;
                Ok(Some(t))
            }
            None => Ok(None),
        }
    }

    fn at_instant(&mut self, t: Instant) -> Result<(), Error> {
        // 0. A version taking effect: what follows at this instant is under it.
        let switched = self.next_switch == Some(t);
        if switched {
            self.switch_to(self.versions.index_at(t));
            self.next_switch = self.versions.next_switch_after(t);
        }
        // 1. Notices of coming expiries, with the points the lots hold now.
        self.announce(t);
        // 2. Expiry.
        let gone = self.lots.expire(t);
        if gone > 0 {
            self.totals.expired += gone;
            self.note(Notice {
                kind: "points_expired",
                at: t,
                points: Some(gone),
                tier: None,
            });
            self.row(None, "expire", t, -gone, None);
        }
        // 3. Pending points become available (paying debt); qualifying points may rise here.
        let became = self.lots.make_available(t);
        let rises = self.policy.tiers.metric == TierMetric::Points
            && self
                .qualifying
                .entries
                .iter()
                .any(|e| e.at == t && e.value > 0);
        // A version taking effect may lower thresholds: the upgrade check runs there too.
        if (became || rises || switched) && self.upgrade(t, "events")? {
            self.row(None, "tier_review", t, 0, None);
        }
        // 4. Review.
        if self.tier.tier > 0
            && self.next_review_after(tiers::just_before(t)) == Some(t)
            && !tiers::skipped(self.policy, self.tier, t)
        {
            let value = self.review_value(t, "events")?;
            let to = tiers::reviewed_level(self.policy, self.tier.tier, value);
            if to < self.tier.tier {
                self.tier.tier = to;
                self.tier.since = t;
                self.note(Notice {
                    kind: "tier_down",
                    at: t,
                    points: None,
                    tier: Some(to),
                });
                self.row(None, "tier_review", t, 0, None);
            }
        }
        Ok(())
    }

    /// `points_expiring` notices due at `t`: one per expiry instant whose announcement instant
    /// is `t`, with the points its lots hold now (none when they hold nothing).
    /// Without recording there is nothing to announce (notices are all it does).
    fn announce(&mut self, t: Instant) {
        if !self.record {
            return;
        }
        let mut groups = std::mem::take(&mut self.scratch_groups);
        self.expiring_groups(t, &mut groups);
        for (e, n) in groups.iter().copied() {
            if n != t {
                continue;
            }
            if let Some(x) = self.expiring_entry(e) {
                x.noticed = true;
            }
            let points: i64 = self
                .lots
                .lots
                .iter()
                .filter(|l| l.expires_at() == Some(e))
                .map(|l| l.points)
                .sum();
            if points > 0 {
                self.note(Notice {
                    kind: "points_expiring",
                    at: t,
                    points: Some(points),
                    tier: None,
                });
            }
        }
        self.scratch_groups = groups;
    }

    /// Books `order` (the purchase event `id`'s) as the next of [`State::orders`].
    pub(super) fn book_order(&mut self, id: &'a str, order: Order<'a>) {
        let index = self.orders.len();
        if index == SCAN_ORDERS {
            self.order_ids.reserve(4 * SCAN_ORDERS);
            for (i, o) in self.orders.iter().enumerate() {
                self.order_ids.insert(o.id, i);
            }
        }
        if index >= SCAN_ORDERS {
            self.order_ids.insert(id, index);
        }
        self.orders.push(order);
    }

    /// The index of the order booked by purchase event `id`.
    pub(super) fn order_index(&self, id: &str) -> Option<usize> {
        if self.orders.len() <= SCAN_ORDERS {
            self.orders.iter().position(|o| o.id == id)
        } else {
            self.order_ids.get(id)
        }
    }

    /// Keeps a notice (when recording).
    fn note(&mut self, n: Notice) {
        if self.record {
            self.notices.push(n);
        }
    }

    /// Moves up to the highest level qualified for at `t`; true when the tier changed.
    fn upgrade(&mut self, t: Instant, path: impl std::fmt::Display) -> Result<bool, Error> {
        // The window's start is local-calendar arithmetic; most of the time a bound of the
        // value without it shows that no level above is reached (and no overflow), which is
        // the exact answer too: first the sum of every positive entry (at once), then those
        // since the earliest possible window start (two binary searches).
        let lowest_above = self
            .policy
            .tiers
            .levels
            .iter()
            .skip(self.tier.tier + 1)
            .map(|l| i128::from(l.threshold.value))
            .min();
        let max = i128::from(tiers::metric_max(self.policy));
        let stays = |bound: i128| bound <= max && lowest_above.is_none_or(|v| bound < v);
        if stays(self.qualifying.positive_total())
            || stays(
                self.qualifying
                    .bound_since(tiers::window_start_bound(self.policy, t), t),
            )
        {
            return Ok(false);
        }
        let value = self.value_at(t, path)?;
        let to = tiers::qualified_level(self.policy, value);
        if to > self.tier.tier {
            self.tier.tier = to;
            self.tier.since = t;
            self.note(Notice {
                kind: "tier_up",
                at: t,
                points: None,
                tier: Some(to),
            });
            return Ok(true);
        }
        Ok(false)
    }

    fn row(
        &mut self,
        event_id: Option<&str>,
        kind: &'static str,
        at: Instant,
        delta: i64,
        shortfall: Option<i64>,
    ) {
        if !self.record && kind != "expire" {
            return;
        }
        self.history.push(Row {
            event_id: event_id.map(str::to_string),
            kind,
            at,
            points_delta: delta,
            available_after: self.lots.available(),
            tier_after: self.tier.tier,
            shortfall,
        });
    }

    /// Makes version `v` the one in force.
    fn switch_to(&mut self, v: usize) {
        if v == self.version {
            return;
        }
        let policy = self.versions.get(v).policy;
        let metric = policy.tiers.metric;
        if metric != self.policy.tiers.metric {
            if let Some((m, q)) = self.spare.iter_mut().find(|(m, _)| *m == metric) {
                std::mem::swap(&mut self.qualifying, q);
                *m = self.policy.tiers.metric;
            }
        }
        self.version = v;
        self.policy = policy;
        // Reviews are scheduled by the version in force.
        self.review_memo = None;
    }

    /// The memo serves only a replay under one policy (what it was bound to).
    fn memo(&mut self) -> Option<&mut ExpiryMemo> {
        if self.versions.len() == 1 {
            self.expiry_memo.as_deref_mut()
        } else {
            None
        }
    }

    /// [`lot_expiry`] of version `v` at `t`, from the memo when there is one.
    pub(super) fn lot_expiry(&mut self, v: usize, t: Instant) -> Option<Instant> {
        let policy = self.versions.get(v).policy;
        match self.memo() {
            Some(m) => m.lot_expiry(policy, t),
            None => lot_expiry(policy, t),
        }
    }

    /// [`inactivity_deadline`] of version `v` at `t`, from the memo when there is one.
    fn inactivity_deadline(&mut self, v: usize, t: Instant) -> Option<Instant> {
        let policy = self.versions.get(v).policy;
        match self.memo() {
            Some(m) => m.inactivity_deadline(policy, t),
            None => inactivity_deadline(policy, t),
        }
    }

    /// Purchases and redemptions move the inactivity deadlines (§7.17), of every version with
    /// `inactivity`; lots credited after a passed deadline had their own, which activity
    /// replaces by the member's.
    pub(super) fn activity(&mut self, t: Instant) {
        let mut any = false;
        for v in 0..self.deadlines.len() {
            if let Some(d) = self.inactivity_deadline(v, t) {
                if let Some(slot) = self.deadlines.get_mut(v) {
                    *slot = Some(d);
                    any = true;
                }
            }
        }
        if any {
            self.lots.set_deadlines(&self.deadlines);
        }
    }

    /// A lot credited at `t` under version `v`'s expiry rule: `pending` until `available_at`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn credit(
        &mut self,
        points: i64,
        t: Instant,
        available_at: Instant,
        own_expiry: Option<Instant>,
        order: Option<usize>,
        v: usize,
    ) {
        if points <= 0 {
            return;
        }
        let deadline = match self.deadlines.get(v).copied().flatten() {
            Some(d) if d <= t => self.inactivity_deadline(v, t),
            d => d,
        };
        self.lots.add(Lot {
            seq: 0,
            points,
            earned_at: t,
            available_at,
            pending: available_at > t,
            own_expiry,
            deadline,
            version: v,
            order,
        });
    }

    /// Pushes one contribution to the qualifying entries of every metric in use: `value(m)`
    /// gives its instant and value for metric `m`. Returns the entry's index (the same in
    /// each, see [`State::spare`]).
    pub(super) fn contribute(
        &mut self,
        mut value: impl FnMut(TierMetric) -> Result<(Instant, i64), Error>,
    ) -> Result<usize, Error> {
        for (m, q) in &mut self.spare {
            let (at, v) = value(*m)?;
            q.push(at, v);
        }
        let (at, v) = value(self.policy.tiers.metric)?;
        Ok(self.qualifying.push(at, v))
    }

    /// Rewrites entry `index` of every metric in use (a refund): `value(m)` for metric `m`.
    pub(super) fn recontribute(&mut self, index: usize, mut value: impl FnMut(TierMetric) -> i64) {
        for (m, q) in &mut self.spare {
            q.set(index, value(*m));
        }
        self.qualifying.set(index, value(self.policy.tiers.metric));
    }

    /// Whether some version's metric is `m`.
    pub(super) fn uses_metric(&self, m: TierMetric) -> bool {
        self.policy.tiers.metric == m || self.spare.iter().any(|(x, _)| *x == m)
    }

    /// Applies one event at its instant (the clock has been advanced to it).
    pub fn apply(&mut self, e: &Checked<'a>) -> Result<(), Error> {
        let p = EventPath(e.index);
        let before = i128::from(self.lots.available()) + i128::from(self.lots.pending());
        let mut shortfall = None;
        match &e.body {
            Body::Purchase {
                cart,
                redeem,
                earn,
                version,
                quoted,
            } => self.purchase(e, p, cart, *redeem, *earn, *version, *quoted)?,
            Body::Refund { order_id, lines } => {
                shortfall = self.refund(e, p, order_id, lines.as_deref())?;
            }
            Body::Adjust {
                points,
                counts_for_tier,
            } => {
                let points = *points;
                // Under the version in force at the adjustment (SPEC §3.1).
                let v = self.version;
                if points >= 0 {
                    let expiry = self.lot_expiry(v, e.at);
                    self.credit(points, e.at, e.at, expiry, None, v);
                } else {
                    let want = -points;
                    let took = self.lots.consume(want);
                    self.lots.debt += want - took;
                }
                self.totals.adjusted = pts(
                    i128::from(self.totals.adjusted) + i128::from(points),
                    format_args!("{p}.points"),
                )?;
                if *counts_for_tier && self.uses_metric(TierMetric::Points) {
                    let at = e.at;
                    self.contribute(|m| {
                        Ok((at, if m == TierMetric::Points { points } else { 0 }))
                    })?;
                }
            }
            Body::OpeningBalance { points, expires_at } => {
                let v = self.version;
                let expiry = match expires_at {
                    Some(x) => Some(*x),
                    None => self.lot_expiry(v, e.at),
                };
                self.credit(*points, e.at, e.at, expiry, None, v);
                self.opening = pts(
                    i128::from(self.opening) + i128::from(*points),
                    format_args!("{p}.points"),
                )?;
            }
            Body::SetTier { tier, locked_until } => {
                let from = self.tier.tier;
                if *tier != from {
                    self.tier.tier = *tier;
                    self.tier.since = e.at;
                    self.note(Notice {
                        kind: if *tier > from { "tier_up" } else { "tier_down" },
                        at: e.at,
                        points: None,
                        tier: Some(*tier),
                    });
                }
                self.tier.locked_until = *locked_until;
            }
            Body::Status(s) => self.status = *s,
            Body::RedeemReward { reward } => self.redeem_reward(e, p, *reward)?,
        }
        self.upgrade(e.at, p)?;
        // A lot credited exactly at its announcement instant is announced at once: the notice
        // is not before the lot was earned (§7.23).
        self.announce(e.at);
        let after = i128::from(self.lots.available()) + i128::from(self.lots.pending());
        self.check_ranges(p)?;
        let delta = pts(after - before, p)?;
        self.row(Some(e.id), e.body.kind().as_str(), e.at, delta, shortfall);
        Ok(())
    }

    /// Balances and totals stay within the points range (§7.7), so later sums cannot overflow.
    fn check_ranges(&self, p: EventPath) -> Result<(), Error> {
        let lots: i128 = self.lots.total();
        let t = &self.totals;
        let all = [
            lots,
            i128::from(self.lots.debt),
            i128::from(t.earned),
            i128::from(t.redeemed),
            i128::from(t.expired),
            i128::from(t.clawed_back),
        ];
        if all.iter().any(|v| v.abs() > i128::from(MAX_POINTS)) {
            return Err(Error::overflow(p.to_string()));
        }
        Ok(())
    }
}
