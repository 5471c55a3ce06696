//! `.xlsx` exports (KiotViet, Sapo and Haravan export spreadsheets), read with `calamine`: the
//! mapping's `sheet` (default the first), the first non-empty row as the header, every later
//! row a data row whose `line` is its row number in the spreadsheet (the header's is 1 when it
//! is on the first row). Empty rows are skipped, as empty lines of a CSV are.
//!
//! Cells become the text the CSV reader would have seen: strings as they are, numbers in `.`
//! notation (marked numeric, so a file's `decimal_separator` does not apply to them) rounded to
//! 15 significant digits as the spreadsheet shows them, dates `YYYY-MM-DD` and date-times
//! `YYYY-MM-DD HH:MM:SS` (local times, to the nearest second), booleans `TRUE`/`FALSE`. A cell
//! holding a spreadsheet error (`#N/A`, `#VALUE!`…) rejects its row.
//!
//! The worksheet is held in memory while it is read (a sheet has at most 1,048,576 rows).

use super::mapping::FileMapping;
use super::source::{Cell, Layout};
use super::{Ctx, ImportError};
use calamine::{open_workbook, Data, Reader, Xlsx};
use chrono::{NaiveDate, TimeDelta};
use rust_decimal::Decimal;
use std::path::Path;

pub(super) fn read_xlsx(
    ctx: &mut Ctx,
    fi: usize,
    fm: &FileMapping,
    path: &Path,
) -> Result<(), ImportError> {
    let mut book: Xlsx<_> = open_workbook(path)
        .map_err(|e| ImportError(format!("cannot read {}: {e}", path.display())))?;
    let sheets = book.sheet_names();
    let name = match &fm.sheet {
        Some(s) => {
            if !sheets.contains(s) {
                return Err(ImportError(format!(
                    "{}: no sheet {s:?} (its sheets: {})",
                    fm.file,
                    sheets
                        .iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            s.clone()
        }
        None => sheets
            .first()
            .cloned()
            .ok_or_else(|| ImportError(format!("{}: the workbook has no sheet", fm.file)))?,
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| ImportError(format!("{}: cannot read sheet {name:?}: {e}", fm.file)))?;
    if let Some(fc) = ctx.report.files.get_mut(fi) {
        fc.delimiter = String::from("xlsx");
    }
    let first_row = range.start().map_or(0, |s| u64::from(s.0));
    let mut rows = range.rows().enumerate();
    let Some((_, header)) = rows.next() else {
        return Err(ImportError(format!(
            "{}: sheet {name:?} is empty: no header",
            fm.file
        )));
    };
    // Trailing empty header cells (formatting beyond the table) are not columns.
    let width = header
        .iter()
        .rposition(|c| !matches!(c, Data::Empty))
        .map_or(0, |i| i + 1);
    let headers: Vec<String> = header.iter().take(width).map(|c| text(c).0).collect();
    let mut layout = Layout::new(ctx, fi, fm, &headers)?;
    for (i, cells) in rows {
        if cells.iter().all(|c| matches!(c, Data::Empty)) {
            continue;
        }
        let line = first_row + i as u64 + 1;
        // Cells beyond the header's width count as extra fields only when they hold something.
        let len = cells
            .iter()
            .rposition(|c| !matches!(c, Data::Empty))
            .map_or(0, |i| i + 1)
            .max(width);
        let texts: Vec<(String, bool, Option<String>)> = cells
            .iter()
            .take(len)
            .map(|c| {
                let (t, numeric) = text(c);
                let bad = match c {
                    Data::Error(e) => Some(format!("spreadsheet error {e} in the cell")),
                    _ => None,
                };
                (t, numeric, bad)
            })
            .collect();
        let numeric = texts
            .iter()
            .enumerate()
            .filter(|(i, t)| t.1 && *i < 64)
            .fold(0u64, |m, (i, _)| m | (1 << i));
        layout.row(
            ctx,
            line,
            len,
            |c| match texts.get(c) {
                Some((_, _, Some(bad))) => Cell::Bad(bad.clone()),
                Some((t, _, None)) => Cell::Text(t),
                None => Cell::Text(""),
            },
            numeric,
        )?;
    }
    Ok(())
}

/// A cell's text, and whether it is a number.
fn text(c: &Data) -> (String, bool) {
    match c {
        Data::Empty => (String::new(), false),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => (s.clone(), false),
        Data::Int(i) => (i.to_string(), true),
        Data::Float(f) => (number(*f), true),
        Data::Bool(b) => ((if *b { "TRUE" } else { "FALSE" }).to_string(), false),
        Data::DateTime(d) if d.is_datetime() => {
            let (y, mo, da, h, mi, s, ms) = d.to_ymd_hms_milli();
            let at = NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(da))
                .and_then(|day| {
                    day.and_hms_milli_opt(u32::from(h), u32::from(mi), u32::from(s), u32::from(ms))
                })
                .and_then(|t| t.checked_add_signed(TimeDelta::milliseconds(500)));
            match at {
                // To the nearest second (a time typed 10:15 is stored as a fraction of a day).
                Some(t) if t.format("%H:%M:%S").to_string() == "00:00:00" => {
                    (t.format("%Y-%m-%d").to_string(), false)
                }
                Some(t) => (t.format("%Y-%m-%d %H:%M:%S").to_string(), false),
                None => (number(d.as_f64()), true),
            }
        }
        Data::DateTime(d) => (number(d.as_f64()), true),
        Data::Error(e) => (format!("{e}"), false),
    }
}

/// A spreadsheet number in `.` notation, to the 15 significant digits the spreadsheet keeps
/// (`0.1 + 0.2` is `0.3`, `1450000` has no `.0`).
fn number(f: f64) -> String {
    match Decimal::from_f64_retain(f).and_then(|d| d.round_sf(15)) {
        Some(d) => d.normalize().to_string(),
        None => format!("{f}"),
    }
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers_as_the_spreadsheet_shows_them() {
        assert_eq!(number(1_450_000.0), "1450000");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(-250_000.0), "-250000");
        assert_eq!(number(980_000_001.0), "980000001");
    }
}
