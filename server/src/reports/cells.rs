//! Counts of purchases by pairs of local days (`rpt_cells`, migration 0006): what the purchase
//! frequency and customer-type reports need, summed without reading a member's purchases.
//!
//! For the period [F, T] (day numbers), with a member's purchases in time order d₁ ≤ d₂ ≤ …:
//! - `o` (b = a = dₖ, the purchase's tier): Σ = S₀, the orders of the period;
//! - `l{j}` (b = dₖ, a = dₖ₋ⱼ, j ∈ [`LAGS`]): Σ over F ≤ a, b ≤ T = Sⱼ, the purchases of the
//!   period with j earlier ones in it, i.e. Σ over members of max(0, nₘ − j) where nₘ is the
//!   member's orders in the period. So the members with at least k orders are S₍ₖ₋₁₎ − Sₖ —
//!   the frequency buckets — and `l1` grouped by b − a is every interval between consecutive
//!   purchases of the period;
//! - `tn` (b = dₖ₊₁, a = dₖ, the tier of purchase k): Σ is the purchases of the period followed
//!   by another one in it, so `o` − `tn` by tier is each buyer's last order of the period;
//! - `jd` (b = the first day of a run of purchases at one tier, a = the joining day) and `jn`
//!   (b = the first day of the next run), by the run's tier: `jd` − `jn` is the tier of the last
//!   order of the buyers who joined in the period (new) — one pair per tier change, not per
//!   purchase, as the joining day may be years before;
//! - `j` (b = a = the joining day, tier and status at joining): members who joined;
//! - `act` (a = 0, b = a day, by the card's type): +1 on the first day a card bound to the
//!   member counts as activated (issued, and the member active at the day's end), −1 on the day
//!   the member stops being active; Σ over b ≤ T is the cards activated at the end of T.
//!
//! Events are never before joining, so a ≤ b in every row and a period's rows have F ≤ a ≤ T:
//! a report reads the rows with a in [F, T] (the primary key's order) and keeps b ≤ T — a few
//! per pair of days of the period, whatever the number of members or the length of history. The rows are a
//! sum over members like `rpt_day` (`store::Sums`): added and taken away by the difference of a
//! member's facts in the transaction that stores its event, rebuilt, compared by `serve check`.
//!
//! A store, tier or status filter changes which purchases are consecutive, so the purchase kinds
//! (`o`, `l{j}`, `tn`, `jd`, `jn`) are counted again among the purchases each filter keeps, in
//! rows of their own: `f` names the filter (`s:` a store, `t:` a tier, `x:` the status the
//! order was priced with, [`filter`]); `f = ''` is every purchase, and only it holds `j` and
//! `act`. A report with one of these filters reads that filter's rows (several filters at once
//! read the purchases).

use loyalty_engine::report::{Flow, Point};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// (f, a, b, card_type, tier, status), the primary key's order.
pub type Key = (String, i64, i64, String, String, String);
/// The counts of a row, one per kind, in [`KINDS`] order.
pub type Counts = [i64; 14];
pub type Cells = BTreeMap<Key, Counts>;

/// The kinds: the columns of `rpt_cells`, in order. One row holds every kind of its pair of days
/// (a pair is often the 1st previous purchase of one member and the 3rd of another's), so a
/// period reads several times fewer rows than with a row per kind.
pub const KINDS: [&str; 14] = [
    "o", "l1", "l2", "l3", "l4", "l6", "l7", "l12", "l13", "tn", "jd", "jn", "j", "act",
];

fn column(kind: &str) -> usize {
    KINDS.iter().position(|k| *k == kind).unwrap_or(0)
}

/// The lags j whose Sⱼ the frequency buckets (1, 2–3, 4–6, 7–12, 13+) need.
pub const LAGS: [(usize, &str); 8] = [
    (1, "l1"),
    (2, "l2"),
    (3, "l3"),
    (4, "l4"),
    (6, "l6"),
    (7, "l7"),
    (12, "l12"),
    (13, "l13"),
];

/// A local date's day number (days since 0001-01-01); 0 for a bad date.
pub fn day_number(day: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map(|d| {
            use chrono::Datelike;
            i64::from(d.num_days_from_ce())
        })
        .unwrap_or_default()
}

/// Adds (sign 1) or takes away (−1) one member's cells.
pub fn add_member(
    m: &mut Cells,
    flows: &[Flow],
    points: &[Point],
    card: &str,
    cards: &[(String, i64)],
    sign: i64,
) {
    let Some(first) = points.first() else {
        return;
    };
    // The days the member is active at the end of: [s, e), from the states in time order (the
    // state at a day's end is the last of that day).
    let mut runs: Vec<(i64, Option<i64>)> = vec![];
    let mut open: Option<i64> = None;
    for p in points {
        let d = day_number(&p.day);
        if p.status == "active" {
            open.get_or_insert(d);
        } else if let Some(s) = open.take() {
            runs.push((s, Some(d)));
        }
    }
    if let Some(s) = open {
        runs.push((s, None));
    }
    for (kind, issued) in cards {
        for &(s, e) in &runs {
            let from = s.max(*issued);
            if e.is_some_and(|e| from >= e) {
                continue;
            }
            let mut put = |b: i64, v: i64| {
                m.entry((
                    String::new(),
                    0,
                    b,
                    kind.clone(),
                    String::new(),
                    String::new(),
                ))
                .or_insert([0; 14])[column("act")] += sign * v;
            };
            put(from, 1);
            if let Some(e) = e {
                put(e, -1);
            }
        }
    }
    let joined = day_number(&first.day);
    m.entry((
        String::new(),
        joined,
        joined,
        card.to_string(),
        first.tier.clone(),
        first.status.to_string(),
    ))
    .or_insert([0; 14])[column("j")] += sign;
    // The purchases in the order the reports read them.
    let mut buys: Vec<Buy> = flows
        .iter()
        .enumerate()
        .filter(|(_, f)| f.kind == "purchase")
        .map(|(i, f)| Buy {
            at: f.at_ms,
            n: i,
            day: day_number(&f.day),
            tier: &f.tier,
            store: f.store.as_deref(),
            status: f.status,
        })
        .collect();
    buys.sort_unstable_by_key(|b| (b.at, b.n));
    let mut put = |f: &str, a: i64, b: i64, kind: &str, tier: &str| {
        m.entry((
            f.to_string(),
            a,
            b,
            card.to_string(),
            tier.to_string(),
            String::new(),
        ))
        .or_insert([0; 14])[column(kind)] += sign;
    };
    purchases(&mut put, "", &buys, joined);
    // Each filter's purchases, counted among themselves.
    let mut filters: Vec<String> = buys
        .iter()
        .flat_map(|b| {
            [
                b.store.map(|s| filter("store", s)),
                Some(filter("tier", b.tier)),
                Some(filter("status", b.status)),
            ]
        })
        .flatten()
        .collect();
    filters.sort_unstable();
    filters.dedup();
    for f in &filters {
        let kept: Vec<Buy> = buys.iter().filter(|b| b.keeps(f)).copied().collect();
        purchases(&mut put, f, &kept, joined);
    }
}

/// A purchase as the cells count it.
#[derive(Clone, Copy)]
struct Buy<'a> {
    at: i64,
    n: usize,
    day: i64,
    tier: &'a str,
    store: Option<&'a str>,
    status: &'a str,
}

impl Buy<'_> {
    fn keeps(&self, f: &str) -> bool {
        let (kind, value) = f.split_at(2);
        match kind {
            "s:" => self.store == Some(value),
            "t:" => self.tier == value,
            "x:" => self.status == value,
            _ => true,
        }
    }
}

/// The `f` of a report filter's rows: `store`, `tier` or `status` and its value.
pub fn filter(name: &str, value: &str) -> String {
    let p = match name {
        "store" => "s:",
        "tier" => "t:",
        _ => "x:",
    };
    format!("{p}{value}")
}

/// The purchase kinds of one member's purchases (in time order) into `put(f, a, b, kind, tier)`.
fn purchases(put: &mut impl FnMut(&str, i64, i64, &str, &str), f: &str, buys: &[Buy], joined: i64) {
    for (k, buy) in buys.iter().enumerate() {
        let (d, tier) = (buy.day, buy.tier);
        put(f, d, d, "o", tier);
        for (j, name) in LAGS {
            if k >= j {
                put(f, buys[k - j].day, d, name, "");
            }
        }
        if let Some(next) = buys.get(k + 1) {
            put(f, d, next.day, "tn", tier);
        }
        // A run of purchases at one tier starts here: it holds the last order of the period
        // from its first day until the next run's.
        if k == 0 || buys[k - 1].tier != tier {
            put(f, joined, d, "jd", tier);
            if let Some(next) = buys[k + 1..].iter().find(|b| b.tier != tier) {
                put(f, joined, next.day, "jn", tier);
            }
        }
    }
}

/// Adds a difference to `rpt_cells` in `shard` (multi-row upserts; zero differences left out).
pub async fn apply(c: &mut AnyConnection, d: &Cells, shard: i64) -> Result<(), sqlx::Error> {
    use crate::storage::batch::{Batch, V};
    let key = ["f", "a", "b", "card_type", "tier", "status", "shard"];
    let mut b = Batch::sums("rpt_cells", &key, &KINDS);
    for (k, v) in d.iter().filter(|(_, v)| v.iter().any(|x| *x != 0)) {
        let mut row = vec![
            V::S(k.0.clone()),
            V::I(k.1),
            V::I(k.2),
            V::S(k.3.clone()),
            V::S(k.4.clone()),
            V::S(k.5.clone()),
            V::I(shard),
        ];
        row.extend(v.iter().map(|x| V::I(*x)));
        b.push(row);
    }
    b.flush(c).await
}

/// The stored cells (zero rows left out).
pub async fn stored(c: &mut AnyConnection) -> Result<Cells, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT f, a, b, card_type, tier, status, {} FROM rpt_cells",
        KINDS.join(", ")
    )))
    .fetch_all(c)
    .await?;
    let mut m = Cells::new();
    for r in &rows {
        // Summed over the shards.
        let sum = m
            .entry((r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
            .or_insert([0; 14]);
        for (i, x) in sum.iter_mut().enumerate() {
            *x += r.get::<i64, _>(6 + i);
        }
    }
    m.retain(|_, v| v.iter().any(|x| *x != 0));
    Ok(m)
}

/// What a period's cells sum to.
#[derive(Debug, Default)]
pub struct Period {
    /// (kind, tier, status) → Σ n, for every kind but `l1`'s intervals.
    pub sums: BTreeMap<(String, String, String), i64>,
    /// Days between consecutive purchases of the period → intervals.
    pub gaps: BTreeMap<i64, i64>,
}

impl Period {
    /// Σ of a kind over tiers and statuses.
    pub fn total(&self, kind: &str) -> i64 {
        self.sums
            .iter()
            .filter(|((k, ..), _)| k == kind)
            .map(|(_, v)| v)
            .sum()
    }

    /// Σ of a kind by tier.
    pub fn by_tier(&self, kind: &str) -> BTreeMap<String, i64> {
        let mut m = BTreeMap::new();
        for ((k, t, _), v) in &self.sums {
            if k == kind {
                *m.entry(t.clone()).or_insert(0) += v;
            }
        }
        m
    }

    /// Sⱼ: `o` for j = 0, else `l{j}`.
    pub fn s(&self, j: usize) -> i64 {
        if j == 0 {
            self.total("o")
        } else {
            self.total(&format!("l{j}"))
        }
    }
}

/// The cards activated at the end of `to` (bound to a member active then, issued by then), of
/// the type `card_type` if given.
pub async fn activated(
    c: &mut AnyConnection,
    to: &str,
    card_type: Option<&str>,
) -> Result<i64, sqlx::Error> {
    let cond = if card_type.is_some() {
        " AND card_type = $2"
    } else {
        ""
    };
    let sql = format!(
        "SELECT CAST(SUM(act) AS BIGINT) FROM rpt_cells WHERE f = '' AND a = 0 AND b <= $1{cond}"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(day_number(to));
    if let Some(t) = card_type {
        q = q.bind(t);
    }
    Ok(q.fetch_one(c)
        .await?
        .get::<Option<i64>, _>(0)
        .unwrap_or_default())
}

/// The cells of the period [from, to] (local dates) of the filter `f` ([`filter`]; '' for every
/// purchase), on members of `card_type` if given.
pub async fn period(
    c: &mut AnyConnection,
    f: &str,
    from: &str,
    to: &str,
    card_type: Option<&str>,
) -> Result<Period, sqlx::Error> {
    let cond = if card_type.is_some() {
        " AND card_type = $4"
    } else {
        ""
    };
    let sums: Vec<String> = KINDS[..13]
        .iter()
        .map(|k| format!("CAST(SUM({k}) AS BIGINT)"))
        .collect();
    let sql = format!(
        "SELECT tier, status, b - a, {} FROM rpt_cells WHERE f = $1 AND a >= $2 AND a <= $3 AND b <= $3{cond} \
         GROUP BY tier, status, b - a",
        sums.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(f)
        .bind(day_number(from))
        .bind(day_number(to));
    if let Some(t) = card_type {
        q = q.bind(t);
    }
    let mut p = Period::default();
    for r in q.fetch_all(c).await? {
        let (tier, status): (String, String) = (r.get(0), r.get(1));
        let g: i64 = r.get(2);
        for (i, kind) in KINDS[..13].iter().enumerate() {
            let n: i64 = r.get::<Option<i64>, _>(3 + i).unwrap_or_default();
            if n == 0 {
                continue;
            }
            if *kind == "l1" {
                *p.gaps.entry(g).or_insert(0) += n;
            }
            *p.sums
                .entry((kind.to_string(), tier.clone(), status.clone()))
                .or_insert(0) += n;
        }
    }
    p.gaps.retain(|_, n| *n != 0);
    Ok(p)
}
