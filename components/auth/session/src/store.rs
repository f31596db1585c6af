//! Redis scripts (EVALSHA, EVAL on NOSCRIPT) and Postgres rows, with failures as values.

use spin_sdk::pg::ParameterValue;
use urr_component::{ApiError, Result, STORE_RETRY_AFTER_SECS};

// The Redis half moved to the glue crate (every Redis-using component needs it).
pub use urr_component::store::{RedisDown, open_redis, run_script};

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

/// A user or family id for a `uuid` parameter: sent as a UUID, since Spin binds each parameter
/// with the type the statement declares and refuses text for a `uuid`.
pub fn uuid(value: impl Into<String>) -> ParameterValue {
    ParameterValue::Uuid(value.into())
}
