//! Servers under test as child processes: start, wait until they answer, sample their memory,
//! stop them by pid.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub use urr_edge::devstack::free_port;

/// A field of /proc/<pid>/status in KiB (`VmRSS`, `VmHWM`).
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kib(&text, field)
}

fn parse_status_kib(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on Linux).
pub fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .filter(|&t: &f64| t > 0.0)
        .unwrap_or(100.0)
}

/// User + system CPU time of a process so far, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_cpu_ticks(&text)
}

fn parse_stat_cpu_ticks(text: &str) -> Option<u64> {
    // Fields after the command name (which may hold spaces, so split after its closing `)`):
    // state is field 3, utime field 14, stime field 15.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// The 1-minute load average.
pub fn loadavg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// One GET, on a fresh connection; `Some(status)` when the server answered.
pub async fn probe(addr: std::net::SocketAddr, path: &str) -> Option<u16> {
    let attempt = async {
        let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .ok()?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let req = http::Request::get(path)
            .header(http::header::HOST, addr.to_string())
            .body(Empty::<Bytes>::new())
            .ok()?;
        let response = sender.send_request(req).await.ok()?;
        let status = response.status().as_u16();
        response.into_body().collect().await.ok()?;
        Some(status)
    };
    tokio::time::timeout(Duration::from_secs(2), attempt)
        .await
        .ok()
        .flatten()
}

/// A server under test.
pub struct ServerProcess {
    pub name: String,
    pub child: Child,
    pub pid: u32,
    pub addr: std::net::SocketAddr,
    pub log: PathBuf,
    /// From spawn to the first 200 on the ready path.
    pub boot: Duration,
}

impl ServerProcess {
    /// Starts `command` (stdout and stderr to `log`) and waits until `ready_path` answers 200.
    pub async fn start(
        name: &str,
        mut command: Command,
        port: u16,
        ready_path: &str,
        log: &Path,
        ready_timeout: Duration,
    ) -> Result<Self> {
        let out = std::fs::File::create(log)
            .with_context(|| format!("creating the log {}", log.display()))?;
        let err = out.try_clone()?;
        command
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let pid = child.id().context("the server exited at once")?;
        // A server leading its own group (`spin up`) takes its trigger process with it when it
        // fails to come up. (The group is set before exec, so it is readable now.)
        let own_group = leads_group(pid);
        let gone = || {
            if own_group {
                urr_edge::spin_cli::kill_group(pid);
            }
        };
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if probe(addr, ready_path).await == Some(200) {
                break;
            }
            if let Some(status) = child.try_wait()? {
                // Its trigger process may outlive it; the group id stays reserved while it does.
                gone();
                bail!(
                    "{name} exited ({status}) before it was ready; log:\n{}",
                    tail(log, 20)
                );
            }
            if started.elapsed() > ready_timeout {
                gone();
                let _ = child.start_kill();
                bail!(
                    "{name} was not ready within {ready_timeout:?}; log:\n{}",
                    tail(log, 20)
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(Self {
            name: name.to_string(),
            child,
            pid,
            addr,
            log: log.to_path_buf(),
            boot: started.elapsed(),
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid, "VmRSS")
    }

    pub fn peak_rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid, "VmHWM")
    }

    /// SIGTERM (via `kill <pid>`), then SIGKILL if it has not exited within 10 s. A server that
    /// leads a process group of its own (`spin up`, whose trigger is a child process) is killed
    /// as a group.
    pub async fn stop(mut self) -> Result<()> {
        if leads_group(self.pid) {
            urr_edge::spin_cli::kill_group(self.pid);
        }
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await;
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(_) => Ok(()),
            Err(_) => {
                self.child.start_kill()?;
                let _ = self.child.wait().await;
                Ok(())
            }
        }
    }
}

/// Whether `pid` leads its own process group (field 5 of /proc/<pid>/stat is the group id).
fn leads_group(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // The command name (field 2) is in parentheses and may hold spaces.
            let after = &stat[stat.rfind(')')? + 1..];
            after.split_whitespace().nth(2)?.parse::<u32>().ok()
        })
        == Some(pid)
}

impl Drop for ServerProcess {
    /// A server dropped without `stop` (a failed run, a restart): `kill_on_drop` reaches only the
    /// process itself, so a group it leads is killed here.
    fn drop(&mut self) {
        // Only while the child is unreaped (`id()` is `None` once it is), so its pid cannot
        // belong to another process yet; an exited but unreaped leader still names its group.
        if self.child.id().is_some() && leads_group(self.pid) {
            urr_edge::spin_cli::kill_group(self.pid);
        }
    }
}

/// The last `n` lines of a log file.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Samples a process's RSS in the background and keeps the highest value.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub fn start(pid: u32, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let task = {
            let (stop, peak) = (stop.clone(), peak.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = proc_status_kib(pid, "VmRSS") {
                        peak.fetch_max(kib, Ordering::Relaxed);
                    }
                    tokio::time::sleep(every).await;
                }
            })
        };
        Self { stop, peak, task }
    }

    /// Stops sampling; the highest RSS seen, in KiB.
    pub async fn finish(self) -> Option<u64> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        Some(self.peak.load(Ordering::Relaxed)).filter(|&k| k > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_status_fields() {
        let status = "Name:\turr-edge\nVmHWM:\t   61234 kB\nVmRSS:\t   52000 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(52000));
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(61234));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn reads_proc_stat_cpu_times() {
        let stat = "4242 (bench host) S 1 4242 4242 0 -1 4194304 100 0 0 0 818 31 0 0 20 0 9 0";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(849));
        assert_eq!(parse_stat_cpu_ticks("garbage"), None);
    }
}
