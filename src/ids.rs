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
    pairs.sort_unstable();
    pairs
}

/// A policy's list of strings (categories, skus) to look values up in, built for every priced
/// order: a short list is scanned as it is (no allocation, the usual case), a long one sorted
/// once and binary-searched.
pub enum StrSet<'a> {
    Few(&'a [String]),
    Many(Vec<(&'a str, usize)>),
}

impl<'a> StrSet<'a> {
    pub fn of(list: &'a [String]) -> StrSet<'a> {
        if list.len() <= 16 {
            StrSet::Few(list)
        } else {
            StrSet::Many(sorted_pairs(list.iter().map(String::as_str)))
        }
    }

    pub fn contains(&self, key: &str) -> bool {
        match self {
            StrSet::Few(list) => list.iter().any(|x| x == key),
            StrSet::Many(pairs) => pairs.binary_search_by(|(k, _)| (*k).cmp(key)).is_ok(),
        }
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
    order.sort_unstable();
    order.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::{first_repeat, ranked, StrSet};

    #[test]
    fn sets_and_ranks() {
        let few: Vec<String> = ["shoes", "bags", "hats", "bags"].map(String::from).to_vec();
        let many: Vec<String> = (0..40).map(|i| format!("c{}", (i * 7) % 40)).collect();
        for (list, absent) in [(&few, "socks"), (&many, "c40")] {
            let s = StrSet::of(list);
            assert!(list.iter().all(|x| s.contains(x)), "{list:?}");
            assert!(!s.contains(absent) && !s.contains(""));
        }
        assert!(matches!(StrSet::of(&many), StrSet::Many(_)));
        assert!(!StrSet::of(&[]).contains("x"));
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
