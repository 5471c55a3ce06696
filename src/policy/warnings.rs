//! Warnings: settings that are legal but almost certainly not what the merchant meant. They never
//! change a result; `validate` lists them so a policy editor can flag them.

use super::document::Review;
use super::model::{Policy, Window};
use serde::Serialize;

/// `{code, message, path}`; paths are relative to the policy object like error paths.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
    pub path: String,
}

/// All warnings, in document order (earning → tiers → redemption, as SPEC §1 orders sections).
pub fn warnings(p: &Policy) -> Vec<Warning> {
    let mut out = Vec::new();
    for (i, r) in p.earning.rules.iter().enumerate() {
        if let (Some(from), Some(until)) = (&r.when.from, &r.when.until) {
            if from.instant >= until.instant {
                out.push(Warning {
                    code: "rule_never_applies",
                    message: format!("Rule {} can never apply: until is not after from.", r.id),
                    path: format!("earning.rules[{i}].when.until"),
                });
            }
        }
    }
    for (i, l) in p.tiers.levels.iter().enumerate().skip(1) {
        if l.discount_percent.is_zero() && l.earn_multiplier == crate::money::Dec::one() {
            out.push(Warning {
                code: "level_without_benefits",
                message: format!("Level {} gives no discount and no earn multiplier.", l.id),
                path: format!("tiers.levels[{i}]"),
            });
        }
    }
    if p.tiers.downgrade.review != Review::Never && p.tiers.window == Window::Lifetime {
        out.push(Warning {
            code: "review_with_lifetime_window",
            message: "Downgrade reviews have no effect with a lifetime window.".into(),
            path: "tiers.downgrade.review".into(),
        });
    }
    if let Some(r) = &p.redemption {
        if r.max_points_per_order.is_some_and(|cap| r.min_points > cap) {
            out.push(Warning {
                code: "redemption_min_above_cap",
                message: "min_points is above max_points_per_order: no order can redeem points."
                    .into(),
                path: "redemption.min_points".into(),
            });
        }
    }
    out
}
