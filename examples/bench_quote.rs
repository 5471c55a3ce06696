//! Quote benchmark, native side: `cargo run --release --example bench_quote`.
//!
//! Times `Engine::quote_json` (parse request + price + serialize, the same work the Wasm
//! package does per call) for the cases in `bench/quote_cases.json`, and prints one JSON line
//! per case with ops/s, so `scripts/bench.sh` can compare it with Node.

use loyalty_engine::Engine;
use std::time::{Duration, Instant};

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/quote_cases.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases: serde_json::Value = serde_json::from_str(&text).expect("cases JSON");
    let cases = cases.as_object().expect("cases object");
    for (name, case) in cases {
        let engine = Engine::from_json(&case["policy"].to_string()).expect("valid policy");
        let request = case["request"].to_string();
        let first = engine.quote_json(&request);
        assert!(!first.starts_with("{\"error\""), "{name}: {first}");
        // Warm up, then run for about two seconds.
        for _ in 0..1_000 {
            std::hint::black_box(engine.quote_json(&request));
        }
        let mut n = 0u64;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(2) {
            for _ in 0..100 {
                std::hint::black_box(engine.quote_json(std::hint::black_box(&request)));
            }
            n += 100;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{{\"target\":\"native\",\"case\":\"{name}\",\"ops_per_sec\":{:.0},\"us_per_op\":{:.2}}}",
            n as f64 / secs,
            secs * 1e6 / n as f64
        );
    }
}
