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

pub mod mapping;
pub mod phone;
pub mod sample;
pub mod sort;
pub mod values;

use crate::engine::Engine;
use crate::ledger::ReplayRequest;
use crate::money::{builtin_minor_units, Currency};
use crate::simulate::MemberHistory;
use crate::time::{Instant, Zone};
use mapping::{FileMapping, Kind, Mapping, Role, ROLE_COUNT};
use serde::Serialize;
use sort::{decode_fields, encode_fields, Sorter};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
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

/// The integrity report.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub rows_read: u64,
    pub rows_rejected: u64,
    pub members_written: u64,
    pub files: Vec<FileCount>,
    pub totals: Totals,
    /// Rows kept apart rather than merged (shared phone numbers, …).
    pub conflicts: Vec<Conflict>,
    /// Every rejected row, by file (mapping order) and line; kept on disk when many.
    pub rejected: Rejections,
    /// With a policy: members whose replay does not reproduce the source.
    pub replay_mismatches: Vec<Mismatch>,
    /// No rejected row, no conflict, totals in = out (and replayed, with a policy).
    pub clean: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileCount {
    pub file: String,
    pub kind: &'static str,
    pub delimiter: String,
    pub rows: u64,
    pub accepted: u64,
    pub rejected: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    /// Members created from customer rows.
    pub members_in: u64,
    pub members_out: u64,
    /// Σ points of accepted balance rows / of `opening_balance` events written / replayed.
    pub opening_points_in: i64,
    pub opening_points_out: i64,
    pub opening_points_replayed: Option<i64>,
    /// Per tier: accepted tier rows / `set_tier` events written / members replayed at that tier.
    pub tiers: Vec<TierCount>,
    pub purchases_out: u64,
    pub refunds_out: u64,
    pub transaction_rows_in: u64,
    pub transaction_rows_out: u64,
    /// `opening_points_in == opening_points_out` and tiers in = out (and = replayed).
    pub balanced: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct TierCount {
    pub tier: String,
    pub rows_in: u64,
    pub members_out: u64,
    pub members_replayed: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub file: String,
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
}

/// The rejected rows of a report, sorted by file and line through the external sorter (so a
/// mapping that rejects all 20 M rows does not hold them in memory). They are read once: by
/// serializing the report, or by [`Rejections::take`].
#[derive(Default)]
pub struct Rejections {
    merged: RefCell<Option<sort::Merged>>,
    files: Vec<String>,
}

impl std::fmt::Debug for Rejections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rejections")
    }
}

impl Rejections {
    fn next(&self) -> io::Result<Option<Rejected>> {
        let mut m = self.merged.borrow_mut();
        let Some(m) = m.as_mut() else {
            return Ok(None);
        };
        let Some((k, v)) = m.next_item()? else {
            return Ok(None);
        };
        let file = k
            .first_chunk::<4>()
            .map_or(usize::MAX, |b| u32::from_be_bytes(*b) as usize);
        let line = k
            .get(4..12)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, u64::from_be_bytes);
        let mut f = decode_fields(&v).into_iter();
        let has_column = f.next().unwrap_or_default() == "1";
        let column = f.next().filter(|_| has_column);
        Ok(Some(Rejected {
            file: self.files.get(file).cloned().unwrap_or_default(),
            line,
            column,
            reason: f.next().unwrap_or_default(),
        }))
    }

    /// Every rejected row not read yet, in file then line order.
    pub fn take(&self) -> Result<Vec<Rejected>, ImportError> {
        let mut out = Vec::new();
        while let Some(r) = self.next()? {
            out.push(r);
        }
        Ok(out)
    }
}

impl Serialize for Rejections {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq};
        let mut seq = s.serialize_seq(None)?;
        while let Some(r) = self.next().map_err(S::Error::custom)? {
            seq.serialize_element(&r)?;
        }
        seq.end()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Conflict {
    pub file: String,
    pub line: u64,
    pub reason: String,
    pub members: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Mismatch {
    pub member_id: String,
    pub field: &'static str,
    pub source: String,
    pub replayed: String,
}

const AMBIGUOUS: u32 = u32::MAX;
const CLASS_CUSTOMER: u8 = 0;
const CLASS_BALANCE: u8 = 1;
const CLASS_TIER: u8 = 2;
const CLASS_TX: u8 = 3;
/// Event ids the importer writes itself start with these; order ids may not.
const RESERVED: [&str; 2] = ["import:", "refund:"];

fn seq_of(file: usize, line: u64) -> u64 {
    ((file as u64) << 40) | (line & ((1 << 40) - 1))
}

fn seq_parts(seq: u64) -> (usize, u64) {
    ((seq >> 40) as usize, seq & ((1 << 40) - 1))
}

fn member_key(member: u32, class: u8, at: Option<Instant>, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(21);
    k.extend_from_slice(&member.to_be_bytes());
    k.push(class);
    let t = at.map_or(0, |a| (a.unix_seconds() as u64) ^ (1 << 63));
    k.extend_from_slice(&t.to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn key_parts(k: &[u8]) -> Option<(u32, u8, i64, u64)> {
    let (m, rest) = k.split_first_chunk::<4>()?;
    let (c, rest) = rest.split_first()?;
    let (t, rest) = rest.split_first_chunk::<8>()?;
    let (s, _) = rest.split_first_chunk::<8>()?;
    let at = (u64::from_be_bytes(*t) ^ (1 << 63)) as i64;
    Some((u32::from_be_bytes(*m), *c, at, u64::from_be_bytes(*s)))
}

/// The identity index: normalized keys → member number.
#[derive(Default)]
struct Identity {
    ids: HashMap<Box<str>, u32>,
    cards: HashMap<Box<str>, u32>,
    phones: HashMap<Box<str>, u32>,
    /// Per member: bit n set when it holds a customer id of namespace n (an `id_prefix`).
    namespaces: Vec<u64>,
    /// Customer id → the first id of its `links` group.
    links: HashMap<String, String>,
}

/// The identity keys of one row, normalized.
struct Keys {
    id: Option<String>,
    card: Option<String>,
    phone: Option<String>,
}

impl Keys {
    fn label(&self) -> String {
        if let Some(i) = &self.id {
            format!("id {i}")
        } else if let Some(c) = &self.card {
            format!("card {c}")
        } else if let Some(p) = &self.phone {
            format!("phone {p}")
        } else {
            String::from("no identity")
        }
    }
}

enum Lookup {
    Found(u32),
    Unknown,
    Fault(Role, String),
}

impl Identity {
    fn resolve_id(&self, id: String) -> String {
        self.links.get(&id).cloned().unwrap_or(id)
    }

    /// A non-customer row: the member its id, card or phone names (in that order).
    fn find(&self, k: &Keys) -> Lookup {
        let by = |map: &HashMap<Box<str>, u32>, v: &Option<String>| {
            v.as_deref().and_then(|v| map.get(v).copied())
        };
        let found = [
            ("id", Role::CustomerId, by(&self.ids, &k.id)),
            ("card", Role::Card, by(&self.cards, &k.card)),
            ("phone", Role::Phone, by(&self.phones, &k.phone)),
        ];
        let mut chosen: Option<(&str, u32)> = None;
        for (what, role, m) in found {
            let Some(m) = m else { continue };
            if m == AMBIGUOUS {
                if chosen.is_none() {
                    return Lookup::Fault(
                        role,
                        format!("the {what} is shared by several members; give the customer id"),
                    );
                }
                continue;
            }
            match chosen {
                None => chosen = Some((what, m)),
                Some((w, c)) if c != m => {
                    return Lookup::Fault(
                        role,
                        format!("the {w} and the {what} name different members"),
                    )
                }
                _ => {}
            }
        }
        match chosen {
            Some((_, m)) => Lookup::Found(m),
            None => Lookup::Unknown,
        }
    }
}

/// Everything a read row produced, for one file.
struct Ctx<'a> {
    mapping: &'a Mapping,
    zone: Zone,
    cutover: Instant,
    currency: Option<Currency>,
    valid_tiers: Option<HashSet<String>>,
    statuses: HashMap<String, &'static str>,
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

/// Runs the import: reads `opts.files`, writes member lines to `out`, returns the report.
pub fn import(opts: &Options, out: &mut dyn Write) -> Result<Report, ImportError> {
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
        statuses.insert(src.trim().to_lowercase(), s);
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
        });
    }
    for i in order {
        let (Some(fm), Some(Some(path))) = (m.files.get(i), paths.get(i)) else {
            continue;
        };
        read_file(&mut ctx, i, fm, path)?;
        ctx.check_io()?;
    }
    let dups = duplicate_orders(&mut ctx)?;
    merge(ctx, opts, &dups, out)
}

fn detect_delimiter(header: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for &b in header {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for c in counts.iter_mut() {
                if c.0 == b {
                    c.1 += 1;
                }
            }
        }
    }
    counts
        .iter()
        .max_by_key(|c| c.1)
        .filter(|c| c.1 > 0)
        .map_or(b',', |c| c.0)
}

fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "\\t".into(),
        _ => char::from(d).to_string(),
    }
}

fn read_file(ctx: &mut Ctx, fi: usize, fm: &FileMapping, path: &Path) -> Result<(), ImportError> {
    let file = File::open(path)
        .map_err(|e| ImportError(format!("cannot read {}: {e}", path.display())))?;
    let mut r = BufReader::with_capacity(1 << 20, file);
    // The header line decides the delimiter; a UTF-8 BOM is skipped.
    let mut first = Vec::new();
    r.read_until(b'\n', &mut first)?;
    let head = first
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(&first)
        .to_vec();
    let delimiter = match fm.delimiter.as_deref() {
        Some("\\t") | Some("\t") => b'\t',
        Some(d) if d.len() == 1 => d.as_bytes().first().copied().unwrap_or(b','),
        Some(d) => {
            return Err(ImportError(format!(
                "mapping: {}: delimiter {d:?} is not one character",
                fm.file
            )))
        }
        None => detect_delimiter(&head),
    };
    if let Some(fc) = ctx.report.files.get_mut(fi) {
        fc.delimiter = delimiter_name(delimiter);
    }
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(io::Cursor::new(head).chain(r));
    let headers: Vec<String> = rdr
        .byte_headers()
        .map_err(|e| ImportError(format!("{}: cannot read the header: {e}", fm.file)))?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    let mut cols: [Option<usize>; ROLE_COUNT] = [None; ROLE_COUNT];
    let mut names: [&str; ROLE_COUNT] = [""; ROLE_COUNT];
    for (role, header) in fm.columns.roles() {
        let Some(ix) = headers.iter().position(|h| h == header.trim()) else {
            return Err(ImportError(format!(
                "{}: no column {header:?} (the header has {})",
                fm.file,
                headers
                    .iter()
                    .map(|h| format!("{h:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if let Some(c) = cols.get_mut(role.index()) {
            *c = Some(ix);
        }
        if let Some(n) = names.get_mut(role.index()) {
            *n = header;
        }
    }
    let has = |r: Role| cols.get(r.index()).copied().flatten().is_some();
    let identity = has(Role::CustomerId) || has(Role::Card) || has(Role::Phone);
    let need: &[Role] = match fm.kind {
        Kind::Customers => &[],
        Kind::Balances => &[Role::Points],
        Kind::Tiers => &[Role::Tier],
        Kind::Transactions => &[Role::OrderId, Role::Time],
    };
    let missing: Vec<String> = need
        .iter()
        .filter(|r| !has(**r))
        .map(|r| format!("{r:?}"))
        .collect();
    if !identity || !missing.is_empty() {
        return Err(ImportError(format!(
            "mapping: {} ({}) needs a customer_id, card or phone column{}",
            fm.file,
            fm.kind.as_str(),
            if missing.is_empty() {
                String::new()
            } else {
                format!(" and {}", missing.join(", "))
            }
        )));
    }
    if fm.kind == Kind::Transactions && !has(Role::Amount) && !has(Role::UnitPrice) {
        return Err(ImportError(format!(
            "mapping: {} (transactions) needs an amount or unit_price column",
            fm.file
        )));
    }
    if (has(Role::Amount) || has(Role::UnitPrice)) && ctx.currency.is_none() {
        return Err(ImportError(
            "mapping: amounts need a currency (the mapping's currency or --policy)".into(),
        ));
    }
    let ns = fm.id_prefix.clone().unwrap_or_default();
    let ns_index = match ctx.namespaces.iter().position(|n| *n == ns) {
        Some(i) => i,
        None => {
            ctx.namespaces.push(ns.clone());
            ctx.namespaces.len() - 1
        }
    }
    .min(63);
    let width = headers.len();
    let mut rec = csv::ByteRecord::new();
    loop {
        let more = match rdr.read_byte_record(&mut rec) {
            Ok(m) => m,
            Err(e) => {
                // A broken quote or an I/O error: the rest of the file cannot be trusted.
                let line = e.position().map_or(0, |p| p.line());
                ctx.report.rows_read += 1;
                if let Some(f) = ctx.report.files.get_mut(fi) {
                    f.rows += 1;
                }
                ctx.reject(
                    fi,
                    line,
                    None,
                    format!("unreadable CSV, rest of the file not read: {e}"),
                );
                break;
            }
        };
        if !more {
            break;
        }
        let line = rec.position().map_or(0, |p| p.line());
        ctx.report.rows_read += 1;
        if let Some(f) = ctx.report.files.get_mut(fi) {
            f.rows += 1;
        }
        if rec.len() != width {
            ctx.reject(
                fi,
                line,
                None,
                format!("{} fields where the header has {width}", rec.len()),
            );
            continue;
        }
        let mut vals: [&str; ROLE_COUNT] = [""; ROLE_COUNT];
        let mut bad_utf8 = None;
        for (i, c) in cols.iter().enumerate() {
            let Some(c) = c else { continue };
            match std::str::from_utf8(rec.get(*c).unwrap_or_default()) {
                Ok(s) => {
                    if let Some(v) = vals.get_mut(i) {
                        *v = s.trim();
                    }
                }
                Err(_) => bad_utf8 = Some(i),
            }
        }
        if let Some(i) = bad_utf8 {
            let col = names.get(i).copied();
            ctx.reject(fi, line, col, "not UTF-8 text".into());
            continue;
        }
        let row = Row {
            fi,
            line,
            vals,
            names,
            fm,
            ns_index,
        };
        let ok = match fm.kind {
            Kind::Transactions => transaction_row(ctx, &row)?,
            _ => customer_row(ctx, &row)?,
        };
        if ok {
            if let Some(f) = ctx.report.files.get_mut(fi) {
                f.accepted += 1;
            }
        }
    }
    Ok(())
}

struct Row<'a> {
    fi: usize,
    line: u64,
    vals: [&'a str; ROLE_COUNT],
    names: [&'a str; ROLE_COUNT],
    fm: &'a FileMapping,
    ns_index: usize,
}

impl Row<'_> {
    fn get(&self, r: Role) -> &str {
        self.vals.get(r.index()).copied().unwrap_or_default()
    }
    fn opt(&self, r: Role) -> Option<&str> {
        Some(self.get(r)).filter(|s| !s.is_empty())
    }
    /// The header of the column with role `r`, if the file has one.
    fn col(&self, r: Role) -> Option<&str> {
        self.names.get(r.index()).copied().filter(|n| !n.is_empty())
    }
    /// The first identity column the file has.
    fn id_col(&self) -> Option<&str> {
        self.col(Role::CustomerId)
            .or(self.col(Role::Card))
            .or(self.col(Role::Phone))
    }
    fn decimal_comma(&self) -> bool {
        self.fm.decimal_separator.as_deref() == Some(",")
    }
    fn seq(&self) -> u64 {
        seq_of(self.fi, self.line)
    }
}

/// The identity keys of a row, or (column, reason).
fn keys(ctx: &Ctx, row: &Row) -> Result<Keys, (Role, String)> {
    let id = row.opt(Role::CustomerId).map(|i| {
        ctx.identity
            .resolve_id(format!("{}{i}", row.fm.id_prefix.as_deref().unwrap_or("")))
    });
    let card = row.opt(Role::Card).map(|c| {
        c.chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect::<String>()
            .to_uppercase()
    });
    let phone = match row.opt(Role::Phone) {
        None => None,
        Some(p) => Some(
            phone::normalize(p, ctx.mapping.default_country.as_deref())
                .map_err(|e| (Role::Phone, e))?,
        ),
    };
    if id.is_none() && card.is_none() && phone.is_none() {
        let role = [Role::CustomerId, Role::Card, Role::Phone]
            .into_iter()
            .find(|r| row.col(*r).is_some())
            .unwrap_or(Role::CustomerId);
        return Err((role, "no customer id, card or phone".to_string()));
    }
    Ok(Keys { id, card, phone })
}

/// Reads the balance and tier cells a row may carry; `Err((column, reason))` on a bad one.
struct Extras {
    points: Option<(i64, Option<Instant>)>,
    tier: Option<(String, Option<Instant>)>,
    status: Option<&'static str>,
    joined: Option<Instant>,
}

fn extras(ctx: &Ctx, row: &Row) -> Result<Extras, (Role, String)> {
    let fm = row.fm;
    let t = |r: Role, end_of_day: bool| -> Result<Option<Instant>, (Role, String)> {
        row.opt(r)
            .map(|s| {
                values::time(
                    s,
                    ctx.zone,
                    fm.time_format.as_deref(),
                    fm.date_format.as_deref(),
                    end_of_day,
                )
                .map_err(|e| (r, e))
            })
            .transpose()
    };
    let points = match row.opt(Role::Points) {
        None if fm.kind == Kind::Balances => {
            return Err((Role::Points, "no points".into()));
        }
        None => None,
        Some(p) => {
            let v = values::integer(p, row.decimal_comma()).map_err(|e| (Role::Points, e))?;
            if v < 0 {
                return Err((Role::Points, format!("negative balance {v}")));
            }
            if v > crate::money::MAX_POINTS {
                return Err((Role::Points, format!("balance {v} is out of range")));
            }
            let exp = t(Role::Expiry, true)?;
            if let Some(x) = exp {
                if x <= ctx.cutover {
                    return Err((
                        Role::Expiry,
                        format!(
                            "balance expired before the cutover ({})",
                            row.get(Role::Expiry)
                        ),
                    ));
                }
            }
            Some((v, exp))
        }
    };
    let tier = match row.opt(Role::Tier) {
        None if fm.kind == Kind::Tiers => return Err((Role::Tier, "no tier".into())),
        None => None,
        Some(name) => {
            let id = ctx
                .mapping
                .tier_names
                .get(name)
                .cloned()
                .unwrap_or_else(|| name.to_string());
            if let Some(valid) = &ctx.valid_tiers {
                if !valid.contains(&id) {
                    return Err((Role::Tier, format!("unknown tier {name:?}")));
                }
            }
            Some((id, t(Role::LockedUntil, true)?))
        }
    };
    let status = match row.opt(Role::Status) {
        None => None,
        Some(s) => {
            let k = s.to_lowercase();
            Some(
                ctx.statuses
                    .get(&k)
                    .copied()
                    .or_else(|| status_of(&k))
                    .ok_or_else(|| (Role::Status, format!("unknown status {s:?}")))?,
            )
        }
    };
    let joined = t(Role::JoinedAt, false)?;
    Ok(Extras {
        points,
        tier,
        status,
        joined,
    })
}

/// A customers, balances or tiers row.
fn customer_row(ctx: &mut Ctx, row: &Row) -> Result<bool, ImportError> {
    let (fi, line) = (row.fi, row.line);
    let k = match keys(ctx, row) {
        Ok(k) => k,
        Err((r, e)) => {
            ctx.reject(fi, line, row.col(r), e);
            return Ok(false);
        }
    };
    let x = match extras(ctx, row) {
        Ok(x) => x,
        Err((r, e)) => {
            ctx.reject(fi, line, row.col(r), e);
            return Ok(false);
        }
    };
    let member = if row.fm.kind == Kind::Customers {
        match place_customer(ctx, row, &k) {
            Ok(m) => m,
            Err((r, e)) => {
                ctx.reject(fi, line, row.col(r), e);
                return Ok(false);
            }
        }
    } else {
        match known_member(ctx, row, &k) {
            Some(m) => m,
            None => return Ok(false),
        }
    };
    let seq = row.seq();
    if row.fm.kind == Kind::Customers {
        let label = if let Some(i) = &k.id {
            format!("0{i}")
        } else if let Some(c) = &k.card {
            format!("1card:{c}")
        } else {
            format!("2phone:{}", k.phone.as_deref().unwrap_or(""))
        };
        let joined = x
            .joined
            .map(|j| j.unix_seconds().to_string())
            .unwrap_or_default();
        ctx.members.push(
            member_key(member, CLASS_CUSTOMER, None, seq),
            encode_fields(&[&label, x.status.unwrap_or(""), &joined]),
        )?;
    }
    if let Some((points, exp)) = x.points {
        let t = &mut ctx.report.totals;
        t.opening_points_in = t.opening_points_in.saturating_add(points);
        let e = exp
            .map(|e| e.unix_seconds().to_string())
            .unwrap_or_default();
        ctx.members.push(
            member_key(member, CLASS_BALANCE, None, seq),
            encode_fields(&[&points.to_string(), &e]),
        )?;
    }
    if let Some((tier, locked)) = x.tier {
        *ctx.tier_rows_in.entry(tier.clone()).or_default() += 1;
        let l = locked
            .map(|e| e.unix_seconds().to_string())
            .unwrap_or_default();
        ctx.members.push(
            member_key(member, CLASS_TIER, None, seq),
            encode_fields(&[&tier, &l]),
        )?;
    }
    Ok(true)
}

/// Finds or creates the member of a customer row: by id, then card, then phone; a match that
/// would merge two customer ids of one system, or that names two members, is not merged.
/// The member a non-customer row belongs to, or `None` after recording why the row is rejected
/// (no customers file names it, or its keys point at different members).
fn known_member(ctx: &mut Ctx, row: &Row, k: &Keys) -> Option<u32> {
    let (fi, line) = (row.fi, row.line);
    match ctx.identity.find(k) {
        Lookup::Found(m) => Some(m),
        Lookup::Unknown => {
            ctx.reject(
                fi,
                line,
                row.id_col(),
                format!(
                    "unknown customer ({}): not in any customers file",
                    k.label()
                ),
            );
            None
        }
        Lookup::Fault(r, e) => {
            ctx.reject(fi, line, row.col(r), e);
            None
        }
    }
}

fn place_customer(ctx: &mut Ctx, row: &Row, k: &Keys) -> Result<u32, (Role, String)> {
    let idn = &mut ctx.identity;
    let by_id = k.id.as_deref().and_then(|i| idn.ids.get(i).copied());
    let by_card = k.card.as_deref().and_then(|c| idn.cards.get(c).copied());
    let by_phone = k.phone.as_deref().and_then(|p| idn.phones.get(p).copied());
    let bit = 1u64 << row.ns_index;
    let mut shared_phone = false;
    let existing = match by_id {
        Some(m) => {
            if by_card.is_some_and(|c| c != m) {
                return Err((
                    Role::Card,
                    format!(
                        "card {} already belongs to another member; not merged",
                        k.card.as_deref().unwrap_or("")
                    ),
                ));
            }
            if by_phone.is_some_and(|p| p != m) {
                shared_phone = true;
            }
            Some(m)
        }
        None => {
            let card = by_card.filter(|c| *c != AMBIGUOUS);
            let phone = by_phone.filter(|p| *p != AMBIGUOUS);
            if let (Some(c), Some(p)) = (card, phone) {
                if c != p {
                    return Err((
                        Role::Phone,
                        "the card and the phone belong to different members; not merged".into(),
                    ));
                }
            }
            // Another customer id of the same system is another person.
            let other_id = |m: u32| {
                k.id.is_some() && idn.namespaces.get(m as usize).is_some_and(|b| b & bit != 0)
            };
            match (card, phone) {
                (Some(c), _) if other_id(c) => {
                    return Err((
                        Role::Card,
                        format!(
                            "card {} already belongs to another customer id; not merged",
                            k.card.as_deref().unwrap_or("")
                        ),
                    ));
                }
                (Some(c), _) => Some(c),
                (None, Some(p)) if other_id(p) => {
                    shared_phone = true;
                    None
                }
                (None, Some(p)) => Some(p),
                (None, None) => {
                    if by_phone == Some(AMBIGUOUS) {
                        if k.id.is_none() && k.card.is_none() {
                            return Err((
                                Role::Phone,
                                "the phone is shared by several members; give the customer id"
                                    .into(),
                            ));
                        }
                        shared_phone = true;
                    }
                    None
                }
            }
        }
    };
    let (member, created) = match existing {
        Some(m) => (m, false),
        None => {
            idn.namespaces.push(0);
            ((idn.namespaces.len() - 1) as u32, true)
        }
    };
    if let Some(b) = idn.namespaces.get_mut(member as usize) {
        if k.id.is_some() {
            *b |= bit;
        }
    }
    if let Some(i) = &k.id {
        idn.ids.entry(i.as_str().into()).or_insert(member);
    }
    if let Some(c) = &k.card {
        idn.cards.entry(c.as_str().into()).or_insert(member);
    }
    let mut conflict = None;
    if let Some(p) = &k.phone {
        if shared_phone {
            idn.phones.insert(p.as_str().into(), AMBIGUOUS);
            conflict = Some(p.clone());
        } else {
            idn.phones.entry(p.as_str().into()).or_insert(member);
        }
    }
    if let Some(p) = conflict {
        ctx.report.conflicts.push(Conflict {
            file: ctx.file_names.get(row.fi).cloned().unwrap_or_default(),
            line: row.line,
            reason: format!(
                "phone {p} is also the phone of another customer: kept as separate members; rows naming only this phone are rejected (link the ids in the mapping if they are one person)"
            ),
            members: vec![k.label()],
        });
    }
    if created {
        ctx.report.totals.members_in += 1;
    }
    Ok(member)
}

/// A transactions row: one line of a sale, or of a return when `refund_of` is filled.
fn transaction_row(ctx: &mut Ctx, row: &Row) -> Result<bool, ImportError> {
    let (fi, line) = (row.fi, row.line);
    let k = match keys(ctx, row) {
        Ok(k) => k,
        Err((r, e)) => {
            ctx.reject(fi, line, row.col(r), e);
            return Ok(false);
        }
    };
    let Some(member) = known_member(ctx, row, &k) else {
        return Ok(false);
    };
    let prefix = row.fm.order_prefix.as_deref().unwrap_or("");
    let order = row.opt(Role::OrderId).map(|o| format!("{prefix}{o}"));
    let refund_of = row.opt(Role::RefundOf).map(|o| format!("{prefix}{o}"));
    let seq = row.seq();
    // A bad line spoils its whole order: the other lines are rejected at the merge.
    let fail = |ctx: &mut Ctx, r: Option<Role>, reason: String| -> Result<bool, ImportError> {
        let col = r.and_then(|r| row.col(r));
        ctx.reject(fi, line, col, reason.clone());
        if let Some(o) = &order {
            let (file, _) = seq_parts(seq);
            let where_ = format!(
                "{}:{line}",
                ctx.file_names.get(file).map(String::as_str).unwrap_or("")
            );
            ctx.members.push(
                member_key(member, CLASS_TX, None, seq),
                encode_fields(&["x", o, refund_of.as_deref().unwrap_or(""), &where_]),
            )?;
        }
        Ok(false)
    };
    let Some(order_id) = order.clone() else {
        return fail(ctx, Some(Role::OrderId), "no order id".into());
    };
    if RESERVED.iter().any(|r| order_id.starts_with(r)) {
        return fail(
            ctx,
            Some(Role::OrderId),
            format!("order id {order_id:?} starts with a prefix the importer reserves"),
        );
    }
    let at = match values::time(
        row.get(Role::Time),
        ctx.zone,
        row.fm.time_format.as_deref(),
        row.fm.date_format.as_deref(),
        false,
    ) {
        Ok(t) => t,
        Err(e) => return fail(ctx, Some(Role::Time), e),
    };
    if at > ctx.cutover {
        return fail(
            ctx,
            Some(Role::Time),
            format!("{} is after the cutover", row.get(Role::Time)),
        );
    }
    let quantity = match row.opt(Role::Quantity) {
        None => 1,
        Some(q) => match values::integer(q, row.decimal_comma()) {
            Ok(q) if (1..=1_000_000).contains(&q) => q,
            Ok(q) => {
                return fail(
                    ctx,
                    Some(Role::Quantity),
                    format!("quantity {q} is not from 1 to 1000000"),
                )
            }
            Err(e) => return fail(ctx, Some(Role::Quantity), e),
        },
    };
    let Some(currency) = ctx.currency.clone() else {
        return fail(ctx, None, "no currency".into());
    };
    // Unit prices in minor units: (units, price) pairs; a line total that does not divide by
    // the quantity is split into two lines of adjacent prices with the exact total.
    let mut prices = String::new();
    if refund_of.is_none() || row.opt(Role::Amount).is_some() || row.opt(Role::UnitPrice).is_some()
    {
        let (role, raw) = if let Some(u) = row.opt(Role::UnitPrice) {
            (Role::UnitPrice, u)
        } else {
            (Role::Amount, row.get(Role::Amount))
        };
        let minor = match values::money(raw, row.decimal_comma(), &currency) {
            Ok(m) => m,
            Err(e) => return fail(ctx, Some(role), e),
        };
        let (base, rest) = if role == Role::UnitPrice {
            (minor, 0)
        } else {
            (minor / quantity, minor % quantity)
        };
        if base.checked_mul(quantity).is_none() {
            return fail(ctx, Some(role), format!("amount {raw:?} is out of range"));
        }
        prices = if rest == 0 {
            format!("{quantity}x{base}")
        } else {
            format!("{}x{base},{rest}x{}", quantity - rest, base + 1)
        };
    }
    let kind = if refund_of.is_some() { "r" } else { "p" };
    ctx.members.push(
        member_key(member, CLASS_TX, Some(at), seq),
        encode_fields(&[
            kind,
            &order_id,
            refund_of.as_deref().unwrap_or(""),
            row.get(Role::Sku),
            row.get(Role::Category),
            &quantity.to_string(),
            &prices,
            row.get(Role::Store),
            row.get(Role::Channel),
        ]),
    )?;
    let mut okey = Vec::with_capacity(order_id.len() + 13);
    okey.push(if refund_of.is_some() { b'R' } else { b'P' });
    okey.extend_from_slice(&(order_id.len() as u32).to_be_bytes());
    okey.extend_from_slice(order_id.as_bytes());
    okey.extend_from_slice(&seq.to_be_bytes());
    ctx.orders.push(
        okey,
        encode_fields(&[
            &member.to_string(),
            &fi.to_string(),
            &at.unix_seconds().to_string(),
        ]),
    )?;
    ctx.transaction_rows_in += 1;
    Ok(true)
}

/// Rows (by sequence number) that repeat an order id already used by another member, another
/// file or another time, with the reason.
fn duplicate_orders(ctx: &mut Ctx) -> Result<HashMap<u64, String>, ImportError> {
    let sorter = std::mem::replace(
        &mut ctx.orders,
        Sorter::new(std::env::temp_dir(), "unused", 0),
    );
    let mut merged = sorter.finish()?;
    let mut dups = HashMap::new();
    let mut first: Option<(Vec<u8>, Vec<String>, u64)> = None;
    while let Some((k, v)) = merged.next_item()? {
        let split = k.len().saturating_sub(8);
        let (id, seq) = k.split_at(split);
        let seq = seq.try_into().map(u64::from_be_bytes).unwrap_or_default();
        let fields = decode_fields(&v);
        match &first {
            Some((fid, ff, fseq)) if fid.as_slice() == id => {
                if *ff != fields {
                    let (file, line) = seq_parts(*fseq);
                    let name = ctx.file_names.get(file).cloned().unwrap_or_default();
                    let order = String::from_utf8_lossy(id.get(5..).unwrap_or_default());
                    dups.insert(
                        seq,
                        format!(
                            "duplicate order id {order:?} (first at {name}:{line}, another customer, file or time)"
                        ),
                    );
                }
            }
            _ => first = Some((id.to_vec(), fields, seq)),
        }
    }
    Ok(dups)
}

// ---- Output lines -------------------------------------------------------------------------

#[derive(Serialize)]
struct OutLine {
    member: OutMember,
    events: Vec<OutEvent>,
}

#[derive(Serialize)]
struct OutMember {
    id: String,
    status: &'static str,
    joined_at: String,
}

#[derive(Serialize, Default)]
struct OutEvent {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cart: Option<OutCart>,
    #[serde(skip_serializing_if = "Option::is_none")]
    earn: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lines: Option<Vec<OutRefundLine>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    points: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    locked_until: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

#[derive(Serialize)]
struct OutCart {
    #[serde(skip_serializing_if = "Option::is_none")]
    store: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<String>,
    lines: Vec<OutLineItem>,
}

#[derive(Serialize)]
struct OutLineItem {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<String>,
    quantity: i64,
    unit_price: String,
}

#[derive(Serialize)]
struct OutRefundLine {
    line_id: String,
    quantity: i64,
}

/// One member's records as they come out of the sort.
#[derive(Default)]
struct Group {
    customers: Vec<Vec<String>>,
    balances: Vec<(u64, Vec<String>)>,
    tiers: Vec<(u64, Vec<String>)>,
    tx: Vec<(i64, u64, Vec<String>)>,
}

struct Merge<'a> {
    zone: Zone,
    cutover: Instant,
    earn: bool,
    currency: Option<Currency>,
    engine: Option<&'a Engine>,
    dups: &'a HashMap<u64, String>,
    tiers_out: BTreeMap<String, u64>,
    tiers_replayed: BTreeMap<String, u64>,
    points_replayed: i64,
    tx_rows_out: u64,
    tx_rows_rejected: u64,
}

fn merge(
    mut ctx: Ctx,
    opts: &Options,
    dups: &HashMap<u64, String>,
    out: &mut dyn Write,
) -> Result<Report, ImportError> {
    let sorter = std::mem::replace(
        &mut ctx.members,
        Sorter::new(std::env::temp_dir(), "unused", 0),
    );
    let mut merged = sorter.finish()?;
    let mut mg = Merge {
        zone: ctx.zone,
        cutover: ctx.cutover,
        earn: ctx.mapping.earn,
        currency: ctx.currency.clone(),
        engine: opts.policy.as_ref(),
        dups,
        tiers_out: BTreeMap::new(),
        tiers_replayed: BTreeMap::new(),
        points_replayed: 0,
        tx_rows_out: 0,
        tx_rows_rejected: 0,
    };
    let mut current: Option<u32> = None;
    let mut group = Group::default();
    loop {
        let item = merged.next_item()?;
        let parts = item.as_ref().and_then(|(k, _)| key_parts(k));
        let member = parts.map(|p| p.0);
        if current.is_some() && member != current {
            let g = std::mem::take(&mut group);
            write_member(&mut ctx, &mut mg, g, out)?;
        }
        let (Some((_, v)), Some((m, class, at, seq))) = (item, parts) else {
            break;
        };
        current = Some(m);
        let f = decode_fields(&v);
        match class {
            CLASS_CUSTOMER => group.customers.push(f),
            CLASS_BALANCE => group.balances.push((seq, f)),
            CLASS_TIER => group.tiers.push((seq, f)),
            _ => group.tx.push((at, seq, f)),
        }
    }
    drop(merged);
    let _ = std::fs::remove_dir(&opts.temp_dir);
    ctx.check_io()?;
    // Rejections in file (mapping) order, then line order, whichever pass found them.
    let rejects = std::mem::replace(
        &mut ctx.rejects,
        Sorter::new(std::env::temp_dir(), "unused", 0),
    );
    let mut report = ctx.report;
    report.rejected = Rejections {
        merged: RefCell::new(Some(rejects.finish()?)),
        files: ctx.file_names.clone(),
    };
    let t = &mut report.totals;
    t.members_out = report.members_written;
    t.transaction_rows_in = ctx.transaction_rows_in;
    t.transaction_rows_out = mg.tx_rows_out;
    let mut names: Vec<String> = Vec::new();
    if let Some(e) = &opts.policy {
        names.extend(e.policy().tiers.levels.iter().map(|l| l.id.clone()));
    } else if let Some(list) = &ctx.mapping.tiers {
        names.extend(list.iter().cloned());
    }
    for n in ctx.tier_rows_in.keys().chain(mg.tiers_out.keys()) {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    t.opening_points_replayed = opts.policy.as_ref().map(|_| mg.points_replayed);
    let mut tiers_ok = true;
    for n in names {
        let tc = TierCount {
            rows_in: ctx.tier_rows_in.get(&n).copied().unwrap_or(0),
            members_out: mg.tiers_out.get(&n).copied().unwrap_or(0),
            members_replayed: opts
                .policy
                .as_ref()
                .map(|_| mg.tiers_replayed.get(&n).copied().unwrap_or(0)),
            tier: n,
        };
        // Replayed counts every member (untiered ones at the lowest level): compare the
        // members that had a source tier through `replay_mismatches` instead.
        tiers_ok &= tc.rows_in == tc.members_out;
        t.tiers.push(tc);
    }
    t.balanced = t.opening_points_in == t.opening_points_out
        && tiers_ok
        && t.opening_points_replayed
            .is_none_or(|r| r == t.opening_points_in)
        && t.transaction_rows_in == t.transaction_rows_out + mg.tx_rows_rejected;
    report.clean = report.rows_rejected == 0
        && report.conflicts.is_empty()
        && report.replay_mismatches.is_empty()
        && report.totals.balanced;
    Ok(report)
}

/// A row accepted when read, rejected when its member is assembled.
fn reject_at_merge(ctx: &mut Ctx, seq: u64, col: Option<Role>, reason: String) {
    let (file, line) = seq_parts(seq);
    let header = col.and_then(|r| {
        ctx.mapping
            .files
            .get(file)
            .and_then(|f| f.columns.roles().into_iter().find(|x| x.0 == r))
            .map(|x| x.1.to_string())
    });
    ctx.reject(file, line, header.as_deref(), reason);
    if let Some(f) = ctx.report.files.get_mut(file) {
        f.accepted = f.accepted.saturating_sub(1);
    }
}

fn parse_secs(s: &str) -> Option<Instant> {
    s.parse::<i64>()
        .ok()
        .and_then(|v| Instant::from_unix(v, 0).ok())
}

/// Units and minor-unit prices of a row: `"2x1000,1x1001"`.
fn parse_prices(s: &str) -> Vec<(i64, i64)> {
    s.split(',')
        .filter_map(|p| {
            let (q, v) = p.split_once('x')?;
            Some((q.parse().ok()?, v.parse().ok()?))
        })
        .collect()
}

/// A refund being built: (at, first row, refund id, order refunded, (line, units), whole).
struct RefundOut {
    at: i64,
    seq: u64,
    id: String,
    of: String,
    lines: Vec<(String, i64)>,
    whole: bool,
}

struct Purchase {
    id: String,
    at: i64,
    /// (line id, sku, units remaining)
    lines: Vec<(String, String, i64)>,
    fully_refunded: bool,
}

fn write_member(
    ctx: &mut Ctx,
    mg: &mut Merge,
    mut g: Group,
    out: &mut dyn Write,
) -> Result<(), ImportError> {
    let zone = mg.zone;
    let fmt = |secs: i64| {
        Instant::from_unix(secs, 0)
            .map(|i| zone.format(i))
            .unwrap_or_default()
    };
    // Identity and status.
    let mut label = g
        .customers
        .iter()
        .filter_map(|f| f.first())
        .min_by_key(|l| l.as_bytes().first().copied())
        .cloned()
        .unwrap_or_default();
    if !label.is_empty() {
        label.remove(0);
    }
    let mut status: Option<&'static str> = None;
    let mut unassigned = false;
    let mut joined = mg.cutover.unix_seconds();
    for f in &g.customers {
        match f.get(1).map(String::as_str) {
            Some("unassigned") => unassigned = true,
            Some(s) if !s.is_empty() && status.is_none() => status = status_of(s),
            _ => {}
        }
        if let Some(j) = f.get(2).and_then(|s| s.parse::<i64>().ok()) {
            joined = joined.min(j);
        }
    }
    let status = status.unwrap_or(if unassigned { "unassigned" } else { "active" });

    // Transactions: reject orders with a bad line, duplicates; build purchases, then refunds.
    let mut events: Vec<(i64, u64, OutEvent)> = Vec::new();
    let mut spoiled: HashMap<(bool, String), String> = HashMap::new();
    for (_, _, f) in &g.tx {
        if f.first().map(String::as_str) == Some("x") {
            let id = f.get(1).cloned().unwrap_or_default();
            let refund = !f.get(2).is_none_or(|s| s.is_empty());
            let w = f.get(3).cloned().unwrap_or_default();
            spoiled.entry((refund, id)).or_insert(w);
        }
    }
    let currency = mg.currency.clone();
    let mut purchases: Vec<Purchase> = Vec::new();
    let mut pindex: HashMap<String, usize> = HashMap::new();
    let mut carts: Vec<(u64, OutCart)> = Vec::new();
    let mut refund_rows: Vec<(i64, u64, Vec<String>)> = Vec::new();
    let mut rejects: Vec<(u64, Option<Role>, String)> = Vec::new();
    for (at, seq, f) in std::mem::take(&mut g.tx) {
        let kind = f.first().map(String::as_str).unwrap_or("");
        if kind == "x" {
            continue;
        }
        let refund = kind == "r";
        let id = f.get(1).cloned().unwrap_or_default();
        if let Some(w) = spoiled.get(&(refund, id.clone())) {
            rejects.push((seq, None, format!("order {id:?} has a rejected line ({w})")));
            continue;
        }
        if let Some(d) = mg.dups.get(&seq) {
            rejects.push((seq, Some(Role::OrderId), d.clone()));
            continue;
        }
        if refund {
            refund_rows.push((at, seq, f));
            continue;
        }
        let ix = match pindex.get(&id) {
            Some(&i) => i,
            None => {
                pindex.insert(id.clone(), purchases.len());
                purchases.push(Purchase {
                    id: id.clone(),
                    at,
                    lines: Vec::new(),
                    fully_refunded: false,
                });
                let nonempty = |i: usize| f.get(i).filter(|s| !s.is_empty()).cloned();
                carts.push((
                    seq,
                    OutCart {
                        store: nonempty(7),
                        channel: nonempty(8),
                        lines: Vec::new(),
                    },
                ));
                purchases.len() - 1
            }
        };
        let (Some(p), Some((_, cart))) = (purchases.get_mut(ix), carts.get_mut(ix)) else {
            continue;
        };
        let sku = f.get(3).cloned().unwrap_or_default();
        let category = f.get(4).cloned().unwrap_or_default();
        for (units, price) in parse_prices(f.get(6).map(String::as_str).unwrap_or("")) {
            if units <= 0 {
                continue;
            }
            let lid = (cart.lines.len() + 1).to_string();
            p.lines.push((lid.clone(), sku.clone(), units));
            cart.lines.push(OutLineItem {
                id: lid,
                sku: Some(sku.clone()).filter(|s| !s.is_empty()),
                category: Some(category.clone()).filter(|s| !s.is_empty()),
                quantity: units,
                unit_price: currency
                    .as_ref()
                    .map(|c| c.format(price))
                    .unwrap_or_else(|| price.to_string()),
            });
        }
        mg.tx_rows_out += 1;
    }
    for (p, (seq, cart)) in purchases.iter().zip(carts) {
        events.push((
            p.at,
            seq,
            OutEvent {
                id: p.id.clone(),
                kind: "purchase",
                at: fmt(p.at),
                cart: Some(cart),
                earn: if mg.earn { None } else { Some(false) },
                ..OutEvent::default()
            },
        ));
    }
    // Refunds: rows grouped by (refund id, order refunded), in time order.
    let mut refunds: Vec<RefundOut> = Vec::new();
    let mut rindex: HashMap<(String, String), usize> = HashMap::new();
    for (at, seq, f) in refund_rows {
        let rid = f.get(1).cloned().unwrap_or_default();
        let of = f.get(2).cloned().unwrap_or_default();
        let Some(&pi) = pindex.get(&of) else {
            rejects.push((
                seq,
                Some(Role::RefundOf),
                format!(
                    "refund of unknown order {of:?} (not a purchase of this customer, or rejected)"
                ),
            ));
            continue;
        };
        let Some(p) = purchases.get_mut(pi) else {
            continue;
        };
        if at < p.at {
            rejects.push((
                seq,
                Some(Role::Time),
                format!("refund before its order {of:?}"),
            ));
            continue;
        }
        if p.fully_refunded {
            rejects.push((
                seq,
                None,
                format!("refund exceeds order {of:?}: nothing left to refund"),
            ));
            continue;
        }
        let sku = f.get(3).cloned().unwrap_or_default();
        let qty: i64 = f.get(5).and_then(|q| q.parse().ok()).unwrap_or(1);
        let mut take: Vec<(String, i64)> = Vec::new();
        let whole = sku.is_empty();
        if whole {
            for l in p.lines.iter_mut() {
                l.2 = 0;
            }
            p.fully_refunded = true;
        } else {
            let avail: i64 = p.lines.iter().filter(|l| l.1 == sku).map(|l| l.2).sum();
            if avail < qty {
                rejects.push((
                    seq,
                    Some(Role::Quantity),
                    format!("refund exceeds order {of:?}: {qty} of {sku:?} returned, {avail} left"),
                ));
                continue;
            }
            let mut left = qty;
            for l in p.lines.iter_mut().filter(|l| l.1 == sku) {
                let n = left.min(l.2);
                if n > 0 {
                    take.push((l.0.clone(), n));
                    l.2 -= n;
                    left -= n;
                }
            }
            if p.lines.iter().all(|l| l.2 == 0) {
                p.fully_refunded = true;
            }
        }
        mg.tx_rows_out += 1;
        let key = (rid.clone(), of.clone());
        match rindex.get(&key) {
            Some(&ri) if !rid.is_empty() => {
                if let Some(r) = refunds.get_mut(ri) {
                    r.whole |= whole;
                    for (lid, n) in take {
                        match r.lines.iter_mut().find(|x| x.0 == lid) {
                            Some(x) => x.1 += n,
                            None => r.lines.push((lid, n)),
                        }
                    }
                }
            }
            _ => {
                rindex.insert(key, refunds.len());
                refunds.push(RefundOut {
                    at,
                    seq,
                    id: rid,
                    of,
                    lines: take,
                    whole,
                });
            }
        }
    }
    let mut refund_ids: HashSet<String> = HashSet::new();
    for RefundOut {
        at,
        seq,
        id: rid,
        of,
        lines,
        whole,
    } in refunds
    {
        let mut id = if rid.is_empty() {
            format!("refund:{of}")
        } else {
            format!("refund:{rid}")
        };
        if !refund_ids.insert(id.clone()) {
            let mut n = 2;
            while refund_ids.contains(&format!("{id}:{n}")) {
                n += 1;
            }
            id = format!("{id}:{n}");
            refund_ids.insert(id.clone());
        }
        events.push((
            at,
            seq,
            OutEvent {
                id,
                kind: "refund",
                at: fmt(at),
                order_id: Some(of),
                lines: if whole {
                    None
                } else {
                    Some(
                        lines
                            .into_iter()
                            .map(|(line_id, quantity)| OutRefundLine { line_id, quantity })
                            .collect(),
                    )
                },
                ..OutEvent::default()
            },
        ));
    }
    events.sort_by_key(|e| (e.0, e.1));
    let purchases_n = events.iter().filter(|e| e.2.kind == "purchase").count() as u64;
    let refunds_n = events.len() as u64 - purchases_n;
    if let Some((first, _, _)) = events.first() {
        joined = joined.min(*first);
    }
    // The cutover: balances, tier, status.
    let cut = mg.cutover.unix_seconds();
    let cut_s = zone.format(mg.cutover);
    let mut opening = 0i64;
    let mut lots = 0;
    for (seq, f) in &g.balances {
        let points: i64 = f.first().and_then(|p| p.parse().ok()).unwrap_or(0);
        if points == 0 {
            continue;
        }
        if opening.saturating_add(points) > crate::money::MAX_POINTS {
            let t = &mut ctx.report.totals;
            t.opening_points_in = t.opening_points_in.saturating_sub(points);
            reject_at_merge(
                ctx,
                *seq,
                Some(Role::Points),
                format!(
                    "the member's balances would add up to more than {} points",
                    crate::money::MAX_POINTS
                ),
            );
            continue;
        }
        opening += points;
        lots += 1;
        events.push((
            cut,
            u64::MAX,
            OutEvent {
                id: format!("import:opening:{lots}"),
                kind: "opening_balance",
                at: cut_s.clone(),
                points: Some(points),
                expires_at: f.get(1).and_then(|s| parse_secs(s)).map(|i| zone.format(i)),
                ..OutEvent::default()
            },
        ));
    }
    let tier = g.tiers.last().map(|(_, f)| {
        (
            f.first().cloned().unwrap_or_default(),
            f.get(1).and_then(|s| parse_secs(s)),
        )
    });
    if let Some((t, locked)) = &tier {
        events.push((
            cut,
            u64::MAX,
            OutEvent {
                id: "import:tier".into(),
                kind: "set_tier",
                at: cut_s.clone(),
                tier: Some(t.clone()),
                locked_until: locked.map(|i| zone.format(i)),
                ..OutEvent::default()
            },
        ));
    }
    if status != "active" {
        events.push((
            cut,
            u64::MAX,
            OutEvent {
                id: "import:status".into(),
                kind: "status",
                at: cut_s.clone(),
                status: Some(status),
                ..OutEvent::default()
            },
        ));
    }
    if events.len() > crate::ledger::request::MAX_EVENTS {
        // Written, but the engine will not replay it: the merchant has to decide (merge
        // old receipts into fewer orders, or leave history out).
        ctx.report.replay_mismatches.push(Mismatch {
            member_id: label.clone(),
            field: "events",
            source: events.len().to_string(),
            replayed: format!(
                "more than {} events: the engine replays at most that many per member",
                crate::ledger::request::MAX_EVENTS
            ),
        });
    }
    let line = OutLine {
        member: OutMember {
            id: label.clone(),
            status: "active",
            joined_at: fmt(joined),
        },
        events: events.into_iter().map(|e| e.2).collect(),
    };
    let text = serde_json::to_string(&line)
        .map_err(|e| ImportError(format!("cannot write member {label}: {e}")))?;
    // Rejections found at the merge, in row order.
    rejects.sort_by_key(|r| r.0);
    mg.tx_rows_rejected += rejects.len() as u64;
    for (seq, col, reason) in rejects {
        reject_at_merge(ctx, seq, col, reason);
    }
    // With a policy: the line must replay, and reproduce the source balance and tier.
    if let Some(engine) = mg.engine {
        let h: Result<MemberHistory, _> = serde_json::from_str(&text);
        let res = h.map_err(|e| e.to_string()).and_then(|h| {
            engine
                .replay(&ReplayRequest {
                    member: h.member,
                    events: h.events,
                    as_of: cut_s.clone(),
                })
                .map_err(|e| format!("{}: {} at {}", e.code.as_str(), e.message, e.path))
        });
        match res {
            Ok(r) => {
                let have = r.points.available + r.points.pending;
                mg.points_replayed = mg.points_replayed.saturating_add(have);
                *mg.tiers_replayed.entry(r.tier.id.clone()).or_default() += 1;
                if have != opening {
                    ctx.report.replay_mismatches.push(Mismatch {
                        member_id: label.clone(),
                        field: "points",
                        source: opening.to_string(),
                        replayed: have.to_string(),
                    });
                }
                if let Some((t, _)) = &tier {
                    if *t != r.tier.id {
                        ctx.report.replay_mismatches.push(Mismatch {
                            member_id: label.clone(),
                            field: "tier",
                            source: t.clone(),
                            replayed: r.tier.id.clone(),
                        });
                    }
                }
            }
            Err(e) => {
                ctx.report.replay_mismatches.push(Mismatch {
                    member_id: label.clone(),
                    field: "replay",
                    source: String::new(),
                    replayed: e,
                });
            }
        }
    }
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")?;
    ctx.report.members_written += 1;
    let t = &mut ctx.report.totals;
    t.opening_points_out = t.opening_points_out.saturating_add(opening);
    ctx.report.totals.purchases_out += purchases_n;
    ctx.report.totals.refunds_out += refunds_n;
    if let Some((t, _)) = &tier {
        *mg.tiers_out.entry(t.clone()).or_default() += 1;
    }
    Ok(())
}
