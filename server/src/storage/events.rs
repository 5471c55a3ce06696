//! The append-only ledger: events are inserted, never updated or deleted.

use sqlx::{AnyConnection, Row};

#[derive(Clone, Debug)]
pub struct Stored {
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub at: i64,
    pub body: String,
}

/// The member's events in the order they were recorded.
pub async fn of_member(c: &mut AnyConnection, member_id: &str) -> Result<Vec<Stored>, sqlx::Error> {
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
    c: &mut AnyConnection,
    member_id: &str,
    seq: i64,
    id: &str,
    kind: &str,
    at: i64,
    body: &str,
    now: i64,
    by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
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
    .bind(by)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn count_all(c: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    let r = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM events")
        .fetch_one(c)
        .await?;
    Ok(r.get(0))
}
