//! Points and liability: what the period issued, redeemed, expired, adjusted and clawed back
//! (from `rpt_day`), and at its end what members hold — outstanding (available + pending),
//! pending — and the liability at the redemption value with the expected breakage (SPEC §5),
//! from the dated changes in `rpt_balance`. Equal to the sum of every member's replay as of
//! the period's end (tests/reports.rs proves it).

use super::revenue::Cols;
use super::{answer, csv_text, Query};
use crate::http::ApiError;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// (members, available, pending) at the end of `to`, by (tier, status), filtered on card
/// type, tier and status.
pub async fn balances(
    c: &mut AnyConnection,
    q: &Query,
) -> Result<BTreeMap<(String, String), [i64; 3]>, ApiError> {
    let (cond, binds) = q.filters(None, 2);
    let sql = format!(
        "SELECT tier, status, CAST(SUM(members) AS BIGINT), CAST(SUM(available) AS BIGINT), \
         CAST(SUM(pending) AS BIGINT) FROM rpt_balance WHERE day <= $1{cond} GROUP BY tier, status"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&q.to);
    for b in &binds {
        query = query.bind(b);
    }
    let mut out = BTreeMap::new();
    for r in query.fetch_all(&mut *c).await? {
        let v: [i64; 3] = [
            r.get::<Option<i64>, _>(2).unwrap_or_default(),
            r.get::<Option<i64>, _>(3).unwrap_or_default(),
            r.get::<Option<i64>, _>(4).unwrap_or_default(),
        ];
        out.insert((r.get(0), r.get(1)), v);
    }
    Ok(out)
}

fn flows(v: &Cols) -> Value {
    let [.., redeemed, earned, clawed_back, adjusted, expired, opening] = *v;
    json!({
        "issued": earned - clawed_back,
        "earned": earned,
        "clawed_back": clawed_back,
        "redeemed": redeemed,
        "expired": expired,
        "adjusted": adjusted,
        "opening_balances": opening,
    })
}

pub async fn report(
    c: &mut AnyConnection,
    q: &Query,
) -> Result<axum::response::Response, ApiError> {
    let mut total = [0i64; 13];
    let mut by_period: BTreeMap<String, Cols> = BTreeMap::new();
    let mut d =
        chrono::NaiveDate::parse_from_str(&q.from, "%Y-%m-%d").map_err(ApiError::internal)?;
    let end = chrono::NaiveDate::parse_from_str(&q.to, "%Y-%m-%d").map_err(ApiError::internal)?;
    while d <= end {
        by_period
            .entry(q.group.key(&d.format("%Y-%m-%d").to_string()))
            .or_insert([0; 13]);
        d += chrono::Duration::days(1);
    }
    for (day, .., v) in super::revenue::rows(c, q).await? {
        for (x, y) in total.iter_mut().zip(&v) {
            *x += y;
        }
        let e = by_period.entry(q.group.key(&day)).or_insert([0; 13]);
        for (x, y) in e.iter_mut().zip(&v) {
            *x += y;
        }
    }
    let bal = balances(c, q).await?;
    let (mut members, mut available, mut pending) = (0i64, 0i64, 0i64);
    let mut by_tier: BTreeMap<String, [i64; 3]> = BTreeMap::new();
    for ((tier, _), v) in &bal {
        members += v[0];
        available += v[1];
        pending += v[2];
        let e = by_tier.entry(tier.clone()).or_insert([0; 3]);
        for (x, y) in e.iter_mut().zip(v) {
            *x += y;
        }
    }
    let outstanding = available + pending;
    let expected = q.p.expected_redemption.as_deref();
    let policy_end = super::policy_at(c, q.end_ms - 1).await?;
    let liability = loyalty_engine::report::liability(&policy_end, outstanding, expected)
        .map_err(|e| ApiError::invalid("expected_redemption", e.into_body().message))?;
    let point_value = policy_end
        .redemption
        .as_ref()
        .map(|r| q.money(r.point_value.minor));
    let mut out = q.head();
    out["flows"] = flows(&total);
    out["at_end"] = json!({
        "members": members,
        "outstanding": outstanding,
        "available": available,
        "pending": pending,
        "point_value": point_value,
        "expected_redemption": expected.unwrap_or("1"),
        "liability": liability,
    });
    out["by_tier"] = Value::Array(
        q.levels()
            .iter()
            .map(|l| {
                let v = by_tier.get(l).copied().unwrap_or_default();
                json!({ "tier": l, "members": v[0], "outstanding": v[1] + v[2], "pending": v[2] })
            })
            .collect(),
    );
    out["by_period"] = Value::Array(
        by_period
            .iter()
            .map(|(k, v)| {
                let mut f = flows(v);
                f["period"] = json!(k);
                f
            })
            .collect(),
    );
    let o = out.clone();
    answer("points", q, out, || {
        let cols = [
            "issued",
            "earned",
            "clawed_back",
            "redeemed",
            "expired",
            "adjusted",
            "opening_balances",
        ];
        let mut header = vec!["period"];
        header.extend(cols);
        let mut rows = vec![];
        let mut row = |k: &str, f: &Value| {
            let mut r = vec![k.to_string()];
            r.extend(cols.iter().map(|c| f[c].to_string()));
            rows.push(r);
        };
        row("total", &o["flows"]);
        if let Some(items) = o["by_period"].as_array() {
            for f in items {
                row(f["period"].as_str().unwrap_or_default(), f);
            }
        }
        let mut t = csv_text(&header, &rows)?;
        let e = &o["at_end"];
        t.push_str(&csv_text(
            &[
                "at_end",
                "members",
                "outstanding",
                "available",
                "pending",
                "point_value",
                "expected_redemption",
                "liability",
            ],
            &[vec![
                o["to"].as_str().unwrap_or_default().to_string(),
                e["members"].to_string(),
                e["outstanding"].to_string(),
                e["available"].to_string(),
                e["pending"].to_string(),
                e["point_value"].as_str().unwrap_or_default().to_string(),
                e["expected_redemption"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                e["liability"].as_str().unwrap_or_default().to_string(),
            ]],
        )?);
        Ok(t)
    })
}
