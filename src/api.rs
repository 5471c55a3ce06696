//! String-level API shared by the CLI and the Wasm bindings (stub, being built).

/// Validates a policy document: `{"policy_digest","warnings"}` or `{"error":…}`.
pub fn validate_json(_policy_json: &str) -> String {
    crate::Error::invalid_policy("", "not implemented yet").to_json()
}

/// One `loyalty eval` line (SPEC §7.26): `None` for a blank line, else exactly one compact line.
pub fn eval_line(line: &str) -> Option<String> {
    if line.trim().is_empty() {
        return None;
    }
    Some(crate::Error::invalid_request("", "not implemented yet").to_json())
}
