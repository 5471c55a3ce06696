//! Exact allocation of an amount over lines by largest remainder (SPEC §2 step 4, §7.6).

use super::Amounts;

/// Spreads `amount` (minor units, ≥ 0) over `weights` (≥ 0) in proportion: each share is
/// rounded down, then the leftover minor units go one each to the largest remainders, ties to
/// the earlier line. The shares always add up to `amount` exactly. When `amount` or the sum of
/// weights is 0, every share is 0 (so a zero-weight order cannot absorb an amount — callers
/// never spread a positive amount over a zero base, because the amount derives from the base).
pub fn allocate(amount: i64, weights: &[i64]) -> Amounts {
    if amount <= 0 {
        return std::iter::repeat_n(0, weights.len()).collect();
    }
    let total: i128 = weights.iter().map(|&w| i128::from(w.max(0))).sum();
    if total == 0 {
        return std::iter::repeat_n(0, weights.len()).collect();
    }
    if let [_] = weights {
        // amount × w ÷ w: the one line takes it all, no remainder.
        return std::iter::once(amount).collect();
    }
    if let Some(shares) = allocate_i64(amount, total, weights) {
        return shares;
    }
    let amount = i128::from(amount);
    // Each share is at most `amount`, which came from an i64.
    let share = |p: i128| i64::try_from(p / total).unwrap_or(i64::MAX);
    let mut shares = Amounts::with_capacity(weights.len());
    // Large carts or amounts: remainders in a Vec, ranked (the same order as picking the
    // largest remainder repeatedly, as the leftover is below the number of positive ones).
    let mut given: i128 = 0;
    let mut remainders = Vec::with_capacity(weights.len());
    for &w in weights {
        // amount and w are both below 2^63, so the product fits i128.
        let p = amount * i128::from(w.max(0));
        shares.push(share(p));
        remainders.push(p % total);
        given += p / total;
    }
    let mut leftover = amount - given; // < number of lines with a positive remainder
                                       // Largest remainder first, earlier lines first among ties.
    for i in crate::ids::ranked(&remainders) {
        if leftover == 0 {
            break;
        }
        if let Some(s) = shares.get_mut(i) {
            *s += 1;
            leftover -= 1;
        }
    }
    shares
}

/// Up to this many weights, [`allocate`] keeps its remainders on the stack.
const SMALL: usize = 16;

/// [`allocate`] for a few lines (the usual cart) whose `amount × total` fits 64 bits (then
/// every `amount × weight` does): no 128-bit division (a slow library call), remainders on
/// the stack, and the leftover units handed out by repeatedly picking the largest remainder
/// (the earliest among equals). `None` when it does not apply.
fn allocate_i64(amount: i64, total: i128, weights: &[i64]) -> Option<Amounts> {
    let total = i64::try_from(total).ok()?;
    amount.checked_mul(total)?;
    if weights.len() > SMALL {
        return None;
    }
    let mut shares = Amounts::with_capacity(weights.len());
    let mut remainders = [0i64; SMALL];
    let mut given = 0;
    for (&w, r) in weights.iter().zip(remainders.iter_mut()) {
        let p = amount * w.max(0);
        shares.push(p / total);
        *r = p % total;
        given += p / total;
    }
    let mut leftover = amount - given; // < number of lines with a positive remainder
    while leftover > 0 {
        let mut best: Option<(usize, i64)> = None;
        for (i, &r) in remainders.iter().take(weights.len()).enumerate() {
            if r > 0 && best.is_none_or(|(_, b)| r > b) {
                best = Some((i, r));
            }
        }
        let Some((i, _)) = best else { break };
        if let (Some(s), Some(r)) = (shares.get_mut(i), remainders.get_mut(i)) {
            *s += 1;
            *r = 0;
        }
        leftover -= 1;
    }
    Some(shares)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example() {
        // SPEC §2: 300000 over A 475000, B 1140000 → 88235, 211765.
        assert_eq!(
            allocate(300000, &[475000, 1140000]).to_vec(),
            vec![88235, 211765]
        );
        // Discount 85000 over 500000, 1200000 → 25000, 60000 exactly.
        assert_eq!(
            allocate(85000, &[500000, 1200000]).to_vec(),
            vec![25000, 60000]
        );
    }

    #[test]
    fn ties_go_to_earlier_line() {
        assert_eq!(allocate(1, &[1, 1, 1]).to_vec(), vec![1, 0, 0]);
        assert_eq!(allocate(2, &[1, 1, 1]).to_vec(), vec![1, 1, 0]);
        assert_eq!(allocate(10, &[1, 1, 1]).to_vec(), vec![4, 3, 3]);
    }

    #[test]
    fn zero_cases() {
        assert_eq!(allocate(0, &[5, 5]).to_vec(), vec![0, 0]);
        assert_eq!(allocate(5, &[0, 0]).to_vec(), vec![0, 0]);
        assert_eq!(allocate(5, &[]).to_vec(), Vec::<i64>::new());
    }

    /// Every path (one line, 64-bit, general) against the definition, in 128 bits.
    #[test]
    fn paths_agree_with_definition() {
        fn reference(amount: i64, weights: &[i64]) -> Vec<i64> {
            let total: i128 = weights.iter().map(|&w| i128::from(w.max(0))).sum();
            if amount <= 0 || total == 0 {
                return vec![0; weights.len()];
            }
            let p = |w: i64| i128::from(amount) * i128::from(w.max(0));
            let mut shares: Vec<i64> = weights.iter().map(|&w| (p(w) / total) as i64).collect();
            let mut order: Vec<usize> = (0..weights.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(p(weights[i]) % total));
            let given: i64 = shares.iter().sum();
            for &i in order.iter().take((amount - given) as usize) {
                shares[i] += 1;
            }
            shares
        }
        let mut x: u64 = 99;
        let mut next = |m: u64| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % m
        };
        for round in 0..3000 {
            let n = next(20) as usize;
            let big = round % 3 == 0;
            let scale = if big { 1u64 << 62 } else { 1_000_000 };
            let weights: Vec<i64> = (0..n)
                .map(|_| next(scale) as i64 - if next(10) == 0 { 5 } else { 0 })
                .collect();
            let amount = next(scale) as i64;
            assert_eq!(
                allocate(amount, &weights).to_vec(),
                reference(amount, &weights),
                "{amount} over {weights:?}"
            );
        }
    }
}
