//! Property tests of the ledger (SPEC §3, §7.14): the balance identity, replaying in steps,
//! input order of events at distinct instants, and no panics on arbitrary event lists.

use loyalty_engine::Engine;
use proptest::prelude::*;
use serde_json::{json, Value};

fn policies() -> Vec<Engine> {
    let vn = json!({
        "schema": 1, "id": "vn", "currency": "VND", "time_zone": "Asia/Ho_Chi_Minh",
        "earning": {"spend": "100000", "points": 1, "pending_days": 3,
            "rules": [{"id": "shoes", "when": {"categories": ["shoes"]}, "multiplier": "2"},
                      {"id": "big", "when": {"min_subtotal": "3000000"}, "bonus_points": 5}]},
        "tiers": {"metric": "points", "window": {"rolling_months": 12},
            "levels": [{"id": "member", "name": "M", "threshold": "0"},
                       {"id": "silver", "name": "S", "threshold": "50", "discount_percent": "5"},
                       {"id": "gold", "name": "G", "threshold": "150", "discount_percent": "10", "earn_multiplier": "1.5"}],
            "downgrade": {"review": "anniversary", "retain_months": 6, "max_steps": 1}},
        "redemption": {"point_value": "1000", "max_share": "0.5"},
        "rewards": [{"id": "r", "name": "R", "points": 20, "min_tier": "silver"}],
        "expiry": {"kind": "end_of_period", "period": "quarter", "after": 1},
        "expiry_notice_days": 10
    });
    let sk = json!({
        "schema": 1, "id": "sk", "currency": "EUR", "time_zone": "Europe/Bratislava",
        "earning": {"spend": "1", "points": 1},
        "tiers": {"metric": "spend", "window": "calendar_year",
            "levels": [{"id": "b", "name": "B", "threshold": "0"},
                       {"id": "s", "name": "S", "threshold": "100.00", "discount_percent": "5"}],
            "downgrade": {"review": "half_year_end", "retain_months": 0}},
        "rewards": [{"id": "r", "name": "R", "points": 20}],
        "expiry": {"kind": "inactivity", "months": 2},
        "refunds": {"clawback": "within_balance"}
    });
    let orders = json!({
        "schema": 1, "id": "o", "currency": "EUR", "time_zone": "Europe/Bratislava",
        "earning": {"spend": "1", "points": 1, "pending_days": 1},
        "tiers": {"metric": "orders", "window": {"rolling_months": 3},
            "levels": [{"id": "b", "name": "B", "threshold": "0"},
                       {"id": "s", "name": "S", "threshold": "2"}],
            "downgrade": {"review": "calendar_year_end"}},
        "redemption": {"point_value": "0.10"},
        "rewards": [{"id": "r", "name": "R", "points": 20}],
        "expiry": {"kind": "after", "months": 1}
    });
    [vn, sk, orders]
        .iter()
        .map(|p| Engine::from_json(&p.to_string()).expect("valid policy"))
        .collect()
}

/// One generated event before it is given an id and a time.
#[derive(Clone, Debug)]
enum Ev {
    Purchase {
        lines: Vec<(i64, i64, bool)>,
        redeem: u8,
        earn: bool,
    },
    Refund {
        order: usize,
        line: Option<(usize, i64)>,
    },
    Adjust(i64, bool),
    Opening(i64, Option<u32>),
    SetTier(usize, Option<u32>),
    Status(u8),
    Reward,
}

fn ev() -> impl Strategy<Value = Ev> {
    prop_oneof![
        12 => (
            prop::collection::vec((1i64..4, 1i64..40, any::<bool>()), 1..3),
            0u8..6,
            prop::bool::weighted(0.9)
        )
            .prop_map(|(lines, redeem, earn)| Ev::Purchase { lines, redeem, earn }),
        3 => (0usize..8, prop::option::of((0usize..3, 1i64..2)))
            .prop_map(|(order, line)| Ev::Refund { order, line }),
        3 => (-60i64..80, any::<bool>()).prop_map(|(p, c)| Ev::Adjust(p, c)),
        3 => (0i64..100, prop::option::of(1u32..400)).prop_map(|(p, e)| Ev::Opening(p, e)),
        2 => (0usize..3, prop::option::of(1u32..400)).prop_map(|(t, l)| Ev::SetTier(t, l)),
        1 => (0u8..6).prop_map(Ev::Status),
        1 => Just(Ev::Reward),
    ]
}

const JOINED: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn at(secs: i64) -> String {
    // RFC 3339 in UTC; the engine accepts `Z` on input.
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Builds events at the given offsets (seconds after joining) from generated ones.
fn events(evs: &[(Ev, i64)], currency_eur: bool) -> Vec<Value> {
    timed_events(evs, currency_eur)
        .into_iter()
        .map(|(e, _)| e)
        .collect()
}

/// The events with their offsets (a refund before any purchase is left out).
fn timed_events(evs: &[(Ev, i64)], currency_eur: bool) -> Vec<(Value, i64)> {
    let mut purchases: Vec<(String, usize)> = Vec::new();
    let mut out = Vec::new();
    // In time order, so refunds name purchases before them (input order is tested apart).
    let mut order: Vec<usize> = (0..evs.len()).collect();
    order.sort_by_key(|&i| evs[i].1);
    for i in order {
        let (e, offset) = &evs[i];
        let id = format!("e{i}");
        let t = at(JOINED + offset);
        let v = match e {
            Ev::Purchase {
                lines,
                redeem,
                earn,
            } => {
                purchases.push((id.clone(), lines.len()));
                let lines: Vec<Value> = lines
                    .iter()
                    .enumerate()
                    .map(|(j, (q, price, shoes))| {
                        let price = if currency_eur {
                            format!("{price}.50")
                        } else {
                            format!("{}", price * 100_000)
                        };
                        json!({"id": format!("L{j}"), "quantity": q, "unit_price": price,
                               "category": if *shoes { "shoes" } else { "apparel" }})
                    })
                    .collect();
                let redeem = match redeem {
                    0..=3 => json!(0),
                    4 => json!("max"),
                    _ if currency_eur => json!("max"),
                    _ => json!(5),
                };
                json!({"id": id, "type": "purchase", "at": t, "cart": {"lines": lines},
                       "redeem_points": redeem, "earn": earn})
            }
            Ev::Refund { order, line } => {
                let Some((oid, n)) = purchases.get(order % purchases.len().max(1)).cloned() else {
                    continue;
                };
                match line {
                    None => json!({"id": id, "type": "refund", "at": t, "order_id": oid}),
                    Some((l, q)) => json!({"id": id, "type": "refund", "at": t, "order_id": oid,
                        "lines": [{"line_id": format!("L{}", l % n), "quantity": q}]}),
                }
            }
            Ev::Adjust(p, c) => {
                json!({"id": id, "type": "adjust", "at": t, "points": p, "counts_for_tier": c})
            }
            Ev::Opening(p, e) => json!({"id": id, "type": "opening_balance", "at": t, "points": p,
                "expires_at": e.map(|d| at(JOINED + offset + i64::from(d) * 86_400))}),
            Ev::SetTier(tier, l) => {
                let tier = ["member", "silver", "gold", "b", "s"][*tier];
                json!({"id": id, "type": "set_tier", "at": t, "tier": tier,
                "locked_until": l.map(|d| at(JOINED + offset + i64::from(d) * 86_400))})
            }
            Ev::Status(s) => {
                let status = [
                    "active",
                    "inactive",
                    "excluded",
                    "unassigned",
                    "active",
                    "active",
                ][*s as usize];
                json!({"id": id, "type": "status", "at": t, "status": status})
            }
            Ev::Reward => json!({"id": id, "type": "redeem_reward", "at": t, "reward_id": "r"}),
        };
        out.push((v, *offset));
    }
    out
}

fn request(events: Vec<Value>, as_of: i64) -> Value {
    json!({"member": {"id": "m", "status": "active", "joined_at": at(JOINED)},
           "events": events, "as_of": at(JOINED + as_of)})
}

/// Fixes set_tier ids so they exist in the policy (index 0 = the VN policy).
fn fit_tiers(engine_index: usize, events: &mut [Value]) {
    let ids: &[&str] = match engine_index {
        0 => &["member", "silver", "gold"],
        _ => &["b", "s"],
    };
    for e in events.iter_mut() {
        if e["type"] == "set_tier" {
            let t = e["tier"].as_str().unwrap_or("").to_string();
            let i = ["member", "silver", "gold", "b", "s"]
                .iter()
                .position(|x| *x == t)
                .unwrap_or(0);
            e["tier"] = json!(ids[i % ids.len()]);
        }
    }
}

fn history_strategy() -> impl Strategy<Value = (usize, Vec<(Ev, i64)>)> {
    (
        0usize..3,
        prop::collection::vec((ev(), 0i64..(400 * 86_400)), 0..25),
    )
}

fn replay(engine: &Engine, req: &Value) -> Value {
    serde_json::from_str(&engine.replay_json(&req.to_string())).expect("engine answers JSON")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// §7.14: available + pending = opening + earned − clawed_back + adjusted − redeemed − expired.
    #[test]
    fn balance_identity((pi, evs) in history_strategy(), as_of in 0i64..(500 * 86_400)) {
        let engines = policies();
        let engine = &engines[pi];
        let timed = timed_events(&evs, pi != 0);
        let mut evs_json: Vec<Value> = timed.iter().map(|(e, _)| e.clone()).collect();
        fit_tiers(pi, &mut evs_json);
        let req = request(evs_json.clone(), as_of);
        let out = replay(engine, &req);
        if out.get("error").is_some() {
            return Ok(());
        }
        let limit = JOINED + as_of;
        let opening: i64 = evs_json.iter().zip(&timed)
            .filter(|(e, (_, off))| e["type"] == "opening_balance" && JOINED + off <= limit)
            .map(|(e, _)| e["points"].as_i64().unwrap_or(0))
            .sum();
        let t = &out["totals"];
        let g = |k: &str| t[k].as_i64().unwrap();
        let balance = out["points"]["available"].as_i64().unwrap() + out["points"]["pending"].as_i64().unwrap();
        prop_assert_eq!(balance, opening + g("earned") - g("clawed_back") + g("adjusted") - g("redeemed") - g("expired"));
        let lots: i64 = out["points"]["lots"].as_array().unwrap().iter().map(|l| l["points"].as_i64().unwrap()).sum();
        let available = out["points"]["available"].as_i64().unwrap();
        // Debt and available lots never coexist (a lot pays debt when it becomes available):
        // the available lots hold `available` points, or nothing while there is debt.
        let pending = out["points"]["pending"].as_i64().unwrap();
        let available_lots = lots - pending;
        prop_assert!(available_lots == available.max(0), "available lots {} available {}", available_lots, available);
        prop_assert_eq!(out["snapshot"]["points"].as_i64().unwrap(), available);
        // Each row's delta adds up to the final balance.
        let deltas: i64 = out["history"].as_array().unwrap().iter().map(|r| r["points_delta"].as_i64().unwrap()).sum();
        prop_assert_eq!(deltas, balance);
    }

    /// Replaying to an earlier as_of gives a prefix of the later replay's history and notices;
    /// events after as_of change nothing.
    #[test]
    fn replay_in_steps((pi, evs) in history_strategy(), a in 0i64..(450 * 86_400), b in 0i64..(450 * 86_400)) {
        let (t1, t2) = if a <= b { (a, b) } else { (b, a) };
        let engines = policies();
        let engine = &engines[pi];
        let timed = timed_events(&evs, pi != 0);
        let mut evs_json: Vec<Value> = timed.iter().map(|(e, _)| e.clone()).collect();
        fit_tiers(pi, &mut evs_json);
        let early = replay(engine, &request(evs_json.clone(), t1));
        let late = replay(engine, &request(evs_json.clone(), t2));
        if early.get("error").is_some() || late.get("error").is_some() {
            return Ok(());
        }
        for key in ["history", "notices"] {
            let e = early[key].as_array().unwrap();
            let l = late[key].as_array().unwrap();
            prop_assert!(e.len() <= l.len());
            prop_assert_eq!(&e[..], &l[..e.len()], "{} is not a prefix", key);
        }
        // Dropping the events after t1 changes nothing at t1.
        let kept: Vec<Value> = evs_json.iter().zip(&timed)
            .filter(|(_, (_, off))| *off <= t1)
            .map(|(e, _)| e.clone())
            .collect();
        if kept.len() == evs_json.len() {
            return Ok(());
        }
        let trimmed = replay(engine, &request(kept, t1));
        // Refunds naming dropped ids or set_tier of removed events can differ only by error.
        if trimmed.get("error").is_none() {
            prop_assert_eq!(trimmed, early);
        }
    }

    /// Events at distinct instants may come in any input order.
    #[test]
    fn input_order_does_not_matter((pi, evs) in history_strategy(), seed in any::<u64>()) {
        let engines = policies();
        let engine = &engines[pi];
        // Distinct instants: offsets made unique.
        let mut evs = evs;
        let mut seen = std::collections::HashSet::new();
        evs.retain(|(_, off)| seen.insert(*off));
        let mut evs_json = events(&evs, pi != 0);
        fit_tiers(pi, &mut evs_json);
        let as_of = 460 * 86_400;
        let base = replay(engine, &request(evs_json.clone(), as_of));
        if base.get("error").is_some() {
            return Ok(());
        }
        // A deterministic shuffle.
        let mut shuffled = evs_json.clone();
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let other = replay(engine, &request(shuffled, as_of));
        prop_assert_eq!(other, base);
    }

    /// Whatever the events hold, the engine answers JSON and never panics.
    #[test]
    fn arbitrary_events_never_panic((pi, evs) in history_strategy(), junk in prop::collection::vec(any::<String>(), 0..4), as_of in -100i64..(800 * 86_400)) {
        let engines = policies();
        let engine = &engines[pi];
        let mut evs_json = events(&evs, pi != 0);
        // Corrupt some fields with arbitrary strings.
        for (k, j) in junk.iter().enumerate() {
            let n = evs_json.len().max(1);
            if let Some(e) = evs_json.get_mut(k * 3 % n) {
                let field = ["at", "tier", "order_id", "reward_id"][k % 4];
                e[field] = json!(j);
            }
        }
        let req = request(evs_json, as_of);
        let text = req.to_string();
        let out = engine.replay_json(&text);
        prop_assert!(serde_json::from_str::<Value>(&out).is_ok());
        let out = engine.progress_json(&text);
        prop_assert!(serde_json::from_str::<Value>(&out).is_ok());
    }

    /// Progress reads the same state as replay: tier, value, balance and next review agree.
    #[test]
    fn progress_agrees_with_replay((pi, evs) in history_strategy(), as_of in 0i64..(500 * 86_400)) {
        let engines = policies();
        let engine = &engines[pi];
        let mut evs_json = events(&evs, pi != 0);
        fit_tiers(pi, &mut evs_json);
        let text = request(evs_json, as_of).to_string();
        let r: Value = serde_json::from_str(&engine.replay_json(&text)).unwrap();
        let p: Value = serde_json::from_str(&engine.progress_json(&text)).unwrap();
        if r.get("error").is_some() {
            prop_assert_eq!(&r, &p);
            return Ok(());
        }
        prop_assert_eq!(&p["tier"], &r["tier"]["id"]);
        prop_assert_eq!(&p["current"], &r["qualification"]["value"]);
        prop_assert_eq!(&p["metric"], &r["qualification"]["metric"]);
        prop_assert_eq!(&p["available_points"], &r["points"]["available"]);
        match r["tier"]["next_review"].as_str() {
            None => prop_assert!(p["keep"].is_null()),
            Some(at) => prop_assert_eq!(p["keep"]["review_at"].as_str(), Some(at)),
        }
        let expiring: i64 = p["expiring"].as_array().unwrap().iter().map(|x| x["points"].as_i64().unwrap()).sum();
        let lots: i64 = r["points"]["lots"].as_array().unwrap().iter().map(|l| l["points"].as_i64().unwrap()).sum();
        prop_assert!(expiring <= lots);
    }

    /// Arbitrary text never panics either.
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let engines = policies();
        let out = engines[0].replay_json(&text);
        prop_assert!(out.starts_with("{"), "not an object: {}", out);
    }
}

/// Extreme values end in `amount_overflow` or a result, not a panic.
#[test]
fn huge_points_overflow_cleanly() {
    let engines = policies();
    let max = (1i64 << 53) - 1;
    let events = vec![
        json!({"id": "a", "type": "adjust", "at": at(JOINED + 10), "points": max}),
        json!({"id": "b", "type": "adjust", "at": at(JOINED + 20), "points": max}),
    ];
    let out = replay(&engines[0], &request(events, 100));
    assert_eq!(out["error"]["code"], "amount_overflow", "{out}");
    assert_eq!(out["error"]["path"], "events[1].points", "{out}");
    let events = vec![
        json!({"id": "a", "type": "adjust", "at": at(JOINED + 10), "points": -max}),
        json!({"id": "b", "type": "adjust", "at": at(JOINED + 20), "points": -max}),
    ];
    let out = replay(&engines[0], &request(events, 100));
    assert!(out.get("error").is_some(), "{out}");
}

/// Guards the properties above against being vacuous: most generated histories replay.
#[test]
fn most_generated_histories_replay() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let engines = policies();
    let mut runner = TestRunner::deterministic();
    let mut ok = 0;
    let mut codes = std::collections::BTreeMap::new();
    for _ in 0..300 {
        let (pi, evs) = history_strategy().new_tree(&mut runner).unwrap().current();
        let mut evs_json = events(&evs, pi != 0);
        fit_tiers(pi, &mut evs_json);
        let out = replay(&engines[pi], &request(evs_json, 460 * 86_400));
        match out.get("error") {
            None => ok += 1,
            Some(e) => *codes.entry(e["code"].to_string()).or_insert(0) += 1,
        }
    }
    eprintln!("{ok} of 300 replayed; errors {codes:?}");
    assert!(ok >= 120, "only {ok} of 300 replayed; errors {codes:?}");
}
