//! The notices outbox (SPEC §8.7) and its deliveries to webhooks.

use sqlx::{AnyConnection, Row};

/// Adds a notice once: its id is the event id (a repeat is ignored).
pub async fn add(
    c: &mut impl super::writer::Write,
    id: &str,
    kind: &str,
    member_id: Option<&str>,
    at: i64,
    payload: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let q = sqlx::query(
        "INSERT INTO outbox (id, kind, member_id, at, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(kind)
    .bind(member_id)
    .bind(at)
    .bind(payload)
    .bind(now);
    c.write(q).await
}

#[derive(Clone, Debug)]
pub struct Row_ {
    pub id: String,
    pub kind: String,
    pub member_id: Option<String>,
    pub at: i64,
    pub payload: String,
    pub created_at: i64,
}

/// Notices after the cursor `(created_at, id)`, oldest first.
pub async fn page(
    c: &mut AnyConnection,
    after: (i64, &str),
    limit: i64,
    kind: Option<&str>,
) -> Result<Vec<Row_>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, kind, member_id, at, payload, created_at FROM outbox \
         WHERE (created_at > $1 OR (created_at = $1 AND id > $2)) AND ($3 IS NULL OR kind = $3) \
         ORDER BY created_at, id LIMIT $4",
    )
    .bind(after.0)
    .bind(after.1)
    .bind(kind)
    .bind(limit)
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Row_ {
            id: r.get(0),
            kind: r.get(1),
            member_id: r.get(2),
            at: r.get(3),
            payload: r.get(4),
            created_at: r.get(5),
        })
        .collect())
}

/// Creates the delivery rows of notices written since each webhook was added, of the kinds it
/// subscribed to (`events`; NULL: every kind).
pub async fn plan_deliveries(c: &mut AnyConnection, now: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO deliveries (outbox_id, webhook_id, attempts, next_attempt_at) \
         SELECT o.id, w.id, 0, $1 FROM outbox o CROSS JOIN webhooks w \
         WHERE o.created_at >= w.created_at \
         AND (w.events IS NULL OR (' ' || w.events || ' ') LIKE ('% ' || o.kind || ' %')) \
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.outbox_id = o.id AND d.webhook_id = w.id)",
    )
    .bind(now)
    .execute(c)
    .await?;
    Ok(r.rows_affected())
}

pub struct Due {
    pub outbox_id: String,
    pub webhook_id: String,
    pub attempts: i64,
    pub url: String,
    pub secret: String,
    pub kind: String,
    pub member_id: Option<String>,
    pub at: i64,
    pub payload: String,
}

pub async fn due(c: &mut AnyConnection, now: i64, limit: i64) -> Result<Vec<Due>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT d.outbox_id, d.webhook_id, d.attempts, w.url, w.secret, o.kind, o.member_id, o.at, o.payload \
         FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN outbox o ON o.id = d.outbox_id \
         WHERE d.delivered_at IS NULL AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at, o.created_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Due {
            outbox_id: r.get(0),
            webhook_id: r.get(1),
            attempts: r.get(2),
            url: r.get(3),
            secret: r.get(4),
            kind: r.get(5),
            member_id: r.get(6),
            at: r.get(7),
            payload: r.get(8),
        })
        .collect())
}

pub async fn delivered(
    c: &mut AnyConnection,
    outbox_id: &str,
    webhook_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE deliveries SET delivered_at = $3, attempts = attempts + 1 WHERE outbox_id = $1 AND webhook_id = $2")
        .bind(outbox_id)
        .bind(webhook_id)
        .bind(now)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn failed(
    c: &mut AnyConnection,
    outbox_id: &str,
    webhook_id: &str,
    next_attempt_at: i64,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $3, last_error = $4 \
         WHERE outbox_id = $1 AND webhook_id = $2",
    )
    .bind(outbox_id)
    .bind(webhook_id)
    .bind(next_attempt_at)
    .bind(error)
    .execute(c)
    .await?;
    Ok(())
}

/// Deliveries not yet acknowledged.
pub async fn backlog(c: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    let r =
        sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM deliveries WHERE delivered_at IS NULL")
            .fetch_one(c)
            .await?;
    Ok(r.get(0))
}
