//! `GET /events` (filtered, searched, paged) and `GET /events/{id}` (with its ticket types).

use spin_sdk::pg::ParameterValue;
use urr_catalog_domain::reply::{
    EventDetail, EventList, EventSummary, EventWithTicketTypes, Pagination,
};
use urr_catalog_domain::{EntityId, ListQuery, sql};
use urr_component::{ApiError, Result};

use crate::rows::{self, column, event_row, id_param};

pub async fn list(raw_query: &str) -> Result<String> {
    let query = ListQuery::parse(raw_query)?;
    let optional_text = |v: Option<String>| v.map_or(ParameterValue::DbNull, ParameterValue::Str);
    let optional_int = |v: Option<i64>| v.map_or(ParameterValue::DbNull, ParameterValue::Int64);
    let rows = rows::query(
        sql::LIST_EVENTS,
        vec![
            optional_text(query.status.map(|s| s.as_str().to_string())),
            optional_text(query.search_pattern.clone()),
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
    let rows = rows::query(sql::GET_EVENT, vec![id_param(id)]).await?;
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
