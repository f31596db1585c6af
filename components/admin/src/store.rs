//! The admin store (`urr_component::pg`, as the `urr_admin` role) and the audited change: one
//! statement per call; a lost connection is a 503 worth retrying; a failed audit write, a bad
//! statement or column is a 500 and a log line — and the change did not happen.

use spin_sdk::pg::{ParameterValue, Row};
use urr_admin_domain::AdminError;
use urr_admin_domain::outcome::{Outcome, classify};
use urr_component::pg::{Store, column, jsonb, optional_text, uuid};
use urr_component::{ApiError, Result};

use crate::Actor;

pub const STORE: Store = Store::new("admin");

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
        uuid(&actor.admin_id),
        optional_text(actor.client_ip.as_deref()),
        jsonb(summary),
    ];
    all.extend(params);
    STORE.one(statement, all).await
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
