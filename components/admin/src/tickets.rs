//! Ticket-type changes: add one to an event, change one (its total never below what is sold).

use urr_admin_domain::AdminError;
use urr_admin_domain::input::{parse_new_ticket_type, parse_ticket_type_changes};
use urr_admin_domain::reply::TicketTypeSaved;
use urr_admin_domain::sql;
use urr_catalog_domain::EntityId;
use urr_component::{Response, Result};

use crate::Actor;
use crate::events::ticket_type;
use crate::store::{change, expect_outcome, optional_int4, reply};
use urr_component::pg::{column, optional_text, text, uuid};

pub async fn create(actor: &Actor, event_id: &EntityId, body: &[u8]) -> Result<Response> {
    let new = parse_new_ticket_type(body)?;
    let row = change(
        sql::CREATE_TICKET_TYPE,
        actor,
        &new.summary(),
        vec![
            uuid(event_id.as_str()),
            text(&new.name),
            optional_int4(Some(new.price))?,
            optional_int4(Some(new.total_quantity))?,
            text(&new.description),
        ],
    )
    .await?;
    expect_outcome(&row, &["created"])?;
    reply(
        201,
        &TicketTypeSaved {
            message: "Ticket type created",
            ticket_type: ticket_type(&row)?,
        },
    )
}

pub async fn update(actor: &Actor, ticket_type_id: &EntityId, body: &[u8]) -> Result<Response> {
    let changes = parse_ticket_type_changes(body)?;
    let row = change(
        sql::UPDATE_TICKET_TYPE,
        actor,
        &changes.summary(),
        vec![
            uuid(ticket_type_id.as_str()),
            optional_text(changes.name.as_deref()),
            optional_int4(changes.price)?,
            optional_int4(changes.total_quantity)?,
            optional_text(changes.description.as_deref()),
        ],
    )
    .await?;
    if column::<String>(&row, "outcome")? == "below_sold" {
        let total: i64 = column(&row, "total_quantity")?;
        let available: i64 = column(&row, "available_quantity")?;
        return Err(AdminError::BelowSold {
            sold: total - available,
        }
        .into());
    }
    expect_outcome(&row, &["updated"])?;
    reply(
        200,
        &TicketTypeSaved {
            message: "Ticket type updated",
            ticket_type: ticket_type(&row)?,
        },
    )
}
