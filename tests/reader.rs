//! The engine's hand-written JSON reader (src/json/read.rs, src/json/shapes.rs) against serde's
//! derived deserializers, which the request types keep for Rust callers: both must read every
//! request alike. Every conformance vector's policy and request, and thousands of mutations of
//! them (a member removed, an unknown member added, a value of another type), go through both.
//!
//! - serde reads it: the engine's answer from the reader (`*_json`) is byte-identical to the
//!   answer from the serde-read value (errors included);
//! - serde refuses it: the reader refuses it too.
//!
//! (serde also reads an array in place of a struct, its "sequence form", which the reader
//! refuses on purpose; no mutation here writes one.)

use loyalty_engine::ledger::ReplayRequest;
use loyalty_engine::policy::{Policy, PolicyDocument};
use loyalty_engine::quote::QuoteRequest;
use loyalty_engine::verify::VerifyRequest;
use loyalty_engine::{Engine, Error};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::Path;

fn answer<T: Serialize>(r: Result<T, Error>) -> String {
    match r {
        Ok(v) => serde_json::to_string(&v).unwrap(),
        Err(e) => e.to_json(),
    }
}

/// Checks one request text both ways; returns whether serde read it.
fn same<T: serde::de::DeserializeOwned>(
    text: &str,
    by_serde: impl Fn(T) -> String,
    by_reader: impl Fn(&str) -> String,
) -> bool {
    let reader = by_reader(text);
    match serde_json::from_str::<T>(text) {
        Ok(v) => {
            assert_eq!(reader, by_serde(v), "input: {text}");
            true
        }
        Err(e) => {
            assert!(
                reader.starts_with("{\"error\":"),
                "serde refused ({e}) but the reader answered {reader}\ninput: {text}"
            );
            false
        }
    }
}

fn check_policy(text: &str) -> bool {
    same::<PolicyDocument>(
        text,
        |doc| answer(Policy::from_document(doc).and_then(|p| p.digest())),
        |t| answer(Policy::from_json(t).and_then(|p| p.digest())),
    )
}

/// The request without `op` and `policy`, for the engine's `*_json` calls.
fn request_text(req: &Value) -> String {
    let mut r = req.clone();
    if let Some(m) = r.as_object_mut() {
        m.remove("op");
        m.remove("policy");
    }
    r.to_string()
}

fn check_request(engine: &Engine, op: &str, text: &str) -> bool {
    match op {
        "quote" => {
            same::<QuoteRequest>(text, |r| answer(engine.quote(&r)), |t| engine.quote_json(t))
        }
        "replay" => same::<ReplayRequest>(
            text,
            |r| answer(engine.replay(&r)),
            |t| engine.replay_json(t),
        ),
        "progress" => same::<ReplayRequest>(
            text,
            |r| answer(engine.progress(&r)),
            |t| engine.progress_json(t),
        ),
        "verify" => same::<VerifyRequest>(
            text,
            |r| answer(engine.verify(&r)),
            |t| engine.verify_json(t),
        ),
        _ => false,
    }
}

/// Mutations of a JSON value: at every object, a member removed and an unknown one added; at
/// every leaf, a value of each other type.
fn mutations(v: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut paths = Vec::new();
    collect(v, &mut Vec::new(), &mut paths);
    for (path, is_object) in paths {
        if is_object {
            let keys: Vec<String> = get(v, &path).as_object().unwrap().keys().cloned().collect();
            for k in keys {
                let mut m = v.clone();
                get_mut(&mut m, &path).as_object_mut().unwrap().remove(&k);
                out.push(m);
            }
            let mut m = v.clone();
            get_mut(&mut m, &path)
                .as_object_mut()
                .unwrap()
                .insert("zz_unknown".into(), json!(1));
            out.push(m);
        } else {
            for replacement in [
                json!(null),
                json!(true),
                json!(-1),
                json!(7),
                json!(2.5),
                json!(18446744073709551615u64),
                json!("max"),
                json!("x\"y"),
                json!({}),
            ] {
                let mut m = v.clone();
                *get_mut(&mut m, &path) = replacement;
                out.push(m);
            }
        }
    }
    out
}

fn collect(v: &Value, here: &mut Vec<String>, out: &mut Vec<(Vec<String>, bool)>) {
    match v {
        Value::Object(m) => {
            out.push((here.clone(), true));
            for (k, x) in m {
                here.push(k.clone());
                collect(x, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                here.push(i.to_string());
                collect(x, here, out);
                here.pop();
            }
        }
        _ => out.push((here.clone(), false)),
    }
}

fn get<'a>(v: &'a Value, path: &[String]) -> &'a Value {
    path.iter().fold(v, |v, k| match v {
        Value::Array(a) => &a[k.parse::<usize>().unwrap()],
        _ => &v[k.as_str()],
    })
}

fn get_mut<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(v, |v, k| match v {
        Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
        _ => &mut v[k.as_str()],
    })
}

/// The requests of the vectors in `folders` (file name, request), in file order.
fn vector_requests(folders: &[&str]) -> Vec<(String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut out = Vec::new();
    for folder in folders {
        let mut files: Vec<_> = std::fs::read_dir(root.join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for f in files {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            out.push((f.display().to_string(), v["request"].clone()));
        }
    }
    out
}

fn vectors() -> Vec<(String, Value)> {
    vector_requests(&["validate", "quote", "replay", "progress", "verify"])
}

#[test]
fn reader_and_serde_agree_on_every_vector_and_its_mutations() {
    let (mut read, mut refused) = (0, 0);
    for (name, req) in vectors() {
        let policy = &req["policy"];
        let mut count = |ok: bool| if ok { read += 1 } else { refused += 1 };
        count(check_policy(&policy.to_string()));
        let op = req["op"].as_str().unwrap_or_default();
        // Mutations of the policy of the first vectors only (they share their policies).
        if name.contains("validate/") {
            for m in mutations(policy) {
                count(check_policy(&m.to_string()));
            }
        }
        let Ok(engine) = Engine::from_json(&policy.to_string()) else {
            continue;
        };
        let text = request_text(&req);
        count(check_request(&engine, op, &text));
        let mut plain = req.clone();
        if let Some(m) = plain.as_object_mut() {
            m.remove("op");
            m.remove("policy");
        }
        for m in mutations(&plain) {
            count(check_request(&engine, op, &m.to_string()));
        }
    }
    eprintln!("{read} inputs read by both, {refused} refused by both");
    assert!(
        read > 2_000 && refused > 2_000,
        "{read} read, {refused} refused"
    );
}

#[test]
fn duplicate_keys_and_syntax_faults_are_refused_by_both() {
    let engine = Engine::from_json(
        r#"{"schema":1,"id":"p","currency":"EUR","time_zone":"UTC","earning":{"spend":"1","points":1}}"#,
    )
    .unwrap();
    let base = r#"{"member":{"id":"m","status":"active","points":0},"cart":{"id":"c","at":"2026-01-01T00:00:00Z","lines":[{"id":"a","quantity":1,"unit_price":"1"}]}}"#;
    assert!(check_request(&engine, "quote", base));
    for bad in [
        base.replace(r#""id":"m","#, r#""id":"m","id":"n","#),
        base.replace("\"quantity\":1", "\"quantity\":1,\"quantity\":2"),
        base.replacen('}', "},", 1),
        base.replace("]}}", "]}} x"),
        base.replace("\"1\"}", "\"1\\u00\"}"),
        base.replace("\"quantity\":1", "\"quantity\":1e999"),
    ] {
        assert!(!check_request(&engine, "quote", &bad), "{bad}");
    }
}

/// Member lines: every replay/progress/simulate vector's members, generated histories of both
/// profiles, and mutations of them.
fn member_lines() -> (Vec<String>, Vec<String>) {
    use loyalty_engine::generate::{member_line, GenerateOptions, Plan};
    let mut from_vectors = Vec::new();
    for (_, req) in vector_requests(&["replay", "progress", "simulate"]) {
        match req["members"].as_array() {
            Some(members) => from_vectors.extend(members.iter().cloned()),
            None => from_vectors
                .push(json!({"member": req["member"].clone(), "events": req["events"].clone()})),
        }
    }
    let mut generated = Vec::new();
    for profile in ["vn-fashion", "sk-grocery"] {
        let plan = Plan::new(&GenerateOptions {
            members: 150,
            seed: 7,
            months: 14,
            profile: profile.into(),
            as_of: None,
        })
        .unwrap();
        generated.extend((0..plan.members).map(|i| member_line(&plan, i)));
    }
    let mut all: Vec<String> = from_vectors.iter().map(Value::to_string).collect();
    for v in from_vectors.iter().take(40) {
        all.extend(mutations(v).iter().map(Value::to_string));
    }
    // Written forms serde_json's writer never produces.
    let sample = generated[0].clone();
    for (from, to) in [
        (",", " ,\n\t"),
        (":", " : "),
        ("{", "{ "),
        ("\"quantity\":1", "\"quantity\":01"),
        ("\"quantity\":1", "\"quantity\":-0"),
        ("\"quantity\":1", "\"quantity\":1.0"),
        ("\"quantity\":1", "\"quantity\":1e0"),
        ("\"quantity\":1", "\"quantity\":-1"),
        ("\"quantity\":1", "\"quantity\":99999999999999999999"),
        ("\"quantity\":1", "\"quantity\":1,\"quantity\":1"),
        ("\"quantity\":1", "\"quantity\":true"),
        ("\"quantity\":1", "\"quantity\":nul"),
        ("\"channel\":\"pos\"", "\"channel\":null"),
        ("\"channel\":\"pos\"", "\"channel\":nullx"),
        ("\"channel\":\"pos\"", "\"channel\":\"p\\u006fs\""),
        ("\"channel\":\"pos\"", "\"channel\":\"p\\\"s\""),
        ("\"channel\":\"pos\"", "\"channel\":\"p\ts\""),
        ("\"channel\":\"pos\"", "\"chan\\u006eel\":\"pos\""),
        ("\"type\":\"purchase\"", "\"type\":\"Purchase\""),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"redeem_points\":\"max\"",
        ),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"redeem_points\":-0",
        ),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"redeem_points\":12",
        ),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"earn\":falsey",
        ),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"earn\":null",
        ),
        // SPEC §3.1: a purchase's policy_digest and quoted_member (read, then ignored by a
        // simulation), well-formed and not.
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"policy_digest\":\"sha256:ab\"",
        ),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"policy_digest\":null",
        ),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"policy_digest\":7",
        ),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"quoted_member\":{\"status\":\"active\",\"tier\":\"gold\",\"points\":-40}",
        ),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"quoted_member\":{\"points\":3,\"tier\":null,\"status\":\"inactive\"}",
        ),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"quoted_member\":{\"status\":\"active\",\"points\":3}",
        ),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"quoted_member\":{\"status\":\"active\",\"tier\":\"gold\"}",
        ),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"quoted_member\":{\"status\":\"active\",\"points\":3,\"id\":\"m\"}",
        ),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"quoted_member\":{\"status\":\"active\",\"points\":3,\"points\":4}",
        ),
        (
            "\"type\":\"purchase\"",
            "\"type\":\"purchase\",\"quoted_member\":{\"status\":\"active\",\"points\":1.5}",
        ),
        // Keys in another order than the fields', repeated, or extending a known key.
        (
            "{\"id\":\"p1\",\"type\":\"purchase\"",
            "{\"type\":\"purchase\",\"id\":\"p1\"",
        ),
        ("\"channel\":\"pos\"", "\"channel\":\"pos\",\"store\":\"x\""),
        (
            "\"channel\":\"pos\"",
            "\"channel\":\"pos\",\"channel\":\"pos\"",
        ),
        ("\"category\":", "\"categoryx\":"),
        ("\"category\":", "\"cat\":"),
        ("\"category\":", "\"sku\":\"s\",\"category\":"),
        ("\"unit_price\":", "\"sku\":\"s\",\"unit_price\":"),
        ("\"unit_price\":", "\"unit_price\" :"),
        ("\"lines\":[", "\"lines\":[ ]"),
        ("}]}", "}],}"),
        ("}]}", "}]}}"),
        ("}]}", "}]} \n"),
        ("}]}", "}]} x"),
        ("\"member\":{", "\"member\":{\"id\":\"dup\","),
    ] {
        all.push(sample.replacen(from, to, 1));
        all.push(sample.replace(from, to));
    }
    all.push(format!(" {sample}\t"));
    all.push(format!("{sample}{sample}"));
    all.push(sample.replace("\"active\"", "\"ACTIVE\""));
    (all, generated)
}

/// The simulator reads member lines on a fast path and falls back to the general reader when
/// it gives up: whatever the fast path reads must be exactly what the general reader reads, and
/// it must read every generated line (or simulations silently lose their speed).
#[test]
fn fast_member_reader_reads_what_the_general_reader_reads() {
    use loyalty_engine::simulate::{read_member, read_member_fast};
    let (all, generated) = member_lines();
    let (mut fast, mut general_only, mut refused) = (0, 0, 0);
    for text in all.iter().chain(&generated) {
        let general = read_member(text);
        match read_member_fast(text) {
            Some(m) => {
                let g = general.unwrap_or_else(|e| {
                    panic!("fast path read what the general reader refuses ({e:?}): {text}")
                });
                assert_eq!(m, g.view(), "input: {text}");
                fast += 1;
            }
            None if general.is_ok() => general_only += 1,
            None => refused += 1,
        }
    }
    for text in &generated {
        assert!(
            read_member_fast(text).is_some(),
            "fast path gave up on {text}"
        );
    }
    eprintln!("{fast} read on the fast path, {general_only} by the general reader only, {refused} refused");
    assert!(fast > 300 && general_only > 20 && refused > 200);
}
