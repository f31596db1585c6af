//! The Lua scripts of the booking routes (files with a KEYS/ARGV/Returns header), their SHA-1s
//! for EVALSHA, the calls that run them, and their replies read as values. Each script is one
//! atomic transition and touches only the keys it is given.

use crate::config::HoldLimits;
use crate::freed::FreedHolds;
use crate::input::{EntityId, SeatSet};
use crate::keys;

/// Most seats one free script call names: a call stays a short atomic step for Redis (an event
/// cancel of a hot sale frees many, in several calls).
pub const MAX_SEATS_PER_FREE: usize = 500;

pub const HOLD_SCRIPT: &str = include_str!("hold.lua");
pub const HOLD_SCRIPT_SHA1: &str = "01d1d2c2b8dae6557fee849d729442a74f728316";
pub const RELEASE_SCRIPT: &str = include_str!("release.lua");
pub const RELEASE_SCRIPT_SHA1: &str = "85ea5d7289ceebb56529c3b12664fbfa0e05b8ac";
pub const ALIGN_SCRIPT: &str = include_str!("align.lua");
pub const ALIGN_SCRIPT_SHA1: &str = "5485a7b60742a32ad4ae876f3747657b454e28ad";
pub const FREE_SCRIPT: &str = include_str!("free.lua");
pub const FREE_SCRIPT_SHA1: &str = "98ab75c3023b1d6f9c11efc0e6c07609cd53544b";
pub const SLOT_SCRIPT: &str = include_str!("slot.lua");
pub const SLOT_SCRIPT_SHA1: &str = "872c2d3ebfd927aac2639cf26362b79aa2ecad43";

/// One script argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Int(i64),
    Text(String),
}

/// A script run: which script, its KEYS and its ARGV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCall {
    pub script: &'static str,
    pub sha1: &'static str,
    pub keys: Vec<String>,
    pub args: Vec<Arg>,
}

fn seat_keys(prefix: &str, event: &EntityId, seats: &SeatSet) -> impl Iterator<Item = String> {
    seats
        .ids()
        .iter()
        .map(move |s| keys::hold_key(prefix, event, s))
}

fn seat_args(seats: &SeatSet) -> impl Iterator<Item = Arg> + '_ {
    seats
        .ids()
        .iter()
        .map(|s| Arg::Text(s.as_str().to_string()))
}

/// Who holds, for how long, under which caps.
#[derive(Debug, Clone, Copy)]
pub struct HoldTerms {
    pub ttl_ms: i64,
    pub limits: HoldLimits,
    /// The highest token the caller knows was written to these seats (0: none).
    pub token_floor: i64,
}

/// Holds `seats` for `user_id` (all or none) and issues a fencing token.
pub fn hold(
    prefix: &str,
    event: &EntityId,
    user_id: &str,
    seats: &SeatSet,
    terms: HoldTerms,
) -> ScriptCall {
    let mut keys = vec![
        keys::fence_key(prefix, event),
        keys::user_holds_key(prefix, event, user_id),
        keys::user_rate_key(prefix, event, user_id),
        keys::hold_stats_key(prefix, event),
    ];
    keys.extend(seat_keys(prefix, event, seats));
    let mut args = vec![
        Arg::Text(user_id.to_string()),
        Arg::Int(terms.ttl_ms),
        Arg::Int(i64::from(terms.limits.max_seats_held)),
        Arg::Int(i64::from(terms.limits.holds_per_minute)),
        Arg::Int(terms.token_floor),
    ];
    args.extend(seat_args(seats));
    ScriptCall {
        script: HOLD_SCRIPT,
        sha1: HOLD_SCRIPT_SHA1,
        keys,
        args,
    }
}

/// Releases the holds `user_id` has on `seats` with `token`.
pub fn release(
    prefix: &str,
    event: &EntityId,
    user_id: &str,
    seats: &SeatSet,
    token: i64,
) -> ScriptCall {
    let mut keys = vec![keys::user_holds_key(prefix, event, user_id)];
    keys.extend(seat_keys(prefix, event, seats));
    let mut args = vec![Arg::Text(user_id.to_string()), Arg::Int(token)];
    args.extend(seat_args(seats));
    ScriptCall {
        script: RELEASE_SCRIPT,
        sha1: RELEASE_SCRIPT_SHA1,
        keys,
        args,
    }
}

/// The seats being aligned, and the tokens: the one the holds carry now and the reservation's.
#[derive(Debug, Clone, Copy)]
pub struct AlignTo {
    /// The token of the hold this call took.
    pub hold_token: i64,
    /// The reservation's own token (a replay's differs from the hold's).
    pub reservation_token: i64,
    pub expires_at_ms: i64,
}

/// Makes the holds `user_id` has on `seats` with `to.hold_token` carry the reservation's token
/// and expire at its expiry.
pub fn align(
    prefix: &str,
    event: &EntityId,
    user_id: &str,
    seats: &SeatSet,
    to: AlignTo,
) -> ScriptCall {
    let mut keys = vec![keys::user_holds_key(prefix, event, user_id)];
    keys.extend(seat_keys(prefix, event, seats));
    let mut args = vec![
        Arg::Text(user_id.to_string()),
        Arg::Int(to.hold_token),
        Arg::Int(to.reservation_token),
        Arg::Int(to.expires_at_ms),
    ];
    args.extend(seat_args(seats));
    ScriptCall {
        script: ALIGN_SCRIPT,
        sha1: ALIGN_SCRIPT_SHA1,
        keys,
        args,
    }
}

/// Frees the holds of reservations Postgres moved out of a live status: one call per
/// [`MAX_SEATS_PER_FREE`] seats, every key of the one event.
pub fn free(prefix: &str, freed: &FreedHolds) -> Vec<ScriptCall> {
    freed
        .holds
        .chunks(MAX_SEATS_PER_FREE)
        .map(|chunk| {
            let mut keys = Vec::with_capacity(chunk.len() * 2);
            let mut args = Vec::with_capacity(chunk.len() * 2);
            for hold in chunk {
                keys.push(keys::hold_key(prefix, &freed.event, &hold.seat));
                keys.push(keys::user_holds_key(prefix, &freed.event, &hold.user_id));
                args.push(Arg::Text(hold.value()));
                args.push(Arg::Text(hold.seat.as_str().to_string()));
            }
            ScriptCall {
                script: FREE_SCRIPT,
                sha1: FREE_SCRIPT_SHA1,
                keys,
                args,
            }
        })
        .collect()
}

/// Whether `user_id`'s active slot for `event` is live.
pub fn slot(prefix: &str, event: &EntityId, user_id: &str) -> ScriptCall {
    ScriptCall {
        script: SLOT_SCRIPT,
        sha1: SLOT_SCRIPT_SHA1,
        keys: vec![keys::queue_active_key(prefix, event)],
        args: vec![Arg::Text(user_id.to_string())],
    }
}

/// The hold script's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldReply {
    Held {
        token: i64,
        expires_at_ms: i64,
    },
    /// Seats another user holds (ids).
    Taken(Vec<String>),
    RateLimited {
        retry_after_ms: i64,
    },
    TooManyHeld {
        held: i64,
    },
}

impl HoldReply {
    /// Reads the reply; `None` is a script/host mismatch.
    pub fn from_reply(reply: &[i64], seats: &SeatSet) -> Option<Self> {
        match reply {
            [1, token, expires_at_ms] => Some(Self::Held {
                token: *token,
                expires_at_ms: *expires_at_ms,
            }),
            [2, positions @ ..] if !positions.is_empty() => positions
                .iter()
                .map(|p| {
                    usize::try_from(*p)
                        .ok()
                        .and_then(|p| p.checked_sub(1))
                        .and_then(|i| seats.ids().get(i))
                        .map(|id| id.as_str().to_string())
                })
                .collect::<Option<Vec<_>>>()
                .map(Self::Taken),
            [3, retry_after_ms] => Some(Self::RateLimited {
                retry_after_ms: *retry_after_ms,
            }),
            [4, held] => Some(Self::TooManyHeld { held: *held }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sha1(text: &str) -> String {
        sha1_smol::Sha1::from(text).digest().to_string()
    }

    #[test]
    fn the_sha1_constants_match_the_scripts() {
        assert_eq!(sha1(HOLD_SCRIPT), HOLD_SCRIPT_SHA1);
        assert_eq!(sha1(RELEASE_SCRIPT), RELEASE_SCRIPT_SHA1);
        assert_eq!(sha1(ALIGN_SCRIPT), ALIGN_SCRIPT_SHA1);
        assert_eq!(sha1(SLOT_SCRIPT), SLOT_SCRIPT_SHA1);
        assert_eq!(sha1(FREE_SCRIPT), FREE_SCRIPT_SHA1);
    }

    #[test]
    fn the_scripts_touch_only_keys_they_were_given() {
        for script in [
            HOLD_SCRIPT,
            RELEASE_SCRIPT,
            ALIGN_SCRIPT,
            SLOT_SCRIPT,
            FREE_SCRIPT,
        ] {
            for line in script.lines().filter(|l| l.contains("redis.call(")) {
                assert!(line.contains("KEYS[") || line.contains("'TIME'"), "{line}");
            }
        }
    }

    fn seats() -> SeatSet {
        SeatSet::parse(Some(&json!([
            "22222222-2222-4222-8222-222222222222",
            "11111111-1111-4111-8111-111111111111"
        ])))
        .expect("seats")
    }

    #[test]
    fn a_hold_passes_its_seats_in_lock_order_as_keys_and_args() {
        let event = EntityId::parse("0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b", "e").expect("id");
        let terms = HoldTerms {
            ttl_ms: 1000,
            limits: HoldLimits::default(),
            token_floor: 0,
        };
        let call = hold("p", &event, "u1", &seats(), terms);
        assert_eq!(call.keys.len(), 6);
        assert!(call.keys[3].ends_with(":stats"));
        assert!(call.keys[4].ends_with("11111111-1111-4111-8111-111111111111"));
        assert_eq!(
            call.args[5],
            Arg::Text("11111111-1111-4111-8111-111111111111".into())
        );
    }

    #[test]
    fn hold_replies_read_as_values() {
        let seats = seats();
        assert_eq!(
            HoldReply::from_reply(&[1, 7, 99], &seats),
            Some(HoldReply::Held {
                token: 7,
                expires_at_ms: 99
            })
        );
        assert_eq!(
            HoldReply::from_reply(&[2, 2], &seats),
            Some(HoldReply::Taken(vec![
                "22222222-2222-4222-8222-222222222222".into()
            ]))
        );
        assert_eq!(HoldReply::from_reply(&[2, 3], &seats), None);
        assert_eq!(HoldReply::from_reply(&[2], &seats), None);
        assert_eq!(
            HoldReply::from_reply(&[4, 4], &seats),
            Some(HoldReply::TooManyHeld { held: 4 })
        );
        assert_eq!(HoldReply::from_reply(&[9], &seats), None);
    }

    #[test]
    fn a_free_names_each_seat_with_its_holder_and_value_in_bounded_calls() {
        let event = "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b";
        let hold = |n: usize| {
            json!({"seatId": format!("11111111-1111-4111-8111-{n:012}"),
                   "userId": "22222222-2222-4222-8222-222222222222", "token": 7})
        };
        let holds: Vec<_> = (0..MAX_SEATS_PER_FREE + 1).map(hold).collect();
        let freed = FreedHolds::parse(&json!({"eventId": event, "holds": holds}).to_string())
            .expect("holds");
        let calls = free("p", &freed);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].keys.len(), MAX_SEATS_PER_FREE * 2);
        assert_eq!(calls[1].keys.len(), 2);
        assert!(calls[1].keys[0].ends_with(":11111111-1111-4111-8111-000000000500"));
        assert!(calls[1].keys[1].ends_with(":user:22222222-2222-4222-8222-222222222222"));
        assert_eq!(
            calls[1].args,
            vec![
                Arg::Text("22222222-2222-4222-8222-222222222222:7".into()),
                Arg::Text("11111111-1111-4111-8111-000000000500".into())
            ]
        );
        for call in &calls {
            assert!(
                call.keys
                    .iter()
                    .all(|k| k.contains(&format!("{{evt:{event}}}")))
            );
        }
    }
}
