//! Who may do what (SPEC §8.3).
//!
//! - **Tills** send `Authorization: Bearer lk_<key id>_<secret>` (`keys.rs`): SHA-256 of the
//!   secret compared in constant time — no password hashing on the till's path. A till holds at
//!   most two live keys, so one can be rotated out while queued sales still sync.
//! - **Storefront backends** hold the same kind of key (kind `storefront`) and may only ask for
//!   short-lived **widget tokens** (`widget.rs`: `wt_…`, HMAC-signed, 15 minutes), which read one
//!   member's progress.
//! - **Admins** log in with a password (argon2id, `password.rs`, verified off the async
//!   threads) and get a session cookie (`session.rs`: HttpOnly, SameSite=Strict; every unsafe
//!   request must repeat the session's CSRF token in `X-CSRF-Token`).
//! - **Members** log in on the card lookup page with a card number or phone and a one-time code
//!   sent through the outbox (`otp.rs`), and get a member session.
//! - Logins and one-time codes are throttled per account and per address in the database
//!   (`throttle.rs`), so several server processes share the counts.

pub mod keys;
pub mod otp;
pub mod password;
pub mod session;
pub mod throttle;
pub mod widget;

use crate::app::App;
use crate::http::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::Method;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Admin {
        user: String,
    },
    Till {
        till_id: String,
        store_id: String,
        key_id: String,
    },
    Storefront {
        key_id: String,
    },
    Member {
        member_id: String,
    },
    Widget {
        member_id: String,
    },
}

impl Principal {
    /// Who, for the audit log and the idempotency records (a till, whichever key it used).
    pub fn id(&self) -> String {
        match self {
            Principal::Admin { user } => format!("admin:{user}"),
            Principal::Till { till_id, .. } => format!("till:{till_id}"),
            Principal::Storefront { key_id } => format!("storefront:{key_id}"),
            Principal::Member { member_id } => format!("member:{member_id}"),
            Principal::Widget { member_id } => format!("widget:{member_id}"),
        }
    }
}

/// The request's credential, if it carries one. A credential that is present but wrong is 401
/// at once; what a route accepts is checked by the handler (`admin()`, `till_or_admin()`, …).
#[derive(Clone, Debug)]
pub struct Auth(pub Option<Principal>);

impl Auth {
    fn who(&self) -> Result<&Principal, ApiError> {
        self.0.as_ref().ok_or_else(|| {
            ApiError::Unauthenticated(
                "this route needs a credential: a till key, an admin session or a member login"
                    .into(),
            )
        })
    }

    pub fn admin(&self) -> Result<String, ApiError> {
        match self.who()? {
            Principal::Admin { user } => Ok(user.clone()),
            _ => Err(ApiError::forbidden("only an admin may do this")),
        }
    }

    /// A till (with its store) or an admin.
    pub fn till_or_admin(&self) -> Result<Actor, ApiError> {
        match self.who()? {
            Principal::Admin { user } => Ok(Actor {
                principal: format!("admin:{user}"),
                store: None,
                till: "admin".into(),
            }),
            Principal::Till {
                till_id, store_id, ..
            } => Ok(Actor {
                principal: format!("till:{till_id}"),
                store: Some(store_id.clone()),
                till: till_id.clone(),
            }),
            _ => Err(ApiError::forbidden("only a till or an admin may do this")),
        }
    }

    /// Reading one member: a till, an admin, that member, and (`widget`) a widget token for it.
    pub fn may_read_member(&self, member_id: &str, widget: bool) -> Result<(), ApiError> {
        match self.who()? {
            Principal::Admin { .. } | Principal::Till { .. } => Ok(()),
            Principal::Member { member_id: m } if m == member_id => Ok(()),
            Principal::Widget { member_id: m } if widget && m == member_id => Ok(()),
            _ => Err(ApiError::forbidden(
                "this credential may not read this member",
            )),
        }
    }

    pub fn storefront_or_admin(&self) -> Result<String, ApiError> {
        match self.who()? {
            p @ (Principal::Admin { .. } | Principal::Storefront { .. }) => Ok(p.id()),
            _ => Err(ApiError::forbidden(
                "only a storefront key or an admin may do this",
            )),
        }
    }

    pub fn member(&self) -> Result<String, ApiError> {
        match self.who()? {
            Principal::Member { member_id } => Ok(member_id.clone()),
            _ => Err(ApiError::forbidden("only a logged-in member may do this")),
        }
    }
}

/// A till or an admin acting on orders.
#[derive(Clone, Debug)]
pub struct Actor {
    pub principal: String,
    /// The till's store; None for an admin (any store).
    pub store: Option<String>,
    /// The till's id; `admin` for an admin's online transaction entry.
    pub till: String,
}

impl Actor {
    /// A till may act only for its own store.
    pub fn check_store(&self, store: &str, path: &str) -> Result<(), ApiError> {
        match &self.store {
            Some(own) if own != store => Err(ApiError::forbidden_at(
                path,
                format!("this till belongs to store {own}, not {store}"),
            )),
            _ => Ok(()),
        }
    }
}

pub const ADMIN_COOKIE: &str = "loyalty_admin";
pub const MEMBER_COOKIE: &str = "loyalty_member";

/// A cookie's value from the request's headers.
pub(crate) fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<App> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Auth, ApiError> {
        let now = app.clock.now_ms();
        if let Some(h) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let v = h.to_str().unwrap_or_default();
            let Some(token) = v.strip_prefix("Bearer ") else {
                return Err(ApiError::Unauthenticated(
                    "the Authorization header must be `Bearer <key or token>`".into(),
                ));
            };
            let token = token.trim();
            let p = if token.starts_with("lk_") {
                keys::authenticate(&app.db, token).await?
            } else if token.starts_with("wt_") {
                widget::verify(&app.widget_secret, token, now)
            } else if token.starts_with("ms_") {
                session::member(&app.db, token, now).await?
            } else {
                None
            };
            return p.map(|p| Auth(Some(p))).ok_or_else(|| {
                ApiError::Unauthenticated(
                    "the key or token is not valid (unknown, revoked or expired)".into(),
                )
            });
        }
        if let Some(token) = cookie(&parts.headers, ADMIN_COOKIE) {
            let Some((user, csrf)) = session::admin(&app.db, token, now).await? else {
                return Err(ApiError::Unauthenticated(
                    "the admin session has ended: log in again".into(),
                ));
            };
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            if !safe {
                let sent = parts
                    .headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if !keys::same(sent.as_bytes(), csrf.as_bytes()) {
                    return Err(ApiError::forbidden_at(
                        "X-CSRF-Token",
                        "the X-CSRF-Token header must repeat the session's CSRF token (given at login)",
                    ));
                }
            }
            return Ok(Auth(Some(Principal::Admin { user })));
        }
        if let Some(token) = cookie(&parts.headers, MEMBER_COOKIE) {
            return match session::member(&app.db, token, now).await? {
                Some(p) => Ok(Auth(Some(p))),
                None => Err(ApiError::Unauthenticated(
                    "the member session has ended: log in again".into(),
                )),
            };
        }
        Ok(Auth(None))
    }
}
