//! The `urr-edge` command: `build` the components, `migrate` and `seed` the database, `up` to
//! serve the application.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use urr_edge::{HostConfig, manifest::Manifest, variables};

#[derive(Parser)]
#[command(
    name = "urr-edge",
    version,
    about = "Spin-compatible runtime for the URR Edge components"
)]
struct Cli {
    /// The application manifest.
    #[arg(
        long,
        short = 'f',
        global = true,
        default_value = "spin.toml",
        env = "URR_MANIFEST"
    )]
    manifest: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every component's build command (like `spin build`).
    Build,
    /// Serve the application (like `spin up`).
    Up {
        /// Address to listen on. URR's web app expects the API at localhost:3001.
        #[arg(long, default_value = "localhost:3001", env = "URR_LISTEN")]
        listen: String,
        /// Build the components first.
        #[arg(long)]
        build: bool,
        /// Directory for precompiled components.
        #[arg(long, default_value = ".urr/cache", env = "URR_COMPILE_CACHE")]
        compile_cache: PathBuf,
        /// Postgres connections per address.
        #[arg(long, env = "URR_PG_POOL_MAX")]
        pg_pool_max: Option<u32>,
        /// Reuse instances across requests instead of a fresh one per request (see docs).
        #[arg(long, env = "URR_REUSE_INSTANCES")]
        reuse_instances: bool,
        /// Redis to use instead of the local one (default: 127.0.0.1:6379 if it answers, else a
        /// private redis-server under .urr/).
        #[arg(long, env = "URR_REDIS_URL")]
        redis_url: Option<String>,
        /// PostgreSQL admin URL to use instead of the local one (default: 127.0.0.1:5432 as
        /// `postgres` if it answers, else a private server under .urr/).
        #[arg(long, env = "URR_DATABASE_URL")]
        database_url: Option<String>,
        /// Where private servers, the compile cache and development keys live.
        #[arg(long, default_value = ".urr", env = "URR_STATE_DIR")]
        state_dir: PathBuf,
        /// Address of the metrics listener (`GET /metrics`, unauthenticated: keep it on
        /// loopback or a private interface); `off` for none. The API listener never serves it.
        #[arg(long, default_value = urr_edge::config::DEFAULT_METRICS_LISTEN, env = "URR_METRICS_LISTEN")]
        metrics_listen: String,
    },
    /// Create the database if missing, bootstrap the component roles, apply the migrations.
    Migrate {
        #[command(flatten)]
        target: DatabaseTarget,
        /// The migrations folder.
        #[arg(long, default_value = "migrations")]
        migrations: PathBuf,
    },
    /// Load the demo catalog (layouts, events, seats, ticket types) into a migrated database.
    /// Idempotent: a second run changes nothing.
    Seed {
        #[command(flatten)]
        target: DatabaseTarget,
    },
}

/// The database `migrate` and `seed` work on.
#[derive(clap::Args)]
struct DatabaseTarget {
    /// PostgreSQL admin URL (a role that may create databases and roles).
    #[arg(
        long,
        env = "URR_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// The application database.
    #[arg(long, default_value = urr_edge::devstack::DATABASE_NAME)]
    database: String,
}

/// Server notices (e.g. the WARNING of the ROLLBACK that resets every released session) are noise.
const DEFAULT_LOG_FILTER: &str = "info,sqlx::postgres::notice=off";

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("URR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .with_target(false)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Build => urr_edge::build::build_all(&Manifest::load(&cli.manifest)?),
        Command::Migrate { target, migrations } => runtime()?.block_on(async {
            let DatabaseTarget {
                database_url,
                database,
            } = target;
            urr_edge::database::setup(&database_url, &database, &migrations).await?;
            tracing::info!("database `{database}` is migrated");
            Ok(())
        }),
        Command::Seed { target } => runtime()?.block_on(async {
            seed(&urr_edge::database::with_database(
                &target.database_url,
                &target.database,
            ))
            .await
        }),
        Command::Up {
            listen,
            build,
            compile_cache,
            pg_pool_max,
            reuse_instances,
            redis_url,
            database_url,
            state_dir,
            metrics_listen,
        } => {
            let manifest = Manifest::load(&cli.manifest)?;
            if build {
                urr_edge::build::build_all(&manifest)?;
            }
            let mut config = HostConfig::new(&cli.manifest);
            config.listen = listen;
            config.compile_cache = Some(compile_cache);
            config.reuse_instances = reuse_instances;
            config.metrics_listen = (metrics_listen != "off").then_some(metrics_listen);
            if let Some(n) = pg_pool_max {
                config.stores.pg_pool_max = n;
            }
            runtime()?.block_on(up(config, manifest, redis_url, database_url, state_dir))
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

async fn up(
    mut config: HostConfig,
    manifest: Manifest,
    redis_url: Option<String>,
    database_url: Option<String>,
    state_dir: PathBuf,
) -> Result<()> {
    let started = std::time::Instant::now();
    // Stores first: the local ones, or the operator's. Private servers stop when `stack` drops.
    let stack = urr_edge::devstack::start(&state_dir, redis_url, database_url).await?;
    tracing::info!(
        "Redis at {}, PostgreSQL at {}",
        stack.redis_url,
        urr_edge::stores::redact(&stack.admin_url)
    );
    let migrations = manifest.root.join("migrations");
    urr_edge::database::setup_with_passwords(
        &stack.admin_url,
        urr_edge::devstack::DATABASE_NAME,
        &migrations,
        &|role| stack.role_password(role),
    )
    .await?;
    seed(&urr_edge::database::with_database(
        &stack.admin_url,
        urr_edge::devstack::DATABASE_NAME,
    ))
    .await?;
    config.variables = urr_edge::devstack::store_variables(&stack, &manifest.variables);
    let keys = urr_edge::keys::load_or_generate(&state_dir.join("keys"))?;
    config
        .variables
        .extend(urr_edge::keys::variables(&keys, &manifest.variables));
    let queue_keys = urr_edge::keys::load_or_generate_queue(&state_dir.join("keys"))?;
    config.variables.extend(urr_edge::keys::queue_variables(
        &queue_keys,
        &manifest.variables,
    ));
    // `up` is local development: the payment mock's published secrets are allowed
    // (docs/configuration.md). SPIN_VARIABLE_DEVELOPMENT_MODE=false rehearses production.
    if manifest
        .variables
        .contains_key(urr_payments::development::DEVELOPMENT_MODE_VARIABLE)
    {
        config.variables.insert(
            urr_payments::development::DEVELOPMENT_MODE_VARIABLE.to_string(),
            "true".to_string(),
        );
    }
    // Explicit SPIN_VARIABLE_* overrides win over everything `up` worked out.
    config
        .variables
        .extend(variables::overrides_from_env(std::env::vars()));

    // A fresh local system pays through the development mock provider (stopped on exit).
    let captured = urr_edge::devstack::captured_payments(&urr_edge::database::with_database(
        &stack.admin_url,
        urr_edge::devstack::DATABASE_NAME,
    ))
    .await?;
    let payment_mock = urr_edge::devstack::start_payment_mock(
        &config.variables,
        &manifest.variables,
        &config.listen,
        &state_dir,
        &captured,
    );

    let host = urr_edge::start(config).await?;
    for (id, took, cached) in host.load_times() {
        tracing::info!(component = %id, took_ms = took.as_millis() as u64, from_cache = cached, "component ready");
    }
    // Browsers treat `localhost` and `127.0.0.1` as different sites for cookies, and the web
    // app's CSP and the contract speak of `localhost`: print the URL to open.
    tracing::info!(
        "URR Edge is serving on {} (booted in {:?})",
        host.url().replace("://127.0.0.1:", "://localhost:"),
        started.elapsed()
    );
    if let Some(metrics) = host.metrics_url() {
        tracing::info!("metrics at {metrics}");
    }
    shutdown_signal().await;
    tracing::info!("shutting down: draining in-flight requests");
    host.shutdown().await;
    drop(payment_mock);
    drop(stack);
    tracing::info!("stopped");
    Ok(())
}

async fn seed(database_url: &str) -> Result<()> {
    let started = std::time::Instant::now();
    let report = urr_edge::seed::seed(database_url).await?;
    tracing::info!(
        layouts = report.layouts,
        events = report.events,
        ticket_types = report.ticket_types,
        seats = report.seats,
        took_ms = started.elapsed().as_millis() as u64,
        "demo catalog seeded (counts are what this run inserted)"
    );
    let sales = urr_edge::seed::seed_history(database_url).await?;
    tracing::info!(
        reservations = sales,
        "demo sales history seeded (reservations this run inserted)"
    );
    use urr_edge::seed::{ADMIN_EMAIL_ENV, ADMIN_PASSWORD_ENV};
    match (
        std::env::var(ADMIN_EMAIL_ENV).ok(),
        std::env::var(ADMIN_PASSWORD_ENV).ok(),
    ) {
        (Some(email), Some(password)) => {
            let outcome = urr_edge::seed::seed_admin(database_url, &email, &password).await?;
            tracing::info!(%email, ?outcome, "admin account");
        }
        (None, None) => tracing::info!(
            "no admin account seeded (set {ADMIN_EMAIL_ENV} and {ADMIN_PASSWORD_ENV} to get one)"
        ),
        _ => anyhow::bail!("set both {ADMIN_EMAIL_ENV} and {ADMIN_PASSWORD_ENV}, or neither"),
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
