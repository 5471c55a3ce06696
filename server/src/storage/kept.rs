//! PostgreSQL's write transactions on connections kept outside sqlx's pool.
//!
//! sqlx pings a pooled PostgreSQL connection before lending it (`test_before_acquire`) and again
//! after it is given back: two round trips to PostgreSQL around every write transaction, on top
//! of its own `BEGIN` and `COMMIT` — a booking's CPU on both sides. Here a transaction takes a
//! connection kept by the [`Keeper`] and sends `BEGIN`, `COMMIT` and `ROLLBACK` itself:
//! - a connection goes back to the keeper only after its `COMMIT` or `ROLLBACK` succeeded; one
//!   whose transaction ended any other way (a failed `COMMIT`, a cancelled request) is closed, so
//!   the next transaction never inherits a half-finished one;
//! - a transaction dropped unfinished (an early return, a panic) is rolled back by a task of
//!   its own, which gives the connection back when that succeeds;
//! - a kept connection whose `BEGIN` fails (PostgreSQL restarted and cut it) is closed with the
//!   other idle ones, and the transaction begins once more on a fresh connection — nothing had
//!   been done on it, so beginning again changes nothing; the pool's ping cost the same retry;
//! - fresh connections come from the pool and are `detach`ed from it (set up as every pooled
//!   connection is); at most [`Keeper::new`]'s `n` are lent at once.

use sqlx::{AnyConnection, AnyPool, Executor};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// PostgreSQL write connections kept between transactions.
#[derive(Debug)]
pub struct Keeper {
    pool: AnyPool,
    idle: Mutex<Vec<AnyConnection>>,
    permits: Arc<Semaphore>,
}

/// A connection lent to one transaction, in it since its `BEGIN`.
#[derive(Debug)]
pub struct Lent {
    conn: Option<AnyConnection>,
    home: Arc<Keeper>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Keeper {
    /// At most `n` (at least one) transactions at once, on connections from `pool`.
    pub fn new(pool: AnyPool, n: usize) -> Arc<Keeper> {
        Arc::new(Keeper {
            pool,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(n.max(1))),
        })
    }

    /// Connections kept idle now.
    pub fn idle(&self) -> usize {
        self.idle.lock().map(|v| v.len()).unwrap_or(0)
    }

    fn take_idle(&self) -> Option<AnyConnection> {
        self.idle.lock().ok().and_then(|mut v| v.pop())
    }

    fn give_back(&self, conn: AnyConnection) {
        if let Ok(mut v) = self.idle.lock() {
            v.push(conn);
        }
    }

    /// A transaction begun (`BEGIN` sent and answered).
    pub async fn begin(self: &Arc<Keeper>) -> Result<Lent, sqlx::Error> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        loop {
            let (mut conn, kept) = match self.take_idle() {
                Some(c) => (c, true),
                None => (self.pool.acquire().await?.detach(), false),
            };
            match conn.execute("BEGIN").await {
                Ok(_) => {
                    return Ok(Lent {
                        conn: Some(conn),
                        home: self.clone(),
                        permit: Some(permit),
                    })
                }
                Err(e) if !kept => return Err(e),
                Err(e) => {
                    // Cut off, most likely with the others kept as long: all are let go, and
                    // the transaction begins on a fresh connection.
                    tracing::debug!(error = %e, "a kept write connection failed: begun on a fresh one");
                    if let Ok(mut v) = self.idle.lock() {
                        v.clear();
                    }
                }
            }
        }
    }
}

impl Lent {
    pub fn conn(&self) -> Option<&AnyConnection> {
        self.conn.as_ref()
    }

    pub fn conn_mut(&mut self) -> Option<&mut AnyConnection> {
        self.conn.as_mut()
    }

    /// Ends the transaction with `COMMIT` or `ROLLBACK`; the connection is kept when that
    /// succeeded, closed otherwise.
    pub async fn finish(mut self, end: End) -> Result<(), sqlx::Error> {
        let Some(mut conn) = self.conn.take() else {
            return Err(sqlx::Error::WorkerCrashed);
        };
        // Dropped while this waits (a cancelled request): the connection goes with it.
        conn.execute(end.sql()).await?;
        self.home.give_back(conn);
        Ok(())
    }
}

/// How a lent transaction ends.
#[derive(Clone, Copy, Debug)]
pub enum End {
    Commit,
    Rollback,
}

impl End {
    fn sql(self) -> &'static str {
        match self {
            End::Commit => "COMMIT",
            End::Rollback => "ROLLBACK",
        }
    }
}

impl Drop for Lent {
    /// Dropped unfinished: rolled back on a task of its own, which holds the permit until then
    /// (a statement cancelled half-way is drained by the driver before the `ROLLBACK`).
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let (home, permit) = (self.home.clone(), self.permit.take());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if conn.execute("ROLLBACK").await.is_ok() {
                    home.give_back(conn);
                }
                drop(permit);
            });
        }
        // Outside a runtime the connection is closed, which ends its transaction.
    }
}
