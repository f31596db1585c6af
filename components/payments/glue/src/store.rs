//! Postgres calls of the payments components: one statement per call, typed column access, and
//! store failures told apart from our own mistakes (a lost connection, an overloaded server or a
//! serialization conflict is a 503 worth retrying; a bad statement or column is a 500).

use spin_sdk::pg::{self, Decode, ParameterValue, Row};
use urr_component::{ApiError, Result};

/// SQLSTATE classes that are worth a retry: connection exceptions, transaction rollback
/// (serialization failure, deadlock), insufficient resources, operator intervention.
const RETRYABLE_SQLSTATE_CLASSES: &[&str] = &["08", "40", "53", "57"];

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

/// SQLSTATE classes of a statement that broke a rule on the data it was given (22 data
/// exception, 23 integrity constraint violation): the row is wrong, not the code or the store.
const DATA_CONFLICT_SQLSTATE_CLASSES: &[&str] = &["22", "23"];

/// The `code` of a 500 whose statement broke a rule on its row's data (the client still sees an
/// internal error; reconciliation parks such a row instead of stopping, see `settle.rs`).
pub const DATA_CONFLICT: &str = "data_conflict";

fn store_error(err: &pg::Error) -> ApiError {
    let api = urr_component::store::pg_failure("payments", err, RETRYABLE_SQLSTATE_CLASSES);
    match err {
        pg::Error::PgError(pg::PgError::QueryFailed(pg::QueryError::DbError(db)))
            if api.status == 500
                && DATA_CONFLICT_SQLSTATE_CLASSES
                    .iter()
                    .any(|class| db.code.starts_with(class)) =>
        {
            ApiError::new(500, DATA_CONFLICT, api.message)
        }
        _ => api,
    }
}

/// A column that must be present with the expected type; anything else is our bug.
pub fn column<T: Decode>(row: &Row, name: &str) -> Result<T> {
    urr_component::store::column("payments", row, name)
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
