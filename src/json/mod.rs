//! JSON input and output helpers: typed parsing that reports the JSON path of the first fault,
//! and the canonical writer/digest of SPEC §7.1.

use crate::error::{Error, ErrorCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt::Write;

mod tree;

pub use tree::Node;

/// Parses `text` into `T`, reporting the first fault with `code` at its JSON path.
pub fn parse<T: DeserializeOwned>(text: &str, code: ErrorCode) -> Result<T, Error> {
    let node = parse_node(text, code)?;
    from_node(&node, code)
}

/// Parses JSON text into a [`Node`] tree (duplicate keys rejected). A syntax fault (a number
/// beyond f64, nesting beyond serde_json's 128 levels, truncation) is reported at the path where
/// it occurred; tracking that costs one wrapper around the tree's one visitor.
pub fn parse_node(text: &str, code: ErrorCode) -> Result<Node, Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let node: Node = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = render_path(e.path());
        Error::new(code, path, clean_message(&e.into_inner()))
    })?;
    de.end()
        .map_err(|e| Error::new(code, "", clean_message(&e)))?;
    Ok(node)
}

/// `a.b[2].c` from serde_path_to_error's segments.
fn render_path(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            serde_path_to_error::Segment::Seq { index } => {
                let _ = write!(out, "[{index}]");
            }
            serde_path_to_error::Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            serde_path_to_error::Segment::Enum { variant } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(variant);
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    out
}

/// Reads `T` from a parsed tree, reporting the first fault with `code` at its JSON path.
pub fn from_node<T: DeserializeOwned>(node: &Node, code: ErrorCode) -> Result<T, Error> {
    tree::from_node(node).map_err(|e| {
        let mut path = e.path.unwrap_or_default();
        // serde reports a missing field at its parent; point at the field itself so a form
        // can highlight what to fill in.
        if let Some(field) = missing_field(&e.message) {
            path = crate::error::join_path(&path, field);
        }
        Error::new(code, path, e.message)
    })
}

/// The field name in serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
}

/// serde_json's message without its " at line L column C" suffix: positions depend on
/// formatting, and the path already says where.
fn clean_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    }
}

/// Compact canonical JSON (SPEC §7.1): serde_json's compact writer escapes exactly `"`, `\` and
/// U+0000–U+001F (short forms, else `\u00xx` lower-case) and keeps struct field order.
pub fn to_json<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value)
        .map_err(|e| Error::new(ErrorCode::InvalidRequest, "", e.to_string()))
}

/// `"sha256:<hex>"` of bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hash.iter() {
        let _ = write!(out, "{b:02x}");
    }
    out
}
