//! Purchase frequency: members by number of orders in the period (1, 2–3, 4–6, 7–12, 13+) and
//! the days between a member's consecutive purchases in the period (local dates): median and
//! distribution. Summed from `rpt_cells` (`cells`: a few rows per pair of days, whatever the
//! number of members); with a store, tier or status filter — which changes which purchases are
//! consecutive — from the members' purchase rows (`rpt_flows`) as `purchases` plans.

use super::purchases::{self, Plan};
use super::{answer, csv_text, Query};
use crate::http::ApiError;
use crate::storage::{self, Db};
use serde_json::{json, Value};
use sqlx::AnyConnection;
use std::collections::BTreeMap;

pub const BUCKETS: [(&str, i64, i64); 5] = [
    ("1", 1, 1),
    ("2-3", 2, 3),
    ("4-6", 4, 6),
    ("7-12", 7, 12),
    ("13+", 13, i64::MAX),
];
pub const GAPS: [(&str, i64, i64); 7] = [
    ("0-7", 0, 7),
    ("8-14", 8, 14),
    ("15-30", 15, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-180", 91, 180),
    ("181+", 181, i64::MAX),
];

use super::cells::day_number;

/// The value at 0-based rank `i` of a histogram (value → count).
fn nth(hist: &BTreeMap<i64, i64>, i: i64) -> i64 {
    let mut seen = 0;
    for (v, n) in hist {
        seen += n;
        if i < seen {
            return *v;
        }
    }
    0
}

/// Intervals by [`GAPS`] bucket from a histogram (days → intervals).
fn gap_buckets(hist: &BTreeMap<i64, i64>) -> [i64; 7] {
    let mut gaps = [0i64; 7];
    for (g, n) in hist {
        if let Some(i) = GAPS.iter().position(|(_, lo, hi)| g >= lo && g <= hi) {
            gaps[i] += n;
        }
    }
    gaps
}

/// The median of a histogram, as [`median`] of its sorted values.
fn median_of(hist: &BTreeMap<i64, i64>) -> Option<String> {
    let n: i64 = hist.values().sum();
    if n <= 0 {
        return None;
    }
    let v: Vec<i64> = if n % 2 == 1 {
        vec![nth(hist, n / 2)]
    } else {
        vec![nth(hist, n / 2 - 1), nth(hist, n / 2)]
    };
    median(&v)
}

/// What the report counts: members, orders, members by bucket, intervals by bucket and the
/// median interval.
struct Counts {
    members: i64,
    orders: i64,
    buckets: [i64; 5],
    intervals: i64,
    gaps: [i64; 7],
    median: Option<String>,
}

impl Counts {
    fn of(t: &Tally) -> Counts {
        Counts {
            members: t.members,
            orders: t.orders,
            buckets: t.buckets,
            intervals: t.gaps.values().sum(),
            gaps: gap_buckets(&t.gaps),
            median: median_of(&t.gaps),
        }
    }
}

/// From the cells of the period (docs in `cells`): members with at least k orders are
/// S₍ₖ₋₁₎ − Sₖ.
async fn from_cells(c: &mut AnyConnection, q: &Query) -> Result<Tally, ApiError> {
    let p = super::cells::period(c, &q.from, &q.to, q.p.card_type.as_deref()).await?;
    let at_least = |k: usize| p.s(k - 1) - p.s(k);
    let ge = [1, 2, 4, 7, 13].map(at_least);
    let buckets = [
        ge[0] - ge[1],
        ge[1] - ge[2],
        ge[2] - ge[3],
        ge[3] - ge[4],
        ge[4],
    ];
    Ok(Tally {
        members: ge[0],
        orders: p.s(0),
        buckets,
        gaps: p.gaps,
        ..Tally::default()
    })
}

/// The median of sorted values as a decimal string ("12", "12.5"); None when empty.
fn median(v: &[i64]) -> Option<String> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        return Some(v[n / 2].to_string());
    }
    let s = v[n / 2 - 1] + v[n / 2];
    Some(if s % 2 == 0 {
        (s / 2).to_string()
    } else {
        format!("{}.5", s.div_euclid(2))
    })
}

pub async fn report(
    db: &Db,
    c: &mut AnyConnection,
    q: &Query,
) -> Result<axum::response::Response, ApiError> {
    const COLS: &str = "member_id, day";
    let t = match Plan::of(c, q).await? {
        Plan::Cells => from_cells(c, q).await?,
        Plan::Scan => purchases::scan(db, q, COLS, Tally::default()).await?,
        Plan::Others => {
            let (mut t, (all, active)) = tokio::try_join!(
                from_cells(c, q),
                purchases::others(db, q, COLS, Tally::default())
            )?;
            t.add(all, -1);
            t.add(active, 1);
            t
        }
    };
    let k = Counts::of(&t);
    let (counts, gaps_hist) = (k.buckets, k.gaps);
    let mut out = q.head();
    out["members"] = json!(k.members);
    out["orders"] = json!(k.orders);
    out["by_orders"] = Value::Array(
        BUCKETS
            .iter()
            .zip(counts)
            .map(|((b, ..), n)| json!({ "orders": b, "members": n }))
            .collect(),
    );
    out["days_between"] = json!({
        "intervals": k.intervals,
        "median": k.median,
        "distribution": GAPS.iter().zip(gaps_hist).map(|((b, ..), n)| json!({ "days": b, "intervals": n })).collect::<Vec<_>>(),
    });
    let o = out.clone();
    answer("frequency", q, out, || {
        let mut rows: Vec<Vec<String>> = BUCKETS
            .iter()
            .zip(counts)
            .map(|((b, ..), n)| vec!["orders".into(), (*b).into(), n.to_string()])
            .collect();
        rows.extend(
            GAPS.iter()
                .zip(gaps_hist)
                .map(|((b, ..), n)| vec!["days_between".into(), (*b).into(), n.to_string()]),
        );
        rows.push(vec![
            "median_days_between".into(),
            String::new(),
            o["days_between"]["median"]
                .as_str()
                .unwrap_or_default()
                .into(),
        ]);
        csv_text(&["section", "bucket", "count"], &rows)
    })
}

/// What a read of purchases counts as the rows go by: the member being read (its id, orders so
/// far and last day number), members by bucket, and the days between purchases (days →
/// intervals). The cells' figures are kept in one too (`from_cells`), so that a plan can add
/// and take away the counts of a read.
#[derive(Clone, Default)]
struct Tally {
    member: String,
    n: i64,
    last: i64,
    members: i64,
    orders: i64,
    buckets: [i64; 5],
    gaps: BTreeMap<i64, i64>,
}

impl Tally {
    /// Adds (`sign` 1) or takes away (−1) the counts of `other`.
    fn add(&mut self, other: Tally, sign: i64) {
        self.members += sign * other.members;
        self.orders += sign * other.orders;
        for (a, b) in self.buckets.iter_mut().zip(other.buckets) {
            *a += sign * b;
        }
        for (g, n) in other.gaps {
            *self.gaps.entry(g).or_insert(0) += sign * n;
        }
    }

    /// Counts the member just read in its bucket.
    fn close(&mut self) {
        let n = self.n;
        if let Some(i) = BUCKETS.iter().position(|(_, lo, hi)| n >= *lo && n <= *hi) {
            self.buckets[i] += 1;
        }
    }
}

impl storage::scan::Part for Tally {
    fn finish(&mut self) {
        self.close();
    }

    fn merge(&mut self, other: Self) {
        self.add(other, 1);
    }
}

impl storage::scan::Visit for Tally {
    fn row(&mut self, cols: &[&str]) {
        let (m, d) = (cols[0], day_number(cols[1]));
        self.orders += 1;
        if self.n > 0 && self.member == m {
            *self.gaps.entry(d - self.last).or_insert(0) += 1;
            self.n += 1;
        } else {
            self.close();
            self.members += 1;
            self.member.clear();
            self.member.push_str(m);
            self.n = 1;
        }
        self.last = d;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    #[test]
    fn medians() {
        assert_eq!(super::median(&[]), None);
        assert_eq!(super::median(&[3]).as_deref(), Some("3"));
        assert_eq!(super::median(&[3, 4]).as_deref(), Some("3.5"));
        assert_eq!(super::median(&[2, 4, 9, 10]).as_deref(), Some("6.5"));
        assert_eq!(super::median(&[2, 4, 8, 10]).as_deref(), Some("6"));
        let h: BTreeMap<i64, i64> = [(2, 1), (4, 2), (9, 1)].into();
        assert_eq!(super::median_of(&h).as_deref(), Some("4"));
        let h: BTreeMap<i64, i64> = [(2, 2), (9, 2)].into();
        assert_eq!(super::median_of(&h).as_deref(), Some("5.5"));
        assert_eq!(super::median_of(&Default::default()), None);
    }
}
