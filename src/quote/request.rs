//! The quote request (SPEC §2): a member snapshot, a cart and a redemption request.

use crate::member::MemberSnapshot;
use crate::policy::document::DecimalString;
use serde::{Deserialize, Deserializer};

#[cfg(all(target_arch = "wasm32", feature = "full"))]
use tsify::Tsify;

/// `{ "member", "cart", "redeem_points" }`.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    pub member: MemberSnapshot,
    pub cart: Cart,
    /// `0` (default), a number of points, or `"max"`.
    #[serde(default)]
    pub redeem_points: RedeemPoints,
}

/// An order at the till.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Cart {
    pub id: String,
    /// RFC 3339 instant with an offset.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::INSTANT)))]
    pub at: String,
    #[serde(default)]
    pub store: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    pub lines: Vec<CartLine>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CartLine {
    pub id: String,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    pub quantity: i64,
    pub unit_price: DecimalString,
}

/// A cart line as written, borrowed: what the cart check reads, from a quote's [`CartLine`] or
/// from a member line read in place (`ledger::view`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineText<'a> {
    pub id: &'a str,
    pub sku: Option<&'a str>,
    pub category: Option<&'a str>,
    pub quantity: i64,
    /// The decimal string, unchecked.
    pub unit_price: &'a str,
}

impl CartLine {
    pub fn text(&self) -> LineText<'_> {
        LineText {
            id: &self.id,
            sku: self.sku.as_deref(),
            category: self.category.as_deref(),
            quantity: self.quantity,
            unit_price: &self.unit_price.0,
        }
    }
}

/// A quote request borrowed: what [`super::quote`] reads, from a [`QuoteRequest`]
/// ([`QuoteRequest::text`]) or read in place from the request's JSON text (the reader's fast
/// path, `json::fast::quote_request`, which allocates no string).
#[derive(Clone, Debug)]
pub struct QuoteText<'a> {
    pub member: MemberText<'a>,
    pub cart: CartText<'a>,
    pub redeem_points: RedeemPoints,
}

/// [`MemberSnapshot`], borrowed.
#[derive(Clone, Copy, Debug)]
pub struct MemberText<'a> {
    pub id: &'a str,
    pub status: crate::member::MemberStatus,
    pub tier: Option<&'a str>,
    pub points: i64,
}

/// [`Cart`], borrowed.
#[derive(Clone, Debug)]
pub struct CartText<'a> {
    pub id: &'a str,
    pub at: &'a str,
    pub store: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub lines: Vec<LineText<'a>>,
}

impl QuoteRequest {
    pub fn text(&self) -> QuoteText<'_> {
        let m = &self.member;
        QuoteText {
            member: MemberText {
                id: &m.id,
                status: m.status,
                tier: m.tier.as_deref(),
                points: m.points,
            },
            cart: self.cart.text(),
            redeem_points: self.redeem_points,
        }
    }
}

impl Cart {
    pub fn text(&self) -> CartText<'_> {
        CartText {
            id: &self.id,
            at: &self.at,
            store: self.store.as_deref(),
            channel: self.channel.as_deref(),
            lines: self.lines.iter().map(CartLine::text).collect(),
        }
    }
}

/// How many points to redeem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(
    all(target_arch = "wasm32", feature = "full"),
    tsify(type = "number | \"max\"")
)]
pub enum RedeemPoints {
    /// Exactly this many points (0 = none).
    Points(i64),
    /// As many as the policy allows on this order.
    Max,
}

impl Default for RedeemPoints {
    /// No redemption.
    fn default() -> Self {
        RedeemPoints::Points(0)
    }
}

impl<'de> Deserialize<'de> for RedeemPoints {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RedeemPoints;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a non-negative integer or \"max\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RedeemPoints, E> {
                i64::try_from(v)
                    .map(RedeemPoints::Points)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RedeemPoints, E> {
                if v < 0 {
                    return Err(E::invalid_value(serde::de::Unexpected::Signed(v), &self));
                }
                Ok(RedeemPoints::Points(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RedeemPoints, E> {
                if v == "max" {
                    Ok(RedeemPoints::Max)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}
