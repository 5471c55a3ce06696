//! Policy versions (SPEC §3.1): a ledger kept over years replays each part of its history under
//! the policy that applied to it.
//!
//! A replay runs under one or more published versions in ascending `effective_at`; the first
//! applies from the beginning (its `effective_at` may be null, and is not consulted). The
//! version *in force* at an instant is the last with `effective_at` ≤ it. A single `policy` is
//! one version from the beginning, so every request without `policies` replays as before.
//!
//! Why borrowed: an [`crate::Engine`] replays under its own policy many times, and a simulation
//! replays millions of members under one policy; [`Versions::One`] lends that policy without a
//! copy or an allocation.

use crate::error::{Error, ErrorCode, Quoted};
use crate::policy::Policy;
use crate::time::Instant;

/// One published version: the policy, its digest, and the instant it takes effect from.
#[derive(Clone, Copy, Debug)]
pub struct Version<'p> {
    /// None: from the beginning (only the first version).
    pub effective_at: Option<Instant>,
    pub policy: &'p Policy,
    /// `"sha256:<hex>"` of the canonical policy: what a purchase's `policy_digest` names.
    pub digest: &'p str,
}

/// The versions a replay runs under, in ascending `effective_at` (never empty).
#[derive(Clone, Copy, Debug)]
pub enum Versions<'p> {
    /// One policy from the beginning (a request with `policy`, and every simulation).
    One(Version<'p>),
    /// A request's `policies` (checked by [`PolicyVersions::new`]): the first version, and all.
    Many(Version<'p>, &'p [Version<'p>]),
}

impl<'p> Versions<'p> {
    /// One policy from the beginning.
    pub fn single(policy: &'p Policy, digest: &'p str) -> Versions<'p> {
        Versions::One(Version {
            effective_at: None,
            policy,
            digest,
        })
    }

    /// The versions of `list` (None when it is empty).
    pub fn many(list: &'p [Version<'p>]) -> Option<Versions<'p>> {
        match list {
            [one] => Some(Versions::One(*one)),
            _ => list.first().map(|first| Versions::Many(*first, list)),
        }
    }

    pub fn list(&self) -> &[Version<'p>] {
        match self {
            Versions::One(v) => std::slice::from_ref(v),
            Versions::Many(_, vs) => vs,
        }
    }

    pub fn len(&self) -> usize {
        self.list().len()
    }

    /// Never true (a list of versions has a first); for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.list().is_empty()
    }

    /// The first version (its currency, time zone and level ids are every version's).
    pub fn first(&self) -> Version<'p> {
        match self {
            Versions::One(v) | Versions::Many(v, _) => *v,
        }
    }

    /// The index of the version in force at `t`: the last with `effective_at` ≤ `t`, the first
    /// before any.
    pub fn index_at(&self, t: Instant) -> usize {
        match self {
            Versions::One(_) => 0,
            Versions::Many(_, vs) => vs
                .iter()
                .skip(1)
                .take_while(|v| v.effective_at.is_some_and(|e| e <= t))
                .count(),
        }
    }

    /// The version at `index` (the first when out of range, which the ledger never asks).
    pub fn get(&self, index: usize) -> Version<'p> {
        match self {
            Versions::One(v) => *v,
            Versions::Many(first, vs) => vs.get(index).copied().unwrap_or(*first),
        }
    }

    /// The first instant after `t` at which another version takes effect.
    pub fn next_switch_after(&self, t: Instant) -> Option<Instant> {
        match self {
            Versions::One(_) => None,
            Versions::Many(_, vs) => vs
                .iter()
                .skip(1)
                .filter_map(|v| v.effective_at)
                .find(|e| *e > t),
        }
    }

    /// The index of the version whose digest is `digest` (the first such: equal digests are
    /// the same policy).
    pub fn by_digest(&self, digest: &str) -> Option<usize> {
        self.list().iter().position(|v| v.digest == digest)
    }
}

/// Owned versions parsed from a request's `policies` (see `api`): the policies and their digests.
#[derive(Clone, Debug)]
pub struct PolicyVersions {
    pub policies: Vec<(Option<Instant>, Policy, String)>,
}

impl PolicyVersions {
    /// Checks the list (SPEC §3.1) and keeps it: ascending `effective_at` (only the first may be
    /// null) — `invalid_request` at `policies[i].effective_at`; the same `currency`, `time_zone`
    /// and level ids as the first version — `invalid_policy` at `policies[i].policy.<field>`.
    /// An empty list is `invalid_request` at `policies`.
    pub fn new(policies: Vec<(Option<Instant>, Policy, String)>) -> Result<PolicyVersions, Error> {
        if policies.is_empty() {
            return Err(Error::invalid_request(
                "policies",
                "policies must list at least one version",
            ));
        }
        for i in 1..policies.len() {
            check_version(&policies, i)?;
        }
        Ok(PolicyVersions { policies })
    }

    /// The borrowed versions a replay runs under.
    pub fn versions(&self) -> Vec<Version<'_>> {
        self.policies
            .iter()
            .map(|(at, policy, digest)| Version {
                effective_at: *at,
                policy,
                digest,
            })
            .collect()
    }
}

/// Checks version `i` (> 0) against the ones before it.
fn check_version(policies: &[(Option<Instant>, Policy, String)], i: usize) -> Result<(), Error> {
    let (Some((_, first, _)), Some((prev, _, _)), Some((at, p, _))) = (
        policies.first(),
        i.checked_sub(1).and_then(|j| policies.get(j)),
        policies.get(i),
    ) else {
        return Ok(());
    };
    let Some(at) = at else {
        return Err(Error::invalid_request(
            format!("policies[{i}].effective_at"),
            "only the first version may have a null effective_at",
        ));
    };
    if prev.is_some_and(|prev| *at <= prev) {
        return Err(Error::invalid_request(
            format!("policies[{i}].effective_at"),
            "versions must be listed in strictly ascending effective_at",
        ));
    }
    let path = |field: &str| format!("policies[{i}].policy.{field}");
    let disagree = |field: &str, what: &str| {
        Err(Error::new(
            ErrorCode::InvalidPolicy,
            path(field),
            format!("every policy version must have the {what} of the first"),
        ))
    };
    if p.currency.code != first.currency.code {
        return disagree("currency", "currency");
    }
    if p.currency.minor_units != first.currency.minor_units {
        return disagree("minor_units", "minor units");
    }
    if p.time_zone.name() != first.time_zone.name() {
        return disagree("time_zone", "time zone");
    }
    let levels = &p.tiers.levels;
    let firsts = &first.tiers.levels;
    for (j, l) in levels.iter().enumerate() {
        if firsts.get(j).is_none_or(|f| f.id != l.id) {
            return disagree(
                &format!("tiers.levels[{j}].id"),
                "tier level ids (in order)",
            );
        }
    }
    if levels.len() != firsts.len() {
        return disagree("tiers.levels", "tier level ids (in order)");
    }
    Ok(())
}

/// Reads a request's `policies` value (JSON text): `[{ "effective_at", "policy" }, …]`, each
/// policy validated (`invalid_policy` at `policies[i].policy.…`) and the list checked by
/// [`PolicyVersions::new`]. `effective_at` is an RFC 3339 instant; it may be null or left out
/// only in the first version (which applies from the beginning whatever it says). Shape faults
/// are `invalid_request` at their path under `policies`.
pub fn policies_from_json(text: &str) -> Result<PolicyVersions, Error> {
    use crate::json::read::{
        duplicate_field, invalid_type, read_with, required, unknown_field, FromJson, Token,
    };
    const FIELDS: &[&str] = &["effective_at", "policy"];
    let items: Vec<(Option<String>, &str)> = read_with(text, |p| {
        match p.token()? {
            Token::ArrayStart => {}
            other => return Err(invalid_type(&other, "a list of policy versions")),
        }
        let mut out = Vec::new();
        p.array_items(|p, _| {
            let mut at: Option<Option<String>> = None;
            let mut policy: Option<&str> = None;
            p.object("struct PolicyVersion", |p, key| match key {
                "effective_at" if at.is_none() => {
                    at = Some(Option::<String>::read(p)?);
                    Ok(())
                }
                "policy" if policy.is_none() => {
                    policy = Some(p.raw_value()?);
                    Ok(())
                }
                "effective_at" | "policy" => Err(duplicate_field(key)),
                other => Err(unknown_field(other, FIELDS)),
            })?;
            out.push((at.flatten(), required(policy, "policy")?));
            Ok(())
        })?;
        Ok(out)
    })
    .map_err(|f| {
        Error::new(ErrorCode::InvalidRequest, f.path(), f.into_message()).within("policies")
    })?;
    if items.is_empty() {
        return Err(Error::invalid_request(
            "policies",
            "policies must list at least one version",
        ));
    }
    // Each version in document order: its effective_at, its policy, then how it agrees with
    // the ones before it.
    let mut policies = Vec::with_capacity(items.len());
    for (i, (at, text)) in items.into_iter().enumerate() {
        let at = match at {
            None => None,
            Some(s) => Some(Instant::parse_rfc3339(&s).map_err(|err| {
                Error::invalid_request(
                    format!("policies[{i}].effective_at"),
                    format!("{}: {err}", Quoted(&s)),
                )
            })?),
        };
        let policy =
            Policy::from_json(text).map_err(|e| e.within(&format!("policies[{i}].policy")))?;
        let digest = policy.digest()?;
        policies.push((at, policy, digest));
        check_version(&policies, i)?;
    }
    Ok(PolicyVersions { policies })
}

impl PolicyVersions {
    /// Replays a member's history under these versions (SPEC §3, §3.1).
    pub fn replay(&self, req: &super::ReplayRequest) -> Result<super::ReplayResponse, Error> {
        let list = self.versions();
        let versions = Versions::many(&list).ok_or_else(empty)?;
        super::replay_versions(versions, req)
    }

    /// A replay request's JSON text without `op` and `policy`/`policies` (`{"member", "events",
    /// "as_of"}`) answered under these versions: the bytes `api::eval_line` answers for the same
    /// request with these versions in it, without reading and hashing the policies again (a
    /// server replays a member under the same published versions at every booking).
    pub fn replay_json(&self, request_json: &str) -> String {
        crate::engine::respond(
            crate::json::parse::<super::ReplayRequest>(request_json, ErrorCode::InvalidRequest)
                .and_then(|r| self.replay(&r)),
        )
    }

    /// [`PolicyVersions::replay_json`] for a progress answer (SPEC §4).
    pub fn progress_json(&self, request_json: &str) -> String {
        crate::progress::respond(
            crate::json::parse::<super::ReplayRequest>(request_json, ErrorCode::InvalidRequest)
                .and_then(|r| self.progress(&r)),
        )
    }

    /// What a storefront widget shows (SPEC §4) under these versions.
    pub fn progress(
        &self,
        req: &super::ReplayRequest,
    ) -> Result<crate::progress::ProgressResponse, Error> {
        let list = self.versions();
        let versions = Versions::many(&list).ok_or_else(empty)?;
        crate::progress::progress_versions(versions, req)
    }
}

fn empty() -> Error {
    Error::invalid_request("policies", "policies must list at least one version")
}
