//! Synthetic member histories for simulations and benchmarks (`loyalty generate`).
//!
//! Deterministic for a seed and identical natively and in Wasm: the only randomness is a
//! SplitMix64 generator written out here, the arithmetic is integer-only (no floats anywhere),
//! and local times go through the engine's own embedded tz table. Each member draws from its
//! own stream (seed × member index), so member `i` is the same whatever `--members` is.
//!
//! The histories use only the policy-independent event shapes of SPEC §3: purchases with carts
//! (some redeeming `"max"`, so every history replays under any policy), refunds
//! (whole orders and single lines), `opening_balance` and `set_tier` (`silver` / `gold`) for
//! migrated members, goodwill `adjust`ments and `status` changes (activation of inactive members
//! and of unassigned cards, exclusions). No `redeem_reward`: reward ids belong to a policy.
//!
//! Profiles:
//! - `vn-fashion`: VND, Asia/Ho_Chi_Minh; a visit every ~25 days on average (members vary 4×),
//!   1–3 lines of apparel, shoes and accessories from 50,000 to 2,500,000 VND, rare gift cards.
//! - `sk-grocery`: EUR, Europe/Bratislava (DST); a visit every ~6 days, 1–4 lines of fresh food,
//!   dairy, bakery, drinks and household goods from €0.29 to €15.99, quantity 1–4.

use crate::error::Error;
use crate::error::Quoted;
use crate::time::{Instant, Zone};
use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime};
use serde::Deserialize;
use std::fmt::Write;

#[cfg(all(target_arch = "wasm32", feature = "full"))]
use tsify::Tsify;

/// Most members one `generate` call writes (the CLI streams; Wasm holds the text in memory).
pub const MAX_MEMBERS: u64 = 100_000_000;
/// Most months of history.
pub const MAX_MONTHS: u32 = 240;

/// What to generate.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GenerateOptions {
    /// How many members.
    pub members: u64,
    /// Any integer; the same seed gives the same histories.
    pub seed: u64,
    /// Months of history before `as_of`.
    pub months: u32,
    /// `"vn-fashion"` or `"sk-grocery"`.
    pub profile: String,
    /// End of the histories (RFC 3339); default the profile's 2026-10-01T00:00 local.
    #[serde(default)]
    pub as_of: Option<String>,
}

/// A shop's customers and baskets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    VnFashion,
    SkGrocery,
}

struct Item {
    category: &'static str,
    /// Unit price range in minor units.
    lo: i64,
    hi: i64,
    /// Prices are multiples of this (10,000 VND; 1 cent).
    step: i64,
    /// Relative frequency.
    weight: u64,
}

const FASHION: &[Item] = &[
    Item {
        category: "apparel",
        lo: 150_000,
        hi: 900_000,
        step: 10_000,
        weight: 60,
    },
    Item {
        category: "shoes",
        lo: 600_000,
        hi: 2_500_000,
        step: 50_000,
        weight: 18,
    },
    Item {
        category: "accessories",
        lo: 50_000,
        hi: 400_000,
        step: 10_000,
        weight: 20,
    },
    Item {
        category: "gift_card",
        lo: 500_000,
        hi: 1_000_000,
        step: 500_000,
        weight: 2,
    },
];

const GROCERY: &[Item] = &[
    Item {
        category: "fresh",
        lo: 49,
        hi: 899,
        step: 1,
        weight: 30,
    },
    Item {
        category: "dairy",
        lo: 49,
        hi: 499,
        step: 1,
        weight: 22,
    },
    Item {
        category: "bakery",
        lo: 29,
        hi: 399,
        step: 1,
        weight: 16,
    },
    Item {
        category: "drinks",
        lo: 59,
        hi: 1599,
        step: 1,
        weight: 16,
    },
    Item {
        category: "household",
        lo: 99,
        hi: 1599,
        step: 1,
        weight: 14,
    },
    Item {
        category: "gift_card",
        lo: 1000,
        hi: 5000,
        step: 1000,
        weight: 2,
    },
];

impl Profile {
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "vn-fashion" => Some(Profile::VnFashion),
            "sk-grocery" => Some(Profile::SkGrocery),
            _ => None,
        }
    }

    fn zone_name(self) -> &'static str {
        match self {
            Profile::VnFashion => "Asia/Ho_Chi_Minh",
            Profile::SkGrocery => "Europe/Bratislava",
        }
    }

    fn minor_units(self) -> u32 {
        match self {
            Profile::VnFashion => 0,
            Profile::SkGrocery => 2,
        }
    }

    fn items(self) -> &'static [Item] {
        match self {
            Profile::VnFashion => FASHION,
            Profile::SkGrocery => GROCERY,
        }
    }

    /// Mean days between visits for an average member.
    fn gap_days(self) -> u64 {
        match self {
            Profile::VnFashion => 25,
            Profile::SkGrocery => 6,
        }
    }

    fn max_lines(self) -> u64 {
        match self {
            Profile::VnFashion => 3,
            Profile::SkGrocery => 4,
        }
    }

    fn max_quantity(self) -> u64 {
        match self {
            Profile::VnFashion => 2,
            Profile::SkGrocery => 4,
        }
    }

    fn opening_max(self) -> u64 {
        match self {
            Profile::VnFashion => 300,
            Profile::SkGrocery => 2_000,
        }
    }

    fn stores(self) -> &'static [&'static str] {
        match self {
            Profile::VnFashion => &["hcm-01", "hcm-02", "hcm-03", "hn-01", "hn-02", "dn-01"],
            Profile::SkGrocery => &["ba-01", "ba-02", "ke-01", "za-01", "nr-01"],
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): 64-bit state, integer-only, the same on every target.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; `0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = hi.saturating_sub(lo).max(0) as u64;
        lo.saturating_add(self.below(span.saturating_add(1)) as i64)
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// The validated options: what [`member_line`] needs.
#[derive(Clone, Debug)]
pub struct Plan {
    pub members: u64,
    seed: u64,
    profile: Profile,
    zone: Zone,
    /// Local date-time of `as_of` and of the start of the history window.
    start: NaiveDateTime,
    as_of: Instant,
}

impl Plan {
    pub fn new(o: &GenerateOptions) -> Result<Plan, Error> {
        let profile = Profile::parse(&o.profile).ok_or_else(|| {
            Error::invalid_request(
                "profile",
                format!(
                    "unknown profile {}: expected \"vn-fashion\" or \"sk-grocery\"",
                    Quoted(&o.profile)
                ),
            )
        })?;
        if o.members > MAX_MEMBERS {
            return Err(Error::invalid_request(
                "members",
                format!("members must be at most {MAX_MEMBERS}"),
            ));
        }
        if o.months == 0 || o.months > MAX_MONTHS {
            return Err(Error::invalid_request(
                "months",
                format!("months must be from 1 to {MAX_MONTHS}"),
            ));
        }
        let zone = Zone::by_name(profile.zone_name())
            .ok_or_else(|| Error::invalid_request("profile", "time zone missing"))?;
        let as_of = match &o.as_of {
            Some(s) => Instant::parse_rfc3339(s)
                .map_err(|e| Error::invalid_request("as_of", format!("{}: {e}", Quoted(s))))?,
            None => NaiveDate::from_ymd_opt(2026, 10, 1)
                .and_then(|d| zone.from_local(d.and_time(NaiveTime::MIN)).ok())
                .ok_or_else(|| Error::invalid_request("as_of", "default as_of"))?,
        };
        let local_end = zone.to_local(as_of);
        let start_date = crate::time::add_months(local_end.date(), -(o.months as i32))
            .filter(|d| *d >= NaiveDate::from_ymd_opt(1973, 1, 1).unwrap_or_default())
            .ok_or_else(|| {
                Error::invalid_request("months", "the history would start before 1973")
            })?;
        Ok(Plan {
            members: o.members,
            seed: o.seed,
            profile,
            zone,
            start: start_date.and_time(NaiveTime::MIN),
            as_of,
        })
    }
}

/// One event before it is written.
struct Ev {
    at: Instant,
    /// Tie order at one instant: generation order.
    seq: u32,
    body: String,
}

/// A local wall-clock time `day` days and `minute` minutes after the window start.
fn local(plan: &Plan, day: u64, minute: u64) -> Option<Instant> {
    let t = plan
        .start
        .checked_add_days(Days::new(day))?
        .checked_add_signed(chrono::TimeDelta::try_minutes(minute as i64)?)?;
    let at = plan.zone.from_local(t).ok()?;
    (at < plan.as_of).then_some(at)
}

fn money(minor: i64, units: u32) -> String {
    let c = crate::money::Currency {
        code: String::new(),
        minor_units: units,
    };
    c.format(minor)
}

fn pick<'a>(rng: &mut SplitMix64, items: &'a [Item]) -> Option<&'a Item> {
    let total: u64 = items.iter().map(|i| i.weight).sum();
    let mut x = rng.below(total);
    for i in items {
        if x < i.weight {
            return Some(i);
        }
        x -= i.weight;
    }
    items.last()
}

/// Member `index`'s NDJSON line (`{"member":{…},"events":[…]}`, no line end).
pub fn member_line(plan: &Plan, index: u64) -> String {
    let mut rng = SplitMix64::new(plan.seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
    rng.next_u64();
    let p = plan.profile;
    let zone = plan.zone;
    let window_days = (plan.as_of.unix_seconds()
        - zone.from_local(plan.start).map_or(0, |s| s.unix_seconds()))
    .max(86_400) as u64
        / 86_400;
    let fmt = |t: Instant| zone.format(t);
    let mut events: Vec<Ev> = Vec::new();
    let mut seq = 0u32;
    let mut push = |events: &mut Vec<Ev>, at: Instant, body: String| {
        events.push(Ev { at, seq, body });
        seq += 1;
    };

    // Who the member is.
    let kind = rng.below(1000);
    let migrated = rng.chance(250);
    let (status, join_day) = if kind < 20 {
        ("unassigned", rng.below(window_days))
    } else if kind < 50 {
        ("inactive", rng.below(window_days))
    } else if migrated {
        ("active", 0)
    } else {
        ("active", rng.below(window_days))
    };
    // Migrated members joined before the window (up to 3 years); the rest in it.
    let joined_at = if migrated && status == "active" {
        let before = rng.range(1, 36 * 30);
        zone.from_local(plan.start)
            .ok()
            .and_then(|s| s.checked_add_seconds(-before * 86_400 + rng.range(0, 86_399)))
    } else {
        local(plan, join_day, rng.range(8 * 60, 20 * 60) as u64)
    };
    let Some(joined_at) = joined_at.or_else(|| zone.from_local(plan.start).ok()) else {
        return String::new();
    };
    let first_day = if migrated && status == "active" {
        0
    } else {
        join_day
    };

    if migrated && status == "active" {
        if let Some(at) = local(plan, 0, rng.range(0, 59) as u64) {
            let pts = rng.below(p.opening_max() + 1);
            push(
                &mut events,
                at,
                format!(
                    r#"{{"id":"o1","type":"opening_balance","at":"{}","points":{pts}}}"#,
                    fmt(at)
                ),
            );
            if rng.chance(200) {
                let tier = if rng.chance(300) { "gold" } else { "silver" };
                push(
                    &mut events,
                    at,
                    format!(
                        r#"{{"id":"t1","type":"set_tier","at":"{}","tier":"{tier}"}}"#,
                        fmt(at)
                    ),
                );
            }
        }
    }
    // Status changes: inactive members activate, cards get bound, a few members are excluded.
    let mut status_n = 0;
    let mut status_event = |events: &mut Vec<Ev>, rng: &mut SplitMix64, after: u64, to: &str| {
        let day = after + rng.range(1, 60) as u64;
        if let Some(at) = local(plan, day, rng.range(8 * 60, 20 * 60) as u64) {
            status_n += 1;
            events.push(Ev {
                at,
                seq: 1_000_000 + status_n,
                body: format!(
                    r#"{{"id":"s{status_n}","type":"status","at":"{}","status":"{to}"}}"#,
                    fmt(at)
                ),
            });
        }
    };
    if (status == "inactive" && rng.chance(700)) || (status == "unassigned" && rng.chance(300)) {
        status_event(&mut events, &mut rng, first_day, "active");
    }
    let excluded_from = if rng.chance(10) {
        let day = first_day + rng.below(window_days.saturating_sub(first_day).max(1));
        status_event(&mut events, &mut rng, day, "excluded");
        Some(day)
    } else {
        None
    };

    // Purchases: a member's own pace (¼× to 4× the profile's mean gap), some stop buying.
    let pace = [1u64, 2, 2, 4, 4, 4, 6, 8, 16];
    let factor = *pace
        .get(rng.below(pace.len() as u64) as usize)
        .unwrap_or(&4);
    let mean_gap = (p.gap_days() * factor / 4).max(1);
    let stop_day = if rng.chance(150) {
        first_day + rng.below(window_days.saturating_sub(first_day).max(1))
    } else {
        u64::MAX
    };
    let mut day = first_day + rng.below(mean_gap);
    let mut n = 0u32;
    let items = p.items();
    let stores = p.stores();
    let units = p.minor_units();
    while day < window_days && day < stop_day && excluded_from.is_none_or(|d| day < d) {
        let minute = rng.range(9 * 60, 21 * 60 + 30) as u64;
        let Some(at) = local(plan, day, minute) else {
            break;
        };
        if at < joined_at {
            day += 1;
            continue;
        }
        n += 1;
        let lines = 1 + rng.below(p.max_lines());
        let mut cart = String::new();
        let mut line_qty: Vec<i64> = Vec::new();
        for l in 0..lines {
            let Some(item) = pick(&mut rng, items) else {
                continue;
            };
            let steps = (item.hi - item.lo) / item.step;
            let price = item.lo + rng.range(0, steps) * item.step;
            let qty = if item.category == "gift_card" {
                1
            } else {
                1 + rng.below(p.max_quantity()) as i64
            };
            line_qty.push(qty);
            if l > 0 {
                cart.push(',');
            }
            let _ = write!(
                cart,
                r#"{{"id":"{}","category":"{}","quantity":{qty},"unit_price":"{}"}}"#,
                l + 1,
                item.category,
                money(price, units)
            );
        }
        let store = stores
            .get(rng.below(stores.len() as u64) as usize)
            .copied()
            .unwrap_or("s");
        let channel = if rng.chance(150) { "online" } else { "pos" };
        // Redemptions ask for "max": a fixed number could exceed what the member holds at that
        // moment, and generated histories must replay without errors under any policy.
        let redeem = if n > 3 && rng.chance(120) {
            r#","redeem_points":"max""#
        } else {
            ""
        };
        push(
            &mut events,
            at,
            format!(
                r#"{{"id":"p{n}","type":"purchase","at":"{}","cart":{{"store":"{store}","channel":"{channel}","lines":[{cart}]}}{redeem}}}"#,
                fmt(at)
            ),
        );
        // 4 % of purchases come back 1–20 days later: the whole order, or one unit of a line.
        if rng.chance(40) {
            let back = day + rng.range(1, 20) as u64;
            if let Some(rat) = local(plan, back, rng.range(9 * 60, 21 * 60) as u64) {
                let body = if rng.chance(600) {
                    format!(
                        r#"{{"id":"r{n}","type":"refund","at":"{}","order_id":"p{n}"}}"#,
                        fmt(rat)
                    )
                } else {
                    let l = rng.below(line_qty.len() as u64) + 1;
                    format!(
                        r#"{{"id":"r{n}","type":"refund","at":"{}","order_id":"p{n}","lines":[{{"line_id":"{l}","quantity":1}}]}}"#,
                        fmt(rat)
                    )
                };
                push(&mut events, rat, body);
            }
        }
        // Next visit: mean `mean_gap` days (sum of two uniforms: fewer very short or long gaps).
        day += 1 + rng.below(mean_gap) + rng.below(mean_gap);
    }
    // Goodwill adjustments.
    if rng.chance(20) {
        let d = first_day + rng.below(window_days.saturating_sub(first_day).max(1));
        if let Some(at) = local(plan, d, rng.range(9 * 60, 18 * 60) as u64) {
            if at >= joined_at {
                let pts = if rng.chance(800) {
                    rng.range(10, 100)
                } else {
                    -rng.range(5, 50)
                };
                push(
                    &mut events,
                    at,
                    format!(
                        r#"{{"id":"a1","type":"adjust","at":"{}","points":{pts},"reason":"goodwill"}}"#,
                        fmt(at)
                    ),
                );
            }
        }
    }
    events.retain(|e| e.at >= joined_at);
    events.sort_by_key(|e| (e.at, e.seq));
    let mut out = String::with_capacity(64 + events.len() * 180);
    let _ = write!(
        out,
        r#"{{"member":{{"id":"m{index:07}","status":"{status}","joined_at":"{}"}},"events":["#,
        fmt(joined_at)
    );
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&e.body);
    }
    out.push_str("]}");
    out
}

/// Most members [`generate`] returns as one text (≈ 500 MB): Wasm memory and JS strings are
/// bounded; the CLI streams any number with [`member_line`].
pub const MAX_TEXT_MEMBERS: u64 = 100_000;

/// Every member's line, in member order, each ending with `\n`.
pub fn generate(o: &GenerateOptions) -> Result<String, Error> {
    if o.members > MAX_TEXT_MEMBERS {
        return Err(Error::new(
            crate::ErrorCode::LimitExceeded,
            "members",
            format!(
                "generate returns at most {MAX_TEXT_MEMBERS} members as one text; `loyalty generate` streams more"
            ),
        ));
    }
    let plan = Plan::new(o)?;
    let mut out = String::new();
    for i in 0..plan.members {
        out.push_str(&member_line(&plan, i));
        out.push('\n');
    }
    Ok(out)
}

/// `generate` with options as JSON text: the NDJSON text, or `{"error":…}` JSON.
pub fn generate_json(options_json: &str) -> String {
    match crate::json::parse::<GenerateOptions>(options_json, crate::ErrorCode::InvalidRequest)
        .and_then(|o| generate(&o))
    {
        Ok(s) => s,
        Err(e) => e.to_json(),
    }
}
