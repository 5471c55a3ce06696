//! Money and rates: exact decimals, currencies and their minor units, rounding, allocation.
//!
//! Amounts are held as integer **minor units** (`i64`, e.g. cents) so every sum is exact and
//! overflow is checked; rates (percents, multipliers, shares) are [`Dec`] values. Products of
//! the two are computed in `i128` and rounded once, with the mode the policy names.

mod allocate;
mod arith;
mod currency;
mod decimal;
mod rounding;

pub use allocate::allocate;
pub use arith::{mul, pow10};
pub use currency::{builtin_minor_units, Currency};
pub use decimal::{Dec, DecError, MAX_DIGITS};
pub use rounding::{div_round, EarnRounding, MoneyRounding, Rounding};

/// Per-line values of one order. Natively and in the full Wasm module, inline up to 4 lines
/// (the usual cart): pricing runs for every replayed purchase under every policy, and these
/// temporaries were most of a replay's allocations. In the core module (a POS quotes one order
/// at a time) a plain `Vec`: the inline vector's code would take ≈ 2.7 KB of its gzip budget.
#[cfg(feature = "full")]
pub type LineVec<T> = smallvec::SmallVec<[T; 4]>;
/// See the `full` definition.
#[cfg(not(feature = "full"))]
pub type LineVec<T> = Vec<T>;

/// Per-line amounts of one order (minor units or points).
pub type Amounts = LineVec<i64>;

/// Largest money value in minor units (SPEC §7.7).
pub const MAX_MINOR: i128 = i64::MAX as i128;
/// Largest points value: the JS safe-integer range (SPEC §7.7).
pub const MAX_POINTS: i64 = (1i64 << 53) - 1;
