//! Orders and events: transaction rows read into records (a bad line spoils its order),
//! duplicate order ids found across members and files, and at the merge one member's rows
//! turned into `purchase` and `refund` events.

use super::identity::{keys, known_member};
use super::mapping::Role;
use super::member::{Merge, OutCart, OutEvent, OutLineItem, OutRefundLine};
use super::record::{member_key, seq_parts, CLASS_TX, RESERVED};
use super::sort::{decode_fields, encode_fields, Sorter};
use super::source::Row;
use super::{values, Ctx, ImportError};
use std::collections::{HashMap, HashSet};

/// A fault found in the order scan for a row accepted when read: (column, reason).
pub(super) type OrderFaults = HashMap<u64, (Option<Role>, String)>;

/// The key of a row in the order sorter: kind (`P` sale, `R` return document), order id, then
/// `0` for a rejected line's marker or `1` for an accepted line (markers first), then the row.
fn order_key(refund: bool, order_id: &str, marker: bool, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(order_id.len() + 14);
    k.push(if refund { b'R' } else { b'P' });
    k.extend_from_slice(&(order_id.len() as u32).to_be_bytes());
    k.extend_from_slice(order_id.as_bytes());
    k.push(if marker { 0 } else { 1 });
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// A transactions row: one line of a sale, or of a return when `refund_of` is filled.
pub(super) fn transaction_row(ctx: &mut Ctx, row: &Row) -> Result<bool, ImportError> {
    let (fi, line) = (row.fi, row.line);
    let prefix = row.fm.order_prefix.as_deref().unwrap_or("");
    let order = row.opt(Role::OrderId).map(|o| format!("{prefix}{o}"));
    let refund_of = row.opt(Role::RefundOf).map(|o| format!("{prefix}{o}"));
    let refund = refund_of.is_some();
    let seq = row.seq();
    // A bad line spoils its whole order, whatever made it bad — its identity too: a marker
    // goes to the order sorter, and the scan rejects the order's other lines (same order id,
    // same file, and the same member when this line's member is known).
    let spoil = |ctx: &mut Ctx, member: Option<u32>| -> Result<bool, ImportError> {
        if let Some(o) = &order {
            let where_ = format!(
                "{}:{line}",
                ctx.file_names.get(fi).map(String::as_str).unwrap_or("")
            );
            let m = member.map(|m| m.to_string()).unwrap_or_default();
            ctx.orders.push(
                order_key(refund, o, true, seq),
                encode_fields(&["x", &m, &fi.to_string(), &where_]),
            )?;
        }
        Ok(false)
    };
    let k = match keys(ctx, row) {
        Ok(k) => k,
        Err((r, e)) => {
            ctx.reject(fi, line, row.col(r), e);
            return spoil(ctx, None);
        }
    };
    let Some(member) = known_member(ctx, row, &k) else {
        return spoil(ctx, None);
    };
    let fail = |ctx: &mut Ctx, r: Option<Role>, reason: String| -> Result<bool, ImportError> {
        let col = r.and_then(|r| row.col(r));
        ctx.reject(fi, line, col, reason);
        spoil(ctx, Some(member))
    };
    let Some(order_id) = order.clone() else {
        return fail(ctx, Some(Role::OrderId), "no order id".into());
    };
    if RESERVED.iter().any(|r| order_id.starts_with(r)) {
        return fail(
            ctx,
            Some(Role::OrderId),
            format!("order id {order_id:?} starts with a prefix the importer reserves"),
        );
    }
    let at = match values::time(
        row.get(Role::Time),
        ctx.zone,
        row.fm.time_format.as_deref(),
        row.fm.date_format.as_deref(),
        false,
    ) {
        Ok(t) => t,
        Err(e) => return fail(ctx, Some(Role::Time), e),
    };
    if at > ctx.cutover {
        return fail(
            ctx,
            Some(Role::Time),
            format!("{} is after the cutover", row.get(Role::Time)),
        );
    }
    // Return rows may write their quantity and amount negative (KiotViet): the sign is the
    // row's kind, already known from `refund_of`.
    let quantity = match row.opt(Role::Quantity) {
        None => 1,
        Some(q) => match values::integer(q, row.decimal_comma(Role::Quantity)) {
            Ok(q) if (1..=1_000_000).contains(&q) => q,
            Ok(q) if refund && (-1_000_000..=-1).contains(&q) => -q,
            Ok(q) => {
                return fail(
                    ctx,
                    Some(Role::Quantity),
                    format!("quantity {q} is not from 1 to 1000000"),
                )
            }
            Err(e) => return fail(ctx, Some(Role::Quantity), e),
        },
    };
    let Some(currency) = ctx.currency.clone() else {
        return fail(ctx, None, "no currency".into());
    };
    // Unit prices in minor units: (units, price) pairs; a line total that does not divide by
    // the quantity is split into two lines of adjacent prices with the exact total.
    let mut prices = String::new();
    if !refund || row.opt(Role::Amount).is_some() || row.opt(Role::UnitPrice).is_some() {
        let (role, raw) = if let Some(u) = row.opt(Role::UnitPrice) {
            (Role::UnitPrice, u)
        } else {
            (Role::Amount, row.get(Role::Amount))
        };
        let minor = match values::money(raw, row.decimal_comma(role), &currency, refund) {
            Ok(m) => m,
            Err(e) => return fail(ctx, Some(role), e),
        };
        let (base, rest) = if role == Role::UnitPrice {
            (minor, 0)
        } else {
            (minor / quantity, minor % quantity)
        };
        if base.checked_mul(quantity).is_none() {
            return fail(ctx, Some(role), format!("amount {raw:?} is out of range"));
        }
        prices = if rest == 0 {
            format!("{quantity}x{base}")
        } else {
            format!("{}x{base},{rest}x{}", quantity - rest, base + 1)
        };
    }
    let kind = if refund { "r" } else { "p" };
    ctx.members.push(
        member_key(member, CLASS_TX, Some(at), seq),
        encode_fields(&[
            kind,
            &order_id,
            refund_of.as_deref().unwrap_or(""),
            row.get(Role::Sku),
            row.get(Role::Category),
            &quantity.to_string(),
            &prices,
            row.get(Role::Store),
            row.get(Role::Channel),
        ]),
    )?;
    ctx.orders.push(
        order_key(refund, &order_id, false, seq),
        encode_fields(&[
            "a",
            &member.to_string(),
            &fi.to_string(),
            &at.unix_seconds().to_string(),
        ]),
    )?;
    ctx.transaction_rows_in += 1;
    Ok(true)
}

/// One sorted scan of the order ids: the accepted rows (by sequence number) to reject at the
/// merge — lines of an order with a rejected line, and rows that repeat an order id already
/// used by another member, another file or another time — with their column and reason.
pub(super) fn order_faults(ctx: &mut Ctx) -> Result<OrderFaults, ImportError> {
    let sorter = std::mem::replace(
        &mut ctx.orders,
        Sorter::new(std::env::temp_dir(), "unused", 0),
    );
    let mut merged = sorter.finish()?;
    let mut faults = HashMap::new();
    let mut group: Vec<u8> = Vec::new();
    // The group's rejected lines: (member or "", file, where), one per member and file.
    let mut markers: Vec<(String, String, String)> = Vec::new();
    // The group's first accepted row: (member, file, time) and its row.
    let mut first: Option<(Vec<String>, u64)> = None;
    while let Some((k, v)) = merged.next_item()? {
        let split = k.len().saturating_sub(9);
        let (id, tail) = k.split_at(split);
        let Some((flag, seq)) = tail.split_first() else {
            continue;
        };
        let seq = seq.try_into().map(u64::from_be_bytes).unwrap_or_default();
        if id != group.as_slice() {
            group = id.to_vec();
            markers.clear();
            first = None;
        }
        let mut fields = decode_fields(&v).into_iter().skip(1);
        let member = fields.next().unwrap_or_default();
        let file = fields.next().unwrap_or_default();
        let third = fields.next().unwrap_or_default();
        if *flag == 0 {
            if !markers.iter().any(|m| m.0 == member && m.1 == file) {
                markers.push((member, file, third));
            }
            continue;
        }
        let order = || String::from_utf8_lossy(id.get(5..).unwrap_or_default()).into_owned();
        let spoiled = markers
            .iter()
            .find(|m| m.1 == file && (m.0.is_empty() || m.0 == member));
        let key = vec![member, file, third];
        if let Some((_, _, where_)) = spoiled {
            faults.insert(
                seq,
                (
                    None,
                    format!("order {:?} has a rejected line ({where_})", order()),
                ),
            );
        } else if let Some((ff, fseq)) = &first {
            if *ff != key {
                let (file, line) = seq_parts(*fseq);
                let name = ctx.file_names.get(file).cloned().unwrap_or_default();
                faults.insert(
                    seq,
                    (
                        Some(Role::OrderId),
                        format!(
                            "duplicate order id {:?} (first at {name}:{line}, another customer, file or time)",
                            order()
                        ),
                    ),
                );
            }
        }
        if first.is_none() {
            first = Some((key, seq));
        }
    }
    Ok(faults)
}

/// Units and minor-unit prices of a row: `"2x1000,1x1001"`.
fn parse_prices(s: &str) -> Vec<(i64, i64)> {
    s.split(',')
        .filter_map(|p| {
            let (q, v) = p.split_once('x')?;
            Some((q.parse().ok()?, v.parse().ok()?))
        })
        .collect()
}

/// A refund being built: (at, first row, refund id, order refunded, (line, units), whole).
struct RefundOut {
    at: i64,
    seq: u64,
    id: String,
    of: String,
    lines: Vec<(String, i64)>,
    whole: bool,
}

struct Purchase {
    id: String,
    at: i64,
    /// (line id, sku, units remaining)
    lines: Vec<(String, String, i64)>,
    fully_refunded: bool,
}

/// The purchase and refund events of one member's transaction rows (in key order: time, then
/// file and line), and the rows rejected while building them: every line of an order with a
/// rejected line, duplicate order ids, refunds of unknown orders, before their order or beyond
/// what is left of it.
#[allow(clippy::type_complexity)]
pub(super) fn order_events(
    mg: &mut Merge,
    tx: Vec<(i64, u64, Vec<String>)>,
    fmt: &dyn Fn(i64) -> String,
) -> (Vec<(i64, u64, OutEvent)>, Vec<(u64, Option<Role>, String)>) {
    // Transactions: reject orders with a bad line, duplicates; build purchases, then refunds.
    let mut events: Vec<(i64, u64, OutEvent)> = Vec::new();
    let currency = mg.currency.clone();
    let mut purchases: Vec<Purchase> = Vec::new();
    let mut pindex: HashMap<String, usize> = HashMap::new();
    let mut carts: Vec<(u64, OutCart)> = Vec::new();
    let mut refund_rows: Vec<(i64, u64, Vec<String>)> = Vec::new();
    let mut rejects: Vec<(u64, Option<Role>, String)> = Vec::new();
    for (at, seq, f) in tx {
        let refund = f.first().map(String::as_str) == Some("r");
        let id = f.get(1).cloned().unwrap_or_default();
        if let Some((role, reason)) = mg.faults.get(&seq) {
            rejects.push((seq, *role, reason.clone()));
            continue;
        }
        if refund {
            refund_rows.push((at, seq, f));
            continue;
        }
        let ix = match pindex.get(&id) {
            Some(&i) => i,
            None => {
                pindex.insert(id.clone(), purchases.len());
                purchases.push(Purchase {
                    id: id.clone(),
                    at,
                    lines: Vec::new(),
                    fully_refunded: false,
                });
                let nonempty = |i: usize| f.get(i).filter(|s| !s.is_empty()).cloned();
                carts.push((
                    seq,
                    OutCart {
                        store: nonempty(7),
                        channel: nonempty(8),
                        lines: Vec::new(),
                    },
                ));
                purchases.len() - 1
            }
        };
        let (Some(p), Some((_, cart))) = (purchases.get_mut(ix), carts.get_mut(ix)) else {
            continue;
        };
        let sku = f.get(3).cloned().unwrap_or_default();
        let category = f.get(4).cloned().unwrap_or_default();
        for (units, price) in parse_prices(f.get(6).map(String::as_str).unwrap_or("")) {
            if units <= 0 {
                continue;
            }
            let lid = (cart.lines.len() + 1).to_string();
            p.lines.push((lid.clone(), sku.clone(), units));
            cart.lines.push(OutLineItem {
                id: lid,
                sku: Some(sku.clone()).filter(|s| !s.is_empty()),
                category: Some(category.clone()).filter(|s| !s.is_empty()),
                quantity: units,
                unit_price: currency
                    .as_ref()
                    .map(|c| c.format(price))
                    .unwrap_or_else(|| price.to_string()),
            });
        }
        mg.tx_rows_out += 1;
    }
    for (p, (seq, cart)) in purchases.iter().zip(carts) {
        events.push((
            p.at,
            seq,
            OutEvent {
                id: p.id.clone(),
                kind: "purchase",
                at: fmt(p.at),
                cart: Some(cart),
                earn: if mg.earn { None } else { Some(false) },
                ..OutEvent::default()
            },
        ));
    }
    // Refunds: rows grouped by (refund id, order refunded), in time order.
    let mut refunds: Vec<RefundOut> = Vec::new();
    let mut rindex: HashMap<(String, String), usize> = HashMap::new();
    for (at, seq, f) in refund_rows {
        let rid = f.get(1).cloned().unwrap_or_default();
        let of = f.get(2).cloned().unwrap_or_default();
        let Some(&pi) = pindex.get(&of) else {
            rejects.push((
                seq,
                Some(Role::RefundOf),
                format!(
                    "refund of unknown order {of:?} (not a purchase of this customer, or rejected)"
                ),
            ));
            continue;
        };
        let Some(p) = purchases.get_mut(pi) else {
            continue;
        };
        if at < p.at {
            rejects.push((
                seq,
                Some(Role::Time),
                format!("refund before its order {of:?}"),
            ));
            continue;
        }
        if p.fully_refunded {
            rejects.push((
                seq,
                None,
                format!("refund exceeds order {of:?}: nothing left to refund"),
            ));
            continue;
        }
        let sku = f.get(3).cloned().unwrap_or_default();
        let qty: i64 = f.get(5).and_then(|q| q.parse().ok()).unwrap_or(1);
        let mut take: Vec<(String, i64)> = Vec::new();
        let whole = sku.is_empty();
        if whole {
            for l in p.lines.iter_mut() {
                l.2 = 0;
            }
            p.fully_refunded = true;
        } else {
            let avail: i64 = p.lines.iter().filter(|l| l.1 == sku).map(|l| l.2).sum();
            if avail < qty {
                rejects.push((
                    seq,
                    Some(Role::Quantity),
                    format!("refund exceeds order {of:?}: {qty} of {sku:?} returned, {avail} left"),
                ));
                continue;
            }
            let mut left = qty;
            for l in p.lines.iter_mut().filter(|l| l.1 == sku) {
                let n = left.min(l.2);
                if n > 0 {
                    take.push((l.0.clone(), n));
                    l.2 -= n;
                    left -= n;
                }
            }
            if p.lines.iter().all(|l| l.2 == 0) {
                p.fully_refunded = true;
            }
        }
        mg.tx_rows_out += 1;
        let key = (rid.clone(), of.clone());
        match rindex.get(&key) {
            Some(&ri) if !rid.is_empty() => {
                if let Some(r) = refunds.get_mut(ri) {
                    r.whole |= whole;
                    for (lid, n) in take {
                        match r.lines.iter_mut().find(|x| x.0 == lid) {
                            Some(x) => x.1 += n,
                            None => r.lines.push((lid, n)),
                        }
                    }
                }
            }
            _ => {
                rindex.insert(key, refunds.len());
                refunds.push(RefundOut {
                    at,
                    seq,
                    id: rid,
                    of,
                    lines: take,
                    whole,
                });
            }
        }
    }
    let mut refund_ids: HashSet<String> = HashSet::new();
    for RefundOut {
        at,
        seq,
        id: rid,
        of,
        lines,
        whole,
    } in refunds
    {
        let mut id = if rid.is_empty() {
            format!("refund:{of}")
        } else {
            format!("refund:{rid}")
        };
        if !refund_ids.insert(id.clone()) {
            let mut n = 2;
            while refund_ids.contains(&format!("{id}:{n}")) {
                n += 1;
            }
            id = format!("{id}:{n}");
            refund_ids.insert(id.clone());
        }
        events.push((
            at,
            seq,
            OutEvent {
                id,
                kind: "refund",
                at: fmt(at),
                order_id: Some(of),
                lines: if whole {
                    None
                } else {
                    Some(
                        lines
                            .into_iter()
                            .map(|(line_id, quantity)| OutRefundLine { line_id, quantity })
                            .collect(),
                    )
                },
                ..OutEvent::default()
            },
        ));
    }
    (events, rejects)
}
