//! The HTTP side of the host: accept connections, route each request to its component, read its
//! body (before it takes a slot), run it in a fresh instance under the component's limits, and
//! answer. Everything the host itself answers (404, 408 slow body, 413, 503 shed, 504 deadline,
//! 500 guest failure) is the API's JSON error shape with a request id, and no guest failure can
//! take the server down.

use crate::config::{HostConfig, RequestLimits};
use crate::manifest::Manifest;
use crate::metrics::Metrics;
use crate::routes::{RoutePattern, Router};
use crate::runtime::{LoadedComponent, Runtime};
use crate::state::HostState;
use crate::stores::Stores;
use anyhow::{Context as _, Result};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot, watch};
use tokio_util::task::TaskTracker;
use urr_api::ApiError;
use urr_api::edge::{AllowedOrigins, Preflight};
use wasmtime::Store;
use wasmtime_wasi_http::p3::bindings::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;

/// How long shutdown waits for in-flight requests before it gives up on them.
pub const SHUTDOWN_DRAIN_TIMEOUT: Duration = Duration::from_secs(20);
/// Seconds a shed client is told to wait.
pub const SHED_RETRY_AFTER_SECS: u32 = 1;
/// `Retry-After` of a 504 for a guest that passed its deadline: what it waited on (a store, the
/// provider) was slow, so a client should back off a little before it retries — with the same
/// `Idempotency-Key` where the route takes one, since the guest may have committed.
pub const DEADLINE_RETRY_AFTER_SECS: u32 = 2;
/// Longest accepted `X-Request-Id`; longer ones are replaced, not echoed.
const MAX_REQUEST_ID_LEN: usize = 128;
/// The one path of the metrics listener.
pub const METRICS_PATH: &str = "/metrics";
/// The application variable naming the web origins allowed to call the API (as the components
/// read it).
const ALLOWED_ORIGINS_VARIABLE: &str = "allowed_origins";

/// Marks an answer the host wrote itself (not a guest's), so it gets the edge headers the
/// components' wrapper would have given it. Never sent: response extensions stay in the process.
#[derive(Clone, Copy)]
struct HostAnswer;

/// Up to this much of a refused body is read and dropped before the 413 goes out: a client still
/// sending when the connection closes sees a reset instead of the answer. Bodies declared larger
/// are not worth reading; their clients get the reset.
const DRAIN_MAX_BYTES: u64 = 1 << 20;
/// How long a refused body is drained, at most.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Reads and drops a refused request body: at most about `budget` more bytes (checked after each
/// frame) and [`DRAIN_TIMEOUT`]. No slot is held meanwhile: bodies are read before one is taken.
async fn drain(mut body: hyper::body::Incoming, budget: u64) {
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        let mut left = budget;
        while let Some(Ok(frame)) = body.frame().await {
            let len = frame.data_ref().map_or(0, |d| d.len() as u64);
            match left.checked_sub(len) {
                Some(rest) => left = rest,
                None => break,
            }
        }
    })
    .await;
}

/// Why a request body was not read.
enum BodyError {
    /// Over the cap: what is left of it, to drain before the 413.
    TooLarge(hyper::body::Incoming),
    /// The connection broke or the framing was invalid.
    Broken,
    /// Not whole within the body timeout, or slower than the minimum rate.
    TooSlow,
}

/// How fast a body must arrive: whole within `timeout`, and, once `grace` has passed, at no less
/// than `min_bytes_per_sec` on average (0: no rate).
#[derive(Debug, Clone, Copy)]
struct BodyPace {
    timeout: Duration,
    grace: Duration,
    min_bytes_per_sec: u64,
}

impl BodyPace {
    fn of(limits: &RequestLimits) -> Self {
        Self {
            timeout: limits.body_timeout,
            grace: limits.body_rate_grace,
            min_bytes_per_sec: limits.min_body_bytes_per_sec,
        }
    }

    /// How long after the start a body that has delivered `received` bytes may wait for more:
    /// each byte buys `1 / min_bytes_per_sec` seconds beyond the grace, up to the timeout.
    fn patience(&self, received: usize) -> Duration {
        if self.min_bytes_per_sec == 0 {
            return self.timeout;
        }
        let earned = Duration::from_secs_f64(received as f64 / self.min_bytes_per_sec as f64);
        (self.grace + earned).min(self.timeout)
    }
}

/// The whole body, at most `max` bytes, arriving at `pace`; a body without a `Content-Length` that
/// runs over is handed back to be drained like a declared one, so its client reads the 413.
async fn read_body(
    mut body: hyper::body::Incoming,
    max: usize,
    pace: BodyPace,
) -> Result<Bytes, BodyError> {
    let started = tokio::time::Instant::now();
    let mut buf = bytes::BytesMut::new();
    loop {
        let until = started + pace.patience(buf.len());
        let frame = match tokio::time::timeout_at(until, body.frame()).await {
            Err(_) => return Err(BodyError::TooSlow),
            Ok(None) => break,
            Ok(Some(frame)) => frame.map_err(|_| BodyError::Broken)?,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if buf.len() + data.len() > max {
            return Err(BodyError::TooLarge(body));
        }
        buf.extend_from_slice(&data);
    }
    Ok(buf.freeze())
}

/// Bounded concurrency for one component: a fixed number of running requests and a short, bounded
/// wait queue. Beyond that, requests are shed with 503 instead of piling up in memory.
struct Gate {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    limits: RequestLimits,
}

impl Gate {
    fn new(limits: RequestLimits) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limits.max_concurrency)),
            waiting: AtomicUsize::new(0),
            limits,
        }
    }

    async fn enter(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Some(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.limits.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let permit = tokio::time::timeout(
            self.limits.queue_timeout,
            self.permits.clone().acquire_owned(),
        )
        .await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        permit.ok()?.ok()
    }
}

/// Everything a request needs, shared across connections.
struct App {
    runtime: Runtime,
    router: Router,
    stores: Arc<Stores>,
    gates: Vec<Gate>,
    pools: Vec<InstancePool>,
    metrics: Metrics,
    config: HostConfig,
    /// The application's `allowed_origins`: the host's own answers carry the same CORS headers
    /// as the components' (`urr_api::edge`), so a browser shows a 404 or a 503, not a CORS error.
    allowed_origins: AllowedOrigins,
    /// The business counters of the last scrape, reused for `config.metrics_cache`.
    scrapes: crate::business::ScrapeCache,
}

/// A running host. Dropping it does not stop it: call `shutdown`.
pub struct RunningHost {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    app: Arc<App>,
}

impl RunningHost {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The metrics listener's address (`HostConfig.metrics_listen`), if there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// `http://<metrics listener>/metrics`, if there is a metrics listener.
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics_addr
            .map(|addr| format!("http://{addr}{METRICS_PATH}"))
    }

    /// The host's own metrics text: `GET /metrics` without the business counters it adds from
    /// Redis and Postgres.
    pub fn metrics_text(&self) -> String {
        self.app.metrics.render(&self.app.stores.pg_pool_stats())
    }

    /// Boot timings: (component, compile-or-load time, served from the compile cache).
    pub fn load_times(&self) -> &[(String, Duration, bool)] {
        &self.app.runtime.load_times
    }

    /// Stops accepting, lets in-flight requests finish (up to `SHUTDOWN_DRAIN_TIMEOUT`), returns.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

fn limits_for(config: &HostConfig, component: &LoadedComponent) -> RequestLimits {
    let o = &component.decl.options;
    let d = &config.limits;
    RequestLimits {
        deadline: o.deadline_ms.map_or(d.deadline, Duration::from_millis),
        max_body_bytes: o.max_body_bytes.unwrap_or(d.max_body_bytes),
        max_concurrency: o.max_concurrency.unwrap_or(d.max_concurrency),
        max_waiting: o.max_waiting.unwrap_or(d.max_waiting),
        queue_timeout: d.queue_timeout,
        body_timeout: d.body_timeout,
        min_body_bytes_per_sec: d.min_body_bytes_per_sec,
        body_rate_grace: d.body_rate_grace,
    }
}

/// Loads the manifest, boots every component and starts serving. Returns once the listener is
/// bound, so `addr()` is the real port even when the config asked for port 0.
pub async fn start(config: HostConfig) -> Result<RunningHost> {
    let manifest = Manifest::load(&config.manifest)?;
    if config.refuse_development_secrets {
        // Before any component is compiled: a refused boot should be quick and say why.
        let app_vars =
            crate::variables::resolve_application(&manifest.variables, &config.variables)?;
        crate::app_settings::check_development_secrets(&app_vars)?;
    }
    let runtime = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            Runtime::load(&manifest, &config).map(|r| (r, manifest))
        })
        .await??
    };
    let (runtime, manifest) = runtime;
    crate::runtime::start_epoch_ticker(&runtime.engine);
    let routes = manifest
        .triggers
        .iter()
        .map(|t| -> Result<(RoutePattern, usize)> {
            let idx = *runtime
                .index
                .get(&t.component)
                .context("trigger names an unknown component")?;
            Ok((t.route.clone(), idx))
        })
        .collect::<Result<Vec<_>>>()?;
    let router = Router::new(&manifest.base, routes);
    let gates = runtime
        .components
        .iter()
        .map(|c| Gate::new(limits_for(&config, c)))
        .collect();
    let metrics = Metrics::new(runtime.components.iter().map(|c| c.decl.id.clone()));
    let stores = Arc::new(Stores::new(config.stores.clone()));

    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let metrics_listener = match &config.metrics_listen {
        Some(listen) => Some(
            tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen} for /metrics"))?,
        ),
        None => None,
    };
    let metrics_addr = metrics_listener
        .as_ref()
        .map(tokio::net::TcpListener::local_addr)
        .transpose()?;
    let pools = runtime
        .components
        .iter()
        .map(|_| InstancePool::default())
        .collect();
    let allowed_origins = runtime
        .app_vars
        .get(ALLOWED_ORIGINS_VARIABLE)
        .map(|v| AllowedOrigins::parse(v))
        .unwrap_or_default();
    let scrapes = crate::business::ScrapeCache::new(config.metrics_cache);
    let app = Arc::new(App {
        scrapes,
        allowed_origins,
        pools,
        runtime,
        router,
        stores,
        gates,
        metrics,
        config,
    });
    let (shutdown, shutdown_rx) = watch::channel(false);
    let public = serve(app.clone(), listener, shutdown_rx.clone(), handle);
    let metrics =
        metrics_listener.map(|listener| serve(app.clone(), listener, shutdown_rx, metrics_answer));
    let task = tokio::spawn(async move {
        match metrics {
            Some(metrics) => {
                tokio::join!(public, metrics);
            }
            None => public.await,
        }
    });
    Ok(RunningHost {
        addr,
        metrics_addr,
        shutdown,
        task,
        app,
    })
}

/// Accepts connections on `listener` and answers each request with `answer` until shutdown,
/// then lets in-flight requests finish (up to [`SHUTDOWN_DRAIN_TIMEOUT`]).
async fn serve<F, Fut>(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    mut shutdown: watch::Receiver<bool>,
    answer: F,
) where
    F: Fn(Arc<App>, Request<hyper::body::Incoming>, SocketAddr) -> Fut
        + Copy
        + Send
        + Sync
        + 'static,
    Fut: std::future::Future<Output = Response<ResponseBody>> + Send + 'static,
{
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut conn_shutdown = shutdown.clone();
        connections.spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(app, req, peer).await) }
            });
            // No header-read timeout, as in Spin: hyper applies it to the wait between two
            // requests too, so it closed every connection idle for that long, and a client
            // reusing one at that moment (a browser, a pooled client, the load balancer, whose
            // idle timeout is 60 s) got a reset instead of an answer. Bodies keep their own
            // pace (`BodyPace`, 408).
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = conn_shutdown.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    connections.close();
    if tokio::time::timeout(SHUTDOWN_DRAIN_TIMEOUT, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            "shutdown: in-flight requests did not finish within {SHUTDOWN_DRAIN_TIMEOUT:?}"
        );
    }
}

fn request_id<B>(req: &Request<B>) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= MAX_REQUEST_ID_LEN
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string)
}

fn full(bytes: impl Into<Bytes>) -> ResponseBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn error_response(err: &ApiError, request_id: &str) -> Response<ResponseBody> {
    let mut response = Response::new(full(err.to_json(Some(request_id.to_string()))));
    *response.status_mut() =
        StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    if let Some(secs) = err.retry_after_secs {
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response.extensions_mut().insert(HostAnswer);
    response
}

/// The edge headers of every component (`urr_component::edge`) on an answer the host wrote: CORS
/// for an allowed `origin` (none for any other), the security headers, `Vary: Origin`.
fn with_edge_headers(
    response: &mut Response<ResponseBody>,
    origin: Option<&str>,
    allowed: &AllowedOrigins,
) {
    let headers = response.headers_mut();
    for (name, value) in urr_api::edge::cors_headers(origin, allowed) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    for (name, value) in urr_api::edge::SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(http::header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(
            urr_api::edge::DEFAULT_CACHE_CONTROL,
        ));
    headers.append(http::header::VARY, HeaderValue::from_static("Origin"));
}

/// The answer to a CORS preflight for a path no component serves, decided from its headers as
/// the components decide theirs: the browser then sends the request and shows its page the 404,
/// not a CORS failure.
fn unrouted_preflight(
    origin: Option<&str>,
    request_method: &str,
    allowed: &AllowedOrigins,
    request_id: &str,
) -> Response<ResponseBody> {
    match urr_api::edge::preflight(origin, request_method, allowed) {
        Preflight::Allowed(headers) => {
            let mut response = Response::new(full(Bytes::new()));
            *response.status_mut() = StatusCode::NO_CONTENT;
            for (name, value) in headers {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().insert(name, value);
                }
            }
            response.extensions_mut().insert(HostAnswer);
            response
        }
        Preflight::Refused => error_response(
            &ApiError::new(
                403,
                "cors_refused",
                "Cross-origin request not allowed from this origin",
            ),
            request_id,
        ),
    }
}

async fn handle(
    app: Arc<App>,
    req: Request<hyper::body::Incoming>,
    peer: SocketAddr,
) -> Response<ResponseBody> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let header = |name: http::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let origin = header(http::header::ORIGIN);
    let preflight_method = header(http::header::ACCESS_CONTROL_REQUEST_METHOD)
        .filter(|_| method == http::Method::OPTIONS);

    let (component, mut response) = {
        match app.router.route(&path) {
            None => {
                app.metrics.unrouted.fetch_add(1, Ordering::Relaxed);
                let answer = match &preflight_method {
                    Some(asked) => {
                        unrouted_preflight(origin.as_deref(), asked, &app.allowed_origins, &id)
                    }
                    None => error_response(&ApiError::not_found(), &id),
                };
                ("", answer)
            }
            Some(routed) => {
                let index = routed.component;
                let full_url = format!(
                    "http://{}{}",
                    req.headers()
                        .get(http::header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .unwrap_or("localhost"),
                    req.uri().path_and_query().map_or("/", |p| p.as_str())
                );
                let spin_headers = app
                    .router
                    .spin_headers(&routed, &full_url, &peer.to_string());
                let r = run_component(&app, index, req, spin_headers, &id).await;
                (app.runtime.components[index].decl.id.as_str(), r)
            }
        }
    };
    if response.extensions().get::<HostAnswer>().is_some() {
        with_edge_headers(&mut response, origin.as_deref(), &app.allowed_origins);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    if let Some((_, m)) = app.metrics.components.iter().find(|(c, _)| c == component) {
        m.record(status, elapsed);
    }
    tracing::info!(
        target: "urr_edge::request",
        request_id = %id,
        %method,
        path = %path,
        component = %component,
        status,
        duration_us = elapsed.as_micros() as u64,
    );
    match &app.config.response_tap {
        None => response,
        Some(tap) => show(tap, method.as_str(), path, response).await,
    }
}

/// The metrics listener's one route: `GET /metrics`, Prometheus text. The host's own counters
/// are read at every scrape (atomics); the business counters come through the scrape cache.
async fn metrics_answer(
    app: Arc<App>,
    req: Request<hyper::body::Incoming>,
    _peer: SocketAddr,
) -> Response<ResponseBody> {
    let plain = |status: StatusCode, text: &'static str| {
        let mut response = Response::new(full(text));
        *response.status_mut() = status;
        response
    };
    if req.uri().path() != METRICS_PATH {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    }
    if req.method() != http::Method::GET {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
        response
            .headers_mut()
            .insert(http::header::ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    let mut text = app.metrics.render(&app.stores.pg_pool_stats());
    if let Some(source) = crate::business::Source::of(&app.runtime.app_vars) {
        text.push_str(&app.scrapes.render(&app.stores, &source).await);
    }
    let mut response = Response::new(full(text));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// Buffers an answer to show it to the tap, then sends the same bytes on.
async fn show(
    tap: &crate::config::ResponseTap,
    method: &str,
    path: String,
    response: Response<ResponseBody>,
) -> Response<ResponseBody> {
    let (mut parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_else(|e| {
            // The client would have seen a cut-off body: the tap sees a failure it cannot miss.
            tracing::warn!("a response body failed while the tap read it: {e}");
            parts.status = StatusCode::INTERNAL_SERVER_ERROR;
            // The guest's length no longer describes the (empty) body sent instead.
            parts.headers.remove(http::header::CONTENT_LENGTH);
            Bytes::new()
        });
    (tap.0)(crate::config::Exchange {
        method: method.to_string(),
        path,
        status: parts.status.as_u16(),
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    Response::from_parts(parts, full(body))
}

async fn run_component(
    app: &Arc<App>,
    index: usize,
    req: Request<hyper::body::Incoming>,
    spin_headers: Vec<(String, String)>,
    id: &str,
) -> Response<ResponseBody> {
    let component = &app.runtime.components[index];
    let gate = &app.gates[index];
    let metrics = &app.metrics.components[index].1;
    let limits = &gate.limits;

    // The body is read whole, under the cap, before the request takes a slot: API bodies are
    // small JSON, a deterministic 413 beats a guest failing halfway through a read, and a client
    // sending slowly holds only its own connection, never a slot real requests need (it gets a
    // 408 once it falls below the minimum rate or passes the body timeout).
    let (mut parts, body) = req.into_parts();
    let too_large = || {
        error_response(
            &ApiError::new(
                413,
                "payload_too_large",
                format!("Request body exceeds {} bytes", limits.max_body_bytes),
            ),
            id,
        )
    };
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(declared) = declared.filter(|n| *n > limits.max_body_bytes as u64) {
        if declared <= DRAIN_MAX_BYTES {
            drain(body, declared).await;
        }
        return too_large();
    }
    let body = match read_body(body, limits.max_body_bytes, BodyPace::of(limits)).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge(rest)) => {
            drain(rest, DRAIN_MAX_BYTES).await;
            return too_large();
        }
        Err(BodyError::Broken) => {
            return error_response(
                &ApiError::bad_request("bad_body", "The request body could not be read"),
                id,
            );
        }
        Err(BodyError::TooSlow) => {
            return error_response(
                &ApiError::new(
                    408,
                    "request_timeout",
                    "The request body arrived too slowly",
                ),
                id,
            );
        }
    };

    // The route deadline runs from here: the wait for a slot and the guest.
    let deadline = tokio::time::Instant::now() + limits.deadline;
    let Some(permit) = gate.enter().await else {
        metrics.record_shed();
        let err = ApiError::unavailable(
            "overloaded",
            "The service is busy; please retry shortly",
            SHED_RETRY_AFTER_SECS,
        );
        return error_response(&err, id);
    };
    let _in_flight = metrics.in_flight();

    // Spin's routing headers are the host's to set: a client must not be able to forge them.
    let forged: Vec<http::HeaderName> = parts
        .headers
        .keys()
        .filter(|name| name.as_str().starts_with("spin-"))
        .cloned()
        .collect();
    for name in forged {
        parts.headers.remove(name);
    }
    // The guest sees the id the host logs and echoes, so its own logs and echo agree.
    if let Ok(v) = HeaderValue::from_str(id) {
        parts.headers.insert("x-request-id", v);
    }
    for (name, value) in spin_headers {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            parts.headers.insert(n, v);
        }
    }
    if parts.uri.scheme().is_none() {
        let mut uri_parts = parts.uri.clone().into_parts();
        uri_parts.scheme = Some(http::uri::Scheme::HTTP);
        uri_parts.authority = Some(
            parts
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .and_then(|h| h.parse().ok())
                .unwrap_or_else(|| http::uri::Authority::from_static("localhost")),
        );
        if let Ok(uri) = http::Uri::from_parts(uri_parts) {
            parts.uri = uri;
        }
    }
    let guest_request = Request::from_parts(parts, Full::new(body).map_err(never_fails));

    match invoke(app, index, guest_request, deadline, permit).await {
        Ok(response) => response,
        Err(Failure::Deadline) => {
            tracing::warn!(request_id = %id, component = %component.decl.id, "guest passed its deadline of {:?}", limits.deadline);
            let err = ApiError {
                retry_after_secs: Some(DEADLINE_RETRY_AFTER_SECS),
                ..ApiError::new(504, "deadline_exceeded", "The request took too long")
            };
            error_response(&err, id)
        }
        Err(Failure::Guest(detail)) => {
            tracing::error!(request_id = %id, component = %component.decl.id, "guest failed: {detail}");
            error_response(&ApiError::internal(), id)
        }
    }
}

enum Failure {
    Deadline,
    Guest(String),
}

/// Runs one request in a fresh instance. The store lives in its own task until the response body
/// has been consumed (the guest writes the body after `handle` returns) or the deadline passes.
/// One instance of a component with the store it lives in.
pub(crate) struct Instance {
    store: Store<HostState>,
    service: Service,
    uses: u32,
}

/// Idle instances of one component, kept only in instance-reuse mode.
#[derive(Default)]
pub(crate) struct InstancePool {
    idle: std::sync::Mutex<Vec<Instance>>,
}

/// Requests one reused instance may serve before it is replaced, so a slow leak in a guest
/// (memory, resources) cannot grow without bound.
pub const MAX_USES_PER_INSTANCE: u32 = 10_000;
/// Idle instances kept per component in reuse mode.
pub const MAX_IDLE_INSTANCES: usize = 32;
/// Never-used instances kept ready per component in fresh-instance mode. A request takes one
/// instead of instantiating; its replacement is made after that request's response has gone out,
/// off the next request's critical path. Each is still used for exactly one request.
pub const FRESH_SPARES: usize = 2;

impl InstancePool {
    fn take(&self) -> Option<Instance> {
        self.idle.lock().ok()?.pop()
    }

    /// Keeps `instance` unless `limit` instances are idle already.
    fn put(&self, instance: Instance, limit: usize) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < limit
        {
            idle.push(instance);
        }
    }

    fn len(&self) -> usize {
        self.idle.lock().map_or(usize::MAX, |idle| idle.len())
    }
}

async fn instantiate(
    app: &Arc<App>,
    component: &LoadedComponent,
    metrics: &crate::metrics::ComponentMetrics,
) -> Result<Instance, Failure> {
    let config = &app.config;
    let state = HostState::new(
        component.context.clone(),
        app.stores.clone(),
        &config.http,
        &config.guest_output,
        config.max_memory_bytes,
    );
    let mut store = Store::new(&app.runtime.engine, state);
    store.limiter(|s| &mut s.limits);
    // Yield to the executor at every epoch tick, so a busy guest cannot starve the deadline timer.
    store.epoch_deadline_async_yield_and_update(1);
    let started = Instant::now();
    let service = component
        .pre
        .instantiate_async(&mut store)
        .await
        .map_err(|e| Failure::Guest(format!("instantiation: {e:?}")))?;
    metrics.record_instantiation(started.elapsed());
    Ok(Instance {
        store,
        service,
        uses: 0,
    })
}

/// Runs one request in an instance: a fresh one per request (as Spin does), or, in reuse mode,
/// an idle one that finished its last request cleanly. The store lives in its own task until the
/// response body has been consumed (the guest writes the body after `handle` returns) or the
/// deadline passes; an instance that trapped, timed out or was cut off is never reused.
async fn invoke<B>(
    app: &Arc<App>,
    index: usize,
    request: Request<B>,
    deadline: tokio::time::Instant,
    permit: OwnedSemaphorePermit,
) -> Result<Response<ResponseBody>, Failure>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let component = &app.runtime.components[index];
    let metrics = &app.metrics.components[index].1;
    let reuse = app.config.reuse_instances || component.decl.options.reuse_instances == Some(true);
    // In reuse mode the pool holds instances that served cleanly; otherwise only spares that
    // have never served a request.
    let mut instance = match app.pools[index].take() {
        Some(instance) => instance,
        None => instantiate(app, component, metrics).await?,
    };
    instance.uses += 1;
    instance.store.set_epoch_deadline(1);

    let (request, request_io) = wasmtime_wasi_http::p3::Request::from_http(
        &mut instance.store.data_mut().outbound_http,
        request,
    );
    let (response_tx, response_rx) = oneshot::channel();
    let (body_done_tx, body_done_rx) = oneshot::channel::<()>();
    let app = app.clone();
    // Everything the instance does, from `handle` to its teardown. It is polled by the request's
    // own task (no hand-off to another thread between the request and its response) until the
    // body is out, then finishes in a task of its own: teardown and the next spare are off the
    // critical path.
    let driver: Driver = Box::pin(async move {
        let Instance {
            mut store,
            service,
            uses,
        } = instance;
        let run =
            store.run_concurrent(async move |accessor| -> wasmtime::Result<(Service, bool)> {
                let response = match service.handle(accessor, request).await {
                    Ok(Ok(response)) => response,
                    Ok(Err(code)) => {
                        let _ = response_tx.send(Err(Failure::Guest(format!(
                            "guest returned error-code {code:?}"
                        ))));
                        return Ok((service, false));
                    }
                    Err(trap) => {
                        let _ = response_tx
                            .send(Err(Failure::Guest(format!("guest trapped: {trap:?}"))));
                        return Ok((service, false));
                    }
                };
                match accessor.with(|mut access| response.into_http(&mut access, request_io)) {
                    Ok(http_response) => {
                        let _ = response_tx.send(Ok(http_response));
                        // Keep driving the guest while hyper consumes the body.
                        let body_complete = body_done_rx.await.is_ok();
                        Ok((service, body_complete))
                    }
                    Err(e) => {
                        let _ = response_tx
                            .send(Err(Failure::Guest(format!("invalid response: {e:?}"))));
                        Ok((service, false))
                    }
                }
            });
        let pool = &app.pools[index];
        match tokio::time::timeout_at(deadline, run).await {
            Ok(Ok(Ok((service, true)))) if reuse && uses < MAX_USES_PER_INSTANCE => {
                let instance = Instance {
                    store,
                    service,
                    uses,
                };
                pool.put(instance, MAX_IDLE_INSTANCES);
                return;
            }
            Ok(Ok(Ok(_))) | Err(_) => {}
            Ok(Ok(Err(e))) | Ok(Err(e)) => tracing::debug!("guest task ended with: {e:?}"),
        }
        // The response is out: tear this instance down, then prepare the next request's.
        drop(store);
        drop(permit);
        if pool.len() < FRESH_SPARES {
            let component = &app.runtime.components[index];
            let metrics = &app.metrics.components[index].1;
            if let Ok(spare) = instantiate(&app, component, metrics).await {
                pool.put(spare, FRESH_SPARES);
            }
        }
    });

    // Run the guest here until it answers. The driver also ends at the deadline (dropping the
    // sender), so waiting on both cannot hang.
    let mut driver = driver;
    let mut response_rx = response_rx;
    let (answered, driver) = tokio::select! {
        biased;
        answered = &mut response_rx => (answered, Some(driver)),
        // Finished without answering first: the answer, if any, is already in the channel.
        () = &mut driver => (response_rx.await, None),
    };
    match answered {
        // The driver ended without answering: its deadline fired first, or the guest trapped.
        Err(_) if tokio::time::Instant::now() >= deadline => Err(Failure::Deadline),
        Err(_) => Err(Failure::Guest("guest ended without a response".into())),
        Ok(Err(failure)) => Err(failure),
        Ok(Ok(response)) => Ok({
            let declared = declared_length(response.headers());
            response.map(|inner| {
                DriveAlong {
                    inner,
                    done: Some(body_done_tx),
                    driver,
                    declared,
                    sent: 0,
                }
                .map_err(|e| Box::new(e) as BoxError)
                .boxed_unsync()
            })
        }),
    }
}

/// The body length a response declares (`Content-Length`), if any.
fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// The instance's work: `handle`, the body, then teardown or return to the pool.
type Driver = Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The guest's response body, polled by hyper, which also drives the instance (the guest writes
/// the body while hyper reads it). When the body ends, or hyper drops it (client gone), the
/// driver moves to a task of its own to finish: tells the instance whether the body went out
/// whole, tears it down or returns it to the pool.
struct DriveAlong {
    inner: UnsyncBoxBody<Bytes, wasmtime_wasi_http::Error>,
    done: Option<oneshot::Sender<()>>,
    driver: Option<Driver>,
    /// The response's `Content-Length`: hyper stops polling once that many bytes are out, so
    /// the end of the stream may never be seen, and the body counts as whole at its last byte.
    declared: Option<u64>,
    /// Body bytes handed to hyper so far.
    sent: u64,
}

impl DriveAlong {
    fn detach(&mut self) {
        if let Some(driver) = self.driver.take() {
            tokio::spawn(driver);
        }
    }
}

impl hyper::body::Body for DriveAlong {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        if let Some(driver) = self.driver.as_mut()
            && driver.as_mut().poll(cx).is_ready()
        {
            self.driver = None;
        }
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.sent += data.len() as u64;
        }
        if let Poll::Ready(None) = polled {
            if let Some(done) = self.done.take() {
                let _ = done.send(());
            }
            self.detach();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for DriveAlong {
    fn drop(&mut self) {
        // All the declared bytes went out: the body is whole even though its end was not polled.
        // Otherwise it was cut off (client gone, write error) and the instance learns so.
        let whole = self.declared.is_some_and(|declared| declared == self.sent);
        match self.done.take() {
            Some(done) if whole => {
                let _ = done.send(());
            }
            _ => {}
        }
        self.detach();
    }
}

fn never_fails(never: std::convert::Infallible) -> wasmtime_wasi_http::Error {
    match never {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_earns_time_by_arriving_up_to_the_timeout() {
        let pace = BodyPace {
            timeout: Duration::from_secs(10),
            grace: Duration::from_secs(2),
            min_bytes_per_sec: 1024,
        };
        assert_eq!(pace.patience(0), Duration::from_secs(2));
        assert_eq!(pace.patience(1024), Duration::from_secs(3));
        assert_eq!(pace.patience(4 * 1024), Duration::from_secs(6));
        assert_eq!(pace.patience(1 << 20), Duration::from_secs(10));
        let no_rate = BodyPace {
            min_bytes_per_sec: 0,
            ..pace
        };
        assert_eq!(no_rate.patience(0), Duration::from_secs(10));
    }
}
