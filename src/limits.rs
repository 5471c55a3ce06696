//! Resource limits. Inputs beyond them answer `limit_exceeded` instead of consuming unbounded
//! time or memory; they are far above what a real program or cart needs.

/// Levels in `tiers.levels`.
pub const MAX_LEVELS: usize = 100;
/// Rules in `earning.rules`.
pub const MAX_RULES: usize = 500;
/// Rewards in `rewards`.
pub const MAX_REWARDS: usize = 1_000;
/// Entries in any list of strings (categories, skus, stores, …).
pub const MAX_LIST: usize = 10_000;
/// Lines in a cart.
pub const MAX_CART_LINES: usize = 1_000;
/// Months in expiry rules (1,200 = a century).
pub const MAX_MONTHS: i64 = 1_200;
/// Bytes in one `loyalty eval` / `evalLine` request line (16 MiB), without its line end.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
