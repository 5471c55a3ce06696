//! A fast path for the inputs read millions of times: a simulate member line
//! (`{"member":{…},"events":[…]}`, SPEC §5), and a quote request (SPEC §2: every sale at a till,
//! every booking at the server).
//!
//! Why a second reader: the general one ([`super::read`]) is built for small code and exact
//! errors — one shared field loop, dynamic dispatch, paths kept for faults — and reading member
//! lines through it was about a third of a simulation's instructions. This one reads the
//! shapes of a member history directly, monomorphic, and gives up (`None`) at the first thing
//! it does not handle: a string with an escape or a control character, a number that is not a
//! plain integer, `null` where a value is required, a repeated or unknown key, a type
//! mismatch, trailing text. The caller then reads the line with the general reader, which
//! accepts or refuses it with its exact error. So this path never decides an error, and what
//! it accepts it reads to the very value the general reader gives (`tests/reader.rs` checks
//! both on every vector and on thousands of mutations).

use crate::ledger::view::{
    CartView, EventView, HistoryView, MemberView, QuotedMemberView, RefundLineView,
};
use crate::ledger::EventType;
use crate::member::MemberStatus;
use crate::quote::{CartText, LineText, MemberText, QuoteText, RedeemPoints};

use super::read::string_end;

/// A member line read on the fast path, its strings borrowed from `text`, or `None`: read it
/// with the general reader.
pub fn member_history(text: &str) -> Option<HistoryView<'_>> {
    let mut r = Fast {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let mut member = None;
    let mut events = None;
    const KEYS: &[Key] = &[key("member"), key("events")];
    r.object(KEYS, |r, key| match key {
        0 if member.is_none() => {
            member = Some(r.ledger_member()?);
            Some(())
        }
        1 if events.is_none() => {
            events = Some(r.array(32, Fast::event)?);
            Some(())
        }
        _ => None,
    })?;
    r.ws();
    if r.pos != r.bytes.len() {
        return None;
    }
    Some(HistoryView {
        member: member?,
        events: events?,
    })
}

// Not in the progress Wasm module, which has no quote.
#[cfg_attr(
    all(target_arch = "wasm32", feature = "progress", not(feature = "full")),
    allow(dead_code)
)]
/// A quote request read on the fast path, its strings borrowed from `text`, or `None`: read it
/// with the general reader.
pub fn quote_request(text: &str) -> Option<QuoteText<'_>> {
    let mut r = Fast {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let (mut member, mut cart, mut redeem) = (None, None, None);
    const KEYS: &[Key] = &[key("member"), key("cart"), key("redeem_points")];
    r.object(KEYS, |r, key| {
        match key {
            0 if member.is_none() => member = Some(r.quote_member()?),
            1 if cart.is_none() => cart = Some(r.quote_cart()?),
            // `null` is the general reader's error to give (the field is not optional).
            2 if redeem.is_none() => redeem = Some(r.redeem_points()?),
            _ => return None,
        }
        Some(())
    })?;
    r.ws();
    if r.pos != r.bytes.len() {
        return None;
    }
    Some(QuoteText {
        member: member?,
        cart: cart?,
        redeem_points: redeem.unwrap_or_default(),
    })
}

/// An object key as the fast path matches it: `name":` (what follows the opening quote) as a
/// little-endian word, with the mask of its bytes; a mask of 0 for a name too long for one
/// word (such a key is read as a string instead).
struct Key {
    name: &'static str,
    word: u128,
    mask: u128,
}

const fn key(name: &'static str) -> Key {
    let b = name.as_bytes();
    if b.len() + 2 > 16 {
        return Key {
            name,
            word: 0,
            mask: 0,
        };
    }
    let mut word = 0u128;
    let (mut rest, mut shift) = (b, 0);
    while let [first, tail @ ..] = rest {
        word |= (*first as u128) << shift;
        (rest, shift) = (tail, shift + 8);
    }
    word |= (b'"' as u128) << (8 * b.len());
    word |= (b':' as u128) << (8 * (b.len() + 1));
    let bytes = b.len() + 2;
    let mask = if bytes == 16 {
        u128::MAX
    } else {
        (1u128 << (8 * bytes)) - 1
    };
    Key { name, word, mask }
}

/// An event's keys, in the order of `ledger::Event`'s fields.
const EVENT_KEYS: &[Key] = &[
    key("id"),
    key("type"),
    key("at"),
    key("cart"),
    key("redeem_points"),
    key("earn"),
    key("order_id"),
    key("lines"),
    key("points"),
    key("reason"),
    key("counts_for_tier"),
    key("expires_at"),
    key("tier"),
    key("locked_until"),
    key("status"),
    key("reward_id"),
    key("policy_digest"),
    key("quoted_member"),
];

/// A cart line's keys, in the order of `quote::CartLine`'s fields.
const LINE_KEYS: &[Key] = &[
    key("id"),
    key("sku"),
    key("category"),
    key("quantity"),
    key("unit_price"),
];

/// A purchase cart's keys, in the order of `ledger::EventCart`'s fields.
const CART_KEYS: &[Key] = &[
    key("id"),
    key("at"),
    key("store"),
    key("channel"),
    key("lines"),
];

struct Fast<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Fast<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next non-whitespace byte, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.pos += 1)
    }

    /// A string without escapes or control characters, borrowed.
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        let rest = self.bytes.get(start..)?;
        let len = string_end(rest)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        self.pos = start + len + 1;
        // Both ends are ASCII quotes, so these are character boundaries.
        self.text.get(start..start + len)
    }

    /// `null` (→ `Some(None)`) or a value read by `read`.
    fn nullable<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            let end = self.pos + 4;
            if self.bytes.get(self.pos..end)? != b"null" {
                return None;
            }
            self.pos = end;
            return self.delimited().then_some(None);
        }
        read(self).map(Some)
    }

    fn bool(&mut self) -> Option<bool> {
        let (word, value): (&[u8], bool) = match self.peek()? {
            b't' => (b"true", true),
            b'f' => (b"false", false),
            _ => return None,
        };
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end)? != word {
            return None;
        }
        self.pos = end;
        self.delimited().then_some(value)
    }

    /// An integer written plainly (`0`, `42`, `-7`; no fraction, exponent or `-0`) within
    /// `i64`.
    fn int(&mut self) -> Option<i64> {
        let negative = self.peek()? == b'-';
        if negative {
            self.pos += 1;
        }
        let start = self.pos;
        let mut v: i64 = 0;
        while let Some(&b) = self.bytes.get(self.pos) {
            if !b.is_ascii_digit() {
                break;
            }
            let d = i64::from(b - b'0');
            v = v.checked_mul(10)?;
            v = if negative {
                v.checked_sub(d)?
            } else {
                v.checked_add(d)?
            };
            self.pos += 1;
        }
        let digits = self.pos - start;
        let leading_zero = self.bytes.get(start) == Some(&b'0');
        if digits == 0 || (leading_zero && (digits > 1 || negative)) || !self.delimited() {
            return None;
        }
        Some(v)
    }

    /// Whether a scalar ends here (a `.`, `e` or letter after it is another number or word).
    fn delimited(&self) -> bool {
        matches!(
            self.bytes.get(self.pos),
            None | Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
        )
    }

    /// The next key when it is written as `"key":` and is `keys[from]` or a later one (keys
    /// in `keys`' order, the usual case, cost a comparison each instead of a string scan).
    fn expected_key(&mut self, keys: &[Key], from: usize) -> Option<usize> {
        let rest = self.bytes.get(self.pos..)?;
        let (&b'"', rest) = rest.split_first()? else {
            return None;
        };
        // The 16 bytes after the quote as one word, compared under each key's mask.
        let word = u128::from_le_bytes(rest.get(..16)?.try_into().ok()?);
        let (i, key) = keys
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, k)| k.mask != 0 && word & k.mask == k.word)?;
        self.pos += key.name.len() + 3;
        Some(i)
    }

    /// An object whose keys are among `keys`: `member(i)` reads the value of `keys[i]` (it
    /// returns `None` for one seen before). Any other key: `None`.
    fn object(
        &mut self,
        keys: &[Key],
        mut member: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        let mut next = 0;
        loop {
            self.ws();
            let key = match self.expected_key(keys, next) {
                Some(i) => {
                    next = i + 1;
                    i
                }
                None => {
                    let key = self.str()?;
                    self.eat(b':')?;
                    keys.iter().position(|k| k.name == key)?
                }
            };
            member(self, key)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array, with room for `capacity` items up front (a history's events, a cart's lines:
    /// growing one push at a time showed in profiles).
    fn array<T>(
        &mut self,
        capacity: usize,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        self.eat(b'[')?;
        let mut out = Vec::with_capacity(capacity);
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(out);
        }
        loop {
            out.push(item(self)?);
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(out);
                }
                _ => return None,
            }
        }
    }

    fn status(&mut self) -> Option<MemberStatus> {
        Some(match self.str()? {
            "active" => MemberStatus::Active,
            "inactive" => MemberStatus::Inactive,
            "excluded" => MemberStatus::Excluded,
            "unassigned" => MemberStatus::Unassigned,
            _ => return None,
        })
    }

    fn ledger_member(&mut self) -> Option<MemberView<'a>> {
        let (mut id, mut status, mut joined_at) = (None, None, None);
        const KEYS: &[Key] = &[key("id"), key("status"), key("joined_at")];
        self.object(KEYS, |r, key| {
            match key {
                0 if id.is_none() => id = Some(r.str()?),
                1 if status.is_none() => status = Some(r.status()?),
                2 if joined_at.is_none() => joined_at = Some(r.str()?),
                _ => return None,
            }
            Some(())
        })?;
        Some(MemberView {
            id: id?,
            status: status?,
            joined_at: joined_at?,
        })
    }

    fn event_type(&mut self) -> Option<EventType> {
        Some(match self.str()? {
            "purchase" => EventType::Purchase,
            "refund" => EventType::Refund,
            "adjust" => EventType::Adjust,
            "opening_balance" => EventType::OpeningBalance,
            "set_tier" => EventType::SetTier,
            "status" => EventType::Status,
            "redeem_reward" => EventType::RedeemReward,
            _ => return None,
        })
    }

    fn redeem_points(&mut self) -> Option<RedeemPoints> {
        if self.peek()? == b'"' {
            return (self.str()? == "max").then_some(RedeemPoints::Max);
        }
        // A negative number is the general reader's error to give (`int` refuses `-0`).
        let n = self.int()?;
        (n >= 0).then_some(RedeemPoints::Points(n))
    }

    fn event(&mut self) -> Option<EventView<'a>> {
        let mut e = EventView {
            id: "",
            kind: EventType::Purchase,
            at: "",
            cart: None,
            redeem_points: None,
            earn: None,
            order_id: None,
            lines: None,
            points: None,
            reason: None,
            counts_for_tier: None,
            expires_at: None,
            tier: None,
            locked_until: None,
            status: None,
            reward_id: None,
            policy_digest: None,
            quoted_member: None,
        };
        // Which keys were read: each at most once (a repeat is the general reader's error).
        let mut seen: u32 = 0;
        self.object(EVENT_KEYS, |r, key| {
            if seen & (1 << key) != 0 {
                return None;
            }
            seen |= 1 << key;
            match key {
                0 => e.id = r.str()?,
                1 => e.kind = r.event_type()?,
                2 => e.at = r.str()?,
                3 => e.cart = r.nullable(Fast::event_cart)?,
                4 => e.redeem_points = r.nullable(Fast::redeem_points)?,
                5 => e.earn = r.nullable(Fast::bool)?,
                6 => e.order_id = r.nullable(Fast::str)?,
                7 => e.lines = r.nullable(|r| r.array(2, Fast::refund_line))?,
                8 => e.points = r.nullable(Fast::int)?,
                9 => e.reason = r.nullable(Fast::str)?,
                10 => e.counts_for_tier = r.nullable(Fast::bool)?,
                11 => e.expires_at = r.nullable(Fast::str)?,
                12 => e.tier = r.nullable(Fast::str)?,
                13 => e.locked_until = r.nullable(Fast::str)?,
                14 => e.status = r.nullable(Fast::status)?,
                15 => e.reward_id = r.nullable(Fast::str)?,
                16 => e.policy_digest = r.nullable(Fast::str)?,
                _ => e.quoted_member = r.nullable(Fast::quoted_member)?,
            }
            Some(())
        })?;
        // `id`, `type` and `at` are required.
        (seen & 0b111 == 0b111).then_some(e)
    }

    fn event_cart(&mut self) -> Option<CartView<'a>> {
        let (mut id, mut at, mut store, mut channel, mut lines) = (None, None, None, None, None);
        self.object(CART_KEYS, |r, key| {
            match key {
                0 if id.is_none() => id = Some(r.nullable(Fast::str)?),
                1 if at.is_none() => at = Some(r.nullable(Fast::str)?),
                2 if store.is_none() => store = Some(r.nullable(Fast::str)?),
                3 if channel.is_none() => channel = Some(r.nullable(Fast::str)?),
                4 if lines.is_none() => lines = Some(r.array(4, Fast::cart_line)?),
                _ => return None,
            }
            Some(())
        })?;
        Some(CartView {
            id: id.flatten(),
            at: at.flatten(),
            store: store.flatten(),
            channel: channel.flatten(),
            lines: lines?,
        })
    }

    fn cart_line(&mut self) -> Option<LineText<'a>> {
        let (mut id, mut sku, mut category, mut quantity, mut unit_price) =
            (None, None, None, None, None);
        self.object(LINE_KEYS, |r, key| {
            match key {
                0 if id.is_none() => id = Some(r.str()?),
                1 if sku.is_none() => sku = Some(r.nullable(Fast::str)?),
                2 if category.is_none() => category = Some(r.nullable(Fast::str)?),
                3 if quantity.is_none() => quantity = Some(r.int()?),
                4 if unit_price.is_none() => unit_price = Some(r.str()?),
                _ => return None,
            }
            Some(())
        })?;
        Some(LineText {
            id: id?,
            sku: sku.flatten(),
            category: category.flatten(),
            quantity: quantity?,
            unit_price: unit_price?,
        })
    }

    #[cfg_attr(
        all(target_arch = "wasm32", feature = "progress", not(feature = "full")),
        allow(dead_code)
    )]
    fn quote_member(&mut self) -> Option<MemberText<'a>> {
        let (mut id, mut status, mut tier, mut points) = (None, None, None, None);
        const KEYS: &[Key] = &[key("id"), key("status"), key("tier"), key("points")];
        self.object(KEYS, |r, key| {
            match key {
                0 if id.is_none() => id = Some(r.str()?),
                1 if status.is_none() => status = Some(r.status()?),
                2 if tier.is_none() => tier = Some(r.nullable(Fast::str)?),
                3 if points.is_none() => points = Some(r.int()?),
                _ => return None,
            }
            Some(())
        })?;
        Some(MemberText {
            id: id?,
            status: status?,
            tier: tier.flatten(),
            points: points?,
        })
    }

    #[cfg_attr(
        all(target_arch = "wasm32", feature = "progress", not(feature = "full")),
        allow(dead_code)
    )]
    /// A quote's cart: `id`, `at` and `lines` required, `store` and `channel` optional.
    fn quote_cart(&mut self) -> Option<CartText<'a>> {
        let (mut id, mut at, mut store, mut channel, mut lines) = (None, None, None, None, None);
        self.object(CART_KEYS, |r, key| {
            match key {
                0 if id.is_none() => id = Some(r.str()?),
                1 if at.is_none() => at = Some(r.str()?),
                2 if store.is_none() => store = Some(r.nullable(Fast::str)?),
                3 if channel.is_none() => channel = Some(r.nullable(Fast::str)?),
                4 if lines.is_none() => lines = Some(r.array(16, Fast::cart_line)?),
                _ => return None,
            }
            Some(())
        })?;
        Some(CartText {
            id: id?,
            at: at?,
            store: store.flatten(),
            channel: channel.flatten(),
            lines: lines?,
        })
    }

    fn quoted_member(&mut self) -> Option<QuotedMemberView<'a>> {
        let (mut status, mut tier, mut points) = (None, None, None);
        const KEYS: &[Key] = &[key("status"), key("tier"), key("points")];
        self.object(KEYS, |r, key| {
            match key {
                0 if status.is_none() => status = Some(r.status()?),
                1 if tier.is_none() => tier = Some(r.nullable(Fast::str)?),
                2 if points.is_none() => points = Some(r.int()?),
                _ => return None,
            }
            Some(())
        })?;
        Some(QuotedMemberView {
            status: status?,
            tier: tier.flatten(),
            points: points?,
        })
    }

    fn refund_line(&mut self) -> Option<RefundLineView<'a>> {
        let (mut line_id, mut quantity) = (None, None);
        const KEYS: &[Key] = &[key("line_id"), key("quantity")];
        self.object(KEYS, |r, key| {
            match key {
                0 if line_id.is_none() => line_id = Some(r.str()?),
                1 if quantity.is_none() => quantity = Some(r.int()?),
                _ => return None,
            }
            Some(())
        })?;
        Some(RefundLineView {
            line_id: line_id?,
            quantity: quantity?,
        })
    }
}
