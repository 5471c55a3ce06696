//! [`Engine`]: a validated policy with its digest, answering requests. This is the Rust API of
//! SPEC §6; the CLI and the Wasm bindings go through the same methods.

use crate::error::{Error, ErrorCode};
use crate::json;
use crate::ledger::{self, ReplayRequest, ReplayResponse};
use crate::policy::{Policy, PolicyDocument, Warning};
use crate::progress::{self, ProgressResponse};
use crate::quote::{self, QuoteRequest, QuoteResponse};
use crate::verify::{self, VerifyRequest, VerifyResponse};
use serde::Serialize;

#[cfg(all(target_arch = "wasm32", feature = "full"))]
use tsify::Tsify;

/// A validated policy ready to answer requests. Cheap to share: requests only read it.
#[derive(Clone, Debug)]
pub struct Engine {
    policy: Policy,
    digest: String,
}

/// `validate`'s answer: the digest and the warnings (paths prefixed `policy.`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ValidateResponse {
    pub policy_digest: String,
    pub warnings: Vec<WarningOut>,
}

impl ValidateResponse {
    /// Compact JSON, written by hand (`json::write`): the same bytes as serde_json gives for
    /// this struct (checked on every validate vector), without a serde instantiation in the small
    /// Wasm modules.
    pub fn to_json(&self) -> String {
        use crate::json::write;
        let mut out = String::with_capacity(100);
        out.push_str("{\"policy_digest\":");
        write::string(&mut out, &self.policy_digest);
        out.push_str(",\"warnings\":[");
        for (i, w) in self.warnings.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"code\":");
            write::string(&mut out, &w.code);
            out.push_str(",\"message\":");
            write::string(&mut out, &w.message);
            out.push_str(",\"path\":");
            write::string(&mut out, &w.path);
            out.push('}');
        }
        out.push_str("]}");
        out
    }
}

/// A warning as written in `validate`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WarningOut {
    pub code: String,
    pub message: String,
    pub path: String,
}

impl Engine {
    /// Parses and validates a policy document (JSON text). Error paths start with `policy.`.
    pub fn from_json(policy_json: &str) -> Result<Engine, Error> {
        let policy = Policy::from_json(policy_json).map_err(|e| e.within("policy"))?;
        Engine::from_policy(policy)
    }

    /// Validates an already parsed document.
    pub fn new(doc: PolicyDocument) -> Result<Engine, Error> {
        let policy = Policy::from_document(doc).map_err(|e| e.within("policy"))?;
        Engine::from_policy(policy)
    }

    fn from_policy(policy: Policy) -> Result<Engine, Error> {
        let digest = policy.digest()?;
        Ok(Engine { policy, digest })
    }

    /// The validated policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// `"sha256:<hex>"` of the canonical policy (SPEC §7.2).
    pub fn policy_digest(&self) -> &str {
        &self.digest
    }

    /// [`Engine::validate`] as its JSON answer (native builds: the Python package's
    /// `Engine.validate`; left out of the Wasm modules, which have `validate_json`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn validate_json(&self) -> String {
        respond(Ok(self.validate()))
    }

    /// The digest and the warnings.
    pub fn validate(&self) -> ValidateResponse {
        ValidateResponse {
            policy_digest: self.digest.clone(),
            warnings: self
                .policy
                .warnings()
                .into_iter()
                .map(|w: Warning| WarningOut {
                    code: w.code.to_string(),
                    message: w.message,
                    path: crate::error::join_path("policy", &w.path),
                })
                .collect(),
        }
    }

    /// Prices one order (SPEC §2).
    pub fn quote(&self, req: &QuoteRequest) -> Result<QuoteResponse, Error> {
        quote::quote(&self.policy, &self.digest, req)
    }

    /// Quote request JSON in; the response (or `{"error":…}`) JSON out, compact.
    /// The response is written directly as its canonical JSON, hashed once (the hot path at a
    /// till: `quote::quote_json`); the same bytes as [`Engine::quote`]'s answer serialized.
    /// The request is read in place when it is plainly written (`json::fast::quote_request`,
    /// no string allocated), else by the general reader, which gives any error.
    pub fn quote_json(&self, req_json: &str) -> String {
        // (The progress Wasm module has no quote: it leaves this reader out.)
        #[cfg(any(
            feature = "full",
            not(feature = "progress"),
            not(target_arch = "wasm32")
        ))]
        if let Some(req) = json::fast::quote_request(req_json) {
            return match quote::quote_json(&self.policy, &self.digest, &req) {
                Ok(s) => s,
                Err(e) => e.to_json(),
            };
        }
        let answer = json::parse::<QuoteRequest>(req_json, ErrorCode::InvalidRequest)
            .and_then(|req| quote::quote_json(&self.policy, &self.digest, &req.text()));
        match answer {
            Ok(s) => s,
            Err(e) => e.to_json(),
        }
    }

    /// Replays a member's history up to `as_of` (SPEC §3).
    pub fn replay(&self, req: &ReplayRequest) -> Result<ReplayResponse, Error> {
        ledger::replay(&self.policy, &self.digest, req)
    }

    /// Replay request JSON in; the response (or `{"error":…}`) JSON out, compact.
    pub fn replay_json(&self, req_json: &str) -> String {
        respond(ledger_request(req_json).and_then(|req| self.replay(&req)))
    }

    /// What a storefront widget shows (SPEC §4), from the same request as a replay.
    pub fn progress(&self, req: &ReplayRequest) -> Result<ProgressResponse, Error> {
        progress::progress(&self.policy, &self.digest, req)
    }

    /// Progress request JSON in; the response (or `{"error":…}`) JSON out, compact.
    pub fn progress_json(&self, req_json: &str) -> String {
        progress::respond(ledger_request(req_json).and_then(|req| self.progress(&req)))
    }

    /// Recomputes a till's quote natively and lists what differs (`verify`, issue 6). A quote
    /// request that fails gives that error, its path prefixed `request.`.
    pub fn verify(&self, req: &VerifyRequest) -> Result<VerifyResponse, Error> {
        verify::verify(&self.policy, &self.digest, req)
    }

    /// Verify request JSON in; the response (or `{"error":…}`) JSON out, compact.
    pub fn verify_json(&self, req_json: &str) -> String {
        respond(
            json::parse::<VerifyRequest>(req_json, ErrorCode::InvalidRequest)
                .and_then(|req| self.verify(&req)),
        )
    }
}

/// A replay (or progress) request read for an engine, which has its one policy: `policies` in
/// it is the "both" fault of SPEC §3.1, said as `loyalty eval` says it.
fn ledger_request(req_json: &str) -> Result<ReplayRequest, Error> {
    json::parse::<ReplayRequest>(req_json, ErrorCode::InvalidRequest).map_err(|e| {
        if e.path == "policies" && e.message.starts_with("unknown field") {
            Error::invalid_request(
                "policies",
                "a request gives either policy or policies, not both",
            )
        } else {
            e
        }
    })
}

/// A result as its one-line JSON answer.
pub(crate) fn respond<T: Serialize>(result: Result<T, Error>) -> String {
    match result.and_then(|r| json::to_json(&r)) {
        Ok(s) => s,
        Err(e) => e.to_json(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ValidateResponse::to_json` (written by hand) gives serde_json's bytes: no warnings, one,
    /// several, and strings that need escaping.
    #[test]
    fn validate_to_json_is_serde_jsons_bytes() {
        let w = |code: &str, message: &str, path: &str| WarningOut {
            code: code.into(),
            message: message.into(),
            path: path.into(),
        };
        let cases = [
            vec![],
            vec![w(
                "no_earning",
                "the policy earns no points",
                "policy.earning",
            )],
            vec![
                w("a", "quote \" and backslash \\", "policy.tiers.levels[0]"),
                w("b", "control \u{1} \n and Đã khóa ✓", ""),
            ],
        ];
        for warnings in cases {
            let r = ValidateResponse {
                policy_digest: "sha256:00ff".into(),
                warnings,
            };
            assert_eq!(r.to_json(), serde_json::to_string(&r).unwrap());
        }
    }
}
