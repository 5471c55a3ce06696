//! `loyalty simulate` and `loyalty generate` (SPEC §5, issue 4).
//!
//! `simulate` streams an NDJSON file of members (`{"member":{…},"events":[…]}` a line): a
//! reader thread cuts it into chunks of lines, each chunk's runs of members are replayed on a
//! rayon pool into partial sums, and the partial sums are merged — integer sums, so the parallel
//! run gives exactly the single-threaded answer (rejections are put back in line order in the
//! report). Memory holds at most a few chunks of lines, whatever the file's size.

use crate::chunks::{Chunk, Chunker};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use loyalty_engine::generate::{member_line, GenerateOptions, Plan};
use loyalty_engine::simulate::{Partial, Rejected, Setup, Simulator};
use loyalty_engine::{limits, Error};
use rayon::prelude::*;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};

/// Lines per chunk handed to the thread pool.
const CHUNK_LINES: usize = 2048;

/// Members per piece of work on the pool: long enough that spawning costs nothing, short
/// enough that workers finish together.
const RUN_LINES: usize = 256;

/// Chunk buffers in all (reading, waiting, being replayed): the bound on memory.
const MAX_CHUNKS: usize = 4;

/// Partial sums over some runs, kept for the whole simulation.
struct Slot {
    part: Partial,
    /// Member lines added to `part`.
    members: u64,
}

#[derive(Args)]
pub struct SimulateArgs {
    /// The draft policy (JSON file).
    #[arg(long)]
    policy: PathBuf,
    /// The policy to compare with (JSON file): adds `diff` to the report.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Member histories, one `{"member":{…},"events":[…]}` per line (`-` for stdin).
    #[arg(long)]
    members: PathBuf,
    /// Replay up to this instant (RFC 3339); default: now.
    #[arg(long)]
    as_of: Option<String>,
    /// Share of outstanding points expected to be redeemed, e.g. 0.7 (default 1).
    #[arg(long)]
    expected_redemption: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// How many members.
    #[arg(long)]
    members: u64,
    /// Any integer; the same seed writes the same histories (natively and in Wasm).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Months of history before `--as-of`.
    #[arg(long, default_value_t = 12)]
    months: u32,
    /// `vn-fashion` (VND baskets) or `sk-grocery` (EUR baskets).
    #[arg(long)]
    profile: String,
    /// End of the histories (RFC 3339); default 2026-10-01T00:00 in the profile's zone.
    #[arg(long)]
    as_of: Option<String>,
    /// Worker threads (default: all cores); the output does not depend on it.
    #[arg(long)]
    threads: Option<usize>,
}

fn read_text(path: &Path, what: &str) -> Result<String, ExitCode> {
    std::fs::read_to_string(path).map_err(|e| {
        eprintln!("loyalty: cannot read the {what} {}: {e}", path.display());
        ExitCode::from(2)
    })
}

fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, ExitCode> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(n.max(1));
    }
    b.build().map_err(|e| {
        eprintln!("loyalty: cannot start worker threads: {e}");
        ExitCode::from(2)
    })
}

/// The current time as RFC 3339 UTC (the default `--as-of`).
fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    loyalty_engine::time::Instant::from_unix(secs, 0)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00+00:00".into())
}

pub fn simulate(a: SimulateArgs) -> ExitCode {
    match run_simulate(a) {
        Ok(code) | Err(code) => code,
    }
}

fn run_simulate(a: SimulateArgs) -> Result<ExitCode, ExitCode> {
    let policy = read_text(&a.policy, "policy")?;
    let baseline = a
        .baseline
        .as_deref()
        .map(|p| read_text(p, "baseline"))
        .transpose()?;
    let as_of = a.as_of.clone().unwrap_or_else(|| {
        let t = now();
        eprintln!("loyalty simulate: --as-of not given, replaying up to now ({t})");
        t
    });
    let setup = match Setup::from_parts(
        &policy,
        baseline.as_deref(),
        &as_of,
        a.expected_redemption.as_deref(),
    ) {
        Ok(s) => s,
        Err(e) => {
            println!("{}", e.to_json());
            return Err(ExitCode::from(1));
        }
    };
    let (input, size): (Box<dyn Read + Send>, Option<u64>) = if a.members.as_os_str() == "-" {
        (Box::new(io::stdin()), None)
    } else {
        let f = File::open(&a.members).map_err(|e| {
            eprintln!("loyalty: cannot read {}: {e}", a.members.display());
            ExitCode::from(2)
        })?;
        let size = f.metadata().ok().map(|m| m.len());
        (Box::new(f), size)
    };
    let pool = pool(a.threads)?;
    let bar = progress_bar(size);

    // Reader thread: chunks of lines, at most two waiting. Used chunks come back to be
    // refilled (fresh buffers would cost a page fault per 4 KB); at most MAX_CHUNKS exist, so
    // memory stays bounded whatever the file's size.
    let (tx, rx) = sync_channel::<io::Result<Chunk>>(2);
    let (recycle_tx, recycle_rx) = std::sync::mpsc::channel::<Chunk>();
    let reader = std::thread::spawn(move || {
        let mut chunker = Chunker::new(input);
        let mut made = 0;
        loop {
            let mut chunk = match recycle_rx.try_recv() {
                Ok(c) => c,
                Err(_) if made < MAX_CHUNKS => {
                    made += 1;
                    Chunk::new()
                }
                Err(_) => match recycle_rx.recv() {
                    Ok(c) => c,
                    Err(_) => return,
                },
            };
            match chunker.fill(&mut chunk, CHUNK_LINES) {
                Ok(true) => {
                    if tx.send(Ok(chunk)).is_err() {
                        return;
                    }
                }
                Ok(false) => return,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
    });

    let mut sim = Simulator::new(setup);
    // Each chunk is cut into runs of RUN_LINES members, spawned on the pool as they arrive: no
    // barrier between chunks (a worker that finishes early takes the next chunk's runs). A run
    // adds its members to a partial sum taken from `free` and gives it back; the partials are
    // merged at the end. Sums merge in any order, so the answer is the single-threaded one.
    let free: Mutex<Vec<Slot>> = Mutex::new(Vec::new());
    let shown = AtomicU64::new(0);
    let mut members: u64 = 0;
    let setup = sim.setup();
    let read_error = pool.in_place_scope(|scope| {
        for msg in rx {
            let chunk = match msg {
                Ok(c) => Arc::new(c),
                Err(e) => return Some(e),
            };
            members += chunk.lines.len() as u64;
            bar.inc(chunk.bytes);
            bar.set_message(format!("{members} members"));
            for run in 0..chunk.lines.len().div_ceil(RUN_LINES) {
                let chunk = Arc::clone(&chunk);
                let (free, shown, bar, recycle_tx) = (&free, &shown, &bar, recycle_tx.clone());
                scope.spawn(move |_| {
                    let taken = free.lock().ok().and_then(|mut f| f.pop());
                    let mut slot = taken.unwrap_or_else(|| Slot {
                        part: setup.partial(),
                        members: 0,
                    });
                    let lines = chunk
                        .lines
                        .get(run * RUN_LINES..)
                        .unwrap_or_default()
                        .iter()
                        .take(RUN_LINES);
                    let before = slot.part.rejected.len();
                    for &(i, from, to) in lines.clone() {
                        add_line(setup, &mut slot.part, i, chunk.line(from, to));
                    }
                    slot.members += lines.len() as u64;
                    report_rejected(bar, slot.part.rejected.get(before..), shown);
                    if let Ok(mut f) = free.lock() {
                        f.push(slot);
                    }
                    give_back(chunk, &recycle_tx);
                });
            }
            give_back(chunk, &recycle_tx);
        }
        None
    });
    if let Some(e) = read_error {
        bar.finish_and_clear();
        eprintln!("loyalty: cannot read {}: {e}", a.members.display());
        return Err(ExitCode::from(2));
    }
    let slots = free.into_inner().unwrap_or_default();
    let rejected: u64 = slots.iter().map(|s| s.part.rejected.len() as u64).sum();
    for slot in slots {
        sim.merge(slot.part, slot.members);
    }
    let _ = reader.join();
    bar.finish_and_clear();
    if rejected > 0 {
        eprintln!("loyalty simulate: {rejected} of {members} members rejected (listed in the report's rejected)");
    }
    let out = match sim.finish() {
        Ok(r) => serde_json::to_string(&r).unwrap_or_default(),
        Err(e) => e.to_json(),
    };
    let failed = out.starts_with("{\"error\":");
    println!("{out}");
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn add_line(setup: &Setup, acc: &mut Partial, index: u64, line: &[u8]) {
    if line.len() > limits::MAX_LINE_BYTES {
        let e = Error::new(
            loyalty_engine::ErrorCode::LimitExceeded,
            format!("members[{index}]"),
            format!(
                "the member line is longer than {} bytes",
                limits::MAX_LINE_BYTES
            ),
        );
        return acc.reject(index, None, e);
    }
    match std::str::from_utf8(line) {
        Ok(text) => setup.add_member_json(acc, index, text),
        Err(_) => acc.reject(
            index,
            None,
            Error::invalid_request(format!("members[{index}]"), "the line is not valid UTF-8"),
        ),
    }
}

/// Rejections written to stderr one by one; the rest are only counted (all are in the report).
const SHOW_REJECTED: u64 = 20;

/// Rejected members of a chunk on stderr, with their line numbers (the first
/// [`SHOW_REJECTED`]); `shown` counts every rejection so far.
/// Sends a chunk's buffer back to the reader once its last holder (the reading loop or one of
/// its runs, whichever finishes last) lets go of it.
fn give_back(chunk: Arc<Chunk>, recycle: &std::sync::mpsc::Sender<Chunk>) {
    if let Ok(c) = Arc::try_unwrap(chunk) {
        let _ = recycle.send(c);
    }
}

/// A run's rejections on stderr, the first SHOW_REJECTED of the whole simulation (runs finish
/// in any order: lines from different runs may interleave; the report lists all, in order).
fn report_rejected(bar: &ProgressBar, rows: Option<&[(u64, Rejected)]>, shown: &AtomicU64) {
    for (i, r) in rows.unwrap_or_default() {
        if shown.fetch_add(1, Ordering::Relaxed) >= SHOW_REJECTED {
            continue;
        }
        let who = r
            .member_id
            .as_deref()
            .map_or(String::new(), |id| format!(" (member {id:?})"));
        bar.suspend(|| eprintln!("loyalty simulate: line {}{who}: {}", i + 1, r.error));
    }
}

fn progress_bar(size: Option<u64>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(size, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} {msg} (eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

pub fn generate(a: GenerateArgs) -> ExitCode {
    let opts = GenerateOptions {
        members: a.members,
        seed: a.seed,
        months: a.months,
        profile: a.profile,
        as_of: a.as_of,
    };
    let plan = match Plan::new(&opts) {
        Ok(p) => p,
        Err(e) => {
            println!("{}", e.to_json());
            return ExitCode::from(1);
        }
    };
    let pool = match pool(a.threads) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let step = 4096u64;
    let mut first = 0u64;
    let mut events = 0usize;
    while first < plan.members {
        let last = (first + step).min(plan.members);
        let lines: Vec<String> = pool.install(|| {
            (first..last)
                .into_par_iter()
                .map(|i| member_line(&plan, i))
                .collect()
        });
        for l in lines {
            events += l.matches(",\"type\":\"").count();
            if writeln!(out, "{l}").is_err() {
                return ExitCode::SUCCESS; // the reader went away
            }
        }
        first = last;
    }
    if out.flush().is_err() {
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "loyalty generate: {} members, {events} events",
        plan.members
    );
    ExitCode::SUCCESS
}
