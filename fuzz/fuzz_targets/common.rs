//! What every answer must be, whatever the input (SPEC §0, §7.1): one line of compact JSON, an
//! object, and either a result or `{"error":{"code","message","path"}}` with a known code.

#![allow(dead_code)]

const CODES: &[&str] = &[
    "invalid_policy",
    "invalid_request",
    "amount_overflow",
    "limit_exceeded",
    "redemption_exceeds_limit",
    "redemption_below_minimum",
    "redemption_step_mismatch",
    "redemption_not_available",
    "member_not_active",
    "unknown_tier",
    "duplicate_event_id",
    "unknown_order",
    "refund_exceeds_order",
    "unknown_reward",
    "insufficient_points",
];

pub fn check_answer(out: &str) {
    assert!(!out.contains('\n'), "answer spans lines: {out}");
    let v: serde_json::Value = serde_json::from_str(out).expect("answer is JSON");
    let obj = v.as_object().expect("answer is an object");
    if let Some(e) = obj.get("error") {
        assert_eq!(obj.len(), 1, "an error answer has only `error`: {out}");
        let code = e["code"].as_str().expect("error.code is a string");
        assert!(CODES.contains(&code), "unknown error code {code}: {out}");
        assert!(e["message"].is_string() && e["path"].is_string(), "{out}");
        let keys: Vec<&String> = e.as_object().expect("error is an object").keys().collect();
        assert_eq!(keys.len(), 3, "{out}");
    }
}

/// The SPEC §1 example policy (compact).
pub const SPEC_POLICY: &str = r#"{"schema":1,"id":"vn-fashion-2026","currency":"VND","time_zone":"Asia/Ho_Chi_Minh","money_rounding":"half_up","earning":{"spend":"100000","points":1,"rounding":"floor","basis":"paid","exclude_categories":["gift_card"],"pending_days":0,"max_points_per_order":null,"rules":[{"id":"shoes-x2","when":{"categories":["shoes"]},"multiplier":"2"},{"id":"weekend","when":{"days_of_week":["sat","sun"]},"bonus_points":10}]},"tiers":{"metric":"points","window":{"rolling_months":12},"levels":[{"id":"member","name":"Member","threshold":"0"},{"id":"silver","name":"Silver","threshold":"500","discount_percent":"5"},{"id":"gold","name":"Gold","threshold":"1500","discount_percent":"10","earn_multiplier":"1.5"}],"discount_exclude_categories":["gift_card"],"downgrade":{"review":"anniversary","retain_months":12,"max_steps":null}},"redemption":{"point_value":"1000","min_points":10,"step":1,"max_share":"0.5","max_points_per_order":null},"rewards":[{"id":"tote-bag","name":"Tote bag","points":300,"min_tier":"silver"}],"expiry":{"kind":"end_of_period","period":"year","after":1},"expiry_notice_days":30,"members":{"inactive_earns":false,"unassigned_card_earns":true},"refunds":{"clawback":"unlimited"}}"#;
