//! The policy document (SPEC §1): parsing, validation, the canonical form and its digest, and
//! the warnings `validate` reports.
//!
//! - [`document`]: the JSON shape as written (unknown fields rejected).
//! - [`validate`](mod@validate): defaults and validation rules, each fault at its JSON path.
//! - [`model`]: the validated [`Policy`], whose serialization is the canonical form.
//! - [`warnings`]: legal but suspicious settings.

mod canonical;
pub mod document;
mod model;
mod validate;
mod warnings;

pub use document::PolicyDocument;
pub use model::*;
pub use warnings::Warning;

use crate::error::{Error, ErrorCode};
use crate::json;

impl Policy {
    /// Parses and validates a policy from JSON text. Error paths are relative to the policy
    /// object (callers prefix them, e.g. `policy.`).
    pub fn from_json(text: &str) -> Result<Policy, Error> {
        let doc: PolicyDocument = json::parse(text, ErrorCode::InvalidPolicy)?;
        Policy::from_document(doc)
    }

    /// Validates an already parsed document.
    pub fn from_document(doc: PolicyDocument) -> Result<Policy, Error> {
        validate::validate(doc)
    }

    /// The canonical form (SPEC §7.2): compact JSON, every default filled in. Written by hand
    /// (`canonical.rs`): the bytes serde_json gives for the `Serialize` of [`Policy`].
    pub fn canonical_json(&self) -> Result<String, Error> {
        Ok(canonical::write(self))
    }

    /// `"sha256:<hex>"` of the canonical form.
    pub fn digest(&self) -> Result<String, Error> {
        Ok(json::sha256_digest(self.canonical_json()?.as_bytes()))
    }

    /// Legal but suspicious settings, in document order of their path.
    pub fn warnings(&self) -> Vec<Warning> {
        warnings::warnings(self)
    }
}
