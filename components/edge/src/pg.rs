//! Postgres for every component: one statement per call as the component's role, typed column
//! access, parameters built with the type the statement declares, and failures as values (a
//! store going away is a 503 worth retrying, a bad statement or column is our bug: 500 and a log
//! line, never the detail).
//!
//! ```ignore
//! const STORE: Store = Store::new("catalog");
//! let rows = STORE.query(sql::EVENT, vec![pg::uuid(id.as_str())]).await?;
//! let title: String = pg::column(&rows[0], "title")?;
//! ```
//!
//! Parameters: the host binds each one with the type the statement declares, exactly like Spin,
//! and refuses text for a `uuid` or `jsonb`: use [`uuid`] and [`jsonb`] there.

use crate::{ApiError, Result, STORE_RETRY_AFTER_SECS};
use spin_sdk::pg::{Decode, PgError, QueryError};
pub use spin_sdk::pg::{Error, ParameterValue, Row};

/// SQLSTATE classes that mean the server or the connection is going away, not that the
/// statement is wrong: connection exceptions, insufficient resources, operator intervention.
pub const UNAVAILABLE_SQLSTATE_CLASSES: &[&str] = &["08", "53", "57"];

/// How one component's failed Postgres calls answer the client: `failure` maps the error, and
/// `context` names the component in the log.
#[derive(Clone, Copy)]
pub struct Store<E = ApiError> {
    context: &'static str,
    failure: fn(&'static str, &Error) -> E,
}

impl Store<ApiError> {
    /// The usual answer: 503 + Retry-After when the store is going away, else 500.
    pub const fn new(context: &'static str) -> Self {
        Self {
            context,
            failure: unavailable_or_internal,
        }
    }
}

fn unavailable_or_internal(context: &'static str, err: &Error) -> ApiError {
    pg_failure(context, err, UNAVAILABLE_SQLSTATE_CLASSES)
}

impl Store<ApiError> {
    /// Every failure a 503 (logged, never shown): for the routes that fail closed whatever went
    /// wrong (sign-in, the waiting room's gate).
    pub const fn always_unavailable(context: &'static str) -> Self {
        Self {
            context,
            failure: unavailable_after,
        }
    }
}

fn unavailable_after(context: &'static str, err: &Error) -> ApiError {
    eprintln!("{context}: postgres call failed: {err:?}");
    unavailable()
}

impl<E: From<ApiError>> Store<E> {
    /// A component whose failures answer differently (payments retries serialization
    /// conflicts; booking answers them 409).
    pub const fn with_failure(
        context: &'static str,
        failure: fn(&'static str, &Error) -> E,
    ) -> Self {
        Self { context, failure }
    }

    /// Runs one statement and collects its rows.
    pub async fn query(&self, statement: &str, params: Vec<ParameterValue>) -> Result<Vec<Row>, E> {
        let db = crate::postgres().await?;
        let fail = |e: Error| (self.failure)(self.context, &e);
        let result = db.query(statement, params).await.map_err(fail)?;
        result.collect().await.map_err(fail)
    }

    /// The first row of a statement that always returns one (a SQL function call); none is
    /// our bug (500).
    pub async fn one(&self, statement: &str, params: Vec<ParameterValue>) -> Result<Row, E> {
        let context = self.context;
        self.query(statement, params)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                eprintln!("{context}: statement returned no row");
                ApiError::internal().into()
            })
    }
}

/// A failed Postgres call as the client sees it: 503 + Retry-After when the store is going away
/// (or the error is in one of `retryable_classes`), else a 500, since a statement or decoding
/// mistake is our bug. The detail goes to the log under `context`, never to the client.
pub fn pg_failure(context: &str, err: &Error, retryable_classes: &[&str]) -> ApiError {
    eprintln!("{context}: postgres call failed: {err:?}");
    let retryable = match err {
        Error::PgError(
            PgError::ConnectionFailed(_)
            | PgError::Other(_)
            | PgError::QueryFailed(QueryError::Text(_)),
        ) => true,
        Error::PgError(PgError::QueryFailed(QueryError::DbError(db))) => retryable_classes
            .iter()
            .any(|class| db.code.starts_with(class)),
        Error::PgError(PgError::BadParameter(_) | PgError::ValueConversionFailed(_))
        | Error::Decode(_) => false,
    };
    if retryable {
        unavailable()
    } else {
        ApiError::internal()
    }
}

/// The 503 of a Postgres that cannot answer now.
pub fn unavailable() -> ApiError {
    ApiError::unavailable(
        "postgres_unavailable",
        "A data store is temporarily unavailable",
        STORE_RETRY_AFTER_SECS,
    )
}

/// The SQLSTATE of a failure the server reported for the statement (`None` for any other).
pub fn sqlstate(err: &Error) -> Option<&str> {
    match err {
        Error::PgError(PgError::QueryFailed(QueryError::DbError(db))) => Some(db.code.as_str()),
        _ => None,
    }
}

/// A column that must be present with the expected type; anything else is our bug (500).
pub fn column<T: Decode>(row: &Row, name: &str) -> Result<T> {
    row.get::<T>(name).ok_or_else(|| {
        eprintln!("postgres: column `{name}` is missing or has an unexpected type");
        ApiError::internal()
    })
}

/// A nullable column (missing or of another type is still our bug).
pub fn optional<T: Decode>(row: &Row, name: &str) -> Result<Option<T>> {
    column::<Option<T>>(row, name)
}

/// A JSON document sent as text (`::text` in the SQL), parsed.
pub fn json(row: &Row, name: &str) -> Result<serde_json::Value> {
    serde_json::from_str(&column::<String>(row, name)?).map_err(|e| {
        eprintln!("postgres: column `{name}` is not JSON: {e}");
        ApiError::internal()
    })
}

/// A `text` parameter.
pub fn text(value: &str) -> ParameterValue {
    ParameterValue::Str(value.to_string())
}

/// An id for a `uuid` parameter (text is refused there).
pub fn uuid(value: &str) -> ParameterValue {
    ParameterValue::Uuid(value.to_string())
}

/// A JSON document for a `jsonb` parameter (text is refused there).
pub fn jsonb(value: &serde_json::Value) -> ParameterValue {
    ParameterValue::Jsonb(value.to_string().into_bytes())
}

/// A `text[]` parameter.
pub fn text_array(values: impl IntoIterator<Item = String>) -> ParameterValue {
    ParameterValue::ArrayStr(values.into_iter().map(Some).collect())
}

pub fn null() -> ParameterValue {
    ParameterValue::DbNull
}

pub fn optional_text(value: Option<&str>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, text)
}

pub fn optional_int(value: Option<i64>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, ParameterValue::Int64)
}

pub fn optional_bytes(value: Option<Vec<u8>>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, ParameterValue::Binary)
}
