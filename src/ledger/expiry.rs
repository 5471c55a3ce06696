//! When points go (SPEC §3 "Expiry", §7.16–17), as local-calendar instants.
//!
//! Why its own file: every expiry kind is "the start of some local day", and getting those
//! boundaries right across DST is the whole difficulty; the replay clock only asks "when".

use crate::policy::document::Period as PolicyPeriod;
use crate::policy::{Expiry, Policy};
use crate::time::{Instant, Period};

/// The expiry a lot earned (or credited) at `t` gets from the policy, apart from inactivity:
/// None for `never` and `inactivity` (inactivity is a member-wide deadline).
pub fn lot_expiry(policy: &Policy, t: Instant) -> Option<Instant> {
    // The zone by reference: copying it is a memcpy of over a hundred bytes.
    let zone = &policy.time_zone;
    match policy.expiry {
        Expiry::Never | Expiry::Inactivity { .. } => None,
        Expiry::After { months } => zone.day_after_months(t, months),
        Expiry::EndOfPeriod { period, after } => {
            let p = match period {
                PolicyPeriod::Month => Period::Month,
                PolicyPeriod::Quarter => Period::Quarter,
                PolicyPeriod::Year => Period::Year,
            };
            let n = i32::try_from(after).ok()?.checked_add(1)?;
            zone.period_start(t, p, n)
        }
    }
}

/// Under `inactivity`: the deadline after activity at `t`; None for other kinds.
pub fn inactivity_deadline(policy: &Policy, t: Instant) -> Option<Instant> {
    match policy.expiry {
        Expiry::Inactivity { months } => policy.time_zone.day_after_months(t, months),
        _ => None,
    }
}
