//! How the frequency and customers reports read a period's purchases under a store, tier or
//! status filter (docs/reports.md, "Frequency and customers without reading purchases").
//!
//! Without one of those filters both reports are sums of `rpt_cells`. A filter changes which
//! purchases are consecutive, which the cells do not know, so the purchases the filters keep
//! are read member by member from a covering index ([`Plan::Scan`]): for a status other than
//! `active` `rpt_flows_other_status` (migration 0009), which holds only those purchases;
//! otherwise the index of the filter's own column, `rpt_flows_store` or `rpt_flows_tier`
//! (migration 0011), where the filter's value is one range in member order.
//!
//! `status=active` keeps nearly every purchase, so reading them costs what reading all does
//! (2.4 s at 1,000,000 members on SQLite, 4.4 s on PostgreSQL). But a member whose purchases of
//! the period were all made while active counts the same with the filter as without it, so
//! ([`Plan::Others`]) the report is the unfiltered one from the cells, less the members with a
//! purchase of another status in the period counted on all their purchases, plus the same
//! members counted on their active purchases alone — a read of those few members only.

use super::Query;
use crate::http::ApiError;
use crate::storage::scan::{self, Bind, Part, Visit};
use crate::storage::{Db, Kind};
use sqlx::{AnyConnection, Row};

/// The status most purchases are made in.
const ACTIVE: &str = "active";

/// Plan::Others is chosen while the purchases of other statuses in the period are at most this
/// share (1 / n) of the active ones: it reads them and every purchase of their members.
const OTHERS_AT_MOST: i64 = 4;

/// How a report reads the purchases of the period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// No store, tier or status filter: the cells alone.
    Cells,
    /// Every purchase the filters keep, member by member ([`scan`]).
    Scan,
    /// `status=active`, alone or with a card type: the cells, less and plus the members with a
    /// purchase of another status ([`others`]).
    Others,
}

/// A plan the tests force on every report (`None`: chosen as usual). The answers never depend
/// on the plan, so a test forcing one cannot change what another reads at the same time.
static FORCED: std::sync::Mutex<Option<Plan>> = std::sync::Mutex::new(None);

/// Makes every filtered frequency and customers report read by `plan` when it can answer the
/// query (`Others` only answers `status=active` with at most a card type); `None` undoes it.
pub fn force(plan: Option<Plan>) {
    *FORCED.lock().unwrap_or_else(|e| e.into_inner()) = plan;
}

impl Plan {
    /// The plan for `q`: `Others` for `status=active` (at most a card type besides) while the
    /// purchases of other statuses in the period are few (`rpt_day`), otherwise `Scan`.
    pub async fn of(c: &mut AnyConnection, q: &Query) -> Result<Plan, ApiError> {
        if !q.filters_purchases() {
            return Ok(Plan::Cells);
        }
        let others_answer =
            q.p.status.as_deref() == Some(ACTIVE) && q.p.store.is_none() && q.p.tier.is_none();
        if !others_answer {
            return Ok(Plan::Scan);
        }
        match *FORCED.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(Plan::Scan) => return Ok(Plan::Scan),
            Some(Plan::Others) => return Ok(Plan::Others),
            _ => {}
        }
        let (ct, binds) = card_type(q, 3);
        let mut count = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'active' THEN orders ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN status <> 'active' THEN orders ELSE 0 END), 0) AS BIGINT) \
             FROM rpt_day WHERE day >= $1 AND day <= $2{ct}"
        )))
        .bind(&q.from)
        .bind(&q.to);
        for b in binds {
            count = count.bind(b);
        }
        let row = count.fetch_one(&mut *c).await?;
        let (active, other): (i64, i64) = (row.get(0), row.get(1));
        Ok(if other * OTHERS_AT_MOST <= active {
            Plan::Others
        } else {
            Plan::Scan
        })
    }
}

/// The card type filter alone, its first parameter `$first`.
fn card_type(q: &Query, first: usize) -> (String, Vec<String>) {
    match &q.p.card_type {
        Some(t) => (format!(" AND card_type = ${first}"), vec![t.clone()]),
        None => (String::new(), vec![]),
    }
}

/// `rpt_flows` for a read of the purchase rows of `q`'s store, or else of its tier, in member
/// order through the index in that column's order (migration 0011): one range of it, each
/// member's purchases in time order. SQLite's planner would find a period's rows by the day
/// index, whose range it takes for selective, and look each one up in the table (20 s of
/// random reads for a year at 1,000,000 members, docs/reports.md); PostgreSQL chooses by its
/// statistics. Without either filter (`status=active` read whole, [`Plan::Scan`] forced or
/// chosen when most purchases are of other statuses) the planner chooses on both.
fn filter_rows(db: &Db, q: &Query) -> &'static str {
    match (db.kind, &q.p.store, &q.p.tier) {
        (Kind::Sqlite, Some(_), _) => "rpt_flows INDEXED BY rpt_flows_store",
        (Kind::Sqlite, None, Some(_)) => "rpt_flows INDEXED BY rpt_flows_tier",
        _ => "rpt_flows",
    }
}

/// `rpt_flows` for a read of its purchase rows of other statuses than `active` in member
/// order, through their covering index (the query must say `status <> 'active'`).
fn other_status_rows(db: &Db) -> &'static str {
    match db.kind {
        Kind::Sqlite => "rpt_flows INDEXED BY rpt_flows_other_status",
        Kind::Postgres => "rpt_flows",
    }
}

/// [`Plan::Scan`]: gives `v` the columns `cols` (`member_id` first) of every purchase of the
/// period that the filters keep, member by member in time order.
pub async fn scan<V: Part>(db: &Db, q: &Query, cols: &str, v: V) -> Result<V, ApiError> {
    let (cond, binds) = q.filters(Some("store"), 3);
    let (rows, other) = match q.p.status.as_deref() {
        Some(s) if s != ACTIVE => (other_status_rows(db), " AND status <> 'active'"),
        _ => (filter_rows(db, q), ""),
    };
    let sql = format!(
        "SELECT {cols} FROM {rows} WHERE kind = 'purchase'{other} AND day >= $1 AND day <= $2\
         {cond}{{members}} ORDER BY member_id, at, n"
    );
    scan::each_by_member(db, &sql, q.binds(binds), v)
        .await
        .map_err(ApiError::internal)
}

/// The members with a purchase of another status than `active` in the period (under the card
/// type filter), as a subquery whose parameters start at `$first`: the period's first and last
/// day, then the card type.
pub fn others_members(db: &Db, q: &Query, first: usize) -> (String, Vec<Bind>) {
    let (ct, binds) = card_type(q, first + 2);
    let sql = format!(
        "SELECT member_id FROM {} WHERE kind = 'purchase' AND status <> 'active' \
         AND day >= ${first} AND day <= ${}{ct}",
        other_status_rows(db),
        first + 1
    );
    (sql, q.binds(binds))
}

/// [`Plan::Others`]: `v` given the columns `cols` (`member_id` first) of every purchase of the
/// period of the members with a purchase of another status in it ([`others_members`]), and a
/// clone of `v` given their active purchases alone: (all, active).
pub async fn others<V: Part>(db: &Db, q: &Query, cols: &str, v: V) -> Result<(V, V), ApiError> {
    let (members, binds) = others_members(db, q, 1);
    let (ct, _) = card_type(q, 3);
    let sql = match db.kind {
        // The members' rows by the table's key (member_id, n), sorted member by member.
        Kind::Sqlite => format!(
            "SELECT {cols}, status FROM rpt_flows WHERE kind = 'purchase' AND day >= $1 \
             AND day <= $2{ct} AND member_id IN ({members}) ORDER BY member_id, at, n"
        ),
        // PostgreSQL takes the members' purchases for most of the table (its estimate of an `IN`
        // of a few thousand members) and merges them with the whole index (4.3 s at 1,000,000
        // members): `LATERAL`, kept apart by `OFFSET 0`, reads each member's own rows (0.8 s).
        Kind::Postgres => {
            let outer: Vec<String> = cols.split(", ").map(|c| format!("f.{c}")).collect();
            format!(
                "SELECT {}, f.status FROM (SELECT DISTINCT member_id FROM ({members}) o) m, \
                 LATERAL (SELECT {cols}, status, at, n FROM rpt_flows WHERE member_id = m.member_id \
                 AND kind = 'purchase' AND day >= $1 AND day <= $2{ct} OFFSET 0) f \
                 ORDER BY f.member_id, f.at, f.n",
                outer.join(", ")
            )
        }
    };
    let split = Split {
        all: v.clone(),
        active: v,
    };
    let mut s = scan::each(db, sql, binds, split)
        .await
        .map_err(ApiError::internal)?;
    s.all.finish();
    s.active.finish();
    Ok((s.all, s.active))
}

/// Every row to `all`, the active ones to `active` too (the last column is the status).
struct Split<V> {
    all: V,
    active: V,
}

impl<V: Visit> Visit for Split<V> {
    fn row(&mut self, cols: &[&str]) {
        let Some((status, cols)) = cols.split_last() else {
            return;
        };
        self.all.row(cols);
        if *status == ACTIVE {
            self.active.row(cols);
        }
    }
}
