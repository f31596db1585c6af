//! The gate at the surge: joins need the event on sale, or opening within the lead time.
//! `queue-join` reads the event once from Postgres (as `urr_queue`, which may read only these
//! columns) and caches what it read in Redis for [`crate::settings::EVENT_CACHE_MS`], so a
//! rush of joins costs Postgres one query per event every few seconds. Unknown events are cached
//! too: a flood of random ids does not reach Postgres either.

use crate::QueueError;
use serde::{Deserialize, Serialize};

/// The event's status by Postgres' own rule and clock (`event_status(..., now())`), title and
/// artist, how long until its sale opens (negative once open), and when it opens (epoch ms, for
/// the fair start, which the visit script compares with Redis' clock), for event `$1`.
pub const READ_EVENT: &str = "\
    SELECT title, artist_name, \
           event_status(cancelled, sale_start_date, sale_end_date, now()) AS status, \
           floor(extract(epoch FROM sale_start_date - now()) * 1000)::int8 AS opens_in_ms, \
           floor(extract(epoch FROM sale_start_date) * 1000)::int8 AS opens_at_ms \
    FROM events WHERE id = $1::uuid";

/// One event as the gate sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSnapshot {
    /// `upcoming`, `on_sale`, `ended` or `cancelled`.
    pub status: String,
    /// Milliseconds until the sale opens when it was read (negative once open).
    pub opens_in_ms: i64,
    /// When the sale opens, epoch ms (0 in cache entries written before this field existed).
    #[serde(default)]
    pub opens_at_ms: i64,
    pub title: String,
    pub artist: String,
}

/// What the cache holds for an event id: the event, or the fact that there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CachedEvent {
    Found(EventSnapshot),
    Missing,
}

impl CachedEvent {
    pub fn to_cache(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A cache entry this build cannot read is treated as absent (read Postgres again).
    pub fn from_cache(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }

    /// Whether a user may join now, with `open_lead_ms` of lead before the sale opens.
    pub fn admits_joins(&self, open_lead_ms: i64) -> Result<&EventSnapshot, QueueError> {
        let CachedEvent::Found(event) = self else {
            return Err(QueueError::EventNotFound);
        };
        match event.status.as_str() {
            "on_sale" => Ok(event),
            "upcoming" if event.opens_in_ms <= open_lead_ms => Ok(event),
            "upcoming" => Err(QueueError::SaleNotOpen),
            "cancelled" => Err(QueueError::EventCancelled),
            _ => Err(QueueError::SaleEnded),
        }
    }
}

impl EventSnapshot {
    /// Whether a join now comes before the sale opens (by the gate's reading, at most
    /// [`crate::settings::EVENT_CACHE_MS`] old): such a join gets a fair-start draw, and the
    /// visit script, on Redis' clock, decides whether it still goes to the pre-sale pool.
    pub fn before_opening(&self) -> bool {
        self.status == "upcoming" && self.opens_at_ms > 0
    }

    /// When the sale opens, for the visit script (`None`: not known).
    pub fn opens_at_ms(&self) -> Option<u64> {
        u64::try_from(self.opens_at_ms).ok().filter(|ms| *ms > 0)
    }

    /// The contract's `eventInfo`, as the visit script stores it for the status route.
    pub fn info_json(&self) -> String {
        serde_json::json!({"title": self.title, "artist": self.artist}).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(status: &str, opens_in_ms: i64) -> CachedEvent {
        CachedEvent::Found(EventSnapshot {
            status: status.into(),
            opens_in_ms,
            opens_at_ms: 1_900_000_000_000 + opens_in_ms,
            title: "Concert".into(),
            artist: "IU".into(),
        })
    }

    #[test]
    fn joins_need_the_sale_open_or_opening_within_the_lead() {
        assert!(event("on_sale", -5).admits_joins(0).is_ok());
        assert!(event("upcoming", 60_000).admits_joins(600_000).is_ok());
        assert_eq!(
            event("upcoming", 600_001).admits_joins(600_000).err(),
            Some(QueueError::SaleNotOpen)
        );
        assert_eq!(
            event("cancelled", -5).admits_joins(600_000).err(),
            Some(QueueError::EventCancelled)
        );
        assert_eq!(
            event("ended", -5).admits_joins(600_000).err(),
            Some(QueueError::SaleEnded)
        );
        assert_eq!(
            CachedEvent::Missing.admits_joins(600_000).err(),
            Some(QueueError::EventNotFound)
        );
    }

    #[test]
    fn cache_entries_round_trip_and_garbage_reads_as_absent() {
        for cached in [event("on_sale", -1), CachedEvent::Missing] {
            assert_eq!(
                CachedEvent::from_cache(cached.to_cache().as_bytes()),
                Some(cached)
            );
        }
        assert_eq!(CachedEvent::from_cache(b"{\"kind\":\"other\"}"), None);
        // An entry from before `opens_at_ms` existed still reads (no fair start for its 5 s).
        let old =
            br#"{"kind":"found","status":"upcoming","opens_in_ms":5,"title":"t","artist":"a"}"#;
        let Some(CachedEvent::Found(e)) = CachedEvent::from_cache(old) else {
            panic!("old entry unreadable")
        };
        assert_eq!((e.opens_at_ms(), e.before_opening()), (None, false));
    }

    #[test]
    fn only_joins_before_the_opening_get_a_draw() {
        let CachedEvent::Found(up) = event("upcoming", 60_000) else {
            unreachable!()
        };
        assert!(up.before_opening());
        assert_eq!(up.opens_at_ms(), Some(1_900_000_060_000));
        let CachedEvent::Found(open) = event("on_sale", -5) else {
            unreachable!()
        };
        assert!(!open.before_opening());
    }

    #[test]
    fn event_info_is_the_contract_shape() {
        let CachedEvent::Found(e) = event("on_sale", 0) else {
            unreachable!()
        };
        let info: serde_json::Value = serde_json::from_str(&e.info_json()).expect("json");
        assert_eq!(
            info,
            serde_json::json!({"title": "Concert", "artist": "IU"})
        );
    }
}
