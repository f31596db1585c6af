//! The waiting-room gate of the seat routes: a queue entry token for this user and this event
//! (`x-queue-entry-token`), and a live active slot in Redis — or, when Redis cannot answer, the
//! token's verified signature. Anything else is the 403 `queue_required` that sends the client
//! back to the queue.

use crate::{BookingSettings, Refusal, store};
use http::HeaderMap;
use spin_sdk::redis::Connection;
use urr_booking::{BookingError, EntityId, scripts};

/// Admits `user_id` to `event`, or refuses with `queue_required`.
///
/// The token must be present, well-formed, unexpired and name this user and this event. Then
/// the proof of admission: the user's live active slot when Redis answers (the queue's own
/// record, and stronger than the token, which outlives a slot that ended), else the token's
/// verified signature: reserve and the seat map must work on Postgres alone. The signature is
/// not checked when the slot proves more: that saves one Ed25519 verification, the largest CPU
/// cost of a seat request, on every call.
pub async fn require_entry(
    headers: &HeaderMap,
    settings: &BookingSettings,
    user_id: &str,
    event: &EntityId,
    redis: Option<&Connection>,
) -> Result<(), Refusal> {
    let refused = |why: &dyn std::fmt::Display| {
        eprintln!("entry token refused: {why}");
        Refusal::from(BookingError::QueueRequired {
            event_id: event.as_str().to_string(),
        })
    };
    let token = headers
        .get(urr_tokens::ENTRY_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| refused(&"missing"))?;
    let inspected =
        urr_tokens::inspect_entry(&settings.queue_keys, token).map_err(|e| refused(&e))?;
    inspected
        .claimed()
        .admits(user_id, event.as_str())
        .map_err(|e| refused(&e))?;
    let slot = match redis {
        Some(conn) => slot_is_live(conn, settings, user_id, event).await,
        None => None,
    };
    match slot {
        Some(true) => Ok(()),
        Some(false) => Err(refused(&"no live active slot")),
        None => inspected
            .verify_signature()
            .map(drop)
            .map_err(|e| refused(&e)),
    }
}

/// Whether the user's active slot still exists (the queue's ZSET, Redis' clock); `None` when
/// Redis cannot say. The one place that knows how the queue stores slots.
async fn slot_is_live(
    conn: &Connection,
    settings: &BookingSettings,
    user_id: &str,
    event: &EntityId,
) -> Option<bool> {
    let call = scripts::slot(&settings.session.key_prefix, event, user_id);
    match store::run(conn, &call).await {
        Ok(reply) => Some(reply.first() == Some(&1)),
        Err(e) => {
            eprintln!("slot check skipped, redis: {}", e.0);
            None
        }
    }
}
