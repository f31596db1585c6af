//! Redis scripts with text and integer arguments (EVALSHA, EVAL on NOSCRIPT), and one-call SQL
//! with store failures told apart: a lost store is a 503 worth retrying, a lock conflict
//! (deadlock, serialization failure) is a 409 worth retrying, anything else is our bug (500).

use spin_sdk::pg::{self, ParameterValue, Row};
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use urr_auth_session::store::RedisDown;
use urr_booking::BookingError;
use urr_booking::scripts::{Arg, ScriptCall};
use urr_component::{ApiError, STORE_RETRY_AFTER_SECS};

use crate::Refusal;

/// Runs a script by SHA-1, loading it with EVAL when the server does not know it yet.
pub async fn run(conn: &Connection, call: &ScriptCall) -> Result<Vec<i64>, RedisDown> {
    let params = |head: &str| {
        let mut p = vec![
            RedisParameter::Binary(head.as_bytes().to_vec()),
            RedisParameter::Int64(call.keys.len() as i64),
        ];
        p.extend(
            call.keys
                .iter()
                .map(|k| RedisParameter::Binary(k.as_bytes().to_vec())),
        );
        p.extend(call.args.iter().map(|a| match a {
            Arg::Int(i) => RedisParameter::Int64(*i),
            Arg::Text(t) => RedisParameter::Binary(t.as_bytes().to_vec()),
        }));
        p
    };
    let reply = match conn.execute("EVALSHA", params(call.sha1)).await {
        Err(spin_sdk::redis::Error::Other(msg))
            if msg.to_ascii_uppercase().contains("NOSCRIPT") =>
        {
            conn.execute("EVAL", params(call.script)).await
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

/// SQLSTATE classes that mean the server or the connection is going away.
const UNAVAILABLE_SQLSTATE_CLASSES: [&str; 3] = ["08", "53", "57"];
/// Serialization failure and deadlock: two writers met; the loser may simply retry.
const CONFLICT_SQLSTATES: [&str; 2] = ["40001", "40P01"];

fn store_error(err: &pg::Error) -> Refusal {
    eprintln!("booking query failed: {err:?}");
    let unavailable = || {
        Refusal::Api(ApiError::unavailable(
            "postgres_unavailable",
            "A data store is temporarily unavailable",
            STORE_RETRY_AFTER_SECS,
        ))
    };
    match err {
        pg::Error::PgError(pg::PgError::QueryFailed(pg::QueryError::DbError(db))) => {
            if CONFLICT_SQLSTATES.contains(&db.code.as_str()) {
                BookingError::ConcurrentChange.into()
            } else if UNAVAILABLE_SQLSTATE_CLASSES
                .iter()
                .any(|class| db.code.starts_with(class))
            {
                unavailable()
            } else {
                ApiError::internal().into()
            }
        }
        pg::Error::PgError(
            pg::PgError::ConnectionFailed(_)
            | pg::PgError::Other(_)
            | pg::PgError::QueryFailed(pg::QueryError::Text(_)),
        ) => unavailable(),
        pg::Error::PgError(
            pg::PgError::BadParameter(_) | pg::PgError::ValueConversionFailed(_),
        )
        | pg::Error::Decode(_) => ApiError::internal().into(),
    }
}

/// Runs one statement as this component's role and collects its rows.
pub async fn query(statement: &str, params: Vec<ParameterValue>) -> Result<Vec<Row>, Refusal> {
    let db = urr_component::postgres().await?;
    let result = db
        .query(statement, params)
        .await
        .map_err(|e| store_error(&e))?;
    result.collect().await.map_err(|e| store_error(&e))
}

/// The JSON text column `body` of the first row, as Postgres wrote it; `None` when it is NULL
/// or there is no row.
pub fn json_text(rows: &[Row]) -> Option<String> {
    rows.first()
        .and_then(|r| r.get::<Option<String>>("body"))
        .flatten()
}

/// [`json_text`], parsed (for callers that read fields of it).
pub fn json_body(rows: &[Row]) -> Result<Option<serde_json::Value>, Refusal> {
    let Some(text) = json_text(rows) else {
        return Ok(None);
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        eprintln!("body is not JSON: {e}");
        ApiError::internal().into()
    })
}

pub fn text(value: &str) -> ParameterValue {
    ParameterValue::Str(value.to_string())
}

/// A user, event or reservation id for a `uuid` parameter: Spin binds each parameter with the
/// type the statement declares and refuses text for a `uuid`.
pub fn uuid(value: &str) -> ParameterValue {
    ParameterValue::Uuid(value.to_string())
}

pub fn text_array(values: impl IntoIterator<Item = String>) -> ParameterValue {
    ParameterValue::ArrayStr(values.into_iter().map(Some).collect())
}

pub fn optional_text(value: Option<&str>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, text)
}

pub fn optional_bytes(value: Option<Vec<u8>>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, ParameterValue::Binary)
}
