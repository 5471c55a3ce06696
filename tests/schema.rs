//! The JSON Schemas (feature `schema`, src/schema.rs):
//!
//! - the shipped files (`schema/*.json`, `python/loyalty_engine/schema/*.json`) are exactly what
//!   the Rust types give (`UPDATE_SCHEMA=1 cargo test --features schema --test schema` rewrites
//!   them) — never hand-kept;
//! - for every type the engine's reader (src/json/shapes.rs) reads, the schema's `properties`
//!   are the reader's fields, its `required` the reader's required fields, unknown fields are
//!   refused (`additionalProperties: false`), and every string enum lists exactly the reader's
//!   names — field by field; and every object type of a request schema has such a reader;
//! - the error codes and zone names in the schemas are the engine's.
//!
//! Validation of every vector and the schema-invalid mutations are tested in Python
//! (python/tests/test_schema.py, with the `jsonschema` package).

use loyalty_engine::schema::{reader_shapes, schemas, ReaderShape};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("a schema is JSON");
    s.push('\n');
    s
}

#[test]
fn shipped_schema_files_are_the_generated_ones() {
    let update = std::env::var_os("UPDATE_SCHEMA").is_some();
    let dirs = [
        root().join("schema"),
        root().join("python/loyalty_engine/schema"),
    ];
    let all = schemas();
    assert_eq!(all.len(), 13);
    for dir in &dirs {
        if update {
            std::fs::create_dir_all(dir).unwrap();
        }
        let mut expected_files = BTreeSet::new();
        for (name, _, schema) in &all {
            let file = dir.join(format!("{name}.json"));
            expected_files.insert(format!("{name}.json"));
            let text = pretty(schema);
            if update {
                std::fs::write(&file, &text).unwrap();
            } else {
                let on_disk = std::fs::read_to_string(&file).unwrap_or_else(|e| {
                    panic!(
                        "{}: {e} (run UPDATE_SCHEMA=1 cargo test --features schema --test schema)",
                        file.display()
                    )
                });
                assert!(
                    on_disk == text,
                    "{} is not what the types give: run UPDATE_SCHEMA=1 cargo test --features schema --test schema",
                    file.display()
                );
            }
        }
        let present: BTreeSet<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        assert_eq!(
            present,
            expected_files,
            "{}: stray schema files",
            dir.display()
        );
    }
}

/// Every named schema: the `$defs` of all files and each file's root (named by its type).
fn definitions() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (_, type_name, schema) in schemas() {
        if let Some(defs) = schema.get("$defs").and_then(Value::as_object) {
            for (k, v) in defs {
                if let Some(old) = out.insert(k.clone(), v.clone()) {
                    assert_eq!(old, *v, "two different schemas named {k}");
                }
            }
        }
        let mut root = schema.clone();
        let obj = root.as_object_mut().unwrap();
        for k in ["$schema", "$id", "$defs", "title"] {
            obj.remove(k);
        }
        out.insert(type_name.to_string(), root);
    }
    out
}

fn strings(v: Option<&Value>) -> BTreeSet<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// A string enum's names: `enum`, or `oneOf` of `const`s (variants with documentation).
fn enum_names(schema: &Value) -> BTreeSet<String> {
    if let Some(e) = schema.get("enum") {
        return strings(Some(e));
    }
    schema
        .get("oneOf")
        .and_then(Value::as_array)
        .map(|alts| {
            alts.iter()
                .map(|a| {
                    a["const"]
                        .as_str()
                        .expect("an enum variant is a const string")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn schema_properties_required_and_enums_are_what_the_reader_accepts() {
    let defs = definitions();
    let shapes = reader_shapes();
    assert!(shapes.len() >= 30, "{} readers", shapes.len());
    let mut checked = 0;
    for shape in shapes {
        match shape {
            ReaderShape::Object { name, fields } => {
                let Some(schema) = defs.get(name) else {
                    // Read but shipped in no schema: only the generate options (not a request
                    // of the package's API schemas).
                    assert_eq!(name, "GenerateOptions", "no schema for reader {name}");
                    continue;
                };
                assert_eq!(schema["type"], "object", "{name}");
                let props: BTreeSet<String> = schema["properties"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{name} has properties"))
                    .keys()
                    .cloned()
                    .collect();
                let reader: BTreeSet<String> = fields.iter().map(|(k, _)| k.to_string()).collect();
                assert_eq!(props, reader, "{name}: properties");
                let required = strings(schema.get("required"));
                let reader_required: BTreeSet<String> = fields
                    .iter()
                    .filter(|(_, r)| *r)
                    .map(|(k, _)| k.to_string())
                    .collect();
                assert_eq!(required, reader_required, "{name}: required");
                assert_eq!(
                    schema["additionalProperties"], false,
                    "{name}: unknown fields"
                );
                checked += 1;
            }
            ReaderShape::Enum { name, names } => {
                let schema = defs
                    .get(name)
                    .unwrap_or_else(|| panic!("no schema for enum {name}"));
                let want: BTreeSet<String> = names.iter().map(|n| n.to_string()).collect();
                assert_eq!(enum_names(schema), want, "{name}: enum");
                checked += 1;
            }
        }
    }
    assert!(checked >= 30, "{checked}");
}

/// The object types reachable from the request schemas: each must be one the reader knows (or
/// one of the hand-written shapes in src/schema.rs), so no request field escapes the test above.
#[test]
fn every_request_object_has_a_reader() {
    let readers: BTreeSet<&str> = reader_shapes()
        .iter()
        .map(|s| match s {
            ReaderShape::Object { name, .. } | ReaderShape::Enum { name, .. } => *name,
        })
        .collect();
    let hand_written = ["DecimalString", "RedeemPoints", "Window", "AnyJson"];
    for (file, type_name, schema) in schemas() {
        if !(file == "policy" || file.ends_with("-request") || file == "member-history") {
            continue;
        }
        let mut names: Vec<String> = vec![type_name.to_string()];
        if let Some(defs) = schema.get("$defs").and_then(Value::as_object) {
            names.extend(defs.keys().cloned());
        }
        for n in names {
            // verify's `response` is a quote answer: the response types have no reader.
            if file == "verify-request" && !readers.contains(n.as_str()) {
                continue;
            }
            assert!(
                readers.contains(n.as_str()) || hand_written.contains(&n.as_str()),
                "{file}: {n} has no reader shape"
            );
        }
    }
}

#[test]
fn enums_are_the_engines() {
    let defs = definitions();
    let codes: BTreeSet<String> = enum_names(&defs["ErrorCode"]);
    let engine: BTreeSet<String> = loyalty_engine::schema::error_codes()
        .into_iter()
        .map(String::from)
        .collect();
    assert!(codes.len() >= 15, "{codes:?}");
    assert_eq!(codes, engine);
    let zones = strings(defs["PolicyDocument"]["properties"]["time_zone"].get("enum"));
    assert!(zones.contains("Asia/Ho_Chi_Minh") && zones.contains("Europe/Bratislava"));
    let engine_zones: BTreeSet<String> = loyalty_engine::time::zone_names()
        .map(String::from)
        .collect();
    assert_eq!(zones, engine_zones);
    // Every zone name the schema lists is one the engine accepts in a policy.
    for z in ["Asia/Ho_Chi_Minh", "UTC", "America/New_York"] {
        assert!(zones.contains(z), "{z}");
    }
}
