//! Earning (SPEC §2 step 5, §7.6, §7.10–11): point units per line, one rounding per order, then
//! per-item and bonus points, then the cap.

use super::cart::{CheckedCart, PricedLine};
use super::conditions::{gates_hold, selects};
use super::response::AppliedRule;
use crate::error::Error;
use crate::money::{div_round, mul, pow10, Amounts, Dec, LineVec, MAX_POINTS};
use crate::policy::document::EarnBasis;
use crate::policy::{Effect, Policy, Rule};

/// The outcome of earning for one order.
pub struct Earned {
    /// Points after bonus, per-item and the cap.
    pub points: i64,
    /// Points before the cap, when the cap lowered them (only ever shown in a note, so it may
    /// exceed the points range).
    pub uncapped: Option<i128>,
    /// Each line's earn basis (minor units; 0 for lines that earn nothing).
    pub basis: Amounts,
    pub applied: Vec<AppliedRule>,
}

/// Inputs of earning that come from earlier steps.
pub struct EarnInput<'a, 'c> {
    pub cart: &'a CheckedCart<'c>,
    /// Per line: after discount, and paid (after discount and redemption).
    pub after_discount: &'a [i64],
    pub paid: &'a [i64],
    /// The member's level id when active (tier gates), else None.
    pub active_tier: Option<&'a str>,
    /// The tier's earn multiplier (1 when the member gets no tier benefits).
    pub earn_multiplier: Dec,
    /// The basis amounts (and gross line subtotals) are this many times the real amounts; the
    /// division by `spend` also divides by it. 1 for a quote; a refund recomputes remaining
    /// units' exact fractional amounts as integers scaled by a common denominator (SPEC §7.14).
    pub basis_scale: i64,
}

/// Whether the rules applied (and a quote's notes) are built: a quote's response wants them; a
/// replay reads only the points, so their strings are not built.
///
/// A `bool` in the full module (one pricing function serves quote and replay) and, in the
/// progress module, which never quotes, [`NoDetails`]: the constant `false`, so that the
/// module has no code for them (−1.4 KB gzip there). A const generic parameter instead would
/// give the full module a second copy of the pricing (+4.7 KB gzip, measured).
pub trait Details: Copy {
    fn on(self) -> bool;
}

impl Details for bool {
    fn on(self) -> bool {
        self
    }
}

/// No details: what every replayed purchase is priced with in the progress module (and, in
/// every build, what a unit test prices the quote vectors with).
#[derive(Clone, Copy)]
#[cfg_attr(
    not(all(feature = "progress", not(feature = "full"))),
    allow(dead_code)
)]
pub struct NoDetails;

impl Details for NoDetails {
    fn on(self) -> bool {
        false
    }
}

/// What a replayed purchase is priced with (see [`Details`]).
#[cfg(all(feature = "progress", not(feature = "full")))]
pub const REPLAY: NoDetails = NoDetails;
#[cfg(not(all(feature = "progress", not(feature = "full"))))]
pub const REPLAY: bool = false;

/// `details`: whether [`Earned::applied`] is built (see [`Details`]).
pub fn earn<D: Details>(policy: &Policy, input: &EarnInput, details: D) -> Result<Earned, Error> {
    let e = &policy.earning;
    let lines = &input.cart.lines;
    // Which rules apply (excluded lines satisfy no selector), by index. Which lines a rule
    // selects is asked again where needed rather than kept in a Vec per rule (this runs for
    // every replayed purchase; selectors are short lists).
    let selected = |r| selected(policy, lines, r);
    let mut applying: LineVec<(usize, &Rule)> = LineVec::new();
    // The winning multiplier per line: highest value, ties to the earlier rule, found in the
    // same pass over a multiplier rule's lines as whether it applies (no Vec until a
    // multiplier selects a line, the common case being none).
    let mut winners: LineVec<Option<(usize, Dec)>> = LineVec::new();
    for (index, rule) in e.rules.iter().enumerate() {
        if !gates_hold(&rule.when, input.cart, input.active_tier, policy) {
            continue;
        }
        let any = match rule.effect {
            Effect::Multiplier(m) => {
                let mut any = false;
                for (i, s) in selected(rule).enumerate() {
                    if !s {
                        continue;
                    }
                    any = true;
                    if winners.is_empty() {
                        winners = std::iter::repeat_n(None, lines.len()).collect();
                    }
                    if let Some(best) = winners.get_mut(i) {
                        if best.is_none_or(|(_, b)| m > b) {
                            *best = Some((index, m));
                        }
                    }
                }
                any
            }
            _ => rule.selectors.any() && selected(rule).any(|s| s),
        };
        if rule.selectors.any() && !any {
            continue;
        }
        applying.push((index, rule));
    }
    let winner = |i: usize| winners.get(i).copied().flatten();

    // units = (Σ basis × multiplier × earn_multiplier) × points ÷ spend, divided once (§7.6).
    let overflow = || Error::overflow("cart");
    let (em, es) = input.earn_multiplier.parts();
    let max_scale = winners
        .iter()
        .map(|w| w.map_or(0, |(_, m)| m.parts().1))
        .max()
        .unwrap_or(0);
    // Each line's basis, and its units into the numerator, in one pass.
    let mut basis = Amounts::with_capacity(lines.len());
    let mut numerator: i128 = 0;
    for (i, l) in lines.iter().enumerate() {
        let b = if !earns(policy, l) {
            0
        } else {
            match e.basis {
                EarnBasis::Paid => input.paid.get(i).copied().unwrap_or(0),
                EarnBasis::AfterDiscount => input.after_discount.get(i).copied().unwrap_or(0),
                EarnBasis::Gross => l.subtotal,
            }
        };
        basis.push(b);
        let scaled = match winner(i) {
            // 10^max_scale × 1 × basis × em, as below, without the scale's multiplications.
            None if max_scale == 0 => mul(i128::from(b), em),
            w => {
                let (mm, ms) = w.map_or((1, 0), |(_, m)| m.parts());
                pow10(max_scale - ms)
                    .and_then(|f| mul(mm, f))
                    .and_then(|m| mul(m, i128::from(b)))
                    .and_then(|t| mul(t, em))
            }
        }
        .ok_or_else(overflow)?;
        numerator = numerator.checked_add(scaled).ok_or_else(overflow)?;
    }
    let numerator = mul(numerator, i128::from(e.points)).ok_or_else(overflow)?;
    let denominator = pow10(max_scale + es)
        .and_then(|f| mul(f, i128::from(e.spend.minor)))
        .and_then(|d| mul(d, i128::from(input.basis_scale.max(1))))
        .ok_or_else(overflow)?;
    let base = div_round(numerator, denominator, e.rounding.into()).ok_or_else(overflow)?;

    let mut total: i128 = base;
    let mut applied = Vec::new();
    for &(index, rule) in &applying {
        let lines_of = |idx: &[usize]| -> Vec<String> {
            idx.iter()
                .filter_map(|&i| lines.get(i).map(|l| l.id.to_string()))
                .collect()
        };
        match rule.effect {
            Effect::Multiplier(_) => {
                if !details.on() {
                    continue;
                }
                let won: Vec<usize> = (0..lines.len())
                    .filter(|&i| winner(i).is_some_and(|(r, _)| r == index))
                    .collect();
                if won.is_empty() {
                    continue;
                }
                applied.push((rule.priority, index, lines_of(&won), rule.effect));
            }
            Effect::BonusPoints(n) => {
                total = total.checked_add(i128::from(n)).ok_or_else(overflow)?;
                if details.on() {
                    applied.push((rule.priority, index, Vec::new(), rule.effect));
                }
            }
            Effect::PointsPerItem(n) => {
                let items: i128 = lines
                    .iter()
                    .zip(selected(rule))
                    .filter(|(_, s)| *s)
                    .map(|(l, _)| i128::from(l.quantity))
                    .sum();
                total = mul(items, i128::from(n))
                    .and_then(|p| total.checked_add(p))
                    .ok_or_else(overflow)?;
                if details.on() {
                    let idx: Vec<usize> = selected(rule)
                        .enumerate()
                        .filter(|(_, s)| *s)
                        .map(|(i, _)| i)
                        .collect();
                    applied.push((rule.priority, index, lines_of(&idx), rule.effect));
                }
            }
        }
    }
    // Priority descending, then policy order: one key, priority × 2^32 − rule index (indexes
    // are far below 2^32). Nothing to order without details (the list is empty: said here
    // too, so that `earn` with `NoDetails` has no code for the ordering).
    let applied = if !details.on() || applied.is_empty() {
        Vec::new()
    } else {
        let keys: Vec<i128> = applied
            .iter()
            .map(|a| (i128::from(a.0) << 32) - a.1 as i128)
            .collect();
        let order = crate::ids::ranked(&keys);
        let mut applied: Vec<Option<_>> = applied.into_iter().map(Some).collect();
        order
            .into_iter()
            .filter_map(|i| applied.get_mut(i).and_then(Option::take))
            .filter_map(|(_, index, lines, effect)| {
                e.rules.get(index).map(|r| AppliedRule {
                    rule: r.id.clone(),
                    lines,
                    effect,
                })
            })
            .collect()
    };

    let (points, uncapped) = match e.max_points_per_order {
        Some(cap) if total > i128::from(cap) => (i128::from(cap), Some(total)),
        _ => (total, None),
    };
    let to_points = |v: i128| {
        i64::try_from(v)
            .ok()
            .filter(|p| (0..=MAX_POINTS).contains(p))
            .ok_or_else(overflow)
    };
    Ok(Earned {
        points: to_points(points)?,
        uncapped,
        basis,
        applied,
    })
}

/// Whether a line earns (its category is not excluded).
fn earns(policy: &Policy, l: &PricedLine) -> bool {
    !l.category
        .is_some_and(|c| policy.earning.excluded.contains(c))
}

/// Per line, whether `rule` selects it (an excluded line satisfies no selector; asked second,
/// as most lines fail the selectors).
fn selected<'a>(
    policy: &'a Policy,
    lines: &'a [PricedLine],
    rule: &'a Rule,
) -> impl Iterator<Item = bool> + 'a {
    lines
        .iter()
        .map(move |l| selects(&rule.selectors, l) && earns(policy, l))
}
