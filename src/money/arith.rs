//! Checked 128-bit products and powers of ten, fast when the operands are small.
//!
//! Why: amounts, points and decimal parts nearly always fit in 64 bits, but their products
//! are taken in `i128` so they cannot overflow silently. `i128::checked_mul` is a library call
//! (`__muloti4`) costing about as much as the rest of an order's earning, and
//! `10i128.checked_pow(n)` is a loop of them; every replayed purchase under every policy runs
//! several of each. The answers are exactly those of the checked operations.

/// `a × b`, `None` on overflow — one machine multiplication when both fit in `i64` (their
/// product then always fits in `i128`).
#[inline]
pub fn mul(a: i128, b: i128) -> Option<i128> {
    match (i64::try_from(a), i64::try_from(b)) {
        (Ok(x), Ok(y)) => Some(i128::from(x) * i128::from(y)),
        _ => a.checked_mul(b),
    }
}

/// 10ⁿ, `None` beyond `i128` (n > 38).
#[inline]
pub fn pow10(n: u32) -> Option<i128> {
    POW10.get(n as usize).copied()
}

// Evaluated at compile time: an index out of range would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_is_checked_mul() {
        let values = [
            0,
            1,
            -1,
            7,
            -9,
            i128::from(i64::MAX),
            i128::from(i64::MIN),
            i128::from(i64::MAX) + 1,
            i128::from(i64::MIN) - 1,
            1 << 100,
            -(1 << 100),
            i128::MAX,
            i128::MIN,
            i128::MAX / 3,
        ];
        for a in values {
            for b in values {
                assert_eq!(mul(a, b), a.checked_mul(b), "{a} × {b}");
            }
        }
    }

    #[test]
    fn pow10_is_checked_pow() {
        for n in 0..45 {
            assert_eq!(pow10(n), 10i128.checked_pow(n), "10^{n}");
        }
    }
}
