//! Errors: every failure the engine reports is an [`ErrorCode`], a human message and a JSON path
//! into the input, so a POS can put the message next to the field that caused it.

use serde::Serialize;
use std::fmt;

/// The fixed list of error codes. The serialized names are part of the contract (SPEC §0–§7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(tsify::Tsify))]
#[cfg_attr(
    all(target_arch = "wasm32", feature = "full"),
    serde(rename_all = "snake_case")
)]
pub enum ErrorCode {
    /// The policy document is malformed or breaks a validation rule.
    InvalidPolicy,
    /// The request (member, cart, redemption, events) is malformed.
    InvalidRequest,
    /// A written value would leave its range (money beyond ±(2^63−1) minor units, points
    /// beyond ±(2^53−1)).
    AmountOverflow,
    /// An input is larger than the engine's documented resource limits.
    LimitExceeded,
    /// More points were requested than `max_redeemable_points`.
    RedemptionExceedsLimit,
    /// A non-zero redemption below `redemption.min_points`.
    RedemptionBelowMinimum,
    /// A redemption that is not a multiple of `redemption.step`.
    RedemptionStepMismatch,
    /// Points cannot pay for orders: the policy has no `redemption` section.
    RedemptionNotAvailable,
    /// Only active members may redeem.
    MemberNotActive,
    /// A tier id that the policy does not define.
    UnknownTier,
    /// Two events share an id.
    DuplicateEventId,
    /// A refund names an order that is not in the history.
    UnknownOrder,
    /// A refund returns more units than were bought.
    RefundExceedsOrder,
    /// A reward id the policy does not define.
    UnknownReward,
    /// Not enough available points for a reward.
    InsufficientPoints,
    /// A purchase's `policy_digest` names no policy version of the request (SPEC §3.1).
    UnknownPolicy,
}

impl ErrorCode {
    /// The code as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidPolicy => "invalid_policy",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::AmountOverflow => "amount_overflow",
            ErrorCode::LimitExceeded => "limit_exceeded",
            ErrorCode::RedemptionExceedsLimit => "redemption_exceeds_limit",
            ErrorCode::RedemptionBelowMinimum => "redemption_below_minimum",
            ErrorCode::RedemptionStepMismatch => "redemption_step_mismatch",
            ErrorCode::RedemptionNotAvailable => "redemption_not_available",
            ErrorCode::MemberNotActive => "member_not_active",
            ErrorCode::UnknownTier => "unknown_tier",
            ErrorCode::DuplicateEventId => "duplicate_event_id",
            ErrorCode::UnknownOrder => "unknown_order",
            ErrorCode::RefundExceedsOrder => "refund_exceeds_order",
            ErrorCode::UnknownReward => "unknown_reward",
            ErrorCode::InsufficientPoints => "insufficient_points",
            ErrorCode::UnknownPolicy => "unknown_policy",
        }
    }
}

/// Written as [`ErrorCode::as_str`]: one table of the names (a derived `Serialize` kept a second
/// copy of the match in the core Wasm module).
impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A string quoted in a message: `"…"` with `"`, `\\` and control characters escaped as Rust's
/// `{:?}` writes them. Why not `{:?}` itself: it consults Unicode tables (~10 KB of the Wasm
/// module) to escape unprintable characters; here every other character is kept as written.
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '\0' => f.write_str("\\0")?,
                c if c < ' ' || c == '\u{7f}' => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// An engine error: an [`ErrorBody`] (code, message, path), boxed. Why boxed: a
/// `Result<T, Error>` is then `T` and one pointer, so the engine's many `?` move a pointer
/// instead of the three fields through memory (about 5 KB gzip of the size-bound Wasm
/// modules, docs/widget.md). The fields are read and written through `Deref` (`err.path`,
/// `err.message`); [`Error::into_body`] takes them out. On the wire, in TypeScript and in the
/// JSON Schema (`src/schema.rs`) it is its body.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Error(Box<ErrorBody>);

/// An engine error: `{"error":{"code","message","path"}}` on the wire (in TypeScript the body
/// is `ErrorBody`, leaving the name `Error` to JavaScript's own).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// Path into the request object (`policy.tiers.levels[2].threshold`, `cart.lines[0].unit_price`);
    /// `""` for the whole input.
    pub path: String,
}

impl std::ops::Deref for Error {
    type Target = ErrorBody;
    fn deref(&self) -> &ErrorBody {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorBody {
        &mut self.0
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("code", &self.code)
            .field("message", &self.message)
            .field("path", &self.path)
            .finish()
    }
}

impl From<ErrorBody> for Error {
    fn from(body: ErrorBody) -> Error {
        Error(Box::new(body))
    }
}

impl Error {
    /// The fields, taken out.
    pub fn into_body(self) -> ErrorBody {
        *self.0
    }
}

/// What an error's message or path is made from: a `String` (moved) or borrowed text (copied).
/// Why not `impl Into<String>`: std's `From<&str>` is inlined, so every error built from a
/// literal carried its own allocation and copy (twice: message and path); here the copy is
/// one function ([`owned`]), which keeps the size-bound Wasm modules smaller.
pub trait Text {
    fn text(self) -> String;
}

impl Text for String {
    #[inline]
    fn text(self) -> String {
        self
    }
}

impl Text for &str {
    #[inline]
    fn text(self) -> String {
        owned(self)
    }
}

impl Text for &String {
    #[inline]
    fn text(self) -> String {
        owned(self)
    }
}

impl Text for &mut String {
    #[inline]
    fn text(self) -> String {
        owned(self)
    }
}

impl Text for std::borrow::Cow<'_, str> {
    #[inline]
    fn text(self) -> String {
        self.into_owned()
    }
}

impl Text for Box<str> {
    #[inline]
    fn text(self) -> String {
        self.into_string()
    }
}

/// A copy of `s` (not inlined: see [`Text`]).
#[inline(never)]
pub fn owned(s: &str) -> String {
    s.to_owned()
}

impl Error {
    pub fn new(code: ErrorCode, path: impl Text, message: impl Text) -> Self {
        Self::from_parts(code, path.text(), message.text())
    }

    #[inline(never)]
    fn from_parts(code: ErrorCode, path: String, message: String) -> Self {
        Error(Box::new(ErrorBody {
            code,
            message,
            path,
        }))
    }

    pub fn invalid_policy(path: impl Text, message: impl Text) -> Self {
        Self::new(ErrorCode::InvalidPolicy, path, message)
    }

    pub fn invalid_request(path: impl Text, message: impl Text) -> Self {
        Self::new(ErrorCode::InvalidRequest, path, message)
    }

    pub fn overflow(path: impl Text) -> Self {
        Self::new(
            ErrorCode::AmountOverflow,
            path,
            "a computed amount is outside the representable range",
        )
    }

    /// Prefixes the path, e.g. a policy error inside a request becomes `policy.<path>`.
    pub fn within(mut self, prefix: &str) -> Self {
        self.path = join_path(prefix, &self.path);
        self
    }

    /// The wire form `{"error":{...}}`, compact: written by hand (`json::write`), the same bytes
    /// as serde_json gives for `{"error": self}` (checked in the tests below), without a serde
    /// instantiation in the small Wasm modules.
    pub fn to_json(&self) -> String {
        use crate::json::write;
        let mut out = String::with_capacity(40 + self.message.len() + self.path.len());
        out.push_str("{\"error\":{\"code\":");
        write::string(&mut out, self.code.as_str());
        out.push_str(",\"message\":");
        write::string(&mut out, &self.message);
        out.push_str(",\"path\":");
        write::string(&mut out, &self.path);
        out.push_str("}}");
        out
    }
}

/// Joins a prefix and a relative path: `policy` + `tiers.levels[0]` = `policy.tiers.levels[0]`,
/// `members[2]` + `[0]`-style indexes attach without a dot.
pub fn join_path(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_string()
    } else if rest.is_empty() {
        prefix.to_string()
    } else if rest.starts_with('[') {
        format!("{prefix}{rest}")
    } else {
        format!("{prefix}.{rest}")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.code.as_str(), self.message)
        } else {
            write!(
                f,
                "{} at {}: {}",
                self.code.as_str(),
                self.path,
                self.message
            )
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    /// `to_json` (written by hand) gives serde_json's bytes for `{"error": …}`: escapes,
    /// control characters, non-ASCII text, empty fields.
    #[test]
    fn to_json_is_serde_jsons_bytes() {
        #[derive(Serialize)]
        struct Wire<'a> {
            error: &'a Error,
        }
        let messages = [
            "",
            "plain",
            "unknown tier \"gold\\\"",
            "tab\there, line\nbreak, \r, \u{8}, \u{c}, \u{0}, \u{1f}, \u{7f}",
            "Đã khóa — ✓ \u{200b} 😀",
        ];
        for (i, m) in messages.iter().enumerate() {
            let e = Error::new(ErrorCode::UnknownTier, format!("events[{i}].tier\"\\"), *m);
            let serde = serde_json::to_string(&Wire { error: &e }).unwrap();
            assert_eq!(e.to_json(), serde);
        }
        assert_eq!(
            Error::invalid_request("", "x").to_json(),
            r#"{"error":{"code":"invalid_request","message":"x","path":""}}"#
        );
    }
}
