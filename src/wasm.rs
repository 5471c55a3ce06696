//! WebAssembly bindings (compiled only for `wasm32`).
//!
//! Deliberately thin and string-level: JSON text goes in, JSON text comes out, exactly as the
//! CLI's `loyalty eval` writes it. The JavaScript glue shipped with the npm package
//! (`pkg-template/api.js`) does `JSON.stringify` on the way in and `JSON.parse` on the way out and
//! turns `{"error":…}` answers into `LoyaltyError`s, so `JSON.stringify(result)` is byte-identical
//! to the CLI's line (SPEC §7.1).
//!
//! Adding an operation is one line here (in [`RawEngine::call`] or [`call`]) and one line in
//! the glue (`pkg-template/api.js`, `pkg-template/index.d.ts`).

use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::{api, Engine};

/// Runs once when the module is instantiated: panics (which must never happen) are reported
/// on the console with their message instead of a bare `unreachable` trap.
#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// A validated policy. Not part of the public JS API: the glue wraps it in `Engine`.
#[wasm_bindgen]
pub struct RawEngine {
    engine: Engine,
}

#[wasm_bindgen]
impl RawEngine {
    /// Parses and validates a policy document. On failure throws the error's wire JSON
    /// (`{"error":{…}}`) as a JS string; the glue turns it into a `LoyaltyError`.
    #[wasm_bindgen(constructor)]
    pub fn new(policy_json: &str) -> Result<RawEngine, JsValue> {
        Engine::from_json(policy_json)
            .map(|engine| RawEngine { engine })
            .map_err(|err| JsValue::from_str(&err.to_json()))
    }

    /// `"sha256:<hex>"` of the canonical policy.
    #[wasm_bindgen(getter, js_name = policyDigest)]
    pub fn policy_digest(&self) -> String {
        self.engine.policy_digest().to_string()
    }

    /// Runs one engine operation on a request (JSON text); returns the response or
    /// `{"error":…}` JSON text.
    pub fn call(&self, op: &str, request_json: &str) -> String {
        match op {
            "quote" => self.engine.quote_json(request_json),
            "verify" => self.engine.verify_json(request_json),
            "replay" => self.engine.replay_json(request_json),
            "progress" => self.engine.progress_json(request_json),
            _ => unknown_op(op),
        }
    }
}

/// Runs one module-level operation on its input (JSON text); returns the response or
/// `{"error":…}` JSON text.
#[wasm_bindgen]
pub fn call(op: &str, input_json: &str) -> String {
    match op {
        "validate" => api::validate_json(input_json),
        // "simulate" => api::simulate_json(input_json),
        _ => unknown_op(op),
    }
}

/// The `loyalty eval` contract (SPEC §7.26): one request line in, one compact response line
/// out; `undefined` for a blank line.
#[wasm_bindgen(js_name = evalLine)]
pub fn eval_line(line: &str) -> Option<String> {
    api::eval_line(line)
}

fn unknown_op(op: &str) -> String {
    Error::invalid_request("op", format!("unknown operation `{op}`")).to_json()
}
