//! Rule conditions (SPEC §1.1, §7.9): order gates decide whether a rule applies at all, line
//! selectors pick the lines it applies to.

use super::cart::{CheckedCart, PricedLine};
use crate::ids::StrSet;
use crate::policy::document::Weekday;
use crate::policy::{Condition, Policy};
use crate::time::{Instant, Zone};

/// Whether every order gate present holds. `tier` is the member's level id when the member is
/// active (for other members `tiers` gates never hold).
pub fn gates_hold(c: &Condition, cart: &CheckedCart, tier: Option<&str>, policy: &Policy) -> bool {
    if !listed(&c.stores, cart.cart.store.as_deref())
        || !listed(&c.channels, cart.cart.channel.as_deref())
        || !listed(&c.tiers, tier)
    {
        return false;
    }
    if let Some(days) = &c.days_of_week {
        let today = local_weekday(policy.time_zone, cart.at);
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

/// Whether the condition has line selectors (`categories`, `skus`).
pub fn has_selectors(c: &Condition) -> bool {
    c.categories.is_some() || c.skus.is_some()
}

/// A condition's line selectors as sets, built once per order: a policy may list thousands
/// of categories or skus and a cart may hold a thousand lines, and scanning every list for
/// every line and rule took seconds on a large (valid) request.
pub struct Selectors<'a> {
    categories: Option<StrSet<'a>>,
    skus: Option<StrSet<'a>>,
}

impl<'a> Selectors<'a> {
    pub fn of(c: &'a Condition) -> Selectors<'a> {
        let set = |l: &'a Option<Vec<String>>| l.as_deref().map(StrSet::of);
        Selectors {
            categories: set(&c.categories),
            skus: set(&c.skus),
        }
    }

    /// Whether a line satisfies every line selector present (a line without the field never
    /// does).
    pub fn select(&self, line: &PricedLine) -> bool {
        in_set(&self.categories, line.category) && in_set(&self.skus, line.sku)
    }
}

fn in_set(set: &Option<StrSet>, value: Option<&str>) -> bool {
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
/// Thursday.
fn local_weekday(zone: Zone, t: Instant) -> Weekday {
    let local = t.unix_seconds() + i64::from(zone.offset_at(t));
    match (local.div_euclid(86_400) + 3).rem_euclid(7) {
        0 => Weekday::Mon,
        1 => Weekday::Tue,
        2 => Weekday::Wed,
        3 => Weekday::Thu,
        4 => Weekday::Fri,
        5 => Weekday::Sat,
        _ => Weekday::Sun,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_weekday_is_the_zones_weekday() {
        for name in [
            "Asia/Ho_Chi_Minh",
            "Europe/Bratislava",
            "America/St_Johns",
            "Pacific/Apia",
        ] {
            let zone = Zone::by_name(name).unwrap();
            // Every 7,919 seconds from 1970 to 2199, so every hour of the day and DST edge
            // region is hit.
            let mut s = 0i64;
            while s < 7_258_118_400 {
                let t = Instant::from_unix(s, 0).unwrap();
                let want = match zone.weekday(t) {
                    chrono::Weekday::Mon => Weekday::Mon,
                    chrono::Weekday::Tue => Weekday::Tue,
                    chrono::Weekday::Wed => Weekday::Wed,
                    chrono::Weekday::Thu => Weekday::Thu,
                    chrono::Weekday::Fri => Weekday::Fri,
                    chrono::Weekday::Sat => Weekday::Sat,
                    chrono::Weekday::Sun => Weekday::Sun,
                };
                assert_eq!(local_weekday(zone, t), want, "{name} {s}");
                s += 7_919 * 3;
            }
        }
    }
}
