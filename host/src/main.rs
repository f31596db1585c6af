//! The `urr-edge` command: `build` the components, `up` to serve the application.

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
    },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("URR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Build => urr_edge::build::build_all(&Manifest::load(&cli.manifest)?),
        Command::Up {
            listen,
            build,
            compile_cache,
            pg_pool_max,
            reuse_instances,
        } => {
            if build {
                urr_edge::build::build_all(&Manifest::load(&cli.manifest)?)?;
            }
            let mut config = HostConfig::new(&cli.manifest);
            config.listen = listen;
            config.compile_cache = Some(compile_cache);
            config.reuse_instances = reuse_instances;
            config.variables = variables::overrides_from_env(std::env::vars());
            if let Some(n) = pg_pool_max {
                config.stores.pg_pool_max = n;
            }
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(up(config))
        }
    }
}

async fn up(config: HostConfig) -> Result<()> {
    let started = std::time::Instant::now();
    let host = urr_edge::start(config).await?;
    for (id, took, cached) in host.load_times() {
        tracing::info!(component = %id, took_ms = took.as_millis() as u64, from_cache = cached, "component ready");
    }
    tracing::info!(
        "URR Edge is serving on {} (booted in {:?})",
        host.url(),
        started.elapsed()
    );
    shutdown_signal().await;
    tracing::info!("shutting down: draining in-flight requests");
    host.shutdown().await;
    tracing::info!("stopped");
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
