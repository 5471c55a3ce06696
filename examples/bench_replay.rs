//! Replay benchmark, native side: `cargo run --release --example bench_replay`.
//!
//! Times `Engine::replay_json` (parse + replay + serialize) on `bench/replay_case.json`: one
//! member with 1,000 events over three years. Prints events/s as one JSON line.

use loyalty_engine::Engine;
use std::time::{Duration, Instant};

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/replay_case.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let case: serde_json::Value = serde_json::from_str(&text).expect("case JSON");
    let engine = Engine::from_json(&case["policy"].to_string()).expect("valid policy");
    let request = case["request"].to_string();
    let events = case["request"]["events"].as_array().map_or(0, Vec::len) as f64;
    let first = engine.replay_json(&request);
    assert!(!first.starts_with("{\"error\""), "{first}");
    for _ in 0..5 {
        std::hint::black_box(engine.replay_json(&request));
    }
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        std::hint::black_box(engine.replay_json(std::hint::black_box(&request)));
        n += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{{\"target\":\"native\",\"case\":\"replay_1000_events\",\"replays_per_sec\":{:.1},\"events_per_sec\":{:.0},\"ms_per_replay\":{:.3}}}",
        n as f64 / secs,
        n as f64 * events / secs,
        secs * 1e3 / n as f64
    );
}
