//! One `loyalty eval` line (every op: validate, quote, replay, progress, verify): arbitrary text.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use loyalty_engine::api;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else { return };
    match api::eval_line(line) {
        Some(out) => common::check_answer(&out),
        None => assert!(line.trim().is_empty(), "only blank lines go unanswered"),
    }
});
