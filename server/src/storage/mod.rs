//! Storage: one SQL schema (`migrations/`) on SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! What differs between the two is here and nowhere else:
//! - **SQLite** (embedded default, `loyalty-data/loyalty.db`): WAL set by a PRAGMA on its own
//!   connection before the pools; `synchronous=FULL` (an answered booking survives a power
//!   loss); one *writer* connection whose transactions begin `BEGIN IMMEDIATE` (a read-then-write
//!   transaction that began with a plain `BEGIN` fails under concurrency), and a pool of readers.
//! - **PostgreSQL**: one pool; `synchronous_commit=on` (the default); a write transaction first
//!   bumps the member's `version` (`UPDATE … SET version = version + 1`), which takes the row
//!   lock that serializes the holds and bookings of one member across server processes.
//!
//! - **Long scans** (`scan`): on SQLite in a blocking thread through rusqlite, which steps the
//!   statement where the rows are read; streamed through sqlx on PostgreSQL.
//!
//! The submodules hold the queries by table group; each takes a connection or transaction.

pub mod batch;
pub mod cards;
pub mod direct;
pub mod events;
pub mod members;
pub mod orders;
pub mod outbox;
pub mod policies;
pub mod scan;
pub mod settings;
pub mod sqlite_global;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};
use std::str::FromStr;
use std::time::Duration;

pub mod joined;
pub mod writer;
pub use writer::Tx;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// The database: a writer and readers (the same pool on PostgreSQL).
#[derive(Clone, Debug)]
pub struct Db {
    pub kind: Kind,
    pub write: AnyPool,
    pub read: AnyPool,
    pub url: String,
    /// SQLite: the database file, which [`scan`] opens a read-only connection of its own to.
    pub sqlite_file: Option<std::path::PathBuf>,
    /// SQLite's group commit (`storage/writer.rs`); None: one COMMIT per transaction.
    pub writer: Option<std::sync::Arc<writer::Writer>>,
    /// SQLite: the background WAL checkpointer, stopped when the last clone of the Db goes.
    checkpointer: Option<std::sync::Arc<Checkpointer>>,
    /// Connections outside the pool for the key lookup of every till request (`direct`).
    pub keys: std::sync::Arc<direct::Direct>,
}

/// SQLite's WAL is copied back into the database file by a task of its own, not by the
/// connection whose COMMIT crossed the WAL's auto-checkpoint size (1,000 pages): that commit —
/// and every write queued behind it — waited for the copy and its fsync. The writer connection
/// never checkpoints (`wal_autocheckpoint=0`); a reader connection runs a PASSIVE checkpoint
/// (which never blocks the writer) every [`CHECKPOINT_EVERY`].
#[derive(Debug)]
struct Checkpointer(tokio::task::AbortHandle);

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Connections for the key lookups (`direct`): two, so that one slow lookup does not hold up
/// the others.
const KEY_CONNECTIONS: usize = 2;

pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

const CHECKPOINT: &str = "PRAGMA wal_checkpoint(PASSIVE)";

fn checkpointer(read: AnyPool) -> Checkpointer {
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if read.is_closed() {
                return;
            }
            if let Err(e) = sqlx::query(CHECKPOINT).execute(&read).await {
                if read.is_closed() {
                    return;
                }
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
        }
    });
    Checkpointer(task.abort_handle())
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The default database: `loyalty-data/loyalty.db` under the working directory.
pub fn default_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}/loyalty.db", data_dir.display())
}

/// The file a `sqlite:` URL names.
fn sqlite_path(url: &str) -> String {
    url.trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// How SQLite commits (`--sqlite-sync`): `Full` (default) fsyncs the WAL before a commit is
/// answered — an answered booking survives a power loss; `Normal` leaves the fsync to the next
/// checkpoint — an answered booking survives a crash of the server process (it is in the WAL
/// file) but the last ones may be lost to a power loss or a crash of the operating system.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SqliteSync {
    #[default]
    Full,
    Normal,
}

impl Db {
    /// Connects (creating an SQLite file and its folder on first start) and runs the migrations.
    pub async fn open(url: &str) -> Result<Db, String> {
        Db::open_with(url, SqliteSync::Full, true).await
    }

    /// [`Db::open`] with SQLite's commit durability chosen, and its group commit on or off.
    pub async fn open_with(url: &str, sync: SqliteSync, group_commit: bool) -> Result<Db, String> {
        sqlx::any::install_default_drivers();
        let kind = if url.starts_with("sqlite:") {
            Kind::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Kind::Postgres
        } else {
            return Err(format!(
                "unsupported database URL {:?}: use sqlite://FILE or postgres://…",
                redact(url)
            ));
        };
        if kind == Kind::Sqlite {
            sqlite_global::init();
        }
        let db = match kind {
            Kind::Sqlite => Db::open_sqlite(url, sync, group_commit).await?,
            Kind::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("SET synchronous_commit = on").await?;
                            // Large texts (a CSV export's parts, 1 MB each) are compressed with
                            // lz4 rather than PostgreSQL's default pglz, five times faster here
                            // (docs/reports.md, "Benchmark"); a server built without lz4 refuses
                            // the setting and keeps pglz.
                            if conn
                                .execute("SET default_toast_compression = 'lz4'")
                                .await
                                .is_err()
                            {
                                tracing::debug!("PostgreSQL without lz4: TOAST stays pglz");
                            }
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
                    .map_err(|e| format!("cannot connect to {}: {e}", redact(url)))?;
                Db {
                    kind,
                    write: pool.clone(),
                    keys: std::sync::Arc::new(direct::Direct::new(pool.clone(), KEY_CONNECTIONS)),
                    read: pool,
                    url: url.to_string(),
                    sqlite_file: None,
                    writer: None,
                    checkpointer: None,
                }
            }
        };
        MIGRATOR
            .run(&db.write)
            .await
            .map_err(|e| format!("migrations failed: {e}"))?;
        Ok(db)
    }

    /// [`Db::open`] for an operation on a programme that must exist — `loyalty serve check`,
    /// `admin`, `backup`, the source of `copy`: a SQLite URL that names no file is refused
    /// instead of creating an empty database there (a mistyped path would otherwise "check" an
    /// empty programme and find 0 differences).
    pub async fn open_existing(url: &str) -> Result<Db, String> {
        if url.starts_with("sqlite:") {
            let path = sqlite_path(url);
            if !std::path::Path::new(&path).is_file() {
                return Err(format!(
                    "no database at {path}: check --db / --data-dir (only `loyalty serve`, \
                     `serve import` and `serve load` create one)"
                ));
            }
        }
        Db::open(url).await
    }

    async fn open_sqlite(url: &str, sync: SqliteSync, group_commit: bool) -> Result<Db, String> {
        let path = sqlite_path(url);
        if let Some(dir) = std::path::Path::new(&path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
        }
        let url = if url.contains('?') {
            url.to_string()
        } else {
            format!("sqlite://{path}?mode=rwc")
        };
        // WAL first, on a connection of its own (a pool's connections would race to set it).
        let opts = AnyConnectOptions::from_str(&url).map_err(|e| e.to_string())?;
        let mut c = AnyConnection::connect_with(&opts)
            .await
            .map_err(|e| format!("cannot open {path}: {e}"))?;
        c.execute("PRAGMA journal_mode=WAL")
            .await
            .map_err(|e| e.to_string())?;
        c.close().await.map_err(|e| e.to_string())?;
        let pool = |n: u32| {
            AnyPoolOptions::new()
                .max_connections(n)
                .acquire_timeout(Duration::from_secs(60))
                // No ping before a connection is lent: an embedded database's connection
                // cannot be cut off, and each ping is a round trip to the connection's thread
                // (the till-key lookup of every request paid one; docs/server.md "Numbers").
                .test_before_acquire(false)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        // FULL: every commit is on disk before it is answered (docs/server.md).
                        conn.execute(match sync {
                            SqliteSync::Full => "PRAGMA synchronous=FULL",
                            SqliteSync::Normal => "PRAGMA synchronous=NORMAL",
                        })
                        .await?;
                        // A 64 MiB page cache and 1 GiB of memory-mapped reads per connection:
                        // a booking's reads come from memory, not a system call per page. The
                        // WAL is checkpointed by the background task, never by a commit.
                        conn.execute(
                            "PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; \
                             PRAGMA cache_size=-65536; PRAGMA mmap_size=1073741824; \
                             PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=0",
                        )
                        .await?;
                        Ok(())
                    })
                })
        };
        let write = pool(1)
            .connect(&url)
            .await
            .map_err(|e| format!("cannot open {path}: {e}"))?;
        let read = pool(4)
            .connect(&url)
            .await
            .map_err(|e| format!("cannot open {path}: {e}"))?;
        let writer = group_commit.then(|| writer::Writer::new(write.clone()));
        let checkpointer = Some(std::sync::Arc::new(checkpointer(read.clone())));
        Ok(Db {
            kind: Kind::Sqlite,
            write,
            keys: std::sync::Arc::new(direct::Direct::new(read.clone(), KEY_CONNECTIONS)),
            read,
            url,
            sqlite_file: Some(std::path::PathBuf::from(&path)),
            writer,
            checkpointer,
        })
    }

    /// A write transaction: on SQLite a savepoint in the writer's group-commit batch, which
    /// begins with `BEGIN IMMEDIATE` (the write lock is taken at once, so a read-then-write cannot
    /// fail half-way; `storage/writer.rs`); `BEGIN` on PostgreSQL.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match (self.kind, &self.writer) {
            (Kind::Sqlite, Some(w)) => w.begin().await,
            (Kind::Sqlite, None) => writer::plain(&self.write, true).await,
            (Kind::Postgres, _) => writer::plain(&self.write, false).await,
        }
    }

    /// A write transaction of its own for a bulk job (an import's batch of members): never a
    /// savepoint in the group-commit batch. A savepoint makes SQLite release a statement
    /// journal at the end of every statement, at a cost that grows with the transaction: a
    /// batch of a few hundred members' rows took 2.3× as long inside one as on its own
    /// (docs/migration.md). The transaction waits for the writer's connection like any other
    /// write (the group-commit writer gives it back to the pool after each COMMIT).
    pub async fn begin_bulk(&self) -> Result<Tx, sqlx::Error> {
        writer::plain(&self.write, self.kind == Kind::Sqlite).await
    }

    /// SQLite: copies what the WAL holds into the database file now, on the writer's
    /// connection, so that the next write transaction starts the WAL again from its beginning
    /// (nothing else can write meanwhile, so the checkpoint finishes). For a bulk job between
    /// its transactions: the background checkpointer never finishes while they follow each
    /// other without a pause, and the WAL grew to 1.5 times the database (11.3 GB after a
    /// 1,000,000-customer import; docs/migration.md). Writes wait for it as for a transaction.
    /// A failure is only logged: the background checkpointer tries again. PostgreSQL: nothing.
    pub async fn checkpoint_now(&self) {
        if self.kind == Kind::Sqlite {
            if let Err(e) = sqlx::query(CHECKPOINT).execute(&self.write).await {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
        }
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.read).await.is_ok()
    }

    pub async fn close(&self) {
        if let Some(c) = &self.checkpointer {
            c.0.abort();
            // What the WAL still holds goes into the database file before the pools close.
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.read)
                .await;
        }
        self.write.close().await;
        self.read.close().await;
    }
}

/// Rows of one multi-row INSERT of `cols` columns on this connection: 1,000 (fewer when the
/// parameters would pass SQLite's 32,766 or PostgreSQL's 65,535). On SQLite each statement is a
/// round trip to the connection's thread, so fewer, larger statements are cheaper — provided
/// their parameters are anonymous ([`placeholders`]).
pub fn rows_per_insert(c: &impl writer::Write, cols: usize) -> usize {
    let max_params = if c.is_sqlite() { 32_766 } else { 65_535 };
    (max_params / cols.max(1)).clamp(1, 1_000)
}

pub(crate) fn is_sqlite(c: &AnyConnection) -> bool {
    c.backend_name().eq_ignore_ascii_case("sqlite")
}

/// The VALUES of a multi-row INSERT of `rows` rows of `cols` columns on this connection (one
/// statement instead of one per row), bound in order: `($1,$2,…),($n+1,…)` on PostgreSQL,
/// `(?,?,…),(?,…)` on SQLite. SQLite's driver looks each *named* parameter (`$1`) up by a linear
/// search of the statement's names (`sqlite3_bind_parameter_name`), p²/2 steps for p of them —
/// a 1,000-row event INSERT spent 90 % of an import there, and 256 parameters still 10 % of it;
/// anonymous `?` parameters have no names to search.
pub fn placeholders(c: &impl writer::Write, rows: usize, cols: usize) -> String {
    values_list(c.is_sqlite(), rows, cols)
}

fn values_list(anonymous: bool, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            if anonymous {
                s.push('?');
            } else {
                s.push('$');
                s.push_str(itoa::Buffer::new().format(r * cols + c + 1));
            }
        }
        s.push(')');
    }
    s
}

/// A URL with its password hidden, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A fresh random id: `prefix` + 20 hex digits of time + randomness, ordered by creation time.
pub fn new_id(prefix: &str, now_ms: i64) -> String {
    let mut r = [0u8; 6];
    let _ = getrandom::fill(&mut r);
    format!("{prefix}{:011x}{}", now_ms.max(0), hex::encode(r))
}

/// Random bytes as hex (secrets, tokens).
pub fn random_hex(bytes: usize) -> String {
    let mut r = vec![0u8; bytes];
    let _ = getrandom::fill(&mut r);
    hex::encode(r)
}

/// Records who changed what (SPEC §8.3), in the transaction of the change.
pub async fn audit(
    tx: &mut impl writer::Write,
    now: i64,
    actor: &str,
    action: &str,
    target: &str,
    detail: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    let q = sqlx::query(
        "INSERT INTO audit (id, at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id("a", now))
    .bind(now)
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(detail.to_string());
    tx.write(q).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_lists_number_or_leave_anonymous() {
        assert_eq!(super::values_list(false, 2, 3), "($1,$2,$3),($4,$5,$6)");
        assert_eq!(super::values_list(true, 2, 3), "(?,?,?),(?,?,?)");
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            super::redact("postgres://loyalty:s3cret@127.0.0.1:5432/db"),
            "postgres://loyalty:***@127.0.0.1:5432/db"
        );
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
