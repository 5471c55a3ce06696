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

/// A small Wasm module's eval over every vector: the vectors of its operations (`answers`, by
/// name prefix) give exactly the expected line; every other vector is either answered the same
/// (an error found before the op is looked at) or refused at `op` with `refusal(op)`. Returns
/// (answered, refused).
fn small_module_vectors(
    eval: fn(&str) -> Option<String>,
    answers: &[&str],
    refusal: impl Fn(&str) -> String,
) -> (usize, usize) {
    let mut failures = Vec::new();
    let (mut answered, mut refused_count) = (0, 0);
    for v in &support::load_all() {
        let actual = eval(&v.request).unwrap_or_default();
        if answers.iter().any(|p| v.name.starts_with(p)) {
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
        if op.is_some_and(|op| actual == refusal(&op.replace('"', "\\\""))) {
            refused_count += 1;
        } else if actual != v.expected {
            failures.push(format!("{}: not refused at op: {actual}", v.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    (answered, refused_count)
}

/// The core Wasm module's eval (`api::eval_line_core`, `loyalty-engine/core`): quote and validate.
#[test]
fn core_eval_line_quote_and_validate_vectors() {
    let (answered, _) = small_module_vectors(
        loyalty_engine::api::eval_line_core,
        &["quote/", "validate/"],
        |op| {
            format!(
                r#"{{"error":{{"code":"invalid_request","message":"operation {op} is in the full module (`loyalty-engine`), not in the core module (`loyalty-engine/core`), which answers \"validate\" and \"quote\"","path":"op"}}}}"#
            )
        },
    );
    assert!(answered >= 20, "only {answered} quote/validate vectors");
}

/// The progress Wasm module's eval (`api::eval_line_progress`, `loyalty-engine/progress`, what
/// the storefront widget loads): progress (policy versions included) and validate.
#[test]
fn progress_eval_line_progress_and_validate_vectors() {
    let (answered, refused) = small_module_vectors(
        loyalty_engine::api::eval_line_progress,
        &["progress/", "validate/"],
        |op| {
            format!(
                r#"{{"error":{{"code":"invalid_request","message":"operation {op} is not in the progress module (`loyalty-engine/progress`), which answers \"validate\" and \"progress\"; the full module (`loyalty-engine`) answers every operation","path":"op"}}}}"#
            )
        },
    );
    assert!(answered >= 36, "only {answered} progress/validate vectors");
    assert!(refused >= 100, "only {refused} vectors refused");
}
