//! # loyalty-engine
//!
//! One loyalty **policy document** evaluated by one crate, natively and as WebAssembly, with
//! byte-identical JSON answers. See `README.md` for the policy reference and `../shared/SPEC.md`
//! for the contract.

// Library code never panics on input: no unwrap/expect/panic and no indexing that can panic.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod api;
pub mod engine;
pub mod error;
pub mod generate;
pub mod ids;
#[cfg(not(target_arch = "wasm32"))]
pub mod import;
mod json;
pub mod ledger;
pub mod limits;
pub mod member;
pub mod money;
pub mod policy;
pub mod progress;
pub mod quote;
pub mod report;
#[cfg(feature = "schema")]
pub mod schema;
pub mod simulate;
mod sort;
pub mod tiers;
pub mod time;
pub mod verify;

pub use engine::Engine;
pub use error::{Error, ErrorBody, ErrorCode};
pub use generate::generate;
pub use simulate::{simulate, SimulateRequest, SimulateResponse, Simulator};

#[cfg(target_arch = "wasm32")]
mod wasm;
