//! `bench-host`: our host (the `urr-edge` library) as a process of its own, configured for a
//! benchmark: what `urr-edge up` runs, without its development conveniences (starting local
//! stores, migrating a database). Variables come from `SPIN_VARIABLE_*` as with `up`; guest
//! stdout/stderr are discarded (`--guest-output` keeps them); the per-request access log is off unless `URR_LOG` asks for it.

use anyhow::{Context, Result, bail};
use clap::Parser;
use std::path::PathBuf;
use urr_edge::{GuestOutput, HostConfig, variables};

#[derive(Parser)]
#[command(
    name = "bench-host",
    about = "The URR Edge host, configured for benchmarks"
)]
struct Args {
    /// The application manifest.
    #[arg(long, short = 'f')]
    manifest: PathBuf,
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:3901")]
    listen: String,
    /// Directory for precompiled components.
    #[arg(long)]
    compile_cache: PathBuf,
    /// Reuse instances across requests (`HostConfig.reuse_instances`).
    #[arg(long)]
    reuse_instances: bool,
    /// Pass the guests' stdout/stderr through to this process's (to find out why a benchmark's
    /// requests fail); discarded otherwise, as the measured runs need.
    #[arg(long)]
    guest_output: bool,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("URR_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,urr_edge::request=off")
            }),
        )
        .with_target(false)
        .with_ansi(false)
        .init();
    let args = Args::parse();
    let addr: std::net::SocketAddr = args
        .listen
        .parse()
        .with_context(|| format!("`{}` is not ip:port", args.listen))?;
    if !addr.ip().is_loopback() {
        bail!("bench-host listens on loopback addresses only");
    }
    let mut config = HostConfig::new(&args.manifest);
    config.listen = args.listen;
    config.compile_cache = Some(args.compile_cache);
    config.reuse_instances = args.reuse_instances;
    config.guest_output = if args.guest_output {
        GuestOutput::Inherit
    } else {
        GuestOutput::Discard
    };
    config.variables = variables::overrides_from_env(std::env::vars());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(config))
}

async fn serve(config: HostConfig) -> Result<()> {
    let started = std::time::Instant::now();
    let host = urr_edge::start(config).await?;
    for (id, took, cached) in host.load_times() {
        tracing::info!(component = %id, took_ms = took.as_millis() as u64, from_cache = cached, "component ready");
    }
    tracing::info!(
        "bench-host serving on {} (booted in {:?})",
        host.url(),
        started.elapsed()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    host.shutdown().await;
    Ok(())
}
