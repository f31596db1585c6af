//! Redis keys payments touch: only the waiting room's active set, to free the buyer's slot once
//! the reservation is paid (the queue owns the key's shape; it is built the same way here).

/// The sorted set of users holding an active slot for `event_id` (member: the user id).
pub fn queue_active_key(prefix: &str, event_id: &str) -> String {
    format!("{prefix}:queue:{{evt:{event_id}}}:active")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_active_key_is_hash_tagged_by_event() {
        assert_eq!(
            queue_active_key("urr", "e1"),
            "urr:queue:{evt:e1}:active".to_string()
        );
    }
}
