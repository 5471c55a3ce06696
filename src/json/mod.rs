//! JSON input and output helpers: typed parsing that reports the JSON path of the first fault,
//! and the canonical writer/digest of SPEC §7.1.

use crate::error::{Error, ErrorCode};
use serde::Serialize;

pub(crate) mod fast;
pub(crate) mod read;
pub(crate) mod shapes;
pub(crate) mod write;

pub use read::Fault;
pub(crate) use read::{FromJson, Parser};

/// Parses `text` into `T`, reporting the first fault with `code` at its JSON path.
pub fn parse<T: FromJson>(text: &str, code: ErrorCode) -> Result<T, Error> {
    read::read_text(text).map_err(|f| f.into_error(code))
}

impl Fault {
    /// The engine error for this fault.
    pub fn into_error(self, code: ErrorCode) -> Error {
        Error::new(code, self.path(), self.into_message())
    }
}

/// Compact canonical JSON (SPEC §7.1): serde_json's compact writer escapes exactly `"`, `\` and
/// U+0000–U+001F (short forms, else `\u00xx` lower-case) and keeps struct field order.
/// (It cannot fail for the engine's types, whose keys are all strings; the message is fixed
/// so that serde_json's error texts stay out of the Wasm module.)
pub fn to_json<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|_| {
        Error::new(
            ErrorCode::InvalidRequest,
            "",
            "the answer could not be written as JSON",
        )
    })
}

/// `"sha256:<hex>"` of bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let mut hash = write::Sha256::new();
    hash.update(bytes);
    let mut out = String::with_capacity(7 + 64);
    hash.write_digest(&mut out);
    out
}
