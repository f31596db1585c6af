//! The waiting room's Lua scripts (each file opens with its KEYS/ARGV/Returns contract), their
//! SHA-1s for EVALSHA, their arguments, and how to read their replies. One script per atomic
//! transition: a visit (join, status, heartbeat, the admin view), a leave, a slot touch.

use crate::fair::Draw;
use crate::settings::{QueueSettings, STATE_TTL_MS};

/// Join / status / heartbeat: expiry, stale drop, lazy admission, then this user. See the file.
pub const VISIT_SCRIPT: &str = include_str!("visit.lua");
pub const VISIT_SCRIPT_SHA1: &str = "c0443146d034d7b49cf9a6362768bdeca785c05b";

/// Leave the line or the slot (idempotent).
pub const LEAVE_SCRIPT: &str = include_str!("leave.lua");
pub const LEAVE_SCRIPT_SHA1: &str = "073a54f74051f6d688cc83ea8104d54a200d5a64";

/// Does the user hold a live slot? If so, renew it. No route calls it (the seat routes read a
/// slot with `urr-booking`'s script); its store test pins the renewal rule.
pub const SLOT_TOUCH_SCRIPT: &str = include_str!("slot_touch.lua");
pub const SLOT_TOUCH_SCRIPT_SHA1: &str = "adfedee667c30143723765d549108b9705fe4937";

/// What a visit may do for a user who is neither active nor waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Admit at once or enqueue.
    Join,
    /// Only look (status, heartbeat, the admin view); refreshes last seen and renews a slot.
    Status,
}

/// One value of a flattened script reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyValue {
    Int(i64),
    Text(String),
    Nil,
}

/// What a join knows from the event gate (status visits know none of it).
#[derive(Debug, Clone, Default)]
pub struct JoinFacts<'a> {
    /// The event's title and artist (JSON) to remember for status replies.
    pub event_info: Option<&'a str>,
    /// When the sale opens, epoch ms (Postgres' `sale_start_date`).
    pub opens_at_ms: Option<u64>,
    /// The user's fair-start draw, made for a join before the opening.
    pub draw: Option<&'a Draw>,
}

/// ARGV of the visit script. `user_id` empty visits nobody (the admin view); `now_ms` is `None`
/// in production (Redis TIME decides) and fixed only by store tests.
pub fn visit_args(
    settings: &QueueSettings,
    user_id: &str,
    mode: Mode,
    facts: &JoinFacts<'_>,
    now_ms: Option<u64>,
) -> Vec<String> {
    vec![
        user_id.to_string(),
        match mode {
            Mode::Join => "join",
            Mode::Status => "status",
        }
        .to_string(),
        settings.threshold.to_string(),
        settings.rate_per_sec.to_string(),
        settings.slot_ms().to_string(),
        settings.slot_max_ms().to_string(),
        settings.waiter_timeout_ms().to_string(),
        STATE_TTL_MS.to_string(),
        facts.event_info.unwrap_or("").to_string(),
        now_ms.unwrap_or(0).to_string(),
        facts.opens_at_ms.unwrap_or(0).to_string(),
        settings.presale_pool.to_string(),
        facts.draw.map_or_else(String::new, |d| d.seed_hex.clone()),
        facts.draw.map_or_else(String::new, |d| d.draw.to_string()),
    ]
}

/// ARGV of the slot-touch script: renew by the slot lifetime, capped by the maximum.
pub fn slot_touch_args(
    settings: &QueueSettings,
    user_id: &str,
    now_ms: Option<u64>,
) -> Vec<String> {
    vec![
        user_id.to_string(),
        settings.slot_ms().to_string(),
        settings.slot_max_ms().to_string(),
        now_ms.unwrap_or(0).to_string(),
    ]
}

/// Where the visited user stands after the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Holds a slot until this instant (epoch ms).
    Active {
        expires_at_ms: u64,
    },
    /// In line, `position` >= 1 (1 = next).
    Waiting {
        position: u64,
    },
    /// In the fair start's pre-sale pool before the sale opens: no position until the order is
    /// drawn (the seed is revealed at the opening).
    Pool,
    NotInQueue,
}

/// The fair start as a visit saw it (present once the event has a seed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FairState {
    /// The stored seed, hex. Secret until `now_ms >= opens_at_ms`: see [`crate::reply`].
    pub seed_hex: String,
    /// When the sale opens, epoch ms (0: not known).
    pub opens_at_ms: u64,
}

/// A visit's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub placement: Placement,
    /// Active users after the script (never above the threshold it admitted against).
    pub active: u64,
    /// Users in line after the script: the pre-sale pool and the FIFO line.
    pub waiting: u64,
    /// Of those, in the pre-sale pool.
    pub pool: u64,
    /// The visited user is in the pre-sale pool (before or after the opening).
    pub in_pool: bool,
    /// The fair start's seed and opening, once the event has a seed.
    pub fair: Option<FairState>,
    pub threshold: u64,
    /// Redis' clock (or the test's) when the script ran.
    pub now_ms: u64,
    /// The admission rate measured over the last window, users per second x 1000 (0: none yet).
    pub measured_rate_milli: u64,
    /// The event's title and artist as the join step stored them (JSON).
    pub event_info: Option<String>,
}

fn count(value: &ReplyValue) -> Option<u64> {
    match value {
        ReplyValue::Int(i) => u64::try_from(*i).ok(),
        _ => None,
    }
}

impl Visit {
    /// Reads `{outcome, position, active, waiting, threshold, expires_at_ms, now_ms,
    /// rate_milli, info, seed, opens_ms, pool, in_pool}`; anything else is a script/host
    /// mismatch.
    pub fn from_reply(reply: &[ReplyValue]) -> Option<Self> {
        let [
            outcome,
            position,
            active,
            waiting,
            threshold,
            expires,
            now,
            rate,
            info,
            seed,
            opens,
            pool,
            in_pool,
        ] = reply
        else {
            return None;
        };
        let placement = match count(outcome)? {
            1 => Placement::Active {
                expires_at_ms: count(expires)?,
            },
            2 => Placement::Waiting {
                position: count(position)?.max(1),
            },
            3 => Placement::Pool,
            0 => Placement::NotInQueue,
            _ => return None,
        };
        let opens_at_ms = count(opens)?;
        Some(Self {
            placement,
            active: count(active)?,
            waiting: count(waiting)?,
            threshold: count(threshold)?,
            now_ms: count(now)?,
            measured_rate_milli: count(rate)?,
            event_info: match info {
                ReplyValue::Text(text) => Some(text.clone()),
                _ => None,
            },
            pool: count(pool)?,
            in_pool: count(in_pool)? == 1,
            fair: match seed {
                ReplyValue::Text(seed_hex) => Some(FairState {
                    seed_hex: seed_hex.clone(),
                    opens_at_ms,
                }),
                _ => None,
            },
        })
    }
}

/// A slot touch's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotTouch {
    Live { expires_at_ms: u64 },
    None,
}

impl SlotTouch {
    /// Reads `{live, expires_at_ms}`.
    pub fn from_reply(reply: &[i64]) -> Option<Self> {
        match reply {
            [1, expires] => Some(Self::Live {
                expires_at_ms: u64::try_from(*expires).ok()?,
            }),
            [0, _] => Some(Self::None),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha1(text: &str) -> String {
        sha1_smol::Sha1::from(text).digest().to_string()
    }

    #[test]
    fn the_sha1_constants_match_the_scripts() {
        assert_eq!(sha1(VISIT_SCRIPT), VISIT_SCRIPT_SHA1);
        assert_eq!(sha1(LEAVE_SCRIPT), LEAVE_SCRIPT_SHA1);
        assert_eq!(sha1(SLOT_TOUCH_SCRIPT), SLOT_TOUCH_SCRIPT_SHA1);
    }

    #[test]
    fn the_scripts_touch_only_keys_they_were_given() {
        for script in [VISIT_SCRIPT, LEAVE_SCRIPT, SLOT_TOUCH_SCRIPT] {
            for line in script.lines().filter(|l| l.contains("redis.call(")) {
                assert!(line.contains("KEYS[") || line.contains("'TIME'"), "{line}");
            }
        }
    }

    #[test]
    fn every_script_documents_its_contract_at_the_top() {
        for script in [VISIT_SCRIPT, LEAVE_SCRIPT, SLOT_TOUCH_SCRIPT] {
            let head: String = script.lines().take(40).collect::<Vec<_>>().join("\n");
            for part in ["KEYS[1]", "ARGV[1]", "Returns"] {
                assert!(head.contains(part), "missing {part}");
            }
        }
    }

    #[test]
    fn visit_replies_read_as_placements() {
        let int = ReplyValue::Int;
        let reply = |outcome, info| {
            vec![
                int(outcome),
                int(3),
                int(10),
                int(5),
                int(100),
                int(9_000),
                int(1_000),
                int(0),
                info,
                ReplyValue::Nil,
                int(0),
                int(0),
                int(0),
            ]
        };
        let waiting = Visit::from_reply(&reply(2, ReplyValue::Nil)).expect("reads");
        assert_eq!(waiting.placement, Placement::Waiting { position: 3 });
        assert_eq!(
            (waiting.active, waiting.waiting, waiting.threshold),
            (10, 5, 100)
        );
        assert_eq!(waiting.event_info, None);
        let active = Visit::from_reply(&reply(1, ReplyValue::Text("{}".into()))).expect("reads");
        assert_eq!(
            active.placement,
            Placement::Active {
                expires_at_ms: 9_000
            }
        );
        assert_eq!(active.event_info.as_deref(), Some("{}"));
        assert_eq!(
            Visit::from_reply(&reply(0, ReplyValue::Nil)).map(|v| v.placement),
            Some(Placement::NotInQueue)
        );
        assert_eq!(waiting.fair, None, "no seed yet");
        assert_eq!(
            Visit::from_reply(&reply(3, ReplyValue::Nil)).map(|v| v.placement),
            Some(Placement::Pool)
        );
        let mut pooled = reply(2, ReplyValue::Nil);
        pooled[9] = ReplyValue::Text("ab".repeat(32));
        pooled[10] = int(5_000);
        pooled[11] = int(4);
        pooled[12] = int(1);
        let pooled = Visit::from_reply(&pooled).expect("reads");
        assert_eq!((pooled.pool, pooled.in_pool), (4, true));
        assert_eq!(
            pooled.fair,
            Some(FairState {
                seed_hex: "ab".repeat(32),
                opens_at_ms: 5_000
            })
        );
        assert_eq!(Visit::from_reply(&reply(7, ReplyValue::Nil)), None);
        assert_eq!(Visit::from_reply(&[int(1)]), None);
    }

    #[test]
    fn visit_arguments_follow_the_script_header() {
        let draw = Draw {
            seed_hex: "ab".repeat(32),
            draw: 42,
        };
        let facts = JoinFacts {
            event_info: Some("{}"),
            opens_at_ms: Some(7_000),
            draw: Some(&draw),
        };
        let args = visit_args(&QueueSettings::default(), "u1", Mode::Join, &facts, None);
        assert_eq!(args.len(), 14);
        assert_eq!(args[0], "u1");
        assert_eq!(args[1], "join");
        assert_eq!(args[9], "0", "production lets Redis TIME decide");
        assert_eq!(&args[10..], ["7000", "100000", &"ab".repeat(32), "42"]);
        let status = visit_args(
            &QueueSettings::default(),
            "u1",
            Mode::Status,
            &JoinFacts::default(),
            None,
        );
        assert_eq!(
            &status[10..],
            ["0", "100000", "", ""],
            "status knows nothing"
        );
        assert_eq!(
            SlotTouch::from_reply(&[1, 5]),
            Some(SlotTouch::Live { expires_at_ms: 5 })
        );
        assert_eq!(SlotTouch::from_reply(&[0, 0]), Some(SlotTouch::None));
        assert_eq!(SlotTouch::from_reply(&[]), None);
    }
}
