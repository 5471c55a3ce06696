//! Conformance vectors (SPEC §6): every `tests/vectors/**/*.json` is a request and the exact
//! response the engine must give. Each request is run through `loyalty_engine::api::eval_line`
//! and the answer compared byte for byte with the vector's compacted `expected` text.
//!
//! All failures are collected and reported together. The figures in the vectors are derived by
//! hand (see each vector's `notes`); the digests come from `tests/vectors/tools/canon.py`, an
//! independent implementation of the canonical forms. See `tests/vectors/README.md`.

#[path = "vectors/support.rs"]
mod support;

const MIN_VECTORS: usize = 40;

#[test]
fn conformance_vectors() {
    let vectors = support::load_all();
    assert!(
        vectors.len() >= MIN_VECTORS,
        "found only {} vectors under {} (expected at least {MIN_VECTORS})",
        vectors.len(),
        support::vectors_dir().display()
    );

    let mut failures = Vec::new();
    for v in &vectors {
        if v.description.trim().is_empty() {
            failures.push(format!("{}: empty or missing \"description\"", v.name));
            continue;
        }
        let actual = loyalty_engine::api::eval_line(&v.request);
        match actual {
            Some(actual) if actual == v.expected => {}
            Some(actual) => failures.push(format!(
                "{} — {}\n{}",
                v.name,
                v.description,
                support::describe_mismatch(&v.expected, &actual)
            )),
            None => failures.push(format!(
                "{}: eval_line returned None for a non-blank request",
                v.name
            )),
        }
    }

    if !failures.is_empty() {
        panic!(
            "{} of {} conformance vectors failed:\n\n{}\n",
            failures.len(),
            vectors.len(),
            failures.join("\n\n")
        );
    }
    eprintln!("{} conformance vectors passed", vectors.len());
}

/// The vector loader itself: compaction keeps key order and string contents.
#[test]
fn compaction_keeps_order_and_strings() {
    let text = "{ \"b\" : [1, 2],\n  \"a\": \"x y\\\" {z}\" ,\"c\":{ \"z\":null ,\"y\" : true } }";
    let c = support::compact(text);
    assert_eq!(c, r#"{"b":[1,2],"a":"x y\" {z}","c":{"z":null,"y":true}}"#);
    let m = support::top_level_members(&c).unwrap();
    let keys: Vec<_> = m.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["b", "a", "c"]);
    assert_eq!(m[2].1, r#"{"z":null,"y":true}"#);
}

/// The core Wasm module's eval (`api::eval_line_core`, `loyalty-engine/core`): every quote and
/// validate vector gives exactly the expected line; every other vector is either answered the
/// same (an error found before the op is looked at) or refused at `op` as an operation of the
/// full module.
#[test]
fn core_eval_line_quote_and_validate_vectors() {
    let mut failures = Vec::new();
    let mut core_vectors = 0;
    for v in &support::load_all() {
        let actual = loyalty_engine::api::eval_line_core(&v.request).unwrap_or_default();
        if v.name.starts_with("quote/") || v.name.starts_with("validate/") {
            core_vectors += 1;
            if actual != v.expected {
                failures.push(format!(
                    "{}\n{}",
                    v.name,
                    support::describe_mismatch(&v.expected, &actual)
                ));
            }
            continue;
        }
        let op = support::top_level_members(&v.request)
            .ok()
            .and_then(|m| m.into_iter().find(|(k, _)| k == "op"))
            .map(|(_, op)| op);
        let refused = op.is_some_and(|op| {
            actual
                == format!(
                    r#"{{"error":{{"code":"invalid_request","message":"operation {} is in the full module (`loyalty-engine`), not in the core module (`loyalty-engine/core`), which answers \"validate\" and \"quote\"","path":"op"}}}}"#,
                    op.replace('"', "\\\"")
                )
        });
        if actual != v.expected && !refused {
            failures.push(format!("{}: not refused at op: {actual}", v.name));
        }
    }
    assert!(
        core_vectors >= 20,
        "only {core_vectors} quote/validate vectors"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The progress Wasm module's eval (`api::eval_line_progress`, `loyalty-engine/progress`, what
/// the storefront widget loads): every progress and validate vector gives exactly the expected
/// line (policy versions included); every other vector is either answered the same (an error
/// found before the op is looked at) or refused at `op`, naming the full module.
#[test]
fn progress_eval_line_progress_and_validate_vectors() {
    let mut failures = Vec::new();
    let mut answered = 0;
    let mut refused_count = 0;
    for v in &support::load_all() {
        let actual = loyalty_engine::api::eval_line_progress(&v.request).unwrap_or_default();
        if v.name.starts_with("progress/") || v.name.starts_with("validate/") {
            answered += 1;
            if actual != v.expected {
                failures.push(format!(
                    "{}\n{}",
                    v.name,
                    support::describe_mismatch(&v.expected, &actual)
                ));
            }
            continue;
        }
        let op = support::top_level_members(&v.request)
            .ok()
            .and_then(|m| m.into_iter().find(|(k, _)| k == "op"))
            .map(|(_, op)| op);
        let refused = op.is_some_and(|op| {
            actual
                == format!(
                    r#"{{"error":{{"code":"invalid_request","message":"operation {} is not in the progress module (`loyalty-engine/progress`), which answers \"validate\" and \"progress\"; the full module (`loyalty-engine`) answers every operation","path":"op"}}}}"#,
                    op.replace('"', "\\\"")
                )
        });
        if refused {
            refused_count += 1;
        } else if actual != v.expected {
            failures.push(format!("{}: not refused at op: {actual}", v.name));
        }
    }
    assert!(answered >= 36, "only {answered} progress/validate vectors");
    assert!(refused_count >= 100, "only {refused_count} vectors refused");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
