//! Phone numbers to E.164 (`+84980000000`), so that `0980.000.000`, `+84 980 000 000` and
//! `84980000000` are one number for default country VN.

/// Calling code and the lengths of national significant numbers of the countries the importer
/// knows.
pub fn country(code: &str) -> Option<(&'static str, std::ops::RangeInclusive<usize>)> {
    Some(match code.to_ascii_uppercase().as_str() {
        "VN" => ("84", 9..=10),
        "SK" => ("421", 9..=9),
        "CZ" => ("420", 9..=9),
        "HU" => ("36", 8..=9),
        "PL" => ("48", 9..=9),
        "AT" => ("43", 7..=13),
        "DE" => ("49", 7..=12),
        "FR" => ("33", 9..=9),
        "GB" => ("44", 9..=10),
        "US" | "CA" => ("1", 10..=10),
        "TH" => ("66", 8..=9),
        "ID" => ("62", 8..=12),
        "SG" => ("65", 8..=8),
        "JP" => ("81", 9..=10),
        _ => return None,
    })
}

/// E.164 form of `raw`, or why not. Separators (spaces, `.`, `-`, `/`, parentheses) are
/// ignored; `+` or `00` starts an international number; a leading `0` is the national trunk
/// prefix; a number starting with the default country's code and of the right length is
/// international without `+`. A trunk `(0)` written after a country code
/// (`+84 (0) 903 000 003`, `+44 (0)20 …`) is dropped: a `(0)` after the first digit is never
/// part of the number.
pub fn normalize(raw: &str, default_country: Option<&str>) -> Result<String, String> {
    let t = raw.trim();
    let mut digits = String::with_capacity(t.len());
    let mut plus = false;
    let mut chars = t.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '(' && !digits.is_empty() && t.get(i..i + 3) == Some("(0)") {
            chars.next();
            chars.next();
            continue;
        }
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '.' | '-' | '/' | '(' | ')' | '\u{a0}' => {}
            _ => return Err(format!("bad phone {raw:?}: unexpected character {c:?}")),
        }
    }
    let international = if plus {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    if let Some(intl) = international {
        if !(8..=15).contains(&intl.len()) || intl.starts_with('0') {
            return Err(format!("bad phone {raw:?}: not an international number"));
        }
        return Ok(format!("+{intl}"));
    }
    let Some((cc, lens)) = default_country.and_then(country) else {
        return Err(format!(
            "bad phone {raw:?}: no country code and no known default_country"
        ));
    };
    if let Some(nsn) = digits.strip_prefix(cc) {
        if lens.contains(&nsn.len()) && !nsn.starts_with('0') {
            return Ok(format!("+{cc}{nsn}"));
        }
    }
    let nsn = digits.strip_prefix('0').unwrap_or(&digits);
    if !lens.contains(&nsn.len()) || nsn.starts_with('0') {
        return Err(format!(
            "bad phone {raw:?}: {} digits is not a national number of country code +{cc}",
            nsn.len()
        ));
    }
    Ok(format!("+{cc}{nsn}"))
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn one_number_three_ways() {
        for s in [
            "0980.000.000",
            "+84 980 000 000",
            "84980000000",
            "0084 980-000-000",
        ] {
            assert_eq!(normalize(s, Some("VN")).unwrap(), "+84980000000", "{s}");
        }
        assert_eq!(
            normalize("0905 123 456", Some("SK")).unwrap(),
            "+421905123456"
        );
        assert_eq!(
            normalize("+421 905 123 456", Some("VN")).unwrap(),
            "+421905123456"
        );
        assert!(normalize("12345", Some("VN")).is_err());
        assert!(normalize("09x8", Some("VN")).is_err());
        assert!(normalize("0980000000", None).is_err());
    }

    #[test]
    fn trunk_zero_after_the_country_code_is_dropped() {
        // Issue 18: was +840903000003, neither rejected nor matched.
        for s in [
            "+84 (0) 903 000 003",
            "+84(0)903000003",
            "0084 (0)903 000 003",
            "84 (0) 903 000 003",
        ] {
            assert_eq!(normalize(s, Some("VN")).unwrap(), "+84903000003", "{s}");
        }
        assert_eq!(
            normalize("+44 (0)20 7946 0018", None).unwrap(),
            "+442079460018"
        );
        // A leading "(0)" is the national trunk prefix as usual; "(09)" is an area code.
        assert_eq!(
            normalize("(0) 903 000 003", Some("VN")).unwrap(),
            "+84903000003"
        );
        assert_eq!(
            normalize("(0903) 000 003", Some("VN")).unwrap(),
            "+84903000003"
        );
    }
}
