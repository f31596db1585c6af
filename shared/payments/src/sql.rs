//! The statements of components `pay` and `payments`. Each transition is ONE call of a SQL
//! function from the payments migration (one round trip, one transaction); reads are single
//! statements that filter by the owner. UUIDs travel as text and are cast in SQL; timestamps come
//! back as ISO-8601 text.

/// Work lists (undelivered refunds, payments with unknown outcomes) are bounded per call, so one
/// request never does unbounded provider work; the rest waits for the next call or pass.
pub const USER_WORK_LIMIT: i32 = 5;
pub const DELIVERY_PASS_LIMIT: i32 = 50;

/// `$1` reservation, `$2` user, `$3` amount.
pub const PREPARE: &str = "SELECT outcome, payment_id::text AS payment_id, order_id, amount \
     FROM payment_prepare($1::text::uuid, $2::text::uuid, $3)";

/// `$1` membership, `$2` user, `$3` amount: [`PREPARE`] for a membership (same columns; the
/// outcomes add `membership_not_found` and `membership_not_pending`).
pub const PREPARE_MEMBERSHIP: &str = "SELECT outcome, payment_id::text AS payment_id, order_id, \
            amount \
     FROM payment_prepare_membership($1::text::uuid, $2::text::uuid, $3)";

/// `$1` membership, `$2` user, `$3` method, `$4` order id or NULL, `$5` stale-after ms: [`BEGIN`]
/// for a membership (same columns and outcomes, plus `membership_not_found` and
/// `membership_not_pending`).
pub const BEGIN_MEMBERSHIP: &str = "SELECT outcome, payment_id::text AS payment_id, order_id, \
            amount, method, idempotency_key, payment_key, \
            to_json(approved_at) #>> '{}' AS approved_at \
     FROM payment_begin_membership($1::text::uuid, $2::text::uuid, $3::text, $4::text, $5)";

/// `$1` listing, `$2` buyer, `$3` amount: [`PREPARE`] for a resale listing (same columns; the
/// outcomes add `transfer_not_found`, `own_transfer`, `transfer_unavailable` and
/// `buyer_membership_required`).
pub const PREPARE_TRANSFER: &str = "SELECT outcome, payment_id::text AS payment_id, order_id, \
            amount \
     FROM payment_prepare_transfer($1::text::uuid, $2::text::uuid, $3)";

/// `$1` listing, `$2` buyer, `$3` method, `$4` order id or NULL, `$5` stale-after ms: [`BEGIN`]
/// for a resale listing (same columns and outcomes, plus those of [`PREPARE_TRANSFER`]).
pub const BEGIN_TRANSFER: &str = "SELECT outcome, payment_id::text AS payment_id, order_id, \
            amount, method, idempotency_key, payment_key, \
            to_json(approved_at) #>> '{}' AS approved_at \
     FROM payment_begin_transfer($1::text::uuid, $2::text::uuid, $3::text, $4::text, $5)";

/// `$1` reservation, `$2` user, `$3` method, `$4` order id or NULL, `$5` stale-after ms.
pub const BEGIN: &str = "SELECT outcome, payment_id::text AS payment_id, order_id, amount, method, \
            idempotency_key, payment_key, to_json(approved_at) #>> '{}' AS approved_at \
     FROM payment_begin($1::text::uuid, $2::text::uuid, $3::text, $4::text, $5)";

/// `$1` payment, `$2` payment key, `$3` approved at (RFC 3339 or NULL), `$4` captured amount.
pub const RECORD_CAPTURE: &str = "SELECT outcome, reason, reservation_id::text AS reservation_id, \
            event_id::text AS event_id, user_id::text AS user_id, refund_outbox_id, refund_amount \
     FROM payment_record_capture($1::text::uuid, $2::text, coalesce($3::text::timestamptz, now()), $4)";

/// `$1` payment, `$2` failure code.
pub const RECORD_FAILURE: &str =
    "SELECT outcome FROM payment_record_failure($1::text::uuid, $2::text)";

/// `$1` outbox id.
pub const REFUND_DELIVERED: &str = "SELECT outcome FROM payment_refund_delivered($1)";

/// `$1` outbox id, `$2` error.
pub const REFUND_FAILED: &str = "SELECT payment_refund_failed($1, $2::text)";

/// `$1` user or NULL (every user's), `$2` stale-after ms, `$3` limit per kind.
pub const PENDING_WORK: &str = "SELECT kind, outbox_id, payment_id::text AS payment_id, order_id, \
            payment_key, amount, idempotency_key, reason \
     FROM payment_pending_work($1::text::uuid, $2, $3)";

/// `$1` payment, `$2` stale-after ms: the provider says it never captured it.
pub const RECORD_NOT_CAPTURED: &str =
    "SELECT outcome FROM payment_record_not_captured($1::text::uuid, $2)";

/// `$1` outbox id or NULL, `$2` payment, `$3` reason: set one reconciliation row aside.
pub const PARK_WORK: &str = "SELECT outcome FROM payment_park_work($1, $2::text::uuid, $3::text)";

/// `$1` event id, `$2` event type, `$3` order id, `$4` payment key, `$5` status, `$6` amount,
/// `$7` approved at (RFC 3339 or NULL).
pub const APPLY_WEBHOOK: &str = "SELECT outcome, reservation_id::text AS reservation_id, \
            event_id::text AS event_id, user_id::text AS user_id, refund_outbox_id, refund_amount \
     FROM payment_apply_webhook($1::text, $2::text, $3::text, $4::text, $5::text, $6, \
                                $7::text::timestamptz)";

/// `$1` reservation, `$2` user, `$3` reason, `$4` the buyer's cut-off in seconds before the
/// event's start (the shared cancel of the booking schema). `holds`: the seat holds to free in
/// Redis after the commit (JSON text or NULL).
pub const CANCEL_RESERVATION: &str = "SELECT outcome, refund_outbox_id, refund_amount, \
            holds::text AS holds \
     FROM cancel_reservation($1::text::uuid, $2::text::uuid, $3::text, $4::int4)";

/// A payment as reads return it: camelCase and snake_case names (old clients read either).
const PAYMENT_JSON: &str = "json_build_object(\
     'id', p.id, 'orderId', p.order_id, 'order_id', p.order_id, \
     'reservationId', p.reservation_id, 'reservation_id', p.reservation_id, \
     'paymentType', p.payment_type, 'payment_type', p.payment_type, \
     'referenceId', coalesce(p.membership_id, p.transfer_id, p.reservation_id), \
     'reference_id', coalesce(p.membership_id, p.transfer_id, p.reservation_id), \
     'amount', p.amount, 'method', p.method, 'status', p.status, \
     'paymentKey', p.payment_key, 'payment_key', p.payment_key, \
     'approvedAt', p.approved_at, 'approved_at', p.approved_at, \
     'refundAmount', p.refund_amount, 'refund_amount', p.refund_amount, \
     'refundedAt', p.refunded_at, 'refunded_at', p.refunded_at, \
     'createdAt', p.created_at, 'created_at', p.created_at)";

/// `$1` order id, `$2` owner. One row or none (another user's is none).
pub fn order() -> String {
    format!(
        "SELECT {PAYMENT_JSON}::text AS payment, p.reservation_id::text AS reservation_id, \
                p.payment_type, p.membership_id::text AS membership_id, \
                p.transfer_id::text AS transfer_id, \
                p.status, p.amount, p.method, p.payment_key, \
                to_json(p.approved_at) #>> '{{}}' AS approved_at \
           FROM payments AS p WHERE p.order_id = $1 AND p.user_id = $2::text::uuid"
    )
}

/// `$1` owner, `$2` limit, `$3` offset: the page (newest first) and the total.
pub fn user_payments() -> String {
    format!(
        "SELECT (SELECT count(*) FROM payments WHERE user_id = $1::text::uuid) AS total, \
                coalesce((SELECT json_agg(page.payment ORDER BY page.created_at DESC, page.id DESC) \
                            FROM (SELECT {PAYMENT_JSON} AS payment, p.created_at, p.id \
                                    FROM payments AS p WHERE p.user_id = $1::text::uuid \
                                   ORDER BY p.created_at DESC, p.id DESC \
                                   LIMIT $2 OFFSET $3) AS page), '[]')::text AS payments"
    )
}

/// `$1` outbox id: what a pending refund needs for its delivery.
pub const OUTBOX_ITEM: &str = "SELECT o.amount, o.idempotency_key, o.reason, p.payment_key \
     FROM payment_outbox AS o JOIN payments AS p ON p.id = o.payment_id \
     WHERE o.id = $1 AND o.status = 'pending'";

/// `$1` payment key, `$2` owner: the payment's reservation and status.
pub const PAYMENT_BY_KEY: &str = "SELECT reservation_id::text AS reservation_id, status, amount \
     FROM payments WHERE payment_key = $1 AND user_id = $2::text::uuid";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transition_is_one_function_call() {
        for statement in [
            PREPARE,
            PREPARE_MEMBERSHIP,
            BEGIN,
            BEGIN_MEMBERSHIP,
            PREPARE_TRANSFER,
            BEGIN_TRANSFER,
            RECORD_CAPTURE,
            RECORD_FAILURE,
            REFUND_DELIVERED,
            REFUND_FAILED,
            PENDING_WORK,
            APPLY_WEBHOOK,
            CANCEL_RESERVATION,
        ] {
            assert_eq!(
                statement.matches("FROM ").count()
                    + statement.matches("SELECT payment_refund_failed").count(),
                1,
                "{statement}"
            );
            assert!(!statement.contains(';'), "{statement}");
        }
    }

    #[test]
    fn reads_are_scoped_to_the_owner_and_bounded() {
        assert!(order().contains("p.user_id = $2::text::uuid"));
        assert!(user_payments().contains("LIMIT $2 OFFSET $3"));
        assert!(PAYMENT_BY_KEY.contains("user_id = $2::text::uuid"));
    }
}
