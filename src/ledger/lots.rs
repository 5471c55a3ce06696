//! Point lots and debt (SPEC §3, §7.15–17).
//!
//! Why lots: expiry is per earning (a lot earned in May 2026 expires with May 2026's rule),
//! pending points are per order, and a clawback must find "the order's own pending lot". The
//! balance is the lots' remaining points minus a debt; debt is not a lot, so it never expires
//! and each lot pays it off the moment the lot becomes available.

use crate::time::Instant;

/// Points earned (or credited) together, with when they become usable and when they go.
#[derive(Clone, Debug)]
pub struct Lot {
    /// Creation order: the last tie-break of consumption, and output order.
    pub seq: usize,
    /// Remaining points (≥ 0).
    pub points: i64,
    pub earned_at: Instant,
    pub available_at: Instant,
    pub pending: bool,
    /// Expiry from the policy kind (`after`, `end_of_period`) or `opening_balance.expires_at`.
    pub own_expiry: Option<Instant>,
    /// Under `inactivity` (of the lot's policy version): when the lot goes with the member's
    /// inactivity — the member's deadline under that version, or a deadline of the lot's own for
    /// a lot credited after that deadline had already passed (see docs, "Ledger: time rules").
    /// The ledger rewrites it at every activity ([`Lots::set_deadlines`]). None otherwise.
    pub deadline: Option<Instant>,
    /// The index of the policy version whose expiry rule the lot keeps (SPEC §3.1; 0 with one
    /// policy).
    pub version: usize,
    /// The purchase (index into the ledger's orders) that earned it.
    pub order: Option<usize>,
}

impl Lot {
    /// The instant the lot goes: its own expiry or its inactivity deadline, the earlier.
    pub fn expires_at(&self) -> Option<Instant> {
        earliest(self.own_expiry, self.deadline)
    }
}

/// All lots and the debt.
#[derive(Clone, Debug, Default)]
pub struct Lots {
    /// Read freely; changed only through the methods below, which keep the sums.
    pub lots: Vec<Lot>,
    /// Points owed (≥ 0): `available` = available lots − debt.
    pub debt: i64,
    next_seq: usize,
    /// Σ points of the available lots and of the pending lots, kept by every change (the
    /// replay asks for balances several times per event).
    available_sum: i128,
    pending_sum: i128,
    /// The earliest instant some lot changes on its own ([`Lots::next_change`]); None once a
    /// lot changed. The replay clock asks before every event, and most events change no lot or
    /// only add one.
    next: Option<Option<Instant>>,
}

/// When `l` changes on its own: it becomes available, or it expires (holding points).
fn lot_change(l: &Lot) -> Option<Instant> {
    let available = l.pending.then_some(l.available_at);
    let expires = if l.points > 0 { l.expires_at() } else { None };
    earliest(available, expires)
}

/// The earlier of two instants, either of which may be absent.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Lots {
    /// Available points (negative with debt). Summed wide: the ledger checks after every
    /// event that balances stay within the points range, so this never saturates in practice.
    pub fn available(&self) -> i64 {
        clamp(self.available_sum - i128::from(self.debt))
    }

    pub fn pending(&self) -> i64 {
        clamp(self.pending_sum)
    }

    /// Σ points of all lots (available and pending), unclamped.
    pub fn total(&self) -> i128 {
        self.available_sum + self.pending_sum
    }

    /// The earliest instant at which some lot becomes available or expires: remembered until a
    /// lot changes.
    pub fn next_change(&mut self) -> Option<Instant> {
        if let Some(next) = self.next {
            return next;
        }
        let next = self.lots.iter().filter_map(lot_change).min();
        self.next = Some(next);
        next
    }

    /// Activity moved the member's inactivity deadlines: every lot takes the deadline of its
    /// version (`deadlines[lot.version]`), dropping a deadline of its own.
    pub fn set_deadlines(&mut self, deadlines: &[Option<Instant>]) {
        for l in &mut self.lots {
            l.deadline = deadlines.get(l.version).copied().flatten();
        }
        self.next = None;
    }

    /// Adds a lot; an available one pays debt first. Returns its `seq`.
    pub fn add(&mut self, mut lot: Lot) -> usize {
        lot.seq = self.next_seq;
        self.next_seq += 1;
        if lot.pending {
            self.pending_sum += i128::from(lot.points);
        } else {
            self.pay_debt(&mut lot);
            self.available_sum += i128::from(lot.points);
        }
        // A new lot only adds its own instant.
        if let Some(next) = self.next {
            self.next = Some(earliest(next, lot_change(&lot)));
        }
        let seq = lot.seq;
        self.lots.push(lot);
        seq
    }

    fn pay_debt(&mut self, lot: &mut Lot) {
        let paid = lot.points.min(self.debt);
        lot.points -= paid;
        self.debt -= paid;
    }

    /// Pending lots whose `available_at` ≤ `t` become available, paying debt. Returns whether any did.
    pub fn make_available(&mut self, t: Instant) -> bool {
        self.next = None;
        let mut any = false;
        let mut debt = self.debt;
        let (mut avail, mut pend) = (self.available_sum, self.pending_sum);
        for l in self
            .lots
            .iter_mut()
            .filter(|l| l.pending && l.available_at <= t)
        {
            l.pending = false;
            pend -= i128::from(l.points);
            let paid = l.points.min(debt);
            l.points -= paid;
            debt -= paid;
            avail += i128::from(l.points);
            any = true;
        }
        self.debt = debt;
        (self.available_sum, self.pending_sum) = (avail, pend);
        self.prune();
        any
    }

    /// Takes up to `n` points from available lots: earliest expiry first (never-expiring
    /// last), then earliest earned, then creation order. Returns what it took.
    pub fn consume(&mut self, n: i64) -> i64 {
        if n <= 0 {
            // Nothing to take (most purchases redeem nothing).
            return 0;
        }
        self.next = None;
        let key = |l: &Lot| {
            let e = l.expires_at();
            (e.is_none(), e, l.earned_at, l.seq)
        };
        let usable = |l: &Lot| !l.pending && l.points > 0;
        let mut left = n;
        if self.lots.len() <= SMALL {
            // Few lots: their keys sorted on the stack (keys are unique: `seq`).
            let mut keys = [(false, None, Instant::MIN, 0usize, 0usize); SMALL];
            let mut k = 0;
            for (i, l) in self.lots.iter().enumerate() {
                if usable(l) {
                    if let Some(slot) = keys.get_mut(k) {
                        let (never, e, earned, seq) = key(l);
                        *slot = (never, e, earned, seq, i);
                        k += 1;
                    }
                }
            }
            let keys = keys.get_mut(..k).unwrap_or_default();
            crate::sort::sort_unstable(keys);
            for &(.., i) in keys.iter() {
                if left <= 0 {
                    break;
                }
                if let Some(l) = self.lots.get_mut(i) {
                    let take = l.points.min(left);
                    l.points -= take;
                    left -= take;
                }
            }
        } else {
            let mut order: Vec<usize> = (0..self.lots.len()).collect();
            order.retain(|&i| self.lots.get(i).is_some_and(usable));
            // Keys are unique (`seq`), so an unstable sort gives the same order.
            crate::sort::sort_unstable_by_key(&mut order, |&i| self.lots.get(i).map(key));
            for i in order {
                if left <= 0 {
                    break;
                }
                if let Some(l) = self.lots.get_mut(i) {
                    let take = l.points.min(left);
                    l.points -= take;
                    left -= take;
                }
            }
        }
        self.available_sum -= i128::from(n - left);
        self.prune();
        n - left
    }

    /// Takes up to `n` points from the pending lot earned by `order`. Returns what it took.
    pub fn take_pending_of(&mut self, order: usize, n: i64) -> i64 {
        self.next = None;
        let mut took = 0;
        for l in self
            .lots
            .iter_mut()
            .filter(|l| l.pending && l.order == Some(order))
        {
            let take = l.points.min(n - took);
            l.points -= take;
            took += take;
        }
        self.pending_sum -= i128::from(took);
        took
    }

    /// Removes every lot whose expiry is ≤ `t`; returns the points they still held.
    pub fn expire(&mut self, t: Instant) -> i64 {
        self.next = None;
        let mut gone = 0;
        let (mut avail, mut pend) = (self.available_sum, self.pending_sum);
        for l in self
            .lots
            .iter_mut()
            .filter(|l| l.points > 0 && l.expires_at().is_some_and(|e| e <= t))
        {
            gone += l.points;
            if l.pending {
                pend -= i128::from(l.points);
            } else {
                avail -= i128::from(l.points);
            }
            l.points = 0;
        }
        (self.available_sum, self.pending_sum) = (avail, pend);
        self.prune();
        gone
    }

    /// Drops emptied available lots (pending ones stay: their order may still refer to them
    /// until they become available).
    fn prune(&mut self) {
        self.lots.retain(|l| l.points > 0 || l.pending);
    }
}

/// Up to this many lots, [`Lots::consume`] orders them on the stack.
const SMALL: usize = 32;

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Instant {
        Instant::parse_rfc3339(s).unwrap()
    }

    fn lot(points: i64, earned: &str, available: &str, expires: Option<&str>) -> Lot {
        Lot {
            seq: 0,
            points,
            earned_at: t(earned),
            available_at: t(available),
            pending: t(available) > t(earned),
            own_expiry: expires.map(t),
            deadline: None,
            version: 0,
            order: None,
        }
    }

    #[test]
    fn consumption_takes_earliest_expiry_then_earliest_earned_never_expiring_last() {
        let mut lots = Lots::default();
        lots.add(lot(
            10,
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            None,
        ));
        lots.add(lot(
            10,
            "2026-03-01T00:00:00Z",
            "2026-03-01T00:00:00Z",
            Some("2027-01-01T00:00:00Z"),
        ));
        lots.add(lot(
            10,
            "2026-02-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            Some("2027-01-01T00:00:00Z"),
        ));
        lots.add(lot(
            10,
            "2026-04-01T00:00:00Z",
            "2026-04-01T00:00:00Z",
            Some("2026-12-01T00:00:00Z"),
        ));
        assert_eq!(lots.consume(25), 25);
        let left: Vec<(String, i64)> = lots
            .lots
            .iter()
            .map(|l| (l.earned_at.to_string(), l.points))
            .collect();
        // The December lot went first, then the February one (earlier earned of the two
        // January expiries), then 5 of the March one; the never-expiring lot is untouched.
        assert_eq!(
            left,
            [
                ("2026-01-01T00:00:00+00:00".to_string(), 10),
                ("2026-03-01T00:00:00+00:00".to_string(), 5),
            ]
        );
        assert_eq!(lots.consume(100), 15);
        assert_eq!(lots.available(), 0);
    }

    #[test]
    fn debt_is_paid_when_a_lot_becomes_available_not_before() {
        let mut lots = Lots {
            debt: 30,
            ..Lots::default()
        };
        lots.add(lot(
            50,
            "2026-01-01T00:00:00Z",
            "2026-01-08T00:00:00Z",
            None,
        ));
        assert_eq!((lots.available(), lots.pending()), (-30, 50));
        assert!(!lots.make_available(t("2026-01-07T23:59:59Z")));
        assert!(lots.make_available(t("2026-01-08T00:00:00Z")));
        assert_eq!((lots.available(), lots.pending(), lots.debt), (20, 0, 0));
        // An available lot pays at once.
        assert_eq!(lots.consume(20), 20);
        lots.debt = 5;
        lots.add(lot(3, "2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z", None));
        assert_eq!((lots.available(), lots.debt), (-2, 2));
    }

    #[test]
    fn expiry_takes_pending_and_available_lots_alike() {
        let mut lots = Lots::default();
        lots.add(lot(
            7,
            "2026-01-01T00:00:00Z",
            "2026-03-01T00:00:00Z",
            Some("2026-02-01T00:00:00Z"),
        ));
        lots.add(lot(
            4,
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            Some("2026-02-01T00:00:00Z"),
        ));
        lots.add(lot(
            9,
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            Some("2026-02-02T00:00:00Z"),
        ));
        assert_eq!(lots.expire(t("2026-02-01T00:00:00Z")), 11);
        assert_eq!(lots.available(), 9);
        // Under inactivity the member's deadline (of the lot's version) bounds every lot.
        lots.set_deadlines(&[Some(t("2026-01-20T00:00:00Z"))]);
        assert_eq!(lots.expire(t("2026-01-20T00:00:00Z")), 9);
    }

    /// The remembered next change is always what scanning every lot gives, through every kind
    /// of change (pseudo-random histories, with and without a member deadline).
    #[test]
    fn next_change_is_the_scan() {
        let scan = |lots: &Lots| lots.lots.iter().filter_map(lot_change).min();
        let base = t("2026-01-01T00:00:00+00:00");
        let at = |h: u64| base.checked_add_seconds(h as i64 * 3600).unwrap();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for round in 0..200 {
            let mut lots = Lots::default();
            let deadline = (round % 2 == 0).then(|| at(24 * 300));
            let deadlines = [deadline, Some(at(24 * 200))];
            for step in 0..60u64 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let now = at(step * 24);
                match seed % 6 {
                    0 | 1 => {
                        let pending = seed % 3 == 0;
                        lots.add(Lot {
                            seq: 0,
                            points: (seed % 50) as i64,
                            earned_at: now,
                            available_at: if pending { at(step * 24 + 72) } else { now },
                            pending,
                            own_expiry: (seed % 5 != 0).then(|| at(step * 24 + (seed % 900))),
                            deadline: deadlines.get((seed % 2) as usize).copied().flatten(),
                            version: (seed % 2) as usize,
                            order: Some(step as usize),
                        });
                    }
                    2 => {
                        lots.consume((seed % 40) as i64);
                    }
                    3 => {
                        lots.make_available(now);
                    }
                    4 => {
                        lots.expire(now);
                    }
                    _ => {
                        lots.take_pending_of((seed % (step + 1)) as usize, (seed % 30) as i64);
                    }
                }
                if step == 30 {
                    // Activity: version 0 lots take a new deadline, version 1 lots none.
                    lots.set_deadlines(&[Some(at(24 * 100)), None]);
                }
                assert_eq!(lots.next_change(), scan(&lots), "round {round} step {step}");
            }
        }
    }
}
