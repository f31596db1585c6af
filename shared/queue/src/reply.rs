//! A visit's outcome in, the contract's JSON out: positions, the ETA from the measured admission
//! rate, and when the client should poll next.

use crate::fair::Seed;
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

/// The fair start as published: `{seedHash, seed, opensAt, poolSize, inPool}` once the event has
/// a seed. `seed` stays null until the sale has opened by Redis' clock (the script's `now`):
/// before that only its SHA-256 is known, so nobody can compute a draw.
pub fn fair_start(visit: &Visit) -> Option<Value> {
    let fair = visit.fair.as_ref()?;
    let Some(seed) = Seed::from_hex(&fair.seed_hex) else {
        eprintln!("the stored fair-start seed is not 64 hex digits");
        return None;
    };
    let opened = fair.opens_at_ms > 0 && visit.now_ms >= fair.opens_at_ms;
    Some(json!({
        "seedHash": seed.hash_hex(),
        "seed": opened.then(|| seed.to_hex()),
        "opensAt": (fair.opens_at_ms > 0).then_some(fair.opens_at_ms),
        "poolSize": visit.pool,
        "inPool": visit.in_pool,
    }))
}

/// A pre-sale pool member before the opening: in line, but with no place yet (it is drawn at
/// the opening), so the place fields are null; the wait is at least the time to the opening.
fn pooled(visit: &Visit) -> Value {
    let opens_in_secs = visit.fair.as_ref().map_or(0, |f| {
        f.opens_at_ms.saturating_sub(visit.now_ms).div_ceil(1000)
    });
    json!({
        "queued": true,
        "status": "queued",
        "message": "In the pre-sale pool: your place is drawn when the sale opens",
        "position": null,
        "peopleAhead": null,
        "peopleBehind": null,
        "queueSize": visit.waiting,
        "estimatedWait": opens_in_secs,
        // Poll by the pool's size, but be back by the opening.
        "nextPoll": next_poll_secs(visit.pool).min(opens_in_secs.max(1)),
        "threshold": visit.threshold,
        "currentUsers": visit.active,
        "eventInfo": event_info(visit),
    })
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
    let mut body = match visit.placement {
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
        Placement::Pool => pooled(visit),
        Placement::NotInQueue => json!({
            "queued": false,
            "status": "not_in_queue",
            "currentUsers": visit.active,
            "nextPoll": NOT_IN_QUEUE_POLL_SECS,
        }),
    };
    if let Some(fair) = fair_start(visit) {
        body["fairStart"] = fair;
    }
    body
}

/// The reply to `POST /queue/heartbeat/{eventId}`.
pub fn heartbeat_body(visit: &Visit) -> Value {
    let (status, queued) = match visit.placement {
        Placement::Active { .. } => ("active", false),
        Placement::Waiting { .. } | Placement::Pool => ("queued", true),
        Placement::NotInQueue => ("not_in_queue", false),
    };
    json!({"status": status, "queued": queued})
}

/// The reply to `GET /queue/admin/{eventId}`.
pub fn admin_body(event_id: &str, visit: &Visit) -> Value {
    let mut body = json!({
        "eventId": event_id,
        "queueSize": visit.waiting,
        "presalePool": visit.pool,
        "currentUsers": visit.active,
        "threshold": visit.threshold,
        "available": visit.threshold.saturating_sub(visit.active),
        "measuredRate": visit.measured_rate_milli as f64 / 1000.0,
    });
    if let Some(fair) = fair_start(visit) {
        body["fairStart"] = fair;
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripts::FairState;

    fn visit(placement: Placement) -> Visit {
        Visit {
            placement,
            active: 100,
            waiting: 500,
            threshold: 100,
            now_ms: 10_000,
            measured_rate_milli: 0,
            event_info: Some(r#"{"title":"Concert","artist":"IU"}"#.into()),
            pool: 0,
            in_pool: false,
            fair: None,
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

    #[test]
    fn the_seed_is_hidden_before_the_opening_and_revealed_after_it() {
        let seed = Seed::from_bytes([7; 32]);
        let mut v = visit(Placement::Pool);
        v.pool = 300;
        v.in_pool = true;
        v.fair = Some(FairState {
            seed_hex: seed.to_hex(),
            opens_at_ms: 45_500,
        });
        let body = visit_body(&v, 100, None);
        assert_eq!(body["status"], "queued");
        assert_eq!(body["queued"], true);
        for field in ["position", "peopleAhead", "peopleBehind"] {
            assert!(body[field].is_null(), "{field}: no place before the draw");
        }
        assert_eq!(
            body["estimatedWait"], 36,
            "35.5 s to the opening, rounded up"
        );
        assert_eq!(body["nextPoll"], 1);
        assert_eq!(body["fairStart"]["seedHash"], seed.hash_hex());
        assert!(body["fairStart"]["seed"].is_null(), "{body}");
        assert_eq!(body["fairStart"]["opensAt"], 45_500);
        assert_eq!(body["fairStart"]["poolSize"], 300);
        assert_eq!(body["fairStart"]["inPool"], true);
        assert_eq!(
            heartbeat_body(&v),
            json!({"status": "queued", "queued": true})
        );
        // Far from the opening, a small pool polls every second but never past the opening.
        v.now_ms = 45_499;
        assert_eq!(visit_body(&v, 100, None)["nextPoll"], 1);
        v.pool = 50_000;
        v.now_ms = 0;
        assert_eq!(visit_body(&v, 100, None)["nextPoll"], 30);

        // At the opening (by the script's clock) the seed is out, for everyone.
        v.now_ms = 45_500;
        v.placement = Placement::Waiting { position: 2 };
        let body = visit_body(&v, 100, None);
        assert_eq!(body["fairStart"]["seed"], seed.to_hex());
        assert_eq!(body["position"], 2);
        v.placement = Placement::NotInQueue;
        v.in_pool = false;
        assert_eq!(
            visit_body(&v, 100, None)["fairStart"]["seed"],
            seed.to_hex()
        );
        assert_eq!(admin_body("e", &v)["fairStart"]["seed"], seed.to_hex());
        // A corrupt stored seed publishes nothing rather than a wrong hash.
        v.fair = Some(FairState {
            seed_hex: "nope".into(),
            opens_at_ms: 1,
        });
        assert!(visit_body(&v, 100, None).get("fairStart").is_none());
    }
}
