//! The catalog benchmark: `GET /api/v1/events` and `GET /api/v1/events/{id}` through the host at
//! each concurrency, next to the same SQL run directly with sqlx in the same run (the floor the
//! component can reach), plus the revalidation path (`If-None-Match` → 304).
//!
//! It runs the whole application ([`crate::stack`]: its own database seeded with the demo
//! catalog, dropped at the end) and measures each cell after a warm-up. The direct-SQL runs use a pool as large as the host's per-address pool
//! (the same connection budget) and run exactly the statements the component runs: one for the
//! list, two (event, then its ticket types) for the detail.

use crate::load::{self, Target};
use crate::scenario::{RequestSpec, Scenario};
use crate::stack::{BenchStack, StackConfig};
use crate::stats::{Latencies, LoadShape, RunResult};
use anyhow::{Context, Result, bail};
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use urr_catalog_domain::sql;

/// The seeded event the detail cells read (seat layout `small_theater`).
pub const DETAIL_EVENT_ID: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000001";
/// The host's Postgres pool per address (`urr_edge::config::DEFAULT_PG_POOL_MAX`): the direct
/// runs get the same connection budget.
const SQL_POOL_MAX: u32 = urr_edge::config::DEFAULT_PG_POOL_MAX;

pub struct CatalogConfig {
    pub repo: PathBuf,
    pub host_bin: PathBuf,
    /// An admin URL of the Postgres server (may create and drop databases).
    pub pg_url: String,
    pub redis_url: String,
    pub duration: Duration,
    pub warmup: Duration,
    pub concurrency: Vec<usize>,
    pub timeout: Duration,
    pub scratch: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct CatalogReport {
    pub runs: Vec<RunResult>,
}

/// The header the run's host trusts for the client's address (`trusted_client_ip_header`), as
/// a CDN in front would set it.
const CLIENT_ADDRESS_HEADER: &str = "x-bench-client-address";
/// Addresses each load worker rotates through. Catalog reads are rate limited per client
/// address (the `default` category, at most 60,000 a minute = 1,000/s each): one worker alone
/// outruns one address, and the cells measure the read path, not the limiter's refusals. With
/// this many per worker, a worker has 16,000/s before any address is limited.
const ADDRESSES_PER_WORKER: u64 = 16;
/// What the run sets so that the limiter sees many clients with the largest quota.
const VARIABLES: [(&str, &str); 2] = [
    ("trusted_client_ip_header", CLIENT_ADDRESS_HEADER),
    ("rate_limits", "default=60000"),
];

/// `spec` as client address `10.<worker>.<slot>.1` sends it (`slot` rotating per request).
fn from_client(spec: &RequestSpec, worker: usize, seq: u64) -> RequestSpec {
    let mut spec = spec.clone();
    let address = format!("10.{}.{}.1", worker % 256, seq % ADDRESSES_PER_WORKER);
    spec.headers.push((
        http::HeaderName::from_static(CLIENT_ADDRESS_HEADER),
        HeaderValue::from_str(&address).unwrap_or_else(|_| unreachable!("an IPv4 address")),
    ));
    spec
}

/// A fixed GET that counts only 304 as success (the revalidation path).
struct NotModified {
    spec: RequestSpec,
}

impl Scenario for NotModified {
    fn name(&self) -> String {
        format!("GET {} (304)", self.spec.path)
    }

    fn request(&self, worker: usize, seq: u64) -> RequestSpec {
        from_client(&self.spec, worker, seq)
    }

    fn is_success(&self, status: StatusCode) -> bool {
        status == StatusCode::NOT_MODIFIED
    }
}

struct Get(RequestSpec);

impl Scenario for Get {
    fn name(&self) -> String {
        format!("GET {}", self.0.path)
    }

    fn request(&self, worker: usize, seq: u64) -> RequestSpec {
        from_client(&self.0, worker, seq)
    }
}

pub async fn run(config: CatalogConfig) -> Result<CatalogReport> {
    let mut stack_config = StackConfig::new(
        "catalog",
        config.repo.clone(),
        config.host_bin.clone(),
        &config.pg_url,
        &config.redis_url,
    );
    stack_config.scratch = config.scratch.clone();
    for (name, value) in VARIABLES {
        stack_config = stack_config.variable(name, value);
    }
    let stack = BenchStack::start(&stack_config).await?;
    let result = measure(&config, &stack).await;
    stack.stop().await?;
    result
}

async fn measure(config: &CatalogConfig, stack: &BenchStack) -> Result<CatalogReport> {
    let catalog_url = stack.url_as("urr_catalog");
    let target = stack.target.clone();
    let list = "/api/v1/events".to_string();
    let detail = format!("/api/v1/events/{DETAIL_EVENT_ID}");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(SQL_POOL_MAX)
        .connect(&catalog_url)
        .await
        .context("connecting as urr_catalog")?;
    let mut runs = Vec::new();
    for &c in &config.concurrency {
        for path in [&list, &detail] {
            let get: Arc<dyn Scenario> = Arc::new(Get(RequestSpec::get(path.clone())));
            runs.push(http_cell(config, &target, get, c).await?);
            let etag = fetch_etag(&target, path).await?;
            let mut spec = RequestSpec::get(path.clone());
            spec.headers
                .push((http::header::IF_NONE_MATCH, HeaderValue::from_str(&etag)?));
            let revalidate: Arc<dyn Scenario> = Arc::new(NotModified { spec });
            runs.push(http_cell(config, &target, revalidate, c).await?);
            let is_list = path == &list;
            runs.push(sql_cell(config, &pool, is_list, c).await?);
        }
    }
    pool.close().await;
    Ok(CatalogReport { runs })
}

async fn http_cell(
    config: &CatalogConfig,
    target: &Target,
    scenario: Arc<dyn Scenario>,
    concurrency: usize,
) -> Result<RunResult> {
    let phases = (config.warmup, config.duration, config.timeout);
    let result = load::closed_cell(target, scenario, concurrency, phases).await?;
    eprintln!(
        "{} c={concurrency}: {:.0} req/s, p99 {:.0} us, {} errors",
        result.label, result.throughput_rps, result.latency.p99_us, result.errors
    );
    Ok(result)
}

/// The ETag of `path`'s current body, from one plain HTTP/1.1 request.
async fn fetch_etag(target: &Target, path: &str) -> Result<String> {
    let mut stream = tokio::net::TcpStream::connect(target.addr).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        target.authority
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    text.lines()
        .take_while(|line| !line.is_empty())
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("etag")
                .then(|| value.trim().to_string())
        })
        .context("the catalog sent no ETag")
}

/// The component's statements, run directly: `concurrency` tasks over one pool for the
/// measured duration (after the warm-up), every call's latency kept.
async fn sql_cell(
    config: &CatalogConfig,
    pool: &sqlx::PgPool,
    list: bool,
    concurrency: usize,
) -> Result<RunResult> {
    let label = if list {
        "SQL: list events (1 statement)".to_string()
    } else {
        "SQL: event detail (2 statements)".to_string()
    };
    if !config.warmup.is_zero() {
        sql_load(pool, list, concurrency, config.warmup).await?;
    }
    let (elapsed, ok, errors, latencies) =
        sql_load(pool, list, concurrency, config.duration).await?;
    let mut error_kinds = BTreeMap::new();
    if errors > 0 {
        error_kinds.insert("sql".to_string(), errors);
    }
    let secs = elapsed.as_secs_f64();
    let result = RunResult {
        label: label.clone(),
        scenario: label.clone(),
        load: LoadShape::Concurrency { concurrency },
        elapsed_s: secs,
        ok,
        errors,
        error_kinds,
        throughput_rps: if secs > 0.0 { ok as f64 / secs } else { 0.0 },
        latency: latencies.summary(),
    };
    eprintln!(
        "{label} c={concurrency}: {:.0} calls/s, p99 {:.0} us, {errors} errors",
        result.throughput_rps, result.latency.p99_us
    );
    Ok(result)
}

async fn sql_load(
    pool: &sqlx::PgPool,
    list: bool,
    concurrency: usize,
    duration: Duration,
) -> Result<(Duration, u64, u64, Latencies)> {
    if concurrency == 0 {
        bail!("concurrency must be at least 1");
    }
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut errors, mut latencies) = (0u64, 0u64, Latencies::default());
            while Instant::now() < deadline {
                let call = Instant::now();
                match one_call(&pool, list).await {
                    Ok(()) => {
                        ok += 1;
                        latencies.record(call.elapsed());
                    }
                    Err(_) => errors += 1,
                }
            }
            (ok, errors, latencies)
        }));
    }
    let (mut ok, mut errors, mut latencies) = (0, 0, Latencies::default());
    for task in tasks {
        let (o, e, l) = task.await?;
        ok += o;
        errors += e;
        latencies.merge(l);
    }
    Ok((started.elapsed(), ok, errors, latencies))
}

/// What one request of the component runs: the default first page, or one event and its types.
async fn one_call(pool: &sqlx::PgPool, list: bool) -> Result<(), sqlx::Error> {
    /// The component's bound on ticket types per event (components/catalog/src/tickets.rs).
    const MAX_TICKET_TYPES: i64 = 100;
    /// The contract's default page size.
    const DEFAULT_LIMIT: i64 = 10;
    if list {
        sqlx::query(sql::LIST_EVENTS)
            .bind(None::<String>)
            .bind(None::<String>)
            .bind(None::<i64>)
            .bind(None::<i64>)
            .bind(DEFAULT_LIMIT)
            .bind(0_i64)
            .fetch_all(pool)
            .await?;
    } else {
        sqlx::query(sql::GET_EVENT)
            .bind(DETAIL_EVENT_ID)
            .fetch_all(pool)
            .await?;
        sqlx::query(sql::LIST_TICKET_TYPES)
            .bind(DETAIL_EVENT_ID)
            .bind(MAX_TICKET_TYPES)
            .fetch_all(pool)
            .await?;
    }
    Ok(())
}

/// The Markdown table of docs/benchmarks.md.
pub fn render_markdown(report: &CatalogReport) -> String {
    let mut md = String::from(
        "| run | concurrency | req/s | p50 | p99 | errors |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for r in &report.runs {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.label,
            r.load.concurrency(),
            crate::stats::format_rps(r.throughput_rps),
            crate::stats::format_us(r.latency.p50_us),
            crate::stats::format_us(r.latency.p99_us),
            r.error_summary()
        ));
    }
    md
}
