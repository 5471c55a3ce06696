//! Reports from the ledger (issue 15, docs/reports.md): admin only; JSON, or CSV with
//! `?format=csv`; every member's transactions as a background export.

use crate::app::App;
use crate::auth::Auth;
use crate::http::{json::Raw, json_response, ApiError};
use crate::reports::export::{self, ExportRequest};
use crate::reports::{self, Params, Query as ReportQuery};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

async fn run(app: &App, auth: &Auth, p: Params, which: &str) -> Result<Response, ApiError> {
    auth.admin()?;
    let now = app.clock.now_ms();
    let mut c = app.db.read.acquire().await?;
    let q = ReportQuery::new(&mut c, p, now).await?;
    let t = std::time::Instant::now();
    let r = match which {
        "revenue" => reports::revenue::report(&mut c, &q).await,
        "frequency" => reports::frequency::report(&app.db, &mut c, &q).await,
        "customers" => reports::customers::report(&app.db, &mut c, &q).await,
        "tiers" => reports::tiers::report(&mut c, &q).await,
        "points" => reports::points::report(&mut c, &q).await,
        _ => reports::transactions::report(&mut c, &q).await,
    };
    metrics::histogram!("loyalty_report_seconds", "report" => which.to_string())
        .record(t.elapsed().as_secs_f64());
    r
}

/// Revenue and orders: sales, orders, average basket, tier discounts, points redeemed (count
/// and money) — totals, by store, card type, tier, channel and period (`group`).
#[utoipa::path(get, path = "/v1/reports/revenue", tag = "reports", params(Params),
    responses((status = 200, description = "`{ from, to, time_zone, currency, filters, group, totals: Figures, by_store: [{ store, …Figures }], by_card_type, by_tier, by_channel, by_period }`; Figures = `{ orders, refunds, gross_sales, tier_discounts, sales, average_basket, redemptions, points_redeemed, redeemed_amount, paid }` (money as decimal strings; `sales` = gross − tier discounts, net of refunds; `average_basket` = sales ÷ orders). CSV with `format=csv`.", body = Object)))]
pub async fn revenue(
    State(app): State<App>,
    auth: Auth,
    Query(p): Query<Params>,
) -> Result<Response, ApiError> {
    run(&app, &auth, p, "revenue").await
}

/// Purchase frequency: members by orders in the period (1, 2–3, 4–6, 7–12, 13+) and days
/// between consecutive purchases (median and distribution).
#[utoipa::path(get, path = "/v1/reports/frequency", tag = "reports", params(Params),
    responses((status = 200, description = "`{ …, members, orders, by_orders: [{ orders, members }], days_between: { intervals, median, distribution: [{ days, intervals }] } }`", body = Object)))]
pub async fn frequency(
    State(app): State<App>,
    auth: Auth,
    Query(p): Query<Params>,
) -> Result<Response, ApiError> {
    run(&app, &auth, p, "frequency").await
}

/// Customer type: new vs returning buyers, members at the period's end by status and tier,
/// members joined, cards issued and their activation rate.
#[utoipa::path(get, path = "/v1/reports/customers", tag = "reports", params(Params),
    responses((status = 200, description = "`{ …, buyers: { total, new, returning }, buyers_by_tier: [{ tier, new, returning }], joined, members_at_end: { total, by_status, by_tier }, cards: { issued, assigned, unassigned, activated, activation_rate } }`", body = Object)))]
pub async fn customers(
    State(app): State<App>,
    auth: Auth,
    Query(p): Query<Params>,
) -> Result<Response, ApiError> {
    run(&app, &auth, p, "customers").await
}

/// Tier movements: upgrades and downgrades per month, the from → to matrix, members per tier
/// at the period's end.
#[utoipa::path(get, path = "/v1/reports/tiers", tag = "reports", params(Params),
    responses((status = 200, description = "`{ …, upgrades, downgrades, by_month: [{ month, up, down }], matrix: [{ from, to, members }], members_at_end: [{ tier, members }] }`", body = Object)))]
pub async fn tiers(
    State(app): State<App>,
    auth: Auth,
    Query(p): Query<Params>,
) -> Result<Response, ApiError> {
    run(&app, &auth, p, "tiers").await
}

/// Points and liability: flows of the period, and at its end the outstanding and pending points
/// and the liability (outstanding × point value × expected redemption, SPEC §5) — the sum of
/// every member's replay as of the period's end.
#[utoipa::path(get, path = "/v1/reports/points", tag = "reports", params(Params),
    responses((status = 200, description = "`{ …, flows: { issued, earned, clawed_back, redeemed, expired, adjusted, opening_balances }, at_end: { members, outstanding, available, pending, point_value, expected_redemption, liability }, by_tier: [{ tier, members, outstanding, pending }], by_period: [{ period, …flows }] }`", body = Object)))]
pub async fn points(
    State(app): State<App>,
    auth: Auth,
    Query(p): Query<Params>,
) -> Result<Response, ApiError> {
    run(&app, &auth, p, "points").await
}

/// Card transactions of one card (`card`) or member (`member`): pages of ≤ 1,000 rows, or the
/// whole list as CSV.
#[utoipa::path(get, path = "/v1/reports/transactions", tag = "reports", params(Params),
    responses((status = 200, description = "`{ …, member_id, items: [{ at, day, member_id, card, kind, event_id, order_id, document_no, store, channel, card_type, tier, status, gross, tier_discount, redeemed_amount, paid, points_redeemed, points_earned, points_clawed_back, points_adjusted, points_expired }], next_cursor }`", body = Object),
        (status = 404, description = "no member has the card")))]
pub async fn transactions(
    State(app): State<App>,
    auth: Auth,
    Query(p): Query<Params>,
) -> Result<Response, ApiError> {
    run(&app, &auth, p, "transactions").await
}

/// Starts a background CSV export of every member's transactions in a period.
#[utoipa::path(post, path = "/v1/reports/exports", tag = "reports", request_body = ExportRequest,
    responses((status = 202, description = "the job: `{ id, report, params, state: running|done|failed, rows_done, rows_total, progress, bytes, error, created_at, finished_at, download }`", body = Object)))]
pub async fn create_export(
    State(app): State<App>,
    auth: Auth,
    raw: Raw,
) -> Result<Response, ApiError> {
    let user = auth.admin()?;
    let r = raw.parse::<ExportRequest>()?;
    let s = export::start(&app, &user, r.value).await?;
    Ok(json_response(StatusCode::ACCEPTED, s.to_string()))
}

/// An export job's state and progress; `download` once it is done, `error` when it failed.
#[utoipa::path(get, path = "/v1/reports/exports/{id}", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, description = "the job (as POST answers)", body = Object), (status = 404, description = "no such export")))]
pub async fn get_export(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.admin()?;
    let s = export::status(&app, &id).await?;
    Ok(json_response(StatusCode::OK, s.to_string()))
}

/// The finished export's CSV (409 `invalid_state` while it runs or after it failed).
#[utoipa::path(get, path = "/v1/reports/exports/{id}/download", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 409, description = "not finished")))]
pub async fn download_export(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.admin()?;
    export::download(&app, &id).await
}
