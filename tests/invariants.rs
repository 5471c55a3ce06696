//! Invariants of quotes on generated inputs (issue 6), checked natively on the requests of the
//! differential generator (`examples/diffgen.rs`, included here as a module):
//!
//! - every generated policy is valid (the generator's own promise);
//! - line allocation sums are exact: Σ lines = totals, paid = subtotal − discount − redeemed;
//! - totals and line amounts are never negative; money has exactly the currency's minor units;
//! - redemption never exceeds its limits (member points, max_share, per-order cap, step,
//!   min_points; 0 for members who may not redeem or without a redemption section);
//! - earning is monotonic in spend: with basis `gross` and no `min_subtotal` gate, raising a
//!   unit price never lowers earned points;
//! - `digest` is the SHA-256 of the compact response without it; changing any figure changes
//!   the digest, and `verify` names exactly that figure.
//!
//! `INVARIANT_CASES` (default 1,500) and `INVARIANT_SEED` (default 1) scale the run; the seed is
//! printed.

#[allow(dead_code, clippy::all)]
#[path = "../examples/diffgen.rs"]
mod diffgen;

use loyalty_engine::api::eval_line;
use serde_json::{json, Value};
use std::collections::HashMap;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A decimal string as an exact fraction (numerator, 10^scale).
fn ratio(s: &str) -> (i128, i128) {
    let neg = s.starts_with('-');
    let s = s.trim_start_matches('-');
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let n: i128 = format!("{int}{frac}").parse().unwrap();
    let d = 10i128.pow(frac.len() as u32);
    (if neg { -n } else { n }, d)
}

/// A money string of the response in minor units, checking it has exactly `mu` fraction digits.
fn minor(s: &Value, mu: usize, what: &str) -> i128 {
    let s = s.as_str().unwrap_or_else(|| panic!("{what} is a string"));
    let frac = s.split_once('.').map_or(0, |(_, f)| f.len());
    assert_eq!(
        frac, mu,
        "{what} = {s:?} has {frac} fraction digits, currency has {mu}"
    );
    ratio(s).0
}

fn minor_units(policy: &Value) -> usize {
    if let Some(m) = policy["minor_units"].as_u64() {
        return m as usize;
    }
    match policy["currency"].as_str().unwrap() {
        "VND" | "JPY" => 0,
        "BHD" | "KWD" => 3,
        _ => 2,
    }
}

fn sha256_tag(text: &str) -> String {
    // hmac-sha256: not the SHA-256 the engine uses natively (sha2), so an independent check.
    let hash = hmac_sha256::Hash::hash(text.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The compact text of a response object without its `digest` (the engine's key order is kept
/// by editing the text, not a serde_json::Value, which would sort keys).
fn without_digest(text: &str) -> String {
    let i = text
        .rfind(",\"digest\":")
        .expect("digest is the last member");
    format!("{}}}", &text[..i])
}

/// A request line as a Value (keys sorted; fine for requests).
fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap()
}

struct Checked {
    quotes: usize,
    errors: usize,
    monotonic: usize,
    tampered: usize,
}

fn check_quote(req: &Value, text: &str, c: &mut Checked, digests: &mut HashMap<String, String>) {
    let q: Value = serde_json::from_str(text).unwrap();
    let policy = &req["policy"];
    let mu = minor_units(policy);
    let ctx = format!("request {req}\nanswer {text}");

    // Sums and signs.
    let subtotal = minor(&q["subtotal"], mu, "subtotal");
    let discount = minor(&q["tier_discount"], mu, "tier_discount");
    let redeemed = minor(&q["redeemed_amount"], mu, "redeemed_amount");
    let total = minor(&q["total"], mu, "total");
    for (name, v) in [
        ("subtotal", subtotal),
        ("tier_discount", discount),
        ("redeemed_amount", redeemed),
        ("total", total),
    ] {
        assert!(v >= 0, "{name} negative: {ctx}");
    }
    assert_eq!(total, subtotal - discount - redeemed, "total: {ctx}");
    let lines = q["lines"].as_array().unwrap();
    let mut sums = [0i128; 4];
    for (i, l) in lines.iter().enumerate() {
        let s = minor(&l["subtotal"], mu, "line subtotal");
        let d = minor(&l["tier_discount"], mu, "line tier_discount");
        let r = minor(&l["redeemed_amount"], mu, "line redeemed_amount");
        let p = minor(&l["paid"], mu, "line paid");
        let b = minor(&l["earn_basis"], mu, "line earn_basis");
        for v in [s, d, r, p, b] {
            assert!(v >= 0, "line {i} has a negative amount: {ctx}");
        }
        assert_eq!(p, s - d - r, "line {i} paid: {ctx}");
        assert!(b <= s, "line {i} basis above its subtotal: {ctx}");
        for (k, v) in [s, d, r, p].into_iter().enumerate() {
            sums[k] += v;
        }
    }
    assert_eq!(
        sums,
        [subtotal, discount, redeemed, total],
        "Σ lines ≠ totals: {ctx}"
    );
    let earned = q["earned_points"].as_i64().unwrap();
    assert!(earned >= 0, "earned negative: {ctx}");
    if let Some(cap) = policy["earning"]["max_points_per_order"].as_i64() {
        assert!(earned <= cap, "earning above its cap: {ctx}");
    }

    // Redemption limits.
    let points = q["redeemed_points"].as_i64().unwrap();
    let max = q["max_redeemable_points"].as_i64().unwrap();
    assert!(
        (0..=max).contains(&points),
        "redeemed outside [0, max]: {ctx}"
    );
    let member_points = req["member"]["points"].as_i64().unwrap();
    assert!(
        max <= member_points.max(0),
        "max above the member's points: {ctx}"
    );
    let active = req["member"]["status"] == "active";
    let red = &policy["redemption"];
    if !active || red.is_null() {
        assert_eq!(max, 0, "a member who may not redeem has max 0: {ctx}");
    } else {
        let step = red["step"].as_i64().unwrap_or(1);
        let min = red["min_points"].as_i64().unwrap_or(1);
        assert_eq!(max % step, 0, "max not a multiple of step: {ctx}");
        assert!(max == 0 || max >= min, "max below min_points: {ctx}");
        if let Some(cap) = red["max_points_per_order"].as_i64() {
            assert!(max <= cap, "max above the per-order cap: {ctx}");
        }
        let (pv, pv_d) = ratio(red["point_value"].as_str().unwrap());
        let pv_minor = pv * 10i128.pow(mu as u32) / pv_d;
        let (sn, sd) = ratio(red["max_share"].as_str().unwrap_or("1"));
        // max × point_value ≤ (subtotal − discount) × max_share
        assert!(
            i128::from(max) * pv_minor * sd <= (subtotal - discount) * sn,
            "max above max_share: {ctx}"
        );
        assert_eq!(
            redeemed,
            (i128::from(points) * pv_minor).min(subtotal - discount),
            "redeemed amount: {ctx}"
        );
        if req["redeem_points"] == "max" {
            assert_eq!(points, max, "\"max\" redeems the maximum: {ctx}");
        }
    }

    // Digest: SHA-256 of the compact response without `digest`; equal bodies, equal digests.
    let body = without_digest(text);
    let digest = q["digest"].as_str().unwrap().to_string();
    assert_eq!(sha256_tag(&body), digest, "digest: {ctx}");
    if let Some(other) = digests.insert(digest.clone(), body.clone()) {
        assert_eq!(other, body, "two different responses with one digest");
    }
    c.quotes += 1;
}

/// Raises one line's unit price; with basis gross and no min_subtotal gate, points never drop.
fn check_monotonic(req: &Value, text: &str, pick: u64, c: &mut Checked) {
    let policy = &req["policy"];
    if policy["earning"]["basis"] != "gross" {
        return;
    }
    let rules = policy["earning"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if rules.iter().any(|r| !r["when"]["min_subtotal"].is_null()) {
        return;
    }
    let lines = req["cart"]["lines"].as_array().unwrap();
    if lines.is_empty() {
        return;
    }
    let i = (pick % lines.len() as u64) as usize;
    let before: Value = serde_json::from_str(text).unwrap();
    let mut raised = req.clone();
    let price = lines[i]["unit_price"].as_str().unwrap();
    let (n, d) = ratio(price);
    let bump = 1 + (pick % 1000) as i128;
    let new = n + bump * d; // + bump major units, same fraction digits
    let frac = price.split_once('.').map_or(0, |(_, f)| f.len());
    let s = format!("{:0>w$}", new, w = frac + 1);
    let written = if frac == 0 {
        s
    } else {
        format!("{}.{}", &s[..s.len() - frac], &s[s.len() - frac..])
    };
    raised["cart"]["lines"][i]["unit_price"] = json!(written);
    let after: Value = serde_json::from_str(&eval_line(&raised.to_string()).unwrap()).unwrap();
    if after.get("error").is_some() {
        return; // e.g. amount_overflow on huge carts
    }
    assert!(
        after["earned_points"].as_i64() >= before["earned_points"].as_i64(),
        "raising line {i}'s price from {price} to {written} lowered earned points {} -> {}: {req}",
        before["earned_points"],
        after["earned_points"]
    );
    c.monotonic += 1;
}

/// Changes every figure of the response in turn: the digest of the tampered body differs, and
/// `verify` (with the original digest kept) reports exactly that field.
fn check_tampering(req: &Value, text: &str, c: &mut Checked) {
    let q: Value = serde_json::from_str(text).unwrap();
    let original = q["digest"].as_str().unwrap();
    let mut fields: Vec<(String, String)> = Vec::new(); // (path, the member text to replace)
    for k in [
        "subtotal",
        "tier_discount",
        "redeemed_points",
        "redeemed_amount",
        "max_redeemable_points",
        "total",
        "earned_points",
    ] {
        fields.push((k.to_string(), format!("\"{k}\":{}", q[k])));
    }
    let mut verify_req = req.clone();
    let obj = verify_req.as_object_mut().unwrap();
    let policy = obj.remove("policy").unwrap();
    obj.remove("op");
    for (path, member) in fields {
        let value = member.split_once(':').unwrap().1;
        let changed = match value.strip_prefix('"') {
            Some(rest) => format!("\"9{rest}"), // "123" -> "9123": still a money string
            None => format!("{}", value.parse::<i64>().unwrap() + 1),
        };
        let key = member.split_once(':').unwrap().0;
        let tampered = text.replacen(&member, &format!("{key}:{changed}"), 1);
        assert_ne!(
            sha256_tag(&without_digest(&tampered)),
            original,
            "digest unchanged by {path}"
        );
        let line = format!(
            r#"{{"op":"verify","policy":{policy},"request":{},"response":{tampered}}}"#,
            json!(obj)
        );
        let out: Value = serde_json::from_str(&eval_line(&line).unwrap()).unwrap();
        assert_eq!(out["valid"], false, "{path}: {out}");
        let fields: Vec<&str> = out["mismatches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            [path.as_str()],
            "verify names exactly the tampered figure: {out}"
        );
        c.tampered += 1;
    }
}

#[test]
fn quote_invariants_on_generated_requests() {
    let seed = env_u64("INVARIANT_SEED", 1);
    let cases = env_u64("INVARIANT_CASES", 1_500);
    eprintln!("invariants: INVARIANT_SEED={seed} INVARIANT_CASES={cases}");
    let mut c = Checked {
        quotes: 0,
        errors: 0,
        monotonic: 0,
        tampered: 0,
    };
    let mut digests = HashMap::new();
    for i in 0..cases {
        let line = diffgen::generate(seed, i);
        let req = parse(&line);
        let text = eval_line(&line).expect("an answer");
        let answer: Value = serde_json::from_str(&text).unwrap();
        match req["op"].as_str().unwrap() {
            "validate" => assert!(
                answer.get("error").is_none(),
                "case {i}: generated policy invalid: {text}"
            ),
            "replay" | "progress" => {
                if let Some(e) = answer.get("error") {
                    assert_ne!(e["code"], "invalid_policy", "case {i}: {text}");
                    // The only invalid_request a generated history may get: a reward whose
                    // min_tier the member has not reached.
                    assert!(
                        e["code"] != "invalid_request"
                            || e["path"].as_str().unwrap().ends_with("reward_id"),
                        "case {i}: generated history invalid: {text}"
                    );
                }
            }
            "verify" => {
                assert!(answer.get("error").is_none(), "case {i}: {text}");
                assert_eq!(
                    answer["valid"].as_bool().unwrap(),
                    answer["mismatches"].as_array().unwrap().is_empty()
                );
            }
            _ => {
                if let Some(e) = answer.get("error") {
                    assert_ne!(
                        e["code"], "invalid_policy",
                        "case {i}: generated policy invalid: {text}"
                    );
                    c.errors += 1;
                    continue;
                }
                check_quote(&req, &text, &mut c, &mut digests);
                check_monotonic(&req, &text, i.wrapping_mul(2654435761), &mut c);
                if i % 10 == 0 {
                    check_tampering(&req, &text, &mut c);
                }
            }
        }
    }
    eprintln!(
        "invariants: {} quotes checked, {} error answers, {} monotonic pairs, {} tamperings",
        c.quotes, c.errors, c.monotonic, c.tampered
    );
    assert!(
        c.quotes > cases as usize / 2,
        "too few quotes: {}",
        c.quotes
    );
    assert!(c.monotonic > 0 && c.tampered > 0);
}
