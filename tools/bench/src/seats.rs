//! The seat benchmark: holds and reserves through the whole application, next to their store
//! floors in the same run.
//!
//! Cells, all at one concurrency (64 by default), each after a warm-up:
//!
//! - **no-op**: `GET /health` (component `health`, no store) on the same host, same mode;
//! - **hold, hot set**: every client holds a random seat of the same 100 seats of one event
//!   (`POST /api/v1/seats/lock`) and, when granted, releases it at once (`DELETE`), so the hot
//!   set stays contested. A 409 `seat_taken` is a lost race, a valid outcome counted apart from
//!   errors;
//! - **hold, uniform**: the same cycle over the 4,900 seats of the seeded stadium event;
//! - **raw EVALSHA** of the hold script (and of the release script after a grant), with the
//!   redis crate, one connection per client, the same keys and arguments the component passes,
//!   in both modes;
//! - **reserve**: every client cycles through its own slice of the stadium's seats: hold the
//!   seat, then `POST /api/v1/seats/reserve` (measured: the reserve step only);
//! - **raw SQL**: `pgbench` running `booking_reserve_seats` with the same arguments (its own
//!   users, the same seat slices), or the same call with sqlx when pgbench is not installed.
//!
//! Reserved seats come back by themselves: the run sets `reservation_ttl_secs` to 1, so a
//! reservation expires a second later and the next reserve of its seat expires it and releases
//! its inventory inside the function (expiry without workers). Before the reserve cells every
//! seat is left as such an expired reservation leaves it, so both the host and the baseline
//! always take that path.

use crate::baselines::{self, StoreAddr};
use crate::load::{self, FlowClient, LoadConfig, Reply};
use crate::scenario::{Fixed, RequestSpec, Scenario};
use crate::stack::{BenchStack, StackConfig};
use crate::stats::{self, Latencies, LatencySummary, LoadShape};
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use urr_booking::config::HoldLimits;
use urr_booking::input::{EntityId, SeatSet};
use urr_booking::scripts::{self, Arg, HoldReply, HoldTerms, ScriptCall};

/// The hot set's event: the seeded small-theater event (on sale, 265 seats).
pub const HOT_EVENT_ID: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000001";
/// The uniform and reserve cells' event: the seeded stadium event (on sale, 4,900 seats).
pub const STADIUM_EVENT_ID: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000003";
const HOLD_PATH: &str = "/api/v1/seats/lock";
const RESERVE_PATH: &str = "/api/v1/seats/reserve";
const NOOP_PATH: &str = "/health";

/// Variables the run sets so that it measures the path, not the limiters. Each is the largest
/// value the application accepts (`urr_ratelimit::MAX_PER_MINUTE`, the booking crate's
/// `MAX_CONFIGURED_CAP`), except the lifetimes:
/// - `hold_ttl_secs = 10`: a hold an error left behind frees its hot seat within seconds;
/// - `reservation_ttl_secs = 1`: reserved seats come back a second later (see the module doc).
pub const VARIABLES: [(&str, &str); 5] = [
    ("rate_limits", "booking=60000,default=60000"),
    ("hold_limits", "seats=1000000,per_minute=1000000"),
    ("purchase_limits", "seats=1000000,standing=1000"),
    ("hold_ttl_secs", "10"),
    ("reservation_ttl_secs", "1"),
];
/// The hold TTL and caps the raw EVALSHA passes: the same values as the host's.
const RAW_HOLD_TERMS: HoldTerms = HoldTerms {
    ttl_ms: 10_000,
    limits: HoldLimits {
        max_seats_held: 1_000_000,
        holds_per_minute: 1_000_000,
    },
    token_floor: 0,
};
/// The reservation TTL and seat cap the raw SQL passes: the same values as the host's.
const RESERVATION_TTL_SECS: i32 = 1;
const PURCHASE_CAP_SEATS: i32 = 1_000_000;
/// How long a seat must rest after its reserve before the next one (the reservation TTL, and a
/// margin for the two clocks' granularity).
const SEAT_REST: Duration = Duration::from_millis(1_200);
/// How long a waiting-room slot the run grants lasts: longer than any run.
const SLOT_LIFETIME_MS: u64 = 3_600_000;

pub struct SeatsConfig {
    pub repo: PathBuf,
    pub host_bin: PathBuf,
    pub pg_url: String,
    pub redis_url: String,
    pub duration: Duration,
    pub warmup: Duration,
    pub concurrency: usize,
    pub hot_seats: usize,
    pub reuse_instances: bool,
    /// Serve on real Spin with this CLI instead of `bench-host`.
    pub spin_bin: Option<PathBuf>,
    /// Force the sqlx baseline even when pgbench is installed.
    pub sqlx_baseline: bool,
    pub timeout: Duration,
    pub scratch: PathBuf,
}

/// One measured cell.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub label: String,
    /// `host`, `redis` (raw EVALSHA), `pgbench` or `sqlx`.
    pub via: String,
    /// `noop`, `hot`, `uniform` or `reserve`.
    pub mode: String,
    pub concurrency: usize,
    pub elapsed_s: f64,
    /// Calls of the measured step (hold, reserve, no-op) that got an answer.
    pub attempts: u64,
    /// Of those, granted (hold 200, reserve 201 / `created`, no-op 200).
    pub granted: u64,
    /// Of those, lost races (409 `seat_taken`).
    pub lost_races: u64,
    /// Other calls of the cycle (releases after a grant, holds before a reserve).
    pub side_calls: u64,
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    pub attempts_per_s: f64,
    pub granted_per_s: f64,
    /// Every call of the cycle per second (attempts + side calls).
    pub calls_per_s: f64,
    /// Latency of the measured step's answered calls (granted and lost).
    pub latency: LatencySummary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub target: String,
    pub measured: String,
    pub met: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeatsReport {
    pub started_unix_s: u64,
    pub load_average_start: String,
    pub load_average_end: String,
    /// `fresh instance per request` or `instance reuse`.
    pub host_mode: String,
    pub concurrency: usize,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub hot_seats: usize,
    pub stadium_seats: usize,
    pub variables: Vec<(String, String)>,
    pub sql_baseline: String,
    pub cells: Vec<Cell>,
    pub verdicts: Vec<Verdict>,
}

/// What one answered step was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Granted,
    Lost,
    Error,
}

/// Reads a booking reply: `expected` is the success status; 409 `seat_taken` is a lost race;
/// anything else (another 409 code included) is an error.
pub fn classify(status: StatusCode, code: Option<&str>, expected: StatusCode) -> Outcome {
    if status == expected {
        Outcome::Granted
    } else if status == StatusCode::CONFLICT && code == Some("seat_taken") {
        Outcome::Lost
    } else {
        Outcome::Error
    }
}

/// Client `client`'s share of `seats` (`clients` disjoint slices, the remainder unused), so the
/// reserve cells measure the path, not contention.
pub fn client_slice<T>(seats: &[T], clients: usize, client: usize) -> &[T] {
    if clients == 0 || client >= clients {
        return &[];
    }
    let per = seats.len() / clients;
    &seats[client * per..(client + 1) * per]
}

/// xorshift64*: a cheap per-client random seat, no extra dependency.
#[derive(Debug, Clone)]
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize
    }
}

/// The pgbench script: one call of `booking_reserve_seats` per transaction with the arguments
/// the component passes, client `c` walking its slice (`slot = c * per + n`) of the seats
/// listed in `urr_bench_seat_slots`. Its users are `5eed0000-0000-4000-8000-<client>`.
pub fn pgbench_script(event_id: &str) -> String {
    // A constant 32-byte request hash: the component sends a SHA-256; keys never repeat here,
    // so its value is never compared.
    let hash = "ab".repeat(32);
    format!(
        "\\set n (:n + 1) % :per\n\
         \\set k random(1, 1000000000000000)\n\
         \\set slot :client_id * :per + :n\n\
         SELECT outcome FROM booking_reserve_seats(\
         ('5eed0000-0000-4000-8000-' || lpad(:client_id::text, 12, '0'))::uuid, \
         '{event_id}'::uuid, \
         ARRAY[(SELECT seat FROM urr_bench_seat_slots WHERE slot = (:slot)::int4)], \
         floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint, \
         {RESERVATION_TTL_SECS}, {PURCHASE_CAP_SEATS}, \
         'pgbench-' || (:client_id)::text || '-' || (:k)::text, '\\x{hash}'::bytea);\n"
    )
}

/// The user id of pgbench client `client` (what [`pgbench_script`] computes).
pub fn pgbench_user(client: usize) -> String {
    format!("5eed0000-0000-4000-8000-{client:012}")
}

/// `number of transactions actually processed: 7520` from pgbench's summary.
pub fn processed(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("number of transactions actually processed:")
        })
        .and_then(|rest| {
            rest.split_whitespace()
                .next()?
                .split('/')
                .next()?
                .parse()
                .ok()
        })
}

/// `measured` / `baseline` against a floor ratio.
pub fn ratio_verdict(target: &str, measured: f64, baseline: f64, floor: f64) -> Verdict {
    let ratio = stats::ratio(Some(measured), Some(baseline));
    Verdict {
        target: target.to_string(),
        measured: format!(
            "{} / {} = {}",
            stats::format_rps(measured),
            stats::format_rps(baseline),
            stats::format_percent(ratio)
        ),
        met: ratio.map(|r| r >= floor),
    }
}

/// A latency against a ceiling (a cell with no samples has no verdict).
pub fn latency_verdict(target: &str, p99_us: f64, samples: u64, ceiling_us: f64) -> Verdict {
    Verdict {
        target: target.to_string(),
        measured: format!("p99 {}", stats::format_us(p99_us)),
        met: (samples > 0 && p99_us.is_finite()).then_some(p99_us < ceiling_us),
    }
}

/// The four targets of the issue, from the cells (by `mode` and `via`).
pub fn verdicts(cells: &[Cell]) -> Vec<Verdict> {
    let find = |mode: &str, via: &[&str]| {
        cells
            .iter()
            .find(|c| c.mode == mode && via.contains(&c.via.as_str()))
    };
    let mut out = Vec::new();
    let noop = find("noop", &["host"]);
    for mode in ["hot", "uniform"] {
        if let (Some(hold), Some(noop)) = (find(mode, &["host"]), noop) {
            out.push(ratio_verdict(
                &format!("hold ({mode}) attempts/s >= 60% of no-op req/s"),
                hold.attempts_per_s,
                noop.granted_per_s,
                0.60,
            ));
        }
    }
    if let (Some(host), Some(raw)) = (
        find("reserve", &["host"]),
        find("reserve", &["pgbench", "sqlx"]),
    ) {
        out.push(ratio_verdict(
            &format!(
                "reserve created/s >= 60% of the raw SQL function's ({})",
                raw.via
            ),
            host.granted_per_s,
            raw.granted_per_s,
            0.60,
        ));
        out.push(latency_verdict(
            &format!("reserve p99 < 50 ms at {} clients", host.concurrency),
            host.latency.p99_us,
            host.latency.samples,
            50_000.0,
        ));
    }
    let raw = ["pgbench", "sqlx"];
    if let (Some(on), Some(off), Some(again)) = (
        find("reserve", &raw),
        find("reserve-uncounted", &raw),
        find("reserve-recounted", &raw),
    ) {
        out.push(ratio_verdict(
            "reserve with the counting triggers (mean of the two runs) >= 90% of without",
            (on.granted_per_s + again.granted_per_s) / 2.0,
            off.granted_per_s,
            0.90,
        ));
    }
    out
}

/// What the clients of one cell counted.
#[derive(Debug, Default)]
struct Tally {
    attempts: u64,
    granted: u64,
    lost: u64,
    side_calls: u64,
    errors: BTreeMap<String, u64>,
    latencies: Latencies,
}

impl Tally {
    fn error(&mut self, kind: impl Into<String>) {
        *self.errors.entry(kind.into()).or_default() += 1;
    }

    fn step(&mut self, outcome: Outcome, latency: Duration, error_kind: impl FnOnce() -> String) {
        match outcome {
            Outcome::Granted | Outcome::Lost => {
                self.attempts += 1;
                if outcome == Outcome::Granted {
                    self.granted += 1;
                } else {
                    self.lost += 1;
                }
                self.latencies.record(latency);
            }
            Outcome::Error => self.error(error_kind()),
        }
    }

    fn merge(&mut self, other: Tally) {
        self.attempts += other.attempts;
        self.granted += other.granted;
        self.lost += other.lost;
        self.side_calls += other.side_calls;
        for (k, n) in other.errors {
            *self.errors.entry(k).or_default() += n;
        }
        self.latencies.merge(other.latencies);
    }

    fn into_cell(self, label: &str, via: &str, mode: &str, c: usize, elapsed: Duration) -> Cell {
        let secs = elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
        let errors = self.errors.values().sum();
        let cell = Cell {
            label: label.to_string(),
            via: via.to_string(),
            mode: mode.to_string(),
            concurrency: c,
            elapsed_s: secs,
            attempts: self.attempts,
            granted: self.granted,
            lost_races: self.lost,
            side_calls: self.side_calls,
            errors,
            error_kinds: self.errors,
            attempts_per_s: self.attempts as f64 / secs,
            granted_per_s: self.granted as f64 / secs,
            calls_per_s: (self.attempts + self.side_calls) as f64 / secs,
            latency: self.latencies.summary(),
        };
        eprintln!(
            "{label}: {:.0} attempts/s, {:.0} granted/s, {} lost, {} errors, p99 {}",
            cell.attempts_per_s,
            cell.granted_per_s,
            cell.lost_races,
            cell.errors,
            stats::format_us(cell.latency.p99_us)
        );
        cell
    }
}

/// The window a cell measures: calls started before `from` are warm-up, none start after `to`.
#[derive(Debug, Clone, Copy)]
struct Window {
    from: Instant,
    to: Instant,
}

impl Window {
    fn new(warmup: Duration, duration: Duration) -> Self {
        let from = Instant::now() + warmup;
        Self {
            from,
            to: from + duration,
        }
    }

    fn open(&self) -> bool {
        Instant::now() < self.to
    }

    fn counts(&self, started: Instant) -> bool {
        started >= self.from
    }

    fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(self.from)
    }
}

/// A bench user: id, and the headers the booking routes need.
#[derive(Clone)]
struct Buyer {
    user_id: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

fn buyers(stack: &BenchStack, n: usize, event_id: &str) -> Result<Vec<Buyer>> {
    (0..n)
        .map(|_| {
            let user_id = uuid::Uuid::new_v4().to_string();
            let access = stack.access_token(&user_id, false)?;
            let entry = stack.entry_token(&user_id, event_id)?;
            Ok(Buyer {
                headers: vec![
                    (
                        http::header::AUTHORIZATION,
                        HeaderValue::from_str(&format!("Bearer {access}"))?,
                    ),
                    (
                        HeaderName::from_static("x-queue-entry-token"),
                        HeaderValue::from_str(&entry)?,
                    ),
                    (
                        http::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                ],
                user_id,
            })
        })
        .collect()
}

/// Puts the users in the event's active set, as the waiting room does when it admits them.
async fn admit(
    redis: &mut redis::aio::MultiplexedConnection,
    stack: &BenchStack,
    event_id: &str,
    users: &[String],
) -> Result<()> {
    let until_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64
        + SLOT_LIFETIME_MS;
    let event = EntityId::parse(event_id, "eventId").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let key = urr_booking::keys::queue_active_key(&stack.key_prefix, &event);
    let mut cmd = redis::cmd("ZADD");
    cmd.arg(&key);
    for user in users {
        cmd.arg(until_ms).arg(user);
    }
    cmd.query_async::<i64>(redis)
        .await
        .with_context(|| format!("ZADD {key}"))?;
    Ok(())
}

fn post(path: &str, buyer: &Buyer, body: serde_json::Value) -> RequestSpec {
    RequestSpec {
        method: Method::POST,
        path: path.to_string(),
        headers: buyer.headers.clone(),
        body: Bytes::from(body.to_string()),
    }
}

fn code(reply: &Reply) -> Option<String> {
    reply.json()["code"].as_str().map(str::to_string)
}

fn status_kind(reply: &Reply) -> String {
    match code(reply) {
        Some(code) => format!("status {} {code}", reply.status.as_u16()),
        None => format!("status {}", reply.status.as_u16()),
    }
}

/// One host client of a hold cell: hold a random seat of `seats`; release it when granted.
async fn host_hold_client(
    mut client: FlowClient,
    buyer: Buyer,
    event_id: &'static str,
    seats: Arc<Vec<String>>,
    seed: u64,
    window: Window,
) -> Tally {
    let mut tally = Tally::default();
    let mut dice = Dice::new(seed);
    while window.open() {
        let seat = &seats[dice.below(seats.len())];
        let started = Instant::now();
        let counts = window.counts(started);
        let hold = post(
            HOLD_PATH,
            &buyer,
            serde_json::json!({"eventId": event_id, "seatIds": [seat]}),
        );
        let reply = match client.send(hold).await {
            Ok(reply) => reply,
            Err(kind) => {
                if counts {
                    tally.error(kind);
                }
                continue;
            }
        };
        let latency = started.elapsed();
        let outcome = classify(reply.status, code(&reply).as_deref(), StatusCode::OK);
        if counts {
            tally.step(outcome, latency, || status_kind(&reply));
        }
        if outcome != Outcome::Granted {
            continue;
        }
        let token = reply.json()["fencingToken"].clone();
        let mut release = post(
            HOLD_PATH,
            &buyer,
            serde_json::json!({"eventId": event_id, "seatIds": [seat], "fencingToken": token}),
        );
        release.method = Method::DELETE;
        let released = client.send(release).await;
        if counts {
            match released {
                Ok(r) if r.status == StatusCode::OK => tally.side_calls += 1,
                Ok(r) => tally.error(format!("release {}", status_kind(&r))),
                Err(kind) => tally.error(format!("release {kind}")),
            }
        }
    }
    tally
}

async fn host_hold_cell(
    config: &SeatsConfig,
    stack: &BenchStack,
    redis: &mut redis::aio::MultiplexedConnection,
    event_id: &'static str,
    seats: Arc<Vec<String>>,
    mode: &str,
) -> Result<Cell> {
    let c = config.concurrency;
    let buyers = buyers(stack, c, event_id)?;
    let users: Vec<String> = buyers.iter().map(|b| b.user_id.clone()).collect();
    admit(redis, stack, event_id, &users).await?;
    let window = Window::new(config.warmup, config.duration);
    let tasks: Vec<_> = buyers
        .into_iter()
        .enumerate()
        .map(|(i, buyer)| {
            let client = FlowClient::new(stack.target.clone(), config.timeout);
            tokio::spawn(host_hold_client(
                client,
                buyer,
                event_id,
                seats.clone(),
                i as u64 + 1,
                window,
            ))
        })
        .collect();
    let tally = join(tasks).await?;
    let label = format!("host: hold + release ({mode}, {} seats)", seats.len());
    Ok(tally.into_cell(&label, "host", mode, c, window.elapsed()))
}

async fn join(tasks: Vec<tokio::task::JoinHandle<Tally>>) -> Result<Tally> {
    let mut total = Tally::default();
    for task in tasks {
        total.merge(task.await.context("a client panicked")?);
    }
    Ok(total)
}

fn script_cmd(call: &ScriptCall) -> redis::Cmd {
    let mut cmd = redis::cmd("EVALSHA");
    cmd.arg(call.sha1).arg(call.keys.len());
    for key in &call.keys {
        cmd.arg(key);
    }
    for arg in &call.args {
        match arg {
            Arg::Int(n) => cmd.arg(*n),
            Arg::Text(s) => cmd.arg(s),
        };
    }
    cmd
}

/// One raw client: EVALSHA the hold script on a random seat; EVALSHA release when granted.
async fn raw_hold_client(
    mut conn: redis::aio::MultiplexedConnection,
    prefix: String,
    event: EntityId,
    seats: Arc<Vec<SeatSet>>,
    seed: u64,
    window: Window,
) -> Tally {
    let mut tally = Tally::default();
    let mut dice = Dice::new(seed);
    let user = uuid::Uuid::new_v4().to_string();
    while window.open() {
        let seat = &seats[dice.below(seats.len())];
        let started = Instant::now();
        let counts = window.counts(started);
        let call = scripts::hold(&prefix, &event, &user, seat, RAW_HOLD_TERMS);
        let reply: Vec<i64> = match script_cmd(&call).query_async(&mut conn).await {
            Ok(reply) => reply,
            Err(e) => {
                if counts {
                    tally.error(format!("redis {:?}", e.kind()));
                }
                continue;
            }
        };
        let latency = started.elapsed();
        let (outcome, token) = match HoldReply::from_reply(&reply, seat) {
            Some(HoldReply::Held { token, .. }) => (Outcome::Granted, Some(token)),
            Some(HoldReply::Taken(_)) => (Outcome::Lost, None),
            _ => (Outcome::Error, None),
        };
        if counts {
            tally.step(outcome, latency, || format!("hold reply {reply:?}"));
        }
        let Some(token) = token else { continue };
        let release = scripts::release(&prefix, &event, &user, seat, token);
        let released: redis::RedisResult<Vec<i64>> =
            script_cmd(&release).query_async(&mut conn).await;
        if counts {
            match released {
                Ok(r) if r == [1] => tally.side_calls += 1,
                Ok(r) => tally.error(format!("release reply {r:?}")),
                Err(e) => tally.error(format!("release redis {:?}", e.kind())),
            }
        }
    }
    tally
}

async fn raw_hold_cell(
    config: &SeatsConfig,
    stack: &BenchStack,
    event_id: &str,
    seats: &[String],
    mode: &str,
) -> Result<Cell> {
    let c = config.concurrency;
    let event = EntityId::parse(event_id, "eventId").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let seat_sets = seats
        .iter()
        .map(|s| SeatSet::parse(Some(&serde_json::json!([s]))))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("a seat id: {e:?}"))?;
    let seat_sets = Arc::new(seat_sets);
    let client = redis::Client::open(stack.redis_url.as_str())?;
    let mut conns = Vec::with_capacity(c);
    for _ in 0..c {
        conns.push(client.get_multiplexed_async_connection().await?);
    }
    for script in [scripts::HOLD_SCRIPT, scripts::RELEASE_SCRIPT] {
        redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(script)
            .query_async::<String>(&mut conns[0])
            .await?;
    }
    let window = Window::new(config.warmup, config.duration);
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, conn)| {
            tokio::spawn(raw_hold_client(
                conn,
                stack.key_prefix.clone(),
                event.clone(),
                seat_sets.clone(),
                1000 + i as u64,
                window,
            ))
        })
        .collect();
    let tally = join(tasks).await?;
    let label = format!(
        "raw EVALSHA: hold + release ({mode}, {} seats)",
        seats.len()
    );
    Ok(tally.into_cell(&label, "redis", mode, c, window.elapsed()))
}

/// One host client of the reserve cell: walk its seats; hold each, then reserve it (measured).
async fn host_reserve_client(
    mut client: FlowClient,
    buyer: Buyer,
    seats: Vec<String>,
    window: Window,
) -> Tally {
    let mut tally = Tally::default();
    let mut next = 0;
    while window.open() && !seats.is_empty() {
        let seat = &seats[next % seats.len()];
        next += 1;
        let body = serde_json::json!({"eventId": STADIUM_EVENT_ID, "seatIds": [seat]});
        let counts = window.counts(Instant::now());
        match client.send(post(HOLD_PATH, &buyer, body.clone())).await {
            Ok(r) if r.status == StatusCode::OK => {
                if counts {
                    tally.side_calls += 1;
                }
            }
            Ok(r) => {
                if counts {
                    tally.error(format!("hold {}", status_kind(&r)));
                }
                continue;
            }
            Err(kind) => {
                if counts {
                    tally.error(format!("hold {kind}"));
                }
                continue;
            }
        }
        let mut reserve = post(RESERVE_PATH, &buyer, body);
        if let Ok(key) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
            reserve
                .headers
                .push((HeaderName::from_static("idempotency-key"), key));
        }
        let started = Instant::now();
        let counts = window.counts(started);
        match client.send(reserve).await {
            Ok(reply) => {
                let latency = started.elapsed();
                let outcome = classify(reply.status, code(&reply).as_deref(), StatusCode::CREATED);
                if counts {
                    tally.step(outcome, latency, || {
                        format!("reserve {}", status_kind(&reply))
                    });
                }
            }
            Err(kind) => {
                if counts {
                    tally.error(format!("reserve {kind}"));
                }
            }
        }
    }
    tally
}

async fn host_reserve_cell(
    config: &SeatsConfig,
    stack: &BenchStack,
    redis: &mut redis::aio::MultiplexedConnection,
    seats: &[String],
) -> Result<Cell> {
    let c = config.concurrency;
    let buyers = buyers(stack, c, STADIUM_EVENT_ID)?;
    let users: Vec<String> = buyers.iter().map(|b| b.user_id.clone()).collect();
    admit(redis, stack, STADIUM_EVENT_ID, &users).await?;
    let window = Window::new(config.warmup, config.duration);
    let tasks: Vec<_> = buyers
        .into_iter()
        .enumerate()
        .map(|(i, buyer)| {
            let client = FlowClient::new(stack.target.clone(), config.timeout);
            let mine = client_slice(seats, c, i).to_vec();
            tokio::spawn(host_reserve_client(client, buyer, mine, window))
        })
        .collect();
    let tally = join(tasks).await?;
    let label = format!(
        "host: hold, then reserve (measured), {} seats per client",
        seats.len() / c
    );
    Ok(tally.into_cell(&label, "host", "reserve", c, window.elapsed()))
}

/// `booking_reserve_seats` for one seat, as the component calls it; the outcome.
async fn sql_reserve(pool: &sqlx::PgPool, user: &str, seat: &str, key: &str) -> Result<String> {
    let token = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_micros() as i64;
    let hash = [0xab_u8; 32].to_vec();
    let row: (String,) = sqlx::query_as(
        "SELECT outcome FROM booking_reserve_seats($1::uuid, $2::uuid, $3::text[]::uuid[], \
         $4::int8, $5::int4, $6::int4, $7::text, $8::bytea)",
    )
    .bind(user)
    .bind(STADIUM_EVENT_ID)
    .bind(vec![seat.to_string()])
    .bind(token)
    .bind(RESERVATION_TTL_SECS)
    .bind(PURCHASE_CAP_SEATS)
    .bind(key)
    .bind(hash)
    .fetch_one(pool)
    .await?;
    Ok(row.0)
}

/// Leaves every seat as a reserve that has since expired leaves it (locked by a pending
/// reservation past its expiry, with its item), in one transaction of set-based statements
/// (calling the function 4,864 times would take minutes on a busy machine). So every measured
/// reserve, by the host or the baseline, expires the last reservation of its seat first.
async fn prime(pool: &sqlx::PgPool, seats: &[String]) -> Result<()> {
    let user = uuid::Uuid::new_v4().to_string();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "CREATE TEMP TABLE urr_bench_prime ON COMMIT DROP AS \
         SELECT s.id AS seat, s.price, gen_random_uuid() AS reservation \
           FROM seats AS s WHERE s.id = ANY ($1::text[]::uuid[])",
    )
    .bind(seats)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO reservations (id, reservation_number, user_id, event_id, kind, \
                                   total_amount, expires_at) \
         SELECT p.reservation, booking_reservation_number(), $1::uuid, $2::uuid, 'seated', \
                p.price, now() FROM urr_bench_prime AS p",
    )
    .bind(&user)
    .bind(STADIUM_EVENT_ID)
    .execute(&mut *tx)
    .await?;
    // Tokens from the clock, as the function derives them: every later token is above.
    let token = "floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint";
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO reservation_items (reservation_id, seat_id, quantity, unit_price, \
                                        fencing_token) \
         SELECT p.reservation, p.seat, 1, p.price, {token} FROM urr_bench_prime AS p"
    )))
    .execute(&mut *tx)
    .await?;
    let locked = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE seats AS s SET status = 'locked', reservation_id = p.reservation, \
                held_by = $1::uuid, hold_expires_at = now(), fencing_token = {token}, \
                version = s.version + 1, updated_at = now() \
           FROM urr_bench_prime AS p WHERE s.id = p.seat AND s.status = 'available'"
    )))
    .bind(&user)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if locked != seats.len() as u64 {
        bail!("priming locked {locked} of {} seats", seats.len());
    }
    tx.commit().await?;
    Ok(())
}

/// The sqlx fallback: `concurrency` connections, each walking its client's slice.
async fn sqlx_reserve_cell(
    config: &SeatsConfig,
    pool: &sqlx::PgPool,
    seats: &[String],
) -> Result<Cell> {
    let c = config.concurrency;
    let window = Window::new(config.warmup, config.duration);
    let tasks: Vec<_> = (0..c)
        .map(|i| {
            let pool = pool.clone();
            let mine = client_slice(seats, c, i).to_vec();
            tokio::spawn(async move {
                let mut tally = Tally::default();
                let user = uuid::Uuid::new_v4().to_string();
                let mut next = 0;
                while window.open() && !mine.is_empty() {
                    let seat = &mine[next % mine.len()];
                    next += 1;
                    let key = uuid::Uuid::new_v4().to_string();
                    let started = Instant::now();
                    let result = sql_reserve(&pool, &user, seat, &key).await;
                    if !window.counts(started) {
                        continue;
                    }
                    match result {
                        Ok(outcome) => {
                            let o = match outcome.as_str() {
                                "created" => Outcome::Granted,
                                "seat_taken" => Outcome::Lost,
                                _ => Outcome::Error,
                            };
                            tally.step(o, started.elapsed(), || format!("outcome {outcome}"));
                        }
                        Err(_) => tally.error("sql"),
                    }
                }
                tally
            })
        })
        .collect();
    let tally = join(tasks).await?;
    let label = "sqlx: booking_reserve_seats (same arguments)".to_string();
    Ok(tally.into_cell(&label, "sqlx", "reserve", c, window.elapsed()))
}

async fn run_pgbench(
    addr: &StoreAddr,
    script: &std::path::Path,
    concurrency: usize,
    per: usize,
    secs: u64,
) -> Result<String> {
    let mut cmd = tokio::process::Command::new("pgbench");
    cmd.args(["-h", &addr.host, "-p", &addr.port.to_string()])
        .args(["-n", "-M", "prepared", "-c", &concurrency.to_string()])
        .args(["-j", &concurrency.min(2).to_string()])
        .args(["-T", &secs.to_string()])
        .args(["-D", &format!("per={per}"), "-D", "n=0"])
        .arg("-f")
        .arg(script);
    if let Some(user) = &addr.user {
        cmd.args(["-U", user]);
    }
    if let Some(pw) = &addr.password {
        cmd.env("PGPASSWORD", pw);
    }
    cmd.arg(addr.database.as_deref().unwrap_or("postgres"));
    let output = tokio::time::timeout(Duration::from_secs(secs + 60), cmd.output())
        .await
        .context("pgbench did not finish in time")??;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    if !output.status.success() {
        bail!(
            "pgbench failed: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(stdout)
}

/// pgbench calling the function: warm-up, then the measured run; created reservations are
/// counted in the database (pgbench cannot read the outcome), so a refusal is not a success.
async fn pgbench_reserve_cell(
    config: &SeatsConfig,
    stack: &BenchStack,
    admin: &sqlx::PgPool,
    seats: &[String],
) -> Result<Cell> {
    let c = config.concurrency;
    let per = seats.len() / c;
    // The same slots for every run of this cell (the counting A/B runs it three times).
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS urr_bench_seat_slots (slot int PRIMARY KEY, seat uuid NOT NULL)",
    )
    .execute(admin)
    .await?;
    sqlx::query("TRUNCATE urr_bench_seat_slots")
        .execute(admin)
        .await?;
    let slots: Vec<i32> = (0..(per * c) as i32).collect();
    let ids: Vec<String> = seats[..per * c].to_vec();
    sqlx::query(
        "INSERT INTO urr_bench_seat_slots (slot, seat) \
         SELECT * FROM unnest($1::int4[], $2::text[]::uuid[])",
    )
    .bind(&slots)
    .bind(&ids)
    .execute(admin)
    .await?;
    std::fs::create_dir_all(&config.scratch)?;
    let script = config.scratch.join("reserve.sql");
    std::fs::write(&script, pgbench_script(STADIUM_EVENT_ID))?;
    let addr = StoreAddr::parse(&stack.app_url, 5432)?;
    let users: Vec<String> = (0..c).map(pgbench_user).collect();
    let count_created = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM reservations WHERE user_id = ANY ($1::text[]::uuid[])",
        )
        .bind(&users)
        .fetch_one(admin)
        .await
    };
    if !config.warmup.is_zero() {
        run_pgbench(&addr, &script, c, per, config.warmup.as_secs().max(1)).await?;
    }
    let before = count_created().await?;
    let secs = config.duration.as_secs().max(1);
    let stdout = run_pgbench(&addr, &script, c, per, secs).await?;
    let created = u64::try_from(count_created().await? - before).unwrap_or(0);
    let tps = baselines::parse_pgbench_tps(&stdout).context("no `tps =` in pgbench's output")?;
    let failed = baselines::parse_pgbench_failed(&stdout);
    let transactions = processed(&stdout).unwrap_or_else(|| (tps * secs as f64).round() as u64);
    let mut tally = Tally {
        attempts: transactions,
        granted: created.min(transactions),
        ..Tally::default()
    };
    if failed > 0 {
        tally.errors.insert("failed transactions".into(), failed);
    }
    let refused = transactions.saturating_sub(created);
    if refused > 0 {
        tally.errors.insert("not created".into(), refused);
        tally.attempts -= refused;
    }
    let label = "pgbench: booking_reserve_seats (same arguments)".to_string();
    let mut cell = tally.into_cell(&label, "pgbench", "reserve", c, Duration::from_secs(secs));
    // With more clients than threads pgbench's per-transaction times are not exact: only its
    // average latency is reported.
    cell.latency = LatencySummary {
        samples: transactions,
        min_us: f64::NAN,
        mean_us: baselines::parse_pgbench_latency_avg(&stdout).map_or(f64::NAN, |ms| ms * 1e3),
        p50_us: f64::NAN,
        p95_us: f64::NAN,
        p99_us: f64::NAN,
        max_us: f64::NAN,
    };
    Ok(cell)
}

/// The raw SQL baseline of the reserve: pgbench when it is installed, else sqlx at the same
/// concurrency (also when pgbench gives up: it aborts a client at its first error, e.g. a
/// refusal the function raises, where the sqlx run counts the error and goes on).
async fn raw_reserve_cell(
    config: &SeatsConfig,
    stack: &BenchStack,
    admin: &sqlx::PgPool,
    seats: &[String],
) -> Result<Cell> {
    tokio::time::sleep(SEAT_REST).await;
    if !config.sqlx_baseline && baselines::available("pgbench").await {
        match pgbench_reserve_cell(config, stack, admin, seats).await {
            Ok(cell) => return Ok(cell),
            Err(e) => eprintln!("pgbench failed, the sqlx baseline runs instead: {e:#}"),
        }
        tokio::time::sleep(SEAT_REST).await;
    } else {
        eprintln!("pgbench is not installed: the raw SQL baseline runs the function with sqlx");
    }
    sqlx_reserve_cell(config, admin, seats).await
}

/// The triggers that keep the business counters of reservations (migration
/// `business_counters`), switched off only for the cell that prices them.
const COUNTING_TRIGGERS: [&str; 2] = ["reservations_count_inserts", "reservations_count_updates"];

async fn set_counting(admin: &sqlx::PgPool, on: bool) -> Result<()> {
    let verb = if on { "ENABLE" } else { "DISABLE" };
    for trigger in COUNTING_TRIGGERS {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE reservations {verb} TRIGGER {trigger}"
        )))
        .execute(admin)
        .await
        .with_context(|| format!("{verb} TRIGGER {trigger}"))?;
    }
    Ok(())
}

async fn noop_cell(config: &SeatsConfig, stack: &BenchStack) -> Result<Cell> {
    let scenario: Arc<dyn Scenario> = Arc::new(Fixed {
        spec: RequestSpec::get(NOOP_PATH),
    });
    let load_config = LoadConfig {
        target: stack.target.clone(),
        shape: LoadShape::Concurrency {
            concurrency: config.concurrency,
        },
        duration: config.duration,
        max_requests: load::MAX_REQUESTS_CAP,
        timeout: config.timeout,
    };
    let r = load::run_warmed(&load_config, config.warmup, scenario, "no-op").await?;
    let tally = Tally {
        attempts: r.ok,
        granted: r.ok,
        errors: r.error_kinds.clone(),
        ..Tally::default()
    };
    let mut cell = tally.into_cell(
        "host: GET /health (no-op)",
        "host",
        "noop",
        config.concurrency,
        Duration::from_secs_f64(r.elapsed_s),
    );
    cell.latency = r.latency;
    Ok(cell)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

async fn seat_ids(pool: &sqlx::PgPool, event_id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id::text FROM seats WHERE event_id = $1::uuid \
         ORDER BY section, row_number, seat_number",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await?)
}

pub async fn run(config: SeatsConfig) -> Result<SeatsReport> {
    if config.concurrency == 0 || config.hot_seats == 0 {
        bail!("concurrency and hot seats must be at least 1");
    }
    let mut stack_config = StackConfig::new(
        "seats",
        config.repo.clone(),
        config.host_bin.clone(),
        &config.pg_url,
        &config.redis_url,
    );
    stack_config.scratch = config.scratch.clone();
    stack_config.reuse_instances = config.reuse_instances;
    stack_config.spin_bin = config.spin_bin.clone();
    for (name, value) in VARIABLES {
        stack_config = stack_config.variable(name, value);
    }
    let stack = BenchStack::start(&stack_config).await?;
    let result = measure(&config, &stack).await;
    stack.stop().await?;
    result
}

async fn measure(config: &SeatsConfig, stack: &BenchStack) -> Result<SeatsReport> {
    let started_unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let load_average_start = load_average();
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(config.concurrency as u32)
        .connect(&stack.app_url)
        .await
        .context("connecting to the bench database")?;
    let hot: Vec<String> = seat_ids(&admin, HOT_EVENT_ID)
        .await?
        .into_iter()
        .take(config.hot_seats)
        .collect();
    let stadium = seat_ids(&admin, STADIUM_EVENT_ID).await?;
    if hot.len() < config.hot_seats || stadium.len() < config.concurrency {
        bail!("the seeded events have fewer seats than the run needs");
    }
    let redis_client = redis::Client::open(stack.redis_url.as_str())?;
    let mut redis = redis_client.get_multiplexed_async_connection().await?;
    let hot = Arc::new(hot);
    let stadium_arc = Arc::new(stadium.clone());

    let mut cells = vec![noop_cell(config, stack).await?];
    cells.push(host_hold_cell(config, stack, &mut redis, HOT_EVENT_ID, hot.clone(), "hot").await?);
    cells.push(raw_hold_cell(config, stack, HOT_EVENT_ID, &hot, "hot").await?);
    cells.push(
        host_hold_cell(
            config,
            stack,
            &mut redis,
            STADIUM_EVENT_ID,
            stadium_arc.clone(),
            "uniform",
        )
        .await?,
    );
    cells.push(raw_hold_cell(config, stack, STADIUM_EVENT_ID, &stadium, "uniform").await?);

    let per = stadium.len() / config.concurrency;
    let reserve_seats = &stadium[..per * config.concurrency];
    eprintln!("priming {} seats", reserve_seats.len());
    prime(&admin, reserve_seats).await?;
    tokio::time::sleep(SEAT_REST).await;
    cells.push(host_reserve_cell(config, stack, &mut redis, reserve_seats).await?);
    let raw = raw_reserve_cell(config, stack, &admin, reserve_seats).await?;
    // What the business counters' triggers cost the reserve: the same baseline with them off,
    // then on again, so drift on this shared machine shows as a difference between the two
    // "on" cells rather than as the triggers' cost.
    set_counting(&admin, false).await?;
    let uncounted = raw_reserve_cell(config, stack, &admin, reserve_seats).await;
    set_counting(&admin, true).await?;
    let mut uncounted = uncounted?;
    uncounted.mode = "reserve-uncounted".into();
    uncounted.label = format!("{} — counting triggers off", uncounted.label);
    let mut recounted = raw_reserve_cell(config, stack, &admin, reserve_seats).await?;
    recounted.mode = "reserve-recounted".into();
    recounted.label = format!("{} — counting triggers on again", recounted.label);
    let sql_baseline = raw.via.clone();
    cells.extend([raw, uncounted, recounted]);
    admin.close().await;

    Ok(SeatsReport {
        started_unix_s,
        load_average_start,
        load_average_end: load_average(),
        host_mode: if config.reuse_instances {
            "instance reuse".into()
        } else {
            "fresh instance per request".into()
        },
        concurrency: config.concurrency,
        duration_s: config.duration.as_secs_f64(),
        warmup_s: config.warmup.as_secs_f64(),
        hot_seats: config.hot_seats,
        stadium_seats: stadium.len(),
        variables: VARIABLES
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        sql_baseline,
        verdicts: verdicts(&cells),
        cells,
    })
}

/// The Markdown of docs/benchmarks.md: the cells, then the verdicts.
pub fn render_markdown(report: &SeatsReport) -> String {
    let mut md = format!(
        "Host: {}; {} clients; {:.0} s cells after {:.0} s warm-up; load average {} (start), {} \
         (end).\n\n",
        report.host_mode,
        report.concurrency,
        report.duration_s,
        report.warmup_s,
        report.load_average_start,
        report.load_average_end
    );
    md.push_str(
        "| run | attempts/s | granted/s | lost races | all calls/s | p50 | p99 | errors |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for c in &report.cells {
        let errors = if c.errors == 0 {
            "0".to_string()
        } else {
            let kinds: Vec<String> = c
                .error_kinds
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect();
            format!("{} ({})", c.errors, kinds.join(", "))
        };
        let p50 = if c.latency.p50_us.is_nan() {
            format!("avg {}", stats::format_us(c.latency.mean_us))
        } else {
            stats::format_us(c.latency.p50_us)
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            c.label,
            stats::format_rps(c.attempts_per_s),
            stats::format_rps(c.granted_per_s),
            c.lost_races,
            stats::format_rps(c.calls_per_s),
            p50,
            stats::format_us(c.latency.p99_us),
            errors
        ));
    }
    md.push_str("\n| target | measured | verdict |\n|---|---|---|\n");
    for v in &report.verdicts {
        let verdict = match v.met {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "n/a",
        };
        md.push_str(&format!("| {} | {} | {verdict} |\n", v.target, v.measured));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_classify_as_granted_lost_or_error() {
        let ok = StatusCode::OK;
        assert_eq!(classify(StatusCode::OK, None, ok), Outcome::Granted);
        assert_eq!(
            classify(StatusCode::CONFLICT, Some("seat_taken"), ok),
            Outcome::Lost
        );
        // Another 409 is a refusal the benchmark did not expect, not a lost race.
        assert_eq!(
            classify(StatusCode::CONFLICT, Some("hold_limit"), ok),
            Outcome::Error
        );
        assert_eq!(
            classify(StatusCode::OK, None, StatusCode::CREATED),
            Outcome::Error
        );
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"), ok),
            Outcome::Error
        );
    }

    #[test]
    fn client_slices_are_disjoint_and_equal() {
        let seats: Vec<u32> = (0..4900).collect();
        let a = client_slice(&seats, 64, 0);
        let b = client_slice(&seats, 64, 1);
        let last = client_slice(&seats, 64, 63);
        assert_eq!(a.len(), 76);
        assert_eq!((a[75], b[0]), (75, 76));
        assert_eq!(last.last(), Some(&(64 * 76 - 1)));
        assert!(client_slice(&seats, 64, 64).is_empty());
        assert!(client_slice(&seats, 0, 0).is_empty());
    }

    #[test]
    fn dice_stay_in_range_and_spread() {
        let mut dice = Dice::new(7);
        let mut seen = [0u32; 100];
        for _ in 0..10_000 {
            seen[dice.below(100)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 40), "{seen:?}");
        assert_eq!(Dice::new(3).below(0), 0);
    }

    #[test]
    fn the_pgbench_script_calls_the_function_with_the_components_arguments() {
        let script = pgbench_script(STADIUM_EVENT_ID);
        assert_eq!(script.matches("booking_reserve_seats(").count(), 1);
        assert!(script.contains(&format!("'{STADIUM_EVENT_ID}'::uuid")));
        assert!(script.contains("\\set n (:n + 1) % :per"));
        assert!(script.contains(&format!("{RESERVATION_TTL_SECS}, {PURCHASE_CAP_SEATS}")));
        assert!(script.contains(&format!("'\\x{}'::bytea", "ab".repeat(32))));
        assert_eq!(pgbench_user(7), "5eed0000-0000-4000-8000-000000000007");
        assert!(uuid::Uuid::parse_str(&pgbench_user(63)).is_ok());
        let out = "number of transactions actually processed: 7520\ntps = 751.9 (x)\n";
        assert_eq!(processed(out), Some(7520));
        assert_eq!(processed("tps = 1\n"), None);
    }

    #[test]
    fn the_run_sets_what_the_host_reads() {
        // The raw baselines pass the same TTL and caps as the variables give the host.
        let vars: BTreeMap<_, _> = VARIABLES.into_iter().collect();
        assert_eq!(
            vars["hold_ttl_secs"],
            (RAW_HOLD_TERMS.ttl_ms / 1000).to_string()
        );
        assert_eq!(
            vars["reservation_ttl_secs"],
            RESERVATION_TTL_SECS.to_string()
        );
        assert!(vars["purchase_limits"].contains(&format!("seats={PURCHASE_CAP_SEATS}")));
        assert!(vars["hold_limits"].contains(&format!(
            "seats={},per_minute={}",
            RAW_HOLD_TERMS.limits.max_seats_held, RAW_HOLD_TERMS.limits.holds_per_minute
        )));
        assert!(SEAT_REST > Duration::from_secs(RESERVATION_TTL_SECS as u64));
    }

    fn cell(mode: &str, via: &str, attempts: f64, granted: f64, p99_us: f64) -> Cell {
        Cell {
            label: String::new(),
            via: via.into(),
            mode: mode.into(),
            concurrency: 64,
            elapsed_s: 10.0,
            attempts: 1,
            granted: 1,
            lost_races: 0,
            side_calls: 0,
            errors: 0,
            error_kinds: BTreeMap::new(),
            attempts_per_s: attempts,
            granted_per_s: granted,
            calls_per_s: attempts,
            latency: LatencySummary {
                samples: 1,
                p99_us,
                ..LatencySummary::default()
            },
        }
    }

    #[test]
    fn verdicts_compare_the_right_cells() {
        let cells = vec![
            cell("noop", "host", 1000.0, 1000.0, 1.0),
            cell("hot", "host", 700.0, 50.0, 1.0),
            cell("hot", "redis", 9000.0, 50.0, 1.0),
            cell("uniform", "host", 500.0, 490.0, 1.0),
            cell("reserve", "host", 300.0, 300.0, 49_000.0),
            cell("reserve", "pgbench", 600.0, 600.0, f64::NAN),
            cell("reserve-uncounted", "pgbench", 700.0, 700.0, f64::NAN),
            cell("reserve-recounted", "pgbench", 640.0, 640.0, f64::NAN),
        ];
        let v = verdicts(&cells);
        assert_eq!(v.len(), 5);
        // Counting: the mean of the two counted runs (620) against the uncounted (700) = 89%.
        assert_eq!(v[4].met, Some(false), "{}", v[4].measured);
        // Hot: attempts (700) against the no-op (1000), not the granted holds.
        assert_eq!(v[0].met, Some(true));
        assert!(v[0].measured.ends_with("70%"), "{}", v[0].measured);
        assert_eq!(v[1].met, Some(false));
        // Reserve: created/s 300 of 600 = 50%.
        assert_eq!(v[2].met, Some(false));
        assert!(v[2].target.contains("pgbench"));
        assert_eq!(v[3].met, Some(true));
        assert_eq!(
            latency_verdict("x", 60_000.0, 10, 50_000.0).met,
            Some(false)
        );
        assert_eq!(latency_verdict("x", f64::NAN, 0, 50_000.0).met, None);
        assert!(verdicts(&[]).is_empty());
    }
}
