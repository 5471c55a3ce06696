//! The integrity report: counts per file, totals in and out, conflicts, rejected rows (streamed
//! back from the external sorter) and replay mismatches (docs/migration.md, "Report").

use super::sort::{self, decode_fields};
use super::ImportError;
use serde::Serialize;
use std::cell::RefCell;
use std::io;

/// The integrity report.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub rows_read: u64,
    pub rows_rejected: u64,
    /// Rows skipped on purpose, not rejected: walk-in sales (a file's `walk_in`).
    pub rows_skipped: u64,
    pub members_written: u64,
    pub files: Vec<FileCount>,
    pub totals: Totals,
    /// Rows kept apart rather than merged (shared phone numbers, …).
    pub conflicts: Vec<Conflict>,
    /// Every rejected row, by file (mapping order) and line; kept on disk when many.
    pub rejected: Rejections,
    /// With a policy: members whose replay does not reproduce the source.
    pub replay_mismatches: Vec<Mismatch>,
    /// No rejected row, no conflict, totals in = out (and replayed, with a policy).
    pub clean: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileCount {
    pub file: String,
    pub kind: &'static str,
    pub delimiter: String,
    pub rows: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Walk-in sales skipped (`rows = accepted + rejected + skipped`).
    pub skipped: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    /// Members created from customer rows.
    pub members_in: u64,
    pub members_out: u64,
    /// Σ points of accepted balance rows / of `opening_balance` events written / replayed.
    pub opening_points_in: i64,
    pub opening_points_out: i64,
    pub opening_points_replayed: Option<i64>,
    /// Per tier: accepted tier rows / `set_tier` events written / members replayed at that tier.
    pub tiers: Vec<TierCount>,
    pub purchases_out: u64,
    pub refunds_out: u64,
    pub transaction_rows_in: u64,
    pub transaction_rows_out: u64,
    /// `opening_points_in == opening_points_out` and tiers in = out (and = replayed).
    pub balanced: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct TierCount {
    pub tier: String,
    pub rows_in: u64,
    pub members_out: u64,
    pub members_replayed: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub file: String,
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
}

/// The rejected rows of a report, sorted by file and line through the external sorter (so a
/// mapping that rejects all 20 M rows does not hold them in memory). They are read once: by
/// serializing the report, or by [`Rejections::take`].
#[derive(Default)]
pub struct Rejections {
    pub(super) merged: RefCell<Option<sort::Merged>>,
    pub(super) files: Vec<String>,
}

impl std::fmt::Debug for Rejections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rejections")
    }
}

impl Rejections {
    /// The next rejected row (file then line order), `None` after the last.
    pub fn next_rejected(&self) -> Result<Option<Rejected>, ImportError> {
        Ok(self.next()?)
    }

    fn next(&self) -> io::Result<Option<Rejected>> {
        let mut m = self.merged.borrow_mut();
        let Some(m) = m.as_mut() else {
            return Ok(None);
        };
        let Some((k, v)) = m.next_item()? else {
            return Ok(None);
        };
        let file = k
            .first_chunk::<4>()
            .map_or(usize::MAX, |b| u32::from_be_bytes(*b) as usize);
        let line = k
            .get(4..12)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, u64::from_be_bytes);
        let mut f = decode_fields(&v).into_iter();
        let has_column = f.next().unwrap_or_default() == "1";
        let column = f.next().filter(|_| has_column);
        Ok(Some(Rejected {
            file: self.files.get(file).cloned().unwrap_or_default(),
            line,
            column,
            reason: f.next().unwrap_or_default(),
        }))
    }

    /// Every rejected row not read yet, in file then line order.
    pub fn take(&self) -> Result<Vec<Rejected>, ImportError> {
        let mut out = Vec::new();
        while let Some(r) = self.next()? {
            out.push(r);
        }
        Ok(out)
    }
}

impl Serialize for Rejections {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq};
        let mut seq = s.serialize_seq(None)?;
        while let Some(r) = self.next().map_err(S::Error::custom)? {
            seq.serialize_element(&r)?;
        }
        seq.end()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Conflict {
    pub file: String,
    pub line: u64,
    pub reason: String,
    pub members: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Mismatch {
    pub member_id: String,
    pub field: &'static str,
    pub source: String,
    pub replayed: String,
}
