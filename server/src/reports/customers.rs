//! Customer type: buyers of the period that joined in it (new) or before (returning), by the
//! tier of their last order in the period; members at the period's end by status and tier;
//! members who joined in the period; cards issued, bound to a member, unassigned, activated
//! (bound to a member active at the period's end) and the activation rate.

use super::purchases::{self, Plan};
use super::{answer, csv_text, Query};
use crate::http::ApiError;
use crate::storage::scan::{Bind, Part, Visit};
use crate::storage::{self, Db};
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, HashSet};

const STATUSES: [&str; 4] = ["active", "inactive", "excluded", "unassigned"];

/// `num ÷ den` to four decimals, half up ("0.7500"); None when `den` is 0.
pub fn rate(num: i64, den: i64) -> Option<String> {
    if den <= 0 {
        return None;
    }
    let v = (i128::from(num) * 20_000 / i128::from(den) + 1) / 2;
    Some(format!("{}.{:04}", v / 10_000, v % 10_000))
}

pub async fn report(
    db: &Db,
    c: &mut AnyConnection,
    q: &Query,
) -> Result<axum::response::Response, ApiError> {
    let levels = q.levels();
    let plan = Plan::of(c, q).await?;
    // With a store, tier or status filter the buyers are read from the purchases, on
    // connections of their own (`storage::scan`), while this one reads the other figures.
    let (scanned, (cells, bal, [issued, assigned], activated)) = tokio::try_join!(
        async {
            match plan {
                Plan::Cells => Ok(None),
                Plan::Scan => scan(db, q).await.map(Some),
                Plan::Others => others(db, q).await.map(Some),
            }
        },
        figures(c, q, plan),
    )?;
    // tier → (new, returning)
    let by_tier: BTreeMap<String, (i64, i64)> = match scanned {
        Some(Scanned::Buyers(b)) => b.by_tier,
        Some(Scanned::Others(all, active)) => {
            let mut b = from_cells(&cells);
            b.add(all, -1);
            b.add(active, 1);
            b.by_tier
        }
        None => from_cells(&cells).by_tier,
    };
    let by_tier: BTreeMap<String, (i64, i64)> = by_tier
        .into_iter()
        .filter(|(_, (n, r))| *n != 0 || *r != 0)
        .collect();
    let new: i64 = by_tier.values().map(|v| v.0).sum();
    let returning: i64 = by_tier.values().map(|v| v.1).sum();
    let mut status_n: BTreeMap<String, i64> = BTreeMap::new();
    let mut tier_n: BTreeMap<String, i64> = BTreeMap::new();
    let mut total = 0;
    for ((tier, status), v) in &bal {
        *status_n.entry(status.clone()).or_insert(0) += v[0];
        *tier_n.entry(tier.clone()).or_insert(0) += v[0];
        total += v[0];
    }
    // Joined in the period: the `j` cells (the tier and status filters: the state at joining).
    let joined: i64 = cells
        .sums
        .iter()
        .filter(|((k, t, st), _)| {
            k == "j"
                && q.p.tier.as_ref().is_none_or(|x| x == t)
                && q.p.status.as_ref().is_none_or(|x| x == st)
        })
        .map(|(_, n)| n)
        .sum();
    let mut out = q.head();
    out["buyers"] = json!({ "total": new + returning, "new": new, "returning": returning });
    out["buyers_by_tier"] = Value::Array(
        levels
            .iter()
            .map(|l| {
                let (n, r) = by_tier.get(l).copied().unwrap_or_default();
                json!({ "tier": l, "new": n, "returning": r })
            })
            .collect(),
    );
    out["joined"] = json!(joined);
    out["members_at_end"] = json!({
        "total": total,
        "by_status": STATUSES.iter().map(|s| json!({ "status": s, "members": status_n.get(*s).copied().unwrap_or_default() })).collect::<Vec<_>>(),
        "by_tier": levels.iter().map(|l| json!({ "tier": l, "members": tier_n.get(l).copied().unwrap_or_default() })).collect::<Vec<_>>(),
    });
    out["cards"] = json!({
        "issued": issued,
        "assigned": assigned,
        "unassigned": issued - assigned,
        "activated": activated,
        "activation_rate": rate(activated, issued),
    });
    let o = out.clone();
    answer("customers", q, out, || {
        let mut rows: Vec<Vec<String>> = vec![
            vec![
                "buyers".into(),
                "new".into(),
                o["buyers"]["new"].to_string(),
            ],
            vec![
                "buyers".into(),
                "returning".into(),
                o["buyers"]["returning"].to_string(),
            ],
            vec!["joined".into(), String::new(), o["joined"].to_string()],
        ];
        for t in o["buyers_by_tier"].as_array().into_iter().flatten() {
            let tier = t["tier"].as_str().unwrap_or_default();
            rows.push(vec![
                "buyers_new_by_tier".into(),
                tier.into(),
                t["new"].to_string(),
            ]);
            rows.push(vec![
                "buyers_returning_by_tier".into(),
                tier.into(),
                t["returning"].to_string(),
            ]);
        }
        for s in o["members_at_end"]["by_status"]
            .as_array()
            .into_iter()
            .flatten()
        {
            rows.push(vec![
                "members_by_status".into(),
                s["status"].as_str().unwrap_or_default().into(),
                s["members"].to_string(),
            ]);
        }
        for s in o["members_at_end"]["by_tier"]
            .as_array()
            .into_iter()
            .flatten()
        {
            rows.push(vec![
                "members_by_tier".into(),
                s["tier"].as_str().unwrap_or_default().into(),
                s["members"].to_string(),
            ]);
        }
        for k in ["issued", "assigned", "unassigned", "activated"] {
            rows.push(vec!["cards".into(), k.into(), o["cards"][k].to_string()]);
        }
        rows.push(vec![
            "cards".into(),
            "activation_rate".into(),
            o["cards"]["activation_rate"]
                .as_str()
                .unwrap_or_default()
                .into(),
        ]);
        csv_text(&["section", "key", "value"], &rows)
    })
}

/// Members at the period's end by (tier, status) ([`super::points::balances`]).
type Balances = BTreeMap<(String, String), [i64; 3]>;

/// What every customers report reads besides the buyers: the period's cells (only those of the
/// members who joined when the buyers are read from the purchases), the balances at its end,
/// the cards issued and bound by then, and the activated ones.
async fn figures(
    c: &mut AnyConnection,
    q: &Query,
    plan: Plan,
) -> Result<(super::cells::Period, Balances, [i64; 2], i64), ApiError> {
    let card_type = q.p.card_type.as_deref();
    let cells = match plan {
        Plan::Scan => super::cells::joined(c, &q.from, &q.to, card_type).await?,
        Plan::Cells | Plan::Others => super::cells::period(c, &q.from, &q.to, card_type).await?,
    };
    let bal = super::points::balances(c, q).await?;
    // Cards issued by the period's end.
    let type_cond = if q.p.card_type.is_some() {
        " AND c.type = $2"
    } else {
        ""
    };
    let count = |extra: &str| {
        format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM cards c WHERE c.issued_at < $1{type_cond}{extra}"
        )
    };
    let mut nums = vec![];
    for extra in ["", " AND c.member_id IS NOT NULL"] {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(count(extra))).bind(q.end_ms);
        if let Some(t) = &q.p.card_type {
            query = query.bind(t);
        }
        nums.push(query.fetch_one(&mut *c).await?.get::<i64, _>(0));
    }
    // Activated: bound to a member active at the period's end (the `act` cells).
    let activated = super::cells::activated(c, &q.to, q.p.card_type.as_deref()).await?;
    Ok((cells, bal, [nums[0], nums[1]], activated))
}

/// Buyers by tier from the cells: each buyer's last order of the period is `o` − `tn`; of
/// those who joined in it, `jd` − `jn` (`cells`).
fn from_cells(cells: &super::cells::Period) -> Buyers {
    let (o, tn, jd, jn) = (
        cells.by_tier("o"),
        cells.by_tier("tn"),
        cells.by_tier("jd"),
        cells.by_tier("jn"),
    );
    let get = |m: &BTreeMap<String, i64>, t: &str| m.get(t).copied().unwrap_or_default();
    let by_tier = o
        .keys()
        .map(|t| {
            let all = get(&o, t) - get(&tn, t);
            let new = get(&jd, t) - get(&jn, t);
            (t.clone(), (new, all - new))
        })
        .collect();
    Buyers {
        by_tier,
        ..Buyers::default()
    }
}

/// What a read of purchases gives: the buyers ([`Plan::Scan`]), or the buyers with a purchase
/// of another status counted on all their purchases and on their active ones
/// ([`Plan::Others`]).
enum Scanned {
    Buyers(Buyers),
    Others(Buyers, Buyers),
}

/// The purchases' columns the buyers are counted from.
const COLS: &str = "member_id, tier";

/// [`Plan::Scan`]: the buyers of the period by the tier of their last order in it, new (joined
/// in the period) and returning, from the purchase rows the filters keep, member by member.
async fn scan(db: &Db, q: &Query) -> Result<Scanned, ApiError> {
    // The members who joined in the period (a buyer among them is new), read while the
    // purchases are: each buyer is kept under its tier until both are read.
    let (joined, b) = tokio::try_join!(
        joined(
            db,
            "SELECT id FROM members WHERE joined_at >= $1",
            vec![],
            q,
        ),
        purchases::scan(db, q, COLS, Buyers::default()),
    )?;
    Ok(Scanned::Buyers(b.classify(&joined)))
}

/// [`Plan::Others`]: the buyers with a purchase of another status than `active`, counted on
/// all their purchases of the period and on their active ones.
async fn others(db: &Db, q: &Query) -> Result<Scanned, ApiError> {
    let (members, binds) = purchases::others_members(db, q, 2);
    let sql = format!("SELECT id FROM members WHERE joined_at >= $1 AND id IN ({members})");
    let (joined, (all, active)) = tokio::try_join!(
        joined(db, &sql, binds, q),
        purchases::others(db, q, COLS, Buyers::default()),
    )?;
    Ok(Scanned::Others(
        all.classify(&joined),
        active.classify(&joined),
    ))
}

/// The ids `sql` selects with the period's first instant as `$1`, then `binds`.
async fn joined(
    db: &Db,
    sql: &str,
    binds: Vec<Bind>,
    q: &Query,
) -> Result<HashSet<String>, ApiError> {
    let binds = std::iter::once(Bind::Int(q.start_ms))
        .chain(binds)
        .collect();
    let joined = storage::scan::each(db, sql.to_string(), binds, Joined::default())
        .await
        .map_err(ApiError::internal)?;
    Ok(joined.0)
}

#[derive(Default)]
struct Joined(HashSet<String>);

impl Visit for Joined {
    fn row(&mut self, cols: &[&str]) {
        self.0.insert(cols[0].to_string());
    }
}

/// What a read of purchases counts as the rows go by: the buyer being read and the tier of its
/// last row so far; tier → (new, returning).
#[derive(Clone, Default)]
struct Buyers {
    member: String,
    tier: String,
    by_tier: BTreeMap<String, (i64, i64)>,
    /// The buyers read so far by tier, until [`Buyers::classify`] (the members who joined in
    /// the period are read at the same time as the purchases).
    unclassified: BTreeMap<String, Vec<Box<str>>>,
}

impl Buyers {
    /// Counts the buyers kept by tier as new (in `joined`) or returning.
    fn classify(mut self, joined: &HashSet<String>) -> Buyers {
        for (tier, ids) in std::mem::take(&mut self.unclassified) {
            let new = ids.iter().filter(|id| joined.contains(&***id)).count() as i64;
            let e = self.by_tier.entry(tier).or_default();
            e.0 += new;
            e.1 += ids.len() as i64 - new;
        }
        self
    }

    /// Adds (`sign` 1) or takes away (−1) the buyers of `other`.
    fn add(&mut self, other: Buyers, sign: i64) {
        for (tier, (n, r)) in other.by_tier {
            let e = self.by_tier.entry(tier).or_default();
            e.0 += sign * n;
            e.1 += sign * r;
        }
    }

    /// Keeps the buyer just read under its last order's tier.
    fn close(&mut self) {
        if self.member.is_empty() {
            return;
        }
        let id = self.member.as_str().into();
        match self.unclassified.get_mut(&self.tier) {
            Some(ids) => ids.push(id),
            None => {
                self.unclassified.insert(self.tier.clone(), vec![id]);
            }
        }
    }
}

impl Part for Buyers {
    fn finish(&mut self) {
        self.close();
    }

    fn merge(&mut self, mut other: Self) {
        for (tier, ids) in std::mem::take(&mut other.unclassified) {
            self.unclassified.entry(tier).or_default().extend(ids);
        }
        self.add(other, 1);
    }
}

impl Visit for Buyers {
    fn row(&mut self, cols: &[&str]) {
        if self.member != cols[0] {
            self.close();
            self.member.clear();
            self.member.push_str(cols[0]);
        }
        self.tier.clear();
        self.tier.push_str(cols[1]);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rates() {
        assert_eq!(super::rate(3, 4).as_deref(), Some("0.7500"));
        assert_eq!(super::rate(1, 3).as_deref(), Some("0.3333"));
        assert_eq!(super::rate(2, 3).as_deref(), Some("0.6667"));
        assert_eq!(super::rate(5, 5).as_deref(), Some("1.0000"));
        assert_eq!(super::rate(1, 0), None);
    }
}
