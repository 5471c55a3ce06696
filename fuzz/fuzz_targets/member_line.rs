//! A simulate member line (`{"member":…,"events":[…]}`): the fast reading path
//! (`json::fast`) against the general reader. Whatever the fast path reads, the general reader
//! reads to the same value; and adding the line to a simulation never panics, whichever path
//! reads it. The corpus starts from generated lines, so mutations stay close to real members.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loyalty_engine::simulate::{read_member, read_member_fast, Setup};
use std::sync::OnceLock;

const DRAFT: &str = include_str!("../../docs/examples/vn-fashion-draft.json");
const BASELINE: &str = include_str!("../../docs/examples/vn-fashion-baseline.json");

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        Setup::from_parts(DRAFT, Some(BASELINE), "2026-10-01T00:00:00+07:00", Some("0.7"))
            .expect("the example policies are valid")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(fast) = read_member_fast(text) {
        let general = read_member(text)
            .unwrap_or_else(|e| panic!("fast path read what the general reader refuses: {e:?}"));
        assert_eq!(fast, general.view());
    }
    let mut acc = setup().partial();
    setup().add_member_json(&mut acc, 0, text);
});
