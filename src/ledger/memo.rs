//! The policy's expiry instants by local day, remembered across the members one thread
//! replays.
//!
//! Why: a simulation credits a lot for nearly every purchase of every member, and each credit
//! asks when the lot expires (or, under `inactivity`, when the balance goes) — two calendar
//! conversions with their divisions each time. The answer depends only on the policy's expiry
//! rule, its time zone and the local day of the instant ([`super::expiry`]), and a member base's
//! purchases fall on a few hundred distinct days, so a small table indexed by day answers
//! nearly all of them. A plain replay has no memo and computes each instant.

use super::expiry::{inactivity_deadline, lot_expiry};
use crate::policy::{Expiry, Policy};
use crate::time::Instant;

/// Days remembered at once (a power of two: the slot is the day's low bits).
const SLOTS: usize = 1024;

/// The expiry instant of each remembered local day: `lot_expiry` for `after` and
/// `end_of_period`, the inactivity deadline for `inactivity`.
#[derive(Clone, Debug)]
pub struct ExpiryMemo {
    /// The rule and zone the slots were filled under.
    rule: Option<(Expiry, &'static str)>,
    /// (local day, instant); the day `i64::MIN` marks an empty slot.
    slots: Vec<(i64, Option<Instant>)>,
}

impl Default for ExpiryMemo {
    fn default() -> Self {
        ExpiryMemo {
            rule: None,
            slots: vec![(i64::MIN, None); SLOTS],
        }
    }
}

impl ExpiryMemo {
    /// Empties the memo unless it was filled under `policy`'s expiry rule and time zone.
    pub fn bind(&mut self, policy: &Policy) {
        let rule = Some((policy.expiry, policy.time_zone.name()));
        if self.rule != rule {
            self.slots.fill((i64::MIN, None));
            self.rule = rule;
        }
    }

    /// The rule's instant for something at `t` (the memo is bound to `policy`).
    fn instant(&mut self, policy: &Policy, t: Instant) -> Option<Instant> {
        let compute = || match policy.expiry {
            Expiry::Inactivity { .. } => inactivity_deadline(policy, t),
            _ => lot_expiry(policy, t),
        };
        let day = policy.time_zone.local_day(t);
        let Some(slot) = self.slots.get_mut((day as usize) & (SLOTS - 1)) else {
            return compute();
        };
        if slot.0 != day {
            *slot = (day, compute());
        }
        slot.1
    }

    /// [`lot_expiry`], remembered.
    pub fn lot_expiry(&mut self, policy: &Policy, t: Instant) -> Option<Instant> {
        match policy.expiry {
            Expiry::Never | Expiry::Inactivity { .. } => None,
            _ => self.instant(policy, t),
        }
    }

    /// [`inactivity_deadline`], remembered.
    pub fn inactivity_deadline(&mut self, policy: &Policy, t: Instant) -> Option<Instant> {
        match policy.expiry {
            Expiry::Inactivity { .. } => self.instant(policy, t),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(base: &str, expiry: serde_json::Value) -> Policy {
        let mut doc: serde_json::Value = serde_json::from_str(base).unwrap();
        doc["expiry"] = expiry;
        Policy::from_json(&doc.to_string()).unwrap()
    }

    /// The memo answers what the calendar answers, for every expiry kind, in a zone with DST
    /// and one without, with one memo rebound from policy to policy (a stale day must never
    /// answer for another rule or zone).
    #[test]
    fn remembered_instants_are_the_computed_ones() {
        use serde_json::json;
        let bases = [
            include_str!("../../docs/examples/sk-grocery-draft.json"),
            include_str!("../../docs/examples/vn-fashion-draft.json"),
        ];
        let rules = [
            json!({"kind": "after", "months": 12}),
            json!({"kind": "after", "months": 1}),
            json!({"kind": "end_of_period", "period": "month", "after": 0}),
            json!({"kind": "end_of_period", "period": "quarter", "after": 4}),
            json!({"kind": "end_of_period", "period": "year", "after": 1}),
            json!({"kind": "inactivity", "months": 6}),
            json!({"kind": "never"}),
        ];
        let mut memo = ExpiryMemo::default();
        let start = Instant::parse_rfc3339("2024-01-01T00:00:00Z").unwrap();
        for round in 0..2 {
            for base in bases {
                for rule in &rules {
                    let p = policy(base, rule.clone());
                    memo.bind(&p);
                    // Every 5 h 17 min over three years (DST changes and month ends included).
                    for k in 0..5_000i64 {
                        let t = start.checked_add_seconds(k * 19_020 + round).unwrap();
                        assert_eq!(memo.lot_expiry(&p, t), lot_expiry(&p, t), "{rule} at {t}");
                        assert_eq!(
                            memo.inactivity_deadline(&p, t),
                            inactivity_deadline(&p, t),
                            "{rule} at {t}"
                        );
                    }
                }
            }
        }
    }
}
