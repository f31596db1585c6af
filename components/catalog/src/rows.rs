//! The catalog's store (`urr_component::pg`, as the `urr_catalog` role) and the one row shape
//! two reads share.

use spin_sdk::pg::Row;
use urr_catalog_domain::reply::EventRow;
use urr_component::Result;
use urr_component::pg::{Store, column};

/// Read-only statements: a lost connection is a 503 worth retrying, a bad statement or column a
/// 500 and a log line.
pub const STORE: Store = Store::new("catalog");

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
