//! `loyalty`: the engine on the command line (SPEC §6, §7.26).
//!
//! - `loyalty validate POLICY` prints `{"policy_digest","warnings"}` (exit 0) or the error
//!   (exit 1).
//! - `loyalty eval` reads NDJSON requests on stdin and writes one compact response line per
//!   non-blank line, flushed, whatever the line holds.

use clap::{Parser, Subcommand};
use loyalty_engine::{api, limits};
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
        // At most the line limit (+1 for a '\r') is held: a longer line is skipped to its end
        // and answered `limit_exceeded`, and the stream goes on.
        let too_long = match read_line_capped(&mut input, &mut buf, limits::MAX_LINE_BYTES + 1) {
            Ok(None) => return ExitCode::SUCCESS,
            Ok(Some(too_long)) => too_long,
            Err(e) => {
                eprintln!("loyalty: cannot read stdin: {e}");
                return ExitCode::from(2);
            }
        };
        let answer = if too_long {
            Some(api::line_too_long())
        } else {
            // A line that is not UTF-8 still gets its one answer line.
            match std::str::from_utf8(&buf) {
                Ok(line) => api::eval_line(line.trim_end_matches('\r')),
                Err(_) => Some(
                    loyalty_engine::Error::invalid_request("", "the line is not valid UTF-8")
                        .to_json(),
                ),
            }
        };
        if let Some(answer) = answer {
            if writeln!(out, "{answer}").and_then(|_| out.flush()).is_err() {
                // The reader went away: nothing more can be delivered.
                return ExitCode::SUCCESS;
            }
        }
    }
}

/// Reads one line into `buf` without its `\n`, keeping at most `cap` bytes. `Ok(None)` at the
/// end of input; `Ok(Some(true))` when the line was longer than `cap` (it is consumed to its
/// end, `buf` left empty), else `Ok(Some(false))`.
fn read_line_capped<R: BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<bool>> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(any.then_some(too_long));
        }
        any = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let chunk = available
            .get(..newline.unwrap_or(available.len()))
            .unwrap_or_default();
        if !too_long {
            if buf.len() + chunk.len() > cap {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = newline.map_or(available.len(), |i| i + 1);
        input.consume(used);
        if newline.is_some() {
            return Ok(Some(too_long));
        }
    }
}
