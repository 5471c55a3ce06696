//! `loyalty serve` (SPEC §8): the server of record, and its operations — `check`, `backup`,
//! `copy`, `openapi`.

use clap::{Args, Subcommand};
use loyalty_server::{app, ops, storage, Clock, Config};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    #[command(subcommand)]
    command: Option<ServeCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
pub struct RunArgs {
    /// sqlite://FILE or postgres://USER:PASSWORD@HOST/DB (or LOYALTY_DB_URL, which keeps the
    /// password out of `ps`); default loyalty-data/loyalty.db.
    #[arg(long, env = "LOYALTY_DB_URL", hide_env_values = true)]
    db: Option<String>,
    /// Address to listen on (port 0: any free port, printed on start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seed an empty database with the demo programme; print its credentials.
    #[arg(long)]
    demo: bool,
    /// How many demo members to generate.
    #[arg(long, default_value_t = 2000)]
    demo_members: u64,
    /// Folder for the SQLite file and the demo credentials.
    #[arg(long, default_value = "loyalty-data")]
    data_dir: PathBuf,
    /// The pages to serve at / (default: www/ when it exists).
    #[arg(long)]
    www: Option<PathBuf>,
    /// The npm package to serve at /pkg/ (default: pkg/ when it exists).
    #[arg(long)]
    pkg: Option<PathBuf>,
    /// Start the clock at this instant and keep it fixed (tests, demos).
    #[arg(long)]
    clock: Option<String>,
    /// With --clock: an admin may move it (POST /v1/admin/clock).
    #[arg(long)]
    clock_steerable: bool,
    /// Milliseconds between passes of the background jobs (holds, due members, webhooks).
    #[arg(long, default_value_t = 1000)]
    worker_interval_ms: u64,
    /// SQLite commits: `full` (default: fsynced before the answer, survives a power loss) or
    /// `normal` (survives a crash of the server, not of the machine; docs/server.md).
    #[arg(long, default_value = "full", value_parser = ["full", "normal"])]
    sqlite_sync: String,
}

#[derive(Subcommand)]
enum ServeCommand {
    /// Replay every member and compare with the cached balances; exit 1 on any difference.
    Check {
        #[arg(long, env = "LOYALTY_DB_URL", hide_env_values = true)]
        db: Option<String>,
        #[arg(long, default_value = "loyalty-data")]
        data_dir: PathBuf,
    },
    /// A consistent copy of a running SQLite database (PostgreSQL: pg_dump, see the README).
    Backup {
        #[arg(long, env = "LOYALTY_DB_URL", hide_env_values = true)]
        db: Option<String>,
        #[arg(long, default_value = "loyalty-data")]
        data_dir: PathBuf,
        /// The new file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Copy a whole programme into an empty database (e.g. sqlite://… → postgres://…).
    Copy {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// Print the OpenAPI document.
    Openapi,
}

fn url(db: &Option<String>, data_dir: &std::path::Path) -> String {
    db.clone().unwrap_or_else(|| storage::default_url(data_dir))
}

pub fn run(args: ServeArgs) -> ExitCode {
    let rt = match tokio_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loyalty serve: {e}");
            return ExitCode::from(2);
        }
    };
    let result = rt.block_on(async move {
        match args.command {
            None => {
                let a = args.run;
                let clock = match &a.clock {
                    Some(t) => {
                        Clock::fixed(loyalty_server::clock::parse_rfc3339(t).ok_or_else(|| {
                            format!("--clock {t:?} is not RFC 3339 with an offset")
                        })?)
                    }
                    None => Clock::System,
                };
                let exists = |p: &str| std::path::Path::new(p).is_dir().then(|| PathBuf::from(p));
                let mut c = Config::new(a.listen);
                c.db_url = a.db;
                c.demo = a.demo;
                c.demo_members = a.demo_members;
                c.data_dir = a.data_dir;
                c.www_dir = a.www.or_else(|| exists("www"));
                c.pkg_dir = a.pkg.or_else(|| exists("pkg"));
                // The simulator's charting library, from the npm devDependency (no CDN).
                if let Some(d) = exists("node_modules/chart.js/dist") {
                    c.mounts.push(("/vendor/chart.js".into(), d));
                }
                c.clock = clock;
                c.steerable_clock = a.clock_steerable;
                c.worker_interval_ms = a.worker_interval_ms;
                c.sqlite_sync = if a.sqlite_sync == "normal" {
                    storage::SqliteSync::Normal
                } else {
                    storage::SqliteSync::Full
                };
                app::serve(c).await.map(|_| 0u8)
            }
            Some(ServeCommand::Check { db, data_dir }) => {
                let db = storage::Db::open(&url(&db, &data_dir)).await?;
                let r = ops::check(&db).await?;
                println!("{}", serde_json::to_string(&r).unwrap_or_default());
                eprintln!(
                    "loyalty serve check: {} members, {} events, {} differences",
                    r.members,
                    r.events,
                    r.differences.len()
                );
                Ok(if r.differences.is_empty() { 0 } else { 1 })
            }
            Some(ServeCommand::Backup { db, data_dir, out }) => {
                let db = storage::Db::open(&url(&db, &data_dir)).await?;
                ops::backup(&db, &out).await?;
                eprintln!("loyalty serve backup: {}", out.display());
                Ok(0)
            }
            Some(ServeCommand::Copy { from, to }) => {
                let a = storage::Db::open(&from).await?;
                let b = storage::Db::open(&to).await?;
                for (table, n) in ops::copy(&a, &b).await? {
                    eprintln!("{table}: {n} rows");
                }
                Ok(0)
            }
            Some(ServeCommand::Openapi) => {
                println!("{}", loyalty_server::http::routes::openapi_json());
                Ok(0)
            }
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("loyalty serve: {e}");
            ExitCode::from(2)
        }
    }
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}
