//! Purchases and rewards (SPEC §3): pricing an order as a quote would with the member's state
//! at its instant, consuming redeemed points, booking the order for later refunds and its
//! tier contribution, and spending points on rewards.
//!
//! Why here and not in the clock: the clock decides *when* things happen; these decide what an
//! event does to the balance.

use super::clock::{level_id, pts, EventPath, State};
use super::orders::{Order, OrderLine};
use super::request::Checked;
use crate::error::{Error, ErrorCode};
use crate::member::MemberStatus;
use crate::money::MAX_POINTS;
use crate::policy::document::TierMetric;
use crate::quote::{self, MemberState, RedeemMode, RedeemPoints};
use crate::time::Instant;

impl<'a> State<'_, 'a> {
    /// A purchase priced under version `version` (SPEC §3.1), with the replayed member state or
    /// the `quoted` snapshot it was booked with.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn purchase(
        &mut self,
        e: &Checked<'a>,
        p: EventPath,
        checked: &quote::CheckedCart<'a>,
        redeem: RedeemPoints,
        earn: bool,
        version: usize,
        quoted: Option<MemberState>,
    ) -> Result<(), Error> {
        let policy = self.versions.get(version).policy;
        // A booked sale is priced with what the till knew: its figures are the receipt's.
        let member = quoted.unwrap_or(MemberState {
            status: self.status,
            tier: self.tier.tier,
            points: self.lots.available(),
        });
        // Imported history (`earn: false`) is priced with its redemption as it happened
        // elsewhere (clamped, never an error) so `paid` and would-be points are right, but it
        // consumes no lot and earns no lot.
        let (pricing_member, mode) = if earn {
            (member, self.redeem_mode)
        } else {
            (
                MemberState {
                    points: MAX_POINTS,
                    ..member
                },
                RedeemMode::Clamp,
            )
        };
        let priced = quote::price_figures(
            policy,
            pricing_member,
            checked,
            redeem,
            mode,
            "redeem_points",
        )
        .map_err(|err| {
            if err.path == "cart" || err.path.starts_with("cart.") || err.path == "redeem_points" {
                err.within(&p.to_string())
            } else {
                err
            }
        })?;
        self.activity(e.at);
        let lines: Vec<OrderLine> = checked
            .lines
            .iter()
            .zip(&priced.lines)
            .map(|(l, r)| OrderLine {
                id: l.id,
                sku: l.sku,
                category: l.category,
                quantity: l.quantity,
                unit_price: l.unit_price,
                after_discount: r.subtotal - r.tier_discount,
                paid: r.paid,
                refunded: 0,
            })
            .collect();
        let available_at = self
            .zone()
            .add_local_days(e.at, policy.earning.pending_days)
            .unwrap_or(Instant::MAX);
        let order_index = self.orders.len();
        let mut order = Order {
            at: e.at,
            id: e.id,
            store: checked.store,
            channel: checked.channel,
            member,
            lines,
            earn,
            version,
            redeemed_points: if earn { priced.redeemed_points } else { 0 },
            points_now: priced.earned_points,
            returned: 0,
            entry: None,
        };
        if earn {
            // Redemption never exceeds the available balance (its limit includes it), except
            // for a sale booked with a snapshot (an offline till's): what the balance lacks
            // becomes debt, which later earning pays first (SPEC §3.1).
            let took = self.lots.consume(priced.redeemed_points);
            self.lots.debt += priced.redeemed_points - took;
            self.totals.redeemed = pts(
                i128::from(self.totals.redeemed) + i128::from(priced.redeemed_points),
                p,
            )?;
            self.totals.earned = pts(
                i128::from(self.totals.earned) + i128::from(priced.earned_points),
                p,
            )?;
            let expiry = self.lot_expiry(version, e.at);
            self.credit(
                priced.earned_points,
                e.at,
                available_at,
                expiry,
                Some(order_index),
                version,
            );
        }
        let (at, earned) = (e.at, priced.earned_points);
        order.entry = Some(self.contribute(|m| {
            Ok(match m {
                TierMetric::Points => (available_at, earned),
                TierMetric::Spend => (
                    at,
                    order.spend_with(policy, &vec![0; order.lines.len()], p)?,
                ),
                TierMetric::Orders => (at, 1),
            })
        })?);
        self.book_order(e.id, order);
        Ok(())
    }

    pub(super) fn redeem_reward(
        &mut self,
        e: &Checked<'a>,
        p: EventPath,
        reward: usize,
    ) -> Result<(), Error> {
        // The rewards of the version in force (the check found the reward there).
        let policy = self.policy;
        let path = || format!("{p}.reward_id");
        let Some(r) = policy.rewards.get(reward) else {
            return Err(Error::new(
                ErrorCode::UnknownReward,
                path(),
                "unknown reward",
            ));
        };
        if self.status != MemberStatus::Active {
            return Err(Error::new(
                ErrorCode::MemberNotActive,
                path(),
                format!(
                    "Member status is {}: only active members may redeem points.",
                    self.status.as_str()
                ),
            ));
        }
        if let Some(min) = &r.min_tier {
            let need = policy.level_index(min).unwrap_or(0);
            if self.tier.tier < need {
                return Err(Error::invalid_request(
                    path(),
                    format!(
                        "Reward {} needs tier {min}; the member is {}.",
                        r.id,
                        level_id(policy, self.tier.tier)
                    ),
                ));
            }
        }
        let available = self.lots.available();
        if available < r.points {
            return Err(Error::new(
                ErrorCode::InsufficientPoints,
                path(),
                format!(
                    "Reward {} costs {} points; {available} are available.",
                    r.id, r.points
                ),
            ));
        }
        self.activity(e.at);
        self.lots.consume(r.points);
        self.totals.redeemed = pts(i128::from(self.totals.redeemed) + i128::from(r.points), p)?;
        Ok(())
    }
}
