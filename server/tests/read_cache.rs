//! The read cache (`read_cache`): a member read from a kept state is byte for byte what a whole
//! replay answers, as the clock moves across what happens on its own (points becoming
//! available, a tier review, points expiring, the clock moved back), and after every kind of
//! change — a sale, an adjustment, a status change, a policy published — whichever server
//! process made it (two servers on one database: one keeps states, the other replays in full
//! and is the reference).

mod support;

use loyalty_server::storage::{self, policies, Db};
use serde_json::{json, Value};
use support::*;

/// 2025-01-01T00:00:00+07:00.
const JOINED: i64 = 1_735_664_400_000;
const DAY: i64 = 86_400_000;

fn ms(text: &str) -> i64 {
    loyalty_server::clock::parse_rfc3339(text).unwrap()
}

/// A purchase event of `price` ₫ of shoes at `at`.
fn purchase(id: &str, at: &str, price: i64) -> Value {
    json!({ "id": id, "type": "purchase", "at": at,
            "cart": { "id": id, "at": at, "store": "hcm-01", "channel": "pos",
                      "lines": [{ "id": "A", "sku": "RUN-42", "category": "shoes", "quantity": 1, "unit_price": price.to_string() }] } })
}

/// Member `m-long`: joined 2025-01-01, 40 purchases through 2025 (silver from May, reviewed
/// on its anniversary; points earned in 2025 expire at the end of 2026), and one on
/// 2026-03-05 under a second version with 14 pending days (available 2026-03-19). The second
/// version (SPEC policy, `pending_days` 14) is in force from 2026-03-01.
async fn seed_long(url: &str) -> String {
    let db = Db::open(url).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let v2 = v2_policy();
    let out: Value = serde_json::from_str(&loyalty_engine::api::validate_json(&v2)).unwrap();
    let digest2 = out["policy_digest"].as_str().unwrap().to_string();
    policies::insert(&mut tx, &digest2, &v2, JOINED, "test")
        .await
        .unwrap();
    policies::publish(
        &mut tx,
        &digest2,
        ms("2026-03-01T00:00:00+07:00"),
        JOINED,
        "test",
    )
    .await
    .unwrap();
    storage::members::insert(&mut tx, "m-long", "active", JOINED, None, None, JOINED)
        .await
        .unwrap();
    storage::members::insert_card(
        &mut tx,
        "C-LONG",
        Some("m-long"),
        "standard",
        "active",
        JOINED,
    )
    .await
    .unwrap();
    let mut events = Vec::new();
    for i in 0..40 {
        // Three large ones in May (silver on 2025-05-10), small ones every week from June.
        let (at, price) = if i < 3 {
            (format!("2025-05-{:02}T10:00:00+07:00", 8 + i), 10_000_000)
        } else {
            let t = ms("2025-06-02T10:00:00+07:00") + (i - 3) * 7 * DAY;
            (loyalty_server::clock::rfc3339(t), 500_000 + i * 10_000)
        };
        events.push(purchase(&format!("p{i}"), &at, price));
    }
    events.push(purchase(
        "p-pending",
        "2026-03-05T10:00:00+07:00",
        2_000_000,
    ));
    for (i, e) in events.iter().enumerate() {
        storage::events::append(
            &mut tx,
            "m-long",
            i as i64 + 1,
            e["id"].as_str().unwrap(),
            "purchase",
            ms(e["at"].as_str().unwrap()),
            &e.to_string(),
            JOINED,
            "test",
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    db.close().await;
    digest2
}

/// The second version: the SPEC policy with 14 pending days.
fn v2_policy() -> String {
    let mut v2 = spec_policy();
    v2["earning"]["pending_days"] = json!(14);
    v2.to_string()
}

/// GET as the admin: (status, body text).
async fn text(a: &Admin, path: &str) -> (u16, String) {
    let r = a
        .http
        .get(format!("{}{path}", a.base))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The four member reads of `m-long` on the caching server equal the reference server's, byte
/// for byte; returns the replay answer.
async fn same(cached: &Admin, reference: &Admin, what: &str) -> Value {
    let mut replay = Value::Null;
    for path in [
        "/v1/members/m-long",
        "/v1/members/m-long/progress",
        "/v1/members/m-long/history?limit=1000",
        "/v1/members/lookup?card=C-LONG",
    ] {
        let got = text(cached, path).await;
        let want = text(reference, path).await;
        assert_eq!(got, want, "{what}: {path}");
        if path == "/v1/members/m-long" {
            assert_eq!(got.0, 200, "{what}: {}", got.1);
            replay = serde_json::from_str(&got.1).unwrap();
        }
    }
    replay
}

fn counts(s: &TestServer) -> (u64, u64) {
    s.app().read_cache.counts()
}

#[tokio::test]
async fn cached_reads_are_a_whole_replays_bytes_as_time_moves_and_after_every_change() {
    for b in backends() {
        let url = fresh_db(b).await;
        seed(&url).await;
        seed_long(&url).await;
        let s = TestServer::on(b, &url).await;
        let r = TestServer::on_with(b, &url, |c| c.read_cache_events = 0).await;
        let set_clock = |t: i64| {
            s.clock().set(t);
            r.clock().set(t);
        };
        let (mut a, mut ra) = (s.admin().await, r.admin().await);

        // First read: replayed and kept; the second from the kept state.
        let first = same(&a, &ra, "first read").await;
        let (hits0, misses0) = counts(&s);
        assert!(misses0 >= 1, "{hits0}/{misses0}");
        assert!(s.app().read_cache.events() >= 42, "the state is kept");
        same(&a, &ra, "again").await;
        let (hits1, misses1) = counts(&s);
        assert_eq!(misses1, misses0, "nothing changed: no replay");
        assert!(hits1 >= hits0 + 4, "{hits1}");
        assert_eq!(
            r.app().read_cache.counts().0,
            0,
            "the reference keeps nothing"
        );
        // 2,000,000 ₫ of shoes at silver (5 % off): floor(1,900,000 / 100,000) × 2 = 38 pending.
        assert_eq!(first["points"]["pending"], 38, "{}", first["points"]);

        // The clock across the pending points becoming available (2026-03-19), the tier's
        // anniversary review (2026-05-10), the expiry notice (2026-12-02) and the expiry of 2025's
        // points (2027-01-01) — each read from the kept state, advanced.
        let mut seen = vec![first.clone()];
        for t in [
            "2026-03-20T09:00:00+07:00",
            "2026-05-11T09:00:00+07:00",
            "2026-12-03T09:00:00+07:00",
            "2027-01-02T09:00:00+07:00",
        ] {
            set_clock(ms(t));
            // (admin sessions end when the clock jumps days)
            (a, ra) = (s.admin().await, r.admin().await);
            let v = same(&a, &ra, t).await;
            seen.push(v);
        }
        let (hits2, misses2) = counts(&s);
        assert_eq!(misses2, misses1, "time alone replays nothing");
        assert!(hits2 >= hits1 + 16);
        // What happened on its own is in the answers.
        assert_eq!(seen[1]["points"]["pending"], 0);
        assert!(seen[1]["points"]["available"].as_i64() > seen[0]["points"]["available"].as_i64());
        let kinds = |v: &Value| -> Vec<String> {
            v["history"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["type"].as_str().unwrap_or_default().to_string())
                .collect()
        };
        assert_eq!(seen[0]["tier"]["id"], "silver");
        assert_ne!(
            seen[2]["tier"], seen[1]["tier"],
            "the review moved the tier"
        );
        assert!(!kinds(&seen[3]).contains(&"expire".to_string()));
        assert!(
            kinds(&seen[4]).contains(&"expire".to_string()),
            "{:?}",
            kinds(&seen[4])
        );
        let notices = |v: &Value| v["notices"].as_array().unwrap().len();
        assert!(notices(&seen[3]) > notices(&seen[1]), "the expiry notice");

        // The clock moved back, before the kept state: replayed in full, still the same bytes.
        set_clock(ms("2026-06-01T09:00:00+07:00"));
        (a, ra) = (s.admin().await, r.admin().await);
        same(&a, &ra, "clock moved back").await;
        assert!(counts(&s).1 > misses2, "a state does not go back");

        // Every change made through either server is seen by the other's next read.
        set_clock(ms("2026-06-02T10:00:00+07:00"));
        (a, ra) = (s.admin().await, r.admin().await);
        let before = same(&a, &ra, "before the sale").await;
        let till = s.till_key("hcm-01-t1").await;
        let now = loyalty_server::clock::rfc3339(s.clock().now_ms());
        let (st, m) = s.get("/v1/members/lookup?card=C-LONG", &till).await;
        assert_eq!(st, 200, "{m}");
        let cart = json!({ "id": "S-1", "at": now, "store": "hcm-01", "channel": "pos",
            "lines": [{ "id": "A", "sku": "TEE-01", "category": "apparel", "quantity": 1, "unit_price": "1000000" }] });
        // Quoted as a till does, under the version in force (the second).
        let req = json!({ "member": m["snapshot"], "cart": cart, "redeem_points": 0 });
        let q = loyalty_engine::Engine::from_json(&v2_policy())
            .unwrap()
            .quote_json(&req.to_string());
        let body = format!(
            r#"{{"document_no":"S-1","card":"C-LONG","quote_request":{req},"quote":{q},"confirm":true}}"#
        );
        // Booked through the reference server: the caching one learns it from the database.
        let (st, out) = r.post_text("/v1/orders", &till, Some("k-s1"), &body).await;
        assert_eq!(st, 201, "{out}");
        let after_sale = same(&a, &ra, "after a sale elsewhere").await;
        assert_eq!(
            after_sale["history"].as_array().unwrap().len(),
            before["history"].as_array().unwrap().len() + 1
        );

        let (st, out) = a
            .post(
                "/v1/members/m-long/events",
                &json!({ "type": "adjust", "points": 7, "reason": "goodwill" }),
            )
            .await;
        assert_eq!(st, 201, "{out}");
        let after_adjust = same(&a, &ra, "after an adjustment").await;
        assert_eq!(
            after_adjust["points"]["available"].as_i64().unwrap(),
            after_sale["points"]["available"].as_i64().unwrap() + 7
        );

        let (st, out) = ra
            .post(
                "/v1/members/m-long/events",
                &json!({ "type": "status", "status": "excluded" }),
            )
            .await;
        assert_eq!(st, 201, "{out}");
        let excluded = same(&a, &ra, "after a status change elsewhere").await;
        assert_eq!(excluded["status"], "excluded");
        assert_eq!(text(&a, "/v1/members/m-long/progress").await.0, 404);
        let (st, out) = a
            .post(
                "/v1/members/m-long/events",
                &json!({ "type": "status", "status": "active" }),
            )
            .await;
        assert_eq!(st, 201, "{out}");
        assert_eq!(same(&a, &ra, "active again").await["status"], "active");

        // A new version published from now: the answer is under it.
        let mut v3 = spec_policy();
        v3["earning"]["points"] = json!(2);
        let (st, posted) = a.post("/v1/policies", &v3).await;
        assert_eq!(st, 201, "{posted}");
        let digest3 = posted["policy_digest"].as_str().unwrap().to_string();
        let (st, out) = ra
            .post(&format!("/v1/policies/{digest3}/publish"), &json!({}))
            .await;
        assert_eq!(st, 201, "{out}");
        let published = same(&a, &ra, "after a publish elsewhere").await;
        assert_eq!(published["policy_digest"], digest3.as_str());
        assert_ne!(after_adjust["policy_digest"], published["policy_digest"]);

        // And once more from the kept state, an hour on.
        let (hits3, _) = counts(&s);
        set_clock(s.clock().now_ms() + 3_600_000);
        same(&a, &ra, "an hour after the publish").await;
        assert!(counts(&s).0 >= hits3 + 4);
        s.stop().await;
        r.stop().await;
    }
}

/// The kept states are bounded by the events they hold: a cache for fewer events than a member
/// has keeps nothing and answers the same; with room, the least useful states give way.
#[tokio::test]
async fn the_cache_is_bounded_by_events() {
    for b in backends() {
        let url = fresh_db(b).await;
        seed(&url).await;
        seed_long(&url).await;
        let s = TestServer::on_with(b, &url, |c| c.read_cache_events = 10).await;
        let r = TestServer::on_with(b, &url, |c| c.read_cache_events = 0).await;
        let (a, ra) = (s.admin().await, r.admin().await);
        same(&a, &ra, "too long to keep").await;
        same(&a, &ra, "again").await;
        assert!(
            s.app().read_cache.events() <= 10,
            "{}",
            s.app().read_cache.events()
        );
        assert_eq!(counts(&s).0, 0, "m-long (42 events) is never kept");
        // m-001 (2 events) fits.
        let first = text(&a, "/v1/members/m-001").await;
        assert_eq!(first, text(&a, "/v1/members/m-001").await);
        assert_eq!(first, text(&ra, "/v1/members/m-001").await);
        assert_eq!(counts(&s).0, 1);
        s.stop().await;
        r.stop().await;
    }
}
