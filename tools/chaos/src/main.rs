//! `urr-chaos`: one seeded run against a whole system of separate processes on loopback.
//! Exit status: 0 no anomaly, 1 anomalies (seed and history excerpts printed), 2 the harness
//! itself failed.

use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;
use urr_chaos::run::{self, RunConfig};

#[derive(Parser)]
#[command(
    about = "Fault injection and history checking for URR Edge (private stores, loopback only)"
)]
struct Args {
    /// The run's seed (workload and fault schedule); default: drawn from the clock, printed.
    #[arg(long)]
    seed: Option<u64>,
    /// How long the workload runs.
    #[arg(long, default_value_t = 60)]
    duration_secs: u64,
    #[arg(long, default_value_t = 10)]
    buyers: usize,
    /// The waiting room's maximum active users per event.
    #[arg(long, default_value_t = 4)]
    threshold: u32,
    /// No nemesis (the workload and the checkers only).
    #[arg(long)]
    no_faults: bool,
    /// Repository root (spin.toml, migrations/).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// The host: the `urr-edge` runtime as a plain server process (`urr-bench`'s `bench-host`).
    #[arg(long, default_value = "target/release/bench-host")]
    host_bin: PathBuf,
    #[arg(long, default_value = "target/release/urr-mock-provider")]
    provider_bin: PathBuf,
    /// Where the history (history.jsonl) and the report (report.json) go; default
    /// target/chaos/seed-<seed>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Break one invariant on purpose (to see its checker fail the run end to end).
    #[arg(long, value_enum)]
    sabotage: Option<urr_chaos::sabotage::Sabotage>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    println!("urr-chaos: seed {seed}");
    let config = RunConfig {
        seed,
        duration: Duration::from_secs(args.duration_secs),
        buyers: args.buyers,
        threshold: args.threshold,
        faults: !args.no_faults,
        out: args
            .out
            .unwrap_or_else(|| PathBuf::from(format!("target/chaos/seed-{seed}"))),
        sabotage: args.sabotage,
        repo: args.repo,
        host_bin: args.host_bin,
        provider_bin: args.provider_bin,
    };
    // On Ctrl-C the run is dropped first: every process it started is stopped by its owner.
    let outcome = tokio::select! {
        outcome = run::run(&config) => Some(outcome),
        _ = tokio::signal::ctrl_c() => None,
    };
    let Some(outcome) = outcome else {
        eprintln!("urr-chaos: interrupted (seed {seed})");
        std::process::exit(130);
    };
    match outcome {
        Ok(report) => {
            let events = urr_chaos::history::read(&report.history).unwrap_or_default();
            print!("{}", run::render(&report, &events));
            if let Ok(json) = serde_json::to_string_pretty(&report) {
                let _ = std::fs::write(config.out.join("report.json"), json);
            }
            if !report.anomalies.is_empty() {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("urr-chaos: the run failed (seed {seed}): {e:#}");
            std::process::exit(2);
        }
    }
}
