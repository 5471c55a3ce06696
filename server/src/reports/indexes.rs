//! The report rows' secondary indexes, built once at the end of a large import instead of an
//! entry at a time (docs/migration.md, "Indexes built at the end").
//!
//! `rpt_flows` has four indexes besides its key: by day (the exports of a short period,
//! migration 0003), and for the filtered frequency and customers reports the purchases'
//! covering indexes by store and by tier (0011) and the one of purchases in another status than
//! `active` (0009).
//! An import inserts their entries at random places — the day index takes every member's days
//! across the whole history — which at 1,000,000 customers (11.9 M report rows) was ≈ 50 s of
//! a PostgreSQL import's 6 min 13 s; building them from the finished table (a sort) took 27 s.
//! So an import of at least [`AT_LEAST_SETTING`] members (default [`AT_LEAST`]), and of at
//! least as many as are stored already, drops them before its first batch and builds them
//! before it says `done` (phase `indexing`). `loyalty serve load` does the same for a file of
//! at least that many lines (marker `load-<instant>`): entry by entry, the indexes' pages
//! interleave with the table's all over an SQLite file, and reading the table in member order
//! (the transactions export) then reads it at random. Nothing else changes: the rows are the same, and
//! bookings meanwhile write theirs as always; reports that read these indexes are slower
//! until they are built.
//!
//! A marker row (`rpt_meta` key `indexes_dropped:<job>`) is written in the transaction that
//! drops them and deleted in the one that builds them. A process that stops during the job
//! leaves it: the next [`recover`] — at every start of the server, of `loyalty serve` commands
//! and of an import, as `reports::deferred`'s — builds them once no running job holds a marker.
//! Building is `CREATE INDEX IF NOT EXISTS` of the migrations' own definitions ([`INDEXES`];
//! a test compares them with a migrated database's), so building twice changes nothing.

use crate::storage::{self, settings, Db, Tx};
use sqlx::{AnyConnection, Row};

const PREFIX: &str = "indexes_dropped:";

/// The setting naming the fewest members an import builds the indexes at its end for (0:
/// never).
pub const AT_LEAST_SETTING: &str = settings::IMPORT_INDEXES_AT;

/// Its default.
pub const AT_LEAST: i64 = 100_000;

/// Each index's name and its definition, as migrations 0003, 0009 and 0011 create it.
pub const INDEXES: [(&str, &str); 4] = [
    ("rpt_flows_day", "ON rpt_flows(day, kind)"),
    (
        "rpt_flows_store",
        "ON rpt_flows(store, member_id, at, n, day, card_type, tier, status) \
         WHERE kind = 'purchase'",
    ),
    (
        "rpt_flows_tier",
        "ON rpt_flows(tier, member_id, at, n, day, store, card_type, status) \
         WHERE kind = 'purchase'",
    ),
    (
        "rpt_flows_other_status",
        "ON rpt_flows(member_id, at, n, day, store, card_type, tier, status) \
         WHERE kind = 'purchase' AND status <> 'active'",
    ),
];

/// Whether an import of `members` members builds the indexes at its end: at least the
/// setting's number (default [`AT_LEAST`], 0 never), and at least the members stored.
pub async fn worth_it(c: &mut AnyConnection, members: u64) -> Result<bool, sqlx::Error> {
    let at_least = settings::get(c, AT_LEAST_SETTING)
        .await?
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(AT_LEAST);
    if at_least <= 0 || (members as i64) < at_least {
        return Ok(false);
    }
    let stored: i64 = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM members")
        .fetch_one(c)
        .await?
        .get(0);
    Ok(members as i64 >= stored)
}

/// Drops the indexes for `job` (its marker and an audit row in the same transaction).
pub async fn drop_for(db: &Db, job: &str, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_bulk().await?;
    sqlx::query("INSERT INTO rpt_meta (key, value) VALUES ($1, '1')")
        .bind(format!("{PREFIX}{job}"))
        .execute(&mut *tx)
        .await?;
    for (name, _) in INDEXES {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX IF EXISTS {name}")))
            .execute(&mut *tx)
            .await?;
    }
    audit(&mut tx, now, job, "import.indexes_dropped").await?;
    tx.commit().await
}

async fn audit(tx: &mut Tx, now: i64, job: &str, action: &str) -> Result<(), sqlx::Error> {
    let names: Vec<&str> = INDEXES.iter().map(|(name, _)| *name).collect();
    storage::audit(
        tx,
        now,
        &format!("import:{job}"),
        action,
        job,
        &serde_json::json!({ "indexes": names }),
    )
    .await
}

/// Builds the indexes that are missing and removes the markers of `jobs`, in one transaction.
async fn build(db: &Db, jobs: &[String], now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_bulk().await?;
    for (name, def) in INDEXES {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE INDEX IF NOT EXISTS {name} {def}"
        )))
        .execute(&mut *tx)
        .await?;
    }
    for job in jobs {
        sqlx::query("DELETE FROM rpt_meta WHERE key = $1")
            .bind(format!("{PREFIX}{job}"))
            .execute(&mut *tx)
            .await?;
        audit(&mut tx, now, job, "import.indexes_built").await?;
    }
    tx.commit().await
}

/// Builds the indexes if `job` dropped them (when it ends, done or failed); whether it had.
pub async fn build_for(db: &Db, job: &str, now: i64) -> Result<bool, sqlx::Error> {
    let mut c = db.read.acquire().await?;
    if !pending(&mut c).await?.iter().any(|j| j == job) {
        return Ok(false);
    }
    drop(c);
    build(db, &[job.to_string()], now).await?;
    Ok(true)
}

/// The jobs whose dropped indexes are not built yet (their markers), by id.
pub async fn pending(c: &mut AnyConnection) -> Result<Vec<String>, sqlx::Error> {
    crate::import::marked(c, PREFIX).await
}

/// Builds the indexes a job that stopped dropped, once no running job holds a marker (it
/// builds them itself when it ends). Returns how many markers it cleared.
pub async fn recover(db: &Db, now: i64) -> Result<usize, String> {
    let e = |e: sqlx::Error| e.to_string();
    let mut c = db.read.acquire().await.map_err(e)?;
    let markers = pending(&mut c).await.map_err(e)?;
    if markers.is_empty() {
        return Ok(0);
    }
    let live = crate::import::running_with_marker(&mut c, PREFIX)
        .await
        .map_err(e)?;
    drop(c);
    if live > 0 {
        return Ok(0);
    }
    build(db, &markers, now).await.map_err(e)?;
    tracing::warn!(
        markers = markers.len(),
        "an import stopped before building the report rows' indexes: built them"
    );
    Ok(markers.len())
}
