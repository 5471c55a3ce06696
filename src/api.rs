//! The string-level API: one JSON request in, one compact JSON line out. The CLI (`loyalty
//! eval`) and the Wasm bindings both call these, which is what makes their bytes identical.

use crate::engine::{respond, Engine};
use crate::error::{Error, ErrorCode};
use crate::limits;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use std::collections::HashSet;
use std::fmt;

/// Validates a policy document: `{"policy_digest","warnings"}` or `{"error":…}`.
pub fn validate_json(policy_json: &str) -> String {
    respond(Engine::from_json(policy_json).map(|e| e.validate()))
}

/// One `loyalty eval` line (SPEC §7.26): `None` for a blank line, else exactly one compact line.
pub fn eval_line(line: &str) -> Option<String> {
    if line.len() > limits::MAX_LINE_BYTES {
        return Some(line_too_long());
    }
    if line.trim().is_empty() {
        return None;
    }
    Some(match eval(line) {
        Ok(s) => s,
        Err(e) => e.to_json(),
    })
}

/// The answer to a request line longer than [`limits::MAX_LINE_BYTES`]: `limit_exceeded` at
/// path `""`. `loyalty eval` writes it for a line it stopped reading at the limit (the rest of
/// the line is skipped and the stream goes on), so the CLI and `evalLine` answer alike.
pub fn line_too_long() -> String {
    Error::new(
        ErrorCode::LimitExceeded,
        "",
        format!(
            "the request line is longer than {} bytes",
            limits::MAX_LINE_BYTES
        ),
    )
    .to_json()
}

/// The operations `eval` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Validate,
    Quote,
    Replay,
    Progress,
    Verify,
}

fn eval(line: &str) -> Result<String, Error> {
    let members = serde_json::from_str::<Members>(line)
        .map_err(|e| Error::invalid_request("", clean(&e)))?
        .0;
    let mut op = None;
    let mut policy = None;
    let mut rest: Vec<(&str, &RawValue)> = Vec::new();
    for (k, v) in &members {
        match k.as_str() {
            "op" => op = Some(v),
            "policy" => policy = Some(v),
            _ => rest.push((k, v)),
        }
    }
    let op_value = op.ok_or_else(|| Error::invalid_request("op", "missing op"))?;
    let op = match serde_json::from_str::<&str>(op_value.get()) {
        Ok("validate") => Op::Validate,
        Ok("quote") => Op::Quote,
        Ok("replay") => Op::Replay,
        Ok("progress") => Op::Progress,
        Ok("verify") => Op::Verify,
        _ => {
            return Err(Error::invalid_request(
                "op",
                format!(
                    "unknown op {}: expected \"validate\", \"quote\", \"replay\", \"progress\" or \"verify\"",
                    op_value.get()
                ),
            ))
        }
    };
    let policy = policy.ok_or_else(|| Error::invalid_request("policy", "missing policy"))?;
    let engine = Engine::from_json(policy.get())?;
    let request = object_text(&rest);
    Ok(match op {
        Op::Validate => {
            if let Some((k, _)) = rest.first() {
                return Err(Error::invalid_request(
                    *k,
                    format!("unknown field `{k}`: a validate request has only op and policy"),
                ));
            }
            respond(Ok(engine.validate()))
        }
        Op::Quote => engine.quote_json(&request),
        Op::Replay => engine.replay_json(&request),
        Op::Progress => engine.progress_json(&request),
        Op::Verify => engine.verify_json(&request),
    })
}

/// Rebuilds `{"k":v,…}` from the members left after `op` and `policy` were taken out.
fn object_text(members: &[(&str, &RawValue)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Keys came from valid JSON; re-escaping them through serde_json keeps them valid.
        out.push_str(&serde_json::to_string(k).unwrap_or_default());
        out.push(':');
        out.push_str(v.get());
    }
    out.push('}');
    out
}

fn clean(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    }
}

/// The top-level object's members in input order, rejecting duplicate keys (a JSON object with
/// a repeated key would otherwise silently keep one of them).
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a request object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out: Vec<(String, Box<RawValue>)> = Vec::new();
                // A set, not a scan of `out`: a line with a million keys stays linear.
                let mut seen: HashSet<String> = HashSet::new();
                while let Some(k) = map.next_key::<String>()? {
                    if !seen.insert(k.clone()) {
                        return Err(serde::de::Error::custom(format!("duplicate field `{k}`")));
                    }
                    let v: Box<RawValue> = map.next_value()?;
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}
