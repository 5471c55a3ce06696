//! Members as the engine sees them: a status and the snapshot a quote starts from.

use serde::{Deserialize, Serialize};

#[cfg(all(target_arch = "wasm32", feature = "full"))]
use tsify::Tsify;

/// A member's status (SPEC §2): only `active` members get tier benefits and may redeem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// A member in good standing.
    Active,
    /// Registered but not yet activated.
    Inactive,
    /// Removed from the program.
    Excluded,
    /// A pre-issued anonymous card not yet bound to a person.
    Unassigned,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Active => "active",
            MemberStatus::Inactive => "inactive",
            MemberStatus::Excluded => "excluded",
            MemberStatus::Unassigned => "unassigned",
        }
    }
}

/// The member snapshot a quote starts from (also what a replay's `snapshot` writes).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "full"), derive(Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MemberSnapshot {
    pub id: String,
    pub status: MemberStatus,
    /// The member's level id; absent means the lowest level.
    #[serde(default)]
    pub tier: Option<String>,
    /// Available (not pending) points; may be negative when the member owes points.
    pub points: i64,
}
