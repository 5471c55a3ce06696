//! Reports from the ledger (issue 15, docs/reports.md): one file per report, each a JSON
//! answer (documented in the OpenAPI) and a CSV table; large CSV exports run as background jobs
//! (`export`). They read the report tables (`store`), which the booking transaction keeps
//! equal to the engine's replay of every member.
//!
//! Periods are local dates (`from`, `to`, both included) in the programme's time zone; the
//! state "at the period's end" is the state just before `to + 1` 00:00 local.

pub mod cells;
pub mod customers;
pub mod deferred;
pub mod export;
pub mod frequency;
pub mod indexes;
pub mod points;
pub mod purchases;
pub mod revenue;
pub mod store;
pub mod tiers;
pub mod transactions;

use crate::http::ApiError;
use loyalty_engine::policy::Policy;
use serde::Deserialize;
use sqlx::AnyConnection;

/// The query of every report.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// First local date of the period (`YYYY-MM-DD`); default: the first day of `to`'s month.
    pub from: Option<String>,
    /// Last local date of the period, included; default: today (programme's zone).
    pub to: Option<String>,
    /// Only this store's orders (flows without a store — adjustments, expiry — are left out).
    pub store: Option<String>,
    /// Only members whose first card has this type.
    pub card_type: Option<String>,
    /// Flows: the tier an order was priced at / the member's tier at the row; balances: the
    /// tier at the period's end.
    pub tier: Option<String>,
    /// `active`, `inactive`, `excluded`, `unassigned` (as `tier`).
    pub status: Option<String>,
    /// Time series grouping: `day`, `week` (ISO weeks, `YYYY-Www`) or `month` (default).
    pub group: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// Points report: the expected redemption share for the liability (SPEC §5), default 1.
    pub expected_redemption: Option<String>,
    /// Transactions: a card number or a member id.
    pub card: Option<String>,
    pub member: Option<String>,
    /// Transactions: rows per page (≤ 1,000) and the cursor of the next page.
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A report's period and filters, checked, with the programme's policy.
#[derive(Clone)]
pub struct Query {
    pub p: Params,
    pub from: String,
    pub to: String,
    /// `from` 00:00 local and `to + 1` 00:00 local, epoch ms.
    pub start_ms: i64,
    pub end_ms: i64,
    pub group: Group,
    pub csv: bool,
    pub policy: Policy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Day,
    Week,
    Month,
}

impl Group {
    /// The period key of a local date.
    pub fn key(self, day: &str) -> String {
        match self {
            Group::Day => day.to_string(),
            Group::Month => day.get(..7).unwrap_or_default().to_string(),
            Group::Week => match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
                Ok(d) => {
                    use chrono::Datelike;
                    let w = d.iso_week();
                    format!("{:04}-W{:02}", w.year(), w.week())
                }
                Err(_) => String::new(),
            },
        }
    }
}

fn check_date(v: &str, path: &str) -> Result<chrono::NaiveDate, ApiError> {
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .filter(|_| v.len() == 10)
        .ok_or_else(|| ApiError::invalid(path, format!("{v:?} is not a date YYYY-MM-DD")))
}

/// The programme's policy: the version in force at `at` (every version shares the currency
/// and the zone, SPEC §3.1).
pub async fn policy_at(c: &mut AnyConnection, at: i64) -> Result<Policy, ApiError> {
    let versions = crate::storage::policies::versions(c).await?;
    let v = crate::ledger::in_force(&versions, at)
        .ok_or_else(|| ApiError::invalid_state("the programme has no published policy yet"))?;
    Policy::from_json(&v.document)
        .map_err(|e| ApiError::internal(format!("stored policy does not load: {}", e.message)))
}

impl Query {
    pub async fn new(c: &mut AnyConnection, p: Params, now: i64) -> Result<Query, ApiError> {
        let policy = policy_at(c, now).await?;
        let today = loyalty_engine::report::day_of(&policy, now);
        let to = p.to.clone().unwrap_or(today);
        let to_d = check_date(&to, "to")?;
        let from = p
            .from
            .clone()
            .unwrap_or_else(|| format!("{}-01", to.get(..7).unwrap_or_default()));
        let from_d = check_date(&from, "from")?;
        if from_d > to_d {
            return Err(ApiError::invalid("from", "from is after to"));
        }
        if (to_d - from_d).num_days() > 366 * 10 {
            return Err(ApiError::invalid("from", "a period is at most ten years"));
        }
        let next = (to_d + chrono::Duration::days(1))
            .format("%Y-%m-%d")
            .to_string();
        let start_ms = loyalty_engine::report::day_start_ms(&policy, &from)
            .ok_or_else(|| ApiError::invalid("from", "out of range"))?;
        let end_ms = loyalty_engine::report::day_start_ms(&policy, &next)
            .ok_or_else(|| ApiError::invalid("to", "out of range"))?;
        let group = match p.group.as_deref() {
            None | Some("month") => Group::Month,
            Some("week") => Group::Week,
            Some("day") => Group::Day,
            Some(o) => {
                return Err(ApiError::invalid(
                    "group",
                    format!("{o:?}: expected day, week or month"),
                ))
            }
        };
        let csv = match p.format.as_deref() {
            None | Some("json") => false,
            Some("csv") => true,
            Some(o) => {
                return Err(ApiError::invalid(
                    "format",
                    format!("{o:?}: expected json or csv"),
                ))
            }
        };
        if let Some(s) = &p.status {
            if !["active", "inactive", "excluded", "unassigned"].contains(&s.as_str()) {
                return Err(ApiError::invalid(
                    "status",
                    format!("{s:?}: expected active, inactive, excluded or unassigned"),
                ));
            }
        }
        if let Some(t) = &p.tier {
            if !policy.tiers.levels.iter().any(|l| &l.id == t) {
                return Err(ApiError::invalid(
                    "tier",
                    format!("{t:?} is not a tier level of the programme"),
                ));
            }
        }
        Ok(Query {
            from,
            to,
            start_ms,
            end_ms,
            group,
            csv,
            policy,
            p,
        })
    }

    pub fn money(&self, minor: i64) -> String {
        loyalty_engine::report::money(&self.policy, minor)
    }

    /// The tier level ids in level order.
    pub fn levels(&self) -> Vec<String> {
        self.policy
            .tiers
            .levels
            .iter()
            .map(|l| l.id.clone())
            .collect()
    }

    /// The `period` and `filters` objects every answer starts with.
    pub fn head(&self) -> serde_json::Value {
        serde_json::json!({
            "from": self.from, "to": self.to,
            "time_zone": self.policy.time_zone.name(),
            "currency": self.policy.currency.code,
            "filters": { "store": self.p.store, "card_type": self.p.card_type, "tier": self.p.tier, "status": self.p.status },
        })
    }

    /// Whether a store, tier or status filter is given: these change which purchases are
    /// consecutive, which `rpt_cells` does not know (the frequency and customers reports then
    /// read the purchases, `purchases::Plan`).
    pub fn filters_purchases(&self) -> bool {
        self.p.store.is_some() || self.p.tier.is_some() || self.p.status.is_some()
    }

    /// The parameters of a query: the period (`$1`, `$2`) then the filters' ([`Query::filters`]).
    pub fn binds(&self, filters: Vec<String>) -> Vec<crate::storage::scan::Bind> {
        use crate::storage::scan::Bind;
        [self.from.clone(), self.to.clone()]
            .into_iter()
            .chain(filters)
            .map(Bind::Text)
            .collect()
    }

    /// SQL conditions and binds for the filters on a table with the given columns (`None`:
    /// the table has no such column, the filter does not apply), the first bind `$first_bind`.
    pub fn filters(&self, store: Option<&str>, first_bind: usize) -> (String, Vec<String>) {
        let mut sql = String::new();
        let mut binds = Vec::new();
        let mut n = first_bind;
        let mut add = |col: &str, v: &Option<String>| {
            if let Some(v) = v {
                sql.push_str(&format!(" AND {col} = ${n}"));
                n += 1;
                binds.push(v.clone());
            }
        };
        if let Some(s) = store {
            add(s, &self.p.store);
        }
        add("card_type", &self.p.card_type);
        add("tier", &self.p.tier);
        add("status", &self.p.status);
        (sql, binds)
    }
}

/// A CSV document from a header and rows (RFC 4180 through the `csv` crate).
pub fn csv_text(header: &[&str], rows: &[Vec<String>]) -> Result<String, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(ApiError::internal)?;
    for r in rows {
        w.write_record(r).map_err(ApiError::internal)?;
    }
    let bytes = w.into_inner().map_err(ApiError::internal)?;
    String::from_utf8(bytes).map_err(ApiError::internal)
}

/// A report answer: JSON, or the CSV table as a download.
pub fn answer(
    name: &str,
    q: &Query,
    json: serde_json::Value,
    table: impl FnOnce() -> Result<String, ApiError>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::{header, HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    if q.csv {
        let body = table()?;
        let mut r = (StatusCode::OK, body).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!(
            "attachment; filename=\"{name}-{}-{}.csv\"",
            q.from, q.to
        )) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        Ok(r)
    } else {
        Ok(crate::http::json_response(StatusCode::OK, json.to_string()))
    }
}
