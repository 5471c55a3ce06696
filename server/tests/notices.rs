//! Notices (SPEC §8.7): written in the transaction that causes them, delivered to webhooks signed
//! with HMAC-SHA256, retried with backoff until acknowledged; the workers' hold expiry.

mod support;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use support::*;

type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// A webhook receiver on port 0 that refuses its first delivery (500) and accepts the rest.
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    async fn hook(State(seen): State<Seen>, headers: HeaderMap, body: String) -> StatusCode {
        let mut s = seen.lock().unwrap();
        let h = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        s.push((h("x-loyalty-event-id"), h("x-loyalty-signature"), body));
        if s.len() == 1 {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        }
    }
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(seen.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

#[tokio::test]
async fn notices_reach_webhooks_signed_and_retried() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let admin = s.admin().await;
        let key = s.till_key("hcm-01-t1").await;
        let (url, seen) = receiver().await;
        let (st, wh) = admin.post("/v1/webhooks", &json!({ "url": url })).await;
        assert_eq!(st, 201, "{wh}");
        let secret = wh["secret"].as_str().unwrap().to_string();

        // A sale big enough to lift m-001 from silver to gold (1,500 points over 12 months):
        // 10 × 1,500,000 at silver: 14,250,000 paid → 142 units × 2 for shoes… the engine says.
        let member = json!({ "id": "m-001", "status": "active", "tier": "silver", "points": 300 });
        let mut cart = spec_cart("BIG-1", T0_TEXT);
        cart["lines"][1]["quantity"] = json!(80);
        let (req, q) = quote(&member, cart, json!(0));
        assert!(q["earned_points"].as_i64().unwrap() >= 1500, "{}", q.text);
        let (st, a) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("big-1"),
                &order_body("BIG-1", &req, &q, true, false),
            )
            .await;
        assert_eq!(st, 201, "{a}");
        assert_eq!(
            serde_json::from_str::<Value>(&a).unwrap()["member"]["tier"],
            "gold"
        );

        // Written with the booking: the receipt and the tier_up notice.
        let r = admin
            .http
            .get(format!("{}/v1/outbox", s.base))
            .send()
            .await
            .unwrap();
        let lines: Vec<Value> = r
            .text()
            .await
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let kinds: Vec<&str> = lines.iter().map(|l| l["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"receipt"), "{kinds:?}");
        let up = lines
            .iter()
            .find(|l| l["kind"] == "tier_up")
            .expect("a tier_up notice");
        assert_eq!(up["payload"]["tier"], "gold");
        assert_eq!(up["member_id"], "m-001");

        // The worker delivers: the first attempt fails (500), the notice waits for its backoff.
        let client = reqwest::Client::new();
        loyalty_server::workers::deliver(s.app(), &client)
            .await
            .unwrap();
        let first_round = seen.lock().unwrap().len();
        assert!(
            first_round >= 2,
            "one refused, the others delivered: {first_round}"
        );
        let refused_id = seen.lock().unwrap()[0].0.clone();
        loyalty_server::workers::deliver(s.app(), &client)
            .await
            .unwrap();
        assert_eq!(
            seen.lock().unwrap().len(),
            first_round,
            "nothing is resent before its backoff"
        );
        s.clock().advance(6_000);
        loyalty_server::workers::deliver(s.app(), &client)
            .await
            .unwrap();
        let all = seen.lock().unwrap().clone();
        assert_eq!(all.len(), first_round + 1);
        assert_eq!(
            all.last().unwrap().0,
            refused_id,
            "the refused notice is retried, same event id"
        );
        for (id, sig, body) in &all {
            assert_eq!(
                sig,
                &loyalty_server::workers::signature(&secret, body),
                "signed body"
            );
            assert_eq!(
                serde_json::from_str::<Value>(body).unwrap()["id"],
                json!(id)
            );
        }
        // Every notice once acknowledged: the next pass sends nothing.
        s.clock().advance(3_600_000);
        loyalty_server::workers::deliver(s.app(), &client)
            .await
            .unwrap();
        assert_eq!(seen.lock().unwrap().len(), first_round + 1);
        s.stop().await;
    }
}

#[tokio::test]
async fn the_worker_expires_holds_and_points_come_back() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let key = s.till_key("hcm-01-t1").await;
        let member = json!({ "id": "m-001", "status": "active", "tier": "silver", "points": 300 });
        let (req, q) = quote(&member, spec_cart("H-1", T0_TEXT), json!(300));
        let (st, h) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("h-1"),
                &order_body("H-1", &req, &q, false, false),
            )
            .await;
        assert_eq!(st, 201, "{h}");
        let id = serde_json::from_str::<Value>(&h).unwrap()["order_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            loyalty_server::workers::expire_holds(s.app())
                .await
                .unwrap(),
            0
        );
        s.clock().advance(15 * 60_000);
        assert_eq!(
            loyalty_server::workers::expire_holds(s.app())
                .await
                .unwrap(),
            1
        );
        let (_, o) = s.get(&format!("/v1/orders/{id}"), &key).await;
        assert_eq!(o["state"], "expired");
        let (_, m) = s.get("/v1/members/lookup?card=C-001", &key).await;
        assert_eq!(m["snapshot"]["points"], 300);
        let (st, v) = s
            .post(&format!("/v1/orders/{id}/void"), &key, None, &json!({}))
            .await;
        assert_eq!(
            (
                st,
                serde_json::from_str::<Value>(&v).unwrap()["state"].as_str()
            ),
            (200, Some("expired"))
        );
        s.stop().await;
    }
}

/// The members' cache wakes the sweep for an expiry notice `expiry_notice_days` (the policy's,
/// not a fixed 30) before the expiry: a version with 400 days' notice moves the next due instant
/// of a member whose points expire 2028-01-01 to 2026-11-26 (401 days earlier, a day's margin),
/// before the tier's anniversary review (2027-01-01).
#[tokio::test]
async fn the_next_sweep_follows_the_policys_notice_days() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let admin = s.admin().await;
        let key = s.till_key("hcm-01-t1").await;
        let mut p = spec_policy();
        p["expiry_notice_days"] = json!(400);
        p["id"] = json!("notice-400");
        let (st, v) = admin.post("/v1/policies", &p).await;
        assert_eq!(st, 201, "{v}");
        let digest = v["policy_digest"].as_str().unwrap().to_string();
        let (st, v) = admin
            .post(
                &format!("/v1/policies/{digest}/publish"),
                &json!({ "effective_at": "2026-03-07T10:30:00+07:00" }),
            )
            .await;
        assert!(st == 200 || st == 201, "{v}");
        s.clock().set(T0 + 3_600_000); // 11:00, under the new version
        let at = "2026-03-07T11:00:00+07:00";

        // The till quotes under the version in force, as it would after a refresh.
        let engine = loyalty_engine::Engine::from_json(&p.to_string()).unwrap();
        let member = json!({ "id": "m-001", "status": "active", "tier": "silver", "points": 300 });
        let req = json!({ "member": member, "cart": spec_cart("N-1", at), "redeem_points": 0 });
        let text = engine.quote_json(&req.to_string());
        let q = Quote {
            v: serde_json::from_str(&text).unwrap(),
            text,
        };
        assert_eq!(q["policy_digest"], digest.as_str());
        let (st, a) = s
            .post_text(
                "/v1/orders",
                &key,
                Some("n-1"),
                &order_body("N-1", &req, &q, true, false),
            )
            .await;
        assert_eq!(st, 201, "{a}");

        let mut c = s.app().db.read.acquire().await.unwrap();
        let due: i64 = sqlx::Row::get(
            &sqlx::query("SELECT next_due_at FROM members WHERE id = 'm-001'")
                .fetch_one(&mut *c)
                .await
                .unwrap(),
            0,
        );
        let expiry = loyalty_server::clock::parse_rfc3339("2028-01-01T00:00:00+07:00").unwrap();
        assert_eq!(due, expiry - 401 * 86_400_000);
        assert_eq!(
            loyalty_server::clock::rfc3339(due),
            "2026-11-25T17:00:00+00:00" // 2026-11-26 00:00 in Ho Chi Minh City
        );
        drop(c);
        s.stop().await;
    }
}

/// An HTTPS webhook receiver on port 0 whose certificate (for 127.0.0.1) is signed by a CA made
/// for the test: returns its URL, the CA's PEM, and the bodies it accepted (each answered 200).
async fn tls_receiver() -> (String, String, Arc<Mutex<Vec<(String, String)>>>) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    #[allow(deprecated)]
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let bodies = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = l.accept().await else {
                return;
            };
            let (acceptor, bodies) = (acceptor.clone(), bodies.clone());
            tokio::spawn(async move {
                // A client that does not trust the CA ends the handshake: nothing is served.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let bodies = bodies.clone();
                        async move {
                            use http_body_util::BodyExt;
                            let sig = req
                                .headers()
                                .get("x-loyalty-signature")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_string();
                            let body = req.into_body().collect().await?.to_bytes();
                            bodies
                                .lock()
                                .unwrap()
                                .push((sig, String::from_utf8_lossy(&body).into_owned()));
                            Ok::<_, hyper::Error>(hyper::Response::new(http_body_util::Empty::<
                                hyper::body::Bytes,
                            >::new(
                            )))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (format!("https://{addr}/hook"), ca.pem(), seen)
}

/// Webhooks over HTTPS: the server's client checks the receiver's certificate — refused while
/// its CA is unknown (the notice stays pending and is retried), delivered and signed once the CA
/// is given (`--webhook-ca`); a CA file that is not PEM is refused at start.
#[tokio::test]
async fn notices_reach_https_webhooks_with_the_certificate_checked() {
    let s = TestServer::start(Backend::Sqlite).await;
    let admin = s.admin().await;
    let key = s.till_key("hcm-01-t1").await;
    let (url, ca_pem, seen) = tls_receiver().await;
    let (st, wh) = admin
        .post(
            "/v1/webhooks",
            &json!({ "url": url, "events": ["receipt"] }),
        )
        .await;
    assert_eq!(st, 201, "{wh}");
    let secret = wh["secret"].as_str().unwrap().to_string();
    let member = json!({ "id": "m-001", "status": "active", "tier": "silver", "points": 300 });
    let (req, q) = quote(&member, spec_cart("TLS-1", T0_TEXT), json!(0));
    let (st, a) = s
        .post_text(
            "/v1/orders",
            &key,
            Some("tls-1"),
            &order_body("TLS-1", &req, &q, true, false),
        )
        .await;
    assert_eq!(st, 201, "{a}");

    // The system's roots alone do not know the test's CA: the handshake fails, nothing arrives.
    let plain = loyalty_server::workers::client(None).unwrap();
    loyalty_server::workers::deliver(s.app(), &plain)
        .await
        .unwrap();
    assert!(seen.lock().unwrap().is_empty());
    let (_, hooks) = admin.get("/v1/webhooks").await;
    assert_eq!(hooks["items"][0]["pending"], 1, "{hooks}");

    // With the CA: delivered after the backoff, signed, the receipt of the sale.
    let dir = tempfile_dir();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let trusted = loyalty_server::workers::client(Some(&ca_file)).unwrap();
    s.clock().advance(6_000);
    loyalty_server::workers::deliver(s.app(), &trusted)
        .await
        .unwrap();
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let (sig, text) = &got[0];
    assert_eq!(sig, &loyalty_server::workers::signature(&secret, text));
    let body: Value = serde_json::from_str(text).unwrap();
    assert_eq!(body["kind"], "receipt");
    assert_eq!(body["member_id"], "m-001");
    let (_, hooks) = admin.get("/v1/webhooks").await;
    assert_eq!(hooks["items"][0]["pending"], 0, "{hooks}");

    // A CA file that holds no certificate is refused.
    let bad = dir.join("bad.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let e = loyalty_server::workers::client(Some(&bad)).unwrap_err();
    assert!(e.contains("bad.pem"), "{e}");
    s.stop().await;
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "loyalty-tls-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}
