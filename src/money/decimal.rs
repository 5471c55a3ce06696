//! Decimal strings as the contract writes them: `-?[0-9]+(\.[0-9]+)?`, at most 18 significant
//! digits (SPEC §7.5). We also cap the fraction at 18 digits so that products of two rates and a
//! money amount always fit the engine's 128-bit intermediate arithmetic.

use rust_decimal::Decimal;
use std::fmt;

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
        // At most MAX_DIGITS significant digits: the mantissa fits i128 with room to spare.
        // (Built from the digits rather than `Decimal::from_str`, whose scientific-notation
        // support is 3 KB of the Wasm module this grammar never needs.)
        let mut mantissa: i128 = 0;
        for b in int_digits.bytes().chain(frac.bytes()) {
            mantissa = mantissa * 10 + i128::from(b - b'0');
        }
        if s.starts_with('-') {
            mantissa = -mantissa;
        }
        let scale = u32::try_from(frac.len()).map_err(|_| DecError::TooManyDigits)?;
        let value =
            Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| DecError::Syntax)?;
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
        let factor = super::pow10(minor_units - s)?;
        i64::try_from(super::mul(m, factor)?).ok()
    }
}

/// Fraction digits as written: `"12.500"` has 3 (money inputs may not have more than the
/// currency's minor units, SPEC §7.5 — counted as written, so `"12.500"` is not EUR).
pub fn fraction_digits(s: &str) -> usize {
    s.split_once('.').map_or(0, |(_, f)| f.len())
}

impl Dec {
    /// Appends the value as [`Display`](fmt::Display) writes it: what rust_decimal's `Display`
    /// gives (`-`, the integer digits, `.` and exactly `scale` fraction digits; never an exponent
    /// or a `+`), zero as `0`. Written without `core::fmt` (the canonical policy, the small Wasm
    /// modules); `display_is_rust_decimals` checks the bytes.
    pub fn write(&self, out: &mut String) {
        // `normalize` removed trailing zeros and turned -0 into 0 at parse time.
        if self.value.is_zero() {
            out.push('0');
            return;
        }
        let (mantissa, scale) = self.parts();
        if mantissa < 0 {
            out.push('-');
        }
        let mut buf = itoa::Buffer::new();
        let digits = buf.format(mantissa.unsigned_abs());
        let scale = scale as usize;
        match digits.len().checked_sub(scale) {
            _ if scale == 0 => out.push_str(digits),
            Some(whole) if whole > 0 => {
                let (int, frac) = digits.split_at(whole);
                out.push_str(int);
                out.push('.');
                out.push_str(frac);
            }
            // Only fraction digits: `0.` and the zeros before them (`0.05`).
            _ => {
                out.push_str("0.");
                for _ in digits.len()..scale {
                    out.push('0');
                }
                out.push_str(digits);
            }
        }
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(24);
        self.write(&mut out);
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parsing from the digits gives exactly what rust_decimal's own parser (plus normalize)
    /// gives, sign of zero and Display included.
    #[test]
    fn parse_matches_rust_decimal() {
        use std::str::FromStr;
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "-0.000",
            "000.100",
            "-12.50",
            "125000",
            "0.5",
            "1",
            "999999999999999999",
            "0.000000000000000001",
            "-999999999.999999999",
            "100",
            "10.0",
            "007",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut x: u64 = 7;
        for _ in 0..5000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let int = (x >> 20) % 10u64.pow(((x >> 8) % 10) as u32);
            let frac_len = ((x >> 4) % 9) as usize;
            let frac = format!(
                "{:0w$}",
                (x >> 33) % 10u64.pow(frac_len as u32),
                w = frac_len
            );
            let sign = if x & 1 == 1 { "-" } else { "" };
            cases.push(if frac_len == 0 {
                format!("{sign}{int}")
            } else {
                format!("{sign}{int}.{frac}")
            });
        }
        for c in &cases {
            let ours = Dec::parse(c).unwrap().value;
            let theirs = Decimal::from_str(c).unwrap().normalize();
            assert_eq!(ours, theirs, "{c}");
            assert_eq!(ours.to_string(), theirs.to_string(), "{c}");
            assert_eq!(ours.is_sign_negative(), theirs.is_sign_negative(), "{c}");
        }
    }

    /// [`Dec::write`] (and so `Display`) gives rust_decimal's `Display` bytes for any mantissa
    /// and scale, trailing zeros and the smallest and largest values included; zero is `0`.
    #[test]
    fn display_is_rust_decimals() {
        let mut values: Vec<Decimal> = vec![
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(5, 2),
            Decimal::new(-5, 2),
            Decimal::new(1, 28),
            Decimal::new(-1, 28),
            Decimal::new(1250, 2),
            Decimal::new(1200, 3),
            Decimal::new(100, 0),
            Decimal::new(-7, 0),
            Decimal::new(10, 1),
            Decimal::new(123456789, 9),
        ];
        let mut x: u64 = 11;
        for _ in 0..20000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let m = (x >> 3) as i64 >> ((x >> 58) & 63);
            values.push(Decimal::new(m, ((x >> 1) % 29) as u32));
        }
        for v in values {
            let expected = if v.is_zero() {
                "0".to_string()
            } else {
                v.to_string()
            };
            assert_eq!(Dec { value: v }.to_string(), expected, "{v:?}");
        }
    }

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
