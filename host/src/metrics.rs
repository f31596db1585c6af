//! Host metrics in Prometheus text format, served by the host itself at `GET /metrics`:
//! per-component requests by status class, latency histogram, instantiation time, in-flight
//! requests, shed requests, and Postgres pool stats. Lock-free counters on the request path.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Latency bucket upper bounds in seconds: sub-millisecond for the hot paths up to the deadline.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
pub struct ComponentMetrics {
    /// Index 0..5 = 1xx..5xx.
    by_class: [AtomicU64; 5],
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_sum_micros: AtomicU64,
    latency_count: AtomicU64,
    instantiate_sum_micros: AtomicU64,
    instantiate_count: AtomicU64,
    in_flight: AtomicU64,
    shed: AtomicU64,
}

impl ComponentMetrics {
    pub fn record(&self, status: u16, elapsed: Duration) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Relaxed);
        let secs = elapsed.as_secs_f64();
        for (bucket, bound) in self.latency_buckets.iter().zip(LATENCY_BUCKETS) {
            if secs <= bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Relaxed);
        self.latency_count.fetch_add(1, Relaxed);
    }

    pub fn record_instantiation(&self, elapsed: Duration) {
        self.instantiate_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Relaxed);
        self.instantiate_count.fetch_add(1, Relaxed);
    }

    pub fn record_shed(&self) {
        self.shed.fetch_add(1, Relaxed);
    }

    /// Counts a request as in flight until the guard drops.
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(&self.in_flight)
    }
}

pub struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

pub struct Metrics {
    pub components: Vec<(String, ComponentMetrics)>,
    pub unrouted: AtomicU64,
}

impl Metrics {
    pub fn new(ids: impl IntoIterator<Item = String>) -> Self {
        Self {
            components: ids
                .into_iter()
                .map(|id| (id, ComponentMetrics::default()))
                .collect(),
            unrouted: AtomicU64::new(0),
        }
    }

    pub fn render(&self, pg_pools: &[(String, u32, usize)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP urr_requests_total Requests served, by component and status class."
        );
        let _ = writeln!(out, "# TYPE urr_requests_total counter");
        for (id, m) in &self.components {
            for (i, c) in m.by_class.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "urr_requests_total{{component=\"{id}\",class=\"{}xx\"}} {}",
                    i + 1,
                    c.load(Relaxed)
                );
            }
        }
        let _ = writeln!(
            out,
            "urr_requests_total{{component=\"\",class=\"unrouted\"}} {}",
            self.unrouted.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP urr_request_duration_seconds Request latency, by component."
        );
        let _ = writeln!(out, "# TYPE urr_request_duration_seconds histogram");
        for (id, m) in &self.components {
            for (bucket, bound) in m.latency_buckets.iter().zip(LATENCY_BUCKETS) {
                let _ = writeln!(
                    out,
                    "urr_request_duration_seconds_bucket{{component=\"{id}\",le=\"{bound}\"}} {}",
                    bucket.load(Relaxed)
                );
            }
            let count = m.latency_count.load(Relaxed);
            let _ = writeln!(
                out,
                "urr_request_duration_seconds_bucket{{component=\"{id}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "urr_request_duration_seconds_sum{{component=\"{id}\"}} {}",
                m.latency_sum_micros.load(Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "urr_request_duration_seconds_count{{component=\"{id}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP urr_instantiation_seconds Time to create a fresh instance, by component."
        );
        let _ = writeln!(out, "# TYPE urr_instantiation_seconds summary");
        for (id, m) in &self.components {
            let _ = writeln!(
                out,
                "urr_instantiation_seconds_sum{{component=\"{id}\"}} {}",
                m.instantiate_sum_micros.load(Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "urr_instantiation_seconds_count{{component=\"{id}\"}} {}",
                m.instantiate_count.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP urr_in_flight_requests Requests running now, by component."
        );
        let _ = writeln!(out, "# TYPE urr_in_flight_requests gauge");
        for (id, m) in &self.components {
            let _ = writeln!(
                out,
                "urr_in_flight_requests{{component=\"{id}\"}} {}",
                m.in_flight.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP urr_shed_requests_total Requests answered 503 because the component was at its concurrency limit."
        );
        let _ = writeln!(out, "# TYPE urr_shed_requests_total counter");
        for (id, m) in &self.components {
            let _ = writeln!(
                out,
                "urr_shed_requests_total{{component=\"{id}\"}} {}",
                m.shed.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP urr_pg_pool_connections Postgres pool connections, by address (credentials redacted)."
        );
        let _ = writeln!(out, "# TYPE urr_pg_pool_connections gauge");
        for (address, size, idle) in pg_pools {
            let _ = writeln!(
                out,
                "urr_pg_pool_connections{{address=\"{address}\",state=\"open\"}} {size}"
            );
            let _ = writeln!(
                out,
                "urr_pg_pool_connections{{address=\"{address}\",state=\"idle\"}} {idle}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_request_shows_in_its_class_and_buckets() {
        let m = Metrics::new(["health".to_string()]);
        m.components[0].1.record(503, Duration::from_millis(3));
        m.components[0].1.record(200, Duration::from_micros(100));
        let text = m.render(&[]);
        assert!(
            text.contains("urr_requests_total{component=\"health\",class=\"5xx\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("urr_requests_total{component=\"health\",class=\"2xx\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "urr_request_duration_seconds_bucket{component=\"health\",le=\"0.0005\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "urr_request_duration_seconds_bucket{component=\"health\",le=\"0.005\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("urr_request_duration_seconds_count{component=\"health\"} 2"),
            "{text}"
        );
    }

    #[test]
    fn in_flight_goes_back_down_when_the_guard_drops() {
        let m = ComponentMetrics::default();
        {
            let _guard = m.in_flight();
            assert_eq!(m.in_flight.load(Relaxed), 1);
        }
        assert_eq!(m.in_flight.load(Relaxed), 0);
    }
}
