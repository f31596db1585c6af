//! `GET /events` (filtered, searched, paged) and `GET /events/{id}` (with its ticket types).

use spin_sdk::pg::ParameterValue;
use urr_catalog_domain::reply::{
    EventDetail, EventList, EventSummary, EventWithTicketTypes, Pagination,
};
use urr_catalog_domain::{EntityId, ListQuery, sql};
use urr_component::{ApiError, Result};

use crate::rows::{STORE, event_row};
use urr_component::pg::{column, optional_int, optional_text, uuid};

pub async fn list(raw_query: &str) -> Result<String> {
    let query = ListQuery::parse(raw_query)?;
    let rows = STORE
        .query(
            sql::LIST_EVENTS,
            vec![
                optional_text(query.status.map(|s| s.as_str())),
                optional_text(query.search_pattern.as_deref()),
                optional_int(query.min_price),
                optional_int(query.max_price),
                ParameterValue::Int64(query.limit),
                ParameterValue::Int64(query.offset()),
            ],
        )
        .await?;
    let mut total = 0;
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        total = column::<i64>(row, "total")?;
        // The one row of an empty page carries only the total.
        if column::<Option<String>>(row, "id")?.is_some() {
            events.push(EventSummary::from(event_row(row)?));
        }
    }
    to_json(&EventList {
        events,
        pagination: Pagination::new(query.page, query.limit, total),
    })
}

pub async fn detail(id: &EntityId) -> Result<String> {
    let rows = STORE.query(sql::GET_EVENT, vec![uuid(id.as_str())]).await?;
    let event = rows.first().ok_or_else(ApiError::not_found)?;
    let event = EventDetail::from(event_row(event)?);
    let ticket_types = crate::tickets::list(id).await?.unwrap_or_default();
    to_json(&EventWithTicketTypes {
        event,
        ticket_types,
    })
}

pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|_| ApiError::internal())
}
