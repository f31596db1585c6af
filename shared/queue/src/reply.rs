//! A visit's outcome in, the contract's JSON out: positions, the ETA from the measured admission
//! rate, and when the client should poll next.

use crate::scripts::{Placement, Visit};
use serde_json::{Value, json};

/// Poll interval of an admitted user: the status call also renews the slot and the token.
pub const ACTIVE_POLL_SECS: u64 = 3;
/// Poll interval of someone not in the line (they may join again).
pub const NOT_IN_QUEUE_POLL_SECS: u64 = 5;

/// The contract's table: <=1,000 → 1 s; <=5,000 → 5; <=10,000 → 10; <=100,000 → 30; else 60.
pub fn next_poll_secs(position: u64) -> u64 {
    match position {
        0..=1_000 => 1,
        1_001..=5_000 => 5,
        5_001..=10_000 => 10,
        10_001..=100_000 => 30,
        _ => 60,
    }
}

/// Seconds until `people_ahead` have been admitted at the rate actually measured (users/s x
/// 1000), or at the configured rate before anything was measured.
pub fn estimated_wait_secs(
    people_ahead: u64,
    measured_rate_milli: u64,
    configured_rate: u32,
) -> u64 {
    let rate_milli = if measured_rate_milli > 0 {
        measured_rate_milli
    } else {
        u64::from(configured_rate.max(1)) * 1000
    };
    (people_ahead.saturating_mul(1000)).div_ceil(rate_milli)
}

/// Whole seconds left on a slot (for the entry token's lifetime), at least 1.
pub fn slot_secs_left(visit: &Visit) -> u64 {
    match visit.placement {
        Placement::Active { expires_at_ms } => expires_at_ms
            .saturating_sub(visit.now_ms)
            .div_ceil(1000)
            .max(1),
        _ => 0,
    }
}

/// The stored `{title, artist}`, or nulls when the join step has not stored it.
fn event_info(visit: &Visit) -> Value {
    visit
        .event_info
        .as_deref()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({"title": null, "artist": null}))
}

fn queued(visit: &Visit, position: u64, configured_rate: u32) -> Value {
    let ahead = position.saturating_sub(1);
    json!({
        "queued": true,
        "status": "queued",
        "position": position,
        "peopleAhead": ahead,
        "peopleBehind": visit.waiting.saturating_sub(position),
        "queueSize": visit.waiting,
        "estimatedWait": estimated_wait_secs(ahead, visit.measured_rate_milli, configured_rate),
        "nextPoll": next_poll_secs(position),
        "threshold": visit.threshold,
        "currentUsers": visit.active,
        "eventInfo": event_info(visit),
    })
}

/// The reply to `POST /queue/check/{eventId}` and `GET /queue/status/{eventId}`. `entry_token`
/// is the freshly minted token when the user is active.
pub fn visit_body(visit: &Visit, configured_rate: u32, entry_token: Option<&str>) -> Value {
    match visit.placement {
        Placement::Active { expires_at_ms } => json!({
            "queued": false,
            "status": "active",
            "message": "You may enter",
            "currentUsers": visit.active,
            "threshold": visit.threshold,
            "nextPoll": ACTIVE_POLL_SECS,
            "eventInfo": event_info(visit),
            "entryToken": entry_token,
            "expiresAt": expires_at_ms,
        }),
        Placement::Waiting { position } => queued(visit, position, configured_rate),
        Placement::NotInQueue => json!({
            "queued": false,
            "status": "not_in_queue",
            "currentUsers": visit.active,
            "nextPoll": NOT_IN_QUEUE_POLL_SECS,
        }),
    }
}

/// The reply to `POST /queue/heartbeat/{eventId}`.
pub fn heartbeat_body(visit: &Visit) -> Value {
    let (status, queued) = match visit.placement {
        Placement::Active { .. } => ("active", false),
        Placement::Waiting { .. } => ("queued", true),
        Placement::NotInQueue => ("not_in_queue", false),
    };
    json!({"status": status, "queued": queued})
}

/// The reply to `GET /queue/admin/{eventId}`.
pub fn admin_body(event_id: &str, visit: &Visit) -> Value {
    json!({
        "eventId": event_id,
        "queueSize": visit.waiting,
        "currentUsers": visit.active,
        "threshold": visit.threshold,
        "available": visit.threshold.saturating_sub(visit.active),
        "measuredRate": visit.measured_rate_milli as f64 / 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit(placement: Placement) -> Visit {
        Visit {
            placement,
            active: 100,
            waiting: 500,
            threshold: 100,
            now_ms: 10_000,
            measured_rate_milli: 0,
            event_info: Some(r#"{"title":"Concert","artist":"IU"}"#.into()),
        }
    }

    #[test]
    fn next_poll_follows_the_contract_table() {
        for (position, secs) in [
            (1, 1),
            (1_000, 1),
            (1_001, 5),
            (5_000, 5),
            (10_000, 10),
            (100_000, 30),
            (100_001, 60),
        ] {
            assert_eq!(next_poll_secs(position), secs, "{position}");
        }
    }

    #[test]
    fn the_eta_uses_the_measured_rate_and_falls_back_to_the_configured_one() {
        assert_eq!(estimated_wait_secs(0, 0, 100), 0);
        assert_eq!(estimated_wait_secs(250, 0, 100), 3);
        assert_eq!(
            estimated_wait_secs(250, 50_000, 100),
            5,
            "50 users/s measured"
        );
        assert_eq!(
            estimated_wait_secs(1, 0, 0),
            1,
            "a zero rate never divides by zero"
        );
    }

    #[test]
    fn a_waiter_sees_the_contract_fields() {
        let body = visit_body(&visit(Placement::Waiting { position: 3 }), 100, None);
        assert_eq!(body["queued"], true);
        assert_eq!(body["status"], "queued");
        assert_eq!(body["position"], 3);
        assert_eq!(body["peopleAhead"], 2);
        assert_eq!(body["peopleBehind"], 497);
        assert_eq!(body["queueSize"], 500);
        assert_eq!(body["estimatedWait"], 1);
        assert_eq!(body["nextPoll"], 1);
        assert_eq!(body["threshold"], 100);
        assert_eq!(body["currentUsers"], 100);
        assert_eq!(body["eventInfo"]["artist"], "IU");
    }

    #[test]
    fn an_admitted_user_gets_the_token_and_polls_every_three_seconds() {
        let v = visit(Placement::Active {
            expires_at_ms: 610_000,
        });
        let body = visit_body(&v, 100, Some("tok"));
        assert_eq!(body["status"], "active");
        assert_eq!(body["queued"], false);
        assert_eq!(body["entryToken"], "tok");
        assert_eq!(body["nextPoll"], 3);
        assert_eq!(slot_secs_left(&v), 600);
        assert_eq!(
            heartbeat_body(&v),
            json!({"status": "active", "queued": false})
        );
    }

    #[test]
    fn someone_not_in_line_is_told_so() {
        let mut v = visit(Placement::NotInQueue);
        v.event_info = None;
        let body = visit_body(&v, 100, None);
        assert_eq!(body["status"], "not_in_queue");
        assert_eq!(body["queued"], false);
        assert_eq!(admin_body("e", &v)["available"], 0);
    }
}
