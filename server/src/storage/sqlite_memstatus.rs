//! SQLite's memory statistics off, once, before the process opens its first SQLite database.
//!
//! With them on (SQLite's default), every allocation and free inside SQLite takes one global
//! mutex. sqlx's SQLite driver copies each column of each row it reads
//! (`sqlite3_value_dup`) on its worker thread and frees the copies (`sqlite3_value_free`) when
//! the row is dropped on the async side, so a long read — the reports' transaction export —
//! spent a third of its time in that mutex's futex waits and wake-ups (perf, docs/reports.md
//! "Benchmark"). The server reads no SQLite memory statistics, so nothing else changes.

use std::sync::Once;

static OFF: Once = Once::new();

/// Turns the statistics off if SQLite is not initialized yet (the first call of the process,
/// before any connection); later calls do nothing.
pub fn off() {
    OFF.call_once(|| {
        // SAFETY: `sqlite3_config` must run before `sqlite3_initialize` and while no other
        // thread uses SQLite: this runs once, from the first `Db::open`, before it opens any
        // connection (nothing else in the server touches SQLite). After an initialization it
        // returns SQLITE_MISUSE and changes nothing, which is harmless.
        unsafe {
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0i32);
        }
    });
}
