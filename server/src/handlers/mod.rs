//! The route handlers, one file per resource. Each is annotated for the OpenAPI document
//! (`#[utoipa::path]`) and registered in `http/routes.rs` through `utoipa_axum::routes!`, so a
//! route cannot exist without being documented.

pub mod admin;
pub mod cards;
pub mod health;
pub mod imports;
pub mod member_admin;
pub mod member_auth;
pub mod members;
pub mod orders;
pub mod policies;
pub mod reports;
pub mod schemas;

use crate::app::App;
use crate::http::{json_response, ApiError};
use crate::idempotency::{self, Claim};
use crate::storage::Tx;
use axum::response::Response;

/// One idempotent write: claims the key, runs the body in the same transaction, keeps the
/// answer (2xx and 409) or rolls everything back (any other error).
///
/// `idempotent!(app, principal, key, fingerprint, |tx| expr)` where `expr` is a future of
/// `Result<(u16, String), ApiError>` using `tx: &mut Tx`.
macro_rules! idempotent {
    ($app:expr, $principal:expr, $key:expr, $fp:expr, |$tx:ident| $body:expr) => {{
        match $crate::handlers::claim($app, $principal, $key, $fp).await? {
            Err(done) => Ok(done),
            Ok(mut txn) => {
                let r: Result<(u16, String), $crate::http::ApiError> = async {
                    let $tx = &mut txn;
                    $body
                }
                .await;
                $crate::handlers::keep(
                    $app,
                    txn,
                    $principal,
                    $key,
                    $fp,
                    $crate::handlers::Saving::Update,
                    r,
                )
                .await
            }
        }
    }};
}

/// A write without a key (confirm, void, admin changes): one transaction, rolled back on error.
/// `in_tx!(app, |tx| { … Ok((status, body)) })`.
macro_rules! in_tx {
    ($app:expr, |$tx:ident| $body:block) => {{
        let mut txn = $app.db.begin().await?;
        let r: Result<(u16, String), $crate::http::ApiError> = async {
            let $tx = &mut txn;
            $body
        }
        .await;
        $crate::handlers::finish(txn, r).await
    }};
}
pub(crate) use {idempotent, in_tx};

/// Claims the key: Ok(transaction) to go on, Err(response) when the key answered before.
pub async fn claim(
    app: &App,
    principal: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Result<Tx, Response>, ApiError> {
    let now = app.clock.now_ms();
    let mut tx = app.db.begin().await?;
    match idempotency::claim(&mut tx, principal, key, fingerprint, now).await? {
        Claim::New => Ok(Ok(tx)),
        Claim::Replay(status, body) => {
            tx.rollback().await?;
            metrics::counter!("loyalty_idempotent_replays_total").increment(1);
            Ok(Err(json_response(code(status), body)))
        }
        Claim::Conflict => {
            tx.rollback().await?;
            Err(idempotency::conflict())
        }
    }
}

/// How an answer is kept under its key.
pub enum Saving {
    /// The key was claimed (`idempotency::claim`): its record is updated.
    Update,
    /// The key was looked for, not claimed (`idempotency::Unclaimed`): its record is inserted.
    Insert,
}

/// Keeps the answer under the key and commits, or rolls back (and keeps a 409 afresh).
pub async fn keep(
    app: &App,
    mut tx: Tx,
    principal: &str,
    key: &str,
    fingerprint: &str,
    saving: Saving,
    r: Result<(u16, String), ApiError>,
) -> Result<Response, ApiError> {
    match r {
        Ok((status, body)) => {
            match saving {
                Saving::Update => idempotency::save(&mut tx, principal, key, status, &body).await?,
                Saving::Insert => {
                    let now = app.clock.now_ms();
                    let answer = (status, body.as_str());
                    idempotency::insert_answer(&mut tx, principal, key, fingerprint, now, answer)
                        .await?
                }
            }
            tx.commit().await?;
            Ok(json_response(code(status), body))
        }
        Err(e) => {
            tx.rollback().await?;
            if idempotency::kept(e.status().as_u16()) {
                let now = app.clock.now_ms();
                let (status, body) =
                    idempotency::save_error(&app.db, principal, key, fingerprint, now, &e).await?;
                Ok(json_response(code(status), body))
            } else {
                Err(e)
            }
        }
    }
}

/// Commits an answer, or rolls back an error (a 409 `invalid_state` that records a state
/// change, an expired hold, is committed).
pub async fn finish(tx: Tx, r: Result<(u16, String), ApiError>) -> Result<Response, ApiError> {
    match r {
        Ok((status, body)) => {
            tx.commit().await?;
            Ok(json_response(code(status), body))
        }
        Err(e) => {
            if matches!(
                e,
                ApiError::Conflict {
                    code: "invalid_state",
                    ..
                }
            ) {
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            Err(e)
        }
    }
}

fn code(status: u16) -> axum::http::StatusCode {
    axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::OK)
}
