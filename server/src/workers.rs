//! Background work of a server process (several processes may run them at once: every step is
//! a guarded update or an idempotent insert):
//! - holds past their expiry are marked `expired` (the points are already spendable: open holds
//!   are counted only while `hold_expires_at` > now);
//! - members whose figures change by time (`next_due_at`) are replayed: cache refreshed and the
//!   notices that fell due written to the outbox;
//! - the outbox is delivered to the webhooks, signed, retried with backoff;
//! - idempotency records older than 35 days are dropped.

use crate::app::App;
use crate::ledger;
use crate::storage::{self, outbox};
use hmac::{KeyInit, Mac};
use std::time::Duration;

/// The HTTP client that delivers webhooks: HTTP or HTTPS (rustls with the ring provider), the
/// server's certificate checked against the platform's trusted roots plus the PEM file `ca`
/// (a private CA) when given; 10 s per delivery. A bad `ca` file is an error at start.
pub fn client(ca: Option<&std::path::Path>) -> Result<reqwest::Client, String> {
    init_tls();
    let mut b = reqwest::Client::builder().timeout(Duration::from_secs(10));
    if let Some(path) = ca {
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read the webhook CA file {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("{}: not PEM certificates: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("{}: no certificate in it", path.display()));
        }
        b = b.tls_certs_merge(certs);
    }
    b.build()
        .map_err(|e| format!("cannot build the webhook client: {e}"))
}

/// Installs the process's rustls provider: ring, which builds with a C compiler alone
/// (aws-lc-rs, reqwest's default, adds post-quantum key exchange but needs a heavier native
/// build). reqwest is compiled without a provider of its own (`rustls-no-provider`), so every
/// process that builds a `reqwest::Client` — the server, its load generator, the tests — calls
/// this first; building a client without it panics. Idempotent.
pub fn init_tls() {
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn spawn(app: App, client: reqwest::Client, interval_ms: u64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(interval_ms.max(10)));
        loop {
            tick.tick().await;
            if let Err(e) = once(&app, &client).await {
                tracing::warn!(error = %e, "worker pass failed");
            }
        }
    });
}

/// One pass of every job (also called by tests).
pub async fn once(app: &App, client: &reqwest::Client) -> Result<(), String> {
    expire_holds(app).await?;
    refresh_due(app, 500).await?;
    deliver(app, client).await?;
    let _ = crate::idempotency::purge(&app.db, app.clock.now_ms()).await;
    Ok(())
}

pub async fn expire_holds(app: &App) -> Result<u64, String> {
    let now = app.clock.now_ms();
    let mut c = app.db.read.acquire().await.map_err(|e| e.to_string())?;
    let due = storage::orders::expired_holds(&mut c, now, 1000)
        .await
        .map_err(|e| e.to_string())?;
    drop(c);
    let mut n = 0;
    for (id, _member) in due {
        let mut tx = app.db.begin().await.map_err(|e| e.to_string())?;
        if storage::orders::close_hold(&mut tx, &id, "expired", now, None)
            .await
            .map_err(|e| e.to_string())?
        {
            storage::audit(
                &mut tx,
                now,
                "server",
                "order.expire",
                &id,
                &serde_json::json!({}),
            )
            .await
            .map_err(|e| e.to_string())?;
            n += 1;
        }
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    let mut c = app.db.read.acquire().await.map_err(|e| e.to_string())?;
    if let Ok(open) = storage::orders::count_held(&mut c).await {
        metrics::gauge!("loyalty_holds_open").set(open as f64);
    }
    Ok(n)
}

/// Replays members whose cached figures changed by time; writes their notices.
pub async fn refresh_due(app: &App, limit: i64) -> Result<u64, String> {
    let now = app.clock.now_ms();
    let mut c = app.db.read.acquire().await.map_err(|e| e.to_string())?;
    let ids = storage::members::due(&mut c, now, limit)
        .await
        .map_err(|e| e.to_string())?;
    drop(c);
    let mut n = 0;
    for id in ids {
        let mut tx = app.db.begin().await.map_err(|e| e.to_string())?;
        storage::members::lock(&mut tx, &id)
            .await
            .map_err(|e| e.to_string())?;
        let Some(l) = ledger::load(&mut tx, &id).await.map_err(|e| e.body())? else {
            continue;
        };
        let as_of = ledger::as_of(now, &l.events);
        let state = ledger::replay(&l.versions, &l.member, &l.events, None, as_of)?;
        let look = ledger::last_look(&mut tx, &id)
            .await
            .map_err(|e| e.body())?;
        let notice_days = ledger::notice_days(&l.versions).map_err(|e| e.body())?;
        ledger::after_change(&mut tx, &l.member, &state, look, as_of, now, notice_days)
            .await
            .map_err(|e| e.body())?;
        // Reports: what time changed (expiry, availability, reviews) re-dates the member's rows.
        crate::reports::store::refresh(&mut tx, &l.versions, &l.member, &l.events, as_of).await?;
        tx.commit().await.map_err(|e| e.to_string())?;
        n += 1;
    }
    Ok(n)
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// `sha256=<hex>` of the body under the webhook's secret.
pub fn signature(secret: &str, body: &str) -> String {
    let mut m = match <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    m.update(body.as_bytes());
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

/// Backoff after the n-th failed attempt: 5 s, 10 s, 20 s, … up to an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    (5_000i64 << attempts.clamp(0, 10)).min(3_600_000)
}

pub async fn deliver(app: &App, client: &reqwest::Client) -> Result<u64, String> {
    let now = app.clock.now_ms();
    let mut tx = app.db.begin().await.map_err(|e| e.to_string())?;
    outbox::plan_deliveries(&mut tx, now)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    let mut c = app.db.read.acquire().await.map_err(|e| e.to_string())?;
    let due = outbox::due(&mut c, now, 100)
        .await
        .map_err(|e| e.to_string())?;
    drop(c);
    let mut sent = 0;
    for d in due {
        let body = serde_json::json!({
            "id": d.outbox_id, "kind": d.kind, "member_id": d.member_id,
            "at": crate::clock::rfc3339(d.at),
            "payload": serde_json::from_str::<serde_json::Value>(&d.payload).unwrap_or_default(),
        })
        .to_string();
        let r = client
            .post(&d.url)
            .header("content-type", "application/json")
            .header("x-loyalty-event-id", &d.outbox_id)
            .header("x-loyalty-signature", signature(&d.secret, &body))
            .body(body)
            .send()
            .await;
        let mut w = app.db.write.acquire().await.map_err(|e| e.to_string())?;
        match r {
            Ok(resp) if resp.status().is_success() => {
                outbox::delivered(&mut w, &d.outbox_id, &d.webhook_id, now)
                    .await
                    .map_err(|e| e.to_string())?;
                sent += 1;
            }
            Ok(resp) => {
                outbox::failed(
                    &mut w,
                    &d.outbox_id,
                    &d.webhook_id,
                    now + backoff_ms(d.attempts),
                    &format!("HTTP {}", resp.status()),
                )
                .await
                .map_err(|e| e.to_string())?;
            }
            Err(e) => {
                outbox::failed(
                    &mut w,
                    &d.outbox_id,
                    &d.webhook_id,
                    now + backoff_ms(d.attempts),
                    &e.to_string(),
                )
                .await
                .map_err(|e| e.to_string())?;
            }
        }
    }
    let mut c = app.db.read.acquire().await.map_err(|e| e.to_string())?;
    if let Ok(b) = outbox::backlog(&mut c).await {
        metrics::gauge!("loyalty_outbox_backlog").set(b as f64);
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            super::signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(super::backoff_ms(0), 5_000);
        assert_eq!(super::backoff_ms(3), 40_000);
        assert_eq!(super::backoff_ms(40), 3_600_000);
    }
}
