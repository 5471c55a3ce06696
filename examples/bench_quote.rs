//! Quote benchmark, native side: `cargo run --release --example bench_quote [CASE…]`.
//!
//! Times `Engine::quote_json` (parse request + price + write the answer and its digest, the same
//! work the Wasm package does per call) for the cases in `bench/quote_cases.json` (or only
//! those named), and prints one JSON line per case: ops/s and µs per op by the wall clock, and
//! `cpu_us_per_op` by the thread's own CPU time (Linux `/proc/thread-self/schedstat`, in ns;
//! absent elsewhere), which a machine busy with other work disturbs far less.
//! `scripts/bench-quote.sh` runs it several times and takes the medians.

use loyalty_engine::Engine;
use std::time::{Duration, Instant};

/// Nanoseconds this thread has run on a CPU, when the system says.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn main() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/quote_cases.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases: serde_json::Value = serde_json::from_str(&text).expect("cases JSON");
    let cases = cases.as_object().expect("cases object");
    for (name, case) in cases {
        if !only.is_empty() && !only.contains(name) {
            continue;
        }
        let engine = Engine::from_json(&case["policy"].to_string()).expect("valid policy");
        let request = case["request"].to_string();
        let first = engine.quote_json(&request);
        assert!(!first.starts_with("{\"error\""), "{name}: {first}");
        // Warm up, then run for about two seconds.
        for _ in 0..1_000 {
            std::hint::black_box(engine.quote_json(&request));
        }
        let mut n = 0u64;
        let cpu_start = thread_cpu_ns();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(2) {
            for _ in 0..100 {
                std::hint::black_box(engine.quote_json(std::hint::black_box(&request)));
            }
            n += 100;
        }
        let secs = start.elapsed().as_secs_f64();
        let cpu = match (cpu_start, thread_cpu_ns()) {
            (Some(a), Some(b)) => {
                format!(",\"cpu_us_per_op\":{:.2}", (b - a) as f64 / 1e3 / n as f64)
            }
            _ => String::new(),
        };
        println!(
            "{{\"target\":\"native\",\"case\":\"{name}\",\"ops_per_sec\":{:.0},\"us_per_op\":{:.2}{cpu}}}",
            n as f64 / secs,
            secs * 1e6 / n as f64
        );
    }
}
