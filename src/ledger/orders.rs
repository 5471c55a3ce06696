//! Purchases as the ledger remembers them, and their recomputation after refunds (§7.14).
//!
//! Why keep the priced lines: a refund must keep every remaining unit's original discount and
//! redeemed share, under the policy, tier and status that applied at the order. Remaining
//! amounts are `amount × remaining ÷ quantity`, exact; to stay in integers every amount is
//! scaled by the least common multiple of the remaining lines' quantities, and the division by
//! `spend` divides by that scale too, so the points are rounded once as in a quote.

use crate::error::Error;
use crate::money::{div_round, Rounding};
use crate::policy::Policy;
use crate::quote::{self, CheckedCart, MemberState, PricedLine};
use crate::time::Instant;

/// One line of a booked purchase, with its original amounts (minor units).
#[derive(Clone, Debug)]
pub struct OrderLine<'a> {
    /// As written: what a refund names and what earning rules select.
    pub id: &'a str,
    pub sku: Option<&'a str>,
    pub category: Option<&'a str>,
    pub quantity: i64,
    pub unit_price: i64,
    pub after_discount: i64,
    pub paid: i64,
    /// Units refunded so far.
    pub refunded: i64,
}

/// A booked purchase.
#[derive(Clone, Debug)]
pub struct Order<'a> {
    pub at: Instant,
    /// The purchase event's id, and its cart's store and channel (rule gates).
    pub id: &'a str,
    pub store: Option<&'a str>,
    pub channel: Option<&'a str>,
    /// The member at the order: status and tier (what a refund recomputes under).
    pub member: MemberState,
    pub lines: Vec<OrderLine<'a>>,
    pub earn: bool,
    /// The index of the policy version that priced it: what its refunds recompute under.
    pub version: usize,
    pub redeemed_points: i64,
    /// Points the order earns now (would earn, for `earn: false`): after refunds so far.
    pub points_now: i64,
    /// Redeemed points returned by refunds so far.
    pub returned: i64,
    /// Index of its qualifying entry.
    pub entry: Option<usize>,
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Order<'_> {
    pub fn paid_total(&self) -> i64 {
        self.lines.iter().map(|l| l.paid).sum()
    }

    /// Points the order earns with `refunded[i]` units of each line taken back (§7.14): rule
    /// gates re-evaluated on the remaining lines, nothing when no unit remains.
    pub fn points_with(
        &self,
        policy: &Policy,
        refunded: &[i64],
        path: impl std::fmt::Display,
    ) -> Result<i64, Error> {
        let overflow = || Error::overflow(path.to_string());
        let remaining: Vec<(usize, i64)> = self
            .lines
            .iter()
            .zip(refunded)
            .enumerate()
            .map(|(i, (l, r))| (i, l.quantity - r))
            .filter(|(_, r)| *r > 0)
            .collect();
        if remaining.is_empty() {
            return Ok(0);
        }
        // Common denominator of the remaining lines' fractions.
        let mut scale: i128 = 1;
        for &(i, _) in &remaining {
            let q = i128::from(self.lines.get(i).map_or(1, |l| l.quantity));
            scale = scale
                .checked_mul(q / gcd(scale, q))
                .filter(|s| *s <= i128::from(i64::MAX))
                .ok_or_else(overflow)?;
        }
        let mut lines = Vec::with_capacity(remaining.len());
        let mut after_discount = Vec::with_capacity(remaining.len());
        let mut paid = Vec::with_capacity(remaining.len());
        let mut subtotal: i64 = 0;
        for &(i, r) in &remaining {
            let Some(l) = self.lines.get(i) else {
                continue;
            };
            let per_unit = scale / i128::from(l.quantity);
            let scaled = |amount: i64| -> Result<i64, Error> {
                i128::from(amount)
                    .checked_mul(i128::from(r))
                    .and_then(|v| v.checked_mul(per_unit))
                    .and_then(|v| i64::try_from(v).ok())
                    .ok_or_else(overflow)
            };
            let gross = scaled(l.unit_price.checked_mul(l.quantity).ok_or_else(overflow)?)?;
            lines.push(PricedLine {
                id: l.id,
                sku: l.sku,
                category: l.category,
                quantity: r,
                unit_price: l.unit_price,
                subtotal: gross,
            });
            after_discount.push(scaled(l.after_discount)?);
            paid.push(scaled(l.paid)?);
            subtotal = l
                .unit_price
                .checked_mul(r)
                .and_then(|v| subtotal.checked_add(v))
                .ok_or_else(overflow)?;
        }
        let cart = CheckedCart {
            id: self.id,
            store: self.store,
            channel: self.channel,
            at: self.at,
            lines,
            subtotal,
        };
        let scale = i64::try_from(scale).map_err(|_| overflow())?;
        let earned = quote::earn_scaled(policy, self.member, &cart, &after_discount, &paid, scale);
        earned.map_err(|mut e| {
            e.path = path.to_string();
            e
        })
    }

    /// Σ over lines not in `earning.exclude_categories` of paid × remaining ÷ quantity, rounded
    /// once with `money_rounding` (the `spend` metric, §7.21).
    pub fn spend_with(
        &self,
        policy: &Policy,
        refunded: &[i64],
        path: impl std::fmt::Display,
    ) -> Result<i64, Error> {
        let excluded = |i: usize| {
            self.lines
                .get(i)
                .and_then(|l| l.category)
                .is_some_and(|c| policy.earning.exclude_categories.iter().any(|x| x == c))
        };
        if refunded.iter().all(|r| *r == 0) {
            // Nothing refunded: each line's whole paid amount, an integer (no rounding).
            let sum: i128 = (0..self.lines.len())
                .filter(|&i| !excluded(i))
                .filter_map(|i| self.lines.get(i))
                .map(|l| i128::from(l.paid))
                .sum();
            return i64::try_from(sum).map_err(|_| Error::overflow(path.to_string()));
        }
        let parts: Vec<(i128, i128)> = self
            .lines
            .iter()
            .zip(refunded)
            .enumerate()
            .filter(|(i, _)| !excluded(*i))
            .map(|(_, (l, r))| {
                (
                    i128::from(l.paid) * i128::from(l.quantity - r),
                    i128::from(l.quantity),
                )
            })
            .collect();
        sum_fractions(&parts, policy.money_rounding.into())
            .ok_or_else(|| Error::overflow(path.to_string()))
    }

    /// Paid amount of the refunded units, as the exact fraction (numerator, denominator) of
    /// the order's paid total; falls back to amounts after discount when nothing was paid in
    /// money (an order paid entirely with points).
    pub fn refunded_share(&self, refunded: &[i64]) -> Option<(i128, i128)> {
        let by_paid = self.paid_total() > 0;
        let amount = |l: &OrderLine| if by_paid { l.paid } else { l.after_discount };
        let total: i128 = self.lines.iter().map(|l| i128::from(amount(l))).sum();
        if total == 0 {
            return None;
        }
        // Σ amount_i × refunded_i / quantity_i over a common denominator.
        let mut den: i128 = 1;
        for l in &self.lines {
            let q = i128::from(l.quantity);
            den = den.checked_mul(q / gcd(den, q))?;
        }
        let mut num: i128 = 0;
        for (l, r) in self.lines.iter().zip(refunded) {
            let t = i128::from(amount(l))
                .checked_mul(i128::from(*r))?
                .checked_mul(den / i128::from(l.quantity))?;
            num = num.checked_add(t)?;
        }
        Some((num, den.checked_mul(total)?))
    }
}

/// Σ n_i / d_i rounded once.
fn sum_fractions(parts: &[(i128, i128)], rounding: Rounding) -> Option<i64> {
    let mut den: i128 = 1;
    for &(_, d) in parts {
        if d > 0 {
            den = den.checked_mul(d / gcd(den, d))?;
        }
    }
    let mut num: i128 = 0;
    for &(n, d) in parts {
        if d > 0 {
            num = num.checked_add(n.checked_mul(den / d)?)?;
        }
    }
    i64::try_from(div_round(num, den, rounding)?).ok()
}
