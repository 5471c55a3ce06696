//! Refunds (SPEC §3, §7.14–15): recompute the order without the refunded units, claw back the
//! difference (own pending lot first, then available lots, then debt or shortfall), return the
//! refunded share of its redemption as a new lot, and rewrite its tier contribution.
//!
//! Why a module of its own: refunds are cumulative and touch every part of the ledger (lots,
//! debt, totals, qualification); keeping the whole rule in one place keeps it checkable.

use super::clock::{pts, EventPath, State};
use super::request::Checked;
use super::view::RefundLineView;
use crate::error::{Error, ErrorCode, Quoted};
use crate::money::{div_round, Rounding};
use crate::policy::document::{Clawback, TierMetric};

impl State<'_, '_> {
    /// Returns the shortfall (`within_balance` only).
    pub(super) fn refund(
        &mut self,
        e: &Checked,
        p: EventPath,
        order_id: &str,
        lines: Option<&[RefundLineView]>,
    ) -> Result<Option<i64>, Error> {
        let oi = self.order_index(order_id).ok_or_else(|| {
            Error::new(
                ErrorCode::UnknownOrder,
                format!("{p}.order_id"),
                format!("no purchase {} before this refund", Quoted(order_id)),
            )
        })?;
        let order = self
            .orders
            .get(oi)
            .ok_or_else(|| Error::new(ErrorCode::UnknownOrder, format!("{p}.order_id"), ""))?;
        // Everything a refund does follows the version that priced its order (SPEC §3.1).
        let version = order.version;
        let policy = self.versions.get(version).policy;
        let before: Vec<i64> = order.lines.iter().map(|l| l.refunded).collect();
        let mut after = before.clone();
        match lines {
            None => {
                if order.lines.iter().all(|l| l.refunded >= l.quantity) {
                    return Err(Error::new(
                        ErrorCode::RefundExceedsOrder,
                        format!("{p}.order_id"),
                        format!(
                            "order {} has been refunded entirely already",
                            Quoted(order_id)
                        ),
                    ));
                }
                for (a, l) in after.iter_mut().zip(&order.lines) {
                    *a = l.quantity;
                }
            }
            Some(ls) => {
                for (j, rl) in ls.iter().enumerate() {
                    let li = order
                        .lines
                        .iter()
                        .position(|l| l.id == rl.line_id)
                        .ok_or_else(|| {
                            Error::invalid_request(
                                format!("{p}.lines[{j}].line_id"),
                                format!(
                                    "order {} has no line {}",
                                    Quoted(order_id),
                                    Quoted(rl.line_id)
                                ),
                            )
                        })?;
                    let (Some(a), Some(l)) = (after.get_mut(li), order.lines.get(li)) else {
                        continue;
                    };
                    let total = a.checked_add(rl.quantity).filter(|t| *t <= l.quantity);
                    *a = total.ok_or_else(|| {
                        Error::new(
                            ErrorCode::RefundExceedsOrder,
                            format!("{p}.lines[{j}].quantity"),
                            format!(
                                "line {} of order {} had {} units, {} already refunded",
                                Quoted(rl.line_id),
                                Quoted(order_id),
                                l.quantity,
                                l.refunded
                            ),
                        )
                    })?;
                }
            }
        }
        let points_after = order.points_with(policy, &after, p)?;
        let clawback = if order.earn {
            (order.points_now - points_after).max(0)
        } else {
            0
        };
        let returned = if order.earn && order.redeemed_points > 0 {
            match order.refunded_share(&after) {
                Some((num, den)) => {
                    let total = i128::from(order.redeemed_points)
                        .checked_mul(num)
                        .and_then(|n| div_round(n, den, Rounding::Floor))
                        .ok_or_else(|| Error::overflow(p.to_string()))?;
                    pts(total - i128::from(order.returned), p)?.max(0)
                }
                None => 0,
            }
        } else {
            0
        };
        let spend_after = if self.uses_metric(TierMetric::Spend) {
            order.spend_with(policy, &after, p)?
        } else {
            0
        };
        let any_left = order.lines.iter().zip(&after).any(|(l, a)| *a < l.quantity);
        let entry = order.entry;

        // Returned redemption first: a new lot, available at once, expiring as if earned now. A
        // refund is one event, so what it returns and what it claws back net out; crediting
        // first keeps `within_balance` from dropping a shortfall the same refund pays back.
        let expiry = self.lot_expiry(version, e.at);
        self.credit(returned, e.at, e.at, expiry, None, version);
        self.totals.redeemed = pts(i128::from(self.totals.redeemed) - i128::from(returned), p)?;
        // Clawback: the order's own pending lot, then available lots; the rest is debt or dropped.
        let mut taken = self.lots.take_pending_of(oi, clawback);
        taken += self.lots.consume(clawback - taken);
        let rest = clawback - taken;
        let shortfall = match policy.refunds.clawback {
            Clawback::Unlimited => {
                self.lots.debt += rest;
                taken += rest;
                None
            }
            Clawback::WithinBalance => Some(rest),
        };
        self.totals.clawed_back = pts(i128::from(self.totals.clawed_back) + i128::from(taken), p)?;

        if let Some(order) = self.orders.get_mut(oi) {
            for (l, a) in order.lines.iter_mut().zip(&after) {
                l.refunded = *a;
            }
            order.points_now = points_after;
            order.returned += returned;
        }
        if let Some(ix) = entry {
            self.recontribute(ix, |m| match m {
                TierMetric::Points => points_after,
                TierMetric::Spend => spend_after,
                TierMetric::Orders => i64::from(any_left),
            });
        }
        Ok(shortfall)
    }
}
