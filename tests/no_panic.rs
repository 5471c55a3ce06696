//! Property tests: whatever arrives on a request line, the engine answers with exactly one JSON
//! line — a result or a coded error — and never panics (SPEC §0).

use loyalty_engine::api::eval_line;
use proptest::prelude::*;
use serde_json::{json, Value};

/// The SPEC §1 example policy and §2 request (the first conformance vector): a valid starting
/// point for mutations.
fn spec_request() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/quote/001-spec-worked-example.json"
    );
    let text = std::fs::read_to_string(path).expect("the SPEC example vector");
    let vector: Value = serde_json::from_str(&text).expect("vector JSON");
    vector["request"].clone()
}

/// Every answer is one line of JSON: an object that is a result or `{"error":{code,message,path}}`.
fn assert_one_json_line(input: &str) {
    let Some(out) = eval_line(input) else {
        assert!(
            input.trim().is_empty(),
            "only blank lines may get no answer"
        );
        return;
    };
    assert!(!out.contains('\n'), "answer spans lines: {out}");
    let v: Value = serde_json::from_str(&out).expect("answer is JSON");
    if let Some(err) = v.get("error") {
        for k in ["code", "message", "path"] {
            assert!(
                err.get(k).is_some_and(Value::is_string),
                "error lacks {k}: {out}"
            );
        }
    } else {
        assert!(
            v.get("policy_digest").is_some(),
            "result without digest: {out}"
        );
    }
}

/// Paths to every scalar inside a JSON value.
fn leaves(v: &Value, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let mut p = prefix.clone();
                p.push(k.clone());
                leaves(x, p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let mut p = prefix.clone();
                p.push(i.to_string());
                leaves(x, p, out);
            }
        }
        _ => out.push(prefix),
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |cur, key| match cur {
        Value::Object(m) => m.get_mut(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    })
}

fn replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!(9_007_199_254_740_993u64)),
        Just(json!(u64::MAX)),
        Just(json!("max")),
        Just(json!("-1")),
        Just(json!("99999999999999999")),
        Just(json!("0.000000000000000001")),
        Just(json!("1e5")),
        Just(json!("")),
        Just(json!([])),
        Just(json!({})),
        "[a-z0-9:+.\\-]{0,12}".prop_map(Value::String),
        Just(json!("2026-03-29T02:30:00+02:00")),
        Just(json!("9999-12-31T23:59:59Z")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Arbitrary text never panics.
    #[test]
    fn arbitrary_text(s in "\\PC{0,200}") {
        assert_one_json_line(&s);
    }

    /// Replacing any scalar of a valid request with a hostile value never panics.
    #[test]
    fn mutated_scalars(picks in proptest::collection::vec((any::<prop::sample::Index>(), replacement()), 1..4)) {
        let mut req = spec_request();
        let mut paths = Vec::new();
        leaves(&req, Vec::new(), &mut paths);
        for (idx, value) in picks {
            let path = idx.get(&paths).clone();
            if let Some(slot) = get_mut(&mut req, &path) {
                *slot = value;
            }
        }
        assert_one_json_line(&req.to_string());
    }

    /// Deleting any member of any object never panics.
    #[test]
    fn deleted_fields(idx in any::<prop::sample::Index>()) {
        let mut req = spec_request();
        let mut paths = Vec::new();
        leaves(&req, Vec::new(), &mut paths);
        let path = idx.get(&paths).clone();
        if let Some((last, parent)) = path.split_last() {
            if let Some(Value::Object(m)) = get_mut(&mut req, parent) {
                m.remove(last);
            }
        }
        assert_one_json_line(&req.to_string());
    }

    /// Truncating a valid request anywhere never panics.
    #[test]
    fn truncated(cut in 0usize..3000) {
        let text = spec_request().to_string();
        let cut = cut.min(text.len());
        if text.is_char_boundary(cut) {
            assert_one_json_line(&text[..cut]);
        }
    }

    /// Large carts and quantities answer `amount_overflow` or a result, never a panic.
    #[test]
    fn big_numbers(qty in 1i64..i64::MAX, price in "[0-9]{1,18}") {
        let mut req = spec_request();
        req["cart"]["lines"][0]["quantity"] = json!(qty);
        req["cart"]["lines"][0]["unit_price"] = json!(price);
        assert_one_json_line(&req.to_string());
    }
}

#[test]
fn spec_example_quotes() {
    let out = eval_line(&spec_request().to_string()).unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["total"], "1315000", "{out}");
    assert_eq!(v["earned_points"], 32, "{out}");
}

#[test]
fn deep_nesting_is_an_error() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_one_json_line(&deep);
    let deep_obj = format!(
        "{{\"op\":\"quote\",\"policy\":{}}}",
        "{\"a\":".repeat(10_000)
    );
    assert_one_json_line(&deep_obj);
}
