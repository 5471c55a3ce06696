//! The quote response (SPEC §2), fields in contract order.

use serde::Serialize;

#[cfg(all(target_arch = "wasm32", feature = "full"))]
use tsify::Tsify;

/// What the till shows and the server re-checks by `digest`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QuoteResponse {
    pub policy_digest: String,
    pub member_id: String,
    pub currency: String,
    /// The member's level id (benefits apply only to active members).
    pub tier: String,
    pub subtotal: String,
    pub tier_discount: String,
    pub redeemed_points: i64,
    pub redeemed_amount: String,
    pub max_redeemable_points: i64,
    pub total: String,
    pub earned_points: i64,
    pub lines: Vec<LineQuote>,
    pub applied_rules: Vec<AppliedRule>,
    pub notes: Vec<Note>,
    /// `"sha256:<hex>"` of this response without `digest`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub digest: String,
}

/// One cart line's share of everything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LineQuote {
    pub id: String,
    pub subtotal: String,
    pub tier_discount: String,
    pub redeemed_amount: String,
    pub paid: String,
    pub earn_basis: String,
}

/// A rule that contributed points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AppliedRule {
    pub rule: String,
    pub lines: Vec<String>,
    /// The effect as written: `{"multiplier":"2"}`, `{"bonus_points":10}` or
    /// `{"points_per_item":1}`.
    #[cfg_attr(
        all(target_arch = "wasm32", feature = "full"),
        tsify(
            type = "{ multiplier: string } | { bonus_points: number } | { points_per_item: number }"
        )
    )]
    pub effect: crate::policy::Effect,
}

/// Why a quote looks the way it does (codes and messages: README, "Notes").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Note {
    pub code: &'static str,
    pub message: String,
}

/// A quote as [`write`] writes it: the priced order and what names it.
pub(crate) struct Written<'a> {
    pub policy_digest: &'a str,
    pub member_id: &'a str,
    pub currency: &'a crate::money::Currency,
    pub tier: &'a str,
    pub cart: &'a super::CheckedCart<'a>,
    pub priced: &'a super::Priced,
}

/// The canonical JSON of the [`QuoteResponse`] for `q` (SPEC §2, §7.1), written once with no
/// intermediate values, and hashed once: the digest is SHA-256 of the response without
/// `digest`, which is the text written up to `notes` and a closing brace. Returns the JSON and
/// where the digest's value (`sha256:…`, 71 bytes) starts in it. The same bytes as
/// `serde_json::to_string` of the response (checked on every quote vector).
pub(crate) fn write(q: &Written) -> (String, usize) {
    use crate::json::write::{int, string, Sha256};
    // Each field's separator, key and opening quote in one literal: one copy, not four.
    let money = |out: &mut String, prefix: &str, v: i64| {
        out.push_str(prefix);
        q.currency.write(out, v);
        out.push('"');
    };
    let p = q.priced;
    // About 200 bytes a line, 50 a rule and what the notes say.
    let mut out = String::with_capacity(
        400 + 200 * p.lines.len()
            + 60 * p.applied_rules.len()
            + p.notes.iter().map(|n| n.message.len() + 40).sum::<usize>(),
    );
    out.push_str("{\"policy_digest\":");
    string(&mut out, q.policy_digest);
    out.push_str(",\"member_id\":");
    string(&mut out, q.member_id);
    out.push_str(",\"currency\":");
    string(&mut out, &q.currency.code);
    out.push_str(",\"tier\":");
    string(&mut out, q.tier);
    money(&mut out, ",\"subtotal\":\"", p.subtotal);
    money(&mut out, ",\"tier_discount\":\"", p.tier_discount);
    out.push_str(",\"redeemed_points\":");
    int(&mut out, p.redeemed_points);
    money(&mut out, ",\"redeemed_amount\":\"", p.redeemed_amount);
    out.push_str(",\"max_redeemable_points\":");
    int(&mut out, p.max_redeemable_points);
    money(&mut out, ",\"total\":\"", p.total);
    out.push_str(",\"earned_points\":");
    int(&mut out, p.earned_points);
    out.push_str(",\"lines\":[");
    for (i, (l, r)) in q.cart.lines.iter().zip(&p.lines).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"id\":");
        string(&mut out, l.id);
        money(&mut out, ",\"subtotal\":\"", r.subtotal);
        money(&mut out, ",\"tier_discount\":\"", r.tier_discount);
        money(&mut out, ",\"redeemed_amount\":\"", r.redeemed_amount);
        money(&mut out, ",\"paid\":\"", r.paid);
        money(&mut out, ",\"earn_basis\":\"", r.earn_basis);
        out.push('}');
    }
    out.push_str("],\"applied_rules\":[");
    for (i, a) in p.applied_rules.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"rule\":");
        string(&mut out, &a.rule);
        out.push_str(",\"lines\":[");
        for (j, id) in a.lines.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            string(&mut out, id);
        }
        out.push_str("],\"effect\":{");
        match a.effect {
            crate::policy::Effect::Multiplier(d) => {
                out.push_str("\"multiplier\":\"");
                // Dec's Display: what its Serialize writes (`collect_str`).
                let _ = std::fmt::Write::write_fmt(&mut out, format_args!("{d}"));
                out.push('"');
            }
            crate::policy::Effect::BonusPoints(n) => {
                out.push_str("\"bonus_points\":");
                int(&mut out, n);
            }
            crate::policy::Effect::PointsPerItem(n) => {
                out.push_str("\"points_per_item\":");
                int(&mut out, n);
            }
        }
        out.push_str("}}");
    }
    out.push_str("],\"notes\":[");
    for (i, n) in p.notes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"code\":");
        string(&mut out, n.code);
        out.push_str(",\"message\":");
        string(&mut out, &n.message);
        out.push('}');
    }
    out.push(']');
    // The response without `digest` is this text and its closing brace.
    let mut hash = Sha256::new();
    hash.update(out.as_bytes());
    hash.update(b"}");
    out.push_str(",\"digest\":\"");
    let start = out.len();
    hash.write_digest(&mut out);
    out.push_str("\"}");
    (out, start)
}
