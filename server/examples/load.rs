//! The server benchmark's load generator (scripts/bench-server.sh; not a test).
//!
//! `book`: tills booking in one call (`confirm: true`) the SPEC §2 cart with `redeem_points:
//! "max"` for one demo member after another, `--concurrency` requests in flight. Before the
//! timed phase each member is looked up and quoted locally (as a till does); the timed phase is
//! the bookings alone. `read`: `GET /v1/members/{id}` of one member over and over. Prints one JSON
//! line: requests, seconds, rate, p50/p90/p99/max latency in ms, and the status counts.
//!
//! `long-member`: writes a member with a ~1,000-event generated history straight into a
//! database (for the `read` measurement).

use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many answers other than 201 the bookings print (to stderr): a conflict is seen, not only
/// counted.
const SHOWN: usize = 20;

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    loyalty_server::workers::init_tls();
    let mode = std::env::args().nth(1).unwrap_or_default();
    match mode.as_str() {
        "book" => book().await,
        "read" => read().await,
        "long-member" => long_member().await,
        _ => eprintln!("usage: load book|read|long-member [--base URL --key KEY …]"),
    }
}

fn report(
    label: &str,
    lat: &mut [f64],
    secs: f64,
    statuses: &Mutex<std::collections::BTreeMap<u16, u64>>,
) {
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = lat.len();
    println!(
        "{}",
        json!({
            "mode": label, "requests": n, "seconds": (secs * 100.0).round() / 100.0,
            "per_second": ((n as f64 / secs) * 10.0).round() / 10.0,
            "p50_ms": (percentile(lat, 0.50) * 100.0).round() / 100.0,
            "p90_ms": (percentile(lat, 0.90) * 100.0).round() / 100.0,
            "p99_ms": (percentile(lat, 0.99) * 100.0).round() / 100.0,
            "max_ms": (lat.last().copied().unwrap_or(0.0) * 100.0).round() / 100.0,
            "statuses": *statuses.lock().unwrap(),
        })
    );
}

async fn book() {
    let base = arg("--base", "http://127.0.0.1:8080");
    let key = arg("--key", "");
    let conc: usize = arg("--concurrency", "32").parse().unwrap();
    let count: u64 = arg("--members", "20000").parse().unwrap();
    let from: u64 = arg("--from", "0").parse().unwrap();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(conc * 2)
        .build()
        .unwrap();
    let active: Value = http
        .get(format!("{base}/v1/policies/active"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let engine =
        Arc::new(loyalty_engine::Engine::from_json(&active["policy"].to_string()).unwrap());
    // Warm-up (not timed): look every member up and quote the sale, as the till would.
    let next = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let mut tasks = Vec::new();
    for w in 0..conc {
        let (http, key, base, next, bodies, engine) = (
            http.clone(),
            key.clone(),
            base.clone(),
            next.clone(),
            bodies.clone(),
            engine.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst) as u64;
                if i >= count {
                    break;
                }
                let card = loyalty_server::demo::card_number(from + i);
                let Ok(r) = http.get(format!("{base}/v1/members/lookup?card={card}")).bearer_auth(&key).send().await else { continue };
                if r.status() != 200 {
                    continue;
                }
                let m: Value = r.json().await.unwrap();
                let snap = &m["snapshot"];
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
                // Unique across runs on one database (a till's document number is used once).
                let doc = format!("B-{run}-{w}-{i}");
                let redeem = if snap["status"] == "active" && snap["points"].as_i64().unwrap_or(0) >= 10 { json!("max") } else { json!(0) };
                let req = json!({ "member": snap, "redeem_points": redeem, "cart": { "id": doc, "at": loyalty_server::clock::rfc3339(now - now % 1000), "store": "hcm-01", "channel": "pos",
                    "lines": [{ "id": "A", "sku": "TEE-01", "category": "apparel", "quantity": 2, "unit_price": "250000" },
                              { "id": "B", "sku": "RUN-42", "category": "shoes", "quantity": 1, "unit_price": "1200000" }] } });
                let q = engine.quote_json(&req.to_string());
                if q.starts_with("{\"error\":") {
                    continue;
                }
                let body = format!(r#"{{"document_no":"{doc}","card":"{card}","quote_request":{req},"quote":{q},"confirm":true}}"#);
                bodies.lock().unwrap().push((format!("bench-{run}-{i}"), body));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let bodies = Arc::new(std::mem::take(&mut *bodies.lock().unwrap()));
    eprintln!(
        "load: {} bookings prepared; {} in flight",
        bodies.len(),
        conc
    );
    // Timed: the bookings.
    let next = Arc::new(AtomicUsize::new(0));
    let lat = Arc::new(Mutex::new(Vec::with_capacity(bodies.len())));
    let statuses = Arc::new(Mutex::new(std::collections::BTreeMap::new()));
    let shown = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (http, key, base, next, bodies, lat, statuses, shown) = (
            http.clone(),
            key.clone(),
            base.clone(),
            next.clone(),
            bodies.clone(),
            lat.clone(),
            statuses.clone(),
            shown.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((idem, body)) = bodies.get(i) else {
                    break;
                };
                let t = Instant::now();
                let r = http
                    .post(format!("{base}/v1/orders"))
                    .bearer_auth(&key)
                    .header("Idempotency-Key", idem)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let st = match r {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let answer = r.bytes().await.unwrap_or_default();
                        if s != 201 && shown.fetch_add(1, Ordering::SeqCst) < SHOWN {
                            // Not only counted: the first few answers that are not 201 are shown.
                            eprintln!(
                                "load: {idem} answered {s}: {}",
                                String::from_utf8_lossy(&answer)
                            );
                        }
                        s
                    }
                    Err(_) => 0,
                };
                lat.lock().unwrap().push(t.elapsed().as_secs_f64() * 1000.0);
                *statuses.lock().unwrap().entry(st).or_insert(0u64) += 1;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let mut l = std::mem::take(&mut *lat.lock().unwrap());
    report("book", &mut l, secs, &statuses);
}

async fn read() {
    let base = arg("--base", "http://127.0.0.1:8080");
    let key = arg("--key", "");
    let member = arg("--member", "long-1");
    let conc: usize = arg("--concurrency", "4").parse().unwrap();
    let secs: f64 = arg("--seconds", "10").parse().unwrap();
    let http = reqwest::Client::new();
    let lat = Arc::new(Mutex::new(Vec::new()));
    let statuses = Arc::new(Mutex::new(std::collections::BTreeMap::new()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (http, key, base, member, lat, statuses) = (
            http.clone(),
            key.clone(),
            base.clone(),
            member.clone(),
            lat.clone(),
            statuses.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while start.elapsed() < Duration::from_secs_f64(secs) {
                let t = Instant::now();
                let st = match http
                    .get(format!("{base}/v1/members/{member}"))
                    .bearer_auth(&key)
                    .send()
                    .await
                {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        s
                    }
                    Err(_) => 0,
                };
                lat.lock().unwrap().push(t.elapsed().as_secs_f64() * 1000.0);
                *statuses.lock().unwrap().entry(st).or_insert(0u64) += 1;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let s = start.elapsed().as_secs_f64();
    let mut l = std::mem::take(&mut *lat.lock().unwrap());
    report("read", &mut l, s, &statuses);
}

/// A member `long-1` with the first generated sk-grocery-like history of ≥ `--events` events,
/// rewritten for the demo's policy (vn-fashion stores), written with its cache.
async fn long_member() {
    let url = arg("--db", "");
    let want: usize = arg("--events", "1000").parse().unwrap();
    let db = loyalty_server::storage::Db::open(&url).await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let plan = loyalty_engine::generate::Plan::new(&loyalty_engine::generate::GenerateOptions {
        members: 200,
        seed: 5,
        months: 240,
        profile: "vn-fashion".into(),
        as_of: Some(loyalty_server::clock::rfc3339(now - now % 1000)),
    })
    .unwrap();
    let mut best: Option<Value> = None;
    for i in 0..200 {
        let v: Value =
            serde_json::from_str(&loyalty_engine::generate::member_line(&plan, i)).unwrap();
        let n = v["events"].as_array().map_or(0, Vec::len);
        let active = v["member"]["status"] == "active";
        let longer = best
            .as_ref()
            .is_none_or(|b| b["events"].as_array().map_or(0, Vec::len) < n);
        if active && longer {
            best = Some(v);
        }
        if active && n >= want {
            break;
        }
    }
    let v = best.unwrap();
    let events = v["events"].as_array().unwrap();
    let joined =
        loyalty_server::clock::parse_rfc3339(v["member"]["joined_at"].as_str().unwrap()).unwrap();
    let mut c = db.begin().await.unwrap();
    loyalty_server::storage::members::insert(
        &mut c,
        "long-1",
        "active",
        joined,
        None,
        Some("Long history"),
        now,
    )
    .await
    .unwrap();
    for (k, e) in events.iter().enumerate() {
        let at = loyalty_server::clock::parse_rfc3339(e["at"].as_str().unwrap()).unwrap();
        loyalty_server::storage::events::append(
            &mut c,
            "long-1",
            k as i64 + 1,
            e["id"].as_str().unwrap(),
            e["type"].as_str().unwrap(),
            at,
            &e.to_string(),
            now,
            "bench",
        )
        .await
        .unwrap();
    }
    c.commit().await.unwrap();
    println!("{}", json!({ "member": "long-1", "events": events.len() }));
}
