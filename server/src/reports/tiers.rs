//! Tier movements: upgrades and downgrades per month, the from → to matrix of the period, and
//! members per tier at its end. Read from `rpt_moves` (tier changes by day, reviews included)
//! and `rpt_balance`.

use super::{answer, csv_text, Query};
use crate::http::ApiError;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

pub async fn report(
    c: &mut AnyConnection,
    q: &Query,
) -> Result<axum::response::Response, ApiError> {
    let levels = q.levels();
    let idx = |t: &str| levels.iter().position(|l| l == t);
    // A tier filter here means moves from or to that tier.
    let mut sql = String::from(
        "SELECT day, from_tier, to_tier, CAST(SUM(members) AS BIGINT) FROM rpt_moves WHERE day >= $1 AND day <= $2",
    );
    let mut binds = vec![];
    let mut n = 3;
    for (col, v) in [("card_type", &q.p.card_type), ("status", &q.p.status)] {
        if let Some(v) = v {
            sql.push_str(&format!(" AND {col} = ${n}"));
            n += 1;
            binds.push(v.clone());
        }
    }
    if let Some(t) = &q.p.tier {
        sql.push_str(&format!(" AND (from_tier = ${n} OR to_tier = ${n})"));
        binds.push(t.clone());
    }
    sql.push_str(" GROUP BY day, from_tier, to_tier");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&q.from)
        .bind(&q.to);
    for b in &binds {
        query = query.bind(b);
    }
    let mut months: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut d =
        chrono::NaiveDate::parse_from_str(&q.from, "%Y-%m-%d").map_err(ApiError::internal)?;
    let end = chrono::NaiveDate::parse_from_str(&q.to, "%Y-%m-%d").map_err(ApiError::internal)?;
    while d <= end {
        months.entry(d.format("%Y-%m").to_string()).or_default();
        d += chrono::Duration::days(1);
    }
    let mut matrix: BTreeMap<(usize, usize), i64> = BTreeMap::new();
    let (mut up, mut down) = (0i64, 0i64);
    for r in query.fetch_all(&mut *c).await? {
        let day: String = r.get(0);
        let (from, to): (String, String) = (r.get(1), r.get(2));
        let k: i64 = r.get::<Option<i64>, _>(3).unwrap_or_default();
        let (Some(a), Some(b)) = (idx(&from), idx(&to)) else {
            continue;
        };
        *matrix.entry((a, b)).or_insert(0) += k;
        let m = months
            .entry(day.get(..7).unwrap_or_default().to_string())
            .or_default();
        if b > a {
            m.0 += k;
            up += k;
        } else {
            m.1 += k;
            down += k;
        }
    }
    let bal = super::points::balances(c, q).await?;
    let mut at_end: BTreeMap<String, i64> = BTreeMap::new();
    for ((tier, _), v) in &bal {
        *at_end.entry(tier.clone()).or_insert(0) += v[0];
    }
    let mut out = q.head();
    out["upgrades"] = json!(up);
    out["downgrades"] = json!(down);
    out["by_month"] = Value::Array(
        months
            .iter()
            .map(|(m, (u, d))| json!({ "month": m, "up": u, "down": d }))
            .collect(),
    );
    out["matrix"] = Value::Array(
        matrix
            .iter()
            .filter(|(_, n)| **n != 0)
            .map(|((a, b), n)| json!({ "from": levels[*a], "to": levels[*b], "members": n }))
            .collect(),
    );
    out["members_at_end"] = Value::Array(
        levels
            .iter()
            .map(|l| json!({ "tier": l, "members": at_end.get(l).copied().unwrap_or_default() }))
            .collect(),
    );
    let o = out.clone();
    answer("tiers", q, out, || {
        let mut rows: Vec<Vec<String>> = vec![];
        for m in o["by_month"].as_array().into_iter().flatten() {
            rows.push(vec![
                "month".into(),
                m["month"].as_str().unwrap_or_default().into(),
                String::new(),
                m["up"].to_string(),
                m["down"].to_string(),
            ]);
        }
        for m in o["matrix"].as_array().into_iter().flatten() {
            rows.push(vec![
                "move".into(),
                m["from"].as_str().unwrap_or_default().into(),
                m["to"].as_str().unwrap_or_default().into(),
                m["members"].to_string(),
                String::new(),
            ]);
        }
        for m in o["members_at_end"].as_array().into_iter().flatten() {
            rows.push(vec![
                "at_end".into(),
                m["tier"].as_str().unwrap_or_default().into(),
                String::new(),
                m["members"].to_string(),
                String::new(),
            ]);
        }
        csv_text(&["section", "key", "to", "members_or_up", "down"], &rows)
    })
}
