//! The spin-sdk side of the waiting room, shared by `queue-join` and `queue` so both handlers
//! stay thin: who is asking (`urr_component::Caller` with the queue rate limit), the scripts over
//! Redis (EVALSHA, EVAL on NOSCRIPT) and the entry token. Decisions live in `urr-queue`.
//!
//! Failure policy: the waiting room fails closed. Without Redis nobody can be placed or admitted
//! fairly, so every route answers 503 with `Retry-After` (never 500, never a hang).

use spin_sdk::http::Request;
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use urr_component::caller::misconfigured;
use urr_component::store::RedisDown;
use urr_component::{Access, ApiError, RedisPolicy, Result, Settings, variable};
use urr_queue::fair::{Draw, SEED_BYTES, Seed};
use urr_queue::scripts::{JoinFacts, Mode, ReplyValue, visit_args};
use urr_queue::{EventKeys, QueueSettings, Uuid, VISIT_SCRIPT, VISIT_SCRIPT_SHA1, Visit};
use urr_ratelimit::Category;
use urr_tokens::{AccessUser, Role, SigningKey};

/// Everything a waiting-room route needs once the caller is known.
pub struct Caller {
    pub settings: Settings,
    pub queue: QueueSettings,
    pub redis: Connection,
    pub user: AccessUser,
}

/// Settings → Redis → the user (deny-list checked: a revoked session must not hold a place) →
/// the CSRF rule → the queue rate limit (120/min per user by default). Redis down anywhere: 503.
pub async fn caller(req: &Request) -> Result<Caller> {
    let settings = Settings::load().await?;
    let queue = QueueSettings::parse(&variable("queue_settings").await?)
        .map_err(|e| misconfigured("queue_settings", e))?;
    let mut admitted = urr_component::Caller::admit(
        req,
        &settings,
        Access::Write,
        Category::Queue,
        RedisPolicy::Required,
    )
    .await?;
    let redis = admitted
        .redis
        .take()
        .ok_or_else(|| redis_down("no connection"))?;
    Ok(Caller {
        settings,
        queue,
        redis,
        user: admitted.user,
    })
}

/// Only admins (403 for anyone else; anonymous callers already got 401).
pub fn require_admin(caller: &Caller) -> Result<()> {
    if caller.user.role == Role::Admin {
        Ok(())
    } else {
        Err(urr_queue::QueueError::AdminOnly.into())
    }
}

impl Caller {
    pub fn keys(&self, event: &Uuid) -> EventKeys {
        EventKeys::new(&self.settings.key_prefix, event.as_str())
    }

    /// The user id as the waiting room stores it (lower-case).
    pub fn member(&self) -> String {
        self.user.user_id.to_ascii_lowercase()
    }

    /// One visit: expiry, stale drop, lazy admission, then `member` (empty: nobody). Status
    /// visits pass `JoinFacts::default()`.
    pub async fn visit(
        &self,
        event: &Uuid,
        member: &str,
        mode: Mode,
        facts: &JoinFacts<'_>,
    ) -> Result<Visit> {
        let args = visit_args(&self.queue, member, mode, facts, None);
        let reply = run_script(
            &self.redis,
            VISIT_SCRIPT,
            VISIT_SCRIPT_SHA1,
            &self.keys(event).visit(),
            &args,
        )
        .await?;
        Visit::from_reply(&reply).ok_or_else(|| {
            eprintln!("unexpected visit reply {reply:?}");
            ApiError::internal()
        })
    }
}

impl Caller {
    /// A pre-sale joiner's fair-start draw: HMAC(seed, user id) with the event's seed, made now
    /// if the event has none yet. Several first joins at once each offer a fresh random seed;
    /// `HSETNX` keeps exactly one and everybody reads that one back. The seed never leaves the
    /// component before the opening (the reply shows only its hash).
    pub async fn presale_draw(&self, event: &Uuid, member: &str) -> Result<Draw> {
        let key = self.keys(event).fair;
        let stored = match hget(&self.redis, &key, "seed").await? {
            Some(seed) => seed,
            None => {
                let mut bytes = [0u8; SEED_BYTES];
                getrandom::fill(&mut bytes).map_err(|e| {
                    eprintln!("no randomness for the fair-start seed: {e}");
                    ApiError::internal()
                })?;
                let offer = Seed::from_bytes(bytes).to_hex();
                self.redis
                    .execute("HSETNX", vec![bin(&key), bin("seed"), bin(&offer)])
                    .await
                    .map_err(redis_down)?;
                hget(&self.redis, &key, "seed")
                    .await?
                    .ok_or_else(|| redis_down("the fair-start seed vanished"))?
            }
        };
        let seed = Seed::from_hex(&stored).ok_or_else(|| {
            eprintln!("the stored fair-start seed of event {event} is not 64 hex digits");
            ApiError::internal()
        })?;
        Ok(Draw::new(&seed, member))
    }
}

fn bin(text: &str) -> RedisParameter {
    RedisParameter::Binary(text.as_bytes().to_vec())
}

/// `HGET key field` as text (`None`: no such field).
async fn hget(conn: &Connection, key: &str, field: &str) -> Result<Option<String>> {
    let reply = conn
        .execute("HGET", vec![bin(key), bin(field)])
        .await
        .map_err(redis_down)?;
    Ok(match reply.into_iter().next() {
        Some(RedisResult::Binary(b)) => Some(String::from_utf8_lossy(&b).into_owned()),
        Some(RedisResult::Status(s)) => Some(s),
        _ => None,
    })
}

/// A script failure: Redis unreachable is a 503; the script's own invariant check failing is a
/// bug, logged loudly and answered 500.
fn script_failed(message: String) -> ApiError {
    if message.contains("invariant") {
        eprintln!("queue script refused its own result: {message}");
        ApiError::internal()
    } else {
        RedisDown(message).into()
    }
}

/// Runs a script by SHA-1 with text arguments, loading it with EVAL when the server does not
/// know it yet. Keys go only through KEYS; the flattened reply comes back as values.
pub async fn run_script(
    conn: &Connection,
    script: &str,
    sha1: &str,
    keys: &[String],
    args: &[String],
) -> Result<Vec<ReplyValue>> {
    let params = |head: &str| {
        let mut p = vec![
            RedisParameter::Binary(head.as_bytes().to_vec()),
            RedisParameter::Int64(keys.len() as i64),
        ];
        p.extend(
            keys.iter()
                .chain(args.iter())
                .map(|k| RedisParameter::Binary(k.as_bytes().to_vec())),
        );
        p
    };
    let reply = match conn.execute("EVALSHA", params(sha1)).await {
        Err(spin_sdk::redis::Error::Other(msg))
            if msg.to_ascii_uppercase().contains("NOSCRIPT") =>
        {
            conn.execute("EVAL", params(script)).await
        }
        other => other,
    }
    .map_err(|e| script_failed(format!("{e:?}")))?;
    Ok(reply
        .into_iter()
        .map(|r| match r {
            RedisResult::Int64(i) => ReplyValue::Int(i),
            RedisResult::Binary(b) => ReplyValue::Text(String::from_utf8_lossy(&b).into_owned()),
            RedisResult::Status(s) => ReplyValue::Text(s),
            RedisResult::Nil => ReplyValue::Nil,
        })
        .collect())
}

/// Signs an entry token for an active user: bound to this event and user, living no longer than
/// the slot (and never past the token's own 10 minutes). Only the queue components hold the key.
pub async fn entry_token(user_id: &str, event: &Uuid, slot_secs_left: u64) -> Result<String> {
    let pem = variable("queue_signing_key").await?;
    let kid = variable("queue_signing_kid").await?;
    let key =
        SigningKey::from_pem(&pem, &kid).map_err(|e| misconfigured("queue_signing_key", e))?;
    urr_tokens::mint_entry_for(&key, user_id, event.as_str(), slot_secs_left).map_err(|e| {
        eprintln!("signing an entry token failed: {e}");
        ApiError::internal()
    })
}

/// Redis failures outside scripts (cache reads, admin commands) are 503s.
pub fn redis_down(e: impl std::fmt::Debug) -> ApiError {
    RedisDown(format!("{e:?}")).into()
}
