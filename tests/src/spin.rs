//! The conformance mode of the harness: with `URR_TEST_SPIN` naming a Spin CLI (4.1 or later),
//! `spawn_app_with` runs each test's application on `spin up` instead of the in-process host —
//! the same manifest, the same built components, the same fresh database and Redis key prefix,
//! the same variables (through Spin's environment provider, `SPIN_VARIABLE_<NAME>`).
//!
//! One Spin process per test, so every test keeps its own world and its own variables (a mock
//! payment provider's URL, a rate limit, a private Redis). Spin's Postgres client negotiates TLS
//! by default: loopback addresses get `sslmode=disable`. Guest output is Spin's stdout/stderr,
//! captured like the in-process host's, and its per-component log files in the instance's folder.
//!
//! What only the in-process host has (its settings, `/metrics`, its response tap) is not here:
//! a test that needs it is listed, with its reason, in `tests/spin-exclusions.txt`.

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The environment variable naming the Spin CLI; unset, tests run on the in-process host.
pub const SPIN_ENV: &str = "URR_TEST_SPIN";
/// How long a `spin up` may take to answer its first request (it compiles the components the
/// first time; later boots load them from Wasmtime's cache).
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);
/// How often boot is polled.
const BOOT_POLL: Duration = Duration::from_millis(50);
/// Boots retried when the chosen port was taken in between (ports are picked, then released).
const BOOT_ATTEMPTS: u32 = 3;
/// The `spin up` settings production runs with (one list, in the host's Spin module).
pub use urr_edge::spin_cli::PRODUCTION_FLAGS;

/// The Spin CLI to run the applications on, when the conformance run asked for one.
pub fn spin_cli() -> Option<PathBuf> {
    std::env::var_os(SPIN_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The application variables a manifest declares, read without judging the rest of it.
pub fn declared_variables(manifest: &Path) -> Result<std::collections::BTreeSet<String>> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let parsed: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not TOML", manifest.display()))?;
    Ok(parsed
        .get("variables")
        .and_then(toml::Value::as_table)
        .map(|vars| vars.keys().cloned().collect())
        .unwrap_or_default())
}

/// A `spin up` serving one test's application; killed when dropped.
pub struct SpinApp {
    pub url: String,
    /// `spin up`, until it has exited and been reaped.
    child: Option<Child>,
    /// Spin's state and log folder for this instance, removed with it.
    state: PathBuf,
}

impl SpinApp {
    /// What the components printed: Spin writes it to `<component>_stdout.txt` and
    /// `<component>_stderr.txt` in the log folder.
    pub fn guest_logs(&self) -> String {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.state)
            .map(|dir| {
                dir.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "txt"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .filter_map(|f| {
                let text = std::fs::read_to_string(f).ok()?;
                let name = f.file_name()?.to_string_lossy().into_owned();
                (!text.is_empty()).then(|| format!("[{name}]\n{text}"))
            })
            .collect()
    }
}

impl Drop for SpinApp {
    fn drop(&mut self) {
        // The group: `spin up` and the trigger process it started.
        if let Some(child) = self.child.as_mut() {
            urr_edge::spin_cli::stop(child);
        }
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

pub use urr_edge::spin_cli::without_tls;

/// Copies a child's output, as it arrives, into each of `into` (the test's captured output, and
/// the boot log that explains a failed boot).
fn capture(mut from: impl std::io::Read + Send + 'static, into: Vec<Arc<Mutex<Vec<u8>>>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            for sink in &into {
                if let Ok(mut out) = sink.lock() {
                    out.extend_from_slice(&buf[..n]);
                }
            }
        }
    });
}

/// Starts `spin up` for `manifest` with `variables` and waits until it answers HTTP.
pub async fn start(
    spin: &Path,
    manifest: &Path,
    variables: &BTreeMap<String, String>,
    output: Arc<Mutex<Vec<u8>>>,
) -> Result<SpinApp> {
    let mut last = None;
    for _ in 0..BOOT_ATTEMPTS {
        match start_once(spin, manifest, variables, output.clone()).await {
            Ok(app) => return Ok(app),
            Err(e) if format!("{e:#}").contains("in use") => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("spin up did not start")))
}

async fn start_once(
    spin: &Path,
    manifest: &Path,
    variables: &BTreeMap<String, String>,
    output: Arc<Mutex<Vec<u8>>>,
) -> Result<SpinApp> {
    let port = urr_edge::devstack::free_port()?;
    start_on(spin, manifest, variables, output, port).await
}

/// Starts `spin up` listening on loopback `port` and waits until *it* serves there: an error
/// when another server holds the port (Spin then exits, "already in use").
pub async fn start_on(
    spin: &Path,
    manifest: &Path,
    variables: &BTreeMap<String, String>,
    output: Arc<Mutex<Vec<u8>>>,
    port: u16,
) -> Result<SpinApp> {
    let listen = format!("127.0.0.1:{port}");
    // Unique per boot: two tests that were handed the same port must never share (and then
    // remove) one state folder.
    let state = std::env::temp_dir().join(format!(
        "urr-spin-{port}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let mut command = urr_edge::spin_cli::up_command(
        spin,
        manifest,
        &listen,
        &state,
        variables.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", spin.display()))?;
    let boot_log = Arc::new(Mutex::new(Vec::new()));
    if let Some(stdout) = child.stdout.take() {
        capture(stdout, vec![output.clone(), boot_log.clone()]);
    }
    if let Some(stderr) = child.stderr.take() {
        capture(stderr, vec![output, boot_log.clone()]);
    }
    let app = SpinApp {
        url: format!("http://{listen}"),
        child: Some(child),
        state,
    };
    wait_until_serving(app, boot_log).await
}

async fn wait_until_serving(mut app: SpinApp, log: Arc<Mutex<Vec<u8>>>) -> Result<SpinApp> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let started = Instant::now();
    loop {
        let exited = match app.child.as_mut() {
            Some(child) => child.try_wait()?,
            None => None,
        };
        if let Some(status) = exited {
            // Reaped: its trigger may live on (keeping the group id reserved); kill the group
            // now and never by this pid again.
            if let Some(child) = app.child.take() {
                urr_edge::spin_cli::kill_group(child.id());
            }
            // Give the output threads a moment to copy the last lines.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let log = log
                .lock()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default();
            bail!("spin up exited ({status}) before serving:\n{log}");
        }
        // Spin prints `Serving <url>` once *its own* listener is bound. Until then an answer on
        // the port may come from another test's Spin that was handed the same free port (ports
        // are picked, then released): that test's world, not ours. After it, any HTTP answer
        // (a 404 for `/` included) means our trigger is serving.
        let bound = log
            .lock()
            .map(|l| serving_line_seen(&l, &app.url))
            .unwrap_or(false);
        if bound && client.get(format!("{}/", app.url)).send().await.is_ok() {
            return Ok(app);
        }
        if started.elapsed() > BOOT_TIMEOUT {
            bail!("spin up did not answer within {BOOT_TIMEOUT:?}");
        }
        tokio::time::sleep(BOOT_POLL).await;
    }
}

/// Whether Spin's output holds its `Serving <url>` line for exactly `url` (printed after bind).
fn serving_line_seen(output: &[u8], url: &str) -> bool {
    let serving = format!("Serving {url}");
    String::from_utf8_lossy(output)
        .lines()
        .any(|line| line.trim() == serving)
}

#[cfg(test)]
mod tests {
    use super::serving_line_seen;

    #[test]
    fn only_our_own_serving_line_counts() {
        let url = "http://127.0.0.1:37127";
        assert!(serving_line_seen(
            b"Logging component stdio to \"/tmp/x/\"\n\nServing http://127.0.0.1:37127\nAvailable Routes:\n",
            url
        ));
        assert!(!serving_line_seen(b"Logging component stdio\n", url));
        assert!(!serving_line_seen(
            b"Serving http://127.0.0.1:371270\n",
            url
        ));
        assert!(!serving_line_seen(
            b"Error: 127.0.0.1:37127 is already in use.\n",
            url
        ));
    }
}
