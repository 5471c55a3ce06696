//! Reading the values of cells: amounts, points, quantities, times, and names compared in
//! Unicode NFC.

use crate::money::Currency;
use crate::time::{parse_local_or_instant, Instant, Zone};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use unicode_normalization::UnicodeNormalization;

/// A name as compared (headers, statuses, tier names, walk-in markers): trimmed and in Unicode
/// NFC, so that `Đã khóa` typed with combining marks (decomposed) equals the precomposed one.
pub fn fold(s: &str) -> String {
    let t = s.trim();
    if t.is_ascii() {
        return t.to_string();
    }
    t.nfc().collect()
}

/// Removes currency signs and grouping, makes the decimal separator `.`.
fn plain_number(raw: &str, decimal_comma: bool) -> String {
    let mut t = raw.trim();
    for sign in ["VND", "EUR", "€", "₫", "đ", "Kč", "Ft", "zł"] {
        t = t.strip_suffix(sign).unwrap_or(t).trim_end();
        t = t.strip_prefix(sign).unwrap_or(t).trim_start();
    }
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            ' ' | '\u{a0}' | '\u{202f}' | '\'' => {}
            ',' if decimal_comma => out.push('.'),
            ',' => {}
            '.' if decimal_comma => {}
            _ => out.push(c),
        }
    }
    out
}

/// A zero fraction written after an amount of a currency without minor units (`1.450.000,00`,
/// `1,450,000.00`, `250000.0`): the separator and its one or two zeros, whichever separator
/// the file declares — a group of one or two digits cannot be a thousands group.
fn strip_zero_fraction(t: &str) -> &str {
    for n in [2, 1] {
        let Some(cut) = t.len().checked_sub(n + 1) else {
            continue;
        };
        let (head, tail) = (t.get(..cut), t.get(cut..));
        let (Some(head), Some(tail)) = (head, tail) else {
            continue;
        };
        let mut cs = tail.chars();
        if matches!(cs.next(), Some('.' | ','))
            && cs.all(|c| c == '0')
            && head.ends_with(|c: char| c.is_ascii_digit())
        {
            return head;
        }
    }
    t
}

/// Money in minor units, ≥ 0. With `negative_ok` (return rows: KiotViet writes their amounts
/// negative) the sign is dropped: the row's kind says it is money going back.
pub fn money(
    raw: &str,
    decimal_comma: bool,
    currency: &Currency,
    negative_ok: bool,
) -> Result<i64, String> {
    let mut trimmed = raw.trim();
    for sign in ["VND", "EUR", "€", "₫", "đ", "Kč", "Ft", "zł"] {
        trimmed = trimmed.strip_suffix(sign).unwrap_or(trimmed).trim_end();
        trimmed = trimmed.strip_prefix(sign).unwrap_or(trimmed).trim_start();
    }
    if currency.minor_units == 0 {
        trimmed = strip_zero_fraction(trimmed);
    }
    let mut t = plain_number(trimmed, decimal_comma);
    if let Some(abs) = t.strip_prefix('-') {
        if !negative_ok {
            return Err(format!("negative amount {raw:?}"));
        }
        t = abs.to_string();
    }
    currency.to_minor(&t).ok_or_else(|| {
        format!(
            "unparseable amount {raw:?} (a decimal with at most {} fraction digits for {})",
            currency.minor_units, currency.code
        )
    })
}

/// An integer count (points, quantity).
pub fn integer(raw: &str, decimal_comma: bool) -> Result<i64, String> {
    let t = plain_number(raw, decimal_comma);
    t.parse::<i64>()
        .map_err(|_| format!("unparseable integer {raw:?}"))
}

/// A time: RFC 3339 with offset, ISO local (`2026-03-07 10:00[:00]`, `T` or space), a date
/// (local 00:00; with `end_of_day` the start of the next local day: "valid through that day"),
/// or the file's `time_format` / `date_format`.
pub fn time(
    raw: &str,
    zone: Zone,
    time_format: Option<&str>,
    date_format: Option<&str>,
    end_of_day: bool,
) -> Result<Instant, String> {
    let t = raw.trim();
    let bad = || format!("unparseable time {raw:?}");
    let date_only = |d: NaiveDate| -> Result<Instant, String> {
        let start = zone
            .from_local(d.and_time(NaiveTime::MIN))
            .map_err(|_| bad())?;
        if end_of_day {
            zone.next_day_start(start).ok_or_else(bad)
        } else {
            Ok(start)
        }
    };
    if let Some(fmt) = time_format {
        if fmt.contains("%z") || fmt.contains("%:z") || fmt.contains("%#z") {
            // The format carries the offset: the instant is written in full.
            if let Ok(d) = DateTime::parse_from_str(t, fmt) {
                return Instant::from_unix(d.timestamp(), 0).map_err(|_| bad());
            }
        } else if let Ok(l) = NaiveDateTime::parse_from_str(t, fmt) {
            return zone.from_local(l).map_err(|_| bad());
        }
    }
    if let Some(fmt) = date_format {
        if let Ok(d) = NaiveDate::parse_from_str(t, fmt) {
            return date_only(d);
        }
    }
    if t.len() == 10 {
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return date_only(d);
        }
    }
    if let Ok(i) = parse_local_or_instant(t, zone) {
        return Ok(i);
    }
    // Offsets written without a colon (`+0700`, `+07`) or after a space: `+07:00`.
    let fixed = colon_offset(t);
    let t = fixed.as_deref().unwrap_or(t);
    if fixed.is_some() {
        if let Ok(i) = parse_local_or_instant(t, zone) {
            return Ok(i);
        }
    }
    // `2026-03-07 10:00:00` (space instead of `T`), with or without offset.
    if t.len() > 10 && t.is_char_boundary(10) {
        let (d, rest) = t.split_at(10);
        if let Some(r) = rest.strip_prefix(' ') {
            let iso = format!("{d}T{r}");
            if let Ok(i) = parse_local_or_instant(&iso, zone) {
                return Ok(i);
            }
            if let Ok(i) = Instant::parse_rfc3339(&iso.replace(' ', "")) {
                return Ok(i);
            }
        }
    }
    Err(bad())
}

/// `t` with an offset at its end written `+0700`, `+07` or ` +07:00` rewritten `+07:00`, when
/// it has one in such a form.
fn colon_offset(t: &str) -> Option<String> {
    let b = t.as_bytes();
    let sign_at = b.iter().rposition(|c| *c == b'+' || *c == b'-')?;
    // Only after a time: `…HH:MM[:SS][.fff]` then the offset.
    let (head, off) = (t.get(..sign_at)?, t.get(sign_at..)?);
    let head = head.trim_end();
    if !head.ends_with(|c: char| c.is_ascii_digit()) || head.len() < 13 {
        return None;
    }
    let digits = off.get(1..)?;
    let hm = match digits.len() {
        4 if digits.bytes().all(|c| c.is_ascii_digit()) => {
            format!("{}:{}", digits.get(..2)?, digits.get(2..)?)
        }
        2 if digits.bytes().all(|c| c.is_ascii_digit()) => format!("{digits}:00"),
        5 if head.len() < t.get(..sign_at)?.len() => digits.to_string(),
        _ => return None,
    };
    let sign = off.get(..1)?;
    let head = match head.get(10..11) {
        Some(" ") => format!("{}T{}", head.get(..10)?, head.get(11..)?),
        _ => head.to_string(),
    };
    Some(format!("{head}{sign}{hm}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_times() {
        let eur = Currency {
            code: "EUR".into(),
            minor_units: 2,
        };
        let vnd = Currency {
            code: "VND".into(),
            minor_units: 0,
        };
        assert_eq!(money("12,50 €", true, &eur, false), Ok(1250));
        assert_eq!(money("1 234,5", true, &eur, false), Ok(123450));
        assert_eq!(money("1,450,000", false, &vnd, false), Ok(1450000));
        assert_eq!(money("1.450.000₫", true, &vnd, false), Ok(1450000));
        assert!(money("12.345", false, &eur, false).is_err());
        assert!(money("-5", false, &eur, false).is_err());
        assert!(money("abc", false, &eur, false).is_err());
        // Zero fractions on a currency without minor units; negative amounts on returns.
        assert_eq!(money("1,450,000.00", false, &vnd, false), Ok(1450000));
        assert_eq!(money("1.450.000,00 đ", true, &vnd, false), Ok(1450000));
        assert_eq!(money("250000.0", false, &vnd, false), Ok(250000));
        assert!(money("1.000,50", true, &vnd, false).is_err());
        assert_eq!(money("1,000", false, &vnd, false), Ok(1000));
        assert_eq!(money("-12,50 €", true, &eur, true), Ok(1250));
        assert_eq!(fold(" \u{110}a\u{303} kho\u{301}a "), "Đã khóa");
        let z = Zone::by_name("Europe/Bratislava").unwrap();
        let a = time("2026-03-07 10:00", z, None, None, false).unwrap();
        assert_eq!(z.format(a), "2026-03-07T10:00:00+01:00");
        let b = time("07.03.2026 10:00", z, Some("%d.%m.%Y %H:%M"), None, false).unwrap();
        assert_eq!(a, b);
        let e = time("31.12.2026", z, None, Some("%d.%m.%Y"), true).unwrap();
        assert_eq!(z.format(e), "2027-01-01T00:00:00+01:00");
        assert!(time("32.13.2026", z, None, Some("%d.%m.%Y"), true).is_err());
        assert!(time("2026-03-07T10:00:00+07:00", z, None, None, false).is_ok());
        // Offsets without a colon, after a space, or in the file's format.
        let want = Instant::parse_rfc3339("2026-03-07T10:00:00+07:00").unwrap();
        for s in [
            "2026-03-07T10:00:00+0700",
            "2026-03-07 10:00:00 +0700",
            "2026-03-07 10:00:00 +07:00",
            "2026-03-07T10:00:00+07",
        ] {
            assert_eq!(time(s, z, None, None, false), Ok(want), "{s}");
        }
        let f = Some("%d/%m/%Y %H:%M %z");
        assert_eq!(time("07/03/2026 10:00 +0700", z, f, None, false), Ok(want));
    }
}
