//! `GET /tickets/event/{eventId}` and `GET /tickets/availability/{ticketTypeId}`.

use spin_sdk::pg::ParameterValue;
use urr_catalog_domain::reply::{Availability, TicketType, TicketTypeList};
use urr_catalog_domain::{EntityId, sql};
use urr_component::{ApiError, Result};

use crate::events::to_json;
use crate::rows::STORE;
use urr_component::pg::{column, uuid};

/// Ticket types one event may list: far more than any real event has, and a bound on the reply.
const MAX_TICKET_TYPES: i64 = 100;

pub async fn of_event(event_id: &EntityId) -> Result<String> {
    let ticket_types = list(event_id).await?.ok_or_else(ApiError::not_found)?;
    to_json(&TicketTypeList { ticket_types })
}

/// The ticket types of an event, or `None` when the event does not exist.
pub async fn list(event_id: &EntityId) -> Result<Option<Vec<TicketType>>> {
    let rows = STORE
        .query(
            sql::LIST_TICKET_TYPES,
            vec![
                uuid(event_id.as_str()),
                ParameterValue::Int64(MAX_TICKET_TYPES),
            ],
        )
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut ticket_types = Vec::with_capacity(rows.len());
    for row in &rows {
        // An event without ticket types comes back as one row of NULLs.
        let Some(id) = column::<Option<String>>(row, "id")? else {
            continue;
        };
        ticket_types.push(TicketType {
            id,
            name: column(row, "name")?,
            price: column(row, "price")?,
            total_quantity: column(row, "total_quantity")?,
            available_quantity: column(row, "available_quantity")?,
            description: column(row, "description")?,
        });
    }
    Ok(Some(ticket_types))
}

pub async fn availability(ticket_type_id: &EntityId) -> Result<String> {
    let rows = STORE
        .query(
            sql::TICKET_AVAILABILITY,
            vec![uuid(ticket_type_id.as_str())],
        )
        .await?;
    let row = rows.first().ok_or_else(ApiError::not_found)?;
    to_json(&Availability {
        available_quantity: column(row, "available_quantity")?,
        total_quantity: column(row, "total_quantity")?,
    })
}
