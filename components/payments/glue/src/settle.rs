//! Turning what the provider says into state, each step one SQL function: settle a capture
//! (confirm, or owe a refund and deliver it at once), deliver an owed refund, and resolve a
//! payment whose outcome is unknown by asking the provider. Called right after the provider
//! answers, and again by whichever call comes next (the user's next payments call, a webhook,
//! the operator's delivery pass), so nothing depends on a background worker.

use crate::PaySettings;
use crate::provider::call;
use crate::store::{DATA_CONFLICT, STORE};
use spin_sdk::pg::ParameterValue;
use spin_sdk::redis::RedisParameter;
use urr_component::Result;
use urr_component::pg::{column, null, optional, text};
use urr_payments::provider::{Captured, LookupOutcome, PaymentProvider, Refund, RefundOutcome};
use urr_payments::sql;

/// What recording a capture did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The payment and the reservation are confirmed, the seats sold.
    Confirmed,
    AlreadyConfirmed,
    /// The capture cannot become a ticket: refunded now (`delivered`) or owed in the outbox.
    Refunded {
        delivered: bool,
    },
    NotFound,
}

/// Records the provider's capture of `payment_id` (one SQL function), frees the buyer's queue
/// slot on success, and delivers an owed refund right after the commit.
pub async fn record_capture(
    settings: &PaySettings,
    payment_id: &str,
    captured: &Captured,
) -> Result<Settled> {
    let row = STORE
        .one(
            sql::RECORD_CAPTURE,
            vec![
                text(payment_id),
                text(&captured.payment_key),
                captured.approved_at.as_deref().map_or_else(null, text),
                ParameterValue::Int32(captured.amount),
            ],
        )
        .await?;
    let outcome: String = column(&row, "outcome")?;
    match outcome.as_str() {
        "confirmed" => {
            release_queue_slot_of(settings, &row).await?;
            Ok(Settled::Confirmed)
        }
        "already_confirmed" => Ok(Settled::AlreadyConfirmed),
        "refund_pending" | "already_refunded" => {
            let reason: Option<String> = optional(&row, "reason")?;
            eprintln!(
                "payments: capture of {payment_id} cannot become a ticket ({reason:?}); refunding"
            );
            let delivered = match optional::<i64>(&row, "refund_outbox_id")? {
                Some(outbox_id) => deliver_refund(settings, outbox_id).await?,
                None => true,
            };
            Ok(Settled::Refunded { delivered })
        }
        _ => Ok(Settled::NotFound),
    }
}

/// Delivers outbox row `outbox_id` to the provider (its idempotency key makes a redelivery
/// safe) and marks it delivered in one SQL function. `false`: still owed (the failure is
/// recorded on the row for operators).
pub async fn deliver_refund(settings: &PaySettings, outbox_id: i64) -> Result<bool> {
    let rows = STORE
        .query(sql::OUTBOX_ITEM, vec![ParameterValue::Int64(outbox_id)])
        .await?;
    let Some(row) = rows.first() else {
        return Ok(true); // delivered meanwhile by another call
    };
    let payment_key: Option<String> = optional(row, "payment_key")?;
    let Some(payment_key) = payment_key else {
        eprintln!("payments: outbox {outbox_id} has no captured payment to refund");
        return Ok(false);
    };
    let amount: i32 = column(row, "amount")?;
    let reason: String = column(row, "reason")?;
    let key: String = column(row, "idempotency_key")?;
    let provider = settings.provider();
    let request = provider.refund(&Refund {
        payment_key: &payment_key,
        amount,
        reason: &reason,
        idempotency_key: &key,
    });
    let outcome = match call(&request, settings.provider_timeout_ms).await {
        Ok((status, body)) => provider.read_refund(status, &body),
        Err(e) => RefundOutcome::Failed(e.to_string()),
    };
    match outcome {
        RefundOutcome::Refunded => {
            STORE
                .one(
                    sql::REFUND_DELIVERED,
                    vec![ParameterValue::Int64(outbox_id)],
                )
                .await?;
            Ok(true)
        }
        RefundOutcome::Failed(error) => {
            eprintln!("payments: refund {outbox_id} not delivered: {error}");
            STORE
                .query(
                    sql::REFUND_FAILED,
                    vec![ParameterValue::Int64(outbox_id), text(&error)],
                )
                .await?;
            Ok(false)
        }
    }
}

/// How a payment with an unknown outcome was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Settled(Settled),
    /// The provider never captured it: the payment failed, the reservation stays payable.
    NotCaptured,
    /// The provider could not say (down, slow): try again later.
    StillUnknown,
    /// The provider says it refunded a capture we never recorded: set aside for an operator
    /// (and never re-sent, which would replay the capture).
    Parked,
}

/// Asks the provider what became of order `order_id` (payment `payment_id`) and records it.
pub async fn resolve_unknown(
    settings: &PaySettings,
    payment_id: &str,
    order_id: &str,
) -> Result<Resolution> {
    let provider = settings.provider();
    let outcome = match call(&provider.lookup(order_id), settings.provider_timeout_ms).await {
        Ok((status, body)) => provider.read_lookup(status, &body),
        Err(e) => LookupOutcome::Unknown(e.to_string()),
    };
    match outcome {
        LookupOutcome::Captured(captured) => Ok(Resolution::Settled(
            record_capture(settings, payment_id, &captured).await?,
        )),
        LookupOutcome::NotCaptured => {
            // Only if nobody re-sent it since the work list was read: a re-send in flight may
            // capture after this lookup.
            let row = STORE
                .one(
                    sql::RECORD_NOT_CAPTURED,
                    vec![
                        text(payment_id),
                        ParameterValue::Int32(settings.stale_after_ms()),
                    ],
                )
                .await?;
            Ok(match column::<String>(&row, "outcome")?.as_str() {
                "failed" => Resolution::NotCaptured,
                _ => Resolution::StillUnknown,
            })
        }
        LookupOutcome::Refunded(_) => {
            park(
                None,
                payment_id,
                "refunded at the provider before its capture was recorded",
            )
            .await?;
            Ok(Resolution::Parked)
        }
        // Refunded at the provider while we still think it is processing: only possible if our
        // own records were lost; leave it for an operator rather than guess.
        LookupOutcome::Unknown(_) => Ok(Resolution::StillUnknown),
    }
}

/// What one pass over owed work did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkDone {
    pub refunds_delivered: u32,
    pub refunds_pending: u32,
    pub confirmed: u32,
    pub refunded: u32,
    pub not_captured: u32,
    pub unknown: u32,
    /// Rows set aside for an operator this pass (see [`park`]).
    pub parked: u32,
}

/// Delivers owed refunds and resolves unknown outcomes: one user's (their next call) or
/// everyone's (`user_id` None: the operator's pass), at most `limit` of each kind.
///
/// Each row is its own step: a row whose statement breaks a rule on its own data (a
/// [`DATA_CONFLICT`]: a provider answer our records cannot hold, such as a payment key another
/// payment already has) is parked with its reason and the pass goes on, so one bad row never
/// blocks the users and refunds behind it. Any other failure (a store going away, a missing
/// grant, our own bug) would fail every row alike: it ends the pass, and parks nothing.
pub async fn work_through(
    settings: &PaySettings,
    user_id: Option<&str>,
    limit: i32,
) -> Result<WorkDone> {
    let rows = STORE
        .query(
            sql::PENDING_WORK,
            vec![
                user_id.map_or_else(null, text),
                ParameterValue::Int32(settings.stale_after_ms()),
                ParameterValue::Int32(limit),
            ],
        )
        .await?;
    let mut done = WorkDone::default();
    for row in &rows {
        let kind: String = column(row, "kind")?;
        let outbox_id: Option<i64> = optional(row, "outbox_id")?;
        let payment_id: String = column(row, "payment_id")?;
        let step = if kind == "refund" {
            deliver_refund(settings, outbox_id.unwrap_or_default())
                .await
                .map(|delivered| {
                    if delivered {
                        done.refunds_delivered += 1;
                    } else {
                        done.refunds_pending += 1;
                    }
                })
        } else {
            let order_id: String = column(row, "order_id")?;
            resolve_unknown(settings, &payment_id, &order_id)
                .await
                .map(|resolution| match resolution {
                    Resolution::Settled(Settled::Confirmed | Settled::AlreadyConfirmed) => {
                        done.confirmed += 1
                    }
                    Resolution::Settled(Settled::Refunded { .. }) => done.refunded += 1,
                    Resolution::Settled(Settled::NotFound) | Resolution::StillUnknown => {
                        done.unknown += 1
                    }
                    Resolution::NotCaptured => done.not_captured += 1,
                    Resolution::Parked => done.parked += 1,
                })
        };
        match step {
            Ok(()) => {}
            Err(e) if e.code == DATA_CONFLICT => {
                let reason = if kind == "refund" {
                    "the refund's delivery could not be recorded: its data breaks a rule \
                     (SQLSTATE class 22/23); the payments log has the detail"
                } else {
                    "the provider's answer could not be recorded: its data breaks a rule \
                     (SQLSTATE class 22/23); the payments log has the detail"
                };
                park(outbox_id, &payment_id, reason).await?;
                done.parked += 1;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Sets one work row aside for an operator with `reason` (one SQL function; counted as
/// `work_parked`, shown on the dashboard): the outbox row when there is one, else the payment.
async fn park(outbox_id: Option<i64>, payment_id: &str, reason: &str) -> Result<()> {
    eprintln!(
        "payments: parking work on payment {payment_id} (outbox {outbox_id:?}): {reason}; \
         an operator must look at it"
    );
    STORE
        .one(
            sql::PARK_WORK,
            vec![
                outbox_id.map_or_else(null, ParameterValue::Int64),
                text(payment_id),
                text(reason),
            ],
        )
        .await?;
    Ok(())
}

/// [`release_queue_slot`] for a confirming row that names `event_id` and `user_id`.
pub async fn release_queue_slot_of(settings: &PaySettings, row: &spin_sdk::pg::Row) -> Result<()> {
    let event_id: Option<String> = optional(row, "event_id")?;
    let user_id: Option<String> = optional(row, "user_id")?;
    if let (Some(event_id), Some(user_id)) = (event_id, user_id) {
        release_queue_slot(settings, &event_id, &user_id).await;
    }
    Ok(())
}

/// Frees the buyer's active slot in the event's waiting room once they have paid (best effort:
/// the slot also ends by itself, and Redis never decides a sale).
pub async fn release_queue_slot(settings: &PaySettings, event_id: &str, user_id: &str) {
    // The waiting room owns the key: its active set (member: the user id).
    let key = urr_queue::keys::active_key(&settings.session.key_prefix, event_id);
    let Ok(conn) = urr_component::redis().await else {
        eprintln!("payments: redis unavailable; queue slot of {user_id} ends by itself");
        return;
    };
    let args = vec![
        RedisParameter::Binary(key.into_bytes()),
        RedisParameter::Binary(user_id.as_bytes().to_vec()),
    ];
    if let Err(e) = conn.execute("ZREM", args).await {
        eprintln!("payments: releasing the queue slot failed: {e:?}");
    }
}
