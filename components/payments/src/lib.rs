//! Component `payments`: the provider's webhook, a buyer's payment reads, cancel and refund, and
//! the operator's delivery pass (under `/api/v1` and `/api`), as the `urr_payments` role.
//!
//! - `POST /payments/webhook`            — signed by the provider (HMAC-SHA256), deduplicated
//! - `GET  /payments/order/{orderId}`    — the owner's payment (another user's: 404)
//! - `GET  /payments/user/me`            — the owner's payments, newest first, paged
//! - `POST /payments/{paymentKey}/cancel`— cancel a paid reservation by its payment, refunded
//! - `POST /reservations/{id}/cancel`    — the shared cancel; a paid reservation is refunded
//!
//! A buyer's cancel closes `cancel_cutoff_secs` before the event's start (409
//! `cancel_window_closed`); a cancel frees the reservation's Redis seat holds after its commit.
//! - `POST /payments/outbox/deliver`     — admin: deliver owed refunds, resolve unknown outcomes
//!
//! Refunds are owed in `payment_outbox` by the same transaction that cancels, delivered right
//! after the commit, and re-delivered by the next call that finds them undelivered.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use spin_sdk::pg::ParameterValue;
use urr_booking::BookingError;
use urr_booking_glue::free::free_holds;
use urr_component::pg::{column, null, optional, text};
use urr_component::request::{body, route as api_route};
use urr_component::{ApiError, Response, Result, json, path_param, respond, route_refused};
use urr_payments::PaymentError;
use urr_payments::input::{Id, parse_page, reference};
use urr_payments::reply;
use urr_payments::route::PaymentsRoute;
use urr_payments::sql;
use urr_payments::webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER, parse_event, verify};
use urr_payments_glue::PaySettings;
use urr_payments_glue::caller::caller;
use urr_payments_glue::settle::{deliver_refund, release_queue_slot_of, work_through};
use urr_payments_glue::store::STORE;
use urr_ratelimit::Category;

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    let route = match PaymentsRoute::parse(req.method().as_str(), &api_route(&req)) {
        Ok(route) => route,
        Err(refusal) => return route_refused(refusal),
    };
    respond(match route {
        PaymentsRoute::Webhook => webhook(req).await,
        PaymentsRoute::MyPayments => my_payments(req).await,
        PaymentsRoute::Order => order(req).await,
        PaymentsRoute::Deliver => deliver(req).await,
        PaymentsRoute::CancelPayment => cancel_payment(req).await,
        PaymentsRoute::CancelReservation => cancel_reservation(req).await,
    })
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// A provider webhook: the signature is checked before anything else is read or written (a
/// bad one is a 401 and changes nothing); the event is applied once (its id is recorded in the
/// same transaction as its effect). Not rate-limited per user: the provider is the caller, and
/// the signature is the gate.
async fn webhook(req: Request) -> Result<Response> {
    let settings = PaySettings::load().await?;
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (signature, timestamp) = (header(SIGNATURE_HEADER), header(TIMESTAMP_HEADER));
    let raw = body(req).await?;
    verify(
        settings.webhook_secret.as_bytes(),
        signature.as_deref(),
        timestamp.as_deref(),
        &raw,
        unix_now(),
    )
    .map_err(|e| {
        eprintln!("payments: webhook refused: {e}");
        PaymentError::from(e)
    })?;
    let event = parse_event(&raw)?;
    let data = &event.data;
    let row = STORE
        .one(
            sql::APPLY_WEBHOOK,
            vec![
                text(&event.event_id),
                text(&event.event_type),
                text(&data.order_id),
                text(&data.payment_key),
                text(&data.status),
                ParameterValue::Int32(data.amount),
                urr_payments::provider::timestamp(data.approved_at.as_deref())
                    .as_deref()
                    .map_or_else(null, text),
            ],
        )
        .await?;
    let outcome: String = column(&row, "outcome")?;
    match outcome.as_str() {
        "confirmed" => release_queue_slot_of(&settings, &row).await?,
        "refund_pending" => {
            if let Some(outbox_id) = optional::<i64>(&row, "refund_outbox_id")? {
                deliver_refund(&settings, outbox_id).await?;
            }
        }
        _ => {}
    }
    Ok(json(
        200,
        &serde_json::json!({ "received": true, "duplicate": outcome == "duplicate", "outcome": outcome }),
    ))
}

/// `GET /payments/order/{orderId}`: the owner's payment row.
async fn order(req: Request) -> Result<Response> {
    let settings = PaySettings::load().await?;
    let who = caller(&req, &settings, Category::Default).await?;
    let order_id = reference(path_param(&req, "id").unwrap_or(""), "invalid_order_id")?;
    work_through(&settings, Some(&who.user.user_id), sql::USER_WORK_LIMIT).await?;
    let rows = STORE
        .query(
            &sql::order(),
            vec![text(&order_id), text(&who.user.user_id)],
        )
        .await?;
    let row = rows.first().ok_or(PaymentError::NotFound)?;
    let payment: serde_json::Value = serde_json::from_str(&column::<String>(row, "payment")?)
        .map_err(|_| ApiError::internal())?;
    Ok(json(200, &serde_json::json!({ "payment": payment })))
}

/// `GET /payments/user/me?limit&offset`: the owner's payments, newest first.
async fn my_payments(req: Request) -> Result<Response> {
    let settings = PaySettings::load().await?;
    let who = caller(&req, &settings, Category::Default).await?;
    let page = parse_page(req.uri().query().unwrap_or(""));
    work_through(&settings, Some(&who.user.user_id), sql::USER_WORK_LIMIT).await?;
    let row = STORE
        .one(
            &sql::user_payments(),
            vec![
                text(&who.user.user_id),
                ParameterValue::Int64(i64::from(page.limit)),
                ParameterValue::Int64(i64::from(page.offset)),
            ],
        )
        .await?;
    let payments: serde_json::Value = serde_json::from_str(&column::<String>(&row, "payments")?)
        .map_err(|_| ApiError::internal())?;
    Ok(json(
        200,
        &reply::payment_list(payments, page.limit, page.offset, column(&row, "total")?),
    ))
}

/// How long before the event's start a buyer's cancel closes (`cancel_cutoff_secs`).
async fn cancel_cutoff_secs() -> Result<i32> {
    let text = urr_component::variable("cancel_cutoff_secs").await?;
    urr_booking::config::parse_cancel_cutoff_secs(&text)
        .ok()
        .and_then(|secs| i32::try_from(secs).ok())
        .ok_or_else(|| {
            eprintln!("variable `cancel_cutoff_secs` is invalid: `{text}`");
            ApiError::internal()
        })
}

/// Cancels `reservation_id` for `user_id` (the shared SQL function, which refuses once the
/// event's cut-off has passed), then, after the commit, frees the reservation's seat holds in
/// Redis and delivers its refund. Returns the refund amount (None: nothing was paid) and whether
/// the refund is already delivered.
async fn cancel(
    settings: &PaySettings,
    redis: Option<&spin_sdk::redis::Connection>,
    reservation_id: &str,
    user_id: &str,
    reason: &str,
) -> Result<(Option<i32>, bool)> {
    let row = STORE
        .one(
            sql::CANCEL_RESERVATION,
            vec![
                text(reservation_id),
                text(user_id),
                text(reason),
                ParameterValue::Int32(cancel_cutoff_secs().await?),
            ],
        )
        .await?;
    let outcome: String = column(&row, "outcome")?;
    if matches!(outcome.as_str(), "cancelled" | "expired" | "refund_pending") {
        // Committed: a hold that is not freed here ends by itself, so nothing is refused.
        let holds = optional::<String>(&row, "holds").unwrap_or_default();
        let prefix = &settings.session.key_prefix;
        free_holds(redis, prefix, holds.as_deref(), "cancel").await;
    }
    match outcome.as_str() {
        "cancelled" => Ok((None, true)),
        "refund_pending" => {
            let refund: Option<i32> = optional(&row, "refund_amount")?;
            let delivered = match optional::<i64>(&row, "refund_outbox_id")? {
                Some(outbox_id) => deliver_refund(settings, outbox_id).await?,
                None => true,
            };
            Ok((refund, delivered))
        }
        "already_cancelled" => Err(PaymentError::AlreadyCancelled.into()),
        "cancel_window_closed" => Err(BookingError::CancelWindowClosed.into()),
        "expired" => Err(PaymentError::Expired.into()),
        _ => Err(PaymentError::NotFound.into()),
    }
}

/// `POST /reservations/{id}/cancel`.
async fn cancel_reservation(req: Request) -> Result<Response> {
    let settings = PaySettings::load().await?;
    let who = caller(&req, &settings, Category::Booking).await?;
    let id = Id::parse(
        path_param(&req, "id").unwrap_or(""),
        "invalid_reservation_id",
    )?;
    work_through(&settings, Some(&who.user.user_id), sql::USER_WORK_LIMIT).await?;
    let (refund, delivered) = cancel(
        &settings,
        who.redis.as_ref(),
        id.as_str(),
        &who.user.user_id,
        "cancelled by buyer",
    )
    .await?;
    Ok(json(
        200,
        &reply::reservation_cancelled(id.as_str(), refund, delivered),
    ))
}

/// `POST /payments/{paymentKey}/cancel`: the paid reservation behind the payment is cancelled
/// and the payment refunded.
async fn cancel_payment(req: Request) -> Result<Response> {
    let settings = PaySettings::load().await?;
    let who = caller(&req, &settings, Category::Booking).await?;
    let payment_key = reference(path_param(&req, "key").unwrap_or(""), "invalid_payment_key")?;
    let rows = STORE
        .query(
            sql::PAYMENT_BY_KEY,
            vec![text(&payment_key), text(&who.user.user_id)],
        )
        .await?;
    let row = rows.first().ok_or(PaymentError::NotFound)?;
    match column::<String>(row, "status")?.as_str() {
        "confirmed" => {}
        "refunded" => return Err(PaymentError::AlreadyRefunded.into()),
        _ => return Err(PaymentError::NotCancellable.into()),
    }
    // A membership payment has no reservation: memberships are not cancelled for a refund.
    let Some(reservation_id) = optional::<String>(row, "reservation_id")? else {
        return Err(PaymentError::NotCancellable.into());
    };
    let (refund, delivered) = cancel(
        &settings,
        who.redis.as_ref(),
        &reservation_id,
        &who.user.user_id,
        "payment cancelled by buyer",
    )
    .await?;
    let amount = refund.unwrap_or(column(row, "amount")?);
    Ok(json(200, &reply::payment_cancelled(amount, delivered)))
}

/// `POST /payments/outbox/deliver` (admin): one bounded pass over every owed refund and every
/// payment whose outcome is unknown.
async fn deliver(req: Request) -> Result<Response> {
    let settings = PaySettings::load().await?;
    let who = caller(&req, &settings, Category::Default).await?;
    if who.user.role != urr_tokens::Role::Admin {
        return Err(PaymentError::Forbidden.into());
    }
    let done = work_through(&settings, None, sql::DELIVERY_PASS_LIMIT).await?;
    Ok(json(
        200,
        &serde_json::json!({
            "refundsDelivered": done.refunds_delivered,
            "refundsPending": done.refunds_pending,
            "confirmed": done.confirmed,
            "refunded": done.refunded,
            "notCaptured": done.not_captured,
            "unknown": done.unknown,
            "parked": done.parked,
        }),
    ))
}
