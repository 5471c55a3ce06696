//! Verify (issue 6): a server recomputes a till's offline quote natively and says exactly what
//! differs before it books the order.
//!
//! The request is `{ "request": <quote request>, "response": <the till's quote response> }`.
//! The answer is `{ valid, policy_digest, expected_digest, received_digest, mismatches[] }`:
//! `valid` is true only when the till's response, written as canonical compact JSON (SPEC §7.1,
//! its key order kept), is byte-identical to the recomputed one; `mismatches` lists every
//! differing leaf in the order of the response's fields.

use crate::error::{Error, ErrorCode};
use crate::json;
use crate::policy::Policy;
use crate::quote::{self, QuoteRequest};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::collections::HashSet;
use std::fmt;

#[cfg(all(target_arch = "wasm32", feature = "full"))]
use tsify::Tsify;

/// `{ "request": <quote request>, "response": <the till's quote response object> }`.
#[derive(Clone, Debug, serde::Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The quote request the till priced.
    pub request: QuoteRequest,
    /// The till's answer, as it sent it.
    #[cfg_attr(
        all(target_arch = "wasm32", feature = "full"),
        tsify(type = "QuoteResponse | Record<string, unknown>")
    )]
    pub response: Json,
}

/// What the server found (fields in this order).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VerifyResponse {
    /// The till's response is byte-identical (canonical compact JSON) to the recomputed one.
    pub valid: bool,
    /// The digest of the policy the server verified with.
    pub policy_digest: String,
    /// The `digest` of the recomputed quote response.
    pub expected_digest: String,
    /// The till's `digest` (null when it sent none, or not a string).
    pub received_digest: Option<String>,
    /// Every differing leaf, in the order of the response's fields.
    pub mismatches: Vec<Mismatch>,
}

/// One difference between the recomputed response and the till's.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Mismatch {
    /// Where: `total`, `lines[1].paid`, `applied_rules[0].effect.multiplier`, `digest`; `""` for
    /// the whole response (a key order difference at the top level).
    pub field: String,
    /// The recomputed value (null when the till sent a field the engine does not write).
    #[cfg_attr(all(target_arch = "wasm32", feature = "full"), tsify(type = "unknown"))]
    pub expected: Json,
    /// The till's value (null when it is missing).
    #[cfg_attr(all(target_arch = "wasm32", feature = "full"), tsify(type = "unknown"))]
    pub received: Json,
}

/// Recomputes the quote and compares. A quote request that fails gives that error, its path
/// prefixed `request.`.
pub fn verify(
    policy: &Policy,
    policy_digest: &str,
    req: &VerifyRequest,
) -> Result<VerifyResponse, Error> {
    let recomputed =
        quote::quote(policy, policy_digest, &req.request).map_err(|e| e.within("request"))?;
    if !matches!(req.response, Json::Object(_)) {
        return Err(Error::invalid_request(
            "response",
            "the till's response must be a quote response object",
        ));
    }
    let expected_text = json::to_json(&recomputed)?;
    let expected: Json = json::parse(&expected_text, ErrorCode::InvalidRequest)?;
    let received_text = json::to_json(&req.response)?;
    let mut mismatches = Vec::new();
    diff("", &expected, Some(&req.response), &mut mismatches);
    let received_digest = match req.response.get("digest") {
        Some(Json::String(s)) => Some(s.clone()),
        _ => None,
    };
    Ok(VerifyResponse {
        valid: mismatches.is_empty() && received_text == expected_text,
        policy_digest: policy_digest.to_string(),
        expected_digest: recomputed.digest,
        received_digest,
        mismatches,
    })
}

fn key_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Appends the differences between `expected` and `received` under `path`.
fn diff(path: &str, expected: &Json, received: Option<&Json>, out: &mut Vec<Mismatch>) {
    let push = |out: &mut Vec<Mismatch>, field: String, e: &Json, r: &Json| {
        out.push(Mismatch {
            field,
            expected: e.clone(),
            received: r.clone(),
        })
    };
    let Some(received) = received else {
        push(out, path.to_string(), expected, &Json::Null);
        return;
    };
    match (expected, received) {
        (Json::Object(e), Json::Object(r)) => {
            let start = out.len();
            for (k, ev) in e {
                diff(&key_path(path, k), ev, received.get(k), out);
            }
            let known: HashSet<&str> = e.iter().map(|(k, _)| k.as_str()).collect();
            for (k, rv) in r {
                if !known.contains(k.as_str()) {
                    push(out, key_path(path, k), &Json::Null, rv);
                }
            }
            // Same keys in another order: not byte-identical, so say so at the object itself.
            let given: HashSet<&str> = r.iter().map(|(k, _)| k.as_str()).collect();
            let order_e = e
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|k| given.contains(k));
            let order_r = r
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|k| known.contains(k));
            if !order_e.eq(order_r) {
                out.insert(
                    start,
                    Mismatch {
                        field: path.to_string(),
                        expected: expected.clone(),
                        received: received.clone(),
                    },
                );
            }
        }
        (Json::Array(e), Json::Array(r)) => {
            for i in 0..e.len().max(r.len()) {
                let p = format!("{path}[{i}]");
                match (e.get(i), r.get(i)) {
                    (Some(ev), rv) => diff(&p, ev, rv, out),
                    (None, Some(rv)) => push(out, p, &Json::Null, rv),
                    (None, None) => {}
                }
            }
        }
        (e, r) => {
            if e.canonical() != r.canonical() {
                push(out, path.to_string(), e, r);
            }
        }
    }
}

/// A JSON value that keeps its object keys in input order (serde_json's `Value` sorts them)
/// and rejects duplicate keys.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// A member of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as canonical compact JSON text (SPEC §7.1).
    fn canonical(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n.serialize(s),
            Json::String(v) => s.serialize_str(v),
            Json::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Json::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Json, D2::Error> {
                Json::deserialize(d)
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Json, E> {
                serde_json::Number::from_f64(v)
                    .map(Json::Number)
                    .ok_or_else(|| E::custom("number out of range"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(Json::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut out: Vec<(String, Json)> = Vec::new();
                let mut seen = HashSet::new();
                while let Some(k) = map.next_key::<String>()? {
                    if !seen.insert(k.clone()) {
                        return Err(serde::de::Error::custom(format!("duplicate field `{k}`")));
                    }
                    let v: Json = map.next_value()?;
                    out.push((k, v));
                }
                Ok(Json::Object(out))
            }
        }
        d.deserialize_any(V)
    }
}
