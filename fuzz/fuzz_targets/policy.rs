//! Policy parsing and validation: arbitrary bytes as a policy document.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use loyalty_engine::{api, Engine};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let out = api::validate_json(text);
    common::check_answer(&out);
    // A valid policy's digest is stable: validating the same text twice gives the same line,
    // and the engine built from it reports the same digest.
    if let Ok(engine) = Engine::from_json(text) {
        assert!(out.contains(engine.policy_digest()), "{out}");
        assert_eq!(api::validate_json(text), out);
    }
});
