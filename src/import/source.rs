//! Reading the sources: a CSV file's delimiter, header and rows, each row's cells by role
//! handed to the customers or transactions reader.

use super::customers::customer_row;
use super::mapping::{FileMapping, Kind, Role, ROLE_COUNT};
use super::orders::transaction_row;
use super::record::seq_of;
use super::{Ctx, ImportError};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

pub(super) fn detect_delimiter(header: &[u8]) -> u8 {
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

pub(super) fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "\\t".into(),
        _ => char::from(d).to_string(),
    }
}

pub(super) fn read_file(
    ctx: &mut Ctx,
    fi: usize,
    fm: &FileMapping,
    path: &Path,
) -> Result<(), ImportError> {
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

pub(super) struct Row<'a> {
    pub(super) fi: usize,
    pub(super) line: u64,
    pub(super) vals: [&'a str; ROLE_COUNT],
    pub(super) names: [&'a str; ROLE_COUNT],
    pub(super) fm: &'a FileMapping,
    pub(super) ns_index: usize,
}

impl Row<'_> {
    pub(super) fn get(&self, r: Role) -> &str {
        self.vals.get(r.index()).copied().unwrap_or_default()
    }
    pub(super) fn opt(&self, r: Role) -> Option<&str> {
        Some(self.get(r)).filter(|s| !s.is_empty())
    }
    /// The header of the column with role `r`, if the file has one.
    pub(super) fn col(&self, r: Role) -> Option<&str> {
        self.names.get(r.index()).copied().filter(|n| !n.is_empty())
    }
    /// The first identity column the file has.
    pub(super) fn id_col(&self) -> Option<&str> {
        self.col(Role::CustomerId)
            .or(self.col(Role::Card))
            .or(self.col(Role::Phone))
    }
    pub(super) fn decimal_comma(&self) -> bool {
        self.fm.decimal_separator.as_deref() == Some(",")
    }
    pub(super) fn seq(&self) -> u64 {
        seq_of(self.fi, self.line)
    }
}
