//! Redis with failures as values: opening a connection the caller may do without, and scripts run
//! by SHA-1 (EVALSHA, EVAL on NOSCRIPT) with keys only in KEYS. Postgres is `pg`.

use crate::{ApiError, STORE_RETRY_AFTER_SECS};
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};

/// A Redis call failed: the caller decides whether that fails closed.
#[derive(Debug)]
pub struct RedisDown(pub String);

impl From<RedisDown> for ApiError {
    fn from(e: RedisDown) -> Self {
        eprintln!("redis: {}", e.0);
        ApiError::unavailable(
            "redis_unavailable",
            "A data store is temporarily unavailable",
            STORE_RETRY_AFTER_SECS,
        )
    }
}

/// Opens Redis without turning failure into a response (some routes may proceed without it).
pub async fn open_redis() -> std::result::Result<Connection, RedisDown> {
    let address = crate::variable("redis_address")
        .await
        .map_err(|e| RedisDown(e.to_string()))?;
    Connection::open(&address)
        .await
        .map_err(|e| RedisDown(format!("{e:?}")))
}

/// Runs a script by SHA-1, loading it with EVAL when the server does not know it yet. Keys go
/// only through KEYS; the reply's integers come back in order.
pub async fn run_script(
    conn: &Connection,
    script: &str,
    sha1: &str,
    keys: &[String],
    args: &[i64],
) -> std::result::Result<Vec<i64>, RedisDown> {
    let params = |head: &str| {
        let mut p = vec![
            RedisParameter::Binary(head.as_bytes().to_vec()),
            RedisParameter::Int64(keys.len() as i64),
        ];
        p.extend(
            keys.iter()
                .map(|k| RedisParameter::Binary(k.as_bytes().to_vec())),
        );
        p.extend(args.iter().map(|a| RedisParameter::Int64(*a)));
        p
    };
    let reply = match conn.execute("EVALSHA", params(sha1)).await {
        // Spin passes the server's "NOSCRIPT ..." through; some clients spell it "NoScript".
        Err(spin_sdk::redis::Error::Other(msg))
            if msg.to_ascii_uppercase().contains("NOSCRIPT") =>
        {
            conn.execute("EVAL", params(script)).await
        }
        other => other,
    }
    .map_err(|e| RedisDown(format!("{e:?}")))?;
    reply
        .into_iter()
        .map(|r| match r {
            RedisResult::Int64(i) => Ok(i),
            other => Err(RedisDown(format!("unexpected script reply {other:?}"))),
        })
        .collect()
}
