//! Assembling members: the sorted records merged k-way, each member's records turned into one
//! `{"member":…,"events":[…]}` line (history, then the cutover's `opening_balance`, `set_tier`
//! and `status`), replayed against the policy when there is one, and the report's totals.

use super::mapping::Role;
use super::orders::{order_events, OrderFaults};
use super::record::{key_parts, seq_parts, CLASS_BALANCE, CLASS_CUSTOMER, CLASS_TIER};
use super::report::{Mismatch, Rejections, Report, TierCount};
use super::sort::{decode_fields, Sorter};
use super::{status_of, Ctx, ImportError, ImportedMember, MemberSink, Options};
use crate::engine::Engine;
use crate::ledger::ReplayRequest;
use crate::money::Currency;
use crate::simulate::MemberHistory;
use crate::time::{Instant, Zone};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;

// ---- Output lines -------------------------------------------------------------------------

#[derive(Serialize)]
pub(super) struct OutLine {
    pub(super) member: OutMember,
    pub(super) events: Vec<OutEvent>,
}

#[derive(Serialize)]
pub(super) struct OutMember {
    pub(super) id: String,
    pub(super) status: &'static str,
    pub(super) joined_at: String,
}

#[derive(Serialize, Default)]
pub(super) struct OutEvent {
    pub(super) id: String,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cart: Option<OutCart>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) earn: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) lines: Option<Vec<OutRefundLine>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) points: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) locked_until: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) status: Option<&'static str>,
}

#[derive(Serialize)]
pub(super) struct OutCart {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) store: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) channel: Option<String>,
    pub(super) lines: Vec<OutLineItem>,
}

#[derive(Serialize)]
pub(super) struct OutLineItem {
    pub(super) id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) category: Option<String>,
    pub(super) quantity: i64,
    pub(super) unit_price: String,
}

#[derive(Serialize)]
pub(super) struct OutRefundLine {
    pub(super) line_id: String,
    pub(super) quantity: i64,
}

/// One member's records as they come out of the sort.
#[derive(Default)]
pub(super) struct Group {
    /// The member number (the identity index's).
    pub(super) member: u32,
    pub(super) customers: Vec<Vec<String>>,
    pub(super) balances: Vec<(u64, Vec<String>)>,
    pub(super) tiers: Vec<(u64, Vec<String>)>,
    pub(super) tx: Vec<(i64, u64, Vec<String>)>,
}

pub(super) struct Merge<'a> {
    pub(super) zone: Zone,
    pub(super) cutover: Instant,
    pub(super) earn: bool,
    pub(super) currency: Option<Currency>,
    pub(super) engine: Option<&'a Engine>,
    pub(super) faults: &'a OrderFaults,
    pub(super) tiers_out: BTreeMap<String, u64>,
    pub(super) tiers_replayed: BTreeMap<String, u64>,
    pub(super) points_replayed: i64,
    pub(super) tx_rows_out: u64,
    pub(super) tx_rows_rejected: u64,
}

pub(super) fn merge(
    mut ctx: Ctx,
    opts: &Options,
    faults: &OrderFaults,
    out: &mut dyn MemberSink,
) -> Result<Report, ImportError> {
    let sorter = std::mem::replace(
        &mut ctx.members,
        Sorter::new(std::env::temp_dir(), "unused", 0),
    );
    let mut merged = sorter.finish()?;
    out.merging(ctx.report.totals.members_in)?;
    let mut mg = Merge {
        zone: ctx.zone,
        cutover: ctx.cutover,
        earn: ctx.mapping.earn,
        currency: ctx.currency.clone(),
        engine: opts.policy.as_ref(),
        faults,
        tiers_out: BTreeMap::new(),
        tiers_replayed: BTreeMap::new(),
        points_replayed: 0,
        tx_rows_out: 0,
        tx_rows_rejected: 0,
    };
    let mut current: Option<u32> = None;
    let mut group = Group::default();
    loop {
        let item = merged.next_item()?;
        let parts = item.as_ref().and_then(|(k, _)| key_parts(k));
        let member = parts.map(|p| p.0);
        if current.is_some() && member != current {
            let g = std::mem::take(&mut group);
            write_member(&mut ctx, &mut mg, g, out)?;
        }
        let (Some((_, v)), Some((m, class, at, seq))) = (item, parts) else {
            break;
        };
        current = Some(m);
        group.member = m;
        let f = decode_fields(&v);
        match class {
            CLASS_CUSTOMER => group.customers.push(f),
            CLASS_BALANCE => group.balances.push((seq, f)),
            CLASS_TIER => group.tiers.push((seq, f)),
            _ => group.tx.push((at, seq, f)),
        }
    }
    drop(merged);
    ctx.check_io()?;
    // Rejections in file (mapping) order, then line order, whichever pass found them. Their
    // sorter is finished before the folder is removed: a run it is still writing on its
    // thread (or its last one) goes into that folder.
    let rejects = std::mem::replace(
        &mut ctx.rejects,
        Sorter::new(std::env::temp_dir(), "unused", 0),
    );
    let rejected = rejects.finish()?;
    let _ = std::fs::remove_dir(&opts.temp_dir);
    let mut report = ctx.report;
    report.rejected = Rejections {
        merged: RefCell::new(Some(rejected)),
        files: ctx.file_names.clone(),
    };
    let t = &mut report.totals;
    t.members_out = report.members_written;
    t.transaction_rows_in = ctx.transaction_rows_in;
    t.transaction_rows_out = mg.tx_rows_out;
    let mut names: Vec<String> = Vec::new();
    if let Some(e) = &opts.policy {
        names.extend(e.policy().tiers.levels.iter().map(|l| l.id.clone()));
    } else if let Some(list) = &ctx.mapping.tiers {
        names.extend(list.iter().cloned());
    }
    for n in ctx.tier_rows_in.keys().chain(mg.tiers_out.keys()) {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    t.opening_points_replayed = opts.policy.as_ref().map(|_| mg.points_replayed);
    let mut tiers_ok = true;
    for n in names {
        let tc = TierCount {
            rows_in: ctx.tier_rows_in.get(&n).copied().unwrap_or(0),
            members_out: mg.tiers_out.get(&n).copied().unwrap_or(0),
            members_replayed: opts
                .policy
                .as_ref()
                .map(|_| mg.tiers_replayed.get(&n).copied().unwrap_or(0)),
            tier: n,
        };
        // Replayed counts every member (untiered ones at the lowest level): compare the
        // members that had a source tier through `replay_mismatches` instead.
        tiers_ok &= tc.rows_in == tc.members_out;
        t.tiers.push(tc);
    }
    t.balanced = t.opening_points_in == t.opening_points_out
        && tiers_ok
        && t.opening_points_replayed
            .is_none_or(|r| r == t.opening_points_in)
        && t.transaction_rows_in == t.transaction_rows_out + mg.tx_rows_rejected;
    report.clean = report.rows_rejected == 0
        && report.conflicts.is_empty()
        && report.replay_mismatches.is_empty()
        && report.totals.balanced;
    Ok(report)
}

/// A row accepted when read, rejected when its member is assembled.
pub(super) fn reject_at_merge(ctx: &mut Ctx, seq: u64, col: Option<Role>, reason: String) {
    let (file, line) = seq_parts(seq);
    let header = col.and_then(|r| {
        ctx.mapping
            .files
            .get(file)
            .and_then(|f| f.columns.roles().into_iter().find(|x| x.0 == r))
            .map(|x| x.1.to_string())
    });
    ctx.reject(file, line, header.as_deref(), reason);
    if let Some(f) = ctx.report.files.get_mut(file) {
        f.accepted = f.accepted.saturating_sub(1);
    }
}

pub(super) fn parse_secs(s: &str) -> Option<Instant> {
    s.parse::<i64>()
        .ok()
        .and_then(|v| Instant::from_unix(v, 0).ok())
}

pub(super) fn write_member(
    ctx: &mut Ctx,
    mg: &mut Merge,
    mut g: Group,
    out: &mut dyn MemberSink,
) -> Result<(), ImportError> {
    let zone = mg.zone;
    let fmt = |secs: i64| {
        Instant::from_unix(secs, 0)
            .map(|i| zone.format(i))
            .unwrap_or_default()
    };
    // Identity and status.
    let mut label = g
        .customers
        .iter()
        .filter_map(|f| f.first())
        .min_by_key(|l| l.as_bytes().first().copied())
        .cloned()
        .unwrap_or_default();
    if !label.is_empty() {
        label.remove(0);
    }
    let mut status: Option<&'static str> = None;
    let mut unassigned = false;
    let mut joined = mg.cutover.unix_seconds();
    for f in &g.customers {
        match f.get(1).map(String::as_str) {
            Some("unassigned") => unassigned = true,
            Some(s) if !s.is_empty() && status.is_none() => status = status_of(s),
            _ => {}
        }
        if let Some(j) = f.get(2).and_then(|s| s.parse::<i64>().ok()) {
            joined = joined.min(j);
        }
    }
    let status = status.unwrap_or(if unassigned { "unassigned" } else { "active" });
    // Contact data for a database loader: the member's cards and the first phone that is its
    // own (a phone shared by several customers, listed in `conflicts`, is nobody's), and the
    // first name.
    let idn = &ctx.identity;
    let mut cards: Vec<String> = Vec::new();
    let mut phone: Option<String> = None;
    let mut name: Option<String> = None;
    for f in &g.customers {
        if let Some(c) = f.get(3).filter(|c| !c.is_empty()) {
            if idn.cards.get(c.as_str()) == Some(&g.member) && !cards.contains(c) {
                cards.push(c.clone());
            }
        }
        if let Some(p) = f.get(4).filter(|p| !p.is_empty()) {
            if phone.is_none() && idn.phones.get(p.as_str()) == Some(&g.member) {
                phone = Some(p.clone());
            }
        }
        if let Some(n) = f.get(5).filter(|n| !n.is_empty()) {
            name.get_or_insert_with(|| n.clone());
        }
    }

    // Transactions: purchases and refunds, rejected lines.
    let (mut events, mut rejects) = order_events(mg, std::mem::take(&mut g.tx), &fmt);
    events.sort_by_key(|e| (e.0, e.1));
    let purchases_n = events.iter().filter(|e| e.2.kind == "purchase").count() as u64;
    let refunds_n = events.len() as u64 - purchases_n;
    if let Some((first, _, _)) = events.first() {
        joined = joined.min(*first);
    }
    // The cutover: balances, tier, status.
    let cut = mg.cutover.unix_seconds();
    let cut_s = zone.format(mg.cutover);
    let mut opening = 0i64;
    let mut lots = 0;
    for (seq, f) in &g.balances {
        let points: i64 = f.first().and_then(|p| p.parse().ok()).unwrap_or(0);
        if points == 0 {
            continue;
        }
        if opening.saturating_add(points) > crate::money::MAX_POINTS {
            let t = &mut ctx.report.totals;
            t.opening_points_in = t.opening_points_in.saturating_sub(points);
            reject_at_merge(
                ctx,
                *seq,
                Some(Role::Points),
                format!(
                    "the member's balances would add up to more than {} points",
                    crate::money::MAX_POINTS
                ),
            );
            continue;
        }
        opening += points;
        lots += 1;
        events.push((
            cut,
            u64::MAX,
            OutEvent {
                id: format!("import:opening:{lots}"),
                kind: "opening_balance",
                at: cut_s.clone(),
                points: Some(points),
                expires_at: f.get(1).and_then(|s| parse_secs(s)).map(|i| zone.format(i)),
                ..OutEvent::default()
            },
        ));
    }
    let tier = g.tiers.last().map(|(_, f)| {
        (
            f.first().cloned().unwrap_or_default(),
            f.get(1).and_then(|s| parse_secs(s)),
        )
    });
    if let Some((t, locked)) = &tier {
        events.push((
            cut,
            u64::MAX,
            OutEvent {
                id: "import:tier".into(),
                kind: "set_tier",
                at: cut_s.clone(),
                tier: Some(t.clone()),
                locked_until: locked.map(|i| zone.format(i)),
                ..OutEvent::default()
            },
        ));
    }
    if status != "active" {
        events.push((
            cut,
            u64::MAX,
            OutEvent {
                id: "import:status".into(),
                kind: "status",
                at: cut_s.clone(),
                status: Some(status),
                ..OutEvent::default()
            },
        ));
    }
    if events.len() > crate::ledger::request::MAX_EVENTS {
        // Written, but the engine will not replay it: the merchant has to decide (merge
        // old receipts into fewer orders, or leave history out).
        ctx.report.replay_mismatches.push(Mismatch {
            member_id: label.clone(),
            field: "events",
            source: events.len().to_string(),
            replayed: format!(
                "more than {} events: the engine replays at most that many per member",
                crate::ledger::request::MAX_EVENTS
            ),
        });
    }
    let line = OutLine {
        member: OutMember {
            id: label.clone(),
            status: "active",
            joined_at: fmt(joined),
        },
        events: events.into_iter().map(|e| e.2).collect(),
    };
    let text = serde_json::to_string(&line)
        .map_err(|e| ImportError(format!("cannot write member {label}: {e}")))?;
    // Rejections found at the merge, in row order.
    rejects.sort_by_key(|r| r.0);
    mg.tx_rows_rejected += rejects.len() as u64;
    for (seq, col, reason) in rejects {
        reject_at_merge(ctx, seq, col, reason);
    }
    // With a policy: the line must replay, and reproduce the source balance and tier.
    if let Some(engine) = mg.engine {
        let h: Result<MemberHistory, _> = serde_json::from_str(&text);
        let res = h.map_err(|e| e.to_string()).and_then(|h| {
            engine
                .replay(&ReplayRequest {
                    member: h.member,
                    events: h.events,
                    as_of: cut_s.clone(),
                })
                .map_err(|e| format!("{}: {} at {}", e.code.as_str(), e.message, e.path))
        });
        match res {
            Ok(r) => {
                let have = r.points.available + r.points.pending;
                mg.points_replayed = mg.points_replayed.saturating_add(have);
                *mg.tiers_replayed.entry(r.tier.id.clone()).or_default() += 1;
                if have != opening {
                    ctx.report.replay_mismatches.push(Mismatch {
                        member_id: label.clone(),
                        field: "points",
                        source: opening.to_string(),
                        replayed: have.to_string(),
                    });
                }
                if let Some((t, _)) = &tier {
                    if *t != r.tier.id {
                        ctx.report.replay_mismatches.push(Mismatch {
                            member_id: label.clone(),
                            field: "tier",
                            source: t.clone(),
                            replayed: r.tier.id.clone(),
                        });
                    }
                }
            }
            Err(e) => {
                ctx.report.replay_mismatches.push(Mismatch {
                    member_id: label.clone(),
                    field: "replay",
                    source: String::new(),
                    replayed: e,
                });
            }
        }
    }
    out.member(&ImportedMember {
        id: &label,
        json: &text,
        status,
        opening_points: opening,
        tier: tier.as_ref().map(|t| t.0.as_str()),
        purchases: purchases_n,
        refunds: refunds_n,
        phone: phone.as_deref(),
        cards: &cards,
        name: name.as_deref(),
    })?;
    ctx.report.members_written += 1;
    let t = &mut ctx.report.totals;
    t.opening_points_out = t.opening_points_out.saturating_add(opening);
    ctx.report.totals.purchases_out += purchases_n;
    ctx.report.totals.refunds_out += refunds_n;
    if let Some((t, _)) = &tier {
        *mg.tiers_out.entry(t.clone()).or_default() += 1;
    }
    Ok(())
}
