//! Test support: a fresh database per test (an SQLite file, or a PostgreSQL database cloned
//! from a migrated template when `LOYALTY_TEST_PG` names the test cluster), a server in this
//! process on port 0 with a fixed clock, and a small programme: the SPEC §1 policy published,
//! stores `hcm-01` and `hn-01` with a till each, an admin, and member `m-001` (silver, 300
//! points) with card `C-001` and phone `+84903000001`.
#![allow(dead_code)]

use loyalty_server::auth::{keys, password};
use loyalty_server::storage::{self, members, policies, Db};
use loyalty_server::{Clock, Config, Running};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

pub const ADMIN_PASSWORD: &str = "correct horse battery staple";
/// 2026-03-07T10:00:00+07:00, a Saturday (the SPEC §2 worked example's instant).
pub const T0: i64 = 1_772_852_400_000;
pub const T0_TEXT: &str = "2026-03-07T10:00:00+07:00";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// SQLite always; PostgreSQL when `LOYALTY_TEST_PG` is set (scripts/test.sh starts the cluster;
/// with `LOYALTY_TEST_PG_REQUIRED=1`, as in CI, its absence fails the test).
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if std::env::var("LOYALTY_TEST_PG").is_ok() {
        v.push(Backend::Postgres);
    } else if std::env::var("LOYALTY_TEST_PG_REQUIRED").is_ok_and(|v| v == "1") {
        panic!("LOYALTY_TEST_PG_REQUIRED=1 but LOYALTY_TEST_PG is not set");
    }
    v
}

static N: AtomicU64 = AtomicU64::new(0);

/// A name no other test of any run has used: process id, counter, and the process's start time
/// (a process id alone is reused, and temporary directories and test clusters outlive a run —
/// a reused name once seeded into a database that already had the test programme).
fn unique(prefix: &str) -> String {
    static STARTED: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let started = STARTED.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    });
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        started % 1_000_000_007
    )
}

/// A database URL for one test.
pub async fn fresh_db(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(unique("loyalty-test"));
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite://{}/loyalty.db", dir.display())
        }
        Backend::Postgres => {
            let admin = std::env::var("LOYALTY_TEST_PG").unwrap();
            pg_database(&admin).await
        }
    }
}

/// A database cloned from the migrated template `loyalty_tmpl` (made once, under an advisory
/// lock, by whichever test gets there first).
async fn pg_database(admin_url: &str) -> String {
    use sqlx::{Connection, Executor, Row};
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(admin_url).await.unwrap();
    c.execute("SELECT pg_advisory_lock(7001)").await.unwrap();
    let has: i64 = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_database WHERE datname = 'loyalty_tmpl'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap()
    .get(0);
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap();
    if has == 0 {
        c.execute("CREATE DATABASE loyalty_tmpl").await.unwrap();
        let db = Db::open(&format!("{base}/loyalty_tmpl")).await.unwrap();
        db.close().await;
    }
    let name = unique("t");
    c.execute(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name} TEMPLATE loyalty_tmpl"
    )))
    .await
    .unwrap();
    c.execute("SELECT pg_advisory_unlock(7001)").await.unwrap();
    format!("{base}/{name}")
}

pub fn spec_policy() -> Value {
    serde_json::from_str(&loyalty_server::demo::spec_policy()).unwrap()
}

/// Seeds the test programme into a database.
pub async fn seed(url: &str) {
    let db = Db::open(url).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let policy = loyalty_server::demo::spec_policy();
    let v: Value = serde_json::from_str(&loyalty_engine::api::validate_json(&policy)).unwrap();
    let digest = v["policy_digest"].as_str().unwrap();
    let t = T0 - 86_400_000 * 60;
    policies::insert(&mut tx, digest, &policy, t, "test")
        .await
        .unwrap();
    policies::publish(&mut tx, digest, t, t, "test")
        .await
        .unwrap();
    for (s, till) in [("hcm-01", "hcm-01-t1"), ("hn-01", "hn-01-t1")] {
        sqlx::query("INSERT INTO stores (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(s)
            .bind(s)
            .bind(t)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("INSERT INTO tills (id, store_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(till)
            .bind(s)
            .bind("till")
            .bind(t)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let hash = password::hash(ADMIN_PASSWORD.into()).await.unwrap();
    sqlx::query(
        "INSERT INTO admins (username, password_hash, created_at) VALUES ('admin', $1, $2)",
    )
    .bind(hash)
    .bind(t)
    .execute(&mut *tx)
    .await
    .unwrap();
    storage::settings::set(&mut tx, "country", "VN")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    add_member(
        &db,
        "m-001",
        Some("+84903000001"),
        Some("C-001"),
        300,
        Some("silver"),
    )
    .await;
    db.close().await;
}

/// A member joined 2026-01-01 (+07:00) with an opening balance and optionally a set tier.
pub async fn add_member(
    db: &Db,
    id: &str,
    phone: Option<&str>,
    card: Option<&str>,
    points: i64,
    tier: Option<&str>,
) {
    let joined = 1_767_200_400_000; // 2026-01-01T00:00:00+07:00
    let mut tx = db.begin().await.unwrap();
    members::insert(
        &mut tx,
        id,
        "active",
        joined,
        phone,
        Some("Nguyễn Văn An"),
        joined,
    )
    .await
    .unwrap();
    if let Some(c) = card {
        members::insert_card(&mut tx, c, Some(id), "standard", "active", joined)
            .await
            .unwrap();
    }
    let mut seq = 0;
    let mut add = |body: Value| {
        seq += 1;
        (seq, body)
    };
    let mut evs = vec![];
    if points != 0 {
        evs.push(add(json!({ "id": "ob", "type": "opening_balance", "at": "2026-01-01T00:00:00+07:00", "points": points })));
    }
    if let Some(t) = tier {
        evs.push(add(
            json!({ "id": "st", "type": "set_tier", "at": "2026-01-01T00:00:00+07:00", "tier": t }),
        ));
    }
    for (seq, body) in evs {
        storage::events::append(
            &mut tx,
            id,
            seq,
            body["id"].as_str().unwrap(),
            body["type"].as_str().unwrap(),
            joined,
            &body.to_string(),
            joined,
            "test",
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

pub struct TestServer {
    pub running: Option<Running>,
    pub base: String,
    pub backend: Backend,
    pub url: String,
    pub http: reqwest::Client,
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        let url = fresh_db(backend).await;
        seed(&url).await;
        TestServer::on(backend, &url).await
    }

    pub async fn on(backend: Backend, url: &str) -> TestServer {
        TestServer::on_with(backend, url, |_| {}).await
    }

    /// A server on `url` with settings changed by `change`.
    pub async fn on_with(
        backend: Backend,
        url: &str,
        change: impl FnOnce(&mut Config),
    ) -> TestServer {
        let mut c = Config::new("127.0.0.1:0".parse().unwrap());
        c.db_url = Some(url.to_string());
        c.clock = Clock::fixed(T0);
        c.steerable_clock = true;
        c.workers = false;
        c.data_dir = std::env::temp_dir().join(unique("loyalty-data"));
        change(&mut c);
        let running = loyalty_server::start(c).await.unwrap();
        let base = format!("http://{}", running.addr);
        TestServer {
            running: Some(running),
            base,
            backend,
            url: url.to_string(),
            http: reqwest::Client::new(),
        }
    }

    pub fn app(&self) -> &loyalty_server::app::App {
        &self.running.as_ref().unwrap().app
    }

    pub fn clock(&self) -> &Clock {
        &self.app().clock
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// A till key for a till (made directly in the database).
    pub async fn till_key(&self, till: &str) -> String {
        let mut tx = self.app().db.begin().await.unwrap();
        let (_, key) = keys::create(&mut tx, "till", Some(till), T0).await.unwrap();
        tx.commit().await.unwrap();
        key
    }

    /// An admin client: a cookie session and its CSRF token.
    pub async fn admin(&self) -> Admin {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let r = http
            .post(format!("{}/v1/admin/login", self.base))
            .json(&json!({ "user": "admin", "password": ADMIN_PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let cookie = r
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let v: Value = r.json().await.unwrap();
        Admin {
            http,
            csrf: v["csrf_token"].as_str().unwrap().to_string(),
            base: self.base.clone(),
        }
    }

    pub async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    /// POST with a bearer key and an optional Idempotency-Key: (status, body text).
    pub async fn post(
        &self,
        path: &str,
        key: &str,
        idem: Option<&str>,
        body: &Value,
    ) -> (u16, String) {
        self.post_text(path, key, idem, &body.to_string()).await
    }

    /// POST of JSON text.
    pub async fn post_text(
        &self,
        path: &str,
        key: &str,
        idem: Option<&str>,
        body: &str,
    ) -> (u16, String) {
        let mut r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(k) = idem {
            r = r.header("Idempotency-Key", k);
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

pub struct Admin {
    pub http: reqwest::Client,
    pub csrf: String,
    pub base: String,
}

impl Admin {
    /// The body of `GET path` as text (CSV, NDJSON).
    pub async fn get_text(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_text(path, &body.to_string()).await
    }
    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .put(format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub async fn post_text(&self, path: &str, body: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

/// The SPEC §2 worked example cart at `at`, `redeem_points: "max"`.
pub fn spec_cart(doc: &str, at: &str) -> Value {
    json!({ "id": doc, "at": at, "store": "hcm-01", "channel": "pos",
            "lines": [{ "id": "A", "sku": "TEE-01", "category": "apparel", "quantity": 2, "unit_price": "250000" },
                      { "id": "B", "sku": "RUN-42", "category": "shoes", "quantity": 1, "unit_price": "1200000" }] })
}

/// A till's quote: the engine's text as it wrote it (sent byte for byte), and a parsed copy to
/// read figures from.
#[derive(Clone, Debug)]
pub struct Quote {
    pub text: String,
    pub v: Value,
}

impl std::ops::Index<&str> for Quote {
    type Output = Value;
    fn index(&self, k: &str) -> &Value {
        &self.v[k]
    }
}

impl Quote {
    /// The same quote with one figure changed in its text (a tampered till).
    pub fn tampered(&self, from: &str, to: &str) -> Quote {
        assert!(self.text.contains(from), "{from} not in {}", self.text);
        let text = self.text.replacen(from, to, 1);
        Quote {
            v: serde_json::from_str(&text).unwrap(),
            text,
        }
    }
}

/// Quotes locally with the engine, as a till does: (request, quote).
pub fn quote(member: &Value, cart: Value, redeem: Value) -> (Value, Quote) {
    let engine = loyalty_engine::Engine::from_json(&loyalty_server::demo::spec_policy()).unwrap();
    let req = json!({ "member": member, "cart": cart, "redeem_points": redeem });
    let text = engine.quote_json(&req.to_string());
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v.get("error").is_none(), "{v}");
    (req, Quote { text, v })
}

/// A `POST /v1/orders` body, as JSON text (the quote inside it as the engine wrote it).
pub fn order_body(doc: &str, req: &Value, q: &Quote, confirm: bool, offline: bool) -> String {
    format!(
        r#"{{"document_no":{},"card":"C-001","quote_request":{},"quote":{},"confirm":{confirm},"offline":{offline}}}"#,
        json!(doc),
        req,
        q.text
    )
}

pub fn error_code(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    v["error"]["code"].as_str().unwrap_or_default().to_string()
}

/// One apparel line of 1,000,000 ₫ on Saturday T0: floor(1,000,000 / 100,000) = 10 points
/// + the weekend bonus 10 = 20 points at the base tier (no discount).
pub fn small_cart(doc: &str) -> Value {
    json!({ "id": doc, "at": T0_TEXT, "store": "hcm-01", "channel": "pos",
            "lines": [{ "id": "A", "sku": "TEE-01", "category": "apparel", "quantity": 1, "unit_price": "1000000" }] })
}

/// Books a sale of [`small_cart`] at the till for the card (hold and confirm in one call): the
/// answer.
pub async fn sell(s: &TestServer, key: &str, card: &str, doc: &str) -> Value {
    let (st, m) = s.get(&format!("/v1/members/lookup?card={card}"), key).await;
    assert_eq!(st, 200, "{m}");
    let (req, q) = quote(&m["snapshot"], small_cart(doc), json!(0));
    let body = format!(
        r#"{{"document_no":{},"card":{},"quote_request":{},"quote":{},"confirm":true}}"#,
        json!(doc),
        json!(card),
        req,
        q.text
    );
    let (st, out) = s
        .post_text("/v1/orders", key, Some(&format!("k-{doc}")), &body)
        .await;
    assert_eq!(st, 201, "{out}");
    serde_json::from_str(&out).unwrap()
}

/// `rpt_flows`' secondary indexes as the database describes them: (name, definition with its
/// white space collapsed — SQLite keeps the statement's own).
pub async fn flow_indexes(db: &Db, b: Backend) -> Vec<(String, String)> {
    use sqlx::Row;
    let sql = match b {
        Backend::Sqlite => {
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rpt_flows' \
             AND sql IS NOT NULL ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT CAST(indexname AS TEXT), indexdef FROM pg_indexes WHERE tablename = 'rpt_flows' \
             AND indexname <> 'rpt_flows_pkey' ORDER BY indexname"
        }
    };
    sqlx::query(sql)
        .fetch_all(&db.read)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let def: String = r.get(1);
            (
                r.get(0),
                def.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect()
}

/// The one integer `sql` selects (a `COUNT(*)`), read on the server's database.
pub async fn count(s: &TestServer, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&s.app().db.read)
        .await
        .unwrap()
        .get::<i64, _>(0)
}
