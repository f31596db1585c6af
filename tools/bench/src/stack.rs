//! The whole application under benchmark: a database of its own (created, migrated and seeded
//! with the demo catalog, dropped at the end), a Redis key prefix of its own (deleted at the
//! end), this run's own session and queue key pairs, and `bench-host` serving the application's
//! spin.toml with every component pointed at them, each Postgres-using component as its own role.
//!
//! Benchmarks mint access and entry tokens with the run's keys ([`BenchStack::access_token`],
//! [`BenchStack::entry_token`]), so a timed phase never waits on registrations, password hashes
//! or the waiting room unless that is what it measures.

use crate::load::Target;
use crate::procs::{self, ServerProcess};
use anyhow::{Context, Result};
use sqlx::Executor as _;
use std::path::PathBuf;
use std::time::Duration;
use urr_edge::database::{self, DATABASE_ROLES};

/// The longest a freshly started host may take to answer (it compiles cold components).
const READY_TIMEOUT: Duration = Duration::from_secs(300);
/// A path every application answers without touching a store.
const READY_PATH: &str = "/health";

pub struct StackConfig {
    /// Repository root (spin.toml, migrations/).
    pub repo: PathBuf,
    pub host_bin: PathBuf,
    /// An admin URL of the Postgres server (the stack creates and drops its own database).
    pub pg_url: String,
    pub redis_url: String,
    /// Logs and the compile cache.
    pub scratch: PathBuf,
    /// A short name for the database, key prefix and log (`catalog`, `seats`, ...).
    pub name: String,
    /// Variable overrides (`hold_limits`, `rate_limits`, ...) on top of the stack's own.
    pub variables: Vec<(String, String)>,
    /// Serve with instance reuse instead of a fresh instance per request.
    pub reuse_instances: bool,
    /// Serve on real Spin (`spin up` with the production flags, this binary) instead of
    /// `bench-host`: the same manifest, components, database and variables.
    pub spin_bin: Option<PathBuf>,
}

impl StackConfig {
    pub fn new(
        name: &str,
        repo: PathBuf,
        host_bin: PathBuf,
        pg_url: &str,
        redis_url: &str,
    ) -> Self {
        Self {
            scratch: std::env::temp_dir().join(format!("urr-bench-{name}-{}", std::process::id())),
            repo,
            host_bin,
            pg_url: pg_url.to_string(),
            redis_url: redis_url.to_string(),
            name: name.to_string(),
            variables: Vec::new(),
            reuse_instances: false,
            spin_bin: None,
        }
    }

    pub fn variable(mut self, name: &str, value: impl Into<String>) -> Self {
        self.variables.push((name.to_string(), value.into()));
        self
    }
}

/// A running application. Call [`BenchStack::stop`]: dropping it kills the host but leaves the
/// database and keys behind.
pub struct BenchStack {
    pub host: ServerProcess,
    pub target: Target,
    /// The application database as the server's administrator (for setup and checks).
    pub app_url: String,
    pub redis_url: String,
    pub key_prefix: String,
    pub session_key: urr_tokens::SigningKey,
    pub queue_key: urr_tokens::SigningKey,
    admin_url: String,
    database: String,
    launch: HostLaunch,
    restarts: u32,
}

/// How the host was started, so that it can be started again.
struct HostLaunch {
    host_bin: PathBuf,
    spin_bin: Option<PathBuf>,
    manifest: PathBuf,
    compile_cache: PathBuf,
    log: PathBuf,
    reuse_instances: bool,
    /// The manifest's variables, by name.
    variables: Vec<(String, String)>,
}

impl HostLaunch {
    async fn start(&self, port: u16, log: &std::path::Path) -> Result<ServerProcess> {
        if let Some(spin) = &self.spin_bin {
            // Spin keeps its own logs and state beside the host's log; instance reuse is off as
            // in production (the flags), whatever `reuse_instances` says.
            let state = log.with_extension("spin");
            let command = urr_edge::spin_cli::up_command(
                spin,
                &self.manifest,
                &format!("127.0.0.1:{port}"),
                &state,
                self.variables.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            );
            return ServerProcess::start(
                "spin",
                tokio::process::Command::from(command),
                port,
                READY_PATH,
                log,
                READY_TIMEOUT,
            )
            .await;
        }
        let mut command = tokio::process::Command::new(&self.host_bin);
        command
            .arg("--manifest")
            .arg(&self.manifest)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--compile-cache")
            .arg(&self.compile_cache);
        if self.reuse_instances {
            command.arg("--reuse-instances");
        }
        // URR_BENCH_GUEST_OUTPUT=1 keeps the guests' output in the host log (for debugging a
        // benchmark whose requests fail; the measured runs discard it).
        if std::env::var_os("URR_BENCH_GUEST_OUTPUT").is_some() {
            command.arg("--guest-output");
        }
        command.envs(self.variables.iter().map(|(name, value)| {
            (
                format!("{}{}", urr_edge::variables::ENV_PREFIX, name.to_uppercase()),
                value,
            )
        }));
        ServerProcess::start("bench-host", command, port, READY_PATH, log, READY_TIMEOUT).await
    }
}

impl BenchStack {
    pub async fn start(config: &StackConfig) -> Result<Self> {
        std::fs::create_dir_all(&config.scratch)?;
        let database = format!("urr_bench_{}_{}", config.name, std::process::id());
        let app_url = create_database(config, &database).await?;
        match Self::boot(config, &database, app_url).await {
            Ok(stack) => Ok(stack),
            Err(error) => {
                drop_database(&config.pg_url, &database).await;
                Err(error)
            }
        }
    }

    async fn boot(config: &StackConfig, database: &str, app_url: String) -> Result<Self> {
        let key_prefix = format!("urrbench:{}:{}", config.name, std::process::id());
        let session_key = generate_key(&format!("bench-{}", config.name))?;
        let queue_key = generate_key(&format!("bench-queue-{}", config.name))?;
        let manifest = config.repo.join("spin.toml");
        let declared = urr_edge::manifest::Manifest::load(&manifest)?.variables;

        let mut variables: Vec<(String, String)> = vec![
            ("redis_address".into(), config.redis_url.clone()),
            (
                "redis_host".into(),
                urr_edge::devstack::host_port(&config.redis_url),
            ),
            ("pg_host".into(), urr_edge::devstack::host_port(&app_url)),
            ("key_prefix".into(), key_prefix.clone()),
            ("jwt_public_keys".into(), session_key.public_entry()),
            ("jwt_signing_key".into(), session_key.to_pem()),
            ("jwt_signing_kid".into(), session_key.kid().to_string()),
            ("queue_public_keys".into(), queue_key.public_entry()),
            ("queue_signing_key".into(), queue_key.to_pem()),
            ("queue_signing_kid".into(), queue_key.kid().to_string()),
            // The benchmarks pay through the mock provider, whose secrets only development
            // mode accepts.
            ("development_mode".into(), "true".into()),
        ];
        for role in DATABASE_ROLES {
            let name = format!("pg_address_{}", role.trim_start_matches("urr_"));
            variables.push((name, database::as_role(&app_url, role)));
        }
        variables.extend(config.variables.iter().cloned());

        let launch = HostLaunch {
            host_bin: config.host_bin.clone(),
            spin_bin: config.spin_bin.clone(),
            manifest,
            compile_cache: config.scratch.join("compile-cache"),
            log: config.scratch.join(format!("{}-host.log", config.name)),
            reuse_instances: config.reuse_instances,
            variables: variables
                .into_iter()
                .filter(|(name, _)| declared.contains_key(name))
                .collect(),
        };
        let host = launch.start(procs::free_port()?, &launch.log).await?;
        let target = Target::parse_url(&host.base_url())?.0;
        Ok(Self {
            host,
            target,
            app_url,
            redis_url: config.redis_url.clone(),
            key_prefix,
            session_key,
            queue_key,
            admin_url: config.pg_url.clone(),
            database: database.to_string(),
            launch,
            restarts: 0,
        })
    }

    /// Kills the host (SIGKILL, as in a crash) and starts it again on the same port with the
    /// same variables; returns once it answers again.
    pub async fn restart_host(&mut self) -> Result<()> {
        if self.launch.spin_bin.is_some() {
            // `spin up` and its trigger process go together.
            urr_edge::spin_cli::kill_group(self.host.pid);
        }
        let _ = self.host.child.start_kill();
        let _ = self.host.child.wait().await;
        self.restarts += 1;
        // Each run of the host keeps its own log.
        let log = self
            .launch
            .log
            .with_extension(format!("restart{}.log", self.restarts));
        self.host = self.launch.start(self.host.addr.port(), &log).await?;
        Ok(())
    }

    /// The application database as `role` (what that component connects as).
    pub fn url_as(&self, role: &str) -> String {
        database::as_role(&self.app_url, role)
    }

    /// An access token the application accepts for `user_id` (role user unless `admin`).
    pub fn access_token(&self, user_id: &str, admin: bool) -> Result<String> {
        let role = if admin {
            urr_tokens::Role::Admin
        } else {
            urr_tokens::Role::User
        };
        let email = format!("{user_id}@bench.invalid");
        // Any UUID serves as the refresh family: nothing revokes benchmark sessions.
        let family = uuid::Uuid::new_v4().to_string();
        urr_tokens::mint_access(&self.session_key, user_id, &email, role, &family)
            .map_err(|e| anyhow::anyhow!("minting an access token: {e}"))
    }

    /// An entry token for `user_id` admitted to `event_id`, as the waiting room issues it.
    pub fn entry_token(&self, user_id: &str, event_id: &str) -> Result<String> {
        urr_tokens::mint_entry(&self.queue_key, user_id, event_id)
            .map_err(|e| anyhow::anyhow!("minting an entry token: {e}"))
    }

    /// Stops the host, drops the database and deletes the run's Redis keys.
    pub async fn stop(self) -> Result<()> {
        let stopped = self.host.stop().await;
        drop_database(&self.admin_url, &self.database).await;
        delete_keys(&self.redis_url, &self.key_prefix).await;
        stopped
    }
}

fn generate_key(kid: &str) -> Result<urr_tokens::SigningKey> {
    urr_tokens::SigningKey::generate(kid).map_err(|e| anyhow::anyhow!("generating a key: {e}"))
}

/// Creates `database` (dropping a leftover of the same name), bootstraps the component roles,
/// migrates and seeds the demo catalog; returns its URL as the administrator.
async fn create_database(config: &StackConfig, database: &str) -> Result<String> {
    use sqlx::Connection as _;
    let mut admin = sqlx::PgConnection::connect(&config.pg_url)
        .await
        .context("connecting to --pg-url")?;
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
        )))
        .await?;
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE \"{database}\""
        )))
        .await?;
    database::bootstrap_roles(&mut admin, database, &|_| None).await?;
    let url = database::with_database(&config.pg_url, database);
    database::migrate(&url, &config.repo.join("migrations")).await?;
    urr_edge::seed::seed(&url).await?;
    Ok(url)
}

async fn drop_database(pg_url: &str, database: &str) {
    use sqlx::Connection as _;
    if let Ok(mut admin) = sqlx::PgConnection::connect(pg_url).await {
        let _ = admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
            )))
            .await;
    }
}

async fn delete_keys(redis_url: &str, prefix: &str) {
    let Ok(client) = redis::Client::open(redis_url) else {
        return;
    };
    if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
        let _ = urr_edge::devstack::delete_prefixed_keys(&mut conn, prefix).await;
    }
}

/// One runtime a benchmark of the whole application runs on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Runtime {
    /// `urr-edge` or `spin`.
    pub label: &'static str,
    /// The Spin CLI, for `spin`.
    #[serde(skip)]
    pub spin_bin: Option<PathBuf>,
}

/// The runtimes to measure, in order: `urr-edge` (`bench-host`), then real Spin when a Spin CLI
/// is given, so that both are measured side by side in one invocation on the same machine.
pub fn runtimes(spin_bin: Option<&std::path::Path>) -> Vec<Runtime> {
    let mut runtimes = vec![Runtime {
        label: "urr-edge",
        spin_bin: None,
    }];
    if let Some(spin) = spin_bin {
        runtimes.push(Runtime {
            label: "spin",
            spin_bin: Some(spin.to_path_buf()),
        });
    }
    runtimes
}

/// The reports of several runtimes as one Markdown document, each rendered by `render`: one
/// report unchanged, several each under a heading naming its runtime.
pub fn by_runtime<R>(reports: &[(Runtime, R)], render: impl Fn(&R) -> String) -> String {
    match reports {
        [(_, only)] => render(only),
        _ => reports
            .iter()
            .map(|(runtime, report)| format!("## On {}\n\n{}", runtime.label, render(report)))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}
