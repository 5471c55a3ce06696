//! Shared by `tests/vectors.rs` and `tests/cli_vectors.rs` (included with `#[path]`): finds the
//! conformance vectors and splits each into its compact request and expected response TEXT.
//!
//! The JSON is never round-tripped through `serde_json::Value` (that would sort keys): the raw
//! text is compacted by a small string-aware white-space stripper, so key order is kept exactly
//! as the vector file writes it.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

/// One vector file, ready to run.
pub struct Vector {
    /// Path relative to `tests/vectors/`, e.g. `quote/001-spec-worked-example.json`.
    pub name: String,
    pub description: String,
    /// Compact request text (key order as written).
    pub request: String,
    /// Compact expected response text (key order as written).
    pub expected: String,
}

pub fn vectors_dir() -> PathBuf {
    // The engine's tests and the CLI's (cli/tests/, one level down) read the same vectors.
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = if here.join("tests/vectors").is_dir() {
        here
    } else {
        here.parent().unwrap_or(here)
    };
    root.join("tests").join("vectors")
}

/// Every `tests/vectors/**/*.json` (except under `tools/`), sorted by relative path.
pub fn load_all() -> Vec<Vector> {
    let root = vectors_dir();
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    files
        .iter()
        .map(|p| {
            let name = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = fs::read_to_string(p).unwrap_or_else(|e| panic!("{name}: {e}"));
            parse_vector(&name, &text).unwrap_or_else(|e| panic!("{name}: malformed vector: {e}"))
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "tools") {
                continue;
            }
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

/// Removes all white space outside strings; strings (with their escapes) are copied verbatim.
pub fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

/// End (exclusive byte index) of the JSON value starting at `i` in compact text.
fn skip_value(s: &[u8], mut i: usize) -> Result<usize, String> {
    match s.get(i) {
        Some(b'"') => {
            i += 1;
            while i < s.len() {
                match s[i] {
                    b'\\' => i += 2,
                    b'"' => return Ok(i + 1),
                    _ => i += 1,
                }
            }
            Err("unterminated string".into())
        }
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            while i < s.len() {
                match s[i] {
                    b'"' => {
                        i = skip_value(s, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Err("unterminated object or array".into())
        }
        Some(_) => {
            while i < s.len() && !matches!(s[i], b',' | b'}' | b']') {
                i += 1;
            }
            Ok(i)
        }
        None => Err("value expected".into()),
    }
}

/// The members of a compact top-level object as (key text without quotes, raw value text).
pub fn top_level_members(compact: &str) -> Result<Vec<(String, String)>, String> {
    let s = compact.as_bytes();
    if s.first() != Some(&b'{') {
        return Err("not an object".into());
    }
    let mut i = 1;
    let mut out = Vec::new();
    if s.get(i) == Some(&b'}') {
        return Ok(out);
    }
    loop {
        let k_end = skip_value(s, i)?;
        let key = compact[i + 1..k_end - 1].to_string();
        if s.get(k_end) != Some(&b':') {
            return Err(format!("':' expected after key {key}"));
        }
        let v_end = skip_value(s, k_end + 1)?;
        out.push((key, compact[k_end + 1..v_end].to_string()));
        match s.get(v_end) {
            Some(b',') => i = v_end + 1,
            Some(b'}') if v_end + 1 == s.len() => return Ok(out),
            _ => return Err("',' or final '}' expected".into()),
        }
    }
}

pub fn parse_vector(name: &str, text: &str) -> Result<Vector, String> {
    // Well-formedness first (serde_json only checks here; the texts used are the raw ones).
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let description = v
        .get("description")
        .and_then(|d| d.as_str())
        .unwrap_or("")
        .to_string();
    let members = top_level_members(&compact(text))?;
    let get = |k: &str| {
        members
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("missing \"{k}\""))
    };
    Ok(Vector {
        name: name.to_string(),
        description,
        request: get("request")?,
        expected: get("expected")?,
    })
}

/// A diff-friendly report of two one-line JSON texts: both in full, then the first difference
/// with some context on each side.
pub fn describe_mismatch(expected: &str, actual: &str) -> String {
    let at = expected
        .bytes()
        .zip(actual.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    let ctx = |s: &str| {
        let mut lo = at.saturating_sub(60);
        while !s.is_char_boundary(lo) {
            lo -= 1;
        }
        let mut hi = (at + 60).min(s.len());
        while !s.is_char_boundary(hi) {
            hi += 1;
        }
        format!("…{}…", &s[lo..hi])
    };
    format!(
        "  expected: {expected}\n  actual:   {actual}\n  first difference at byte {at}:\n    expected {}\n    actual   {}",
        ctx(expected),
        ctx(actual)
    )
}
