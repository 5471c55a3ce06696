//! Redemption (SPEC §2 step 3, §7.12): how many points may pay for this order, and checking the
//! request against it.

use super::{MemberState, RedeemPoints};
use crate::error::{Error, ErrorCode};
use crate::member::MemberStatus;
use crate::money::Rounding;
use crate::money::{div_round, mul, pow10};
use crate::policy::Policy;

/// What happens to a request above the limit: a quote rejects it; a simulation under a draft
/// policy clamps it (SPEC §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedeemMode {
    Strict,
    Clamp,
}

pub struct Redeemed {
    pub points: i64,
    pub amount: i64,
    pub max: i64,
}

pub fn redeem(
    policy: &Policy,
    member: MemberState,
    total_after_discount: i64,
    request: RedeemPoints,
    mode: RedeemMode,
    path: &str,
) -> Result<Redeemed, Error> {
    let active = member.status == MemberStatus::Active;
    let requested = match request {
        RedeemPoints::Points(n) => Some(n),
        RedeemPoints::Max => None,
    };
    let err = |code, msg: String| Err(Error::new(code, path, msg));
    let strict = mode == RedeemMode::Strict;
    let section = match (&policy.redemption, active) {
        (Some(r), true) => r,
        _ => {
            if strict && requested.is_some_and(|n| n > 0) {
                if !active {
                    return err(
                        ErrorCode::MemberNotActive,
                        format!(
                            "Member status is {}: only active members may redeem points.",
                            member.status.as_str()
                        ),
                    );
                }
                return err(
                    ErrorCode::RedemptionNotAvailable,
                    "This policy has no redemption section: points cannot pay for orders.".into(),
                );
            }
            return Ok(Redeemed {
                points: 0,
                amount: 0,
                max: 0,
            });
        }
    };

    // floor(total × max_share ÷ point_value), exactly.
    let (sm, ss) = section.max_share.parts();
    let by_share = mul(i128::from(total_after_discount.max(0)), sm)
        .and_then(|n| {
            pow10(ss)
                .and_then(|f| mul(f, i128::from(section.point_value.minor)))
                .and_then(|d| div_round(n, d, Rounding::Floor))
        })
        .ok_or_else(|| Error::overflow("cart"))?;
    let mut limit = by_share.min(i128::from(member.points.max(0)));
    if let Some(cap) = section.max_points_per_order {
        limit = limit.min(i128::from(cap));
    }
    let step = i128::from(section.step);
    let mut max = limit - limit.rem_euclid(step);
    if max < i128::from(section.min_points) {
        max = 0;
    }
    let max = i64::try_from(max).map_err(|_| Error::overflow("cart"))?;

    let points = match requested {
        None => max,
        Some(0) => 0,
        Some(n) if strict => {
            if n < section.min_points {
                return err(
                    ErrorCode::RedemptionBelowMinimum,
                    format!(
                        "Requested {n} points; the minimum redemption is {} points.",
                        section.min_points
                    ),
                );
            }
            if n > max {
                return err(
                    ErrorCode::RedemptionExceedsLimit,
                    format!("Requested {n} points; at most {max} can be redeemed on this order."),
                );
            }
            if n % section.step != 0 {
                return err(
                    ErrorCode::RedemptionStepMismatch,
                    format!(
                        "Requested {n} points; redemptions must be a multiple of {} points.",
                        section.step
                    ),
                );
            }
            n
        }
        // Clamp: the most the new policy allows, never more than asked.
        Some(n) => {
            let n = n.min(max);
            let n = n - n.rem_euclid(section.step);
            if n < section.min_points {
                0
            } else {
                n
            }
        }
    };
    let amount = i128::from(points)
        .checked_mul(i128::from(section.point_value.minor))
        .and_then(|a| i64::try_from(a).ok())
        .ok_or_else(|| Error::overflow(path))?
        .min(total_after_discount.max(0));
    Ok(Redeemed {
        points,
        amount,
        max,
    })
}
