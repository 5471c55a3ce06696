//! Operations on a stopped or running programme's database: `loyalty serve check`, `backup`
//! and `copy`.

use crate::ledger;
use crate::storage::{self, Db, Kind};
use sqlx::Row;

/// What `check` found.
#[derive(Debug, Default, serde::Serialize)]
pub struct CheckReport {
    pub members: u64,
    pub events: i64,
    pub differences: Vec<serde_json::Value>,
}

/// Replays every member as of its cache's instant and compares with the cached balance, tier
/// and status: any difference is a bug (the caches are written by the same transactions as
/// the events).
pub async fn check(db: &Db) -> Result<CheckReport, String> {
    let e = |e: sqlx::Error| e.to_string();
    let mut c = db.read.acquire().await.map_err(e)?;
    let versions = storage::policies::versions(&mut c).await.map_err(e)?;
    let mut report = CheckReport {
        events: storage::events::count_all(&mut c).await.map_err(e)?,
        ..Default::default()
    };
    if versions.is_empty() {
        return Ok(report);
    }
    for (id, at, available, pending, tier, status) in
        storage::members::cached_all(&mut c).await.map_err(e)?
    {
        report.members += 1;
        let Some(l) = ledger::load(&mut c, &id).await.map_err(|e| e.body())? else {
            continue;
        };
        let Some(at) = at else {
            if !l.events.is_empty() {
                report.differences.push(serde_json::json!({ "member_id": id, "problem": "events but no cached figures" }));
            }
            continue;
        };
        match ledger::replay(&l.versions, &l.member, &l.events, None, at) {
            Err(out) => report.differences.push(
                serde_json::json!({ "member_id": id, "problem": "does not replay", "error": out }),
            ),
            Ok(s) => {
                let got = (
                    Some(s.available()),
                    Some(s.pending()),
                    Some(s.tier()),
                    Some(s.status()),
                );
                let cached = (available, pending, tier.clone(), status.clone());
                if got != cached {
                    report.differences.push(serde_json::json!({
                        "member_id": id, "problem": "cached figures differ from the replay",
                        "cached": { "available": available, "pending": pending, "tier": tier, "status": status, "at": crate::clock::rfc3339(at) },
                        "replay": { "available": s.available(), "pending": s.pending(), "tier": s.tier(), "status": s.status() },
                    }));
                }
            }
        }
    }
    // Reports: every report row and day sum recomputed from the events (issue 15).
    report
        .differences
        .extend(crate::reports::store::compare(&mut c).await?);
    Ok(report)
}

/// A consistent copy of a running SQLite database (`VACUUM INTO`: online, one transaction).
/// PostgreSQL is backed up with `pg_dump` (README).
pub async fn backup(db: &Db, out: &std::path::Path) -> Result<(), String> {
    if db.kind != Kind::Sqlite {
        return Err(
            "backup copies SQLite databases; for PostgreSQL use pg_dump (see the README)".into(),
        );
    }
    if out.exists() {
        return Err(format!("{} exists: choose a new file", out.display()));
    }
    let path = out.to_string_lossy().replace('\'', "''");
    sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM INTO '{path}'")))
        .execute(&db.write)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The tables in copy order (references first), with their columns: `true` for BIGINT.
const TABLES: &[(&str, &[(&str, bool)])] = &[
    ("settings", &[("key", false), ("value", false)]),
    (
        "policies",
        &[
            ("digest", false),
            ("document", false),
            ("created_at", true),
            ("created_by", false),
        ],
    ),
    (
        "policy_versions",
        &[
            ("effective_at", true),
            ("digest", false),
            ("published_at", true),
            ("published_by", false),
        ],
    ),
    (
        "stores",
        &[("id", false), ("name", false), ("created_at", true)],
    ),
    (
        "tills",
        &[
            ("id", false),
            ("store_id", false),
            ("name", false),
            ("created_at", true),
        ],
    ),
    (
        "api_keys",
        &[
            ("id", false),
            ("kind", false),
            ("till_id", false),
            ("secret_hash", false),
            ("created_at", true),
            ("revoked_at", true),
        ],
    ),
    (
        "admins",
        &[
            ("username", false),
            ("password_hash", false),
            ("created_at", true),
        ],
    ),
    (
        "sessions",
        &[
            ("id", false),
            ("kind", false),
            ("subject", false),
            ("csrf", false),
            ("created_at", true),
            ("expires_at", true),
        ],
    ),
    (
        "members",
        &[
            ("id", false),
            ("status", false),
            ("joined_at", true),
            ("phone", false),
            ("name", false),
            ("email", false),
            ("created_at", true),
            ("version", true),
            ("cached_at", true),
            ("cached_available", true),
            ("cached_pending", true),
            ("cached_tier", false),
            ("cached_status", false),
            ("next_due_at", true),
        ],
    ),
    (
        "cards",
        &[
            ("number", false),
            ("member_id", false),
            ("type", false),
            ("state", false),
            ("issued_at", true),
        ],
    ),
    (
        "events",
        &[
            ("member_id", false),
            ("seq", true),
            ("id", false),
            ("type", false),
            ("at", true),
            ("body", false),
            ("recorded_at", true),
            ("recorded_by", false),
        ],
    ),
    (
        "orders",
        &[
            ("id", false),
            ("member_id", false),
            ("store_id", false),
            ("till_id", false),
            ("document_no", false),
            ("card", false),
            ("channel", false),
            ("state", false),
            ("offline", true),
            ("flags", false),
            ("at", true),
            ("redeemed_points", true),
            ("earned_points", true),
            ("subtotal", false),
            ("total", false),
            ("policy_digest", false),
            ("quote_request", false),
            ("quote", false),
            ("hold_expires_at", true),
            ("created_at", true),
            ("created_by", false),
            ("booked_at", true),
            ("closed_at", true),
            ("confirm_answer", false),
            ("void_answer", false),
        ],
    ),
    (
        "idempotency",
        &[
            ("principal", false),
            ("key", false),
            ("body_hash", false),
            ("status", true),
            ("response", false),
            ("created_at", true),
        ],
    ),
    (
        "audit",
        &[
            ("id", false),
            ("at", true),
            ("actor", false),
            ("action", false),
            ("target", false),
            ("detail", false),
        ],
    ),
    (
        "outbox",
        &[
            ("id", false),
            ("kind", false),
            ("member_id", false),
            ("at", true),
            ("payload", false),
            ("created_at", true),
        ],
    ),
    (
        "webhooks",
        &[
            ("id", false),
            ("url", false),
            ("secret", false),
            ("created_at", true),
        ],
    ),
    (
        "deliveries",
        &[
            ("outbox_id", false),
            ("webhook_id", false),
            ("attempts", true),
            ("next_attempt_at", true),
            ("delivered_at", true),
            ("last_error", false),
        ],
    ),
    (
        "throttle",
        &[
            ("scope", false),
            ("subject", false),
            ("window_start", true),
            ("count", true),
        ],
    ),
    (
        "imports",
        &[
            ("id", false),
            ("source", false),
            ("state", false),
            ("phase", false),
            ("created_at", true),
            ("created_by", false),
            ("started_at", true),
            ("finished_at", true),
            ("heartbeat_at", true),
            ("bytes_total", true),
            ("bytes_read", true),
            ("members_expected", true),
            ("members_read", true),
            ("members_created", true),
            ("members_unchanged", true),
            ("members_conflicting", true),
            ("members_rejected", true),
            ("events_written", true),
            ("cards_written", true),
            ("conflicts", true),
            ("error", false),
            ("summary", false),
        ],
    ),
    (
        "import_reports",
        &[("import_id", false), ("n", true), ("chunk", false)],
    ),
    (
        "otps",
        &[
            ("member_id", false),
            ("code_hash", false),
            ("expires_at", true),
            ("attempts", true),
        ],
    ),
];

/// Copies a whole programme into an empty database (SQLite → PostgreSQL as it outgrows one
/// file, or back), table by table in one transaction on the target. Returns rows per table.
pub async fn copy(from: &Db, to: &Db) -> Result<Vec<(String, u64)>, String> {
    let e = |e: sqlx::Error| e.to_string();
    let mut check = to.read.acquire().await.map_err(e)?;
    let n: i64 = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM policies")
        .fetch_one(&mut *check)
        .await
        .map_err(e)?
        .get(0);
    let m: i64 = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM members")
        .fetch_one(&mut *check)
        .await
        .map_err(e)?
        .get(0);
    drop(check);
    if n + m > 0 {
        return Err("the target database is not empty".into());
    }
    let mut out = Vec::new();
    let mut tx = to.begin().await.map_err(e)?;
    for (table, cols) in TABLES {
        let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
        let select = format!("SELECT {} FROM {table}", names.join(", "));
        let placeholders: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
        let insert = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names.join(", "),
            placeholders.join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(select))
            .fetch_all(&from.read)
            .await
            .map_err(e)?;
        for r in &rows {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.clone()));
            for (i, (_, int)) in cols.iter().enumerate() {
                q = if *int {
                    q.bind(r.get::<Option<i64>, _>(i))
                } else {
                    q.bind(r.get::<Option<String>, _>(i))
                };
            }
            q.execute(&mut *tx).await.map_err(e)?;
        }
        out.push((table.to_string(), rows.len() as u64));
    }
    tx.commit().await.map_err(e)?;
    // The report tables are derived from the events: recomputed on the target (issue 15).
    crate::reports::store::rebuild(to, crate::clock::Clock::System.now_ms()).await?;
    Ok(out)
}
