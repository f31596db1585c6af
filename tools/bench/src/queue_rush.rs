//! The waiting room's "queue-rush" benchmark, on the whole application ([`crate::stack`]):
//!
//! 1. **Maximum sustained joins/s**: closed loop at each concurrency, every request a new user
//!    (`POST /api/v1/queue/check/{id}`, tokens minted before the timed phase), next to the visit
//!    script run directly with EVALSHA (same keys layout, same arguments, distinct users, under a
//!    key prefix of its own) and the host's no-op component (`GET /health`) in the same run.
//! 2. **The rush**: `users` distinct users join one event within `window` (open loop, evenly
//!    spaced arrivals) and each then polls `GET /api/v1/queue/status/{id}` at the `nextPoll` it
//!    was given, until the rush ends. Join and status latencies count from the scheduled time, so
//!    queueing behind a busy host is measured.
//! 3. **Status flatness**: the waiting set filled to each size directly with pipelined EVALSHA
//!    joins, then status for the waiter in the middle, through the host and directly.

use crate::load::{self, FlowClient, Target};
use crate::scenario::{Fixed, RequestSpec, Scenario};
use crate::stack::{BenchStack, StackConfig};
use crate::stats::{
    Latencies, LatencySummary, LoadShape, RunResult, format_percent, format_ratio, format_rps,
    format_us, parse_duration, ratio,
};
use anyhow::{Context, Result, bail};
use http::{HeaderValue, Method};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use urr_queue::scripts::{JoinFacts, Mode, ReplyValue, visit_args};
use urr_queue::{EventKeys, QueueSettings, VISIT_SCRIPT, VISIT_SCRIPT_SHA1, Visit};

/// The rush's event: the seeded stadium concert, on sale.
pub const RUSH_EVENT_ID: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000003";
/// The join-throughput cells' event (on sale), apart from the rush's so each phase starts empty.
pub const JOIN_EVENT_ID: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000001";
/// The status-flatness event (on sale; the status route has no event gate anyway).
pub const FLAT_EVENT_ID: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000004";
/// 100 slots that outlast the run (slot_secs 600), so after the first 100 joins of a phase
/// every user WAITS (no slot frees up, the rate has nothing to admit): the rush is about the line.
/// Waiters are kept for 10 minutes so the flatness fill does not go stale while it is measured.
pub const QUEUE_SETTINGS: &str = "threshold=100,rate=10,slot_secs=600,slot_max_secs=1800,waiter_timeout_secs=600,open_lead_secs=600";
/// The queue limiter raised out of the way (to the limiter's maximum, 60,000 per minute per
/// user): this measures the waiting room, not 429s.
pub const RATE_LIMITS: &str = "auth=60,queue=60000,booking=30,default=60000";
/// Waiters around the middle whose status the flatness cells poll (one per worker at most):
/// one user alone would meet its own 1,000/s quota.
const FLAT_PROBES: usize = 16;
/// Targets from the issue.
pub const TARGET_JOIN_P99_US: f64 = 50_000.0;
pub const TARGET_JOINS_VS_NOOP: f64 = 0.60;
/// "Flat" status cost: from the smallest to the largest line, p50 grows by at most half and
/// throughput keeps at least two thirds (O(log N) from 1,000 to 100,000 is 1.67x in the script
/// alone, and the script is a small part of a request).
pub const FLAT_MAX_P50_GROWTH: f64 = 1.5;
pub const FLAT_MIN_THROUGHPUT_KEPT: f64 = 0.67;
/// Joins per EVALSHA pipeline when filling a line.
const FILL_BATCH: usize = 1_000;
/// A polling interval longer than this in a reply is a contract break, not a reason to stop.
const MAX_POLL_SECS: u64 = 60;

#[derive(clap::Args)]
pub struct QueueRushArgs {
    /// Repository root (spin.toml, migrations/).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// The host under test [default: bench-host next to this binary].
    #[arg(long)]
    host_bin: Option<PathBuf>,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_url: String,
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Measured time per closed-loop cell.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured warm-up before each closed-loop cell.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    warmup: Duration,
    /// Concurrencies of the join-throughput cells.
    #[arg(long, default_value = "16,64", value_delimiter = ',')]
    concurrency: Vec<usize>,
    /// Access tokens minted before the join cells (more are minted in the path if they run out,
    /// and counted).
    #[arg(long, default_value_t = 30_000)]
    join_tokens: usize,
    /// Users of the rush.
    #[arg(long, default_value_t = 15_000)]
    users: usize,
    /// The rush's arrivals are spread evenly over this window.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    window: Duration,
    /// Polling continues this long after the last arrival.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    tail: Duration,
    /// Connections serving the rush's joins (arrivals wait in the client beyond this).
    #[arg(long, default_value_t = 64)]
    join_connections: usize,
    /// Connections serving the rush's status polls.
    #[arg(long, default_value_t = 128)]
    status_connections: usize,
    /// Line lengths of the status-flatness cells.
    #[arg(long, default_value = "1000,10000,100000", value_delimiter = ',')]
    sizes: Vec<usize>,
    /// Concurrency of the status-flatness cells.
    #[arg(long, default_value_t = 16)]
    status_concurrency: usize,
    /// Serve with instance reuse instead of a fresh instance per request.
    #[arg(long)]
    reuse_instances: bool,
    /// A Spin CLI (4.1 or later): measure on urr-edge, then on real Spin, in this one run.
    #[arg(long)]
    spin_bin: Option<PathBuf>,
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Write the Markdown tables here (they are printed on stdout too).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write the full JSON report here.
    #[arg(long)]
    json_out: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct JoinCell {
    pub concurrency: usize,
    pub host_join: RunResult,
    pub raw_evalsha: RunResult,
    pub host_noop: RunResult,
    /// Access tokens that had to be minted inside the timed phase (0: none).
    pub tokens_minted_in_path: u64,
}

#[derive(Debug, Serialize)]
pub struct RushResult {
    pub users: usize,
    pub window_s: f64,
    pub tail_s: f64,
    pub elapsed_s: f64,
    pub join: LatencySummary,
    pub status: LatencySummary,
    pub joins_ok: u64,
    pub statuses_ok: u64,
    pub status_rps: f64,
    /// Steady-state polling the replies ask for once everyone has joined (from the nextPoll
    /// table and the positions handed out).
    pub offered_status_rps: f64,
    pub admitted_at_join: u64,
    pub queued_at_join: u64,
    pub max_position: u64,
    pub errors: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
pub struct FlatCell {
    pub waiting: usize,
    /// The measured waiter's position (the middle of the line).
    pub position: u64,
    pub host_status: RunResult,
    pub raw_evalsha: RunResult,
}

#[derive(Debug, Serialize)]
pub struct Verdict {
    pub target: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Debug, Serialize)]
pub struct QueueRushReport {
    pub started_unix_s: u64,
    pub load_average_start: Option<f64>,
    pub load_average_end: Option<f64>,
    pub queue_settings: String,
    pub rate_limits: String,
    pub reuse_instances: bool,
    pub cell_s: f64,
    pub warmup_s: f64,
    pub joins: Vec<JoinCell>,
    pub rush: RushResult,
    pub flat: Vec<FlatCell>,
    pub verdicts: Vec<Verdict>,
}

/// Entry point of `urr-bench queue-rush`.
pub async fn run_command(args: QueueRushArgs) -> Result<()> {
    let here = std::env::current_exe()?
        .parent()
        .context("no folder for this binary")?
        .to_path_buf();
    if args.concurrency.is_empty() || args.sizes.is_empty() || args.users == 0 {
        bail!("need at least one concurrency, one size and one user");
    }
    let mut reports = Vec::new();
    for runtime in crate::stack::runtimes(args.spin_bin.as_deref()) {
        let mut stack_config = StackConfig::new(
            "qrush",
            args.repo.canonicalize().context("the --repo folder")?,
            args.host_bin
                .clone()
                .unwrap_or_else(|| here.join("bench-host")),
            &args.pg_url,
            &args.redis_url,
        )
        .variable("queue_settings", QUEUE_SETTINGS)
        .variable("rate_limits", RATE_LIMITS);
        stack_config.reuse_instances = args.reuse_instances;
        stack_config.spin_bin = runtime.spin_bin.clone();
        let stack = BenchStack::start(&stack_config).await?;
        let report = measure(&args, &stack).await;
        stack.stop().await?;
        reports.push((runtime, report?));
    }
    let md = crate::stack::by_runtime(&reports, render_markdown);
    println!("{md}");
    if let Some(out) = &args.out {
        std::fs::write(out, &md).with_context(|| format!("writing {}", out.display()))?;
    }
    if let Some(out) = &args.json_out {
        std::fs::write(out, serde_json::to_string_pretty(&reports)?)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

async fn measure(args: &QueueRushArgs, stack: &BenchStack) -> Result<QueueRushReport> {
    let started_unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let load_average_start = crate::procs::loadavg();
    let settings = QueueSettings::parse(QUEUE_SETTINGS).map_err(|e| anyhow::anyhow!("{e}"))?;
    let client = redis::Client::open(stack.redis_url.as_str())?;
    let mut redis = redis::aio::ConnectionManager::new(client).await?;
    let loaded: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(VISIT_SCRIPT)
        .query_async(&mut redis)
        .await?;
    if loaded != VISIT_SCRIPT_SHA1 {
        bail!("the visit script's SHA-1 is {loaded}, the crate says {VISIT_SCRIPT_SHA1}");
    }

    eprintln!(
        "minting {} + {} access tokens...",
        args.join_tokens, args.users
    );
    let minted = Instant::now();
    let pool = Arc::new(TokenPool::new(stack, args.join_tokens)?);
    let rush_tokens = mint_many(stack, args.users)?;
    eprintln!("minted in {:.1} s", minted.elapsed().as_secs_f64());

    let mut joins = Vec::new();
    for &c in &args.concurrency {
        joins.push(join_cell(args, stack, &mut redis, &settings, &pool, c).await?);
    }
    let rush = rush(args, stack, rush_tokens).await?;
    let mut flat = Vec::new();
    for &size in &args.sizes {
        flat.push(flat_cell(args, stack, &mut redis, &settings, size).await?);
    }
    let mut report = QueueRushReport {
        started_unix_s,
        load_average_start,
        load_average_end: crate::procs::loadavg(),
        queue_settings: QUEUE_SETTINGS.to_string(),
        rate_limits: RATE_LIMITS.to_string(),
        reuse_instances: args.reuse_instances,
        cell_s: args.duration.as_secs_f64(),
        warmup_s: args.warmup.as_secs_f64(),
        joins,
        rush,
        flat,
        verdicts: Vec::new(),
    };
    report.verdicts = verdicts(&report);
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Tokens

fn bearer(token: &str) -> Result<HeaderValue> {
    Ok(HeaderValue::from_str(&format!("Bearer {token}"))?)
}

fn mint_many(stack: &BenchStack, n: usize) -> Result<Vec<HeaderValue>> {
    (0..n)
        .map(|_| bearer(&stack.access_token(&uuid::Uuid::new_v4().to_string(), false)?))
        .collect()
}

/// Access tokens of distinct users, handed out once each; minted in the path (and counted) when
/// the pre-minted ones run out.
struct TokenPool {
    tokens: Vec<HeaderValue>,
    next: AtomicUsize,
    key: urr_tokens::SigningKey,
    minted_in_path: AtomicU64,
}

impl TokenPool {
    fn new(stack: &BenchStack, n: usize) -> Result<Self> {
        let key =
            urr_tokens::SigningKey::from_pem(&stack.session_key.to_pem(), stack.session_key.kid())
                .map_err(|e| anyhow::anyhow!("copying the session key: {e}"))?;
        Ok(Self {
            tokens: mint_many(stack, n)?,
            next: AtomicUsize::new(0),
            key,
            minted_in_path: AtomicU64::new(0),
        })
    }

    fn take(&self) -> HeaderValue {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        if let Some(token) = self.tokens.get(i) {
            return token.clone();
        }
        self.minted_in_path.fetch_add(1, Ordering::Relaxed);
        let user = uuid::Uuid::new_v4().to_string();
        let family = uuid::Uuid::new_v4().to_string();
        urr_tokens::mint_access(
            &self.key,
            &user,
            &format!("{user}@bench.invalid"),
            urr_tokens::Role::User,
            &family,
        )
        .ok()
        .and_then(|t| bearer(&t).ok())
        .unwrap_or_else(|| HeaderValue::from_static("Bearer invalid"))
    }
}

/// Every request a new user joining the event.
struct Join {
    path: String,
    pool: Arc<TokenPool>,
}

impl Scenario for Join {
    fn name(&self) -> String {
        format!("POST {}", self.path)
    }

    fn request(&self, _worker: usize, _seq: u64) -> RequestSpec {
        let mut spec = RequestSpec::get(self.path.clone());
        spec.method = Method::POST;
        spec.headers
            .push((http::header::AUTHORIZATION, self.pool.take()));
        spec
    }
}

fn join_path(event: &str) -> String {
    format!("/api/v1/queue/check/{event}")
}

fn status_path(event: &str) -> String {
    format!("/api/v1/queue/status/{event}")
}

/// The event info the join step stores, as queue-join builds it from the seeded event.
fn event_info(event: &str) -> String {
    let seeded = urr_edge::seed::EVENTS.iter().find(|e| e.id == event);
    urr_queue::event::EventSnapshot {
        status: "on_sale".into(),
        opens_in_ms: -1,
        opens_at_ms: 0,
        title: seeded.map_or("", |e| e.title).to_string(),
        artist: seeded.map_or("", |e| e.artist_name).to_string(),
    }
    .info_json()
}

// ---------------------------------------------------------------------------------------------
// Closed-loop cells

async fn http_cell(
    args: &QueueRushArgs,
    target: &Target,
    scenario: Arc<dyn Scenario>,
    concurrency: usize,
) -> Result<RunResult> {
    let phases = (args.warmup, args.duration, args.timeout);
    let result = load::closed_cell(target, scenario, concurrency, phases).await?;
    eprintln!(
        "{} c={concurrency}: {:.0} req/s, p99 {:.0} us, {}",
        result.label,
        result.throughput_rps,
        result.latency.p99_us,
        result.error_summary()
    );
    Ok(result)
}

async fn clear(redis: &mut redis::aio::ConnectionManager, keys: &EventKeys) -> Result<()> {
    let mut all = keys.cleared();
    all.push(keys.threshold.clone());
    let _: () = redis::cmd("DEL").arg(&all).query_async(redis).await?;
    Ok(())
}

async fn join_cell(
    args: &QueueRushArgs,
    stack: &BenchStack,
    redis: &mut redis::aio::ConnectionManager,
    settings: &QueueSettings,
    pool: &Arc<TokenPool>,
    concurrency: usize,
) -> Result<JoinCell> {
    let noop: Arc<dyn Scenario> = Arc::new(Fixed {
        spec: RequestSpec::get("/health"),
    });
    let host_noop = http_cell(args, &stack.target, noop, concurrency).await?;

    clear(redis, &EventKeys::new(&stack.key_prefix, JOIN_EVENT_ID)).await?;
    let before = pool.minted_in_path.load(Ordering::Relaxed);
    let join: Arc<dyn Scenario> = Arc::new(Join {
        path: join_path(JOIN_EVENT_ID),
        pool: pool.clone(),
    });
    let host_join = http_cell(args, &stack.target, join, concurrency).await?;
    let tokens_minted_in_path = pool.minted_in_path.load(Ordering::Relaxed) - before;

    // The same script, keys layout and arguments, under a prefix of its own (deleted with the
    // stack's keys at the end).
    let raw_keys = EventKeys::new(&format!("{}:raw", stack.key_prefix), JOIN_EVENT_ID);
    clear(redis, &raw_keys).await?;
    let raw = RawVisit {
        keys: raw_keys.visit(),
        settings: settings.clone(),
        info: event_info(JOIN_EVENT_ID),
        user: None,
    };
    let raw_evalsha = raw_cell(
        args,
        redis,
        Arc::new(raw),
        concurrency,
        "EVALSHA visit (join)",
    )
    .await?;
    Ok(JoinCell {
        concurrency,
        host_join,
        raw_evalsha,
        host_noop,
        tokens_minted_in_path,
    })
}

/// One direct visit: a join of a new user (`user: None`) or a status of one user.
struct RawVisit {
    keys: Vec<String>,
    settings: QueueSettings,
    info: String,
    user: Option<String>,
}

impl RawVisit {
    fn command(&self) -> redis::Cmd {
        let args = match &self.user {
            None => visit_args(
                &self.settings,
                &uuid::Uuid::new_v4().to_string(),
                Mode::Join,
                &JoinFacts {
                    event_info: Some(&self.info),
                    ..JoinFacts::default()
                },
                None,
            ),
            Some(user) => visit_args(
                &self.settings,
                user,
                Mode::Status,
                &JoinFacts::default(),
                None,
            ),
        };
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(VISIT_SCRIPT_SHA1)
            .arg(self.keys.len())
            .arg(&self.keys)
            .arg(&args);
        cmd
    }
}

/// A script reply as the components read it.
fn reply_values(value: redis::Value) -> Option<Vec<ReplyValue>> {
    let redis::Value::Array(items) = value else {
        return None;
    };
    items
        .into_iter()
        .map(|item| match item {
            redis::Value::Int(i) => Some(ReplyValue::Int(i)),
            redis::Value::BulkString(b) => {
                Some(ReplyValue::Text(String::from_utf8_lossy(&b).into_owned()))
            }
            redis::Value::SimpleString(s) => Some(ReplyValue::Text(s)),
            redis::Value::Nil => Some(ReplyValue::Nil),
            _ => None,
        })
        .collect()
}

async fn raw_cell(
    args: &QueueRushArgs,
    redis: &redis::aio::ConnectionManager,
    visit: Arc<RawVisit>,
    concurrency: usize,
    label: &str,
) -> Result<RunResult> {
    if !args.warmup.is_zero() {
        raw_load(redis, &visit, concurrency, args.warmup).await?;
    }
    let (elapsed, ok, errors, latencies) =
        raw_load(redis, &visit, concurrency, args.duration).await?;
    let secs = elapsed.as_secs_f64();
    let result = RunResult {
        label: label.to_string(),
        scenario: label.to_string(),
        load: LoadShape::Concurrency { concurrency },
        elapsed_s: secs,
        ok,
        errors: errors.values().sum(),
        error_kinds: errors,
        throughput_rps: if secs > 0.0 { ok as f64 / secs } else { 0.0 },
        latency: latencies.summary(),
    };
    eprintln!(
        "{label} c={concurrency}: {:.0} calls/s, p99 {:.0} us, {}",
        result.throughput_rps,
        result.latency.p99_us,
        result.error_summary()
    );
    Ok(result)
}

/// `concurrency` tasks over one multiplexed connection (the host also keeps one per address),
/// each reading the reply as a `Visit` like the components do.
async fn raw_load(
    redis: &redis::aio::ConnectionManager,
    visit: &Arc<RawVisit>,
    concurrency: usize,
    duration: Duration,
) -> Result<(Duration, u64, BTreeMap<String, u64>, Latencies)> {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (mut conn, visit) = (redis.clone(), visit.clone());
            tokio::spawn(async move {
                let (mut ok, mut errors, mut latencies) =
                    (0u64, BTreeMap::<String, u64>::new(), Latencies::default());
                while Instant::now() < deadline {
                    let call = Instant::now();
                    let reply: redis::RedisResult<redis::Value> =
                        visit.command().query_async(&mut conn).await;
                    match reply.ok().and_then(reply_values) {
                        Some(values) if Visit::from_reply(&values).is_some() => {
                            ok += 1;
                            latencies.record(call.elapsed());
                        }
                        _ => *errors.entry("script".to_string()).or_default() += 1,
                    }
                }
                (ok, errors, latencies)
            })
        })
        .collect();
    let (mut ok, mut errors, mut latencies) = (0, BTreeMap::new(), Latencies::default());
    for task in tasks {
        let (o, e, l) = task.await?;
        ok += o;
        for (k, n) in e {
            *errors.entry(k).or_default() += n;
        }
        latencies.merge(l);
    }
    Ok((started.elapsed(), ok, errors, latencies))
}

// ---------------------------------------------------------------------------------------------
// The rush

/// When a reply asks to be polled again: `nextPoll` seconds, for a user still queued or active.
pub fn poll_after(reply: &Value) -> Option<Duration> {
    let status = reply.get("status")?.as_str()?;
    if status != "queued" && status != "active" {
        return None;
    }
    let secs = reply.get("nextPoll")?.as_u64()?;
    (1..=MAX_POLL_SECS)
        .contains(&secs)
        .then(|| Duration::from_secs(secs))
}

/// Status requests per second a line asks for once everyone polls at its `nextPoll`.
pub fn offered_poll_rate(positions: impl IntoIterator<Item = u64>) -> f64 {
    positions
        .into_iter()
        .map(|p| 1.0 / urr_queue::reply::next_poll_secs(p) as f64)
        .sum()
}

#[derive(Clone, Copy)]
enum Step {
    Join,
    Status,
}

struct Job {
    user: usize,
    step: Step,
    due: Instant,
}

#[derive(Default)]
struct RushStats {
    join: Latencies,
    status: Latencies,
    joins_ok: u64,
    statuses_ok: u64,
    admitted: u64,
    queued: u64,
    positions: Vec<u64>,
    errors: BTreeMap<String, u64>,
}

struct Rush {
    tokens: Vec<HeaderValue>,
    join_path: String,
    status_path: String,
    stats: Mutex<RushStats>,
    /// Jobs scheduled (sleeping or queued in a channel) and not yet picked up.
    pending: AtomicUsize,
    in_flight: AtomicUsize,
    /// No poll is scheduled at or after this instant.
    end: Instant,
}

type JobRx = Arc<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Job>>>;

async fn rush_worker(
    rush: Arc<Rush>,
    rx: JobRx,
    status_tx: tokio::sync::mpsc::UnboundedSender<Job>,
    mut client: FlowClient,
) {
    loop {
        let next = { rx.lock().await.recv().await };
        let Some(job) = next else { break };
        rush.in_flight.fetch_add(1, Ordering::SeqCst);
        rush.pending.fetch_sub(1, Ordering::SeqCst);
        let (path, method, what) = match job.step {
            Step::Join => (&rush.join_path, Method::POST, "join"),
            Step::Status => (&rush.status_path, Method::GET, "status"),
        };
        let mut spec = RequestSpec::get(path.clone());
        spec.method = method;
        spec.headers
            .push((http::header::AUTHORIZATION, rush.tokens[job.user].clone()));
        let outcome = client.send(spec).await;
        // From the scheduled instant: waiting for a free connection is part of the latency.
        let latency = job.due.elapsed();
        let mut again = None;
        {
            let mut stats = rush.stats.lock().unwrap_or_else(|e| e.into_inner());
            match outcome {
                Ok(reply) if reply.status == http::StatusCode::OK => {
                    let body = reply.json();
                    match job.step {
                        Step::Join => {
                            stats.joins_ok += 1;
                            stats.join.record(latency);
                            match body.get("status").and_then(Value::as_str) {
                                Some("active") => stats.admitted += 1,
                                Some("queued") => {
                                    stats.queued += 1;
                                    let p = body.get("position").and_then(Value::as_u64);
                                    stats.positions.push(p.unwrap_or(0));
                                }
                                _ => {
                                    *stats.errors.entry("join: odd reply".into()).or_default() += 1
                                }
                            }
                        }
                        Step::Status => {
                            stats.statuses_ok += 1;
                            stats.status.record(latency);
                        }
                    }
                    again = poll_after(&body);
                }
                Ok(reply) => {
                    *stats
                        .errors
                        .entry(format!("{what}: status {}", reply.status.as_u16()))
                        .or_default() += 1;
                }
                Err(kind) => *stats.errors.entry(format!("{what}: {kind}")).or_default() += 1,
            }
        }
        if let Some(after) = again {
            let due = Instant::now() + after;
            if due < rush.end {
                rush.pending.fetch_add(1, Ordering::SeqCst);
                let tx = status_tx.clone();
                let user = job.user;
                tokio::spawn(async move {
                    tokio::time::sleep_until(due).await;
                    let _ = tx.send(Job {
                        user,
                        step: Step::Status,
                        due,
                    });
                });
            }
        }
        rush.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn rush(
    args: &QueueRushArgs,
    stack: &BenchStack,
    tokens: Vec<HeaderValue>,
) -> Result<RushResult> {
    let users = tokens.len();
    eprintln!(
        "rush: {users} users over {:?}, polling until {:?} after the last arrival...",
        args.window, args.tail
    );
    let started = Instant::now();
    let end = started + args.window + args.tail;
    let hard_stop = end + args.timeout;
    let rush = Arc::new(Rush {
        tokens,
        join_path: join_path(RUSH_EVENT_ID),
        status_path: status_path(RUSH_EVENT_ID),
        stats: Mutex::new(RushStats::default()),
        pending: AtomicUsize::new(0),
        in_flight: AtomicUsize::new(0),
        end,
    });
    let (join_tx, join_rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
    let (status_tx, status_rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
    let join_rx: JobRx = Arc::new(tokio::sync::Mutex::new(join_rx));
    let status_rx: JobRx = Arc::new(tokio::sync::Mutex::new(status_rx));
    let mut workers = Vec::new();
    for (n, rx) in [
        (args.join_connections.max(1), &join_rx),
        (args.status_connections.max(1), &status_rx),
    ] {
        for _ in 0..n {
            workers.push(tokio::spawn(rush_worker(
                rush.clone(),
                rx.clone(),
                status_tx.clone(),
                FlowClient::new(stack.target.clone(), args.timeout),
            )));
        }
    }
    // Arrivals evenly spread over the window.
    let spacing = args.window.as_secs_f64() / users as f64;
    for user in 0..users {
        let due = started + Duration::from_secs_f64(spacing * user as f64);
        tokio::time::sleep_until(due).await;
        rush.pending.fetch_add(1, Ordering::SeqCst);
        join_tx.send(Job {
            user,
            step: Step::Join,
            due,
        })?;
    }
    // Done when nothing is scheduled or in flight (nothing is scheduled past `end`), or at the
    // hard stop; whatever is still in flight then is counted as unfinished.
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let idle =
            rush.pending.load(Ordering::SeqCst) == 0 && rush.in_flight.load(Ordering::SeqCst) == 0;
        if idle || Instant::now() >= hard_stop {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    for worker in &workers {
        worker.abort();
    }
    let unfinished = rush.pending.load(Ordering::SeqCst) + rush.in_flight.load(Ordering::SeqCst);
    let mut stats = std::mem::take(&mut *rush.stats.lock().unwrap_or_else(|e| e.into_inner()));
    if unfinished > 0 {
        stats
            .errors
            .insert("unfinished at the hard stop".into(), unfinished as u64);
    }
    let result = RushResult {
        users,
        window_s: args.window.as_secs_f64(),
        tail_s: args.tail.as_secs_f64(),
        elapsed_s: elapsed,
        joins_ok: stats.joins_ok,
        statuses_ok: stats.statuses_ok,
        status_rps: stats.statuses_ok as f64 / elapsed,
        offered_status_rps: offered_poll_rate(stats.positions.iter().copied()),
        admitted_at_join: stats.admitted,
        queued_at_join: stats.queued,
        max_position: stats.positions.iter().copied().max().unwrap_or(0),
        join: stats.join.summary(),
        status: stats.status.summary(),
        errors: stats.errors,
    };
    eprintln!(
        "rush: joins p99 {:.0} us ({} ok), status p99 {:.0} us ({} ok, {:.0}/s), errors {:?}",
        result.join.p99_us,
        result.joins_ok,
        result.status.p99_us,
        result.statuses_ok,
        result.status_rps,
        result.errors
    );
    Ok(result)
}

// ---------------------------------------------------------------------------------------------
// Status flatness

/// Fills the line: `threshold` users take the slots, then `waiting` users queue. Returns the
/// ids of up to [`FLAT_PROBES`] waiters from the middle on.
async fn fill(
    redis: &mut redis::aio::ConnectionManager,
    keys: &EventKeys,
    settings: &QueueSettings,
    info: &str,
    waiting: usize,
) -> Result<Vec<String>> {
    let total = settings.threshold as usize + waiting;
    let middle_index = settings.threshold as usize + waiting / 2;
    let mut middle = Vec::new();
    let key_list = keys.visit();
    let mut done = 0;
    while done < total {
        let n = FILL_BATCH.min(total - done);
        let mut pipe = redis::pipe();
        for i in done..done + n {
            let user = uuid::Uuid::new_v4().to_string();
            if (middle_index..middle_index + FLAT_PROBES).contains(&i) {
                middle.push(user.clone());
            }
            pipe.cmd("EVALSHA")
                .arg(VISIT_SCRIPT_SHA1)
                .arg(key_list.len())
                .arg(&key_list)
                .arg(visit_args(
                    settings,
                    &user,
                    Mode::Join,
                    &JoinFacts {
                        event_info: Some(info),
                        ..JoinFacts::default()
                    },
                    None,
                ))
                .ignore();
        }
        let _: () = pipe.query_async(redis).await?;
        done += n;
    }
    let in_line: usize = redis::cmd("ZCARD")
        .arg(&keys.waiting)
        .query_async(redis)
        .await?;
    if in_line != waiting || middle.is_empty() {
        bail!("filled a line of {in_line}, wanted {waiting}");
    }
    Ok(middle)
}

/// Status of the middle waiters, worker `w` polling waiter `w mod n`.
struct Probes(Vec<RequestSpec>);

impl Scenario for Probes {
    fn name(&self) -> String {
        format!("GET {} (middle waiters)", status_path(FLAT_EVENT_ID))
    }

    fn request(&self, worker: usize, _seq: u64) -> RequestSpec {
        self.0[worker % self.0.len()].clone()
    }
}

async fn flat_cell(
    args: &QueueRushArgs,
    stack: &BenchStack,
    redis: &mut redis::aio::ConnectionManager,
    settings: &QueueSettings,
    waiting: usize,
) -> Result<FlatCell> {
    let keys = EventKeys::new(&stack.key_prefix, FLAT_EVENT_ID);
    clear(redis, &keys).await?;
    let filling = Instant::now();
    let probes = fill(redis, &keys, settings, &event_info(FLAT_EVENT_ID), waiting).await?;
    eprintln!(
        "line of {waiting} filled in {:.1} s",
        filling.elapsed().as_secs_f64()
    );
    let specs = probes
        .iter()
        .map(|user| {
            let mut spec = RequestSpec::get(status_path(FLAT_EVENT_ID));
            let token = bearer(&stack.access_token(user, false)?)?;
            spec.headers.push((http::header::AUTHORIZATION, token));
            Ok(spec)
        })
        .collect::<Result<Vec<_>>>()?;
    // The measured users must really be in the middle of the line.
    let reply = FlowClient::new(stack.target.clone(), args.timeout)
        .send(specs[0].clone())
        .await
        .map_err(|kind| anyhow::anyhow!("status probe failed: {kind}"))?;
    let body = reply.json();
    let position = body.get("position").and_then(Value::as_u64).unwrap_or(0);
    if body.get("status").and_then(Value::as_str) != Some("queued") || position == 0 {
        bail!("the middle waiter is not queued: {} {body}", reply.status);
    }
    let scenario: Arc<dyn Scenario> = Arc::new(Probes(specs));
    let host_status = http_cell(args, &stack.target, scenario, args.status_concurrency).await?;
    let raw = RawVisit {
        keys: keys.visit(),
        settings: settings.clone(),
        info: String::new(),
        user: Some(probes[0].clone()),
    };
    let raw_evalsha = raw_cell(
        args,
        redis,
        Arc::new(raw),
        args.status_concurrency,
        "EVALSHA visit (status)",
    )
    .await?;
    clear(redis, &keys).await?;
    Ok(FlatCell {
        waiting,
        position,
        host_status,
        raw_evalsha,
    })
}

// ---------------------------------------------------------------------------------------------
// Verdicts and the report

/// The best join throughput over the cells, and the no-op throughput at that concurrency.
pub fn max_joins(cells: &[JoinCell]) -> Option<(f64, f64, usize)> {
    cells
        .iter()
        .max_by(|a, b| {
            a.host_join
                .throughput_rps
                .total_cmp(&b.host_join.throughput_rps)
        })
        .map(|c| {
            (
                c.host_join.throughput_rps,
                c.host_noop.throughput_rps,
                c.concurrency,
            )
        })
}

/// Largest line over smallest: (p50 growth, p99 growth, throughput kept).
pub fn flatness(first: &RunResult, last: &RunResult) -> (Option<f64>, Option<f64>, Option<f64>) {
    (
        ratio(Some(last.latency.p50_us), Some(first.latency.p50_us)),
        ratio(Some(last.latency.p99_us), Some(first.latency.p99_us)),
        ratio(Some(last.throughput_rps), Some(first.throughput_rps)),
    )
}

fn verdicts(report: &QueueRushReport) -> Vec<Verdict> {
    let mut out = Vec::new();
    let rush = &report.rush;
    out.push(Verdict {
        target: "join p99 < 50 ms during queue-rush".into(),
        measured: format!(
            "{} ({} joins ok, {} errors)",
            format_us(rush.join.p99_us),
            rush.joins_ok,
            rush.errors.values().sum::<u64>()
        ),
        met: rush.join.samples > 0
            && rush.join.p99_us < TARGET_JOIN_P99_US
            && rush.joins_ok as usize == rush.users,
    });
    if let Some((joins, noop, c)) = max_joins(&report.joins) {
        let r = ratio(Some(joins), Some(noop));
        out.push(Verdict {
            target: "max joins/s >= 60% of the no-op's throughput (same mode)".into(),
            measured: format!(
                "{} joins/s vs {} no-op req/s at c={c}: {}",
                format_rps(joins),
                format_rps(noop),
                format_percent(r)
            ),
            met: r.is_some_and(|r| r >= TARGET_JOINS_VS_NOOP),
        });
    }
    if let (Some(first), Some(last)) = (report.flat.first(), report.flat.last())
        && report.flat.len() > 1
    {
        let (p50, p99, kept) = flatness(&first.host_status, &last.host_status);
        out.push(Verdict {
            target: format!(
                "status flat from {} to {} waiting (p50 growth <= {FLAT_MAX_P50_GROWTH}x, \
                 throughput kept >= {})",
                first.waiting,
                last.waiting,
                format_percent(Some(FLAT_MIN_THROUGHPUT_KEPT))
            ),
            measured: format!(
                "p50 {}, p99 {}, throughput {}",
                format_ratio(p50),
                format_ratio(p99),
                format_percent(kept)
            ),
            met: p50.is_some_and(|g| g <= FLAT_MAX_P50_GROWTH)
                && kept.is_some_and(|k| k >= FLAT_MIN_THROUGHPUT_KEPT),
        });
    }
    out
}

fn row(md: &mut String, r: &RunResult) {
    md.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} | {} |\n",
        r.label,
        r.load.concurrency(),
        format_rps(r.throughput_rps),
        format_us(r.latency.p50_us),
        format_us(r.latency.p95_us),
        format_us(r.latency.p99_us),
        r.error_summary()
    ));
}

const HEADER: &str = "| run | concurrency | req/s | p50 | p95 | p99 | errors |\n\
                      |---|---:|---:|---:|---:|---:|---:|\n";

/// The Markdown tables of docs/benchmarks.md.
pub fn render_markdown(report: &QueueRushReport) -> String {
    let mut md = String::from("Join throughput (closed loop, a new user per request):\n\n");
    md.push_str(HEADER);
    for cell in &report.joins {
        row(&mut md, &cell.host_noop);
        row(&mut md, &cell.host_join);
        row(&mut md, &cell.raw_evalsha);
    }
    md.push_str("\nJoins next to the no-op and the raw script:\n\n| concurrency | joins/no-op | joins/EVALSHA | tokens minted in path |\n|---:|---:|---:|---:|\n");
    for cell in &report.joins {
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell.concurrency,
            format_percent(ratio(
                Some(cell.host_join.throughput_rps),
                Some(cell.host_noop.throughput_rps)
            )),
            format_percent(ratio(
                Some(cell.host_join.throughput_rps),
                Some(cell.raw_evalsha.throughput_rps)
            )),
            cell.tokens_minted_in_path
        ));
    }
    let r = &report.rush;
    md.push_str(&format!(
        "\nThe rush: {} users over {:.0} s, polling for {:.0} s more ({:.1} s in all); {} admitted \
         at once, {} queued (last position {}); status {}/s served, {}/s asked for at steady state.\n\n\
         | request | ok | p50 | p95 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n",
        r.users,
        r.window_s,
        r.tail_s,
        r.elapsed_s,
        r.admitted_at_join,
        r.queued_at_join,
        r.max_position,
        format_rps(r.status_rps),
        format_rps(r.offered_status_rps),
    ));
    for (name, ok, l) in [
        ("join", r.joins_ok, &r.join),
        ("status", r.statuses_ok, &r.status),
    ] {
        md.push_str(&format!(
            "| {name} | {ok} | {} | {} | {} | {} |\n",
            format_us(l.p50_us),
            format_us(l.p95_us),
            format_us(l.p99_us),
            format_us(l.max_us)
        ));
    }
    if !r.errors.is_empty() {
        md.push_str(&format!("\nRush errors: {:?}\n", r.errors));
    }
    md.push_str("\nStatus of the waiter in the middle, by line length:\n\n| waiting | position | run | req/s | p50 | p99 | errors |\n|---:|---:|---|---:|---:|---:|---:|\n");
    for cell in &report.flat {
        for run in [&cell.host_status, &cell.raw_evalsha] {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                cell.waiting,
                cell.position,
                run.label,
                format_rps(run.throughput_rps),
                format_us(run.latency.p50_us),
                format_us(run.latency.p99_us),
                run.error_summary()
            ));
        }
    }
    if let (Some(first), Some(last)) = (report.flat.first(), report.flat.last()) {
        let (p50, p99, kept) = flatness(&first.raw_evalsha, &last.raw_evalsha);
        md.push_str(&format!(
            "\nRaw EVALSHA status, {} vs {} waiting: p50 {}, p99 {}, throughput {}.\n",
            last.waiting,
            first.waiting,
            format_ratio(p50),
            format_ratio(p99),
            format_percent(kept)
        ));
    }
    md.push_str("\n| target | measured | verdict |\n|---|---|---|\n");
    for v in &report.verdicts {
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            v.target,
            v.measured,
            if v.met { "met" } else { "NOT met" }
        ));
    }
    md.push_str(&format!(
        "\nLoad average {} at the start, {} at the end.\n",
        report
            .load_average_start
            .map_or("n/a".into(), |l| format!("{l:.2}")),
        report
            .load_average_end
            .map_or("n/a".into(), |l| format!("{l:.2}"))
    ));
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use urr_queue::scripts::Placement;

    #[test]
    fn polls_follow_next_poll_while_queued_or_active() {
        let queued = json!({"status": "queued", "nextPoll": 10});
        assert_eq!(poll_after(&queued), Some(Duration::from_secs(10)));
        let active = json!({"status": "active", "nextPoll": 3});
        assert_eq!(poll_after(&active), Some(Duration::from_secs(3)));
        assert_eq!(
            poll_after(&json!({"status": "not_in_queue", "nextPoll": 5})),
            None
        );
        assert_eq!(
            poll_after(&json!({"status": "queued", "nextPoll": 0})),
            None
        );
        assert_eq!(
            poll_after(&json!({"status": "queued", "nextPoll": 61})),
            None
        );
        assert_eq!(poll_after(&json!({"status": "queued"})), None);
        assert_eq!(poll_after(&Value::Null), None);
    }

    #[test]
    fn the_offered_poll_rate_follows_the_contract_table() {
        // 15,000 in line: 1,000 every second, 4,000 every 5, 5,000 every 10, 5,000 every 30.
        let rate = offered_poll_rate(1..=15_000);
        let expected = 1_000.0 + 800.0 + 500.0 + 5_000.0 / 30.0;
        assert!((rate - expected).abs() < 1e-6, "{rate}");
        assert_eq!(offered_poll_rate([]), 0.0);
    }

    fn result(rps: f64, p50: f64, p99: f64) -> RunResult {
        RunResult {
            label: "x".into(),
            scenario: "x".into(),
            load: LoadShape::Concurrency { concurrency: 16 },
            elapsed_s: 1.0,
            ok: rps as u64,
            errors: 0,
            error_kinds: BTreeMap::new(),
            throughput_rps: rps,
            latency: LatencySummary {
                p50_us: p50,
                p99_us: p99,
                ..LatencySummary::default()
            },
        }
    }

    #[test]
    fn flatness_compares_the_largest_line_to_the_smallest() {
        let (p50, p99, kept) =
            flatness(&result(1000.0, 100.0, 400.0), &result(800.0, 120.0, 800.0));
        assert_eq!(p50, Some(1.2));
        assert_eq!(p99, Some(2.0));
        assert_eq!(kept, Some(0.8));
        assert_eq!(
            flatness(&result(0.0, 0.0, 0.0), &result(1.0, 1.0, 1.0)).0,
            None
        );
    }

    #[test]
    fn the_best_join_cell_is_compared_to_its_own_noop() {
        let cell = |c, joins, noop| JoinCell {
            concurrency: c,
            host_join: result(joins, 1.0, 1.0),
            raw_evalsha: result(1.0, 1.0, 1.0),
            host_noop: result(noop, 1.0, 1.0),
            tokens_minted_in_path: 0,
        };
        let cells = [cell(16, 500.0, 900.0), cell(64, 600.0, 1200.0)];
        assert_eq!(max_joins(&cells), Some((600.0, 1200.0, 64)));
        assert_eq!(max_joins(&[]), None);
    }

    #[test]
    fn the_phases_use_seeded_events_on_sale() {
        for id in [RUSH_EVENT_ID, JOIN_EVENT_ID, FLAT_EVENT_ID] {
            let event = urr_edge::seed::EVENTS
                .iter()
                .find(|e| e.id == id)
                .expect("a seeded event");
            assert!(
                event.sale_opens_in_hours < 0 && event.sale_closes_in_hours > 0,
                "{id}"
            );
        }
        let s = QueueSettings::parse(QUEUE_SETTINGS).expect("valid settings");
        assert!(
            s.slot_secs >= 600,
            "slots must outlast the run so the line only grows"
        );
        assert!(info_is_object(&event_info(RUSH_EVENT_ID)));
    }

    fn info_is_object(text: &str) -> bool {
        serde_json::from_str::<Value>(text).is_ok_and(|v| v["title"].is_string())
    }

    #[test]
    fn script_replies_read_like_the_components_read_them() {
        let reply = redis::Value::Array(vec![
            redis::Value::Int(2),
            redis::Value::Int(7),
            redis::Value::Int(100),
            redis::Value::Int(50),
            redis::Value::Int(100),
            redis::Value::Int(0),
            redis::Value::Int(1),
            redis::Value::Int(0),
            redis::Value::BulkString(b"{}".to_vec()),
            // Fair start: no seed, no opening, an empty pool, not in it.
            redis::Value::Nil,
            redis::Value::Int(0),
            redis::Value::Int(0),
            redis::Value::Int(0),
        ]);
        let visit = Visit::from_reply(&reply_values(reply).expect("an array")).expect("a visit");
        assert_eq!(visit.placement, Placement::Waiting { position: 7 });
        assert_eq!(reply_values(redis::Value::Int(1)), None);
    }
}
