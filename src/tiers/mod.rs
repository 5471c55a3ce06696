//! Tier qualification and movement (SPEC §3 "Tiers", §7.19–21).
//!
//! Why a separate module: the ledger decides *when* tiers are looked at (after events, at
//! availability instants, at reviews); this module decides *what* the answer is — which
//! contributions a window holds, which level a value reaches, when reviews are scheduled and
//! whether one is skipped. Keeping it apart lets progress (§4) ask the same questions about
//! the future without replaying anything.
//!
//! Qualifying value = Σ of [`Entry`] values whose instant lies in the window, never below 0.
//! Each purchase owns one entry (points at its lot's `available_at`, spend and orders at the
//! purchase's `at`) that a refund rewrites in place, so a refund changes the purchase's own
//! contribution at the purchase's instant (§7.21).

use crate::policy::document::Review;
use crate::policy::{Policy, Window};
use crate::time::{Instant, Period, Zone};

/// One contribution to the qualifying value: points, minor units of spend, or orders.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub at: Instant,
    pub value: i64,
    /// Σ of the positive values of the entries up to this one, kept by [`Qualifying`].
    positive: u64,
}

/// The contributions of a member's history, for the policy's metric.
#[derive(Clone, Debug, Default)]
pub struct Qualifying {
    /// Read freely; changed only through [`Qualifying::push`] and [`Qualifying::set`], which
    /// keep the running sums.
    pub entries: Vec<Entry>,
    /// Whether windows are found by scanning every entry: when some entry's instant is before
    /// an earlier entry's, or a running sum would pass 2^64. Entries arrive with their
    /// events, in order, so nearly never: then a window's entries are a contiguous range,
    /// found by binary search, and their positive values sum to a difference of running sums
    /// ([`Qualifying::bound_since`] runs after every event; scanning made a long history
    /// quadratic).
    scan: bool,
}

/// Bounds of a window: `lo` (inclusive, None = unbounded) to `hi` (inclusive unless `hi_open`).
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub lo: Option<Instant>,
    pub hi: Instant,
    pub hi_open: bool,
}

impl Qualifying {
    /// Adds an entry, returning its index (kept by the owner to rewrite it on refunds).
    pub fn push(&mut self, at: Instant, value: i64) -> usize {
        let last = self.entries.last();
        self.scan |= last.is_some_and(|e| e.at > at);
        let positive = Self::running(&mut self.scan, last, value);
        self.entries.push(Entry {
            at,
            value,
            positive,
        });
        self.entries.len() - 1
    }

    pub fn set(&mut self, index: usize, value: i64) {
        if let Some(e) = self.entries.get_mut(index) {
            e.value = value;
        }
        // The running sums from `index` on.
        let mut before = index
            .checked_sub(1)
            .and_then(|i| self.entries.get(i))
            .copied();
        for e in self.entries.iter_mut().skip(index) {
            e.positive = Self::running(&mut self.scan, before.as_ref(), e.value);
            before = Some(*e);
        }
    }

    /// The running sum after `before` with `value`; on passing 2^64, 0 and `scan` set.
    fn running(scan: &mut bool, before: Option<&Entry>, value: i64) -> u64 {
        let sum = before
            .map_or(0, |e| e.positive)
            .checked_add(value.max(0).unsigned_abs());
        *scan |= sum.is_none();
        sum.unwrap_or(0)
    }

    /// Whether the entries are in instant order with their running sums.
    fn ordered(&self) -> bool {
        !self.scan
    }

    /// Σ of the entries inside `b`, at least 0; `None` beyond `max`.
    pub fn value(&self, b: Bounds, max: i64) -> Option<i64> {
        let sum: i128 = self
            .entries
            .iter()
            .filter(|e| b.lo.is_none_or(|lo| e.at >= lo))
            .filter(|e| if b.hi_open { e.at < b.hi } else { e.at <= b.hi })
            .map(|e| i128::from(e.value))
            .sum();
        let v = sum.max(0);
        (v <= i128::from(max)).then_some(v as i64)
    }

    /// Σ of the positive values of every entry: a bound of any window's value, at once while
    /// the entries are in order (the last running sum).
    pub fn positive_total(&self) -> i128 {
        if self.ordered() {
            return self.entries.last().map_or(0, |e| i128::from(e.positive));
        }
        self.bound_since(None, Instant::MAX)
    }

    /// An upper bound of [`Qualifying::value`] for any window `[lo, t]` with `lo` at or after
    /// `from` (None: unbounded): the positive entries in `[from, t]`, summed.
    pub fn bound_since(&self, from: Option<Instant>, t: Instant) -> i128 {
        if self.ordered() {
            // The entries in [from, t] are those from `lo` up to `hi`.
            let hi = self.entries.partition_point(|e| e.at <= t);
            let lo = from.map_or(0, |f| self.entries.partition_point(|e| e.at < f));
            let upto = |k: usize| {
                k.checked_sub(1)
                    .and_then(|i| self.entries.get(i))
                    .map_or(0, |e| i128::from(e.positive))
            };
            return if lo < hi { upto(hi) - upto(lo) } else { 0 };
        }
        self.entries
            .iter()
            .filter(|e| e.value > 0 && e.at <= t && from.is_none_or(|f| e.at >= f))
            .map(|e| i128::from(e.value))
            .sum()
    }

    /// Instants after `t` where the value rises (e.g. points becoming available): the
    /// earliest one, for the upgrade check there.
    pub fn next_rise_after(&self, t: Instant) -> Option<Instant> {
        if self.ordered() {
            // In instant order the first positive entry after `t` is the earliest.
            let after = self.entries.partition_point(|e| e.at <= t);
            return self
                .entries
                .get(after..)
                .and_then(|rest| rest.iter().find(|e| e.value > 0))
                .map(|e| e.at);
        }
        self.entries
            .iter()
            .filter(|e| e.at > t && e.value > 0)
            .map(|e| e.at)
            .min()
    }
}

/// The window ending at `t` (the moment of evaluation): `[t − n months, t]`, `[1 January, t]`
/// or everything up to `t`.
pub fn window_at(policy: &Policy, t: Instant) -> Bounds {
    let zone = policy.time_zone;
    let lo = match policy.tiers.window {
        Window::Lifetime => None,
        Window::RollingMonths(n) => Some(months_back(zone, t, n)),
        Window::CalendarYear => Some(zone.period_start(t, Period::Year, 0).unwrap_or(t)),
    };
    Bounds {
        lo,
        hi: t,
        hi_open: false,
    }
}

/// An instant at or before the start of [`window_at`]`(policy, t)`, without calendar
/// arithmetic (None: the window may start anywhere before `t`): a month is at most 31 days,
/// and a year 366, give or take a UTC offset change (at most a day; 3 days of slack).
pub fn window_start_bound(policy: &Policy, t: Instant) -> Option<Instant> {
    const DAY: i64 = 86_400;
    let days = match policy.tiers.window {
        Window::Lifetime => return None,
        Window::RollingMonths(n) => n.checked_mul(31)?.checked_add(3)?,
        Window::CalendarYear => 366 + 3,
    };
    t.checked_add_seconds(days.checked_mul(-DAY)?)
}

/// The window a review at `r` judges (§7.21): rolling `[r − n months, r]`; `calendar_year`
/// the local year containing the instant just before `r` (at 1 January 00:00 the year that
/// just ended, `r` itself excluded); lifetime everything up to `r`. Events at `r` are not in
/// the entries yet when a review runs, so "excluding events at r" needs nothing here.
pub fn review_window(policy: &Policy, r: Instant) -> Bounds {
    let zone = policy.time_zone;
    match policy.tiers.window {
        Window::CalendarYear => {
            let before = just_before(r);
            let lo = zone.period_start(before, Period::Year, 0).unwrap_or(before);
            let next = zone.period_start(before, Period::Year, 1);
            Bounds {
                lo: Some(lo),
                hi: r,
                hi_open: next == Some(r),
            }
        }
        _ => window_at(policy, r),
    }
}

/// The instant one nanosecond before `t` (`t` itself at the start of the range).
pub fn just_before(t: Instant) -> Instant {
    let (s, n) = (t.unix_seconds(), t.subsec_nanos());
    let prev = if n > 0 {
        Instant::from_unix(s, n - 1)
    } else {
        Instant::from_unix(s - 1, 999_999_999)
    };
    prev.unwrap_or(t)
}

/// `t` moved back `n` months at the same local wall-clock time (clamped to month ends).
pub fn months_back(zone: Zone, t: Instant, n: i64) -> Instant {
    i32::try_from(n)
        .ok()
        .and_then(|n| zone.add_local_months(t, -n))
        .unwrap_or(Instant::MIN)
}

/// The highest level whose threshold the value reaches.
pub fn qualified_level(policy: &Policy, value: i64) -> usize {
    policy
        .tiers
        .levels
        .iter()
        .rposition(|l| l.threshold.value <= value)
        .unwrap_or(0)
}

/// Largest value the metric may take (points and orders: the JS safe range; spend: i64).
pub fn metric_max(policy: &Policy) -> i64 {
    match policy.tiers.metric {
        crate::policy::document::TierMetric::Spend => i64::MAX,
        _ => crate::money::MAX_POINTS,
    }
}

/// A member's tier state as reviews see it.
#[derive(Clone, Copy, Debug)]
pub struct TierState {
    pub tier: usize,
    pub since: Instant,
    pub locked_until: Option<Instant>,
}

/// The first scheduled review strictly after `t` (skipped or not); None for `never` or beyond
/// the supported range.
pub fn next_scheduled_review(policy: &Policy, s: TierState, t: Instant) -> Option<Instant> {
    let zone = policy.time_zone;
    match policy.tiers.downgrade.review {
        Review::Never => None,
        Review::CalendarYearEnd => zone.period_start(t, Period::Year, 1),
        Review::HalfYearEnd => zone.period_start(t, Period::HalfYear, 1),
        Review::Anniversary => {
            // k-th review = since + 12·k months, from `since` (clamped, not chained, §7.20).
            use chrono::Datelike;
            let years = zone.local_date(t).year() - zone.local_date(s.since).year();
            let mut k = (years - 1).max(1);
            loop {
                let r = zone.add_local_months(s.since, k.checked_mul(12)?)?;
                if r > t {
                    return Some(r);
                }
                k = k.checked_add(1)?;
            }
        }
    }
}

/// Whether a review at `r` is skipped: before `since + retain_months` or before
/// `locked_until` (an instant equal to either is held, §7.20).
pub fn skipped(policy: &Policy, s: TierState, r: Instant) -> bool {
    let retain = policy.tiers.downgrade.retain_months;
    let retain_until = i32::try_from(retain)
        .ok()
        .and_then(|m| policy.time_zone.add_local_months(s.since, m))
        .unwrap_or(Instant::MAX);
    r < retain_until || s.locked_until.is_some_and(|l| r < l)
}

/// `next_review` of the response: the first scheduled review after `t` that is not skipped;
/// None for `never` or at the lowest level.
pub fn next_review(policy: &Policy, s: TierState, t: Instant) -> Option<Instant> {
    if s.tier == 0 {
        return None;
    }
    let mut r = next_scheduled_review(policy, s, t)?;
    // Reviews are at most a year apart and retain/lock spans are bounded by the supported
    // range, so this ends; the bound is a guard.
    for _ in 0..5_000 {
        if !skipped(policy, s, r) {
            return Some(r);
        }
        r = next_scheduled_review(policy, s, r)?;
    }
    None
}

/// The level a review moves to from `tier` for `value`: lower only, at most `max_steps`.
pub fn reviewed_level(policy: &Policy, tier: usize, value: i64) -> usize {
    let target = qualified_level(policy, value);
    if target >= tier {
        return tier;
    }
    match policy.tiers.downgrade.max_steps {
        Some(steps) => {
            let floor = tier.saturating_sub(usize::try_from(steps).unwrap_or(usize::MAX));
            target.max(floor)
        }
        None => target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(window: &str, review: &str, retain: i64, max_steps: &str) -> Policy {
        Policy::from_json(&format!(
            r#"{{"schema":1,"id":"t","currency":"EUR","time_zone":"Europe/Bratislava",
            "earning":{{"spend":"1","points":1}},
            "tiers":{{"window":{window},"levels":[
                {{"id":"a","name":"A","threshold":"0"}},{{"id":"b","name":"B","threshold":"10"}},
                {{"id":"c","name":"C","threshold":"20"}},{{"id":"d","name":"D","threshold":"30"}}],
              "downgrade":{{"review":"{review}","retain_months":{retain},"max_steps":{max_steps}}}}}}}"#
        ))
        .unwrap()
    }

    fn t(s: &str) -> Instant {
        Instant::parse_rfc3339(s).unwrap()
    }

    fn state(tier: usize, since: &str, locked: Option<&str>) -> TierState {
        TierState {
            tier,
            since: t(since),
            locked_until: locked.map(t),
        }
    }

    #[test]
    fn anniversaries_are_clamped_from_since_not_chained() {
        let p = policy("\"lifetime\"", "anniversary", 0, "null");
        let s = state(1, "2028-02-29T12:00:00+01:00", None);
        let mut r = t("2028-02-29T12:00:00+01:00");
        let mut seen = Vec::new();
        for _ in 0..4 {
            r = next_scheduled_review(&p, s, r).unwrap();
            seen.push(p.time_zone.format(r));
        }
        assert_eq!(
            seen,
            [
                "2029-02-28T12:00:00+01:00",
                "2030-02-28T12:00:00+01:00",
                "2031-02-28T12:00:00+01:00",
                "2032-02-29T12:00:00+01:00"
            ]
        );
    }

    #[test]
    fn retain_and_lock_boundaries_are_held() {
        let p = policy("\"lifetime\"", "half_year_end", 6, "null");
        let s = state(
            1,
            "2026-01-01T00:00:00+01:00",
            Some("2027-01-01T00:00:00+01:00"),
        );
        // since + 6 months = 2026-07-01T00:00+02:00: equal, not before -> not skipped by retain,
        // but before the lock.
        assert!(skipped(&p, s, t("2026-07-01T00:00:00+02:00")));
        assert!(!skipped(&p, s, t("2027-01-01T00:00:00+01:00")));
        assert_eq!(
            next_review(&p, s, t("2026-03-01T00:00:00+01:00")).map(|r| p.time_zone.format(r)),
            Some("2027-01-01T00:00:00+01:00".to_string())
        );
        // At the lowest level there is no next review.
        assert_eq!(next_review(&p, TierState { tier: 0, ..s }, s.since), None);
    }

    #[test]
    fn reviews_lower_at_most_max_steps() {
        let p = policy("\"lifetime\"", "anniversary", 0, "1");
        assert_eq!(reviewed_level(&p, 3, 0), 2);
        assert_eq!(reviewed_level(&p, 3, 25), 2);
        assert_eq!(reviewed_level(&p, 1, 35), 1, "reviews never raise");
        let p = policy("\"lifetime\"", "anniversary", 0, "null");
        assert_eq!(reviewed_level(&p, 3, 15), 1);
    }

    #[test]
    fn calendar_year_review_windows() {
        let p = policy("\"calendar_year\"", "half_year_end", 0, "null");
        let jan = review_window(&p, t("2027-01-01T00:00:00+01:00"));
        assert_eq!(jan.lo, Some(t("2026-01-01T00:00:00+01:00")));
        assert!(jan.hi_open);
        let jul = review_window(&p, t("2027-07-01T00:00:00+02:00"));
        assert_eq!(jul.lo, Some(t("2027-01-01T00:00:00+01:00")));
        assert!(!jul.hi_open);
    }

    #[test]
    fn values_never_go_below_zero_and_respect_bounds() {
        let mut q = Qualifying::default();
        q.push(t("2026-01-01T00:00:00+01:00"), 5);
        q.push(t("2026-02-01T00:00:00+01:00"), -20);
        let all = Bounds {
            lo: None,
            hi: t("2030-01-01T00:00:00+01:00"),
            hi_open: false,
        };
        assert_eq!(q.value(all, 100), Some(0));
        let first = Bounds {
            lo: Some(t("2026-01-01T00:00:00+01:00")),
            hi: t("2026-02-01T00:00:00+01:00"),
            hi_open: true,
        };
        assert_eq!(q.value(first, 100), Some(5));
        assert_eq!(q.value(first, 4), None);
    }

    /// The binary-searched sums answer what scanning every entry answers, in and out of
    /// instant order, before and after rewrites.
    #[test]
    fn ordered_answers_match_scans() {
        let scan_bound = |q: &Qualifying, from: Option<Instant>, t: Instant| -> i128 {
            q.entries
                .iter()
                .filter(|e| e.value > 0 && e.at <= t && from.is_none_or(|f| e.at >= f))
                .map(|e| i128::from(e.value))
                .sum()
        };
        let scan_rise = |q: &Qualifying, t: Instant| {
            q.entries
                .iter()
                .filter(|e| e.at > t && e.value > 0)
                .map(|e| e.at)
                .min()
        };
        let at = |s: i64| Instant::from_unix(1_700_000_000 + s, 0).unwrap();
        let mut x: u64 = 7;
        let mut next = |m: u64| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % m
        };
        for round in 0..200 {
            let mut q = Qualifying::default();
            let mut clock = 0i64;
            for _ in 0..next(40) {
                // Now and then an entry before the last one (round % 4 == 0 only).
                clock += next(5) as i64;
                let when = if round % 4 == 0 && next(6) == 0 {
                    clock - 7
                } else {
                    clock
                };
                q.push(at(when), next(21) as i64 - 5);
                if next(8) == 0 {
                    let i = next(q.entries.len() as u64) as usize;
                    q.set(i, next(31) as i64 - 10);
                }
                if round % 4 != 0 {
                    assert!(q.ordered());
                }
                for _ in 0..4 {
                    let t = at(next(clock as u64 + 10) as i64 - 5);
                    let from = (next(3) > 0).then(|| at(next(clock as u64 + 10) as i64 - 5));
                    assert_eq!(q.bound_since(from, t), scan_bound(&q, from, t));
                    assert_eq!(q.next_rise_after(t), scan_rise(&q, t));
                    assert_eq!(q.positive_total(), scan_bound(&q, None, Instant::MAX));
                }
            }
        }
        // Running sums past 2^64: answered by scanning.
        let mut q = Qualifying::default();
        for s in 0..3 {
            q.push(at(s), i64::MAX);
            assert_eq!(q.ordered(), s < 2);
            assert_eq!(q.bound_since(None, at(9)), scan_bound(&q, None, at(9)));
            assert_eq!(q.positive_total(), scan_bound(&q, None, Instant::MAX));
        }
    }
}
