//! The mapping file: which CSV export holds what (docs/migration.md, "Mapping file").

use serde::Deserialize;
use std::collections::BTreeMap;

/// The whole mapping file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The instant of the export (RFC 3339 with offset): balances, tiers and statuses are as of
    /// then; the migration events are written at this instant.
    pub cutover: String,
    /// IANA zone for times written without an offset.
    pub time_zone: String,
    /// ISO 4217 code of the amounts (needed unless `--policy` gives it).
    #[serde(default)]
    pub currency: Option<String>,
    /// Country of phone numbers written without a country code (`VN`, `SK`, …).
    #[serde(default)]
    pub default_country: Option<String>,
    /// Whether imported purchases earn points (default false: they count for tiers only).
    #[serde(default)]
    pub earn: bool,
    /// Valid tier ids (optional; `--policy` gives the policy's levels).
    #[serde(default)]
    pub tiers: Option<Vec<String>>,
    /// Source tier names → engine tier ids (names not listed are taken as ids).
    #[serde(default)]
    pub tier_names: BTreeMap<String, String>,
    /// Source statuses → `active` | `inactive` | `excluded` | `unassigned`.
    #[serde(default)]
    pub statuses: BTreeMap<String, String>,
    /// Groups of customer ids (with their file's `id_prefix`) that are one person.
    #[serde(default)]
    pub links: Vec<Vec<String>>,
    pub files: Vec<FileMapping>,
}

/// What one file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Customers,
    Balances,
    Tiers,
    Transactions,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Customers => "customers",
            Kind::Balances => "balances",
            Kind::Tiers => "tiers",
            Kind::Transactions => "transactions",
        }
    }
}

/// One CSV export.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMapping {
    /// The file name (matched against the base name of the files on the command line).
    pub file: String,
    pub kind: Kind,
    /// `","`, `";"`, `"\t"` or `"|"`; detected from the header line when absent.
    #[serde(default)]
    pub delimiter: Option<String>,
    /// `"."` (default; `,` and spaces group thousands) or `","` (`.` and spaces group thousands).
    #[serde(default)]
    pub decimal_separator: Option<String>,
    /// chrono `strftime` format of local times, e.g. `"%d.%m.%Y %H:%M"`; ISO forms are always
    /// accepted.
    #[serde(default)]
    pub time_format: Option<String>,
    /// chrono format of dates (expiry, locked_until, joined), e.g. `"%d/%m/%Y"`.
    #[serde(default)]
    pub date_format: Option<String>,
    /// Prefix for this file's customer ids (two systems numbering customers independently).
    #[serde(default)]
    pub id_prefix: Option<String>,
    /// Prefix for this file's order ids.
    #[serde(default)]
    pub order_prefix: Option<String>,
    /// `.xlsx` files: the worksheet to read (default: the first one).
    #[serde(default)]
    pub sheet: Option<String>,
    /// Transactions files: roles (`"customer_id"`, `"time"`, `"order_id"`, …) whose empty cell
    /// takes the value of the row above while the row belongs to the same order (its order id
    /// is the same, or empty when `order_id` is listed too): exports that write the customer
    /// and the date only on an order's first line.
    #[serde(default)]
    pub fill_down: Vec<String>,
    /// Transactions files: values of the `customer_id` or `name` cell that mean "no customer"
    /// (`"Khách lẻ"`, walk-in sales). Such rows are skipped and counted in the report
    /// (`rows_skipped`), not rejected.
    #[serde(default)]
    pub walk_in: Vec<String>,
    pub columns: Columns,
}

/// Header names of the columns, by role. Absent roles are not in the file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub customer_id: Option<String>,
    pub phone: Option<String>,
    pub card: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub joined_at: Option<String>,
    pub points: Option<String>,
    pub expiry: Option<String>,
    pub tier: Option<String>,
    pub locked_until: Option<String>,
    pub order_id: Option<String>,
    pub time: Option<String>,
    /// Line total (quantity × unit price).
    pub amount: Option<String>,
    pub unit_price: Option<String>,
    pub sku: Option<String>,
    pub category: Option<String>,
    pub quantity: Option<String>,
    pub store: Option<String>,
    pub channel: Option<String>,
    /// The order id a return row refunds (empty on sales).
    pub refund_of: Option<String>,
}

impl Columns {
    /// Every (role, header) pair present, in role order.
    pub fn roles(&self) -> Vec<(Role, &str)> {
        let all = [
            (Role::CustomerId, &self.customer_id),
            (Role::Phone, &self.phone),
            (Role::Card, &self.card),
            (Role::Name, &self.name),
            (Role::Status, &self.status),
            (Role::JoinedAt, &self.joined_at),
            (Role::Points, &self.points),
            (Role::Expiry, &self.expiry),
            (Role::Tier, &self.tier),
            (Role::LockedUntil, &self.locked_until),
            (Role::OrderId, &self.order_id),
            (Role::Time, &self.time),
            (Role::Amount, &self.amount),
            (Role::UnitPrice, &self.unit_price),
            (Role::Sku, &self.sku),
            (Role::Category, &self.category),
            (Role::Quantity, &self.quantity),
            (Role::Store, &self.store),
            (Role::Channel, &self.channel),
            (Role::RefundOf, &self.refund_of),
        ];
        all.into_iter()
            .filter_map(|(r, h)| h.as_deref().map(|h| (r, h)))
            .collect()
    }
}

/// A column's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    CustomerId,
    Phone,
    Card,
    Name,
    Status,
    JoinedAt,
    Points,
    Expiry,
    Tier,
    LockedUntil,
    OrderId,
    Time,
    Amount,
    UnitPrice,
    Sku,
    Category,
    Quantity,
    Store,
    Channel,
    RefundOf,
}

pub const ROLE_COUNT: usize = 20;

/// Every role with its name in the mapping's `columns`, in role order.
pub const ROLES: [(Role, &str); ROLE_COUNT] = [
    (Role::CustomerId, "customer_id"),
    (Role::Phone, "phone"),
    (Role::Card, "card"),
    (Role::Name, "name"),
    (Role::Status, "status"),
    (Role::JoinedAt, "joined_at"),
    (Role::Points, "points"),
    (Role::Expiry, "expiry"),
    (Role::Tier, "tier"),
    (Role::LockedUntil, "locked_until"),
    (Role::OrderId, "order_id"),
    (Role::Time, "time"),
    (Role::Amount, "amount"),
    (Role::UnitPrice, "unit_price"),
    (Role::Sku, "sku"),
    (Role::Category, "category"),
    (Role::Quantity, "quantity"),
    (Role::Store, "store"),
    (Role::Channel, "channel"),
    (Role::RefundOf, "refund_of"),
];

impl Role {
    pub fn index(self) -> usize {
        self as usize
    }

    /// The role's name in the mapping's `columns` (`"customer_id"`).
    pub fn name(self) -> &'static str {
        ROLES.get(self.index()).map_or("", |r| r.1)
    }

    /// The role named `name` in the mapping's `columns`.
    pub fn by_name(name: &str) -> Option<Role> {
        ROLES.iter().find(|r| r.1 == name).map(|r| r.0)
    }
}
