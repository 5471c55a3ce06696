//! Replayed states kept between reads: a member's state after its last stored event, advanced
//! to now at each read of `GET /v1/members/{id}` (and its progress, history, lookup and export)
//! instead of reading every event and replaying the whole history again.
//!
//! Why it is exact: the engine's replay is "events in time order, then what happens on its own
//! up to `as_of`" (`loyalty_engine::ledger::run`); the state after the last event, advanced to
//! any later instant, is what a whole replay as of that instant gives
//! (`ledger::run_events` + `Replayed::advance_to`, checked on every vector by the engine's
//! `split_replay_answers_as_a_whole_replay_on_every_vector`). A read as of now is never before
//! the last event (`ledger::as_of`), and a state is used only at or after its own instant (a
//! clock moved back, or a state advanced by a read "later" than this one, replays in full); a
//! history the engine refuses is never kept.
//!
//! Why it is never stale: a state is kept with what its request was made of — the member's
//! `status` and `joined_at`, its last `seq` (events are only appended, each with the member's
//! next `seq`: no path updates or deletes one, and an import never rewrites a member that
//! exists), and the published versions (`effective_at@digest` of each; versions are only added, and a
//! digest names one document). Each read asks the database for those in one statement
//! ([`storage::members::get_with_ledger_key`]) and uses the state only when they are equal, so
//! several server processes on one PostgreSQL each keep their own states and see each other's
//! writes. A miss reads as before and keeps the new state under the key of what it read.
//!
//! Bounded: `quick_cache` (S3-FIFO eviction) weighs each state by its events (+1); the bound is
//! `--read-cache-events` (default [`DEFAULT_EVENTS`], 0: off).
//!
//! Ownership: the engine's state borrows the policy versions and the request's strings
//! (`Replayed<'p, 'a>`). Each kept state owns both — the versions parsed once per process
//! (`Arc<PolicyVersions>`) and the parsed request — through `self_cell` (a dependent borrowing
//! its owner, without unsafe code here); the engine stays borrowed, as its simulations need.

use crate::app::App;
use crate::http::ApiError;
use crate::ledger;
use crate::storage::members::{LedgerKey, Member};
use crate::storage::{self, policies::Version};
use loyalty_engine::ledger::{
    PolicyVersions, ReplayRequest, Replayed, Version as Policy, Versions,
};
use loyalty_engine::time::Instant;
use quick_cache::sync::Cache;
use quick_cache::{OptionsBuilder, Weighter};
use self_cell::self_cell;
use sqlx::AnyConnection;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Events held by default: ≈ 340 MB of resident memory at the ≈ 3.4 KB per event held measured
/// on the demo programme (its 2,001 members, 37,000 events: +125 MB; docs/server.md "Read
/// cache"). The longest history a replay takes (10,000 events) fits.
pub const DEFAULT_EVENTS: u64 = 100_000;

/// What a read answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Replay,
    Progress,
}

type PolicyList<'a> = Vec<Policy<'a>>;

self_cell!(
    /// Published versions parsed once, with the list a replay borrows.
    struct ParsedVersions {
        owner: Arc<PolicyVersions>,
        #[covariant]
        dependent: PolicyList,
    }
);

/// What a kept state borrows: the versions and the request it was replayed from.
struct Owner {
    versions: ParsedVersions,
    request: ReplayRequest,
}

type Held<'a> = Replayed<'a, 'a>;

self_cell!(
    /// A member's replayed state with what it borrows.
    struct HeldState {
        owner: Owner,
        #[not_covariant]
        dependent: Held,
    }
);

/// One kept state.
pub struct Entry {
    key: LedgerKey,
    /// The latest `at` of the events: a read is as of now or this, whichever is later.
    last_at: i64,
    /// The member's status after its events (`ledger::status_now`).
    status_now: String,
    state: Mutex<Kept>,
    weight: u64,
}

/// The state, and its history rows as the replay answer writes them (rows are only ever
/// appended, and how a row is written does not depend on the instant or on the version in
/// force — versions share the time zone and level ids, SPEC §3.1 — so each is written once).
struct Kept {
    held: HeldState,
    /// `row,row,…` of the first `rows` history rows.
    history: String,
    rows: usize,
}

/// The answer's history as the engine writes an empty one: `"history"` (a key, not in a string:
/// a quote inside a JSON string is always escaped) between `totals`/`snapshot` and `notices`.
const EMPTY_HISTORY: &str = ",\"history\":[],\"notices\":";

impl Entry {
    /// The answer as of `as_of` (epoch ms), the state advanced there; None when the state is
    /// past it or the engine finds a fault on the way (the caller replays in full, and drops
    /// the entry: a failed advance may have left it half-way).
    fn answer(&self, op: Op, as_of: i64) -> Option<String> {
        let t = instant(as_of)?;
        let mut kept = self.state.lock().ok()?;
        let Kept {
            held,
            history,
            rows,
        } = &mut *kept;
        held.with_dependent_mut(|_, r| {
            if t < r.state.clock {
                return None;
            }
            r.advance_to(t).ok()?;
            let out = match op {
                Op::Progress => r.progress_json(),
                Op::Replay => {
                    let policy = r.state.policy;
                    for row in r.state.history.get(*rows..)? {
                        if *rows > 0 {
                            history.push(',');
                        }
                        history.push_str(&serde_json::to_string(&row.write(policy)).ok()?);
                        *rows += 1;
                    }
                    // The answer without its history rows, which are then put in.
                    let all = std::mem::take(&mut r.state.history);
                    let out = r.replay_json();
                    r.state.history = all;
                    let at = out.rfind(EMPTY_HISTORY)?;
                    let rest = out.get(at + EMPTY_HISTORY.len()..)?;
                    let mut s = String::with_capacity(out.len() + history.len() + 2);
                    s.push_str(out.get(..at)?);
                    s.push_str(",\"history\":[");
                    s.push_str(history);
                    s.push_str("],\"notices\":");
                    s.push_str(rest);
                    s
                }
            };
            (!out.starts_with("{\"error\":")).then_some(out)
        })
    }
}

/// Epoch milliseconds as the engine's instant.
fn instant(ms: i64) -> Option<Instant> {
    let nanos = u32::try_from(ms.rem_euclid(1000) * 1_000_000).ok()?;
    Instant::from_unix(ms.div_euclid(1000), nanos).ok()
}

#[derive(Clone)]
struct ByEvents;

impl Weighter<String, Arc<Entry>> for ByEvents {
    fn weight(&self, _: &String, e: &Arc<Entry>) -> u64 {
        e.weight
    }
}

/// The kept states by member id (per process).
pub struct ReadCache {
    cache: Option<Cache<String, Arc<Entry>, ByEvents>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ReadCache {
    /// Holds at most `events` events (0: keeps nothing).
    pub fn new(events: u64) -> ReadCache {
        let cache = (events > 0).then(|| {
            // The demo's members hold ≈ 25 events each.
            let items = usize::try_from(events / 25)
                .unwrap_or(usize::MAX)
                .clamp(16, 1 << 20);
            // Each shard bounds its own share, and a state heavier than (nearly) a share is not
            // kept: shards of at least 64 Ki events hold the longest history a replay takes
            // (10,000 events), up to 8 shards for the threads of the server.
            let shards = usize::try_from(events / 65_536).unwrap_or(8).clamp(1, 8);
            let options = OptionsBuilder::new()
                .estimated_items_capacity(items)
                .weight_capacity(events)
                .shards(shards)
                .build();
            match options {
                Ok(o) => Cache::with_options(o, ByEvents, Default::default(), Default::default()),
                Err(_) => Cache::with_weighter(items, events, ByEvents),
            }
        });
        ReadCache {
            cache,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Reads answered from a kept state, and reads that replayed in full, since start
    /// (also the metrics `loyalty_read_cache_hits_total`, `loyalty_read_cache_misses_total`).
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Events held now (all kept states).
    pub fn events(&self) -> u64 {
        self.cache.as_ref().map_or(0, |c| c.weight())
    }

    fn get(&self, id: &str) -> Option<Arc<Entry>> {
        self.cache.as_ref()?.get(id)
    }

    fn put(&self, id: &str, e: Arc<Entry>) {
        if let Some(c) = &self.cache {
            c.insert(id.to_string(), e);
        }
    }

    fn drop_entry(&self, id: &str) {
        if let Some(c) = &self.cache {
            c.remove(id);
        }
    }
}

/// A member read as of now.
pub struct Read {
    /// The member row.
    pub member: Member,
    /// The engine's answer (replay or progress) as of now.
    pub answer: String,
    /// The member's status after its events.
    pub status_now: String,
}

/// The member's replay (or progress) as of now, from its kept state when the database says
/// nothing it was made of has changed; else read and replayed, and kept. The answer is the
/// bytes `ledger::answer` gives for the member's stored events as of now.
pub async fn replay_now(
    app: &App,
    c: &mut AnyConnection,
    id: &str,
    op: Op,
) -> Result<Read, ApiError> {
    let Some((member, key)) = storage::members::get_with_ledger_key(c, id).await? else {
        return Err(ApiError::not_found("id", format!("no member {id}")));
    };
    let now = app.clock.now_ms();
    if let Some(e) = app.read_cache.get(id).filter(|e| e.key == key) {
        match e.answer(op, now.max(e.last_at)) {
            Some(answer) => {
                app.read_cache.hits.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("loyalty_read_cache_hits_total").increment(1);
                return Ok(Read {
                    member,
                    answer,
                    status_now: e.status_now.clone(),
                });
            }
            None => app.read_cache.drop_entry(id),
        }
    }
    app.read_cache.misses.fetch_add(1, Ordering::Relaxed);
    metrics::counter!("loyalty_read_cache_misses_total").increment(1);
    let Some(l) = ledger::load(c, id).await? else {
        return Err(ApiError::not_found("id", format!("no member {id}")));
    };
    let as_of = ledger::as_of(now, &l.events);
    let status_now = ledger::status_now(&l.member, &l.events);
    let kept = keep(&l.versions, &l.member, &l.events, as_of, status_now.clone());
    let answer = match kept.as_ref().and_then(|e| e.answer(op, as_of)) {
        Some(answer) => {
            if let Some(e) = kept {
                app.read_cache.put(id, e);
            }
            answer
        }
        // A history the engine refuses (or versions that do not load): the whole replay's
        // answer, its error line included.
        None => {
            let op = match op {
                Op::Replay => "replay",
                Op::Progress => "progress",
            };
            ledger::answer(op, &l.versions, &l.member, &l.events, None, as_of)
        }
    };
    if answer.starts_with("{\"error\":") {
        return Err(ApiError::internal(format!(
            "stored history of {id} does not replay: {answer}"
        )));
    }
    Ok(Read {
        member: l.member,
        answer,
        status_now,
    })
}

/// The member's state after its events, ready to keep (None: the engine refuses the history).
fn keep(
    versions: &[Version],
    member: &Member,
    events: &[storage::events::Stored],
    as_of: i64,
    status_now: String,
) -> Option<Arc<Entry>> {
    let parsed = ledger::parsed(versions).ok()?;
    let request =
        ReplayRequest::from_json(&ledger::request_body(member, events, None, as_of)).ok()?;
    let owner = Owner {
        versions: ParsedVersions::new(parsed, |p| p.versions()),
        request,
    };
    let state = HeldState::try_new(owner, |o| {
        let versions = Versions::many(o.versions.borrow_dependent()).ok_or(())?;
        loyalty_engine::ledger::run_events(versions, &o.request)
            .map(|(r, _)| r)
            .map_err(|_| ())
    })
    .ok()?;
    Some(Arc::new(Entry {
        key: LedgerKey::of(member, events, versions),
        last_at: events.iter().map(|e| e.at).max().unwrap_or(i64::MIN),
        status_now,
        state: Mutex::new(Kept {
            held: state,
            history: String::new(),
            rows: 0,
        }),
        weight: events.len() as u64 + 1,
    }))
}
