//! Reading JSON bodies: every fault is `invalid_request` with the path of what is wrong
//! (`quote_request.cart`, `lines[2].quantity`; `""` for text that is not JSON), an oversized
//! body is 413 `limit_exceeded`, and the parsed value is kept so that the idempotency record can
//! compare bodies as JSON values (SPEC §8.5).

use crate::http::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The largest body any route reads (a policy or a quote request with its cart): 1 MiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// A JSON body read into `T` (which denies unknown fields), and the same body as a JSON value.
pub struct Body<T> {
    pub value: T,
    pub raw: Value,
}

/// The body's bytes (within the size limit), parsed by the handler once it has checked who is
/// asking: a credential that may not use the route gets 403 whatever it sent.
pub struct Raw(pub Bytes);

impl Raw {
    pub fn parse<T: DeserializeOwned>(&self) -> Result<Body<T>, ApiError> {
        parse(&self.0)
    }
}

impl<S: Send + Sync> FromRequest<S> for Raw {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge {
                    message: format!("the body is longer than {MAX_BODY_BYTES} bytes"),
                    path: String::new(),
                }
            } else {
                ApiError::invalid("", format!("the body could not be read: {e}"))
            }
        })?;
        Ok(Raw(bytes))
    }
}

/// Parses a body: first as JSON at all (`""` path), then into `T` with the path of the fault.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<Body<T>, ApiError> {
    let raw: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid("", format!("the body is not JSON: {e}")))?;
    // Typed from the bytes themselves, so a `RawValue` field keeps the text as sent (a till's
    // quote is compared byte for byte, key order included).
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        ApiError::invalid(path, e.inner().to_string())
    })?;
    Ok(Body { value, raw })
}

/// A JSON value into `T`, a fault reported at its path.
pub fn typed<T: DeserializeOwned>(raw: &Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(raw).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        ApiError::invalid(path, e.inner().to_string())
    })
}

/// The JSON value written canonically (object keys sorted, compact): two bodies are "the same
/// request" when these texts are equal, whatever their key order or white space.
pub fn canonical(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String((*k).clone()).to_string());
                    out.push(':');
                    if let Some(x) = m.get(*k) {
                        write(x, out);
                    }
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    write(v, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        quantity: u32,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        lines: Vec<Inner>,
    }

    #[test]
    fn faults_have_paths() {
        let e = parse::<Outer>(br#"{"lines":[{"quantity":1},{"quantity":"x"}]}"#)
            .err()
            .map(|e| (e.code().to_string(), e.body()));
        let (code, body) = e.unwrap_or_default();
        assert_eq!(code, "invalid_request");
        assert!(body.contains(r#""path":"lines[1].quantity""#), "{body}");
        let body = parse::<Outer>(br#"{"lines":[],"extra":1}"#)
            .err()
            .map(|e| e.body());
        assert!(body.unwrap_or_default().contains("unknown field `extra`"));
        let body = parse::<Outer>(b"{nope").err().map(|e| e.body());
        assert!(body.unwrap_or_default().contains(r#""path":"""#));
    }

    #[test]
    fn canonical_ignores_key_order_and_space() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"y":[1,2],"x":"é"}}"#).unwrap_or_default();
        let b: Value =
            serde_json::from_str(r#"{ "a": {"x":"é","y":[1, 2]}, "b": 1 }"#).unwrap_or_default();
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(canonical(&a), r#"{"a":{"x":"é","y":[1,2]},"b":1}"#);
        let c: Value =
            serde_json::from_str(r#"{"b":2,"a":{"y":[1,2],"x":"é"}}"#).unwrap_or_default();
        assert_ne!(canonical(&a), canonical(&c));
    }
}
