//! `GET /seats/layouts`.

use spin_sdk::pg::ParameterValue;
use urr_catalog_domain::reply::{Layout, LayoutList};
use urr_catalog_domain::sql;
use urr_component::Result;

use crate::events::to_json;
use crate::rows::STORE;
use urr_component::pg::column;

/// Layouts listed at once: a venue catalog, not a data set; the admin screen shows them all.
const MAX_LAYOUTS: i64 = 100;

pub async fn list() -> Result<String> {
    let rows = STORE
        .query(sql::LIST_LAYOUTS, vec![ParameterValue::Int64(MAX_LAYOUTS)])
        .await?;
    let mut layouts = Vec::with_capacity(rows.len());
    for row in &rows {
        layouts.push(Layout {
            id: column(row, "id")?,
            name: column(row, "name")?,
            description: column(row, "description")?,
            total_seats: column(row, "total_seats")?,
            layout_config: column(row, "layout_config")?,
        });
    }
    to_json(&LayoutList { layouts })
}
