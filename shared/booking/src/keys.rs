//! Every Redis key of the booking routes. All keys of one event share the hash tag
//! `{evt:<event_id>}`, so one script can touch all of an event's seats on one Redis Cluster
//! slot; every key starts with the configured prefix (test isolation).

use crate::EntityId;

fn seat_base(prefix: &str, event: &EntityId) -> String {
    format!("{prefix}:seat:{{evt:{event}}}")
}

/// The hold on one seat: `<prefix>:seat:{evt:<event>}:<seat>` = `<user>:<token>`.
pub fn hold_key(prefix: &str, event: &EntityId, seat: &EntityId) -> String {
    format!("{}:{seat}", seat_base(prefix, event))
}

/// The event's hold counters (HASH: granted, seats_granted, refused_taken, refused_rate,
/// refused_cap), written by the hold script itself.
pub fn hold_stats_key(prefix: &str, event: &EntityId) -> String {
    format!("{}:stats", seat_base(prefix, event))
}

/// The event's fencing-token counter.
pub fn fence_key(prefix: &str, event: &EntityId) -> String {
    format!("{}:fence", seat_base(prefix, event))
}

/// The seats one user holds for the event (ZSET seat -> expiry ms): the held-at-once cap.
pub fn user_holds_key(prefix: &str, event: &EntityId, user_id: &str) -> String {
    format!("{}:user:{user_id}", seat_base(prefix, event))
}

/// One user's hold calls in the current minute for the event.
pub fn user_rate_key(prefix: &str, event: &EntityId, user_id: &str) -> String {
    format!("{}:rate:{user_id}", seat_base(prefix, event))
}

/// The event's seat map, shared by every reader (`seat_map::SharedSeatMap`).
pub fn seat_map_key(prefix: &str, event: &EntityId) -> String {
    format!("{}:map", seat_base(prefix, event))
}

/// Who may rebuild the event's seat map now (SET NX with a lease).
pub fn seat_map_lease_key(prefix: &str, event: &EntityId) -> String {
    format!("{}:map:lease", seat_base(prefix, event))
}

/// The waiting room's active set of an event (ZSET user -> slot expiry ms), owned by the queue.
pub fn queue_active_key(prefix: &str, event: &EntityId) -> String {
    format!("{prefix}:queue:{{evt:{event}}}:active")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot_tag(key: &str) -> &str {
        let start = key.find('{').unwrap_or(0);
        let end = key[start..].find('}').map_or(key.len(), |e| start + e + 1);
        &key[start..end]
    }

    #[test]
    fn every_key_of_an_event_shares_one_hash_tag() {
        let event = EntityId::parse("0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b", "e").expect("id");
        let seat = EntityId::parse("11111111-1111-4111-8111-111111111111", "s").expect("id");
        let keys = [
            hold_key("urr", &event, &seat),
            fence_key("urr", &event),
            user_holds_key("urr", &event, "u1"),
            user_rate_key("urr", &event, "u1"),
            hold_stats_key("urr", &event),
            queue_active_key("urr", &event),
            seat_map_key("urr", &event),
            seat_map_lease_key("urr", &event),
        ];
        for key in &keys {
            assert!(key.starts_with("urr:"), "{key}");
            assert_eq!(slot_tag(key), "{evt:0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b}");
        }
        assert_eq!(
            keys[0],
            "urr:seat:{evt:0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b}:11111111-1111-4111-8111-111111111111"
        );
    }
}
