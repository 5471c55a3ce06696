//! # loyalty-server
//!
//! `loyalty serve`: the loyalty programme's system of record (SPEC §8) around the engine crate.
//! It keeps policies, members, cards and the append-only event ledger in SQLite (embedded
//! default) or PostgreSQL, and everything it says about a member is what the engine's `replay`
//! of that member's stored events says.
//!
//! | module | what |
//! |---|---|
//! | `app` | configuration, start-up, the running server, shutdown |
//! | `http` | the router and OpenAPI document (`routes`), the error that is the answer (`error`), JSON bodies with paths (`json`), logging/metrics/panic guard (`middleware`) |
//! | `handlers` | one file per resource: orders, members, policies, admin, member login, health |
//! | `booking` | SPEC §8.5: the quote check, holds, confirm/void, refunds, offline sales |
//! | `idempotency` | exactly once: `Idempotency-Key` records kept with the answer |
//! | `auth` | till keys, admin sessions (argon2id, CSRF), member one-time codes, widget tokens, throttles |
//! | `ledger` | the engine's replay of stored events; caches and notices |
//! | `read_cache` | replayed states kept between member reads, keyed by what the database says they were made of |
//! | `storage` | the database (`Db`: SQLite / PostgreSQL through one schema) and its queries |
//! | `import` | import jobs: exports or member NDJSON loaded into members, cards and events in the background (`loyalty serve import`, `POST /v1/imports`) |
//! | `reports` | issue 15: report facts per member, sums by day kept in the booking transaction, the reports and CSV exports |
//! | `workers` | hold expiry, members due by time, webhook delivery |
//! | `load` | `loyalty serve load`: member histories (NDJSON) into the database, report rows included |
//! | `demo`, `ops`, `clock` | the demo programme; check, backup, copy; the steerable clock |

// A request never panics the server: no unwrap/expect/panic outside tests (a panic would still
// be caught and answered 500, but the code does not rely on that).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod app;
pub mod auth;
pub mod booking;
pub mod clock;
pub mod demo;
pub mod handlers;
pub mod http;
pub mod idempotency;
pub mod import;
pub mod ledger;
pub mod load;
pub mod ops;
pub mod read_cache;
pub mod reports;
pub mod storage;
pub mod workers;

pub use app::{start, Config, Running};
pub use clock::Clock;
