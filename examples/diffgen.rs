//! Differential-test generator (issue 6): deterministic random but VALID policies and requests.
//!
//!     cargo run --release --example diffgen -- --seed S --cases N [--start I]
//!
//! prints N NDJSON `loyalty eval` request lines. Case `i` depends only on (S, i), so any case can
//! be regenerated alone (`--start i --cases 1`). Every feature of a quote is covered: all
//! money and earning roundings, every basis, currencies with 0, 2 and 3 minor units (and a
//! `minor_units` override up to 6), time zones with DST and odd offsets, every rule condition
//! (selectors, gates, time bounds written as dates, local date-times and instants), every
//! effect and priority, member statuses and tiers, redemption settings and requests (0, N,
//! `"max"`), exclusions, caps. About 8% of the lines are `validate` and 8% `verify` (of the
//! native quote, sometimes tampered); a few requests are deliberately erroneous (unknown tier,
//! a redemption above the limit, huge amounts) so that error answers are compared too.
//!
//! `tests/node/differential.test.mjs` runs the lines through the Wasm package and the native
//! CLI and compares them byte for byte; `tests/invariants.rs` checks properties of the native
//! answers. The generator itself is included there as a module (`generate`).

#![allow(dead_code)]

use serde_json::{json, Map, Value};

/// SplitMix64: small, fast, and the same on every platform (no dependency whose stream could
/// change with a version bump).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64, case: u64) -> Rng {
        let mut r = Rng(seed ^ case.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next_u64();
        r
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [lo, hi].
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo) as u64 + 1;
        lo + (self.next_u64() % span) as i64
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
    /// A random subset (possibly empty), in the original order.
    pub fn subset<T: Clone>(&mut self, items: &[T], percent: u64) -> Vec<T> {
        items
            .iter()
            .filter(|_| self.chance(percent))
            .cloned()
            .collect()
    }
}

const CATEGORIES: &[&str] = &[
    "apparel",
    "shoes",
    "gift_card",
    "food",
    "electronics",
    "beauty",
];
const SKUS: &[&str] = &[
    "TEE-01", "RUN-42", "GC-100", "APL-7", "TV-55", "LIP-3", "SOCK-2",
];
const STORES: &[&str] = &["hcm-01", "hn-02", "web", "berlin-1"];
const CHANNELS: &[&str] = &["pos", "web", "app"];
const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const ZONES: &[&str] = &[
    "Asia/Ho_Chi_Minh",
    "Europe/Berlin",
    "Europe/Bratislava",
    "America/New_York",
    "America/Sao_Paulo",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "UTC",
    "Asia/Saigon",
];
const OFFSETS: &[&str] = &[
    "+07:00", "Z", "+00:00", "-05:00", "+05:45", "+13:45", "+01:00", "-03:00",
];

/// A currency: code, minor units, and whether `minor_units` is written.
fn currency(r: &mut Rng) -> (String, u32, Option<u32>) {
    match r.range(0, 9) {
        0 | 1 => ("VND".into(), 0, None),
        2 => ("JPY".into(), 0, None),
        3 | 4 => ("EUR".into(), 2, None),
        5 => ("USD".into(), 2, None),
        6 => ("BHD".into(), 3, None),
        7 => ("KWD".into(), 3, None),
        8 => {
            let mu = r.range(0, 6) as u32;
            ("XTS".into(), mu, Some(mu))
        }
        _ => {
            // An override of a known currency.
            let mu = r.range(0, 4) as u32;
            ("EUR".into(), mu, Some(mu))
        }
    }
}

/// A money string with at most `mu` fraction digits (trailing zeros as written, sometimes).
fn money(r: &mut Rng, mu: u32, max_units: i64) -> String {
    let minor = r.range(0, max_units.max(0));
    let digits = if mu == 0 {
        0
    } else {
        r.range(0, mu as i64) as u32
    };
    // Value = minor / 10^digits, written with exactly `digits` fraction digits.
    format_fixed(minor, digits)
}

fn format_fixed(minor: i64, digits: u32) -> String {
    if digits == 0 {
        return minor.to_string();
    }
    let s = format!("{:0>width$}", minor, width = digits as usize + 1);
    let (a, b) = s.split_at(s.len() - digits as usize);
    format!("{a}.{b}")
}

/// A rate in (0, max]: "2", "1.5", "0.25", "1.333", …
fn rate(r: &mut Rng, max_tenths: i64) -> String {
    match r.range(0, 3) {
        0 => r.range(1, (max_tenths / 10).max(1)).to_string(),
        1 => format_fixed(r.range(1, max_tenths), 1),
        2 => format_fixed(r.range(1, max_tenths * 10), 2),
        _ => format_fixed(r.range(1, max_tenths * 100), 3),
    }
}

fn percent(r: &mut Rng) -> String {
    match r.range(0, 4) {
        0 => "0".into(),
        1 => r.range(1, 30).to_string(),
        2 => format_fixed(r.range(1, 999), 1),
        3 => "100".into(),
        _ => format_fixed(r.range(1, 9999), 2),
    }
}

/// A local date (and sometimes time) in 2020–2030, written as a date, a local date-time or an
/// RFC 3339 instant.
fn time_bound(r: &mut Rng) -> String {
    let (y, m, d) = (r.range(2020, 2030), r.range(1, 12), r.range(1, 28));
    match r.range(0, 2) {
        0 => format!("{y:04}-{m:02}-{d:02}"),
        1 => format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}",
            r.range(0, 23),
            r.range(0, 59)
        ),
        _ => format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{}",
            r.range(0, 23),
            r.range(0, 59),
            r.range(0, 59),
            r.pick(OFFSETS)
        ),
    }
}

fn instant(r: &mut Rng) -> String {
    // Around DST changes now and then (last Sunday of March / October, early November).
    let (y, m, d) = if r.chance(20) {
        (
            r.range(2024, 2028),
            *r.pick(&[3, 10, 11, 4]),
            r.range(24, 31).min(30),
        )
    } else {
        (r.range(2020, 2030), r.range(1, 12), r.range(1, 28))
    };
    let frac = if r.chance(10) {
        format!(".{}", r.range(0, 999_999))
    } else {
        String::new()
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}{}",
        r.range(0, 23),
        r.range(0, 59),
        r.range(0, 59),
        r.pick(OFFSETS)
    )
}

struct Ctx {
    mu: u32,
    levels: Vec<String>,
    rewards: Vec<String>,
}

fn opt(
    m: &mut Map<String, Value>,
    r: &mut Rng,
    percent: u64,
    key: &str,
    v: impl FnOnce(&mut Rng) -> Value,
) {
    if r.chance(percent) {
        m.insert(key.into(), v(r));
    }
}

/// One random valid policy; also returns what requests need to know about it.
fn policy(r: &mut Rng) -> (Value, Ctx) {
    let (code, mu, written_mu) = currency(r);
    let scale = 10i64.pow(mu); // minor units per major unit
    let mut p = Map::new();
    p.insert("schema".into(), json!(1));
    p.insert("id".into(), json!(format!("policy-{}", r.range(1, 999))));
    p.insert("currency".into(), json!(code));
    if let Some(m) = written_mu {
        p.insert("minor_units".into(), json!(m));
    }
    p.insert("time_zone".into(), json!(r.pick(ZONES)));
    opt(&mut p, r, 70, "money_rounding", |r| {
        json!(r.pick(&["half_up", "half_even", "down"]))
    });

    // Tiers first: rules may reference their ids.
    let n_levels = r.range(1, 4) as usize;
    let level_ids: Vec<String> = ["member", "silver", "gold", "platinum"][..n_levels]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let has_tiers = n_levels > 1 || r.chance(50);
    let levels_known: Vec<String> = if has_tiers {
        level_ids.clone()
    } else {
        vec!["member".into()]
    };

    // Earning.
    let mut e = Map::new();
    let spend_units = *r.pick(&[1, 10, 100, 1000, 100_000]);
    let half = if r.chance(20) { scale / 2 } else { 0 };
    e.insert(
        "spend".into(),
        json!(format_fixed(spend_units * scale + half, mu)),
    );
    e.insert("points".into(), json!(r.range(1, 5)));
    opt(&mut e, r, 70, "rounding", |r| {
        json!(r.pick(&["floor", "half_up", "ceil"]))
    });
    opt(&mut e, r, 70, "basis", |r| {
        json!(r.pick(&["paid", "after_discount", "gross"]))
    });
    opt(&mut e, r, 50, "exclude_categories", |r| {
        json!(r.subset(&["gift_card", "food"], 60))
    });
    opt(&mut e, r, 30, "pending_days", |r| json!(r.range(0, 30)));
    opt(&mut e, r, 30, "max_points_per_order", |r| {
        if r.chance(20) {
            Value::Null
        } else {
            json!(r.range(0, 500))
        }
    });
    let n_rules = r.range(0, 6);
    let mut rules = Vec::new();
    for i in 0..n_rules {
        let mut rule = Map::new();
        rule.insert("id".into(), json!(format!("rule-{i}")));
        opt(&mut rule, r, 30, "priority", |r| json!(r.range(-3, 3)));
        if r.chance(85) {
            let mut w = Map::new();
            opt(&mut w, r, 35, "categories", |r| {
                json!(r.subset(CATEGORIES, 40))
            });
            opt(&mut w, r, 20, "skus", |r| json!(r.subset(SKUS, 40)));
            opt(&mut w, r, 15, "stores", |r| json!(r.subset(STORES, 50)));
            opt(&mut w, r, 15, "channels", |r| json!(r.subset(CHANNELS, 50)));
            let known = levels_known.clone();
            opt(&mut w, r, 15, "tiers", |r| json!(r.subset(&known, 50)));
            opt(&mut w, r, 20, "days_of_week", |r| json!(r.subset(DAYS, 50)));
            opt(&mut w, r, 15, "min_subtotal", |r| {
                json!(money(r, mu, 500 * scale))
            });
            opt(&mut w, r, 15, "from", |r| json!(time_bound(r)));
            opt(&mut w, r, 15, "until", |r| json!(time_bound(r)));
            rule.insert("when".into(), Value::Object(w));
        }
        match r.range(0, 2) {
            0 => rule.insert("multiplier".into(), json!(rate(r, 40))),
            1 => rule.insert("bonus_points".into(), json!(r.range(0, 50))),
            _ => rule.insert("points_per_item".into(), json!(r.range(0, 10))),
        };
        rules.push(Value::Object(rule));
    }
    if !rules.is_empty() || r.chance(50) {
        e.insert("rules".into(), Value::Array(rules));
    }
    p.insert("earning".into(), Value::Object(e));

    if has_tiers {
        let mut t = Map::new();
        let metric = *r.pick(&["points", "spend", "orders"]);
        if metric != "points" || r.chance(50) {
            t.insert("metric".into(), json!(metric));
        }
        opt(&mut t, r, 50, "window", |r| match r.range(0, 2) {
            0 => json!("lifetime"),
            1 => json!("calendar_year"),
            _ => json!({ "rolling_months": r.range(1, 24) }),
        });
        let mut threshold = 0i64;
        let mut levels = Vec::new();
        for (i, id) in level_ids.iter().enumerate() {
            if i > 0 {
                threshold += r.range(1, 2000);
            }
            let th = if metric == "spend" {
                format_fixed(threshold * scale, mu)
            } else {
                threshold.to_string()
            };
            let mut l = Map::new();
            l.insert("id".into(), json!(id));
            l.insert("name".into(), json!(id.to_uppercase()));
            l.insert("threshold".into(), json!(th));
            opt(&mut l, r, 60, "discount_percent", |r| json!(percent(r)));
            opt(&mut l, r, 40, "earn_multiplier", |r| json!(rate(r, 30)));
            levels.push(Value::Object(l));
        }
        t.insert("levels".into(), Value::Array(levels));
        opt(&mut t, r, 40, "discount_exclude_categories", |r| {
            json!(r.subset(&["gift_card", "food", "electronics"], 50))
        });
        opt(&mut t, r, 40, "downgrade", |r| {
            let mut d = Map::new();
            opt(&mut d, r, 80, "review", |r| {
                json!(r.pick(&["never", "anniversary", "calendar_year_end", "half_year_end"]))
            });
            opt(&mut d, r, 50, "retain_months", |r| json!(r.range(0, 24)));
            opt(&mut d, r, 50, "max_steps", |r| {
                if r.chance(30) {
                    Value::Null
                } else {
                    json!(r.range(1, 3))
                }
            });
            Value::Object(d)
        });
        p.insert("tiers".into(), Value::Object(t));
    }

    if r.chance(75) {
        let mut red = Map::new();
        // A multiple of the minor unit, > 0.
        let pv_minor = *r.pick(&[1, 5, 10, 100, 1000, 2500]);
        red.insert("point_value".into(), json!(format_fixed(pv_minor, mu)));
        opt(&mut red, r, 50, "min_points", |r| json!(r.range(1, 50)));
        opt(&mut red, r, 50, "step", |r| {
            json!(*r.pick(&[1, 1, 5, 10, 7]))
        });
        opt(&mut red, r, 60, "max_share", |r| {
            json!(r
                .pick(&["1", "0.5", "0.3", "0.25", "0.333", "0.05", "0.999"])
                .to_string())
        });
        opt(&mut red, r, 40, "max_points_per_order", |r| {
            if r.chance(20) {
                Value::Null
            } else {
                json!(r.range(0, 5000))
            }
        });
        p.insert("redemption".into(), Value::Object(red));
    }
    let mut reward_ids: Vec<String> = Vec::new();
    if r.chance(40) {
        let known = levels_known.clone();
        let rewards: Vec<Value> = (0..r.range(0, 3))
            .map(|i| {
                let mut w = json!({ "id": format!("reward-{i}"), "name": format!("Reward {i}"), "points": r.range(1, 1000) });
                if r.chance(50) {
                    w["min_tier"] = json!(r.pick(&known));
                }
                w
            })
            .collect();
        reward_ids = rewards
            .iter()
            .filter_map(|w| w["id"].as_str().map(String::from))
            .collect();
        p.insert("rewards".into(), Value::Array(rewards));
    }
    opt(&mut p, r, 50, "expiry", |r| match r.range(0, 3) {
        0 => json!({ "kind": "never" }),
        1 => json!({ "kind": "after", "months": r.range(1, 36) }),
        2 => {
            let mut x =
                json!({ "kind": "end_of_period", "period": r.pick(&["month", "quarter", "year"]) });
            if r.chance(60) {
                x["after"] = json!(r.range(0, 3));
            }
            x
        }
        _ => json!({ "kind": "inactivity", "months": r.range(1, 24) }),
    });
    opt(&mut p, r, 30, "expiry_notice_days", |r| {
        json!(r.range(0, 60))
    });
    opt(&mut p, r, 50, "members", |r| {
        let mut m = Map::new();
        opt(&mut m, r, 70, "inactive_earns", |r| json!(r.chance(50)));
        opt(&mut m, r, 70, "unassigned_card_earns", |r| {
            json!(r.chance(50))
        });
        Value::Object(m)
    });
    opt(
        &mut p,
        r,
        30,
        "refunds",
        |r| json!({ "clawback": r.pick(&["unlimited", "within_balance"]) }),
    );
    (
        Value::Object(p),
        Ctx {
            mu,
            levels: levels_known,
            rewards: reward_ids,
        },
    )
}

/// A quote request (member, cart, redeem_points) for a policy.
fn quote_request(r: &mut Rng, cx: &Ctx) -> Value {
    let scale = 10i64.pow(cx.mu);
    let mut member = json!({
        "id": format!("m-{}", r.range(1, 9999)),
        "status": if r.chance(70) { "active" } else { *r.pick(&["inactive", "excluded", "unassigned"]) },
        "points": if r.chance(10) { r.range(-500, 0) } else { r.range(0, 20_000) },
    });
    if r.chance(85) {
        member["tier"] = json!(if r.chance(2) {
            "diamond".to_string()
        } else {
            r.pick(&cx.levels).clone()
        });
    }
    let n_lines = if r.chance(3) { 0 } else { r.range(1, 8) };
    let big = r.chance(3);
    let lines: Vec<Value> = (0..n_lines)
        .map(|i| {
            let mut l = json!({
                "id": format!("L{i}"),
                "quantity": if big { r.range(1, 1 << 40) } else if r.chance(80) { r.range(1, 3) } else { r.range(1, 50) },
                "unit_price": if big {
                    format_fixed(r.range(0, 999_999_999_999_999_999), 0)
                } else if r.chance(5) {
                    "0".into()
                } else {
                    money(r, cx.mu, 2_000 * scale)
                },
            });
            if r.chance(80) {
                l["category"] = json!(r.pick(CATEGORIES));
            }
            if r.chance(70) {
                l["sku"] = json!(r.pick(SKUS));
            }
            l
        })
        .collect();
    let mut cart =
        json!({ "id": format!("ord-{}", r.range(1, 99999)), "at": instant(r), "lines": lines });
    if r.chance(70) {
        cart["store"] = json!(r.pick(STORES));
    }
    if r.chance(70) {
        cart["channel"] = json!(r.pick(CHANNELS));
    }
    let mut req = json!({ "member": member, "cart": cart });
    match r.range(0, 5) {
        0 => {}
        1 => req["redeem_points"] = json!(0),
        2 | 3 => req["redeem_points"] = json!("max"),
        4 => req["redeem_points"] = json!(r.range(1, 200)),
        _ => req["redeem_points"] = json!(*r.pick(&[1, 5, 10, 50, 100, 1000, 5000])),
    }
    req
}

/// An RFC 3339 instant `secs` after 2020-01-01T00:00:00Z, written with one of a few offsets.
fn at_offset(r: &mut Rng, secs: i64) -> String {
    let (name, off) = *r.pick(&[
        ("+07:00", 7 * 3600),
        ("Z", 0),
        ("+02:00", 2 * 3600),
        ("-05:00", -5 * 3600),
        ("+05:45", 5 * 3600 + 45 * 60),
    ]);
    let t = 1_577_836_800 + secs + off; // the local wall clock, counted as if UTC
    let days = t.div_euclid(86_400);
    let rem = t.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{name}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A member history for `replay` / `progress`: every event type, in time order (same-instant
/// events now and then), refunds of earlier purchases, rewards of the policy.
fn replay_request(r: &mut Rng, cx: &Ctx) -> Value {
    let scale = 10i64.pow(cx.mu);
    let mut t = r.range(0, 8 * 365 * 86_400);
    let joined = at_offset(r, t);
    let mut events = Vec::new();
    let mut purchases: Vec<(String, Vec<(String, i64)>)> = Vec::new();
    for i in 0..r.range(0, 12) {
        if !r.chance(10) {
            t += r.range(60, 90 * 86_400);
        }
        let at = at_offset(r, t);
        let id = format!("e{i}");
        let kind = r.range(0, 99);
        let ev = if kind < 45 {
            let lines: Vec<(String, i64)> = (0..r.range(1, 4))
                .map(|k| (format!("L{k}"), r.range(1, 4)))
                .collect();
            let cart_lines: Vec<Value> = lines
                .iter()
                .map(|(lid, q)| {
                    let mut l = json!({ "id": lid, "quantity": q, "unit_price": money(r, cx.mu, 3_000 * scale) });
                    if r.chance(80) {
                        l["category"] = json!(r.pick(CATEGORIES));
                    }
                    if r.chance(50) {
                        l["sku"] = json!(r.pick(SKUS));
                    }
                    l
                })
                .collect();
            let mut cart = json!({ "lines": cart_lines });
            if r.chance(50) {
                cart["store"] = json!(r.pick(STORES));
            }
            if r.chance(50) {
                cart["channel"] = json!(r.pick(CHANNELS));
            }
            let mut e = json!({ "id": id, "type": "purchase", "at": at, "cart": cart });
            if r.chance(30) {
                e["redeem_points"] = if r.chance(50) {
                    json!("max")
                } else {
                    json!(r.range(0, 300))
                };
            }
            if r.chance(10) {
                e["earn"] = json!(false);
            }
            purchases.push((id.clone(), lines));
            e
        } else if kind < 60 && !purchases.is_empty() {
            let (order, lines) = r.pick(&purchases).clone();
            let mut e = json!({ "id": id, "type": "refund", "at": at, "order_id": order });
            if r.chance(60) {
                let (lid, q) = r.pick(&lines).clone();
                e["lines"] = json!([{ "line_id": lid, "quantity": r.range(1, q) }]);
            }
            e
        } else if kind < 70 {
            json!({ "id": id, "type": "adjust", "at": at, "points": r.range(-300, 500), "reason": "goodwill" })
        } else if kind < 78 {
            let mut e = json!({ "id": id, "type": "opening_balance", "at": at, "points": r.range(0, 2_000) });
            if r.chance(40) {
                let later = t + r.range(86_400, 400 * 86_400);
                e["expires_at"] = json!(at_offset(r, later));
            }
            e
        } else if kind < 85 {
            let mut e =
                json!({ "id": id, "type": "set_tier", "at": at, "tier": r.pick(&cx.levels) });
            if r.chance(40) {
                let later = t + r.range(0, 400 * 86_400);
                e["locked_until"] = json!(at_offset(r, later));
            }
            e
        } else if kind < 92 {
            json!({ "id": id, "type": "status", "at": at, "status": r.pick(&["active", "inactive", "excluded", "unassigned"]) })
        } else if !cx.rewards.is_empty() {
            json!({ "id": id, "type": "redeem_reward", "at": at, "reward_id": r.pick(&cx.rewards) })
        } else {
            json!({ "id": id, "type": "adjust", "at": at, "points": r.range(0, 100) })
        };
        events.push(ev);
    }
    let later = t + r.range(0, 500 * 86_400);
    let as_of = at_offset(r, later);
    json!({
        "member": {
            "id": format!("m-{}", r.range(1, 9999)),
            "status": if r.chance(85) { "active" } else { "inactive" },
            "joined_at": joined,
        },
        "events": events,
        "as_of": as_of,
    })
}

/// A tampered copy of a quote response text: one figure, a line, the digest or the policy
/// digest changed (the response's key order kept: it is edited as text).
fn tamper(r: &mut Rng, response: &str) -> String {
    let edits: [(&str, &str); 6] = [
        ("\"earned_points\":", "\"earned_points\":1"),
        ("\"total\":\"", "\"total\":\"9"),
        ("\"paid\":\"", "\"paid\":\"1"),
        ("\"digest\":\"sha256:", "\"digest\":\"sha256:0"),
        (
            "\"policy_digest\":\"sha256:",
            "\"policy_digest\":\"sha256:f",
        ),
        ("\"redeemed_points\":", "\"redeemed_points\":2"),
    ];
    let (from, to) = *r.pick(&edits);
    response.replacen(from, to, 1)
}

/// Case `i` of seed `seed`: one eval request line (compact JSON).
pub fn generate(seed: u64, i: u64) -> String {
    let mut r = Rng::new(seed, i);
    let (policy, cx) = policy(&mut r);
    let kind = r.range(0, 99);
    if kind < 8 {
        return json!({ "op": "validate", "policy": policy }).to_string();
    }
    if kind >= 85 {
        // replay / progress: a member history under the same policy.
        let mut line = replay_request(&mut r, &cx);
        line["op"] = json!(if kind >= 93 { "progress" } else { "replay" });
        line["policy"] = policy;
        return line.to_string();
    }
    let req = quote_request(&mut r, &cx);
    let mut line = req.clone();
    line["op"] = json!("quote");
    line["policy"] = policy.clone();
    let quote_line = line.to_string();
    if kind < 16 {
        // verify: the native quote as the till's response, sometimes tampered.
        let response = loyalty_engine::api::eval_line(&quote_line).unwrap_or_default();
        if response.starts_with("{\"error\"") {
            return quote_line;
        }
        let response = if r.chance(60) {
            tamper(&mut r, &response)
        } else {
            response
        };
        return format!(
            "{{\"op\":\"verify\",\"policy\":{policy},\"request\":{req},\"response\":{response}}}"
        );
    }
    quote_line
}

fn main() {
    let mut seed: u64 = 1;
    let mut cases: u64 = 100;
    let mut start: u64 = 0;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match (args[i].as_str(), value) {
            ("--seed", Some(v)) => seed = v,
            ("--cases", Some(v)) => cases = v,
            ("--start", Some(v)) => start = v,
            _ => {
                eprintln!("usage: diffgen --seed S --cases N [--start I]");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for i in start..start + cases {
        if writeln!(out, "{}", generate(seed, i)).is_err() {
            return;
        }
    }
    let _ = out.flush();
}
