//! The string-level API: one JSON request in, one compact JSON line out. The CLI (`loyalty
//! eval`) and the Wasm bindings both call these, which is what makes their bytes identical.

use crate::engine::{respond, Engine};
use crate::error::{Error, ErrorCode};
use crate::json::read::{invalid_type, read_with, repeated_key, Token};
use crate::json::Fault;
use crate::limits;

/// Simulate request JSON (SPEC §5, with its `policy`) in; the report (or `{"error":…}`) out.
pub fn simulate_json(request_json: &str) -> String {
    crate::simulate::simulate_json(request_json)
}

/// Validates a policy document: `{"policy_digest","warnings"}` or `{"error":…}`.
pub fn validate_json(policy_json: &str) -> String {
    match Engine::from_json(policy_json) {
        Ok(engine) => engine.validate().to_json(),
        Err(e) => e.to_json(),
    }
}

/// One `loyalty eval` line (SPEC §7.26): `None` for a blank line, else exactly one compact line.
pub fn eval_line(line: &str) -> Option<String> {
    eval_line_of::<FULL>(line)
}

/// [`eval_line`] of the core Wasm module (`loyalty-engine/core`, built without the `full`
/// feature: see `src/wasm.rs`): the same answer for ops `validate` and `quote`; any other known
/// op is `invalid_request` at `op`, saying that the operation is in the full module. Only the
/// validate and quote code is reachable from here, so the core module leaves the rest out.
pub fn eval_line_core(line: &str) -> Option<String> {
    eval_line_of::<CORE>(line)
}

/// [`eval_line`] of the progress Wasm module (`loyalty-engine/progress`, what the storefront
/// widget loads; feature `progress` without `full`: see `src/wasm.rs`): the same answer for ops
/// `validate` and `progress` (policy versions included); any other known op is
/// `invalid_request` at `op`, naming the full module. Only the validate and progress code is
/// reachable from here, so the progress module leaves the rest out.
pub fn eval_line_progress(line: &str) -> Option<String> {
    eval_line_of::<PROGRESS>(line)
}

fn eval_line_of<const MODULE: u8>(line: &str) -> Option<String> {
    if line.len() > limits::MAX_LINE_BYTES {
        return Some(line_too_long());
    }
    if line.trim().is_empty() {
        return None;
    }
    Some(match eval::<MODULE>(line) {
        Ok(s) => s,
        Err(e) => e.to_json(),
    })
}

/// The modules `eval` answers for (a const parameter, so that each Wasm module keeps only the
/// code of its operations): every operation (natively, the CLI, the full Wasm module), the core
/// module's validate and quote, the progress module's validate and progress.
const FULL: u8 = 0;
const CORE: u8 = 1;
const PROGRESS: u8 = 2;

/// Whether `module` answers `op`.
const fn answers(module: u8, op: Op) -> bool {
    match module {
        CORE => matches!(op, Op::Validate | Op::Quote),
        PROGRESS => matches!(op, Op::Validate | Op::Progress),
        _ => true,
    }
}

/// The answer of a smaller module to an op it does not have (`op_json`: the op as written).
fn not_in_module<const MODULE: u8>(op_json: &str) -> Error {
    let message = if MODULE == PROGRESS {
        format!(
            "operation {op_json} is not in the progress module (`loyalty-engine/progress`), which answers \"validate\" and \"progress\"; the full module (`loyalty-engine`) answers every operation"
        )
    } else {
        format!(
            "operation {op_json} is in the full module (`loyalty-engine`), not in the core module (`loyalty-engine/core`), which answers \"validate\" and \"quote\""
        )
    };
    Error::invalid_request("op", message)
}

/// The answer to a request line longer than [`limits::MAX_LINE_BYTES`]: `limit_exceeded` at
/// path `""`. `loyalty eval` writes it for a line it stopped reading at the limit (the rest of
/// the line is skipped and the stream goes on), so the CLI and `evalLine` answer alike.
pub fn line_too_long() -> String {
    line_longer_than(limits::MAX_LINE_BYTES)
}

fn line_longer_than(max_line: usize) -> String {
    Error::new(
        ErrorCode::LimitExceeded,
        "",
        format!("the request line is longer than {max_line} bytes"),
    )
    .to_json()
}

/// `loyalty eval` (SPEC §7.26): reads NDJSON requests from `input` and writes one compact
/// answer line per non-blank line to `output`, flushed. A line that is not UTF-8 is
/// `invalid_request`; a line longer than `max_line` bytes (without its line end) is answered
/// [`line_too_long`] without being held in memory, and the stream goes on. Returns when the
/// input ends (`Ok`), or with the first read error; a write error (the reader went away) ends the
/// stream quietly.
pub fn eval_stream<R: std::io::BufRead, W: std::io::Write>(
    input: &mut R,
    output: &mut W,
    max_line: usize,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    // One more byte than the limit is held, for a '\r' before the '\n'.
    while let Some(too_long) = read_line_capped(input, &mut buf, max_line.saturating_add(1))? {
        let answer = match std::str::from_utf8(&buf) {
            _ if too_long => Some(line_longer_than(max_line)),
            Ok(line) => {
                let line = line.trim_end_matches('\r');
                if line.len() > max_line {
                    Some(line_longer_than(max_line))
                } else {
                    eval_line(line)
                }
            }
            // A line that is not UTF-8 still gets its one answer line.
            Err(_) => Some(Error::invalid_request("", "the line is not valid UTF-8").to_json()),
        };
        if let Some(answer) = answer {
            if writeln!(output, "{answer}")
                .and_then(|_| output.flush())
                .is_err()
            {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Reads one line into `buf` without its `\n`, keeping at most `cap` bytes. `Ok(None)` at the
/// end of input; `Ok(Some(true))` when the line was longer than `cap` (consumed to its end,
/// `buf` left empty), else `Ok(Some(false))`.
fn read_line_capped<R: std::io::BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<Option<bool>> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
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
            if buf.len().saturating_add(chunk.len()) > cap {
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

/// The operations `eval` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Validate,
    Quote,
    Replay,
    Progress,
    Verify,
    Simulate,
}

/// One request line, answered as `MODULE` does ([`FULL`], [`CORE`] or [`PROGRESS`]): an op the
/// module does not have is answered [`not_in_module`] as soon as it is read (and its code is left
/// out of the module).
fn eval<const MODULE: u8>(line: &str) -> Result<String, Error> {
    // Policy versions (SPEC §3.1): replay and progress only.
    let takes_policies = answers(MODULE, Op::Replay) || answers(MODULE, Op::Progress);
    let members = members(line).map_err(|f| Error::invalid_request("", f.into_message()))?;
    let mut op = None;
    let mut policy = None;
    let mut policies = None;
    let mut rest: Vec<(&str, &str)> = Vec::new();
    for (k, v) in &members {
        let v = *v;
        match k.as_str() {
            "op" => op = Some(v),
            "policy" => policy = Some(v),
            "policies" if takes_policies => policies = Some(v),
            _ => rest.push((k.as_str(), v)),
        }
    }
    let op_value = op.ok_or_else(|| Error::invalid_request("op", "missing op"))?;
    let op = match crate::json::read::read_text::<String>(op_value).as_deref() {
        Ok("validate") => Op::Validate,
        Ok("quote") => Op::Quote,
        Ok("replay") => Op::Replay,
        Ok("progress") => Op::Progress,
        Ok("verify") => Op::Verify,
        Ok("simulate") => Op::Simulate,
        _ => {
            return Err(Error::invalid_request(
                "op",
                format!(
                    "unknown op {}: expected \"validate\", \"quote\", \"replay\", \"progress\", \"verify\" or \"simulate\"",
                    op_value
                ),
            ))
        }
    };
    if !answers(MODULE, op) {
        return Err(not_in_module::<MODULE>(op_value));
    }
    if op == Op::Simulate && answers(MODULE, Op::Simulate) {
        // The simulate request keeps its `policy` (SPEC §7.26), in input order.
        let all: Vec<(&str, &str)> = members
            .iter()
            .filter(|(k, _)| k != "op")
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        return Ok(simulate_json(&object_text(&all)));
    }
    if takes_policies {
        if let Some(text) = policies {
            if !matches!(op, Op::Replay | Op::Progress) {
                return Err(Error::invalid_request(
                    "policies",
                    "only replay and progress requests take policy versions",
                ));
            }
            if policy.is_some() {
                return Err(Error::invalid_request(
                    "policies",
                    "a request gives either policy or policies, not both",
                ));
            }
            let versions = crate::ledger::versions::policies_from_json(text)?;
            let request = object_text(&rest);
            return Ok(if op == Op::Progress && answers(MODULE, Op::Progress) {
                versions_json::<true>(&versions, &request)
            } else if answers(MODULE, Op::Replay) {
                versions_json::<false>(&versions, &request)
            } else {
                return Err(not_in_module::<MODULE>(op_value));
            });
        }
    }
    let policy = policy.ok_or_else(|| {
        // (The core module has no policy versions: it keeps its one message.)
        let message = if takes_policies && matches!(op, Op::Replay | Op::Progress) {
            "missing policy (or policies)"
        } else {
            "missing policy"
        };
        Error::invalid_request("policy", message)
    })?;
    let engine = Engine::from_json(policy)?;
    let request = object_text(&rest);
    Ok(match op {
        Op::Validate => {
            if let Some((k, _)) = rest.first() {
                return Err(Error::invalid_request(
                    *k,
                    format!("unknown field `{k}`: a validate request has only op and policy"),
                ));
            }
            engine.validate().to_json()
        }
        // (Each arm guarded by a constant: a module keeps the code of its operations only.)
        Op::Quote if answers(MODULE, Op::Quote) => engine.quote_json(&request),
        Op::Replay if answers(MODULE, Op::Replay) => engine.replay_json(&request),
        Op::Progress if answers(MODULE, Op::Progress) => engine.progress_json(&request),
        Op::Verify if answers(MODULE, Op::Verify) => engine.verify_json(&request),
        Op::Simulate if answers(MODULE, Op::Simulate) => simulate_json(&request),
        _ => return Err(not_in_module::<MODULE>(op_value)),
    })
}

/// A replay (or progress) request (JSON text, without `op` and `policies`) answered under
/// policy versions (SPEC §3.1).
fn versions_json<const PROGRESS_OP: bool>(
    versions: &crate::ledger::PolicyVersions,
    request_json: &str,
) -> String {
    use crate::ledger::ReplayRequest;
    let req = crate::json::parse::<ReplayRequest>(request_json, ErrorCode::InvalidRequest);
    if PROGRESS_OP {
        crate::progress::respond(req.and_then(|r| versions.progress(&r)))
    } else {
        respond(req.and_then(|r| versions.replay(&r)))
    }
}

/// Rebuilds `{"k":v,…}` from the members left after `op` and `policy` were taken out.
fn object_text(members: &[(&str, &str)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Keys came from valid JSON; re-escaping them (as serde_json does) keeps them valid.
        crate::json::write::string(&mut out, k);
        out.push(':');
        out.push_str(v);
    }
    out.push('}');
    out
}

/// The top-level object's members in input order, each value as its JSON text, rejecting
/// duplicate keys (a JSON object with a repeated key would otherwise silently keep one).
fn members(line: &str) -> Result<Vec<(String, &str)>, Fault> {
    read_with(line, |p| {
        let mut out: Vec<(String, &str)> = Vec::new();
        match p.token()? {
            Token::ObjectStart => {}
            other => return Err(invalid_type(&other, "a request object")),
        }
        p.object_members(|p, key| {
            out.push((key.to_string(), p.raw_value()?));
            Ok(())
        })
        .map_err(|f| Fault::new(f.into_message()))?;
        // Sorted, not a scan of `out`: a line with a million keys stays fast.
        if let Some(fault) = repeated_key(out.iter().map(|(k, _)| k.as_str())) {
            return Err(fault);
        }
        Ok(out)
    })
}
