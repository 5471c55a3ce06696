//! Currencies and their minor units (ISO 4217), overridable by the policy's `minor_units`.

use super::Dec;
use std::fmt::Write;

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
        let digits = minor.unsigned_abs().to_string();
        let mu = self.minor_units as usize;
        let mut out = String::with_capacity(digits.len() + 3);
        if minor < 0 {
            out.push('-');
        }
        if mu == 0 {
            out.push_str(&digits);
            return out;
        }
        let padded = format!("{digits:0>width$}", width = mu + 1);
        let (int, frac) = padded.split_at(padded.len() - mu);
        let _ = write!(out, "{int}.{frac}");
        out
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
        let vnd = Currency {
            code: "VND".into(),
            minor_units: 0,
        };
        assert_eq!(vnd.format(1315000), "1315000");
        assert_eq!(vnd.format(i64::MIN), "-9223372036854775808");
    }
}
