//! Reading the values of CSV cells: amounts, points, quantities, times.

use crate::money::Currency;
use crate::time::{parse_local_or_instant, Instant, Zone};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

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

/// Money in minor units, ≥ 0.
pub fn money(raw: &str, decimal_comma: bool, currency: &Currency) -> Result<i64, String> {
    let t = plain_number(raw, decimal_comma);
    if t.starts_with('-') {
        return Err(format!("negative amount {raw:?}"));
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
        if let Ok(l) = NaiveDateTime::parse_from_str(t, fmt) {
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
        assert_eq!(money("12,50 €", true, &eur), Ok(1250));
        assert_eq!(money("1 234,5", true, &eur), Ok(123450));
        assert_eq!(money("1,450,000", false, &vnd), Ok(1450000));
        assert_eq!(money("1.450.000₫", true, &vnd), Ok(1450000));
        assert!(money("12.345", false, &eur).is_err());
        assert!(money("-5", false, &eur).is_err());
        assert!(money("abc", false, &eur).is_err());
        let z = Zone::by_name("Europe/Bratislava").unwrap();
        let a = time("2026-03-07 10:00", z, None, None, false).unwrap();
        assert_eq!(z.format(a), "2026-03-07T10:00:00+01:00");
        let b = time("07.03.2026 10:00", z, Some("%d.%m.%Y %H:%M"), None, false).unwrap();
        assert_eq!(a, b);
        let e = time("31.12.2026", z, None, Some("%d.%m.%Y"), true).unwrap();
        assert_eq!(z.format(e), "2027-01-01T00:00:00+01:00");
        assert!(time("32.13.2026", z, None, Some("%d.%m.%Y"), true).is_err());
        assert!(time("2026-03-07T10:00:00+07:00", z, None, None, false).is_ok());
    }
}
