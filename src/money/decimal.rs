//! Decimal strings as the contract writes them: `-?[0-9]+(\.[0-9]+)?`, at most 18 significant
//! digits (SPEC §7.5). We also cap the fraction at 18 digits so that products of two rates and a
//! money amount always fit the engine's 128-bit intermediate arithmetic.

use rust_decimal::Decimal;
use std::fmt;
use std::str::FromStr;

/// Most significant digits (and most fraction digits) a decimal input may have.
pub const MAX_DIGITS: usize = 18;

/// An exact decimal parsed from the contract's grammar; `Display` writes the normalized form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dec {
    value: Decimal,
}

/// Why a decimal string was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecError {
    /// Not `-?[0-9]+(\.[0-9]+)?`.
    Syntax,
    /// More than 18 significant or fraction digits.
    TooManyDigits,
}

impl fmt::Display for DecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecError::Syntax => f.write_str("must be a decimal string like \"12.50\" (digits, an optional '.' and digits, optional leading '-')"),
            DecError::TooManyDigits => f.write_str("must have at most 18 significant digits and at most 18 digits after the point"),
        }
    }
}

impl Dec {
    /// Parses the contract grammar exactly: no exponent, no `+`, no spaces.
    pub fn parse(s: &str) -> Result<Dec, DecError> {
        let body = s.strip_prefix('-').unwrap_or(s);
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (body, None),
        };
        let digits_only = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !digits_only(int) || frac.is_some_and(|f| !digits_only(f)) {
            return Err(DecError::Syntax);
        }
        let frac = frac.unwrap_or("");
        // Digits of `int` followed by `frac`, without leading zeros (no allocation: this runs
        // for every price of every replayed cart).
        let int_digits = int.trim_start_matches('0');
        let significant = if int_digits.is_empty() {
            frac.trim_start_matches('0').len()
        } else {
            int_digits.len() + frac.len()
        };
        if significant > MAX_DIGITS || frac.len() > MAX_DIGITS {
            return Err(DecError::TooManyDigits);
        }
        let value = Decimal::from_str(s).map_err(|_| DecError::Syntax)?;
        Ok(Dec {
            value: value.normalize(),
        })
    }

    pub fn zero() -> Dec {
        Dec::from_int(0)
    }

    pub fn one() -> Dec {
        Dec::from_int(1)
    }

    pub fn from_int(n: i64) -> Dec {
        Dec {
            value: Decimal::from(n),
        }
    }

    /// The value as `mantissa / 10^scale` (normalized: no trailing zeros).
    pub fn parts(&self) -> (i128, u32) {
        (self.value.mantissa(), self.value.scale())
    }

    pub fn is_zero(&self) -> bool {
        self.value.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.value.is_sign_negative() && !self.value.is_zero()
    }

    pub fn is_integer(&self) -> bool {
        self.value.scale() == 0
    }

    /// The value as an integer when it is one and fits `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        if self.value.scale() != 0 {
            return None;
        }
        i64::try_from(self.value.mantissa()).ok()
    }

    /// Minor units for a currency with `minor_units` fraction digits; `None` when the value has
    /// more fraction digits or does not fit `i64`.
    pub fn to_minor(&self, minor_units: u32) -> Option<i64> {
        let (m, s) = self.parts();
        if s > minor_units {
            return None;
        }
        let factor = 10i128.checked_pow(minor_units - s)?;
        i64::try_from(m.checked_mul(factor)?).ok()
    }
}

/// Fraction digits as written: `"12.500"` has 3 (money inputs may not have more than the
/// currency's minor units, SPEC §7.5 — counted as written, so `"12.500"` is not EUR).
pub fn fraction_digits(s: &str) -> usize {
    s.split_once('.').map_or(0, |(_, f)| f.len())
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `normalize` removed trailing zeros and turned -0 into 0 at parse time; rust_decimal's
        // Display never writes an exponent or a `+`.
        if self.value.is_zero() {
            return f.write_str("0");
        }
        write!(f, "{}", self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        for ok in ["0", "12.50", "-3", "0.5", "007", "123456789012345678"] {
            assert!(Dec::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "1.", ".5", "+1", "1e5", " 1", "1,5", "--1", "0x10", "1.2.3", "-",
        ] {
            assert_eq!(Dec::parse(bad), Err(DecError::Syntax), "{bad}");
        }
        assert_eq!(
            Dec::parse("1234567890123456789"),
            Err(DecError::TooManyDigits)
        );
        assert_eq!(
            Dec::parse("0.0000000000000000001"),
            Err(DecError::TooManyDigits)
        );
    }

    #[test]
    fn normalized_display() {
        let cases = [
            ("0.50", "0.5"),
            ("100.0", "100"),
            ("007", "7"),
            ("-0", "0"),
            ("-0.00", "0"),
            ("12.345000", "12.345"),
            ("-1.10", "-1.1"),
        ];
        for (input, out) in cases {
            assert_eq!(
                Dec::parse(input).map(|d| d.to_string()),
                Ok(out.to_string())
            );
        }
    }

    #[test]
    fn minor_units() {
        let d = Dec::parse("12.50").unwrap();
        assert_eq!(fraction_digits("12.50"), 2);
        assert_eq!(fraction_digits("12"), 0);
        assert_eq!(d.to_minor(2), Some(1250));
        assert_eq!(d.to_minor(0), None);
        assert_eq!(Dec::parse("125000").unwrap().to_minor(0), Some(125000));
    }
}
