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
    for (id, n) in storage::events::orphans(&mut c, 100).await.map_err(e)? {
        report.differences.push(
            serde_json::json!({ "member_id": id, "problem": "events of no member", "events": n }),
        );
    }
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
    // An import's cells are added when it ends (reports::deferred): say so before the
    // differences that follow from it.
    for job in crate::reports::deferred::pending(&mut c).await.map_err(e)? {
        report.differences.push(serde_json::json!({
            "import": job,
            "problem": "the import's report cells are not added yet: it is running, or it stopped and the next start of the server or of an import counts them again",
        }));
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

/// Tables that others reference come first; every other table of the schema follows (found
/// in the source, so a table a later migration adds is copied too).
const FIRST: &[&str] = &[
    "settings",
    "policies",
    "policy_versions",
    "stores",
    "tills",
    "api_keys",
    "admins",
    "card_types",
    "card_batches",
    "members",
    "cards",
    "events",
    "orders",
];

/// The programme's tables (not sqlx's own), in copy order.
async fn tables(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    let sql = match db.kind {
        Kind::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
        Kind::Postgres => "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT LIKE '_sqlx%'",
    };
    let mut all: Vec<String> = sqlx::query(sql)
        .fetch_all(&db.read)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    all.sort();
    let mut out: Vec<String> = FIRST
        .iter()
        .filter(|t| all.iter().any(|a| a == *t))
        .map(|t| t.to_string())
        .collect();
    // The report tables are derived from the events (recomputed on the target after the copy);
    // report export jobs are downloads, not the programme.
    out.extend(
        all.into_iter()
            .filter(|t| !FIRST.contains(&t.as_str()) && !t.starts_with("rpt_")),
    );
    Ok(out)
}

/// A table's columns in order, with whether each is an integer (BIGINT) or text.
async fn columns(db: &Db, table: &str) -> Result<Vec<(String, bool)>, sqlx::Error> {
    let rows = match db.kind {
        Kind::Sqlite => sqlx::query("SELECT name, type FROM pragma_table_info($1) ORDER BY cid").bind(table).fetch_all(&db.read).await?,
        Kind::Postgres => sqlx::query("SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position").bind(table).fetch_all(&db.read).await?,
    };
    Ok(rows
        .iter()
        .map(|r| {
            let name: String = r.get(0);
            let kind: String = r.get(1);
            (name, kind.to_ascii_uppercase().contains("INT"))
        })
        .collect())
}

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
    let order = tables(from).await.map_err(e)?;
    let mut tx = to.begin().await.map_err(e)?;
    for table in &order {
        let cols = columns(from, table).await.map_err(e)?;
        let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
        let select = format!("SELECT {} FROM {table}", names.join(", "));
        let placeholders: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
        let insert = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names.join(", "),
            placeholders.join(", ")
        );
        // Rows the target's migrations seeded (the default card types) give way to the source's.
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
            .execute(&mut *tx)
            .await
            .map_err(e)?;
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

/// What `admin` did.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminSet {
    Created,
    /// The admin existed: a new password, and every session of that admin ended.
    Reset,
}

/// `loyalty serve admin --user NAME`: the way into a programme that was not seeded with
/// `--demo` (a migration's fresh database) and the way back in after a lost password. Creates
/// the admin, or gives an existing one a new password and ends its sessions; the password is
/// generated (96 random bits) and returned to be printed once — only its argon2id hash is
/// stored. Audited as `admin.create` / `admin.reset` by `cli`.
pub async fn set_admin(db: &Db, user: &str, now: i64) -> Result<(String, AdminSet), String> {
    if user.is_empty()
        || user.chars().count() > 64
        || user.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "--user {user:?}: 1 to 64 characters without spaces or control characters"
        ));
    }
    let e = |e: sqlx::Error| e.to_string();
    let password = storage::random_hex(12);
    let hash = crate::auth::password::hash(password.clone()).await?;
    let mut tx = db.begin().await.map_err(e)?;
    let updated = sqlx::query("UPDATE admins SET password_hash = $2 WHERE username = $1")
        .bind(user)
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .map_err(e)?
        .rows_affected();
    let done = if updated == 0 {
        sqlx::query("INSERT INTO admins (username, password_hash, created_at) VALUES ($1, $2, $3)")
            .bind(user)
            .bind(&hash)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(e)?;
        AdminSet::Created
    } else {
        sqlx::query("DELETE FROM sessions WHERE kind = 'admin' AND subject = $1")
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(e)?;
        AdminSet::Reset
    };
    let action = match done {
        AdminSet::Created => "admin.create",
        AdminSet::Reset => "admin.reset",
    };
    storage::audit(&mut tx, now, "cli", action, user, &serde_json::json!({}))
        .await
        .map_err(e)?;
    tx.commit().await.map_err(e)?;
    Ok((password, done))
}
