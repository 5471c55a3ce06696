//! `loyalty simulate` and `loyalty generate` (SPEC §5, issue 4).
//!
//! `simulate` streams an NDJSON file of members (`{"member":{…},"events":[…]}` a line): a
//! reader thread cuts it into chunks of lines, a rayon pool replays each chunk's members in
//! parallel into partial sums, and the partial sums are merged — integer sums, so the parallel
//! run gives exactly the single-threaded answer (rejections are put back in line order). Memory
//! holds a few chunks of lines at a time, whatever the file's size.

use crate::chunks::{Chunk, Chunker};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use loyalty_engine::generate::{member_line, GenerateOptions, Plan};
use loyalty_engine::simulate::{Partial, Setup, Simulator};
use loyalty_engine::{limits, Error};
use rayon::prelude::*;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::sync_channel;

/// Lines per chunk handed to the thread pool.
const CHUNK_LINES: usize = 2048;

/// Runs of a chunk per worker thread: enough for the pool to even out members of different
/// lengths, few enough that each run is long.
const SLOTS_PER_THREAD: usize = 4;

/// One run's partial sums, kept for the whole simulation.
struct Slot {
    part: Partial,
    /// Member lines added to `part`.
    members: u64,
    /// `part.rejected` already written to stderr.
    reported: usize,
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

    // Reader thread: chunks of lines, at most two waiting.
    // Used chunks come back to be refilled: fresh buffers would cost a page fault per 4 KB.
    let (tx, rx) = sync_channel::<io::Result<Chunk>>(2);
    let (recycle_tx, recycle_rx) = std::sync::mpsc::channel::<Chunk>();
    let reader = std::thread::spawn(move || {
        let mut chunker = Chunker::new(input);
        loop {
            let mut chunk = recycle_rx.try_recv().unwrap_or_else(|_| Chunk::new());
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
    // A chunk's lines are cut into `slots` runs, replayed in parallel, each into its own slot's
    // partial sums. The partials live for the whole run (a fresh one per piece of work would
    // cost its allocations and the warm-up of its expiry memo, thousands of times) and are
    // merged at the end; sums merge in any order, so the answer is the single-threaded one.
    let slots = pool.current_num_threads() * SLOTS_PER_THREAD;
    let mut parts: Vec<Slot> = (0..slots)
        .map(|_| Slot {
            part: sim.setup().partial(),
            members: 0,
            reported: 0,
        })
        .collect();
    let mut members: u64 = 0;
    let mut rejected: u64 = 0;
    for msg in rx {
        let chunk = match msg {
            Ok(c) => c,
            Err(e) => {
                bar.finish_and_clear();
                eprintln!("loyalty: cannot read {}: {e}", a.members.display());
                return Err(ExitCode::from(2));
            }
        };
        let setup = sim.setup();
        let per = chunk.lines.len().div_ceil(slots).max(1);
        pool.install(|| {
            parts
                .par_iter_mut()
                .zip(chunk.lines.par_chunks(per))
                .for_each(|(slot, lines)| {
                    for &(i, from, to) in lines {
                        add_line(setup, &mut slot.part, i, chunk.line(from, to));
                    }
                    slot.members += lines.len() as u64;
                });
        });
        report_rejected(&bar, &mut parts, &mut rejected);
        members += chunk.lines.len() as u64;
        bar.inc(chunk.bytes);
        bar.set_message(format!("{members} members"));
        let _ = recycle_tx.send(chunk);
    }
    for slot in parts {
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
/// The rejections the slots added since they were last reported, in line order.
fn report_rejected(bar: &ProgressBar, slots: &mut [Slot], shown: &mut u64) {
    let mut rows: Vec<_> = slots
        .iter_mut()
        .flat_map(|s| {
            let new = s.part.rejected.get(s.reported..).unwrap_or_default();
            s.reported = s.part.rejected.len();
            new
        })
        .collect();
    rows.sort_by_key(|(i, _)| *i);
    for (i, r) in rows {
        *shown += 1;
        if *shown > SHOW_REJECTED {
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
