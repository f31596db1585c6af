//! Event changes: create (with ticket types), update, cancel (with every live reservation, whose
//! seat holds are then freed), delete, and seat generation / deletion. Each is one call of its
//! audited SQL function; the create and update replies read the event back with the catalog's
//! own statements.

use serde_json::{Value, json};
use spin_sdk::pg::{ParameterValue, Row};
use urr_admin_domain::input::{parse_cancel, parse_event_changes, parse_new_event};
use urr_admin_domain::reply::{
    EventCancelled, EventSaved, Message, SeatsDeleted, SeatsGenerated, StatusOf,
};
use urr_admin_domain::sql;
use urr_catalog_domain::EntityId;
use urr_catalog_domain::reply::{EventDetail, EventRow, TicketType};
use urr_component::{ApiError, Response, Result};

use crate::store::{STORE, change, expect_outcome, reply};
use crate::{Actor, Holds};
use urr_component::pg::{column, jsonb, optional_int, optional_text, text, uuid};

/// Ticket types read back with an event: the most one event may list in the catalog.
const MAX_TICKET_TYPES: i64 = 100;

pub async fn create(actor: &Actor, body: &[u8]) -> Result<Response> {
    let event = parse_new_event(body)?;
    let ticket_types = Value::Array(event.ticket_types.iter().map(|t| t.to_json()).collect());
    let row = change(
        sql::CREATE_EVENT,
        actor,
        &event.summary(),
        vec![
            text(&event.title),
            text(&event.description),
            text(&event.venue),
            text(&event.address),
            ParameterValue::Int64(event.event_date),
            ParameterValue::Int64(event.sale_start_date),
            ParameterValue::Int64(event.sale_end_date),
            optional_text(event.poster_image_url.as_deref()),
            text(&event.artist_name),
            optional_text(event.seat_layout_id.as_ref().map(EntityId::as_str)),
            jsonb(&ticket_types),
        ],
    )
    .await?;
    expect_outcome(&row, &["created"])?;
    let event_id = EntityId::try_from(column::<String>(&row, "event_id")?.as_str())
        .map_err(|_| ApiError::internal())?;
    saved(201, "Event created", &event_id).await
}

pub async fn update(actor: &Actor, event_id: &EntityId, body: &[u8]) -> Result<Response> {
    let changes = parse_event_changes(body)?;
    let row = change(
        sql::UPDATE_EVENT,
        actor,
        &changes.summary(),
        vec![
            uuid(event_id.as_str()),
            optional_text(changes.title.as_deref()),
            optional_text(changes.description.as_deref()),
            optional_text(changes.venue.as_deref()),
            optional_text(changes.address.as_deref()),
            optional_int(changes.event_date),
            optional_int(changes.sale_start_date),
            optional_int(changes.sale_end_date),
            optional_text(changes.poster_image_url.as_deref()),
            optional_text(changes.artist_name.as_deref()),
            optional_text(changes.seat_layout_id.as_ref().map(EntityId::as_str)),
        ],
    )
    .await?;
    expect_outcome(&row, &["updated"])?;
    saved(200, "Event updated", event_id).await
}

/// The event as the public catalog shows it, with its ticket types.
async fn saved(status: u16, message: &'static str, event_id: &EntityId) -> Result<Response> {
    let rows = STORE
        .query(
            urr_catalog_domain::sql::GET_EVENT,
            vec![uuid(event_id.as_str())],
        )
        .await?;
    let event = rows.first().ok_or_else(ApiError::not_found)?;
    let event = EventDetail::from(event_row(event)?);
    let rows = STORE
        .query(
            urr_catalog_domain::sql::LIST_TICKET_TYPES,
            vec![
                uuid(event_id.as_str()),
                ParameterValue::Int64(MAX_TICKET_TYPES),
            ],
        )
        .await?;
    let mut ticket_types = Vec::with_capacity(rows.len());
    for row in &rows {
        // An event without ticket types comes back as one row of NULLs.
        if column::<Option<String>>(row, "id")?.is_some() {
            ticket_types.push(ticket_type(row)?);
        }
    }
    reply(
        status,
        &EventSaved {
            message,
            event,
            ticket_types,
        },
    )
}

pub async fn cancel(
    actor: &Actor,
    holds: &Holds<'_>,
    event_id: &EntityId,
    body: &[u8],
) -> Result<Response> {
    let request = parse_cancel(body)?;
    let row = change(
        sql::CANCEL_EVENT,
        actor,
        &json!({ "reason": request.reason }),
        vec![
            uuid(event_id.as_str()),
            optional_text(request.reason.as_deref()),
        ],
    )
    .await?;
    expect_outcome(&row, &["cancelled"])?;
    holds.free(&row, "event cancel").await;
    reply(
        200,
        &EventCancelled {
            message: "Event cancelled",
            event: StatusOf {
                id: event_id.as_str().to_string(),
                status: "cancelled".into(),
            },
            reservations_cancelled: column(&row, "reservations_cancelled")?,
            reservations_expired: column(&row, "reservations_expired")?,
            refunds_recorded: column(&row, "refunds_recorded")?,
        },
    )
}

pub async fn delete(actor: &Actor, event_id: &EntityId) -> Result<Response> {
    let row = change(
        sql::DELETE_EVENT,
        actor,
        &json!({}),
        vec![uuid(event_id.as_str())],
    )
    .await?;
    expect_outcome(&row, &["deleted"])?;
    reply(
        200,
        &Message {
            message: "Event deleted",
        },
    )
}

pub async fn generate_seats(actor: &Actor, event_id: &EntityId) -> Result<Response> {
    let row = change(
        sql::GENERATE_SEATS,
        actor,
        &json!({}),
        vec![uuid(event_id.as_str())],
    )
    .await?;
    expect_outcome(&row, &["generated"])?;
    reply(
        200,
        &SeatsGenerated {
            message: "Seats generated",
            event_id: event_id.as_str().to_string(),
            seats_created: column(&row, "seats_created")?,
            total_seats: column(&row, "total_seats")?,
        },
    )
}

pub async fn delete_seats(actor: &Actor, event_id: &EntityId) -> Result<Response> {
    let row = change(
        sql::DELETE_SEATS,
        actor,
        &json!({}),
        vec![uuid(event_id.as_str())],
    )
    .await?;
    expect_outcome(&row, &["deleted"])?;
    reply(
        200,
        &SeatsDeleted {
            message: "Seats deleted",
            event_id: event_id.as_str().to_string(),
            seats_deleted: column(&row, "seats_deleted")?,
        },
    )
}

pub fn ticket_type(row: &Row) -> Result<TicketType> {
    Ok(TicketType {
        id: column(row, "id")?,
        name: column(row, "name")?,
        price: column(row, "price")?,
        total_quantity: column(row, "total_quantity")?,
        available_quantity: column(row, "available_quantity")?,
        description: column(row, "description")?,
    })
}

/// An event row of the catalog's statements (`urr_catalog_domain::sql::event_columns`).
fn event_row(row: &Row) -> Result<EventRow> {
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
