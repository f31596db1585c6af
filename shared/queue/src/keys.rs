//! The Redis keys of one event's waiting room. Every key is hash-tagged `{evt:<event id>}` so a
//! script's keys share one Redis Cluster slot, and starts with the configurable prefix so tests
//! (and several deployments on one Redis) stay apart.
//!
//! Fixed layout (other components depend on it):
//! - `<prefix>:queue:{evt:<id>}:active` — ZSET, member = user id (lower-case UUID), score = slot
//!   expiry in epoch ms (Redis TIME). The pay path ZREMs a member when the user has bought.
//! - `<prefix>:queue:{evt:<id>}:slots`  — HASH user id → admitted at (epoch ms), for the cap on
//!   a slot's total lifetime ([`crate::SLOT_TOUCH_SCRIPT`] takes it as KEYS[2]).
//! - `:waiting` (ZSET, score = arrival sequence), `:seen` (ZSET, last seen ms), `:state` (HASH:
//!   sequence, admission bookkeeping, measured rate, counters, event info), `:threshold` (admin
//!   override of the maximum active count), `:event` (the event gate's short cache),
//!   `:presale` (ZSET, the fair start's pool: user id → draw), `:fair` (HASH: the fair start's
//!   `seed` and when the sale `opens_ms`; kept by a clear so the published seed hash stays).

/// Every key of one event's waiting room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventKeys {
    pub active: String,
    pub waiting: String,
    pub seen: String,
    pub slots: String,
    pub state: String,
    pub threshold: String,
    pub event: String,
    pub presale: String,
    pub fair: String,
}

/// `<prefix>:queue:{evt:<event id>}:active`, for components that only check slots.
pub fn active_key(prefix: &str, event_id: &str) -> String {
    EventKeys::new(prefix, event_id).active
}

impl EventKeys {
    pub fn new(prefix: &str, event_id: &str) -> Self {
        let base = format!("{prefix}:queue:{{evt:{}}}", event_id.to_ascii_lowercase());
        let key = |thing: &str| format!("{base}:{thing}");
        Self {
            active: key("active"),
            waiting: key("waiting"),
            seen: key("seen"),
            slots: key("slots"),
            state: key("state"),
            threshold: key("threshold"),
            event: key("event"),
            presale: key("presale"),
            fair: key("fair"),
        }
    }

    /// KEYS of the visit script, in its order.
    pub fn visit(&self) -> Vec<String> {
        vec![
            self.active.clone(),
            self.waiting.clone(),
            self.seen.clone(),
            self.slots.clone(),
            self.state.clone(),
            self.threshold.clone(),
            self.presale.clone(),
            self.fair.clone(),
        ]
    }

    /// KEYS of the leave script, in its order.
    pub fn leave(&self) -> Vec<String> {
        let mut keys = self.visit()[..5].to_vec();
        keys.push(self.presale.clone());
        keys
    }

    /// KEYS of the slot-touch script, in its order.
    pub fn slot_touch(&self) -> Vec<String> {
        vec![self.active.clone(), self.slots.clone()]
    }

    /// What an admin's clear deletes: everyone in line (the pool too) and every slot, with the
    /// bookkeeping. The threshold (configuration) and the fair start's seed stay: its hash may
    /// already be published, and people who join again draw the same numbers.
    pub fn cleared(&self) -> Vec<String> {
        let mut keys = self.leave();
        keys.push(self.event.clone());
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_active_set_has_the_fixed_layout() {
        let keys = EventKeys::new("urr", "0B5E7C1E-3F7A-4B8E-9A4E-1C2D3E4F5A6B");
        assert_eq!(
            keys.active,
            "urr:queue:{evt:0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b}:active"
        );
        assert_eq!(
            active_key("t", "e1"),
            "t:queue:{evt:e1}:active",
            "components that only check slots build the same key"
        );
    }

    #[test]
    fn every_key_shares_the_event_hash_tag_and_the_prefix() {
        let keys = EventKeys::new("p", "e1");
        for key in keys.visit().iter().chain(keys.cleared().iter()) {
            assert!(key.starts_with("p:queue:{evt:e1}:"), "{key}");
        }
        assert_eq!(keys.leave().len(), 6);
        assert_eq!(keys.visit().len(), 8);
        assert!(keys.cleared().contains(&keys.presale));
        assert_eq!(
            keys.slot_touch(),
            vec![keys.active.clone(), keys.slots.clone()]
        );
        assert!(!keys.cleared().contains(&keys.threshold));
        assert!(!keys.cleared().contains(&keys.fair));
    }
}
