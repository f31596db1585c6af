//! Rows in, the admin routes' JSON out. Events and ticket types use the catalog's shapes
//! (`urr_catalog_domain::reply`), so the admin screens and the public pages agree field by field;
//! times are ISO-8601 in UTC like everywhere in the API.

use serde::Serialize;
use urr_catalog_domain::reply::{EventDetail, Pagination, TicketType, iso_time};

/// `{message}`: deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub message: &'static str,
}

/// 201 of `POST /admin/events`: the contract's `{message, event}`, plus its ticket types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventSaved {
    pub message: &'static str,
    pub event: EventDetail,
    #[serde(rename = "ticketTypes")]
    pub ticket_types: Vec<TicketType>,
}

/// `POST /admin/events/{id}/cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventCancelled {
    pub message: &'static str,
    pub event: StatusOf,
    #[serde(rename = "reservationsCancelled")]
    pub reservations_cancelled: i64,
    #[serde(rename = "reservationsExpired")]
    pub reservations_expired: i64,
    /// Refunds recorded in the payment outbox (delivered by the payments component).
    #[serde(rename = "refundsRecorded")]
    pub refunds_recorded: i64,
}

/// `{id, status}` of the resource a change moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusOf {
    pub id: String,
    pub status: String,
}

/// `POST /admin/events/{id}/generate-seats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatsGenerated {
    pub message: &'static str,
    #[serde(rename = "eventId")]
    pub event_id: String,
    /// Seats this call created (0 when they all existed: generation is idempotent).
    #[serde(rename = "seatsCreated")]
    pub seats_created: i64,
    #[serde(rename = "totalSeats")]
    pub total_seats: i64,
}

/// `DELETE /admin/events/{id}/seats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatsDeleted {
    pub message: &'static str,
    #[serde(rename = "eventId")]
    pub event_id: String,
    #[serde(rename = "seatsDeleted")]
    pub seats_deleted: i64,
}

/// `POST /admin/events/{id}/tickets` (201) and `PUT /admin/tickets/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketTypeSaved {
    pub message: &'static str,
    #[serde(rename = "ticketType")]
    pub ticket_type: TicketType,
}

/// `PATCH /admin/reservations/{id}/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservationStatusChanged {
    pub message: &'static str,
    pub reservation: ReservationStatusOf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservationStatusOf {
    pub id: String,
    pub status: String,
    /// `completed` while captured, `refunded` once the refund is delivered.
    pub payment_status: String,
    /// A captured payment's refund is recorded and awaits delivery.
    #[serde(rename = "refundPending")]
    pub refund_pending: bool,
    #[serde(rename = "refundAmount")]
    pub refund_amount: Option<i64>,
}

/// A reservation as `sql::LIST_RESERVATIONS` returns it (times in Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationRow {
    pub id: String,
    pub reservation_number: String,
    pub user_id: String,
    pub event_id: String,
    pub event_title: String,
    pub venue: String,
    pub event_date: i64,
    /// The buyer's account name and e-mail (NULL when the account is gone).
    pub user_name: Option<String>,
    pub user_email: Option<String>,
    pub kind: String,
    pub total_amount: i64,
    pub status: String,
    pub payment_status: String,
    pub payment_method: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub cancelled_at: Option<i64>,
}

/// An item of `GET /admin/reservations` (snake_case, like the user's own reservation list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminReservation {
    pub id: String,
    pub reservation_number: String,
    pub user_id: String,
    pub event_id: String,
    pub event_title: String,
    pub venue: String,
    pub event_date: String,
    pub user_name: Option<String>,
    pub user_email: Option<String>,
    pub kind: String,
    pub total_amount: i64,
    pub status: String,
    pub payment_status: String,
    pub payment_method: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub cancelled_at: Option<String>,
}

impl From<ReservationRow> for AdminReservation {
    fn from(row: ReservationRow) -> Self {
        Self {
            created_at: iso_time(row.created_at),
            expires_at: iso_time(row.expires_at),
            cancelled_at: row.cancelled_at.map(iso_time),
            id: row.id,
            reservation_number: row.reservation_number,
            user_id: row.user_id,
            event_id: row.event_id,
            event_title: row.event_title,
            venue: row.venue,
            event_date: iso_time(row.event_date),
            user_name: row.user_name,
            user_email: row.user_email,
            kind: row.kind,
            total_amount: row.total_amount,
            status: row.status,
            payment_status: row.payment_status,
            payment_method: row.payment_method,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservationList {
    pub reservations: Vec<AdminReservation>,
    pub pagination: Pagination,
}

/// A row of `GET /admin/audit-log`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub admin_id: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub request_summary: serde_json::Value,
    pub resulting_status: String,
    pub client_ip: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditList {
    #[serde(rename = "auditLog")]
    pub audit_log: Vec<AuditEntry>,
    pub pagination: Pagination,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_reservation_formats_its_times_and_keeps_null_ones_null() {
        let row = ReservationRow {
            id: "r".into(),
            reservation_number: "R20261130-7KQ2M9XA".into(),
            user_id: "u".into(),
            event_id: "e".into(),
            event_title: "Golden Hour".into(),
            venue: "Hall".into(),
            event_date: 1_795_564_800,
            user_name: Some("Kim".into()),
            user_email: None,
            kind: "seated".into(),
            total_amount: 154_000,
            status: "confirmed".into(),
            payment_status: "completed".into(),
            payment_method: Some("card".into()),
            created_at: 1_795_564_800,
            expires_at: 1_795_565_100,
            cancelled_at: None,
        };
        let value = serde_json::to_value(AdminReservation::from(row)).expect("serializes");
        assert_eq!(value["created_at"], "2026-11-25T00:00:00.000Z");
        assert_eq!(value["expires_at"], "2026-11-25T00:05:00.000Z");
        assert_eq!(value["cancelled_at"], serde_json::Value::Null);
        assert_eq!(value["total_amount"], 154_000);
        assert_eq!(value["user_name"], "Kim");
        assert_eq!(value["user_email"], serde_json::Value::Null);
    }

    #[test]
    fn change_replies_use_the_contract_names() {
        let value = serde_json::to_value(SeatsGenerated {
            message: "Seats generated",
            event_id: "e".into(),
            seats_created: 265,
            total_seats: 265,
        })
        .expect("serializes");
        assert_eq!(value["seatsCreated"], 265);
        assert_eq!(value["totalSeats"], 265);
    }
}
