//! Postgres calls of the payments components: one statement per call, typed column access, and
//! store failures told apart from our own mistakes (a lost connection, an overloaded server or a
//! serialization conflict is a 503 worth retrying; a bad statement or column is a 500).

use spin_sdk::pg::{self, Decode, ParameterValue, Row};
use urr_component::{ApiError, Result, STORE_RETRY_AFTER_SECS};

/// SQLSTATE classes that are worth a retry: connection exceptions, transaction rollback
/// (serialization failure, deadlock), insufficient resources, operator intervention.
const RETRYABLE_SQLSTATE_CLASSES: [&str; 4] = ["08", "40", "53", "57"];

pub async fn query(statement: &str, params: Vec<ParameterValue>) -> Result<Vec<Row>> {
    let db = urr_component::postgres().await?;
    let result = db
        .query(statement, params)
        .await
        .map_err(|e| store_error(&e))?;
    result.collect().await.map_err(|e| store_error(&e))
}

/// The first row of a statement that always returns one (every SQL function call here).
pub async fn one(statement: &str, params: Vec<ParameterValue>) -> Result<Row> {
    query(statement, params)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            eprintln!("payments: statement returned no row");
            ApiError::internal()
        })
}

fn store_error(err: &pg::Error) -> ApiError {
    eprintln!("payments: query failed: {err:?}");
    let retryable = match err {
        pg::Error::PgError(
            pg::PgError::ConnectionFailed(_)
            | pg::PgError::Other(_)
            | pg::PgError::QueryFailed(pg::QueryError::Text(_)),
        ) => true,
        pg::Error::PgError(pg::PgError::QueryFailed(pg::QueryError::DbError(db))) => {
            RETRYABLE_SQLSTATE_CLASSES
                .iter()
                .any(|class| db.code.starts_with(class))
        }
        pg::Error::PgError(
            pg::PgError::BadParameter(_) | pg::PgError::ValueConversionFailed(_),
        )
        | pg::Error::Decode(_) => false,
    };
    if retryable {
        ApiError::unavailable(
            "postgres_unavailable",
            "A data store is temporarily unavailable",
            STORE_RETRY_AFTER_SECS,
        )
    } else {
        ApiError::internal()
    }
}

/// A column that must be present with the expected type; anything else is our bug.
pub fn column<T: Decode>(row: &Row, name: &str) -> Result<T> {
    row.get::<T>(name).ok_or_else(|| {
        eprintln!("payments: column `{name}` is missing or has an unexpected type");
        ApiError::internal()
    })
}

/// A nullable column.
pub fn optional<T: Decode>(row: &Row, name: &str) -> Result<Option<T>> {
    column::<Option<T>>(row, name)
}

pub fn text(value: &str) -> ParameterValue {
    ParameterValue::Str(value.to_string())
}

pub fn null() -> ParameterValue {
    ParameterValue::DbNull
}
