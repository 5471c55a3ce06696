//! Orders and their states (SPEC §8.5): `held` → `booked`, or `voided` / `expired`.

use sqlx::{AnyConnection, Row};

#[derive(Clone, Debug)]
pub struct Order {
    pub id: String,
    pub member_id: String,
    pub store_id: String,
    pub till_id: String,
    pub document_no: String,
    pub state: String,
    pub offline: bool,
    pub flags: String,
    pub at: i64,
    pub redeemed_points: i64,
    pub policy_digest: String,
    pub quote_request: String,
    pub quote: String,
    pub hold_expires_at: Option<i64>,
    pub confirm_answer: Option<String>,
    pub void_answer: Option<String>,
    pub card: Option<String>,
}

const COLS: &str = "id, member_id, store_id, till_id, document_no, state, offline, flags, at, \
    redeemed_points, policy_digest, quote_request, quote, hold_expires_at, confirm_answer, void_answer, card";

fn order(r: &sqlx::any::AnyRow) -> Order {
    Order {
        id: r.get(0),
        member_id: r.get(1),
        store_id: r.get(2),
        till_id: r.get(3),
        document_no: r.get(4),
        state: r.get(5),
        offline: r.get::<i64, _>(6) != 0,
        flags: r.get(7),
        at: r.get(8),
        redeemed_points: r.get(9),
        policy_digest: r.get(10),
        quote_request: r.get(11),
        quote: r.get(12),
        hold_expires_at: r.get(13),
        confirm_answer: r.get(14),
        void_answer: r.get(15),
        card: r.get(16),
    }
}

pub async fn get(c: &mut AnyConnection, id: &str) -> Result<Option<Order>, sqlx::Error> {
    let q = format!("SELECT {COLS} FROM orders WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(id)
        .fetch_optional(c)
        .await?;
    Ok(row.as_ref().map(order))
}

/// What a new order checks, as three columns of text for a statement whose `$1` is the member
/// and `$4`–`$7` the (store, till, document_no) and now ([`bind_document_and_held`]): the open
/// order (held or booked) holding the document number — its id and state — and [`held_points`]
/// (`ledger::load_for_booking` reads them with the member's lock).
pub fn document_and_held_columns() -> [String; 3] {
    let doc = "FROM orders WHERE store_id = $4 AND till_id = $5 AND document_no = $6 \
               AND state IN ('held', 'booked')";
    [
        format!("(SELECT id {doc})"),
        format!("(SELECT state {doc})"),
        format!("CAST(CAST({} AS BIGINT) AS TEXT)", held_sum("$7")),
    ]
}

/// The points the member `$1`'s open holds keep at the instant `now` names: held orders not yet
/// expired ([`held_points`], [`document_and_held_columns`]).
fn held_sum(now: &str) -> String {
    format!(
        "COALESCE((SELECT SUM(redeemed_points) FROM orders \
         WHERE member_id = $1 AND state = 'held' AND hold_expires_at > {now}), 0)"
    )
}

/// Binds [`document_and_held_columns`]' `$4`–`$7`.
pub fn bind_document_and_held<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    (store, till, document_no): (&str, &str, &str),
    now: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(store.to_string())
        .bind(till.to_string())
        .bind(document_no.to_string())
        .bind(now)
}

/// [`document_and_held_columns`]' texts read back.
pub fn document_and_held_of(
    texts: Vec<Option<String>>,
) -> Result<(Option<(String, String)>, i64), sqlx::Error> {
    let mut it = texts.into_iter();
    let (id, state, held) = (
        it.next().flatten(),
        it.next().flatten(),
        it.next().flatten(),
    );
    let held = held
        .as_deref()
        .unwrap_or("0")
        .parse::<i64>()
        .map_err(|e| sqlx::Error::Decode(format!("held points: {e}").into()))?;
    let open = match (id, state) {
        (Some(id), Some(state)) => Some((id, state)),
        _ => None,
    };
    Ok((open, held))
}

/// Points held by the member's open holds at `now` (held and not yet expired).
pub async fn held_points(
    c: &mut AnyConnection,
    member_id: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT CAST({} AS BIGINT)", held_sum("$2"));
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(member_id)
        .bind(now)
        .fetch_one(c)
        .await?;
    Ok(r.get(0))
}

pub struct NewOrder<'a> {
    pub id: &'a str,
    pub member_id: &'a str,
    pub store_id: &'a str,
    pub till_id: &'a str,
    pub document_no: &'a str,
    pub card: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub state: &'a str,
    pub offline: bool,
    pub flags: &'a str,
    pub at: i64,
    pub redeemed_points: i64,
    pub earned_points: i64,
    pub subtotal: &'a str,
    pub total: &'a str,
    pub policy_digest: &'a str,
    pub quote_request: &'a str,
    pub quote: &'a str,
    pub hold_expires_at: Option<i64>,
    pub now: i64,
    pub by: &'a str,
    /// A booked order's answer, kept for repeats of its confirm.
    pub confirm_answer: Option<&'a str>,
}

pub async fn insert(
    c: &mut impl super::writer::Write,
    o: &NewOrder<'_>,
) -> Result<(), sqlx::Error> {
    let q = sqlx::query(
        "INSERT INTO orders (id, member_id, store_id, till_id, document_no, card, channel, state, offline, flags, \
         at, redeemed_points, earned_points, subtotal, total, policy_digest, quote_request, quote, \
         hold_expires_at, created_at, created_by, booked_at, confirm_answer) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
    )
    .bind(o.id)
    .bind(o.member_id)
    .bind(o.store_id)
    .bind(o.till_id)
    .bind(o.document_no)
    .bind(o.card)
    .bind(o.channel)
    .bind(o.state)
    .bind(i64::from(o.offline))
    .bind(o.flags)
    .bind(o.at)
    .bind(o.redeemed_points)
    .bind(o.earned_points)
    .bind(o.subtotal)
    .bind(o.total)
    .bind(o.policy_digest)
    .bind(o.quote_request)
    .bind(o.quote)
    .bind(o.hold_expires_at)
    .bind(o.now)
    .bind(o.by)
    .bind(if o.state == "booked" { Some(o.now) } else { None })
    .bind(o.confirm_answer);
    c.write(q).await
}

/// held → booked, with the confirm answer kept for repeats. False if it was not held.
pub async fn mark_booked(
    c: &mut AnyConnection,
    id: &str,
    now: i64,
    answer: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE orders SET state = 'booked', booked_at = $2, confirm_answer = $3 WHERE id = $1 AND state = 'held'",
    )
    .bind(id)
    .bind(now)
    .bind(answer)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// held → voided or expired. False if it was not held.
pub async fn close_hold(
    c: &mut AnyConnection,
    id: &str,
    state: &str,
    now: i64,
    answer: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE orders SET state = $2, closed_at = $3, void_answer = $4 WHERE id = $1 AND state = 'held'",
    )
    .bind(id)
    .bind(state)
    .bind(now)
    .bind(answer)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Holds past their expiry at `now` (for the sweeper).
pub async fn expired_holds(
    c: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, member_id FROM orders WHERE state = 'held' AND hold_expires_at <= $1 ORDER BY hold_expires_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Open holds (a count of the holds' index: it keeps held orders only, migration 0012).
pub async fn count_held(c: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    let r = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM orders WHERE state = 'held'")
        .fetch_one(c)
        .await?;
    Ok(r.get(0))
}

/// What has been refunded of one order so far, from the member's stored `refund` events for it
/// (SPEC §3: `lines` with quantities; a refund without `lines` returns what remained of every
/// line).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Refunded {
    /// The refund events' ids, in the order they were recorded.
    pub ids: Vec<String>,
    /// A refund without `lines` (the whole order) was booked: nothing remains.
    pub whole: bool,
    /// Quantities refunded per line id, summed over the refunds.
    pub by_line: std::collections::BTreeMap<String, i64>,
}

impl Refunded {
    /// The quantity of a line (`bought` units) refunded so far, at most `bought`.
    pub fn of_line(&self, line_id: &str, bought: i64) -> i64 {
        if self.whole {
            bought
        } else {
            self.by_line.get(line_id).copied().unwrap_or(0).min(bought)
        }
    }
}

/// The refunds of `order_id` among `member_id`'s stored events.
pub async fn refunded(
    c: &mut AnyConnection,
    member_id: &str,
    order_id: &str,
) -> Result<Refunded, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, body FROM events WHERE member_id = $1 AND type = 'refund' ORDER BY seq",
    )
    .bind(member_id)
    .fetch_all(c)
    .await?;
    let mut out = Refunded::default();
    for r in &rows {
        let body: String = r.get(1);
        let Ok(ev) = serde_json::from_str::<serde_json::Value>(&body) else {
            continue;
        };
        if ev.get("order_id").and_then(|v| v.as_str()) != Some(order_id) {
            continue;
        }
        out.ids.push(r.get(0));
        let Some(lines) = ev.get("lines").and_then(|v| v.as_array()) else {
            out.whole = true;
            continue;
        };
        for l in lines {
            let (Some(id), Some(q)) = (
                l.get("line_id").and_then(|v| v.as_str()),
                l.get("quantity").and_then(|v| v.as_i64()),
            ) else {
                continue;
            };
            *out.by_line.entry(id.to_string()).or_insert(0) += q;
        }
    }
    Ok(out)
}
