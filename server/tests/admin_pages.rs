//! What the admin page adds on top of the API (issue 14): a draft policy simulated over every
//! stored member (`POST /v1/policies/{digest}/simulate`, the engine's report as
//! `loyalty simulate` prints it) and the webhook list — admin only, on SQLite and (with
//! `LOYALTY_TEST_PG`) PostgreSQL.

mod support;

use serde_json::{json, Value};
use support::*;

/// A member's simulate line (`loyalty simulate --members`) from the admin export: the member as
/// it joined and its stored events.
async fn history_from_export(a: &Admin, id: &str) -> Value {
    let (st, x) = a.get(&format!("/v1/members/{id}/export")).await;
    assert_eq!(st, 200, "{x}");
    let events: Vec<Value> = x["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].clone())
        .collect();
    json!({
        "member": { "id": id, "status": x["member"]["status_at_joining"], "joined_at": x["member"]["joined_at"] },
        "events": events,
    })
}

#[tokio::test]
async fn a_draft_is_simulated_over_the_stored_members_as_loyalty_simulate_does() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        let till = s.till_key("hcm-01-t1").await;
        // Three members: m-001 (silver, 300), m-002 (nothing), m-003 (1,000 points); two sales.
        add_member(
            &s.app().db,
            "m-002",
            Some("+84903000002"),
            Some("C-002"),
            0,
            None,
        )
        .await;
        add_member(&s.app().db, "m-003", Some("+84903000003"), None, 1000, None).await;
        let sold1 = sell(&s, &till, "C-001", "R-1").await;
        let sold2 = sell(&s, &till, "C-002", "R-2").await;
        // The draft earns 2 points per 100,000 ₫ instead of 1.
        let mut draft = spec_policy();
        draft["earning"]["points"] = json!(2);
        let (st, v) = a.post("/v1/policies", &draft).await;
        assert_eq!(st, 201, "{v}");
        let digest = v["policy_digest"].as_str().unwrap().to_string();
        let path = format!("/v1/policies/{digest}/simulate");
        let as_of = "2026-03-07T12:00:00+07:00";

        // Only an admin simulates: a till key is refused (403), no credentials 401.
        let (st, e) = s.post(&path, &till, None, &json!({ "as_of": as_of })).await;
        assert_eq!((st, error_code(&e).as_str()), (403, "forbidden"), "{e}");
        let r = s
            .http
            .post(format!("{}{path}", s.base))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);

        let (st, report) = a
            .post(
                &path,
                &json!({ "as_of": as_of, "expected_redemption": "0.5" }),
            )
            .await;
        assert_eq!(st, 200, "{report}");

        // The same members through the library, as `loyalty simulate --policy draft --baseline
        // active --members <ndjson by id>` runs them.
        let mut members = Vec::new();
        for id in ["m-001", "m-002", "m-003"] {
            members.push(history_from_export(&a, id).await);
        }
        let req = json!({ "policy": draft, "baseline": spec_policy(), "members": members,
                          "as_of": as_of, "expected_redemption": "0.5" });
        let expected: Value =
            serde_json::from_str(&loyalty_engine::api::simulate_json(&req.to_string())).unwrap();
        assert_eq!(report, expected, "server and library differ");

        // Hand-checked: each sale earned 10 + the weekend bonus 10 under the active policy
        // (the server's booking says so); the draft doubles the 10 of spend.
        let earned1 = sold1["quote"]["earned_points"].as_i64().unwrap();
        let earned2 = sold2["quote"]["earned_points"].as_i64().unwrap();
        assert_eq!(report["members"], 3);
        assert_eq!(report["rejected"], json!([]));
        let before = report["diff"]["baseline"]["points"]["issued"]
            .as_i64()
            .unwrap();
        let after = report["points"]["issued"].as_i64().unwrap();
        assert_eq!(after - before, 10 + 10, "{report}");
        let before_out = report["diff"]["baseline"]["points"]["outstanding"]
            .as_i64()
            .unwrap();
        assert_eq!(before_out, 300 + 1000 + earned1 + earned2, "{report}");
        assert_eq!(
            report["points"]["outstanding"].as_i64().unwrap(),
            before_out + 20
        );

        // Without as_of: now; an unknown digest 404; bad parameters 400 at their path.
        let (st, now_report) = a.post(&path, &json!({})).await;
        assert_eq!(st, 200, "{now_report}");
        assert_eq!(now_report["members"], 3);
        let (st, e) = a
            .post("/v1/policies/sha256:nope/simulate", &json!({}))
            .await;
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{e}"
        );
        let (st, e) = a.post(&path, &json!({ "as_of": "yesterday" })).await;
        assert_eq!(
            (st, e["error"]["path"].as_str()),
            (400, Some("as_of")),
            "{e}"
        );
        let (st, e) = a.post(&path, &json!({ "expected_redemption": "2" })).await;
        assert_eq!(
            (st, e["error"]["path"].as_str()),
            (400, Some("expected_redemption")),
            "{e}"
        );
        let (st, e) = a.post(&path, &json!({ "members": [] })).await;
        assert_eq!(st, 400, "unknown fields are refused: {e}");
        s.stop().await;
    }
}

#[tokio::test]
async fn webhooks_are_listed_to_admins_without_their_secrets() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        let till = s.till_key("hcm-01-t1").await;
        let (st, list) = a.get("/v1/webhooks").await;
        assert_eq!((st, list["items"].clone()), (200, json!([])));
        let (st, w1) = a
            .post(
                "/v1/webhooks",
                &json!({ "url": "https://crm.example/hooks/loyalty" }),
            )
            .await;
        assert_eq!(st, 201, "{w1}");
        assert_eq!(w1["secret"].as_str().unwrap().len(), 64, "{w1}");
        s.clock().set(T0 + 1_000);
        let (st, w2) = a
            .post("/v1/webhooks", &json!({ "url": "http://10.0.0.5:8080/in" }))
            .await;
        assert_eq!(st, 201, "{w2}");
        let (st, list) = a.get("/v1/webhooks").await;
        assert_eq!(st, 200);
        assert_eq!(
            list["items"],
            json!([
                { "id": w1["id"], "url": "https://crm.example/hooks/loyalty", "created_at": "2026-03-07T03:00:00+00:00", "pending": 0, "events": null },
                { "id": w2["id"], "url": "http://10.0.0.5:8080/in", "created_at": "2026-03-07T03:00:01+00:00", "pending": 0, "events": null },
            ])
        );
        assert!(!list.to_string().contains(w1["secret"].as_str().unwrap()));
        let (st, e) = s.get("/v1/webhooks", &till).await;
        assert_eq!(
            (st, e["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{e}"
        );
        let (st, e) = a.post("/v1/webhooks", &json!({ "url": "ftp://x" })).await;
        assert_eq!((st, e["error"]["path"].as_str()), (400, Some("url")), "{e}");
        s.stop().await;
    }
}

/// The outbox as (kind) lines, from `GET /v1/outbox` (NDJSON).
async fn outbox_kinds(a: &Admin) -> Vec<String> {
    let text = a.get_text("/v1/outbox?limit=1000").await;
    text.lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_webhook_gets_only_the_notice_kinds_it_subscribed_to() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let a = s.admin().await;
        let till = s.till_key("hcm-01-t1").await;
        // Nothing listens on port 9: every delivery stays pending, counted per webhook.
        let (st, all) = a
            .post("/v1/webhooks", &json!({ "url": "http://127.0.0.1:9/all" }))
            .await;
        assert_eq!((st, all["events"].clone()), (201, Value::Null), "{all}");
        let (st, receipts) = a
            .post(
                "/v1/webhooks",
                &json!({ "url": "http://127.0.0.1:9/receipts", "events": ["receipt", "receipt"] }),
            )
            .await;
        assert_eq!(
            (st, receipts["events"].clone()),
            (201, json!(["receipt"])),
            "{receipts}"
        );
        // Unknown or empty kinds are refused at their path.
        let (st, e) = a
            .post(
                "/v1/webhooks",
                &json!({ "url": "http://x", "events": ["receipt", "tierup"] }),
            )
            .await;
        assert_eq!(
            (st, e["error"]["path"].as_str()),
            (400, Some("events[1]")),
            "{e}"
        );
        let (st, e) = a
            .post("/v1/webhooks", &json!({ "url": "http://x", "events": [] }))
            .await;
        assert_eq!(
            (st, e["error"]["path"].as_str()),
            (400, Some("events")),
            "{e}"
        );

        // A sale (a receipt) and a one-time code: two notices of two kinds.
        sell(&s, &till, "C-001", "R-1").await;
        let r = s
            .http
            .post(format!("{}/v1/member/login", s.base))
            .json(&json!({ "card": "C-001" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let kinds = outbox_kinds(&a).await;
        assert!(
            kinds.contains(&"receipt".to_string()) && kinds.contains(&"one_time_code".to_string()),
            "{kinds:?}"
        );
        let n_receipts = kinds.iter().filter(|k| *k == "receipt").count() as i64;
        let client = reqwest::Client::new();
        loyalty_server::workers::deliver(s.app(), &client)
            .await
            .unwrap();
        let (_, list) = a.get("/v1/webhooks").await;
        let pending = |id: &Value| {
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|w| w["id"] == *id)
                .unwrap()["pending"]
                .as_i64()
                .unwrap()
        };
        assert_eq!(pending(&all["id"]), kinds.len() as i64, "{list}");
        assert_eq!(pending(&receipts["id"]), n_receipts, "{list}");
        assert_eq!(n_receipts, 1);
        s.stop().await;
    }
}
