//! Rule conditions (SPEC §1.1, §7.9): order gates decide whether a rule applies at all, line
//! selectors pick the lines it applies to.

use super::cart::{CheckedCart, PricedLine};
use crate::ids::Keys;
use crate::policy::document::Weekday;
use crate::policy::{Condition, Policy, Selectors};
use crate::time::{Instant, Zone};

/// Whether every order gate present holds. `tier` is the member's level id when the member is
/// active (for other members `tiers` gates never hold).
pub fn gates_hold(c: &Condition, cart: &CheckedCart, tier: Option<&str>, policy: &Policy) -> bool {
    if !listed(&c.stores, cart.store)
        || !listed(&c.channels, cart.channel)
        || !listed(&c.tiers, tier)
    {
        return false;
    }
    if let Some(days) = &c.days_of_week {
        let today = local_weekday(&policy.time_zone, cart.at);
        if !days.contains(&today) {
            return false;
        }
    }
    if let Some(min) = &c.min_subtotal {
        if cart.subtotal < min.minor {
            return false;
        }
    }
    if let Some(from) = &c.from {
        if cart.at < from.instant {
            return false;
        }
    }
    if let Some(until) = &c.until {
        if cart.at >= until.instant {
            return false;
        }
    }
    true
}

/// Whether a line satisfies every line selector present (a line without the field never
/// does).
pub fn selects(s: &Selectors, line: &PricedLine) -> bool {
    in_set(&s.categories, line.category) && in_set(&s.skus, line.sku)
}

fn in_set(set: &Option<Keys>, value: Option<&str>) -> bool {
    match set {
        None => true,
        Some(s) => value.is_some_and(|v| s.contains(v)),
    }
}

/// An absent list holds; a present list holds when the value is given and listed.
fn listed(list: &Option<Vec<String>>, value: Option<&str>) -> bool {
    match list {
        None => true,
        Some(l) => value.is_some_and(|v| l.iter().any(|x| x == v)),
    }
}

/// The local day of the week at `t`: `Zone::weekday` with integer arithmetic only (this runs
/// for every priced order): the local day number from the offset, and 1970-01-01 was a
/// Thursday. The zone by reference: copying it is a memcpy of over a hundred bytes.
fn local_weekday(zone: &Zone, t: Instant) -> Weekday {
    match zone.local_weekday_number(t) {
        0 => Weekday::Sun,
        1 => Weekday::Mon,
        2 => Weekday::Tue,
        3 => Weekday::Wed,
        4 => Weekday::Thu,
        5 => Weekday::Fri,
        _ => Weekday::Sat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_weekday_is_the_zones_weekday() {
        crate::time::for_sampled_instants(|name, zone, t| {
            let want = match zone.weekday(t) {
                chrono::Weekday::Mon => Weekday::Mon,
                chrono::Weekday::Tue => Weekday::Tue,
                chrono::Weekday::Wed => Weekday::Wed,
                chrono::Weekday::Thu => Weekday::Thu,
                chrono::Weekday::Fri => Weekday::Fri,
                chrono::Weekday::Sat => Weekday::Sat,
                chrono::Weekday::Sun => Weekday::Sun,
            };
            assert_eq!(local_weekday(&zone, t), want, "{name} {t}");
        });
    }
}
