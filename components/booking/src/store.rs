//! Redis scripts with text and integer arguments (EVALSHA, EVAL on NOSCRIPT), and one-call SQL
//! with store failures told apart: a lost store is a 503 worth retrying, a lock conflict
//! (deadlock, serialization failure) is a 409 worth retrying, anything else is our bug (500).

use spin_sdk::pg::Row;
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use urr_booking::BookingError;
use urr_booking::scripts::{Arg, ScriptCall};
use urr_component::ApiError;
use urr_component::pg::{self, Store};
use urr_component::store::RedisDown;

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

/// Serialization failure and deadlock: two writers met; the loser may simply retry.
const CONFLICT_SQLSTATES: [&str; 2] = ["40001", "40P01"];

/// Booking's store, as this component's role: a lost store is a 503 worth retrying, a lock
/// conflict a 409 worth retrying, anything else our bug (500).
pub const STORE: Store<Refusal> = Store::with_failure("booking", store_error);

fn store_error(context: &'static str, err: &pg::Error) -> Refusal {
    match pg::sqlstate(err) {
        Some(code) if CONFLICT_SQLSTATES.contains(&code) => {
            eprintln!("{context}: postgres call failed: {err:?}");
            BookingError::ConcurrentChange.into()
        }
        _ => pg::pg_failure(context, err, pg::UNAVAILABLE_SQLSTATE_CLASSES).into(),
    }
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
