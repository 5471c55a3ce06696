//! Simulate (SPEC §5, §7.24): what a draft policy would have done to real histories.
//!
//! Each member's history is replayed under the draft policy (and the baseline) exactly as the
//! ledger replays it (§3), except that a purchase's `redeem_points` above what the policy allows
//! is clamped (not an error) and a `redeem_reward` the member cannot take under the policy is
//! skipped. The report sums per-member facts: points issued / redeemed / expired by month,
//! tier discounts, the final tier and the outstanding balance.
//!
//! - [`simulate`] / [`simulate_json`]: the whole request at once.
//! - [`Simulator`]: the same, fed member by member (the CLI's NDJSON stream, the JS
//!   `Simulation` class in a Web Worker); [`Simulator::partial`] and [`Simulator::merge`] let
//!   threads add members independently and merge into exactly the single-threaded answer;
//!   [`Simulator::add_member_json_at`], [`Simulator::take_partial_json`] and
//!   [`Simulator::merge_json`] do the same across workers that share no memory (the partial
//!   sums travel as JSON text, [`partial_wire`]).
//!
//! A member whose history fails (any §3 fault, or a line that is not a member) is left out of
//! every figure and listed in `rejected` with its error, paths prefixed `members[i].` (for NDJSON
//! input `i` is the line number − 1). A member that fails under the baseline only is rejected
//! too, its message prefixed `baseline: `, so both policies' figures cover the same members.

pub mod accumulator;
pub mod partial_wire;
pub mod response;

pub use accumulator::{MemberFacts, Partial};
pub use response::{
    Diff, Figures, MembersMoved, MonthFigures, PointsFigures, Rejected, SimulateResponse, TierCount,
};

use crate::engine::respond;
use crate::error::Quoted;
use crate::error::{Error, ErrorCode};
use crate::ledger::view::HistoryView;
use crate::ledger::{request, Event, LedgerMember};
use crate::money::Dec;
use crate::policy::document::DecimalString;
use crate::policy::{Policy, PolicyDocument};
use crate::time::Instant;
use serde::Deserialize;

#[cfg(all(target_arch = "wasm32", feature = "full"))]
use tsify::Tsify;

/// `{ "policy", "baseline", "members", "as_of", "expected_redemption" }` (SPEC §5).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    /// The draft policy.
    pub policy: PolicyDocument,
    /// The policy to compare with (`diff`); null for none.
    #[serde(default)]
    pub baseline: Option<PolicyDocument>,
    pub members: Vec<MemberHistory>,
    /// RFC 3339 instant: histories are replayed up to here.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::INSTANT)))]
    pub as_of: String,
    /// Share of outstanding points expected to be redeemed (`"0.7"`), in [0, 1]; null = 1.
    #[serde(default)]
    pub expected_redemption: Option<DecimalString>,
}

/// One member and their history: a §3 replay request without `as_of`. Also one NDJSON line of
/// `loyalty simulate --members`.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MemberHistory {
    pub member: LedgerMember,
    #[cfg_attr(
        all(target_arch = "wasm32", feature = "full"),
        tsify(type = "LedgerEvent[]")
    )]
    pub events: Vec<Event>,
}

impl MemberHistory {
    /// The member and events, borrowed (what the check reads).
    pub fn view(&self) -> HistoryView<'_> {
        HistoryView::of(&self.member, &self.events)
    }
}

/// The policies and parameters of a simulation, shared read-only by every thread.
#[derive(Debug)]
pub struct Setup {
    pub draft: Policy,
    pub baseline: Option<Policy>,
    pub as_of: Instant,
    expected: Option<Dec>,
    /// The baseline checks a history exactly as the draft does (one static check per member).
    shared_check: bool,
}

fn parse_policy(text: &str, prefix: &str) -> Result<Policy, Error> {
    Policy::from_json(text).map_err(|e| e.within(prefix))
}

fn parse_as_of(text: &str) -> Result<Instant, Error> {
    Instant::parse_rfc3339(text)
        .map_err(|e| Error::invalid_request("as_of", format!("{}: {e}", Quoted(text))))
}

fn parse_expected(text: Option<&str>) -> Result<Option<Dec>, Error> {
    let Some(text) = text else { return Ok(None) };
    let bad = || {
        Error::invalid_request(
            "expected_redemption",
            format!(
                "expected_redemption must be a decimal string from \"0\" to \"1\", got {}",
                Quoted(text)
            ),
        )
    };
    let d = Dec::parse(text).map_err(|_| bad())?;
    if d.is_negative() || d > Dec::one() {
        return Err(bad());
    }
    Ok(Some(d))
}

impl Setup {
    /// From the policies as JSON text (errors at `policy.` / `baseline.` paths), `as_of` and
    /// `expected_redemption` as written. Faults are reported policy first, then baseline,
    /// `as_of`, `expected_redemption` (SPEC §7.18).
    pub fn from_parts(
        policy_json: &str,
        baseline_json: Option<&str>,
        as_of: &str,
        expected_redemption: Option<&str>,
    ) -> Result<Setup, Error> {
        let draft = parse_policy(policy_json, "policy")?;
        let baseline = baseline_json
            .map(|b| parse_policy(b, "baseline"))
            .transpose()?;
        Setup::new(draft, baseline, as_of, expected_redemption)
    }

    /// From validated policies.
    pub fn new(
        draft: Policy,
        baseline: Option<Policy>,
        as_of: &str,
        expected_redemption: Option<&str>,
    ) -> Result<Setup, Error> {
        let as_of_instant = parse_as_of(as_of)?;
        let expected = parse_expected(expected_redemption)?;
        let shared_check = baseline
            .as_ref()
            .is_some_and(|b| accumulator::same_static_check(&draft, b));
        Ok(Setup {
            shared_check,
            draft,
            baseline,
            as_of: as_of_instant,
            expected,
        })
    }

    /// An empty partial sum for this setup.
    pub fn partial(&self) -> Partial {
        Partial::new(&self.draft, self.baseline.as_ref())
    }

    /// Replays member number `index` (0-based) and adds it to `acc` (or to its rejections).
    pub fn add_member(&self, acc: &mut Partial, index: u64, m: MemberHistory) {
        self.add_history(acc, index, &m.view());
    }

    /// [`Setup::add_member`] of a history read in place.
    fn add_history(&self, acc: &mut Partial, index: u64, m: &HistoryView) {
        let id = || Some(m.member.id.to_string());
        let prefix = || format!("members[{index}]");
        let zone = self.draft.time_zone;
        // The static check and the replay order are the same under the baseline when it
        // checks like the draft: done once for both.
        let checked = match request::check_until(
            &crate::ledger::Versions::single(&self.draft, ""),
            m,
            self.as_of,
        ) {
            Ok(c) => c,
            Err(e) => return acc.reject(index, id(), member_error(e, &prefix(), false)),
        };
        let history = accumulator::History::new(&checked, zone);
        let [draft_memo, baseline_memo] = &mut acc.memos;
        let draft = match accumulator::replay_checked(&self.draft, &history, zone, draft_memo) {
            Ok(f) => f,
            Err(e) => return acc.reject(index, id(), member_error(e, &prefix(), false)),
        };
        let baseline = match &self.baseline {
            None => None,
            Some(b) => {
                let facts = if self.shared_check {
                    accumulator::replay_checked(b, &history, zone, baseline_memo)
                } else {
                    accumulator::replay_member(b, m, self.as_of, zone, baseline_memo)
                };
                match facts {
                    Ok(f) => Some(f),
                    Err(e) => return acc.reject(index, id(), member_error(e, &prefix(), true)),
                }
            }
        };
        acc.accept(&draft, baseline.as_ref());
    }

    /// Reads member number `index` from its JSON text (`{"member","events"}`) and adds it; a
    /// text that is not a member is a rejection (`invalid_request` at `members[index]…`).
    pub fn add_member_json(&self, acc: &mut Partial, index: u64, text: &str) {
        if let Some(m) = crate::json::fast::member_history(text) {
            return self.add_history(acc, index, &m);
        }
        match read_member(text) {
            Ok(m) => self.add_member(acc, index, m),
            Err(err) => {
                let prefix = format!("members[{index}]");
                acc.reject(index, member_id_of(text), err.within(&prefix));
            }
        }
    }

    /// The report from the summed members.
    pub fn finish(&self, mut acc: Partial) -> Result<SimulateResponse, Error> {
        let zone = self.draft.time_zone;
        let range = acc.earliest.map(|e| {
            let k = |t: Instant| {
                use chrono::Datelike;
                let d = zone.local_date(t);
                i64::from(d.year()) * 12 + i64::from(d.month0())
            };
            (k(e), k(self.as_of))
        });
        let figures = acc.draft.figures(&self.draft, self.expected, range)?;
        let diff = match (&self.baseline, &acc.baseline) {
            (Some(b), Some(sums)) => Some(Diff {
                baseline: sums.figures(b, self.expected, range)?,
                members_moved: acc.moved,
            }),
            _ => None,
        };
        acc.rejected.sort_by_key(|(i, _)| *i);
        Ok(SimulateResponse {
            figures,
            diff,
            rejected: acc.rejected.into_iter().map(|(_, r)| r).collect(),
        })
    }
}

/// Whether an NDJSON line holds no member: only ASCII whitespace (what `loyalty simulate`
/// skips; a line of other Unicode spaces is a malformed member, as it is to a JSON parser).
pub fn is_blank_line(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// A member line read by the general JSON reader (what [`Setup::add_member_json`] falls back
/// to when the fast path gives up): the member, or the fault with its path.
#[doc(hidden)]
pub fn read_member(text: &str) -> Result<MemberHistory, Error> {
    crate::json::parse::<MemberHistory>(text, ErrorCode::InvalidRequest)
}

/// A member line read by the fast path only (`None`: it gave up), for tests/reader.rs.
#[doc(hidden)]
pub fn read_member_fast(text: &str) -> Option<HistoryView<'_>> {
    crate::json::fast::member_history(text)
}

/// A member's fault as listed in `rejected`: its path under `members[i]`, and for a fault
/// under the baseline only, the message prefixed `baseline: `.
fn member_error(mut e: Error, prefix: &str, baseline: bool) -> Error {
    if e.path == "as_of" {
        // The only member-dependent fault of `as_of`: the member joined after it.
        e.path = "member.joined_at".into();
        e.message = "member.joined_at is after as_of".into();
    }
    if baseline {
        e.message = format!("baseline: {}", e.message);
    }
    e.within(prefix)
}

/// `member.id` of a member line that failed to read, when the line is well-formed JSON with
/// a string there.
fn member_id_of(text: &str) -> Option<String> {
    use crate::json::read::{check_syntax, Token};
    use crate::json::Parser;
    check_syntax(text).ok()?;
    let mut id = None;
    let mut p = Parser::new(text);
    let Ok(Token::ObjectStart) = p.token() else {
        return None;
    };
    p.object_members(|p, key| {
        let raw = p.raw_value()?;
        if key != "member" {
            return Ok(());
        }
        let mut inner = Parser::new(raw);
        if let Ok(Token::ObjectStart) = inner.token() {
            inner.object_members(|q, key| {
                let raw = q.raw_value()?;
                if key == "id" {
                    id = crate::json::read::read_text::<String>(raw).ok();
                }
                Ok(())
            })?;
        }
        Ok(())
    })
    .ok()?;
    id
}

/// The fields [`Header::read`] accepts, in order.
const HEADER_FIELDS: [&str; 5] = [
    "policy",
    "baseline",
    "members",
    "as_of",
    "expected_redemption",
];

/// [`HEADER_FIELDS`] with whether [`simulate_json`] requires each (`members` is optional to
/// [`Simulator::from_json`] only): the schema test's reader shape of a simulate request.
#[cfg(feature = "schema")]
pub(crate) const SIMULATE_REQUEST_FIELDS: [(&str, bool); 5] = [
    (HEADER_FIELDS[0], true),
    (HEADER_FIELDS[1], false),
    (HEADER_FIELDS[2], true),
    (HEADER_FIELDS[3], true),
    (HEADER_FIELDS[4], false),
];

/// A simulate request's members as JSON text: the policies are read (and validated) once,
/// the members one by one.
struct Header<'a> {
    policy: Option<&'a str>,
    baseline: Option<&'a str>,
    members: Option<Vec<&'a str>>,
    as_of: Option<&'a str>,
    expected_redemption: Option<&'a str>,
}

impl<'a> Header<'a> {
    fn read(text: &'a str) -> Result<Header<'a>, Error> {
        use crate::json::read::{invalid_type, read_with, unknown_field, Token};
        const FIELDS: &[&str] = &HEADER_FIELDS;
        read_with(text, |p| {
            let mut h = Header {
                policy: None,
                baseline: None,
                members: None,
                as_of: None,
                expected_redemption: None,
            };
            let mut seen = [false; 5];
            p.object("struct SimulateRequest", |p, key| {
                let i = FIELDS
                    .iter()
                    .position(|f| *f == key)
                    .ok_or_else(|| unknown_field(key, FIELDS))?;
                if let Some(s) = seen.get_mut(i) {
                    if *s {
                        return Err(crate::json::read::duplicate_field(key));
                    }
                    *s = true;
                }
                match key {
                    "members" => {
                        if p.peek() == Some(b'n') {
                            p.raw_value()?;
                            return Ok(());
                        }
                        let mut raws = Vec::new();
                        match p.token()? {
                            Token::ArrayStart => p.array_items(|p, _| {
                                raws.push(p.raw_value()?);
                                Ok(())
                            })?,
                            other => return Err(invalid_type(&other, "a sequence")),
                        }
                        h.members = Some(raws);
                    }
                    _ => {
                        let raw = Some(p.raw_value()?);
                        match key {
                            "policy" => h.policy = raw,
                            "baseline" => h.baseline = raw,
                            "as_of" => h.as_of = raw,
                            _ => h.expected_redemption = raw,
                        }
                    }
                }
                Ok(())
            })?;
            Ok(h)
        })
        .map_err(|f| f.into_error(ErrorCode::InvalidRequest))
    }
}

/// A simulation fed member by member (SPEC §5 "streamable as NDJSON").
#[derive(Debug)]
pub struct Simulator {
    setup: Setup,
    acc: Partial,
    /// The next member's index.
    next: u64,
    /// Members added or merged so far.
    covered: u64,
}

impl Simulator {
    pub fn new(setup: Setup) -> Simulator {
        let acc = setup.partial();
        Simulator {
            setup,
            acc,
            next: 0,
            covered: 0,
        }
    }

    /// From a simulate request's JSON text; `members` may be absent or empty here (add them
    /// afterwards); members it holds are added.
    pub fn from_json(text: &str) -> Result<Simulator, Error> {
        Simulator::from_request_json(text, false)
    }

    fn from_request_json(text: &str, need_members: bool) -> Result<Simulator, Error> {
        let h = Header::read(text)?;
        let policy = h
            .policy
            .ok_or_else(|| Error::invalid_request("policy", "missing policy"))?;
        let draft = parse_policy(policy, "policy")?;
        let baseline = match h.baseline {
            None | Some("null") => None,
            Some(b) => Some(parse_policy(b, "baseline")?),
        };
        let as_of: String = match h.as_of {
            None => return Err(Error::invalid_request("as_of", "missing field `as_of`")),
            Some(v) => crate::json::read::read_text(v).map_err(|_| {
                Error::invalid_request("as_of", "as_of must be an RFC 3339 date-time string")
            })?,
        };
        let expected: Option<String> = match h.expected_redemption {
            None => None,
            Some(v) => crate::json::read::read_text(v).map_err(|_| {
                Error::invalid_request(
                    "expected_redemption",
                    "expected_redemption must be a decimal string or null",
                )
            })?,
        };
        let setup = Setup::new(draft, baseline, &as_of, expected.as_deref())?;
        if need_members && h.members.is_none() {
            return Err(Error::invalid_request("members", "missing field `members`"));
        }
        let mut sim = Simulator::new(setup);
        for m in h.members.unwrap_or_default() {
            sim.add_member_json(m);
        }
        Ok(sim)
    }

    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// Members added (accepted and rejected) or merged so far; without
    /// [`Simulator::add_member_json_at`], also the next member's index.
    pub fn members_added(&self) -> u64 {
        self.covered
    }

    pub fn add_member(&mut self, m: MemberHistory) {
        self.setup.add_member(&mut self.acc, self.next, m);
        self.next += 1;
        self.covered += 1;
    }

    /// Adds one member from its JSON text (`{"member","events"}`).
    pub fn add_member_json(&mut self, text: &str) {
        self.setup.add_member_json(&mut self.acc, self.next, text);
        self.next += 1;
        self.covered += 1;
    }

    /// Adds the members of an NDJSON chunk: each line (split at `\n`, the piece after a final
    /// `\n` not being a line) is member number `first + k` for its line number `k` within the
    /// chunk, and blank lines are skipped but keep their number — what the CLI does with a file,
    /// so a file fed in chunks split at line ends gets the CLI's `members[i]` paths. Returns the
    /// number of lines and of members (non-blank lines) in the chunk.
    pub fn add_ndjson_at(&mut self, first: u64, ndjson: &str) -> (u64, u64) {
        let (mut lines, mut members) = (0u64, 0u64);
        for line in ndjson.split_terminator('\n') {
            if !is_blank_line(line.as_bytes()) {
                self.add_member_json_at(first + lines, line);
                members += 1;
            }
            lines += 1;
        }
        self.next = first + lines;
        (lines, members)
    }

    /// [`Simulator::add_ndjson_at`] continuing from the lines added so far.
    pub fn add_ndjson(&mut self, ndjson: &str) -> (u64, u64) {
        self.add_ndjson_at(self.next, ndjson)
    }

    /// Adds one member from its JSON text as member number `index` of the whole simulation
    /// (a worker that was handed members 2000..2999 numbers them so); the members after it
    /// follow from `index + 1`.
    pub fn add_member_json_at(&mut self, index: u64, text: &str) {
        self.next = index;
        self.add_member_json(text);
    }

    /// The sums of the members added so far, taken out (the simulator goes on from empty
    /// sums): to [`Simulator::merge`] into another simulator with the same setup.
    pub fn take_partial(&mut self) -> Partial {
        std::mem::replace(&mut self.acc, self.setup.partial())
    }

    /// [`Simulator::take_partial`] as JSON text ([`partial_wire`]), for a simulator in another
    /// worker or process ([`Simulator::merge_json`]).
    pub fn take_partial_json(&mut self) -> String {
        partial_wire::to_json(self.take_partial())
    }

    /// Counts a member that could not be read at all (e.g. a malformed NDJSON line) as
    /// rejected, its path `members[i]`.
    pub fn reject_member(&mut self, member_id: Option<String>, error: Error) {
        let prefix = format!("members[{}]", self.next);
        self.acc.reject(self.next, member_id, error.within(&prefix));
        self.next += 1;
        self.covered += 1;
    }

    /// Adds members `first..first + n` summed elsewhere (another thread, with
    /// [`Setup::partial`]); `partial` must hold exactly those indexes.
    pub fn merge(&mut self, partial: Partial, n: u64) {
        self.acc.merge(partial);
        self.next += n;
        self.covered += n;
    }

    /// [`Simulator::merge`] of a partial written by [`Simulator::take_partial_json`] in a
    /// simulator with the same policies, covering `n` members. Text that is not such a partial,
    /// or whose member count (accepted + rejected) is not `n`, is an `invalid_request` error
    /// and nothing is merged.
    pub fn merge_json(&mut self, text: &str, n: u64) -> Result<(), Error> {
        let partial = partial_wire::from_json(text, &self.setup)?;
        let held = partial
            .draft
            .members
            .checked_add(partial.rejected.len() as u64);
        if held != Some(n) {
            return Err(Error::invalid_request(
                "",
                format!(
                    "invalid partial sums: they cover {} members, not {n}",
                    held.map_or_else(|| "too many".to_string(), |h| h.to_string())
                ),
            ));
        }
        self.merge(partial, n);
        Ok(())
    }

    /// [`Simulator::merge_json`] of a partial whose member count is the one it holds (accepted
    /// and rejected members): for a merger that was handed opaque partials and no counts (the
    /// Python package's `Simulation.merge`, the Spark driver). Returns that count.
    pub fn merge_counted_json(&mut self, text: &str) -> Result<u64, Error> {
        let partial = partial_wire::from_json(text, &self.setup)?;
        let held = partial
            .draft
            .members
            .checked_add(partial.rejected.len() as u64)
            .ok_or_else(|| {
                Error::invalid_request("", "invalid partial sums: they cover too many members")
            })?;
        self.merge(partial, held);
        Ok(held)
    }

    pub fn finish(self) -> Result<SimulateResponse, Error> {
        self.setup.finish(self.acc)
    }

    /// [`Simulator::finish`] as its JSON answer, the report or `{"error":…}` (native builds:
    /// the Python package; the Wasm bindings do the same in src/wasm.rs).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn finish_json(self) -> String {
        respond(self.finish())
    }
}

/// Answers a simulate request (SPEC §5).
pub fn simulate(req: &SimulateRequest) -> Result<SimulateResponse, Error> {
    let draft = Policy::from_document(req.policy.clone()).map_err(|e| e.within("policy"))?;
    let baseline = req
        .baseline
        .clone()
        .map(|b| Policy::from_document(b).map_err(|e| e.within("baseline")))
        .transpose()?;
    let setup = Setup::new(
        draft,
        baseline,
        &req.as_of,
        req.expected_redemption.as_ref().map(|d| d.0.as_str()),
    )?;
    let mut sim = Simulator::new(setup);
    for m in &req.members {
        sim.add_member(m.clone());
    }
    sim.finish()
}

/// Simulate request JSON in; the response (or `{"error":…}`) JSON out, compact.
pub fn simulate_json(text: &str) -> String {
    respond(Simulator::from_request_json(text, true).and_then(Simulator::finish))
}
