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
//!
//! Three modules are built from these bindings: the **full** one (the default feature `full`:
//! every operation; the package's `loyalty-engine`), the **core** one (`--no-default-features`:
//! validate and quote, `policyDigest` and an `evalLine` answering those two ops; the package's
//! `loyalty-engine/core`, what a POS downloads) and the **progress** one (`--no-default-features
//! --features progress`: validate and progress, policy versions included; the package's
//! `loyalty-engine/progress`, what the storefront widget downloads). The library is the same in
//! all three; what a smaller module does not export, LTO leaves out.

use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::{api, Engine};

/// Runs once when the module is instantiated: panics (which must never happen) are reported
/// on the console with their message instead of a bare `unreachable` trap. (The core module is
/// built with panics as immediate aborts: there is no message to report.)
#[cfg(feature = "full")]
#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// The core and progress modules' allocator (see Cargo.toml for why talc). The full module keeps Rust's
/// default (dlmalloc): on the simulator's many small allocations it measured ~8 % faster.
// SAFETY: `TalckWasm` requires a single-threaded WebAssembly environment, which the module is
// (no threads, no shared memory).
#[cfg(not(feature = "full"))]
#[global_allocator]
static ALLOCATOR: talc::TalckWasm = unsafe { talc::TalckWasm::new_global() };

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

    /// A quote through serde-wasm-bindgen: the request as a JS object in, the response as a
    /// JS object out (an error: `{"error":…}` as an object). A measurement build only (feature
    /// `bench-swb`, bench/boundary.mjs): the package passes JSON text, which measured faster.
    #[cfg(feature = "bench-swb")]
    #[wasm_bindgen(js_name = quoteValue)]
    pub fn quote_value(&self, request: JsValue) -> JsValue {
        use serde::Serialize;
        let result = serde_wasm_bindgen::from_value::<crate::quote::QuoteRequest>(request)
            .map_err(|e| Error::invalid_request("", e.to_string()))
            .and_then(|req| self.engine.quote(&req));
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        match result {
            Ok(r) => r.serialize(&serializer),
            Err(e) => e.serialize(&serializer),
        }
        .unwrap_or(JsValue::NULL)
    }

    /// Runs one engine operation on a request (JSON text); returns the response or
    /// `{"error":…}` JSON text.
    pub fn call(&self, op: &str, request_json: &str) -> String {
        match op {
            #[cfg(any(feature = "full", not(feature = "progress")))]
            "quote" => self.engine.quote_json(request_json),
            #[cfg(feature = "full")]
            "verify" => self.engine.verify_json(request_json),
            #[cfg(feature = "full")]
            "replay" => self.engine.replay_json(request_json),
            #[cfg(any(feature = "full", feature = "progress"))]
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
        #[cfg(feature = "full")]
        "simulate" => api::simulate_json(input_json),
        _ => unknown_op(op),
    }
}

/// Synthetic member histories (`loyalty generate`): options JSON in, the NDJSON text out (or
/// `{"error":…}` JSON), byte-identical to the CLI's output for the same options.
#[cfg(feature = "full")]
#[wasm_bindgen]
pub fn generate(options_json: &str) -> String {
    crate::generate::generate_json(options_json)
}

/// A simulation fed in chunks (the JS `Simulation` class, e.g. in a Web Worker).
#[cfg(feature = "full")]
#[wasm_bindgen]
pub struct RawSimulation {
    sim: Option<crate::simulate::Simulator>,
}

#[cfg(feature = "full")]
#[wasm_bindgen]
impl RawSimulation {
    /// From a simulate request without (or with) `members`; throws the error's wire JSON.
    #[wasm_bindgen(constructor)]
    pub fn new(request_json: &str) -> Result<RawSimulation, JsValue> {
        crate::simulate::Simulator::from_json(request_json)
            .map(|sim| RawSimulation { sim: Some(sim) })
            .map_err(|err| JsValue::from_str(&err.to_json()))
    }

    /// Adds members from NDJSON text (one `{"member","events"}` per line; a blank line is
    /// skipped but keeps its number, as in `loyalty simulate`).
    pub fn add(&mut self, ndjson: &str) {
        if let Some(sim) = self.sim.as_mut() {
            sim.add_ndjson(ndjson);
        }
    }

    /// Adds members from NDJSON text as `add` does, numbering its lines from `first_index` (the
    /// index of the chunk's first line in the whole simulation: a worker of the JS
    /// `ParallelSimulation` is handed lines 2000..2999, 5000..5999, …; blank lines keep their
    /// number). Returns how many members were added (non-blank lines).
    #[wasm_bindgen(js_name = addAt)]
    pub fn add_at(&mut self, ndjson: &str, first_index: f64) -> Result<f64, JsValue> {
        let first = whole_count(first_index, "firstIndex")?;
        let members = self
            .sim
            .as_mut()
            .map_or(0, |sim| sim.add_ndjson_at(first, ndjson).1);
        Ok(members as f64)
    }

    /// The partial sums of the members added so far as JSON text (taken out: this simulation
    /// goes on from empty sums), for `mergePartial` in another simulation with the same request.
    #[wasm_bindgen(js_name = takePartial)]
    pub fn take_partial(&mut self) -> String {
        self.sim
            .as_mut()
            .map_or_else(String::new, |s| s.take_partial_json())
    }

    /// Merges partial sums (from `takePartial`) covering `members` members; throws the
    /// error's wire JSON (`invalid_request`) for text that is not such a partial.
    #[wasm_bindgen(js_name = mergePartial)]
    pub fn merge_partial(&mut self, text: &str, members: f64) -> Result<(), JsValue> {
        let n = whole_count(members, "members")?;
        let sim = self.sim.as_mut().ok_or_else(|| {
            JsValue::from_str(
                &Error::invalid_request("", "the simulation has already finished").to_json(),
            )
        })?;
        sim.merge_json(text, n)
            .map_err(|err| JsValue::from_str(&err.to_json()))
    }

    /// Members added so far.
    #[wasm_bindgen(getter)]
    pub fn progress(&self) -> f64 {
        self.sim.as_ref().map_or(0.0, |s| s.members_added() as f64)
    }

    /// The report JSON (or `{"error":…}`); the simulation is used up.
    pub fn finish(&mut self) -> String {
        match self.sim.take() {
            Some(sim) => crate::engine::respond(sim.finish()),
            None => Error::invalid_request("", "the simulation has already finished").to_json(),
        }
    }
}

/// The `loyalty eval` contract (SPEC §7.26): one request line in, one compact response line
/// out; `undefined` for a blank line.
#[cfg(feature = "full")]
#[wasm_bindgen(js_name = evalLine)]
pub fn eval_line(line: &str) -> Option<String> {
    api::eval_line(line)
}

/// The core module's `evalLine`: ops `validate` and `quote` as in the full module; any other
/// op is `invalid_request` at `op`, saying that the operation is in the full module.
#[cfg(not(any(feature = "full", feature = "progress")))]
#[wasm_bindgen(js_name = evalLine)]
pub fn eval_line(line: &str) -> Option<String> {
    api::eval_line_core(line)
}

/// The progress module's `evalLine`: ops `validate` and `progress` as in the full module; any
/// other op is `invalid_request` at `op`, naming the full module.
#[cfg(all(feature = "progress", not(feature = "full")))]
#[wasm_bindgen(js_name = evalLine)]
pub fn eval_line(line: &str) -> Option<String> {
    api::eval_line_progress(line)
}

/// A JS number that must be a whole count (0 ≤ n ≤ 2^53 − 1); else the error's wire JSON.
#[cfg(feature = "full")]
fn whole_count(n: f64, what: &str) -> Result<u64, JsValue> {
    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 {
        Ok(n as u64)
    } else {
        Err(JsValue::from_str(
            &Error::invalid_request(what, format!("{what} must be a whole number ≥ 0")).to_json(),
        ))
    }
}

fn unknown_op(op: &str) -> String {
    Error::invalid_request("op", format!("unknown operation `{op}`")).to_json()
}
