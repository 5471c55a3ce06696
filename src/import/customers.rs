//! Customers, balances and tiers rows: their identity placed or looked up, their balance,
//! tier, status and registration cells read into records.

use super::identity::{keys, known_member, place_customer};
use super::mapping::{Kind, Role};
use super::record::{member_key, CLASS_BALANCE, CLASS_CUSTOMER, CLASS_TIER};
use super::sort::encode_fields;
use super::source::Row;
use super::{status_of, values, Ctx, ImportError};
use crate::time::Instant;

/// Reads the balance and tier cells a row may carry; `Err((column, reason))` on a bad one.
pub(super) struct Extras {
    pub(super) points: Option<(i64, Option<Instant>)>,
    pub(super) tier: Option<(String, Option<Instant>)>,
    pub(super) status: Option<&'static str>,
    pub(super) joined: Option<Instant>,
}

pub(super) fn extras(ctx: &Ctx, row: &Row) -> Result<Extras, (Role, String)> {
    let fm = row.fm;
    let t = |r: Role, end_of_day: bool| -> Result<Option<Instant>, (Role, String)> {
        row.opt(r)
            .map(|s| {
                values::time(
                    s,
                    ctx.zone,
                    fm.time_format.as_deref(),
                    fm.date_format.as_deref(),
                    end_of_day,
                )
                .map_err(|e| (r, e))
            })
            .transpose()
    };
    let points = match row.opt(Role::Points) {
        None if fm.kind == Kind::Balances => {
            return Err((Role::Points, "no points".into()));
        }
        None => None,
        Some(p) => {
            let v = values::integer(p, row.decimal_comma(Role::Points))
                .map_err(|e| (Role::Points, e))?;
            if v < 0 {
                return Err((Role::Points, format!("negative balance {v}")));
            }
            if v > crate::money::MAX_POINTS {
                return Err((Role::Points, format!("balance {v} is out of range")));
            }
            let exp = t(Role::Expiry, true)?;
            if let Some(x) = exp {
                if x <= ctx.cutover {
                    return Err((
                        Role::Expiry,
                        format!(
                            "balance expired before the cutover ({})",
                            row.get(Role::Expiry)
                        ),
                    ));
                }
            }
            Some((v, exp))
        }
    };
    let tier = match row.opt(Role::Tier) {
        None if fm.kind == Kind::Tiers => return Err((Role::Tier, "no tier".into())),
        None => None,
        Some(name) => {
            let folded = values::fold(name);
            let id = ctx.tier_names.get(&folded).cloned().unwrap_or(folded);
            if let Some(valid) = &ctx.valid_tiers {
                if !valid.contains(&id) {
                    return Err((Role::Tier, format!("unknown tier {name:?}")));
                }
            }
            Some((id, t(Role::LockedUntil, true)?))
        }
    };
    let status = match row.opt(Role::Status) {
        None => None,
        Some(s) => {
            let k = values::fold(s).to_lowercase();
            Some(
                ctx.statuses
                    .get(&k)
                    .copied()
                    .or_else(|| status_of(&k))
                    .ok_or_else(|| (Role::Status, format!("unknown status {s:?}")))?,
            )
        }
    };
    let joined = t(Role::JoinedAt, false)?;
    Ok(Extras {
        points,
        tier,
        status,
        joined,
    })
}

/// A customers, balances or tiers row.
pub(super) fn customer_row(ctx: &mut Ctx, row: &Row) -> Result<bool, ImportError> {
    let (fi, line) = (row.fi, row.line);
    let k = match keys(ctx, row) {
        Ok(k) => k,
        Err((r, e)) => {
            ctx.reject(fi, line, row.col(r), e);
            return Ok(false);
        }
    };
    let x = match extras(ctx, row) {
        Ok(x) => x,
        Err((r, e)) => {
            ctx.reject(fi, line, row.col(r), e);
            return Ok(false);
        }
    };
    let member = if row.fm.kind == Kind::Customers {
        match place_customer(ctx, row, &k) {
            Ok(m) => m,
            Err((r, e)) => {
                ctx.reject(fi, line, row.col(r), e);
                return Ok(false);
            }
        }
    } else {
        match known_member(ctx, row, &k) {
            Some(m) => m,
            None => return Ok(false),
        }
    };
    let seq = row.seq();
    if row.fm.kind == Kind::Customers {
        let label = if let Some(i) = &k.id {
            format!("0{i}")
        } else if let Some(c) = &k.card {
            format!("1card:{c}")
        } else {
            format!("2phone:{}", k.phone.as_deref().unwrap_or(""))
        };
        let joined = x
            .joined
            .map(|j| j.unix_seconds().to_string())
            .unwrap_or_default();
        // Card, phone and name ride along for a database loader (`ImportedMember`); the
        // member line does not carry them.
        ctx.members.push(
            member_key(member, CLASS_CUSTOMER, None, seq),
            encode_fields(&[
                &label,
                x.status.unwrap_or(""),
                &joined,
                k.card.as_deref().unwrap_or(""),
                k.phone.as_deref().unwrap_or(""),
                &values::fold(row.get(Role::Name)),
            ]),
        )?;
    }
    if let Some((points, exp)) = x.points {
        let t = &mut ctx.report.totals;
        t.opening_points_in = t.opening_points_in.saturating_add(points);
        let e = exp
            .map(|e| e.unix_seconds().to_string())
            .unwrap_or_default();
        ctx.members.push(
            member_key(member, CLASS_BALANCE, None, seq),
            encode_fields(&[&points.to_string(), &e]),
        )?;
    }
    if let Some((tier, locked)) = x.tier {
        *ctx.tier_rows_in.entry(tier.clone()).or_default() += 1;
        let l = locked
            .map(|e| e.unix_seconds().to_string())
            .unwrap_or_default();
        ctx.members.push(
            member_key(member, CLASS_TIER, None, seq),
            encode_fields(&[&tier, &l]),
        )?;
    }
    Ok(true)
}
