//! Identity resolution: who is who across sources. Customer rows build the index (customer id
//! → card → E.164 phone → member number); other rows look their member up in it
//! (docs/migration.md, "Identity").

use super::mapping::Role;
use super::record::AMBIGUOUS;
use super::report::Conflict;
use super::source::Row;
use super::{phone, Ctx};
use std::collections::HashMap;

/// Keys → member numbers, looked up once per row of every file (20 million at a time), with
/// foldhash's hasher instead of the standard SipHash.
type Index = HashMap<Box<str>, u32, foldhash::fast::RandomState>;

/// The identity index: normalized keys → member number.
#[derive(Default)]
pub(super) struct Identity {
    pub(super) ids: Index,
    pub(super) cards: Index,
    pub(super) phones: Index,
    /// Per member: bit n set when it holds a customer id of namespace n (an `id_prefix`).
    pub(super) namespaces: Vec<u64>,
    /// Customer id → the first id of its `links` group.
    pub(super) links: HashMap<String, String>,
}

/// The identity keys of one row, normalized.
pub(super) struct Keys {
    pub(super) id: Option<String>,
    pub(super) card: Option<String>,
    pub(super) phone: Option<String>,
}

impl Keys {
    pub(super) fn label(&self) -> String {
        if let Some(i) = &self.id {
            format!("id {i}")
        } else if let Some(c) = &self.card {
            format!("card {c}")
        } else if let Some(p) = &self.phone {
            format!("phone {p}")
        } else {
            String::from("no identity")
        }
    }
}

pub(super) enum Lookup {
    Found(u32),
    Unknown,
    Fault(Role, String),
}

impl Identity {
    pub(super) fn resolve_id(&self, id: String) -> String {
        self.links.get(&id).cloned().unwrap_or(id)
    }

    /// A non-customer row: the member its id, card or phone names (in that order). A row
    /// with a customer id is that customer's or nobody's: an id no customers file gives is
    /// `Unknown` even when the card or phone names a member (docs/migration.md: the id is the
    /// source system's key; a recycled phone or re-issued card must not take the row).
    pub(super) fn find(&self, k: &Keys) -> Lookup {
        let by = |map: &Index, v: &Option<String>| v.as_deref().and_then(|v| map.get(v).copied());
        let id = by(&self.ids, &k.id);
        if k.id.is_some() && id.is_none() {
            return Lookup::Unknown;
        }
        let found = [
            ("id", Role::CustomerId, id),
            ("card", Role::Card, by(&self.cards, &k.card)),
            ("phone", Role::Phone, by(&self.phones, &k.phone)),
        ];
        let mut chosen: Option<(&str, u32)> = None;
        for (what, role, m) in found {
            let Some(m) = m else { continue };
            if m == AMBIGUOUS {
                if chosen.is_none() {
                    return Lookup::Fault(
                        role,
                        format!("the {what} is shared by several members; give the customer id"),
                    );
                }
                continue;
            }
            match chosen {
                None => chosen = Some((what, m)),
                Some((w, c)) if c != m => {
                    return Lookup::Fault(
                        role,
                        format!("the {w} and the {what} name different members"),
                    )
                }
                _ => {}
            }
        }
        match chosen {
            Some((_, m)) => Lookup::Found(m),
            None => Lookup::Unknown,
        }
    }
}

/// The identity keys of a row, or (column, reason).
pub(super) fn keys(ctx: &Ctx, row: &Row) -> Result<Keys, (Role, String)> {
    let id = row.opt(Role::CustomerId).map(|i| {
        ctx.identity
            .resolve_id(format!("{}{i}", row.fm.id_prefix.as_deref().unwrap_or("")))
    });
    let card = row.opt(Role::Card).map(|c| {
        c.chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect::<String>()
            .to_uppercase()
    });
    let phone = match row.opt(Role::Phone) {
        None => None,
        Some(p) => Some(
            phone::normalize(p, ctx.mapping.default_country.as_deref())
                .map_err(|e| (Role::Phone, e))?,
        ),
    };
    if id.is_none() && card.is_none() && phone.is_none() {
        let role = [Role::CustomerId, Role::Card, Role::Phone]
            .into_iter()
            .find(|r| row.col(*r).is_some())
            .unwrap_or(Role::CustomerId);
        return Err((role, "no customer id, card or phone".to_string()));
    }
    Ok(Keys { id, card, phone })
}

/// The member a non-customer row belongs to, or `None` after recording why the row is rejected
/// (no customers file names it, or its keys point at different members).
pub(super) fn known_member(ctx: &mut Ctx, row: &Row, k: &Keys) -> Option<u32> {
    let (fi, line) = (row.fi, row.line);
    match ctx.identity.find(k) {
        Lookup::Found(m) => Some(m),
        Lookup::Unknown => {
            let idn = &ctx.identity;
            let other = if k.card.as_deref().is_some_and(|c| idn.cards.contains_key(c)) {
                "; its card is a known customer's, not used without a known id"
            } else if k
                .phone
                .as_deref()
                .is_some_and(|p| idn.phones.contains_key(p))
            {
                "; its phone is a known customer's, not used without a known id"
            } else {
                ""
            };
            let reason = format!(
                "unknown customer ({}): not in any customers file{other}",
                k.label()
            );
            ctx.reject(fi, line, row.id_col(), reason);
            None
        }
        Lookup::Fault(r, e) => {
            ctx.reject(fi, line, row.col(r), e);
            None
        }
    }
}

/// Finds or creates the member of a customer row: by id, then card, then phone; a match that
/// would merge two customer ids of one system, or that names two members, is not merged.
pub(super) fn place_customer(ctx: &mut Ctx, row: &Row, k: &Keys) -> Result<u32, (Role, String)> {
    let idn = &mut ctx.identity;
    let by_id = k.id.as_deref().and_then(|i| idn.ids.get(i).copied());
    let by_card = k.card.as_deref().and_then(|c| idn.cards.get(c).copied());
    let by_phone = k.phone.as_deref().and_then(|p| idn.phones.get(p).copied());
    let bit = 1u64 << row.ns_index;
    let mut shared_phone = false;
    let existing = match by_id {
        Some(m) => {
            if by_card.is_some_and(|c| c != m) {
                return Err((
                    Role::Card,
                    format!(
                        "card {} already belongs to another member; not merged",
                        k.card.as_deref().unwrap_or("")
                    ),
                ));
            }
            if by_phone.is_some_and(|p| p != m) {
                shared_phone = true;
            }
            Some(m)
        }
        None => {
            let card = by_card.filter(|c| *c != AMBIGUOUS);
            let phone = by_phone.filter(|p| *p != AMBIGUOUS);
            if let (Some(c), Some(p)) = (card, phone) {
                if c != p {
                    return Err((
                        Role::Phone,
                        "the card and the phone belong to different members; not merged".into(),
                    ));
                }
            }
            // Another customer id of the same system is another person.
            let other_id = |m: u32| {
                k.id.is_some() && idn.namespaces.get(m as usize).is_some_and(|b| b & bit != 0)
            };
            match (card, phone) {
                (Some(c), _) if other_id(c) => {
                    return Err((
                        Role::Card,
                        format!(
                            "card {} already belongs to another customer id; not merged",
                            k.card.as_deref().unwrap_or("")
                        ),
                    ));
                }
                (Some(c), _) => Some(c),
                (None, Some(p)) if other_id(p) => {
                    shared_phone = true;
                    None
                }
                (None, Some(p)) => Some(p),
                (None, None) => {
                    if by_phone == Some(AMBIGUOUS) {
                        if k.id.is_none() && k.card.is_none() {
                            return Err((
                                Role::Phone,
                                "the phone is shared by several members; give the customer id"
                                    .into(),
                            ));
                        }
                        shared_phone = true;
                    }
                    None
                }
            }
        }
    };
    let (member, created) = match existing {
        Some(m) => (m, false),
        None => {
            idn.namespaces.push(0);
            ((idn.namespaces.len() - 1) as u32, true)
        }
    };
    if let Some(b) = idn.namespaces.get_mut(member as usize) {
        if k.id.is_some() {
            *b |= bit;
        }
    }
    if let Some(i) = &k.id {
        idn.ids.entry(i.as_str().into()).or_insert(member);
    }
    if let Some(c) = &k.card {
        idn.cards.entry(c.as_str().into()).or_insert(member);
    }
    let mut conflict = None;
    if let Some(p) = &k.phone {
        if shared_phone {
            idn.phones.insert(p.as_str().into(), AMBIGUOUS);
            conflict = Some(p.clone());
        } else {
            idn.phones.entry(p.as_str().into()).or_insert(member);
        }
    }
    if let Some(p) = conflict {
        ctx.report.conflicts.push(Conflict {
            file: ctx.file_names.get(row.fi).cloned().unwrap_or_default(),
            line: row.line,
            reason: format!(
                "phone {p} is also the phone of another customer: kept as separate members; rows naming only this phone are rejected (link the ids in the mapping if they are one person)"
            ),
            members: vec![k.label()],
        });
    }
    if created {
        ctx.report.totals.members_in += 1;
    }
    Ok(member)
}
