//! Earning (SPEC §2 step 5, §7.6, §7.10–11): point units per line, one rounding per order, then
//! per-item and bonus points, then the cap.

use super::cart::{CheckedCart, PricedLine};
use super::conditions::{gates_hold, has_selectors, Selectors};
use super::response::AppliedRule;
use crate::error::Error;
use crate::ids::StrSet;
use crate::money::{div_round, mul, pow10, Amounts, Dec, LineVec, MAX_POINTS};
use crate::policy::document::EarnBasis;
use crate::policy::{Effect, Policy};

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
    /// Whether [`Earned::applied`] is wanted (a quote's response); a replay reads only the
    /// points, so the rule list (and its strings) is not built.
    pub details: bool,
}

pub fn earn(policy: &Policy, input: &EarnInput) -> Result<Earned, Error> {
    let e = &policy.earning;
    let lines = &input.cart.lines;
    let excluded = StrSet::of(&e.exclude_categories);
    let earning_line = |l: &PricedLine| !l.category.is_some_and(|c| excluded.contains(c));
    let basis: Amounts = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if !earning_line(l) {
                return 0;
            }
            match e.basis {
                EarnBasis::Paid => input.paid.get(i).copied().unwrap_or(0),
                EarnBasis::AfterDiscount => input.after_discount.get(i).copied().unwrap_or(0),
                EarnBasis::Gross => l.subtotal,
            }
        })
        .collect();

    // Which rules apply (excluded lines satisfy no selector). Which lines a rule selects is
    // asked again where needed rather than kept in a Vec per rule (this runs for every
    // replayed purchase; selectors are short lists).
    struct Applying<'r> {
        index: usize,
        rule: &'r crate::policy::Rule,
        selectors: Selectors<'r>,
    }
    let selects = |a: &Applying, l: &PricedLine| earning_line(l) && a.selectors.select(l);
    let mut applying: LineVec<Applying> = LineVec::new();
    for (index, rule) in e.rules.iter().enumerate() {
        if !gates_hold(&rule.when, input.cart, input.active_tier, policy) {
            continue;
        }
        let a = Applying {
            index,
            rule,
            selectors: Selectors::of(&rule.when),
        };
        if has_selectors(&rule.when) && !lines.iter().any(|l| selects(&a, l)) {
            continue;
        }
        applying.push(a);
    }

    // The winning multiplier per line: highest value, ties to the earlier rule (no Vec when
    // no multiplier rule applies, the common case).
    let any_multiplier = applying
        .iter()
        .any(|a| matches!(a.rule.effect, Effect::Multiplier(_)));
    let winners: LineVec<Option<(usize, Dec)>> = if !any_multiplier {
        LineVec::new()
    } else {
        lines
            .iter()
            .map(|l| {
                let mut best: Option<(usize, Dec)> = None;
                for a in &applying {
                    if let Effect::Multiplier(m) = a.rule.effect {
                        if selects(a, l) && best.is_none_or(|(_, b)| m > b) {
                            best = Some((a.index, m));
                        }
                    }
                }
                best
            })
            .collect()
    };
    let winner = |i: usize| winners.get(i).copied().flatten();

    // units = (Σ basis × multiplier × earn_multiplier) × points ÷ spend, divided once (§7.6).
    let overflow = || Error::overflow("cart");
    let (em, es) = input.earn_multiplier.parts();
    let max_scale = winners
        .iter()
        .map(|w| w.map_or(0, |(_, m)| m.parts().1))
        .max()
        .unwrap_or(0);
    let mut numerator: i128 = 0;
    for (i, b) in basis.iter().enumerate() {
        let (mm, ms) = winner(i).map_or((1, 0), |(_, m)| m.parts());
        let scaled = pow10(max_scale - ms)
            .and_then(|f| mul(mm, f))
            .and_then(|m| mul(m, i128::from(*b)))
            .and_then(|t| mul(t, em))
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
    for a in &applying {
        let lines_of = |idx: &[usize]| -> Vec<String> {
            idx.iter()
                .filter_map(|&i| lines.get(i).map(|l| l.id.to_string()))
                .collect()
        };
        match a.rule.effect {
            Effect::Multiplier(_) => {
                if !input.details {
                    continue;
                }
                let won: Vec<usize> = (0..lines.len())
                    .filter(|&i| winner(i).is_some_and(|(r, _)| r == a.index))
                    .collect();
                if won.is_empty() {
                    continue;
                }
                applied.push((a.rule.priority, a.index, lines_of(&won), a.rule.effect));
            }
            Effect::BonusPoints(n) => {
                total = total.checked_add(i128::from(n)).ok_or_else(overflow)?;
                if input.details {
                    applied.push((a.rule.priority, a.index, Vec::new(), a.rule.effect));
                }
            }
            Effect::PointsPerItem(n) => {
                let items: i128 = lines
                    .iter()
                    .filter(|l| selects(a, l))
                    .map(|l| i128::from(l.quantity))
                    .sum();
                total = mul(items, i128::from(n))
                    .and_then(|p| total.checked_add(p))
                    .ok_or_else(overflow)?;
                if input.details {
                    applied.push((
                        a.rule.priority,
                        a.index,
                        lines_of(
                            &(0..lines.len())
                                .filter(|&i| lines.get(i).is_some_and(|l| selects(a, l)))
                                .collect::<Vec<usize>>(),
                        ),
                        a.rule.effect,
                    ));
                }
            }
        }
    }
    // Priority descending, then policy order: one key, priority × 2^32 − rule index (indexes
    // are far below 2^32).
    let keys: Vec<i128> = applied
        .iter()
        .map(|a| (i128::from(a.0) << 32) - a.1 as i128)
        .collect();
    let order = crate::ids::ranked(&keys);
    let mut applied: Vec<Option<_>> = applied.into_iter().map(Some).collect();
    let applied = order
        .into_iter()
        .filter_map(|i| applied.get_mut(i).and_then(Option::take))
        .filter_map(|(_, index, lines, effect)| {
            e.rules.get(index).map(|r| AppliedRule {
                rule: r.id.clone(),
                lines,
                effect,
            })
        })
        .collect();

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
