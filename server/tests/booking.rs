//! SPEC §8.5 through HTTP, on SQLite and (with `LOYALTY_TEST_PG`) PostgreSQL: two steps,
//! retries answered byte for byte, conflicts, holds, refunds and offline sales — every figure
//! checked by hand against the SPEC §2 worked example.

mod support;

use serde_json::{json, Value};
use support::*;

fn v(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

/// The member as a till reads it (lookup by card).
async fn snapshot(s: &TestServer, key: &str) -> Value {
    let (st, m) = s.get("/v1/members/lookup?card=C-001", key).await;
    assert_eq!(st, 200, "{m}");
    m["snapshot"].clone()
}

#[tokio::test]
async fn two_steps_retries_and_refund() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let key = s.till_key("hcm-01-t1").await;
        let member = snapshot(&s, &key).await;
        assert_eq!(
            member,
            json!({ "id": "m-001", "status": "active", "tier": "silver", "points": 300 }),
            "{b:?}"
        );

        // SPEC §2: total 1,315,000, 300 points redeemed, 32 earned.
        let (req, q) = quote(&member, spec_cart("R-1", T0_TEXT), json!("max"));
        assert_eq!(
            (
                q["total"].as_str(),
                q["redeemed_points"].as_i64(),
                q["earned_points"].as_i64()
            ),
            (Some("1315000"), Some(300), Some(32))
        );
        let body = order_body("R-1", &req, &q, false, false);
        let (st, first) = s.post_text("/v1/orders", &key, Some("k-1"), &body).await;
        assert_eq!(st, 201, "{b:?} {first}");
        let held = v(&first);
        assert_eq!(held["state"], "held");
        assert!(
            first.contains(&format!(r#""quote":{},"member":null}}"#, q.text)),
            "the till's quote comes back as sent: {first}"
        );
        assert_eq!(
            held["hold_expires_at"], "2026-03-07T03:15:00+00:00",
            "15 minutes by default"
        );
        let order = held["order_id"].as_str().unwrap().to_string();

        // The same key and body (keys in another order): the first answer, byte for byte.
        let reordered = format!(
            r#"{{ "offline": false, "confirm": false, "quote": {}, "quote_request": {req}, "card": "C-001", "document_no": "R-1" }}"#,
            q.text
        );
        let (st2, again) = s
            .post_text("/v1/orders", &key, Some("k-1"), &reordered)
            .await;
        assert_eq!((st2, again.as_str()), (201, first.as_str()));
        // The same key with another body: 409, nothing booked.
        let other = order_body("R-1b", &req, &q, false, false);
        let (st3, conflict) = s.post_text("/v1/orders", &key, Some("k-1"), &other).await;
        assert_eq!(
            (st3, error_code(&conflict).as_str()),
            (409, "idempotency_conflict")
        );
        // Another key for the same document: 409 duplicate_document.
        let (st4, dup) = s.post_text("/v1/orders", &key, Some("k-2"), &body).await;
        assert_eq!(
            (st4, error_code(&dup).as_str()),
            (409, "duplicate_document"),
            "{dup}"
        );

        // While held, the till sees 300 − 300 = 0 spendable points.
        assert_eq!(snapshot(&s, &key).await["points"], 0);

        // Step 2: 300 − 300 + 32 = 32 available.
        let (st, confirmed) = s
            .post(
                &format!("/v1/orders/{order}/confirm"),
                &key,
                None,
                &json!({}),
            )
            .await;
        assert_eq!(st, 200, "{confirmed}");
        let c = v(&confirmed);
        assert_eq!(c["state"], "booked");
        assert_eq!(
            c["member"]["points"],
            json!({ "available": 32, "pending": 0 })
        );
        let (st, again) = s
            .post(
                &format!("/v1/orders/{order}/confirm"),
                &key,
                None,
                &json!({}),
            )
            .await;
        assert_eq!(
            (st, again.as_str()),
            (200, confirmed.as_str()),
            "a repeated confirm gets the first answer"
        );
        let (st, void) = s
            .post(&format!("/v1/orders/{order}/void"), &key, None, &json!({}))
            .await;
        assert_eq!((st, error_code(&void).as_str()), (409, "invalid_state"));

        // Refund line A (2 × 250,000). Recomputed without A: B paid 928,235 → 18.5647 units ×… →
        // floor 18 + weekend 10 = 28, so 32 − 28 = 4 clawed back; A's paid 386,765 of 1,315,000
        // returns floor(300 × 386,765 ÷ 1,315,000) = 88 points. 32 + 88 − 4 = 116.
        let refund = json!({ "lines": [{ "line_id": "A", "quantity": 2 }], "at": "2026-03-07T10:02:00+07:00" });
        let (st, r1) = s
            .post(
                &format!("/v1/orders/{order}/refunds"),
                &key,
                Some("rf-1"),
                &refund,
            )
            .await;
        assert_eq!(st, 201, "{r1}");
        let r = v(&r1);
        assert_eq!(r["points_delta"], 84);
        assert_eq!(r["member"]["points"]["available"], 116);
        let (st, r2) = s
            .post(
                &format!("/v1/orders/{order}/refunds"),
                &key,
                Some("rf-1"),
                &refund,
            )
            .await;
        assert_eq!(
            (st, r2.as_str()),
            (201, r1.as_str()),
            "a retried refund is answered once"
        );
        // Refunding A again exceeds the order: 400, not kept, nothing changes.
        let (st, r3) = s
            .post(
                &format!("/v1/orders/{order}/refunds"),
                &key,
                Some("rf-2"),
                &refund,
            )
            .await;
        assert_eq!(
            (st, error_code(&r3).as_str()),
            (400, "refund_exceeds_order"),
            "{r3}"
        );
        assert!(
            v(&r3)["error"]["path"]
                .as_str()
                .unwrap()
                .starts_with("lines"),
            "{r3}"
        );

        // The member read is the replay: 116 available, history holds the sale and the refund.
        let (st, m) = s.get("/v1/members/m-001", &key).await;
        assert_eq!(st, 200);
        assert_eq!(m["points"]["available"], 116);
        let types: Vec<&str> = m["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["opening_balance", "set_tier", "purchase", "refund"]);
        let check = loyalty_server::ops::check(&s.app().db).await.unwrap();
        assert!(check.differences.is_empty(), "{:?}", check.differences);
        s.stop().await;
    }
}

#[tokio::test]
async fn mismatch_insufficient_points_and_holds() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let key = s.till_key("hcm-01-t1").await;
        let member = snapshot(&s, &key).await;

        // A tampered total: 409 quote_mismatch with the differing figures and the server's quote.
        let (req, q) = quote(&member, spec_cart("R-2", T0_TEXT), json!(100));
        let q = q.tampered(r#""total":"1515000""#, r#""total":"1""#);
        let (st, body) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("m-1"),
                &order_body("R-2", &req, &q, false, false),
            )
            .await;
        assert_eq!(
            (st, error_code(&body).as_str()),
            (409, "quote_mismatch"),
            "{body}"
        );
        let d = &v(&body)["error"]["details"];
        assert!(
            d["figures"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["field"] == "total" && f["expected"] == "1515000"),
            "{d}"
        );
        assert_eq!(d["server_quote"]["total"], "1515000");
        // Kept under its key: the retry gets the same 409.
        let (st2, body2) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("m-1"),
                &order_body("R-2", &req, &q, false, false),
            )
            .await;
        assert_eq!((st2, body2.as_str()), (409, body.as_str()));

        // A till that thinks the member is gold: 409, member.tier differs, the server's quote at silver.
        let mut gold = member.clone();
        gold["tier"] = json!("gold");
        let (req_g, q_g) = quote(&gold, spec_cart("R-3", T0_TEXT), json!(0));
        let (st, body) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("m-2"),
                &order_body("R-3", &req_g, &q_g, false, false),
            )
            .await;
        assert_eq!(st, 409, "{body}");
        let d = &v(&body)["error"]["details"];
        assert!(
            d["figures"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["field"] == "member.tier"
                    && f["expected"] == "silver"
                    && f["received"] == "gold"),
            "{d}"
        );
        assert_eq!(d["server_quote"]["tier"], "silver");

        // Two holds on the same 300 points: the second is 409 insufficient_points.
        let (r1, q1) = quote(&member, spec_cart("R-4", T0_TEXT), json!(300));
        let (st, h1) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("h-1"),
                &order_body("R-4", &r1, &q1, false, false),
            )
            .await;
        assert_eq!(st, 201, "{h1}");
        let (r2, q2) = quote(&member, spec_cart("R-5", T0_TEXT), json!(200));
        let (st, h2) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("h-2"),
                &order_body("R-5", &r2, &q2, false, false),
            )
            .await;
        assert_eq!(
            (st, error_code(&h2).as_str()),
            (409, "insufficient_points"),
            "{h2}"
        );

        // The first hold is not confirmed: 16 minutes later it has expired by itself.
        s.clock().advance(16 * 60_000);
        let o1 = v(&h1)["order_id"].as_str().unwrap().to_string();
        let (st, c) = s
            .post(&format!("/v1/orders/{o1}/confirm"), &key, None, &json!({}))
            .await;
        assert_eq!((st, error_code(&c).as_str()), (409, "invalid_state"), "{c}");
        // …and its points are spendable again (a re-quote at the new time, a new key).
        let at = "2026-03-07T10:16:00+07:00";
        let (r3, q3) = quote(&member, spec_cart("R-5", at), json!(200));
        let (st, h3) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("h-3"),
                &order_body("R-5", &r3, &q3, true, false),
            )
            .await;
        assert_eq!(st, 201, "{h3}");
        assert_eq!(v(&h3)["state"], "booked");
        // 300 − 200 + earned on 1,515,000 − 200,000 … the engine's earned_points, exactly.
        assert_eq!(
            v(&h3)["member"]["points"]["available"],
            100 + q3["earned_points"].as_i64().unwrap()
        );

        // An online sale 10 minutes away from the server's clock is refused (not kept).
        let (r4, q4) = quote(
            &member,
            spec_cart("R-6", "2026-03-07T09:00:00+07:00"),
            json!(0),
        );
        let (st, e) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("t-1"),
                &order_body("R-6", &r4, &q4, false, false),
            )
            .await;
        assert_eq!(
            (st, v(&e)["error"]["path"].as_str()),
            (400, Some("quote_request.cart.at"))
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn offline_sales_are_booked_as_quoted() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let key = s.till_key("hcm-01-t1").await;
        let member = json!({ "id": "m-001", "status": "active", "tier": "silver", "points": 300 });
        // Two offline tills each spent the same 300 points an hour ago.
        let at = "2026-03-07T09:00:00+07:00";
        let (r1, q1) = quote(&member, spec_cart("OFF-1", at), json!("max"));
        let (st, a) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("off-1"),
                &order_body("OFF-1", &r1, &q1, false, true),
            )
            .await;
        assert_eq!(st, 201, "{a}");
        assert_eq!(v(&a)["flags"], json!([]));
        assert_eq!(v(&a)["member"]["points"]["available"], 32);
        let (r2, q2) = quote(&member, spec_cart("OFF-2", at), json!("max"));
        let (st, b2) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("off-2"),
                &order_body("OFF-2", &r2, &q2, false, true),
            )
            .await;
        assert_eq!(st, 201, "{b2}");
        // Booked as quoted: 32 − 300 + 32 = −236, flagged overdraft.
        assert_eq!(v(&b2)["state"], "booked");
        assert_eq!(v(&b2)["member"]["points"]["available"], -236);
        assert!(
            v(&b2)["flags"]
                .as_array()
                .unwrap()
                .contains(&json!("overdraft")),
            "{b2}"
        );
        // A tampered offline quote is not a sale to trust.
        let (r3, q3) = quote(&member, spec_cart("OFF-3", at), json!(0));
        let q3 = q3.tampered(r#""earned_points":37"#, r#""earned_points":999"#);
        let (st, c) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("off-3"),
                &order_body("OFF-3", &r3, &q3, false, true),
            )
            .await;
        assert_eq!(
            (st, error_code(&c).as_str()),
            (409, "quote_mismatch"),
            "{c}"
        );
        // A stale tier: the till thought gold.
        let gold = json!({ "id": "m-001", "status": "active", "tier": "gold", "points": 0 });
        let (r4, q4) = quote(&gold, spec_cart("OFF-4", at), json!(0));
        let (st, d) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("off-4"),
                &order_body("OFF-4", &r4, &q4, false, true),
            )
            .await;
        assert_eq!(st, 201, "{d}");
        assert!(
            v(&d)["flags"]
                .as_array()
                .unwrap()
                .contains(&json!("stale_member")),
            "{d}"
        );
        // In debt, the member still buys: a sale that redeems nothing is booked online (SPEC §7:
        // later earning pays the debt off first), whether the till asked for 0 or "max".
        let debt = snapshot(&s, &key).await;
        let before = debt["points"].as_i64().unwrap();
        assert!(before < 0, "{debt}");
        for (doc, redeem) in [("ON-1", json!("max")), ("ON-2", json!(0))] {
            let (r, q) = quote(&snapshot(&s, &key).await, spec_cart(doc, T0_TEXT), redeem);
            assert_eq!(q["redeemed_points"], 0, "{}", q.text);
            let (st, e) = s
                .post_text(
                    "/v1/orders",
                    &key,
                    Some(doc),
                    &order_body(doc, &r, &q, true, false),
                )
                .await;
            assert_eq!(st, 201, "{e}");
            assert_eq!(v(&e)["state"], "booked");
        }
        // Each sale earned the 37 points of the SPEC §2 cart at silver (the tier the server keeps).
        assert_eq!(snapshot(&s, &key).await["points"], before + 2 * 37);
        // A redemption the debt cannot pay is still refused.
        let mut rich = snapshot(&s, &key).await;
        rich["points"] = json!(300);
        let (r, q) = quote(&rich, spec_cart("ON-3", T0_TEXT), json!(100));
        let (st, e) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("ON-3"),
                &order_body("ON-3", &r, &q, true, false),
            )
            .await;
        assert_eq!(
            (st, error_code(&e).as_str()),
            (409, "insufficient_points"),
            "{e}"
        );
        let check = loyalty_server::ops::check(&s.app().db).await.unwrap();
        assert!(check.differences.is_empty(), "{:?}", check.differences);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_holds_never_spend_more_than_available() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let key = s.till_key("hcm-01-t1").await;
        let member = snapshot(&s, &key).await;
        // 16 tills at once, each redeeming 100 of the member's 300 points; half hold, half book
        // at once. A booked sale also earns 35 points (the SPEC §2 cart at silver), so what fits
        // depends on the order the server takes them in: three holds, or up to four when booked
        // sales come first (300 → 235 → 170 → 105 → a hold of 100).
        let mut tasks = Vec::new();
        for i in 0..16 {
            let doc = format!("C-{i}");
            let (req, q) = quote(&member, spec_cart(&doc, T0_TEXT), json!(100));
            let body = order_body(&doc, &req, &q, i % 2 == 0, false);
            let http = s.http.clone();
            let url = format!("{}/v1/orders", s.base);
            let key = key.clone();
            tasks.push(tokio::spawn(async move {
                let r = http
                    .post(url)
                    .bearer_auth(key)
                    .header("Idempotency-Key", format!("c-{i}"))
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }));
        }
        let mut ok = 0;
        for t in tasks {
            let (st, body) = t.await.unwrap();
            match st {
                201 => ok += 1,
                409 => assert_eq!(error_code(&body), "insufficient_points", "{body}"),
                _ => panic!("{st} {body}"),
            }
        }
        assert!((3..=4).contains(&ok), "{b:?}: {ok} accepted");
        // What a till may still spend never goes below zero, and is below 100: every accepted
        // order lowered it, so a refused one (which saw at least this much) could not fit.
        let spendable = snapshot(&s, &key).await["points"].as_i64().unwrap();
        assert!((0..100).contains(&spendable), "{b:?}: {spendable} left");
        let (_, m) = s.get("/v1/members/m-001", &key).await;
        assert!(m["points"]["available"].as_i64().unwrap() >= 0, "{m}");
        s.stop().await;
    }
}

/// GET /v1/orders/{id} gives the server's refunded quantities per line (from the member's stored
/// refund events): what the till's refund screen shows and caps its inputs at.
#[tokio::test]
async fn order_shows_refunded_quantities() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let key = s.till_key("hcm-01-t1").await;
        let member = snapshot(&s, &key).await;
        // SPEC §2 cart: A 2 × 250,000, B 1 × 1,200,000; booked at once.
        let (req, q) = quote(&member, spec_cart("R-9", T0_TEXT), json!(0));
        let body = order_body("R-9", &req, &q, true, false);
        let (st, booked) = s.post_text("/v1/orders", &key, Some("k-9"), &body).await;
        assert_eq!(st, 201, "{b:?} {booked}");
        let order = v(&booked)["order_id"].as_str().unwrap().to_string();
        let lines = |o: &Value| o["refunds"]["lines"].clone();

        let (st, o) = s.get(&format!("/v1/orders/{order}"), &key).await;
        assert_eq!(st, 200, "{o}");
        assert_eq!(o["refunds"]["ids"], json!([]));
        assert_eq!(
            lines(&o),
            json!([{ "line_id": "A", "quantity": 2, "refunded": 0, "refundable": 2 },
                   { "line_id": "B", "quantity": 1, "refunded": 0, "refundable": 1 }])
        );

        // One of the two A units back: A 1 refunded, 1 left; B untouched.
        let one = json!({ "lines": [{ "line_id": "A", "quantity": 1 }], "at": "2026-03-07T10:02:00+07:00" });
        let (st, r1) = s
            .post(
                &format!("/v1/orders/{order}/refunds"),
                &key,
                Some("rf-9a"),
                &one,
            )
            .await;
        assert_eq!(st, 201, "{r1}");
        let (_, o) = s.get(&format!("/v1/orders/{order}"), &key).await;
        assert_eq!(o["refunds"]["ids"], json!([format!("{order}-r1")]));
        assert_eq!(
            lines(&o),
            json!([{ "line_id": "A", "quantity": 2, "refunded": 1, "refundable": 1 },
                   { "line_id": "B", "quantity": 1, "refunded": 0, "refundable": 1 }])
        );
        // Two more A units exceed what remains (1): refused, and the figures do not move.
        let two = json!({ "lines": [{ "line_id": "A", "quantity": 2 }], "at": "2026-03-07T10:03:00+07:00" });
        let (st, r2) = s
            .post(
                &format!("/v1/orders/{order}/refunds"),
                &key,
                Some("rf-9b"),
                &two,
            )
            .await;
        assert_eq!(
            (st, error_code(&r2).as_str()),
            (400, "refund_exceeds_order"),
            "{r2}"
        );
        let (_, again) = s.get(&format!("/v1/orders/{order}"), &key).await;
        assert_eq!(lines(&again), lines(&o));

        // The rest of the order (no `lines`): every line fully refunded, nothing refundable.
        let (st, r3) = s
            .post(
                &format!("/v1/orders/{order}/refunds"),
                &key,
                Some("rf-9c"),
                &json!({ "at": "2026-03-07T10:04:00+07:00" }),
            )
            .await;
        assert_eq!(st, 201, "{r3}");
        let (_, o) = s.get(&format!("/v1/orders/{order}"), &key).await;
        assert_eq!(
            o["refunds"]["ids"],
            json!([format!("{order}-r1"), format!("{order}-r2")])
        );
        assert_eq!(
            lines(&o),
            json!([{ "line_id": "A", "quantity": 2, "refunded": 2, "refundable": 0 },
                   { "line_id": "B", "quantity": 1, "refunded": 1, "refundable": 0 }])
        );
        s.stop().await;
    }
}

/// A key's record holds its first kept answer, once, however the booking found the key: on
/// SQLite the key is looked for in the booking's first statement and claimed the usual way only
/// when it has a record or the member does not exist (`idempotency::Unclaimed`).
#[tokio::test]
async fn a_key_keeps_its_first_answer_whatever_comes_next() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let key = s.till_key("hcm-01-t1").await;
        let member = snapshot(&s, &key).await;
        let (req, q) = quote(&member, spec_cart("K-1", T0_TEXT), json!("max"));
        let body = order_body("K-1", &req, &q, true, false);
        let (st, first) = s.post_text("/v1/orders", &key, Some("key-1"), &body).await;
        assert_eq!(st, 201, "{b:?} {first}");
        let kept = |k: &str| {
            format!("SELECT CAST(COUNT(*) AS BIGINT) FROM idempotency WHERE key = '{k}' AND status = 201 AND response = '{}'", first.replace('\'', "''"))
        };
        assert_eq!(
            count(&s, &kept("key-1")).await,
            1,
            "{b:?}: kept once, the answer byte for byte"
        );
        let (st, again) = s.post_text("/v1/orders", &key, Some("key-1"), &body).await;
        assert_eq!((st, again.as_str()), (201, first.as_str()), "{b:?}");

        // The same key naming a member that does not exist: the key's conflict, not a 404.
        let mut nobody = req.clone();
        nobody["member"]["id"] = json!("m-nobody");
        let other = order_body("K-2", &nobody, &q, true, false);
        let (st, answer) = s.post_text("/v1/orders", &key, Some("key-1"), &other).await;
        assert_eq!(
            (st, error_code(&answer).as_str()),
            (409, "idempotency_conflict"),
            "{b:?} {answer}"
        );
        // Under a fresh key it is a 404, which is not kept.
        let (st, answer) = s.post_text("/v1/orders", &key, Some("key-2"), &other).await;
        assert_eq!(
            (st, error_code(&answer).as_str()),
            (404, "not_found"),
            "{b:?} {answer}"
        );
        let under =
            |k: &str| format!("SELECT CAST(COUNT(*) AS BIGINT) FROM idempotency WHERE key = '{k}'");
        assert_eq!(count(&s, &under("key-2")).await, 0, "{b:?}");

        // A kept 409 (a tampered quote): kept once, its retry answered with it, nothing booked.
        let (req3, q3) = quote(&member, spec_cart("K-3", T0_TEXT), json!(0));
        let bad = q3.tampered(&format!(r#""total":{}"#, q3.v["total"]), r#""total":"1""#);
        let body3 = order_body("K-3", &req3, &bad, true, false);
        let (st, mismatch) = s.post_text("/v1/orders", &key, Some("key-3"), &body3).await;
        assert_eq!(
            (st, error_code(&mismatch).as_str()),
            (409, "quote_mismatch"),
            "{b:?} {mismatch}"
        );
        let (st, again) = s.post_text("/v1/orders", &key, Some("key-3"), &body3).await;
        assert_eq!((st, again.as_str()), (409, mismatch.as_str()), "{b:?}");
        assert_eq!(count(&s, &under("key-3")).await, 1, "{b:?}");
        assert_eq!(
            count(&s, "SELECT CAST(COUNT(*) AS BIGINT) FROM orders").await,
            1,
            "{b:?}: only the first booking"
        );
        s.stop().await;
    }
}

/// Eight tills' worth of the same request under one key at once: one booking, eight answers
/// byte for byte the same — the others wait for the first (SQLite's write lock; PostgreSQL's
/// key, claimed first thing) and replay its answer; none fails.
#[tokio::test]
async fn the_same_key_at_once_books_once() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let key = s.till_key("hcm-01-t1").await;
        let member = snapshot(&s, &key).await;
        let (req, q) = quote(&member, spec_cart("S-1", T0_TEXT), json!("max"));
        let body = order_body("S-1", &req, &q, true, false);
        let sends = (0..8).map(|_| s.post_text("/v1/orders", &key, Some("same-1"), &body));
        let answers = futures_util::future::join_all(sends).await;
        let (st, first) = &answers[0];
        assert_eq!(*st, 201, "{b:?} {first}");
        for (st2, other) in &answers {
            assert_eq!((st2, other), (st, first), "{b:?}");
        }
        assert_eq!(
            count(&s, "SELECT CAST(COUNT(*) AS BIGINT) FROM orders").await,
            1,
            "{b:?}"
        );
        assert_eq!(
            count(&s, "SELECT CAST(COUNT(*) AS BIGINT) FROM idempotency WHERE key = 'same-1' AND status = 201").await,
            1,
            "{b:?}"
        );
        s.stop().await;
    }
}
