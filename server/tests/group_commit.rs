//! SQLite's group commit (server/src/storage/writer.rs): concurrent transactions share COMMITs,
//! each stays all-or-nothing — committed ones are all there (and visible to the readers the
//! moment `commit()` returns), rolled-back and abandoned ones (dropped unfinished, as on an error
//! path or a panic) leave nothing, and the others in their batch are unharmed.

mod support;

use loyalty_server::storage::{Db, SqliteSync};
use sqlx::{Executor, Row};
use std::sync::Arc;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_transactions_share_commits_and_stay_all_or_nothing() {
    let url = fresh_db(Backend::Sqlite).await;
    let db = Arc::new(Db::open_with(&url, SqliteSync::Full, true).await.unwrap());
    db.write
        .execute("CREATE TABLE gc (n BIGINT PRIMARY KEY, part BIGINT NOT NULL)")
        .await
        .unwrap();
    let n = 600i64;
    let mut tasks = Vec::new();
    for i in 0..n {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = db.begin().await.unwrap();
            // Two statements: a transaction is kept or lost whole.
            for part in 0..2i64 {
                sqlx::query("INSERT INTO gc (n, part) VALUES ($1, $2)")
                    .bind(i * 2 + part)
                    .bind(part)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
            }
            match i % 4 {
                // Rolled back: nothing of it stays.
                1 => {
                    tx.rollback().await.unwrap();
                    false
                }
                // Dropped unfinished (an error path, a panic): rolled back too.
                2 => {
                    drop(tx);
                    false
                }
                _ => {
                    tx.commit().await.unwrap();
                    // Answered only once committed: another connection sees it.
                    let r = sqlx::query("SELECT COUNT(*) FROM gc WHERE n / 2 = $1")
                        .bind(i)
                        .fetch_one(&db.read)
                        .await
                        .unwrap();
                    assert_eq!(r.get::<i64, _>(0), 2, "transaction {i}");
                    true
                }
            }
        }));
    }
    let mut committed = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        if t.await.unwrap() {
            committed.push(i as i64);
        }
    }
    // A dropped transaction's rollback runs on its own task: wait for the writer to settle.
    let mut tx = db.begin().await.unwrap();
    let rows: Vec<i64> = sqlx::query("SELECT n FROM gc ORDER BY n")
        .fetch_all(&mut *tx)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    tx.commit().await.unwrap();
    let want: Vec<i64> = committed.iter().flat_map(|&i| [i * 2, i * 2 + 1]).collect();
    assert_eq!(committed.len(), 300);
    assert_eq!(rows, want);
    // They shared COMMITs: fewer batches than transactions.
    let batches = db.writer.as_ref().unwrap().batches();
    assert!(batches < n as u64, "{batches} batches for {n} transactions");
    eprintln!("{n} transactions in {batches} batches");
    db.close().await;
}
