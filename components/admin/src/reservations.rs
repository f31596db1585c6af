//! The reservation list of the admin screens (with the buyer's name and e-mail) and an
//! operator's status change: `cancelled` and `refunded` go through the shared
//! `cancel_reservation` (a paid reservation gets its refund recorded in the outbox, its seat
//! holds are freed after the commit); `confirmed` is a no-op on a confirmed reservation and
//! refused otherwise (`admin_set_reservation_status`).

use spin_sdk::pg::ParameterValue;
use urr_admin_domain::AdminError;
use urr_admin_domain::input::{StatusTarget, parse_status_change};
use urr_admin_domain::query::ReservationQuery;
use urr_admin_domain::reply::{
    AdminReservation, ReservationList, ReservationRow, ReservationStatusChanged,
    ReservationStatusOf,
};
use urr_admin_domain::sql;
use urr_catalog_domain::EntityId;
use urr_catalog_domain::reply::Pagination;
use urr_component::{Response, Result};

use crate::store::{STORE, change, expect_outcome, reply};
use crate::{Actor, Holds};
use urr_component::pg::{column, optional_text, text, uuid};

pub async fn list(raw_query: &str) -> Result<Response> {
    let q = ReservationQuery::parse(raw_query)?;
    let rows = STORE
        .query(
            sql::LIST_RESERVATIONS,
            vec![
                optional_text(q.status.map(|s| s.as_str())),
                ParameterValue::Int64(q.paging.limit),
                ParameterValue::Int64(q.paging.offset()),
            ],
        )
        .await?;
    let mut total = 0;
    let mut reservations = Vec::with_capacity(rows.len());
    for row in &rows {
        total = column::<i64>(row, "total")?;
        let Some(reservation_id) = column::<Option<String>>(row, "id")? else {
            continue;
        };
        reservations.push(AdminReservation::from(ReservationRow {
            id: reservation_id,
            reservation_number: column(row, "reservation_number")?,
            user_id: column(row, "user_id")?,
            event_id: column(row, "event_id")?,
            event_title: column(row, "event_title")?,
            venue: column(row, "venue")?,
            event_date: column(row, "event_date")?,
            user_name: column(row, "user_name")?,
            user_email: column(row, "user_email")?,
            kind: column(row, "kind")?,
            total_amount: column(row, "total_amount")?,
            status: column(row, "status")?,
            payment_status: column(row, "payment_status")?,
            payment_method: column(row, "payment_method")?,
            created_at: column(row, "created_at")?,
            expires_at: column(row, "expires_at")?,
            cancelled_at: column(row, "cancelled_at")?,
        }));
    }
    reply(
        200,
        &ReservationList {
            reservations,
            pagination: Pagination::new(q.paging.page, q.paging.limit, total),
        },
    )
}

pub async fn set_status(
    actor: &Actor,
    holds: &Holds<'_>,
    reservation_id: &EntityId,
    body: &[u8],
) -> Result<Response> {
    let change_request = parse_status_change(body)?;
    let summary = serde_json::json!({
        "status": change_request.status.as_str(),
        "reason": change_request.reason,
    });
    let row = change(
        sql::SET_RESERVATION_STATUS,
        actor,
        &summary,
        vec![
            uuid(reservation_id.as_str()),
            text(change_request.status.as_str()),
            optional_text(change_request.reason.as_deref()),
        ],
    )
    .await?;
    let outcome = match expect_outcome(&row, &["cancelled", "refund_pending", "unchanged"]) {
        // The same refusal says why for each target.
        Err(_) if column::<String>(&row, "outcome")? == "transition_not_allowed" => {
            return Err(match change_request.status {
                StatusTarget::Confirmed => AdminError::ConfirmedOnlyByPayment,
                _ => AdminError::NothingToRefund,
            }
            .into());
        }
        other => other?,
    };
    holds.free(&row, "reservation status").await;
    reply(
        200,
        &ReservationStatusChanged {
            message: match outcome.as_str() {
                "unchanged" => "Reservation already confirmed",
                "refund_pending" => "Reservation cancelled; its refund is queued",
                _ => "Reservation cancelled",
            },
            reservation: ReservationStatusOf {
                id: reservation_id.as_str().to_string(),
                status: column(&row, "status")?,
                payment_status: column(&row, "payment_status")?,
                refund_pending: outcome == "refund_pending",
                refund_amount: column(&row, "refund_amount")?,
            },
        },
    )
}
