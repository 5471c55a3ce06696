//! Decoder for the embedded time-zone table (`tzdata.bin`).
//!
//! This file depends on nothing but `core` on purpose: `tools/tzgen` includes it with
//! `#[path]` and checks every zone it writes by decoding it with *this* code, so the generator
//! and the engine can never disagree about what the bytes mean. The format is described in the
//! module documentation of `src/time/mod.rs`.
//!
//! Every read goes through `.get()`/checked arithmetic: the decoder returns `None` on truncated
//! or garbled input and never panics, whatever bytes it is given.

/// First bytes of a table; the last byte is the format version.
pub const MAGIC: [u8; 4] = *b"LTZ\x03";

/// At most this many distinct UTC offsets per zone (the largest real zone has far fewer).
pub const MAX_ZONE_OFFSETS: usize = 16;

/// Largest |time| of a rule transition (POSIX TZ allows ±167 h).
const MAX_RULE_TIME: i64 = 168 * 3600;

/// Instants are clamped to ±2^40 s (±34 000 years) before any calendar arithmetic so that no
/// intermediate value can overflow, whatever instant a caller passes.
const CLAMP: i64 = 1 << 40;

/// Sequential reader over a byte slice; every method returns `None` past the end.
#[derive(Clone, Copy)]
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn at(buf: &'a [u8], pos: usize) -> Self {
        Reader { buf, pos }
    }

    fn u8(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    /// LEB128 unsigned, at most 63 bits of payload.
    fn varint(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift >= 63 || (shift == 56 && b > 0x7f) {
                return None;
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
        }
    }

    fn zigzag(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some(((v >> 1) as i64) ^ -((v & 1) as i64))
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month 1–12, day 1–31).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Day of week of a day number, 0 = Sunday (1970-01-01 was a Thursday).
pub fn weekday_of_days(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// One yearly switch of a recurring rule, POSIX-TZ style (`Mm.w.d/time`): the `week`-th
/// (`5` = last) `weekday` (0 = Sunday) of `month`, at `time` seconds after that day's local
/// midnight, in the wall-clock time in force *before* the switch. `time` may be negative or
/// exceed 24 h, which is how rules such as "Friday on or after the 23rd" are expressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleSpec {
    pub month: u8,
    pub week: u8,
    pub weekday: u8,
    pub time: i32,
}

impl RuleSpec {
    fn is_valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && (1..=5).contains(&self.week)
            && self.weekday <= 6
            && i64::from(self.time).abs() <= MAX_RULE_TIME
    }

    /// UTC instant of this switch in `year`, given the offset in force before it.
    pub fn utc_instant(&self, year: i64, offset_before: i32) -> i64 {
        let month = u32::from(self.month);
        let first_of_month = days_from_civil(year, month, 1);
        let shift =
            (i64::from(self.weekday) - i64::from(weekday_of_days(first_of_month))).rem_euclid(7);
        let first = first_of_month + shift;
        let day = if self.week <= 4 {
            first + 7 * (i64::from(self.week) - 1)
        } else {
            let len = i64::from(days_in_month(year, month));
            if shift + 28 < len {
                first + 28
            } else {
                first + 21
            }
        };
        day * 86_400 + i64::from(self.time) - i64::from(offset_before)
    }
}

/// A recurring yearly rule: offset `a` until `to_b`, offset `b` until `to_a`, every year.
/// Which of the two is "daylight" time does not matter to the engine, so the rule does not say
/// (it also covers zones with "negative DST" and southern-hemisphere years).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub a: i32,
    pub b: i32,
    pub to_b: RuleSpec,
    pub to_a: RuleSpec,
}

impl Rule {
    /// The offset after the latest switch at or before `t`. Looks at the switches of the UTC
    /// year of `t` and the years around it; a switch's instant lies within a few days of the
    /// year it belongs to, so the latest one at or before `t` is always among them.
    ///
    /// A switch's instants rise with the year, so each switch's latest one at or before `t` is
    /// the first found going down from the next year; the next year is skipped when `t` is
    /// more than [`MAX_RULE_TIME`] and two days before it (no switch spills that far into
    /// the year before: its time is within ±167 h of its date, offsets within a day). Two or
    /// three switch instants are computed instead of eight (this runs for every offset asked
    /// in a zone with DST).
    pub fn offset_at(&self, t: i64) -> Option<i32> {
        let t = t.clamp(-CLAMP, CLAMP);
        let (year, _, _) = civil_from_days(t.div_euclid(86_400));
        let from = if t < days_from_civil(year + 1, 1, 1) * 86_400 - MAX_RULE_TIME - 2 * 86_400 {
            year
        } else {
            year + 1
        };
        let mut best: Option<(i64, i32)> = None;
        for (spec, before, after) in [(self.to_b, self.a, self.b), (self.to_a, self.b, self.a)] {
            let latest = (year - 2..=from)
                .rev()
                .map(|y| spec.utc_instant(y, before))
                .find(|&at| at <= t);
            if let Some(at) = latest {
                if best.is_none_or(|(b, _)| at > b) {
                    best = Some((at, after));
                }
            }
        }
        best.map(|(_, off)| off)
    }
}

/// A parsed table: the version, the offset pool, the names and the zone records.
#[derive(Clone, Copy)]
pub struct Table<'a> {
    version: &'a str,
    pool: &'a [u8],
    names: &'a [u8],
    records: &'a [u8],
}

impl<'a> Table<'a> {
    /// Checks the header; `None` if `bytes` is not a table this decoder understands.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        let mut r = Reader::at(bytes, 0);
        if r.bytes(4)? != MAGIC {
            return None;
        }
        let vlen = usize::from(r.u8()?);
        let version = core::str::from_utf8(r.bytes(vlen)?).ok()?;
        let pool_len = usize::from(r.u8()?);
        let pool = r.bytes(pool_len.checked_mul(4)?)?;
        let names_len = usize::try_from(r.varint()?).ok()?;
        let names = r.bytes(names_len)?;
        Some(Table {
            version,
            pool,
            names,
            records: bytes.get(r.pos..)?,
        })
    }

    /// The tz database release the table was generated from, e.g. `2026f`.
    pub fn version(&self) -> &'a str {
        self.version
    }

    /// Every zone name with the number of its zone record, in table order (by record).
    pub fn names(&self) -> NameIter<'a> {
        NameIter {
            names: self.names,
            record: 0,
        }
    }

    /// Exact, case-sensitive lookup; returns the stored name and the decoded zone.
    pub fn lookup(&self, name: &str) -> Option<(&'a str, ZoneData<'a>)> {
        let (stored, record) = self.names().find(|(n, _)| *n == name)?;
        Some((stored, self.zone_at(record)?))
    }

    /// Decodes and fully validates zone record number `record`.
    pub fn zone_at(&self, record: usize) -> Option<ZoneData<'a>> {
        let mut r = Reader::at(self.records, 0);
        for _ in 0..record {
            let len = usize::try_from(r.varint()?).ok()?;
            r.bytes(len)?;
        }
        let len = usize::try_from(r.varint()?).ok()?;
        ZoneData::parse(self, r.bytes(len)?)
    }

    fn pool_offset(&self, index: u8) -> Option<i32> {
        let i = usize::from(index) * 4;
        let b = self.pool.get(i..i + 4)?;
        Some(i32::from_le_bytes(b.try_into().ok()?))
    }
}

/// Iterator over `(name, zone record number)`; stops at the first malformed entry.
pub struct NameIter<'a> {
    names: &'a [u8],
    record: usize,
}

impl<'a> Iterator for NameIter<'a> {
    type Item = (&'a str, usize);

    fn next(&mut self) -> Option<Self::Item> {
        // Names end with `\t` when the next name shares their record, with `\n` when it
        // is the last name of its record (any other byte below 0x20 is malformed).
        let end = control_byte(self.names)?;
        let sep = *self.names.get(end)?;
        let name = match sep {
            b'\t' | b'\n' => core::str::from_utf8(self.names.get(..end)?).ok(),
            _ => None,
        };
        let record = self.record;
        if sep == b'\n' {
            self.record += 1;
        }
        self.names = match name {
            Some(_) => self.names.get(end + 1..)?,
            None => &[],
        };
        Some((name?, record))
    }
}

/// The index of the first byte below 0x20 in `bytes` (the names are printable ASCII, so this
/// is where a name ends): eight bytes at a time, with the "has a byte less than" word trick of
/// `json::read::string_end` (a flag can be wrong only above a true one, so the lowest flag is
/// the first match). A lookup walks the whole name block: byte by byte, that was most of it.
/// A twin of `string_end` rather than a call to it: this file depends on nothing but `core`
/// (tools/tzgen includes it by path; module documentation above).
fn control_byte(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().ok()?);
        let flags = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        if flags != 0 {
            return Some(i + (flags.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let tail = bytes.get(i..)?;
    tail.iter().position(|&b| b < 0x20).map(|p| i + p)
}

/// One decoded zone: its offsets, the explicit transitions, and the optional recurring rule
/// that takes over at the last explicit transition. `Copy` and self-contained (borrows only the
/// table bytes), so a `Zone` can carry it around for free.
#[derive(Clone, Copy, Debug)]
pub struct ZoneData<'a> {
    offsets: [i32; MAX_ZONE_OFFSETS],
    n_offsets: u8,
    initial: u8,
    n_trans: u32,
    unit: i64,
    first: i64,
    /// The gaps between transitions (varints, in `unit`s), then one offset index per transition.
    gaps: &'a [u8],
    indexes: &'a [u8],
    rule: Option<Rule>,
    /// Instant of the last explicit transition (`i64::MIN` when there is none).
    tail_start: i64,
    /// Offset index in force from `tail_start` on when there is no rule.
    tail_index: u8,
}

impl<'a> ZoneData<'a> {
    fn parse(table: &Table<'a>, record: &'a [u8]) -> Option<Self> {
        let mut r = Reader::at(record, 0);
        let n_offsets = r.u8()?;
        if n_offsets == 0 || usize::from(n_offsets) > MAX_ZONE_OFFSETS {
            return None;
        }
        let mut offsets = [0i32; MAX_ZONE_OFFSETS];
        for slot in offsets.iter_mut().take(usize::from(n_offsets)) {
            *slot = table.pool_offset(r.u8()?)?;
        }
        let flags = r.u8()?;
        if flags > 1 {
            return None;
        }
        let initial = r.u8()?;
        if initial >= n_offsets {
            return None;
        }
        let n_trans = u32::try_from(r.varint()?).ok()?;
        let (mut unit, mut first, mut gaps, mut indexes) = (1i64, 0i64, &[][..], &[][..]);
        if n_trans > 0 {
            unit = i64::try_from(r.varint()?).ok()?;
            first = i64::try_from(r.varint()?).ok()?;
            if unit == 0 || unit > 86_400 || first > CLAMP {
                return None;
            }
            let start = r.pos;
            for _ in 1..n_trans {
                r.varint()?;
            }
            gaps = record.get(start..r.pos)?;
            indexes = r.bytes(usize::try_from(n_trans).ok()?)?;
        }
        let rule = if flags & 1 == 1 {
            let a_idx = r.u8()?;
            let b_idx = r.u8()?;
            if a_idx >= n_offsets || b_idx >= n_offsets || a_idx == b_idx {
                return None;
            }
            let a = *offsets.get(usize::from(a_idx))?;
            let b = *offsets.get(usize::from(b_idx))?;
            let to_b = read_spec(&mut r)?;
            let to_a = read_spec(&mut r)?;
            Some(Rule { a, b, to_b, to_a })
        } else {
            None
        };
        let mut zone = ZoneData {
            offsets,
            n_offsets,
            initial,
            n_trans,
            unit,
            first,
            gaps,
            indexes,
            rule,
            tail_start: i64::MIN,
            tail_index: initial,
        };
        // Validate every transition once, here, so lookups on a zone that parsed cannot fail.
        let mut last: Option<(i64, u8)> = None;
        for item in zone.transitions() {
            let (t, idx) = item?;
            if idx >= n_offsets || t > CLAMP || last.is_some_and(|(p, _)| t <= p) {
                return None;
            }
            last = Some((t, idx));
        }
        if let Some((t, idx)) = last {
            zone.tail_start = t;
            zone.tail_index = idx;
        }
        Some(zone)
    }

    /// The explicit transitions as `(UTC instant, offset index)`, in order; an `Err`-like
    /// `None` item marks corrupt data.
    fn transitions(&self) -> TransIter<'a> {
        TransIter {
            gaps: Reader::at(self.gaps, 0),
            indexes: self.indexes.iter(),
            left: self.n_trans,
            at: 0,
            started: false,
            unit: self.unit,
            first: self.first,
        }
    }

    /// UTC offset in seconds (east positive) at UTC instant `t` (Unix seconds).
    pub fn offset_at(&self, t: i64) -> i32 {
        if t >= self.tail_start {
            if let Some(off) = self.rule.and_then(|rule| rule.offset_at(t)) {
                return off;
            }
            return self.offset(self.tail_index);
        }
        let mut index = self.initial;
        for (at, idx) in self.transitions().map_while(|x| x) {
            if at > t {
                break;
            }
            index = idx;
        }
        self.offset(index)
    }

    fn offset(&self, index: u8) -> i32 {
        self.offsets.get(usize::from(index)).copied().unwrap_or(0)
    }

    /// The offset every local time at or after local seconds `local` has, when the zone has
    /// no more transitions there: after the last explicit transition of a zone without a
    /// recurring rule (today's Asia/Ho_Chi_Minh). `None` when that is not known this cheaply.
    pub fn settled_offset(&self, local: i64) -> Option<i32> {
        if self.rule.is_some() {
            return None;
        }
        let max = i64::from(self.offsets().iter().copied().max()?);
        (local.checked_sub(max)? >= self.tail_start).then(|| self.offset(self.tail_index))
    }

    /// The distinct UTC offsets this zone ever uses (within the table's range).
    pub fn offsets(&self) -> &[i32] {
        self.offsets
            .get(..usize::from(self.n_offsets))
            .unwrap_or(&[])
    }
}

struct TransIter<'a> {
    gaps: Reader<'a>,
    indexes: core::slice::Iter<'a, u8>,
    left: u32,
    at: i64,
    started: bool,
    unit: i64,
    first: i64,
}

impl Iterator for TransIter<'_> {
    type Item = Option<(i64, u8)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let step = (|| {
            let units = if self.started {
                i64::try_from(self.gaps.varint()?).ok()?
            } else {
                self.first
            };
            let idx = *self.indexes.next()?;
            let at = self.at.checked_add(units.checked_mul(self.unit)?)?;
            Some((at, idx))
        })();
        match step {
            Some((at, idx)) => {
                self.at = at;
                self.started = true;
                Some(Some((at, idx)))
            }
            None => {
                self.left = 0;
                Some(None)
            }
        }
    }
}

fn read_spec(r: &mut Reader<'_>) -> Option<RuleSpec> {
    let lo = r.u8()?;
    let hi = r.u8()?;
    let packed = u16::from(lo) | (u16::from(hi) << 8);
    let spec = RuleSpec {
        month: (packed & 0xf) as u8,
        week: ((packed >> 4) & 0x7) as u8,
        weekday: ((packed >> 7) & 0x7) as u8,
        time: i32::try_from(r.zigzag()?).ok()?,
    };
    spec.is_valid().then_some(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule's offset as first written: every switch of four years around `t`.
    fn offset_by_all_switches(rule: &Rule, t: i64) -> Option<i32> {
        let t = t.clamp(-CLAMP, CLAMP);
        let (year, _, _) = civil_from_days(t.div_euclid(86_400));
        let mut best: Option<(i64, i32)> = None;
        for y in year - 2..=year + 1 {
            for (spec, before, after) in [(rule.to_b, rule.a, rule.b), (rule.to_a, rule.b, rule.a)]
            {
                let at = spec.utc_instant(y, before);
                if at <= t && best.is_none_or(|(b, _)| at > b) {
                    best = Some((at, after));
                }
            }
        }
        best.map(|(_, off)| off)
    }

    /// Every zone with a recurring rule answers as when all eight switches were computed:
    /// every 61 hours over 1990–2060, and at each switch and a second either side.
    #[test]
    fn rule_offsets_match_all_switches() {
        let table = Table::parse(include_bytes!("tzdata.bin")).unwrap();
        let mut zones = 0;
        for (name, pos) in table.names() {
            let Some(rule) = table.zone_at(pos).and_then(|z| z.rule) else {
                continue;
            };
            zones += 1;
            let start = days_from_civil(1990, 1, 1) * 86_400;
            let end = days_from_civil(2060, 1, 1) * 86_400;
            let mut ts: Vec<i64> = (start..end).step_by(61 * 3600).collect();
            for y in 1990..2060 {
                for (spec, before) in [(rule.to_b, rule.a), (rule.to_a, rule.b)] {
                    let at = spec.utc_instant(y, before);
                    ts.extend([at - 1, at, at + 1]);
                }
            }
            for t in ts {
                assert_eq!(
                    rule.offset_at(t),
                    offset_by_all_switches(&rule, t),
                    "{name} at {t}"
                );
            }
        }
        assert!(zones > 50, "{zones} zones with a rule");
    }

    /// The word-at-a-time scan finds what the plain scan finds: every length 0–40 with the
    /// control byte at each place among fillers either side of 0x20 and above 0x7f, and
    /// random byte strings.
    #[test]
    fn control_byte_is_the_first_byte_below_0x20() {
        for len in 0..40 {
            for stop in [b'\t', b'\n', 0x00, 0x1f] {
                for filler in [b'a', b' ', 0x7f, 0x80, 0xff, b'/', b'_'] {
                    let mut v = vec![filler; len];
                    v.push(stop);
                    v.extend_from_slice(b"x\n\t");
                    assert_eq!(control_byte(&v), Some(len), "{v:?}");
                }
            }
            assert_eq!(control_byte(&vec![b'A'; len]), None);
        }
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 48) as usize;
            let v: Vec<u8> = (0..len)
                .map(|i| {
                    let b = (seed >> (i % 56)) as u8;
                    if b % 5 == 0 {
                        b % 0x20
                    } else {
                        b | 0x20
                    }
                })
                .collect();
            assert_eq!(control_byte(&v), v.iter().position(|&b| b < 0x20), "{v:?}");
        }
    }

    /// Rules at the limits: switches in January and December, on the first and last weeks,
    /// at ±167 h, with large offsets either way, checked every 7 hours around each new year.
    #[test]
    fn extreme_rule_offsets_match_all_switches() {
        let spec = |month: u8, week: u8, time: i32| RuleSpec {
            month,
            week,
            weekday: 3,
            time,
        };
        let h = 3600;
        for (m1, m2) in [(1, 12), (12, 1), (1, 1), (12, 12), (3, 10)] {
            for (w1, w2) in [(1, 5), (5, 1), (1, 1)] {
                for (t1, t2) in [(-167 * h, 167 * h), (167 * h, -167 * h), (0, 0)] {
                    for (a, b) in [(14 * h, -12 * h), (-12 * h, 14 * h), (3600, 7200)] {
                        let rule = Rule {
                            a,
                            b,
                            to_b: spec(m1, w1, t1),
                            to_a: spec(m2, w2, t2),
                        };
                        for y in [1999, 2000, 2024, 2025] {
                            let new_year = days_from_civil(y, 1, 1) * 86_400;
                            for k in -200..200 {
                                let t = new_year + k * 7 * i64::from(h);
                                assert_eq!(
                                    rule.offset_at(t),
                                    offset_by_all_switches(&rule, t),
                                    "{rule:?} at {t}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
