//! Rounding of exact quotients. Every rounding in the engine goes through [`div_round`], so a
//! rounding happens once, on an exact rational, never on an already-rounded intermediate.

use serde::{Deserialize, Serialize};

/// How a rational is rounded to an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Toward negative infinity.
    Floor,
    /// Toward positive infinity.
    Ceil,
    /// Toward zero.
    Down,
    /// To nearest; halves away from zero.
    HalfUp,
    /// To nearest; halves to the even neighbour (banker's rounding).
    HalfEven,
}

/// The policy's `money_rounding`: how money amounts (the tier discount) reach minor units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MoneyRounding {
    #[default]
    HalfUp,
    HalfEven,
    Down,
}

impl From<MoneyRounding> for Rounding {
    fn from(m: MoneyRounding) -> Rounding {
        match m {
            MoneyRounding::HalfUp => Rounding::HalfUp,
            MoneyRounding::HalfEven => Rounding::HalfEven,
            MoneyRounding::Down => Rounding::Down,
        }
    }
}

/// The policy's `earning.rounding`: how the order's point units become points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EarnRounding {
    #[default]
    Floor,
    HalfUp,
    Ceil,
}

impl From<EarnRounding> for Rounding {
    fn from(m: EarnRounding) -> Rounding {
        match m {
            EarnRounding::Floor => Rounding::Floor,
            EarnRounding::HalfUp => Rounding::HalfUp,
            EarnRounding::Ceil => Rounding::Ceil,
        }
    }
}

/// `num / den` rounded with `mode`, exactly. `None` when `den` is 0.
///
/// Inline, and in 64 bits when both fit (nearly always; 128-bit division is a slow library
/// call): identical results, see `i64_and_i128_agree`.
#[inline]
pub fn div_round(num: i128, den: i128, mode: Rounding) -> Option<i128> {
    if let (Ok(n), Ok(d)) = (i64::try_from(num), i64::try_from(den)) {
        if n != i64::MIN && d != i64::MIN && d != 0 {
            return div_round_i64(n, d, mode).map(i128::from);
        }
    }
    div_round_wide(num, den, mode)
}

/// [`div_round`] in 128 bits: out of line and cold, so that the 64-bit path stays small
/// enough to inline.
#[cold]
#[inline(never)]
fn div_round_wide(num: i128, den: i128, mode: Rounding) -> Option<i128> {
    if den == 0 {
        return None;
    }
    // Normalize to a positive denominator so remainders compare simply.
    let (num, den) = if den < 0 {
        (num.checked_neg()?, den.checked_neg()?)
    } else {
        (num, den)
    };
    let q = num.div_euclid(den); // floor for positive den
    let r = num.rem_euclid(den); // 0 <= r < den
    if r == 0 {
        return Some(q);
    }
    let up = q.checked_add(1)?;
    let negative = num < 0;
    // Compare 2r with den without overflow: r < den, so den - r > 0.
    let half_cmp = r.cmp(&(den - r)); // Greater: above half
    Some(
        if rounds_up(mode, negative, half_cmp, q.rem_euclid(2) == 0) {
            up
        } else {
            q
        },
    )
}

/// Whether a floor quotient `q` with a non-zero remainder becomes `q + 1` under `mode`
/// (`half`: the remainder against half the divisor; `q_even`: for half-even ties).
fn rounds_up(mode: Rounding, negative: bool, half: std::cmp::Ordering, q_even: bool) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match (mode, half) {
        (Rounding::Floor, _) => false,
        (Rounding::Ceil, _) => true,
        (Rounding::Down, _) => negative,
        (Rounding::HalfUp | Rounding::HalfEven, Less) => false,
        (Rounding::HalfUp | Rounding::HalfEven, Greater) => true,
        (Rounding::HalfUp, Equal) => !negative,
        (Rounding::HalfEven, Equal) => !q_even,
    }
}

/// [`div_round`] for operands that fit 64 bits and are not `i64::MIN` (so negation cannot
/// overflow), `den` not 0; the same steps, the floor quotient from one truncating division.
#[inline]
fn div_round_i64(num: i64, den: i64, mode: Rounding) -> Option<i64> {
    let (num, den) = if den < 0 { (-num, -den) } else { (num, den) };
    let (mut q, mut r) = (num / den, num % den);
    if r < 0 {
        // Truncated toward zero: one below is the floor (den > 1 here, so q > i64::MIN).
        q -= 1;
        r += den;
    }
    if r == 0 {
        return Some(q);
    }
    let up = q.checked_add(1)?;
    let negative = num < 0;
    let half_cmp = r.cmp(&(den - r));
    Some(
        if rounds_up(mode, negative, half_cmp, q.rem_euclid(2) == 0) {
            up
        } else {
            q
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use Rounding::*;

    #[test]
    fn modes() {
        // (num, den, floor, ceil, down, half_up, half_even)
        let cases = [
            (5, 2, 2, 3, 2, 3, 2),
            (7, 2, 3, 4, 3, 4, 4),
            (-5, 2, -3, -2, -2, -3, -2),
            (11, 4, 2, 3, 2, 3, 3),
            (9, 4, 2, 3, 2, 2, 2),
            (8, 4, 2, 2, 2, 2, 2),
            (-9, 4, -3, -2, -2, -2, -2),
        ];
        for (n, d, f, c, dn, hu, he) in cases {
            assert_eq!(div_round(n, d, Floor), Some(f), "floor {n}/{d}");
            assert_eq!(div_round(n, d, Ceil), Some(c), "ceil {n}/{d}");
            assert_eq!(div_round(n, d, Down), Some(dn), "down {n}/{d}");
            assert_eq!(div_round(n, d, HalfUp), Some(hu), "half_up {n}/{d}");
            assert_eq!(div_round(n, d, HalfEven), Some(he), "half_even {n}/{d}");
        }
        assert_eq!(div_round(1, 0, Floor), None);
        assert_eq!(
            div_round(i128::from(i64::MIN), -1, Floor),
            Some(-i128::from(i64::MIN))
        );
        assert_eq!(div_round(5, -2, Floor), Some(-3));
    }

    /// The 64-bit path gives what the 128-bit steps give, on values around every edge.
    #[test]
    fn i64_and_i128_agree() {
        fn wide(num: i128, den: i128, mode: Rounding) -> Option<i128> {
            let (num, den) = if den < 0 { (-num, -den) } else { (num, den) };
            let q = num.div_euclid(den);
            let r = num.rem_euclid(den);
            if r == 0 {
                return Some(q);
            }
            let up = q + 1;
            let negative = num < 0;
            Some(match (mode, r.cmp(&(den - r))) {
                (Floor, _) => q,
                (Ceil, _) => up,
                (Down, _) => {
                    if negative {
                        up
                    } else {
                        q
                    }
                }
                (HalfUp | HalfEven, std::cmp::Ordering::Less) => q,
                (HalfUp | HalfEven, std::cmp::Ordering::Greater) => up,
                (HalfUp, std::cmp::Ordering::Equal) => {
                    if negative {
                        q
                    } else {
                        up
                    }
                }
                (HalfEven, std::cmp::Ordering::Equal) => {
                    if q.rem_euclid(2) == 0 {
                        q
                    } else {
                        up
                    }
                }
            })
        }
        let edges: Vec<i64> = [
            0i64,
            1,
            2,
            3,
            5,
            7,
            10,
            99,
            100,
            1_000_003,
            i64::MAX / 2,
            i64::MAX - 1,
            i64::MAX,
        ]
        .iter()
        .flat_map(|&v| [v, -v])
        .chain([i64::MIN + 1])
        .collect();
        for &n in &edges {
            for &d in &edges {
                if d == 0 {
                    continue;
                }
                for mode in [Floor, Ceil, Down, HalfUp, HalfEven] {
                    let (n, d) = (i128::from(n), i128::from(d));
                    assert_eq!(div_round(n, d, mode), wide(n, d, mode), "{n}/{d} {mode:?}");
                }
            }
        }
    }
}
