//! Members and cards as the seed programmes run them (issue 14): card types and check digits,
//! anonymous batches activated at a till, lost cards, the phone "change", erasure, search,
//! statuses and rewards — on SQLite and (with `LOYALTY_TEST_PG`) PostgreSQL.

mod support;

use serde_json::{json, Value};
use support::*;

fn v(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or(Value::Null)
}

#[tokio::test]
async fn card_types_check_digits_and_issuing() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        let (st, types) = a.get("/v1/card-types").await;
        assert_eq!(st, 200);
        let ids: Vec<&str> = types["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["standard", "vip", "virtual"]);

        // The next standard number: 8800 + 10000000, Luhn over 880010000000 from the right:
        // 1 (odd place) + 8×2 = 16 → 7 + 8 = 16 → check digit 4.
        let (st, c) = a
            .post(
                "/v1/cards",
                &json!({ "member_id": "m-001", "type": "standard" }),
            )
            .await;
        assert_eq!(st, 201, "{c}");
        assert_eq!(c["number"], "8800100000004");
        assert_eq!(
            (c["state"].as_str(), c["member_id"].as_str()),
            (Some("active"), Some("m-001"))
        );

        // A mistyped pre-printed number: the check digit catches it.
        let (st, e) = a
            .post(
                "/v1/cards",
                &json!({ "member_id": "m-001", "type": "standard", "number": "8800100000013" }),
            )
            .await;
        assert_eq!(
            (st, e["error"]["path"].as_str()),
            (400, Some("number")),
            "{e}"
        );
        assert!(e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("check digit"));
        let (st, e) = a
            .post(
                "/v1/cards",
                &json!({ "member_id": "m-001", "type": "standard", "number": "8800100000004" }),
            )
            .await;
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (409, Some("invalid_state")),
            "{e}"
        );
        let (st, e) = a
            .post(
                "/v1/cards",
                &json!({ "member_id": "nobody", "type": "standard" }),
            )
            .await;
        assert_eq!(st, 404, "{e}");

        // A new type with its own format; then a member with a card of it in one step.
        let (st, t) = a
            .post(
                "/v1/card-types",
                &json!({ "id": "gift", "name": "Gift", "prefix": "77", "length": 8 }),
            )
            .await;
        assert_eq!(st, 201, "{t}");
        let (st, m) = a
            .post(
                "/v1/members",
                &json!({ "phone": "0903 111 222", "name": "Trần Thị Hương", "status": "active",
                                          "card": { "number": "C-77", "type": "standard" } }),
            )
            .await;
        assert_eq!(st, 201, "{m}");
        // Both cards of m-001 in its summary, the new one last.
        let key = s.till_key("hcm-01-t1").await;
        let (_, sum) = s.get("/v1/members/lookup?card=8800100000004", &key).await;
        assert_eq!(sum["id"], "m-001");
        assert_eq!(sum["cards"].as_array().unwrap().len(), 2);
        // A till may read card types but not make them.
        let (st, _) = s.post("/v1/card-types", &key, None, &json!({})).await;
        assert_eq!(st, 403);
        s.stop().await;
    }
}

#[tokio::test]
async fn anonymous_batch_earns_then_binds_to_a_phone_at_the_till() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        let (st, batch) = a
            .post(
                "/v1/card-batches",
                &json!({ "type": "standard", "count": 3 }),
            )
            .await;
        assert_eq!(st, 201, "{batch}");
        // 880010000000{0,1,2}: check digits 4, 2 (2 + 1 + 7 + 8 = 18) and 0 (4 + 1 + 7 + 8 = 20).
        assert_eq!(
            (batch["first"].as_str(), batch["last"].as_str()),
            (Some("8800100000004"), Some("8800100000020"))
        );
        let id = batch["id"].as_str().unwrap();
        let r = a
            .http
            .get(format!("{}/v1/card-batches/{id}/cards.csv", a.base))
            .send()
            .await
            .unwrap();
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let csv = r.text().await.unwrap();
        assert_eq!(
            csv,
            "number,type,state,member_id\r\n\
             8800100000004,standard,unassigned,anon-8800100000004\r\n\
             8800100000012,standard,unassigned,anon-8800100000012\r\n\
             8800100000020,standard,unassigned,anon-8800100000020\r\n"
        );
        // The batch's members are in the reports from the start: `serve check` finds their rows
        // equal to their (empty) histories (the fixture's own members, written without the
        // server, have no cached figures yet: not this test's matter).
        let check = loyalty_server::ops::check(&s.app().db).await.unwrap();
        let anon: Vec<_> = check
            .differences
            .iter()
            .filter(|d| {
                d["member_id"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("anon-"))
            })
            .collect();
        assert!(anon.is_empty(), "{anon:?}");

        let key = s.till_key("hcm-01-t1").await;
        let (st, m) = s.get("/v1/members/lookup?card=8800100000012", &key).await;
        assert_eq!(st, 200);
        assert_eq!(m["snapshot"]["status"], "unassigned");
        // Sold on the anonymous card: `unassigned_card_earns` → 20 points on its own ledger.
        let sale = sell(&s, &key, "8800100000012", "AN-1").await;
        assert_eq!(sale["member"]["points"]["available"], 20, "{sale}");

        // Card 1 bound to a new phone at the till: its member gets the phone and is active.
        let (st, out) = s
            .post(
                "/v1/cards/8800100000004/activate",
                &key,
                None,
                &json!({ "phone": "0903 555 000", "name": "Lê Minh Khánh" }),
            )
            .await;
        assert_eq!(st, 200, "{out}");
        let out = v(&out);
        assert_eq!(out["member"]["id"], "anon-8800100000004");
        assert_eq!(out["member"]["phone"], "+84903555000");
        assert_eq!(out["member"]["status"], "active");
        assert_eq!(out["card"]["state"], "active");

        // Card 2 bound to m-001's phone: the card joins m-001 with its 20 points
        // (300 + 20 = 320); the card's own ledger is debited to 0 and excluded.
        let (st, out) = s
            .post(
                "/v1/cards/8800100000012/activate",
                &key,
                None,
                &json!({ "phone": "+84 903 000 001" }),
            )
            .await;
        assert_eq!(st, 200, "{out}");
        let out = v(&out);
        assert_eq!(
            (out["member"]["id"].as_str(), out["moved_points"].as_i64()),
            (Some("m-001"), Some(20))
        );
        assert_eq!(out["member"]["snapshot"]["points"], 320);
        let (_, anon) = s.get("/v1/members/anon-8800100000012", &key).await;
        assert_eq!(
            (
                anon["points"]["available"].as_i64(),
                anon["status"].as_str()
            ),
            (Some(0), Some("excluded"))
        );
        assert_eq!(anon["totals"]["adjusted"], -20, "{anon}");
        let (_, m1) = s.get("/v1/members/lookup?card=8800100000012", &key).await;
        assert_eq!(m1["id"], "m-001");
        // Activated once only.
        let (st, again) = s
            .post(
                "/v1/cards/8800100000012/activate",
                &key,
                None,
                &json!({ "phone": "0903 000 002" }),
            )
            .await;
        assert_eq!((st, error_code(&again).as_str()), (409, "invalid_state"));
        let (_, list) = a.get("/v1/card-batches").await;
        assert_eq!(list["items"][0]["unassigned"], 1);
        // The audit names the card and the points moved, not the phone.
        let (_, audit) = a.get("/v1/audit").await;
        let text = audit.to_string();
        assert!(
            text.contains("card.activate") && !text.contains("903555000"),
            "{text}"
        );
        // Phone search finds the bound card's member; store filter: enrolled at hcm-01.
        let (_, found) = a.get("/v1/members?q=0903555000&store=hcm-01").await;
        assert_eq!(found["items"][0]["id"], "anon-8800100000004");
        s.stop().await;
    }
}

#[tokio::test]
async fn a_lost_card_is_blocked_and_replaced_keeping_the_balance() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        let (st, out) = a
            .post(
                "/v1/cards/C-001/block",
                &json!({ "reason": "lost", "replacement": { "type": "vip" } }),
            )
            .await;
        assert_eq!(st, 200, "{out}");
        // The next VIP number: 8800 + 20000000, Luhn: 2 (odd place) + 7 + 8 = 17 → 3.
        assert_eq!(out["replacement"]["number"], "8800200000003");
        assert_eq!(out["blocked"]["replaced_by"], "8800200000003");
        let key = s.till_key("hcm-01-t1").await;
        let (st, m) = s.get("/v1/members/lookup?card=8800200000003", &key).await;
        assert_eq!(
            (st, m["id"].as_str(), m["snapshot"]["points"].as_i64()),
            (200, Some("m-001"), Some(300))
        );
        // The blocked card is refused at the till, saying what replaced it.
        let (st, e) = s.get("/v1/members/lookup?card=C-001", &key).await;
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (409, Some("invalid_state")),
            "{e}"
        );
        assert!(e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("8800200000003"));
        let (st, _) = a
            .post("/v1/cards/C-001/block", &json!({ "reason": "again" }))
            .await;
        assert_eq!(st, 409);
        s.stop().await;
    }
}

#[tokio::test]
async fn statuses_and_the_phone_move() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        // Created not activated; activated; excluded (the widget shows nothing); re-activated.
        let (st, m) = a
            .post(
                "/v1/members",
                &json!({ "id": "m-new", "phone": "0903 222 333", "name": "Phạm Văn Bình" }),
            )
            .await;
        assert_eq!((st, m["status"].as_str()), (201, Some("inactive")));
        for (status, progress) in [("active", 200), ("excluded", 404), ("active", 200)] {
            let (st, e) = a
                .post(
                    "/v1/members/m-new/events",
                    &json!({ "type": "status", "status": status }),
                )
                .await;
            assert_eq!(st, 201, "{e}");
            assert_eq!(e["member"]["status"], status);
            let (st, _) = a.get("/v1/members/m-new/progress").await;
            assert_eq!(st, progress, "progress while {status}");
        }
        // The phone is immutable: no route changes it; a second member cannot take it.
        let (st, e) = a
            .post("/v1/members", &json!({ "phone": "+84903222333" }))
            .await;
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (409, Some("invalid_state"))
        );

        // m-001 (silver, 300 points, card C-001) moves to a new phone.
        let (st, out) = a
            .post(
                "/v1/members/m-001/move",
                &json!({ "phone": "0903 000 009", "reason": "lost SIM", "new_id": "m-001b" }),
            )
            .await;
        assert_eq!(st, 201, "{out}");
        assert_eq!(out["moved_points"], 300);
        assert_eq!(
            (
                out["new"]["phone"].as_str(),
                out["new"]["snapshot"]["tier"].as_str()
            ),
            (Some("+84903000009"), Some("silver"))
        );
        assert_eq!(out["new"]["snapshot"]["points"], 300);
        assert_eq!(out["new"]["cards"][0]["number"], "C-001");
        assert_eq!(
            (
                out["old"]["status"].as_str(),
                out["old"]["snapshot"]["points"].as_i64()
            ),
            (Some("excluded"), Some(0))
        );
        // The liability is counted once: 300 + 0.
        let (_, old) = a.get("/v1/members/m-001").await;
        let (_, new) = a.get("/v1/members/m-001b").await;
        assert_eq!(old["totals"]["adjusted"], -300);
        assert_eq!(new["totals"]["adjusted"], 300);
        assert_eq!(new["tier"]["id"], "silver");
        let (_, audit) = a.get("/v1/audit").await;
        assert!(audit.to_string().contains("lost SIM"));
        // Once moved, the old record is out of the programme: no second move.
        let (st, _) = a
            .post(
                "/v1/members/m-001/move",
                &json!({ "phone": "0903 000 010", "reason": "x" }),
            )
            .await;
        assert_eq!(st, 409);
        let (st, e) = a
            .post(
                "/v1/members/m-001b/move",
                &json!({ "phone": "0903 222 333", "reason": "x" }),
            )
            .await;
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (409, Some("invalid_state")),
            "taken phone"
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn erasure_keeps_the_events_and_the_totals() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        let key = s.till_key("hcm-01-t1").await;
        sell(&s, &key, "C-001", "ER-1").await;
        // A one-time code (the outbox row carries the phone).
        let r = s
            .http
            .post(format!("{}/v1/member/login", s.base))
            .json(&json!({ "phone": "+84903000001" }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let (_, before) = a.get("/v1/members/m-001").await;
        let (st, export) = a.get("/v1/members/m-001/export").await;
        assert_eq!(st, 200);
        assert_eq!(export["member"]["name"], "Nguyễn Văn An");
        assert_eq!(export["member"]["phone"], "+84903000001");
        assert_eq!(export["orders"].as_array().unwrap().len(), 1);
        let n_events = export["events"].as_array().unwrap().len();

        let (st, out) = a
            .post(
                "/v1/members/m-001/erase",
                &json!({ "reason": "customer asked" }),
            )
            .await;
        assert_eq!(st, 200, "{out}");
        let (_, after) = a.get("/v1/members/m-001").await;
        assert_eq!(before["totals"], after["totals"]);
        assert_eq!(before["points"], after["points"]);
        let (_, export) = a.get("/v1/members/m-001/export").await;
        assert_eq!(export["member"]["name"], Value::Null);
        assert_eq!(export["member"]["phone"], Value::Null);
        assert_eq!(export["events"].as_array().unwrap().len(), n_events);
        assert_eq!(export["cards"][0]["state"], "retired");
        // Nowhere any more: audit, outbox, the kept answer of the sale.
        let (_, audit) = a.get("/v1/audit").await;
        let outbox = a.get_text("/v1/outbox").await;
        for text in [audit.to_string(), outbox.clone(), export.to_string()] {
            assert!(
                !text.contains("903000001") && !text.contains("Nguyễn Văn An"),
                "{text}"
            );
        }
        assert!(outbox.contains("\"erased\":true"));
        let (st, found) = a.get("/v1/members?q=Nguyen").await;
        assert_eq!((st, found["items"].as_array().unwrap().len()), (200, 0));
        // The card number is retired, never reused; the member can no longer log in.
        let (st, _) = s.get("/v1/members/lookup?card=C-001", &key).await;
        assert_eq!(st, 409);
        let (st, _) = a
            .post("/v1/members/m-001/erase", &json!({ "reason": "again" }))
            .await;
        assert_eq!(st, 409);
        s.stop().await;
    }
}

#[tokio::test]
async fn search_ignores_diacritics_and_phone_forms() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        let (st, _) = a
            .post("/v1/members", &json!({ "id": "m-002", "phone": "0912 345 678", "name": "Đặng Thị Hà", "status": "active" }))
            .await;
        assert_eq!(st, 201);
        let ids = |v: &Value| -> Vec<String> {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string())
                .collect()
        };
        for (q, want) in [
            ("Nguyen", vec!["m-001"]),
            ("nguyễn văn", vec!["m-001"]),
            ("dang thi ha", vec!["m-002"]),
            ("ĐẶNG", vec!["m-002"]),
            ("0903 000 001", vec!["m-001"]),
            ("84903000001", vec!["m-001"]),
            ("+84 912-345-678", vec!["m-002"]),
            ("C-001", vec!["m-001"]),
            ("m-002", vec!["m-002"]),
            ("nobody", vec![]),
        ] {
            let (st, r) = a.get(&format!("/v1/members?q={}", urlencode(q))).await;
            assert_eq!(st, 200, "{r}");
            assert_eq!(ids(&r), want, "q={q}");
        }
        // The tier filter reads the cached tier, written by every change (here a set_tier).
        let (st, _) = a
            .post(
                "/v1/members/m-002/events",
                &json!({ "type": "set_tier", "tier": "gold" }),
            )
            .await;
        assert_eq!(st, 201);
        let (_, r) = a.get("/v1/members?tier=gold").await;
        assert_eq!(ids(&r), ["m-002"]);
        let (_, r) = a.get("/v1/members?status=active&limit=1").await;
        assert_eq!(ids(&r), ["m-001"]);
        let (_, r2) = a
            .get(&format!(
                "/v1/members?status=active&limit=1&cursor={}",
                r["next_cursor"].as_str().unwrap()
            ))
            .await;
        assert_eq!(ids(&r2), ["m-002"]);
        assert_eq!(r2["next_cursor"], Value::Null);
        s.stop().await;
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_reward_is_redeemed_once() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let key = s.till_key("hcm-01-t1").await;
        // The tote bag: 300 points, silver and up; m-001 is silver with 300.
        let body = json!({ "reward_id": "tote-bag", "card": "C-001" });
        let (st, out) = s
            .post("/v1/members/m-001/rewards", &key, Some("rw-1"), &body)
            .await;
        assert_eq!(st, 201, "{out}");
        let o = v(&out);
        assert_eq!(
            (
                o["points"].as_i64(),
                o["member"]["points"]["available"].as_i64()
            ),
            (Some(300), Some(0))
        );
        let (st, again) = s
            .post("/v1/members/m-001/rewards", &key, Some("rw-1"), &body)
            .await;
        assert_eq!(
            (st, again.as_str()),
            (201, out.as_str()),
            "a retry gets the first answer"
        );
        let (st, e) = s
            .post("/v1/members/m-001/rewards", &key, Some("rw-2"), &body)
            .await;
        assert_eq!(
            (st, error_code(&e).as_str()),
            (400, "insufficient_points"),
            "{e}"
        );
        let (st, e) = s
            .post(
                "/v1/members/m-001/rewards",
                &key,
                Some("rw-3"),
                &json!({ "reward_id": "yacht" }),
            )
            .await;
        assert_eq!(st, 400, "{e}");
        let (st, _) = s.post("/v1/members/m-001/rewards", &key, None, &body).await;
        assert_eq!(st, 400, "the key is required");
        s.stop().await;
    }
}
