//! `loyalty serve load --members FILE.ndjson`: loads member histories (the NDJSON of
//! `loyalty generate` / `simulate`: one `{ "member", "events" }` a line) into a programme's
//! database — members, a card each, the events, the cached figures and the report rows and sums
//! (issue 15) — in batches of multi-row INSERTs, one transaction per batch of members. For
//! migrations and benchmarks; the histories must replay under the published versions (a line
//! that does not is reported and skipped). No notices are written (history is not news). A
//! file of at least `import_indexes_at` lines is loaded without `rpt_flows`' secondary indexes,
//! which are built at its end (`reports::indexes`), as a large import does.

use crate::ledger;
use crate::reports::indexes;
use crate::reports::store::{self, Sums};
use crate::storage::batch::{Batch, V};
use crate::storage::events::Stored;
use crate::storage::members::Member;
use crate::storage::policies::Version;
use crate::storage::{self, Db};
use serde_json::Value;
use std::io::BufRead;

/// What a load did.
#[derive(Debug, Default, serde::Serialize)]
pub struct LoadReport {
    pub members: u64,
    pub events: u64,
    pub report_rows: u64,
    pub skipped: Vec<Value>,
    pub seconds: f64,
}

/// A member history to write: the member (with its phone and name, if any), its events
/// (`seq` 1..n) and the one card it holds.
pub struct History {
    pub member: Member,
    pub events: Vec<Stored>,
    pub card: String,
    pub card_type: &'static str,
    pub card_issued_at: i64,
}

/// The report cells a loader holds before it adds them to the database (≈ 0.5 KB each: ≈ 2 GB).
/// Each addition is an upsert of every held row, so it is rare: a 100,000-member load holds
/// about a million.
const SUMS_HELD: usize = 4_000_000;

/// Member histories written in batches of multi-row INSERTs — members with their cached
/// figures (the replay as of now), a card each, the events, the report rows — with the report
/// day sums added at the end ([`Histories::finish`]), or with a batch once they hold more than
/// [`SUMS_HELD`] cells. What the loader and the demo seed
/// write (the import has its own writer: it compares with members that exist).
pub struct Histories<'a> {
    versions: &'a [Version],
    notice_days: i64,
    now: i64,
    recorded_by: &'static str,
    members: Batch,
    cards: Batch,
    events: Batch,
    rows: store::Rows,
    total: Sums,
    /// Cells held before they are added with a batch ([`SUMS_HELD`]).
    sums_held: usize,
    queued: usize,
}

impl<'a> Histories<'a> {
    pub fn new(
        versions: &'a [Version],
        now: i64,
        recorded_by: &'static str,
    ) -> Result<Self, String> {
        Ok(Histories {
            versions,
            // The cache's next due instant looks as far ahead as the versions' expiry notices.
            notice_days: ledger::notice_days(versions).map_err(|e| e.body())?,
            now,
            recorded_by,
            members: Batch::new("members", storage::members::BULK_COLS),
            cards: Batch::new("cards", storage::cards::BULK_COLS),
            events: Batch::new("events", storage::events::COLS),
            rows: store::Rows::default(),
            total: Sums::default(),
            sums_held: SUMS_HELD,
            queued: 0,
        })
    }

    /// Members queued since the last flush.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Replays the history as of now and queues its rows; returns the number of report rows.
    /// Err: why it does not replay (nothing is queued).
    pub fn push(&mut self, h: History) -> Result<usize, String> {
        let History {
            member,
            events,
            card,
            card_type,
            card_issued_at,
        } = h;
        let as_of = ledger::as_of(self.now, &events);
        let state = ledger::replay(self.versions, &member, &events, None, as_of)?;
        let f = store::facts(self.versions, &member, &events, as_of)?;
        // Its card, counted by the `act` cells from the day it was issued.
        let cards = vec![(
            card_type.to_string(),
            ledger::local_day_number(self.versions, card_issued_at)?,
        )];
        let card_state = if member.status == "unassigned" {
            "unassigned"
        } else {
            "active"
        };
        self.members.push(vec![
            V::S(member.id.clone()),
            V::S(member.status.clone()),
            V::I(member.joined_at),
            V::O(member.phone.clone()),
            V::O(member.name.clone()),
            // Searched with diacritics ignored, as members made by the API are.
            V::O(member.name.as_deref().map(crate::storage::cards::fold)),
            V::I(self.now),
            V::I(0),
            V::I(as_of),
            V::I(state.available()),
            V::I(state.pending()),
            V::S(state.tier()),
            V::S(state.status()),
            V::OI(state.next_due(as_of, self.notice_days)),
        ]);
        self.cards.push(vec![
            V::S(card),
            V::S(member.id.clone()),
            V::S(card_type.into()),
            V::S(card_state.into()),
            V::I(card_issued_at),
        ]);
        for ev in events {
            self.events.push(vec![
                V::S(member.id.clone()),
                V::I(ev.seq),
                V::S(ev.id),
                V::S(ev.kind),
                V::I(ev.at),
                V::S(ev.body),
                V::I(self.now),
                V::S(self.recorded_by.into()),
            ]);
        }
        self.rows.push(&member.id, &f, card_type, 0, 0);
        self.rows.push_as_of(&member.id, as_of, card_type, &cards);
        self.total
            .add_member(&f.flows, &f.points, card_type, &cards, 1);
        self.queued += 1;
        Ok(f.flows.len() + f.points.len())
    }

    /// Writes the queued members in one transaction.
    pub async fn flush(&mut self, db: &Db) -> Result<(), String> {
        if self.queued == 0 {
            return Ok(());
        }
        let e = |e: sqlx::Error| e.to_string();
        let mut tx = db.begin_bulk().await.map_err(e)?;
        for b in [&mut self.members, &mut self.cards, &mut self.events] {
            b.flush(&mut tx).await.map_err(e)?;
        }
        self.rows.flush(&mut tx).await.map_err(e)?;
        // The sums so far, once they hold many rows (the report cells of a million members reach
        // tens of millions of keys): memory stays bounded, and what is added is added with the
        // members it counts.
        if self.total.cells.len() > self.sums_held {
            self.total.prune();
            store::apply(&mut tx, &self.total, 0).await.map_err(e)?;
            self.total = Sums::default();
        }
        tx.commit().await.map_err(e)?;
        self.queued = 0;
        Ok(())
    }

    /// Writes what is queued, then adds the report day sums of every member written to what
    /// the programme already had.
    pub async fn finish(mut self, db: &Db) -> Result<(), String> {
        self.flush(db).await?;
        let e = |e: sqlx::Error| e.to_string();
        self.total.prune();
        let mut tx = db.begin().await.map_err(e)?;
        store::apply(&mut tx, &self.total, 0).await.map_err(e)?;
        tx.commit().await.map_err(e)
    }
}

/// Loads an NDJSON file of member histories. `batch`: members per transaction. `progress` is
/// called after every batch with the members loaded so far.
pub async fn load(
    db: &Db,
    path: &std::path::Path,
    batch: usize,
    now: i64,
    progress: impl FnMut(u64),
) -> Result<LoadReport, String> {
    load_holding(db, path, batch, SUMS_HELD, now, progress).await
}

/// [`load`], adding the report sums with a batch once they hold more than `sums_held` cells
/// (a test adds them with every batch).
pub async fn load_holding(
    db: &Db,
    path: &std::path::Path,
    batch: usize,
    sums_held: usize,
    now: i64,
    mut progress: impl FnMut(u64),
) -> Result<LoadReport, String> {
    let started = std::time::Instant::now();
    let e = |e: sqlx::Error| e.to_string();
    store::ensure_built(db, now).await?;
    let mut c = db.read.acquire().await.map_err(e)?;
    let versions = crate::storage::policies::versions(&mut c)
        .await
        .map_err(e)?;
    drop(c);
    if versions.is_empty() {
        return Err(
            "the programme has no published policy: publish one first (or --policy)".into(),
        );
    }
    // A large load builds the report rows' secondary indexes at its end, as a large import
    // does (reports::indexes): inserted entry by entry their pages interleave with the table's
    // all over the file, and the export, which reads the table in member order, then reads it
    // at random (docs/reports.md, "Benchmark", session 19).
    let lines_in_file = count_lines(path)?;
    let marker = format!("load-{now}");
    let mut c = db.read.acquire().await.map_err(e)?;
    let deferred = indexes::worth_it(&mut c, lines_in_file).await.map_err(e)?;
    drop(c);
    if deferred {
        indexes::drop_for(db, &marker, now).await.map_err(e)?;
    }
    let loaded = read_lines(db, path, batch, sums_held, now, &versions, &mut progress).await;
    if deferred {
        // Built whether the load finished or not (what it committed keeps its rows); if that
        // fails after a failed load, the load's error is the answer and the marker stays for
        // the next start (`indexes::recover`).
        let built = indexes::build_for(db, &marker, now).await.map_err(e);
        if loaded.is_ok() {
            built?;
        }
    }
    let mut report = loaded?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The number of lines of `path` (its newlines, and a last line without one).
fn count_lines(path: &std::path::Path) -> Result<u64, String> {
    use std::io::Read;
    let why = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(why)?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let n = file.read(&mut buf).map_err(why)?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[n - 1];
    }
    Ok(lines + u64::from(last != b'\n'))
}

/// The lines of `path` written in batches (what [`load_holding`] does between its indexes'
/// drop and build).
async fn read_lines(
    db: &Db,
    path: &std::path::Path,
    batch: usize,
    sums_held: usize,
    now: i64,
    versions: &[Version],
    progress: &mut impl FnMut(u64),
) -> Result<LoadReport, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let lines = std::io::BufReader::with_capacity(1 << 20, file).lines();
    let mut report = LoadReport::default();
    let mut out = Histories::new(versions, now, "load")?;
    out.sums_held = sums_held;
    for (index, line) in (1u64..).zip(lines) {
        let line = line.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let skip = |why: String| serde_json::json!({ "line": index, "error": why });
        let v: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(err) => {
                report.skipped.push(skip(err.to_string()));
                continue;
            }
        };
        let m = &v["member"];
        let (Some(id), Some(joined)) = (
            m["id"].as_str(),
            m["joined_at"]
                .as_str()
                .and_then(crate::clock::parse_rfc3339),
        ) else {
            report
                .skipped
                .push(skip("member.id and member.joined_at are required".into()));
            continue;
        };
        let member = Member {
            id: id.to_string(),
            status: m["status"].as_str().unwrap_or("active").to_string(),
            joined_at: joined,
            phone: None,
            name: None,
            version: 0,
            cached_at: None,
        };
        let events = stored_events(&v["events"], joined);
        let n_events = events.len() as u64;
        // A card each: every tenth line's member holds a `vip` card.
        let h = History {
            card: format!("C{id}"),
            card_type: if index % 10 == 0 { "vip" } else { "standard" },
            card_issued_at: joined,
            member,
            events,
        };
        match out.push(h) {
            Ok(rows) => {
                report.members += 1;
                report.events += n_events;
                report.report_rows += rows as u64;
            }
            Err(why) => report.skipped.push(skip(why)),
        }
        if out.queued() >= batch {
            out.flush(db).await?;
            progress(report.members);
        }
    }
    if out.queued() > 0 {
        out.flush(db).await?;
        progress(report.members);
    }
    out.finish(db).await?;
    Ok(report)
}

/// A member line's `events` as stored events (`seq` 1..n; an event without a readable `at`
/// gets `default_at`, and the replay then says what is wrong with it).
pub fn stored_events(events: &Value, default_at: i64) -> Vec<Stored> {
    events
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(k, ev)| Stored {
            seq: k as i64 + 1,
            id: ev["id"].as_str().unwrap_or_default().to_string(),
            kind: ev["type"].as_str().unwrap_or_default().to_string(),
            at: ev["at"]
                .as_str()
                .and_then(crate::clock::parse_rfc3339)
                .unwrap_or(default_at),
            body: ev.to_string(),
        })
        .collect()
}

/// Publishes `policy` (JSON text) from the beginning when the programme has none yet.
pub async fn ensure_policy(db: &Db, policy: &str, now: i64) -> Result<(), String> {
    let e = |e: sqlx::Error| e.to_string();
    let mut tx = db.begin().await.map_err(e)?;
    if crate::storage::policies::versions(&mut tx)
        .await
        .map_err(e)?
        .is_empty()
    {
        let v: Value = serde_json::from_str(&loyalty_engine::api::validate_json(policy))
            .map_err(|e| e.to_string())?;
        let Some(digest) = v["policy_digest"].as_str() else {
            return Err(format!("the policy does not validate: {v}"));
        };
        crate::storage::policies::insert(&mut tx, digest, policy, now, "load")
            .await
            .map_err(e)?;
        crate::storage::policies::publish(&mut tx, digest, 0, now, "load")
            .await
            .map_err(e)?;
    }
    tx.commit().await.map_err(e)?;
    Ok(())
}
