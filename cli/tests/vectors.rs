//! The conformance vectors through the CLI (SPEC §6, §7.26): all requests are fed to
//! `loyalty eval` as one NDJSON stream, with a blank line and a malformed line in the middle to
//! prove the stream goes on; every output line must equal the vector's expected response.

#[path = "../../tests/vectors/support.rs"]
mod support;

use std::io::Write;
use std::process::{Command, Stdio};

const MALFORMED: &str = r#"{"op":"quote","policy":"#;

#[test]
fn cli_eval_streams_all_vectors() {
    let vectors = support::load_all();
    assert!(vectors.len() >= 40, "found only {} vectors", vectors.len());
    let mid = vectors.len() / 2;

    // Input lines, and what each produces: Some(expected) for a vector, None for the malformed line.
    let mut input = String::new();
    let mut outputs: Vec<(String, Option<&str>)> = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        if i == mid {
            input.push('\n'); // blank line: skipped, no output
            input.push_str("   \t\n"); // white space only: also blank
            input.push_str(MALFORMED);
            input.push('\n');
            outputs.push(("(malformed line in the middle)".to_string(), None));
        }
        input.push_str(&v.request);
        input.push('\n');
        outputs.push((v.name.clone(), Some(v.expected.as_str())));
    }

    let mut child = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .arg("eval")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn `loyalty eval`");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // Ignore a broken pipe: a CLI that exits early is reported below by its output.
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for `loyalty eval`");
    writer.join().unwrap();

    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let lines: Vec<&str> = stdout.lines().collect();
    let mut failures = Vec::new();
    if !out.status.success() {
        failures.push(format!(
            "`loyalty eval` exited with {} (stderr: {})",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if lines.len() != outputs.len() {
        failures.push(format!(
            "`loyalty eval` wrote {} lines for {} non-blank input lines",
            lines.len(),
            outputs.len()
        ));
    }
    for (i, (name, expected)) in outputs.iter().enumerate() {
        let Some(actual) = lines.get(i) else { break };
        match expected {
            Some(expected) => {
                if actual != expected {
                    failures.push(format!(
                        "output line {} ({name}):\n{}",
                        i + 1,
                        support::describe_mismatch(expected, actual)
                    ));
                }
            }
            None => {
                let ok = actual.starts_with(r#"{"error":{"code":"invalid_request","message":""#)
                    && actual.ends_with(r#"","path":""}}"#);
                if !ok {
                    failures.push(format!(
                        "output line {} (malformed input line): expected {{\"error\":{{\"code\":\"invalid_request\",\"message\":…,\"path\":\"\"}}}}, got {actual}",
                        i + 1
                    ));
                }
            }
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} problem(s) running {} vectors through `loyalty eval`:\n\n{}\n",
            failures.len(),
            vectors.len(),
            failures.join("\n\n")
        );
    }
}
