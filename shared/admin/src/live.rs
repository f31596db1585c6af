//! The dashboard's live business counters: what the waiting room and the seat holds did, counted
//! in Redis by the scripts that do the work (`visit.lua` and `leave.lua` in the queue's per-event
//! state hash, `hold.lua` in the event's hold counters) and summed here over the events that may
//! still have live state. Reservations, payments and refunds are counted in Postgres with each
//! change (the dashboard's `counters`, `sql::DASHBOARD`).

use serde::Serialize;

/// Events whose counters are read per dashboard call: two Redis reads each, and the events with
/// a sale window open or recent are the ones with live state.
pub const MAX_LIVE_EVENTS: i64 = 200;

/// The Redis hash fields read for each event, in reply order.
pub const QUEUE_FIELDS: [&str; 4] = ["joined", "admitted", "left", "dropped"];
pub const HOLD_FIELDS: [&str; 5] = [
    "granted",
    "seats_granted",
    "refused_taken",
    "refused_rate",
    "refused_cap",
];

/// The two hashes of one event: the queue's state and the hold counters.
pub fn event_keys(prefix: &str, event_id: &str) -> Result<(String, String), String> {
    let event = urr_booking::EntityId::parse(event_id, "eventId").map_err(|e| e.to_string())?;
    Ok((
        urr_queue::EventKeys::new(prefix, event.as_str()).state,
        urr_booking::keys::hold_stats_key(prefix, &event),
    ))
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct QueueCounters {
    pub joined: i64,
    pub admitted: i64,
    pub left: i64,
    pub dropped: i64,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldCounters {
    pub granted: i64,
    pub seats_granted: i64,
    pub refused_taken: i64,
    pub refused_rate: i64,
    pub refused_cap: i64,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveCounters {
    pub events: u32,
    pub queue: QueueCounters,
    pub holds: HoldCounters,
}

/// An HMGET answer as counts: a missing field (or a hash that expired) counts 0.
fn counts<const N: usize>(values: &[Option<String>]) -> [i64; N] {
    let mut out = [0; N];
    for (slot, value) in out.iter_mut().zip(values) {
        *slot = value.as_deref().and_then(|v| v.parse().ok()).unwrap_or(0);
    }
    out
}

impl LiveCounters {
    /// Adds one event's two HMGET answers (fields in [`QUEUE_FIELDS`] / [`HOLD_FIELDS`] order).
    pub fn add_event(&mut self, queue: &[Option<String>], holds: &[Option<String>]) {
        let [joined, admitted, left, dropped] = counts::<4>(queue);
        let [
            granted,
            seats_granted,
            refused_taken,
            refused_rate,
            refused_cap,
        ] = counts::<5>(holds);
        self.events += 1;
        let q = &mut self.queue;
        q.joined += joined;
        q.admitted += admitted;
        q.left += left;
        q.dropped += dropped;
        let h = &mut self.holds;
        h.granted += granted;
        h.seats_granted += seats_granted;
        h.refused_taken += refused_taken;
        h.refused_rate += refused_rate;
        h.refused_cap += refused_cap;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_add_up_and_missing_fields_count_zero() {
        let mut live = LiveCounters::default();
        let some = |v: &str| Some(v.to_string());
        live.add_event(
            &[some("10"), some("4"), None, some("1")],
            &[some("3"), some("5"), some("2"), None, some("x")],
        );
        live.add_event(&[some("1"), None, some("1"), None], &[]);
        assert_eq!(live.events, 2);
        assert_eq!(
            live.queue,
            QueueCounters {
                joined: 11,
                admitted: 4,
                left: 1,
                dropped: 1
            }
        );
        assert_eq!(live.holds.granted, 3);
        assert_eq!(live.holds.seats_granted, 5);
        assert_eq!(live.holds.refused_taken, 2);
        assert_eq!(live.holds.refused_cap, 0, "not a number counts 0");
    }

    #[test]
    fn keys_are_the_scripts_own() {
        let (queue, holds) =
            event_keys("urr", "0B5E7C1E-3F7A-4B8E-9A4E-1C2D3E4F5A6B").expect("keys");
        assert!(queue.ends_with(":state"), "{queue}");
        assert!(holds.ends_with(":stats"), "{holds}");
        assert!(event_keys("urr", "not-a-uuid").is_err());
    }
}
