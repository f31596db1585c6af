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
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;
use urr_admin_domain::live::{HOLD_FIELDS, LiveCounters, QUEUE_FIELDS};

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
    // One pattern per hash kind; `{` and `}` are literal in Redis globs.
    let queue_states = format!("{prefix}:queue:{{evt:*}}:state");
    let hold_stats = format!("{prefix}:seat:{{evt:*}}:stats");
    let mut live = LiveCounters::default();
    let mut scanned = 0;
    let mut cursor: u64 = 0;
    let mut events: HashMap<String, [Vec<Option<String>>; 2]> = HashMap::new();
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*:{{evt:*}}:*"))
            .arg("COUNT")
            .arg(SCAN_COUNT)
            .query_async(&mut conn)
            .await?;
        scanned += SCAN_COUNT;
        for key in keys {
            let event = key
                .split_once("{evt:")
                .and_then(|(_, rest)| rest.split_once('}'))
                .map(|(event, _)| event.to_string());
            let Some(event) = event else { continue };
            let (slot, fields) = if glob_matches(&queue_states, &key) {
                (0, &QUEUE_FIELDS[..])
            } else if glob_matches(&hold_stats, &key) {
                (1, &HOLD_FIELDS[..])
            } else {
                continue;
            };
            let values: Vec<Option<String>> = redis::cmd("HMGET")
                .arg(&key)
                .arg(fields)
                .query_async(&mut conn)
                .await?;
            events.entry(event).or_default()[slot] = values;
        }
        cursor = next;
        if cursor == 0 || scanned >= MAX_SCANNED_KEYS {
            break;
        }
    }
    for [queue, holds] in events.values() {
        live.add_event(queue, holds);
    }
    Ok(Scrape {
        live,
        truncated: cursor != 0,
    })
}

/// `<prefix>:queue:{evt:*}:state` style: one `*` standing for the event id.
fn glob_matches(pattern: &str, key: &str) -> bool {
    match pattern.split_once('*') {
        Some((head, tail)) => {
            key.len() >= head.len() + tail.len()
                && key.starts_with(head)
                && key.ends_with(tail)
                && !key[head.len()..key.len() - tail.len()].contains('}')
        }
        None => pattern == key,
    }
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
    use super::glob_matches;

    #[test]
    fn the_patterns_take_one_event_id_and_nothing_else() {
        let state = "urr:queue:{evt:*}:state";
        assert!(glob_matches(state, "urr:queue:{evt:e1}:state"));
        assert!(!glob_matches(state, "urr:queue:{evt:e1}:active"));
        assert!(!glob_matches(state, "urr:seat:{evt:e1}:state"));
        assert!(!glob_matches(state, "urr:queue:{evt:e1}:x}:state"));
        assert!(!glob_matches(state, "urr:queue:{evt:"));
        assert!(glob_matches("a", "a") && !glob_matches("a", "b"));
    }
}
