//! Write transactions, and SQLite's group commit.
//!
//! SQLite has one writer at a time, and with `synchronous=FULL` every COMMIT waits for an fsync of
//! the WAL (2–3 ms on this machine's disk): one booking per fsync caps a server near 400 bookings
//! a second whatever its CPU. Group commit shares an fsync among the transactions that queue for
//! the writer meanwhile — each still all-or-nothing, each answered only once it is on disk:
//!
//! - The writer connection opens a *batch* (`BEGIN IMMEDIATE`); each [`Tx`] is a savepoint in it.
//!   Transactions take the writer one at a time (a fair lock), so each sees the ones before it.
//! - A transaction's `commit()` releases its savepoint; if others are queued for the writer (and
//!   the batch is below [`MAX_BATCH`] transactions and [`MAX_AGE`] old) it hands the writer on
//!   and waits; otherwise it COMMITs the batch. Every member of the batch is answered after that
//!   COMMIT, with its result: were it to fail, all of them fail — nothing is answered that is not
//!   on disk.
//! - `rollback()` (or a `Tx` dropped unfinished: an error path, a panic) rolls back to its
//!   savepoint only; the others' work stays.
//! - A release that knows a transaction is queued opens the next savepoint in the same hand-off
//!   (`RELEASE SAVEPOINT tx; SAVEPOINT tx`); the next `begin` takes it.
//! - Should the writer be left with an open batch and nobody queued (a queued request cancelled),
//!   a watchman task commits it within a few milliseconds.
//!
//! On PostgreSQL a [`Tx`] is a plain transaction (its server already flushes concurrent commits
//! together). `--no-group-commit` gives SQLite one COMMIT per transaction, as before.
//!
//! A transaction may also keep its writes and send them together ([`Tx::defer_writes`],
//! [`Write`]): a one-call booking does, once it has read what it needs.

use sqlx::any::AnyArguments;
use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool, Arguments, Execute, Executor, Transaction};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Mutex, OwnedMutexGuard};

/// At most this many transactions share a COMMIT.
pub const MAX_BATCH: usize = 64;
/// A batch older than this is committed by the next transaction that ends.
pub const MAX_AGE: Duration = Duration::from_millis(10);

/// A write transaction (see the module's text).
pub struct Tx {
    inner: Inner,
    /// The report day sums this transaction adds (`reports::store::refresh`), written by
    /// `commit` as its last statements. They are rows that every booking of a store and day
    /// shares: on PostgreSQL each holds a row lock from its write to the COMMIT, which the
    /// other bookings of that day wait for — written last, the lock is held for the shortest
    /// time (docs/server.md, "Numbers").
    pub(crate) sums: crate::reports::store::Sums,
    /// Whether the day sums go to a free shard (PostgreSQL) or to shard 0 (SQLite's one writer).
    sharded: bool,
    /// Writes kept to be sent as one statement list ([`Tx::defer_writes`]).
    deferred: Option<Deferred>,
}

/// Where a write goes: a connection runs it at once; a [`Tx`] that defers its writes keeps it
/// and sends it with the others in one go ([`Tx::defer_writes`]). A write's result is only
/// whether it failed: what needs a count of rows, or rows, is a query, not a write.
pub trait Write: Send {
    /// Whether the statements are SQLite's (anonymous parameters, its limits).
    fn is_sqlite(&self) -> bool;
    /// Runs (or keeps) `q`.
    fn write(
        &mut self,
        q: Query<'_, Any, AnyArguments>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

impl Write for AnyConnection {
    fn is_sqlite(&self) -> bool {
        super::is_sqlite(self)
    }
    async fn write(&mut self, q: Query<'_, Any, AnyArguments>) -> Result<(), sqlx::Error> {
        q.execute(self).await.map(drop)
    }
}

impl Write for PoolConnection<Any> {
    fn is_sqlite(&self) -> bool {
        (**self).is_sqlite()
    }
    async fn write(&mut self, q: Query<'_, Any, AnyArguments>) -> Result<(), sqlx::Error> {
        (**self).write(q).await
    }
}

impl Write for Tx {
    fn is_sqlite(&self) -> bool {
        match &self.inner {
            Inner::Plain(t) => super::is_sqlite(t),
            Inner::Grouped(_) => true,
        }
    }
    async fn write(&mut self, mut q: Query<'_, Any, AnyArguments>) -> Result<(), sqlx::Error> {
        let Some(d) = &mut self.deferred else {
            return q.execute(&mut **self).await.map(drop);
        };
        let args = q.take_arguments().map_err(sqlx::Error::Encode)?;
        let sql = q.sql();
        if d.pg && sql.as_str().trim_start().starts_with("DELETE") {
            self.flush().await?;
            return sqlx::query_with(sql, args.unwrap_or_default())
                .execute(self.conn_kept())
                .await
                .map(drop);
        }
        d.push(sql.as_str(), args.unwrap_or_default())?;
        if d.args.len() > Deferred::MAX_VALUES {
            self.flush().await?;
        }
        Ok(())
    }
}

/// Writes built on one thread and run on another: each statement is kept with its values,
/// [`Statements::run`] runs them in the order written. The import's reading thread builds a
/// batch's report rows this way, beside the engine's work, so that the writer only sends them.
pub struct Statements {
    sqlite: bool,
    list: Vec<(String, AnyArguments)>,
}

impl Statements {
    /// Statements for SQLite (`sqlite`) or PostgreSQL.
    pub fn new(sqlite: bool) -> Statements {
        Statements {
            sqlite,
            list: Vec::new(),
        }
    }

    /// Keeps the writes of `f`, a future that only writes here (so it is ready at once).
    pub fn keep(f: impl Future<Output = Result<(), sqlx::Error>>) -> Result<(), sqlx::Error> {
        use futures_util::FutureExt;
        f.now_or_never().unwrap_or_else(|| {
            Err(sqlx::Error::Protocol(
                "a kept write waited for the database".into(),
            ))
        })
    }

    /// Runs the statements on `c`, for the database they were built for.
    pub async fn run(self, c: &mut impl Write) -> Result<(), sqlx::Error> {
        if c.is_sqlite() != self.sqlite {
            return Err(sqlx::Error::Protocol(
                "statements built for the other database".into(),
            ));
        }
        for (sql, args) in self.list {
            c.write(sqlx::query_with(sqlx::AssertSqlSafe(sql), args))
                .await?;
        }
        Ok(())
    }
}

impl Write for Statements {
    fn is_sqlite(&self) -> bool {
        self.sqlite
    }
    async fn write(&mut self, mut q: Query<'_, Any, AnyArguments>) -> Result<(), sqlx::Error> {
        let args = q.take_arguments().map_err(sqlx::Error::Encode)?;
        self.list
            .push((q.sql().as_str().to_string(), args.unwrap_or_default()));
        Ok(())
    }
}

/// Statements kept by a transaction that defers its writes, sent as one statement.
/// - SQLite: a statement list with anonymous parameters (`?`) and their values in order —
///   SQLite's driver binds a list's anonymous parameters one after the other across its
///   statements.
/// - PostgreSQL (whose statement lists take no parameters): one statement, each write a
///   data-modifying `WITH` part (`WITH w1 AS (INSERT …), w2 AS (UPDATE …) SELECT 1`: every part
///   runs, once, to completion), parameters renumbered `$(base + N)`. The parts see the same
///   snapshot, so a write must not depend on another's rows: a `DELETE` is never kept (the rows
///   it removes may be written again), and no row is written by two parts.
#[derive(Default)]
struct Deferred {
    pg: bool,
    sql: String,
    args: AnyArguments,
    parts: usize,
}

impl Deferred {
    /// Flushed once this many values are kept (SQLite takes 32,766 per statement list).
    const MAX_VALUES: usize = 20_000;

    fn push(&mut self, sql: &str, args: AnyArguments) -> Result<(), sqlx::Error> {
        self.parts += 1;
        if self.pg {
            let base = self.args.len();
            self.sql
                .push_str(if self.parts == 1 { "WITH " } else { ", " });
            self.sql.push_str(&format!("w{} AS (", self.parts));
            let mut used = 0;
            params(sql, &mut self.sql, |n, out| {
                out.push_str(&format!("${}", base + n));
                used = used.max(n);
            });
            self.sql.push(')');
            let bound = args.len();
            self.args.values.0.extend(args.values.0);
            // Values the statement names but was not bound are NULL.
            for _ in bound..used {
                self.args.add(None::<i64>).map_err(sqlx::Error::Encode)?;
            }
            return Ok(());
        }
        let mut order = Vec::new();
        params(sql, &mut self.sql, |n, out| {
            out.push('?');
            order.push(n);
        });
        self.sql.push_str(";\n");
        let values = &args.values.0;
        for n in order {
            match n.checked_sub(1).and_then(|i| values.get(i)) {
                Some(v) => self.args.values.0.push(v.clone()),
                // A parameter that was not bound is NULL, as SQLite takes it.
                None => self.args.add(None::<i64>).map_err(sqlx::Error::Encode)?,
            }
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.parts == 0
    }

    /// The kept statements (then `tail`, SQLite's) as one query.
    fn take(&mut self, tail: &str) -> Query<'static, Any, AnyArguments> {
        let mut sql = std::mem::take(&mut self.sql);
        if self.pg {
            sql.push_str(" SELECT 1");
        } else {
            sql.push_str(tail);
        }
        self.parts = 0;
        sqlx::query_with(sqlx::AssertSqlSafe(sql), std::mem::take(&mut self.args))
    }
}

/// Copies `sql` to `out` with each parameter (`$N`, `?N`, `?`: value N, anonymous ones counted
/// in order) written by `each(N, out)`. Quoted texts, quoted names and comments are copied as
/// they are.
fn params(sql: &str, out: &mut String, mut each: impl FnMut(usize, &mut String)) {
    let b = sql.as_bytes();
    let (mut i, mut from, mut next) = (0, 0, 0);
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'$' | b'?' => {
                let start = i;
                i += 1;
                let digits = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let n = if i > digits {
                    sql[digits..i].parse::<usize>().unwrap_or(0)
                } else if b[start] == b'?' {
                    next += 1;
                    next
                } else {
                    continue; // a `$` that is no parameter
                };
                out.push_str(&sql[from..start]);
                each(n, out);
                from = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[from.min(sql.len())..]);
}

/// The shard of the day sums (migration 0007) a PostgreSQL transaction adds to: the first of 16
/// whose transaction-scoped advisory lock is free, so concurrent commits add to
/// different rows of each key while one at a time all add to shard 0 (the readers sum the
/// shards; a key has as many rows as commits ever overlapped, at most 16). When all 16 are
/// taken: shard 0, waiting on its rows as before (docs/server.md, "Numbers").
const FREE_SHARD: &str = "SELECT CAST(s AS BIGINT) FROM generate_series(0, 15) AS s \
     WHERE pg_try_advisory_xact_lock(19545, s) LIMIT 1";

enum Inner {
    Plain(Transaction<'static, Any>),
    Grouped(Grouped),
}

struct Grouped {
    writer: Arc<Writer>,
    guard: Option<OwnedMutexGuard<State>>,
    conn: Option<PoolConnection<Any>>,
    batch: u64,
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        debug_assert!(
            self.deferred_is_empty(),
            "a statement after kept writes: flush first"
        );
        match &self.inner {
            Inner::Plain(t) => t,
            Inner::Grouped(g) => g.conn(),
        }
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        debug_assert!(
            self.deferred_is_empty(),
            "a statement after kept writes: flush first"
        );
        match &mut self.inner {
            Inner::Plain(t) => t,
            Inner::Grouped(g) => g.conn_mut(),
        }
    }
}

impl Grouped {
    // The connection is taken only by `finish` (which consumes the Tx) and Drop.
    #[allow(clippy::expect_used)]
    fn conn(&self) -> &AnyConnection {
        self.conn
            .as_deref()
            .expect("a live transaction has its connection")
    }
    #[allow(clippy::expect_used)]
    fn conn_mut(&mut self) -> &mut AnyConnection {
        self.conn
            .as_deref_mut()
            .expect("a live transaction has its connection")
    }
}

impl Tx {
    pub(crate) fn plain(t: Transaction<'static, Any>, sharded: bool) -> Tx {
        Tx {
            inner: Inner::Plain(t),
            sums: Default::default(),
            sharded,
            deferred: None,
        }
    }

    /// From now on keeps this transaction's writes ([`Write`]) and sends them together, at
    /// [`Tx::flush`] or at `commit` ([`Deferred`]): on SQLite's group commit with the
    /// savepoint's release, one hand-off to SQLite's thread instead of one per statement; on
    /// PostgreSQL one round trip. Any other statement must come after a `flush` (debug builds
    /// check). Does nothing on SQLite without group commit.
    pub fn defer_writes(&mut self) {
        let pg = match self.inner {
            Inner::Grouped(_) => false,
            Inner::Plain(_) if self.sharded => true,
            Inner::Plain(_) => return,
        };
        if self.deferred.is_none() {
            self.deferred = Some(Deferred {
                pg,
                ..Deferred::default()
            });
        }
    }

    /// The connection, with writes possibly kept: for statements that do not depend on them.
    fn conn_kept(&mut self) -> &mut AnyConnection {
        match &mut self.inner {
            Inner::Plain(t) => t,
            Inner::Grouped(g) => g.conn_mut(),
        }
    }

    fn deferred_is_empty(&self) -> bool {
        self.deferred.as_ref().is_none_or(Deferred::is_empty)
    }

    /// Sends the kept writes.
    pub async fn flush(&mut self) -> Result<(), sqlx::Error> {
        let Some(d) = self.deferred.as_mut().filter(|d| !d.is_empty()) else {
            return Ok(());
        };
        let q = d.take("");
        q.execute(self.conn_kept()).await.map(drop)
    }

    /// Commits (after writing the deferred report sums): on disk when this returns Ok.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        if !self.sums.is_empty() {
            let sums = std::mem::take(&mut self.sums);
            let shard = if self.sharded {
                // A read of the advisory locks: independent of any kept writes.
                sqlx::query_scalar::<_, i64>(FREE_SHARD)
                    .fetch_optional(self.conn_kept())
                    .await
            } else {
                Ok(Some(0))
            };
            let applied = match shard {
                Ok(shard) => {
                    crate::reports::store::apply(&mut self, &sums, shard.unwrap_or(0)).await
                }
                Err(e) => Err(e),
            };
            if let Err(e) = applied {
                let _ = self.rollback().await;
                return Err(e);
            }
        }
        if matches!(self.inner, Inner::Plain(_)) {
            if let Err(e) = self.flush().await {
                let _ = self.rollback().await;
                return Err(e);
            }
        }
        match self.inner {
            Inner::Plain(t) => t.commit().await,
            Inner::Grouped(mut g) => {
                let (writer, mut guard, conn, batch) = g.take();
                let Some(mut conn) = conn else {
                    return Err(sqlx::Error::WorkerCrashed);
                };
                // The kept writes go with the release: one hand-off. When the batch will go
                // on for a queued transaction, its savepoint is opened in the same hand-off.
                let next = match &guard {
                    Some(g) => g.goes_on(writer.queued.load(Ordering::SeqCst)),
                    None => false,
                };
                let release = if next {
                    "RELEASE SAVEPOINT tx; SAVEPOINT tx"
                } else {
                    "RELEASE SAVEPOINT tx"
                };
                let released = match self.deferred.as_mut().filter(|d| !d.is_empty()) {
                    Some(d) => d.take(release).execute(&mut *conn).await,
                    None => conn.execute(release).await,
                };
                if released.is_ok() && next {
                    if let Some(g) = guard.as_mut() {
                        g.next_savepoint = true;
                    }
                }
                if let (Err(e), true) = (&released, next) {
                    // Which statement failed is not known (the release may have happened): the
                    // whole batch is rolled back and fails, so nothing is answered as done that
                    // is not on disk.
                    let e = sqlx::Error::Protocol(e.to_string());
                    writer.abandon(guard, conn).await;
                    return Err(e);
                }
                if let Err(e) = released {
                    // Leave the batch as it was before this transaction.
                    let _ = conn
                        .execute("ROLLBACK TO SAVEPOINT tx; RELEASE SAVEPOINT tx")
                        .await;
                    writer.hand_on(guard, conn).await;
                    return Err(e);
                }
                match writer.hand_on(guard, conn).await {
                    Some(result) => result,
                    None => writer.committed(batch).await,
                }
            }
        }
    }

    /// Rolls back this transaction's work (only its own, in a batch).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.inner {
            Inner::Plain(t) => t.rollback().await,
            Inner::Grouped(mut g) => {
                let (writer, guard, conn, _) = g.take();
                let Some(mut conn) = conn else {
                    return Err(sqlx::Error::WorkerCrashed);
                };
                let r = conn
                    .execute("ROLLBACK TO SAVEPOINT tx; RELEASE SAVEPOINT tx")
                    .await
                    .map(|_| ());
                writer.hand_on(guard, conn).await;
                r
            }
        }
    }
}

/// A finished transaction's writer, lock, connection and batch.
type Parts = (
    Arc<Writer>,
    Option<OwnedMutexGuard<State>>,
    Option<PoolConnection<Any>>,
    u64,
);

impl Grouped {
    fn take(&mut self) -> Parts {
        (
            self.writer.clone(),
            self.guard.take(),
            self.conn.take(),
            self.batch,
        )
    }
}

impl Drop for Grouped {
    /// Dropped unfinished (an early return, a panic): its savepoint is rolled back on a task of
    /// its own, which holds the writer until then.
    fn drop(&mut self) {
        let (writer, guard, conn, _) = self.take();
        let Some(mut conn) = conn else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    let ok = conn
                        .execute("ROLLBACK TO SAVEPOINT tx; RELEASE SAVEPOINT tx")
                        .await
                        .is_ok();
                    if ok {
                        writer.hand_on(guard, conn).await;
                    } else {
                        writer.abandon(guard, conn).await;
                    }
                });
            }
            Err(_) => {
                // No runtime to roll back on: the connection is closed, which rolls back the
                // whole batch; its members are told it failed.
                conn.close_on_drop();
                drop(conn);
                if let Some(mut g) = guard {
                    g.fail("the writer connection was dropped outside the runtime");
                }
            }
        }
    }
}

/// The writer's state, behind its fair lock.
pub struct State {
    /// The connection while a batch is open (back in the pool between batches).
    conn: Option<PoolConnection<Any>>,
    open: bool,
    /// A savepoint opened for the next transaction with the last one's release (the next
    /// `begin` takes it instead of opening one: a hand-off to SQLite's thread fewer).
    next_savepoint: bool,
    batch: u64,
    size: usize,
    opened: Instant,
    done: watch::Sender<u64>,
    failed: Arc<StdMutex<VecDeque<(u64, String)>>>,
}

impl State {
    /// Marks the open batch failed (its COMMIT did not happen) and tells its members.
    fn fail(&mut self, why: &str) {
        if let Ok(mut f) = self.failed.lock() {
            f.push_back((self.batch, why.to_string()));
            while f.len() > 256 {
                f.pop_front();
            }
        }
        self.open = false;
        self.next_savepoint = false;
        self.size = 0;
        let _ = self.done.send(self.batch);
    }

    /// Whether the batch goes on for a transaction queued for the writer (else it is committed).
    fn goes_on(&self, queued: usize) -> bool {
        queued > 0 && self.size < MAX_BATCH && self.opened.elapsed() < MAX_AGE
    }
}

/// SQLite's writer with group commit.
pub struct Writer {
    pool: AnyPool,
    state: Arc<Mutex<State>>,
    queued: AtomicUsize,
    done: watch::Receiver<u64>,
    failed: Arc<StdMutex<VecDeque<(u64, String)>>>,
}

impl Writer {
    /// Batches begun so far (each ends in one COMMIT, or fails whole).
    pub fn batches(&self) -> u64 {
        *self.done.borrow()
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

/// Counts a request queued for the writer until it gets it (or gives up: cancelled).
struct Queued<'a>(&'a AtomicUsize);
impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Writer {
    /// The writer over `pool` (SQLite's one-connection write pool), with its watchman.
    pub fn new(pool: AnyPool) -> Arc<Writer> {
        let (tx, rx) = watch::channel(0u64);
        let failed = Arc::new(StdMutex::new(VecDeque::new()));
        let w = Arc::new(Writer {
            pool,
            state: Arc::new(Mutex::new(State {
                conn: None,
                open: false,
                next_savepoint: false,
                batch: 0,
                size: 0,
                opened: Instant::now(),
                done: tx,
                failed: failed.clone(),
            })),
            queued: AtomicUsize::new(0),
            done: rx,
            failed,
        });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(watchman(Arc::downgrade(&w)));
        }
        w
    }

    /// A transaction: a savepoint in the open batch, or in a new one.
    pub async fn begin(self: &Arc<Writer>) -> Result<Tx, sqlx::Error> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let queued = Queued(&self.queued);
        let mut guard = self.state.clone().lock_owned().await;
        drop(queued);
        let mut conn = match guard.conn.take() {
            Some(c) => c,
            None => self.pool.acquire().await?,
        };
        if !guard.open {
            conn.execute("BEGIN IMMEDIATE").await?;
            guard.open = true;
            guard.batch += 1;
            guard.size = 0;
            guard.opened = Instant::now();
        }
        if guard.next_savepoint {
            // Opened with the previous transaction's release.
            guard.next_savepoint = false;
        } else if let Err(e) = conn.execute("SAVEPOINT tx").await {
            // The batch goes on without this transaction.
            guard.conn = Some(conn);
            self.close_if_idle(guard).await;
            return Err(e);
        }
        guard.size += 1;
        let batch = guard.batch;
        Ok(Tx {
            inner: Inner::Grouped(Grouped {
                writer: self.clone(),
                guard: Some(guard),
                conn: Some(conn),
                batch,
            }),
            sums: Default::default(),
            sharded: false,
            deferred: None,
        })
    }

    /// After a transaction ended: hands the open batch on to a queued transaction, or commits
    /// it. Some(result of the COMMIT) when this call committed, None when the batch goes on.
    async fn hand_on(
        &self,
        guard: Option<OwnedMutexGuard<State>>,
        conn: PoolConnection<Any>,
    ) -> Option<Result<(), sqlx::Error>> {
        let Some(mut guard) = guard else {
            return Some(Err(sqlx::Error::WorkerCrashed));
        };
        let go_on = guard.goes_on(self.queued.load(Ordering::SeqCst));
        guard.conn = Some(conn);
        if go_on {
            return None;
        }
        Some(commit_batch(&mut guard).await)
    }

    /// A connection whose savepoint could not be rolled back: the whole batch is rolled back.
    async fn abandon(&self, guard: Option<OwnedMutexGuard<State>>, mut conn: PoolConnection<Any>) {
        let _ = conn.execute("ROLLBACK").await;
        if let Some(mut g) = guard {
            g.fail("the batch was rolled back after a failed transaction");
        }
    }

    /// Commits the open batch if nobody is queued for it.
    async fn close_if_idle(&self, mut guard: OwnedMutexGuard<State>) {
        if guard.open && self.queued.load(Ordering::SeqCst) == 0 {
            let _ = commit_batch(&mut guard).await;
        }
    }

    /// Waits for batch `batch` to be committed; its result.
    async fn committed(&self, batch: u64) -> Result<(), sqlx::Error> {
        let mut rx = self.done.clone();
        if rx.wait_for(|&b| b >= batch).await.is_err() {
            return Err(sqlx::Error::WorkerCrashed);
        }
        let failed = self
            .failed
            .lock()
            .ok()
            .and_then(|f| f.iter().find(|(b, _)| *b == batch).map(|(_, m)| m.clone()));
        match failed {
            Some(m) => Err(sqlx::Error::Protocol(format!("group commit failed: {m}"))),
            None => Ok(()),
        }
    }
}

/// COMMITs the open batch and tells its members; the connection goes back to the pool.
async fn commit_batch(state: &mut State) -> Result<(), sqlx::Error> {
    let Some(mut conn) = state.conn.take() else {
        state.fail("no connection");
        return Err(sqlx::Error::WorkerCrashed);
    };
    let r = conn.execute("COMMIT").await.map(|_| ());
    match &r {
        Ok(()) => {
            metrics::histogram!("loyalty_sqlite_group_commit_size").record(state.size as f64);
            state.open = false;
            state.next_savepoint = false;
            state.size = 0;
            let _ = state.done.send(state.batch);
        }
        Err(e) => {
            let _ = conn.execute("ROLLBACK").await;
            state.fail(&e.to_string());
        }
    }
    drop(conn);
    r
}

/// Commits a batch left open with nobody queued for the writer (a queued request that was
/// cancelled), a few milliseconds late at most. Ends with the writer.
async fn watchman(writer: Weak<Writer>) {
    loop {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let Some(w) = writer.upgrade() else { return };
        if w.queued.load(Ordering::SeqCst) > 0 {
            continue;
        }
        let Ok(guard) = w.state.clone().try_lock_owned() else {
            continue;
        };
        w.close_if_idle(guard).await;
    }
}

/// Opens a plain transaction on a pool (PostgreSQL; SQLite without group commit).
/// `immediate`: SQLite's `BEGIN IMMEDIATE`.
pub async fn plain(pool: &AnyPool, immediate: bool) -> Result<Tx, sqlx::Error> {
    // SQLite (`BEGIN IMMEDIATE`) has one writer: its sums stay in shard 0.
    Ok(if immediate {
        Tx::plain(pool.begin_with("BEGIN IMMEDIATE").await?, false)
    } else {
        Tx::plain(pool.begin().await?, true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::batch::{Batch, V};
    use sqlx::{Connection, Row};

    #[test]
    fn parameters_become_anonymous_in_the_order_written() {
        let anonymous = |sql: &str, out: &mut String| {
            let mut order = Vec::new();
            params(sql, out, |n, out| {
                out.push('?');
                order.push(n);
            });
            order
        };
        let mut out = String::new();
        let order = anonymous(
            "UPDATE t SET a = $3, b = '$2 ?' WHERE c = $1 AND \"d$4\" = ?12 -- $9 ?\n/* $8 */ AND e = $1",
            &mut out,
        );
        assert_eq!(
            out,
            "UPDATE t SET a = ?, b = '$2 ?' WHERE c = ? AND \"d$4\" = ? -- $9 ?\n/* $8 */ AND e = ?"
        );
        assert_eq!(order, vec![3, 1, 12, 1]);
        let mut out = String::new();
        assert_eq!(anonymous("VALUES (?,?),(?,?)", &mut out), vec![1, 2, 3, 4]);
        assert_eq!(out, "VALUES (?,?),(?,?)");
    }

    /// Keeps `q` as `Tx::write` does.
    fn keep(d: &mut Deferred, mut q: Query<'_, Any, AnyArguments>) {
        let args = q.take_arguments().unwrap().unwrap_or_default();
        d.push(q.sql().as_str(), args).unwrap();
    }

    /// On PostgreSQL the kept writes are the parts of one statement, each numbering its own
    /// values after the ones before.
    #[test]
    fn kept_writes_are_one_statement_on_postgres() {
        let mut d = Deferred {
            pg: true,
            ..Deferred::default()
        };
        let mut keep = |q| keep(&mut d, q);
        keep(
            sqlx::query("INSERT INTO t (a, b) VALUES ($1, $2)")
                .bind(1i64)
                .bind("x"),
        );
        keep(
            sqlx::query("UPDATE t SET b = $2 WHERE a = $1 AND b <> '$1'")
                .bind(1i64)
                .bind("y"),
        );
        keep(sqlx::query("INSERT INTO u (a) VALUES ($1), ($2)").bind(5i64));
        assert_eq!(d.args.len(), 6, "the unbound $2 of the last part is a NULL");
        let mut q = d.take("RELEASE SAVEPOINT tx");
        assert!(d.is_empty());
        assert_eq!(q.take_arguments().unwrap().unwrap().len(), 6);
        assert_eq!(
            q.sql().as_str(),
            "WITH w1 AS (INSERT INTO t (a, b) VALUES ($1, $2)), \
             w2 AS (UPDATE t SET b = $4 WHERE a = $3 AND b <> '$1'), \
             w3 AS (INSERT INTO u (a) VALUES ($5), ($6)) SELECT 1"
        );
    }

    /// The three columns of every row `sql` reads.
    async fn three<A, B, C>(c: &mut AnyConnection, sql: &'static str) -> Vec<(A, B, C)>
    where
        A: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any>,
        B: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any>,
        C: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any>,
    {
        sqlx::query(sql)
            .fetch_all(c)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    }

    #[tokio::test]
    async fn statements_built_elsewhere_run_in_order_on_their_database() {
        sqlx::any::install_default_drivers();
        let mut c = AnyConnection::connect("sqlite::memory:").await.unwrap();
        c.execute("CREATE TABLE t (a BIGINT PRIMARY KEY, b TEXT, n BIGINT)")
            .await
            .unwrap();
        let mut kept = Statements::new(true);
        Statements::keep(async {
            let mut rows = Batch::new("t", &["a", "b", "n"]);
            for a in 0..3 {
                rows.push(vec![V::I(a), V::S(format!("r{a}")), V::I(1)]);
            }
            rows.flush(&mut kept).await?;
            let mut sums = Batch::sums("t", &["a"], &["n"]);
            sums.push(vec![V::I(1), V::I(5)]);
            sums.flush(&mut kept).await
        })
        .unwrap();
        // Nothing ran yet.
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(n, 0);
        // Statements for PostgreSQL are refused by a SQLite connection.
        let other = Statements::new(false);
        assert!(other.run(&mut c).await.is_err());
        kept.run(&mut c).await.unwrap();
        assert_eq!(
            three::<i64, String, i64>(&mut c, "SELECT a, b, n FROM t ORDER BY a").await,
            vec![
                (0, "r0".into(), 1),
                (1, "r1".into(), 6),
                (2, "r2".into(), 1)
            ]
        );
    }

    /// Kept statements, numbered or anonymous, sent as one list bind each its own values.
    #[tokio::test]
    async fn kept_statements_bind_their_own_values() {
        sqlx::any::install_default_drivers();
        let mut c = AnyConnection::connect("sqlite::memory:").await.unwrap();
        c.execute("CREATE TABLE t (a BIGINT, b TEXT, c BIGINT)")
            .await
            .unwrap();
        let mut d = Deferred::default();
        let mut keep = |q| keep(&mut d, q);
        keep(
            sqlx::query("INSERT INTO t (c, b, a) VALUES ($3, $1, $2)")
                .bind("one")
                .bind(1i64)
                .bind(10i64),
        );
        keep(
            sqlx::query("INSERT INTO t (a, b, c) VALUES (?, ?, ?), (?, ?, ?)")
                .bind(2i64)
                .bind("two")
                .bind(20i64)
                .bind(3i64)
                .bind("three")
                .bind(30i64),
        );
        keep(
            sqlx::query("UPDATE t SET b = $2 || b, c = c + $3 WHERE a = $1 OR a = $1 + 1")
                .bind(1i64)
                .bind("x-")
                .bind(5i64),
        );
        keep(
            sqlx::query("INSERT INTO t (a, b, c) VALUES ($1, $2, $3)")
                .bind(4i64)
                .bind(None::<String>),
        );
        assert!(!d.is_empty());
        d.take("SELECT 1").execute(&mut c).await.unwrap();
        assert!(d.is_empty());
        assert_eq!(
            three::<i64, Option<String>, Option<i64>>(&mut c, "SELECT a, b, c FROM t ORDER BY a")
                .await,
            vec![
                (1, Some("x-one".into()), Some(15)),
                (2, Some("x-two".into()), Some(25)),
                (3, Some("three".into()), Some(30)),
                (4, None, None),
            ]
        );
    }
}
