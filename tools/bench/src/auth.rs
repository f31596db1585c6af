//! The auth benchmark: what a login costs with Argon2id inside the Wasm instance, next to the
//! same Argon2id verification run natively in this process, and how fast refresh rotation goes.
//!
//! Cells, all in one run against the whole application ([`crate::stack`]):
//! - `POST /auth/login` at each login concurrency, and native `verify_password` at the same
//!   concurrency (the floor: one Argon2id with the same parameters and nothing else);
//! - `GET /auth/me` (the same token checks without Argon2id) and `GET /health` (the host's no-op),
//!   so the login's Argon2id share can be read off;
//! - `POST /auth/refresh` at the refresh concurrency: every worker owns a session and refreshes
//!   it in a chain, presenting the token the last rotation returned (every call is a rotation:
//!   one SQL function under a row lock, plus the deny-list check in Redis).

use crate::load::{self, FlowClient, Reply, Target};
use crate::scenario::{RequestSpec, Scenario};
use crate::stack::{BenchStack, StackConfig};
use crate::stats::{RunResult, format_ratio, format_us, ratio};
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Every benchmark account's password (long enough for the registration rules).
const PASSWORD: &str = "correct horse battery staple";
/// The auth category's per-minute limit during the run: high enough that the limiter admits
/// everything (it is still charged on every call, as in production).
const RATE_LIMITS: &str = "auth=60000,default=60000";

pub struct AuthConfig {
    pub repo: PathBuf,
    pub host_bin: PathBuf,
    pub pg_url: String,
    pub redis_url: String,
    pub duration: Duration,
    pub warmup: Duration,
    /// Login concurrencies (each Argon2id takes a core for tens of milliseconds).
    pub login_concurrency: Vec<usize>,
    /// Concurrency of the refresh chains (and of the `/auth/me` and no-op cells).
    pub refresh_concurrency: usize,
    pub timeout: Duration,
    pub scratch: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuthReport {
    pub load_average: Option<f64>,
    pub runs: Vec<RunResult>,
}

pub async fn run(config: AuthConfig) -> Result<AuthReport> {
    let mut stack_config = StackConfig::new(
        "auth",
        config.repo.clone(),
        config.host_bin.clone(),
        &config.pg_url,
        &config.redis_url,
    )
    .variable("rate_limits", RATE_LIMITS);
    stack_config.scratch = config.scratch.clone();
    let stack = BenchStack::start(&stack_config).await?;
    let result = measure(&config, &stack).await;
    stack.stop().await?;
    let runs = result?;
    Ok(AuthReport {
        load_average: crate::procs::loadavg(),
        runs,
    })
}

async fn measure(config: &AuthConfig, stack: &BenchStack) -> Result<Vec<RunResult>> {
    let target = stack.target.clone();
    let accounts = config
        .login_concurrency
        .iter()
        .copied()
        .max()
        .unwrap_or(1)
        .max(config.refresh_concurrency);
    let mut client = FlowClient::new(target.clone(), config.timeout);
    let mut emails = Vec::with_capacity(accounts);
    for i in 0..accounts {
        let email = format!("bench-{i}@example.com");
        let reply = client
            .send(register(&email))
            .await
            .map_err(anyhow::Error::msg)?;
        if reply.status != StatusCode::CREATED {
            bail!(
                "registering {email}: {} {}",
                reply.status,
                body_text(&reply)
            );
        }
        emails.push(email);
    }
    // The stored hash the native cells verify against: the one registration wrote.
    let stored_hash = stored_hash(stack, &emails[0]).await?;

    let mut runs = Vec::new();
    for &c in &config.login_concurrency {
        let login: Arc<dyn Scenario> = Arc::new(Login {
            emails: emails.clone(),
        });
        runs.push(http_cell(config, &target, login, c).await?);
        runs.push(native_verify_cell(config, &stored_hash, c).await?);
    }

    let c = config.refresh_concurrency;
    // `/auth/me` reads the account, so the token is a real one: account 0's, from a login.
    let reply = client
        .send(login(&emails[0]))
        .await
        .map_err(anyhow::Error::msg)?;
    let access = reply.json()["token"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("login: {} {}", reply.status, body_text(&reply)))?;
    let me: Arc<dyn Scenario> = Arc::new(Fixed {
        name: "GET /api/v1/auth/me".into(),
        spec: RequestSpec {
            headers: vec![(
                http::header::AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {access}"))?,
            )],
            ..RequestSpec::get("/api/v1/auth/me")
        },
    });
    runs.push(http_cell(config, &target, me, c).await?);
    let noop: Arc<dyn Scenario> = Arc::new(Fixed {
        name: "GET /health (no-op)".into(),
        spec: RequestSpec::get("/health"),
    });
    runs.push(http_cell(config, &target, noop, c).await?);
    runs.push(refresh_cell(config, &target, &emails[..c]).await?);
    Ok(runs)
}

fn json_post(path: &str, body: serde_json::Value) -> RequestSpec {
    RequestSpec {
        method: Method::POST,
        path: path.to_string(),
        headers: vec![
            (
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                HeaderName::from_static("x-token-delivery"),
                HeaderValue::from_static("body"),
            ),
        ],
        body: Bytes::from(body.to_string()),
    }
}

fn register(email: &str) -> RequestSpec {
    json_post(
        "/api/v1/auth/register",
        serde_json::json!({"email": email, "password": PASSWORD, "name": "Bench"}),
    )
}

fn login(email: &str) -> RequestSpec {
    json_post(
        "/api/v1/auth/login",
        serde_json::json!({"email": email, "password": PASSWORD}),
    )
}

fn refresh(token: &str) -> RequestSpec {
    json_post(
        "/api/v1/auth/refresh",
        serde_json::json!({"refreshToken": token}),
    )
}

fn body_text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

async fn stored_hash(stack: &BenchStack, email: &str) -> Result<String> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&stack.app_url).await?;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&mut conn)
        .await
        .context("reading the benchmark account's password hash")?;
    Ok(hash)
}

/// Worker `w` logs in as account `w` (one account per worker: the per-account failure throttle
/// never sees a failure, and no two workers share a row).
struct Login {
    emails: Vec<String>,
}

impl Scenario for Login {
    fn name(&self) -> String {
        "POST /api/v1/auth/login (Argon2id in Wasm)".into()
    }

    fn request(&self, worker: usize, _seq: u64) -> RequestSpec {
        login(&self.emails[worker % self.emails.len()])
    }
}

struct Fixed {
    name: String,
    spec: RequestSpec,
}

impl Scenario for Fixed {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn request(&self, _worker: usize, _seq: u64) -> RequestSpec {
        self.spec.clone()
    }
}

async fn http_cell(
    config: &AuthConfig,
    target: &Target,
    scenario: Arc<dyn Scenario>,
    concurrency: usize,
) -> Result<RunResult> {
    let phases = (config.warmup, config.duration, config.timeout);
    let result = load::closed_cell(target, scenario, concurrency, phases).await?;
    report_line(&result);
    Ok(result)
}

/// `verify_password` against the stored hash on `concurrency` blocking threads: the floor of a
/// login (one Argon2id, nothing else), natively.
async fn native_verify_cell(
    config: &AuthConfig,
    stored_hash: &str,
    concurrency: usize,
) -> Result<RunResult> {
    let verify = |hash: Arc<str>| async move {
        let checked = hash.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            urr_auth::password::verify_password(PASSWORD, Some(&checked))
        })
        .await;
        match outcome {
            Ok(true) => (hash, Ok(())),
            Ok(false) => (hash, Err("wrong password".to_string())),
            Err(_) => (hash, Err("panicked".to_string())),
        }
    };
    let hash: Arc<str> = Arc::from(stored_hash);
    let label = "Argon2id verify, native (same parameters)";
    load::run_workers(
        label,
        vec![hash.clone(); concurrency],
        config.warmup,
        verify,
    )
    .await?;
    let (result, _) =
        load::run_workers(label, vec![hash; concurrency], config.duration, verify).await?;
    report_line(&result);
    Ok(result)
}

/// One refresh chain per account: log in once (untimed), then rotate, always presenting the
/// token the previous rotation returned.
async fn refresh_cell(
    config: &AuthConfig,
    target: &Target,
    emails: &[String],
) -> Result<RunResult> {
    struct Chain {
        client: FlowClient,
        token: String,
    }
    let mut chains = Vec::with_capacity(emails.len());
    for email in emails {
        let mut client = FlowClient::new(target.clone(), config.timeout);
        let reply = client
            .send(login(email))
            .await
            .map_err(anyhow::Error::msg)?;
        let token = refresh_token(&reply)
            .with_context(|| format!("login of {email}: {} {}", reply.status, body_text(&reply)))?;
        chains.push(Chain { client, token });
    }
    let rotate = |mut chain: Chain| async move {
        let outcome = match chain.client.send(refresh(&chain.token)).await {
            Ok(reply) => match refresh_token(&reply) {
                Some(next) => {
                    chain.token = next;
                    Ok(())
                }
                None => Err(format!("status {}", reply.status.as_u16())),
            },
            Err(kind) => Err(kind.to_string()),
        };
        (chain, outcome)
    };
    let label = "POST /api/v1/auth/refresh (rotation chain)";
    // The warm-up rotates the same chains: each goes on from where it stopped.
    let (_, chains) = load::run_workers(label, chains, config.warmup, rotate).await?;
    let (result, _) = load::run_workers(label, chains, config.duration, rotate).await?;
    report_line(&result);
    Ok(result)
}

fn refresh_token(reply: &Reply) -> Option<String> {
    if reply.status != StatusCode::OK && reply.status != StatusCode::CREATED {
        return None;
    }
    reply.json()["refreshToken"].as_str().map(str::to_string)
}

fn report_line(result: &RunResult) {
    eprintln!(
        "{} c={}: {:.0}/s, p50 {} p95 {} p99 {}, errors {}",
        result.label,
        result.load.concurrency(),
        result.throughput_rps,
        format_us(result.latency.p50_us),
        format_us(result.latency.p95_us),
        format_us(result.latency.p99_us),
        result.error_summary(),
    );
}

/// The Markdown tables of docs/benchmarks.md: every cell, then the ratios the issue asks for.
pub fn render_markdown(report: &AuthReport) -> String {
    let mut out = String::from(
        "| cell | c | ok/s | p50 | p95 | p99 | errors |\n|---|---|---|---|---|---|---|\n",
    );
    for r in &report.runs {
        out.push_str(&format!(
            "| {} | {} | {:.0} | {} | {} | {} | {} |\n",
            r.label,
            r.load.concurrency(),
            r.throughput_rps,
            format_us(r.latency.p50_us),
            format_us(r.latency.p95_us),
            format_us(r.latency.p99_us),
            r.error_summary(),
        ));
    }
    let find = |prefix: &str, c: usize| {
        report
            .runs
            .iter()
            .find(|r| r.label.starts_with(prefix) && r.load.concurrency() == c)
    };
    out.push_str("\n| ratio | value |\n|---|---|\n");
    let logins = report
        .runs
        .iter()
        .filter(|r| r.label.starts_with("POST /api/v1/auth/login"));
    for login in logins {
        let c = login.load.concurrency();
        if let Some(native) = find("Argon2id verify, native", c) {
            out.push_str(&format!(
                "| login p50 / native Argon2id p50, c={c} | {} |\n",
                format_ratio(ratio(
                    Some(login.latency.p50_us),
                    Some(native.latency.p50_us)
                ))
            ));
            out.push_str(&format!(
                "| login p95 / native Argon2id p95, c={c} | {} |\n",
                format_ratio(ratio(
                    Some(login.latency.p95_us),
                    Some(native.latency.p95_us)
                ))
            ));
        }
    }
    let refresh = report
        .runs
        .iter()
        .find(|r| r.label.starts_with("POST /api/v1/auth/refresh"));
    if let Some(refresh) = refresh {
        let c = refresh.load.concurrency();
        for (name, prefix) in [
            ("/auth/me", "GET /api/v1/auth/me"),
            ("no-op", "GET /health"),
        ] {
            if let Some(other) = find(prefix, c) {
                out.push_str(&format!(
                    "| refresh throughput / {name} throughput, c={c} | {} |\n",
                    format_ratio(ratio(
                        Some(refresh.throughput_rps),
                        Some(other.throughput_rps)
                    ))
                ));
            }
        }
    }
    if let Some(load) = report.load_average {
        out.push_str(&format!(
            "\nLoad average at the end of the run: {load:.2}\n"
        ));
    }
    out
}
