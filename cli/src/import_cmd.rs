//! `loyalty import` (issues 7, 18): CSV and `.xlsx` exports → member NDJSON + integrity report
//! (docs/migration.md), and the hidden `loyalty import-sample` that writes synthetic exports
//! for the benchmark.

use clap::Args;
use loyalty_engine::import::{self, mapping::Mapping, Options};
use loyalty_engine::Engine;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ImportArgs {
    /// The mapping file (JSON): which file holds what (docs/migration.md).
    #[arg(long)]
    mapping: PathBuf,
    /// Where the member NDJSON goes (one `{"member":…,"events":[…]}` a line).
    #[arg(long)]
    out: PathBuf,
    /// Where the integrity report (JSON) goes (default: `<out>.report.json`); a summary is
    /// printed on stderr either way.
    #[arg(long)]
    report: Option<PathBuf>,
    /// The merchant's policy: valid tiers and currency from it, and every member line is
    /// replayed at the cutover to check it reproduces the source balance and tier.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Exit 0 even when rows were rejected (they are still listed in the report).
    #[arg(long)]
    allow_rejects: bool,
    /// Where the sorted runs go: a fresh subdirectory of this one (default: next to --out).
    #[arg(long)]
    temp_dir: Option<PathBuf>,
    /// Memory for records before a sorted run is written to disk, in MiB.
    #[arg(long, default_value_t = 256)]
    memory_mb: usize,
    /// The exports named in the mapping: CSV, or `.xlsx` spreadsheets.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Args)]
pub struct SampleArgs {
    /// Directory to write customers.csv, balances.csv, tiers.csv, transactions.csv, mapping.json.
    #[arg(long)]
    dir: PathBuf,
    #[arg(long)]
    customers: u64,
    /// Transaction rows (sale lines and returns).
    #[arg(long)]
    transactions: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn fail(msg: String) -> ExitCode {
    eprintln!("loyalty import: {msg}");
    ExitCode::from(2)
}

pub fn run(a: ImportArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&a.mapping) {
        Ok(t) => t,
        Err(e) => return fail(format!("cannot read {}: {e}", a.mapping.display())),
    };
    let mapping: Mapping = match serde_json::from_str(&text) {
        Ok(m) => m,
        Err(e) => return fail(format!("mapping {}: {e}", a.mapping.display())),
    };
    let policy = match &a.policy {
        None => None,
        Some(p) => {
            let text = match std::fs::read_to_string(p) {
                Ok(t) => t,
                Err(e) => return fail(format!("cannot read {}: {e}", p.display())),
            };
            match Engine::from_json(&text) {
                Ok(e) => Some(e),
                Err(e) => return fail(format!("policy {}: {}", p.display(), e.to_json())),
            }
        }
    };
    // Always a directory of our own (removed afterwards), inside --temp-dir when given.
    let temp_dir = match &a.temp_dir {
        Some(parent) => parent.join(format!("loyalty-import-{}", std::process::id())),
        None => {
            let mut name = a.out.file_name().unwrap_or_default().to_os_string();
            name.push(format!(".import-tmp-{}", std::process::id()));
            a.out.with_file_name(name)
        }
    };
    let opts = Options {
        mapping,
        files: a.files.clone(),
        policy,
        temp_dir,
        memory_budget: a.memory_mb.saturating_mul(1 << 20),
    };
    let file = match File::create(&a.out) {
        Ok(f) => f,
        Err(e) => return fail(format!("cannot write {}: {e}", a.out.display())),
    };
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let report = match import::import(&opts, &mut out).and_then(|r| {
        out.flush()?;
        Ok(r)
    }) {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&opts.temp_dir);
            return fail(e.to_string());
        }
    };
    let report_path = a.report.clone().unwrap_or_else(|| {
        let mut name = a.out.file_name().unwrap_or_default().to_os_string();
        name.push(".report.json");
        a.out.with_file_name(name)
    });
    {
        let path = &report_path;
        let written = File::create(path).map_err(|e| e.to_string()).and_then(|f| {
            let mut w = BufWriter::new(f);
            serde_json::to_writer_pretty(&mut w, &report).map_err(|e| e.to_string())?;
            w.write_all(b"\n").map_err(|e| e.to_string())?;
            w.flush().map_err(|e| e.to_string())
        });
        if let Err(e) = written {
            return fail(format!("cannot write {}: {e}", path.display()));
        }
    }
    let t = &report.totals;
    eprintln!(
        "loyalty import: {} rows read, {} rejected, {} skipped (walk-in), {} conflicts, {} members written; opening points in {} out {}; {} replay mismatches; {}",
        report.rows_read,
        report.rows_rejected,
        report.rows_skipped,
        report.conflicts.len(),
        report.members_written,
        t.opening_points_in,
        t.opening_points_out,
        report.replay_mismatches.len(),
        if report.clean {
            format!("clean (report: {})", report_path.display())
        } else {
            format!("NOT clean, see {}", report_path.display())
        }
    );
    let clean = report.clean;
    // The rejected rows' runs are deleted with the report; then the directory.
    drop(report);
    let _ = std::fs::remove_dir_all(&opts.temp_dir);
    if clean || a.allow_rejects {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

pub fn sample(a: SampleArgs) -> ExitCode {
    match import::sample::write_sample(&a.dir, a.customers, a.transactions, a.seed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("cannot write {}: {e}", a.dir.display())),
    }
}
