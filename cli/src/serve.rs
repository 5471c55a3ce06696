//! `loyalty serve` (SPEC §8): the server of record, and its operations — `check`, `backup`,
//! `copy`, `import`, `openapi`.

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
    /// Requests per second per credential (till or storefront key, admin or member session) or,
    /// without one, per client address; bursts of twice that. Past it: 429 `rate_limited` with
    /// Retry-After. 0 turns the limit off (benchmarks).
    #[arg(long, default_value_t = 500, env = "LOYALTY_RATE_LIMIT")]
    rate_limit: u32,
    /// SQLite: one COMMIT (and fsync) per transaction instead of group commit (benchmarks).
    #[arg(long)]
    no_group_commit: bool,
    /// PEM file of extra certificate authorities that HTTPS webhook deliveries trust besides
    /// the system's (a receiver with a private CA).
    #[arg(long, env = "LOYALTY_WEBHOOK_CA")]
    webhook_ca: Option<PathBuf>,
    /// Events of replayed member states kept in memory between reads (a member read replays
    /// only what happened since; docs/server.md "Read cache"); 0 keeps none.
    #[arg(long, default_value_t = loyalty_server::read_cache::DEFAULT_EVENTS, env = "LOYALTY_READ_CACHE_EVENTS")]
    read_cache_events: u64,
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
    /// Create an admin, or give an existing one a new password (its sessions end): prints
    /// `admin user:` and a generated `admin password:` once. The way into a database that was
    /// not seeded with --demo, and back in after a lost password.
    Admin {
        #[arg(long, env = "LOYALTY_DB_URL", hide_env_values = true)]
        db: Option<String>,
        #[arg(long, default_value = "loyalty-data")]
        data_dir: PathBuf,
        /// The admin's user name.
        #[arg(long, default_value = "admin")]
        user: String,
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
    /// Load a live programme's exports (with their mapping) or member NDJSON into the database,
    /// as an import job (docs/migration.md, "Into the server"); prints the job, exits 1 when
    /// members were rejected or in conflict or the exports' report is not clean.
    Import(Box<ImportArgs>),
    /// Load member histories (NDJSON of `loyalty generate`: one `{member, events}` a line) into
    /// the database, with a card each and the report rows; prints the rate.
    Load {
        #[arg(long, env = "LOYALTY_DB_URL", hide_env_values = true)]
        db: Option<String>,
        #[arg(long, default_value = "loyalty-data")]
        data_dir: PathBuf,
        /// The NDJSON file.
        #[arg(long)]
        members: PathBuf,
        /// A policy to publish from the beginning when the programme has none.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Members per transaction.
        #[arg(long, default_value_t = 2000)]
        batch: usize,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Args)]
pub struct ImportArgs {
    #[arg(long, env = "LOYALTY_DB_URL", hide_env_values = true)]
    db: Option<String>,
    #[arg(long, default_value = "loyalty-data")]
    data_dir: PathBuf,
    /// The mapping file of the exports (as for `loyalty import`).
    #[arg(long, conflicts_with = "members")]
    mapping: Option<PathBuf>,
    /// Member NDJSON instead (`loyalty import --out`'s file).
    #[arg(long)]
    members: Option<PathBuf>,
    /// Where the job's report (JSON) goes; it is also kept in the database.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Publish this policy first when the programme has none (a fresh server).
    #[arg(long)]
    publish_policy: Option<PathBuf>,
    /// The folder for the job's sorted runs and files (default: --data-dir).
    #[arg(long)]
    temp_dir: Option<PathBuf>,
    /// The exports' sort budget, MiB.
    #[arg(long, default_value_t = 64)]
    memory_mb: usize,
    /// The exports named in the mapping.
    files: Vec<PathBuf>,
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
                // The simulator's JSON editor, bundled by scripts/build.sh (scripts/build-editor.mjs).
                if let Some(d) = exists("target/vendor/codemirror") {
                    c.mounts.push(("/vendor/codemirror".into(), d));
                }
                c.clock = clock;
                c.rate_limit = a.rate_limit;
                c.group_commit = !a.no_group_commit;
                c.webhook_ca = a.webhook_ca.clone();
                c.read_cache_events = a.read_cache_events;
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
                let db = storage::Db::open_existing(&url(&db, &data_dir)).await?;
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
            Some(ServeCommand::Admin { db, data_dir, user }) => {
                let db = storage::Db::open_existing(&url(&db, &data_dir)).await?;
                let (password, done) = ops::set_admin(&db, &user, Clock::System.now_ms()).await?;
                db.close().await;
                println!("admin user: {user}\nadmin password: {password}");
                eprintln!(
                    "loyalty serve admin: {user} {}",
                    match done {
                        ops::AdminSet::Created => "created",
                        ops::AdminSet::Reset => "has a new password; its sessions ended",
                    }
                );
                Ok(0)
            }
            Some(ServeCommand::Backup { db, data_dir, out }) => {
                let db = storage::Db::open_existing(&url(&db, &data_dir)).await?;
                ops::backup(&db, &out).await?;
                eprintln!("loyalty serve backup: {}", out.display());
                Ok(0)
            }
            Some(ServeCommand::Copy { from, to }) => {
                let a = storage::Db::open_existing(&from).await?;
                let b = storage::Db::open(&to).await?;
                for (table, n) in ops::copy(&a, &b).await? {
                    eprintln!("{table}: {n} rows");
                }
                Ok(0)
            }
            Some(ServeCommand::Import(a)) => import(*a).await,
            Some(ServeCommand::Load {
                db,
                data_dir,
                members,
                policy,
                batch,
            }) => {
                let db = storage::Db::open(&url(&db, &data_dir)).await?;
                let now = Clock::System.now_ms();
                if let Some(p) = policy {
                    let text = std::fs::read_to_string(&p)
                        .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                    loyalty_server::load::ensure_policy(&db, &text, now).await?;
                }
                let r = loyalty_server::load::load(&db, &members, batch.max(1), now, |n| {
                    eprint!("\rloaded {n} members");
                })
                .await?;
                eprintln!();
                println!("{}", serde_json::to_string(&r).unwrap_or_default());
                eprintln!(
                    "loyalty serve load: {} members, {} events, {} report rows in {:.1} s ({:.0} members/s, {:.0} events/s); {} lines skipped",
                    r.members,
                    r.events,
                    r.report_rows,
                    r.seconds,
                    r.members as f64 / r.seconds.max(1e-9),
                    r.events as f64 / r.seconds.max(1e-9),
                    r.skipped.len()
                );
                Ok(if r.skipped.is_empty() { 0 } else { 1 })
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

async fn import(a: ImportArgs) -> Result<u8, String> {
    use loyalty_server::import::{self, Job, Source};
    let db = storage::Db::open(&url(&a.db, &a.data_dir)).await?;
    let clock = Clock::System;
    let now = clock.now_ms();
    if let Some(p) = &a.publish_policy {
        let text =
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        let digest = import::publish_first_policy(&db, &text, now, "cli").await?;
        eprintln!("loyalty serve import: policy {digest} published");
    }
    import::mark_interrupted(&db, now)
        .await
        .map_err(|e| e.to_string())?;
    let source = match (&a.members, &a.mapping) {
        (Some(file), None) => {
            if !a.files.is_empty() {
                return Err("--members takes no export files".into());
            }
            Source::Ndjson { file: file.clone() }
        }
        (None, Some(m)) => {
            let text = std::fs::read_to_string(m)
                .map_err(|e| format!("cannot read {}: {e}", m.display()))?;
            let mapping =
                serde_json::from_str(&text).map_err(|e| format!("mapping {}: {e}", m.display()))?;
            if a.files.is_empty() {
                return Err("give the exports the mapping names".into());
            }
            Source::Exports {
                mapping: Box::new(mapping),
                files: a.files.clone(),
            }
        }
        _ => return Err("give --mapping with the exports, or --members".into()),
    };
    let id = import::new_id(now);
    let job = Job {
        id: id.clone(),
        source,
        work_dir: a
            .temp_dir
            .clone()
            .unwrap_or_else(|| a.data_dir.clone())
            .join(format!("import-{id}")),
        memory_budget: a.memory_mb.saturating_mul(1 << 20),
    };
    import::create(&db, &job, "cli", now)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!("loyalty serve import: job {id}");
    let watcher = {
        let db = db.clone();
        let id = id.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                let Ok(mut c) = db.read.acquire().await else {
                    continue;
                };
                if let Ok(Some(s)) = import::status(&mut c, &id).await {
                    eprintln!(
                        "loyalty serve import: {} — {} of {} members, {} created, {} unchanged, {} events",
                        s["phase"].as_str().unwrap_or_default(),
                        s["progress"]["members_done"],
                        s["progress"]["members_expected"],
                        s["counts"]["members_created"],
                        s["counts"]["members_unchanged"],
                        s["counts"]["events_written"],
                    );
                }
            }
        })
    };
    let ran = import::run(db.clone(), clock, job).await;
    watcher.abort();
    let mut c = db.read.acquire().await.map_err(|e| e.to_string())?;
    let s = import::status(&mut c, &id)
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    drop(c);
    println!("{s}");
    ran?;
    if let Some(p) = &a.report {
        let f =
            std::fs::File::create(p).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        let mut w = std::io::BufWriter::new(f);
        import::write_report(&db, &id, &mut w).await?;
        std::io::Write::flush(&mut w).map_err(|e| e.to_string())?;
    }
    let k = &s["counts"];
    let clean = k["members_rejected"] == 0 && k["conflicts"] == 0 && s["summary"]["clean"] != false;
    eprintln!(
        "loyalty serve import: {} members created, {} unchanged, {} in conflict, {} rejected; {} events; {}",
        k["members_created"],
        k["members_unchanged"],
        k["members_conflicting"],
        k["members_rejected"],
        k["events_written"],
        if clean { "clean" } else { "NOT clean: see the report" }
    );
    Ok(if clean { 0 } else { 1 })
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}
