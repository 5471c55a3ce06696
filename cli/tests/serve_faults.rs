//! Fault tests of `loyalty serve` as a process (SPEC §8.5, issue 13): bookings from concurrent
//! tills with retries under the same keys, the server killed with SIGKILL mid-run and restarted,
//! and — on PostgreSQL — the same work spread over two server processes on one database.
//!
//! After the run: every order answered 201 is booked exactly once (one purchase event, whose
//! replayed figures are the till's quote), every retry got the first answer byte for byte,
//! `loyalty serve check` finds every cached balance equal to its replay, and the sum of all
//! balances equals opening + earned − clawed back ± adjustments − redeemed − expired.
//!
//! Sized by `LOYALTY_FAULT_ORDERS` (default 1,200 per run; the benchmark runs more) and
//! `LOYALTY_FAULT_TILLS` (default 6). PostgreSQL runs when `LOYALTY_TEST_PG` names a cluster
//! (scripts/test.sh starts one).

use loyalty_engine::Engine;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_loyalty");

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts `loyalty serve` on a free port; returns once it listens.
    fn start(db: &str, data_dir: &Path, demo: bool) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--worker-interval-ms",
            "200",
            "--demo-members",
            "40",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .env("LOYALTY_DB_URL", db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        if demo {
            cmd.arg("--demo");
        }
        let mut child = cmd.spawn().expect("spawn loyalty serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(rest) = line.strip_prefix("loyalty serve: listening on ") {
                        let _ = tx.send(rest.trim().to_string());
                        sent = true;
                    } else if line.starts_with("loyalty serve:") {
                        let _ = tx.send(format!("ERR {line}"));
                        sent = true;
                    }
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("server start");
        assert!(!base.starts_with("ERR"), "{base}");
        Server { child, base }
    }

    fn kill9(&mut self) {
        // SIGKILL: no shutdown, no flush — what a power cut does to the process.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    /// A failing test leaves no server running (after `stop` the child has exited already).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn credentials(data_dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(data_dir.join("demo-credentials"))
        .unwrap()
        .lines()
        .filter_map(|l| {
            l.split_once(": ")
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("loyalty-faults-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn pg_database(name: &str) -> Option<String> {
    let admin = std::env::var("LOYALTY_TEST_PG").ok()?;
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(&admin).await.unwrap();
    let db = format!("faults_{}_{name}", std::process::id());
    c.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}")))
        .await
        .unwrap();
    c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .await
        .unwrap();
    Some(format!("{}/{db}", admin.rsplit_once('/').unwrap().0))
}

struct Shared {
    /// Where the tills send: one base per server process (rewritten on restart).
    bases: Mutex<Vec<String>>,
    /// Every 201 order answer by idempotency key: the first body seen.
    answers: Mutex<BTreeMap<String, String>>,
    policy: String,
}

fn now_text() -> String {
    chrono_like_now()
}

/// The system clock as RFC 3339 (+00:00); the server reads the same clock.
fn chrono_like_now() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    loyalty_server::clock::rfc3339(ms - ms % 1000)
}

/// One till's loop: `orders` sales, a share retried under the same key.
async fn till(
    shared: Arc<Shared>,
    key: String,
    store: String,
    till_no: usize,
    orders: usize,
    members: usize,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let engine = Engine::from_json(&shared.policy).unwrap();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ (till_no as u64 + 1);
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let mut done = 0;
    let mut attempt = 0;
    while done < orders {
        attempt += 1;
        assert!(
            attempt < orders * 20,
            "till {till_no} is not making progress"
        );
        let base = {
            let b = shared.bases.lock().unwrap();
            b[till_no % b.len()].clone()
        };
        let card = loyalty_server::demo::card_number(next(members as u64));
        let r = match http
            .get(format!("{base}/v1/members/lookup?card={card}"))
            .bearer_auth(&key)
            .send()
            .await
        {
            Ok(r) => r,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if r.status() != 200 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let m: Value = r.json().await.unwrap();
        let snap = m["snapshot"].clone();
        let points = snap["points"].as_i64().unwrap_or(0).max(0);
        let redeem = if snap["status"] == "active" && points >= 10 && next(3) == 0 {
            json!(next(points as u64 / 2 + 1) as i64)
        } else {
            json!(0)
        };
        let doc = format!("T{till_no}-{done}-{attempt}");
        let cart = json!({ "id": doc, "at": now_text(), "store": store, "channel": "pos",
            "lines": [{ "id": "A", "sku": "TEE-01", "category": "apparel", "quantity": 1 + next(3), "unit_price": format!("{}", 100_000 + 10_000 * next(40)) },
                      { "id": "B", "sku": "RUN-42", "category": "shoes", "quantity": 1, "unit_price": "1200000" }] });
        let req = json!({ "member": snap, "cart": cart, "redeem_points": redeem });
        let q = engine.quote_json(&req.to_string());
        if q.starts_with("{\"error\":") {
            continue; // e.g. below the minimum: the till would not send it
        }
        let body = format!(
            r#"{{"document_no":"{doc}","card":"{card}","quote_request":{req},"quote":{q},"confirm":true}}"#
        );
        let idem = format!("till{till_no}-{done}-{attempt}");
        // Send until answered; a share of the answered ones is sent again (lost answers).
        let mut first: Option<(u16, String)> = None;
        let repeats = if next(4) == 0 { 2 } else { 0 };
        let mut sends = 0;
        while sends <= repeats {
            let base = {
                let b = shared.bases.lock().unwrap();
                b[(till_no + sends) % b.len()].clone()
            };
            let r = http
                .post(format!("{base}/v1/orders"))
                .bearer_auth(&key)
                .header("Idempotency-Key", &idem)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            let (st, text) = match r {
                Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
                Err(_) => {
                    // The server is down (killed): retry the same key after it comes back.
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    continue;
                }
            };
            assert_ne!(st, 500, "{text}");
            match &first {
                None => first = Some((st, text)),
                Some((s0, t0)) => assert_eq!(
                    (&st, &text),
                    (s0, t0),
                    "a retry under {idem} got another answer"
                ),
            }
            sends += 1;
        }
        let (st, text) = first.unwrap();
        match st {
            201 => {
                shared.answers.lock().unwrap().insert(idem, text);
                done += 1;
            }
            409 => {} // insufficient_points / quote_mismatch after a concurrent sale: re-quote
            other => panic!("unexpected {other}: {text}"),
        }
    }
}

async fn run(db: String, name: &str, processes: usize) {
    // reqwest is built with rustls and no provider of its own (server/src/workers.rs).
    loyalty_server::workers::init_tls();
    let orders = env_usize("LOYALTY_FAULT_ORDERS", 1_200);
    let tills = env_usize("LOYALTY_FAULT_TILLS", 6);
    let dir = tmp_dir(name);
    let mut servers = vec![Server::start(&db, &dir, true)];
    for _ in 1..processes {
        servers.push(Server::start(&db, &dir, false));
    }
    let creds = credentials(&dir);
    let base = servers[0].base.clone();
    // An admin makes a key for each demo till (one per store).
    let admin = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = admin
        .post(format!("{base}/v1/admin/login"))
        .json(&json!({ "user": creds["admin user"], "password": creds["admin password"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let stores = ["hcm-01", "hcm-02", "hcm-03", "hn-01", "hn-02", "dn-01"];
    let mut keys: Vec<(String, String)> = Vec::new();
    for i in 0..tills {
        let store = stores[i % stores.len()];
        let key = if i < stores.len() {
            let r = admin
                .post(format!("{base}/v1/tills/{store}-t1/keys"))
                .header("X-CSRF-Token", &csrf)
                .send()
                .await
                .unwrap();
            let v: Value = r.json().await.unwrap();
            v["key"]
                .as_str()
                .unwrap_or_else(|| panic!("{v}"))
                .to_string()
        } else {
            keys[i % stores.len()].0.clone()
        };
        keys.push((key, store.to_string()));
    }
    let policy = {
        let r = reqwest::Client::new()
            .get(format!("{base}/v1/policies/active"))
            .bearer_auth(&keys[0].0)
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()["policy"].to_string()
    };
    let shared = Arc::new(Shared {
        bases: Mutex::new(servers.iter().map(|s| s.base.clone()).collect()),
        answers: Mutex::new(BTreeMap::new()),
        policy,
    });
    let per_till = orders.div_ceil(tills);
    let mut tasks = Vec::new();
    for (i, (key, store)) in keys.iter().enumerate() {
        tasks.push(tokio::spawn(till(
            shared.clone(),
            key.clone(),
            store.clone(),
            i,
            per_till,
            40,
        )));
    }
    // Kill the first server with SIGKILL twice while the tills sell, restarting it each time.
    for round in 0..2 {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            // A till that stopped (done, or failed on an answer: a 500, another answer to a
            // retry) ends the wait: its failure is reported below rather than waited on forever.
            if shared.answers.lock().unwrap().len() >= per_till * tills * (round + 1) / 3
                || tasks.iter().any(|t| t.is_finished())
            {
                break;
            }
        }
        servers[0].kill9();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let s = Server::start(&db, &dir, false);
        shared.bases.lock().unwrap()[0] = s.base.clone();
        servers[0] = s;
    }
    for t in tasks {
        t.await.unwrap();
    }
    let answers = shared.answers.lock().unwrap().clone();
    assert_eq!(answers.len(), per_till * tills);

    // Every answered order is booked once, with the quote's figures.
    let key0 = &keys[0].0;
    let http = reqwest::Client::new();
    let mut by_member: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for text in answers.values() {
        let a: Value = serde_json::from_str(text).unwrap();
        assert_eq!(a["state"], "booked");
        assert!(
            ids.insert(a["order_id"].as_str().unwrap().to_string()),
            "one order id answered twice"
        );
        by_member
            .entry(a["member"]["id"].as_str().unwrap().to_string())
            .or_default()
            .push(a);
    }
    let mut total_balance = 0i64;
    let mut total_flow = 0i64;
    for i in 0..40 {
        let card = loyalty_server::demo::card_number(i);
        let m: Value = http
            .get(format!("{}/v1/members/lookup?card={card}", servers[0].base))
            .bearer_auth(key0)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = m["id"].as_str().unwrap().to_string();
        let r: Value = http
            .get(format!("{}/v1/members/{id}", servers[0].base))
            .bearer_auth(key0)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let hist = r["history"].as_array().unwrap();
        for a in by_member.get(&id).map(Vec::as_slice).unwrap_or_default() {
            let oid = a["order_id"].as_str().unwrap();
            let rows: Vec<&Value> = hist.iter().filter(|h| h["event_id"] == oid).collect();
            assert_eq!(rows.len(), 1, "order {oid} booked {} times", rows.len());
            let q = &a["quote"];
            assert!(q["earned_points"].is_i64(), "{a}");
            assert_eq!(
                rows[0]["points_delta"].as_i64().unwrap(),
                q["earned_points"].as_i64().unwrap() - q["redeemed_points"].as_i64().unwrap(),
                "{oid}"
            );
        }
        let booked_here = hist
            .iter()
            .filter(|h| {
                h["type"] == "purchase" && h["event_id"].as_str().unwrap().starts_with("o-")
            })
            .count();
        assert_eq!(
            booked_here,
            by_member.get(&id).map_or(0, Vec::len),
            "member {id}: purchases booked by the server that no till was answered for"
        );
        let p = &r["points"];
        total_balance += p["available"].as_i64().unwrap() + p["pending"].as_i64().unwrap();
        let t = &r["totals"];
        let opening: i64 = hist
            .iter()
            .filter(|h| h["type"] == "opening_balance")
            .map(|h| h["points_delta"].as_i64().unwrap())
            .sum();
        total_flow += opening + t["earned"].as_i64().unwrap() - t["clawed_back"].as_i64().unwrap()
            + t["adjusted"].as_i64().unwrap()
            - t["redeemed"].as_i64().unwrap()
            - t["expired"].as_i64().unwrap();
    }
    assert_eq!(
        total_balance, total_flow,
        "Σ balances = opening + earned − clawed back ± adjusted − redeemed − expired"
    );
    for s in servers {
        s.stop();
    }
    let out = Command::new(BIN)
        .args(["serve", "check"])
        .env("LOYALTY_DB_URL", &db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "serve check: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["differences"], json!([]));
    assert!(report["members"].as_u64().unwrap() >= 40);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_once_with_retries_and_kill9_on_sqlite() {
    let dir = tmp_dir("sqlite-db");
    run(
        format!("sqlite://{}/loyalty.db", dir.display()),
        "sqlite",
        1,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_once_on_two_processes_sharing_postgres() {
    if std::env::var("LOYALTY_TEST_PG_REQUIRED").is_ok_and(|v| v == "1") {
        assert!(
            std::env::var("LOYALTY_TEST_PG").is_ok(),
            "LOYALTY_TEST_PG is required"
        );
    }
    let Some(db) = pg_database("two").await else {
        return;
    };
    run(db, "pg", 2).await;
}

// ---- An import killed mid-job ----------------------------------------------------------------

/// `LOYALTY_FAULT_IMPORT` members (default 12,000: three batches), each joined on a day of 2025
/// with three purchases: the cells' sums are known by hand — Σ `o` = 3n (orders), Σ `l1` = 2n
/// (orders with one before), Σ `l2` = n, Σ `j` = n (members who joined).
fn import_members(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let m = 1 + i % 9;
        let d = 1 + i % 27;
        out.push_str(&format!(
            r#"{{"member":{{"id":"k-{i:06}","status":"active","joined_at":"2025-0{m}-{d:02}T09:00:00+07:00"}},"events":["#
        ));
        for (k, day) in [(1, d), (2, d + 1), (3, 28)] {
            out.push_str(&format!(
                r#"{}{{"id":"P{k}","type":"purchase","at":"2025-1{}-{day:02}T10:00:00+07:00","earn":false,"cart":{{"lines":[{{"id":"1","sku":"A","category":"shoes","quantity":1,"unit_price":"{}"}}]}}}}"#,
                if k == 1 { "" } else { "," },
                k - 1,
                100_000 + 1_000 * (i % 50)
            ));
        }
        out.push_str("]}\n");
    }
    out
}

async fn scalar(db: &loyalty_server::storage::Db, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&db.read)
        .await
        .unwrap()
        .get::<i64, _>(0)
}

/// `loyalty serve import` killed with SIGKILL after its first batch committed, before the job
/// added its report cells (they are added when a job ends): the marker it leaves makes `serve
/// check` say so; once the job's heartbeat is a minute old (set back here rather than waited
/// for), the same import run again counts the cells again from the stored rows and finishes the
/// job — every member once, the cells' sums as counted by hand, `serve check` clean.
async fn import_killed(url: String, name: &str) {
    let n = env_usize("LOYALTY_FAULT_IMPORT", 12_000);
    let dir = tmp_dir(&format!("import-{name}"));
    let file = dir.join("members.ndjson");
    std::fs::write(&file, import_members(n)).unwrap();
    let policy =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/vn-fashion-baseline.json");
    let import = |members: &Path| {
        let mut c = Command::new(BIN);
        c.args(["serve", "import", "--db", &url, "--data-dir"])
            .arg(&dir)
            .arg("--publish-policy")
            .arg(&policy)
            .arg("--members")
            .arg(members)
            .env_remove("LOYALTY_DB_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    };
    // The database and its programme first (an empty import), so that the test watches it
    // from before the job starts: opened during the job, SQLite's connection could wait for
    // the job's batches until the job was over.
    let empty = dir.join("empty.ndjson");
    std::fs::write(&empty, "").unwrap();
    let made = import(&empty).output().unwrap();
    assert_eq!(
        made.status.code(),
        Some(0),
        "{name}: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let db = loyalty_server::storage::Db::open_existing(&url)
        .await
        .unwrap();
    let mut child = import(&file).spawn().unwrap();
    // Until a batch is committed.
    let mut members = 0;
    for _ in 0..3000 {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        members = sqlx::query_scalar::<_, i64>("SELECT CAST(COUNT(*) AS BIGINT) FROM members")
            .fetch_one(&db.read)
            .await
            .unwrap_or(0);
        if members > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "{name}: the import ended before it was killed: set LOYALTY_FAULT_IMPORT above {n}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        members > 0 && (members as usize) < n,
        "{name}: {members} of {n} stored"
    );
    let members = scalar(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM members").await;
    assert!((members as usize) < n, "{name}: {members}");
    let pending = "SELECT CAST(COUNT(*) AS BIGINT) FROM rpt_meta WHERE key LIKE 'cells_pending:%'";
    assert_eq!(scalar(&db, pending).await, 1, "{name}");
    let o = "SELECT CAST(COALESCE(SUM(o), 0) AS BIGINT) FROM rpt_cells";
    assert_eq!(
        scalar(&db, o).await,
        0,
        "{name}: the killed job's cells wait for its end"
    );
    let check = Command::new(BIN)
        .args(["serve", "check", "--db", &url])
        .env_remove("LOYALTY_DB_URL")
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1), "{name}");
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert!(
        report["differences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["problem"]
                .as_str()
                .is_some_and(|p| p.contains("not added yet"))),
        "{name}: {report}"
    );
    // A minute later the job counts as stopped.
    sqlx::query("UPDATE imports SET heartbeat_at = heartbeat_at - 61000")
        .execute(&db.write)
        .await
        .unwrap();
    let again = import(&file).output().unwrap();
    let job: Value = serde_json::from_slice(&again.stdout)
        .unwrap_or_else(|e| panic!("{name}: {e}: {}", String::from_utf8_lossy(&again.stderr)));
    assert_eq!(job["state"], "done", "{name}: {job}");
    assert_eq!(
        (
            job["counts"]["members_created"].as_i64(),
            job["counts"]["members_unchanged"].as_i64()
        ),
        (Some(n as i64 - members), Some(members)),
        "{name}: {job}"
    );
    assert_eq!(scalar(&db, pending).await, 0, "{name}");
    let n = n as i64;
    assert_eq!(
        scalar(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM members").await,
        n
    );
    assert_eq!(
        scalar(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM events").await,
        3 * n
    );
    for (kind, sum) in [("o", 3 * n), ("l1", 2 * n), ("l2", n), ("j", n)] {
        let sql = format!("SELECT CAST(COALESCE(SUM({kind}), 0) AS BIGINT) FROM rpt_cells");
        assert_eq!(scalar(&db, &sql).await, sum, "{name}: Σ {kind}");
    }
    db.close().await;
    let check = Command::new(BIN)
        .args(["serve", "check", "--db", &url])
        .env_remove("LOYALTY_DB_URL")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(report["differences"], json!([]), "{name}");
    assert_eq!(check.status.code(), Some(0), "{name}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_mid_job_on_sqlite() {
    let dir = tmp_dir("import-sqlite-db");
    import_killed(format!("sqlite://{}/loyalty.db", dir.display()), "sqlite").await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_mid_job_on_postgres() {
    if std::env::var("LOYALTY_TEST_PG_REQUIRED").is_ok_and(|v| v == "1") {
        assert!(
            std::env::var("LOYALTY_TEST_PG").is_ok(),
            "LOYALTY_TEST_PG is required"
        );
    }
    let Some(db) = pg_database("import").await else {
        return;
    };
    import_killed(db, "pg").await;
}
