//! The waiting-room gate of the seat routes: a queue entry token for this user and this event
//! (`x-queue-entry-token`), and — when Redis answers — a live active slot. Anything else is the
//! 403 `queue_required` that sends the client back to the queue.

use crate::{BookingSettings, Refusal, store};
use http::HeaderMap;
use spin_sdk::redis::Connection;
use urr_booking::{BookingError, EntityId, scripts};

/// Admits `user_id` to `event`, or refuses with `queue_required`. With Redis down (`redis`
/// None) the signed token alone admits: reserve and the seat map must work on Postgres alone.
pub async fn require_entry(
    headers: &HeaderMap,
    settings: &BookingSettings,
    user_id: &str,
    event: &EntityId,
    redis: Option<&Connection>,
) -> Result<(), Refusal> {
    let refused = || BookingError::QueueRequired {
        event_id: event.as_str().to_string(),
    };
    let token = headers
        .get(urr_tokens::ENTRY_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(refused)?;
    let entry = urr_tokens::verify_entry(&settings.queue_keys, token).map_err(|e| {
        eprintln!("entry token refused: {e}");
        refused()
    })?;
    entry.admits(user_id, event.as_str()).map_err(|e| {
        eprintln!("entry token refused: {e}");
        refused()
    })?;
    if let Some(conn) = redis
        && !slot_is_live(conn, settings, user_id, event).await
    {
        return Err(refused().into());
    }
    Ok(())
}

/// Whether the user's active slot still exists (the queue's ZSET, Redis' clock). The one place
/// that knows how the queue stores slots; a Redis error admits on the token's word, like an
/// outage does.
async fn slot_is_live(
    conn: &Connection,
    settings: &BookingSettings,
    user_id: &str,
    event: &EntityId,
) -> bool {
    let call = scripts::slot(&settings.session.key_prefix, event, user_id);
    match store::run(conn, &call).await {
        Ok(reply) => reply.first() == Some(&1),
        Err(e) => {
            eprintln!("slot check skipped, redis: {}", e.0);
            true
        }
    }
}
