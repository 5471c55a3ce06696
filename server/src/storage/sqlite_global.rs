//! Process-wide SQLite settings, made once before the process opens its first SQLite database.
//!
//! - **Memory statistics off.** With them on (SQLite's default), every allocation and free
//!   inside SQLite takes one global mutex. sqlx's SQLite driver copies each column of each row
//!   it reads (`sqlite3_value_dup`) on its worker thread and frees the copies
//!   (`sqlite3_value_free`) when the row is dropped on the async side, so a long read — the
//!   reports' transaction export — spent a third of its time in that mutex's futex waits and
//!   wake-ups (perf, docs/reports.md "Benchmark"). The server reads no SQLite memory
//!   statistics, so nothing else changes.
//! - **The query planner's stability guarantee on every connection**
//!   (`SQLITE_DBCONFIG_ENABLE_QPSG`, set by an automatic extension as each connection opens).
//!   Without it, SQLite marks a statement to be planned again whenever certain parameters get a
//!   new value (an `x = ?` compared with 0 or 1, a `LIMIT ?`, a partial index's condition), and
//!   `sqlite3_clear_bindings` — which sqlx calls before every reuse of a cached statement —
//!   expires every statement so marked. The till-key lookup of every request was parsed and
//!   planned again each time (gdb on `sqlite3Reprepare` during bookings; perf: 4.5 % of the
//!   server's samples in `sqlite3Reprepare`, docs/server.md "Numbers", session 20). The server's
//!   plans do not depend on parameter values: its partial indexes are matched by literals in
//!   the SQL, and its `LIKE` patterns begin with `%`.

use std::ffi::{c_char, c_int};
use std::sync::Once;

static ONCE: Once = Once::new();

/// Makes the settings if SQLite is not initialized yet (the first call of the process, before
/// any connection); later calls do nothing.
pub fn init() {
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` must run before `sqlite3_initialize` and while no other
        // thread uses SQLite: this runs once, from the first `Db::open`, before it opens any
        // connection (nothing else in the server touches SQLite). After an initialization it
        // returns SQLITE_MISUSE and changes nothing, which is harmless.
        unsafe {
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0i32);
        }
        // SAFETY: registers a function with the signature SQLite calls for each connection it
        // opens; registering it twice is not possible (`Once`), and it is never removed.
        unsafe {
            libsqlite3_sys::sqlite3_auto_extension(Some(stable_plans));
        }
    });
}

/// The automatic extension: the planner's stability guarantee on the new connection `db`.
unsafe extern "C" fn stable_plans(
    db: *mut libsqlite3_sys::sqlite3,
    _err: *mut *mut c_char,
    _api: *const libsqlite3_sys::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the connection SQLite is opening, valid for this call; the option takes
    // an int (1: on) and a pointer for the previous value, which may be null.
    unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as c_int,
            std::ptr::null_mut::<c_int>(),
        );
    }
    libsqlite3_sys::SQLITE_OK
}

#[cfg(test)]
mod tests {
    /// A connection opened after `init` has the guarantee on (asked back from SQLite).
    #[test]
    fn connections_have_stable_plans() {
        super::init();
        let c = rusqlite::Connection::open_in_memory().expect("open");
        // SAFETY: the handle is `c`'s, alive for the call; -1 asks without changing.
        let on = unsafe {
            let mut on: std::ffi::c_int = -1;
            libsqlite3_sys::sqlite3_db_config(
                c.handle(),
                libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
                -1 as std::ffi::c_int,
                &mut on as *mut std::ffi::c_int,
            );
            on
        };
        assert_eq!(on, 1);
    }
}
