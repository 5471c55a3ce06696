//! `loyalty`: the engine on the command line (SPEC §6, §7.26).
//!
//! - `loyalty validate POLICY` prints `{"policy_digest","warnings"}` (exit 0) or the error
//!   (exit 1).
//! - `loyalty eval` reads NDJSON requests on stdin and writes one compact response line per
//!   non-blank line, flushed, whatever the line holds.

use clap::{Parser, Subcommand};
use loyalty_engine::api;
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { policy } => validate(&policy),
        Command::Eval => eval(),
    }
}

fn validate(path: &std::path::Path) -> ExitCode {
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("loyalty: cannot read {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let out = match std::str::from_utf8(&text) {
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
    let mut input = stdin.lock();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match input.read_until(b'\n', &mut buf) {
            Ok(0) => return ExitCode::SUCCESS,
            Ok(_) => {}
            Err(e) => {
                eprintln!("loyalty: cannot read stdin: {e}");
                return ExitCode::from(2);
            }
        }
        // A line that is not UTF-8 still gets its one answer line.
        let answer = match std::str::from_utf8(&buf) {
            Ok(line) => api::eval_line(line.trim_end_matches(['\n', '\r'])),
            Err(_) => Some(
                loyalty_engine::Error::invalid_request("", "the line is not valid UTF-8").to_json(),
            ),
        };
        if let Some(answer) = answer {
            if writeln!(out, "{answer}").and_then(|_| out.flush()).is_err() {
                // The reader went away: nothing more can be delivered.
                return ExitCode::SUCCESS;
            }
        }
    }
}
