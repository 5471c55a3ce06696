//! Reading the sources: a CSV file (delimiter, BOM, CRLF) or an `.xlsx` worksheet, its header
//! matched to the mapping's columns, and each data row's cells by role — filled down, walk-in
//! sales skipped — handed to the customers or transactions reader.

use super::customers::customer_row;
use super::mapping::{FileMapping, Kind, Role, ROLE_COUNT};
use super::orders::transaction_row;
use super::record::seq_of;
use super::values::fold;
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

/// Whether `path` is read as a spreadsheet (`.xlsx`) rather than as CSV.
pub(super) fn is_xlsx(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

pub(super) fn read_file(
    ctx: &mut Ctx,
    fi: usize,
    fm: &FileMapping,
    path: &Path,
) -> Result<(), ImportError> {
    if is_xlsx(path) {
        super::xlsx::read_xlsx(ctx, fi, fm, path)
    } else {
        read_csv(ctx, fi, fm, path)
    }
}

fn read_csv(ctx: &mut Ctx, fi: usize, fm: &FileMapping, path: &Path) -> Result<(), ImportError> {
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
    // CRLF line ends become LF before the CSV reader: it counts lines by LF, and after a CR it
    // reports the next record on the line before (issue 18: every row of an Excel-written CSV
    // was reported one line too low).
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(CrlfToLf::new(io::Cursor::new(head).chain(r)));
    let headers: Vec<String> = rdr
        .byte_headers()
        .map_err(|e| ImportError(format!("{}: cannot read the header: {e}", fm.file)))?
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let mut layout = Layout::new(ctx, fi, fm, &headers)?;
    let mut rec = csv::ByteRecord::new();
    loop {
        let more = match rdr.read_byte_record(&mut rec) {
            Ok(m) => m,
            Err(e) => {
                // A broken quote or an I/O error: the rest of the file cannot be trusted.
                let line = e.position().map_or(0, |p| p.line());
                layout.count_row(ctx);
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
        let cells = rec.len();
        layout.row(
            ctx,
            line,
            cells,
            |c| match std::str::from_utf8(rec.get(c).unwrap_or_default()) {
                Ok(s) => Cell::Text(s),
                Err(_) => Cell::Bad("not UTF-8 text".into()),
            },
            0,
        )?;
    }
    Ok(())
}

/// One cell as a source gives it.
pub(super) enum Cell<'a> {
    Text(&'a str),
    /// A cell that cannot be read: the row is rejected with this reason and the cell's column.
    Bad(String),
}

/// What the header told about a file — which column holds each role — and the state carried
/// from row to row (fill-down).
pub(super) struct Layout<'a> {
    fi: usize,
    fm: &'a FileMapping,
    cols: [Option<usize>; ROLE_COUNT],
    names: [&'a str; ROLE_COUNT],
    width: usize,
    ns_index: usize,
    /// Roles filled down within an order, the last non-empty value of each in the current
    /// order, and the previous row's order id.
    fill: Vec<Role>,
    prev: [String; ROLE_COUNT],
    prev_order: String,
    /// `walk_in` values, folded (NFC, lower case).
    walk_in: Vec<String>,
}

impl<'a> Layout<'a> {
    /// Matches the header to the mapping's columns (names compared trimmed, in NFC) and checks
    /// that the file has what its kind needs.
    pub(super) fn new(
        ctx: &mut Ctx,
        fi: usize,
        fm: &'a FileMapping,
        headers: &[String],
    ) -> Result<Layout<'a>, ImportError> {
        let folded: Vec<String> = headers.iter().map(|h| fold(h)).collect();
        let mut cols: [Option<usize>; ROLE_COUNT] = [None; ROLE_COUNT];
        let mut names: [&str; ROLE_COUNT] = [""; ROLE_COUNT];
        for (role, header) in fm.columns.roles() {
            let want = fold(header);
            let Some(ix) = folded.iter().position(|h| *h == want) else {
                return Err(ImportError(format!(
                    "{}: no column {header:?} (the header has {})",
                    fm.file,
                    headers
                        .iter()
                        .map(|h| format!("{:?}", h.trim()))
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
        let mut fill = Vec::new();
        for name in &fm.fill_down {
            let role = Role::by_name(name).filter(|r| has(*r)).ok_or_else(|| {
                ImportError(format!(
                    "mapping: {}: fill_down {name:?} is not a role of its columns",
                    fm.file
                ))
            })?;
            fill.push(role);
        }
        if (!fill.is_empty() || !fm.walk_in.is_empty()) && fm.kind != Kind::Transactions {
            return Err(ImportError(format!(
                "mapping: {}: fill_down and walk_in are for transactions files",
                fm.file
            )));
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
        Ok(Layout {
            fi,
            fm,
            cols,
            names,
            width: headers.len(),
            ns_index,
            fill,
            prev: Default::default(),
            prev_order: String::new(),
            walk_in: fm.walk_in.iter().map(|w| fold(w).to_lowercase()).collect(),
        })
    }

    /// Counts a data row read (accepted, rejected or skipped later).
    pub(super) fn count_row(&self, ctx: &mut Ctx) {
        ctx.report.rows_read += 1;
        if let Some(f) = ctx.report.files.get_mut(self.fi) {
            f.rows += 1;
        }
    }

    /// One data row: `len` cells, `cell(i)` the i-th; `numeric` has bit `i` set for a cell
    /// that holds a number as such (a spreadsheet's number cell: `.` is its decimal point
    /// whatever the file's `decimal_separator`).
    pub(super) fn row<'c>(
        &mut self,
        ctx: &mut Ctx,
        line: u64,
        len: usize,
        cell: impl Fn(usize) -> Cell<'c>,
        numeric: u64,
    ) -> Result<(), ImportError> {
        let fi = self.fi;
        self.count_row(ctx);
        if len != self.width {
            ctx.reject(
                fi,
                line,
                None,
                format!("{len} fields where the header has {}", self.width),
            );
            return Ok(());
        }
        let mut vals: [&str; ROLE_COUNT] = [""; ROLE_COUNT];
        let mut num: u32 = 0;
        for (i, c) in self.cols.iter().enumerate() {
            let Some(c) = *c else { continue };
            match cell(c) {
                Cell::Text(s) => {
                    if let Some(v) = vals.get_mut(i) {
                        *v = s.trim();
                    }
                }
                Cell::Bad(reason) => {
                    let col = self.names.get(i).copied();
                    ctx.reject(fi, line, col, reason);
                    return Ok(());
                }
            }
            if c < 64 && numeric & (1 << c) != 0 {
                num |= 1 << i;
            }
        }
        // Fill-down: empty cells of the listed roles take the row above's value while the row
        // belongs to the same order (the order id is the same, or empty and filled down too).
        let mut keep: Vec<(usize, String)> = Vec::new();
        let mut order_now = None;
        if !self.fill.is_empty() {
            let oi = Role::OrderId.index();
            let mut order = vals.get(oi).copied().unwrap_or_default();
            if order.is_empty() && self.fill.contains(&Role::OrderId) {
                order = self.prev_order.as_str();
                if let Some(v) = vals.get_mut(oi) {
                    *v = order;
                }
            }
            let same = !order.is_empty() && order == self.prev_order;
            order_now = Some(order.to_string());
            for r in self.fill.iter().filter(|r| **r != Role::OrderId) {
                let i = r.index();
                let (Some(v), Some(p)) = (vals.get_mut(i), self.prev.get(i)) else {
                    continue;
                };
                if !v.is_empty() {
                    keep.push((i, v.to_string()));
                } else if same {
                    *v = p.as_str();
                } else {
                    keep.push((i, String::new()));
                }
            }
        }
        let result = if self.is_walk_in(&vals) {
            ctx.report.rows_skipped += 1;
            if let Some(f) = ctx.report.files.get_mut(fi) {
                f.skipped += 1;
            }
            Ok(())
        } else {
            let row = Row {
                fi,
                line,
                vals,
                names: self.names,
                numeric: num,
                fm: self.fm,
                ns_index: self.ns_index,
            };
            let ok = match self.fm.kind {
                Kind::Transactions => transaction_row(ctx, &row),
                _ => customer_row(ctx, &row),
            };
            match ok {
                Ok(true) => {
                    if let Some(f) = ctx.report.files.get_mut(fi) {
                        f.accepted += 1;
                    }
                    Ok(())
                }
                Ok(false) => Ok(()),
                Err(e) => Err(e),
            }
        };
        for (i, v) in keep {
            if let Some(p) = self.prev.get_mut(i) {
                *p = v;
            }
        }
        if let Some(o) = order_now {
            self.prev_order = o;
        }
        result
    }

    fn is_walk_in(&self, vals: &[&str; ROLE_COUNT]) -> bool {
        if self.walk_in.is_empty() {
            return false;
        }
        [Role::CustomerId, Role::Name].iter().any(|r| {
            let v = vals.get(r.index()).copied().unwrap_or_default();
            !v.is_empty() && self.walk_in.contains(&fold(v).to_lowercase())
        })
    }
}

pub(super) struct Row<'a> {
    pub(super) fi: usize,
    pub(super) line: u64,
    pub(super) vals: [&'a str; ROLE_COUNT],
    pub(super) names: [&'a str; ROLE_COUNT],
    /// Bit `role` set: the cell was a spreadsheet number (decimal point `.`).
    pub(super) numeric: u32,
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
    /// Whether the cell of role `r` writes its decimals after a comma.
    pub(super) fn decimal_comma(&self, r: Role) -> bool {
        self.fm.decimal_separator.as_deref() == Some(",") && self.numeric & (1 << r.index()) == 0
    }
    pub(super) fn seq(&self) -> u64 {
        seq_of(self.fi, self.line)
    }
}

/// A reader that turns CRLF into LF (a CR not followed by LF is kept).
pub(super) struct CrlfToLf<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    /// A CR ended the last chunk: whether it is dropped depends on the next byte.
    cr: bool,
}

impl<R: Read> CrlfToLf<R> {
    pub(super) fn new(inner: R) -> Self {
        CrlfToLf {
            inner,
            buf: Vec::new(),
            pos: 0,
            cr: false,
        }
    }
}

impl<R: Read> Read for CrlfToLf<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.pos < self.buf.len() {
                let src = self.buf.get(self.pos..).unwrap_or_default();
                let n = src.len().min(out.len());
                if let (Some(o), Some(s)) = (out.get_mut(..n), src.get(..n)) {
                    o.copy_from_slice(s);
                }
                self.pos += n;
                return Ok(n);
            }
            self.buf.resize(64 << 10, 0);
            self.pos = 0;
            let n = self.inner.read(&mut self.buf)?;
            self.buf.truncate(n);
            if n == 0 {
                // End of input: a pending CR is a CR.
                if std::mem::take(&mut self.cr) {
                    self.buf.push(b'\r');
                    continue;
                }
                return Ok(0);
            }
            let mut cleaned = Vec::with_capacity(n + 1);
            let mut rest: &[u8] = &self.buf;
            if std::mem::take(&mut self.cr) && rest.first() != Some(&b'\n') {
                cleaned.push(b'\r');
            }
            while let Some(i) = memchr::memchr(b'\r', rest) {
                cleaned.extend_from_slice(rest.get(..i).unwrap_or_default());
                match rest.get(i + 1) {
                    Some(b'\n') => {}
                    Some(_) => cleaned.push(b'\r'),
                    None => self.cr = true,
                }
                rest = rest.get(i + 1..).unwrap_or_default();
            }
            cleaned.extend_from_slice(rest);
            self.buf = cleaned;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CrlfToLf;
    use std::io::Read;

    #[test]
    fn crlf_becomes_lf_across_chunks() {
        // A reader that hands out one byte at a time: the CR and its LF in different chunks.
        struct Bytewise<'a>(&'a [u8]);
        impl Read for Bytewise<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                match (self.0.split_first(), out.first_mut()) {
                    (Some((b, rest)), Some(o)) => {
                        *o = *b;
                        self.0 = rest;
                        Ok(1)
                    }
                    _ => Ok(0),
                }
            }
        }
        let input = b"a,b\r\n1,\"x\ry\"\r\n\r2,3\r";
        let want = b"a,b\n1,\"x\ry\"\n\r2,3\r";
        let mut got = Vec::new();
        CrlfToLf::new(Bytewise(input))
            .read_to_end(&mut got)
            .unwrap();
        assert_eq!(got, want);
        let mut got = Vec::new();
        CrlfToLf::new(&input[..]).read_to_end(&mut got).unwrap();
        assert_eq!(got, want);
    }
}
