//! The system under test, each part its own process: a private `redis-server` and a private
//! PostgreSQL cluster (on free loopback ports), a fault proxy in front of each and of the
//! provider, the mock payment provider (`urr-mock-provider`, with its own ledger), and the
//! `urr-edge` host serving spin.toml through `urr-bench`'s stack (own database, migrated and
//! seeded; own key prefix; own session and queue keys).

use crate::proxy::{Mode, Proxy};
use crate::stores::{PrivatePostgres, PrivateRedis};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::time::Duration;
use urr_bench::procs::{self, ServerProcess};
use urr_bench::stack::{BenchStack, StackConfig};

/// The mock provider's published development keys (accepted in development mode only).
pub const PROVIDER_SECRET_KEY: &str = "sk_test_mock";
pub const PROVIDER_WEBHOOK_SECRET: &str = "whsec_test_mock";
/// How long the mock's `timeout` scenario waits before answering 503: shorter than the host's
/// provider timeout, so it is a fast 5xx; real timeouts come from the proxy.
const PROVIDER_SLOW_ANSWER_MS: u64 = 800;

pub struct SystemConfig {
    pub repo: PathBuf,
    pub host_bin: PathBuf,
    pub provider_bin: PathBuf,
    pub scratch: PathBuf,
    pub variables: Vec<(String, String)>,
}

pub struct System {
    pub redis: PrivateRedis,
    pub postgres: PrivatePostgres,
    pub redis_proxy: Proxy,
    pub postgres_proxy: Proxy,
    pub provider_proxy: Proxy,
    pub provider: Option<ServerProcess>,
    pub stack: Option<BenchStack>,
    /// The application database as its administrator, straight to Postgres (not proxied).
    pub app_url: String,
    pub provider_url: String,
}

impl System {
    pub async fn start(config: &SystemConfig) -> Result<Self> {
        std::fs::create_dir_all(&config.scratch)?;
        let redis = PrivateRedis::start(&config.scratch)?;
        let postgres = PrivatePostgres::start(&config.scratch)?;
        let loopback = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let redis_proxy = Proxy::start(loopback(redis.port)).await?;
        let postgres_proxy = Proxy::start(loopback(postgres.port)).await?;
        let provider_port = procs::free_port()?;
        let provider_proxy = Proxy::start(loopback(provider_port)).await?;

        let mut stack_config = StackConfig::new(
            "chaos",
            config.repo.clone(),
            config.host_bin.clone(),
            &format!(
                "postgres://postgres@127.0.0.1:{}/postgres",
                postgres_proxy.port
            ),
            &format!("redis://127.0.0.1:{}", redis_proxy.port),
        )
        .variable(
            "provider_base_url",
            format!("http://127.0.0.1:{}", provider_proxy.port),
        )
        .variable("provider_secret_key", PROVIDER_SECRET_KEY)
        .variable("provider_webhook_secret", PROVIDER_WEBHOOK_SECRET);
        for (name, value) in &config.variables {
            stack_config = stack_config.variable(name, value.clone());
        }
        stack_config.scratch = config.scratch.clone();
        let stack = BenchStack::start(&stack_config).await?;
        let app_url = stack.app_url.replace(
            &format!("127.0.0.1:{}", postgres_proxy.port),
            &format!("127.0.0.1:{}", postgres.port),
        );

        let mut command = tokio::process::Command::new(&config.provider_bin);
        command
            .arg("--listen")
            .arg(format!("127.0.0.1:{provider_port}"))
            .arg("--webhook-url")
            .arg(format!("{}/api/v1/payments/webhook", stack.host.base_url()))
            .arg("--timeout-delay-ms")
            .arg(PROVIDER_SLOW_ANSWER_MS.to_string())
            .env("URR_MOCK_PROVIDER_SECRET_KEY", PROVIDER_SECRET_KEY)
            .env("URR_MOCK_PROVIDER_WEBHOOK_SECRET", PROVIDER_WEBHOOK_SECRET);
        let provider = match ServerProcess::start(
            "urr-mock-provider",
            command,
            provider_port,
            "/_mock/counts",
            &config.scratch.join("mock-provider.log"),
            Duration::from_secs(30),
        )
        .await
        .context("starting the mock provider (cargo build --release -p urr-mock-provider)")
        {
            Ok(p) => p,
            Err(e) => {
                let _ = stack.stop().await;
                return Err(e);
            }
        };
        Ok(Self {
            provider_url: provider.base_url(),
            redis,
            postgres,
            redis_proxy,
            postgres_proxy,
            provider_proxy,
            provider: Some(provider),
            stack: Some(stack),
            app_url,
        })
    }

    pub fn stack(&self) -> Result<&BenchStack> {
        self.stack.as_ref().context("the stack is stopped")
    }

    /// Every proxy back to forwarding.
    pub fn heal_network(&self) {
        for proxy in [
            &self.redis_proxy,
            &self.postgres_proxy,
            &self.provider_proxy,
        ] {
            proxy.set(Mode::Pass);
        }
    }

    /// Whether the host answers `/health`.
    pub async fn host_answers(&self) -> bool {
        match &self.stack {
            Some(stack) => procs::probe(stack.host.addr, "/health").await == Some(200),
            None => false,
        }
    }

    /// Stops everything this run started (each process by its own id).
    pub async fn stop(mut self) -> Result<()> {
        self.heal_network();
        let mut result = Ok(());
        if let Some(stack) = self.stack.take() {
            result = stack.stop().await;
        }
        if let Some(provider) = self.provider.take() {
            let _ = provider.stop().await;
        }
        self.redis.kill();
        self.postgres.crash();
        result
    }
}
