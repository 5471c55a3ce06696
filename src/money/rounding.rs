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
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
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
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
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
pub fn div_round(num: i128, den: i128, mode: Rounding) -> Option<i128> {
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
    Some(match mode {
        Rounding::Floor => q,
        Rounding::Ceil => up,
        Rounding::Down => {
            if negative {
                up
            } else {
                q
            }
        }
        Rounding::HalfUp => match half_cmp {
            std::cmp::Ordering::Less => q,
            std::cmp::Ordering::Greater => up,
            std::cmp::Ordering::Equal => {
                if negative {
                    q
                } else {
                    up
                }
            }
        },
        Rounding::HalfEven => match half_cmp {
            std::cmp::Ordering::Less => q,
            std::cmp::Ordering::Greater => up,
            std::cmp::Ordering::Equal => {
                if q.rem_euclid(2) == 0 {
                    q
                } else {
                    up
                }
            }
        },
    })
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
        assert_eq!(div_round(5, -2, Floor), Some(-3));
    }
}
