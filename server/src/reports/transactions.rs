//! Card transactions: every row of a member's ledger that moves money or points (orders,
//! refunds, adjustments, opening balances, rewards, expiry), with the order's document number
//! and the card scanned — for one card or member (JSON pages or CSV), or for every member of a
//! period (the background export, `export`).

use super::{answer, csv_text, Query};
use crate::clock::rfc3339;
use crate::http::ApiError;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};

pub const HEADER: [&str; 22] = [
    "at",
    "day",
    "member_id",
    "card",
    "kind",
    "event_id",
    "order_id",
    "document_no",
    "store",
    "channel",
    "card_type",
    "tier",
    "status",
    "gross",
    "tier_discount",
    "redeemed_amount",
    "paid",
    "points_redeemed",
    "points_earned",
    "points_clawed_back",
    "points_adjusted",
    "points_expired",
];

/// The SELECT of transaction rows (20 columns read by [`row`]), before its WHERE.
pub const SELECT: &str =
    "SELECT f.at, f.day, f.member_id, o.card, f.kind, f.event_id, f.order_id, \
     o.document_no, f.store, f.channel, f.card_type, f.tier, f.status, f.gross, f.discount, \
     f.redeemed_amount, f.paid, f.redeemed, f.earned, f.clawed_back, f.adjusted, f.expired, f.n \
     FROM rpt_flows f LEFT JOIN orders o ON o.id = f.order_id";

/// One transaction row as CSV fields (money written in the currency).
pub fn row(q: &Query, r: &sqlx::any::AnyRow) -> Vec<String> {
    let s = |i: usize| r.get::<Option<String>, _>(i).unwrap_or_default();
    let n = |i: usize| r.get::<i64, _>(i);
    let mut out = vec![
        rfc3339_local(q, n(0)),
        s(1),
        s(2),
        s(3),
        s(4),
        s(5),
        s(6),
        s(7),
        s(8),
        s(9),
        s(10),
        s(11),
        s(12),
    ];
    for i in 13..17 {
        out.push(q.money(n(i)));
    }
    for i in 17..22 {
        out.push(n(i).to_string());
    }
    out
}

/// One transaction row written to a CSV writer as [`row`] gives it, without a `String` per
/// field (the export writes millions): text fields borrowed from the row, money and counts
/// formatted into `scratch`.
pub fn write_row(
    w: &mut csv::Writer<Vec<u8>>,
    q: &Query,
    r: &sqlx::any::AnyRow,
    scratch: &mut String,
) -> Result<(), String> {
    let e = |e: sqlx::Error| e.to_string();
    scratch.clear();
    let mut ends = [0usize; 10];
    scratch.push_str(&rfc3339_local(q, r.try_get::<i64, _>(0).map_err(e)?));
    ends[0] = scratch.len();
    for (k, i) in (13..17).enumerate() {
        q.policy
            .currency
            .write(scratch, r.try_get::<i64, _>(i).map_err(e)?);
        ends[1 + k] = scratch.len();
    }
    let mut num = itoa::Buffer::new();
    for (k, i) in (17..22).enumerate() {
        scratch.push_str(num.format(r.try_get::<i64, _>(i).map_err(e)?));
        ends[5 + k] = scratch.len();
    }
    let mut text = [""; 12];
    for (k, t) in text.iter_mut().enumerate() {
        *t = r
            .try_get::<Option<&str>, _>(1 + k)
            .map_err(e)?
            .unwrap_or_default();
    }
    let part = |k: usize| &scratch[if k == 0 { 0 } else { ends[k - 1] }..ends[k]];
    let fields: [&str; 22] = [
        part(0),
        text[0],
        text[1],
        text[2],
        text[3],
        text[4],
        text[5],
        text[6],
        text[7],
        text[8],
        text[9],
        text[10],
        text[11],
        part(1),
        part(2),
        part(3),
        part(4),
        part(5),
        part(6),
        part(7),
        part(8),
        part(9),
    ];
    w.write_record(fields).map_err(|e| e.to_string())
}

/// An instant written in the programme's zone (SPEC §0).
pub fn rfc3339_local(q: &Query, ms: i64) -> String {
    match loyalty_engine::report::instant(ms) {
        Ok(t) => q.policy.time_zone.format(t),
        Err(_) => rfc3339(ms),
    }
}

/// The member a card or member id names.
async fn member_of(c: &mut AnyConnection, q: &Query) -> Result<String, ApiError> {
    match (&q.p.card, &q.p.member) {
        (Some(card), None) => {
            let r = sqlx::query("SELECT member_id FROM cards WHERE number = $1")
                .bind(card)
                .fetch_optional(&mut *c)
                .await?;
            r.and_then(|r| r.get::<Option<String>, _>(0))
                .ok_or_else(|| ApiError::not_found("card", format!("no member has card {card}")))
        }
        (None, Some(m)) => Ok(m.clone()),
        _ => Err(ApiError::invalid(
            "card",
            "give card or member (every member's transactions: POST /v1/reports/exports)",
        )),
    }
}

pub async fn report(
    c: &mut AnyConnection,
    q: &Query,
) -> Result<axum::response::Response, ApiError> {
    let member = member_of(c, q).await?;
    let limit = q.p.limit.unwrap_or(1000).clamp(1, 1000);
    let after: i64 = match &q.p.cursor {
        None => -1,
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::invalid("cursor", "not a cursor of this list"))?,
    };
    let sql = format!(
        "{SELECT} WHERE f.member_id = $1 AND f.day >= $2 AND f.day <= $3 AND f.n > $4 ORDER BY f.n LIMIT $5"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&member)
        .bind(&q.from)
        .bind(&q.to)
        .bind(after)
        .bind(if q.csv { i64::MAX } else { limit })
        .fetch_all(&mut *c)
        .await?;
    let table: Vec<Vec<String>> = rows.iter().map(|r| row(q, r)).collect();
    let next = (!q.csv && rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.get::<i64, _>(22).to_string()))
        .flatten();
    let items: Vec<Value> = table
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            for (i, h) in HEADER.iter().enumerate() {
                let v = &r[i];
                o.insert(
                    (*h).to_string(),
                    if i >= 17 {
                        json!(v.parse::<i64>().unwrap_or_default())
                    } else if v.is_empty() && i != 1 {
                        Value::Null
                    } else {
                        json!(v)
                    },
                );
            }
            Value::Object(o)
        })
        .collect();
    let mut out = q.head();
    out["member_id"] = json!(member);
    out["items"] = Value::Array(items);
    out["next_cursor"] = json!(next);
    answer("transactions", q, out, || csv_text(&HEADER, &table))
}
