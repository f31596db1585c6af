//! Running the admin statements: one statement per call, typed column access, store failures
//! told apart from our own mistakes (a lost connection is a 503 worth retrying; a failed audit
//! write, a bad statement or column is a 500 and a log line — and the change did not happen).

use spin_sdk::pg::{self, Decode, ParameterValue, Row};
use urr_admin_domain::AdminError;
use urr_admin_domain::outcome::{Outcome, classify};
use urr_catalog_domain::EntityId;
use urr_component::{ApiError, Result};

use crate::Actor;

/// Runs one statement as the `urr_admin` role and collects its rows.
pub async fn query(statement: &str, params: Vec<ParameterValue>) -> Result<Vec<Row>> {
    let db = urr_component::postgres().await?;
    let result = db
        .query(statement, params)
        .await
        .map_err(|e| store_error(&e))?;
    result.collect().await.map_err(|e| store_error(&e))
}

/// Runs one change function: `$1` admin id, `$2` client IP, `$3` request summary, then `params`.
/// Returns its one row.
pub async fn change(
    statement: &str,
    actor: &Actor,
    summary: &serde_json::Value,
    params: Vec<ParameterValue>,
) -> Result<Row> {
    // Sent in their declared types (`$1::uuid`, `$3::jsonb`): Spin refuses text for either.
    let mut all = vec![
        ParameterValue::Uuid(actor.admin_id.clone()),
        actor
            .client_ip
            .as_deref()
            .map_or(ParameterValue::DbNull, text),
        json(summary),
    ];
    all.extend(params);
    query(statement, all)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            eprintln!("admin: a change function returned no row");
            ApiError::internal()
        })
}

/// The row's `outcome` against the function's success outcomes: refusals become their 4xx.
pub fn expect_outcome(row: &Row, success: &[&str]) -> Result<String> {
    let outcome: String = column(row, "outcome")?;
    match classify(&outcome, success) {
        Outcome::Done => Ok(outcome),
        Outcome::Refused(err) => Err(err.into()),
        Outcome::Unexpected(other) => {
            eprintln!("admin: unexpected outcome `{other}`");
            Err(ApiError::internal())
        }
    }
}

fn store_error(err: &pg::Error) -> ApiError {
    urr_component::store::pg_failure(
        "admin",
        err,
        urr_component::store::UNAVAILABLE_SQLSTATE_CLASSES,
    )
}

/// A column that must be present with the expected type; anything else is our bug.
pub fn column<T: Decode>(row: &Row, name: &str) -> Result<T> {
    urr_component::store::column("admin", row, name)
}

pub fn text(value: &str) -> ParameterValue {
    ParameterValue::Str(value.to_string())
}

/// An id for a `uuid` parameter (Spin binds by the declared type: text is refused there).
pub fn id(value: &EntityId) -> ParameterValue {
    ParameterValue::Uuid(value.as_str().to_string())
}

/// A JSON document for a `jsonb` parameter.
pub fn json(value: &serde_json::Value) -> ParameterValue {
    ParameterValue::Jsonb(value.to_string().into_bytes())
}

pub fn optional_text(value: Option<&str>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, text)
}

pub fn optional_int(value: Option<i64>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, ParameterValue::Int64)
}

/// Quantities and prices are `integer` columns; the domain bounds them far below `i32::MAX`.
pub fn optional_int4(value: Option<i64>) -> Result<ParameterValue> {
    value
        .map(|v| {
            i32::try_from(v)
                .map(ParameterValue::Int32)
                .map_err(|_| ApiError::from(AdminError::InvalidBody("number out of range".into())))
        })
        .transpose()
        .map(|v| v.unwrap_or(ParameterValue::DbNull))
}

/// Serializes a reply (a struct of strings and numbers: cannot fail in practice).
pub fn reply<T: serde::Serialize>(status: u16, value: &T) -> Result<urr_component::Response> {
    Ok(urr_component::json(status, value))
}
