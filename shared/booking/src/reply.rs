//! Successful replies that are not built by SQL (the reserve functions build and store theirs,
//! so a replay is byte-for-byte the first answer).

use crate::input::{EntityId, SeatSet};
use serde_json::{Value, json};
use urr_api::time::format_unix_millis;

/// `POST /seats/lock`: the holds, their token (needed to release them) and their expiry.
pub fn held(event: &EntityId, seats: &SeatSet, token: i64, expires_at_ms: i64) -> Value {
    let expires_at = format_unix_millis(expires_at_ms);
    json!({
        "success": true,
        "message": "Seats held",
        "eventId": event.as_str(),
        "seatIds": seats.strings(),
        "fencingToken": token,
        "expiresAt": expires_at,
        "expires_at": expires_at,
    })
}

/// `DELETE /seats/lock`: how many of the named holds were the caller's and are gone.
pub fn released(count: i64) -> Value {
    json!({ "success": true, "message": "Seats released", "released": count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_reply_carries_the_token_and_both_expiry_names() {
        let event = EntityId::parse("0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b", "e").expect("id");
        let seats =
            SeatSet::parse(Some(&json!(["11111111-1111-4111-8111-111111111111"]))).expect("s");
        let body = held(&event, &seats, 42, 0);
        assert_eq!(body["fencingToken"], 42);
        assert_eq!(body["expiresAt"], "1970-01-01T00:00:00.000Z");
        assert_eq!(body["expiresAt"], body["expires_at"]);
    }
}
