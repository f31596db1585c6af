//! The load generator: keep-alive HTTP/1.1 connections (one per worker) to a loopback target,
//! driven at a fixed concurrency (closed loop) or a fixed arrival rate (open loop), bounded in
//! time and in request count.

use crate::scenario::{RequestSpec, Scenario};
use crate::stats::{Latencies, LoadShape, RunResult};
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::{HeaderValue, Request};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Longest run one invocation accepts.
pub const MAX_DURATION: Duration = Duration::from_secs(600);
/// Most requests one run sends (also bounds the memory of the latency samples).
pub const MAX_REQUESTS_CAP: u64 = 20_000_000;
/// Most connections one run opens.
pub const MAX_CONCURRENCY: usize = 1024;
/// Highest arrival rate accepted.
pub const MAX_RATE: f64 = 1_000_000.0;
/// How long a worker waits after a failed connect before it tries again (a dead target must not
/// turn the generator into a busy loop).
const RECONNECT_BACKOFF: Duration = Duration::from_millis(20);

/// A loopback HTTP target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub addr: SocketAddr,
    /// The `Host` header: the URL's authority.
    pub authority: String,
}

impl Target {
    /// Parses `http://127.0.0.1:3001/some/path?q` into the target and `/some/path?q`. Only
    /// loopback hosts are accepted (127.0.0.0/8, ::1, `localhost`): this tool never sends load
    /// anywhere else.
    pub fn parse_url(url: &str) -> Result<(Target, String)> {
        let uri: http::Uri = url.parse().with_context(|| format!("bad URL `{url}`"))?;
        if uri.scheme_str() != Some("http") {
            bail!("only http:// URLs are supported (got `{url}`)");
        }
        let authority = uri
            .authority()
            .with_context(|| format!("`{url}` has no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            host.parse()
                .with_context(|| format!("`{host}` is not an IP address or localhost"))?
        };
        if !ip.is_loopback() {
            bail!("refusing to send load to {ip}: only loopback targets (127.0.0.0/8, ::1)");
        }
        let port = authority.port_u16().unwrap_or(80);
        let path = uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string());
        Ok((
            Target {
                addr: SocketAddr::new(ip, port),
                authority: authority.as_str().to_string(),
            },
            path,
        ))
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.authority)
    }
}

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub target: Target,
    pub shape: LoadShape,
    pub duration: Duration,
    pub max_requests: u64,
    /// Per request; a request slower than this counts as a `timeout` error.
    pub timeout: Duration,
}

impl LoadConfig {
    pub fn validate(&self) -> Result<()> {
        if self.duration.is_zero() || self.duration > MAX_DURATION {
            bail!("duration must be between 0 and {MAX_DURATION:?}");
        }
        if self.max_requests == 0 || self.max_requests > MAX_REQUESTS_CAP {
            bail!("max requests must be between 1 and {MAX_REQUESTS_CAP}");
        }
        let c = self.shape.concurrency();
        if c == 0 || c > MAX_CONCURRENCY {
            bail!("concurrency must be between 1 and {MAX_CONCURRENCY}");
        }
        if let LoadShape::Rate { per_sec, .. } = self.shape
            && !(per_sec > 0.0 && per_sec <= MAX_RATE)
        {
            bail!("rate must be above 0 and at most {MAX_RATE}/s");
        }
        if !self.target.addr.ip().is_loopback() {
            bail!("only loopback targets");
        }
        Ok(())
    }
}

#[derive(Default)]
struct WorkerStats {
    latencies: Latencies,
    ok: u64,
    errors: BTreeMap<String, u64>,
}

impl WorkerStats {
    fn error(&mut self, kind: impl Into<String>) {
        *self.errors.entry(kind.into()).or_default() += 1;
    }
}

/// One keep-alive connection, re-established after an error.
struct Connection {
    target: Target,
    sender: Option<SendRequest<Full<Bytes>>>,
}

enum Outcome {
    Status(http::StatusCode),
    Failed(&'static str),
}

impl Connection {
    fn new(target: Target) -> Self {
        Self {
            target,
            sender: None,
        }
    }

    async fn ready(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, &'static str> {
        if let Some(sender) = &mut self.sender
            && sender.ready().await.is_err()
        {
            self.sender = None;
        }
        if self.sender.is_none() {
            let stream = tokio::net::TcpStream::connect(self.target.addr)
                .await
                .map_err(|_| "connect")?;
            let _ = stream.set_nodelay(true);
            let (sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .map_err(|_| "connect")?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.sender = Some(sender);
        }
        self.sender.as_mut().ok_or("connect")
    }

    /// Sends one request and reads the whole response.
    async fn exchange(
        &mut self,
        req: Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<Reply, &'static str> {
        let sender = match self.ready().await {
            Ok(s) => s,
            Err(kind) => {
                tokio::time::sleep(RECONNECT_BACKOFF).await;
                return Err(kind);
            }
        };
        let exchange = async {
            let response = sender.send_request(req).await?;
            let (parts, body) = response.into_parts();
            let wire = body.collect().await?.to_bytes();
            Ok::<_, hyper::Error>(Reply {
                status: parts.status,
                body: inflated(&parts.headers, &wire),
                wire_bytes: wire.len(),
                headers: parts.headers,
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(_)) => {
                self.sender = None;
                Err("io")
            }
            Err(_) => {
                self.sender = None;
                Err("timeout")
            }
        }
    }

    async fn send(&mut self, req: Request<Full<Bytes>>, timeout: Duration) -> Outcome {
        match self.exchange(req, timeout).await {
            Ok(reply) => Outcome::Status(reply.status),
            Err(kind) => Outcome::Failed(kind),
        }
    }
}

/// A whole response, for benchmarks whose next request depends on this one (a booking flow
/// carries ids and tokens from step to step; a refresh chain carries the rotated token).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    /// The body, inflated when it came gzip-encoded.
    pub body: Bytes,
    /// The body's size on the wire.
    pub wire_bytes: usize,
}

/// A gzip-encoded body inflated (as a browser does); any other body as it came. A body that
/// does not inflate is kept as it came, so the step's parser reports it unreadable.
fn inflated(headers: &http::HeaderMap, wire: &Bytes) -> Bytes {
    let gzip = headers
        .get(http::header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    if !gzip {
        return wire.clone();
    }
    let mut out = Vec::new();
    match std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&wire[..]), &mut out) {
        Ok(_) => Bytes::from(out),
        Err(_) => wire.clone(),
    }
}

impl Reply {
    /// The body as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// One keep-alive connection for a stateful flow (one per simulated user): sends a request and
/// returns the whole reply, re-connecting after an error like the load workers do.
pub struct FlowClient {
    target: Target,
    connection: Connection,
    timeout: Duration,
}

impl FlowClient {
    pub fn new(target: Target, timeout: Duration) -> Self {
        Self {
            connection: Connection::new(target.clone()),
            target,
            timeout,
        }
    }

    /// Sends `spec`; `Err` names a transport failure (`connect`, `io`, `timeout`).
    pub async fn send(&mut self, spec: RequestSpec) -> Result<Reply, &'static str> {
        let req = to_request(&self.target, spec).map_err(|_| "request")?;
        self.connection.exchange(req, self.timeout).await
    }
}

fn build_request(
    target: &Target,
    scenario: &dyn Scenario,
    worker: usize,
    seq: u64,
) -> Result<Request<Full<Bytes>>> {
    to_request(target, scenario.request(worker, seq))
}

fn to_request(target: &Target, spec: RequestSpec) -> Result<Request<Full<Bytes>>> {
    let mut req = Request::builder()
        .method(spec.method)
        .uri(spec.path)
        .body(Full::new(spec.body))?;
    let headers = req.headers_mut();
    headers.insert(
        http::header::HOST,
        HeaderValue::from_str(&target.authority)?,
    );
    for (name, value) in spec.headers {
        headers.append(name, value);
    }
    Ok(req)
}

fn record(stats: &mut WorkerStats, scenario: &dyn Scenario, outcome: Outcome, latency: Duration) {
    match outcome {
        Outcome::Status(status) if scenario.is_success(status) => {
            stats.ok += 1;
            stats.latencies.record(latency);
        }
        Outcome::Status(status) => stats.error(format!("status {}", status.as_u16())),
        Outcome::Failed(kind) => stats.error(kind),
    }
}

/// [`run`] after an unmeasured warm-up of `warmup` (none when zero) with the same settings.
pub async fn run_warmed(
    config: &LoadConfig,
    warmup: Duration,
    scenario: Arc<dyn Scenario>,
    label: &str,
) -> Result<RunResult> {
    if !warmup.is_zero() {
        let warm = LoadConfig {
            duration: warmup,
            ..config.clone()
        };
        run(&warm, scenario.clone(), label).await?;
    }
    run(config, scenario, label).await
}

/// One closed-loop cell at `concurrency`: warm-up, then the measured `duration`.
pub async fn closed_cell(
    target: &Target,
    scenario: Arc<dyn Scenario>,
    concurrency: usize,
    (warmup, duration, timeout): (Duration, Duration, Duration),
) -> Result<RunResult> {
    let label = scenario.name();
    let config = LoadConfig {
        target: target.clone(),
        shape: LoadShape::Concurrency { concurrency },
        duration,
        max_requests: MAX_REQUESTS_CAP,
        timeout,
    };
    run_warmed(&config, warmup, scenario, &label).await
}

/// Runs the load and measures it. `label` names the run in reports.
pub async fn run(
    config: &LoadConfig,
    scenario: Arc<dyn Scenario>,
    label: &str,
) -> Result<RunResult> {
    config.validate()?;
    // Fail fast (and clearly) when nothing listens, instead of a run full of connect errors.
    tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect(config.target.addr),
    )
    .await
    .context("connecting to the target timed out")?
    .with_context(|| format!("nothing answers at {}", config.target.base_url()))?;

    let started = Instant::now();
    let deadline = started + config.duration;
    let stats = match config.shape {
        LoadShape::Concurrency { concurrency } => {
            closed_loop(config, scenario.clone(), concurrency, deadline).await?
        }
        LoadShape::Rate {
            per_sec,
            max_in_flight,
        } => open_loop(config, scenario.clone(), per_sec, max_in_flight, started).await?,
    };
    Ok(summarize(
        label,
        scenario.name(),
        config.shape,
        started.elapsed().as_secs_f64(),
        stats,
    ))
}

/// Merges the workers' counts into one result.
fn summarize(
    label: &str,
    scenario: String,
    load: LoadShape,
    elapsed: f64,
    stats: Vec<WorkerStats>,
) -> RunResult {
    let mut latencies = Latencies::default();
    let mut ok = 0;
    let mut error_kinds: BTreeMap<String, u64> = BTreeMap::new();
    for s in stats {
        latencies.merge(s.latencies);
        ok += s.ok;
        for (k, n) in s.errors {
            *error_kinds.entry(k).or_default() += n;
        }
    }
    RunResult {
        label: label.to_string(),
        scenario,
        load,
        elapsed_s: elapsed,
        ok,
        errors: error_kinds.values().sum(),
        error_kinds,
        throughput_rps: if elapsed > 0.0 {
            ok as f64 / elapsed
        } else {
            0.0
        },
        latency: latencies.summary(),
    }
}

async fn join_all(
    handles: Vec<tokio::task::JoinHandle<Result<WorkerStats>>>,
) -> Result<Vec<WorkerStats>> {
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.context("a load worker panicked")??);
    }
    Ok(out)
}

async fn closed_loop(
    config: &LoadConfig,
    scenario: Arc<dyn Scenario>,
    concurrency: usize,
    deadline: Instant,
) -> Result<Vec<WorkerStats>> {
    let issued = Arc::new(AtomicU64::new(0));
    let handles = (0..concurrency)
        .map(|worker| {
            let scenario = scenario.clone();
            let issued = issued.clone();
            let config = config.clone();
            tokio::spawn(async move {
                let mut stats = WorkerStats::default();
                let mut conn = Connection::new(config.target.clone());
                let mut seq = 0u64;
                while Instant::now() < deadline
                    && issued.fetch_add(1, Ordering::Relaxed) < config.max_requests
                {
                    let req = build_request(&config.target, scenario.as_ref(), worker, seq)?;
                    seq += 1;
                    let sent = Instant::now();
                    let outcome = conn.send(req, config.timeout).await;
                    record(&mut stats, scenario.as_ref(), outcome, sent.elapsed());
                }
                Ok(stats)
            })
        })
        .collect();
    join_all(handles).await
}

async fn open_loop(
    config: &LoadConfig,
    scenario: Arc<dyn Scenario>,
    per_sec: f64,
    max_in_flight: usize,
    started: Instant,
) -> Result<Vec<WorkerStats>> {
    let deadline = started + config.duration;
    // Arrivals wait here when every connection is busy; at most a second's worth, beyond which
    // they are dropped and counted as `missed arrival` (the server is far behind the rate).
    let capacity = (per_sec.ceil() as usize).clamp(64, 1_000_000);
    let (tx, rx) = tokio::sync::mpsc::channel::<Instant>(capacity);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let max_requests = config.max_requests;
    let dispatcher = tokio::spawn(async move {
        let mut missed = 0u64;
        let interval = Duration::from_secs_f64(1.0 / per_sec);
        for i in 0..max_requests {
            let at = started + interval.mul_f64(i as f64);
            if at >= deadline {
                break;
            }
            tokio::time::sleep_until(at).await;
            // Latency counts from the release time, so queueing behind busy connections is
            // measured; timer granularity (about 1 ms, arrivals leave in small batches) is not.
            if tx.try_send(Instant::now()).is_err() {
                missed += 1;
            }
        }
        missed
    });
    // A request still queued this long after the end is not sent: the run must stop by itself.
    let hard_stop = deadline + config.timeout;
    let handles = (0..max_in_flight)
        .map(|worker| {
            let scenario = scenario.clone();
            let rx = rx.clone();
            let config = config.clone();
            tokio::spawn(async move {
                let mut stats = WorkerStats::default();
                let mut conn = Connection::new(config.target.clone());
                let mut seq = 0u64;
                loop {
                    let next = { rx.lock().await.recv().await };
                    let Some(released) = next else { break };
                    if Instant::now() >= hard_stop {
                        stats.error("missed arrival");
                        continue;
                    }
                    let req = build_request(&config.target, scenario.as_ref(), worker, seq)?;
                    seq += 1;
                    let outcome = conn.send(req, config.timeout).await;
                    record(&mut stats, scenario.as_ref(), outcome, released.elapsed());
                }
                Ok(stats)
            })
        })
        .collect();
    let missed = dispatcher.await.context("the dispatcher panicked")?;
    let mut stats = join_all(handles).await?;
    if missed > 0 {
        let mut extra = WorkerStats::default();
        extra.errors.insert("missed arrival".to_string(), missed);
        stats.push(extra);
    }
    Ok(stats)
}

/// A closed loop over stateful workers, for load the request-level `run` cannot express: a
/// flow whose next request depends on the last reply (a refresh chain), or a baseline that is
/// not HTTP at all (the same SQL or script run directly). Each worker owns one `S`; every call
/// of `step` is one measured operation: `Ok` records its latency, `Err(kind)` counts an error of
/// that kind. Runs until `duration` has passed, then reports like [`run`] and hands the states
/// back (a warm-up's chains go on into the measured run).
pub async fn run_workers<S, F, Fut>(
    label: &str,
    states: Vec<S>,
    duration: Duration,
    step: F,
) -> Result<(RunResult, Vec<S>)>
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = (S, Result<(), String>)> + Send,
{
    let concurrency = states.len();
    if concurrency == 0 || concurrency > MAX_CONCURRENCY {
        bail!("concurrency must be between 1 and {MAX_CONCURRENCY}");
    }
    let step = Arc::new(step);
    let started = Instant::now();
    let deadline = started + duration;
    let handles: Vec<_> = states
        .into_iter()
        .map(|mut state| {
            let step = step.clone();
            tokio::spawn(async move {
                let mut stats = WorkerStats::default();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let (next, outcome) = step(state).await;
                    state = next;
                    match outcome {
                        Ok(()) => {
                            stats.ok += 1;
                            stats.latencies.record(sent.elapsed());
                        }
                        Err(kind) => stats.error(kind),
                    }
                }
                (stats, state)
            })
        })
        .collect();
    let mut stats = Vec::with_capacity(concurrency);
    let mut states = Vec::with_capacity(concurrency);
    for handle in handles {
        let (s, state) = handle.await.context("a load worker panicked")?;
        stats.push(s);
        states.push(state);
    }
    let result = summarize(
        label,
        label.to_string(),
        LoadShape::Concurrency { concurrency },
        started.elapsed().as_secs_f64(),
        stats,
    );
    Ok((result, states))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets() -> Result<()> {
        let (t, path) = Target::parse_url("http://127.0.0.1:3001/health?x=1")?;
        assert_eq!(t.addr, "127.0.0.1:3001".parse()?);
        assert_eq!(path, "/health?x=1");
        let (t, path) = Target::parse_url("http://localhost:8080")?;
        assert_eq!(t.addr.port(), 8080);
        assert_eq!(t.authority, "localhost:8080");
        assert_eq!(path, "/");
        assert!(Target::parse_url("http://[::1]:9/").is_ok());
        assert!(Target::parse_url("http://127.8.9.10:9/").is_ok());
        assert!(Target::parse_url("http://10.0.0.1:80/").is_err());
        assert!(Target::parse_url("http://192.168.1.1/").is_err());
        assert!(Target::parse_url("http://example.com/").is_err());
        assert!(Target::parse_url("https://127.0.0.1/").is_err());
        Ok(())
    }
}
