//! Revenue and orders: sales, orders, average basket, tier discounts, points redeemed (count
//! and money) — in total, by store, card type, tier and channel, and by day, week or month.
//! Read from `rpt_day`; a refund counts on its own day, negative, under its order's store,
//! channel and tier.

use super::store::DAY_COLS;
use super::{answer, csv_text, Query};
use crate::http::ApiError;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// Sums of one group, in `DAY_COLS` order.
pub type Cols = [i64; 13];
/// The first columns, an order's own (orders, refunds, redemptions, gross, discount, redeemed
/// amount, paid); then points.
const ORDER_COLS: usize = 7;

/// The figures of one group as written.
pub fn figures(q: &Query, v: &Cols) -> Value {
    let [orders, refunds, redemptions, gross, discount, redeemed_amount, paid, redeemed, ..] = *v;
    let sales = gross - discount;
    json!({
        "orders": orders,
        "refunds": refunds,
        "gross_sales": q.money(gross),
        "tier_discounts": q.money(discount),
        "sales": q.money(sales),
        "average_basket": loyalty_engine::report::money_ratio(&q.policy, sales, orders),
        "redemptions": redemptions,
        "points_redeemed": redeemed,
        "redeemed_amount": q.money(redeemed_amount),
        "paid": q.money(paid),
    })
}

pub const CSV_COLS: [&str; 10] = [
    "orders",
    "refunds",
    "gross_sales",
    "tier_discounts",
    "sales",
    "average_basket",
    "redemptions",
    "points_redeemed",
    "redeemed_amount",
    "paid",
];

fn csv_row(section: &str, key: &str, f: &Value) -> Vec<String> {
    let mut r = vec![section.to_string(), key.to_string()];
    for c in CSV_COLS {
        r.push(match &f[c] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            v => v.to_string(),
        });
    }
    r
}

/// The day sums of the period by (day, store, channel, card_type, tier, status), filtered.
pub async fn rows(
    c: &mut AnyConnection,
    q: &Query,
) -> Result<Vec<(String, String, String, String, String, Cols)>, ApiError> {
    let (cond, binds) = q.filters(Some("store"), 3);
    let sql = format!(
        "SELECT day, store, channel, card_type, tier, {} FROM rpt_day WHERE day >= $1 AND day <= $2{cond}",
        DAY_COLS
            .iter()
            .map(|c| format!("CAST(SUM({c}) AS BIGINT)"))
            .collect::<Vec<_>>()
            .join(", ")
    ) + " GROUP BY day, store, channel, card_type, tier";
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&q.from)
        .bind(&q.to);
    for b in &binds {
        query = query.bind(b);
    }
    let out = query.fetch_all(&mut *c).await?;
    Ok(out
        .iter()
        .map(|r| {
            let mut v = [0i64; 13];
            for (i, x) in v.iter_mut().enumerate() {
                *x = r.get::<Option<i64>, _>(5 + i).unwrap_or_default();
            }
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), v)
        })
        .collect())
}

fn add(a: &mut Cols, b: &Cols) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

pub async fn report(
    c: &mut AnyConnection,
    q: &Query,
) -> Result<axum::response::Response, ApiError> {
    let rows = rows(c, q).await?;
    let mut total = [0i64; 13];
    let mut by: [BTreeMap<String, Cols>; 5] = Default::default();
    for (day, store, channel, card, tier, v) in &rows {
        // Orders and refunds only. Adjustments, expiry and rewards have no store and no
        // channel, and their figures are the points report's; a purchase may have neither too
        // (imported history: a POS export without a store column) and is a sale all the same,
        // so a row without them counts its order columns — orders, refunds, redemptions and
        // money — and not its points, which may be a reward's.
        let v = &if store.is_empty() && channel.is_empty() {
            if v[..ORDER_COLS].iter().all(|x| *x == 0) {
                continue;
            }
            let mut orders_only = [0i64; 13];
            orders_only[..ORDER_COLS].copy_from_slice(&v[..ORDER_COLS]);
            orders_only
        } else {
            *v
        };
        add(&mut total, v);
        for (i, k) in [store, card, tier, channel, &q.group.key(day)]
            .iter()
            .enumerate()
        {
            add(by[i].entry((*k).clone()).or_insert([0; 13]), v);
        }
    }
    // Every level and every period of the range, zero or not.
    for l in q.levels() {
        by[2].entry(l).or_insert([0; 13]);
    }
    let mut d =
        chrono::NaiveDate::parse_from_str(&q.from, "%Y-%m-%d").map_err(ApiError::internal)?;
    let end = chrono::NaiveDate::parse_from_str(&q.to, "%Y-%m-%d").map_err(ApiError::internal)?;
    while d <= end {
        by[4]
            .entry(q.group.key(&d.format("%Y-%m-%d").to_string()))
            .or_insert([0; 13]);
        d += chrono::Duration::days(1);
    }
    let levels = q.levels();
    let list = |i: usize, name: &str| -> Vec<Value> {
        let mut keys: Vec<&String> = by[i].keys().collect();
        if i == 2 {
            keys.sort_by_key(|k| levels.iter().position(|l| l == *k).unwrap_or(usize::MAX));
        }
        keys.into_iter()
            .map(|k| {
                let mut f = figures(q, &by[i][k]);
                if let Value::Object(m) = &mut f {
                    let mut o = serde_json::Map::new();
                    o.insert(name.to_string(), json!(k));
                    o.extend(std::mem::take(m));
                    *m = o;
                }
                f
            })
            .collect()
    };
    let sections = [
        ("by_store", "store"),
        ("by_card_type", "card_type"),
        ("by_tier", "tier"),
        ("by_channel", "channel"),
        ("by_period", "period"),
    ];
    let mut out = q.head();
    out["group"] = json!(match q.group {
        super::Group::Day => "day",
        super::Group::Week => "week",
        super::Group::Month => "month",
    });
    out["totals"] = figures(q, &total);
    for (i, (s, k)) in sections.iter().enumerate() {
        out[*s] = Value::Array(list(i, k));
    }
    let json_out = out.clone();
    answer("revenue", q, json_out, || {
        let mut table = vec![csv_row("total", "", &out["totals"])];
        for (s, k) in sections {
            if let Some(items) = out[s].as_array() {
                for f in items {
                    table.push(csv_row(k, f[k].as_str().unwrap_or_default(), f));
                }
            }
        }
        let mut header = vec!["section", "key"];
        header.extend(CSV_COLS);
        csv_text(&header, &table)
    })
}
