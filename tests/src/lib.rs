//! The end-to-end test harness: `spawn_app()` boots the real host in-process on port 0, with the
//! real components, against real Redis and Postgres, and gives each test its own world:
//!
//! - a fresh database, created from a template database that is migrated once per run;
//! - its own Redis key prefix (every component threads `key_prefix` into its key builder);
//! - small Postgres pools, so tests in parallel stay far below the server's connection limit;
//! - guest stdout/stderr captured, and printed if the test fails.
//!
//! Stores come from `URR_TEST_REDIS_URL` and `URR_TEST_DATABASE_URL` (an admin URL that may
//! create databases). Tests fail loudly when they are missing: a skipped store test proves nothing.
//! Tests that need a store to die use `PrivateRedis`, never the shared server.

pub mod google;
pub mod openapi;
pub mod private_redis;
pub mod spin;

use anyhow::{Context, Result};
use sqlx::Executor as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use urr_edge::{GuestOutput, HostConfig, RunningHost};

pub use openapi::{assert_conforms, assert_headers_conform, conforming};
pub use private_redis::PrivateRedis;

/// Postgres connections per address for a test host: enough for the concurrency tests, small
/// enough that dozens of parallel tests stay under the server's limit.
pub const TEST_PG_POOL_MAX: u32 = 3;

/// The single integer `sql` returns (a count), run on `conn`.
pub async fn count(conn: &mut sqlx::PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs `sql` on `conn` (connected as some role) and requires Postgres to refuse it for lack of
/// privilege: SQLSTATE 42501, not any other error.
pub async fn assert_permission_denied(conn: &mut sqlx::PgConnection, sql: &str) {
    let err = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(conn)
        .await
        .expect_err(sql);
    assert_eq!(
        err.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("42501"),
        "{sql}: {err}"
    );
}

/// The value of an unlabelled metric in Prometheus text.
pub fn metric(text: &str, name: &str) -> Option<i64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// The repository root (the tests crate lives one level below it).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set. End-to-end tests need real stores: run them with the README's test \
             command (scripts/test), or export {name} yourself."
        )
    })
}

/// The shared Redis server (never flushed, never reconfigured by tests).
pub fn redis_url() -> String {
    required_env("URR_TEST_REDIS_URL")
}

/// An admin URL of the shared Postgres server (may create and drop databases).
pub fn admin_database_url() -> String {
    required_env("URR_TEST_DATABASE_URL")
}

pub use urr_edge::database::{as_role, with_database};
pub use urr_edge::devstack::host_port;

/// The template every test database is copied from: migrated once per run (per migration set).
static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// Name of the template for the current migrations: a changed migration gets a new template.
fn template_name() -> Result<String> {
    let dir = repo_root().join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    files.sort();
    // FNV-1a over names and contents: stable across runs and machines.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.as_encoded_bytes().to_vec())
            .unwrap_or_default();
        for byte in name.into_iter().chain(std::fs::read(&file)?) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
        }
    }
    Ok(format!("urr_tmpl_{hash:016x}"))
}

/// Creates and migrates the template once, under a server-wide advisory lock so parallel test
/// binaries do not race; a half-built template from a crashed run is rebuilt.
async fn ensure_template() -> Result<String> {
    let admin_url = admin_database_url();
    let name = template_name()?;
    let building = format!("{name}_building");
    let mut admin = sqlx::PgConnection::connect_with_url(&admin_url).await?;
    admin.execute("SELECT pg_advisory_lock(7265022)").await?;
    let result = async {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)")
                .bind(&name)
                .fetch_one(&mut admin)
                .await?;
        if !exists {
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
                )))
                .await?;
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "CREATE DATABASE \"{building}\""
                )))
                .await?;
            urr_edge::database::bootstrap_roles(&mut admin, &building, &|_| None).await?;
            urr_edge::database::migrate(
                &with_database(&admin_url, &building),
                &repo_root().join("migrations"),
            )
            .await?;
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "ALTER DATABASE \"{building}\" RENAME TO \"{name}\""
                )))
                .await?;
        }
        anyhow::Ok(())
    }
    .await;
    admin.execute("SELECT pg_advisory_unlock(7265022)").await?;
    result.map(|()| name)
}

/// A fresh, uniquely named database copied from the migrated template, dropped (with FORCE) when
/// the guard drops.
pub struct TestDatabase {
    pub name: String,
    /// Superuser URL of the test database (fixtures and assertions).
    pub url: String,
    admin_url: String,
}

impl TestDatabase {
    pub async fn create() -> Result<Self> {
        let template = TEMPLATE.get_or_try_init(ensure_template).await?.clone();
        let admin_url = admin_database_url();
        let name = format!("urr_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect_with_url(&admin_url).await?;
        // Copies of one template can collide ("being accessed by other users"): retry briefly.
        let mut attempt = 0;
        loop {
            let create = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
            match admin.execute(sqlx::AssertSqlSafe(create)).await {
                Ok(_) => break,
                Err(e)
                    if attempt < 50
                        && e.as_database_error().and_then(|d| d.code()).as_deref()
                            == Some("55006") =>
                {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 + 10 * attempt)).await;
                }
                Err(e) => return Err(e).with_context(|| format!("creating test database {name}")),
            }
        }
        Ok(Self {
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        })
    }

    /// The URL a component role uses for this database.
    pub fn url_as(&self, role: &str) -> String {
        as_role(&self.url, role)
    }
}

trait ConnectWithUrl: Sized {
    async fn connect_with_url(url: &str) -> Result<Self>;
}

impl ConnectWithUrl for sqlx::PgConnection {
    async fn connect_with_url(url: &str) -> Result<Self> {
        use sqlx::Connection as _;
        sqlx::PgConnection::connect(url)
            .await
            .with_context(|| "connecting to URR_TEST_DATABASE_URL".to_string())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (name, admin_url) = (self.name.clone(), self.admin_url.clone());
        // Drop runs inside the test's runtime; do the async cleanup on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect_with_url(&admin_url).await {
                    let _ = admin
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        )))
                        .await;
                }
            });
        })
        .join();
    }
}

/// Deletes every key under a test's prefix (never a FLUSH).
pub async fn delete_prefixed_keys(redis_url: &str, prefix: &str) -> Result<()> {
    let client = redis::Client::open(redis_url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    urr_edge::devstack::delete_prefixed_keys(&mut conn, prefix).await?;
    Ok(())
}

/// A last adjustment of the host settings before boot.
pub type Configure = Box<dyn FnOnce(&mut HostConfig)>;

/// How to start a test host.
pub struct AppOptions {
    pub manifest: PathBuf,
    pub variables: Vec<(String, String)>,
    pub redis_url: Option<String>,
    /// Connect the components as this database role instead of the superuser.
    pub pg_role: Option<String>,
    pub configure: Option<Configure>,
    /// Why this test's answers are not held to the OpenAPI description (`None`: they are).
    pub off_spec: Option<&'static str>,
}

impl AppOptions {
    /// The host's own test application (the `fixture` and `health` components).
    pub fn fixture() -> Self {
        Self::manifest(repo_root().join("tests/fixtures/spin.toml"))
    }

    /// The application itself (spin.toml): every component, each connecting to the test
    /// database as its own role.
    pub fn application() -> Self {
        Self::manifest(repo_root().join("spin.toml"))
    }

    pub fn manifest(path: PathBuf) -> Self {
        Self {
            manifest: path,
            variables: Vec::new(),
            redis_url: None,
            pg_role: None,
            configure: None,
            off_spec: None,
        }
    }

    /// Do not check this test's answers against the OpenAPI description, and say why (a test
    /// that installs a deliberately broken function answers what no spec describes).
    pub fn off_spec(mut self, why: &'static str) -> Self {
        self.off_spec = Some(why);
        self
    }

    pub fn variable(mut self, name: &str, value: impl Into<String>) -> Self {
        self.variables.push((name.to_string(), value.into()));
        self
    }

    /// Point the application at another Redis (a `PrivateRedis` for outage tests).
    pub fn redis(mut self, url: &str) -> Self {
        self.redis_url = Some(url.to_string());
        self
    }

    pub fn pg_role(mut self, role: &str) -> Self {
        self.pg_role = Some(role.to_string());
        self
    }

    pub fn configure(mut self, f: impl FnOnce(&mut HostConfig) + 'static) -> Self {
        self.configure = Some(Box::new(f));
        self
    }

    /// Point `pay` and `payments` at a mock payment provider (its URL and keys).
    pub fn payment_provider(self, provider: &urr_mock_provider::MockProvider) -> Self {
        self.variable("provider_base_url", provider.url())
            .variable("provider_secret_key", provider.secret_key())
            .variable("provider_webhook_secret", provider.webhook_secret())
    }
}

pub use urr_mock_provider;

impl AppOptions {
    /// Turn Google sign-in on against a test key server (its JWKS URL and origin, and the test
    /// client id).
    pub fn google(self, keys: &google::GoogleKeyServer) -> Self {
        self.variable("google_client_id", google::CLIENT_ID)
            .variable("google_jwks_url", keys.url())
            .variable("google_jwks_origin", keys.origin())
    }
}

/// A running test host with its own database and key prefix.
pub struct TestApp {
    pub url: String,
    pub key_prefix: String,
    pub database: TestDatabase,
    pub client: reqwest::Client,
    pub output: Arc<Mutex<Vec<u8>>>,
    redis_url: String,
    host: Option<RunningHost>,
    /// The `spin up` serving this test instead of the in-process host (conformance runs).
    spin: Option<spin::SpinApp>,
    /// Every answer the application gave this test, checked against the OpenAPI description
    /// when the test ends (`None`: another manifest, which the spec does not describe).
    answers: Option<Arc<Mutex<Vec<urr_edge::Exchange>>>>,
}

impl TestApp {
    pub fn host(&self) -> &RunningHost {
        self.host.as_ref().unwrap_or_else(|| {
            panic!(
                "this test inspects the in-process host, which a Spin conformance run does not have"
            )
        })
    }

    /// Whether this test runs on `spin up` (a conformance run) rather than the in-process host.
    pub fn on_spin(&self) -> bool {
        self.spin.is_some()
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(format!("{}{path}", self.url))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(format!("{}{path}", self.url))
    }

    /// GET and parse a JSON body, returning (status, body).
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .get(path)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    /// `GET /metrics` on the host's metrics listener (the public one does not serve it), as text.
    pub async fn metrics(&self) -> String {
        let url = self.host().metrics_url().expect("a metrics listener");
        let response = self.client.get(url).send().await.expect("GET /metrics");
        assert_eq!(response.status(), 200, "GET /metrics");
        response.text().await.expect("metrics text")
    }

    /// The business counters Postgres keeps with each change (`reservations_created`, ...), as
    /// `/metrics` shows them (`urr_<name>_total`). Checks on the way that the admin dashboard's
    /// `counters` show exactly the same numbers, so one call covers both readers.
    pub async fn business_counters(&self) -> std::collections::BTreeMap<String, i64> {
        // On Spin there is no /metrics (the local host's): the dashboard's counters stand alone.
        if self.on_spin() {
            return self.dashboard_counters().await;
        }
        let text = self.metrics().await;
        assert_eq!(metric(&text, "urr_business_db_up"), Some(1), "{text}");
        let counters: std::collections::BTreeMap<String, i64> = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                let (name, value) = line.split_once(' ')?;
                let name = name.strip_prefix("urr_")?.strip_suffix("_total")?;
                Some((name.to_string(), value.trim().parse().ok()?))
            })
            .collect();
        assert!(
            counters.contains_key("reservations_created"),
            "no business counters on /metrics:\n{text}"
        );

        let shown = self.dashboard_counters().await;
        assert_eq!(
            shown, counters,
            "the dashboard (left) against /metrics (right)"
        );
        counters
    }

    /// The business counters the admin dashboard shows (`<group>_<what>` -> count).
    async fn dashboard_counters(&self) -> std::collections::BTreeMap<String, i64> {
        let admin = uuid::Uuid::new_v4().to_string();
        let token = mint_access_token(&admin, "admin@example.com", true, "counters");
        let response = self
            .get("/api/v1/admin/dashboard")
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /admin/dashboard");
        assert_eq!(response.status(), 200, "GET /admin/dashboard");
        let dashboard: serde_json::Value = response.json().await.expect("dashboard JSON");
        let mut shown = std::collections::BTreeMap::new();
        for (group, fields) in dashboard["counters"]
            .as_object()
            .expect("dashboard counters")
        {
            for (what, value) in fields.as_object().expect("a counter group") {
                shown.insert(format!("{group}_{what}"), value.as_i64().expect("a count"));
            }
        }
        shown
    }

    /// What the guests printed so far (on Spin: what it printed, then its component log files).
    pub fn guest_output(&self) -> String {
        let printed = self
            .output
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        match &self.spin {
            Some(spin) => printed + &spin.guest_logs(),
            None => printed,
        }
    }

    /// Stops the host gracefully (tests of shutdown); drop does the same without waiting.
    pub async fn stop(mut self) {
        if let Some(host) = self.host.take() {
            host.shutdown().await;
        }
        self.spin.take();
    }
}

/// Answers that are not what `docs/openapi.yaml` says, one line each (empty: all conform).
fn nonconforming(answers: &[urr_edge::Exchange]) -> Vec<String> {
    let spec = openapi::spec();
    answers
        .iter()
        .filter_map(|a| {
            spec.check_exchange(&a.method, &a.path, a.status, &a.headers, &a.body)
                .err()
                .map(|why| {
                    let body = String::from_utf8_lossy(&a.body);
                    let body: String = body.chars().take(300).collect();
                    format!(
                        "{} {} → {}: {why}\n    body: {body}",
                        a.method, a.path, a.status
                    )
                })
        })
        .collect()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- guest output of the failed test ----\n{}---- end of guest output ----",
                self.guest_output()
            );
        }
        let (redis_url, prefix) = (self.redis_url.clone(), self.key_prefix.clone());
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                let _ = rt.block_on(delete_prefixed_keys(&redis_url, &prefix));
            }
        })
        .join();
        // Last, so the keys are gone even when this fails the test.
        if let Some(answers) = self.answers.take()
            && !std::thread::panicking()
        {
            let answers = answers.lock().map(|a| a.clone()).unwrap_or_default();
            let wrong = nonconforming(&answers);
            assert!(
                wrong.is_empty(),
                "{} of this test's {} answers do not conform to {}:\n{}",
                wrong.len(),
                answers.len(),
                openapi::SPEC_PATH,
                wrong.join("\n")
            );
        }
    }
}

/// Boots the host's test application with fresh state.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::fixture()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    try_spawn_app(options)
        .await
        .unwrap_or_else(|e| panic!("spawning the test host failed: {e:#}"))
}

pub async fn try_spawn_app(options: AppOptions) -> Result<TestApp> {
    let shared_redis = redis_url();
    let redis_url = options.redis_url.unwrap_or_else(|| shared_redis.clone());
    let database = TestDatabase::create().await?;
    let key_prefix = format!("urrtest:{}", uuid::Uuid::new_v4().simple());
    let output = Arc::new(Mutex::new(Vec::new()));

    let mut config = HostConfig::new(&options.manifest);
    let described = options.manifest == repo_root().join("spin.toml") && options.off_spec.is_none();
    let answers = described.then(|| {
        let answers = Arc::new(Mutex::new(Vec::new()));
        let seen = answers.clone();
        config.response_tap = Some(urr_edge::ResponseTap(Arc::new(move |answer| {
            if let Ok(mut seen) = seen.lock() {
                seen.push(answer);
            }
        })));
        answers
    });
    config.listen = "127.0.0.1:0".into();
    config.stores.pg_pool_max = TEST_PG_POOL_MAX;
    config.guest_output = GuestOutput::Capture(output.clone());
    // Tests read the business counters right after the change they count: no scrape cache
    // (the cache's own test sets a window).
    config.metrics_cache = std::time::Duration::ZERO;
    // One compile cache for every test of the run: components compile once.
    config.compile_cache = Some(repo_root().join("target/urr-test-compile-cache"));
    config
        .variables
        .insert("redis_address".into(), redis_url.clone());
    config
        .variables
        .insert("redis_host".into(), host_port(&redis_url));
    let pg_address = options
        .pg_role
        .as_deref()
        .map_or_else(|| database.url.clone(), |role| database.url_as(role));
    config.variables.insert("pg_address".into(), pg_address);
    config
        .variables
        .insert("pg_host".into(), host_port(&database.url));
    config
        .variables
        .insert("key_prefix".into(), key_prefix.clone());
    // The application's manifest declares one `pg_address_<role>` per component role instead of
    // one `pg_address`: point each at this test's database as that role, so every component runs
    // with exactly the grants it has in production.
    // On Spin, Spin alone judges the manifest (this host's stricter reading must not refuse it
    // first): only the names of its variables are read here.
    let declared: std::collections::BTreeSet<String> = match spin::spin_cli() {
        Some(_) => spin::declared_variables(&options.manifest)?,
        None => urr_edge::manifest::Manifest::load(&options.manifest)?
            .variables
            .into_keys()
            .collect(),
    };
    if !declared.contains("pg_address") {
        config.variables.remove("pg_address");
    }
    for role in urr_edge::database::DATABASE_ROLES {
        let name = format!("pg_address_{}", role.trim_start_matches("urr_"));
        if declared.contains(&name) {
            config.variables.insert(name, database.url_as(role));
        }
    }
    // Tests pay through the mock provider, whose published secrets only development mode takes
    // (a test of the refusal turns it off again).
    if declared.contains(urr_payments::development::DEVELOPMENT_MODE_VARIABLE) {
        config.variables.insert(
            urr_payments::development::DEVELOPMENT_MODE_VARIABLE.into(),
            "true".into(),
        );
    }
    // Session keys: this run's own key pair, wherever the manifest asks for them.
    if declared.contains("jwt_public_keys") {
        let key = test_signing_key();
        config
            .variables
            .insert("jwt_public_keys".into(), key.public_entry());
        config
            .variables
            .insert("jwt_signing_key".into(), key.to_pem());
        config
            .variables
            .insert("jwt_signing_kid".into(), key.kid().to_string());
    }
    // Queue entry-token keys: the queue's own pair, like the session keys above.
    if declared.contains("queue_signing_key") || declared.contains("queue_public_keys") {
        let key = test_queue_key();
        for (name, value) in [
            ("queue_signing_key", key.to_pem()),
            ("queue_signing_kid", key.kid().to_string()),
            ("queue_public_keys", key.public_entry()),
        ] {
            if declared.contains(name) {
                config.variables.insert(name.into(), value);
            }
        }
    }
    for (name, value) in options.variables {
        config.variables.insert(name, value);
    }
    if let Some(configure) = options.configure {
        configure(&mut config);
    }
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    // A conformance run: the same application and variables, served by Spin (host settings and
    // the response tap are the in-process host's own; `spin.rs` says what that leaves out).
    if let Some(cli) = spin::spin_cli() {
        let app = spin::start(&cli, &options.manifest, &config.variables, output.clone()).await?;
        return Ok(TestApp {
            url: app.url.clone(),
            key_prefix,
            database,
            client,
            output,
            redis_url,
            host: None,
            spin: Some(app),
            answers: None,
        });
    }
    let host = urr_edge::start(config).await?;
    Ok(TestApp {
        url: host.url(),
        key_prefix,
        database,
        client,
        output,
        redis_url,
        host: Some(host),
        spin: None,
        answers,
    })
}

/// This run's session signing key (tests mint their own; nothing is read from `.urr/keys`).
pub fn test_signing_key() -> &'static urr_tokens::SigningKey {
    static KEY: std::sync::OnceLock<urr_tokens::SigningKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let kid = format!("test-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        urr_tokens::SigningKey::generate(&kid)
            .unwrap_or_else(|e| panic!("generating the test signing key: {e}"))
    })
}

/// An access token the application accepts, for `user_id` in refresh family `family_id`.
pub fn mint_access_token(user_id: &str, email: &str, admin: bool, family_id: &str) -> String {
    let role = if admin {
        urr_tokens::Role::Admin
    } else {
        urr_tokens::Role::User
    };
    urr_tokens::mint_access(test_signing_key(), user_id, email, role, family_id)
        .unwrap_or_else(|e| panic!("minting a test token: {e}"))
}

/// A token with exactly this header and these claims, signed by the test key (the negative
/// matrix needs tokens no well-behaved issuer would produce).
pub fn sign_claims(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    test_signing_key().sign_raw(&header.to_string(), &claims.to_string())
}

/// Valid access-token claims for `user_id` (issued now, 10 minutes left), to be bent by a test.
pub fn access_claims(user_id: &str, family_id: &str) -> serde_json::Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    serde_json::json!({
        "sub": user_id, "email": "someone@example.com", "role": "user", "typ": "access",
        "fid": family_id, "jti": uuid::Uuid::new_v4().to_string(),
        "iss": urr_tokens::ISSUER, "aud": urr_tokens::AUDIENCE,
        "iat": now, "nbf": now, "exp": now + 600,
    })
}

/// The JWT header the application's tokens carry.
pub fn access_header() -> serde_json::Value {
    serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": test_signing_key().kid()})
}

/// This run's queue entry-token key (the queue components' own, distinct from the session key).
pub fn test_queue_key() -> &'static urr_tokens::SigningKey {
    static KEY: std::sync::OnceLock<urr_tokens::SigningKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let kid = format!(
            "queue-test-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        urr_tokens::SigningKey::generate(&kid)
            .unwrap_or_else(|e| panic!("generating the test queue key: {e}"))
    })
}

/// The public set (`queue_public_keys`) that verifies [`test_queue_key`]'s entry tokens.
pub fn test_queue_public_keys() -> urr_tokens::KeySet {
    urr_tokens::KeySet::parse(&test_queue_key().public_entry())
        .unwrap_or_else(|e| panic!("parsing the test queue key set: {e}"))
}

/// An entry token the application accepts: `user_id` admitted to `event_id` (as if by the queue).
pub fn mint_entry_token(user_id: &str, event_id: &str) -> String {
    urr_tokens::mint_entry(test_queue_key(), user_id, event_id)
        .unwrap_or_else(|e| panic!("minting a test entry token: {e}"))
}

/// Puts `user_id` in the active set of `event_id`'s waiting room for ten minutes, as the queue
/// does when it admits someone (`<prefix>:queue:{evt:<event>}:active`, score = slot expiry ms).
pub async fn admit_to_event(app: &TestApp, user_id: &str, event_id: &str) {
    let client =
        redis::Client::open(app.redis_url.as_str()).unwrap_or_else(|e| panic!("redis client: {e}"));
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("redis: {e}"));
    let until_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
        + 600_000;
    let key = format!("{}:queue:{{evt:{event_id}}}:active", app.key_prefix);
    redis::cmd("ZADD")
        .arg(&key)
        .arg(until_ms)
        .arg(user_id)
        .query_async::<i64>(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("ZADD {key}: {e}"));
}
