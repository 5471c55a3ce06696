//! Quotes (SPEC §2): one order priced at the till — tier discount, redemption, allocation to
//! lines, points earned — in the order the contract fixes.
//!
//! [`price`] is the computation itself, reused by the ledger for purchases and refunds;
//! [`quote`] wraps it for a [`QuoteRequest`] and writes the [`QuoteResponse`].

mod cart;
mod conditions;
mod earn;
mod redeem;
pub mod request;
pub mod response;

pub use cart::{check as check_cart, check_lines, CheckedCart, PricedLine};
pub use redeem::RedeemMode;
pub use request::{
    Cart, CartLine, CartText, LineText, MemberText, QuoteRequest, QuoteText, RedeemPoints,
};
pub use response::{AppliedRule, LineQuote, Note, QuoteResponse};

use crate::error::Quoted;
use crate::error::{Error, ErrorCode};
use crate::member::MemberStatus;
use crate::money::{allocate, div_round, mul, pow10, Amounts, Dec};
use crate::policy::Policy;

/// The member as a quote sees them.
#[derive(Clone, Copy, Debug)]
pub struct MemberState {
    pub status: MemberStatus,
    /// Index into `policy.tiers.levels`.
    pub tier: usize,
    /// Available points (negative when the member owes points).
    pub points: i64,
}

/// An order priced: every figure in minor units or points.
#[derive(Clone, Debug)]
pub struct Priced {
    pub subtotal: i64,
    pub tier_discount: i64,
    pub redeemed_points: i64,
    pub redeemed_amount: i64,
    pub max_redeemable_points: i64,
    pub total: i64,
    pub earned_points: i64,
    /// Per line ([`crate::money::LineVec`]: no allocation for the usual cart natively).
    pub lines: crate::money::LineVec<PricedLineResult>,
    pub applied_rules: Vec<AppliedRule>,
    pub notes: Vec<Note>,
}

#[derive(Clone, Debug)]
pub struct PricedLineResult {
    pub subtotal: i64,
    pub tier_discount: i64,
    pub redeemed_amount: i64,
    pub paid: i64,
    pub earn_basis: i64,
}

/// Prices a checked cart for a member. `redeem_path` is where the redemption request sits in
/// the input (for error paths).
pub fn price(
    policy: &Policy,
    member: MemberState,
    cart: &CheckedCart,
    redeem: RedeemPoints,
    mode: RedeemMode,
    redeem_path: &str,
) -> Result<Priced, Error> {
    price_with(policy, member, cart, redeem, mode, redeem_path, true)
}

/// [`price`] without `applied_rules` and `notes` (empty): what a replayed purchase needs,
/// without building their strings.
pub fn price_figures(
    policy: &Policy,
    member: MemberState,
    cart: &CheckedCart,
    redeem: RedeemPoints,
    mode: RedeemMode,
    redeem_path: &str,
) -> Result<Priced, Error> {
    price_with(
        policy,
        member,
        cart,
        redeem,
        mode,
        redeem_path,
        earn::REPLAY,
    )
}

/// `details`: whether the rules applied and the notes are built (a quote's response); see
/// [`earn::Details`].
fn price_with<D: earn::Details>(
    policy: &Policy,
    member: MemberState,
    cart: &CheckedCart,
    redeem: RedeemPoints,
    mode: RedeemMode,
    redeem_path: &str,
    details: D,
) -> Result<Priced, Error> {
    let active = member.status == MemberStatus::Active;
    let level = policy
        .tiers
        .levels
        .get(member.tier)
        .ok_or_else(|| Error::new(ErrorCode::UnknownTier, "member.tier", "unknown tier"))?;

    // Step 2: the tier discount over lines not excluded from it, rounded once. Each line's
    // share is its subtotal minus its amount after discount (kept instead of the shares).
    let percent = if active {
        level.discount_percent
    } else {
        Dec::zero()
    };
    let (pm, ps) = percent.parts();
    let (discount, after_discount): (i64, Amounts) = if pm == 0 {
        // 0 × base ÷ (10^scale × 100) rounds to 0 in every mode (a level without a discount,
        // a member without tier benefits): nothing to weigh or spread.
        (0, cart.lines.iter().map(|l| l.subtotal).collect())
    } else {
        let discounted = |category: Option<&str>| {
            !category.is_some_and(|c| policy.tiers.discount_excluded.contains(c))
        };
        let weights: Amounts = cart
            .lines
            .iter()
            .map(|l| {
                if discounted(l.category) {
                    l.subtotal
                } else {
                    0
                }
            })
            .collect();
        let base: i128 = weights.iter().map(|&w| i128::from(w)).sum();
        let discount = mul(base, pm)
            .and_then(|n| {
                pow10(ps)
                    .and_then(|f| mul(f, 100))
                    .and_then(|d| div_round(n, d, policy.money_rounding.into()))
            })
            .and_then(|v| i64::try_from(v).ok())
            .ok_or_else(|| Error::overflow("cart"))?;
        let mut after_discount = allocate(discount, &weights);
        for (a, l) in after_discount.iter_mut().zip(&cart.lines) {
            *a = l.subtotal - *a;
        }
        (discount, after_discount)
    };
    let total_after_discount = cart.subtotal - discount;

    // Step 3: redemption; each line's redeemed share is its amount after discount minus paid.
    let r = redeem::redeem(
        policy,
        member,
        total_after_discount,
        redeem,
        mode,
        redeem_path,
    )?;
    let paid: Amounts = if r.amount <= 0 {
        // allocate spreads nothing (most purchases redeem nothing).
        after_discount.clone()
    } else {
        let mut paid = allocate(r.amount, &after_discount);
        for (p, a) in paid.iter_mut().zip(&after_discount) {
            *p = a - *p;
        }
        paid
    };

    // Step 5–6: earning, by status.
    let earns = match member.status {
        MemberStatus::Active => true,
        MemberStatus::Inactive => policy.members.inactive_earns,
        MemberStatus::Unassigned => policy.members.unassigned_card_earns,
        MemberStatus::Excluded => false,
    };
    let mut notes = Vec::new();
    if !active && details.on() {
        notes.push(Note {
            code: "no_tier_benefits",
            message: format!(
                "Member status is {}: no tier discount, earn multiplier or redemption.",
                member.status.as_str()
            ),
        });
    }
    let (earned_points, basis, applied_rules) = if earns {
        let earned = earn::earn(
            policy,
            &earn::EarnInput {
                cart,
                after_discount: &after_discount,
                paid: &paid,
                active_tier: active.then_some(level.id.as_str()),
                earn_multiplier: if active {
                    level.earn_multiplier
                } else {
                    Dec::one()
                },
                basis_scale: 1,
            },
            details,
        )?;
        let excluded: Vec<&str> = if !details.on() {
            Vec::new()
        } else {
            cart.lines
                .iter()
                .filter(|l| {
                    l.category
                        .is_some_and(|c| policy.earning.excluded.contains(c))
                })
                .map(|l| l.id)
                .collect()
        };
        if !excluded.is_empty() {
            notes.push(Note {
                code: "excluded_lines",
                message: format!(
                    "Lines {} are in earning.exclude_categories and earn no points.",
                    excluded.join(", ")
                ),
            });
        }
        if let (true, Some(uncapped), Some(cap)) = (
            details.on(),
            earned.uncapped,
            policy.earning.max_points_per_order,
        ) {
            notes.push(Note {
                code: "earning_capped",
                message: format!(
                    "Earned points capped at {cap} by earning.max_points_per_order (uncapped: {uncapped})."
                ),
            });
        }
        (earned.points, earned.basis, earned.applied)
    } else {
        if details.on() {
            notes.push(Note {
                code: "no_earning",
                message: format!(
                    "Member status is {}: this order earns no points.",
                    member.status.as_str()
                ),
            });
        }
        (
            0,
            std::iter::repeat_n(0, cart.lines.len()).collect(),
            Vec::new(),
        )
    };

    let lines = cart
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let after = after_discount.get(i).copied().unwrap_or(l.subtotal);
            let paid = paid.get(i).copied().unwrap_or(after);
            PricedLineResult {
                subtotal: l.subtotal,
                tier_discount: l.subtotal - after,
                redeemed_amount: after - paid,
                paid,
                earn_basis: basis.get(i).copied().unwrap_or(0),
            }
        })
        .collect();
    Ok(Priced {
        subtotal: cart.subtotal,
        tier_discount: discount,
        redeemed_points: r.points,
        redeemed_amount: r.amount,
        max_redeemable_points: r.max,
        total: total_after_discount - r.amount,
        earned_points,
        lines,
        applied_rules,
        notes,
    })
}

/// Points an order earns from explicit line amounts: the ledger's refund recomputation
/// (SPEC §7.14), where remaining units keep their original discount and redeemed shares. The
/// amounts in `after_discount`, `paid` and the gross `subtotal` of `cart.lines` are `scale`
/// times the real (possibly fractional) amounts; `cart.subtotal` is unscaled (rule gates).
/// `member` is the member as they were at the order (status and tier).
pub fn earn_scaled(
    policy: &Policy,
    member: MemberState,
    cart: &CheckedCart,
    after_discount: &[i64],
    paid: &[i64],
    scale: i64,
) -> Result<i64, Error> {
    let active = member.status == MemberStatus::Active;
    let earns = match member.status {
        MemberStatus::Active => true,
        MemberStatus::Inactive => policy.members.inactive_earns,
        MemberStatus::Unassigned => policy.members.unassigned_card_earns,
        MemberStatus::Excluded => false,
    };
    if !earns || cart.lines.is_empty() {
        return Ok(0);
    }
    let level = policy
        .tiers
        .levels
        .get(member.tier)
        .ok_or_else(|| Error::new(ErrorCode::UnknownTier, "member.tier", "unknown tier"))?;
    let earned = earn::earn(
        policy,
        &earn::EarnInput {
            cart,
            after_discount,
            paid,
            active_tier: active.then_some(level.id.as_str()),
            earn_multiplier: if active {
                level.earn_multiplier
            } else {
                Dec::one()
            },
            basis_scale: scale,
        },
        earn::REPLAY,
    )?;
    Ok(earned.points)
}

/// Answers a quote request (SPEC §2). Error paths are relative to the request object.
pub fn quote(
    policy: &Policy,
    policy_digest: &str,
    req: &QuoteRequest,
) -> Result<QuoteResponse, Error> {
    let text = req.text();
    let (tier, cart, p) = priced(policy, &text)?;
    let tier_id = tier_id(policy, tier);
    let (json, start) = response::write(&written(policy, policy_digest, &text, tier_id, &cart, &p));
    let money = |v: i64| policy.currency.format(v);
    Ok(QuoteResponse {
        policy_digest: policy_digest.to_string(),
        member_id: req.member.id.clone(),
        currency: policy.currency.code.clone(),
        tier: tier_id.to_string(),
        subtotal: money(p.subtotal),
        tier_discount: money(p.tier_discount),
        redeemed_points: p.redeemed_points,
        redeemed_amount: money(p.redeemed_amount),
        max_redeemable_points: p.max_redeemable_points,
        total: money(p.total),
        earned_points: p.earned_points,
        lines: cart
            .lines
            .iter()
            .zip(&p.lines)
            .map(|(l, r)| LineQuote {
                id: l.id.to_string(),
                subtotal: money(r.subtotal),
                tier_discount: money(r.tier_discount),
                redeemed_amount: money(r.redeemed_amount),
                paid: money(r.paid),
                earn_basis: money(r.earn_basis),
            })
            .collect(),
        applied_rules: p.applied_rules,
        notes: p.notes,
        digest: json
            .get(start..start + DIGEST_LEN)
            .unwrap_or_default()
            .to_string(),
    })
}

/// `sha256:` and 64 hex digits.
const DIGEST_LEN: usize = 71;

/// [`quote`]'s answer as its canonical JSON, written directly (no [`QuoteResponse`] in
/// between): the same bytes as `serde_json::to_string(&quote(…)?)`.
pub fn quote_json(policy: &Policy, policy_digest: &str, req: &QuoteText) -> Result<String, Error> {
    let (tier, cart, p) = priced(policy, req)?;
    let tier_id = tier_id(policy, tier);
    Ok(response::write(&written(policy, policy_digest, req, tier_id, &cart, &p)).0)
}

fn tier_id(policy: &Policy, tier: usize) -> &str {
    policy.tiers.levels.get(tier).map_or("", |l| l.id.as_str())
}

fn written<'a>(
    policy: &'a Policy,
    policy_digest: &'a str,
    req: &'a QuoteText<'a>,
    tier: &'a str,
    cart: &'a CheckedCart<'a>,
    priced: &'a Priced,
) -> response::Written<'a> {
    response::Written {
        policy_digest,
        member_id: req.member.id,
        currency: &policy.currency,
        tier,
        cart,
        priced,
    }
}

/// The checks and the pricing of a quote request: the member's tier (index), the checked cart
/// and the priced order.
fn priced<'a>(
    policy: &Policy,
    req: &QuoteText<'a>,
) -> Result<(usize, CheckedCart<'a>, Priced), Error> {
    let m = &req.member;
    let tier = match m.tier {
        None => 0,
        Some(t) => policy.level_index(t).ok_or_else(|| {
            Error::new(
                ErrorCode::UnknownTier,
                "member.tier",
                format!("unknown tier {}", Quoted(t)),
            )
        })?,
    };
    if !(-crate::money::MAX_POINTS..=crate::money::MAX_POINTS).contains(&m.points) {
        return Err(Error::invalid_request(
            "member.points",
            "points must be within ±9007199254740991",
        ));
    }
    let cart = cart::check_text(&req.cart, &policy.currency, "cart")?;
    let member = MemberState {
        status: m.status,
        tier,
        points: m.points,
    };
    let p = price(
        policy,
        member,
        &cart,
        req.redeem_points,
        RedeemMode::Strict,
        "redeem_points",
    )?;
    Ok((tier, cart, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The figures of a pricing, without the rules applied and the notes.
    fn figures(p: &Priced) -> Vec<i64> {
        let mut v = vec![
            p.subtotal,
            p.tier_discount,
            p.redeemed_points,
            p.redeemed_amount,
            p.max_redeemable_points,
            p.total,
            p.earned_points,
        ];
        for l in p.lines.iter() {
            v.extend([
                l.subtotal,
                l.tier_discount,
                l.redeemed_amount,
                l.paid,
                l.earn_basis,
            ]);
        }
        v
    }

    /// Pricing without details — `false` (the full module's replay) and `NoDetails` (the
    /// progress module's) — gives a quote's figures and errors on every quote vector, and
    /// builds no rules applied and no notes; the quotes themselves do build some.
    #[test]
    fn figures_do_not_depend_on_details() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/quote");
        let (mut priced_ok, mut with_details) = (0, 0);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let vector: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let mut request = vector["request"].clone();
            let Ok(policy) = Policy::from_json(&request["policy"].to_string()) else {
                continue;
            };
            let fields = request.as_object_mut().unwrap();
            fields.remove("op");
            fields.remove("policy");
            let Ok(req) = crate::json::read::read_text::<QuoteRequest>(&request.to_string()) else {
                continue;
            };
            let text = req.text();
            let Ok(cart) = cart::check_text(&text.cart, &policy.currency, "cart") else {
                continue;
            };
            let tier = text.member.tier.map_or(Some(0), |t| policy.level_index(t));
            let Some(tier) = tier else { continue };
            let member = MemberState {
                status: text.member.status,
                tier,
                points: text.member.points,
            };
            let redeem = text.redeem_points;
            let quoted = price_strict(&policy, member, &cart, redeem, true);
            for other in [
                price_strict(&policy, member, &cart, redeem, false),
                price_strict(&policy, member, &cart, redeem, earn::NoDetails),
            ] {
                match (&quoted, &other) {
                    (Ok(q), Ok(o)) => {
                        assert_eq!(figures(q), figures(o), "{}", path.display());
                        assert!(o.applied_rules.is_empty() && o.notes.is_empty());
                        priced_ok += 1;
                        if !q.applied_rules.is_empty() || !q.notes.is_empty() {
                            with_details += 1;
                        }
                    }
                    (Err(q), Err(o)) => assert_eq!(q.to_json(), o.to_json(), "{}", path.display()),
                    _ => panic!("{}: one pricing failed, the other did not", path.display()),
                }
            }
        }
        assert!(priced_ok >= 100, "{priced_ok} pricings compared");
        assert!(
            with_details >= 60,
            "{with_details} quotes with rules applied or notes"
        );
    }

    fn price_strict<D: earn::Details>(
        policy: &Policy,
        member: MemberState,
        cart: &CheckedCart,
        redeem: RedeemPoints,
        details: D,
    ) -> Result<Priced, Error> {
        price_with(
            policy,
            member,
            cart,
            redeem,
            RedeemMode::Strict,
            "redeem_points",
            details,
        )
    }
}
