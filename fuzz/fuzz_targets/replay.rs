//! Ledger replay and progress (SPEC §3, §4) under the SPEC policy: arbitrary request text.
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
    let replay = engine().replay_json(req);
    common::check_answer(&replay);
    let progress = engine().progress_json(req);
    common::check_answer(&progress);
});
