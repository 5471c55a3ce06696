//! Exact allocation of an amount over lines by largest remainder (SPEC §2 step 4, §7.6).

use super::Amounts;

/// Spreads `amount` (minor units, ≥ 0) over `weights` (≥ 0) in proportion: each share is
/// rounded down, then the leftover minor units go one each to the largest remainders, ties to
/// the earlier line. The shares always add up to `amount` exactly. When `amount` or the sum of
/// weights is 0, every share is 0 (so a zero-weight order cannot absorb an amount — callers
/// never spread a positive amount over a zero base, because the amount derives from the base).
pub fn allocate(amount: i64, weights: &[i64]) -> Amounts {
    let total: i128 = weights.iter().map(|&w| i128::from(w.max(0))).sum();
    if amount <= 0 || total == 0 {
        return std::iter::repeat_n(0, weights.len()).collect();
    }
    let amount = i128::from(amount);
    // Each share is at most `amount`, which came from an i64.
    let share = |p: i128| i64::try_from(p / total).unwrap_or(i64::MAX);
    let mut shares = Amounts::with_capacity(weights.len());
    let mut given: i128 = 0;
    if weights.len() <= SMALL {
        // Few lines (the usual cart): remainders on the stack, and the leftover units handed
        // out by repeatedly picking the largest remainder (the earliest among equals).
        let mut remainders = [0i128; SMALL];
        let (amount64, total64) = (i64::try_from(amount).ok(), i64::try_from(total).ok());
        for (&w, r) in weights.iter().zip(remainders.iter_mut()) {
            // In 64 bits when the product fits (128-bit division is a slow library call).
            if let (Some(p), Some(t)) = (amount64.and_then(|a| a.checked_mul(w.max(0))), total64) {
                shares.push(p / t);
                *r = i128::from(p % t);
                given += i128::from(p / t);
                continue;
            }
            // amount and w are both below 2^63, so the product fits i128.
            let p = amount * i128::from(w.max(0));
            shares.push(share(p));
            *r = p % total;
            given += p / total;
        }
        let mut leftover = amount - given; // < number of lines with a positive remainder
        while leftover > 0 {
            let mut best: Option<(usize, i128)> = None;
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
        return shares;
    }
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
}
