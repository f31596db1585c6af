//! Frees, after a commit, the seat holds of reservations Postgres has just moved out of a live
//! status (a buyer's cancel or refund, an operator's cancel, an event cancel): the components
//! that cancel (`payments`, `admin`) run `free.lua` with what the SQL function returned, so the
//! next buyer's hold is never refused by a hold of a reservation that no longer exists.
//!
//! Postgres has decided: a Redis failure here never fails the request. The holds it could not
//! free end by themselves, at the latest when the reservation would have expired (the reserve
//! set them to; docs/booking.md, "Cancelling").

use spin_sdk::redis::Connection;
use urr_booking::freed::FreedHolds;
use urr_booking::{EntityId, keys, scripts};

use crate::store;

/// Frees the holds in `holds` (the function's `holds` column; `None`: nothing to free).
/// `what` names the change in the log.
pub async fn free_holds(
    redis: Option<&Connection>,
    key_prefix: &str,
    holds: Option<&str>,
    what: &str,
) {
    let Some(text) = holds else { return };
    let Some(freed) = FreedHolds::parse(text) else {
        eprintln!("{what}: holds not freed, unreadable list: {text}");
        return;
    };
    let Some(conn) = redis else {
        eprintln!(
            "{what}: {} hold(s) of event {} not freed, redis unavailable; they expire by themselves",
            freed.holds.len(),
            freed.event
        );
        return;
    };
    seat_map_changed(conn, key_prefix, &freed.event).await;
    let mut count = 0;
    for call in scripts::free(key_prefix, &freed) {
        match store::run(conn, &call).await {
            Ok(reply) => count += reply.first().copied().unwrap_or(0),
            Err(e) => {
                eprintln!(
                    "{what}: holds of event {} not freed, redis: {}; they expire by themselves",
                    freed.event, e.0
                );
                return;
            }
        }
    }
    if count > 0 {
        eprintln!("{what}: freed {count} hold(s) of event {}", freed.event);
    }
}

/// Drops the event's shared seat map after a commit that freed seats, so the next reader
/// rebuilds it instead of serving a copy up to a second old (`urr_booking::seat_map`). A copy a
/// reader built from before the commit may still land after this; it is fresh for at most a
/// second from when that reader started, which is the map's documented bound.
async fn seat_map_changed(conn: &Connection, key_prefix: &str, event: &EntityId) {
    let key = keys::seat_map_key(key_prefix, event);
    if let Err(e) = conn.del(&[key.as_str()]).await {
        eprintln!(
            "seat map of event {event} not dropped, redis: {e:?}; it is rebuilt within a second"
        );
    }
}
