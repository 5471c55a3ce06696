//! Checking a cart and turning it into exact line amounts (SPEC §2 step 1).

use super::request::{Cart, CartText, LineText};
use crate::error::Error;
use crate::error::Quoted;
use crate::limits;
use crate::money::{Currency, MAX_POINTS};
use crate::time::Instant;

/// A cart line with its amounts in minor units.
#[derive(Clone, Debug)]
pub struct PricedLine<'a> {
    pub id: &'a str,
    pub sku: Option<&'a str>,
    pub category: Option<&'a str>,
    pub quantity: i64,
    pub unit_price: i64,
    pub subtotal: i64,
}

/// A checked cart: its id, store and channel as written, its instant and its lines, with the
/// subtotal. It borrows every string (from a quote's [`Cart`] or a member line read in place).
#[derive(Clone, Debug)]
pub struct CheckedCart<'a> {
    pub id: &'a str,
    pub store: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub at: Instant,
    pub lines: Vec<PricedLine<'a>>,
    pub subtotal: i64,
}

/// Minor units of a price written as plain digits with an optional fraction (`540000`,
/// `12.50`), at most 18 digits in all and at most `minor_units` of them after the point — the
/// usual price, always a valid non-negative decimal: the value `Dec::parse` and
/// `Dec::to_minor` give, by integer arithmetic. `None` for anything else (and beyond `i64`),
/// which takes the general path with its error messages.
fn plain_minor_units(s: &str, minor_units: u32) -> Option<i64> {
    // One pass: the digits as one integer (int × 10^f + frac), and `f`, the count after the
    // point (None: no point).
    let (mut digits, mut value, mut fraction) = (0usize, 0i64, None::<u32>);
    for &c in s.as_bytes() {
        match c {
            b'0'..=b'9' if digits < crate::money::MAX_DIGITS => {
                value = value * 10 + i64::from(c - b'0');
                digits += 1;
                if let Some(f) = fraction.as_mut() {
                    *f += 1;
                }
            }
            b'.' if fraction.is_none() && digits > 0 => fraction = Some(0),
            _ => return None,
        }
    }
    let f = fraction.unwrap_or(0);
    if digits == 0 || fraction == Some(0) || f > minor_units {
        return None;
    }
    i64::try_from(crate::money::mul(
        i128::from(value),
        crate::money::pow10(minor_units - f)?,
    )?)
    .ok()
}

/// Validates the cart in document order; `path` is where the cart sits in the request.
pub fn check<'a>(
    cart: &'a Cart,
    currency: &Currency,
    path: &str,
) -> Result<CheckedCart<'a>, Error> {
    check_text(&cart.text(), currency, path)
}

/// [`check`] of a cart borrowed ([`CartText`]).
pub fn check_text<'a>(
    cart: &CartText<'a>,
    currency: &Currency,
    path: &str,
) -> Result<CheckedCart<'a>, Error> {
    let at = Instant::parse_rfc3339(cart.at).map_err(|e| {
        Error::invalid_request(format!("{path}.at"), format!("{}: {e}", Quoted(cart.at)))
    })?;
    let (lines, subtotal) = check_lines(&cart.lines, currency, path)?;
    Ok(CheckedCart {
        id: cart.id,
        store: cart.store,
        channel: cart.channel,
        at,
        lines,
        subtotal,
    })
}

/// The lines of a cart at `path`, checked in document order, with their subtotal.
pub fn check_lines<'a>(
    lines: &[LineText<'a>],
    currency: &Currency,
    path: &str,
) -> Result<(Vec<PricedLine<'a>>, i64), Error> {
    if lines.len() > limits::MAX_CART_LINES {
        return Err(Error::new(
            crate::ErrorCode::LimitExceeded,
            format!("{path}.lines"),
            format!("a cart may have at most {} lines", limits::MAX_CART_LINES),
        ));
    }
    // Paths are written only for an error: this runs for every replayed purchase.
    let repeat = if lines.len() > 16 {
        crate::ids::first_repeat(lines.iter().map(|l| l.id))
    } else {
        None
    };
    let input = lines;
    let mut lines = Vec::with_capacity(input.len());
    let mut subtotal: i64 = 0;
    for (i, l) in input.iter().enumerate() {
        let lp = || format!("{path}.lines[{i}]");
        let duplicate = if input.len() <= 16 {
            input.iter().take(i).any(|x| x.id == l.id)
        } else {
            repeat == Some(i)
        };
        if duplicate {
            return Err(Error::invalid_request(
                format!("{}.id", lp()),
                format!("duplicate line id {}", Quoted(l.id)),
            ));
        }
        if !(1..=MAX_POINTS).contains(&l.quantity) {
            return Err(Error::invalid_request(
                format!("{}.quantity", lp()),
                "quantity must be an integer of at least 1",
            ));
        }
        let price_path = || format!("{}.unit_price", lp());
        let unit_price = match plain_minor_units(l.unit_price, currency.minor_units) {
            Some(v) => v,
            None => {
                let dec = crate::money::Dec::parse(l.unit_price).map_err(|e| {
                    Error::invalid_request(price_path(), format!("{} {e}", Quoted(l.unit_price)))
                })?;
                if dec.is_negative() {
                    return Err(Error::invalid_request(
                        price_path(),
                        "unit_price must not be negative",
                    ));
                }
                let fraction_digits = l.unit_price.split_once('.').map_or(0, |(_, f)| f.len());
                // `Currency::to_minor` of the text, without parsing it a second time.
                let unit_price = (fraction_digits <= currency.minor_units as usize)
                    .then(|| dec.to_minor(currency.minor_units))
                    .flatten();
                let unit_price = unit_price.ok_or_else(|| {
                    if fraction_digits > currency.minor_units as usize {
                        Error::invalid_request(
                            price_path(),
                            format!(
                                "{} has more fraction digits than {} allows ({})",
                                Quoted(l.unit_price),
                                currency.code,
                                currency.minor_units
                            ),
                        )
                    } else {
                        // A valid decimal beyond ±(2^63 − 1) minor units (SPEC §7.7).
                        Error::overflow(price_path())
                    }
                })?;
                unit_price
            }
        };
        let line_subtotal = unit_price
            .checked_mul(l.quantity)
            .ok_or_else(|| Error::overflow(format!("{}.quantity", lp())))?;
        subtotal = subtotal
            .checked_add(line_subtotal)
            .ok_or_else(|| Error::overflow(price_path()))?;
        lines.push(PricedLine {
            id: l.id,
            sku: l.sku,
            category: l.category,
            quantity: l.quantity,
            unit_price,
            subtotal: line_subtotal,
        });
    }
    Ok((lines, subtotal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Dec;

    /// The integer path gives what the decimal path gives, and declines what it would reject.
    #[test]
    fn plain_prices_agree_with_dec() {
        let texts = [
            "0",
            "7",
            "007",
            "540000",
            "12.5",
            "12.50",
            "12.500",
            "0.01",
            "0.001",
            "1.",
            ".5",
            "-1",
            "-0",
            "1e3",
            "+1",
            " 1",
            "1 ",
            "1.2.3",
            "",
            "999999999999999999",
            "9999999999999999999",
            "99999999999999999.9",
            "9223372036854775807",
            "92233720368547758.07",
            "92233720368547758.08",
            "00000000000000000000001",
        ];
        for mu in [0u32, 2, 3] {
            for t in texts {
                let want = Dec::parse(t)
                    .ok()
                    .filter(|d| !d.is_negative())
                    .and_then(|d| {
                        (t.split_once('.').map_or(0, |(_, f)| f.len()) <= mu as usize)
                            .then(|| d.to_minor(mu))
                            .flatten()
                    });
                // None: the general path decides.
                if let Some(v) = plain_minor_units(t, mu) {
                    assert_eq!(Some(v), want, "{t:?} at {mu}");
                }
            }
        }
        // Every text of up to 6 characters over digits, point, sign and space.
        let alphabet = ['0', '1', '9', '.', '-', ' '];
        let mut texts = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            for mu in [0u32, 2, 3] {
                for t in &longer {
                    if let Some(v) = plain_minor_units(t, mu) {
                        let d = Dec::parse(t).unwrap_or_else(|_| panic!("{t:?} is not a decimal"));
                        assert!(!d.is_negative(), "{t:?}");
                        assert_eq!(Some(v), d.to_minor(mu), "{t:?} at {mu}");
                    }
                }
            }
            texts = longer;
        }
        assert_eq!(plain_minor_units("540000", 0), Some(540000));
        assert_eq!(plain_minor_units("12.5", 2), Some(1250));
        assert_eq!(plain_minor_units("12.500", 2), None);
    }
}
