//! The engine: a validated policy plus its digest (stub, being built).
use crate::error::Error;

/// A validated policy ready to answer requests.
pub struct Engine {
    digest: String,
}

impl Engine {
    /// Parses and validates a policy document (JSON text).
    pub fn from_json(_policy_json: &str) -> Result<Engine, Error> {
        Err(Error::invalid_policy("", "not implemented yet"))
    }
    /// `"sha256:<hex>"` of the canonical policy.
    pub fn policy_digest(&self) -> &str {
        &self.digest
    }
    /// Quote request JSON in, response (or `{"error":…}`) JSON out.
    pub fn quote_json(&self, _req_json: &str) -> String {
        Error::invalid_request("", "not implemented yet").to_json()
    }
}
