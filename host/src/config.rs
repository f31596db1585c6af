//! Typed settings of the host. The binary fills them from flags and the environment; the test
//! harness fills them directly, so nothing here reads process-global state.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Default route deadline: long enough for Argon2 and a provider call, short enough that a stuck
/// store cannot pin a connection for long.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(15);
/// Default request body cap. The API takes small JSON documents; 1 MiB is far above any of them.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;
/// Default linear-memory cap per instance. spin-sdk components use a few MiB.
pub const DEFAULT_MAX_MEMORY_BYTES: usize = 64 << 20;
/// Default requests running at once per component (2 cores: more only adds queueing in the guest).
pub const DEFAULT_MAX_CONCURRENCY: usize = 64;
/// Default requests waiting for a slot per component before the host sheds with 503.
pub const DEFAULT_MAX_WAITING: usize = 256;
/// How long a request may wait for a slot before it is shed.
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_millis(1000);
/// How long a request body may take to arrive, whole. Bodies are read before the request takes
/// one of its component's slots, so a slow sender holds a connection, never a slot; this bounds
/// how long it holds even that. The API's bodies are small JSON that arrives in one packet.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Slowest accepted body, in bytes per second on average, once [`DEFAULT_BODY_RATE_GRACE`] has
/// passed: a phone on a poor link sends tens of KB/s; a client trickling bytes to hold resources
/// sends a few per second and is answered 408.
pub const DEFAULT_MIN_BODY_BYTES_PER_SEC: u64 = 1024;
/// Before the rate applies: connection set-up, a retransmitted first packet.
pub const DEFAULT_BODY_RATE_GRACE: Duration = Duration::from_secs(2);
/// Default Postgres pool size per address. Tests use 2-4 so parallel tests stay far below
/// the server's connection limit.
pub const DEFAULT_PG_POOL_MAX: u32 = 16;
/// How long a guest waits for a pooled Postgres connection (or a new one) before an error value.
pub const DEFAULT_PG_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// Upper bound of one Redis or Postgres host call, so a hung store yields an error value well
/// inside the route deadline instead of a hang.
pub const DEFAULT_STORE_OP_TIMEOUT: Duration = Duration::from_secs(5);
/// Redis connect timeout: a dead Redis must answer fast so readiness and fail-closed paths work.
pub const DEFAULT_REDIS_CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
/// Outbound HTTP defaults (payment provider calls).
pub const DEFAULT_HTTP_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const DEFAULT_HTTP_TOTAL_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest outbound response body a guest may receive.
pub const DEFAULT_HTTP_MAX_RESPONSE_BYTES: usize = 4 << 20;
/// Where `urr-edge up` serves `/metrics`: a listener of its own, on loopback, never the public
/// one (the text names every component, pool and counter, and a scrape reads both stores).
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9464";
/// How long one scrape's store reads (a bounded Redis SCAN, a Postgres fold) are reused: any
/// number of scrapers within it cost the stores one read.
pub const DEFAULT_METRICS_CACHE: Duration = Duration::from_secs(1);
/// How much guest stdout/stderr the capture mode keeps (the newest bytes win).
pub const GUEST_OUTPUT_CAPTURE_BYTES: usize = 256 << 10;

/// Where guest stdout/stderr go.
#[derive(Debug, Clone, Default)]
pub enum GuestOutput {
    /// The host process's own stdout/stderr (the `up` command).
    #[default]
    Inherit,
    /// A shared in-memory buffer (tests print it when they fail).
    Capture(Arc<Mutex<Vec<u8>>>),
    /// Dropped (benchmarks).
    Discard,
}

/// Per-request limits, overridable per component in the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLimits {
    pub deadline: Duration,
    pub max_body_bytes: usize,
    pub max_concurrency: usize,
    pub max_waiting: usize,
    pub queue_timeout: Duration,
    /// The whole body within this long (408 beyond).
    pub body_timeout: Duration,
    /// At least this many body bytes per second on average after `body_rate_grace` (408 below);
    /// 0: no rate, only `body_timeout`.
    pub min_body_bytes_per_sec: u64,
    pub body_rate_grace: Duration,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            deadline: DEFAULT_DEADLINE,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            max_waiting: DEFAULT_MAX_WAITING,
            queue_timeout: DEFAULT_QUEUE_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            min_body_bytes_per_sec: DEFAULT_MIN_BODY_BYTES_PER_SEC,
            body_rate_grace: DEFAULT_BODY_RATE_GRACE,
        }
    }
}

/// Store client settings shared by every component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    pub pg_pool_max: u32,
    pub pg_acquire_timeout: Duration,
    pub op_timeout: Duration,
    pub redis_connect_timeout: Duration,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            pg_pool_max: DEFAULT_PG_POOL_MAX,
            pg_acquire_timeout: DEFAULT_PG_ACQUIRE_TIMEOUT,
            op_timeout: DEFAULT_STORE_OP_TIMEOUT,
            redis_connect_timeout: DEFAULT_REDIS_CONNECT_TIMEOUT,
        }
    }
}

/// Outbound HTTP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    pub max_response_bytes: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_HTTP_CONNECT_TIMEOUT,
            total_timeout: DEFAULT_HTTP_TOTAL_TIMEOUT,
            max_response_bytes: DEFAULT_HTTP_MAX_RESPONSE_BYTES,
        }
    }
}

/// One answer as the client received it: what a [`ResponseTap`] is shown.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    /// The request path, without the query.
    pub path: String,
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: bytes::Bytes,
}

/// Sees every answer the host gives, body and all (the test harness checks each one against the
/// OpenAPI description). Off by default: it buffers every response body.
#[derive(Clone)]
pub struct ResponseTap(pub Arc<dyn Fn(Exchange) + Send + Sync>);

impl std::fmt::Debug for ResponseTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseTap")
    }
}

/// Everything the host needs to serve an application.
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub manifest: PathBuf,
    /// `host:port`; port 0 picks a free port (tests).
    pub listen: String,
    /// Variable overrides (what `SPIN_VARIABLE_<NAME>` gives Spin), lowercase names.
    pub variables: BTreeMap<String, String>,
    pub limits: RequestLimits,
    pub stores: StoreSettings,
    pub http: HttpSettings,
    pub max_memory_bytes: usize,
    /// Directory for precompiled components; `None` compiles at every boot.
    pub compile_cache: Option<PathBuf>,
    pub guest_output: GuestOutput,
    /// Reuse one instance for many requests instead of a fresh one per request (off by default:
    /// Spin gives each request a fresh instance, and components must not rely on reuse).
    pub reuse_instances: bool,
    /// Shown every answer (tests); `None` streams answers untouched.
    pub response_tap: Option<ResponseTap>,
    /// `host:port` of the metrics listener (`GET /metrics` and nothing else); `None`: no metrics
    /// endpoint. The public listener never serves `/metrics`.
    pub metrics_listen: Option<String>,
    /// How long a scrape's store reads are reused ([`DEFAULT_METRICS_CACHE`]).
    pub metrics_cache: Duration,
    /// Refuse to boot with the payment mock's well-known secrets unless `development_mode` is on
    /// (`app_settings::check_development_secrets`). Off only to run the application as real Spin
    /// would, with no host check, so a test sees the components refuse them on their own.
    pub refuse_development_secrets: bool,
}

impl HostConfig {
    pub fn new(manifest: impl Into<PathBuf>) -> Self {
        Self {
            manifest: manifest.into(),
            listen: "127.0.0.1:0".to_string(),
            variables: BTreeMap::new(),
            limits: RequestLimits::default(),
            stores: StoreSettings::default(),
            http: HttpSettings::default(),
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            compile_cache: None,
            guest_output: GuestOutput::Inherit,
            reuse_instances: false,
            response_tap: None,
            // A free loopback port: an embedding (tests, benchmarks) asks `metrics_addr()`.
            metrics_listen: Some("127.0.0.1:0".to_string()),
            metrics_cache: DEFAULT_METRICS_CACHE,
            refuse_development_secrets: true,
        }
    }

    pub fn variable(mut self, name: &str, value: impl Into<String>) -> Self {
        self.variables.insert(name.to_string(), value.into());
        self
    }
}
