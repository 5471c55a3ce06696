//! Writing canonical JSON by hand, for the one answer written on every call at a till: the
//! quote (`quote::response::write`). Byte for byte what serde_json's compact writer gives for
//! the same values (SPEC §7.1), which `tests/vectors.rs` checks against the serde path on every
//! quote vector: strings escape exactly `"`, `\` and U+0000–U+001F (`\b \t \n \f \r`, else
//! `\u00xx` in lower case), integers in plain decimal.
//!
//! And the SHA-256 the digests use ([`Sha256`]): `sha2` natively (it uses the CPU's SHA
//! extensions when it finds them) and in the full and core Wasm modules (unrolled, fast: every
//! quote hashes its answer), the small loop-based `hmac-sha256` in the progress Wasm module,
//! which hashes only policies and is built for size.

/// Appends `s` as a JSON string (quoted, escaped).
pub fn string(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    // Nearly every string (ids, codes, messages) has nothing to escape: one scan, one copy.
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0..=0x1f => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, so both slices end on character boundaries.
        out.push_str(s.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            out.push_str("\\u00");
            hex(out, &[b]);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// Appends an integer.
pub fn int(out: &mut String, n: i64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends an integer, or `null` for `None`.
pub fn opt_int(out: &mut String, n: Option<i64>) {
    match n {
        Some(n) => int(out, n),
        None => out.push_str("null"),
    }
}

/// Appends a string, or `null` for `None`.
pub fn opt_string(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => string(out, s),
        None => out.push_str("null"),
    }
}

/// Appends `[…]` with `item` writing each element.
pub fn list<T>(out: &mut String, items: &[T], mut item: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item(out, x);
    }
    out.push(']');
}

/// Appends a list of strings.
pub fn strings(out: &mut String, items: &[String]) {
    list(out, items, |out, s| string(out, s));
}

/// A string enum's name as written (`"half_up"`): what its reader reads (`json::shapes`, the
/// same list), so a value is written back as it was read.
pub trait Named: Copy {
    fn json_name(self) -> &'static str;
}

/// Appends a string enum as its quoted name.
pub fn name(out: &mut String, value: impl Named) {
    out.push('"');
    out.push_str(value.json_name());
    out.push('"');
}

/// Appends bytes as lower-case hex.
pub fn hex(out: &mut String, bytes: &[u8]) {
    let digit = |d: u8| char::from_digit(u32::from(d), 16).unwrap_or('0');
    for &b in bytes {
        out.push(digit(b >> 4));
        out.push(digit(b & 0xf));
    }
}

/// SHA-256, fed in parts.
#[derive(Clone, Default)]
pub struct Sha256(Inner);

#[cfg(any(
    not(target_arch = "wasm32"),
    feature = "full",
    not(feature = "progress")
))]
type Inner = sha2::Sha256;
#[cfg(all(target_arch = "wasm32", feature = "progress", not(feature = "full")))]
type Inner = hmac_sha256::Hash;

impl Sha256 {
    pub fn new() -> Sha256 {
        Sha256::default()
    }

    pub fn update(&mut self, bytes: &[u8]) {
        #[cfg(any(
            not(target_arch = "wasm32"),
            feature = "full",
            not(feature = "progress")
        ))]
        sha2::Digest::update(&mut self.0, bytes);
        #[cfg(all(target_arch = "wasm32", feature = "progress", not(feature = "full")))]
        self.0.update(bytes);
    }

    pub fn finalize(self) -> [u8; 32] {
        #[cfg(any(
            not(target_arch = "wasm32"),
            feature = "full",
            not(feature = "progress")
        ))]
        return sha2::Digest::finalize(self.0).into();
        #[cfg(all(target_arch = "wasm32", feature = "progress", not(feature = "full")))]
        return self.0.finalize();
    }

    /// Appends `sha256:<hex>` of what was fed.
    pub fn write_digest(self, out: &mut String) {
        out.push_str("sha256:");
        hex(out, &self.finalize());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_as_serde_json_does() {
        let all: String = (0u32..0x80)
            .filter_map(char::from_u32)
            .chain("é€😀\u{7f}\u{2028}".chars())
            .collect();
        for s in [
            "",
            "plain",
            "a\"b\\c",
            "\u{0}\u{1f}\u{8}\u{c}",
            all.as_str(),
        ] {
            let mut out = String::new();
            string(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap_or_default(), "{s:?}");
        }
        let mut out = String::new();
        string(&mut out, "x\u{1}y\u{1b}");
        assert_eq!(out, r#""x\u0001y\u001b""#);
    }

    #[test]
    fn integers_and_hex() {
        let mut out = String::new();
        for n in [0, -1, 42, i64::MIN, i64::MAX] {
            int(&mut out, n);
            out.push(',');
        }
        hex(&mut out, &[0x00, 0x9f, 0xff]);
        assert_eq!(
            out,
            "0,-1,42,-9223372036854775808,9223372036854775807,009fff"
        );
    }

    #[test]
    fn sha256_of_abc_in_parts() {
        let mut h = Sha256::new();
        h.update(b"a");
        h.update(b"bc");
        let mut out = String::new();
        h.write_digest(&mut out);
        assert_eq!(
            out,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
