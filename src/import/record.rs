//! The records of the external sort: one per accepted row, keyed by (member, class, time,
//! file and line) so that a member's rows arrive together and in order at the merge.

use crate::time::Instant;

pub(super) const AMBIGUOUS: u32 = u32::MAX;
pub(super) const CLASS_CUSTOMER: u8 = 0;
pub(super) const CLASS_BALANCE: u8 = 1;
pub(super) const CLASS_TIER: u8 = 2;
pub(super) const CLASS_TX: u8 = 3;
/// Event ids the importer writes itself start with these; order ids may not.
pub(super) const RESERVED: [&str; 2] = ["import:", "refund:"];

pub(super) fn seq_of(file: usize, line: u64) -> u64 {
    ((file as u64) << 40) | (line & ((1 << 40) - 1))
}

pub(super) fn seq_parts(seq: u64) -> (usize, u64) {
    ((seq >> 40) as usize, seq & ((1 << 40) - 1))
}

pub(super) fn member_key(member: u32, class: u8, at: Option<Instant>, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(21);
    k.extend_from_slice(&member.to_be_bytes());
    k.push(class);
    let t = at.map_or(0, |a| (a.unix_seconds() as u64) ^ (1 << 63));
    k.extend_from_slice(&t.to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub(super) fn key_parts(k: &[u8]) -> Option<(u32, u8, i64, u64)> {
    let (m, rest) = k.split_first_chunk::<4>()?;
    let (c, rest) = rest.split_first()?;
    let (t, rest) = rest.split_first_chunk::<8>()?;
    let (s, _) = rest.split_first_chunk::<8>()?;
    let at = (u64::from_be_bytes(*t) ^ (1 << 63)) as i64;
    Some((u32::from_be_bytes(*m), *c, at, u64::from_be_bytes(*s)))
}
