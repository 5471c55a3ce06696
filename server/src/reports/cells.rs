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
//! member's facts in the transaction that stores its event (an import's members: when the job
//! ends, [`super::deferred`]), rebuilt, compared by `serve check`.
//! They answer the reports without a store, tier or status filter (those change which
//! purchases are consecutive); with one the reports read the purchases (`purchases`: for
//! `status=active`, only those of the members with a purchase of another status, taken from
//! and added to the cells' figures).

use loyalty_engine::report::{Flow, Point};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// (a, b, card_type, tier, status), the primary key's order.
pub type Key = (i64, i64, String, String, String);
/// The counts of a row, one per kind, in [`KINDS`] order.
pub type Counts = [i64; 14];
/// A hash map: the loader's sums of every member reach millions of rows, where a B-tree's
/// comparisons of texts cost more than the cells themselves; writers sort the keys
/// ([`apply`]: one lock order on PostgreSQL).
pub type Cells = hashbrown::HashMap<Key, Counts>;

/// The kinds: the columns of `rpt_cells`, in order. One row holds every kind of its pair of days
/// (a pair is often the 1st previous purchase of one member and the 3rd of another's), so a
/// period reads several times fewer rows than with a row per kind.
pub const KINDS: [&str; 14] = [
    "o", "l1", "l2", "l3", "l4", "l6", "l7", "l12", "l13", "tn", "jd", "jn", "j", "act",
];

/// A kind's column, found when the program is compiled: a loader or an import bumps millions
/// of cells, and the search by name was a tenth of an import's reading thread (`perf`).
const fn column(kind: &str) -> usize {
    let k = kind.as_bytes();
    let mut i = 0;
    while i < KINDS.len() {
        let n = KINDS[i].as_bytes();
        if n.len() == k.len() {
            let mut j = 0;
            while j < n.len() && n[j] == k[j] {
                j += 1;
            }
            if j == n.len() {
                return i;
            }
        }
        i += 1;
    }
    // Only ever evaluated while compiling (the constants below): a name that is not a kind
    // stops the build.
    assert!(i < KINDS.len(), "not a kind of rpt_cells");
    i
}

const O: usize = column("o");
const TN: usize = column("tn");
const JD: usize = column("jd");
const JN: usize = column("jn");
const J: usize = column("j");
const ACT: usize = column("act");

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

/// [`LAGS`] with each one's column.
const LAG_COLUMNS: [(usize, usize); 8] = {
    let mut out = [(0, 0); 8];
    let mut i = 0;
    while i < LAGS.len() {
        out[i] = (LAGS[i].0, column(LAGS[i].1));
        i += 1;
    }
    out
};

/// A local date's day number (days since 0001-01-01); 0 for a bad date.
pub fn day_number(day: &str) -> i64 {
    use chrono::{Datelike, NaiveDate};
    // `YYYY-MM-DD`, as the report rows write days, read without a format parser (a filtered
    // report reads one per purchase); anything else through chrono's.
    let b = day.as_bytes();
    let plain = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    let date = if plain {
        let n =
            |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |v, c| v * 10 + u32::from(c - b'0'));
        NaiveDate::from_ymd_opt(n(0..4) as i32, n(5..7), n(8..10))
    } else {
        NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
    };
    date.map(|d| i64::from(d.num_days_from_ce()))
        .unwrap_or_default()
}

/// One member's facts as the cells read them.
#[derive(Clone, Copy)]
pub struct Member<'a> {
    pub flows: &'a [Flow],
    pub points: &'a [Point],
    /// The type of the member's first card, and every card bound to it as (type, issue day).
    pub card: &'a str,
    pub cards: &'a [(String, i64)],
}

/// Adds (sign 1) or takes away (−1) one member's cells.
pub fn add_member(m: &mut Cells, member: Member, sign: i64) {
    let Some(joined) = add_days(m, member, sign) else {
        return;
    };
    let mut put = |a: i64, b: i64, kind: usize, tier: &str| {
        bump(m, KeyRef(a, b, member.card, tier, ""), kind, sign)
    };
    purchases(&mut put, &buys(member.flows), joined, 0);
}

/// Adds the difference `new` − `old` of one member's cells: what [`add_member`] of `new` (1)
/// and of `old` (−1) add together, without counting the purchases both begin with again. A
/// purchase's cells depend on it and the purchases before it, but for `tn` (the next purchase)
/// and `jn` (the next run's first day): so with the first k purchases the same,
/// only those from k − 1 on — and the run holding purchase k − 1 — can differ (a booking
/// appends one: a few cells instead of the whole history's).
pub fn add_change(m: &mut Cells, old: Member, new: Member) {
    let first = |x: Member| {
        x.points
            .first()
            .map(|p| (p.day.clone(), p.tier.clone(), p.status))
    };
    if old.card != new.card || first(old) != first(new) {
        add_member(m, new, 1);
        add_member(m, old, -1);
        return;
    }
    let Some(joined) = add_days(m, new, 1) else {
        return;
    };
    add_days(m, old, -1);
    let (ob, nb) = (buys(old.flows), buys(new.flows));
    let same = ob.iter().zip(&nb).take_while(|(x, y)| x.same(y)).count();
    if same == ob.len() && same == nb.len() {
        return; // the purchases did not change
    }
    let from = same.saturating_sub(1);
    for (buys, sign) in [(&nb, 1), (&ob, -1)] {
        let mut put = |a: i64, b: i64, kind: usize, tier: &str| {
            bump(m, KeyRef(a, b, new.card, tier, ""), kind, sign)
        };
        purchases(&mut put, buys, joined, from);
    }
}

/// A [`Key`] by reference: a row is looked up without building its texts (a loader adds
/// thousands of cells a member to a map of millions of rows; only a new row allocates).
#[derive(Hash)]
struct KeyRef<'a>(i64, i64, &'a str, &'a str, &'a str);

impl hashbrown::Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, k: &Key) -> bool {
        (self.0, self.1, self.2, self.3, self.4)
            == (k.0, k.1, k.2.as_str(), k.3.as_str(), k.4.as_str())
    }
}

/// Adds `n` to a kind (its column `i`) of a row.
fn bump(m: &mut Cells, k: KeyRef, i: usize, n: i64) {
    match m.get_mut(&k) {
        Some(v) => v[i] += n,
        None => {
            let mut v = [0; 14];
            v[i] = n;
            let KeyRef(a, b, card, tier, status) = k;
            m.insert((a, b, card.into(), tier.into(), status.into()), v);
        }
    }
}

/// The `act` and `j` cells of a member; its joining day (None for a member with no state).
fn add_days(m: &mut Cells, member: Member, sign: i64) -> Option<i64> {
    let first = member.points.first()?;
    // The days the member is active at the end of: [s, e), from the states in time order (the
    // state at a day's end is the last of that day).
    let mut runs: Vec<(i64, Option<i64>)> = vec![];
    let mut open: Option<i64> = None;
    for p in member.points {
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
    for (kind, issued) in member.cards {
        for &(s, e) in &runs {
            let from = s.max(*issued);
            if e.is_some_and(|e| from >= e) {
                continue;
            }
            let mut put = |b: i64, v: i64| bump(m, KeyRef(0, b, kind, "", ""), ACT, sign * v);
            put(from, 1);
            if let Some(e) = e {
                put(e, -1);
            }
        }
    }
    let joined = day_number(&first.day);
    let k = KeyRef(joined, joined, member.card, &first.tier, first.status);
    bump(m, k, J, sign);
    Some(joined)
}

/// A purchase as the cells count it.
#[derive(Clone, Copy)]
struct Buy<'a> {
    at: i64,
    n: usize,
    day: i64,
    tier: &'a str,
}

impl Buy<'_> {
    /// The same for every cell (the order aside).
    fn same(&self, o: &Buy) -> bool {
        (self.day, self.tier) == (o.day, o.tier)
    }
}

/// A member's purchases in the order the reports read them.
fn buys(flows: &[Flow]) -> Vec<Buy<'_>> {
    let mut buys: Vec<Buy> = flows
        .iter()
        .enumerate()
        .filter(|(_, f)| f.kind == "purchase")
        .map(|(i, f)| Buy {
            at: f.at_ms,
            n: i,
            day: day_number(&f.day),
            tier: &f.tier,
        })
        .collect();
    buys.sort_unstable_by_key(|b| (b.at, b.n));
    buys
}

/// The purchase kinds of one member's purchases (in time order) into `put(a, b, column, tier)`:
/// those of the purchases from `from` on, and the `jd`/`jn` of the run that holds purchase
/// `from` (the only earlier cell that a purchase from `from` on changes).
fn purchases(put: &mut impl FnMut(i64, i64, usize, &str), buys: &[Buy], joined: i64, from: usize) {
    let starts = |k: usize| k == 0 || buys[k - 1].tier != buys[k].tier;
    // A run of purchases at one tier starts at k: it holds the last order of the period from its
    // first day until the next run's.
    let run = |put: &mut dyn FnMut(i64, i64, usize, &str), k: usize| {
        let (d, tier) = (buys[k].day, buys[k].tier);
        put(joined, d, JD, tier);
        if let Some(next) = buys[k + 1..].iter().find(|b| b.tier != tier) {
            put(joined, next.day, JN, tier);
        }
    };
    if from < buys.len() {
        let mut r = from;
        while !starts(r) {
            r -= 1;
        }
        if r < from {
            run(put, r);
        }
    }
    for k in from..buys.len() {
        let (d, tier) = (buys[k].day, buys[k].tier);
        put(d, d, O, tier);
        for (j, col) in LAG_COLUMNS {
            if k >= j {
                put(buys[k - j].day, d, col, "");
            }
        }
        if let Some(next) = buys.get(k + 1) {
            put(d, next.day, TN, tier);
        }
        if starts(k) {
            run(put, k);
        }
    }
}

/// Adds `o`'s counts to `m`'s.
pub fn add(m: &mut Cells, o: Cells) {
    if m.is_empty() {
        *m = o;
        return;
    }
    for (k, v) in o {
        let sum = m.entry(k).or_insert([0; 14]);
        for (x, y) in sum.iter_mut().zip(v) {
            *x += y;
        }
    }
}

/// Adds a difference to `rpt_cells` in `shard` (multi-row upserts; zero differences left out).
pub async fn apply(
    c: &mut impl crate::storage::writer::Write,
    d: &Cells,
    shard: i64,
) -> Result<(), sqlx::Error> {
    use crate::storage::batch::{Batch, V};
    let key = ["a", "b", "card_type", "tier", "status", "shard"];
    let mut b = Batch::sums("rpt_cells", &key, &KINDS);
    // In key order: concurrent PostgreSQL transactions take the rows' locks in one order.
    let mut rows: Vec<(&Key, &Counts)> = d
        .iter()
        .filter(|(_, v)| v.iter().any(|x| *x != 0))
        .collect();
    rows.sort_unstable_by(|x, y| x.0.cmp(y.0));
    for (k, v) in rows {
        let mut row = vec![
            V::I(k.0),
            V::I(k.1),
            V::S(k.2.clone()),
            V::S(k.3.clone()),
            V::S(k.4.clone()),
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
        "SELECT a, b, card_type, tier, status, {} FROM rpt_cells",
        KINDS.join(", ")
    )))
    .fetch_all(c)
    .await?;
    let mut m = Cells::new();
    for r in &rows {
        // Summed over the shards.
        let sum = m
            .entry((r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .or_insert([0; 14]);
        for (i, x) in sum.iter_mut().enumerate() {
            *x += r.get::<i64, _>(5 + i);
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
    let sql =
        format!("SELECT CAST(SUM(act) AS BIGINT) FROM rpt_cells WHERE a = 0 AND b <= $1{cond}");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(day_number(to));
    if let Some(t) = card_type {
        q = q.bind(t);
    }
    Ok(q.fetch_one(c)
        .await?
        .get::<Option<i64>, _>(0)
        .unwrap_or_default())
}

/// The cells of the period [from, to] (local dates), on members of `card_type` if given.
pub async fn period(
    c: &mut AnyConnection,
    from: &str,
    to: &str,
    card_type: Option<&str>,
) -> Result<Period, sqlx::Error> {
    read(c, from, to, card_type, &KINDS[..13], "b <= $2").await
}

/// The `j` cells of the period alone (the members who joined in it, by tier and status at
/// joining): what the customers report takes from the cells when it reads the buyers from the
/// purchases. A row per day at most (b = a: one seek a day), where [`period`] reads every
/// pair of days.
pub async fn joined(
    c: &mut AnyConnection,
    from: &str,
    to: &str,
    card_type: Option<&str>,
) -> Result<Period, sqlx::Error> {
    read(c, from, to, card_type, &["j"], "b = a").await
}

/// The sums of `kinds` over the rows with a in [from, to], `b` as `b_cond` says.
async fn read(
    c: &mut AnyConnection,
    from: &str,
    to: &str,
    card_type: Option<&str>,
    kinds: &[&str],
    b_cond: &str,
) -> Result<Period, sqlx::Error> {
    let cond = if card_type.is_some() {
        " AND card_type = $3"
    } else {
        ""
    };
    let sums: Vec<String> = kinds
        .iter()
        .map(|k| format!("CAST(SUM({k}) AS BIGINT)"))
        .collect();
    let sql = format!(
        "SELECT tier, status, b - a, {} FROM rpt_cells WHERE a >= $1 AND a <= $2 AND {b_cond}{cond} \
         GROUP BY tier, status, b - a",
        sums.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(day_number(from))
        .bind(day_number(to));
    if let Some(t) = card_type {
        q = q.bind(t);
    }
    let mut p = Period::default();
    for r in q.fetch_all(c).await? {
        let (tier, status): (String, String) = (r.get(0), r.get(1));
        let g: i64 = r.get(2);
        for (i, kind) in kinds.iter().enumerate() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_as_chrono_reads_them() {
        use chrono::Datelike;
        let mut d = chrono::NaiveDate::from_ymd_opt(1999, 12, 25).unwrap();
        for _ in 0..20_000 {
            let text = d.format("%Y-%m-%d").to_string();
            assert_eq!(day_number(&text), i64::from(d.num_days_from_ce()), "{text}");
            d = d.succ_opt().unwrap();
        }
        // Not a date: 0, as before.
        for bad in [
            "",
            "2025-02-30",
            "2025-13-01",
            "2025-1-05x",
            "20250105",
            "2025-+1-05",
        ] {
            assert_eq!(day_number(bad), 0, "{bad}");
        }
    }

    fn purchase(at: i64, tier: &str) -> Flow {
        let day = chrono::NaiveDate::from_num_days_from_ce_opt(739_600 + (at / 10) as i32)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string();
        Flow {
            kind: "purchase",
            at_ms: at,
            day,
            tier: tier.to_string(),
            status: "active",
            orders: 1,
            ..Flow::default()
        }
    }

    fn pruned(mut m: Cells) -> Cells {
        m.retain(|_, v| v.iter().any(|x| *x != 0));
        m
    }

    /// `add_change` equals adding the new member's cells and taking the old one's away, for
    /// appended, inserted, changed and removed purchases and for no change at all.
    #[test]
    fn a_change_adds_what_the_whole_member_would() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let points = vec![Point {
            at_ms: 0,
            day: "2026-01-01".into(),
            available: 0,
            pending: 0,
            tier: "member".into(),
            status: "active",
        }];
        let cards = vec![("standard".to_string(), 739_600)];
        let mut changed = 0;
        for _ in 0..400 {
            let random = |next: &mut dyn FnMut(u64) -> u64| {
                purchase(next(600) as i64, ["member", "gold"][next(2) as usize])
            };
            let old: Vec<Flow> = (0..next(25)).map(|_| random(&mut next)).collect();
            let mut new = old.clone();
            match next(5) {
                0 => new.push(random(&mut next)),
                1 if !new.is_empty() => {
                    let i = next(new.len() as u64) as usize;
                    new[i].tier = "silver".into();
                }
                2 if !new.is_empty() => {
                    new.remove(next(new.len() as u64) as usize);
                }
                3 => {
                    let mut p = random(&mut next);
                    p.at_ms = 599; // a late sale after every other one, or one in between
                    new.insert(next(new.len() as u64 + 1) as usize, p);
                }
                _ => {}
            }
            changed += usize::from(old != new);
            let member = |flows| Member {
                flows,
                points: &points,
                card: "standard",
                cards: &cards,
            };
            let mut whole = Cells::new();
            add_member(&mut whole, member(&new), 1);
            add_member(&mut whole, member(&old), -1);
            let mut change = Cells::new();
            add_change(&mut change, member(&old), member(&new));
            assert_eq!(pruned(change), pruned(whole));
        }
        assert!(changed > 250, "{changed}");
    }
}
