//! Component `pay`: `/payments/prepare`, `/payments/process`, `/payments/confirm` (under
//! `/api/v1` and `/api`), as the `urr_payments` role, reaching the provider through `wasi:http`.
//!
//! Every route has one shape: settings → caller (auth, origin, limit) → parse → one SQL
//! function → (provider call → one SQL function) → response. A charge is recorded as
//! `processing` with its idempotency key BEFORE the provider is asked (`payment_begin`), and the
//! capture is confirmed — payment, reservation and seats at once, fencing tokens checked — by
//! one more function (`payment_record_capture`); a capture that lost its seats is refunded
//! through the outbox in that same transaction. A membership (`paymentType: "membership"`,
//! `referenceId`) is paid the same way through its twins `payment_prepare_membership` and
//! `payment_begin_membership`; its capture activates it in the confirming transaction. A resale
//! listing (`paymentType: "transfer"`) likewise through `payment_prepare_transfer` and
//! `payment_begin_transfer`; its capture is the sale — the ticket's new owner, the seller's
//! payout and the listing's end — or, when the listing is gone by then, a refund owed.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use spin_sdk::pg::ParameterValue;
use urr_component::pg::{column, null, optional, text};
use urr_component::request::{body, route as api_route};
use urr_component::{Response, Result, json, respond, route_refused};
use urr_payments::PaymentError;
use urr_payments::input::{Id, Purchase, parse_confirm, parse_prepare, parse_process};
use urr_payments::provider::{Charge, ChargeOutcome, PaymentProvider};
use urr_payments::reply::{self, Paid};
use urr_payments::route::PayRoute;
use urr_payments::sql;
use urr_payments_glue::PaySettings;
use urr_payments_glue::caller::caller;
use urr_payments_glue::provider::{Transport, call};
use urr_payments_glue::settle::{Settled, record_capture, work_through};
use urr_payments_glue::store::STORE;
use urr_ratelimit::Category;

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    let route = match PayRoute::parse(req.method().as_str(), &api_route(&req)) {
        Ok(route) => route,
        Err(refusal) => return route_refused(refusal),
    };
    respond(match route {
        PayRoute::Prepare => prepare(req).await,
        PayRoute::Process => process(req).await,
        PayRoute::Confirm => confirm(req).await,
    })
}

/// `{reservationId | paymentType + referenceId, amount}` → `{orderId, amount, clientKey}`: the
/// open payment of the reservation or membership, created on first call and reused after.
async fn prepare(req: Request) -> Result<Response> {
    let settings = PaySettings::load().await?;
    let who = caller(&req, &settings, Category::Default).await?;
    let input = parse_prepare(&body(req).await?)?;
    // Whatever this user is still owed (refunds, unknown outcomes) is resolved on their calls.
    work_through(&settings, Some(&who.user.user_id), sql::USER_WORK_LIMIT).await?;
    let statement = match input.purchase {
        Purchase::Reservation(_) => sql::PREPARE,
        Purchase::Membership(_) => sql::PREPARE_MEMBERSHIP,
        Purchase::Transfer(_) => sql::PREPARE_TRANSFER,
    };
    let row = STORE
        .one(
            statement,
            vec![
                text(input.purchase.id().as_str()),
                text(&who.user.user_id),
                ParameterValue::Int32(input.amount),
            ],
        )
        .await?;
    match column::<String>(&row, "outcome")?.as_str() {
        "prepared" => Ok(json(
            200,
            &reply::prepared(
                &column::<String>(&row, "order_id")?,
                column(&row, "amount")?,
                &settings.client_key,
            ),
        )),
        "already_paid" => Err(PaymentError::AlreadyPaid.into()),
        "event_cancelled" => Err(PaymentError::EventCancelled.into()),
        "expired" => Err(PaymentError::Expired.into()),
        "amount_mismatch" => Err(PaymentError::AmountMismatch.into()),
        "membership_not_pending" => Err(PaymentError::MembershipNotPending.into()),
        "membership_not_found" => Err(PaymentError::MembershipNotFound.into()),
        refusal => Err(transfer_refusal(refusal)
            .unwrap_or(PaymentError::NotFound)
            .into()),
    }
}

/// `{reservationId | paymentType + referenceId, paymentMethod}`: naturally idempotent per
/// purchase — parallel and repeated calls end with one payment and one provider charge.
async fn process(req: Request) -> Result<Response> {
    let settings = PaySettings::load().await?;
    let who = caller(&req, &settings, Category::Default).await?;
    let input = parse_process(&body(req).await?)?;
    let paid = pay(
        &settings,
        &who.user.user_id,
        &input.purchase,
        input.method.as_str(),
        None,
    )
    .await?;
    Ok(json(200, &reply::processed(&paid.as_paid())))
}

/// `{paymentKey, orderId, amount}`: the browser authorised `orderId` with the provider's widget
/// (which issued `paymentKey`); capture it.
async fn confirm(req: Request) -> Result<Response> {
    let settings = PaySettings::load().await?;
    let who = caller(&req, &settings, Category::Default).await?;
    let input = parse_confirm(&body(req).await?)?;
    let rows = STORE
        .query(
            &sql::order(),
            vec![text(&input.order_id), text(&who.user.user_id)],
        )
        .await?;
    let order = rows.first().ok_or(PaymentError::NotFound)?;
    if column::<i32>(order, "amount")? != input.amount {
        return Err(PaymentError::AmountMismatch.into());
    }
    match column::<String>(order, "status")?.as_str() {
        "confirmed" => return Err(PaymentError::AlreadyConfirmed.into()),
        "refunded" => return Err(PaymentError::AlreadyRefunded.into()),
        "failed" => return Err(PaymentError::OrderMismatch.into()),
        _ => {}
    }
    let purchase = order_purchase(order)?;
    let method = optional::<String>(order, "method")?.unwrap_or_else(|| "card".to_string());
    let paid = pay(
        &settings,
        &who.user.user_id,
        &purchase,
        &method,
        Some((&input.order_id, &input.payment_key)),
    )
    .await?;
    if paid.replayed {
        return Err(PaymentError::AlreadyConfirmed.into());
    }
    Ok(json(200, &reply::confirmed(&paid.as_paid())))
}

/// The refusals of the transfer twins (`None`: not one of them).
fn transfer_refusal(outcome: &str) -> Option<PaymentError> {
    Some(match outcome {
        "transfer_not_found" => PaymentError::TransferNotFound,
        "transfer_unavailable" => PaymentError::TransferUnavailable,
        "own_transfer" => PaymentError::OwnTransfer,
        "buyer_membership_required" => PaymentError::BuyerMembershipRequired,
        _ => return None,
    })
}

/// What an order pays for, by its stored kind (confirm does not ask the body).
fn order_purchase(order: &spin_sdk::pg::Row) -> Result<Purchase> {
    let kind: String = column(order, "payment_type")?;
    let (column_name, wrap): (&str, fn(Id) -> Purchase) = match kind.as_str() {
        "membership" => ("membership_id", Purchase::Membership),
        "transfer" => ("transfer_id", Purchase::Transfer),
        _ => ("reservation_id", Purchase::Reservation),
    };
    let id = Id::parse(&column::<String>(order, column_name)?, "invalid_id")
        .map_err(|_| urr_component::ApiError::internal())?;
    Ok(wrap(id))
}

/// A confirmed payment, and whether it was confirmed before this call.
struct Payment {
    id: String,
    order_id: String,
    amount: i32,
    method: String,
    payment_key: String,
    approved_at: String,
    replayed: bool,
}

impl Payment {
    fn as_paid(&self) -> Paid<'_> {
        Paid {
            payment_id: &self.id,
            order_id: &self.order_id,
            amount: self.amount,
            method: &self.method,
            payment_key: &self.payment_key,
            approved_at: &self.approved_at,
        }
    }
}

/// Begin (one SQL function, the purchase's kind's), charge the provider, settle (one SQL
/// function). `order` pins the confirm flow's order and its widget-issued payment key.
async fn pay(
    settings: &PaySettings,
    user_id: &str,
    purchase: &Purchase,
    method: &str,
    order: Option<(&str, &str)>,
) -> Result<Payment> {
    let statement = match purchase {
        Purchase::Reservation(_) => sql::BEGIN,
        Purchase::Membership(_) => sql::BEGIN_MEMBERSHIP,
        Purchase::Transfer(_) => sql::BEGIN_TRANSFER,
    };
    let row = STORE
        .one(
            statement,
            vec![
                text(purchase.id().as_str()),
                text(user_id),
                text(method),
                order.map_or_else(null, |(order_id, _)| text(order_id)),
                ParameterValue::Int32(settings.stale_after_ms()),
            ],
        )
        .await?;
    let outcome: String = column(&row, "outcome")?;
    let payment = |payment_key: String, approved_at: String, replayed: bool| -> Result<Payment> {
        Ok(Payment {
            id: column(&row, "payment_id")?,
            order_id: column(&row, "order_id")?,
            amount: column(&row, "amount")?,
            method: optional::<String>(&row, "method")?.unwrap_or_else(|| method.to_string()),
            payment_key,
            approved_at,
            replayed,
        })
    };
    // A re-send's earlier attempt may be captured: only the provider may fail it.
    let resend = match outcome.as_str() {
        "charge" => false,
        "resend" => true,
        "already_confirmed" => {
            return payment(
                optional::<String>(&row, "payment_key")?.unwrap_or_default(),
                optional::<String>(&row, "approved_at")?.unwrap_or_default(),
                true,
            );
        }
        "in_flight" => return Err(PaymentError::InFlight.into()),
        "parked" => return Err(PaymentError::UnderReview.into()),
        "expired" => return Err(PaymentError::Expired.into()),
        "hold_lost" => return Err(PaymentError::HoldLost.into()),
        "event_cancelled" => return Err(PaymentError::EventCancelled.into()),
        "order_mismatch" => return Err(PaymentError::OrderMismatch.into()),
        "membership_not_pending" => return Err(PaymentError::MembershipNotPending.into()),
        "membership_not_found" => return Err(PaymentError::MembershipNotFound.into()),
        refusal => {
            return Err(transfer_refusal(refusal)
                .unwrap_or(PaymentError::NotFound)
                .into());
        }
    };
    let payment_id: String = column(&row, "payment_id")?;
    let order_id: String = column(&row, "order_id")?;
    let amount: i32 = column(&row, "amount")?;
    let idempotency_key: String = column(&row, "idempotency_key")?;
    let provider = settings.provider();
    let request = provider.charge(&Charge {
        order_id: &order_id,
        amount,
        method,
        idempotency_key: &idempotency_key,
        payment_key: order.map(|(_, key)| key),
    });
    let answer = match call(&request, settings.provider_timeout_ms).await {
        Ok((status, body)) if resend => provider.read_charge(status, &body).for_resend(status),
        Ok((status, body)) => provider.read_charge(status, &body),
        Err(Transport::NotSent(e)) if resend => {
            // This attempt never left, but an earlier one with the same key may have been
            // captured: the payment stays `processing` until the provider says (a later
            // re-send or reconciliation asks with the same idempotency key).
            eprintln!("pay: provider unreachable on a re-send of {order_id}: {e}; stays unknown");
            return Err(PaymentError::ProviderUnavailable.into());
        }
        Err(Transport::NotSent(e)) => {
            // A first send that never left this host: nothing was captured, so the payment
            // fails at once and the next attempt starts clean (a new order, a new key).
            eprintln!("pay: provider unreachable: {e}");
            STORE
                .one(
                    sql::RECORD_FAILURE,
                    vec![text(&payment_id), text("provider_unreachable")],
                )
                .await?;
            return Err(PaymentError::ProviderUnavailable.into());
        }
        Err(Transport::TimedOut) => {
            eprintln!("pay: provider timed out on {order_id}; outcome unknown until reconciled");
            return Err(PaymentError::ProviderTimeout.into());
        }
        Err(Transport::Lost(e)) => {
            eprintln!(
                "pay: provider answer lost on {order_id} ({e}); outcome unknown until reconciled"
            );
            return Err(PaymentError::ProviderUnavailable.into());
        }
    };
    match answer {
        ChargeOutcome::Approved(captured) => {
            match record_capture(settings, &payment_id, &captured).await? {
                Settled::Confirmed | Settled::AlreadyConfirmed => payment(
                    captured.payment_key.clone(),
                    captured.approved_at.clone().unwrap_or_default(),
                    false,
                ),
                Settled::Refunded { .. } => Err(PaymentError::CaptureRefunded.into()),
                Settled::NotFound => Err(PaymentError::NotFound.into()),
            }
        }
        ChargeOutcome::Declined { code } => {
            STORE
                .one(sql::RECORD_FAILURE, vec![text(&payment_id), text(&code)])
                .await?;
            Err(PaymentError::Declined.into())
        }
        ChargeOutcome::Unknown(e) => {
            eprintln!(
                "pay: provider answer on {order_id} is not definite ({e}); reconciling later"
            );
            Err(PaymentError::ProviderUnavailable.into())
        }
    }
}
