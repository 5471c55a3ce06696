//! The append-only ledger: events are inserted, never updated or deleted.

use super::joined;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};

#[derive(Clone, Debug)]
pub struct Stored {
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub at: i64,
    pub body: String,
}

/// The member's events in the order they were recorded, read as **one row** (`joined`).
pub async fn of_member(c: &mut AnyConnection, member_id: &str) -> Result<Vec<Stored>, sqlx::Error> {
    let sql = format!("SELECT {} FROM events WHERE member_id = $1", events_agg());
    let text = joined_row(c, member_id, sql).await?.get(0);
    events_of(c, member_id, text).await
}

/// [`of_member`] and the published versions (`policies::versions`), read in one statement:
/// one hand-off to SQLite's thread instead of two, on every booking.
pub async fn of_member_and_versions(
    c: &mut AnyConnection,
    member_id: &str,
) -> Result<(Vec<Stored>, Vec<super::policies::Version>), sqlx::Error> {
    use super::policies;
    let sql = format!(
        "SELECT (SELECT {} FROM events WHERE member_id = $1), {}",
        events_agg(),
        policies::VERSIONS_AGG
    );
    let row = joined_row(c, member_id, sql).await?;
    events_and_versions_of(c, member_id, row.get(0), row.get(1)).await
}

/// The events and versions of [`events_agg`]'s and `policies::VERSIONS_AGG`'s texts, or read
/// again one by one when a text does not split.
async fn events_and_versions_of(
    c: &mut AnyConnection,
    member_id: &str,
    events: Option<String>,
    versions: Option<String>,
) -> Result<(Vec<Stored>, Vec<super::policies::Version>), sqlx::Error> {
    use super::policies;
    let events = events_of(c, member_id, events).await?;
    let versions = match policies::with_documents(c, versions.as_deref()).await? {
        Some(v) => v,
        None => policies::versions(c).await?,
    };
    Ok((events, versions))
}

/// The member locked for this transaction (as `members::lock` locks it) and its row, with its
/// events and the published versions (as [`of_member_and_versions`]). `more`: further columns
/// of text the caller reads with them (`$1` the member, `$2` / `$3` the separators of
/// `storage::joined`, `$4` on what `bind_more` binds), returned in their order. None: no such
/// member.
///
/// On SQLite one statement: the lock's `UPDATE … RETURNING` returns the aggregates too, so a
/// write transaction's first read is one hand-off to SQLite's thread, not two (the writer is
/// alone: nothing can change the rows between the lock and the read). On PostgreSQL the lock and
/// the read stay two statements: an `UPDATE` that waited for another transaction's lock on the
/// member returns the row as that one left it, but subqueries in its `RETURNING` read the
/// snapshot taken when the `UPDATE` began — without the other's events (the two-process fault
/// test booked on a stale history and hit the events' key). The read after the lock gets a
/// snapshot of its own.
pub async fn lock_member_with_events_and_versions(
    c: &mut AnyConnection,
    member_id: &str,
    more: &[String],
    bind_more: impl FnOnce(Query<'_, Any, AnyArguments>) -> Query<'_, Any, AnyArguments>,
) -> Result<Option<Locked>, sqlx::Error> {
    use super::{members, policies};
    let lock = format!("{} RETURNING {}", members::LOCK, members::COLS);
    let mut read = format!(
        "(SELECT {} FROM events WHERE member_id = $1), {}",
        events_agg(),
        policies::VERSIONS_AGG
    );
    for m in more {
        read.push_str(", ");
        read.push_str(m);
    }
    let one_statement = super::is_sqlite(c);
    let sql = if one_statement {
        format!("{lock}, {read}")
    } else {
        format!("SELECT {read}")
    };
    // The columns before the events' text: the member's on SQLite, none on PostgreSQL.
    let (member, row, n) = if one_statement {
        let q = bind_more(joined::member_query(sql, member_id));
        let Some(row) = q.fetch_optional(&mut *c).await? else {
            return Ok(None);
        };
        (members::member(&row), row, members::COLS.split(',').count())
    } else {
        let Some(m) = sqlx::query(sqlx::AssertSqlSafe(lock))
            .bind(member_id)
            .fetch_optional(&mut *c)
            .await?
        else {
            return Ok(None);
        };
        let q = bind_more(joined::member_query(sql, member_id));
        (members::member(&m), q.fetch_one(&mut *c).await?, 0)
    };
    let more = (0..more.len()).map(|i| row.get(n + 2 + i)).collect();
    let (events, versions) =
        events_and_versions_of(c, member_id, row.get(n), row.get(n + 1)).await?;
    Ok(Some(Locked {
        member,
        events,
        versions,
        more,
    }))
}

/// What [`lock_member_with_events_and_versions`] reads.
pub struct Locked {
    pub member: super::members::Member,
    pub events: Vec<Stored>,
    pub versions: Vec<super::policies::Version>,
    /// The caller's further columns, in their order.
    pub more: Vec<Option<String>>,
}

/// The one row of a statement on a member's rows joined as text (`$1` the member, `$2` / `$3`
/// the separators).
async fn joined_row(
    c: &mut AnyConnection,
    member_id: &str,
    sql: String,
) -> Result<sqlx::any::AnyRow, sqlx::Error> {
    joined::member_query(sql, member_id).fetch_one(c).await
}

/// [`events_agg`]'s text as events (none: no events), or the rows read one by one when a field
/// held a separator.
async fn events_of(
    c: &mut AnyConnection,
    member_id: &str,
    text: Option<String>,
) -> Result<Vec<Stored>, sqlx::Error> {
    match text.as_deref().map(split) {
        None => Ok(Vec::new()),
        Some(Some(events)) => Ok(events),
        Some(None) => of_member_rows(c, member_id).await,
    }
}

/// The aggregate of a member's events for [`split`] (`$2` / `$3` the separators).
fn events_agg() -> String {
    joined::agg(
        &[
            &joined::int("seq"),
            "id",
            "type",
            &joined::int("at"),
            "body",
        ],
        "$2",
        "$3",
    )
}

/// The events of [`of_member`]'s joined text in `seq` order; None when a field held a separator.
fn split(text: &str) -> Option<Vec<Stored>> {
    let mut events: Vec<Stored> = joined::split(text, 5)?
        .into_iter()
        .map(|f| {
            Some(Stored {
                seq: f[0].parse().ok()?,
                id: f[1].to_string(),
                kind: f[2].to_string(),
                at: f[3].parse().ok()?,
                body: f[4].starts_with('{').then(|| f[4].to_string())?,
            })
        })
        .collect::<Option<_>>()?;
    events.sort_by_key(|e| e.seq);
    Some(events)
}

/// [`of_member`] a row per event.
async fn of_member_rows(
    c: &mut AnyConnection,
    member_id: &str,
) -> Result<Vec<Stored>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT seq, id, type, at, body FROM events WHERE member_id = $1 ORDER BY seq")
            .bind(member_id)
            .fetch_all(c)
            .await?;
    Ok(rows
        .iter()
        .map(|r| Stored {
            seq: r.get(0),
            id: r.get(1),
            kind: r.get(2),
            at: r.get(3),
            body: r.get(4),
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
pub async fn append(
    c: &mut impl super::writer::Write,
    member_id: &str,
    seq: i64,
    id: &str,
    kind: &str,
    at: i64,
    body: &str,
    now: i64,
    by: &str,
) -> Result<(), sqlx::Error> {
    let q = sqlx::query(
        "INSERT INTO events (member_id, seq, id, type, at, body, recorded_at, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(member_id)
    .bind(seq)
    .bind(id)
    .bind(kind)
    .bind(at)
    .bind(body)
    .bind(now)
    .bind(by);
    c.write(q).await
}

/// The columns of an event row, in the order the bulk writers (the import, the loader) give
/// them.
pub const COLS: &[&str] = &[
    "member_id",
    "seq",
    "id",
    "type",
    "at",
    "body",
    "recorded_at",
    "recorded_by",
];

/// Members named by events that do not exist (the member is not a foreign key: migration
/// 0010), with their number of events — the first `limit` by id.
pub async fn orphans(c: &mut AnyConnection, limit: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT member_id, CAST(COUNT(*) AS BIGINT) FROM events e \
         WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.id = e.member_id) \
         GROUP BY member_id ORDER BY member_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub async fn count_all(c: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    let r = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM events")
        .fetch_one(c)
        .await?;
    Ok(r.get(0))
}

#[cfg(test)]
mod tests {
    use super::joined::{FIELD, RECORD};
    use super::*;

    #[test]
    fn joined_events_split_back_or_refuse_a_stray_separator() {
        // Joined out of order (the aggregate promises none): split back in `seq` order.
        let joined = format!(
            "2{FIELD}e-2{FIELD}adjust{FIELD}-5{FIELD}{{}}{RECORD}1{FIELD}e-1{FIELD}purchase{FIELD}1700{FIELD}{{\"id\":\"e-1\"}}"
        );
        let v = split(&joined).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(
            (
                v[0].seq,
                v[0].id.as_str(),
                v[0].kind.as_str(),
                v[0].at,
                v[0].body.as_str()
            ),
            (1, "e-1", "purchase", 1700, "{\"id\":\"e-1\"}")
        );
        assert_eq!((v[1].seq, v[1].at, v[1].body.as_str()), (2, -5, "{}"));
        // An id holding either separator: refused (then read row by row).
        let bad_field = format!("1{FIELD}e{FIELD}1{FIELD}purchase{FIELD}1700{FIELD}{{}}");
        assert!(split(&bad_field).is_none());
        let bad_record = format!("1{FIELD}e{RECORD}1{FIELD}purchase{FIELD}1700{FIELD}{{}}");
        assert!(split(&bad_record).is_none());
    }
}
