//! Import jobs (issue 18): a live programme's exports with their mapping (CSV / `.xlsx`, read by
//! the engine's `loyalty_engine::import::import_to`), or member NDJSON (`loyalty import`'s
//! output), loaded into the server's members, cards and events — `loyalty serve import` and
//! `POST /v1/imports` (docs/migration.md, "Into the server").
//!
//! A job runs in the background in two halves joined by a bounded channel:
//!
//! - **the producer** (a blocking thread): the engine's import hands over one member at a time
//!   (or the NDJSON is read a line at a time); each member is parsed, replayed under the
//!   programme's published versions as of now (the cached figures), its report facts computed
//!   (issue 15's rows), and collected into batches of whole members — the engine's work stays on
//!   this thread, so that it runs beside the database's;
//! - **the writer** (async): each batch is one transaction — members that exist are compared
//!   with what is stored (identical: skipped; different: a conflict, nothing written), new ones
//!   are inserted with multi-row INSERTs (members with their cached figures, cards, events
//!   `seq` 1..n as SPEC §3 JSON, report rows with the day sums added once per batch), and the
//!   job's counts are updated in the same transaction. A
//!   batch that fails is retried a member at a time, so one bad member never takes others with it.
//!
//! Memory is one batch in each half, the channel's few batches and the engine's sort budget:
//! flat in the number of rows. Conflicts and rejections go to files in the job's working
//! folder and into the job's report, stored in `import_reports` in chunks of at most 1 MiB.
//!
//! Running the same import twice changes nothing: members are keyed by id, and a member whose
//! stored history begins with exactly the imported events (later events are the server's own
//! bookings) is counted `unchanged`.

use crate::clock::{parse_rfc3339, rfc3339, Clock};
use crate::reports::cells::{self, Cells};
use crate::reports::store::{new_rows, NewFacts, NewRows};
use crate::reports::{deferred, indexes};
use crate::storage::batch::{self, Table};
use crate::storage::events::Stored;
use crate::storage::{self, settings, Db};
use loyalty_engine::import::{mapping::Mapping, ImportError, ImportedMember, MemberSink, Options};
use loyalty_engine::ledger::{self as eledger, Event, LedgerMember, ReplayRequest};
use loyalty_engine::report::MemberFacts;
use loyalty_engine::time::Instant;
use loyalty_engine::Engine;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};
use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// A batch closes at this many members …
///
/// Each batch is a transaction, and each transaction rewrites the pages its rows touch —
/// the random ones of the indexes and the report sums its members add to — so fewer, larger
/// batches write less: at 100,000 customers a SQLite import took 49 s with 500-member
/// batches, 39 s with 2,000, 35 s with 4,000 (docs/migration.md, session 11).
pub const BATCH_MEMBERS: usize = 4_000;
/// … or this many events, whichever comes first.
pub const BATCH_EVENTS: usize = 100_000;
/// Batches prepared ahead of the one being written.
const QUEUED_BATCHES: usize = 2;
/// The report is stored in chunks of at most this many bytes of text.
const CHUNK_BYTES: usize = 1 << 20;
/// A member NDJSON line longer than this is rejected unread (the engine's request limit).
const MAX_LINE: usize = loyalty_engine::limits::MAX_LINE_BYTES;
/// A running job whose heartbeat is older than this (wall clock) was interrupted.
pub const STALE_MS: i64 = 60_000;

/// What a job imports.
#[derive(Debug)]
pub enum Source {
    /// Exports described by a mapping (`loyalty import`'s input).
    Exports {
        mapping: Box<Mapping>,
        files: Vec<PathBuf>,
    },
    /// Member NDJSON: `{"member":{…},"events":[…]}` a line, optionally with `"phone"`,
    /// `"name"` and `"cards"` beside them.
    Ndjson { file: PathBuf },
}

impl Source {
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Exports { .. } => "exports",
            Source::Ndjson { .. } => "ndjson",
        }
    }

    fn bytes(&self) -> u64 {
        let size = |p: &PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        match self {
            Source::Exports { files, .. } => files.iter().map(size).sum(),
            Source::Ndjson { file } => size(file),
        }
    }
}

/// One job: its id (a row of `imports`), what it reads, and its working folder (uploaded
/// files, the engine's sorted runs, the report being written) — removed when the job ends.
#[derive(Debug)]
pub struct Job {
    pub id: String,
    pub source: Source,
    pub work_dir: PathBuf,
    /// The engine's sort budget (exports), bytes.
    pub memory_budget: usize,
}

/// The default sort budget of a job: 64 MiB (docs/migration.md: a smaller budget costs run
/// files, not time).
pub const DEFAULT_MEMORY: usize = 64 << 20;

pub fn new_id(now: i64) -> String {
    storage::new_id("imp-", now)
}

/// The wall clock (heartbeats are about the process, not the programme's steerable clock).
pub(crate) fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Records a new job (`queued`).
pub async fn create(db: &Db, job: &Job, actor: &str, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO imports (id, source, state, phase, created_at, created_by, heartbeat_at, \
         bytes_total, bytes_read, members_read, members_created, members_unchanged, \
         members_conflicting, members_rejected, events_written, cards_written, conflicts) \
         VALUES ($1, $2, 'queued', 'queued', $3, $4, $5, $6, 0, 0, 0, 0, 0, 0, 0, 0, 0)",
    )
    .bind(&job.id)
    .bind(job.source.kind())
    .bind(now)
    .bind(actor)
    .bind(wall_ms())
    .bind(job.source.bytes() as i64)
    .execute(&mut *tx)
    .await?;
    storage::audit(
        &mut tx,
        now,
        actor,
        "import.create",
        &job.id,
        &json!({ "source": job.source.kind(), "bytes": job.source.bytes() }),
    )
    .await?;
    tx.commit().await
}

/// Jobs left `queued` or `running` by a process that stopped (no heartbeat for a minute) are
/// `failed`; running the import again finishes it (an import is idempotent).
pub async fn mark_interrupted(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    // Looked for on a reader first: the writer (SQLite's one connection) only when needed.
    let stale = sqlx::query(
        "SELECT id FROM imports WHERE state IN ('queued', 'running') \
         AND (heartbeat_at IS NULL OR heartbeat_at < $1) LIMIT 1",
    )
    .bind(wall_ms() - STALE_MS)
    .fetch_optional(&db.read)
    .await?;
    if stale.is_none() {
        return Ok(0);
    }
    let r = sqlx::query(
        "UPDATE imports SET state = 'failed', phase = 'failed', finished_at = $1, \
         error = 'interrupted: the server stopped while the job ran; run the same import again to finish it' \
         WHERE state IN ('queued', 'running') AND (heartbeat_at IS NULL OR heartbeat_at < $2)",
    )
    .bind(now)
    .bind(wall_ms() - STALE_MS)
    .execute(&db.write)
    .await?;
    Ok(r.rows_affected())
}

/// The jobs holding an `rpt_meta` marker `<prefix><job>`, by id.
pub async fn marked(c: &mut AnyConnection, prefix: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT key FROM rpt_meta WHERE key LIKE $1 ORDER BY key")
        .bind(format!("{prefix}%"))
        .fetch_all(c)
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.get::<String, _>(0).trim_start_matches(prefix).to_string())
        .collect())
}

/// How many jobs that hold an `rpt_meta` marker `<prefix><job>` are running (queued or running
/// with a fresh heartbeat): what a recovery from a stopped job's marker waits for
/// (`reports::deferred`, `reports::indexes`).
pub async fn running_with_marker(c: &mut AnyConnection, prefix: &str) -> Result<i64, sqlx::Error> {
    Ok(sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM rpt_meta m JOIN imports i \
         ON m.key = $2 || i.id \
         WHERE i.state IN ('queued', 'running') AND i.heartbeat_at >= $1",
    )
    .bind(wall_ms() - STALE_MS)
    .bind(prefix)
    .fetch_one(c)
    .await?
    .get::<i64, _>(0))
}

// ---- Counts ---------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub bytes_read: u64,
    pub members_expected: Option<u64>,
    pub members_read: u64,
    pub members_created: u64,
    pub members_unchanged: u64,
    pub members_conflicting: u64,
    pub members_rejected: u64,
    pub events_written: u64,
    pub cards_written: u64,
    /// Conflicts listed in the report (members not written, phones and cards not stored).
    pub conflicts: u64,
}

impl Counts {
    /// The counts of [`COUNTED`], in its order.
    fn counted_mut(&mut self) -> [&mut u64; 8] {
        [
            &mut self.members_read,
            &mut self.members_created,
            &mut self.members_unchanged,
            &mut self.members_conflicting,
            &mut self.members_rejected,
            &mut self.events_written,
            &mut self.cards_written,
            &mut self.conflicts,
        ]
    }

    /// Adds another's counts (the bytes read: the furthest).
    fn add(&mut self, o: &Counts) {
        self.bytes_read = self.bytes_read.max(o.bytes_read);
        let mut o = *o;
        for (x, y) in self.counted_mut().into_iter().zip(o.counted_mut()) {
            *x += *y;
        }
    }
}

/// How a job's counts reach its row: whole (the job's own, while no batch is being stored) or
/// added (a batch's, in its transaction: batches stored concurrently each add their own).
#[derive(Clone, Copy, PartialEq)]
enum Saving {
    Whole,
    Added,
}

/// The counted columns, bound as `$5…` in this order.
const COUNTED: [&str; 8] = [
    "members_read",
    "members_created",
    "members_unchanged",
    "members_conflicting",
    "members_rejected",
    "events_written",
    "cards_written",
    "conflicts",
];

async fn save_counts(
    c: &mut AnyConnection,
    id: &str,
    phase: &str,
    k: &Counts,
    how: Saving,
) -> Result<(), sqlx::Error> {
    let mut set = vec![match how {
        Saving::Whole => "bytes_read = $4".to_string(),
        Saving::Added => {
            "bytes_read = CASE WHEN bytes_read < $4 THEN $4 ELSE bytes_read END".into()
        }
    }];
    for (i, col) in COUNTED.iter().enumerate() {
        set.push(match how {
            Saving::Whole => format!("{col} = ${}", i + 5),
            Saving::Added => format!("{col} = {col} + ${}", i + 5),
        });
    }
    if how == Saving::Whole {
        set.push("members_expected = $13".into());
    }
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE imports SET phase = $2, heartbeat_at = $3, {} WHERE id = $1",
        set.join(", ")
    )))
    .bind(id)
    .bind(phase)
    .bind(wall_ms())
    .bind(k.bytes_read as i64);
    let mut counts = *k;
    for n in counts.counted_mut() {
        q = q.bind(*n as i64);
    }
    if how == Saving::Whole {
        q = q.bind(k.members_expected.map(|n| n as i64));
    }
    q.execute(c).await?;
    Ok(())
}

// ---- Status ---------------------------------------------------------------------------------

/// A job as `GET /v1/imports/{id}` shows it (None: no such job).
pub async fn status(c: &mut AnyConnection, id: &str) -> Result<Option<Value>, sqlx::Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {STATUS_COLS} FROM imports WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(c)
    .await?;
    Ok(row.as_ref().map(status_of))
}

/// The latest jobs, newest first.
pub async fn list(c: &mut AnyConnection, limit: i64) -> Result<Vec<Value>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {STATUS_COLS} FROM imports ORDER BY created_at DESC, id DESC LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(status_of).collect())
}

const STATUS_COLS: &str = "id, source, state, phase, created_at, created_by, started_at, \
    finished_at, bytes_total, bytes_read, members_expected, members_read, members_created, \
    members_unchanged, members_conflicting, members_rejected, events_written, cards_written, \
    conflicts, error, summary";

fn status_of(r: &sqlx::any::AnyRow) -> Value {
    let id: String = r.get(0);
    let state: String = r.get(2);
    let phase: String = r.get(3);
    let t = |i: usize| r.get::<Option<i64>, _>(i).map(rfc3339);
    let n = |i: usize| r.get::<i64, _>(i);
    let bytes_total = n(8);
    let bytes_read = n(9);
    let expected: Option<i64> = r.get(10);
    let read = n(11);
    let fraction = match (state.as_str(), phase.as_str(), expected) {
        ("done", _, _) => Some(1.0),
        (_, "storing", Some(e)) if e > 0 => Some((read as f64 / e as f64).min(1.0)),
        (_, "storing", _) if bytes_total > 0 => {
            Some((bytes_read as f64 / bytes_total as f64).min(1.0))
        }
        _ => None,
    };
    let summary: Option<String> = r.get(20);
    json!({
        "id": id,
        "source": r.get::<String, _>(1),
        "state": state,
        "phase": phase,
        "created_at": rfc3339(n(4)),
        "created_by": r.get::<String, _>(5),
        "started_at": t(6),
        "finished_at": t(7),
        "progress": {
            "bytes_total": bytes_total, "bytes_read": bytes_read,
            "members_expected": expected, "members_done": read,
            "fraction": fraction.map(|f| (f * 1000.0).round() / 1000.0),
        },
        "counts": {
            "members_read": read, "members_created": n(12), "members_unchanged": n(13),
            "members_conflicting": n(14), "members_rejected": n(15),
            "events_written": n(16), "cards_written": n(17), "conflicts": n(18),
        },
        "error": r.get::<Option<String>, _>(19),
        "summary": summary.and_then(|s| serde_json::from_str::<Value>(&s).ok()),
        "report": (state == "done").then(|| format!("/v1/imports/{id}/report")),
    })
}

/// The stored report, chunk `n` (0, 1, …): None after the last.
pub async fn report_chunk(
    c: &mut AnyConnection,
    id: &str,
    n: i64,
) -> Result<Option<String>, sqlx::Error> {
    let r = sqlx::query("SELECT chunk FROM import_reports WHERE import_id = $1 AND n = $2")
        .bind(id)
        .bind(n)
        .fetch_optional(c)
        .await?;
    Ok(r.map(|r| r.get(0)))
}

/// Writes the stored report of a finished job to `out`.
pub async fn write_report(db: &Db, id: &str, out: &mut dyn Write) -> Result<(), String> {
    let mut c = db.read.acquire().await.map_err(|e| e.to_string())?;
    let mut n = 0;
    while let Some(chunk) = report_chunk(&mut c, id, n)
        .await
        .map_err(|e| e.to_string())?
    {
        out.write_all(chunk.as_bytes()).map_err(|e| e.to_string())?;
        n += 1;
    }
    Ok(())
}

// ---- Preparing a member -----------------------------------------------------------------

/// One event as stored: `seq` is its index + 1.
/// A member ready to store: parsed, replayed, with its cached figures.
struct Prepared {
    /// The NDJSON line (or the member's position in the engine's output).
    line: u64,
    id: String,
    status: &'static str,
    joined_at: i64,
    phone: Option<String>,
    name: Option<String>,
    cards: Vec<String>,
    card_state: &'static str,
    events: Vec<Stored>,
    as_of: i64,
    /// The report facts as of `as_of` (issue 15's rows), computed on the reading thread.
    facts: MemberFacts,
    available: i64,
    pending: i64,
    tier: String,
    cached_status: &'static str,
    next_due: Option<i64>,
}

/// A member NDJSON line: the engine's member line, plus optional contact data.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    #[serde(borrow)]
    member: &'a RawValue,
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    cards: Vec<String>,
}

/// JSON text without the white space outside strings (events are stored compact).
fn compact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut in_str, mut esc) = (false, false);
    for ch in s.chars() {
        if in_str {
            out.push(ch);
            if esc {
                esc = false;
            } else if ch == '\\' {
                esc = true;
            } else if ch == '"' {
                in_str = false;
            }
        } else if !matches!(ch, ' ' | '\t' | '\n' | '\r') {
            if ch == '"' {
                in_str = true;
            }
            out.push(ch);
        }
    }
    out
}

/// What the producer replays with: the programme's published versions, parsed once.
struct Programme {
    engines: Vec<(Option<Instant>, Engine)>,
    /// The same versions as stored.
    stored: Vec<storage::policies::Version>,
    /// And parsed as the engine's report facts take them.
    policies: std::sync::Arc<loyalty_engine::ledger::PolicyVersions>,
    /// Days of notice before points expire (the cache's next due time).
    notice_days: i64,
    country: Option<String>,
}

impl Programme {
    fn versions(&self) -> Vec<eledger::Version<'_>> {
        self.engines
            .iter()
            .map(|(at, e)| eledger::Version {
                effective_at: *at,
                policy: e.policy(),
                digest: e.policy_digest(),
            })
            .collect()
    }
}

fn instant_ms(ms: i64) -> Option<Instant> {
    Instant::from_unix(
        ms.div_euclid(1000),
        (ms.rem_euclid(1000) * 1_000_000) as u32,
    )
    .ok()
}

/// Parses and replays one member line; Err: why the member is rejected.
fn prepare(
    prog: &Programme,
    versions: &eledger::Versions,
    clock: &Clock,
    line_no: u64,
    text: &str,
    from_engine: Option<&ImportedMember>,
) -> Result<Prepared, String> {
    let line: Line = serde_json::from_str(text).map_err(|e| format!("not a member line: {e}"))?;
    let member: LedgerMember =
        serde_json::from_str(line.member.get()).map_err(|e| format!("member: {e}"))?;
    if member.id.is_empty() || member.id.len() > 100 {
        return Err("member.id must be 1 to 100 characters".into());
    }
    let joined_at = parse_rfc3339(&member.joined_at)
        .ok_or_else(|| "member.joined_at is not RFC 3339 with an offset".to_string())?;
    let mut events = Vec::with_capacity(line.events.len());
    let mut parsed = Vec::with_capacity(line.events.len());
    for (i, raw) in line.events.iter().enumerate() {
        let ev: Event = serde_json::from_str(raw.get()).map_err(|e| format!("events[{i}]: {e}"))?;
        let at = parse_rfc3339(&ev.at)
            .ok_or_else(|| format!("events[{i}].at is not RFC 3339 with an offset"))?;
        events.push(Stored {
            seq: i as i64 + 1,
            id: ev.id.clone(),
            kind: ev.kind.as_str().to_string(),
            at,
            body: compact(raw.get()),
        });
        parsed.push(ev);
    }
    let (phone, name, cards) = match from_engine {
        Some(m) => (
            m.phone.map(str::to_string),
            m.name.map(str::to_string),
            m.cards.to_vec(),
        ),
        None => (line.phone, line.name, line.cards),
    };
    let phone = match phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(
            loyalty_engine::import::phone::normalize(p, prog.country.as_deref())
                .map_err(|e| format!("phone {p:?}: {e}"))?,
        ),
    };
    let mut card_list: Vec<String> = Vec::new();
    for c in cards {
        let c = c.trim().to_string();
        if c.is_empty() || c.len() > 64 {
            return Err(format!("card {c:?} must be 1 to 64 characters"));
        }
        if !card_list.contains(&c) {
            card_list.push(c);
        }
    }
    let now = clock.now_ms();
    let as_of = events.iter().map(|e| e.at).max().unwrap_or(now).max(now);
    let status = member.status.as_str();
    let req = ReplayRequest {
        member,
        events: parsed,
        as_of: rfc3339(as_of),
    };
    let r = eledger::replay_versions(*versions, &req).map_err(|e| {
        format!(
            "does not replay under the programme's policy: {} at {}: {}",
            e.code.as_str(),
            e.path,
            e.message
        )
    })?;
    let next_due = crate::ledger::next_due(
        r.points
            .lots
            .iter()
            .map(|l| (Some(l.available_at.as_str()), l.expires_at.as_deref())),
        r.tier.next_review.as_deref(),
        as_of,
        prog.notice_days,
    );
    let cached_status = r.status.as_str();
    // The report facts from the same request (the engine's replay of it; no JSON between).
    let facts = loyalty_engine::report::member_facts(&prog.policies, &req).map_err(|e| {
        format!(
            "report facts of {} fail: {} at {}: {}",
            req.member.id,
            e.code.as_str(),
            e.path,
            e.message
        )
    })?;
    Ok(Prepared {
        line: line_no,
        id: req.member.id,
        status,
        joined_at,
        phone,
        name: name.filter(|n| !n.trim().is_empty()),
        cards: card_list,
        card_state: if cached_status == "unassigned" {
            "unassigned"
        } else {
            "active"
        },
        events,
        as_of,
        available: r.points.available,
        pending: r.points.pending,
        tier: r.tier.id,
        cached_status,
        next_due,
        facts,
    })
}

// ---- The producer ---------------------------------------------------------------------------

enum Msg {
    /// The engine read the exports: this many members follow.
    Expected(u64),
    Batch(Box<Ready>),
    Rejected {
        member_id: Option<String>,
        line: u64,
        reason: String,
    },
}

/// A batch of whole members, ready to be written.
struct Ready {
    members: Vec<Prepared>,
    /// Bytes of the source read so far (the NDJSON's progress).
    bytes_read: u64,
    /// The instant the batch is written at (its cards are issued then).
    now: i64,
    /// Its report rows (issue 15), computed on the reading thread for the usual case — every
    /// member new and every card stored (`write_batch` checks; otherwise it computes them).
    report: Option<NewRows>,
}

struct Batcher<'a> {
    prog: &'a Programme,
    /// Whether the database is SQLite (the report rows' statements are built for it).
    sqlite: bool,
    clock: &'a Clock,
    tx: tokio::sync::mpsc::Sender<Msg>,
    cur: Vec<Prepared>,
    ids: HashSet<String>,
    events: usize,
    bytes_read: u64,
}

impl Batcher<'_> {
    fn send(&self, m: Msg) -> Result<(), String> {
        self.tx
            .blocking_send(m)
            .map_err(|_| "the job's writer stopped".to_string())
    }

    fn push(&mut self, p: Prepared) -> Result<(), String> {
        // One member once per batch: a repeated id waits for the next one (and then is
        // compared with the stored first occurrence).
        if self.ids.contains(&p.id) {
            self.flush()?;
        }
        self.events += p.events.len();
        self.ids.insert(p.id.clone());
        self.cur.push(p);
        if self.cur.len() >= BATCH_MEMBERS || self.events >= BATCH_EVENTS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.cur.is_empty() {
            return Ok(());
        }
        let members = std::mem::take(&mut self.cur);
        self.ids.clear();
        self.events = 0;
        let now = self.clock.now_ms();
        // The cards the writer issues at `now`, all of them `standard`.
        let report = crate::ledger::local_day_number(&self.prog.stored, now)
            .ok()
            .and_then(|day| {
                let cards: HashMap<&str, Vec<(String, i64)>> = members
                    .iter()
                    .map(|p| {
                        (
                            p.id.as_str(),
                            vec![(STANDARD.to_string(), day); p.cards.len()],
                        )
                    })
                    .collect();
                NewRows::of(self.sqlite, &new_facts(&members), |id| {
                    cards.get(id).map(Vec::as_slice).unwrap_or_default()
                })
                .ok()
            });
        self.send(Msg::Batch(Box::new(Ready {
            members,
            bytes_read: self.bytes_read,
            now,
            report,
        })))
    }
}

struct ExportSink<'a> {
    versions: eledger::Versions<'a>,
    batcher: Batcher<'a>,
    n: u64,
}

impl MemberSink for ExportSink<'_> {
    fn member(&mut self, m: &ImportedMember<'_>) -> Result<(), ImportError> {
        self.n += 1;
        let r = prepare(
            self.batcher.prog,
            &self.versions,
            self.batcher.clock,
            self.n,
            m.json,
            Some(m),
        );
        match r {
            Ok(p) => self.batcher.push(p),
            Err(reason) => self.batcher.send(Msg::Rejected {
                member_id: Some(m.id.to_string()),
                line: self.n,
                reason,
            }),
        }
        .map_err(ImportError)
    }

    fn merging(&mut self, members_in: u64) -> Result<(), ImportError> {
        self.batcher
            .send(Msg::Expected(members_in))
            .map_err(ImportError)
    }
}

/// Runs in a blocking thread: reads the source, sends batches; returns the engine report's
/// summary (exports) after writing the full report to `engine_report`.
fn produce(
    prog: Programme,
    sqlite: bool,
    clock: Clock,
    job: &Job,
    tx: tokio::sync::mpsc::Sender<Msg>,
    engine_report: &Path,
) -> Result<Option<Value>, String> {
    let list = prog.versions();
    let versions = eledger::Versions::many(&list)
        .ok_or_else(|| "the programme has no published policy".to_string())?;
    let batcher = Batcher {
        prog: &prog,
        sqlite,
        clock: &clock,
        tx,
        cur: Vec::new(),
        ids: HashSet::new(),
        events: 0,
        bytes_read: 0,
    };
    match &job.source {
        Source::Exports { mapping, files } => {
            let cutover = parse_rfc3339(&mapping.cutover).unwrap_or(i64::MAX);
            // The engine's checks (tiers, currency, the replay at the cutover) use the version
            // in force at the cutover.
            let policy = prog
                .engines
                .iter()
                .rev()
                .find(|(at, _)| at.is_none_or(|a| a.unix_seconds() * 1000 <= cutover))
                .or(prog.engines.first())
                .map(|(_, e)| e.clone());
            let opts = Options {
                mapping: (**mapping).clone(),
                files: files.clone(),
                policy,
                temp_dir: job.work_dir.join("sort"),
                memory_budget: job.memory_budget,
            };
            let mut sink = ExportSink {
                versions,
                batcher,
                n: 0,
            };
            let report = loyalty_engine::import::import_to(&opts, &mut sink).map_err(|e| e.0)?;
            sink.batcher.flush()?;
            let summary = json!({
                "rows_read": report.rows_read,
                "rows_rejected": report.rows_rejected,
                "rows_skipped": report.rows_skipped,
                "members_written": report.members_written,
                "conflicts": report.conflicts.len(),
                "replay_mismatches": report.replay_mismatches.len(),
                "files": report.files,
                "totals": report.totals,
                "clean": report.clean,
            });
            let f = File::create(engine_report).map_err(|e| e.to_string())?;
            let mut w = BufWriter::with_capacity(1 << 16, f);
            serde_json::to_writer(&mut w, &report).map_err(|e| e.to_string())?;
            w.flush().map_err(|e| e.to_string())?;
            drop(report);
            let _ = std::fs::remove_dir_all(&opts.temp_dir);
            Ok(Some(summary))
        }
        Source::Ndjson { file } => {
            let f = File::open(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let mut r = BufReader::with_capacity(1 << 20, f);
            let mut b = batcher;
            let mut buf = Vec::new();
            let mut line_no = 0u64;
            loop {
                buf.clear();
                let n = (&mut r)
                    .take(MAX_LINE as u64 + 1)
                    .read_until(b'\n', &mut buf)
                    .map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                line_no += 1;
                b.bytes_read += n as u64;
                if buf.last() != Some(&b'\n') && n > MAX_LINE {
                    // Skip the rest of an over-long line.
                    loop {
                        buf.clear();
                        let m = (&mut r)
                            .take(1 << 20)
                            .read_until(b'\n', &mut buf)
                            .map_err(|e| e.to_string())?;
                        b.bytes_read += m as u64;
                        if m == 0 || buf.last() == Some(&b'\n') {
                            break;
                        }
                    }
                    b.send(Msg::Rejected {
                        member_id: None,
                        line: line_no,
                        reason: format!("the line is longer than {MAX_LINE} bytes"),
                    })?;
                    continue;
                }
                let text = match std::str::from_utf8(&buf) {
                    Ok(t) => t.trim(),
                    Err(_) => {
                        b.send(Msg::Rejected {
                            member_id: None,
                            line: line_no,
                            reason: "not UTF-8 text".into(),
                        })?;
                        continue;
                    }
                };
                if text.is_empty() {
                    continue;
                }
                match prepare(&prog, &versions, &clock, line_no, text, None) {
                    Ok(p) => b.push(p)?,
                    Err(reason) => {
                        let member_id = serde_json::from_str::<Value>(text)
                            .ok()
                            .and_then(|v| v.pointer("/member/id")?.as_str().map(str::to_string));
                        b.send(Msg::Rejected {
                            member_id,
                            line: line_no,
                            reason,
                        })?;
                    }
                }
            }
            b.flush()?;
            Ok(None)
        }
    }
}

// ---- The writer -----------------------------------------------------------------------------

/// What became of one member of a batch.
enum Outcome {
    Created { events: u64, cards: u64 },
    Unchanged,
    Conflict(String),
}

/// A batch's result: per member, plus phones and cards not stored (conflicts too), and the
/// report cells of its new members, added when the job ends (`reports::deferred`).
struct Written {
    outcomes: Vec<Outcome>,
    contact: Vec<(String, String)>,
    cells: Cells,
}

/// The `IN (…)` list of `n` values on this connection (anonymous on SQLite, as
/// [`storage::placeholders`] says why).
fn in_list(c: &AnyConnection, n: usize) -> String {
    let row = storage::placeholders(c, 1, n);
    row[1..row.len() - 1].to_string()
}

/// Two event texts are the same event: byte for byte, or as JSON values.
fn same_body(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// The type of the cards an import writes.
const STANDARD: &str = "standard";

/// The report facts of members about to be created.
fn new_facts<'a>(members: impl IntoIterator<Item = &'a Prepared>) -> Vec<NewFacts<'a>> {
    members
        .into_iter()
        .map(|p| NewFacts {
            member_id: &p.id,
            facts: &p.facts,
            as_of: p.as_of,
        })
        .collect()
}

/// Writes a batch of members in the caller's transaction. `report`: the batch's report rows
/// as computed on the reading thread, used when every member is new and every card stored.
async fn write_batch(
    c: &mut AnyConnection,
    batch: &[&Prepared],
    job: &str,
    now: i64,
    report: Option<NewRows>,
) -> Result<Written, sqlx::Error> {
    let ids: Vec<&str> = batch.iter().map(|p| p.id.as_str()).collect();
    // Who exists already.
    let mut existing: HashMap<String, (String, i64)> = HashMap::new();
    if !ids.is_empty() {
        let sql = format!(
            "SELECT id, status, joined_at FROM members WHERE id IN ({})",
            in_list(c, ids.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &ids {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *c).await? {
            existing.insert(r.get(0), (r.get(1), r.get(2)));
        }
    }
    // Their stored events, to compare.
    let mut stored: HashMap<String, Vec<String>> = HashMap::new();
    if !existing.is_empty() {
        let list: Vec<&String> = existing.keys().collect();
        let sql = format!(
            "SELECT member_id, body FROM events WHERE member_id IN ({}) ORDER BY member_id, seq",
            in_list(c, list.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &list {
            q = q.bind(id.as_str());
        }
        for r in q.fetch_all(&mut *c).await? {
            stored.entry(r.get(0)).or_default().push(r.get(1));
        }
    }
    let fresh: Vec<&Prepared> = batch
        .iter()
        .copied()
        .filter(|p| !existing.contains_key(&p.id))
        .collect();
    // Phones and cards the new members would take.
    let mut phone_owner: HashMap<String, String> = HashMap::new();
    let phones: Vec<&str> = fresh.iter().filter_map(|p| p.phone.as_deref()).collect();
    if !phones.is_empty() {
        let sql = format!(
            "SELECT phone, id FROM members WHERE phone IN ({})",
            in_list(c, phones.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in &phones {
            q = q.bind(*p);
        }
        for r in q.fetch_all(&mut *c).await? {
            phone_owner.insert(r.get(0), r.get(1));
        }
    }
    let mut card_owner: HashMap<String, Option<String>> = HashMap::new();
    let cards: Vec<&str> = fresh
        .iter()
        .flat_map(|p| p.cards.iter().map(String::as_str))
        .collect();
    if !cards.is_empty() {
        let sql = format!(
            "SELECT number, member_id FROM cards WHERE number IN ({})",
            in_list(c, cards.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for n in &cards {
            q = q.bind(*n);
        }
        for r in q.fetch_all(&mut *c).await? {
            card_owner.insert(r.get(0), r.get(1));
        }
    }
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut contact = Vec::new();
    let mut new_members: Vec<(&Prepared, Option<&str>)> = Vec::new();
    let mut new_cards: Vec<(&str, &str, &str)> = Vec::new();
    for p in batch {
        if let Some((status, joined)) = existing.get(&p.id) {
            let have = stored.get(&p.id).map(Vec::as_slice).unwrap_or_default();
            outcomes.push(compare(p, status, *joined, have));
            continue;
        }
        let phone = match p.phone.as_deref() {
            Some(ph) => match phone_owner.get(ph) {
                Some(other) => {
                    contact.push((
                        p.id.clone(),
                        format!("phone {ph} already belongs to member {other}: stored without it"),
                    ));
                    None
                }
                None => {
                    phone_owner.insert(ph.to_string(), p.id.clone());
                    Some(ph)
                }
            },
            None => None,
        };
        let mut n_cards = 0;
        for card in &p.cards {
            match card_owner.get(card) {
                Some(owner) => contact.push((
                    p.id.clone(),
                    match owner {
                        Some(o) => format!("card {card} already belongs to member {o}: not stored"),
                        None => format!("card {card} exists unbound on the server: not stored"),
                    },
                )),
                None => {
                    card_owner.insert(card.clone(), Some(p.id.clone()));
                    new_cards.push((card, &p.id, p.card_state));
                    n_cards += 1;
                }
            }
        }
        new_members.push((p, phone));
        outcomes.push(Outcome::Created {
            events: p.events.len() as u64,
            cards: n_cards,
        });
    }
    // Members, with their cached figures.
    let members = Table {
        name: "members",
        cols: storage::members::BULK_COLS,
        tail: "",
    };
    batch::insert(c, &members, &new_members, |&(p, phone), v| {
        v.text(Some(&p.id));
        v.text(Some(p.status));
        v.int(Some(p.joined_at));
        v.text(phone);
        v.text(p.name.as_deref());
        // Searched with diacritics ignored, as members made by the API are.
        v.text(
            p.name
                .as_deref()
                .map(crate::storage::cards::fold)
                .as_deref(),
        );
        v.int(Some(now));
        v.int(Some(0));
        v.int(Some(p.as_of));
        v.int(Some(p.available));
        v.int(Some(p.pending));
        v.text(Some(&p.tier));
        v.text(Some(p.cached_status));
        v.int(p.next_due);
    })
    .await?;
    let cards = Table {
        name: "cards",
        cols: storage::cards::BULK_COLS,
        tail: "",
    };
    batch::insert(c, &cards, &new_cards, |&(number, member, state), v| {
        v.text(Some(number));
        v.text(Some(member));
        v.text(Some(STANDARD));
        v.text(Some(state));
        v.int(Some(now));
    })
    .await?;
    let by = format!("import:{job}");
    let events = Table {
        name: "events",
        cols: storage::events::COLS,
        tail: "",
    };
    let rows: Vec<(&str, &Stored)> = new_members
        .iter()
        .flat_map(|(p, _)| p.events.iter().map(|e| (p.id.as_str(), e)))
        .collect();
    batch::insert(c, &events, rows, |(m, e), v| {
        v.text(Some(m));
        v.int(Some(e.seq));
        v.text(Some(&e.id));
        v.text(Some(e.kind.as_str()));
        v.int(Some(e.at));
        v.text(Some(&e.body));
        v.int(Some(now));
        v.text(Some(&by));
    })
    .await?;
    // The reports' rows of the new members (issue 15), their day sums added once per batch;
    // the facts were computed with the member, its cards are those just written.
    let cards_asked: usize = batch.iter().map(|p| p.cards.len()).sum();
    let report = match report {
        Some(r) if existing.is_empty() && new_cards.len() == cards_asked => r,
        _ => new_rows(c, &new_facts(new_members.iter().map(|(p, _)| *p))).await?,
    };
    let cells = report.write(c).await?;
    Ok(Written {
        outcomes,
        contact,
        cells,
    })
}

/// An existing member against the import: the same member (its stored history begins with
/// exactly the imported events) or a conflict saying where they differ.
fn compare(p: &Prepared, status: &str, joined: i64, have: &[String]) -> Outcome {
    if status != p.status || joined != p.joined_at {
        return Outcome::Conflict(format!(
            "member {} exists (status {status}, joined {}) and the import differs (status {}, joined {}): not changed",
            p.id,
            rfc3339(joined),
            p.status,
            rfc3339(p.joined_at)
        ));
    }
    for (i, e) in p.events.iter().enumerate() {
        match have.get(i) {
            Some(h) if same_body(h, &e.body) => {}
            Some(_) => {
                return Outcome::Conflict(format!(
                    "member {} exists and its event {} differs from the import's ({}): not changed",
                    p.id,
                    i + 1,
                    e.id
                ))
            }
            None => {
                return Outcome::Conflict(format!(
                    "member {} exists with {} of the import's {} events: not changed",
                    p.id,
                    have.len(),
                    p.events.len()
                ))
            }
        }
    }
    Outcome::Unchanged
}

/// The job's findings: conflicts and rejected members, NDJSON files in the working folder.
struct Findings {
    conflicts: BufWriter<File>,
    rejected: BufWriter<File>,
}

impl Findings {
    fn conflict(&mut self, member_id: &str, line: u64, reason: &str) -> Result<(), String> {
        let v = json!({ "member_id": member_id, "line": line, "reason": reason });
        writeln!(self.conflicts, "{v}").map_err(|e| e.to_string())
    }
    fn rejected(&mut self, member_id: Option<&str>, line: u64, reason: &str) -> Result<(), String> {
        let v = json!({ "member_id": member_id, "line": line, "reason": reason });
        writeln!(self.rejected, "{v}").map_err(|e| e.to_string())
    }
}

/// The job's figures as its batches are stored: counts, findings, cells.
struct Writer<'a> {
    counts: Counts,
    phase: &'static str,
    findings: Findings,
    /// The report cells of the batches committed so far, added when the job ends.
    cells: &'a mut Cells,
}

impl Writer<'_> {
    fn apply(w: &Written, k: &mut Counts) {
        for o in &w.outcomes {
            match o {
                Outcome::Created { events, cards } => {
                    k.members_created += 1;
                    k.events_written += events;
                    k.cards_written += cards;
                }
                Outcome::Unchanged => k.members_unchanged += 1,
                Outcome::Conflict(_) => {
                    k.members_conflicting += 1;
                    k.conflicts += 1;
                }
            }
        }
        k.conflicts += w.contact.len() as u64;
    }

    fn record(&mut self, batch: &[&Prepared], w: &Written) -> Result<(), String> {
        let lines: HashMap<&str, u64> = batch.iter().map(|p| (p.id.as_str(), p.line)).collect();
        for (p, o) in batch.iter().zip(&w.outcomes) {
            if let Outcome::Conflict(reason) = o {
                self.findings.conflict(&p.id, p.line, reason)?;
            }
        }
        for (id, reason) in &w.contact {
            let line = lines.get(id.as_str()).copied().unwrap_or_default();
            self.findings.conflict(id, line, reason)?;
        }
        Ok(())
    }

    /// Writes the job's counts whole (no batch is being stored).
    async fn save(&self, db: &Db, job: &str) -> Result<(), String> {
        let mut c = db.write.acquire().await.map_err(|e| e.to_string())?;
        save_counts(&mut c, job, self.phase, &self.counts, Saving::Whole)
            .await
            .map_err(|e| e.to_string())
    }

    /// Takes what [`store`] did into the job's counts, findings and cells (in the order the
    /// batches were read).
    fn stored(&mut self, mut d: BatchStored) -> Result<(), String> {
        // What is committed first: the cells and counts.
        self.counts.add(&d.counts);
        for (_, w) in &mut d.parts {
            cells::add(self.cells, std::mem::take(&mut w.cells));
        }
        for (range, w) in &d.parts {
            let refs: Vec<&Prepared> = d.members[range.clone()].iter().collect();
            self.record(&refs, w)?;
        }
        for (i, reason) in &d.rejected {
            let p = &d.members[*i];
            self.findings.rejected(Some(&p.id), p.line, reason)?;
        }
        d.failed.map_or(Ok(()), Err)
    }
}

/// What storing a batch did: its members, what each transaction wrote (the whole batch, or
/// one member at a time: the range of `members`), the members refused, the counts added to
/// the job's row, and the fault that stopped it (what was committed before it is still the
/// job's: its cells are added when the job ends).
struct BatchStored {
    members: Vec<Prepared>,
    parts: Vec<(std::ops::Range<usize>, Written)>,
    rejected: Vec<(usize, String)>,
    counts: Counts,
    failed: Option<String>,
}

/// Stores a batch in one transaction, which adds its counts (and `carried`, counts not saved
/// yet) to the job's; if that fails, a member at a time, so that the one that cannot be stored
/// is rejected alone. Batches of one job may be stored concurrently (PostgreSQL): whatever
/// they share — a member repeated in the next batch, a phone, a card — one waits for the
/// other's commit and fails, and its members are then stored one at a time.
async fn store(
    db: Db,
    job: String,
    phase: &'static str,
    ready: Box<Ready>,
    carried: Counts,
) -> Result<BatchStored, String> {
    let Ready {
        members,
        bytes_read,
        now,
        report,
    } = *ready;
    let refs: Vec<&Prepared> = members.iter().collect();
    let mut k = carried;
    k.bytes_read = k.bytes_read.max(bytes_read);
    k.members_read += members.len() as u64;
    let e = |e: sqlx::Error| e.to_string();
    let mut tx = db.begin_bulk().await.map_err(e)?;
    let whole = match write_batch(&mut tx, &refs, &job, now, report).await {
        Ok(w) => {
            let mut k = k;
            Writer::apply(&w, &mut k);
            match save_counts(&mut tx, &job, phase, &k, Saving::Added).await {
                Ok(()) => Some((w, k)),
                Err(_) => None,
            }
        }
        Err(_) => None,
    };
    match whole {
        // The failed transaction ends before the members are stored one at a time: it holds
        // SQLite's one writer connection, and on PostgreSQL the rows it wrote before failing,
        // which the members' own inserts would wait for.
        None => {
            let _ = tx.rollback().await;
        }
        Some((w, k)) => {
            if tx.commit().await.is_ok() {
                // The batch leaves the WAL (storage::Db::checkpoint_now says why).
                db.checkpoint_now().await;
                let n = members.len();
                return Ok(BatchStored {
                    members,
                    parts: vec![(0..n, w)],
                    rejected: Vec::new(),
                    counts: k,
                    failed: None,
                });
            }
        }
    }
    // One member at a time.
    let mut parts = Vec::new();
    let mut rejected = Vec::new();
    let mut failed = None;
    for (i, p) in refs.iter().enumerate() {
        let one = [*p];
        let mut tx = match db.begin_bulk().await {
            Ok(tx) => tx,
            Err(err) => {
                failed = Some(err.to_string());
                break;
            }
        };
        match write_batch(&mut tx, &one, &job, now, None).await {
            Ok(w) => {
                if let Err(err) = tx.commit().await {
                    failed = Some(err.to_string());
                    break;
                }
                Writer::apply(&w, &mut k);
                parts.push((i..i + 1, w));
            }
            Err(err) => {
                let _ = tx.rollback().await;
                k.members_rejected += 1;
                rejected.push((i, format!("the database refused the member: {err}")));
            }
        }
    }
    if failed.is_none() {
        let counted = match db.write.acquire().await {
            Ok(mut c) => save_counts(&mut c, &job, phase, &k, Saving::Added).await,
            Err(err) => Err(err),
        };
        failed = counted.err().map(|err| err.to_string());
    }
    drop(refs);
    Ok(BatchStored {
        members,
        parts,
        rejected,
        counts: k,
        failed,
    })
}

// ---- Running a job ----------------------------------------------------------------------

/// Loads the programme the members are replayed under.
async fn programme(db: &Db) -> Result<Programme, String> {
    let e = |e: sqlx::Error| e.to_string();
    let mut c = db.read.acquire().await.map_err(e)?;
    let versions = storage::policies::versions(&mut c).await.map_err(e)?;
    if versions.is_empty() {
        return Err(
            "the programme has no published policy: publish one before importing (POST /v1/policies, or `loyalty serve import --publish-policy`)"
                .into(),
        );
    }
    let mut engines = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        let engine = Engine::from_json(&v.document)
            .map_err(|e| format!("stored policy {} does not load: {}", v.digest, e.message))?;
        let at = if i == 0 {
            None
        } else {
            instant_ms(v.effective_at)
        };
        engines.push((at, engine));
    }
    let country = settings::get(&mut c, settings::COUNTRY).await.map_err(e)?;
    let notice_days = crate::ledger::notice_days(&versions).map_err(|e| e.body())?;
    let policies = crate::ledger::parsed(&versions)?;
    Ok(Programme {
        engines,
        stored: versions,
        policies,
        notice_days,
        country,
    })
}

/// Runs a recorded job to its end: `done` (with its report stored) or `failed` (with the
/// error). The working folder is removed either way.
pub async fn run(db: Db, clock: Clock, job: Job) -> Result<(), String> {
    let mut cells = Cells::new();
    let r = run_inner(&db, &clock, &job, &mut cells).await;
    if let Err(err) = &r {
        // The committed batches' cells are added with the failure (if that fails too, the
        // marker stays and the next start counts the cells again: reports::deferred).
        let failed = async {
            let mut tx = db.begin().await?;
            deferred::close(&mut tx, &job.id, &cells).await?;
            sqlx::query(FAILED)
                .bind(&job.id)
                .bind(err)
                .bind(clock.now_ms())
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        };
        if let Err(e) = failed.await {
            tracing::warn!(job = %job.id, error = %e, "the failed import's report cells wait for the next start");
            let _ = sqlx::query(FAILED)
                .bind(&job.id)
                .bind(err)
                .bind(clock.now_ms())
                .execute(&db.write)
                .await;
        }
        // The report rows' indexes it dropped (if building them fails too, the next start
        // builds them: reports::indexes).
        if let Err(e) = indexes::build_for(&db, &job.id, clock.now_ms()).await {
            tracing::warn!(job = %job.id, error = %e, "the failed import's report indexes wait for the next start");
        }
        tracing::warn!(job = %job.id, error = %err, "import failed");
    }
    let _ = std::fs::remove_dir_all(&job.work_dir);
    r
}

/// Batches of a job stored at the same time on PostgreSQL.
const PG_WRITERS: usize = 2;

/// Waits for the oldest batches being stored until at most `keep` are left, and takes each
/// into the job's figures.
async fn drain(
    storing: &mut VecDeque<tokio::task::JoinHandle<Result<BatchStored, String>>>,
    w: &mut Writer<'_>,
    keep: usize,
) -> Result<(), String> {
    let mut first_err = None;
    while storing.len() > keep {
        let Some(h) = storing.pop_front() else { break };
        let r = h
            .await
            .map_err(|e| format!("storing a batch failed: {e}"))
            .and_then(|r| r)
            .and_then(|d| w.stored(d));
        if let Err(err) = r {
            first_err.get_or_insert(err);
        }
    }
    first_err.map_or(Ok(()), Err)
}

const FAILED: &str = "UPDATE imports SET state = 'failed', phase = 'failed', error = $2, \
                      finished_at = $3 WHERE id = $1";

/// Aborts a task when dropped (the job's heartbeat, whichever way the job ends).
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn run_inner(db: &Db, clock: &Clock, job: &Job, cells: &mut Cells) -> Result<(), String> {
    let e = |e: sqlx::Error| e.to_string();
    std::fs::create_dir_all(&job.work_dir)
        .map_err(|e| format!("cannot create {}: {e}", job.work_dir.display()))?;
    // The report tables must be built before the job adds its members' rows to them: a
    // database that `loyalty serve import` makes (no server has started on it) is marked
    // built here while it is empty — otherwise the first server start would throw the
    // imported rows away and recompute them all (at 1,000,000 members, minutes before it
    // listens). On a server this is one SELECT.
    crate::reports::store::ensure_built(db, clock.now_ms()).await?;
    let prog = programme(db).await?;
    let phase = match job.source {
        Source::Exports { .. } => "reading",
        Source::Ndjson { .. } => "storing",
    };
    sqlx::query(
        "UPDATE imports SET state = 'running', phase = $2, started_at = $3, heartbeat_at = $4 WHERE id = $1",
    )
    .bind(&job.id)
    .bind(phase)
    .bind(clock.now_ms())
    .bind(wall_ms())
    .execute(&db.write)
    .await
    .map_err(e)?;
    // From here the job's cells are added at its end (reports::deferred).
    deferred::open(db, &job.id).await.map_err(e)?;
    let file = |name: &str| {
        File::create(job.work_dir.join(name))
            .map(|f| BufWriter::with_capacity(1 << 16, f))
            .map_err(|e| format!("cannot write {name}: {e}"))
    };
    let mut w = Writer {
        counts: Counts::default(),
        phase,
        findings: Findings {
            conflicts: file("conflicts.ndjson")?,
            rejected: file("rejected.ndjson")?,
        },
        cells,
    };
    // A heartbeat while the engine reads (no batch says the job is alive then) and until the
    // job ends: a job without a fresh one is taken for stopped (its cells counted again).
    let _beat = {
        let db = db.clone();
        let id = job.id.clone();
        let beat = tokio::spawn(async move {
            let mut t = tokio::time::interval(std::time::Duration::from_secs(10));
            loop {
                t.tick().await;
                let _ = sqlx::query(
                    "UPDATE imports SET heartbeat_at = $2 WHERE id = $1 AND state = 'running'",
                )
                .bind(&id)
                .bind(wall_ms())
                .execute(&db.write)
                .await;
            }
        });
        AbortOnDrop(beat.abort_handle())
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(QUEUED_BATCHES);
    let sqlite = db.kind == storage::Kind::Sqlite;
    let engine_report = job.work_dir.join("engine-report.json");
    let producer = {
        let clock = clock.clone();
        let engine_report = engine_report.clone();
        // The job's description moves into the thread for its lifetime; the producer only
        // reads it.
        let source = match &job.source {
            Source::Exports { mapping, files } => Source::Exports {
                mapping: mapping.clone(),
                files: files.clone(),
            },
            Source::Ndjson { file } => Source::Ndjson { file: file.clone() },
        };
        let j = Job {
            id: job.id.clone(),
            source,
            work_dir: job.work_dir.clone(),
            memory_budget: job.memory_budget,
        };
        tokio::task::spawn_blocking(move || produce(prog, sqlite, clock, &j, tx, &engine_report))
    };
    let mut failure: Option<String> = None;
    // Whether the job dropped the report rows' secondary indexes (reports::indexes).
    let mut indexed_at_end = false;
    // Batches being stored, oldest first: two at a time on PostgreSQL, whose writes then use
    // both cores (docs/migration.md); one on SQLite, which has one writer.
    let writers = if sqlite { 1 } else { PG_WRITERS };
    let mut storing: VecDeque<tokio::task::JoinHandle<Result<BatchStored, String>>> =
        VecDeque::new();
    // Rejections since the last batch, whose transaction adds them to the job's row.
    let mut unsaved = Counts::default();
    while let Some(m) = rx.recv().await {
        let r = match m {
            Msg::Expected(n) => {
                // Written whole: after the batches being stored have added theirs.
                async {
                    drain(&mut storing, &mut w, 0).await?;
                    // A large import builds the report rows' secondary indexes at its end.
                    let mut c = db.read.acquire().await.map_err(e)?;
                    if indexes::worth_it(&mut c, n).await.map_err(e)? {
                        drop(c);
                        indexes::drop_for(db, &job.id, clock.now_ms())
                            .await
                            .map_err(e)?;
                        indexed_at_end = true;
                    }
                    w.counts.members_expected = Some(n);
                    w.phase = "storing";
                    w.save(db, &job.id).await
                }
                .await
            }
            Msg::Batch(ready) => drain(&mut storing, &mut w, writers - 1).await.map(|()| {
                let carried = std::mem::take(&mut unsaved);
                storing.push_back(tokio::spawn(store(
                    db.clone(),
                    job.id.clone(),
                    w.phase,
                    ready,
                    carried,
                )));
            }),
            Msg::Rejected {
                member_id,
                line,
                reason,
            } => {
                unsaved.members_read += 1;
                unsaved.members_rejected += 1;
                w.findings.rejected(member_id.as_deref(), line, &reason)
            }
        };
        if let Err(err) = r {
            failure = Some(err);
            break;
        }
    }
    // The batches still being stored end (their cells are the job's even when it fails).
    if let Err(err) = drain(&mut storing, &mut w, 0).await {
        failure.get_or_insert(err);
    }
    w.counts.add(&unsaved);
    drop(rx);
    let produced = producer
        .await
        .map_err(|e| format!("the import thread failed: {e}"))?;
    if let Some(f) = failure {
        return Err(f);
    }
    let summary = produced?;
    if indexed_at_end {
        w.phase = "indexing";
        w.save(db, &job.id).await?;
        indexes::build_for(db, &job.id, clock.now_ms())
            .await
            .map_err(e)?;
    }
    // The final counts (rejections since the last batch included).
    w.phase = "reporting";
    w.save(db, &job.id).await?;
    let Findings {
        mut conflicts,
        mut rejected,
    } = w.findings;
    conflicts.flush().map_err(|e| e.to_string())?;
    rejected.flush().map_err(|e| e.to_string())?;
    drop((conflicts, rejected));
    // The report: the job's status, its conflicts and rejections, the engine's report.
    let status_now = {
        let mut c = db.read.acquire().await.map_err(e)?;
        let mut s = status(&mut c, &job.id)
            .await
            .map_err(e)?
            .unwrap_or(Value::Null);
        if let Some(o) = s.as_object_mut() {
            o.insert("state".into(), json!("done"));
            o.insert("phase".into(), json!("done"));
            o.insert("summary".into(), summary.clone().unwrap_or(Value::Null));
            o.insert(
                "report".into(),
                json!(format!("/v1/imports/{}/report", job.id)),
            );
        }
        s
    };
    let report_path = job.work_dir.join("report.json");
    {
        let mut out = BufWriter::with_capacity(
            1 << 16,
            File::create(&report_path).map_err(|e| e.to_string())?,
        );
        let io = |e: std::io::Error| e.to_string();
        write!(out, "{{\"import\":{status_now},\"conflicts\":[").map_err(io)?;
        copy_lines(&job.work_dir.join("conflicts.ndjson"), &mut out)?;
        out.write_all(b"],\"rejected\":[").map_err(io)?;
        copy_lines(&job.work_dir.join("rejected.ndjson"), &mut out)?;
        out.write_all(b"],\"report\":").map_err(io)?;
        if summary.is_some() {
            let mut f = File::open(&engine_report).map_err(io)?;
            std::io::copy(&mut f, &mut out).map_err(io)?;
        } else {
            out.write_all(b"null").map_err(io)?;
        }
        out.write_all(b"}\n").map_err(io)?;
        out.flush().map_err(io)?;
    }
    store_report(db, &job.id, &report_path).await?;
    let now = clock.now_ms();
    let mut tx = db.begin().await.map_err(e)?;
    sqlx::query(
        "UPDATE imports SET state = 'done', phase = 'done', finished_at = $2, summary = $3, heartbeat_at = $4 WHERE id = $1",
    )
    .bind(&job.id)
    .bind(now)
    .bind(summary.map(|s| s.to_string()))
    .bind(wall_ms())
    .execute(&mut *tx)
    .await
    .map_err(e)?;
    deferred::close(&mut tx, &job.id, w.cells)
        .await
        .map_err(e)?;
    let k = &w.counts;
    storage::audit(
        &mut tx,
        now,
        &format!("import:{}", job.id),
        "import.done",
        &job.id,
        &json!({ "members_created": k.members_created, "members_unchanged": k.members_unchanged,
                 "members_conflicting": k.members_conflicting, "members_rejected": k.members_rejected,
                 "events_written": k.events_written }),
    )
    .await
    .map_err(e)?;
    tx.commit().await.map_err(e)?;
    Ok(())
}

/// The lines of an NDJSON file as the elements of a JSON array (comma-separated).
fn copy_lines(path: &Path, out: &mut dyn Write) -> Result<(), String> {
    let f = File::open(path).map_err(|e| e.to_string())?;
    let mut first = true;
    for line in BufReader::new(f).lines() {
        let line = line.map_err(|e| e.to_string())?;
        if line.is_empty() {
            continue;
        }
        if !first {
            out.write_all(b",").map_err(|e| e.to_string())?;
        }
        first = false;
        out.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Stores a report file in chunks of at most 1 MiB of text (cut at character boundaries).
async fn store_report(db: &Db, id: &str, path: &Path) -> Result<(), String> {
    let e = |e: sqlx::Error| e.to_string();
    let mut f = File::open(path).map_err(|e| e.to_string())?;
    let mut carry: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; CHUNK_BYTES];
    let mut n = 0i64;
    let mut tx = db.begin().await.map_err(e)?;
    sqlx::query("DELETE FROM import_reports WHERE import_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(e)?;
    loop {
        let want = CHUNK_BYTES - carry.len();
        let got = f.read(&mut buf[..want]).map_err(|e| e.to_string())?;
        if got == 0 && carry.is_empty() {
            break;
        }
        carry.extend_from_slice(&buf[..got]);
        // Cut before an incomplete UTF-8 sequence at the end (unless the file ended).
        let cut = if got == 0 {
            carry.len()
        } else {
            let mut k = carry.len();
            while k > 0 && carry.len() - k < 4 && (carry[k - 1] & 0xC0) == 0x80 {
                k -= 1;
            }
            if k > 0 && carry[k - 1] >= 0xC0 {
                k - 1
            } else {
                carry.len()
            }
        };
        let rest = carry.split_off(cut);
        let text = String::from_utf8(std::mem::replace(&mut carry, rest))
            .map_err(|_| "the report is not UTF-8".to_string())?;
        if !text.is_empty() {
            sqlx::query("INSERT INTO import_reports (import_id, n, chunk) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(n)
                .bind(text)
                .execute(&mut *tx)
                .await
                .map_err(e)?;
            n += 1;
            if n % 16 == 0 {
                tx.commit().await.map_err(e)?;
                tx = db.begin().await.map_err(e)?;
            }
        }
        if got == 0 {
            break;
        }
    }
    tx.commit().await.map_err(e)?;
    Ok(())
}

/// `loyalty serve import --publish-policy`: publishes a policy into a programme that has none
/// (a fresh server the import starts), from the beginning; a programme with the same policy
/// is left as it is, one with another is an error (changes go through `POST /v1/policies`).
pub async fn publish_first_policy(
    db: &Db,
    document: &str,
    now: i64,
    actor: &str,
) -> Result<String, String> {
    let e = |e: sqlx::Error| e.to_string();
    let validated = loyalty_engine::api::validate_json(document);
    let v: Value = serde_json::from_str(&validated).map_err(|e| e.to_string())?;
    let Some(digest) = v.get("policy_digest").and_then(Value::as_str) else {
        return Err(format!("the policy does not validate: {validated}"));
    };
    let mut tx = db.begin().await.map_err(e)?;
    let versions = storage::policies::versions(&mut tx).await.map_err(e)?;
    if let Some(last) = versions.last() {
        tx.rollback().await.map_err(e)?;
        if last.digest == digest {
            return Ok(digest.to_string());
        }
        return Err(format!(
            "the programme already publishes {}; publish policy changes through POST /v1/policies",
            last.digest
        ));
    }
    storage::policies::insert(&mut tx, digest, document, now, actor)
        .await
        .map_err(e)?;
    storage::policies::publish(&mut tx, digest, now, now, actor)
        .await
        .map_err(e)?;
    storage::audit(
        &mut tx,
        now,
        actor,
        "policy.publish",
        digest,
        &json!({ "effective_at": rfc3339(now) }),
    )
    .await
    .map_err(e)?;
    tx.commit().await.map_err(e)?;
    Ok(digest.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn compact_keeps_strings() {
        assert_eq!(
            super::compact("{ \"a\" : \"x y\\\" z\" ,\n \"b\": [1, 2] }"),
            "{\"a\":\"x y\\\" z\",\"b\":[1,2]}"
        );
    }
}
