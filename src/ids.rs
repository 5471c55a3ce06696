//! Finding a repeated id or key: the engine's one duplicate check.
//!
//! Why not a `HashSet`: hashing (SipHash with random keys, the table) is ~8 KB of the Wasm
//! module, and the engine only ever asks "which element first repeats an earlier one?" for
//! lists it already holds. Sorting `(key, position)` pairs answers that in O(n log n) with one
//! sort instantiation shared by every caller.

/// The position of the first element equal to an earlier one (in list order), if any.
///
/// ```
/// use loyalty_engine::ids::first_repeat;
/// assert_eq!(first_repeat(["a", "b", "c", "b", "a"]), Some(3));
/// assert_eq!(first_repeat(["a", "b"]), None);
/// ```
pub fn first_repeat<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<usize> {
    let mut order: Vec<(&str, usize)> = keys.into_iter().zip(0..).collect();
    if order.len() < 2 {
        return None;
    }
    // Within a run of equal keys positions ascend: the run's second element is that key's
    // first repeat.
    order.sort_unstable();
    order
        .windows(2)
        .filter_map(|w| match w {
            [(a, _), (b, i)] if a == b => Some(*i),
            _ => None,
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::first_repeat;

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
