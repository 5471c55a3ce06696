//! JSON Schemas (2020-12) of the policy document and of every request and response, derived
//! from the engine's own types with `schemars` (feature `schema`; off by default, so the Wasm
//! modules and the CLI do not change). The shipped files (`schema/*.json`, the npm package's
//! `loyalty-engine/schema/*.json`, the Python package's `loyalty_engine/schema/`) are written
//! by `UPDATE_SCHEMA=1 cargo test --features schema --test schema`, and that test fails when they
//! differ from what these types give — they are never edited by hand.
//!
//! The schemas carry the SPEC's bounds that the engine enforces (`schema` is 1, currency codes,
//! `minor_units` 0–6, point counts ≥ 0 or ≥ 1, months ≤ 1200, the zone names, decimal strings and
//! RFC 3339 instants), so a document the schema refuses is refused by the engine too
//! (tests/schema.rs, python/tests/test_schema.py). The engine checks more than a schema can say
//! (thresholds increasing, ids unique, `spend` > 0, …): a schema-valid policy may still be
//! `invalid_policy`.

use crate::error::ErrorCode;
use crate::policy::document::DecimalString;
use crate::policy::{Effect, Window};
use crate::quote::RedeemPoints;
use crate::verify::Json;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use std::borrow::Cow;

pub use crate::json::shapes::{reader_shapes, ReaderShape};

/// A decimal string as the engine reads it: optional `-`, digits, optional `.` and digits.
pub const DECIMAL: &str = r"^-?[0-9]+(\.[0-9]+)?$";

/// An RFC 3339 date-time with an offset (`T`/`Z` in either case, seconds and a fraction as
/// RFC 3339 allows; the engine also checks the date and the ranges).
pub const INSTANT: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:[0-9]{2})$";

/// A rule condition's `from` / `until` (SPEC §7.9): an instant, a local date-time without
/// offset, or a local date.
pub const LOCAL_TIME: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?$";

/// `time_zone`: one of the IANA names the engine's zone table has.
pub fn time_zone(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = crate::time::zone_names().collect();
    json_schema!({
        "type": "string",
        "description": "An IANA time zone name (the engine's table, tzdb).",
        "enum": names,
    })
}

impl JsonSchema for DecimalString {
    fn schema_name() -> Cow<'static, str> {
        "DecimalString".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A decimal written as a JSON string (\"125000\", \"12.50\", \"0.5\"): money and rates.",
            "pattern": DECIMAL,
        })
    }
}

impl JsonSchema for RedeemPoints {
    fn schema_name() -> Cow<'static, str> {
        "RedeemPoints".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "How many points to redeem: a number of points (0 = none) or \"max\".",
            "oneOf": [
                { "type": "integer", "minimum": 0, "maximum": i64::MAX },
                { "const": "max" },
            ],
        })
    }
}

impl JsonSchema for Window {
    fn schema_name() -> Cow<'static, str> {
        "Window".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The tier qualification window: \"lifetime\", \"calendar_year\" or {\"rolling_months\": n}.",
            "oneOf": [
                { "type": "string", "enum": ["lifetime", "calendar_year"] },
                {
                    "type": "object",
                    "properties": {
                        "rolling_months": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": crate::money::MAX_POINTS,
                        },
                    },
                    "required": ["rolling_months"],
                    "additionalProperties": false,
                },
            ],
        })
    }
}

impl JsonSchema for Effect {
    fn schema_name() -> Cow<'static, str> {
        "Effect".into()
    }

    fn json_schema(gen: &mut SchemaGenerator) -> Schema {
        let decimal = gen.subschema_for::<DecimalString>();
        json_schema!({
            "description": "A rule's effect as written: {\"multiplier\"}, {\"bonus_points\"} or {\"points_per_item\"}.",
            "oneOf": [
                {
                    "type": "object",
                    "properties": { "multiplier": decimal },
                    "required": ["multiplier"],
                    "additionalProperties": false,
                },
                {
                    "type": "object",
                    "properties": { "bonus_points": { "type": "integer" } },
                    "required": ["bonus_points"],
                    "additionalProperties": false,
                },
                {
                    "type": "object",
                    "properties": { "points_per_item": { "type": "integer" } },
                    "required": ["points_per_item"],
                    "additionalProperties": false,
                },
            ],
        })
    }
}

/// An [`Error`](crate::Error) is its boxed [`ErrorBody`](crate::ErrorBody) on the wire.
impl JsonSchema for crate::Error {
    fn schema_name() -> Cow<'static, str> {
        crate::ErrorBody::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        crate::ErrorBody::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        crate::ErrorBody::json_schema(generator)
    }
}

impl JsonSchema for ErrorCode {
    fn schema_name() -> Cow<'static, str> {
        "ErrorCode".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "One of the SPEC's error codes.",
            "enum": error_codes(),
        })
    }
}

impl JsonSchema for Json {
    fn schema_name() -> Cow<'static, str> {
        "AnyJson".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "description": "Any JSON value." })
    }
}

/// The schemas shipped, by file name (without `.json`): the policy document, each operation's
/// request and response, a member history line (`loyalty simulate --members`), an error.
/// Each is `(file name, the Rust type's name, the schema)`.
pub fn schemas() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    fn one<T: JsonSchema>(name: &str, title: &str) -> serde_json::Value {
        let mut gen = schemars::generate::SchemaSettings::draft2020_12().into_generator();
        let mut schema = gen.root_schema_for::<T>();
        schema.insert(
            "$id".into(),
            format!("loyalty-engine/schema/{name}.json").into(),
        );
        schema.insert("title".into(), title.into());
        schema.to_value()
    }
    use crate::engine::ValidateResponse;
    use crate::ledger::{ReplayRequest, ReplayResponse};
    use crate::policy::PolicyDocument;
    use crate::progress::ProgressResponse;
    use crate::quote::{QuoteRequest, QuoteResponse};
    use crate::simulate::{MemberHistory, SimulateRequest, SimulateResponse};
    use crate::verify::{VerifyRequest, VerifyResponse};

    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct ErrorAnswer {
        error: crate::Error,
    }

    vec![
        (
            "policy",
            "PolicyDocument",
            one::<PolicyDocument>("policy", "Loyalty policy document (SPEC §1)"),
        ),
        (
            "validate-response",
            "ValidateResponse",
            one::<ValidateResponse>("validate-response", "validate: answer"),
        ),
        (
            "quote-request",
            "QuoteRequest",
            one::<QuoteRequest>("quote-request", "quote: request (SPEC §2)"),
        ),
        (
            "quote-response",
            "QuoteResponse",
            one::<QuoteResponse>("quote-response", "quote: answer (SPEC §2)"),
        ),
        (
            "replay-request",
            "ReplayRequest",
            one::<ReplayRequest>(
                "replay-request",
                "replay and progress: request (SPEC §3, §4)",
            ),
        ),
        (
            "replay-response",
            "ReplayResponse",
            one::<ReplayResponse>("replay-response", "replay: answer (SPEC §3)"),
        ),
        (
            "progress-response",
            "ProgressResponse",
            one::<ProgressResponse>("progress-response", "progress: answer (SPEC §4)"),
        ),
        (
            "verify-request",
            "VerifyRequest",
            one::<VerifyRequest>("verify-request", "verify: request"),
        ),
        (
            "verify-response",
            "VerifyResponse",
            one::<VerifyResponse>("verify-response", "verify: answer"),
        ),
        (
            "simulate-request",
            "SimulateRequest",
            one::<SimulateRequest>("simulate-request", "simulate: request (SPEC §5)"),
        ),
        (
            "simulate-response",
            "SimulateResponse",
            one::<SimulateResponse>("simulate-response", "simulate: answer (SPEC §5)"),
        ),
        (
            "member-history",
            "MemberHistory",
            one::<MemberHistory>(
                "member-history",
                "one member and their history: a line of `loyalty simulate --members`",
            ),
        ),
        (
            "error",
            "ErrorAnswer",
            one::<ErrorAnswer>(
                "error",
                "any operation's error answer {\"error\":{code,message,path}}",
            ),
        ),
    ]
}

/// Every error code as written (the schema's `ErrorCode` enum; tests compare the two).
pub fn error_codes() -> Vec<&'static str> {
    crate::simulate::partial_wire::CODES
        .iter()
        .map(|c: &ErrorCode| c.as_str())
        .collect()
}
