//! Sorting, with one sort instantiation in the size-bound Wasm modules.
//!
//! Natively and in the full Wasm module these are the standard library's sorts (the replay of a
//! simulation sorts a lot). In the core and progress modules (`loyalty-engine/core`,
//! `loyalty-engine/progress`: built without the `full` feature, for size) each standard sort
//! call would be its own copy of the sort code, ≈ 1.5–3 KB per element type and comparison;
//! there every call sorts a list of positions instead, through [`positions`], the one
//! instantiation, and then moves the elements into that order ([`permute`]).
//!
//! Both ways give the same order: the sorts here are stable (ties keep their order), and the
//! `*_unstable` ones are only used where ties cannot be told apart (equal values, or unique
//! keys), so any correct sort gives the same result.

use std::cmp::Ordering;

/// Whether this build sorts through [`positions`] (the size-bound Wasm modules).
const SMALL: bool = cfg!(all(target_arch = "wasm32", not(feature = "full")));

/// Sorts `v` by `cmp`, stable (equal elements keep their order).
#[inline]
pub fn sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if SMALL {
        small_sort_by(v, &mut cmp);
    } else {
        v.sort_by(cmp);
    }
}

/// Sorts `v` by `key`, stable (equal keys keep their order).
#[inline]
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` ascending. Only for elements whose ties cannot be told apart (natively this is
/// `sort_unstable`).
#[inline]
pub fn sort_unstable<T: Ord>(v: &mut [T]) {
    if SMALL {
        small_sort_by(v, &mut T::cmp);
    } else {
        v.sort_unstable();
    }
}

/// Sorts `v` by `key`. Only for unique keys (natively this is `sort_unstable_by_key`).
#[inline]
pub fn sort_unstable_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    if SMALL {
        small_sort_by(v, &mut |a: &T, b: &T| key(a).cmp(&key(b)));
    } else {
        v.sort_unstable_by_key(key);
    }
}

/// The stable sort of the size-bound modules: the positions of `v` sorted by `cmp` of their
/// elements (ties by position, hence stable), then the elements moved into that order.
fn small_sort_by<T>(v: &mut [T], cmp: &mut dyn FnMut(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let mut order: Vec<usize> = (0..v.len()).collect();
    positions(&mut order, &mut |a, b| match (v.get(a), v.get(b)) {
        (Some(x), Some(y)) => cmp(x, y),
        _ => Ordering::Equal,
    });
    permute(v, &mut order);
}

/// Sorts positions by `cmp`, ties by position: the one sort instantiation of the size-bound
/// modules.
#[inline(never)]
fn positions(order: &mut [usize], cmp: &mut dyn FnMut(usize, usize) -> Ordering) {
    order.sort_unstable_by(|&a, &b| cmp(a, b).then(a.cmp(&b)));
}

/// Rearranges `v` so that `v[i]` becomes the element that was at `order[i]` (`order` is a
/// permutation of `0..v.len()`; it is used up). Follows each cycle of the permutation with
/// swaps; a position done is marked `usize::MAX`.
fn permute<T>(v: &mut [T], order: &mut [usize]) {
    for start in 0..order.len() {
        let mut j = start;
        while let Some(slot) = order.get_mut(j) {
            let k = std::mem::replace(slot, usize::MAX);
            if k == usize::MAX || k == start {
                break;
            }
            // v[j] takes the element at k (still where it was: the cycle has not reached it);
            // what v[j] held (the one from `start`) moves on to k.
            v.swap(j, k);
            j = k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{permute, small_sort_by};
    use proptest::prelude::*;

    #[test]
    fn permute_follows_cycles() {
        let mut v = ['a', 'b', 'c', 'd', 'e'];
        let mut order = [3, 0, 4, 1, 2];
        permute(&mut v, &mut order);
        assert_eq!(v, ['d', 'a', 'e', 'b', 'c']);
        let mut w = [10, 20];
        permute(&mut w, &mut [0, 1]);
        assert_eq!(w, [10, 20]);
    }

    proptest! {
        /// The size-bound modules' sort orders exactly as the standard stable sort does (ties
        /// told apart by their second field).
        #[test]
        fn small_sort_is_the_stable_sort(v in proptest::collection::vec((0u8..6, any::<u16>()), 0..60)) {
            let mut expected = v.clone();
            expected.sort_by_key(|p| p.0);
            let mut got = v;
            small_sort_by(&mut got, &mut |a: &(u8, u16), b: &(u8, u16)| a.0.cmp(&b.0));
            prop_assert_eq!(got, expected);
        }
    }
}
