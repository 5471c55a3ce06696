//! An import's `rpt_cells` sums, added once when the job ends rather than with each batch.
//!
//! Each batch of 4,000 members adds to more than half of all the cells (pairs of purchase days
//! by card type, tier and status): at 100,000 customers the batches upserted 1,725,000 cell
//! rows for 126,223 cells — PostgreSQL's largest cost in an import (docs/migration.md). A job
//! now keeps its committed batches' cells in memory and adds them in the transaction that
//! ends it (done or failed), so each cell is written once per job.
//!
//! While the job runs, its members' cells are not in the table yet; a marker row says so
//! (`rpt_meta` key `cells_pending:<job>`, written before the first batch, deleted with the
//! cells). A process that stops during the job (`kill -9`, power loss) leaves the marker: the
//! next [`recover`] — at every start of the server, of `loyalty serve` commands and of an import
//! — counts the cells again from every member's stored report rows, once no running job holds
//! a marker (a job is running while its heartbeat is fresh: [`crate::import::STALE_MS`]).
//!
//! Bookings meanwhile add their members' differences as always: the sums are additive, so
//! what a booking adds for an imported member (new facts − imported facts) and what the job
//! adds at its end (the imported facts) make the member's new facts.
//!
//! Markers and the recount take the `cells` row of `rpt_meta` first (an `UPDATE` that
//! changes nothing): a job's marker cannot appear while a recount reads the members, so the
//! recount never counts members whose cells a live job will add again.

use super::cells::{self, Cells};
use super::store::stored;
use crate::storage::{Db, Tx};
use sqlx::{AnyConnection, Row};

const PREFIX: &str = "cells_pending:";

/// Takes the lock row (the `cells` key, which [`super::store::rebuild`] writes).
async fn lock(tx: &mut Tx) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE rpt_meta SET value = value WHERE key = 'cells'")
        .execute(&mut **tx)
        .await
        .map(drop)
}

/// Records that `job`'s cells will be added when it ends.
pub async fn open(db: &Db, job: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    lock(&mut tx).await?;
    sqlx::query("INSERT INTO rpt_meta (key, value) VALUES ($1, '1')")
        .bind(format!("{PREFIX}{job}"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Adds `job`'s cells and removes its marker, in the caller's transaction (the one that ends
/// the job). The cells go with the transaction's other sums at its commit (`Tx::commit`: on
/// PostgreSQL to a shard no booking holds; rows whose counts are all zero are left out there).
/// The job keeps its own until the commit succeeds: a failed one adds them with the failure.
pub async fn close(tx: &mut Tx, job: &str, job_cells: &Cells) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM rpt_meta WHERE key = $1")
        .bind(format!("{PREFIX}{job}"))
        .execute(&mut **tx)
        .await?;
    cells::add(&mut tx.sums.cells, job_cells.clone());
    Ok(())
}

/// The jobs whose cells are not added yet (their markers), by id.
pub async fn pending(c: &mut AnyConnection) -> Result<Vec<String>, sqlx::Error> {
    crate::import::marked(c, PREFIX).await
}

/// Counts `rpt_cells` again from the stored report rows when a job that stopped left its
/// marker (and no running job holds one). Returns how many markers it cleared.
pub async fn recover(db: &Db) -> Result<usize, String> {
    let e = |e: sqlx::Error| e.to_string();
    // Looked for on a reader first: almost always there is none.
    let mut c = db.read.acquire().await.map_err(e)?;
    if pending(&mut c).await.map_err(e)?.is_empty() {
        return Ok(0);
    }
    drop(c);
    let mut tx = db.begin_bulk().await.map_err(e)?;
    lock(&mut tx).await.map_err(e)?;
    let live = crate::import::running_with_marker(&mut tx, PREFIX)
        .await
        .map_err(e)?;
    if live > 0 {
        tx.commit().await.map_err(e)?;
        return Ok(0);
    }
    let markers = sqlx::query("DELETE FROM rpt_meta WHERE key LIKE 'cells_pending:%'")
        .execute(&mut *tx)
        .await
        .map_err(e)?
        .rows_affected() as usize;
    let counted = count(&mut tx).await?;
    sqlx::query("DELETE FROM rpt_cells")
        .execute(&mut *tx)
        .await
        .map_err(e)?;
    cells::apply(&mut *tx, &counted, 0).await.map_err(e)?;
    tx.commit().await.map_err(e)?;
    tracing::warn!(
        markers,
        cells = counted.len(),
        "an import stopped before adding its report cells: counted them again"
    );
    Ok(markers)
}

/// Every member's cells, from its stored report rows and the cards they were counted with.
async fn count(tx: &mut Tx) -> Result<Cells, String> {
    let e = |e: sqlx::Error| e.to_string();
    let members: Vec<(String, String, String)> =
        sqlx::query("SELECT member_id, card_type, cards FROM rpt_members ORDER BY member_id")
            .fetch_all(&mut **tx)
            .await
            .map_err(e)?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    let mut all = Cells::new();
    for (id, card, counted) in members {
        let (facts, _) = stored(tx, &id).await.map_err(e)?;
        let cards: super::store::CardDays = serde_json::from_str(&counted)
            .map_err(|err| format!("rpt_members.cards of {id}: {err}"))?;
        let m = cells::Member {
            flows: &facts.flows,
            points: &facts.points,
            card: &card,
            cards: &cards,
        };
        cells::add_member(&mut all, m, 1);
    }
    Ok(all)
}
