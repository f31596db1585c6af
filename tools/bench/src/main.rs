//! The `urr-bench` command: `run` drives one URL or script; `suite` runs the whole comparison.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use urr_bench::load::{self, LoadConfig, Target};
use urr_bench::scenario::{self, Fixed, RequestSpec, Scenario, Script, WithHeaders};
use urr_bench::stats::{LoadShape, RunResult, format_rps, format_us, parse_duration};
use urr_bench::suite::{self, ServerKind, SuiteConfig};

#[derive(Parser)]
#[command(
    name = "urr-bench",
    version,
    about = "Load generator and benchmark suite for URR Edge (loopback targets only)"
)]
struct Cli {
    /// Tokio worker threads of the load generator. One leaves the other core to the server on a
    /// 2-core machine.
    #[arg(long, global = true, default_value_t = 1)]
    client_threads: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Drive one URL (or a script against a base URL) and print the results.
    Run(RunArgs),
    /// Run the full comparison: host (fresh and reuse), prototype, native, store baselines.
    Suite(SuiteArgs),
    /// The catalog reads (`/events`, `/events/{id}`, and their 304s) next to the same SQL run
    /// directly, in a database of its own (created, seeded and dropped by the run).
    Catalog(CatalogArgs),
    /// Login (Argon2id inside Wasm) next to native Argon2id, `/auth/me`, the no-op, and refresh
    /// rotation chains, in a database of its own.
    Auth(AuthArgs),
    /// The waiting room's queue-rush: joins/s next to the raw script and the no-op component,
    /// a rush of users joining and polling, and status cost by line length.
    QueueRush(urr_bench::queue_rush::QueueRushArgs),
    /// Seat holds (hot set and uniform) and reserves through the host, next to the no-op, a
    /// raw EVALSHA of the hold script and pgbench running the reserve function, in one run.
    Seats(SeatsArgs),
    /// Simulated buyers (one keep-alive connection each) walking join queue → status → seat map
    /// → hold → reserve → pay → my reservations, with the mock payment provider; per-step
    /// percentiles and completed bookings/s.
    BookingFlow(BookingFlowArgs),
    /// The 14 admin statistics figures (`/stats/*`), one request at a time, on a database of
    /// `--reservations` seeded reservations; p50/p95 per figure against the 200 ms budget.
    Stats(StatsArgs),
}

#[derive(Args)]
struct StatsArgs {
    #[command(flatten)]
    app: AppArgs,
    /// Reservations seeded before measuring (with their items, payments and refunds).
    #[arg(long, default_value_t = 100_000)]
    reservations: u32,
}

#[derive(Args)]
struct BookingFlowArgs {
    /// Repository root (spin.toml, migrations/).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// The host under test [default: bench-host next to this binary].
    #[arg(long)]
    host_bin: Option<PathBuf>,
    /// The mock payment provider [default: urr-mock-provider next to this binary].
    #[arg(long)]
    provider_bin: Option<PathBuf>,
    /// An admin URL of the Postgres server (the run creates and drops its own database).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_url: String,
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Simulated users (concurrent flows).
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Measured time.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured warm-up before it (the same flows, not counted).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    warmup: Duration,
    /// Seats per booking (1..=4).
    #[arg(long, default_value_t = 1)]
    seats_per_booking: usize,
    /// The waiting room's maximum active users; below --users, users poll until admitted.
    #[arg(long, default_value_t = 1000)]
    queue_threshold: u32,
    /// Per-request timeout.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// After each purchase, a resale round: list it, browse, buy another user's listing
    /// (steps of their own, outside the flow's time).
    #[arg(long)]
    resale: bool,
    /// A Spin CLI (4.1 or later): measure on urr-edge, then on real Spin, in this one run.
    #[arg(long)]
    spin_bin: Option<PathBuf>,
    /// Write the Markdown tables here (they are printed on stdout too).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write the full JSON report here.
    #[arg(long)]
    json_out: Option<PathBuf>,
}

#[derive(Args)]
struct SeatsArgs {
    #[command(flatten)]
    app: AppArgs,
    /// Concurrent clients (each its own user and connection).
    #[arg(long, short = 'c', default_value_t = 64)]
    concurrency: usize,
    /// Seats of the hot set.
    #[arg(long, default_value_t = 100)]
    hot_seats: usize,
    /// Serve with instance reuse instead of a fresh instance per request.
    #[arg(long)]
    reuse_instances: bool,
    /// Run the raw reserve baseline with sqlx even when pgbench is installed.
    #[arg(long)]
    sqlx_baseline: bool,
    /// A Spin CLI (4.1 or later): measure on urr-edge, then on real Spin, in this one run.
    #[arg(long)]
    spin_bin: Option<PathBuf>,
}

/// What every benchmark of the whole application takes (see `urr_bench::stack`).
#[derive(Args)]
struct AppArgs {
    /// Repository root (spin.toml, migrations/).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// The host under test [default: bench-host next to this binary].
    #[arg(long)]
    host_bin: Option<PathBuf>,
    /// An admin URL of the Postgres server (the run creates and drops its own database).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_url: String,
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Measured time per cell.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured warm-up before each cell.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// Per-request timeout.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Write the Markdown table here (it is printed on stdout too).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write the full JSON report here.
    #[arg(long)]
    json_out: Option<PathBuf>,
}

impl AppArgs {
    fn repo(&self) -> Result<PathBuf> {
        self.repo.canonicalize().context("the --repo folder")
    }

    fn host_bin(&self) -> Result<PathBuf> {
        match &self.host_bin {
            Some(path) => Ok(path.clone()),
            None => Ok(sibling_binary("bench-host")?),
        }
    }

    fn scratch(&self, name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("urr-bench-{name}-{}", std::process::id()))
    }

    /// Prints the Markdown and writes it and the JSON report where asked.
    fn write_report(&self, markdown: &str, report: &impl serde::Serialize) -> Result<()> {
        write_report(
            self.out.as_deref(),
            self.json_out.as_deref(),
            markdown,
            report,
        )
    }
}

/// Prints the Markdown and writes it to `out` and the JSON report to `json_out`, where given.
fn write_report(
    out: Option<&std::path::Path>,
    json_out: Option<&std::path::Path>,
    markdown: &str,
    report: &impl serde::Serialize,
) -> Result<()> {
    println!("{markdown}");
    if let Some(out) = out {
        std::fs::write(out, markdown).with_context(|| format!("writing {}", out.display()))?;
    }
    if let Some(out) = json_out {
        std::fs::write(out, serde_json::to_string_pretty(report)?)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

/// A binary built next to this one.
fn sibling_binary(name: &str) -> Result<PathBuf> {
    Ok(std::env::current_exe()?
        .parent()
        .context("no folder for this binary")?
        .join(name))
}

#[derive(Args)]
struct CatalogArgs {
    #[command(flatten)]
    app: AppArgs,
    /// Concurrencies to measure, comma-separated.
    #[arg(long, default_value = "16,64", value_delimiter = ',')]
    concurrency: Vec<usize>,
}

#[derive(Args)]
struct AuthArgs {
    #[command(flatten)]
    app: AppArgs,
    /// Login concurrencies, comma-separated (each login takes a core for one Argon2id).
    #[arg(long, default_value = "1,2", value_delimiter = ',')]
    login_concurrency: Vec<usize>,
    /// Concurrent refresh chains (also the concurrency of the `/auth/me` and no-op cells).
    #[arg(long, default_value_t = 16)]
    refresh_concurrency: usize,
}

#[derive(Args)]
struct RunArgs {
    /// Target URL (loopback only); with --script, the base URL the script's paths are added to.
    #[arg(long)]
    url: String,
    /// A script of requests (`METHOD PATH [BODY]` per line) instead of GET <url>.
    #[arg(long)]
    script: Option<PathBuf>,
    /// Concurrent keep-alive connections (closed loop), or the most in flight with --rate.
    #[arg(long, short = 'c', default_value_t = 16)]
    concurrency: usize,
    /// Fixed arrival rate in requests per second (open loop) instead of a closed loop.
    #[arg(long)]
    rate: Option<f64>,
    /// Measured time (at most 10 minutes).
    #[arg(long, short = 'd', default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured warm-up before the measured run.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    warmup: Duration,
    /// Stop after this many requests even if time is left.
    #[arg(long, default_value_t = 5_000_000)]
    max_requests: u64,
    /// Per-request timeout (counted as an error).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Extra header on every request, `Name: value` (repeatable), e.g. a bearer token.
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    /// Print the result as JSON on stdout (the table then goes to stderr).
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct SuiteArgs {
    /// Repository root (for tests/fixtures/spin.toml and the default binary paths).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// The host under test [default: bench-host next to this binary].
    #[arg(long)]
    host_bin: Option<PathBuf>,
    /// The native baseline [default: bench-native next to this binary].
    #[arg(long)]
    native_bin: Option<PathBuf>,
    /// A built copy of the reference prototype (its folder); omit to skip it.
    #[arg(long)]
    prototype_dir: Option<PathBuf>,
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_url: String,
    /// Measured time per cell.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured warm-up before each cell.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// Concurrencies to measure, comma-separated.
    #[arg(long, default_value = "1,16", value_delimiter = ',')]
    concurrency: Vec<usize>,
    /// Rounds (every cell is measured once per round; the median round is reported).
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Boots per boot-time figure.
    #[arg(long, default_value_t = 3)]
    boot_samples: usize,
    /// Per-request timeout.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Servers to include, comma-separated: host-fresh, host-reuse, prototype (the prototype
    /// host serving our components), prototype-own (serving its own components), native, spin
    /// (real Spin, with --spin-bin).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "host-fresh,host-reuse,prototype,prototype-own,native"
    )]
    servers: Vec<String>,
    /// Skip redis-benchmark and pgbench.
    #[arg(long)]
    no_baselines: bool,
    /// A Spin CLI (4.1 or later) for the `spin` server: the same components on real Spin.
    #[arg(long)]
    spin_bin: Option<PathBuf>,
    /// Write the Markdown tables here (they are printed on stdout too).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write the full JSON report here.
    #[arg(long)]
    json_out: Option<PathBuf>,
    /// Scratch folder for logs, compile caches and the host snapshot [default: a temp folder].
    #[arg(long)]
    scratch: Option<PathBuf>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.client_threads.clamp(1, 64))
        .enable_all()
        .build()?;
    match cli.command {
        Command::Run(args) => runtime.block_on(run(args)),
        Command::Suite(args) => runtime.block_on(run_suite(args)),
        Command::Catalog(args) => runtime.block_on(run_catalog(args)),
        Command::Stats(args) => runtime.block_on(run_stats(args)),
        Command::Auth(args) => runtime.block_on(run_auth(args)),
        Command::QueueRush(args) => runtime.block_on(urr_bench::queue_rush::run_command(args)),
        Command::Seats(args) => runtime.block_on(run_seats(args)),
        Command::BookingFlow(args) => runtime.block_on(run_booking_flow(args)),
    }
}

fn print_table(results: &[RunResult], to_stderr: bool) {
    let mut text = format!(
        "{:<36} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}  {}\n",
        "run", "load", "req/s", "ok", "p50", "p95", "p99", "max", "errors"
    );
    for r in results {
        text.push_str(&format!(
            "{:<36} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}  {}\n",
            r.label,
            r.load.describe(),
            format_rps(r.throughput_rps),
            r.ok,
            format_us(r.latency.p50_us),
            format_us(r.latency.p95_us),
            format_us(r.latency.p99_us),
            format_us(r.latency.max_us),
            r.error_summary()
        ));
    }
    if to_stderr {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
}

async fn run(args: RunArgs) -> Result<()> {
    let (target, path) = Target::parse_url(&args.url)?;
    let headers = args
        .headers
        .iter()
        .map(|h| scenario::parse_header(h))
        .collect::<Result<Vec<_>>>()?;
    let inner: Box<dyn Scenario> = match &args.script {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            Box::new(Script::parse(&file.display().to_string(), &text)?)
        }
        None => Box::new(Fixed {
            spec: RequestSpec::get(path),
        }),
    };
    let scenario: Arc<dyn Scenario> = Arc::new(WithHeaders { inner, headers });
    let shape = match args.rate {
        Some(per_sec) => LoadShape::Rate {
            per_sec,
            max_in_flight: args.concurrency,
        },
        None => LoadShape::Concurrency {
            concurrency: args.concurrency,
        },
    };
    let config = LoadConfig {
        target,
        shape,
        duration: args.duration,
        max_requests: args.max_requests,
        timeout: args.timeout,
    };
    let label = scenario.name();
    let result = load::run_warmed(&config, args.warmup, scenario, &label).await?;
    print_table(std::slice::from_ref(&result), args.json);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    }
    Ok(())
}

fn server_kind(name: &str) -> Result<ServerKind> {
    Ok(match name.trim() {
        "host-fresh" => ServerKind::HostFresh,
        "host-reuse" => ServerKind::HostReuse,
        "prototype" => ServerKind::Prototype,
        "prototype-own" => ServerKind::PrototypeOwn,
        "native" => ServerKind::Native,
        "spin" => ServerKind::Spin,
        other => bail!(
            "unknown server `{other}` (host-fresh, host-reuse, prototype, prototype-own, native, spin)"
        ),
    })
}

async fn run_suite(args: SuiteArgs) -> Result<()> {
    let here = std::env::current_exe()?
        .parent()
        .context("no folder for this binary")?
        .to_path_buf();
    let native_bin = args.native_bin.unwrap_or_else(|| here.join("bench-native"));
    let scratch = args
        .scratch
        .unwrap_or_else(|| std::env::temp_dir().join(format!("urr-bench-{}", std::process::id())));
    let config = SuiteConfig {
        host_bin: args.host_bin.unwrap_or_else(|| here.join("bench-host")),
        repo: args.repo.canonicalize().context("the --repo folder")?,
        native_bin,
        prototype_dir: args
            .prototype_dir
            .map(|d| d.canonicalize().context("the --prototype-dir folder"))
            .transpose()?,
        redis_url: args.redis_url,
        pg_url: args.pg_url,
        duration: args.duration,
        warmup: args.warmup,
        concurrency: args.concurrency,
        rounds: args.rounds,
        boot_samples: args.boot_samples.max(1),
        timeout: args.timeout,
        scratch: scratch.clone(),
        baselines: !args.no_baselines,
        servers: args
            .servers
            .iter()
            .map(|s| server_kind(s))
            .collect::<Result<_>>()?,
        spin_bin: args.spin_bin,
    };
    let report = suite::run(config).await?;
    let md = suite::render_markdown(&report);
    println!("{md}");
    if let Some(out) = &args.out {
        std::fs::write(out, &md).with_context(|| format!("writing {}", out.display()))?;
    }
    if let Some(out) = &args.json_out {
        std::fs::write(out, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    eprintln!("logs and compile caches: {}", scratch.display());
    Ok(())
}

async fn run_catalog(args: CatalogArgs) -> Result<()> {
    let app = &args.app;
    let config = urr_bench::catalog::CatalogConfig {
        repo: app.repo()?,
        host_bin: app.host_bin()?,
        pg_url: app.pg_url.clone(),
        redis_url: app.redis_url.clone(),
        duration: app.duration,
        warmup: app.warmup,
        concurrency: args.concurrency,
        timeout: app.timeout,
        scratch: app.scratch("catalog"),
    };
    let report = urr_bench::catalog::run(config).await?;
    app.write_report(&urr_bench::catalog::render_markdown(&report), &report)
}

async fn run_stats(args: StatsArgs) -> Result<()> {
    let app = &args.app;
    let config = urr_bench::admin_stats::AdminStatsConfig {
        repo: app.repo()?,
        host_bin: app.host_bin()?,
        pg_url: app.pg_url.clone(),
        redis_url: app.redis_url.clone(),
        reservations: args.reservations,
        duration: app.duration,
        warmup: app.warmup,
        timeout: app.timeout,
        scratch: app.scratch("stats"),
    };
    let report = urr_bench::admin_stats::run(config).await?;
    app.write_report(&urr_bench::admin_stats::render_markdown(&report), &report)
}

async fn run_auth(args: AuthArgs) -> Result<()> {
    let app = &args.app;
    if args.login_concurrency.is_empty() || args.refresh_concurrency == 0 {
        bail!("--login-concurrency and --refresh-concurrency must be at least 1");
    }
    let config = urr_bench::auth::AuthConfig {
        repo: app.repo()?,
        host_bin: app.host_bin()?,
        pg_url: app.pg_url.clone(),
        redis_url: app.redis_url.clone(),
        duration: app.duration,
        warmup: app.warmup,
        login_concurrency: args.login_concurrency,
        refresh_concurrency: args.refresh_concurrency,
        timeout: app.timeout,
        scratch: app.scratch("auth"),
    };
    let report = urr_bench::auth::run(config).await?;
    app.write_report(&urr_bench::auth::render_markdown(&report), &report)
}

async fn run_seats(args: SeatsArgs) -> Result<()> {
    let app = &args.app;
    let mut reports = Vec::new();
    for runtime in urr_bench::stack::runtimes(args.spin_bin.as_deref()) {
        let config = urr_bench::seats::SeatsConfig {
            repo: app.repo()?,
            host_bin: app.host_bin()?,
            spin_bin: runtime.spin_bin.clone(),
            pg_url: app.pg_url.clone(),
            redis_url: app.redis_url.clone(),
            duration: app.duration,
            warmup: app.warmup,
            concurrency: args.concurrency,
            hot_seats: args.hot_seats,
            reuse_instances: args.reuse_instances,
            sqlx_baseline: args.sqlx_baseline,
            timeout: app.timeout,
            scratch: app.scratch(&format!("seats-{}", runtime.label)),
        };
        reports.push((runtime, urr_bench::seats::run(config).await?));
    }
    let markdown = urr_bench::stack::by_runtime(&reports, urr_bench::seats::render_markdown);
    app.write_report(&markdown, &reports)
}

async fn run_booking_flow(args: BookingFlowArgs) -> Result<()> {
    let repo = args.repo.canonicalize().context("the --repo folder")?;
    let host_bin = match &args.host_bin {
        Some(path) => path.clone(),
        None => sibling_binary("bench-host")?,
    };
    let provider_bin = match &args.provider_bin {
        Some(path) => path.clone(),
        None => sibling_binary("urr-mock-provider")?,
    };
    let mut reports = Vec::new();
    for runtime in urr_bench::stack::runtimes(args.spin_bin.as_deref()) {
        let config = urr_bench::booking_flow::FlowConfig {
            repo: repo.clone(),
            host_bin: host_bin.clone(),
            spin_bin: runtime.spin_bin.clone(),
            provider_bin: provider_bin.clone(),
            pg_url: args.pg_url.clone(),
            redis_url: args.redis_url.clone(),
            users: args.users,
            duration: args.duration,
            warmup: args.warmup,
            seats_per_booking: args.seats_per_booking,
            queue_threshold: args.queue_threshold,
            timeout: args.timeout,
            resale: args.resale,
            scratch: std::env::temp_dir().join(format!(
                "urr-bench-flow-{}-{}",
                runtime.label,
                std::process::id()
            )),
        };
        reports.push((runtime, urr_bench::booking_flow::run(config).await?));
    }
    let markdown = urr_bench::stack::by_runtime(&reports, urr_bench::booking_flow::render_markdown);
    write_report(
        args.out.as_deref(),
        args.json_out.as_deref(),
        &markdown,
        &reports,
    )
}
