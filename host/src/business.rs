//! The business counters on `GET /metrics`, from the two stores that do the work:
//!
//! - Redis: what the waiting room and the seat holds did, as counted by the scripts
//!   (`visit.lua`/`leave.lua` in each event's queue state hash, `hold.lua` in each event's hold
//!   counters). The host reads them under the application's key prefix, summed over every event
//!   whose state is still in Redis, with the same field lists and summing as the admin
//!   dashboard's `live` block. They are gauges, not counters: an event's hashes expire with its
//!   idle waiting room, and the sum drops then.
//! - Postgres: reservations, payments, refunds and voids, as counted by triggers in the same
//!   transaction as each change (migration `business_counters`). The host reads them as the
//!   `urr_metrics` role, which may call `business_counters()` and nothing else. They only grow:
//!   Prometheus counters, `urr_<name>_total`.
//!
//! A scrape's reads are reused for a short window ([`ScrapeCache`]): scrapers that arrive
//! together, or several of them, cost the stores one read.

use crate::stores::Stores;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use urr_admin_domain::live::{HOLD_FIELDS, LiveCounters, QUEUE_FIELDS, event_keys};

/// Keys the scrape looks at, at most: it walks the keyspace with SCAN, and a scrape must stay
/// cheap on a Redis that also holds every rate-limit and hold key.
pub const MAX_SCANNED_KEYS: usize = 200_000;
/// Keys per SCAN step.
const SCAN_COUNT: usize = 1_000;
/// A scrape gives up on Redis after this long and reports the counters as unavailable.
pub const SCRAPE_TIMEOUT: Duration = Duration::from_secs(2);

/// The application variable with the address the host reads the Postgres counters with.
pub const METRICS_DATABASE_VARIABLE: &str = "pg_address_metrics";

/// Where the counters live: the application's `redis_address` and `key_prefix` variables, and
/// [`METRICS_DATABASE_VARIABLE`].
pub struct Source<'a> {
    /// `(redis_address, key_prefix)`.
    pub redis: Option<(&'a str, &'a str)>,
    pub pg_address: Option<&'a str>,
}

impl<'a> Source<'a> {
    /// `None` when the application declares neither store (a test fixture).
    pub fn of(app_vars: &'a HashMap<String, String>) -> Option<Self> {
        let redis = app_vars
            .get("redis_address")
            .zip(app_vars.get("key_prefix"))
            .map(|(address, prefix)| (address.as_str(), prefix.as_str()));
        let pg_address = app_vars.get(METRICS_DATABASE_VARIABLE).map(String::as_str);
        (redis.is_some() || pg_address.is_some()).then_some(Self { redis, pg_address })
    }
}

/// The counters, summed, and whether the scan stopped at [`MAX_SCANNED_KEYS`].
struct Scrape {
    live: LiveCounters,
    truncated: bool,
}

async fn scrape(stores: &Stores, redis_address: &str, prefix: &str) -> anyhow::Result<Scrape> {
    let mut conn = stores.redis(redis_address).await?;
    // Every per-event key carries the event's hash tag `{evt:<id>}` (`{` and `}` are literal in
    // Redis globs): SCAN finds the events, and the dashboard's `event_keys` names the two hashes
    // to read for each, so the key formats live in one place.
    let pattern = format!("{prefix}:*{{evt:*}}*");
    let mut events: BTreeSet<String> = BTreeSet::new();
    let mut scanned = 0;
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(SCAN_COUNT)
            .query_async(&mut conn)
            .await?;
        scanned += SCAN_COUNT;
        events.extend(
            keys.iter()
                .filter_map(|key| event_of(key))
                .map(str::to_string),
        );
        cursor = next;
        if cursor == 0 || scanned >= MAX_SCANNED_KEYS {
            break;
        }
    }
    let mut live = LiveCounters::default();
    for event in &events {
        // Not an event id (some other tagged key): nothing of ours to read.
        let Ok((queue_state, hold_stats)) = event_keys(prefix, event) else {
            continue;
        };
        let queue: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(&queue_state)
            .arg(&QUEUE_FIELDS[..])
            .query_async(&mut conn)
            .await?;
        let holds: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(&hold_stats)
            .arg(&HOLD_FIELDS[..])
            .query_async(&mut conn)
            .await?;
        // An event with keys but no counters yet (its hashes expired) is not counted.
        if queue.iter().chain(&holds).any(Option::is_some) {
            live.add_event(&queue, &holds);
        }
    }
    Ok(Scrape {
        live,
        truncated: cursor != 0,
    })
}

/// The event id in a key's `{evt:<id>}` hash tag.
fn event_of(key: &str) -> Option<&str> {
    let (_, rest) = key.split_once("{evt:")?;
    let (event, _) = rest.split_once('}')?;
    Some(event)
}

/// The Prometheus text of the business counters from both stores, read concurrently; a store
/// that cannot answer in time shows as `urr_business_up 0` (Redis) or `urr_business_db_up 0`.
pub async fn render(stores: &Stores, source: &Source<'_>) -> String {
    let redis = async {
        match source.redis {
            Some((address, prefix)) => render_redis(stores, address, prefix).await,
            None => String::new(),
        }
    };
    let pg = async {
        match source.pg_address {
            Some(address) => render_pg(stores, address).await,
            None => String::new(),
        }
    };
    let (redis, pg) = tokio::join!(redis, pg);
    redis + &pg
}

/// The last scrape's text, reused for `ttl`. Scrapes wait on one lock while a read is under
/// way, so scrapers that arrive together share it instead of each starting their own.
pub struct ScrapeCache {
    ttl: Duration,
    last: tokio::sync::Mutex<Option<(Instant, String)>>,
    /// Scrapes that read the stores, and scrapes that reused the last read
    /// (`urr_business_scrapes_total{source="stores"|"cache"}`): how a test, or an operator, sees
    /// that the window holds.
    reads: AtomicU64,
    reuses: AtomicU64,
}

impl ScrapeCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            last: tokio::sync::Mutex::new(None),
            reads: AtomicU64::new(0),
            reuses: AtomicU64::new(0),
        }
    }

    /// The business counters' text: the last read's while it is younger than the window, else a
    /// new read of both stores; then how many scrapes did which.
    pub async fn render(&self, stores: &Stores, source: &Source<'_>) -> String {
        let mut last = self.last.lock().await;
        let mut text = match &*last {
            Some((at, text)) if at.elapsed() < self.ttl => {
                self.reuses.fetch_add(1, Ordering::Relaxed);
                text.clone()
            }
            _ => {
                let text = render(stores, source).await;
                self.reads.fetch_add(1, Ordering::Relaxed);
                *last = Some((Instant::now(), text.clone()));
                text
            }
        };
        drop(last);
        let _ = writeln!(
            text,
            "# HELP urr_business_scrapes_total Scrapes of the business counters, by whether they \
             read the stores or reused the last read (within the cache window).\n\
             # TYPE urr_business_scrapes_total counter\n\
             urr_business_scrapes_total{{source=\"stores\"}} {}\n\
             urr_business_scrapes_total{{source=\"cache\"}} {}",
            self.reads.load(Ordering::Relaxed),
            self.reuses.load(Ordering::Relaxed),
        );
        text
    }
}

/// Reads the counters `business_counters()` returns: `(name, value)`, every counter. The
/// statement is bounded on the server too: a scrape that gave up must not leave a fold running.
async fn read_pg(stores: &Stores, address: &str) -> anyhow::Result<Vec<(String, i64)>> {
    let pool = stores.pg(address)?;
    let mut tx = pool.begin().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SET LOCAL statement_timeout = {}",
        SCRAPE_TIMEOUT.as_millis()
    )))
    .execute(&mut *tx)
    .await?;
    let counters = sqlx::query_as("SELECT counter, value FROM business_counters()")
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(counters)
}

async fn render_pg(stores: &Stores, address: &str) -> String {
    let mut out = String::new();
    let read = tokio::time::timeout(SCRAPE_TIMEOUT, read_pg(stores, address)).await;
    let counters = match read {
        Ok(Ok(counters)) => Some(counters),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "business counters: Postgres read failed");
            None
        }
        Err(_) => None,
    };
    sample(
        &mut out,
        "gauge",
        "urr_business_db_up",
        "Whether the business counters could be read from Postgres.",
        u8::from(counters.is_some()),
    );
    for (name, value) in counters.unwrap_or_default() {
        // Names come from the `business_counter` enum; anything else would break the text format.
        if !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            continue;
        }
        let help = format!(
            "{} (counted in Postgres with the change).",
            name.replace('_', " ")
        );
        sample(
            &mut out,
            "counter",
            &format!("urr_{name}_total"),
            &help,
            value,
        );
    }
    out
}

/// One unlabelled sample with its HELP and TYPE lines (`kind`: `gauge` or `counter`).
fn sample(out: &mut String, kind: &str, name: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

async fn render_redis(stores: &Stores, address: &str, prefix: &str) -> String {
    let mut out = String::new();
    let scraped = tokio::time::timeout(SCRAPE_TIMEOUT, scrape(stores, address, prefix)).await;
    let up = matches!(scraped, Ok(Ok(_)));
    sample(
        &mut out,
        "gauge",
        "urr_business_up",
        "Whether the business counters could be read from Redis.",
        u8::from(up),
    );
    let Ok(Ok(Scrape { live, truncated })) = scraped else {
        return out;
    };
    let q = &live.queue;
    let h = &live.holds;
    let gauges: [(&str, &str, i64); 11] = [
        (
            "urr_business_events",
            "Events with waiting-room or hold state in Redis.",
            i64::from(live.events),
        ),
        (
            "urr_queue_joined",
            "Users who joined a waiting room (visit.lua).",
            q.joined,
        ),
        (
            "urr_queue_admitted",
            "Users admitted from a waiting room (visit.lua).",
            q.admitted,
        ),
        (
            "urr_queue_left",
            "Users who left a waiting room themselves (leave.lua).",
            q.left,
        ),
        (
            "urr_queue_dropped",
            "Waiters dropped after they stopped polling (visit.lua).",
            q.dropped,
        ),
        (
            "urr_holds_granted",
            "Seat holds granted (hold.lua).",
            h.granted,
        ),
        (
            "urr_holds_seats_granted",
            "Seats in the granted holds (hold.lua).",
            h.seats_granted,
        ),
        (
            "urr_holds_refused_taken",
            "Holds refused: a seat was taken (hold.lua).",
            h.refused_taken,
        ),
        (
            "urr_holds_refused_rate",
            "Holds refused: over the per-user hold rate (hold.lua).",
            h.refused_rate,
        ),
        (
            "urr_holds_refused_cap",
            "Holds refused: over the per-user seat cap (hold.lua).",
            h.refused_cap,
        ),
        (
            "urr_business_scan_truncated",
            "1 when the scrape stopped at its key limit (sums are partial).",
            i64::from(truncated),
        ),
    ];
    for (name, help, value) in gauges {
        sample(&mut out, "gauge", name, help, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::event_of;

    #[test]
    fn the_event_is_read_from_the_hash_tag() {
        assert_eq!(event_of("urr:queue:{evt:e1}:state"), Some("e1"));
        assert_eq!(event_of("urr:seat:{evt:e1}:s9"), Some("e1"));
        assert_eq!(event_of("urr:queue:{evt:"), None);
        assert_eq!(event_of("urr:rl:u1"), None);
    }
}
