//! Hostile input through the CLI (issue 6; the engine's own cases are in tests/hostile.rs):
//! invalid UTF-8, over-long lines, long streams, a huge policy file — `loyalty eval` and
//! `loyalty validate` answer with one coded line and go on.
//!
//! The full million-line stream is a documented command (docs/fuzzing.md); this test runs a
//! smaller one (`HOSTILE_STREAM_LINES`, default 16,000) so `cargo test` stays quick in debug.

use loyalty_engine::limits::MAX_LINE_BYTES;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn vector_request(rel: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap();
    v["request"].clone()
}

/// The SPEC §2 worked example request (quote/001).
fn spec() -> Value {
    vector_request("quote/001-spec-worked-example.json")
}

/// Asserts a coded error and returns (code, path, message).
fn error_of(out: &Value) -> (String, String, String) {
    let e = out
        .get("error")
        .unwrap_or_else(|| panic!("expected an error, got {out}"));
    let s = |k: &str| {
        e[k].as_str()
            .unwrap_or_else(|| panic!("{k}: {out}"))
            .to_string()
    };
    (s("code"), s("path"), s("message"))
}

fn with(mut req: Value, f: impl FnOnce(&mut Value)) -> String {
    f(&mut req);
    req.to_string()
}

// ---------------------------------------------------------------- the CLI

fn run_cli(input: Vec<u8>, timeout: Duration) -> (Vec<String>, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .arg("eval")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn loyalty eval");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        stdout.read_to_end(&mut s).unwrap();
        s
    });
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            panic!("loyalty eval did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    writer.join().unwrap();
    let out = reader.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let text = String::from_utf8(out).expect("the CLI writes UTF-8");
    (text.lines().map(str::to_string).collect(), start.elapsed())
}

#[test]
fn cli_answers_invalid_utf8_and_goes_on() {
    let ok = spec().to_string();
    let mut input = Vec::new();
    let bad: [&[u8]; 6] = [
        b"\xff\xfe",
        b"{\"op\":\"quote\",\"x\":\"\xc0\xaf\"}",
        b"\xed\xa0\x80",
        b"{\"op\":\"quote\"}\xe2\x82",
        b"\x00\x00\x00",
        b"\r\xff\r",
    ];
    for b in bad {
        input.extend_from_slice(ok.as_bytes());
        input.push(b'\n');
        input.extend_from_slice(b);
        input.push(b'\n');
    }
    input.extend_from_slice(ok.as_bytes()); // no final newline
    let (lines, _) = run_cli(input, Duration::from_secs(60));
    assert_eq!(lines.len(), 2 * bad.len() + 1, "{lines:#?}");
    for (i, line) in lines.iter().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap();
        if i % 2 == 0 {
            assert_eq!(v["total"], "1315000", "line {i}: {line}");
        } else {
            let (code, path, _) = error_of(&v);
            assert_eq!(
                (code.as_str(), path.as_str()),
                ("invalid_request", ""),
                "line {i}: {line}"
            );
        }
    }
}

#[test]
fn cli_skips_an_over_long_line_and_goes_on() {
    let ok = spec().to_string();
    let big = "x".repeat(10 * 1024 * 1024);
    let ten_mb = with(spec(), |r| r["member"]["id"] = json!(big));
    let mut input = Vec::new();
    for line in [
        ok.clone(),
        format!(
            "{{\"op\":\"quote\",\"x\":\"{}\"}}",
            "y".repeat(MAX_LINE_BYTES + 10)
        ),
        ok.clone(),
        ten_mb,
        " ".repeat(MAX_LINE_BYTES + 1),
        format!("{}\r", " ".repeat(MAX_LINE_BYTES)), // exactly the limit, blank: skipped
        ok.clone(),
    ] {
        input.extend_from_slice(line.as_bytes());
        input.push(b'\n');
    }
    let (lines, _) = run_cli(input, Duration::from_secs(120));
    assert_eq!(lines.len(), 6, "one answer per non-blank line");
    let limit = loyalty_engine::api::line_too_long();
    assert_eq!(lines[1], limit);
    assert_eq!(lines[4], limit);
    for i in [0, 2, 5] {
        assert!(lines[i].contains("\"total\":\"1315000\""), "line {i}");
    }
    assert!(lines[3].contains("\"total\":\"1315000\"") && lines[3].len() > big.len());
}

/// A long NDJSON stream of mixed lines: one answer per non-blank line, in order, in bounded
/// time. `HOSTILE_STREAM_LINES=1000000` runs the full million (use a release build:
/// docs/fuzzing.md).
#[test]
fn cli_streams_many_lines() {
    let n: usize = std::env::var("HOSTILE_STREAM_LINES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16_000);
    let quote = spec().to_string();
    let kinds: [&[u8]; 8] = [
        quote.as_bytes(),
        b"",
        b"{\"op\":\"quote\",\"policy\":",
        b"\xff",
        b"{}",
        b"[1,2,3]",
        b"   ",
        b"{\"op\":\"validate\",\"policy\":{\"schema\":2}}",
    ];
    let mut input = Vec::new();
    let mut expected = Vec::new();
    for i in 0..n {
        let k = i % kinds.len();
        input.extend_from_slice(kinds[k]);
        input.push(b'\n');
        if !matches!(k, 1 | 6) {
            expected.push(k);
        }
    }
    let (lines, elapsed) = run_cli(input, Duration::from_secs(300));
    eprintln!("{n} lines in {elapsed:?}");
    assert_eq!(lines.len(), expected.len());
    for (line, k) in lines.iter().zip(&expected) {
        let ok = match k {
            0 => line.contains("\"total\":\"1315000\""),
            7 => line.contains("\"invalid_policy\""),
            _ => line.starts_with("{\"error\":{\"code\":\"invalid_request\""),
        };
        assert!(ok, "kind {k}: {line}");
    }
}

/// `api::eval_stream` (what `loyalty eval` runs) at the edges of a small line limit, fed one
/// byte at a time so that lines cross buffer boundaries.
#[test]
fn cli_validate_refuses_a_file_beyond_the_line_limit() {
    let dir = std::env::temp_dir().join(format!("loyalty-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.json");
    // A valid policy padded with white space past 16 MiB.
    let policy = spec()["policy"].to_string();
    let mut text = " ".repeat(MAX_LINE_BYTES);
    text.push_str(&policy);
    std::fs::write(&big, &text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .arg("validate")
        .arg(&big)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error_of(&v).0, "limit_exceeded", "{v}");
    assert_eq!(error_of(&v).1, "policy", "{v}");
    // The same policy without the padding is valid.
    std::fs::write(&big, &policy).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .arg("validate")
        .arg(&big)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
