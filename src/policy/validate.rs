//! From the document as written to a validated [`Policy`]: defaults filled in, every rule of
//! SPEC §1 and §7.25 checked in document order, each fault reported at its path.

use super::document::*;
use super::model::*;
use crate::error::Error;
use crate::error::Quoted;
use crate::ids::{first_repeat, Keys};
use crate::limits;
use crate::money::{builtin_minor_units, Currency, Dec, MAX_POINTS};
use crate::time::{self, Zone};

type Result<T> = std::result::Result<T, Error>;

fn err(path: &str, msg: impl crate::error::Text) -> Error {
    Error::invalid_policy(path, msg)
}

/// Validates a parsed document. Paths are relative to the policy object.
pub fn validate(doc: PolicyDocument) -> Result<Policy> {
    if doc.schema != 1 {
        return Err(err("schema", "schema must be 1"));
    }
    let currency = currency(&doc)?;
    let zone = Zone::by_name(&doc.time_zone).ok_or_else(|| {
        err(
            "time_zone",
            format!(
                "unknown time zone {}: use an IANA name such as \"Europe/Bratislava\"",
                Quoted(&doc.time_zone)
            ),
        )
    })?;
    let cx = Cx {
        currency: &currency,
        zone,
    };
    let (tiers_doc, levels_known) = match &doc.tiers {
        Some(t) => (
            Some(t),
            t.levels.iter().map(|l| l.id.clone()).collect::<Vec<_>>(),
        ),
        None => (None, vec!["member".to_string()]),
    };
    let earning = earning(&cx, doc.earning, &levels_known)?;
    let tiers = match tiers_doc {
        Some(t) => tiers(&cx, t.clone())?,
        None => default_tiers(),
    };
    let redemption = doc.redemption.map(|r| redemption(&cx, r)).transpose()?;
    let rewards = rewards(doc.rewards.unwrap_or_default(), &tiers)?;
    let expiry = expiry(doc.expiry)?;
    let expiry_notice_days =
        non_negative(doc.expiry_notice_days.unwrap_or(30), "expiry_notice_days")?;
    let members = doc.members.map_or(
        Members {
            inactive_earns: false,
            unassigned_card_earns: true,
        },
        |m| Members {
            inactive_earns: m.inactive_earns.unwrap_or(false),
            unassigned_card_earns: m.unassigned_card_earns.unwrap_or(true),
        },
    );
    let refunds = Refunds {
        clawback: doc.refunds.and_then(|r| r.clawback).unwrap_or_default(),
    };
    Ok(Policy {
        schema: 1,
        id: doc.id,
        minor_units: currency.minor_units,
        currency,
        time_zone: zone,
        money_rounding: doc.money_rounding.unwrap_or_default(),
        earning,
        tiers,
        redemption,
        rewards,
        expiry,
        expiry_notice_days,
        members,
        refunds,
    })
}

/// What field checks need to know about the policy.
struct Cx<'a> {
    currency: &'a Currency,
    zone: Zone,
}

impl Cx<'_> {
    /// A money field: decimal grammar, no more fraction digits than the currency has.
    fn money(&self, s: &DecimalString, path: &str) -> Result<PolicyMoney> {
        let dec = decimal(s, path)?;
        let minor = self.currency.to_minor(&s.0).ok_or_else(|| {
            if s.0.split_once('.').map_or(0, |(_, f)| f.len()) > self.currency.minor_units as usize
            {
                err(
                    path,
                    format!(
                        "{} has more fraction digits than {} allows ({})",
                        Quoted(&s.0),
                        self.currency.code,
                        self.currency.minor_units
                    ),
                )
            } else {
                // A valid decimal beyond ±(2^63 − 1) minor units (SPEC §7.7).
                Error::overflow(path)
            }
        })?;
        Ok(PolicyMoney { dec, minor })
    }
}

fn decimal(s: &DecimalString, path: &str) -> Result<Dec> {
    Dec::parse(&s.0).map_err(|e| err(path, format!("{} {e}", Quoted(&s.0))))
}

fn currency(doc: &PolicyDocument) -> Result<Currency> {
    let code = &doc.currency;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(err(
            "currency",
            format!(
                "currency {} must be an ISO 4217 code such as \"EUR\"",
                Quoted(code)
            ),
        ));
    }
    let minor_units = match doc.minor_units {
        Some(m) if (0..=6).contains(&m) => m as u32,
        Some(_) => return Err(err("minor_units", "minor_units must be between 0 and 6")),
        None => builtin_minor_units(code).ok_or_else(|| {
            err(
                "currency",
                format!("unknown currency {}: give its minor_units", Quoted(code)),
            )
        })?,
    };
    Ok(Currency {
        code: code.clone(),
        minor_units,
    })
}

fn non_negative(n: i64, path: &str) -> Result<i64> {
    if !(0..=MAX_POINTS).contains(&n) {
        return Err(err(
            path,
            format!("must be an integer from 0 to {MAX_POINTS}"),
        ));
    }
    Ok(n)
}

fn at_least_one(n: i64, path: &str) -> Result<i64> {
    if !(1..=MAX_POINTS).contains(&n) {
        return Err(err(
            path,
            format!("must be an integer from 1 to {MAX_POINTS}"),
        ));
    }
    Ok(n)
}

fn check_len(len: usize, max: usize, path: &str) -> Result<()> {
    if len > max {
        return Err(Error::new(
            crate::ErrorCode::LimitExceeded,
            path,
            format!("at most {max} entries are allowed"),
        ));
    }
    Ok(())
}

fn strings(list: Option<Vec<String>>, path: &str) -> Result<Option<Vec<String>>> {
    if let Some(l) = &list {
        check_len(l.len(), limits::MAX_LIST, path)?;
    }
    Ok(list)
}

fn earning(cx: &Cx, e: EarningDocument, levels: &[String]) -> Result<Earning> {
    let spend = cx.money(&e.spend, "earning.spend")?;
    if spend.minor <= 0 {
        return Err(err("earning.spend", "spend must be greater than 0"));
    }
    let points = at_least_one(e.points, "earning.points")?;
    let exclude_categories =
        strings(e.exclude_categories, "earning.exclude_categories")?.unwrap_or_default();
    let pending_days = non_negative(e.pending_days.unwrap_or(0), "earning.pending_days")?;
    let max_points_per_order = e
        .max_points_per_order
        .map(|n| non_negative(n, "earning.max_points_per_order"))
        .transpose()?;
    let docs = e.rules.unwrap_or_default();
    check_len(docs.len(), limits::MAX_RULES, "earning.rules")?;
    let repeat = first_repeat(docs.iter().map(|r| r.id.as_str()));
    let mut rules = Vec::with_capacity(docs.len());
    for (i, r) in docs.into_iter().enumerate() {
        let path = format!("earning.rules[{i}]");
        if repeat == Some(i) {
            return Err(err(
                &format!("{path}.id"),
                format!("duplicate rule id {}", Quoted(&r.id)),
            ));
        }
        rules.push(rule(cx, r, &path, levels)?);
    }
    Ok(Earning {
        spend,
        points,
        rounding: e.rounding.unwrap_or_default(),
        basis: e.basis.unwrap_or_default(),
        excluded: Keys::of(&exclude_categories),
        exclude_categories,
        pending_days,
        max_points_per_order,
        rules,
    })
}

fn rule(cx: &Cx, r: RuleDocument, path: &str, levels: &[String]) -> Result<Rule> {
    let when = condition(
        cx,
        r.when.unwrap_or_default(),
        &format!("{path}.when"),
        levels,
    )?;
    let effect = match (r.multiplier, r.bonus_points, r.points_per_item) {
        (Some(m), None, None) => {
            let p = format!("{path}.multiplier");
            let d = decimal(&m, &p)?;
            if d.is_negative() || d.is_zero() {
                return Err(err(&p, "multiplier must be greater than 0"));
            }
            Effect::Multiplier(d)
        }
        (None, Some(b), None) => {
            Effect::BonusPoints(non_negative(b, &format!("{path}.bonus_points"))?)
        }
        (None, None, Some(n)) => {
            Effect::PointsPerItem(non_negative(n, &format!("{path}.points_per_item"))?)
        }
        _ => {
            return Err(err(
                path,
                "a rule needs exactly one effect: multiplier, bonus_points or points_per_item",
            ))
        }
    };
    Ok(Rule {
        id: r.id,
        priority: r.priority.unwrap_or(0),
        selectors: Selectors::of(&when),
        when,
        effect,
    })
}

fn condition(cx: &Cx, c: ConditionDocument, path: &str, levels: &[String]) -> Result<Condition> {
    let p = |k: &str| format!("{path}.{k}");
    let tiers = strings(c.tiers, &p("tiers"))?;
    if let Some(ts) = &tiers {
        for (i, t) in ts.iter().enumerate() {
            if !levels.contains(t) {
                return Err(err(
                    &format!("{path}.tiers[{i}]"),
                    format!("unknown tier {}", Quoted(t)),
                ));
            }
        }
    }
    let bound = |s: Option<String>, k: &str| -> Result<Option<TimeBound>> {
        s.map(|written| {
            time::parse_local_or_instant(&written, cx.zone)
                .map(|instant| TimeBound {
                    written: written.clone(),
                    instant,
                })
                .map_err(|e| err(&p(k), format!("{}: {e}", Quoted(&written))))
        })
        .transpose()
    };
    let days = c.days_of_week;
    if let Some(d) = &days {
        check_len(d.len(), limits::MAX_LIST, &p("days_of_week"))?;
    }
    Ok(Condition {
        categories: strings(c.categories, &p("categories"))?,
        skus: strings(c.skus, &p("skus"))?,
        stores: strings(c.stores, &p("stores"))?,
        channels: strings(c.channels, &p("channels"))?,
        tiers,
        days_of_week: days,
        min_subtotal: c
            .min_subtotal
            .map(|m| {
                let v = cx.money(&m, &p("min_subtotal"))?;
                if v.minor < 0 {
                    return Err(err(&p("min_subtotal"), "min_subtotal must not be negative"));
                }
                Ok(v)
            })
            .transpose()?,
        from: bound(c.from, "from")?,
        until: bound(c.until, "until")?,
    })
}

fn default_tiers() -> Tiers {
    Tiers {
        metric: TierMetric::Points,
        window: Window::Lifetime,
        levels: vec![Level {
            id: "member".into(),
            name: "Member".into(),
            threshold: Threshold {
                dec: Dec::zero(),
                value: 0,
            },
            discount_percent: Dec::zero(),
            earn_multiplier: Dec::one(),
        }],
        discount_exclude_categories: Vec::new(),
        downgrade: Downgrade {
            review: Review::Never,
            retain_months: 0,
            max_steps: None,
        },
        discount_excluded: Keys::default(),
    }
}

fn tiers(cx: &Cx, t: TiersDocument) -> Result<Tiers> {
    let metric = t.metric.unwrap_or_default();
    let window = t.window.unwrap_or_default();
    if let Window::RollingMonths(n) = window {
        at_least_one(n, "tiers.window.rolling_months")?;
    }
    if t.levels.is_empty() {
        return Err(err("tiers.levels", "at least one level is required"));
    }
    check_len(t.levels.len(), limits::MAX_LEVELS, "tiers.levels")?;
    let repeat = first_repeat(t.levels.iter().map(|l| l.id.as_str()));
    let mut levels: Vec<Level> = Vec::with_capacity(t.levels.len());
    for (i, l) in t.levels.into_iter().enumerate() {
        let path = format!("tiers.levels[{i}]");
        if repeat == Some(i) {
            return Err(err(
                &format!("{path}.id"),
                format!("duplicate level id {}", Quoted(&l.id)),
            ));
        }
        let tp = format!("{path}.threshold");
        let threshold = match metric {
            TierMetric::Spend => {
                let m = cx.money(&l.threshold, &tp)?;
                Threshold {
                    dec: m.dec,
                    value: m.minor,
                }
            }
            TierMetric::Points | TierMetric::Orders => {
                let d = decimal(&l.threshold, &tp)?;
                match d.to_i64() {
                    Some(v)
                        if (0..=MAX_POINTS).contains(&v)
                            && l.threshold.0.bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        Threshold { dec: d, value: v }
                    }
                    _ => {
                        return Err(err(
                            &tp,
                            format!(
                                "{}: thresholds of metric {} must be non-negative integer strings",
                                Quoted(&l.threshold.0),
                                metric_name(metric)
                            ),
                        ))
                    }
                }
            }
        };
        if threshold.value < 0 {
            return Err(err(&tp, "thresholds must not be negative"));
        }
        match levels.last() {
            None if threshold.value != 0 => {
                return Err(err(&tp, "the first level's threshold must be 0"));
            }
            Some(prev) if threshold.value <= prev.threshold.value => {
                return Err(err(&tp, "thresholds must be strictly increasing"));
            }
            _ => {}
        }
        let discount_percent = match &l.discount_percent {
            Some(s) => {
                let pp = format!("{path}.discount_percent");
                let d = decimal(s, &pp)?;
                if d.is_negative() || d > Dec::from_int(100) {
                    return Err(err(&pp, "discount_percent must be between 0 and 100"));
                }
                d
            }
            None => Dec::zero(),
        };
        let earn_multiplier = match &l.earn_multiplier {
            Some(s) => {
                let pp = format!("{path}.earn_multiplier");
                let d = decimal(s, &pp)?;
                if d.is_negative() || d.is_zero() {
                    return Err(err(&pp, "earn_multiplier must be greater than 0"));
                }
                d
            }
            None => Dec::one(),
        };
        levels.push(Level {
            id: l.id,
            name: l.name,
            threshold,
            discount_percent,
            earn_multiplier,
        });
    }
    let discount_exclude_categories = strings(
        t.discount_exclude_categories,
        "tiers.discount_exclude_categories",
    )?
    .unwrap_or_default();
    let downgrade = match t.downgrade {
        None => Downgrade {
            review: Review::Never,
            retain_months: 0,
            max_steps: None,
        },
        Some(d) => Downgrade {
            review: d.review.unwrap_or_default(),
            retain_months: non_negative(
                d.retain_months.unwrap_or(0),
                "tiers.downgrade.retain_months",
            )?,
            max_steps: d
                .max_steps
                .map(|n| at_least_one(n, "tiers.downgrade.max_steps"))
                .transpose()?,
        },
    };
    Ok(Tiers {
        metric,
        window,
        levels,
        discount_excluded: Keys::of(&discount_exclude_categories),
        discount_exclude_categories,
        downgrade,
    })
}

fn metric_name(m: TierMetric) -> &'static str {
    match m {
        TierMetric::Points => "points",
        TierMetric::Spend => "spend",
        TierMetric::Orders => "orders",
    }
}

fn redemption(cx: &Cx, r: RedemptionDocument) -> Result<Redemption> {
    let pv = &r.point_value;
    let dec = decimal(pv, "redemption.point_value")?;
    if dec.is_negative() || dec.is_zero() {
        return Err(err(
            "redemption.point_value",
            "point_value must be greater than 0",
        ));
    }
    let point_value = cx.money(pv, "redemption.point_value").map_err(|_| {
        err(
            "redemption.point_value",
            format!(
                "point_value must be a multiple of the currency's minor unit ({} fraction digits)",
                cx.currency.minor_units
            ),
        )
    })?;
    let min_points = at_least_one(r.min_points.unwrap_or(1), "redemption.min_points")?;
    let step = at_least_one(r.step.unwrap_or(1), "redemption.step")?;
    let max_share = match &r.max_share {
        Some(s) => {
            let d = decimal(s, "redemption.max_share")?;
            if d.is_negative() || d.is_zero() || d > Dec::one() {
                return Err(err(
                    "redemption.max_share",
                    "max_share must be greater than 0 and at most 1",
                ));
            }
            d
        }
        None => Dec::one(),
    };
    let max_points_per_order = r
        .max_points_per_order
        .map(|n| non_negative(n, "redemption.max_points_per_order"))
        .transpose()?;
    Ok(Redemption {
        point_value,
        min_points,
        step,
        max_share,
        max_points_per_order,
    })
}

fn rewards(docs: Vec<RewardDocument>, tiers: &Tiers) -> Result<Vec<Reward>> {
    check_len(docs.len(), limits::MAX_REWARDS, "rewards")?;
    let repeat = first_repeat(docs.iter().map(|r| r.id.as_str()));
    let mut out = Vec::with_capacity(docs.len());
    for (i, r) in docs.into_iter().enumerate() {
        let path = format!("rewards[{i}]");
        if repeat == Some(i) {
            return Err(err(
                &format!("{path}.id"),
                format!("duplicate reward id {}", Quoted(&r.id)),
            ));
        }
        let points = at_least_one(r.points, &format!("{path}.points"))?;
        if let Some(t) = &r.min_tier {
            if !tiers.levels.iter().any(|l| &l.id == t) {
                return Err(err(
                    &format!("{path}.min_tier"),
                    format!("unknown tier {}", Quoted(t)),
                ));
            }
        }
        out.push(Reward {
            id: r.id,
            name: r.name,
            points,
            min_tier: r.min_tier,
        });
    }
    Ok(out)
}

fn expiry(doc: Option<ExpiryDocument>) -> Result<Expiry> {
    let Some(e) = doc else {
        return Ok(Expiry::Never);
    };
    let extra = |present: bool, field: &str| -> Result<()> {
        if present {
            return Err(err(
                &format!("expiry.{field}"),
                format!(
                    "{field} does not apply to expiry kind {}",
                    Quoted(kind_name(e.kind))
                ),
            ));
        }
        Ok(())
    };
    let need = |v: Option<i64>, field: &str| -> Result<i64> {
        v.ok_or_else(|| {
            err(
                "expiry",
                format!("expiry kind {} needs {field}", Quoted(kind_name(e.kind))),
            )
        })
    };
    Ok(match e.kind {
        ExpiryKind::Never => {
            extra(e.months.is_some(), "months")?;
            extra(e.period.is_some(), "period")?;
            extra(e.after.is_some(), "after")?;
            Expiry::Never
        }
        ExpiryKind::After | ExpiryKind::Inactivity => {
            extra(e.period.is_some(), "period")?;
            extra(e.after.is_some(), "after")?;
            let months = at_least_one(need(e.months, "months")?, "expiry.months")?;
            if months > limits::MAX_MONTHS {
                return Err(err(
                    "expiry.months",
                    format!("must be at most {}", limits::MAX_MONTHS),
                ));
            }
            if e.kind == ExpiryKind::After {
                Expiry::After { months }
            } else {
                Expiry::Inactivity { months }
            }
        }
        ExpiryKind::EndOfPeriod => {
            extra(e.months.is_some(), "months")?;
            let period = e
                .period
                .ok_or_else(|| err("expiry", "expiry kind \"end_of_period\" needs period"))?;
            let after = non_negative(e.after.unwrap_or(0), "expiry.after")?;
            if after > limits::MAX_MONTHS {
                return Err(err(
                    "expiry.after",
                    format!("must be at most {}", limits::MAX_MONTHS),
                ));
            }
            Expiry::EndOfPeriod { period, after }
        }
    })
}

fn kind_name(k: ExpiryKind) -> &'static str {
    match k {
        ExpiryKind::Never => "never",
        ExpiryKind::After => "after",
        ExpiryKind::EndOfPeriod => "end_of_period",
        ExpiryKind::Inactivity => "inactivity",
    }
}
