//! The local store stack behind `urr-edge up` with no configuration: use the Redis and PostgreSQL
//! that answer on their standard loopback ports, else start private ones (Debian's binaries;
//! postgres as the `postgres` user, never root) with data under `.urr/` on free loopback ports,
//! and stop them on exit. Then create the database, bootstrap the roles and migrate.
//!
//! A packaged PostgreSQL often wants a password over TCP and lets only the `postgres` OS user in
//! through its local socket (Debian's defaults). Then `up` uses that socket once, as `postgres`,
//! to give itself a development superuser with a generated password, and gives every component
//! role a generated password too (components reach Postgres over TCP). The passwords are kept
//! in `.urr/pg-passwords` (mode 0600) and reused on later runs.

use crate::database;
use anyhow::{Context, Result, bail};
use sqlx::Connection as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The application database `up` creates and serves.
pub const DATABASE_NAME: &str = "urr";
/// How long a private server may take to start answering.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Where Debian's PostgreSQL server puts its socket.
const PACKAGED_SOCKET_DIR: &str = "/var/run/postgresql";
/// The standard PostgreSQL port on loopback.
const STANDARD_PG_PORT: u16 = 5432;
/// The development superuser `up` creates through the local socket when TCP needs a password.
pub const DEV_ADMIN_ROLE: &str = "urr_dev_admin";

/// Private servers started by `up`; dropping this stops them.
#[derive(Default)]
pub struct LocalStack {
    pub redis_url: String,
    /// Admin URL (a superuser on the `postgres` database).
    pub admin_url: String,
    /// Component role passwords `up` generated (empty when the server trusts loopback).
    pub role_passwords: BTreeMap<String, String>,
    redis: Option<Child>,
    postgres_data: Option<(PathBuf, PathBuf)>,
}

impl LocalStack {
    /// The password to give `role`: the generated one, else the operator's
    /// `URR_ROLE_PASSWORD_<ROLE>`, else none (trust auth).
    pub fn role_password(&self, role: &str) -> Option<String> {
        self.role_passwords
            .get(role)
            .cloned()
            .or_else(|| std::env::var(database::password_env(role)).ok())
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        if let Some(mut redis) = self.redis.take() {
            let _ = redis.kill();
            let _ = redis.wait();
            tracing::info!("stopped the private redis-server");
        }
        if let Some((bin, data)) = self.postgres_data.take() {
            let _ = postgres_command(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .args(["stop", "-m", "fast", "-w"])
                .stdout(Stdio::null())
                .status();
            tracing::info!("stopped the private postgres");
        }
    }
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub fn wait_for_port(port: u16, what: &str) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < START_TIMEOUT {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{what} did not start listening on port {port} within {START_TIMEOUT:?}")
}

async fn redis_answers(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let ping = async {
        let mut conn = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .ok()
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), ping).await,
        Ok(Some(_))
    )
}

async fn postgres_answers(url: &str) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(3), sqlx::PgConnection::connect(url)).await,
        Ok(Ok(_))
    )
}

/// The newest PostgreSQL server binaries Debian installed (`/usr/lib/postgresql/<version>/bin`).
pub fn postgres_bin() -> Result<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL server binaries not found (install Debian's postgresql package; scripts/up does)")?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort();
    found
        .pop()
        .context("no initdb under /usr/lib/postgresql/*/bin")
}

/// Runs a PostgreSQL server binary as the `postgres` user when we are root (postgres refuses root).
fn postgres_command(binary: &Path) -> Command {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    if is_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(binary);
        c
    } else {
        Command::new(binary)
    }
}

/// Starts `redis-server` on loopback `port`, keeping nothing on disk, and waits until it listens.
pub fn spawn_redis(port: u16, dir: &Path) -> Result<Child> {
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context(
            "starting redis-server (install Debian's redis-server package; scripts/up does)",
        )?;
    if let Err(e) = wait_for_own_redis(port, &mut child) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    Ok(child)
}

/// Waits until the redis-server `child` itself answers on `port`. Ports are picked free, then
/// released: another server (another test's private one) may have been handed the same port, and
/// an answer from it must not pass for ours. Redis reports its `process_id` in `INFO server`.
pub fn wait_for_own_redis(port: u16, child: &mut Child) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < START_TIMEOUT {
        if let Some(status) = child.try_wait()? {
            bail!("redis-server exited ({status}) before serving on port {port} (port in use?)");
        }
        match redis_process_id(port) {
            Some(pid) if pid == child.id() => return Ok(()),
            Some(pid) => bail!("port {port} in use: redis-server pid {pid} answers there"),
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    bail!("redis-server did not start listening on port {port} within {START_TIMEOUT:?}")
}

/// The `process_id` of the Redis answering on loopback `port`, if one answers.
fn redis_process_id(port: u16) -> Option<u32> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    stream.write_all(b"INFO server\r\n").ok()?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    // The reply is one bulk string of a few KB; read until the field is in it.
    while reply.len() < 64 * 1024 {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&reply);
        if let Some(pid) = text
            .lines()
            .find_map(|l| l.strip_prefix("process_id:"))
            .and_then(|v| v.trim().parse().ok())
        {
            return Some(pid);
        }
    }
    None
}

pub fn start_private_redis(state: &Path) -> Result<(Child, String)> {
    let dir = state.join("redis");
    std::fs::create_dir_all(&dir)?;
    let port = free_port()?;
    tracing::info!(
        "no Redis on 127.0.0.1:6379: starting a private redis-server on port {port} (.urr/redis)"
    );
    let child = spawn_redis(port, &dir)?;
    Ok((child, format!("redis://127.0.0.1:{port}")))
}

pub fn start_private_postgres(state: &Path) -> Result<(PathBuf, PathBuf, String)> {
    let bin = postgres_bin()?;
    let dir = state.join("pg");
    let data = dir.join("data");
    std::fs::create_dir_all(&dir)?;
    // The server runs as `postgres`: it must own its directory and reach it.
    let _ = Command::new("chown")
        .args(["-R", "postgres"])
        .arg(&dir)
        .status();
    let _ = Command::new("chmod").args(["o+x"]).arg(state).status();
    if !data.join("PG_VERSION").exists() {
        let status = postgres_command(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "--no-sync"])
            .stdout(Stdio::null())
            .status()
            .context("running initdb")?;
        if !status.success() {
            bail!("initdb failed ({status})");
        }
    }
    let port = free_port()?;
    tracing::info!(
        "no usable PostgreSQL on 127.0.0.1:5432: starting a private one on port {port} (.urr/pg)"
    );
    let status = postgres_command(&bin.join("pg_ctl"))
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("postgres.log"))
        .arg("-o")
        .arg(format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            dir.display()
        ))
        .args(["-w", "start"])
        .stdout(Stdio::null())
        .status()
        .context("running pg_ctl start")?;
    if !status.success() {
        bail!("postgres did not start ({status}); see .urr/pg/postgres.log");
    }
    Ok((
        bin,
        data,
        format!("postgres://postgres@127.0.0.1:{port}/postgres"),
    ))
}

impl LocalStack {
    /// Takes ownership of private servers so that dropping the stack stops them.
    pub fn owning(redis: Option<Child>, postgres: Option<(PathBuf, PathBuf)>) -> Self {
        Self {
            redis_url: String::new(),
            admin_url: String::new(),
            role_passwords: BTreeMap::new(),
            redis,
            postgres_data: postgres,
        }
    }
}

/// Finds or starts Redis and PostgreSQL. `redis_url`/`admin_url` given by the operator win.
pub async fn start(
    state: &Path,
    redis_url: Option<String>,
    admin_url: Option<String>,
) -> Result<LocalStack> {
    std::fs::create_dir_all(state)?;
    let mut stack = LocalStack::default();
    stack.redis_url = match redis_url {
        Some(url) => url,
        None if redis_answers("redis://127.0.0.1:6379").await => {
            "redis://127.0.0.1:6379".to_string()
        }
        None => {
            let (child, url) = start_private_redis(state)?;
            stack.redis = Some(child);
            url
        }
    };
    stack.admin_url = match admin_url {
        Some(url) => url,
        None if postgres_answers("postgres://postgres@127.0.0.1:5432/postgres").await => {
            "postgres://postgres@127.0.0.1:5432/postgres".to_string()
        }
        None => {
            let packaged = if port_listens(STANDARD_PG_PORT) {
                provision_over_socket(state, Path::new(PACKAGED_SOCKET_DIR), STANDARD_PG_PORT)
                    .await
                    .inspect_err(|e| {
                        tracing::info!("PostgreSQL on 127.0.0.1:5432 is not usable: {e:#}")
                    })
                    .ok()
            } else {
                None
            };
            match packaged {
                Some((url, passwords)) => {
                    stack.role_passwords = passwords;
                    url
                }
                None => {
                    let (bin, data, url) = start_private_postgres(state)?;
                    stack.postgres_data = Some((bin, data));
                    url
                }
            }
        }
    };
    Ok(stack)
}

fn port_listens(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(1),
    )
    .is_ok()
}

/// Generated passwords, one per name, kept in `file` (mode 0600) and reused on later runs.
fn load_or_generate_passwords(file: &Path, names: &[&str]) -> Result<BTreeMap<String, String>> {
    let mut passwords: BTreeMap<String, String> = match std::fs::read_to_string(file) {
        Ok(text) => text
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    let before = passwords.len();
    for name in names {
        passwords
            .entry((*name).to_string())
            // Hex only: safe in a URL and in a SQL literal without escaping.
            .or_insert_with(|| uuid::Uuid::new_v4().simple().to_string());
    }
    if passwords.len() != before {
        let text: String = passwords
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        std::fs::write(file, text).with_context(|| format!("writing {}", file.display()))?;
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(passwords)
}

/// Uses the server's local socket in `socket_dir` as the `postgres` user (`psql`, run as that OS
/// user when we are root) to create or update the development superuser with its generated
/// password. Returns a TCP admin URL for it and the component roles' passwords (set later by
/// the role bootstrap).
pub async fn provision_over_socket(
    state: &Path,
    socket_dir: &Path,
    port: u16,
) -> Result<(String, BTreeMap<String, String>)> {
    if !socket_dir.join(format!(".s.PGSQL.{port}")).exists() {
        bail!("no local socket in {}", socket_dir.display());
    }
    std::fs::create_dir_all(state)?;
    let mut names = vec![DEV_ADMIN_ROLE];
    names.extend(database::DATABASE_ROLES);
    let mut passwords = load_or_generate_passwords(&state.join("pg-passwords"), &names)?;
    let admin_password = passwords
        .remove(DEV_ADMIN_ROLE)
        .context("no development admin password")?;
    let sql = format!(
        "DO $$ BEGIN \
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DEV_ADMIN_ROLE}') THEN \
             CREATE ROLE {DEV_ADMIN_ROLE} LOGIN SUPERUSER; \
           END IF; \
         END $$;\n\
         ALTER ROLE {DEV_ADMIN_ROLE} LOGIN SUPERUSER PASSWORD '{admin_password}';\n"
    );
    let psql = postgres_bin()?.join("psql");
    let mut child = postgres_command(&psql)
        .arg("-h")
        .arg(socket_dir)
        .args(["-p", &port.to_string(), "-U", "postgres", "-d", "postgres"])
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("running psql")?;
    // The password goes through stdin, never the command line (other users can read that).
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write as _;
        stdin.write_all(sql.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "psql as postgres through {} failed: {}",
            socket_dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let url = format!("postgres://{DEV_ADMIN_ROLE}:{admin_password}@127.0.0.1:{port}/postgres");
    if !postgres_answers(&url).await {
        bail!("the development superuser cannot log in over TCP on port {port}");
    }
    tracing::info!(
        "PostgreSQL on 127.0.0.1:{port} wants passwords: using the development superuser \
         {DEV_ADMIN_ROLE} (passwords in .urr/pg-passwords)"
    );
    Ok((url, passwords))
}

/// Deletes every Redis key under `prefix` (SCAN + DEL of those keys only; never a FLUSH, so a
/// shared server is safe). Returns how many keys were deleted.
pub async fn delete_prefixed_keys(
    conn: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
) -> Result<usize> {
    let keys: Vec<String> = {
        let mut iter: redis::AsyncIter<String> =
            redis::AsyncCommands::scan_match(conn, format!("{prefix}:*")).await?;
        let mut keys = Vec::new();
        while let Some(key) = iter.next_item().await {
            keys.push(key?);
        }
        keys
    };
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL").arg(&keys).query_async(conn).await?;
    }
    Ok(keys.len())
}

/// `host:port` of a store URL, for allowed_outbound_hosts.
pub fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_string()
}

/// The variables that point every component at the local stack (operator overrides win later).
pub fn store_variables(
    stack: &LocalStack,
    declared: &BTreeMap<String, crate::variables::VariableDecl>,
) -> BTreeMap<String, String> {
    let app_url = database::with_database(&stack.admin_url, DATABASE_NAME);
    let mut vars = BTreeMap::new();
    let mut set = |name: &str, value: String| {
        if declared.contains_key(name) {
            vars.insert(name.to_string(), value);
        }
    };
    set("redis_address", stack.redis_url.clone());
    set("redis_host", host_port(&stack.redis_url));
    set("pg_host", host_port(&stack.admin_url));
    for role in database::DATABASE_ROLES {
        let suffix = role.trim_start_matches("urr_");
        let url = database::as_role(&app_url, role);
        let url = match stack.role_passwords.get(role) {
            Some(password) => {
                url.replacen(&format!("://{role}@"), &format!("://{role}:{password}@"), 1)
            }
            None => url,
        };
        set(&format!("pg_address_{suffix}"), url);
    }
    vars
}

/// The development payment provider (`urr-mock-provider`, beside this binary) that `up` starts
/// when the application would talk to the default provider URL and nothing answers there, so a
/// fresh local system can pay. Dropping this stops it.
pub struct PaymentMock {
    child: Child,
    pub address: std::net::SocketAddr,
}

impl Drop for PaymentMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        tracing::info!("stopped the development payment provider");
    }
}

/// Where `up` would start the payment mock: the loopback `http://` address of the manifest's
/// default `provider_base_url`, unless the operator set `provider_base_url` (a real provider,
/// or a mock of their own, wins).
pub fn payment_mock_address(
    variables: &BTreeMap<String, String>,
    declared: &BTreeMap<String, crate::variables::VariableDecl>,
) -> Option<std::net::SocketAddr> {
    if variables.contains_key("provider_base_url") {
        return None;
    }
    let url = declared.get("provider_base_url")?.default.as_deref()?;
    let authority = url.strip_prefix("http://")?.trim_end_matches('/');
    let addr: std::net::SocketAddr = authority.parse().ok()?;
    addr.ip().is_loopback().then_some(addr)
}

/// Starts the payment mock for `up` when [`payment_mock_address`] names an address where nothing
/// answers yet, with the keys the application will use and webhooks to the host on `listen`.
/// Never fails `up`: without the binary it says how to build it (payments then answer 502
/// `provider_unavailable`, as with any provider that is down).
/// The payments the local database holds as captured, as the provider would describe them: the
/// development mock is started with them (`--history`), so a refund of a sale made before this
/// `up` (or of the demo history) reaches a provider that knows the payment.
pub async fn captured_payments(
    database_url: &str,
) -> Result<Vec<urr_payments::provider::PaymentObject>> {
    let mut conn = sqlx::PgConnection::connect(database_url).await?;
    let rows: Vec<(String, String, i32, Option<String>)> = sqlx::query_as(
        "SELECT order_id, payment_key, coalesce(captured_amount, amount), method FROM payments \
          WHERE status = 'confirmed' AND payment_key IS NOT NULL",
    )
    .fetch_all(&mut conn)
    .await
    .context("reading the captured payments for the development provider")?;
    conn.close().await?;
    Ok(rows
        .into_iter()
        .map(
            |(order_id, payment_key, amount, method)| urr_payments::provider::PaymentObject {
                payment_key,
                order_id,
                amount,
                status: "DONE".into(),
                approved_at: None,
                method,
            },
        )
        .collect())
}

/// Starts the development payment provider when `provider_base_url` points at a free loopback
/// address, remembering `captured` (earlier captures it must be able to refund).
pub fn start_payment_mock(
    variables: &BTreeMap<String, String>,
    declared: &BTreeMap<String, crate::variables::VariableDecl>,
    listen: &str,
    state: &Path,
    captured: &[urr_payments::provider::PaymentObject],
) -> Option<PaymentMock> {
    let address = payment_mock_address(variables, declared)?;
    if std::net::TcpStream::connect_timeout(&address, Duration::from_millis(300)).is_ok() {
        tracing::info!("a payment provider already answers on {address}: using it");
        return None;
    }
    let binary = std::env::current_exe()
        .ok()?
        .with_file_name("urr-mock-provider");
    if !binary.exists() {
        tracing::warn!(
            "no payment provider on {address} and no {} (build it: cargo build --release -p \
             urr-mock-provider; scripts/up does): payments will answer 502",
            binary.display()
        );
        return None;
    }
    // The keys the application resolves: an operator override, else the manifest's default.
    let value = |name: &str| {
        variables
            .get(name)
            .cloned()
            .or_else(|| declared.get(name)?.default.clone())
    };
    let mut command = Command::new(&binary);
    command.arg("--listen").arg(address.to_string());
    if let Some(port) = listen
        .rsplit_once(':')
        .map(|(_, p)| p)
        .filter(|p| *p != "0")
    {
        command
            .arg("--webhook-url")
            .arg(format!("http://127.0.0.1:{port}/api/v1/payments/webhook"));
    }
    if let Some(key) = value("provider_secret_key") {
        command.env("URR_MOCK_PROVIDER_SECRET_KEY", key);
    }
    if let Some(secret) = value("provider_webhook_secret") {
        command.env("URR_MOCK_PROVIDER_WEBHOOK_SECRET", secret);
    }
    let history = state.join("mock-provider-history.json");
    match serde_json::to_vec(captured).map(|json| std::fs::write(&history, json)) {
        Ok(Ok(())) => {
            command.arg("--history").arg(&history);
        }
        Ok(Err(e)) => tracing::warn!(
            "cannot write {}: earlier captures cannot be refunded: {e}",
            history.display()
        ),
        Err(e) => tracing::warn!("earlier captures cannot be refunded: {e}"),
    }
    let log = state.join("mock-provider.log");
    let output = std::fs::File::create(&log).and_then(|f| Ok((f.try_clone()?, f)));
    let Ok((stdout, stderr)) = output else {
        tracing::warn!(
            "cannot write {}: not starting the payment mock",
            log.display()
        );
        return None;
    };
    let child = command
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn();
    let mut mock = match child {
        Ok(child) => PaymentMock { child, address },
        Err(e) => {
            tracing::warn!("starting {}: {e}", binary.display());
            return None;
        }
    };
    if let Err(e) = wait_for_port(address.port(), "the payment mock") {
        tracing::warn!("{e:#} (log: {})", log.display());
        let _ = mock.child.kill();
        return None;
    }
    tracing::info!(
        "no payment provider on {address}: started the development mock (log {})",
        log.display()
    );
    Some(mock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_variables_point_each_role_at_the_app_database() {
        let stack = LocalStack {
            redis_url: "redis://127.0.0.1:7000".into(),
            admin_url: "postgres://postgres@127.0.0.1:6543/postgres".into(),
            role_passwords: [("urr_catalog".to_string(), "s3cr3t".to_string())].into(),
            redis: None,
            postgres_data: None,
        };
        let decl = crate::variables::VariableDecl {
            default: Some(String::new()),
            required: false,
            secret: false,
        };
        let declared: BTreeMap<String, _> = [
            "redis_address",
            "redis_host",
            "pg_host",
            "pg_address_health",
            "pg_address_catalog",
        ]
        .iter()
        .map(|n| (n.to_string(), decl.clone()))
        .collect();
        let vars = store_variables(&stack, &declared);
        assert_eq!(vars["redis_host"], "127.0.0.1:7000");
        assert_eq!(vars["pg_host"], "127.0.0.1:6543");
        assert_eq!(
            vars["pg_address_health"],
            "postgres://urr_health@127.0.0.1:6543/urr"
        );
        assert_eq!(
            vars["pg_address_catalog"], "postgres://urr_catalog:s3cr3t@127.0.0.1:6543/urr",
            "a generated role password goes into that role's URL"
        );
        assert!(
            !vars.contains_key("pg_address_admin"),
            "only declared variables are set"
        );
    }

    fn declared_provider(url: &str) -> BTreeMap<String, crate::variables::VariableDecl> {
        let decl = crate::variables::VariableDecl {
            default: Some(url.to_string()),
            required: false,
            secret: false,
        };
        [("provider_base_url".to_string(), decl)].into()
    }

    #[test]
    fn the_payment_mock_serves_only_the_default_loopback_provider() {
        let declared = declared_provider("http://127.0.0.1:4010");
        assert_eq!(
            payment_mock_address(&BTreeMap::new(), &declared),
            Some("127.0.0.1:4010".parse().expect("address"))
        );
        let overridden: BTreeMap<String, String> = [(
            "provider_base_url".to_string(),
            "https://api.provider.example".to_string(),
        )]
        .into();
        assert_eq!(payment_mock_address(&overridden, &declared), None);
        for url in [
            "https://api.provider.example",
            "http://10.0.0.5:4010",
            "http://127.0.0.1",
        ] {
            assert_eq!(
                payment_mock_address(&BTreeMap::new(), &declared_provider(url)),
                None,
                "{url}"
            );
        }
        assert_eq!(
            payment_mock_address(&BTreeMap::new(), &BTreeMap::new()),
            None
        );
    }
}
