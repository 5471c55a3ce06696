//! Import jobs (issue 18) through HTTP, on SQLite and (with `LOYALTY_TEST_PG`) PostgreSQL: the
//! vn-fashion exports with their mapping (tests/import/) and hand-written member NDJSON land in
//! members, cards and events; the replay of every imported member equals its cached figures
//! (`ops::check`); running an import again changes nothing; conflicts and rejections are in the
//! job's report.

mod support;

use serde_json::{json, Value};
use std::path::PathBuf;
use support::*;

fn fixture(dir: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/import")
        .join(dir)
        .join(file)
}

const VN_FILES: [&str; 5] = [
    "pos_customers.csv",
    "web_customers.csv",
    "balances.csv",
    "tiers.csv",
    "transactions.csv",
];

/// A multipart upload of a mapping and its exports.
fn exports_form(mapping: &str, files: &[&str]) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new().text("mapping", mapping.to_string());
    for f in files {
        let bytes = std::fs::read(fixture("vn-fashion", f)).unwrap();
        form = form.part(
            "files",
            reqwest::multipart::Part::bytes(bytes).file_name(f.to_string()),
        );
    }
    form
}

async fn post_form(a: &Admin, form: reqwest::multipart::Form) -> (u16, Value) {
    let r = a
        .http
        .post(format!("{}/v1/imports", a.base))
        .header("X-CSRF-Token", &a.csrf)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn post_ndjson(a: &Admin, body: &str) -> (u16, Value) {
    let r = a
        .http
        .post(format!("{}/v1/imports", a.base))
        .header("X-CSRF-Token", &a.csrf)
        .header("content-type", "application/x-ndjson")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Posts member NDJSON as an import (202) and waits for the job, which must end `done`;
/// returns it. `b` names the backend in a failure's message.
async fn ndjson_done(a: &Admin, body: &str, b: Backend) -> Value {
    let (st, job) = post_ndjson(a, body).await;
    assert_eq!(st, 202, "{b:?}: {job}");
    let job = wait(a, job["id"].as_str().unwrap()).await;
    assert_eq!(job["state"], "done", "{b:?}: {job}");
    job
}

/// Polls the job until it ends.
async fn wait(a: &Admin, id: &str) -> Value {
    for _ in 0..600 {
        let (s, job) = a.get(&format!("/v1/imports/{id}")).await;
        assert_eq!(s, 200, "{job}");
        if job["state"] == "done" || job["state"] == "failed" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import {id} did not finish");
}

async fn report(a: &Admin, id: &str) -> Value {
    let r = a
        .http
        .get(format!("{}/v1/imports/{id}/report", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

async fn member(a: &Admin, id: &str) -> (i64, String, String) {
    let (s, m) = a.get(&format!("/v1/members/{id}")).await;
    assert_eq!(s, 200, "{id}: {m}");
    (
        m["points"]["available"].as_i64().unwrap(),
        m["tier"]["id"].as_str().unwrap().to_string(),
        m["status"].as_str().unwrap().to_string(),
    )
}

/// `check`'s differences other than the seeded m-001's (the test support writes its events
/// without caching figures: "events but no cached figures").
fn imported_differences(c: &loyalty_server::ops::CheckReport) -> usize {
    c.differences
        .iter()
        .filter(|d| d["member_id"] != "m-001")
        .count()
}

/// At the vn-fashion exports' cutover (their balances and tiers are as of then), an admin
/// uploads them; the job must end `done`.
async fn import_vn_fashion(s: &TestServer) -> (Admin, Value) {
    let cutover = loyalty_server::clock::parse_rfc3339("2026-10-01T00:00:00+07:00").unwrap();
    s.clock().set(cutover);
    let a = s.admin().await;
    let mapping = std::fs::read_to_string(fixture("vn-fashion", "mapping.json")).unwrap();
    let (st, job) = post_form(&a, exports_form(&mapping, &VN_FILES)).await;
    assert_eq!(st, 202, "{job}");
    assert_eq!(job["source"], "exports");
    let job = wait(&a, job["id"].as_str().unwrap()).await;
    assert_eq!(job["state"], "done", "{job}");
    (a, job)
}

#[tokio::test]
async fn exports_land_in_the_server_and_a_second_run_changes_nothing() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let (a, job) = import_vn_fashion(&s).await;
        let id = job["id"].as_str().unwrap().to_string();
        let events = count(
            &s,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM events WHERE recorded_by LIKE 'import:%'",
        )
        .await;
        // The ten members of the vn-fashion exports (tests/import.rs), nothing rejected here.
        assert_eq!(
            job["counts"],
            json!({ "members_read": 10, "members_created": 10, "members_unchanged": 0,
                    "members_conflicting": 0, "members_rejected": 0, "events_written": events,
                    "cards_written": 8, "conflicts": 0 }),
            "{b:?}"
        );
        // 2 purchases + 1 refund + 2 lots + tier for KH001 alone: the exports' events all landed.
        assert!(events >= 20, "{events}");
        assert_eq!(job["progress"]["fraction"], 1.0);
        assert_eq!(job["progress"]["members_expected"], 10);
        // The engine's integrity report, as `loyalty import` writes it.
        let sum = &job["summary"];
        assert_eq!(sum["rows_read"], 12 + 5 + 12 + 5 + 18);
        assert_eq!(sum["rows_rejected"], 20);
        assert_eq!(sum["members_written"], 10);
        assert_eq!(sum["conflicts"], 2);
        assert_eq!(
            sum["totals"]["opening_points_in"],
            1200 + 300 + 850 + 400 + 150 + 90 + 25 + 60
        );
        assert_eq!(sum["clean"], false);

        // The source balances, tiers and statuses, replayed by the server.
        for (id, points, tier, status) in [
            ("KH001", 1500, "gold", "active"),
            ("KH002", 850, "silver", "active"),
            ("KH003", 150, "member", "inactive"),
            ("KH004", 90, "member", "excluded"),
            ("KH005", 400, "silver", "active"),
            ("KH006", 0, "member", "active"),
            ("card:VF9001", 25, "member", "unassigned"),
            ("web:W-503", 60, "member", "active"),
        ] {
            assert_eq!(
                member(&a, id).await,
                (points, tier.to_string(), status.to_string()),
                "{b:?} {id}"
            );
        }
        // Cards and phones: the till finds members by them. KH001 and KH006 share a phone in
        // the exports (a conflict there): it is stored for neither.
        let key = s.till_key("hcm-01-t1").await;
        let (st, m) = s.get("/v1/members/lookup?card=VF1001", &key).await;
        assert_eq!((st, m["id"].as_str()), (200, Some("KH001")), "{m}");
        let (st, m) = s.get("/v1/members/lookup?phone=0980000002", &key).await;
        assert_eq!((st, m["id"].as_str()), (200, Some("KH002")), "{m}");
        let (st, m) = s.get("/v1/members/lookup?phone=0980000001", &key).await;
        assert_eq!(st, 404, "{m}");
        let (st, m) = s.get("/v1/members/lookup?card=VF9001", &key).await;
        assert_eq!((st, m["id"].as_str()), (200, Some("card:VF9001")), "{m}");
        let (_, m) = a.get("/v1/members?q=nhung").await;
        assert_eq!(m["items"][0]["id"], "KH001", "names are kept: {m}");

        // Every imported balance equals its replay.
        let check = loyalty_server::ops::check(&s.app().db).await.unwrap();
        assert_eq!(check.members, 11, "m-001 and the ten");
        assert_eq!(imported_differences(&check), 0, "{:?}", check.differences);

        // The report: the job, and the engine's report with every rejected row.
        let r = report(&a, &id).await;
        assert_eq!(r["import"]["id"], id);
        assert_eq!(r["import"]["counts"]["members_created"], 10);
        assert_eq!(r["conflicts"], json!([]));
        assert_eq!(r["rejected"], json!([]));
        assert_eq!(r["report"]["rejected"].as_array().unwrap().len(), 20);
        assert_eq!(r["report"]["rejected"][0]["file"], "pos_customers.csv");
        assert_eq!(r["report"]["totals"]["balanced"], true);

        // A booking after the import, then the same import again: nothing changes.
        let (st, ev) = a
            .post(
                "/v1/members/KH001/events",
                &json!({ "type": "adjust", "points": 10, "reason": "welcome" }),
            )
            .await;
        assert_eq!(st, 201, "{ev}");
        let before = count(&s, "SELECT CAST(COUNT(*) AS BIGINT) FROM events").await;
        let mapping = std::fs::read_to_string(fixture("vn-fashion", "mapping.json")).unwrap();
        let (st, job2) = post_form(&a, exports_form(&mapping, &VN_FILES)).await;
        assert_eq!(st, 202, "{job2}");
        let job2 = wait(&a, job2["id"].as_str().unwrap()).await;
        assert_eq!(job2["state"], "done", "{job2}");
        assert_eq!(job2["counts"]["members_created"], 0);
        assert_eq!(job2["counts"]["members_unchanged"], 10);
        assert_eq!(job2["counts"]["events_written"], 0);
        assert_eq!(job2["counts"]["conflicts"], 0);
        assert_eq!(
            count(&s, "SELECT CAST(COUNT(*) AS BIGINT) FROM events").await,
            before
        );
        assert_eq!(member(&a, "KH001").await.0, 1510);
        let (_, list) = a.get("/v1/imports").await;
        assert_eq!(list["items"].as_array().unwrap().len(), 2);
        s.stop().await;
    }
}

const N1: &str = r#"{"member":{"id":"n-1","status":"active","joined_at":"2026-01-01T00:00:00+07:00"},"events":[{"id":"ob","type":"opening_balance","at":"2026-02-01T00:00:00+07:00","points":500},{"id":"fix", "type":"adjust", "at":"2026-02-15T09:00:00+07:00", "points":-100, "reason":"double entry"}],"phone":"0903 000 002","cards":["N-1"],"name":"Lê Văn Bình"}"#;

#[tokio::test]
async fn member_ndjson_conflicts_and_rejections_are_reported() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        let body = [
            N1,
            // m-001 exists (opening balance 300, silver) with another history.
            r#"{"member":{"id":"m-001","status":"active","joined_at":"2026-01-01T00:00:00+07:00"},"events":[{"id":"ob","type":"opening_balance","at":"2026-01-01T00:00:00+07:00","points":999}]}"#,
            "not a member",
            // m-001's phone: stored without it.
            r#"{"member":{"id":"n-2","status":"active","joined_at":"2026-01-01T00:00:00+07:00"},"events":[{"id":"ob","type":"opening_balance","at":"2026-01-01T00:00:00+07:00","points":100}],"phone":"+84903000001"}"#,
            // A refund of an order it never had: does not replay.
            r#"{"member":{"id":"n-3","status":"active","joined_at":"2026-01-01T00:00:00+07:00"},"events":[{"id":"r1","type":"refund","at":"2026-02-01T00:00:00+07:00","order_id":"nope"}]}"#,
            "",
            N1,
        ]
        .join("\n");
        let job = ndjson_done(&a, &body, b).await;
        let id = job["id"].as_str().unwrap().to_string();
        assert_eq!(
            job["counts"],
            json!({ "members_read": 6, "members_created": 2, "members_unchanged": 1,
                    "members_conflicting": 1, "members_rejected": 2, "events_written": 3,
                    "cards_written": 1, "conflicts": 2 }),
            "{b:?}"
        );
        assert_eq!(job["progress"]["bytes_read"], body.len() as i64);
        assert_eq!(job["summary"], Value::Null);
        // 500 − 100; the phone and card find n-1; n-2 has no phone.
        assert_eq!(
            member(&a, "n-1").await,
            (400, "member".into(), "active".into())
        );
        assert_eq!(member(&a, "n-2").await.0, 100);
        let key = s.till_key("hcm-01-t1").await;
        let (st, m) = s.get("/v1/members/lookup?phone=0903000002", &key).await;
        assert_eq!((st, m["id"].as_str()), (200, Some("n-1")), "{m}");
        let (st, m) = s.get("/v1/members/lookup?card=N-1", &key).await;
        assert_eq!((st, m["id"].as_str()), (200, Some("n-1")), "{m}");
        assert_eq!(m["phone"], "+84903000002");
        let (_, m) = a.get("/v1/members/n-2").await;
        assert_eq!(m["member_id"], "n-2");
        let (_, m) = s.get("/v1/members/lookup?phone=0903000001", &key).await;
        assert_eq!(m["id"], "m-001", "m-001 keeps its phone");
        // m-001 untouched: silver, 300.
        assert_eq!(
            member(&a, "m-001").await,
            (300, "silver".into(), "active".into())
        );

        let r = report(&a, &id).await;
        let conflicts: Vec<(String, u64)> = r["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["member_id"].as_str().unwrap().to_string(),
                    c["line"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            conflicts,
            [("m-001".to_string(), 2), ("n-2".to_string(), 4)]
        );
        assert!(r["conflicts"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("event 1 differs"));
        assert!(r["conflicts"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("already belongs to member m-001"));
        let rejected = r["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), 2, "{rejected:?}");
        assert_eq!(
            (
                rejected[0]["line"].as_u64(),
                rejected[0]["member_id"].clone()
            ),
            (Some(3), Value::Null)
        );
        assert!(rejected[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("not a member line"));
        assert_eq!(
            (
                rejected[1]["line"].as_u64(),
                rejected[1]["member_id"].as_str()
            ),
            (Some(5), Some("n-3"))
        );
        assert!(
            rejected[1]["reason"]
                .as_str()
                .unwrap()
                .contains("does not replay"),
            "{}",
            rejected[1]
        );
        assert_eq!(r["report"], Value::Null);

        let check = loyalty_server::ops::check(&s.app().db).await.unwrap();
        assert_eq!(check.members, 3);
        assert_eq!(imported_differences(&check), 0, "{:?}", check.differences);

        // Again: nothing new.
        let events = count(&s, "SELECT CAST(COUNT(*) AS BIGINT) FROM events").await;
        let (_, job2) = post_ndjson(&a, &body).await;
        let job2 = wait(&a, job2["id"].as_str().unwrap()).await;
        assert_eq!(
            (
                &job2["counts"]["members_created"],
                &job2["counts"]["members_unchanged"],
                &job2["counts"]["members_conflicting"],
                &job2["counts"]["members_rejected"]
            ),
            (&json!(0), &json!(3), &json!(1), &json!(2)),
            "{job2}"
        );
        assert_eq!(
            count(&s, "SELECT CAST(COUNT(*) AS BIGINT) FROM events").await,
            events
        );
        s.stop().await;
    }
}

/// A member the database refuses (here a trigger: on a real programme a constraint the
/// importer's own checks did not foresee) fails its batch's transaction; that transaction ends
/// before the batch's members are stored one at a time, so the others are stored and the
/// refused one alone is rejected — on SQLite the failed transaction used to keep the one
/// writer connection, and the job failed with "pool timed out".
#[tokio::test]
async fn a_member_the_database_refuses_is_rejected_alone() {
    let line = |id: &str| {
        format!(
            "{{\"member\":{{\"id\":\"{id}\",\"status\":\"active\",\"joined_at\":\"2026-01-01T00:00:00+07:00\"}},\"events\":[{{\"id\":\"ob\",\"type\":\"opening_balance\",\"at\":\"2026-02-01T00:00:00+07:00\",\"points\":50}}]}}\n"
        )
    };
    let body: String = ["r-1", "r-2", "r-bad", "r-3", "r-4"]
        .iter()
        .map(|id| line(id))
        .collect();
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        let refuse: &[&str] = match b {
            Backend::Sqlite => &["CREATE TRIGGER refuse BEFORE INSERT ON members \
                 WHEN NEW.id = 'r-bad' BEGIN SELECT RAISE(ABORT, 'refused'); END"],
            Backend::Postgres => &[
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
                 IF NEW.id = 'r-bad' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; \
                 END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER refuse BEFORE INSERT ON members FOR EACH ROW \
                 EXECUTE FUNCTION refuse()",
            ],
        };
        for sql in refuse {
            sqlx::query(*sql).execute(&s.app().db.write).await.unwrap();
        }
        let job = ndjson_done(&a, &body, b).await;
        let id = job["id"].as_str().unwrap().to_string();
        assert_eq!(
            job["counts"],
            json!({ "members_read": 5, "members_created": 4, "members_unchanged": 0,
                    "members_conflicting": 0, "members_rejected": 1, "events_written": 4,
                    "cards_written": 0, "conflicts": 0 }),
            "{b:?}"
        );
        assert_eq!(
            count(
                &s,
                "SELECT CAST(COUNT(*) AS BIGINT) FROM members WHERE id LIKE 'r-%'"
            )
            .await,
            4
        );
        let r = report(&a, &id).await;
        let rejected = r["rejected"].as_array().expect("rejected members");
        assert_eq!(rejected.len(), 1, "{r}");
        assert_eq!(rejected[0]["member_id"], "r-bad");
        assert!(
            rejected[0]["reason"]
                .as_str()
                .unwrap()
                .starts_with("the database refused the member"),
            "{r}"
        );
        for m in ["r-1", "r-2", "r-3", "r-4"] {
            assert_eq!(member(&a, m).await.0, 50, "{b:?} {m}");
        }
        let check = loyalty_server::ops::check(&s.app().db).await.unwrap();
        assert_eq!(check.members, 5, "m-001 and the four");
        assert_eq!(imported_differences(&check), 0, "{:?}", check.differences);
        s.stop().await;
    }
}

/// A job larger than a batch (`BATCH_MEMBERS`): every batch is stored — with the WAL copied
/// back after each on SQLite — and counted once; the second run finds every member unchanged.
#[tokio::test]
async fn a_job_of_several_batches_stores_every_member_once() {
    let n = 2 * loyalty_server::import::BATCH_MEMBERS + 7;
    // Member i holds 10 + i mod 90 points: the total is known without the server.
    let points = |i: usize| 10 + (i % 90) as i64;
    let body: String = (0..n)
        .map(|i| {
            format!(
                "{{\"member\":{{\"id\":\"b-{i}\",\"status\":\"active\",\"joined_at\":\"2026-01-01T00:00:00+07:00\"}},\"events\":[{{\"id\":\"ob\",\"type\":\"opening_balance\",\"at\":\"2026-02-01T00:00:00+07:00\",\"points\":{}}}]}}\n",
                points(i)
            )
        })
        .collect();
    let total: i64 = (0..n).map(points).sum();
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        let before = count(&s, "SELECT COUNT(*) FROM members").await;
        for run in 0..2 {
            let job = ndjson_done(&a, &body, b).await;
            let (created, unchanged, events) = if run == 0 { (n, 0, n) } else { (0, n, 0) };
            assert_eq!(
                job["counts"],
                json!({ "members_read": n, "members_created": created,
                        "members_unchanged": unchanged, "members_conflicting": 0,
                        "members_rejected": 0, "events_written": events, "cards_written": 0,
                        "conflicts": 0 }),
                "{b:?}, run {run}"
            );
            assert_eq!(
                count(&s, "SELECT COUNT(*) FROM members").await,
                before + n as i64
            );
            assert_eq!(
                count(&s, "SELECT COUNT(*) FROM events WHERE member_id LIKE 'b-%'").await,
                n as i64
            );
            assert_eq!(
                count(
                    &s,
                    "SELECT CAST(SUM(cached_available) AS BIGINT) FROM members WHERE id LIKE 'b-%'"
                )
                .await,
                total,
                "{b:?}"
            );
        }
        assert_eq!(member(&a, &format!("b-{}", n - 1)).await.0, points(n - 1));
        let check = loyalty_server::ops::check(&s.app().db).await.unwrap();
        assert_eq!(imported_differences(&check), 0, "{:?}", check.differences);
    }
}

/// `loyalty serve import` into a database no server has started on: the job marks the report
/// tables built while the database is empty, so the first server start keeps the rows the
/// import wrote instead of throwing them away and recomputing every member's (a row planted
/// after the import survives the start; `check` still finds every figure).
#[tokio::test]
async fn a_server_started_after_an_import_keeps_its_report_rows() {
    use loyalty_server::import::{self, Job, Source};
    use sqlx::Row;
    for b in backends() {
        let url = fresh_db(b).await;
        let db = loyalty_server::storage::Db::open(&url).await.unwrap();
        let policy = spec_policy().to_string();
        import::publish_first_policy(&db, &policy, 1, "cli")
            .await
            .unwrap();
        let dir =
            std::env::temp_dir().join(format!("le-import-built-{}-{b:?}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("members.ndjson");
        std::fs::write(
            &file,
            r#"{"member":{"id":"i-1","status":"active","joined_at":"2026-01-01T00:00:00+07:00"},"events":[{"id":"ob","type":"opening_balance","at":"2026-02-01T00:00:00+07:00","points":500}]}"#,
        )
        .unwrap();
        let id = import::new_id(2);
        let job = Job {
            id: id.clone(),
            source: Source::Ndjson { file },
            work_dir: dir.join("work"),
            memory_budget: import::DEFAULT_MEMORY,
        };
        import::create(&db, &job, "cli", 2).await.unwrap();
        import::run(db.clone(), loyalty_server::Clock::System, job)
            .await
            .unwrap();
        let n = |sql: &'static str| {
            let db = db.clone();
            async move {
                sqlx::query(sql)
                    .fetch_one(&db.read)
                    .await
                    .unwrap()
                    .get::<i64, _>(0)
            }
        };
        let status = {
            let mut c = db.read.acquire().await.unwrap();
            import::status(&mut c, &id).await.unwrap()
        };
        assert_eq!(
            status.as_ref().map(|s| &s["counts"]["members_created"]),
            Some(&json!(1)),
            "{b:?}: {status:?}"
        );
        assert_eq!(n("SELECT COUNT(*) FROM rpt_members").await, 1, "{b:?}");
        sqlx::query("INSERT INTO rpt_meta (key, value) VALUES ('planted', '1')")
            .execute(&db.write)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO rpt_members (member_id, as_of, card_type, cards) VALUES ('planted', 0, '', '[]')",
        )
        .execute(&db.write)
        .await
        .unwrap();
        db.close().await;
        let s = TestServer::on(b, &url).await;
        let db = s.app().db.clone();
        let planted = sqlx::query("SELECT COUNT(*) FROM rpt_members WHERE member_id = 'planted'")
            .fetch_one(&db.read)
            .await
            .unwrap()
            .get::<i64, _>(0);
        assert_eq!(
            planted, 1,
            "{b:?}: the server start rebuilt the report tables"
        );
        sqlx::query("DELETE FROM rpt_members WHERE member_id = 'planted'")
            .execute(&db.write)
            .await
            .unwrap();
        let check = loyalty_server::ops::check(&db).await.unwrap();
        assert_eq!(check.differences, Vec::<Value>::new(), "{b:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Imported purchases name no store and no channel (a POS export often has neither): they are
/// sales all the same (docs/reports.md) and count in the revenue report — under store "" and
/// channel "" — while an adjustment of the same day, which also has neither, does not.
#[tokio::test]
async fn imported_purchases_without_a_store_count_as_sales() {
    let line = r#"{"member":{"id":"h-1","status":"active","joined_at":"2026-01-05T00:00:00+07:00"},"events":[
        {"id":"HD1","type":"purchase","at":"2026-02-03T10:00:00+07:00","earn":false,"cart":{"lines":[{"id":"1","sku":"A","category":"shoes","quantity":2,"unit_price":"150000"}]}},
        {"id":"HD2","type":"purchase","at":"2026-02-10T18:30:00+07:00","earn":false,"cart":{"lines":[{"id":"1","sku":"B","category":"bags","quantity":1,"unit_price":"1200000"}]}},
        {"id":"fix","type":"adjust","at":"2026-02-10T19:00:00+07:00","points":40,"reason":"migration"}]}"#
        .replace('\n', "");
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        let (st, job) = post_ndjson(&a, &line).await;
        assert_eq!(st, 202, "{b:?}: {job}");
        let job = wait(&a, job["id"].as_str().unwrap()).await;
        assert_eq!(job["counts"]["members_created"], 1, "{b:?}: {job}");
        let (st, r) = a
            .get("/v1/reports/revenue?from=2026-02-01&to=2026-02-28&group=month")
            .await;
        assert_eq!(st, 200, "{r}");
        // 2 × 150,000 + 1,200,000; the member tier gives no discount; nothing redeemed.
        assert_eq!(r["totals"]["orders"], 2, "{b:?}: {r}");
        assert_eq!(r["totals"]["gross_sales"], "1500000", "{b:?}: {r}");
        assert_eq!(r["totals"]["sales"], "1500000", "{b:?}");
        assert_eq!(r["totals"]["average_basket"], "750000", "{b:?}");
        assert_eq!(r["totals"]["points_redeemed"], 0, "{b:?}");
        assert_eq!(r["by_store"][0]["store"], "", "{b:?}: {r}");
        assert_eq!(r["by_store"][0]["orders"], 2, "{b:?}");
        assert_eq!(r["by_channel"][0]["channel"], "", "{b:?}");
        assert_eq!(r["by_period"][0]["gross_sales"], "1500000", "{b:?}");
        // The adjustment is in the points report, not an order.
        let (_, p) = a
            .get("/v1/reports/points?from=2026-02-01&to=2026-02-28&group=month")
            .await;
        assert_eq!(p["by_period"][0]["adjusted"], 40, "{b:?}: {p}");
    }
}

#[tokio::test]
async fn uploads_are_admin_only_and_checked() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        let key = s.till_key("hcm-01-t1").await;
        let (st, body) = s.post_text("/v1/imports", &key, None, N1).await;
        assert_eq!(
            (st, error_code(&body).as_str()),
            (403, "forbidden"),
            "{body}"
        );
        let (st, _) = s.get("/v1/imports", &key).await;
        assert_eq!(st, 403);
        let (st, e) = a.get("/v1/imports/imp-nope").await;
        assert_eq!((st, e["error"]["code"].as_str()), (404, Some("not_found")));
        let (st, e) = a.get("/v1/imports/imp-nope/report").await;
        assert_eq!(st, 404, "{e}");
        // Plain JSON is not an upload.
        let (st, e) = a.post_text("/v1/imports", N1).await;
        assert_eq!((st, e["error"]["path"].as_str()), (400, Some("")), "{e}");
        // A mapping whose file is missing; a mapping with an unknown field.
        let mapping = std::fs::read_to_string(fixture("vn-fashion", "mapping.json")).unwrap();
        let (st, e) = post_form(&a, exports_form(&mapping, &VN_FILES[..4])).await;
        assert_eq!(st, 400, "{e}");
        assert_eq!(e["error"]["path"], "mapping.files[4].file", "{e}");
        let bad = mapping.replacen("\"earn\": false", "\"earn\": false, \"colour\": 1", 1);
        let (st, e) = post_form(&a, exports_form(&bad, &VN_FILES)).await;
        assert_eq!(st, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("unknown field `colour`"),
            "{e}"
        );
        // A mapping the engine refuses: the job fails, with the reason, and writes nothing.
        let zone = mapping.replacen("Asia/Ho_Chi_Minh", "Mars/Olympus", 1);
        let (st, job) = post_form(&a, exports_form(&zone, &VN_FILES)).await;
        assert_eq!(st, 202, "{job}");
        let job = wait(&a, job["id"].as_str().unwrap()).await;
        assert_eq!(job["state"], "failed");
        assert!(
            job["error"].as_str().unwrap().contains("unknown time_zone"),
            "{job}"
        );
        assert_eq!(job["counts"]["members_created"], 0);
        let (st, e) = a
            .get(&format!(
                "/v1/imports/{}/report",
                job["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (409, Some("invalid_state"))
        );
        // The routes are in the OpenAPI document.
        let (_, doc) = a.get("/v1/openapi.json").await;
        for p in ["/v1/imports", "/v1/imports/{id}", "/v1/imports/{id}/report"] {
            assert!(doc["paths"].get(p).is_some(), "{p}");
        }
        s.stop().await;
    }
}

/// A job row of an NDJSON import (for the tests that plant stopped and running jobs).
fn ndjson_job(id: &str) -> loyalty_server::import::Job {
    loyalty_server::import::Job {
        id: id.to_string(),
        source: loyalty_server::import::Source::Ndjson {
            file: "members.ndjson".into(),
        },
        work_dir: std::env::temp_dir(),
        memory_budget: loyalty_server::import::DEFAULT_MEMORY,
    }
}

/// An import adds its members' report cells once, when it ends (`reports::deferred`): after
/// the job no marker is left and `check` finds every cell. A job that stopped (its heartbeat
/// a minute old) leaves its marker: `check` says so, a recount waits while another job still
/// runs, and the next start counts every cell again from the stored rows.
#[tokio::test]
async fn an_import_adds_its_cells_at_its_end_and_a_stopped_one_is_counted_again() {
    use loyalty_server::import;
    use loyalty_server::reports::deferred;
    for b in backends() {
        let s = TestServer::start(b).await;
        import_vn_fashion(&s).await;
        let pending = "SELECT COUNT(*) FROM rpt_meta WHERE key LIKE 'cells_pending:%'";
        assert_eq!(count(&s, pending).await, 0, "{b:?}");
        let purchases = "SELECT CAST(COALESCE(SUM(o), 0) AS BIGINT) FROM rpt_cells";
        let bought = count(&s, purchases).await;
        assert!(
            bought >= 2,
            "{b:?}: the imported purchases are in the cells ({bought})"
        );
        let db = s.app().db.clone();
        let check = loyalty_server::ops::check(&db).await.unwrap();
        assert_eq!(
            imported_differences(&check),
            0,
            "{b:?}: {:?}",
            check.differences
        );

        // Two jobs that stopped after writing their batches, before adding their cells; one
        // other still running (a fresh heartbeat).
        let (dead, running) = (import::new_id(10), import::new_id(11));
        for id in [&dead, &running] {
            import::create(&db, &ndjson_job(id), "test", 10)
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO rpt_meta (key, value) VALUES ('cells_pending:{id}', '1')"
            )))
            .execute(&db.write)
            .await
            .unwrap();
        }
        sqlx::query("UPDATE imports SET state = 'running', heartbeat_at = 0 WHERE id = $1")
            .bind(&dead)
            .execute(&db.write)
            .await
            .unwrap();
        sqlx::query("UPDATE imports SET state = 'running' WHERE id = $1")
            .bind(&running)
            .execute(&db.write)
            .await
            .unwrap();
        sqlx::query("DELETE FROM rpt_cells")
            .execute(&db.write)
            .await
            .unwrap();
        let check = loyalty_server::ops::check(&db).await.unwrap();
        let said: Vec<&Value> = check
            .differences
            .iter()
            .filter(|d| d.get("import").is_some())
            .collect();
        assert_eq!(said.len(), 2, "{b:?}: {:?}", check.differences);
        assert!(
            imported_differences(&check) > 2,
            "{b:?}: the missing cells are differences: {:?}",
            check.differences
        );
        // Not while a job runs: it adds its own cells at its end, a recount now would count
        // the members of its committed batches twice.
        assert_eq!(deferred::recover(&db).await.unwrap(), 0, "{b:?}");
        assert_eq!(count(&s, purchases).await, 0, "{b:?}");
        assert_eq!(count(&s, pending).await, 2, "{b:?}");
        // That job stops too (`mark_interrupted` fails both): the next start counts again.
        sqlx::query("UPDATE imports SET heartbeat_at = 0 WHERE id = $1")
            .bind(&running)
            .execute(&db.write)
            .await
            .unwrap();
        assert_eq!(import::mark_interrupted(&db, 20).await.unwrap(), 2, "{b:?}");
        loyalty_server::reports::store::ensure_built(&db, 20)
            .await
            .unwrap();
        assert_eq!(count(&s, pending).await, 0, "{b:?}");
        assert_eq!(count(&s, purchases).await, bought, "{b:?}");
        let check = loyalty_server::ops::check(&db).await.unwrap();
        assert_eq!(
            imported_differences(&check),
            0,
            "{b:?}: {:?}",
            check.differences
        );
    }
}

/// An import of at least `import_indexes_at` members (and of at least as many as are stored)
/// drops `rpt_flows`' secondary indexes before its first batch and builds them before it is
/// `done` (`reports::indexes`): afterwards they are the migrations' own, the audit says both,
/// and the figures check. A second run (fewer members than are stored) keeps them. A job that
/// stopped without building them leaves its marker: nothing is built while another job that
/// dropped them runs, and the next start builds them.
#[tokio::test]
async fn a_large_import_builds_the_report_indexes_at_its_end_and_a_stopped_one_at_the_next_start() {
    use loyalty_server::import;
    use loyalty_server::reports::indexes;
    for b in backends() {
        let s = TestServer::start(b).await;
        let db = s.app().db.clone();
        let migrated = flow_indexes(&s.app().db, b).await;
        let names: Vec<&str> = migrated.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "rpt_flows_day",
                "rpt_flows_other_status",
                "rpt_flows_store",
                "rpt_flows_tier"
            ],
            "{b:?}"
        );
        let a = s.admin().await;
        let key = indexes::AT_LEAST_SETTING;
        for bad in ["-1", "many", "1.5"] {
            let (st, err) = a
                .put("/v1/settings", &json!({ "key": key, "value": bad }))
                .await;
            assert_eq!(
                (st, err["error"]["path"].as_str()),
                (400, Some("value")),
                "{b:?}: {bad}: {err}"
            );
        }
        let (st, _) = a
            .put("/v1/settings", &json!({ "key": key, "value": "1" }))
            .await;
        assert_eq!(st, 200, "{b:?}");
        let audited = |action: &str| {
            format!("SELECT COUNT(*) FROM audit WHERE action = 'import.indexes_{action}'")
        };
        let (_, job) = import_vn_fashion(&s).await;
        let id = job["id"].as_str().unwrap();
        for action in ["dropped", "built"] {
            let one = format!("{} AND target = '{id}'", audited(action));
            assert_eq!(count(&s, &one).await, 1, "{b:?}: {action}");
        }
        assert_eq!(flow_indexes(&s.app().db, b).await, migrated, "{b:?}");
        let markers = "SELECT COUNT(*) FROM rpt_meta WHERE key LIKE 'indexes_dropped:%'";
        assert_eq!(count(&s, markers).await, 0, "{b:?}");
        let check = loyalty_server::ops::check(&db).await.unwrap();
        assert_eq!(
            imported_differences(&check),
            0,
            "{b:?}: {:?}",
            check.differences
        );
        // Again: as many members as the import's are stored now.
        import_vn_fashion(&s).await;
        assert_eq!(count(&s, &audited("dropped")).await, 1, "{b:?}");

        // A job that dropped them and stopped, and one that dropped them and still runs.
        let (dead, running) = (import::new_id(10), import::new_id(11));
        for id in [&dead, &running] {
            import::create(&db, &ndjson_job(id), "test", 10)
                .await
                .unwrap();
            indexes::drop_for(&db, id, 10).await.unwrap();
        }
        sqlx::query("UPDATE imports SET state = 'running', heartbeat_at = 0 WHERE id = $1")
            .bind(&dead)
            .execute(&db.write)
            .await
            .unwrap();
        sqlx::query("UPDATE imports SET state = 'running', heartbeat_at = $2 WHERE id = $1")
            .bind(&running)
            .bind(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis() as i64,
            )
            .execute(&db.write)
            .await
            .unwrap();
        assert!(flow_indexes(&s.app().db, b).await.is_empty(), "{b:?}");
        assert_eq!(indexes::recover(&db, 20).await.unwrap(), 0, "{b:?}");
        assert!(flow_indexes(&s.app().db, b).await.is_empty(), "{b:?}");
        assert_eq!(count(&s, markers).await, 2, "{b:?}");
        // That job stops too: the next start builds them, once.
        sqlx::query("UPDATE imports SET heartbeat_at = 0 WHERE id = $1")
            .bind(&running)
            .execute(&db.write)
            .await
            .unwrap();
        assert_eq!(import::mark_interrupted(&db, 20).await.unwrap(), 2, "{b:?}");
        loyalty_server::reports::store::ensure_built(&db, 20)
            .await
            .unwrap();
        assert_eq!(flow_indexes(&s.app().db, b).await, migrated, "{b:?}");
        assert_eq!(count(&s, markers).await, 0, "{b:?}");
        assert_eq!(count(&s, &audited("built")).await, 3, "{b:?}");
        assert_eq!(indexes::recover(&db, 30).await.unwrap(), 0, "{b:?}");
        s.stop().await;
    }
}
