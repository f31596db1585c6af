//! Running the same application on the real Spin CLI, next to `urr-edge`: the conformance run of
//! the end-to-end tests (`tests/src/spin.rs`) and the runtime comparison of the benchmarks
//! (`tools/bench`) start `spin up` the one way written here, with the flags production uses.
//!
//! Spin is a test and measuring tool for this project, never a dependency: nothing here runs
//! unless a caller was given a Spin binary.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use std::os::unix::process::CommandExt as _;

/// The `spin up` settings production runs with (infra's start-spin.sh passes the same; an infra
/// check compares them): a fresh instance for every request, as the application is designed for
/// and as `urr-edge` does by default (Spin would otherwise reuse a WASI 0.3 instance for up to 128
/// requests, 16 at once), and a request timeout equal to `urr-edge`'s default route deadline.
pub const PRODUCTION_FLAGS: &[&str] = &[
    "--max-instance-reuse-count",
    "1",
    "--max-instance-concurrent-reuse-count",
    "1",
    "--request-timeout",
    "15s",
];

/// Spin's Postgres client verifies TLS unless told not to; local servers have no certificate.
const SSLMODE_DISABLE: &str = "sslmode=disable";

/// A Postgres URL as Spin needs it on loopback: with `sslmode=disable`. Other URLs unchanged.
pub fn without_tls(url: &str) -> String {
    if !url.starts_with("postgres") || url.contains("sslmode=") {
        return url.to_string();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{SSLMODE_DISABLE}")
}

/// `spin up` serving `manifest` on `listen` with the production flags, its logs and state in
/// `state_dir`, in a clean environment (PATH and HOME only, so a stray `SPIN_VARIABLE_*` of the
/// caller changes nothing), each of `variables` passed through Spin's environment provider.
///
/// The process leads a process group of its own: `spin up` runs the HTTP trigger as a child
/// process (`spin trigger http`) that outlives a SIGKILL of its parent, so stop it with
/// [`kill_group`], never with a plain kill.
pub fn up_command<'a>(
    spin: &Path,
    manifest: &Path,
    listen: &str,
    state_dir: &Path,
    variables: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Command {
    let mut command = Command::new(spin);
    command
        .arg("up")
        .arg("--from")
        .arg(manifest)
        .arg("--listen")
        .arg(listen)
        .arg("--log-dir")
        .arg(state_dir)
        .arg("--state-dir")
        .arg(state_dir)
        .args(PRODUCTION_FLAGS)
        .env_clear()
        // Spin keeps its Wasmtime compile cache under HOME.
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .stdin(Stdio::null())
        .process_group(0);
    for (name, value) in variables {
        command.env(
            format!(
                "{}{}",
                crate::variables::ENV_PREFIX,
                name.to_ascii_uppercase()
            ),
            without_tls(value),
        );
    }
    command
}

/// Kills the process group led by `pid` (a `spin up` started by [`up_command`]) with SIGKILL:
/// `spin up` and its trigger process together. Best effort; a group already gone is fine.
pub fn kill_group(pid: u32) {
    // A negative pid signals the whole group (the workspace forbids `unsafe`, so no direct
    // kill(2)). procps' kill needs the `--`: `kill -KILL -<pgid>` exits 0 and signals nothing.
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--"])
        .arg(format!("-{pid}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Kills a `spin up` child and its trigger, then reaps the child.
pub fn stop(child: &mut Child) {
    kill_group(child.id());
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_postgres_urls_get_tls_turned_off_once() {
        assert_eq!(
            without_tls("postgres://u@127.0.0.1:5432/db"),
            "postgres://u@127.0.0.1:5432/db?sslmode=disable"
        );
        assert_eq!(
            without_tls("postgres://u@h/db?application_name=x"),
            "postgres://u@h/db?application_name=x&sslmode=disable"
        );
        assert_eq!(
            without_tls("postgres://u@h/db?sslmode=require"),
            "postgres://u@h/db?sslmode=require"
        );
        assert_eq!(
            without_tls("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }

    #[test]
    fn a_group_kill_reaches_the_grandchild() {
        // A shell standing in for `spin up`, with a child of its own standing in for the trigger.
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("grandchild");
        let mut leader = Command::new("sh")
            .arg("-c")
            .arg(format!("sleep 300 & echo $! > {}; wait", pidfile.display()))
            .process_group(0)
            .spawn()
            .expect("sh starts");
        let grandchild = wait_for_pid(&pidfile);
        stop(&mut leader);
        let alive = |pid: &str| Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid);
        for _ in 0..100 {
            if !alive(&grandchild) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("the grandchild {grandchild} outlived the group kill");
    }

    fn wait_for_pid(file: &Path) -> String {
        for _ in 0..250 {
            if let Ok(text) = std::fs::read_to_string(file)
                && !text.trim().is_empty()
            {
                return text.trim().to_string();
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("no pid written to {}", file.display());
    }

    fn is_zombie(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| stat.split_whitespace().nth(2) == Some("Z"))
            .unwrap_or(false)
    }
}
