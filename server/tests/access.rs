//! Who may do what (SPEC §8.3), coded errors (§8.2), policies (§8.4), the OpenAPI document.

mod support;

use serde_json::{json, Value};
use support::*;

#[tokio::test]
async fn every_route_is_documented_and_answers() {
    let doc: Value = serde_json::from_str(&loyalty_server::http::routes::openapi_json()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    // Every route the contract fixes (SPEC §8.8) is in the document.
    for (p, m) in [
        ("/v1/admin/login", "post"),
        ("/v1/policies/active", "get"),
        ("/v1/policies", "post"),
        ("/v1/policies/{digest}/publish", "post"),
        ("/v1/members", "get"),
        ("/v1/members/lookup", "get"),
        ("/v1/members/{id}", "get"),
        ("/v1/members/{id}/progress", "get"),
        ("/v1/orders", "post"),
        ("/v1/orders/{id}/confirm", "post"),
        ("/v1/orders/{id}/void", "post"),
        ("/v1/orders/{id}/refunds", "post"),
        ("/v1/openapi.json", "get"),
        ("/healthz", "get"),
    ] {
        assert!(
            paths.get(p).and_then(|x| x.get(m)).is_some(),
            "{m} {p} is not documented"
        );
    }
    // And every documented route exists in the router: none answers the 404 of "no such route".
    let s = TestServer::start(Backend::Sqlite).await;
    let mut n = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let url = format!(
                "{}{}",
                s.base,
                path.replace("{id}", "x")
                    .replace("{digest}", "x")
                    .replace("{key_id}", "x")
            );
            let r = s
                .http
                .request(method.to_uppercase().parse().unwrap(), &url)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            assert!(
                !body.contains("no such route"),
                "{method} {path}: {status} {body}"
            );
            assert_ne!(status, 500, "{method} {path}: {body}");
            n += 1;
        }
    }
    assert!(n >= 35, "only {n} operations");
    let (st, body) = s.post("/v1/nothing", "x", None, &json!({})).await;
    assert_eq!(
        (st, error_code(&body).as_str()),
        (404, "not_found"),
        "{body}"
    );
    let r = s
        .http
        .get(format!("{}/v1/nothing", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
    s.stop().await;
}

#[tokio::test]
async fn roles_are_refused_what_they_may_not_do() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let till = s.till_key("hcm-01-t1").await;
        let other_till = s.till_key("hn-01-t1").await;
        let admin = s.admin().await;
        let member = json!({ "id": "m-001", "status": "active", "tier": "silver", "points": 300 });
        let (req, q) = quote(&member, spec_cart("D-1", T0_TEXT), json!(0));
        let body = order_body("D-1", &req, &q, false, false);

        // No credential: 401 everywhere but the public routes.
        for p in [
            "/v1/members",
            "/v1/members/m-001",
            "/v1/members/lookup?card=C-001",
            "/v1/policies/active",
            "/v1/stores",
            "/v1/outbox",
        ] {
            let r = s.http.get(format!("{}{p}", s.base)).send().await.unwrap();
            assert_eq!(r.status(), 401, "{p}");
            assert_eq!(
                r.json::<Value>().await.unwrap()["error"]["code"],
                "unauthenticated"
            );
        }
        assert_eq!(
            s.http
                .get(format!("{}/healthz", s.base))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        assert_eq!(
            s.http
                .get(format!("{}/v1/openapi.json", s.base))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        // A wrong key: 401.
        let (st, _) = s.get("/v1/policies/active", "lk_nope_nope").await;
        assert_eq!(st, 401);

        // A till: reads members and the active policy, books for its own store only, never
        // changes policies, members, settings or keys.
        assert_eq!(s.get("/v1/policies/active", &till).await.0, 200);
        assert_eq!(s.get("/v1/members/m-001", &till).await.0, 200);
        for (p, body) in [
            ("/v1/policies", json!({})),
            ("/v1/members", json!({})),
            ("/v1/stores", json!({ "id": "x", "name": "x" })),
            ("/v1/tills/hcm-01-t1/keys", json!({})),
            ("/v1/webhooks", json!({ "url": "http://x" })),
            (
                "/v1/members/m-001/events",
                json!({ "type": "adjust", "points": 5, "reason": "x" }),
            ),
        ] {
            let (st, b) = s.post(p, &till, None, &body).await;
            assert_eq!(
                (st, error_code(&b).as_str()),
                (403, "forbidden"),
                "{p}: {b}"
            );
        }
        assert_eq!(s.get("/v1/members", &till).await.0, 403);
        assert_eq!(s.get("/v1/settings", &till).await.0, 403);
        let (st, b2) = s
            .post_text("/v1/orders", &other_till, Some("x-1"), &body)
            .await;
        assert_eq!(
            (st, error_code(&b2).as_str()),
            (403, "forbidden"),
            "another store's till: {b2}"
        );
        assert_eq!(
            serde_json::from_str::<Value>(&b2).unwrap()["error"]["path"],
            "quote_request.cart.store"
        );
        let (st, held) = s.post_text("/v1/orders", &till, Some("x-2"), &body).await;
        assert_eq!(st, 201, "{held}");
        let order = serde_json::from_str::<Value>(&held).unwrap()["order_id"]
            .as_str()
            .unwrap()
            .to_string();
        let (st, _) = s
            .post(
                &format!("/v1/orders/{order}/confirm"),
                &other_till,
                None,
                &json!({}),
            )
            .await;
        assert_eq!(st, 403, "another store's till cannot confirm");

        // An admin without the CSRF header: 403 on a change.
        let r = admin
            .http
            .post(format!("{}/v1/stores", s.base))
            .json(&json!({ "id": "dn-01", "name": "Đà Nẵng" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["path"],
            "X-CSRF-Token"
        );
        let (st, _) = admin
            .post("/v1/stores", &json!({ "id": "dn-01", "name": "Đà Nẵng" }))
            .await;
        assert_eq!(st, 201);
        // Admin online entry: any store.
        let mut cart = spec_cart("ADM-1", T0_TEXT);
        cart["store"] = json!("hn-01");
        cart["channel"] = json!("online");
        let (req2, q2) = quote(&member, cart, json!(0));
        let (st, b) = admin
            .post_text("/v1/orders", &order_body("ADM-1", &req2, &q2, true, false))
            .await;
        assert_eq!(st, 400, "the Idempotency-Key is required: {b}");
        let r = admin
            .http
            .post(format!("{}/v1/orders", s.base))
            .header("X-CSRF-Token", &admin.csrf)
            .header("Idempotency-Key", "adm-1")
            .header("content-type", "application/json")
            .body(order_body("ADM-1", &req2, &q2, true, false))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);

        // A member: logs in with a one-time code from the outbox, reads only their own data.
        let r = s
            .http
            .post(format!("{}/v1/member/login", s.base))
            .json(&json!({ "phone": "0903 000 001" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let r = admin
            .http
            .get(format!("{}/v1/outbox?kind=one_time_code", s.base))
            .send()
            .await
            .unwrap();
        let text = r.text().await.unwrap();
        let line: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        let code = line["payload"]["code"].as_str().unwrap().to_string();
        assert_eq!(line["payload"]["phone"], "+84903000001");
        let r = s
            .http
            .post(format!("{}/v1/member/verify", s.base))
            .json(&json!({ "phone": "+84903000001", "code": "000000x" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let r = s
            .http
            .post(format!("{}/v1/member/verify", s.base))
            .json(&json!({ "card": "C-001", "code": code }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let token = r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(s.get("/v1/members/m-001", &token).await.0, 200);
        assert_eq!(s.get("/v1/members/m-001/progress", &token).await.0, 200);
        let mut db = s.app().db.write.acquire().await.unwrap();
        loyalty_server::storage::members::insert(
            &mut db,
            "m-002",
            "active",
            T0 - 1000,
            None,
            None,
            T0,
        )
        .await
        .unwrap();
        drop(db);
        assert_eq!(s.get("/v1/members/m-002", &token).await.0, 403);
        assert_eq!(s.get("/v1/members/lookup?card=C-001", &token).await.0, 403);
        let (st, _) = s.post_text("/v1/orders", &token, Some("mm"), &body).await;
        assert_eq!(st, 403);

        // A storefront key: only widget tokens; a widget token reads one member's progress.
        let (st, sf) = admin.post("/v1/storefront-keys", &json!({})).await;
        assert_eq!(st, 201);
        let sf = sf["key"].as_str().unwrap().to_string();
        assert_eq!(s.get("/v1/members/m-001", &sf).await.0, 403);
        let (st, wt) = s
            .post(
                "/v1/widget-tokens",
                &sf,
                None,
                &json!({ "member_id": "m-001" }),
            )
            .await;
        assert_eq!(st, 201, "{wt}");
        let wt = serde_json::from_str::<Value>(&wt).unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
        let (st, p) = s.get("/v1/members/m-001/progress", &wt).await;
        assert_eq!(st, 200);
        assert_eq!(p["tier"], "silver");
        assert_eq!(s.get("/v1/members/m-001", &wt).await.0, 403);
        assert_eq!(s.get("/v1/members/m-002/progress", &wt).await.0, 403);
        s.clock().advance(16 * 60_000);
        assert_eq!(
            s.get("/v1/members/m-001/progress", &wt).await.0,
            401,
            "expired token"
        );

        // The admin's member list: paged by cursor, filtered by status and text.
        let (st, page) = admin.get("/v1/members?limit=1").await;
        assert_eq!(st, 200, "{page}");
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        assert_eq!(page["items"][0]["id"], "m-001");
        assert_eq!(page["items"][0]["cards"][0]["number"], "C-001");
        let cursor = page["next_cursor"].as_str().unwrap().to_string();
        let (_, next) = admin
            .get(&format!("/v1/members?limit=1&cursor={cursor}"))
            .await;
        assert_eq!(next["items"][0]["id"], "m-002");
        assert_eq!(next["next_cursor"], Value::Null);
        let (_, found) = admin.get("/v1/members?q=c-00").await;
        assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
        let (_, none) = admin.get("/v1/members?status=excluded").await;
        assert_eq!(none["items"], json!([]));
        let (st, _) = admin.get("/v1/members?limit=5000").await;
        assert_eq!(st, 400);
        // Every change is in the audit log.
        let (st, audit) = admin.get("/v1/audit?limit=100").await;
        assert_eq!(st, 200);
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["action"].as_str().unwrap())
            .collect();
        for a in [
            "store.create",
            "order.hold",
            "order.book",
            "storefront.key.create",
            "admin.login",
            "member.login",
        ] {
            assert!(actions.contains(&a), "{a} missing from {actions:?}");
        }
        s.stop().await;
    }
}

#[tokio::test]
async fn bad_input_gets_coded_errors_with_paths() {
    let s = TestServer::start(Backend::Sqlite).await;
    let till = s.till_key("hcm-01-t1").await;
    let post_raw = |body: &'static str| {
        let http = s.http.clone();
        let url = format!("{}/v1/orders", s.base);
        let till = till.clone();
        async move {
            let r = http
                .post(url)
                .bearer_auth(till)
                .header("Idempotency-Key", "bad")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (st, e) = post_raw("{not json").await;
    assert_eq!(
        (st, e["error"]["code"].as_str(), e["error"]["path"].as_str()),
        (400, Some("invalid_request"), Some(""))
    );
    let (st, e) = post_raw(r#"{"document_no":"x","quote_request":{},"quote":{},"extra":1}"#).await;
    assert_eq!(
        (st, e["error"]["code"].as_str()),
        (400, Some("invalid_request")),
        "{e}"
    );
    assert!(
        e["error"]["message"].as_str().unwrap().contains("extra"),
        "{e}"
    );
    let (st, e) = post_raw(r#"{"document_no":7,"quote_request":{},"quote":{}}"#).await;
    assert_eq!(
        (st, e["error"]["path"].as_str()),
        (400, Some("document_no")),
        "{e}"
    );
    let (st, e) = post_raw(r#"{"document_no":"x","quote_request":{"member":{"id":"m-001"},"cart":{"store":"hcm-01","at":"2026-03-07T10:00:00+07:00","lines":[]}},"quote":{"redeemed_points":0,"policy_digest":"x"}}"#).await;
    assert_eq!(
        (st, e["error"]["code"].as_str()),
        (400, Some("invalid_request")),
        "{e}"
    );
    // Over 1 MiB: 413.
    let big = format!(r#"{{"document_no":"{}"}}"#, "x".repeat(1 << 20));
    let r = s
        .http
        .post(format!("{}/v1/orders", s.base))
        .bearer_auth(&till)
        .header("Idempotency-Key", "big")
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "limit_exceeded"
    );
    // An unknown member: 404 with its path.
    let ghost = json!({ "id": "ghost", "status": "active", "tier": "member", "points": 0 });
    let (req, q) = quote(&ghost, spec_cart("G-1", T0_TEXT), json!(0));
    let (st, e) = s
        .post_text(
            "/v1/orders",
            &till,
            Some("g"),
            &order_body("G-1", &req, &q, false, false),
        )
        .await;
    assert_eq!(
        (
            st,
            serde_json::from_str::<Value>(&e).unwrap()["error"]["path"]
                .as_str()
                .map(str::to_string)
        ),
        (404, Some("quote_request.member.id".into()))
    );
    // Unknown orders and members.
    assert_eq!(
        s.post("/v1/orders/nope/confirm", &till, None, &json!({}))
            .await
            .0,
        404
    );
    assert_eq!(s.get("/v1/members/nope", &till).await.0, 404);
    assert_eq!(s.get("/v1/members/lookup?card=nope", &till).await.0, 404);
    let (st, e) = s.get("/v1/members/lookup?phone=12", &till).await;
    assert_eq!(
        (st, e["error"]["path"].as_str()),
        (400, Some("phone")),
        "{e}"
    );
    s.stop().await;
}

#[tokio::test]
async fn policies_are_posted_published_and_versioned() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let admin = s.admin().await;
        let till = s.till_key("hcm-01-t1").await;
        let mut p = spec_policy();
        p["earning"]["points"] = json!(2);
        let (st, v) = admin.post("/v1/policies", &p).await;
        assert_eq!(st, 201, "{v}");
        let digest = v["policy_digest"].as_str().unwrap().to_string();
        // A broken policy: 400 invalid_policy with its path.
        let mut bad = spec_policy();
        bad["tiers"]["levels"][1]["threshold"] = json!("0");
        let (st, e) = admin.post("/v1/policies", &bad).await;
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (400, Some("invalid_policy")),
            "{e}"
        );
        assert!(
            e["error"]["path"]
                .as_str()
                .unwrap()
                .starts_with("tiers.levels"),
            "{e}"
        );
        // Drafts never price: the active one is still the first.
        let (_, active) = s.get("/v1/policies/active", &till).await;
        assert_ne!(active["policy_digest"], json!(digest));
        // Not in the past.
        let (st, e) = admin
            .post(
                &format!("/v1/policies/{digest}/publish"),
                &json!({ "effective_at": "2026-03-01T00:00:00+07:00" }),
            )
            .await;
        assert_eq!(
            (st, e["error"]["path"].as_str()),
            (400, Some("effective_at"))
        );
        let (st, pubd) = admin
            .post(
                &format!("/v1/policies/{digest}/publish"),
                &json!({ "effective_at": "2026-03-07T18:00:00+07:00" }),
            )
            .await;
        assert_eq!(st, 201, "{pubd}");
        // Another currency cannot follow.
        let mut eur = spec_policy();
        eur["currency"] = json!("EUR");
        eur["redemption"]["point_value"] = json!("1");
        eur["earning"]["spend"] = json!("1");
        let (st, v2) = admin.post("/v1/policies", &eur).await;
        assert_eq!(st, 201, "{v2}");
        let d2 = v2["policy_digest"].as_str().unwrap();
        let (st, e) = admin
            .post(
                &format!("/v1/policies/{d2}/publish"),
                &json!({ "effective_at": "2026-04-01T00:00:00+07:00" }),
            )
            .await;
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (400, Some("invalid_policy")),
            "{e}"
        );
        // Once its instant comes, the new version is in force and earns double.
        s.clock().set(T0 + 9 * 3_600_000); // 2026-03-07T19:00+07:00
        let (_, active) = s.get("/v1/policies/active", &till).await;
        assert_eq!(active["policy_digest"], json!(digest));
        let (st, list) = admin.get("/v1/policies").await;
        assert_eq!(st, 200);
        assert_eq!(list["versions"].as_array().unwrap().len(), 2);
        // A quote made under the draft-then-published version verifies under it, not under the first.
        let member = json!({ "id": "m-001", "status": "active", "tier": "silver", "points": 300 });
        let engine = loyalty_engine::Engine::from_json(&p.to_string()).unwrap();
        let req =
            json!({ "member": member, "cart": spec_cart("V-1", T0_TEXT), "redeem_points": 0 });
        let quote = engine.quote_json(&req.to_string());
        let body = format!(r#"{{"request":{req},"response":{quote}}}"#);
        let (st, v) = s
            .post_text(&format!("/v1/policies/{digest}/verify"), &till, None, &body)
            .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(serde_json::from_str::<Value>(&v).unwrap()["valid"], true);
        let first = loyalty_engine::Engine::from_json(&spec_policy().to_string())
            .unwrap()
            .policy_digest()
            .to_string();
        let (st, v) = s
            .post_text(&format!("/v1/policies/{first}/verify"), &till, None, &body)
            .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(
            serde_json::from_str::<Value>(&v).unwrap()["valid"],
            false,
            "points 2 earns double: {v}"
        );
        // The member's replay now spans both versions.
        let (st, m) = s.get("/v1/members/m-001", &till).await;
        assert_eq!(st, 200, "{m}");
        assert_eq!(m["policy_digest"], json!(digest));
        s.stop().await;
    }
}

#[tokio::test]
async fn the_json_schemas_are_served_without_a_credential_as_shipped() {
    let s = TestServer::start(Backend::Sqlite).await;
    let r = s
        .http
        .get(format!("{}/v1/schemas", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    let names: Vec<&str> = list["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"policy") && names.contains(&"quote-request"),
        "{names:?}"
    );
    // Each is byte for byte the file shipped in schema/ (and the npm and Python packages).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for name in &names {
        let r = s
            .http
            .get(format!("{}/v1/schemas/{name}.json", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/schema+json"
        );
        let served = r.text().await.unwrap();
        let shipped = std::fs::read_to_string(root.join(format!("schema/{name}.json"))).unwrap();
        assert_eq!(served, shipped, "{name}");
    }
    assert_eq!(
        names.len(),
        std::fs::read_dir(root.join("schema")).unwrap().count()
    );
    let r = s
        .http
        .get(format!("{}/v1/schemas/nothing.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["path"], "name");
    s.stop().await;
}

/// `--rate-limit`: a credential past its budget (here 5/s, bursts of 10) gets 429 `rate_limited`
/// with Retry-After; another till and the anonymous addresses are not slowed; within a second
/// the budget comes back.
#[tokio::test]
async fn a_credential_past_its_rate_gets_429_and_the_others_do_not() {
    let url = fresh_db(Backend::Sqlite).await;
    seed(&url).await;
    let s = TestServer::on_with(Backend::Sqlite, &url, |c| c.rate_limit = 5).await;
    let till = s.till_key("hcm-01-t1").await;
    let other = s.till_key("hn-01-t1").await;
    let mut statuses = Vec::new();
    for _ in 0..14 {
        let r = s
            .http
            .get(format!("{}/v1/policies/active", s.base))
            .bearer_auth(&till)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        if status == 429 {
            let wait: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=2).contains(&wait), "{wait}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited");
        }
        statuses.push(status);
    }
    // The burst (10) passes, then the refusals (a request or so may pass as the bucket refills).
    assert!(statuses[..10].iter().all(|&s| s == 200), "{statuses:?}");
    assert!(
        statuses[10..].iter().filter(|&&s| s == 429).count() >= 3,
        "{statuses:?}"
    );
    // Another credential is not slowed, nor a route without one (counted by address).
    assert_eq!(s.get("/v1/policies/active", &other).await.0, 200);
    let r = s
        .http
        .get(format!("{}/v1/schemas", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The budget refills: 5 a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(s.get("/v1/policies/active", &till).await.0, 200);
    s.stop().await;
}
