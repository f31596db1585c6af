//! Reading the catalog's rows: one statement per call, typed column access, and store failures
//! told apart from our own mistakes (a lost connection is a 503 worth retrying, a bad statement
//! or column is a 500 and a log line).

use spin_sdk::pg::{self, Decode, ParameterValue, Row};
use urr_catalog_domain::reply::EventRow;
use urr_component::{ApiError, Result};

/// Runs one read-only statement as the `urr_catalog` role and collects its rows.
pub async fn query(statement: &str, params: Vec<ParameterValue>) -> Result<Vec<Row>> {
    let db = urr_component::postgres().await?;
    let result = db
        .query(statement, params)
        .await
        .map_err(|e| store_error(&e))?;
    result.collect().await.map_err(|e| store_error(&e))
}

fn store_error(err: &pg::Error) -> ApiError {
    urr_component::store::pg_failure(
        "catalog",
        err,
        urr_component::store::UNAVAILABLE_SQLSTATE_CLASSES,
    )
}

/// A column that must be present with the expected type; anything else is our bug.
pub fn column<T: Decode>(row: &Row, name: &str) -> Result<T> {
    urr_component::store::column("catalog", row, name)
}

/// A UUID path parameter as a query parameter: a UUID, since Spin binds each parameter with the
/// type the statement declares (`$1::uuid`) and refuses text for it.
pub fn id_param(id: &urr_catalog_domain::EntityId) -> ParameterValue {
    ParameterValue::Uuid(id.as_str().to_string())
}

pub fn event_row(row: &Row) -> Result<EventRow> {
    Ok(EventRow {
        id: column(row, "id")?,
        title: column(row, "title")?,
        description: column(row, "description")?,
        venue: column(row, "venue")?,
        address: column(row, "address")?,
        event_date: column(row, "event_date")?,
        sale_start_date: column(row, "sale_start_date")?,
        sale_end_date: column(row, "sale_end_date")?,
        poster_image_url: column(row, "poster_image_url")?,
        artist_name: column(row, "artist_name")?,
        seat_layout_id: column(row, "seat_layout_id")?,
        status: column(row, "status")?,
        cancelled: column(row, "cancelled")?,
        created_at: column(row, "created_at")?,
        updated_at: column(row, "updated_at")?,
        ticket_type_count: column(row, "ticket_type_count")?,
        min_price: column(row, "min_price")?,
        max_price: column(row, "max_price")?,
    })
}
