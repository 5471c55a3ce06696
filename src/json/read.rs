//! The JSON reader: a pull parser over the request text and the [`FromJson`] trait that reads
//! the engine's request types straight from it.
//!
//! Why not serde's derived `Deserialize`: every derived visitor is instantiated once per
//! deserializer, and with path tracking that was about 40 % of the WebAssembly module (issue 2's
//! size target). Here each type's reader is one small non-generic function over one parser, and
//! a fault's JSON path is assembled only while the error unwinds (no path bookkeeping on the
//! success path, which also makes the simulator's member lines cheaper to read).
//!
//! What is accepted is exactly what `serde_json` accepts (RFC 8259; nesting up to 127 levels;
//! numbers within f64's range; no duplicate keys), and messages follow serde's wording
//! (`invalid type: integer `5`, expected a string`, `unknown field `x`, expected one of …`,
//! `missing field `x``), so callers see the same errors as before. One deliberate difference:
//! a number that is not an integer is quoted as written (`floating point `2.50``), where serde
//! re-formatted the f64.
//!
//! Fault order: the typed reader stops at the first fault, but a text that is not well-formed
//! JSON anywhere is reported as such first (the whole text is checked again, only on the error
//! path, by [`check_syntax`]) — the order a reader that parses the whole text first would give.

use std::borrow::Cow;

/// Nesting deeper than this is refused (serde_json's recursion limit: 127 levels are read).
const MAX_DEPTH: u32 = 128;

/// A reading fault: serde-style message and the path, innermost segment first. Boxed: a
/// `Result<T, Fault>` is then `T` and one pointer, so the reader's many `?` move a pointer
/// instead of 24 bytes through memory (module size).
#[derive(Debug)]
pub struct Fault(Box<FaultBody>);

/// What a [`Fault`] holds.
#[derive(Debug)]
pub struct FaultBody {
    pub message: String,
    segments: Vec<Segment>,
}

impl std::ops::Deref for Fault {
    type Target = FaultBody;
    fn deref(&self) -> &FaultBody {
        &self.0
    }
}

#[derive(Debug)]
enum Segment {
    Key(String),
    Index(usize),
}

impl Fault {
    pub fn new(message: impl crate::error::Text) -> Fault {
        Fault::of(message.text())
    }

    #[inline(never)]
    fn of(message: String) -> Fault {
        Fault(Box::new(FaultBody {
            message,
            segments: Vec::new(),
        }))
    }

    /// The message, taken out.
    pub fn into_message(self) -> String {
        self.0.message
    }

    /// The fault inside member `key` of the enclosing object.
    pub fn at_key(mut self, key: &str) -> Fault {
        self.0.segments.push(Segment::Key(key.to_string()));
        self
    }

    /// The fault inside element `index` of the enclosing array.
    pub fn at_index(mut self, index: usize) -> Fault {
        self.0.segments.push(Segment::Index(index));
        self
    }

    /// `a.b[2].c`: the engine's path notation (`""` for the whole text).
    pub fn path(&self) -> String {
        let mut out = String::new();
        for seg in self.segments.iter().rev() {
            match seg {
                Segment::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Segment::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

/// `invalid type: <what was found>, expected <what the type wants>` (serde's wording).
pub fn invalid_type(found: &Token, expected: &str) -> Fault {
    Fault::new(format!(
        "invalid type: {}, expected {expected}",
        found.describe()
    ))
}

/// `invalid value: <what was found>, expected <what the type wants>` (serde's wording).
pub fn invalid_value(found: &Token, expected: &str) -> Fault {
    Fault::new(format!(
        "invalid value: {}, expected {expected}",
        found.describe()
    ))
}

/// `duplicate field `k`` (serde's wording): an object names a member twice.
pub fn duplicate_field(key: &str) -> Fault {
    Fault::new(format!("duplicate field `{key}`"))
}

/// `unknown field `k`, expected one of `a`, `b`` (serde's wording), at the field itself.
pub fn unknown_field(key: &str, fields: &[&str]) -> Fault {
    Fault::new(format!(
        "unknown field `{key}`, {}",
        one_of(fields, "fields")
    ))
}

/// `unknown variant `v`, expected one of `a`, `b`` (serde's wording).
pub fn unknown_variant(value: &str, variants: &[&str]) -> Fault {
    Fault::new(format!(
        "unknown variant `{value}`, {}",
        one_of(variants, "variants")
    ))
}

fn one_of(names: &[&str], what: &str) -> String {
    match names {
        [] => format!("there are no {what}"),
        [one] => format!("expected `{one}`"),
        _ => {
            let mut out = String::from("expected one of ");
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push('`');
                out.push_str(n);
                out.push('`');
            }
            out
        }
    }
}

/// A required member's value, or `missing field `key`` at the member's own path (so a form can
/// highlight what to fill in).
pub fn required<T>(slot: Option<T>, key: &str) -> Result<T, Fault> {
    match slot {
        Some(v) => Ok(v),
        None => Err(missing_field(key)),
    }
}

/// `missing field `key`` at the member's path (one copy, not one per [`required`] type).
#[cold]
#[inline(never)]
fn missing_field(key: &str) -> Fault {
    Fault::new(format!("missing field `{key}`")).at_key(key)
}

/// A JSON number as written, classified as serde_json does: an integer that fits `u64`
/// (non-negative) or `i64` (negative), else a float (kept as its text).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number<'a> {
    U64(u64),
    I64(i64),
    Float(&'a str),
}

/// One scalar, or the opening of an array or object.
#[derive(Debug, PartialEq)]
pub enum Token<'a> {
    Null,
    Bool(bool),
    Number(Number<'a>),
    Str(Cow<'a, str>),
    ArrayStart,
    ObjectStart,
}

impl Token<'_> {
    /// serde's `Unexpected` wording: `integer `5``, `string "x"`, `sequence`, `map`, `null`.
    fn describe(&self) -> String {
        match self {
            Token::Null => "null".into(),
            Token::Bool(b) => format!("boolean `{b}`"),
            Token::Number(Number::U64(n)) => format!("integer `{n}`"),
            Token::Number(Number::I64(n)) => format!("integer `{n}`"),
            Token::Number(Number::Float(text)) => format!("floating point `{text}`"),
            Token::Str(s) => format!("string {}", crate::error::Quoted(s)),
            Token::ArrayStart => "sequence".into(),
            Token::ObjectStart => "map".into(),
        }
    }
}

/// A type the engine reads from JSON.
pub trait FromJson: Sized {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault>;
}

/// The pull parser: one pass over the text, values read in document order.
pub struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: u32,
}

fn eof_in(what: &str) -> Fault {
    Fault::new(format!("EOF while parsing {what}"))
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str) -> Parser<'a> {
        Parser {
            text,
            pos: 0,
            depth: 0,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek_raw(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    /// The next byte after white space, not consumed.
    pub fn peek(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek_raw() {
            self.pos += 1;
        }
        self.peek_raw()
    }

    /// Only white space is left.
    pub fn end(&mut self) -> Result<(), Fault> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Fault::new("trailing characters")),
        }
    }

    fn enter(&mut self) -> Result<(), Fault> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(Fault::new("recursion limit exceeded"));
        }
        Ok(())
    }

    /// Reads a scalar, or the `[` / `{` that opens a container (then read its members with
    /// [`Parser::array_items`] / [`Parser::object_members`]).
    pub fn token(&mut self) -> Result<Token<'a>, Fault> {
        match self.peek() {
            None => Err(eof_in("a value")),
            Some(b'"') => self.string().map(Token::Str),
            Some(b'[') => {
                self.pos += 1;
                Ok(Token::ArrayStart)
            }
            Some(b'{') => {
                self.pos += 1;
                Ok(Token::ObjectStart)
            }
            Some(b't') => self.literal("true").map(|()| Token::Bool(true)),
            Some(b'f') => self.literal("false").map(|()| Token::Bool(false)),
            Some(b'n') => self.literal("null").map(|()| Token::Null),
            Some(b'-' | b'0'..=b'9') => self.number().map(Token::Number),
            Some(_) => Err(Fault::new("expected value")),
        }
    }

    fn literal(&mut self, word: &str) -> Result<(), Fault> {
        let rest = self.bytes().get(self.pos..).unwrap_or_default();
        for (i, want) in word.bytes().enumerate() {
            match rest.get(i) {
                None => return Err(eof_in("a value")),
                Some(&b) if b == want => {}
                Some(_) => return Err(Fault::new("expected ident")),
            }
        }
        self.pos += word.len();
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek_raw() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Number<'a>, Fault> {
        let start = self.pos;
        let (negative, digits, float) = self.number_text()?;
        let text = self.text.get(start..self.pos).unwrap_or_default();
        if !float {
            if let Some(n) = parse_u64(digits) {
                if !negative {
                    return Ok(Number::U64(n));
                }
                if let Some(v) = 0i64.checked_sub_unsigned(n) {
                    return Ok(Number::I64(v));
                }
            }
        }
        // Beyond u64/i64 or not an integer: serde_json reads an f64, and refuses infinity.
        if rounds_to_infinity(text) {
            return Err(Fault::new("number out of range"));
        }
        Ok(Number::Float(text))
    }

    /// Consumes a number's text (JSON grammar only): whether it is negative, its integer
    /// digits, and whether it has a fraction or an exponent.
    fn number_text(&mut self) -> Result<(bool, &'a str, bool), Fault> {
        let negative = self.peek_raw() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.peek_raw() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            None => return Err(eof_in("a value")),
            Some(_) => return Err(Fault::new("invalid number")),
        }
        let digits = self.text.get(int_start..self.pos).unwrap_or_default();
        let mut float = false;
        if self.peek_raw() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.number_end_fault());
            }
            float = true;
        }
        if let Some(b'e' | b'E') = self.peek_raw() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek_raw() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.number_end_fault());
            }
            float = true;
        }
        Ok((negative, digits, float))
    }

    fn number_end_fault(&self) -> Fault {
        match self.peek_raw() {
            None => eof_in("a value"),
            Some(_) => Fault::new("invalid number"),
        }
    }

    /// A string (at its opening quote), borrowed when it has no escapes: runs up to the next
    /// quote, escape or control character found by [`string_end`].
    pub fn string(&mut self) -> Result<Cow<'a, str>, Fault> {
        self.pos += 1;
        let mut out: Option<String> = None;
        loop {
            let rest = self.bytes().get(self.pos..).unwrap_or_default();
            let Some(len) = string_end(rest) else {
                return Err(eof_in("a string"));
            };
            // The run ends before an ASCII byte and starts after one: character boundaries.
            let run = self.text.get(self.pos..self.pos + len).unwrap_or_default();
            self.pos += len + 1;
            match rest.get(len) {
                Some(b'"') => {
                    return Ok(match out {
                        None => Cow::Borrowed(run),
                        Some(mut o) => {
                            o.push_str(run);
                            Cow::Owned(o)
                        }
                    });
                }
                Some(b'\\') => {
                    let o = out.get_or_insert_with(String::new);
                    o.push_str(run);
                    self.escape(o)?;
                }
                _ => return Err(control_character()),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), Fault> {
        let Some(&b) = self.bytes().get(self.pos) else {
            return Err(eof_in("a string"));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&hi) {
                    // A leading surrogate must be followed by `\u` and a trailing one.
                    let rest = self.bytes().get(self.pos..).unwrap_or_default();
                    if rest.len() < 2 {
                        return Err(eof_in("a string"));
                    }
                    if !rest.starts_with(b"\\u") {
                        return Err(Fault::new("unexpected end of hex escape"));
                    }
                    self.pos += 2;
                    let lo = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(Fault::new("lone leading surrogate in hex escape"));
                    }
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else if (0xDC00..0xE000).contains(&hi) {
                    return Err(Fault::new("lone leading surrogate in hex escape"));
                } else {
                    hi
                };
                char::from_u32(code).ok_or_else(|| Fault::new("invalid unicode code point"))?
            }
            _ => return Err(Fault::new("invalid escape")),
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, Fault> {
        let mut v = 0u32;
        for _ in 0..4 {
            let Some(&b) = self.bytes().get(self.pos) else {
                return Err(eof_in("a string"));
            };
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(Fault::new("invalid escape")),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    /// After an [`Token::ObjectStart`]: calls `member` for each key (the value is read by
    /// `member`), tagging its faults with the key, up to the closing `}`.
    pub fn object_members(
        &mut self,
        mut member: impl FnMut(&mut Self, &str) -> Result<(), Fault>,
    ) -> Result<(), Fault> {
        self.members_dyn(&mut member)
    }

    /// [`Parser::object_members`] without a copy of the loop per caller (module size).
    fn members_dyn(
        &mut self,
        member: &mut dyn FnMut(&mut Self, &str) -> Result<(), Fault>,
    ) -> Result<(), Fault> {
        self.enter()?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            match self.peek() {
                Some(b'"') => {}
                None => return Err(eof_in("an object")),
                Some(_) => return Err(Fault::new("key must be a string")),
            }
            let key = self.string()?;
            match self.peek() {
                Some(b':') => self.pos += 1,
                None => return Err(eof_in("an object")),
                Some(_) => return Err(Fault::new("expected `:`")),
            }
            member(self, &key).map_err(|f| f.at_key(&key))?;
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    if self.peek() == Some(b'}') {
                        return Err(Fault::new("trailing comma"));
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                None => return Err(eof_in("an object")),
                Some(_) => return Err(Fault::new("expected `,` or `}`")),
            }
        }
    }

    /// After an [`Token::ArrayStart`]: calls `item` for each element (which reads it), tagging
    /// its faults with the index, up to the closing `]`.
    pub fn array_items(
        &mut self,
        mut item: impl FnMut(&mut Self, usize) -> Result<(), Fault>,
    ) -> Result<(), Fault> {
        self.items_dyn(&mut item)
    }

    /// [`Parser::array_items`] without a copy of the loop per caller (module size).
    fn items_dyn(
        &mut self,
        item: &mut dyn FnMut(&mut Self, usize) -> Result<(), Fault>,
    ) -> Result<(), Fault> {
        self.enter()?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        let mut index = 0usize;
        loop {
            item(self, index).map_err(|f| f.at_index(index))?;
            index += 1;
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    if self.peek() == Some(b']') {
                        return Err(Fault::new("trailing comma"));
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                None => return Err(eof_in("a list")),
                Some(_) => return Err(Fault::new("expected `,` or `]`")),
            }
        }
    }

    /// Reads an object of a struct type: `expecting` names it in a type fault
    /// (`struct CartLine`).
    pub fn object(
        &mut self,
        expecting: &str,
        member: impl FnMut(&mut Self, &str) -> Result<(), Fault>,
    ) -> Result<(), Fault> {
        match self.token()? {
            Token::ObjectStart => self.object_members(member),
            other => Err(invalid_type(&other, expecting)),
        }
    }

    /// Skips one well-formed value of any depth without building it (no recursion, so no
    /// nesting limit) and returns its text.
    pub fn raw_value(&mut self) -> Result<&'a str, Fault> {
        self.peek();
        let start = self.pos;
        // Open containers: true for an object. Nesting is checked by whoever reads the text.
        let mut open: Vec<bool> = Vec::new();
        loop {
            // Numbers are checked for their grammar only: their range is for whoever reads
            // the text (so a fault is reported at its own path there).
            if let Some(b'-' | b'0'..=b'9') = self.peek() {
                self.number_text()?;
            } else {
                match self.token()? {
                    Token::ArrayStart => {
                        if self.peek() == Some(b']') {
                            self.pos += 1;
                        } else {
                            open.push(false);
                            continue;
                        }
                    }
                    Token::ObjectStart => {
                        if self.peek() == Some(b'}') {
                            self.pos += 1;
                        } else {
                            open.push(true);
                            self.raw_key()?;
                            continue;
                        }
                    }
                    _ => {}
                }
            }
            // After a value: a separator, or closing brackets.
            loop {
                let Some(&is_object) = open.last() else {
                    return Ok(self.text.get(start..self.pos).unwrap_or_default());
                };
                let close = if is_object { b'}' } else { b']' };
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if self.peek() == Some(close) {
                            return Err(Fault::new("trailing comma"));
                        }
                        if is_object {
                            self.raw_key()?;
                        }
                        break;
                    }
                    Some(b) if b == close => {
                        self.pos += 1;
                        open.pop();
                    }
                    None if is_object => return Err(eof_in("an object")),
                    None => return Err(eof_in("a list")),
                    Some(_) if is_object => return Err(Fault::new("expected `,` or `}`")),
                    Some(_) => return Err(Fault::new("expected `,` or `]`")),
                }
            }
        }
    }

    fn raw_key(&mut self) -> Result<(), Fault> {
        match self.peek() {
            Some(b'"') => {}
            None => return Err(eof_in("an object")),
            Some(_) => return Err(Fault::new("key must be a string")),
        }
        self.string()?;
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                Ok(())
            }
            None => Err(eof_in("an object")),
            Some(_) => Err(Fault::new("expected `:`")),
        }
    }
}

fn control_character() -> Fault {
    Fault::new("control character (\\u0000-\\u001F) found while parsing a string")
}

/// The digits of 2^1024 − 2^970: the smallest magnitude that rounds to infinity as an f64
/// (halfway between `f64::MAX` and 2^1024, and ties go to the even neighbour, 2^1024).
const F64_OVERFLOW: &[u8; 309] = b"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/// Whether a JSON number's text is beyond f64's range (what serde_json calls "number out of
/// range"), decided exactly on the decimal digits: no float parsing, whose code and tables are
/// ~10 KB of the Wasm module.
fn rounds_to_infinity(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (
            text.get(..i).unwrap_or_default(),
            text.get(i + 1..).unwrap_or_default(),
        ),
        None => (text, ""),
    };
    // The value is 0.D × 10^e, D its significant digits without leading zeros.
    let mut e: i64 = 0;
    let mut digits: Vec<u8> = Vec::new();
    let mut seen_point = false;
    for b in mantissa.bytes() {
        match b {
            b'.' => seen_point = true,
            b'0'..=b'9' => {
                if digits.is_empty() && b == b'0' {
                    if seen_point {
                        e -= 1;
                    }
                } else {
                    digits.push(b);
                    if !seen_point {
                        e += 1;
                    }
                }
            }
            _ => {}
        }
    }
    if digits.is_empty() {
        return false;
    }
    let (negative, exp_digits) = match exponent.as_bytes().first() {
        Some(b'-') => (true, exponent.get(1..).unwrap_or_default()),
        Some(b'+') => (false, exponent.get(1..).unwrap_or_default()),
        _ => (false, exponent),
    };
    let x = exp_digits.bytes().fold(0i64, |acc, b| {
        acc.saturating_mul(10).saturating_add(i64::from(b - b'0'))
    });
    let e = if negative {
        e.saturating_sub(x)
    } else {
        e.saturating_add(x)
    };
    match e.cmp(&309) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => digits.as_slice() >= F64_OVERFLOW.as_slice(),
    }
}

fn parse_u64(digits: &str) -> Option<u64> {
    let mut v: u64 = 0;
    for b in digits.bytes() {
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

/// [`duplicate_field`] at the first of an object's keys (in order) that repeats an earlier one.
pub fn repeated_key<'a>(keys: impl Iterator<Item = &'a str> + Clone) -> Option<Fault> {
    let i = crate::ids::first_repeat(keys.clone())?;
    let key = keys.into_iter().nth(i)?;
    Some(duplicate_field(key).at_key(key))
}

/// Checks that `text` is one well-formed JSON value with no duplicate keys and nesting within
/// the limit; the first fault in document order, with its path.
pub fn check_syntax(text: &str) -> Result<(), Fault> {
    fn value(p: &mut Parser<'_>) -> Result<(), Fault> {
        match p.token()? {
            Token::ArrayStart => p.array_items(|p, _| value(p)),
            Token::ObjectStart => {
                let mut keys: Vec<String> = Vec::new();
                let read = p.object_members(|p, key| {
                    keys.push(key.to_string());
                    value(p)
                });
                // Every key read so far came before whatever fault ended the object, so a
                // repeat among them is the first fault.
                repeated_key(keys.iter().map(String::as_str)).map_or(read, Err)
            }
            _ => Ok(()),
        }
    }
    let mut p = Parser::new(text);
    value(&mut p)?;
    p.end()
}

/// Reads `T` from the whole of `text`. On a fault, a syntax fault anywhere in the text wins
/// over a shape fault (see the module documentation).
pub fn read_text<T: FromJson>(text: &str) -> Result<T, Fault> {
    read_with(text, T::read)
}

/// Reads the whole of `text` with `read` (which may borrow from the text), with the fault
/// order of [`read_text`].
pub fn read_with<'a, T>(
    text: &'a str,
    read: impl FnOnce(&mut Parser<'a>) -> Result<T, Fault>,
) -> Result<T, Fault> {
    let mut p = Parser::new(text);
    match read(&mut p).and_then(|v| p.end().map(|()| v)) {
        Ok(v) => Ok(v),
        Err(fault) => Err(check_syntax(text).err().unwrap_or(fault)),
    }
}

// ------------------------------------------------------------------ primitive types

impl FromJson for String {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        match p.token()? {
            Token::Str(s) => Ok(s.into_owned()),
            other => Err(invalid_type(&other, "a string")),
        }
    }
}

impl FromJson for bool {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        match p.token()? {
            Token::Bool(b) => Ok(b),
            other => Err(invalid_type(&other, "a boolean")),
        }
    }
}

/// An integer type: serde's messages name it (`expected i64`).
fn integer<T: TryFrom<u64> + TryFrom<i64>>(p: &mut Parser<'_>, name: &str) -> Result<T, Fault> {
    let token = p.token()?;
    let value = match &token {
        Token::Number(Number::U64(n)) => T::try_from(*n).ok(),
        Token::Number(Number::I64(n)) => T::try_from(*n).ok(),
        _ => return Err(invalid_type(&token, name)),
    };
    value.ok_or_else(|| invalid_value(&token, name))
}

impl FromJson for i64 {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        integer(p, "i64")
    }
}

impl FromJson for u64 {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        integer(p, "u64")
    }
}

impl FromJson for u32 {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        integer(p, "u32")
    }
}

/// `null` is `None`; anything else is read as `T`.
impl<T: FromJson> FromJson for Option<T> {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        if p.null()? {
            return Ok(None);
        }
        T::read(p).map(Some)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn read(p: &mut Parser<'_>) -> Result<Self, Fault> {
        p.array_start()?;
        let mut out = Vec::new();
        p.items_dyn(&mut |p, _| {
            out.push(T::read(p)?);
            Ok(())
        })?;
        Ok(out)
    }
}

// Not generic and not inlined: the parts of `Option<T>` and `Vec<T>` that do not depend on
// `T` are one function each rather than a copy per type (module size).
impl Parser<'_> {
    /// A `null` (consumed: true), or the start of something else (not consumed: false).
    #[inline(never)]
    fn null(&mut self) -> Result<bool, Fault> {
        if self.peek() == Some(b'n') {
            self.literal("null")?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The `[` of an array, or `invalid type: …, expected a sequence`.
    #[inline(never)]
    fn array_start(&mut self) -> Result<(), Fault> {
        match self.token()? {
            Token::ArrayStart => Ok(()),
            other => Err(invalid_type(&other, "a sequence")),
        }
    }
}

/// The index of the first `"`, `\\` or control character in `bytes`: eight bytes at a time
/// (the classic "has zero byte" / "has byte less than" word tricks; a flag can be wrong only
/// above a true one, so the lowest flag is the first match).
pub(crate) fn string_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().ok()?);
        let flags = zero_byte(x ^ (ONES * u64::from(b'"')))
            | zero_byte(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
        if flags != 0 {
            return Some(i + (flags.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let tail = bytes.get(i..)?;
    tail.iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|p| i + p)
}

/// One member of a struct being read: where its value goes. Type-erased so that one
/// non-generic loop ([`read_fields`]) reads every struct, which keeps the Wasm module small.
pub trait Slot {
    fn fill(&mut self, p: &mut Parser<'_>, key: &str) -> Result<(), Fault>;
}

impl<T: FromJson> Slot for Option<T> {
    fn fill(&mut self, p: &mut Parser<'_>, key: &str) -> Result<(), Fault> {
        if self.is_some() {
            return Err(duplicate_field(key));
        }
        *self = Some(T::read(p)?);
        Ok(())
    }
}

/// Reads an object's members into `slots` (`fields[i]` goes to `slots[i]`), as serde's derive
/// with `deny_unknown_fields` would: members in document order, an unknown key is a fault at
/// that key, a repeated key is a fault; `expecting` names the type in a type fault
/// (`struct CartLine`).
pub fn read_fields(
    p: &mut Parser<'_>,
    expecting: &str,
    fields: &[&str],
    slots: &mut [&mut dyn Slot],
) -> Result<(), Fault> {
    p.object(expecting, |p, key| {
        let i = fields.iter().position(|f| *f == key);
        match i.and_then(|i| slots.get_mut(i)) {
            Some(slot) => slot.fill(p, key),
            None => Err(unknown_field(key, fields)),
        }
    })
}

/// Reads a struct written as a JSON object with [`read_fields`], then checks for missing
/// required members in declaration order.
///
/// ```ignore
/// read_struct!(p, CartLine { id: req "id", sku: opt "sku", quantity: req "quantity" })
/// ```
/// `req`: must be present; `opt`: an `Option` field, absent or `null` is `None`; `default`:
/// absent is `Default::default()` (`null` is read as the type).
macro_rules! read_struct {
    ($p:expr, $ty:ident { $($field:ident : $mode:ident $key:literal),* $(,)? }) => {{
        const FIELDS: &[&str] = &[$($key),*];
        $(let mut $field = None;)*
        $crate::json::read::read_fields(
            $p,
            concat!("struct ", stringify!($ty)),
            FIELDS,
            &mut [$(&mut $field),*],
        )?;
        Ok($ty { $($field: read_struct!(@take $mode $field $key),)* })
    }};
    (@take req $f:ident $key:literal) => { $crate::json::read::required($f, $key)? };
    (@take opt $f:ident $key:literal) => { $f.flatten() };
    (@take default $f:ident $key:literal) => { $f.unwrap_or_default() };
}

/// Reads a fieldless enum written as a string (`"half_up"`), as serde's derive with
/// `rename_all = "snake_case"` would; the index of the name in `names`.
pub fn read_variant(p: &mut Parser<'_>, expecting: &str, names: &[&str]) -> Result<usize, Fault> {
    match p.token()? {
        Token::Str(s) => names
            .iter()
            .position(|n| *n == s.as_ref())
            .ok_or_else(|| unknown_variant(&s, names)),
        other => Err(invalid_type(&other, expecting)),
    }
}

/// A fieldless enum read with [`read_variant`]: one table of names and values per type.
///
/// ```ignore
/// read_enum!(p, MemberStatus { Active "active", Inactive "inactive" })
/// ```
macro_rules! read_enum {
    ($p:expr, $ty:ident { $($variant:ident $name:literal),* $(,)? }) => {{
        const NAMES: &[&str] = &[$($name),*];
        const VALUES: &[$ty] = &[$($ty::$variant),*];
        let i = $crate::json::read::read_variant($p, concat!("enum ", stringify!($ty)), NAMES)?;
        VALUES
            .get(i)
            .copied()
            .ok_or_else(|| $crate::json::read::Fault::new("unknown variant"))
    }};
}

pub(crate) use {read_enum, read_struct};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_end_finds_the_first_quote_backslash_or_control_character() {
        for len in 0..40 {
            for stop in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                for filler in [b'a', b' ', 0x7f, 0xc3, 0x21, 0x5b, 0x5d] {
                    let mut v = vec![filler; len];
                    v.push(stop);
                    v.extend_from_slice(b"\"\\x");
                    assert_eq!(string_end(&v), Some(len), "{v:?}");
                }
            }
            assert_eq!(string_end(&vec![b'a'; len]), None);
        }
        // Random bytes against the plain scan.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let len = (seed >> 59) as usize + (seed >> 62) as usize * 8;
            let v: Vec<u8> = (0..len)
                .map(|i| {
                    let r = seed.rotate_left(i as u32 * 7) as u8;
                    // Mostly printable, with the interesting bytes often enough.
                    if r % 5 == 0 {
                        [0x00, 0x1f, 0x20, 0x21, 0x22, 0x5c, 0x80, 0xff][usize::from(r % 8)]
                    } else {
                        0x23 + r % 0x38
                    }
                })
                .collect();
            let plain = v.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            assert_eq!(string_end(&v), plain, "{v:?}");
        }
        // A match right after bytes that borrow in the word tricks (0x00 ^ '"' etc.).
        assert_eq!(string_end(b"\x01abc\"efgh"), Some(0));
        assert_eq!(string_end(b"ab\x22\x00\x5c\x1f\x20xyz"), Some(2));
    }

    /// The exact range check agrees with Rust's (correctly rounded) float parser.
    #[test]
    fn out_of_range_is_exactly_f64_overflow() {
        let t = std::str::from_utf8(F64_OVERFLOW).unwrap();
        let mut cases: Vec<String> = [
            "0",
            "-0.0",
            "0e99999999999999999999999",
            "1e308",
            "1e309",
            "-1e309",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "17976931348623158e292",
            "0.00000000000000000001e329",
            "1e-400",
            "123456789012345678901234567890",
            "1e99999999999999999999999",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // T itself, one unit below it, and with extra digits, written in several ways.
        let below = {
            let mut d = t.as_bytes().to_vec();
            if let Some(last) = d.last_mut() {
                *last -= 1;
            }
            String::from_utf8(d).unwrap()
        };
        for digits in [
            t.to_string(),
            below.clone(),
            format!("{t}0"),
            format!("{below}9999"),
        ] {
            let (a, b) = digits.split_at(1);
            cases.push(digits.clone());
            cases.push(format!("{a}.{b}e308"));
            cases.push(format!("0.{digits}e309"));
            cases.push(format!("-{digits}.000"));
        }
        // Pseudo-random mantissas around the boundary.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = 1 + (x % 25) as usize;
            let digits: String = (0..len)
                .map(|i| char::from(b'0' + ((x >> (i % 60)) % 10) as u8))
                .collect();
            let exp = 280 + (x >> 40) % 40;
            cases.push(format!("{digits}e{exp}"));
            cases.push(format!("1.79769313486231{digits}e308"));
        }
        for c in &cases {
            let reference = c.parse::<f64>().map(f64::is_infinite).unwrap();
            assert_eq!(rounds_to_infinity(c), reference, "{c}");
        }
    }

    #[test]
    fn paths_and_messages() {
        let f = read_text::<Vec<Option<u32>>>("[1, null, -2]").unwrap_err();
        assert_eq!(
            (f.path().as_str(), f.message.as_str()),
            ("[2]", "invalid value: integer `-2`, expected u32")
        );
        let f = read_text::<Vec<String>>("[\"a\", 2.50]").unwrap_err();
        assert_eq!(
            f.message,
            "invalid type: floating point `2.50`, expected a string"
        );
        // A syntax fault later in the text wins over an earlier shape fault.
        let f = read_text::<Vec<String>>("[1, {\"a\":1,\"a\":2}]").unwrap_err();
        assert_eq!(
            (f.path().as_str(), f.message.as_str()),
            ("[1].a", "duplicate field `a`")
        );
        let f = read_text::<Vec<String>>("[1e400]").unwrap_err();
        assert_eq!(f.message, "number out of range");
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(
            read_text::<Vec<String>>(&deep).unwrap_err().message,
            "recursion limit exceeded"
        );
        let ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert!(check_syntax(&ok).is_ok());
        assert!(check_syntax(&format!("[{ok}]")).is_err());
        assert_eq!(
            read_text::<String>("\"a\\ud83d\\ude00\\n\"").unwrap(),
            "a\u{1F600}\n"
        );
        assert!(read_text::<String>("\"\\ud83d\"").is_err());
        assert!(read_text::<String>("\"\\ude00\"").is_err());
        assert_eq!(
            read_text::<String>("1 2").unwrap_err().message,
            "trailing characters"
        );
    }
}
