//! The running server: its state, start-up (migrations, demo seed, workers) and shutdown.

use crate::clock::Clock;
use crate::ledger::Engines;
use crate::storage::{self, settings, Db};
use metrics_exporter_prometheus::PrometheusHandle;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// How `loyalty serve` runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`; None: `loyalty-data/loyalty.db`.
    pub db_url: Option<String>,
    pub listen: SocketAddr,
    pub demo: bool,
    /// Where the SQLite file and the demo credentials go.
    pub data_dir: PathBuf,
    /// Served at `/` (the pages) and `/pkg/` (the npm package).
    pub www_dir: Option<PathBuf>,
    pub pkg_dir: Option<PathBuf>,
    /// More static folders: (URL prefix such as `/vendor/chart.js`, folder).
    pub mounts: Vec<(String, PathBuf)>,
    pub clock: Clock,
    /// `POST /v1/admin/clock` moves a fixed clock (tests and demos only).
    pub steerable_clock: bool,
    /// Demo members to generate.
    pub demo_members: u64,
    /// How often the workers (hold expiry, due members, outbox delivery) look, in ms.
    pub worker_interval_ms: u64,
    pub workers: bool,
    /// SQLite commit durability (`--sqlite-sync full|normal`).
    pub sqlite_sync: storage::SqliteSync,
    /// Requests per second per credential (or per address without one), bursts of twice that;
    /// 0: no limit (`--rate-limit`, see `http/rate_limit.rs`).
    pub rate_limit: u32,
    /// SQLite: several transactions share one COMMIT (`storage/writer.rs`; `--no-group-commit`).
    pub group_commit: bool,
    /// Extra certificate authorities (PEM) that webhook deliveries over HTTPS trust besides the
    /// system's (`--webhook-ca`): a receiver behind a private CA.
    pub webhook_ca: Option<PathBuf>,
    /// Events of replayed states kept between member reads (`--read-cache-events`; 0: none;
    /// `read_cache`).
    pub read_cache_events: u64,
}

impl Config {
    pub fn new(listen: SocketAddr) -> Config {
        Config {
            db_url: None,
            listen,
            demo: false,
            data_dir: PathBuf::from("loyalty-data"),
            www_dir: None,
            pkg_dir: None,
            mounts: Vec::new(),
            clock: Clock::System,
            steerable_clock: false,
            demo_members: 2_000,
            worker_interval_ms: 1_000,
            workers: true,
            sqlite_sync: storage::SqliteSync::Full,
            rate_limit: 500,
            group_commit: true,
            webhook_ca: None,
            read_cache_events: crate::read_cache::DEFAULT_EVENTS,
        }
    }

    pub fn url(&self) -> String {
        self.db_url
            .clone()
            .unwrap_or_else(|| storage::default_url(&self.data_dir))
    }
}

pub struct AppState {
    pub db: Db,
    pub clock: Clock,
    pub engines: Engines,
    pub widget_secret: Vec<u8>,
    pub steerable_clock: bool,
    pub metrics: Option<PrometheusHandle>,
    /// Where uploaded imports wait for their job (`<data_dir>/imports/<job>/`).
    pub data_dir: PathBuf,
    /// Replayed states kept between member reads.
    pub read_cache: crate::read_cache::ReadCache,
}

pub type App = Arc<AppState>;

impl AppState {
    /// The hold time (settings `hold_minutes`, default 15).
    pub async fn hold_ms(&self) -> i64 {
        let minutes = match self.db.read.acquire().await {
            Ok(mut c) => settings::get(&mut c, settings::HOLD_MINUTES)
                .await
                .ok()
                .flatten()
                .and_then(|v| v.parse::<i64>().ok()),
            Err(_) => None,
        };
        minutes.unwrap_or(15).clamp(1, 24 * 60) * 60_000
    }
}

/// Opens the database, makes the programme's secrets on first start, seeds the demo.
pub async fn open(config: &Config) -> Result<App, String> {
    let db = Db::open_with(&config.url(), config.sqlite_sync, config.group_commit).await?;
    let now = config.clock.now_ms();
    let mut c = db.write.acquire().await.map_err(|e| e.to_string())?;
    let secret = match settings::get(&mut c, settings::WIDGET_SECRET)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(s) => s,
        None => {
            let s = storage::random_hex(32);
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(settings::WIDGET_SECRET)
            .bind(&s)
            .execute(&mut *c)
            .await
            .map_err(|e| e.to_string())?;
            settings::get(&mut c, settings::WIDGET_SECRET)
                .await
                .map_err(|e| e.to_string())?
                .unwrap_or(s)
        }
    };
    drop(c);
    let app = Arc::new(AppState {
        db,
        clock: config.clock.clone(),
        engines: Engines::default(),
        widget_secret: secret.into_bytes(),
        steerable_clock: config.steerable_clock,
        metrics: crate::http::middleware::metrics_handle(),
        data_dir: config.data_dir.clone(),
        read_cache: crate::read_cache::ReadCache::new(config.read_cache_events),
    });
    // Import jobs a stopped process left behind are failed (running the import again finishes
    // them).
    crate::import::mark_interrupted(&app.db, now)
        .await
        .map_err(|e| e.to_string())?;
    // Reports: a database migrated with events in it is summed once (issue 15). Before the demo
    // seed, which writes its members' report rows itself (after it, the whole seed was summed a
    // second time, a member at a time).
    crate::reports::store::ensure_built(&app.db, now).await?;
    if config.demo {
        let lines = crate::demo::seed(&app, &config.data_dir, config.demo_members, now).await?;
        for l in lines {
            println!("{l}");
        }
    }
    Ok(app)
}

/// A server running in this process (tests, `loyalty serve`).
pub struct Running {
    pub addr: SocketAddr,
    pub app: App,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Finishes the requests in flight, then stops.
    pub async fn stop(mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        let _ = self.handle.await;
        self.app.db.close().await;
    }
}

/// Binds (port 0 picks a free one), serves, and starts the workers.
pub async fn start(config: Config) -> Result<Running, String> {
    crate::workers::init_tls();
    let app = open(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let router = crate::http::routes::router(app.clone(), &config);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    if config.workers {
        let client = crate::workers::client(config.webhook_ca.as_deref())?;
        crate::workers::spawn(app.clone(), client, config.worker_interval_ms);
    }
    let handle = tokio::spawn(async move {
        let svc = router.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, svc)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    Ok(Running {
        addr,
        app,
        shutdown: Some(tx),
        handle,
    })
}

/// `loyalty serve`: runs until SIGTERM or Ctrl-C, finishing the requests in flight.
pub async fn serve(config: Config) -> Result<(), String> {
    crate::http::middleware::init_logging();
    let running = start(config).await?;
    eprintln!("loyalty serve: listening on http://{}", running.addr);
    tracing::info!(addr = %running.addr, "listening");
    shutdown_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    running.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
