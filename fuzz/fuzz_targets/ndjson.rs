//! The NDJSON reader of `loyalty eval` (`api::eval_stream`): arbitrary bytes, including invalid
//! UTF-8, '\r', blank and over-long lines (a 64-byte limit so the fuzzer reaches it).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use loyalty_engine::api;

const MAX_LINE: usize = 64;

fuzz_target!(|data: &[u8]| {
    // A small buffer so that lines cross fill_buf boundaries.
    let mut input = std::io::BufReader::with_capacity(7, data);
    let mut out = Vec::new();
    api::eval_stream(&mut input, &mut out, MAX_LINE).expect("reading a slice cannot fail");
    let text = String::from_utf8(out).expect("answers are UTF-8");
    let answers: Vec<&str> = text.lines().collect();
    // One answer per non-blank line, in order.
    let lines: Vec<&[u8]> = if data.is_empty() {
        Vec::new()
    } else {
        data.strip_suffix(b"\n").unwrap_or(data).split(|&b| b == b'\n').collect()
    };
    let non_blank = lines
        .iter()
        .filter(|l| {
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            l.len() > MAX_LINE || !std::str::from_utf8(l).is_ok_and(|s| s.trim().is_empty())
        })
        .count();
    assert_eq!(answers.len(), non_blank, "answers for {non_blank} non-blank lines");
    for a in answers {
        common::check_answer(a);
    }
});
