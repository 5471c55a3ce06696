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
//! - fresh connections are taken from the read pool and `detach`ed from it: set up as every
//!   reader is, they are no longer counted in its size (the server holds two more connections
//!   than its pools say).

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

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::any::AnyPoolOptions;
    use sqlx::Row;
    use std::time::Duration;

    async fn pool() -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPoolOptions::new()
            .max_connections(2)
            .connect("sqlite::memory:")
            .await
            .unwrap()
    }

    async fn one(d: &Direct, n: i64) -> i64 {
        d.fetch_optional(|| sqlx::query("SELECT $1").bind(n))
            .await
            .unwrap()
            .unwrap()
            .get::<i64, _>(0)
    }

    #[tokio::test]
    async fn a_connection_is_kept_and_used_again() {
        let d = Direct::new(pool().await, 1);
        assert_eq!(one(&d, 7).await, 7);
        // The same connection: a temporary table it made is still there.
        d.fetch_optional(|| sqlx::query("CREATE TEMP TABLE mine (x BIGINT)"))
            .await
            .unwrap();
        let found = d
            .fetch_optional(|| sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM temp.mine"))
            .await
            .unwrap()
            .unwrap()
            .get::<i64, _>(0);
        assert_eq!(found, 0);
        assert!(d.slots[0].lock().await.is_some());
    }

    #[tokio::test]
    async fn a_cancelled_statement_drops_its_connection() {
        let d = Direct::new(pool().await, 1);
        assert_eq!(one(&d, 1).await, 1);
        let slow = d.fetch_optional(|| {
            sqlx::query(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) \
                 SELECT CAST(COUNT(*) AS BIGINT) FROM c",
            )
        });
        assert!(tokio::time::timeout(Duration::from_millis(5), slow)
            .await
            .is_err());
        // Its connection was not given back: the next statement opens a fresh one and reads its
        // own answer, not the cancelled one's.
        assert!(d.slots[0].lock().await.is_none());
        assert_eq!(one(&d, 2).await, 2);
    }

    #[tokio::test]
    async fn a_failing_statement_is_tried_once_more_then_answered() {
        let d = Direct::new(pool().await, 2);
        let Err(e) = d
            .fetch_optional(|| sqlx::query("SELECT * FROM no_such_table"))
            .await
        else {
            panic!("a statement on a missing table answered");
        };
        assert!(e.to_string().contains("no_such_table"), "{e}");
        assert_eq!(one(&d, 3).await, 3);
    }
}
