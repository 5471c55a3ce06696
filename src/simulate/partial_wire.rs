//! The wire form of a [`Partial`]: the exact running sums of some members as JSON text, so that
//! a simulation split over processes or Web Workers / worker threads (the package's
//! `ParallelSimulation`) merges into exactly the single-threaded report.
//!
//! ```text
//! {"v":1,
//!  "draft":{"members":N,"outstanding":"i128","tiers":[N,…],
//!           "months":[{"month":K,"issued":"i128","redeemed":"i128","expired":"i128","discounts":"i128"},…]},
//!  "baseline":null | {…the same…},
//!  "moved":{"up":N,"down":N},
//!  "earliest":null | {"secs":S,"nanos":N},
//!  "rejected":[{"index":N,"member_id":"…"|null,"error":{"code","message","path"}},…]}
//! ```
//!
//! Every integer sum is written exactly: the 128-bit ones (points, minor units) as decimal
//! strings, counts as JSON integers. `K` is the month key (`year × 12 + month0`). Reading is
//! strict (every member required, no unknown ones, canonical decimal strings) and checks the
//! partial against the simulation's policies (one tier count per level, a baseline exactly when
//! the simulation has one); any fault is an `invalid_request` error, never a panic.

use super::accumulator::{Flows, MonthKey, Partial, Sums};
use super::response::{MembersMoved, Rejected};
use super::Setup;
use crate::error::{Error, ErrorBody, ErrorCode};
use crate::json::read::{read_struct, FromJson, Parser, Token};
use crate::json::Fault;
use crate::time::Instant;
use serde::{Serialize, Serializer};

/// The wire format's version (`"v"`).
const VERSION: u32 = 1;

/// Sums beyond ±2^100 cannot come from real members (each member's figures are below 2^64
/// and there are fewer than 2^36 of them in any realistic run); refusing them keeps every
/// merge of read partials far from i128 overflow.
const MAX_SUM: i128 = 1 << 100;
/// Counts beyond 2^53 − 1 likewise (and JavaScript could not count them exactly).
const MAX_COUNT: u64 = (1 << 53) - 1;

/// An i128 written as a decimal string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Big(i128);

impl Serialize for Big {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl FromJson for Big {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        let text = String::read(p)?;
        let bad = || {
            Fault::new(format!(
                "expected an integer as a decimal string within ±2^100, got {}",
                crate::error::Quoted(&text)
            ))
        };
        let v: i128 = text.parse().map_err(|_| bad())?;
        // Canonical only (no `+`, no leading zeros, no `-0`): one text per value.
        if v.to_string() != text || !(-MAX_SUM..=MAX_SUM).contains(&v) {
            return Err(bad());
        }
        Ok(Big(v))
    }
}

/// A count (members, tier members, moved): a JSON integer up to 2^53 − 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
struct Count(u64);

impl FromJson for Count {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        let n = u64::read(p)?;
        if n > MAX_COUNT {
            return Err(Fault::new(format!(
                "invalid value: integer `{n}`, expected a count up to 2^53 - 1"
            )));
        }
        Ok(Count(n))
    }
}

#[derive(Serialize)]
struct WireMonth {
    month: i64,
    issued: Big,
    redeemed: Big,
    expired: Big,
    discounts: Big,
}

impl FromJson for WireMonth {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, WireMonth {
            month: req "month",
            issued: req "issued",
            redeemed: req "redeemed",
            expired: req "expired",
            discounts: req "discounts",
        })
    }
}

#[derive(Serialize)]
struct WireSums {
    members: Count,
    outstanding: Big,
    tiers: Vec<Count>,
    months: Vec<WireMonth>,
}

impl FromJson for WireSums {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, WireSums {
            members: req "members",
            outstanding: req "outstanding",
            tiers: req "tiers",
            months: req "months",
        })
    }
}

#[derive(Serialize)]
struct WireMoved {
    up: Count,
    down: Count,
}

impl FromJson for WireMoved {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, WireMoved { up: req "up", down: req "down" })
    }
}

#[derive(Serialize)]
struct WireInstant {
    secs: i64,
    nanos: u32,
}

impl FromJson for WireInstant {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, WireInstant { secs: req "secs", nanos: req "nanos" })
    }
}

/// Every error code, in declaration order. [`code_index`] is an exhaustive match, so a new
/// code that is not listed here fails to compile (and the test checks the two agree).
pub(crate) const CODES: &[ErrorCode] = &[
    ErrorCode::InvalidPolicy,
    ErrorCode::InvalidRequest,
    ErrorCode::AmountOverflow,
    ErrorCode::LimitExceeded,
    ErrorCode::RedemptionExceedsLimit,
    ErrorCode::RedemptionBelowMinimum,
    ErrorCode::RedemptionStepMismatch,
    ErrorCode::RedemptionNotAvailable,
    ErrorCode::MemberNotActive,
    ErrorCode::UnknownTier,
    ErrorCode::DuplicateEventId,
    ErrorCode::UnknownOrder,
    ErrorCode::RefundExceedsOrder,
    ErrorCode::UnknownReward,
    ErrorCode::InsufficientPoints,
    ErrorCode::UnknownPolicy,
];

#[cfg(test)]
fn code_index(c: ErrorCode) -> usize {
    match c {
        ErrorCode::InvalidPolicy => 0,
        ErrorCode::InvalidRequest => 1,
        ErrorCode::AmountOverflow => 2,
        ErrorCode::LimitExceeded => 3,
        ErrorCode::RedemptionExceedsLimit => 4,
        ErrorCode::RedemptionBelowMinimum => 5,
        ErrorCode::RedemptionStepMismatch => 6,
        ErrorCode::RedemptionNotAvailable => 7,
        ErrorCode::MemberNotActive => 8,
        ErrorCode::UnknownTier => 9,
        ErrorCode::DuplicateEventId => 10,
        ErrorCode::UnknownOrder => 11,
        ErrorCode::RefundExceedsOrder => 12,
        ErrorCode::UnknownReward => 13,
        ErrorCode::InsufficientPoints => 14,
        ErrorCode::UnknownPolicy => 15,
    }
}

impl FromJson for ErrorCode {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        let s = match p.token()? {
            Token::Str(s) => s,
            other => return Err(crate::json::read::invalid_type(&other, "enum ErrorCode")),
        };
        CODES
            .iter()
            .copied()
            .find(|c| c.as_str() == s.as_ref())
            .ok_or_else(|| {
                let names: Vec<&str> = CODES.iter().map(|c| c.as_str()).collect();
                crate::json::read::unknown_variant(&s, &names)
            })
    }
}

impl FromJson for Error {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        let body: Result<ErrorBody, Fault> = read_struct!(p, ErrorBody {
            code: req "code",
            message: req "message",
            path: req "path",
        });
        body.map(Error::from)
    }
}

#[derive(Serialize)]
struct WireRejected {
    index: u64,
    member_id: Option<String>,
    error: Error,
}

impl FromJson for WireRejected {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, WireRejected {
            index: req "index",
            member_id: req "member_id",
            error: req "error",
        })
    }
}

#[derive(Serialize)]
struct WirePartial {
    v: u32,
    draft: WireSums,
    baseline: Option<WireSums>,
    moved: WireMoved,
    earliest: Option<WireInstant>,
    rejected: Vec<WireRejected>,
}

impl FromJson for WirePartial {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        read_struct!(p, WirePartial {
            v: req "v",
            draft: req "draft",
            baseline: req "baseline",
            moved: req "moved",
            earliest: req "earliest",
            rejected: req "rejected",
        })
    }
}

fn sums_to_wire(s: Sums) -> WireSums {
    WireSums {
        members: Count(s.members),
        outstanding: Big(s.outstanding),
        tiers: s.tiers.into_iter().map(Count).collect(),
        months: s
            .months
            .into_iter()
            .map(|(month, f)| WireMonth {
                month,
                issued: Big(f.issued),
                redeemed: Big(f.redeemed),
                expired: Big(f.expired),
                discounts: Big(f.discounts),
            })
            .collect(),
    }
}

fn sums_from_wire(w: WireSums, levels: usize, what: &str) -> Result<Sums, Fault> {
    if w.tiers.len() != levels {
        return Err(Fault::new(format!(
            "expected {levels} tier counts (one per level of the {what} policy), got {}",
            w.tiers.len()
        ))
        .at_key("tiers")
        .at_key(what));
    }
    let mut months = std::collections::BTreeMap::<MonthKey, Flows>::new();
    for (i, m) in w.months.into_iter().enumerate() {
        let flows = Flows {
            issued: m.issued.0,
            redeemed: m.redeemed.0,
            expired: m.expired.0,
            discounts: m.discounts.0,
        };
        if months.insert(m.month, flows).is_some() {
            return Err(Fault::new(format!("month {} is listed twice", m.month))
                .at_key("month")
                .at_index(i)
                .at_key("months")
                .at_key(what));
        }
    }
    Ok(Sums {
        members: w.members.0,
        outstanding: w.outstanding.0,
        tiers: w.tiers.into_iter().map(|c| c.0).collect(),
        months,
    })
}

/// The partial as JSON text (compact; see the module documentation for the shape).
pub fn to_json(p: Partial) -> String {
    let wire = WirePartial {
        v: VERSION,
        draft: sums_to_wire(p.draft),
        baseline: p.baseline.map(sums_to_wire),
        moved: WireMoved {
            up: Count(p.moved.up),
            down: Count(p.moved.down),
        },
        earliest: p.earliest.map(|t| WireInstant {
            secs: t.unix_seconds(),
            nanos: t.subsec_nanos(),
        }),
        rejected: p
            .rejected
            .into_iter()
            .map(|(index, r)| WireRejected {
                index,
                member_id: r.member_id,
                error: r.error,
            })
            .collect(),
    };
    // Integers, strings and options only: writing cannot fail.
    serde_json::to_string(&wire).unwrap_or_default()
}

/// Reads a partial written by [`to_json`] for a simulation with this `setup` (the same
/// policies): `invalid_request` with the fault's path in the partial text when it is not one.
pub fn from_json(text: &str, setup: &Setup) -> Result<Partial, Error> {
    let invalid =
        |f: Fault| Error::invalid_request(f.path(), format!("invalid partial sums: {}", f.message));
    let w: WirePartial = crate::json::read::read_text(text).map_err(invalid)?;
    if w.v != VERSION {
        return Err(invalid(
            Fault::new(format!("unknown version {}, expected {VERSION}", w.v)).at_key("v"),
        ));
    }
    let draft =
        sums_from_wire(w.draft, setup.draft.tiers.levels.len(), "draft").map_err(invalid)?;
    let baseline = match (&setup.baseline, w.baseline) {
        (Some(b), Some(s)) => {
            Some(sums_from_wire(s, b.tiers.levels.len(), "baseline").map_err(invalid)?)
        }
        (None, None) => None,
        (Some(_), None) => {
            return Err(invalid(
                Fault::new("the simulation has a baseline but these sums have none")
                    .at_key("baseline"),
            ))
        }
        (None, Some(_)) => {
            return Err(invalid(
                Fault::new("these sums have a baseline but the simulation has none")
                    .at_key("baseline"),
            ))
        }
    };
    let earliest = match w.earliest {
        None => None,
        Some(t) => Some(
            Instant::from_unix(t.secs, t.nanos)
                .map_err(|_| invalid(Fault::new("not a supported instant").at_key("earliest")))?,
        ),
    };
    Ok(Partial {
        draft,
        baseline,
        moved: MembersMoved {
            up: w.moved.up.0,
            down: w.moved.down.0,
        },
        earliest,
        rejected: w
            .rejected
            .into_iter()
            .map(|r| {
                (
                    r.index,
                    Rejected {
                        member_id: r.member_id,
                        error: r.error,
                    },
                )
            })
            .collect(),
        memos: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_is_listed() {
        for (i, c) in CODES.iter().enumerate() {
            assert_eq!(code_index(*c), i, "{}", c.as_str());
        }
        assert_eq!(CODES.len(), 16);
    }

    #[test]
    fn big_is_canonical_and_bounded() {
        let ok = |s: &str| crate::json::read::read_text::<Big>(s).map(|b| b.0).ok();
        assert_eq!(ok("\"0\""), Some(0));
        assert_eq!(ok("\"-12\""), Some(-12));
        assert_eq!(ok("\"1267650600228229401496703205376\""), Some(1 << 100));
        for bad in [
            "\"+1\"",
            "\"01\"",
            "\"-0\"",
            "\"1267650600228229401496703205377\"",
            "\"\"",
            "\"1e3\"",
            "5",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
    }
}
