//! Response bodies of the payments routes, in the contract's shape.

use serde_json::{Value, json};

/// A confirmed payment as `/payments/process` and its replays return it.
pub struct Paid<'a> {
    pub payment_id: &'a str,
    pub order_id: &'a str,
    pub amount: i32,
    pub method: &'a str,
    pub payment_key: &'a str,
    pub approved_at: &'a str,
}

/// `POST /payments/process`: `{success, message, payment:{id, orderId, amount, method, ...}}`.
pub fn processed(paid: &Paid<'_>) -> Value {
    json!({
        "success": true,
        "message": "Payment completed",
        "payment": {
            "id": paid.payment_id,
            "orderId": paid.order_id,
            "amount": paid.amount,
            "method": paid.method,
            "paymentKey": paid.payment_key,
            "status": "confirmed",
            "approvedAt": paid.approved_at,
        },
    })
}

/// `POST /payments/confirm`: `{success, payment:{orderId, paymentKey, amount, method, approvedAt}}`.
pub fn confirmed(paid: &Paid<'_>) -> Value {
    json!({
        "success": true,
        "payment": {
            "orderId": paid.order_id,
            "paymentKey": paid.payment_key,
            "amount": paid.amount,
            "method": paid.method,
            "approvedAt": paid.approved_at,
        },
    })
}

/// `POST /payments/prepare`: `{orderId, amount, clientKey}`.
pub fn prepared(order_id: &str, amount: i32, client_key: &str) -> Value {
    json!({ "orderId": order_id, "amount": amount, "clientKey": client_key })
}

/// `POST /reservations/{id}/cancel`.
pub fn reservation_cancelled(
    reservation_id: &str,
    refund_amount: Option<i32>,
    refund_delivered: bool,
) -> Value {
    let message = match (refund_amount, refund_delivered) {
        (None, _) => "Reservation cancelled",
        (Some(_), true) => "Reservation cancelled and refunded",
        (Some(_), false) => "Reservation cancelled; the refund is on its way",
    };
    json!({
        "message": message,
        "reservation": { "id": reservation_id, "status": "cancelled" },
        "refundAmount": refund_amount.unwrap_or(0),
    })
}

/// `POST /payments/{paymentKey}/cancel`: `{success, message, refundAmount}`.
pub fn payment_cancelled(refund_amount: i32, refund_delivered: bool) -> Value {
    json!({
        "success": true,
        "message": if refund_delivered { "Payment cancelled and refunded" } else { "Payment cancelled; the refund is on its way" },
        "refundAmount": refund_amount,
    })
}

/// `GET /payments/user/me`: `{payments, pagination:{limit, offset, total}}`.
pub fn payment_list(payments: Value, limit: u32, offset: u32, total: i64) -> Value {
    json!({
        "payments": payments,
        "pagination": { "limit": limit, "offset": offset, "total": total },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_processed_payment_names_id_order_amount_and_method() {
        let body = processed(&Paid {
            payment_id: "p",
            order_id: "o",
            amount: 5,
            method: "card",
            payment_key: "k",
            approved_at: "t",
        });
        assert_eq!(body["success"], true);
        assert_eq!(body["payment"]["orderId"], "o");
        assert_eq!(body["payment"]["method"], "card");
    }

    #[test]
    fn a_cancel_says_whether_the_refund_is_done() {
        assert_eq!(
            reservation_cancelled("r", Some(5), false)["reservation"]["status"],
            "cancelled"
        );
        assert!(
            payment_cancelled(5, false)["message"]
                .as_str()
                .unwrap_or("")
                .contains("on its way")
        );
    }
}
