//! The pure numbers: latency samples and percentiles, run results, ratios and duration parsing.
//! Everything here is deterministic, so it is unit-tested.

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Latency samples in nanoseconds. A sorted vector gives exact percentiles; at the request counts
/// a bounded run can reach (`MAX_REQUESTS_CAP`) it stays within a few tens of MiB.
#[derive(Debug, Default, Clone)]
pub struct Latencies {
    samples: Vec<u64>,
}

impl Latencies {
    pub fn record(&mut self, latency: Duration) {
        self.samples
            .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
    }

    pub fn record_nanos(&mut self, nanos: u64) {
        self.samples.push(nanos);
    }

    pub fn merge(&mut self, other: Latencies) {
        self.samples.extend(other.samples);
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    pub fn summary(mut self) -> LatencySummary {
        self.samples.sort_unstable();
        LatencySummary::from_sorted(&self.samples)
    }
}

/// Nearest-rank percentile of ascending samples: the smallest sample such that at least `p` % of
/// the samples are <= it. `None` for no samples.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.saturating_sub(1).min(sorted.len() - 1);
    sorted.get(index).copied()
}

/// Latency distribution in microseconds (0 when there were no samples).
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct LatencySummary {
    pub samples: u64,
    pub min_us: f64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p95_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

impl LatencySummary {
    pub fn from_sorted(sorted: &[u64]) -> Self {
        let us = |n: Option<u64>| n.map_or(0.0, |n| n as f64 / 1000.0);
        let mean = if sorted.is_empty() {
            0.0
        } else {
            sorted.iter().map(|&n| n as f64).sum::<f64>() / sorted.len() as f64 / 1000.0
        };
        Self {
            samples: sorted.len() as u64,
            min_us: us(sorted.first().copied()),
            mean_us: mean,
            p50_us: us(percentile(sorted, 50.0)),
            p95_us: us(percentile(sorted, 95.0)),
            p99_us: us(percentile(sorted, 99.0)),
            max_us: us(sorted.last().copied()),
        }
    }
}

/// How a run was driven.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LoadShape {
    /// Closed loop: `concurrency` workers, each sending its next request when the last answered.
    Concurrency { concurrency: usize },
    /// Open loop: arrivals at a fixed rate, served by up to `max_in_flight` connections. Latency
    /// counts from the arrival (not from the send), so a slow server cannot hide its queueing.
    Rate { per_sec: f64, max_in_flight: usize },
}

impl LoadShape {
    pub fn concurrency(&self) -> usize {
        match *self {
            LoadShape::Concurrency { concurrency } => concurrency,
            LoadShape::Rate { max_in_flight, .. } => max_in_flight,
        }
    }

    pub fn describe(&self) -> String {
        match *self {
            LoadShape::Concurrency { concurrency } => format!("c={concurrency}"),
            LoadShape::Rate { per_sec, .. } => format!("{per_sec:.0}/s"),
        }
    }
}

/// The outcome of one measured run.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub label: String,
    pub scenario: String,
    pub load: LoadShape,
    /// Wall time of the measured phase, until the last in-flight request finished.
    pub elapsed_s: f64,
    /// Successful requests (the scenario's success statuses).
    pub ok: u64,
    pub errors: u64,
    /// Error counts by kind: `status 503`, `connect`, `timeout`, `io`, `missed arrival`.
    pub error_kinds: BTreeMap<String, u64>,
    pub throughput_rps: f64,
    pub latency: LatencySummary,
}

impl RunResult {
    pub fn error_summary(&self) -> String {
        if self.errors == 0 {
            return "0".to_string();
        }
        let kinds: Vec<String> = self
            .error_kinds
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        format!("{} ({})", self.errors, kinds.join(", "))
    }
}

/// `a / b` when both are known and `b` is not zero.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 && a.is_finite() && b.is_finite() => Some(a / b),
        _ => None,
    }
}

/// A ratio as `1.32x`; `n/a` when it cannot be computed.
pub fn format_ratio(r: Option<f64>) -> String {
    match r {
        Some(r) if r.is_finite() => {
            if r >= 10.0 {
                format!("{r:.1}x")
            } else {
                format!("{r:.2}x")
            }
        }
        _ => "n/a".to_string(),
    }
}

/// A ratio as a percentage: `31%`; `n/a` when it cannot be computed.
pub fn format_percent(r: Option<f64>) -> String {
    match r {
        Some(r) if r.is_finite() => format!("{:.0}%", r * 100.0),
        _ => "n/a".to_string(),
    }
}

/// Microseconds for a table: `182 µs`, or `1.25 ms` from a millisecond up.
pub fn format_us(us: f64) -> String {
    if !us.is_finite() {
        "n/a".to_string()
    } else if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

/// Requests per second for a table: `7,460`.
pub fn format_rps(rps: f64) -> String {
    let whole = rps.round().max(0.0) as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Kibibytes as `52.3 MiB`.
pub fn format_kib(kib: f64) -> String {
    if kib.abs() >= 1024.0 {
        format!("{:.1} MiB", kib / 1024.0)
    } else {
        format!("{kib:.0} KiB")
    }
}

/// `10s`, `500ms`, `2m`, `1.5s`, `250us`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (try 10s, 500ms, 2m)"))?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" => value,
        "ms" => value / 1e3,
        "us" | "µs" => value / 1e6,
        "m" | "min" => value * 60.0,
        other => return Err(format!("unknown duration unit `{other}` in `{text}`")),
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("`{text}` is not a usable duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// The median of some values (the mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 50.0), Some(50));
        assert_eq!(percentile(&sorted, 95.0), Some(95));
        assert_eq!(percentile(&sorted, 99.0), Some(99));
        assert_eq!(percentile(&sorted, 100.0), Some(100));
        assert_eq!(percentile(&sorted, 0.0), Some(1));
        assert_eq!(percentile(&[], 50.0), None);
        // Few samples: p99 of 10 samples is the largest, p50 the fifth.
        let ten: Vec<u64> = (1..=10).map(|n| n * 10).collect();
        assert_eq!(percentile(&ten, 50.0), Some(50));
        assert_eq!(percentile(&ten, 99.0), Some(100));
        assert_eq!(percentile(&[7], 50.0), Some(7));
    }

    #[test]
    fn summary_is_in_microseconds_and_order_independent() {
        let mut lat = Latencies::default();
        for us in [300u64, 100, 200, 400] {
            lat.record(Duration::from_micros(us));
        }
        let s = lat.summary();
        assert_eq!(s.samples, 4);
        assert_eq!(s.min_us, 100.0);
        assert_eq!(s.p50_us, 200.0);
        assert_eq!(s.p99_us, 400.0);
        assert_eq!(s.max_us, 400.0);
        assert!((s.mean_us - 250.0).abs() < 1e-9);
        assert_eq!(Latencies::default().summary(), LatencySummary::default());
    }

    #[test]
    fn ratios_format_and_refuse_division_by_zero() {
        assert_eq!(format_ratio(ratio(Some(13.0), Some(10.0))), "1.30x");
        assert_eq!(format_ratio(ratio(Some(8.0), Some(10.0))), "0.80x");
        assert_eq!(format_ratio(ratio(Some(123.0), Some(10.0))), "12.3x");
        assert_eq!(format_ratio(ratio(Some(1.0), Some(0.0))), "n/a");
        assert_eq!(format_ratio(ratio(None, Some(1.0))), "n/a");
        assert_eq!(format_percent(ratio(Some(31.0), Some(100.0))), "31%");
        assert_eq!(format_percent(None), "n/a");
    }

    #[test]
    fn numbers_format_for_tables() {
        assert_eq!(format_rps(7460.4), "7,460");
        assert_eq!(format_rps(89600.0), "89,600");
        assert_eq!(format_rps(1234567.0), "1,234,567");
        assert_eq!(format_rps(999.0), "999");
        assert_eq!(format_us(182.4), "182 µs");
        assert_eq!(format_us(1250.0), "1.25 ms");
        assert_eq!(format_us(f64::NAN), "n/a");
        assert_eq!(format_kib(512.0), "512 KiB");
        assert_eq!(format_kib(2048.0), "2.0 MiB");
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5h").is_err());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
