//! Store baselines, run when their binaries exist: `redis-benchmark` (INCR of one key under the
//! run's prefix, the same command the Redis component sends) and `pgbench` (`SELECT 1`, one
//! Postgres round trip; no tables are created). Both talk to loopback servers only.

use crate::stats::{Latencies, LatencySummary, LoadShape, RunResult};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use tokio::process::Command;

/// `host`, `port`, user, password and database of a `scheme://[user[:password]@]host:port/db` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreAddr {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    pub database: Option<String>,
}

impl StoreAddr {
    pub fn parse(url: &str, default_port: u16) -> Result<Self> {
        let rest = url
            .split_once("://")
            .map_or(url, |(_, r)| r)
            .split('?')
            .next()
            .unwrap_or_default();
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((user, pw)) => (Some(user.to_string()), Some(pw.to_string())),
                None => (Some(u.to_string()), None),
            },
            None => (None, None),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().context("bad port")?),
            None => (hostport.to_string(), default_port),
        };
        let loopback = host == "localhost"
            || host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            bail!("store `{host}` is not a loopback address");
        }
        Ok(Self {
            host,
            port,
            user: user.filter(|u| !u.is_empty()),
            password: password.filter(|p| !p.is_empty()),
            database: Some(path.to_string()).filter(|d| !d.is_empty()),
        })
    }
}

/// Whether `program` can be run (found on PATH).
pub async fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .is_ok()
}

/// Parses `redis-benchmark --csv` output: (rps, avg, min, p50, p95, p99, max), latencies in ms.
pub fn parse_redis_benchmark_csv(text: &str) -> Option<[f64; 7]> {
    let line = text
        .lines()
        .rfind(|l| l.starts_with('"') && !l.starts_with("\"test\""))?;
    let fields: Vec<f64> = line
        .split("\",\"")
        .skip(1)
        .map(|f| f.trim_matches('"').parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    fields.try_into().ok()
}

async fn redis_benchmark_once(
    addr: &StoreAddr,
    key: &str,
    concurrency: usize,
    requests: u64,
) -> Result<[f64; 7]> {
    let mut cmd = Command::new("redis-benchmark");
    cmd.args(["-h", &addr.host, "-p", &addr.port.to_string()])
        .args(["-c", &concurrency.to_string(), "-n", &requests.to_string()])
        .arg("--csv");
    if let Some(pw) = &addr.password {
        cmd.args(["-a", pw]);
    }
    cmd.args(["INCR", key]);
    let output = tokio::time::timeout(Duration::from_secs(300), cmd.output())
        .await
        .context("redis-benchmark did not finish in 5 minutes")??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    parse_redis_benchmark_csv(&stdout).with_context(|| {
        format!(
            "unexpected redis-benchmark output: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// `redis-benchmark -c C -n N INCR <key>`, with N sized from a short calibration run so the
/// measured run lasts about `duration`.
pub async fn redis_benchmark(
    addr: &StoreAddr,
    key: &str,
    concurrency: usize,
    duration: Duration,
) -> Result<RunResult> {
    let calibration = redis_benchmark_once(addr, key, concurrency, 20_000).await?;
    let requests = ((calibration[0] * duration.as_secs_f64()) as u64).clamp(20_000, 10_000_000);
    let [rps, avg, min, p50, p95, p99, max] =
        redis_benchmark_once(addr, key, concurrency, requests).await?;
    Ok(RunResult {
        label: "redis-benchmark".to_string(),
        scenario: "INCR (one key)".to_string(),
        load: LoadShape::Concurrency { concurrency },
        elapsed_s: if rps > 0.0 {
            requests as f64 / rps
        } else {
            0.0
        },
        ok: requests,
        errors: 0,
        error_kinds: BTreeMap::new(),
        throughput_rps: rps,
        latency: LatencySummary {
            samples: requests,
            min_us: min * 1000.0,
            mean_us: avg * 1000.0,
            p50_us: p50 * 1000.0,
            p95_us: p95 * 1000.0,
            p99_us: p99 * 1000.0,
            max_us: max * 1000.0,
        },
    })
}

/// `tps = 12345.6 (without initial connection time)` from pgbench's summary.
pub fn parse_pgbench_tps(text: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// `latency average = 0.311 ms` from pgbench's summary, in ms.
pub fn parse_pgbench_latency_avg(text: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("latency average = "))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// `number of failed transactions: 3 (0.1%)` (pgbench 15+); 0 when absent.
pub fn parse_pgbench_failed(text: &str) -> u64 {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("number of failed transactions:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The latency column (µs, third field) of pgbench's per-transaction log lines.
pub fn parse_pgbench_log(text: &str, into: &mut Latencies) {
    for line in text.lines() {
        if let Some(us) = line
            .split_whitespace()
            .nth(2)
            .and_then(|f| f.parse::<u64>().ok())
        {
            into.record_nanos(us * 1000);
        }
    }
}

/// `pgbench -n -c C -T secs -f <SELECT 1>`, with per-transaction logs for percentiles.
pub async fn pgbench(
    addr: &StoreAddr,
    concurrency: usize,
    duration: Duration,
    scratch: &Path,
) -> Result<RunResult> {
    let dir = scratch.join(format!("pgbench-c{concurrency}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("select1.sql");
    std::fs::write(&script, "SELECT 1;\n")?;
    let secs = duration.as_secs().max(1);
    let jobs = concurrency.min(2);
    let mut cmd = Command::new("pgbench");
    cmd.args(["-h", &addr.host, "-p", &addr.port.to_string()])
        .args(["-n", "-c", &concurrency.to_string()])
        .args(["-j", &jobs.to_string()])
        .args(["-T", &secs.to_string()])
        .arg("-f")
        .arg(&script)
        .arg("-l")
        .arg(format!("--log-prefix={}", dir.join("log").display()));
    if let Some(user) = &addr.user {
        cmd.args(["-U", user]);
    }
    if let Some(pw) = &addr.password {
        cmd.env("PGPASSWORD", pw);
    }
    cmd.arg(addr.database.as_deref().unwrap_or("postgres"));
    let output = tokio::time::timeout(duration + Duration::from_secs(60), cmd.output())
        .await
        .context("pgbench did not finish in time")??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench failed: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let tps = parse_pgbench_tps(&stdout).context("no `tps =` line in pgbench's output")?;
    let mut latencies = Latencies::default();
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with("log.") {
            parse_pgbench_log(&std::fs::read_to_string(entry.path())?, &mut latencies);
        }
    }
    let ok = latencies.len() as u64;
    let failed = parse_pgbench_failed(&stdout);
    let _ = std::fs::remove_dir_all(&dir);
    let mut latency = latencies.summary();
    if let Some(mean_ms) = parse_pgbench_latency_avg(&stdout) {
        latency.mean_us = mean_ms * 1000.0;
    }
    if concurrency > jobs {
        // With several clients per pgbench thread, the per-transaction log reuses one clock
        // reading for every client served in the same pass (many 0 µs entries): only the
        // average is trustworthy there.
        latency.min_us = f64::NAN;
        latency.p50_us = f64::NAN;
        latency.p95_us = f64::NAN;
        latency.p99_us = f64::NAN;
    }
    Ok(RunResult {
        label: "pgbench".to_string(),
        scenario: "SELECT 1".to_string(),
        load: LoadShape::Concurrency { concurrency },
        elapsed_s: secs as f64,
        ok,
        errors: failed,
        error_kinds: if failed > 0 {
            BTreeMap::from([("failed transactions".to_string(), failed)])
        } else {
            BTreeMap::new()
        },
        throughput_rps: tps,
        latency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls() -> Result<()> {
        let r = StoreAddr::parse("redis://127.0.0.1:6379", 6379)?;
        assert_eq!((r.host.as_str(), r.port), ("127.0.0.1", 6379));
        let p = StoreAddr::parse("postgres://postgres@127.0.0.1:5432/postgres", 5432)?;
        assert_eq!(p.user.as_deref(), Some("postgres"));
        assert_eq!(p.database.as_deref(), Some("postgres"));
        let p = StoreAddr::parse("postgres://u:pw@localhost/db?sslmode=disable", 5432)?;
        assert_eq!((p.port, p.password.as_deref()), (5432, Some("pw")));
        assert!(StoreAddr::parse("redis://10.1.2.3:6379", 6379).is_err());
        Ok(())
    }

    #[test]
    fn tool_outputs_parse() {
        let csv = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\"INCR k\",\"15267.18\",\"0.062\",\"0.016\",\"0.023\",\"0.031\",\"0.111\",\"8.743\"\n";
        let v = parse_redis_benchmark_csv(csv);
        assert_eq!(
            v,
            Some([15267.18, 0.062, 0.016, 0.023, 0.031, 0.111, 8.743])
        );
        let out = "number of failed transactions: 2 (0.001%)\nlatency average = 0.080 ms\ntps = 12345.678901 (without initial connection time)\n";
        assert_eq!(parse_pgbench_tps(out), Some(12345.678901));
        assert_eq!(parse_pgbench_failed(out), 2);
        assert_eq!(parse_pgbench_latency_avg(out), Some(0.080));
        let mut lat = Latencies::default();
        parse_pgbench_log(
            "0 1 85 0 1700000000 1234\n1 1 120 0 1700000000 1300\n",
            &mut lat,
        );
        assert_eq!(lat.summary().max_us, 120.0);
    }
}
