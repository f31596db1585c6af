//! Redis scripts (EVALSHA, EVAL on NOSCRIPT) and Postgres rows, with failures as values.

use spin_sdk::pg::ParameterValue;
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use urr_component::{ApiError, Result, STORE_RETRY_AFTER_SECS};

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
    let address = urr_component::variable("redis_address")
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

/// Runs one statement and collects its rows; a failure is a 503 (logged, never shown).
pub async fn rows(sql: &str, params: Vec<ParameterValue>) -> Result<Vec<spin_sdk::pg::Row>> {
    let db = urr_component::postgres().await?;
    let unavailable = |e: &dyn std::fmt::Debug| {
        eprintln!("postgres: {e:?}");
        ApiError::unavailable(
            "postgres_unavailable",
            "A data store is temporarily unavailable",
            STORE_RETRY_AFTER_SECS,
        )
    };
    let result = db.query(sql, params).await.map_err(|e| unavailable(&e))?;
    result.collect().await.map_err(|e| unavailable(&e))
}

/// A text column, or a 500 naming the mismatch in the log.
pub fn text(row: &spin_sdk::pg::Row, column: &str) -> Result<String> {
    row.get::<String>(column).ok_or_else(|| {
        eprintln!("column `{column}` is missing or not text");
        ApiError::internal()
    })
}

pub fn optional_bytes(row: &spin_sdk::pg::Row, column: &str) -> Option<Vec<u8>> {
    row.get::<Option<Vec<u8>>>(column).flatten()
}

/// A JSON column sent as text (`::text` in the SQL).
pub fn json(row: &spin_sdk::pg::Row, column: &str) -> Result<serde_json::Value> {
    serde_json::from_str(&text(row, column)?).map_err(|e| {
        eprintln!("column `{column}` is not JSON: {e}");
        ApiError::internal()
    })
}

pub fn null() -> ParameterValue {
    ParameterValue::DbNull
}
