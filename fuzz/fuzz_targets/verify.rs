//! Verify (issue 6) under the SPEC policy: arbitrary request text; a valid answer is a
//! self-consistent verdict.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use loyalty_engine::Engine;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::from_json(common::SPEC_POLICY).expect("the SPEC policy is valid"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(req) = std::str::from_utf8(data) else { return };
    let out = engine().verify_json(req);
    common::check_answer(&out);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    if v.get("error").is_none() {
        let valid = v["valid"].as_bool().expect("valid is a bool");
        let mismatches = v["mismatches"].as_array().expect("mismatches is an array");
        assert_eq!(valid, mismatches.is_empty(), "valid iff no mismatches: {out}");
    }
});
