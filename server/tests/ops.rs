//! Operations: `loyalty serve copy` both ways (SQLite → PostgreSQL → SQLite) and `backup`, each
//! followed by `check`, with the member's replay unchanged.

mod support;

use loyalty_server::ops;
use loyalty_server::storage::Db;
use serde_json::json;
use support::*;

/// A programme with a booked sale, a hold and a refund; returns (url, the member's replay).
async fn programme(b: Backend) -> (String, serde_json::Value) {
    let s = TestServer::start(b).await;
    let key = s.till_key("hcm-01-t1").await;
    let member = json!({ "id": "m-001", "status": "active", "tier": "silver", "points": 300 });
    let (req, q) = quote(&member, spec_cart("P-1", T0_TEXT), json!(100));
    let (st, a) = s
        .post_text(
            "/v1/orders",
            &key,
            Some("p-1"),
            &order_body("P-1", &req, &q, true, false),
        )
        .await;
    assert_eq!(st, 201, "{a}");
    let id = serde_json::from_str::<serde_json::Value>(&a).unwrap()["order_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, _) = s
        .post(
            &format!("/v1/orders/{id}/refunds"),
            &key,
            Some("p-1-r"),
            &json!({ "lines": [{ "line_id": "B", "quantity": 1 }] }),
        )
        .await;
    assert_eq!(st, 201);
    let (req2, q2) = quote(&member, spec_cart("P-2", T0_TEXT), json!(0));
    let (st, _) = s
        .post_text(
            "/v1/orders",
            &key,
            Some("p-2"),
            &order_body("P-2", &req2, &q2, false, false),
        )
        .await;
    assert_eq!(st, 201);
    let (_, replay) = s.get("/v1/members/m-001", &key).await;
    let url = s.url.clone();
    s.stop().await;
    (url, replay)
}

async fn replay_on(url: &str) -> serde_json::Value {
    let s = TestServer::on(Backend::Sqlite, url).await;
    let key = s.till_key("hcm-01-t1").await;
    let (st, r) = s.get("/v1/members/m-001", &key).await;
    assert_eq!(st, 200, "{r}");
    s.stop().await;
    r
}

#[tokio::test]
async fn copy_both_ways_and_backup_keep_every_figure() {
    let (src, replay) = programme(Backend::Sqlite).await;
    let a = Db::open(&src).await.unwrap();
    assert!(ops::check(&a).await.unwrap().differences.is_empty());
    // Backup: a consistent copy that checks clean and replays the same.
    let dir = std::env::temp_dir().join(format!("loyalty-backup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("backup.db");
    let _ = std::fs::remove_file(&file);
    ops::backup(&a, &file).await.unwrap();
    assert!(ops::backup(&a, &file).await.is_err(), "never overwrites");
    let backup_url = format!("sqlite://{}", file.display());
    let b = Db::open(&backup_url).await.unwrap();
    let rep = ops::check(&b).await.unwrap();
    assert!(rep.differences.is_empty() && rep.events == ops::check(&a).await.unwrap().events);
    b.close().await;
    assert_eq!(replay_on(&backup_url).await, replay);

    if backends().contains(&Backend::Postgres) {
        // SQLite → PostgreSQL → a new SQLite file.
        let pg = fresh_db(Backend::Postgres).await;
        let p = Db::open(&pg).await.unwrap();
        let rows = ops::copy(&a, &p).await.unwrap();
        assert!(
            rows.iter().any(|(t, n)| t == "events" && *n >= 4),
            "{rows:?}"
        );
        assert!(ops::copy(&a, &p).await.is_err(), "the target must be empty");
        assert!(ops::check(&p).await.unwrap().differences.is_empty());
        let back = fresh_db(Backend::Sqlite).await;
        let c = Db::open(&back).await.unwrap();
        let rows2 = ops::copy(&p, &c).await.unwrap();
        assert_eq!(rows, rows2);
        assert!(ops::check(&c).await.unwrap().differences.is_empty());
        assert_eq!(replay_on(&back).await, replay);
        assert_eq!(replay_on(&pg).await, replay);
        p.close().await;
        c.close().await;
    }
    a.close().await;
}

#[tokio::test]
async fn sqlite_commits_are_fsynced_unless_normal_is_asked() {
    use loyalty_server::storage::SqliteSync;
    use sqlx::Row;
    for (sync, want) in [(SqliteSync::Full, 2i64), (SqliteSync::Normal, 1)] {
        let url = fresh_db(Backend::Sqlite).await;
        let db = Db::open_with(&url, sync, true).await.unwrap();
        for pool in [&db.write, &db.read] {
            let r = sqlx::query("PRAGMA synchronous")
                .fetch_one(pool)
                .await
                .unwrap();
            assert_eq!(r.get::<i64, _>(0), want, "{sync:?}");
            let r = sqlx::query("PRAGMA journal_mode")
                .fetch_one(pool)
                .await
                .unwrap();
            assert_eq!(r.get::<String, _>(0), "wal");
        }
        db.close().await;
    }
}

#[tokio::test]
async fn multi_row_inserts_stay_small_on_sqlite() {
    for b in backends() {
        let url = fresh_db(b).await;
        let db = Db::open(&url).await.unwrap();
        let c = db.write.acquire().await.unwrap();
        let rows = loyalty_server::storage::rows_per_insert(&c, 8);
        assert_eq!(rows, 1_000);
        // 5,000 columns: within each database's parameter limit.
        let rows = loyalty_server::storage::rows_per_insert(&c, 5_000);
        match b {
            Backend::Sqlite => assert_eq!(rows, 6),
            _ => assert_eq!(rows, 13),
        }
        drop(c);
        db.close().await;
    }
}

/// SQLite's WAL goes back into the database file by the background checkpointer, not by the
/// writer's commits (which never checkpoint): rows written through the server's transactions
/// are in the main file shortly after, as a reader that ignores the WAL (`immutable=1`) sees.
#[tokio::test]
async fn the_wal_is_checkpointed_in_the_background() {
    use sqlx::{Connection, Row};
    let url = fresh_db(Backend::Sqlite).await;
    let db = Db::open(&url).await.unwrap();
    {
        let mut c = db.write.acquire().await.unwrap();
        let r = sqlx::query("PRAGMA wal_autocheckpoint")
            .fetch_one(&mut *c)
            .await
            .unwrap();
        assert_eq!(r.get::<i64, _>(0), 0, "the writer never checkpoints");
    }
    for batch in 0..10 {
        let mut tx = db.begin().await.unwrap();
        for i in 0..50 {
            loyalty_server::storage::audit(
                &mut tx,
                T0,
                "test",
                "wal.check",
                &format!("row-{batch}-{i}"),
                &json!({ "i": i }),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let path = url.trim_start_matches("sqlite://");
    // A reader that ignores the WAL may catch the file while a checkpoint writes it (an
    // error, or a page it cannot read): that read counts as "not yet" and the next one decides.
    let in_file = || async {
        let mut c = sqlx::AnyConnection::connect(&format!("sqlite://{path}?immutable=1"))
            .await
            .ok()?;
        let r =
            sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM audit WHERE action = 'wal.check'")
                .fetch_one(&mut c)
                .await
                .ok()?;
        Some(r.get::<i64, _>(0))
    };
    let mut seen = 0;
    for _ in 0..40 {
        tokio::time::sleep(loyalty_server::storage::CHECKPOINT_EVERY).await;
        seen = in_file().await.unwrap_or(seen);
        if seen == 500 {
            break;
        }
    }
    assert_eq!(seen, 500, "the database file holds every committed row");
    db.close().await;
}

/// A new database (not the test template, which is migrated to the end) with the migrations
/// before `version` run: its URL and a connection to it.
async fn migrated_before(b: Backend, version: i64) -> (String, sqlx::AnyConnection) {
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let url = match b {
        Backend::Sqlite => format!("{}?mode=rwc", fresh_db(b).await),
        Backend::Postgres => {
            let admin = std::env::var("LOYALTY_TEST_PG").unwrap();
            let name = format!(
                "pre{version}_{}_{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
                    % 1_000_000_007
            );
            let mut c = sqlx::AnyConnection::connect(&admin).await.unwrap();
            c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .unwrap();
            format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
        }
    };
    let mut before = sqlx::migrate!("./migrations");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let mut c = sqlx::AnyConnection::connect(&url).await.unwrap();
    before.run(&mut c).await.unwrap();
    (url, c)
}

/// A database made before migration 0010 (the events' member a foreign key) keeps its events
/// through it; after it, an event whose member does not exist is stored, and
/// `loyalty serve check` reports it.
#[tokio::test]
async fn events_are_kept_by_0010_and_an_event_of_no_member_is_found_by_check() {
    use sqlx::{Connection, Executor, Row};
    for b in backends() {
        let (url, mut c) = migrated_before(b, 10).await;
        for sql in [
            "INSERT INTO members (id, status, joined_at, created_at, version) VALUES ('m-1', 'active', 1000, 1000, 0)",
            "INSERT INTO events VALUES ('m-1', 1, 'e-1', 'purchase', 2000, '{\"a\":1}', 3000, 'till:t1')",
            "INSERT INTO events VALUES ('m-1', 2, 'e-2', 'adjustment', 4000, '{\"b\":2}', 5000, 'admin:root')",
        ] {
            c.execute(sql).await.unwrap();
        }
        assert!(
            c.execute("INSERT INTO events VALUES ('ghost', 1, 'e-9', 'purchase', 1, '{}', 1, 'x')")
                .await
                .is_err(),
            "before 0010 the member is a foreign key"
        );
        c.close().await.unwrap();
        let db = Db::open(&url).await.unwrap(); // runs 0010
        let mut c = db.write.acquire().await.unwrap();
        let rows: Vec<String> = sqlx::query(
            "SELECT member_id, seq, id, type, at, body, recorded_at, recorded_by FROM events ORDER BY seq",
        )
        .fetch_all(&mut *c)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let (m, seq, id, t): (String, i64, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let (at, body, rec, by): (i64, String, i64, String) =
                (r.get(4), r.get(5), r.get(6), r.get(7));
            format!("{m} {seq} {id} {t} {at} {body} {rec} {by}")
        })
        .collect();
        assert_eq!(
            rows,
            [
                "m-1 1 e-1 purchase 2000 {\"a\":1} 3000 till:t1",
                "m-1 2 e-2 adjustment 4000 {\"b\":2} 5000 admin:root"
            ]
        );
        // The keys hold after the rebuild: a repeated seq or event id of a member is refused.
        for dup in [
            "INSERT INTO events VALUES ('m-1', 2, 'e-3', 'purchase', 1, '{}', 1, 'x')",
            "INSERT INTO events VALUES ('m-1', 3, 'e-2', 'purchase', 1, '{}', 1, 'x')",
        ] {
            assert!(c.execute(dup).await.is_err(), "{dup}");
        }
        c.execute("INSERT INTO events VALUES ('ghost', 1, 'e-9', 'purchase', 1, '{}', 1, 'x')")
            .await
            .unwrap();
        drop(c);
        let rep = ops::check(&db).await.unwrap();
        assert_eq!(rep.events, 3);
        assert_eq!(
            rep.differences,
            vec![json!({ "member_id": "ghost", "problem": "events of no member", "events": 1 })]
        );
        db.close().await;
    }
}

/// A database made before migration 0007 (report sums without shards) keeps every figure: the
/// migration moves each row into shard 0, and sums added later in another shard (a concurrent
/// PostgreSQL commit's) are summed with it by the readers.
#[tokio::test]
async fn sums_made_before_shards_are_kept_in_shard_0() {
    use loyalty_server::reports::store::{apply, stored_sums, Sums};
    use sqlx::{Connection, Executor, Row};
    for b in backends() {
        let (url, mut c) = migrated_before(b, 7).await;
        for sql in [
            "INSERT INTO rpt_day VALUES ('2026-02-01', 'hcm-01', 'pos', 'standard', 'silver', 'active', 2, 0, 1, 500000, 25000, 10000, 465000, 100, 930, 0, 0, 0, 0)",
            "INSERT INTO rpt_balance VALUES ('2026-02-01', 'standard', 'silver', 'active', 1, 1130, 0)",
            "INSERT INTO rpt_moves VALUES ('2026-02-01', 'member', 'silver', 'standard', 'active', 1)",
            "INSERT INTO rpt_cells VALUES (739648, 739648, 'standard', 'silver', 'active', 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0)",
        ] {
            c.execute(sql).await.unwrap();
        }
        c.close().await.unwrap();
        let db = Db::open(&url).await.unwrap(); // runs 0007
        let mut c = db.write.acquire().await.unwrap();
        for t in ["rpt_day", "rpt_balance", "rpt_moves", "rpt_cells"] {
            let r = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(COUNT(*) AS BIGINT), CAST(SUM(shard) AS BIGINT) FROM {t}"
            )))
            .fetch_one(&mut *c)
            .await
            .unwrap();
            assert_eq!((r.get::<i64, _>(0), r.get::<i64, _>(1)), (1, 0), "{t}");
        }
        let s = stored_sums(&mut c).await.unwrap();
        let day = (
            "2026-02-01".to_string(),
            "hcm-01".to_string(),
            "pos".to_string(),
            "standard".to_string(),
            "silver".to_string(),
            "active".to_string(),
        );
        assert_eq!(
            s.day[&day],
            [2, 0, 1, 500000, 25000, 10000, 465000, 100, 930, 0, 0, 0, 0]
        );
        // One more order of 100,000 (earning 200 points) in shard 3: summed with shard 0.
        let mut more = Sums::default();
        more.day.insert(
            day.clone(),
            [1, 0, 0, 100000, 0, 0, 100000, 0, 200, 0, 0, 0, 0],
        );
        apply(&mut c, &more, 3).await.unwrap();
        let s = stored_sums(&mut c).await.unwrap();
        assert_eq!(
            s.day[&day],
            [3, 0, 1, 600000, 25000, 10000, 565000, 100, 1130, 0, 0, 0, 0]
        );
        let bal = (
            "2026-02-01".to_string(),
            "standard".to_string(),
            "silver".to_string(),
            "active".to_string(),
        );
        assert_eq!(s.balance[&bal], [1, 1130, 0]);
        assert_eq!(s.moves.values().sum::<i64>(), 1);
        assert_eq!(s.cells.len(), 1);
        let cell = s.cells.values().next().unwrap();
        assert_eq!((cell[0], cell[9]), (2, 1));
        drop(c);
        db.close().await;
    }
}

/// `loyalty serve admin`: a new admin's generated password logs in; a reset gives another,
/// after which the old password and the old session are refused; a bad user name is refused
/// before anything is written; both changes are audited.
#[tokio::test]
async fn an_admin_is_created_and_reset_from_the_command_line() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let db = &s.app().db;
        let login = |password: String| {
            let base = s.base.clone();
            async move {
                let http = reqwest::Client::builder()
                    .cookie_store(true)
                    .build()
                    .unwrap();
                let r = http
                    .post(format!("{base}/v1/admin/login"))
                    .json(&serde_json::json!({ "user": "ops-lead", "password": password }))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), http)
            }
        };
        let audit = |action: &'static str| async move {
            use sqlx::Row;
            sqlx::query("SELECT COUNT(*) FROM audit WHERE action = $1 AND target = 'ops-lead'")
                .bind(action)
                .fetch_one(&db.read)
                .await
                .unwrap()
                .get::<i64, _>(0)
        };
        assert_eq!(
            login("nope".into()).await.0,
            401,
            "{b:?}: no such admin yet"
        );
        let (first, done) = loyalty_server::ops::set_admin(db, "ops-lead", 1)
            .await
            .unwrap();
        assert_eq!(done, loyalty_server::ops::AdminSet::Created);
        assert_eq!(first.len(), 24);
        let (st, session) = login(first.clone()).await;
        assert_eq!(st, 200, "{b:?}");
        let members = |http: reqwest::Client| {
            let base = s.base.clone();
            async move {
                http.get(format!("{base}/v1/members?limit=1"))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(members(session.clone()).await, 200, "{b:?}");

        let (second, done) = loyalty_server::ops::set_admin(db, "ops-lead", 2)
            .await
            .unwrap();
        assert_eq!(done, loyalty_server::ops::AdminSet::Reset);
        assert_ne!(first, second);
        assert_eq!(login(first).await.0, 401, "{b:?}: the old password");
        assert_eq!(members(session).await, 401, "{b:?}: the old session ended");
        assert_eq!(login(second).await.0, 200, "{b:?}");
        assert_eq!(
            (audit("admin.create").await, audit("admin.reset").await),
            (1, 1)
        );

        for bad in ["", "two words", "tab\there", &"x".repeat(65)] {
            let e = loyalty_server::ops::set_admin(db, bad, 3)
                .await
                .unwrap_err();
            assert!(e.contains("--user"), "{e}");
        }
        // The demo's admin is untouched.
        s.admin().await;
    }
}

/// PostgreSQL: till requests still answer after every connection of the server was cut, as a
/// restart of PostgreSQL cuts them: the pool pings a connection before lending it, and the
/// key lookups' kept connections (`storage::direct`, never pinged) try once more on a fresh one.
#[tokio::test]
async fn till_requests_answer_after_their_connections_are_cut() {
    use sqlx::Connection;
    for b in backends() {
        if b != Backend::Postgres {
            continue;
        }
        let s = TestServer::start(b).await;
        let key = s.till_key("hcm-01-t1").await;
        let lookup = "/v1/members/lookup?card=C-001";
        // A booking leaves a write connection in the pool.
        sell(&s, &key, "C-001", "CUT-1").await;
        let (st, m) = s.get(lookup, &key).await;
        assert_eq!(st, 200, "{m}");
        let mut c = sqlx::AnyConnection::connect(&s.url).await.unwrap();
        let cut: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(pg_terminate_backend(pid)) AS BIGINT) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert!(cut >= 2, "the pool's and the kept connections: {cut}");
        for _ in 0..4 {
            let (st, again) = s.get(lookup, &key).await;
            assert_eq!((st, &again), (200, &m));
        }
        // Bookings go on: the pool finds the cut write connection dead before lending it and
        // opens a fresh one (`sell` asserts 201).
        let before = s.get(lookup, &key).await.1["snapshot"]["points"]
            .as_i64()
            .unwrap();
        sell(&s, &key, "C-001", "CUT-2").await;
        sell(&s, &key, "C-001", "CUT-3").await;
        let after = s.get(lookup, &key).await.1["snapshot"]["points"]
            .as_i64()
            .unwrap();
        assert!(after > before, "{before} → {after}");
        let check = loyalty_server::ops::check(&s.app().db).await.unwrap();
        assert!(check.differences.is_empty(), "{:?}", check.differences);
        s.stop().await;
    }
}

/// A write transaction's three endings, on both databases: a commit is seen, a rollback is not,
/// and one dropped unfinished (an early return) is rolled back.
#[tokio::test]
async fn a_write_transaction_commits_rolls_back_or_is_rolled_back_when_dropped() {
    for b in backends() {
        let url = fresh_db(b).await;
        let db = Db::open(&url).await.unwrap();
        let put = |k: &'static str| {
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, 'x')").bind(k)
        };
        let mut tx = db.begin().await.unwrap();
        put("tx.committed").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = db.begin().await.unwrap();
        put("tx.rolled_back").execute(&mut *tx).await.unwrap();
        tx.rollback().await.unwrap();
        {
            let mut tx = db.begin().await.unwrap();
            put("tx.dropped").execute(&mut *tx).await.unwrap();
        }
        // The dropped one is rolled back by a task of its own: the next transaction waits for
        // it (SQLite's writer; PostgreSQL's row lock on the key it inserted).
        let mut tx = db.begin().await.unwrap();
        put("tx.dropped").execute(&mut *tx).await.unwrap();
        tx.rollback().await.unwrap();
        let keys: Vec<String> =
            sqlx::query_scalar("SELECT key FROM settings WHERE key LIKE 'tx.%' ORDER BY key")
                .fetch_all(&db.read)
                .await
                .unwrap();
        assert_eq!(keys, vec!["tx.committed".to_string()], "{b:?}");
    }
}
