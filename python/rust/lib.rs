//! `loyalty_engine._native`: the engine for Python, string-level like the Wasm bindings
//! (src/wasm.rs). JSON text goes in and the engine's compact JSON line comes out, exactly as
//! `loyalty eval` writes it; the Python layer (`loyalty_engine/__init__.py`) does `json.dumps`
//! on the way in, `json.loads` on the way out and raises `{"error":…}` answers as
//! `LoyaltyError`. So `json.dumps(result, separators=(",", ":"), ensure_ascii=False)` is
//! byte-identical to the CLI's line.
//!
//! Constructors that fail raise `loyalty_engine._native.NativeError` with the error's wire JSON
//! as its only argument; the Python layer turns it into a `LoyaltyError`.

use loyalty_engine::error::Error;
use loyalty_engine::simulate::{is_blank_line, Simulator};
use loyalty_engine::{api, Engine};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyBytes;

create_exception!(
    _native,
    NativeError,
    PyException,
    "An engine error; its argument is the wire JSON {\"error\":{\"code\",\"message\",\"path\"}}."
);

fn native_error(err: &Error) -> PyErr {
    NativeError::new_err(err.to_json())
}

fn finished() -> PyErr {
    native_error(&Error::invalid_request(
        "",
        "the simulation has already finished",
    ))
}

/// A validated policy (the Python `Engine` wraps it).
#[pyclass(frozen, module = "loyalty_engine._native")]
struct RawEngine {
    engine: Engine,
}

#[pymethods]
impl RawEngine {
    /// Parses and validates a policy document (JSON text); raises `NativeError`.
    #[new]
    fn new(py: Python<'_>, policy_json: &str) -> PyResult<RawEngine> {
        py.detach(|| Engine::from_json(policy_json))
            .map(|engine| RawEngine { engine })
            .map_err(|e| native_error(&e))
    }

    /// `"sha256:<hex>"` of the canonical policy.
    #[getter]
    fn policy_digest(&self) -> &str {
        self.engine.policy_digest()
    }

    /// `{"policy_digest","warnings"}` as JSON text.
    fn validate(&self) -> String {
        self.engine.validate_json()
    }

    /// One engine operation (`quote`, `replay`, `progress`, `verify`) on a request (JSON text):
    /// the response or `{"error":…}` JSON text.
    fn call(&self, py: Python<'_>, op: &str, request_json: &str) -> String {
        py.detach(|| match op {
            "quote" => self.engine.quote_json(request_json),
            "replay" => self.engine.replay_json(request_json),
            "progress" => self.engine.progress_json(request_json),
            "verify" => self.engine.verify_json(request_json),
            _ => unknown_op(op),
        })
    }
}

fn unknown_op(op: &str) -> String {
    Error::invalid_request("op", format!("unknown operation {op:?}")).to_json()
}

/// Validates a policy document: `{"policy_digest","warnings"}` or `{"error":…}` JSON text.
#[pyfunction]
fn validate(py: Python<'_>, policy_json: &str) -> String {
    py.detach(|| api::validate_json(policy_json))
}

/// A whole simulate request (SPEC §5) in; the report or `{"error":…}` JSON text out.
#[pyfunction]
fn simulate(py: Python<'_>, request_json: &str) -> String {
    py.detach(|| api::simulate_json(request_json))
}

/// The `loyalty eval` contract: one request line in, one compact answer line out; `None` for a
/// blank line.
#[pyfunction]
fn eval_line(py: Python<'_>, line: &str) -> Option<String> {
    py.detach(|| api::eval_line(line))
}

/// Synthetic member histories (`loyalty generate`) as NDJSON text, or `{"error":…}` JSON text.
#[pyfunction]
fn generate(py: Python<'_>, options_json: &str) -> String {
    py.detach(|| loyalty_engine::generate::generate_json(options_json))
}

/// A simulation fed in chunks, with exact partial sums to merge across processes.
#[pyclass(module = "loyalty_engine._native")]
struct RawSimulation {
    sim: Option<Simulator>,
}

impl RawSimulation {
    fn sim(&mut self) -> PyResult<&mut Simulator> {
        self.sim.as_mut().ok_or_else(finished)
    }
}

#[pymethods]
impl RawSimulation {
    /// From a simulate request (JSON text) without (or with) `members`; raises `NativeError`.
    #[new]
    fn new(py: Python<'_>, request_json: &str) -> PyResult<RawSimulation> {
        py.detach(|| Simulator::from_json(request_json))
            .map(|sim| RawSimulation { sim: Some(sim) })
            .map_err(|e| native_error(&e))
    }

    /// Adds members from NDJSON text, numbering its lines after those added so far (a blank line
    /// is skipped but keeps its number, as in `loyalty simulate`). Returns the members added.
    fn add(&mut self, py: Python<'_>, ndjson: &str) -> PyResult<u64> {
        let sim = self.sim()?;
        Ok(py.detach(|| sim.add_ndjson(ndjson).1))
    }

    /// Adds NDJSON text whose first line is line number `first` (0-based) of the whole input.
    /// Returns the members added (non-blank lines).
    fn add_at(&mut self, py: Python<'_>, ndjson: &str, first: u64) -> PyResult<u64> {
        let sim = self.sim()?;
        Ok(py.detach(|| sim.add_ndjson_at(first, ndjson).1))
    }

    /// Adds members given one JSON text each with its index in the whole input (`members[i]` of
    /// a rejection); `None` or a blank text is skipped. Returns the members added.
    fn add_indexed(
        &mut self,
        py: Python<'_>,
        indexes: Vec<u64>,
        members: Vec<Option<PyBackedStr>>,
    ) -> PyResult<u64> {
        if indexes.len() != members.len() {
            return Err(native_error(&Error::invalid_request(
                "",
                format!("{} indexes for {} members", indexes.len(), members.len()),
            )));
        }
        let sim = self.sim()?;
        Ok(py.detach(|| {
            let mut added = 0;
            for (i, m) in indexes.into_iter().zip(&members) {
                let Some(text) = m else { continue };
                if is_blank_line(text.as_bytes()) {
                    continue;
                }
                sim.add_member_json_at(i, text);
                added += 1;
            }
            added
        }))
    }

    /// The partial sums of the members added so far as bytes (UTF-8 JSON); this simulation goes
    /// on from empty sums.
    fn take_partial<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let text = self.sim()?.take_partial_json();
        Ok(PyBytes::new(py, text.as_bytes()))
    }

    /// Merges partial sums from `take_partial` of a simulation with the same request; raises
    /// `NativeError` (`invalid_request`) for bytes that are not such a partial. Returns the
    /// number of members they cover.
    fn merge_partial(&mut self, py: Python<'_>, partial: &[u8]) -> PyResult<u64> {
        let text = std::str::from_utf8(partial).map_err(|_| {
            native_error(&Error::invalid_request(
                "",
                "invalid partial sums: not UTF-8 text",
            ))
        })?;
        let sim = self.sim()?;
        py.detach(|| sim.merge_counted_json(text))
            .map_err(|e| native_error(&e))
    }

    /// Members added or merged so far.
    #[getter]
    fn progress(&self) -> u64 {
        self.sim.as_ref().map_or(0, Simulator::members_added)
    }

    /// The report (or `{"error":…}`) JSON text; the simulation is used up.
    fn finish(&mut self, py: Python<'_>) -> PyResult<String> {
        let sim = self.sim.take().ok_or_else(finished)?;
        Ok(py.detach(|| sim.finish_json()))
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_class::<RawEngine>()?;
    m.add_class::<RawSimulation>()?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(eval_line, m)?)?;
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    Ok(())
}
