//! `loyalty import`: a live program's CSV exports → the engine's member NDJSON
//! (`{"member":…,"events":[…]}` a line, the input of replay and simulate), with an integrity
//! report (docs/migration.md). Native only.
//!
//! Two passes, bounded memory:
//!
//! 1. **Read.** Files are read in mapping order. Customer rows build the identity index
//!    (customer id → card → E.164 phone, the only structure that grows with the member count);
//!    every accepted row of every file becomes a record keyed by (member, class, time, row)
//!    pushed into an external [`sort::Sorter`] (sorted runs on disk once a memory budget is
//!    full). Order ids go to a second sorter to find duplicate orders across members and files.
//! 2. **Merge.** The runs are merged k-way; each member's records arrive together and are
//!    turned into one line: historical `purchase` / `refund` events in time order, then at the
//!    cutover `opening_balance`, `set_tier` and `status`. With a policy each line is replayed
//!    to check that it reproduces the source balance and tier.
//!
//! Every row that is not carried over is in the report's `rejected` with its file, line,
//! column and reason.
//!
//! Modules, by job: [`mapping`] (the mapping file), `source` (reading a file's rows),
//! `identity` (who is who across sources), `customers` (customers, balances and tiers rows),
//! `orders` (transaction rows, duplicate orders, purchase and refund events), `member`
//! (assembling one member's line at the merge, the replay check, the totals), `report` (the
//! integrity report), `record` (the sort keys), [`sort`] (the external sorter), [`values`]
//! (amounts, counts, times), [`phone`] (E.164).

mod customers;
mod identity;
pub mod mapping;
mod member;
mod orders;
pub mod phone;
mod record;
mod report;
pub mod sample;
pub mod sort;
mod source;
pub mod values;
mod xlsx;

pub use report::{Conflict, FileCount, Mismatch, Rejected, Rejections, Report, TierCount, Totals};

use crate::engine::Engine;
use crate::money::{builtin_minor_units, Currency};
use crate::time::{Instant, Zone};
use identity::Identity;
use mapping::{Kind, Mapping};
use member::merge;
use orders::order_faults;
use sort::{encode_fields, Sorter};
use source::read_file;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What the import needs besides the CSV files.
pub struct Options {
    pub mapping: Mapping,
    /// The CSV files, matched to the mapping's entries by base name.
    pub files: Vec<PathBuf>,
    /// The merchant's policy: tiers and currency from it, every member line replayed.
    pub policy: Option<Engine>,
    /// Where sorted runs go (created if missing; each run is deleted once read, the directory
    /// is the caller's to remove after the report is dropped).
    pub temp_dir: PathBuf,
    /// Bytes of records held in memory before a sorted run is written.
    pub memory_budget: usize,
}

/// A fault that stops the import (bad mapping, unreadable file): not a rejected row.
#[derive(Debug)]
pub struct ImportError(pub String);

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<io::Error> for ImportError {
    fn from(e: io::Error) -> Self {
        ImportError(format!("I/O error: {e}"))
    }
}

/// Everything a read row produced, for one file.
struct Ctx<'a> {
    mapping: &'a Mapping,
    zone: Zone,
    cutover: Instant,
    currency: Option<Currency>,
    valid_tiers: Option<HashSet<String>>,
    /// Source status (folded: NFC, lower case) → engine status.
    statuses: HashMap<String, &'static str>,
    /// Source tier name (NFC) → tier id.
    tier_names: HashMap<String, String>,
    report: Report,
    identity: Identity,
    members: Sorter,
    orders: Sorter,
    namespaces: Vec<String>,
    file_names: Vec<String>,
    transaction_rows_in: u64,
    /// Accepted tier rows, per tier id.
    tier_rows_in: BTreeMap<String, u64>,
    /// Rejected rows, keyed by (file, line, n).
    rejects: Sorter,
    rejects_n: u64,
    /// The first I/O error of writing a rejected row (reported when the file is done).
    reject_error: Option<io::Error>,
}

impl Ctx<'_> {
    fn reject(&mut self, file: usize, line: u64, column: Option<&str>, reason: String) {
        self.report.rows_rejected += 1;
        if let Some(f) = self.report.files.get_mut(file) {
            f.rejected += 1;
        }
        self.rejects_n += 1;
        let mut key = Vec::with_capacity(20);
        key.extend_from_slice(&(file as u32).to_be_bytes());
        key.extend_from_slice(&line.to_be_bytes());
        key.extend_from_slice(&self.rejects_n.to_be_bytes());
        let flag = if column.is_some() { "1" } else { "0" };
        let val = encode_fields(&[flag, column.unwrap_or(""), &reason]);
        if let Err(e) = self.rejects.push(key, val) {
            self.reject_error.get_or_insert(e);
        }
    }

    fn check_io(&mut self) -> Result<(), ImportError> {
        match self.reject_error.take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

fn status_of(s: &str) -> Option<&'static str> {
    Some(match s {
        "active" => "active",
        "inactive" => "inactive",
        "excluded" => "excluded",
        "unassigned" => "unassigned",
        _ => return None,
    })
}

/// One imported member, complete — its history and the cutover's events — handed to a
/// [`MemberSink`] once, in output order (members in order of first appearance).
#[derive(Debug)]
pub struct ImportedMember<'a> {
    /// The member id (`KH001`, `web:W-503`, `card:VF9001`, `phone:+84…`).
    pub id: &'a str,
    /// The member line, `{"member":…,"events":[…]}` without its newline: what `--out` holds,
    /// the input of replay and `loyalty simulate`.
    pub json: &'a str,
    /// The migrated status (`active`, `inactive`, `excluded`, `unassigned`): a `status` event
    /// at the cutover unless `active`.
    pub status: &'a str,
    /// Σ `opening_balance` points written.
    pub opening_points: i64,
    /// The `set_tier` written, if any.
    pub tier: Option<&'a str>,
    pub purchases: u64,
    pub refunds: u64,
    /// The member's phone (E.164) from its customer rows — the first that is its own: a phone
    /// shared by several customers (a `conflicts` entry) is nobody's. Not in [`Self::json`].
    pub phone: Option<&'a str>,
    /// The member's card numbers (normalized: no spaces or dashes, upper case), in row order.
    pub cards: &'a [String],
    /// The first customer name (NFC), for a loader that keeps names; not in [`Self::json`].
    pub name: Option<&'a str>,
}

impl ImportedMember<'_> {
    /// The member and its events as the engine's types (parsed from [`Self::json`]).
    pub fn history(&self) -> Result<crate::simulate::MemberHistory, ImportError> {
        serde_json::from_str(self.json).map_err(|e| ImportError(format!("member {}: {e}", self.id)))
    }
}

/// Where imported members go: an NDJSON file ([`Ndjson`]), or a library caller — a database
/// loader stores each member with its events in one transaction. A closure
/// `FnMut(&ImportedMember) -> Result<(), ImportError>` is a sink. An error stops the import.
pub trait MemberSink {
    fn member(&mut self, m: &ImportedMember<'_>) -> Result<(), ImportError>;

    /// Called once when the exports are read and the members are about to be assembled, with
    /// the number of members the customer rows created (a progress total: every one of them
    /// is handed over, plus none other). The default does nothing.
    fn merging(&mut self, members_in: u64) -> Result<(), ImportError> {
        let _ = members_in;
        Ok(())
    }
}

impl<F: FnMut(&ImportedMember<'_>) -> Result<(), ImportError>> MemberSink for F {
    fn member(&mut self, m: &ImportedMember<'_>) -> Result<(), ImportError> {
        self(m)
    }
}

/// The NDJSON sink: one member line a line.
pub struct Ndjson<W: Write>(pub W);

impl<W: Write> MemberSink for Ndjson<W> {
    fn member(&mut self, m: &ImportedMember<'_>) -> Result<(), ImportError> {
        self.0.write_all(m.json.as_bytes())?;
        self.0.write_all(b"\n")?;
        Ok(())
    }
}

/// Runs the import: reads `opts.files`, writes member lines to `out` (NDJSON), returns the
/// report. [`import_to`] hands the members to any [`MemberSink`] instead.
pub fn import(opts: &Options, out: &mut dyn Write) -> Result<Report, ImportError> {
    import_to(opts, &mut Ndjson(out))
}

/// Runs the import, handing each member to `sink` as soon as it is assembled (memory holds
/// one member at a time), and returns the integrity report. The report's `rejected` rows are
/// streamed from disk when it is serialized or through [`Rejections::take`] /
/// [`Rejections::next_rejected`]; the caller removes `opts.temp_dir` after the report is
/// dropped.
pub fn import_to(opts: &Options, sink: &mut dyn MemberSink) -> Result<Report, ImportError> {
    let out = sink;
    let m = &opts.mapping;
    let zone = Zone::by_name(&m.time_zone)
        .ok_or_else(|| ImportError(format!("mapping: unknown time_zone {:?}", m.time_zone)))?;
    let cutover = Instant::parse_rfc3339(&m.cutover).map_err(|e| {
        ImportError(format!(
            "mapping: cutover {:?} is not an RFC 3339 instant: {e}",
            m.cutover
        ))
    })?;
    if let Some(c) = &m.default_country {
        if phone::country(c).is_none() {
            return Err(ImportError(format!(
                "mapping: unknown default_country {c:?}"
            )));
        }
    }
    let currency = match (&opts.policy, &m.currency) {
        (Some(e), _) => Some(e.policy().currency.clone()),
        (None, Some(code)) => Some(Currency {
            code: code.clone(),
            minor_units: builtin_minor_units(code)
                .ok_or_else(|| ImportError(format!("mapping: unknown currency {code:?}")))?,
        }),
        (None, None) => None,
    };
    let valid_tiers = match (&opts.policy, &m.tiers) {
        (Some(e), _) => Some(
            e.policy()
                .tiers
                .levels
                .iter()
                .map(|l| l.id.clone())
                .collect(),
        ),
        (None, Some(t)) => Some(t.iter().cloned().collect()),
        (None, None) => None,
    };
    let mut statuses = HashMap::new();
    for (src, dst) in &m.statuses {
        let s = status_of(dst).ok_or_else(|| {
            ImportError(format!(
                "mapping: statuses[{src:?}] = {dst:?} is not active, inactive, excluded or unassigned"
            ))
        })?;
        statuses.insert(values::fold(src).to_lowercase(), s);
    }
    // Files on the command line, by base name.
    let mut paths: Vec<Option<&Path>> = vec![None; m.files.len()];
    for f in &opts.files {
        let base = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(i) = m.files.iter().position(|e| e.file == base) else {
            return Err(ImportError(format!(
                "{}: not described by the mapping (its files: {})",
                f.display(),
                m.files
                    .iter()
                    .map(|e| e.file.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if let Some(slot) = paths.get_mut(i) {
            if let Some(before) = slot {
                return Err(ImportError(format!(
                    "{} and {} have the same name: the mapping cannot tell them apart",
                    before.display(),
                    f.display()
                )));
            }
            *slot = Some(f.as_path());
        }
    }
    for (e, p) in m.files.iter().zip(&paths) {
        if p.is_none() {
            return Err(ImportError(format!(
                "the mapping describes {} but it was not given",
                e.file
            )));
        }
    }
    std::fs::create_dir_all(&opts.temp_dir)?;
    let mut identity = Identity::default();
    for group in &m.links {
        if let Some(first) = group.first() {
            for id in group.iter().skip(1) {
                identity.links.insert(id.clone(), first.clone());
            }
        }
    }
    let mut ctx = Ctx {
        mapping: m,
        zone,
        cutover,
        currency,
        valid_tiers,
        statuses,
        tier_names: m
            .tier_names
            .iter()
            .map(|(k, v)| (values::fold(k), values::fold(v)))
            .collect(),
        report: Report::default(),
        identity,
        members: Sorter::new(opts.temp_dir.clone(), "members", opts.memory_budget),
        orders: Sorter::new(opts.temp_dir.clone(), "orders", opts.memory_budget / 4),
        namespaces: Vec::new(),
        file_names: m.files.iter().map(|f| f.file.clone()).collect(),
        transaction_rows_in: 0,
        tier_rows_in: BTreeMap::new(),
        rejects: Sorter::new(opts.temp_dir.clone(), "rejected", opts.memory_budget / 8),
        rejects_n: 0,
        reject_error: None,
    };
    // Customers first (they define who exists), then the rest, each group in mapping order.
    let mut order: Vec<usize> = (0..m.files.len()).collect();
    order.sort_by_key(|&i| m.files.get(i).map(|f| f.kind != Kind::Customers));
    for f in &m.files {
        ctx.report.files.push(FileCount {
            file: f.file.clone(),
            kind: f.kind.as_str(),
            delimiter: String::new(),
            rows: 0,
            accepted: 0,
            rejected: 0,
            skipped: 0,
        });
    }
    for i in order {
        let (Some(fm), Some(Some(path))) = (m.files.get(i), paths.get(i)) else {
            continue;
        };
        read_file(&mut ctx, i, fm, path)?;
        ctx.check_io()?;
    }
    let faults = order_faults(&mut ctx)?;
    merge(ctx, opts, &faults, out)
}
