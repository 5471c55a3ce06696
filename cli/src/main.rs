//! `loyalty`: the engine on the command line (SPEC §6, §7.26).
//!
//! - `loyalty validate POLICY` prints `{"policy_digest","warnings"}` (exit 0) or the error
//!   (exit 1).
//! - `loyalty eval` reads NDJSON requests on stdin and writes one compact response line per
//!   non-blank line, flushed, whatever the line holds.
//! - `loyalty simulate --policy P [--baseline B] --members FILE.ndjson …` prints the simulate
//!   report (SPEC §5); `loyalty generate …` writes synthetic histories (docs/simulate.md).
//! - `loyalty import --mapping M --out members.ndjson [--report R] FILE…` turns CSV exports into
//!   member NDJSON with an integrity report (docs/migration.md).
//! - `loyalty serve [--db URL] [--listen ADDR] [--demo]` runs the server of record (SPEC §8,
//!   server/); `loyalty serve check|backup|copy|openapi` are its operations.

mod chunks;
mod import_cmd;
#[cfg(feature = "serve")]
mod serve;
mod sim;

use clap::{Parser, Subcommand};
use loyalty_engine::{api, limits};
use std::io;
use std::process::ExitCode;

// Replays allocate many small, short-lived values; mimalloc makes `loyalty simulate` about
// 1.3x faster than the system allocator (docs/simulate.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "loyalty",
    version,
    about = "Loyalty policy engine: validate policies, evaluate requests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a policy document; prints its digest and warnings, exits 1 on an error.
    Validate {
        /// Path to the policy JSON file.
        policy: std::path::PathBuf,
    },
    /// Evaluate NDJSON requests from stdin, one response line each.
    Eval,
    /// Replay member histories (NDJSON file) under a draft policy; prints the report (SPEC §5).
    Simulate(sim::SimulateArgs),
    /// Write synthetic member histories as NDJSON to stdout (deterministic for a seed).
    Generate(sim::GenerateArgs),
    /// Turn CSV exports of a live program into member NDJSON plus an integrity report
    /// (docs/migration.md).
    Import(import_cmd::ImportArgs),
    /// Write synthetic CSV exports for the import benchmark.
    #[command(hide = true)]
    ImportSample(import_cmd::SampleArgs),
    /// The server of record (SPEC §8): `loyalty serve [--db URL] [--listen ADDR] [--demo]`, and
    /// `loyalty serve check|backup|copy|openapi`.
    #[cfg(feature = "serve")]
    Serve(serve::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { policy } => validate(&policy),
        Command::Eval => eval(),
        Command::Simulate(a) => sim::simulate(a),
        Command::Generate(a) => sim::generate(a),
        Command::Import(a) => import_cmd::run(a),
        Command::ImportSample(a) => import_cmd::sample(a),
        #[cfg(feature = "serve")]
        Command::Serve(a) => serve::run(a),
    }
}

fn validate(path: &std::path::Path) -> ExitCode {
    // At most one request line's worth (16 MiB), like `eval`: a policy is a few KB, and a huge
    // file is answered without being held in memory.
    let max = loyalty_engine::limits::MAX_LINE_BYTES;
    let mut text = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| {
        use std::io::Read;
        f.take(max as u64 + 1).read_to_end(&mut text)
    });
    if let Err(e) = read {
        eprintln!("loyalty: cannot read {}: {e}", path.display());
        return ExitCode::from(2);
    }
    let out = match std::str::from_utf8(&text) {
        _ if text.len() > max => loyalty_engine::Error::new(
            loyalty_engine::ErrorCode::LimitExceeded,
            "policy",
            format!("the policy file is longer than {max} bytes"),
        )
        .to_json(),
        Ok(t) => api::validate_json(t),
        Err(_) => {
            loyalty_engine::Error::invalid_policy("policy", "the file is not valid UTF-8").to_json()
        }
    };
    println!("{out}");
    if out.starts_with("{\"error\":") {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn eval() -> ExitCode {
    let stdin = io::stdin();
    let stdout = io::stdout();
    match api::eval_stream(
        &mut stdin.lock(),
        &mut stdout.lock(),
        limits::MAX_LINE_BYTES,
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loyalty: cannot read stdin: {e}");
            ExitCode::from(2)
        }
    }
}
