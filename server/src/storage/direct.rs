//! Connections kept outside sqlx's pool, for the one statement every till and storefront
//! request runs: its key's lookup (`auth::keys::authenticate`).
//!
//! sqlx pings a pooled connection each time it is given back, and on PostgreSQL also before
//! lending it (`test_before_acquire`): a round trip to SQLite's connection thread, or to
//! PostgreSQL, around every one-statement read. Here a connection is taken out of its slot for
//! the statement and put back when the answer is read, with no ping:
//! - a statement that was cancelled (its request dropped while it waited) never gives its
//!   connection back: the connection is closed, and the slot opens a fresh one next time, so no
//!   one reads an answer meant for another;
//! - a statement that fails is tried once more on a fresh connection (it is a read: trying it
//!   again changes nothing), so a connection broken by a PostgreSQL restart costs one retry, as
//!   the pool's ping would have cost one;
//! - fresh connections come from the read pool (`detach`ed: set up as every reader is), so the
//!   pool's limits and settings hold.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Mutex;

/// A few connections for one hot read, used in turn.
#[derive(Debug)]
pub struct Direct {
    pool: AnyPool,
    slots: Vec<Mutex<Option<AnyConnection>>>,
    next: AtomicUsize,
}

impl Direct {
    /// `n` slots (at least one) whose connections come from `pool`.
    pub fn new(pool: AnyPool, n: usize) -> Direct {
        Direct {
            pool,
            slots: (0..n.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// Runs the query `make` builds (built again for the retry) and reads at most one row.
    pub async fn fetch_optional<'q>(
        &self,
        make: impl Fn() -> Query<'q, Any, AnyArguments>,
    ) -> Result<Option<AnyRow>, sqlx::Error> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.slots.len();
        // A free slot if there is one (no waiting behind a busy one), else this turn's.
        let mut slot = None;
        for i in 0..n {
            if let Ok(g) = self.slots[(start + i) % n].try_lock() {
                slot = Some(g);
                break;
            }
        }
        let mut slot = match slot {
            Some(g) => g,
            None => self.slots[start % n].lock().await,
        };
        let mut retried = false;
        loop {
            // Taken out while the statement runs: a cancelled statement's connection is dropped.
            let mut conn = match slot.take() {
                Some(c) => c,
                None => self.pool.acquire().await?.detach(),
            };
            match make().fetch_optional(&mut conn).await {
                Ok(row) => {
                    *slot = Some(conn);
                    return Ok(row);
                }
                Err(e) if retried => return Err(e),
                Err(e) => {
                    tracing::debug!(error = %e, "a kept connection failed: retried on a fresh one");
                    retried = true;
                }
            }
        }
    }
}
