//! Currencies and their minor units (ISO 4217), overridable by the policy's `minor_units`.

use super::Dec;

/// Built-in minor units for the currencies merchants of this engine use most (SPEC §7.5).
pub fn builtin_minor_units(code: &str) -> Option<u32> {
    Some(match code {
        "VND" | "JPY" | "KRW" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" | "PYG" | "RWF" => 0,
        "EUR" | "USD" | "GBP" | "CZK" | "HUF" | "PLN" | "THB" | "IDR" | "SGD" | "CHF" | "SEK"
        | "NOK" | "DKK" | "RON" | "BGN" | "AUD" | "NZD" | "CAD" | "MYR" | "PHP" | "CNY" | "HKD"
        | "TWD" | "INR" | "MXN" | "BRL" | "ZAR" | "TRY" | "UAH" | "AED" | "ILS" => 2,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => return None,
    })
}

/// A currency as the policy fixes it: its code and how many fraction digits money has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Currency {
    pub code: String,
    pub minor_units: u32,
}

impl Currency {
    /// Writes minor units as a money string with exactly `minor_units` fraction digits:
    /// `131500000` VND → `"131500000"`, `1250` EUR → `"12.50"`, `-5` EUR → `"-0.05"`.
    pub fn format(&self, minor: i64) -> String {
        let mut out = String::with_capacity(24);
        self.write(&mut out, minor);
        out
    }

    /// [`Currency::format`], appended to `out`.
    pub fn write(&self, out: &mut String, minor: i64) {
        let mut buf = itoa::Buffer::new();
        let digits = buf.format(minor.unsigned_abs());
        let mu = self.minor_units as usize;
        if minor < 0 {
            out.push('-');
        }
        if mu == 0 {
            out.push_str(digits);
            return;
        }
        match digits.split_at_checked(digits.len().saturating_sub(mu)) {
            // More digits than fraction digits: `12` `.` `50`.
            Some((int, frac)) if !int.is_empty() => {
                out.push_str(int);
                out.push('.');
                out.push_str(frac);
            }
            // Only fraction digits: `0.` then zeros to `minor_units` digits (`0.05`).
            _ => {
                out.push_str("0.");
                for _ in digits.len()..mu {
                    out.push('0');
                }
                out.push_str(digits);
            }
        }
    }

    /// Converts a money input (as written) to minor units; `None` when it is not a decimal, has
    /// more fraction digits than the currency allows (as written: `"12.500"` is rejected for EUR)
    /// or is out of range.
    pub fn to_minor(&self, written: &str) -> Option<i64> {
        if super::decimal::fraction_digits(written) > self.minor_units as usize {
            return None;
        }
        Dec::parse(written).ok()?.to_minor(self.minor_units)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_minor_units() {
        let eur = Currency {
            code: "EUR".into(),
            minor_units: 2,
        };
        assert_eq!(eur.format(1250), "12.50");
        assert_eq!(eur.format(5), "0.05");
        assert_eq!(eur.format(-5), "-0.05");
        assert_eq!(eur.format(0), "0.00");
        assert_eq!(eur.format(100), "1.00");
        assert_eq!(eur.format(-123456), "-1234.56");
        let kwd = Currency {
            code: "KWD".into(),
            minor_units: 3,
        };
        assert_eq!(kwd.format(999), "0.999");
        assert_eq!(kwd.format(1), "0.001");
        assert_eq!(kwd.format(-10), "-0.010");
        assert_eq!(kwd.format(12345), "12.345");
        assert_eq!(kwd.format(i64::MIN), "-9223372036854775.808");
        let vnd = Currency {
            code: "VND".into(),
            minor_units: 0,
        };
        assert_eq!(vnd.format(1315000), "1315000");
        assert_eq!(vnd.format(i64::MIN), "-9223372036854775808");
    }
}
