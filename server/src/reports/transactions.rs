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

/// The text columns of an exported row, in CSV order after `at` and `day`.
pub const PACKED_TEXT: [&str; 11] = [
    "f.member_id",
    "o.card",
    "f.kind",
    "f.event_id",
    "f.order_id",
    "o.document_no",
    "f.store",
    "f.channel",
    "f.card_type",
    "f.tier",
    "f.status",
];
/// The number columns: four money amounts, then five point counts.
pub const PACKED_NUMBERS: [&str; 9] = [
    "f.gross",
    "f.discount",
    "f.redeemed_amount",
    "f.paid",
    "f.redeemed",
    "f.earned",
    "f.clawed_back",
    "f.adjusted",
    "f.expired",
];

/// PostgreSQL's export query of the rows of the period with `cond` (the WHERE after the day
/// range, on `f`): one row per **member**, in member order, with its number of transactions and
/// **all of them in one text** — each as `<n>,<at>,` then every text field as
/// `<characters>:<text>` (NULL as `0:`), then the numbers separated by commas and `;`.
/// [`write_export_rows`] writes them in the member's own order (`n`, its facts' time order),
/// whatever order the database aggregated them in. Each row and column costs sqlx a hand-off and
/// allocations: a text per group instead of 23 columns per transaction more than doubled the
/// rows/s; memory stays one member's rows. SQLite's export reads plain rows in the thread that
/// steps them instead ([`export_rows_query`]), where packing them was the slow part.
///
/// Member order, not day order: the rows of one day are spread over the whole table (a member's
/// rows are stored together), so reading a period day by day looked up every row at a random
/// place — from the disk, once the database outgrows the memory (docs/reports.md, "Exports").
pub fn export_query(cond: &str) -> String {
    let mut record = vec!["CAST(f.n AS TEXT) || ',' || CAST(f.at AS TEXT) || ','".to_string()];
    record.extend(
        PACKED_TEXT.iter().map(|c| {
            format!("COALESCE(CAST(length({c}) AS TEXT), '0') || ':' || COALESCE({c}, '')")
        }),
    );
    record.push(
        PACKED_NUMBERS
            .iter()
            .map(|c| format!("CAST({c} AS TEXT)"))
            .collect::<Vec<_>>()
            .join(" || ',' || "),
    );
    format!(
        "SELECT f.member_id, CAST(COUNT(*) AS BIGINT), string_agg({} || ';', '') \
         FROM rpt_flows f LEFT JOIN orders o ON o.id = f.order_id \
         WHERE f.day >= $1 AND f.day <= $2{cond} GROUP BY f.member_id ORDER BY f.member_id",
        record.join(" || ")
    )
}

/// One exported transaction ([`export_query`]): its place in the member's facts, its instant,
/// 11 texts and 9 numbers.
type Unpacked<'a> = (i64, i64, [&'a str; 11], [i64; 9]);

/// The exported transaction at the start of `p` ([`export_query`]) and the rest of `p`.
fn unpack(p: &str) -> Option<(Unpacked<'_>, &str)> {
    let mut head = [0i64; 2];
    let mut rest = p;
    for h in head.iter_mut() {
        let comma = rest.find(',')?;
        *h = rest[..comma].parse().ok()?;
        rest = &rest[comma + 1..];
    }
    let mut texts = [""; 11];
    for t in texts.iter_mut() {
        let colon = rest.find(':')?;
        let chars: usize = rest[..colon].parse().ok()?;
        let body = &rest[colon + 1..];
        // `length` counts characters: their bytes.
        let bytes = match body.get(..chars) {
            Some(b) if b.is_ascii() => chars,
            _ => body
                .char_indices()
                .nth(chars)
                .map_or(body.len(), |(i, _)| i),
        };
        *t = body.get(..bytes)?;
        rest = &body[bytes..];
    }
    let end = rest.find(';')?;
    let mut numbers = [0i64; 9];
    let mut it = rest[..end].split(',');
    for n in numbers.iter_mut() {
        *n = it.next()?.parse().ok()?;
    }
    it.next()
        .is_none()
        .then_some(((head[0], head[1], texts, numbers), &rest[end + 1..]))
}

/// Writes a member's exported transactions ([`export_query`]) in its facts' order to a CSV
/// writer exactly as [`row`] gives each, without a `String` per field: texts borrowed, money
/// and counts formatted into `scratch`. Returns how many it wrote.
pub fn write_export_rows(
    w: &mut csv::Writer<Vec<u8>>,
    q: &Query,
    packed: &str,
    scratch: &mut String,
) -> Result<i64, String> {
    let mut rows: Vec<Unpacked> = Vec::new();
    let mut rest = packed;
    while !rest.is_empty() {
        let (r, next) = unpack(rest).ok_or_else(|| {
            format!(
                "an exported row does not unpack: {:?}",
                rest.chars().take(200).collect::<String>()
            )
        })?;
        rows.push(r);
        rest = next;
    }
    rows.sort_unstable_by_key(|r| r.0);
    for (_, at, texts, numbers) in &rows {
        write_record(w, q, *at, texts, numbers, scratch)?;
    }
    Ok(rows.len() as i64)
}

/// Writes one exported transaction — its instant, the 11 texts of [`PACKED_TEXT`] and the 9
/// numbers of [`PACKED_NUMBERS`] — as [`row`] gives it, without a `String` per field: texts
/// borrowed, money and counts formatted into `scratch`.
pub fn write_record(
    w: &mut csv::Writer<Vec<u8>>,
    q: &Query,
    at: i64,
    texts: &[&str; 11],
    numbers: &[i64; 9],
    scratch: &mut String,
) -> Result<(), String> {
    scratch.clear();
    let mut ends = [0usize; 10];
    scratch.push_str(&rfc3339_local(q, at));
    ends[0] = scratch.len();
    for k in 0..4 {
        q.policy.currency.write(scratch, numbers[k]);
        ends[1 + k] = scratch.len();
    }
    let mut num = itoa::Buffer::new();
    for k in 4..9 {
        scratch.push_str(num.format(numbers[k]));
        ends[1 + k] = scratch.len();
    }
    let part = |k: usize| &scratch[if k == 0 { 0 } else { ends[k - 1] }..ends[k]];
    // The local date: the first ten characters of the local RFC 3339 instant.
    let local_day = scratch.get(..10).unwrap_or_default();
    let fields: [&str; 22] = [
        part(0),
        local_day,
        texts[0],
        texts[1],
        texts[2],
        texts[3],
        texts[4],
        texts[5],
        texts[6],
        texts[7],
        texts[8],
        texts[9],
        texts[10],
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

/// SQLite's export query: the rows of the period with `cond`, one per transaction, member by
/// member and in each member's order — the instant, [`PACKED_TEXT`], [`PACKED_NUMBERS`] — read
/// in the thread that steps it (`export`), where a row costs no hand-off. Packing them as
/// [`export_query`] does cost SQLite ≈ 5 µs a row (50 concatenations, `length` of every text):
/// 78 of the 84 s of a 15.8 M-row export. `by_member` names the primary key's index, which gives
/// the rows in that order, read sequentially; otherwise a short period's rows are found by the
/// day index and sorted.
pub fn export_rows_query(cond: &str, by_member: bool) -> String {
    let index = if by_member {
        " INDEXED BY sqlite_autoindex_rpt_flows_1"
    } else {
        ""
    };
    format!(
        "SELECT f.at, {}, {} FROM rpt_flows f{index} LEFT JOIN orders o ON o.id = f.order_id \
         WHERE f.day >= $1 AND f.day <= $2{cond} ORDER BY f.member_id, f.n",
        PACKED_TEXT.join(", "),
        PACKED_NUMBERS.join(", ")
    )
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

#[cfg(test)]
mod tests {
    #[test]
    fn packed_rows_unpack() {
        let one = "3,1767225600000,4:m-010:8:purchase2:e13:o-111:Số 12/3,\"x\"6:hcm-010:3:vip6:silver6:active100000,-2,0,99998,0,10,0,-5,0;";
        let two = format!("{one}1,1767225600001,0:0:6:expire0:0:0:0:0:0:0:0:0,0,0,0,0,0,0,0,-7;");
        let ((n, at, t, x), rest) = super::unpack(&two).unwrap();
        assert_eq!((n, at), (3, 1_767_225_600_000));
        assert_eq!(
            t,
            [
                "m-01",
                "",
                "purchase",
                "e1",
                "o-1",
                "Số 12/3,\"x\"",
                "hcm-01",
                "",
                "vip",
                "silver",
                "active"
            ]
        );
        assert_eq!(x, [100000, -2, 0, 99998, 0, 10, 0, -5, 0]);
        let ((n, at, t, x), rest) = super::unpack(rest).unwrap();
        assert_eq!(
            (n, at, t[2], x[8], rest),
            (1, 1_767_225_600_001, "expire", -7, "")
        );
        assert!(super::unpack("0,1,4:m-0").is_none());
        assert!(super::unpack("1767225600000,4:m-0").is_none());
        assert!(super::unpack("x").is_none());
    }
}
