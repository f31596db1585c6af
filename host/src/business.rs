//! The business counters on `GET /metrics`: what the waiting room and the seat holds did, as
//! counted in Redis by the scripts that do the work (`visit.lua`/`leave.lua` in each event's
//! queue state hash, `hold.lua` in each event's hold counters). The host reads them under the
//! application's key prefix, summed over every event whose state is still in Redis, with the
//! same field lists and summing as the admin dashboard's `live` block.
//!
//! They are gauges, not counters: an event's hashes expire with its idle waiting room, and the
//! sum drops then. Reservations, payments and refunds are counted by the admin dashboard from
//! their tables (Postgres is their source of truth); the host holds no database role to read them.

use crate::stores::Stores;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::time::Duration;
use urr_admin_domain::live::{HOLD_FIELDS, LiveCounters, QUEUE_FIELDS, event_keys};

/// Keys the scrape looks at, at most: it walks the keyspace with SCAN, and a scrape must stay
/// cheap on a Redis that also holds every rate-limit and hold key.
pub const MAX_SCANNED_KEYS: usize = 200_000;
/// Keys per SCAN step.
const SCAN_COUNT: usize = 1_000;
/// A scrape gives up on Redis after this long and reports the counters as unavailable.
pub const SCRAPE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the counters live: the application's `redis_address` and `key_prefix` variables.
pub struct Source<'a> {
    pub redis_address: &'a str,
    pub key_prefix: &'a str,
}

impl<'a> Source<'a> {
    /// `None` when the application declares no Redis (a test fixture).
    pub fn of(app_vars: &'a HashMap<String, String>) -> Option<Self> {
        Some(Self {
            redis_address: app_vars.get("redis_address")?,
            key_prefix: app_vars.get("key_prefix")?,
        })
    }
}

/// The counters, summed, and whether the scan stopped at [`MAX_SCANNED_KEYS`].
struct Scrape {
    live: LiveCounters,
    truncated: bool,
}

async fn scrape(stores: &Stores, source: &Source<'_>) -> anyhow::Result<Scrape> {
    let mut conn = stores.redis(source.redis_address).await?;
    let prefix = source.key_prefix;
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

/// The Prometheus text of the business counters (`urr_business_up 0` alone when Redis cannot
/// answer in time).
pub async fn render(stores: &Stores, source: &Source<'_>) -> String {
    let mut out = String::new();
    let scraped = tokio::time::timeout(SCRAPE_TIMEOUT, scrape(stores, source)).await;
    let up = matches!(scraped, Ok(Ok(_)));
    let _ = writeln!(
        out,
        "# HELP urr_business_up Whether the business counters could be read from Redis.\n\
         # TYPE urr_business_up gauge\nurr_business_up {}",
        u8::from(up)
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
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
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
