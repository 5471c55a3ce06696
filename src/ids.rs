//! Sets of ids and keys, and orderings by rank, without hashing.
//!
//! Why not `HashSet`: hashing (SipHash with random keys, the table) is ~8 KB of the Wasm
//! module, and the engine only asks "which element first repeats an earlier one?" and "is this
//! category listed?" of lists it already holds. Sorted `(key, position)` pairs answer both in
//! O(n log n) / O(log n), and every caller shares one sort instantiation (module size again);
//! [`ranked`] is the one ordering by number.

/// The position of the first element equal to an earlier one (in list order), if any.
///
/// ```
/// use loyalty_engine::ids::first_repeat;
/// assert_eq!(first_repeat(["a", "b", "c", "b", "a"]), Some(3));
/// assert_eq!(first_repeat(["a", "b"]), None);
/// ```
pub fn first_repeat<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<usize> {
    // Within a run of equal keys positions ascend: the run's second element is that key's
    // first repeat.
    sorted_pairs(keys)
        .windows(2)
        .filter_map(|w| match w {
            [(a, _), (b, i)] if a == b => Some(*i),
            _ => None,
        })
        .min()
}

/// `(key, position)` pairs sorted by key, then position.
fn sorted_pairs<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<(&'a str, usize)> {
    let mut pairs: Vec<(&str, usize)> = keys.into_iter().zip(0..).collect();
    crate::sort::sort_unstable(&mut pairs);
    pairs
}

/// A policy's list of strings (categories, skus) to look values up in, prepared once when the
/// policy is validated (pricing asks for every line of every replayed purchase): a short list
/// is scanned as it is (`==` compares lengths first, cheaper than ordering), a long one kept
/// sorted and binary-searched. Most values asked about are not listed; a 64-bit filter of the
/// keys' lengths and last bytes answers most of those without touching the list.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    keys: Vec<String>,
    sorted: bool,
    filter: u64,
}

/// The key's bit in [`Keys`]' filter: equal keys always share it.
#[inline]
fn filter_bit(key: &str) -> u64 {
    let last = key.as_bytes().last().map_or(0, |&b| u32::from(b));
    // Wrapping: the bit only has to be a function of the key.
    1 << ((key.len() as u32).wrapping_mul(31).wrapping_add(last) % 64)
}

impl Keys {
    pub fn of(list: &[String]) -> Keys {
        let sorted = list.len() > 16;
        let keys = if sorted {
            // Through `sorted_pairs`: its sort is the one instantiation (module size).
            sorted_pairs(list.iter().map(String::as_str))
                .into_iter()
                .map(|(k, _)| k.to_string())
                .collect()
        } else {
            list.to_vec()
        };
        let filter = keys.iter().fold(0, |f, k| f | filter_bit(k));
        Keys {
            keys,
            sorted,
            filter,
        }
    }

    #[inline]
    pub fn contains(&self, key: &str) -> bool {
        self.filter & filter_bit(key) != 0 && self.listed(key)
    }

    fn listed(&self, key: &str) -> bool {
        if self.sorted {
            self.keys.binary_search_by(|k| k.as_str().cmp(key)).is_ok()
        } else {
            self.keys.iter().any(|x| x == key)
        }
    }
}

/// Ids to positions, filled one at a time (event ids while a history is checked, order ids
/// while it is replayed). Natively and in the full Wasm module a hash map (long histories);
/// in the size-bound Wasm modules (core, progress) a sorted list, binary-searched: the hash
/// table and SipHash would be ≈ 9 KB of such a module, and a storefront replays one member.
#[derive(Clone, Debug, Default)]
pub struct IdIndex<'a> {
    #[cfg(any(not(target_arch = "wasm32"), feature = "full"))]
    map: std::collections::HashMap<&'a str, usize>,
    #[cfg(all(target_arch = "wasm32", not(feature = "full")))]
    sorted: Vec<(&'a str, usize)>,
}

impl<'a> IdIndex<'a> {
    pub fn reserve(&mut self, additional: usize) {
        #[cfg(any(not(target_arch = "wasm32"), feature = "full"))]
        self.map.reserve(additional);
        #[cfg(all(target_arch = "wasm32", not(feature = "full")))]
        self.sorted.reserve(additional);
    }

    /// Adds `id` → `position` unless `id` is there already (which keeps its position); whether
    /// it was added.
    pub fn insert(&mut self, id: &'a str, position: usize) -> bool {
        #[cfg(any(not(target_arch = "wasm32"), feature = "full"))]
        return match self.map.entry(id) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(position);
                true
            }
            std::collections::hash_map::Entry::Occupied(_) => false,
        };
        #[cfg(all(target_arch = "wasm32", not(feature = "full")))]
        return match self.sorted.binary_search_by(|(k, _)| (*k).cmp(id)) {
            Ok(_) => false,
            Err(at) => {
                self.sorted.insert(at, (id, position));
                true
            }
        };
    }

    /// The position of `id`, if it was added.
    pub fn get(&self, id: &str) -> Option<usize> {
        #[cfg(any(not(target_arch = "wasm32"), feature = "full"))]
        return self.map.get(id).copied();
        #[cfg(all(target_arch = "wasm32", not(feature = "full")))]
        return self
            .sorted
            .binary_search_by(|(k, _)| (*k).cmp(id))
            .ok()
            .and_then(|at| self.sorted.get(at))
            .map(|&(_, p)| p);
    }
}

/// Positions of `keys` from the largest key to the smallest, equal keys in position order
/// (what a stable sort by descending key gives).
///
/// ```
/// assert_eq!(loyalty_engine::ids::ranked(&[5, 9, 5, 1]), vec![1, 0, 2, 3]);
/// ```
pub fn ranked(keys: &[i128]) -> Vec<usize> {
    let mut order: Vec<(core::cmp::Reverse<i128>, usize)> = keys
        .iter()
        .map(|&k| core::cmp::Reverse(k))
        .zip(0..)
        .collect();
    crate::sort::sort_unstable(&mut order);
    order.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::{first_repeat, ranked, Keys};

    #[test]
    fn sets_and_ranks() {
        let few: Vec<String> = ["shoes", "bags", "hats", "bags"].map(String::from).to_vec();
        let many: Vec<String> = (0..40).map(|i| format!("c{}", (i * 7) % 40)).collect();
        for (list, absent) in [(&few, "socks"), (&many, "c40")] {
            let s = Keys::of(list);
            assert!(list.iter().all(|x| s.contains(x)), "{list:?}");
            assert!(!s.contains(absent) && !s.contains(""));
        }
        assert!(Keys::of(&many).sorted && !Keys::of(&few).sorted);
        assert!(!Keys::of(&[]).contains("x"));
        // Same filter bit (length and last byte), not listed.
        let ab = Keys::of(&["ab".to_string(), String::new()]);
        assert!(ab.contains("ab") && ab.contains("") && !ab.contains("cb"));
        assert_eq!(ranked(&[]), Vec::<usize>::new());
        assert_eq!(ranked(&[3, 3, 3]), vec![0, 1, 2]);
        assert_eq!(ranked(&[1, 7, 7, -2, 9]), vec![4, 1, 2, 0, 3]);
    }

    #[test]
    fn first_repeat_in_list_order() {
        assert_eq!(first_repeat(Vec::<&str>::new()), None);
        assert_eq!(first_repeat(["x"]), None);
        assert_eq!(first_repeat(["x", "x"]), Some(1));
        // "b" repeats at 3 before "a" repeats at 4.
        assert_eq!(first_repeat(["a", "b", "c", "b", "a"]), Some(3));
        assert_eq!(first_repeat(["a", "b", "c", "a", "b"]), Some(3));
        assert_eq!(first_repeat(["z", "y", "z", "z"]), Some(2));
        // Against a set-based reference on pseudo-random lists.
        let mut x: u32 = 12345;
        for _ in 0..500 {
            let list: Vec<String> = (0..(x % 40))
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    format!("k{}", (x >> 16) % 30)
                })
                .collect();
            let mut seen = std::collections::HashSet::new();
            let reference = list.iter().position(|k| !seen.insert(k));
            assert_eq!(
                first_repeat(list.iter().map(String::as_str)),
                reference,
                "{list:?}"
            );
        }
    }
}
