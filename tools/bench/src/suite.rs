//! `urr-bench suite`: the whole comparison in one invocation. Each server runs as its own process
//! (the load generator is this process): our host with a fresh instance per request, our host with
//! `--reuse-instances`, the reference prototype (when its folder is given) and `bench-native`. Each
//! serves a no-op route and a Redis round-trip route at every concurrency; the store baselines
//! (`redis-benchmark`, `pgbench`) run when their binaries exist. Boot times (cold and with the
//! compile cache), RSS and per-request memory are measured on the same processes.

use crate::baselines::{self, StoreAddr};
use crate::load::{self, LoadConfig, Target};
use crate::procs::{self, RssSampler, ServerProcess};
use crate::scenario::{Fixed, RequestSpec, Scenario};
use crate::stats::{
    LoadShape, RunResult, format_kib, format_percent, format_ratio, format_rps, format_us, median,
    ratio,
};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::process::Command;

/// Target: fresh-instance throughput at least this multiple of the prototype's.
pub const TARGET_FRESH_VS_PROTO_RPS: f64 = 1.3;
/// Target: fresh-instance p50 at concurrency 1 at most this multiple of the prototype's.
pub const TARGET_FRESH_VS_PROTO_P50: f64 = 0.8;
/// Target: instance-reuse throughput at least this fraction of native.
pub const TARGET_REUSE_VS_NATIVE_RPS: f64 = 0.3;
/// How long a server may take to answer its first request.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// The prototype increments this fixed key (its code is not ours to change); the suite restores
/// it afterwards.
const PROTOTYPE_REDIS_KEY: &str = "demo:counter";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerKind {
    HostFresh,
    HostReuse,
    /// The prototype host serving the same components as ours (the comparison the targets use).
    Prototype,
    /// The prototype host serving its own `hello` and `ticket-counter` components (reference).
    PrototypeOwn,
    Native,
    /// Real Spin (`spin up`, >= 4.1) serving the same components, with the flags production uses
    /// (a fresh instance per request, as `HostFresh`).
    Spin,
}

impl ServerKind {
    pub fn label(self) -> &'static str {
        match self {
            ServerKind::HostFresh => "urr-edge, fresh instance",
            ServerKind::HostReuse => "urr-edge --reuse-instances",
            ServerKind::Prototype => "prototype (pooling)",
            ServerKind::PrototypeOwn => "prototype, its own components",
            ServerKind::Native => "native hyper",
            ServerKind::Spin => "Spin 4.1 (spin up, fresh instance)",
        }
    }

    fn ready_path(self) -> &'static str {
        match self {
            ServerKind::PrototypeOwn => "/hello",
            _ => "/health",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// A component that does no I/O: the `health` component's `/health` (the prototype's
    /// `hello` component; the native server answers the same JSON).
    Noop,
    /// Two variable reads, a Redis connection open and one INCR: the fixture's `/fixture/incr/:key`
    /// (the prototype's `/counter/redis`; the native server does the INCR on a shared connection).
    Redis,
}

impl Workload {
    pub fn label(self) -> &'static str {
        match self {
            Workload::Noop => "no-op",
            Workload::Redis => "Redis INCR",
        }
    }

    fn path(self, server: ServerKind) -> &'static str {
        match (self, server) {
            (Workload::Noop, ServerKind::PrototypeOwn) => "/hello",
            (Workload::Noop, _) => "/health",
            (Workload::Redis, ServerKind::PrototypeOwn) => "/counter/redis",
            (Workload::Redis, _) => "/fixture/incr/bench",
        }
    }
}

/// Settings of a suite run.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// The repository root (for tests/fixtures/spin.toml).
    pub repo: PathBuf,
    /// `bench-host`: the host library in a process of its own.
    pub host_bin: PathBuf,
    pub native_bin: PathBuf,
    /// A built copy of the reference prototype; `None` skips it.
    pub prototype_dir: Option<PathBuf>,
    pub redis_url: String,
    pub pg_url: String,
    pub duration: Duration,
    pub warmup: Duration,
    pub concurrency: Vec<usize>,
    pub rounds: usize,
    pub boot_samples: usize,
    pub timeout: Duration,
    pub scratch: PathBuf,
    pub baselines: bool,
    /// Servers to run (all by default).
    pub servers: Vec<ServerKind>,
    /// A Spin CLI (>= 4.1) for the `Spin` server; `None` skips it.
    pub spin_bin: Option<PathBuf>,
}

/// One measured run of one server.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub round: usize,
    pub server: ServerKind,
    pub workload: Workload,
    pub concurrency: usize,
    pub result: RunResult,
    pub rss_idle_kib: Option<u64>,
    pub rss_peak_kib: Option<u64>,
    pub rss_after_kib: Option<u64>,
    /// Server CPU time (user + system) during the measured run.
    pub server_cpu_s: Option<f64>,
    pub loadavg_before: Option<f64>,
    pub loadavg_after: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BootSample {
    pub server: ServerKind,
    /// `cold` (nothing cached), `cached` (compile cache filled), or `none` (nothing to cache).
    pub cache: &'static str,
    pub boot_ms: f64,
    pub rss_idle_kib: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub target: String,
    pub workload: Workload,
    pub concurrency: usize,
    /// The median of the per-round ratios.
    pub measured: Option<f64>,
    /// The ratio in each round (both servers measured back to back).
    pub per_round: Vec<f64>,
    pub required: String,
    pub met: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    pub started_unix: u64,
    pub cpus: usize,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub rounds: usize,
    pub concurrency: Vec<usize>,
    pub boots: Vec<BootSample>,
    pub runs: Vec<Measured>,
    pub baselines: Vec<RunResult>,
    pub verdicts: Vec<Verdict>,
    pub notes: Vec<String>,
}

fn unique_prefix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "urrbench:{:x}",
        (nanos as u64) ^ ((std::process::id() as u64) << 40)
    )
}

/// The application every Wasm host serves: our `health` and `fixture` components (copied into
/// the scratch folder, so a rebuild during the suite changes nothing), with routes and store
/// addresses written out literally, in the subset of spin.toml both our host and the prototype
/// read (the prototype has no `:param` routes and no templates in `allowed_outbound_hosts`).
pub fn bench_manifest(redis_host: &str, pg_host: &str) -> String {
    format!(
        r#"# Written by urr-bench: the same components for every Wasm host under test.
spin_manifest_version = 2

[application]
name = "urr-bench"

[variables]
redis_address = {{ required = true }}
redis_host = {{ required = true }}
pg_address = {{ required = true }}
pg_host = {{ required = true }}
key_prefix = {{ required = true }}

[[trigger.http]]
route = "/health"
component = "health"

[[trigger.http]]
route = "/fixture/..."
component = "fixture"

[component.health]
source = "urr_health.wasm"
allowed_outbound_hosts = ["redis://{redis_host}", "postgres://{pg_host}"]

[component.health.variables]
redis_address = "{{{{ redis_address }}}}"
redis_host = "{{{{ redis_host }}}}"
pg_address = "{{{{ pg_address }}}}"
pg_host = "{{{{ pg_host }}}}"

[component.fixture]
source = "urr_fixture.wasm"
allowed_outbound_hosts = ["redis://{redis_host}", "postgres://{pg_host}"]

[component.fixture.variables]
redis_address = "{{{{ redis_address }}}}"
redis_host = "{{{{ redis_host }}}}"
pg_address = "{{{{ pg_address }}}}"
pg_host = "{{{{ pg_host }}}}"
key_prefix = "{{{{ key_prefix }}}}"
"#
    )
}

fn base_command(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    // A clean environment: stray SPIN_VARIABLE_* or URR_* settings must not change what is measured.
    cmd.env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    cmd
}

struct SuiteContext {
    config: SuiteConfig,
    host_bin: PathBuf,
    /// The manifest every Wasm host serves (`bench_manifest`).
    manifest: PathBuf,
    prefix: String,
    redis_host: String,
    pg_host: String,
    clock_ticks: f64,
}

impl SuiteContext {
    fn command(&self, kind: ServerKind, port: u16, cache: &Path) -> Result<Command> {
        let c = &self.config;
        let listen = format!("127.0.0.1:{port}");
        Ok(match kind {
            ServerKind::HostFresh | ServerKind::HostReuse => {
                let mut cmd = base_command(&self.host_bin);
                cmd.arg("-f")
                    .arg(&self.manifest)
                    .args(["--listen", &listen])
                    .arg("--compile-cache")
                    .arg(cache);
                if kind == ServerKind::HostReuse {
                    cmd.arg("--reuse-instances");
                }
                cmd.env("SPIN_VARIABLE_REDIS_ADDRESS", &c.redis_url)
                    .env("SPIN_VARIABLE_REDIS_HOST", &self.redis_host)
                    .env("SPIN_VARIABLE_PG_ADDRESS", &c.pg_url)
                    .env("SPIN_VARIABLE_PG_HOST", &self.pg_host)
                    .env("SPIN_VARIABLE_KEY_PREFIX", &self.prefix);
                cmd
            }
            ServerKind::Prototype | ServerKind::PrototypeOwn => {
                let dir = c
                    .prototype_dir
                    .as_ref()
                    .context("no prototype folder given")?;
                let mut cmd = base_command(&dir.join("host/target/release/prototype-host"));
                cmd.arg("--manifest");
                if kind == ServerKind::Prototype {
                    cmd.arg(&self.manifest)
                        .env("SPIN_VARIABLE_REDIS_HOST", &self.redis_host)
                        .env("SPIN_VARIABLE_PG_HOST", &self.pg_host)
                        .env("SPIN_VARIABLE_KEY_PREFIX", &self.prefix);
                } else {
                    cmd.arg(dir.join("spin.toml"));
                }
                cmd.args(["--listen", &listen, "--pooling"])
                    .env("SPIN_VARIABLE_PG_ADDRESS", &c.pg_url)
                    .env("SPIN_VARIABLE_REDIS_ADDRESS", &c.redis_url)
                    // Its best measured configuration (see its notes).
                    .env("PROTO_KEEP_RESIDENT", "1")
                    .current_dir(dir);
                cmd
            }
            ServerKind::Spin => {
                let spin = c.spin_bin.as_ref().context("no --spin-bin given")?;
                // The production flags, a clean environment, its logs in the scratch folder,
                // loopback Postgres without TLS, and a process group of its own (procs.rs stops
                // the group: spin up and its trigger process).
                let logs = c.scratch.join(format!("spin-logs-{port}"));
                let variables = [
                    ("redis_address", c.redis_url.as_str()),
                    ("redis_host", self.redis_host.as_str()),
                    ("pg_address", c.pg_url.as_str()),
                    ("pg_host", self.pg_host.as_str()),
                    ("key_prefix", self.prefix.as_str()),
                ];
                Command::from(urr_edge::spin_cli::up_command(
                    spin,
                    &self.manifest,
                    &listen,
                    &logs,
                    variables,
                ))
            }
            ServerKind::Native => {
                let mut cmd = base_command(&c.native_bin);
                cmd.args(["--listen", &listen])
                    .args(["--redis", &c.redis_url])
                    .args(["--key-prefix", &self.prefix]);
                cmd
            }
        })
    }

    async fn start(&self, kind: ServerKind, cache: &Path, tag: &str) -> Result<ServerProcess> {
        let port = procs::free_port()?;
        let log = self
            .config
            .scratch
            .join(format!("{}-{tag}.log", kind_key(kind)));
        ServerProcess::start(
            kind.label(),
            self.command(kind, port, cache)?,
            port,
            kind.ready_path(),
            &log,
            READY_TIMEOUT,
        )
        .await
    }
}

fn workload_key(workload: Workload) -> &'static str {
    match workload {
        Workload::Noop => "noop",
        Workload::Redis => "redis",
    }
}

fn kind_key(kind: ServerKind) -> &'static str {
    match kind {
        ServerKind::HostFresh => "host-fresh",
        ServerKind::HostReuse => "host-reuse",
        ServerKind::Prototype => "prototype",
        ServerKind::PrototypeOwn => "prototype-own",
        ServerKind::Native => "native",
        ServerKind::Spin => "spin",
    }
}

async fn measure(
    ctx: &SuiteContext,
    server: &ServerProcess,
    kind: ServerKind,
    workload: Workload,
    concurrency: usize,
) -> Result<(RunResult, Option<u64>, Option<f64>)> {
    let (target, _) = Target::parse_url(&server.base_url())?;
    let scenario: Arc<dyn Scenario> = Arc::new(Fixed {
        spec: RequestSpec::get(workload.path(kind)),
    });
    let mut config = LoadConfig {
        target,
        shape: LoadShape::Concurrency { concurrency },
        duration: ctx.config.warmup,
        max_requests: load::MAX_REQUESTS_CAP,
        timeout: ctx.config.timeout,
    };
    let label = format!("{} / {} / c={concurrency}", kind.label(), workload.label());
    if !ctx.config.warmup.is_zero() {
        load::run(&config, scenario.clone(), &label).await?;
    }
    config.duration = ctx.config.duration;
    let sampler = RssSampler::start(server.pid, Duration::from_millis(20));
    let cpu_before = procs::cpu_ticks(server.pid);
    let result = load::run(&config, scenario, &label).await?;
    let cpu = procs::cpu_ticks(server.pid)
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before) as f64 / ctx.clock_ticks);
    let peak = sampler.finish().await;
    Ok((result, peak, cpu))
}

/// Runs the suite. Progress goes to stderr.
pub async fn run(config: SuiteConfig) -> Result<SuiteReport> {
    if config.concurrency.is_empty() || config.rounds == 0 {
        bail!("need at least one concurrency and one round");
    }
    std::fs::create_dir_all(&config.scratch)?;
    // Run a snapshot of the host binary: a rebuild during the suite must not change what runs.
    let host_bin = config.scratch.join("bench-host");
    std::fs::copy(&config.host_bin, &host_bin).with_context(|| {
        format!(
            "copying {} (build it with `cargo build --release -p urr-bench`)",
            config.host_bin.display()
        )
    })?;
    if !config.native_bin.exists() {
        bail!(
            "{} not found (build it with `cargo build --release -p urr-bench`)",
            config.native_bin.display()
        );
    }
    let redis_addr = StoreAddr::parse(&config.redis_url, 6379)?;
    let pg_addr = StoreAddr::parse(&config.pg_url, 5432)?;
    let redis_host = format!("{}:{}", redis_addr.host, redis_addr.port);
    let pg_host = format!("{}:{}", pg_addr.host, pg_addr.port);
    let wasm_dir = config.repo.join("components/target/wasm32-wasip2/release");
    for wasm in ["urr_health.wasm", "urr_fixture.wasm"] {
        std::fs::copy(wasm_dir.join(wasm), config.scratch.join(wasm)).with_context(|| {
            format!(
                "copying {wasm} (build the components: cargo build --release --target \
                 wasm32-wasip2 in components/)"
            )
        })?;
    }
    let manifest = config.scratch.join("bench-spin.toml");
    std::fs::write(&manifest, bench_manifest(&redis_host, &pg_host))?;
    let mut notes = Vec::new();
    let mut servers = config.servers.clone();
    if config.prototype_dir.is_none() {
        servers.retain(|&k| !matches!(k, ServerKind::Prototype | ServerKind::PrototypeOwn));
        notes.push("prototype skipped: no --prototype-dir".to_string());
    }
    if config.spin_bin.is_none() && servers.contains(&ServerKind::Spin) {
        servers.retain(|&k| k != ServerKind::Spin);
        notes.push("Spin skipped: no --spin-bin".to_string());
    }
    let ctx = SuiteContext {
        host_bin,
        manifest,
        prefix: unique_prefix(),
        redis_host,
        pg_host,
        clock_ticks: procs::clock_ticks(),
        config: config.clone(),
    };
    eprintln!("key prefix {}", ctx.prefix);

    let redis_client = redis::Client::open(config.redis_url.as_str())?;
    let mut redis_conn = redis_client
        .get_multiplexed_async_connection()
        .await
        .context("connecting to Redis")?;
    let proto_key_before: Option<String> = redis::cmd("GET")
        .arg(PROTOTYPE_REDIS_KEY)
        .query_async(&mut redis_conn)
        .await?;

    let report = run_inner(&ctx, &servers, &redis_addr, &pg_addr, notes).await;

    // Clean up whatever happened above.
    match urr_edge::devstack::delete_prefixed_keys(&mut redis_conn, &ctx.prefix).await {
        Ok(n) => eprintln!("deleted {n} benchmark keys under {}", ctx.prefix),
        Err(e) => eprintln!("could not delete the keys under {}: {e:#}", ctx.prefix),
    }
    if servers.contains(&ServerKind::PrototypeOwn) {
        let restored: redis::RedisResult<()> = match &proto_key_before {
            Some(v) => {
                redis::cmd("SET")
                    .arg(PROTOTYPE_REDIS_KEY)
                    .arg(v)
                    .query_async(&mut redis_conn)
                    .await
            }
            None => {
                redis::cmd("DEL")
                    .arg(PROTOTYPE_REDIS_KEY)
                    .query_async(&mut redis_conn)
                    .await
            }
        };
        if let Err(e) = restored {
            eprintln!("could not restore {PROTOTYPE_REDIS_KEY}: {e}");
        }
    }
    report
}

async fn run_inner(
    ctx: &SuiteContext,
    servers: &[ServerKind],
    redis_addr: &StoreAddr,
    pg_addr: &StoreAddr,
    mut notes: Vec<String>,
) -> Result<SuiteReport> {
    let config = &ctx.config;
    let started_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let warm_cache = config.scratch.join("cache-warm");

    // Boot times: cold (empty compile cache) and cached, then the other servers.
    let mut boots = Vec::new();
    for kind in servers {
        let samples: Vec<(&'static str, PathBuf)> = match kind {
            ServerKind::HostFresh => {
                let mut s = Vec::new();
                for i in 0..config.boot_samples {
                    let dir = config.scratch.join(format!("cache-cold-{i}"));
                    let _ = std::fs::remove_dir_all(&dir);
                    s.push(("cold", dir));
                }
                let _ = std::fs::remove_dir_all(&warm_cache);
                s.push(("warm-up", warm_cache.clone()));
                for _ in 0..config.boot_samples {
                    s.push(("cached", warm_cache.clone()));
                }
                s
            }
            ServerKind::HostReuse => continue,
            _ => (0..config.boot_samples)
                .map(|_| ("none", config.scratch.join("unused-cache")))
                .collect(),
        };
        for (i, (cache_state, dir)) in samples.into_iter().enumerate() {
            let server = ctx.start(*kind, &dir, &format!("boot{i}")).await?;
            // Let the process settle before reading its idle RSS.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let sample = BootSample {
                server: *kind,
                cache: cache_state,
                boot_ms: server.boot.as_secs_f64() * 1e3,
                rss_idle_kib: server.rss_kib(),
            };
            eprintln!(
                "boot {}: {} {:.0} ms, RSS {}",
                kind.label(),
                cache_state,
                sample.boot_ms,
                sample
                    .rss_idle_kib
                    .map_or("?".into(), |k| format_kib(k as f64))
            );
            server.stop().await?;
            if cache_state != "warm-up" {
                boots.push(sample);
            }
        }
    }

    let mut runs = Vec::new();
    let mut baseline_runs = Vec::new();
    for round in 0..config.rounds {
        for workload in [Workload::Noop, Workload::Redis] {
            for &c in &config.concurrency {
                // The servers of one cell run back to back (in an order that rotates every
                // round), so a change in background load hits them alike and the ratios hold.
                let mut order = servers.to_vec();
                order.rotate_left(round % servers.len().max(1));
                for kind in order {
                    // A fresh process per run: its idle RSS is the baseline of the growth, and
                    // no run inherits another's warm pools.
                    let tag = format!("r{round}-{}-c{c}", workload_key(workload));
                    let server = ctx.start(kind, &warm_cache, &tag).await?;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let rss_idle = server.rss_kib();
                    let loadavg_before = procs::loadavg();
                    let (result, rss_peak, server_cpu_s) =
                        measure(ctx, &server, kind, workload, c).await?;
                    let m = Measured {
                        round,
                        server: kind,
                        workload,
                        concurrency: c,
                        rss_idle_kib: rss_idle,
                        rss_peak_kib: rss_peak,
                        rss_after_kib: server.rss_kib(),
                        server_cpu_s,
                        loadavg_before,
                        loadavg_after: procs::loadavg(),
                        result,
                    };
                    server.stop().await?;
                    eprintln!(
                        "round {round}: {:<28} {:<10} c={c:<3} {:>8} req/s  p50 {:>9}  p99 {:>9}  errors {}",
                        kind.label(),
                        workload.label(),
                        format_rps(m.result.throughput_rps),
                        format_us(m.result.latency.p50_us),
                        format_us(m.result.latency.p99_us),
                        m.result.error_summary(),
                    );
                    runs.push(m);
                }
            }
        }
        if config.baselines {
            for &c in &config.concurrency {
                if baselines::available("redis-benchmark").await {
                    let key = format!("{}:redis-benchmark", ctx.prefix);
                    match baselines::redis_benchmark(redis_addr, &key, c, config.duration).await {
                        Ok(r) => baseline_runs.push(r),
                        Err(e) => notes.push(format!("redis-benchmark c={c} failed: {e:#}")),
                    }
                }
                if baselines::available("pgbench").await {
                    match baselines::pgbench(pg_addr, c, config.duration, &config.scratch).await {
                        Ok(r) => baseline_runs.push(r),
                        Err(e) => notes.push(format!("pgbench c={c} failed: {e:#}")),
                    }
                }
            }
        }
    }
    if config.baselines && !baselines::available("redis-benchmark").await {
        notes.push("redis-benchmark not found: Redis baseline skipped".into());
    }
    if config.baselines && !baselines::available("pgbench").await {
        notes.push("pgbench not found: Postgres baseline skipped".into());
    }
    let mut report = SuiteReport {
        started_unix,
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        duration_s: config.duration.as_secs_f64(),
        warmup_s: config.warmup.as_secs_f64(),
        rounds: config.rounds,
        concurrency: config.concurrency.clone(),
        boots,
        runs,
        baselines: baseline_runs,
        verdicts: Vec::new(),
        notes,
    };
    report.verdicts = verdicts(&report);
    Ok(report)
}

impl SuiteReport {
    /// The representative run of a cell: the median by throughput across rounds (the lower middle
    /// one for an even count).
    pub fn pick(&self, server: ServerKind, workload: Workload, c: usize) -> Option<&Measured> {
        let mut cell: Vec<&Measured> = self
            .runs
            .iter()
            .filter(|m| m.server == server && m.workload == workload && m.concurrency == c)
            .collect();
        cell.sort_by(|a, b| a.result.throughput_rps.total_cmp(&b.result.throughput_rps));
        let n = cell.len();
        if n == 0 {
            None
        } else {
            cell.get((n - 1) / 2).copied()
        }
    }

    fn rps(&self, server: ServerKind, workload: Workload, c: usize) -> Option<f64> {
        self.pick(server, workload, c)
            .map(|m| m.result.throughput_rps)
    }

    fn p50(&self, server: ServerKind, workload: Workload, c: usize) -> Option<f64> {
        self.pick(server, workload, c)
            .map(|m| m.result.latency.p50_us)
    }

    fn baseline(&self, label: &str, c: usize) -> Option<&RunResult> {
        let mut cell: Vec<&RunResult> = self
            .baselines
            .iter()
            .filter(|r| r.label == label && r.load.concurrency() == c)
            .collect();
        cell.sort_by(|a, b| a.throughput_rps.total_cmp(&b.throughput_rps));
        let n = cell.len();
        if n == 0 {
            None
        } else {
            cell.get((n - 1) / 2).copied()
        }
    }
}

/// Per-round ratios of one metric between two servers in one cell (rounds where both ran).
fn paired_ratios(
    report: &SuiteReport,
    a: ServerKind,
    b: ServerKind,
    workload: Workload,
    c: usize,
    metric: fn(&RunResult) -> f64,
) -> Vec<f64> {
    (0..report.rounds)
        .filter_map(|round| {
            let get = |kind| {
                report
                    .runs
                    .iter()
                    .find(|m| {
                        m.round == round
                            && m.server == kind
                            && m.workload == workload
                            && m.concurrency == c
                    })
                    .map(|m| metric(&m.result))
            };
            ratio(get(a), get(b))
        })
        .collect()
}

fn verdicts(report: &SuiteReport) -> Vec<Verdict> {
    use ServerKind::*;
    let rps: fn(&RunResult) -> f64 = |r| r.throughput_rps;
    let p50: fn(&RunResult) -> f64 = |r| r.latency.p50_us;
    let mut out = Vec::new();
    let mut push = |target: &str,
                    workload,
                    c,
                    per_round: Vec<f64>,
                    required: String,
                    ok: &dyn Fn(f64) -> bool| {
        let measured = median(&per_round);
        out.push(Verdict {
            target: target.to_string(),
            workload,
            concurrency: c,
            measured,
            per_round,
            required,
            met: measured.map(ok),
        });
    };
    for workload in [Workload::Noop, Workload::Redis] {
        for &c in &report.concurrency {
            push(
                "fresh-instance throughput vs prototype",
                workload,
                c,
                paired_ratios(report, HostFresh, Prototype, workload, c, rps),
                format!(">= {TARGET_FRESH_VS_PROTO_RPS}x"),
                &|r| r >= TARGET_FRESH_VS_PROTO_RPS,
            );
        }
        if report.concurrency.contains(&1) {
            push(
                "fresh-instance p50 vs prototype",
                workload,
                1,
                paired_ratios(report, HostFresh, Prototype, workload, 1, p50),
                format!("<= {TARGET_FRESH_VS_PROTO_P50}x"),
                &|r| r <= TARGET_FRESH_VS_PROTO_P50,
            );
        }
        for &c in &report.concurrency {
            push(
                "reuse throughput vs native",
                workload,
                c,
                paired_ratios(report, HostReuse, Native, workload, c, rps),
                format!(">= {:.0}%", TARGET_REUSE_VS_NATIVE_RPS * 100.0),
                &|r| r >= TARGET_REUSE_VS_NATIVE_RPS,
            );
        }
    }
    out
}

fn verdict_text(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "**not met**",
        None => "not measured",
    }
}

/// The report as Markdown tables (what docs/benchmarks.md embeds).
pub fn render_markdown(report: &SuiteReport) -> String {
    use ServerKind::*;
    let mut md = String::new();
    let kinds = [HostFresh, Spin, HostReuse, Prototype, PrototypeOwn, Native];
    let loads: Vec<f64> = report
        .runs
        .iter()
        .filter_map(|m| {
            m.loadavg_before
                .zip(m.loadavg_after)
                .map(|(a, b)| (a + b) / 2.0)
        })
        .collect();
    let _ = writeln!(
        md,
        "{} CPUs; {} round(s) of {:.0} s per cell after {:.1} s of warm-up; the median round by \
         throughput is shown (ratio columns compare those runs). 1-minute load average during the runs: median {}, max {}.\n",
        report.cpus,
        report.rounds,
        report.duration_s,
        report.warmup_s,
        median(&loads).map_or("?".into(), |l| format!("{l:.2}")),
        loads
            .iter()
            .copied()
            .reduce(f64::max)
            .map_or("?".into(), |l| format!("{l:.2}")),
    );
    for workload in [Workload::Noop, Workload::Redis] {
        let _ = writeln!(md, "#### {}\n", workload.label());
        let _ = writeln!(
            md,
            "| server | c | req/s | p50 | p95 | p99 | errors | server CPU / req | req/s vs prototype | p50 vs prototype | req/s vs native |"
        );
        let _ = writeln!(
            md,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for &c in &report.concurrency {
            for kind in kinds {
                let Some(m) = report.pick(kind, workload, c) else {
                    continue;
                };
                let r = &m.result;
                let vs_proto_rps =
                    ratio(Some(r.throughput_rps), report.rps(Prototype, workload, c));
                let vs_proto_p50 =
                    ratio(Some(r.latency.p50_us), report.p50(Prototype, workload, c));
                let vs_native = ratio(Some(r.throughput_rps), report.rps(Native, workload, c));
                let cpu = m
                    .server_cpu_s
                    .filter(|_| r.ok > 0 && r.elapsed_s > 0.0)
                    .map_or("?".to_string(), |cpu| {
                        format!(
                            "{} ({:.2} cores)",
                            format_us(cpu * 1e6 / r.ok as f64),
                            cpu / r.elapsed_s
                        )
                    });
                let _ = writeln!(
                    md,
                    "| {} | {c} | {} | {} | {} | {} | {} | {cpu} | {} | {} | {} |",
                    kind.label(),
                    format_rps(r.throughput_rps),
                    format_us(r.latency.p50_us),
                    format_us(r.latency.p95_us),
                    format_us(r.latency.p99_us),
                    r.error_summary(),
                    if kind == Prototype {
                        "—".into()
                    } else {
                        format_ratio(vs_proto_rps)
                    },
                    if kind == Prototype {
                        "—".into()
                    } else {
                        format_ratio(vs_proto_p50)
                    },
                    if kind == Native {
                        "—".into()
                    } else {
                        format_percent(vs_native)
                    },
                );
            }
            if workload == Workload::Redis
                && let Some(b) = report.baseline("redis-benchmark", c)
            {
                let _ = writeln!(
                    md,
                    "| redis-benchmark INCR (no HTTP) | {c} | {} | {} | {} | {} | {} | | | | {} |",
                    format_rps(b.throughput_rps),
                    format_us(b.latency.p50_us),
                    format_us(b.latency.p95_us),
                    format_us(b.latency.p99_us),
                    b.error_summary(),
                    format_percent(ratio(
                        Some(b.throughput_rps),
                        report.rps(Native, workload, c)
                    )),
                );
            }
        }
        md.push('\n');
    }

    let pg: Vec<&RunResult> = report
        .concurrency
        .iter()
        .filter_map(|&c| report.baseline("pgbench", c))
        .collect();
    if !pg.is_empty() {
        let _ = writeln!(
            md,
            "#### Postgres reference (pgbench, `SELECT 1`, no HTTP)\n"
        );
        let _ = writeln!(md, "| c | tx/s | mean | p50 | p95 | p99 | errors |");
        let _ = writeln!(md, "|---:|---:|---:|---:|---:|---:|---:|");
        for b in pg {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                b.load.concurrency(),
                format_rps(b.throughput_rps),
                format_us(b.latency.mean_us),
                format_us(b.latency.p50_us),
                format_us(b.latency.p95_us),
                format_us(b.latency.p99_us),
                b.error_summary()
            );
        }
        md.push('\n');
    }

    let _ = writeln!(md, "#### Targets\n");
    let _ = writeln!(
        md,
        "Each ratio is taken per round between runs made back to back; the verdict uses the \
         median of the rounds.\n"
    );
    let _ = writeln!(
        md,
        "| target | workload | c | measured (median) | per round | required | verdict |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---|");
    for v in &report.verdicts {
        let fmt = |r: Option<f64>| {
            if v.target.starts_with("reuse") {
                format_percent(r)
            } else {
                format_ratio(r)
            }
        };
        let per_round: Vec<String> = v.per_round.iter().map(|&r| fmt(Some(r))).collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            v.target,
            v.workload.label(),
            v.concurrency,
            fmt(v.measured),
            per_round.join(", "),
            v.required,
            verdict_text(v.met)
        );
    }
    md.push('\n');

    let _ = writeln!(md, "#### Boot time and idle memory\n");
    let _ = writeln!(
        md,
        "Time from process start to the first 200 on the ready route (median of the samples); \
         idle RSS right after boot.\n"
    );
    let _ = writeln!(
        md,
        "| server | compile cache | boot (median) | boot (min–max) | idle RSS | samples |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|");
    for kind in kinds {
        for cache in ["cold", "cached", "none"] {
            let s: Vec<&BootSample> = report
                .boots
                .iter()
                .filter(|b| b.server == kind && b.cache == cache)
                .collect();
            if s.is_empty() {
                continue;
            }
            let ms: Vec<f64> = s.iter().map(|b| b.boot_ms).collect();
            let rss: Vec<f64> = s
                .iter()
                .filter_map(|b| b.rss_idle_kib.map(|k| k as f64))
                .collect();
            let cache_text = match cache {
                "cold" => "empty (compiles)",
                "cached" => "filled",
                _ => "none (compiles every boot)",
            };
            let cache_text = if kind == Native {
                "n/a (no Wasm)"
            } else {
                cache_text
            };
            let _ = writeln!(
                md,
                "| {} | {} | {:.0} ms | {:.0}–{:.0} ms | {} | {} |",
                kind.label(),
                cache_text,
                median(&ms).unwrap_or(0.0),
                ms.iter().copied().fold(f64::INFINITY, f64::min),
                ms.iter().copied().fold(0.0, f64::max),
                median(&rss).map_or("?".into(), format_kib),
                s.len()
            );
        }
    }
    md.push('\n');

    let _ = writeln!(md, "#### Memory under load\n");
    let _ = writeln!(
        md,
        "Each cell runs in a fresh server process. Idle RSS is read right after boot; peak RSS is \
         the highest RSS sampled (every 20 ms) during the measured run (after the warm-up); growth \
         per request is the growth divided by the requests in flight (= c). The marginal figure \
         is (peak at c={hi} − peak at c={lo}) / ({hi} − {lo}): what one more concurrent request \
         costs, without the one-off costs (code pages, store connections, allocator arenas) that \
         the first request pays.\n",
        lo = report.concurrency.iter().min().copied().unwrap_or(0),
        hi = report.concurrency.iter().max().copied().unwrap_or(0),
    );
    let _ = writeln!(
        md,
        "| server | workload | c | idle RSS | peak RSS | growth | growth / c | marginal per extra request |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|");
    let lo = report.concurrency.iter().min().copied();
    let hi = report.concurrency.iter().max().copied();
    for workload in [Workload::Noop, Workload::Redis] {
        for &c in &report.concurrency {
            for kind in kinds {
                let Some(m) = report.pick(kind, workload, c) else {
                    continue;
                };
                let (Some(idle), Some(peak)) = (m.rss_idle_kib, m.rss_peak_kib) else {
                    continue;
                };
                let growth = peak as f64 - idle as f64;
                let marginal = match (lo, hi) {
                    (Some(lo), Some(hi)) if c == hi && hi > lo => report
                        .pick(kind, workload, lo)
                        .and_then(|low| low.rss_peak_kib)
                        .map(|low| format_kib((peak as f64 - low as f64) / (hi - lo) as f64)),
                    _ => None,
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {c} | {} | {} | {} | {} | {} |",
                    kind.label(),
                    workload.label(),
                    format_kib(idle as f64),
                    format_kib(peak as f64),
                    format_kib(growth),
                    format_kib(growth / c as f64),
                    marginal.unwrap_or_else(|| "—".into()),
                );
            }
        }
    }
    if !report.notes.is_empty() {
        md.push('\n');
        for n in &report.notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    md
}
