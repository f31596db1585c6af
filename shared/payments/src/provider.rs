//! The payment provider's wire protocol, as pure request/response shaping. A component turns an
//! [`OutboundRequest`] into one `wasi:http` call and hands the answer back to `read_*`, which
//! classifies it; transport failures (timeouts, dropped connections) are classified by the caller,
//! which knows whether the request may have reached the provider.
//!
//! The protocol (what the mock provider in tools/ serves, modelled on Korean PG APIs):
//! - `POST /v1/payments/charge` `{orderId, amount, method, paymentKey?}` with `Idempotency-Key`:
//!   200 a payment object (`status: "DONE"`), 4xx `{code, message}` declined;
//! - `GET /v1/payments/orders/{orderId}`: 200 a payment object (`DONE` or `CANCELED`), 404 never
//!   captured;
//! - `POST /v1/payments/{paymentKey}/cancel` `{cancelReason, cancelAmount}` with
//!   `Idempotency-Key`: 200 a payment object (`CANCELED`).
//!
//! Every request carries `Authorization: Bearer <secret key>`.

use serde::{Deserialize, Serialize};

/// Longest provider error code or message kept (they end up in logs and `failure_code`).
const MAX_PROVIDER_TEXT: usize = 40;

/// The provider's error code for a refund of an already refunded payment.
pub const ALREADY_CANCELED: &str = "ALREADY_CANCELED_PAYMENT";

/// The payment object the provider answers with (and sends in webhooks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentObject {
    pub payment_key: String,
    pub order_id: String,
    pub amount: i32,
    /// `DONE` (captured), `CANCELED` (refunded) or `ABORTED` (declined).
    pub status: String,
    #[serde(default)]
    pub approved_at: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
}

/// Body of a charge request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeBody {
    pub order_id: String,
    pub amount: i32,
    pub method: String,
    /// The key the provider's client widget issued, when the browser authorised first
    /// (`/payments/confirm`); absent for server-side charges (`/payments/process`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_key: Option<String>,
}

/// Body of a refund (cancel) request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelBody {
    pub cancel_reason: String,
    pub cancel_amount: i32,
}

/// The provider's error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
}

/// One HTTP request to the provider, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    pub method: HttpMethod,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

/// A capture the provider reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub payment_key: String,
    pub order_id: String,
    pub amount: i32,
    /// RFC 3339, when the provider gave a well-formed one.
    pub approved_at: Option<String>,
}

/// What a charge answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Approved(Captured),
    /// A definite no: nothing was captured.
    Declined {
        code: String,
    },
    /// The provider answered, but not with a definite outcome (5xx, garbage): treat the payment
    /// as unknown and reconcile it.
    Unknown(String),
}

/// HTTP statuses with which the provider refuses a request without answering for its
/// idempotency key: 409 (a request with the same key is being processed) and 429 (not processed
/// at all). Any other 4xx to a key is that key's own answer, replayed.
pub const REFUSALS_NOT_FOR_THE_KEY: &[u16] = &[409, 429];

impl ChargeOutcome {
    /// What the answer to a RE-SEND (a charge whose earlier attempt with the same key may be
    /// captured) means: a refusal that does not answer for the key says nothing about that
    /// earlier attempt, so its outcome stays unknown instead of declined.
    pub fn for_resend(self, status: u16) -> Self {
        match self {
            ChargeOutcome::Declined { code } if REFUSALS_NOT_FOR_THE_KEY.contains(&status) => {
                ChargeOutcome::Unknown(format!("re-send refused ({code}, http {status})"))
            }
            other => other,
        }
    }
}

/// What a status lookup means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupOutcome {
    Captured(Captured),
    Refunded(Captured),
    NotCaptured,
    Unknown(String),
}

/// What a refund answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    Refunded,
    Failed(String),
}

/// A charge to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge<'a> {
    pub order_id: &'a str,
    pub amount: i32,
    pub method: &'a str,
    pub idempotency_key: &'a str,
    pub payment_key: Option<&'a str>,
}

/// A refund to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund<'a> {
    pub payment_key: &'a str,
    pub amount: i32,
    pub reason: &'a str,
    pub idempotency_key: &'a str,
}

/// A payment provider's protocol: how to ask, and what the answers mean.
pub trait PaymentProvider {
    fn charge(&self, charge: &Charge<'_>) -> OutboundRequest;
    fn read_charge(&self, status: u16, body: &[u8]) -> ChargeOutcome;
    fn lookup(&self, order_id: &str) -> OutboundRequest;
    fn read_lookup(&self, status: u16, body: &[u8]) -> LookupOutcome;
    fn refund(&self, refund: &Refund<'_>) -> OutboundRequest;
    fn read_refund(&self, status: u16, body: &[u8]) -> RefundOutcome;
}

/// The provider protocol above, at `base_url` (`scheme://host[:port]`), with the secret key.
pub struct HttpProvider {
    base_url: String,
    secret_key: String,
}

impl HttpProvider {
    pub fn new(base_url: &str, secret_key: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            secret_key: secret_key.to_string(),
        }
    }

    fn request(
        &self,
        method: HttpMethod,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> OutboundRequest {
        let mut headers = vec![("authorization", format!("Bearer {}", self.secret_key))];
        if let Some(key) = key {
            headers.push(("idempotency-key", key.to_string()));
        }
        if body.is_some() {
            headers.push(("content-type", "application/json".to_string()));
        }
        OutboundRequest {
            method,
            url: format!("{}{path}", self.base_url),
            headers,
            body,
        }
    }
}

/// Percent-encodes a path segment (order ids and keys are validated tokens; this is a backstop).
fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn bounded(text: &str) -> String {
    text.chars().take(MAX_PROVIDER_TEXT).collect()
}

/// An RFC 3339 timestamp as the provider sends it, or None (then the database's clock is used).
pub fn timestamp(text: Option<&str>) -> Option<String> {
    text.filter(|t| {
        (20..=40).contains(&t.len())
            && t.as_bytes().get(4) == Some(&b'-')
            && t.as_bytes().get(10) == Some(&b'T')
            && t.bytes()
                .all(|b| b.is_ascii_digit() || b"-:.TZ+".contains(&b))
    })
    .map(str::to_string)
}

fn captured(object: PaymentObject) -> Captured {
    Captured {
        approved_at: timestamp(object.approved_at.as_deref()),
        payment_key: object.payment_key,
        order_id: object.order_id,
        amount: object.amount,
    }
}

fn payment_object(body: &[u8]) -> Option<PaymentObject> {
    serde_json::from_slice::<PaymentObject>(body)
        .ok()
        .filter(|p| crate::input::reference(&p.payment_key, "invalid_payment_key").is_ok())
}

impl PaymentProvider for HttpProvider {
    fn charge(&self, charge: &Charge<'_>) -> OutboundRequest {
        let body = ChargeBody {
            order_id: charge.order_id.to_string(),
            amount: charge.amount,
            method: charge.method.to_string(),
            payment_key: charge.payment_key.map(str::to_string),
        };
        self.request(
            HttpMethod::Post,
            "/v1/payments/charge",
            Some(charge.idempotency_key),
            serde_json::to_string(&body).ok(),
        )
    }

    fn read_charge(&self, status: u16, body: &[u8]) -> ChargeOutcome {
        match status {
            200 | 201 => match payment_object(body) {
                Some(p) if p.status == "DONE" => ChargeOutcome::Approved(captured(p)),
                Some(p) => {
                    ChargeOutcome::Unknown(format!("charge answered status {}", bounded(&p.status)))
                }
                None => ChargeOutcome::Unknown("charge answer is not a payment".into()),
            },
            // A 4xx is the provider's definite refusal: nothing was captured.
            400..=499 => ChargeOutcome::Declined {
                code: serde_json::from_slice::<ErrorBody>(body)
                    .map(|e| bounded(&e.code))
                    .unwrap_or_else(|_| format!("http_{status}")),
            },
            _ => ChargeOutcome::Unknown(format!("charge answered http {status}")),
        }
    }

    fn lookup(&self, order_id: &str) -> OutboundRequest {
        self.request(
            HttpMethod::Get,
            &format!("/v1/payments/orders/{}", segment(order_id)),
            None,
            None,
        )
    }

    fn read_lookup(&self, status: u16, body: &[u8]) -> LookupOutcome {
        match status {
            200 => match payment_object(body) {
                Some(p) if p.status == "DONE" => LookupOutcome::Captured(captured(p)),
                Some(p) if p.status == "CANCELED" => LookupOutcome::Refunded(captured(p)),
                Some(p) if p.status == "ABORTED" => LookupOutcome::NotCaptured,
                _ => LookupOutcome::Unknown("lookup answer is not a known payment".into()),
            },
            404 => LookupOutcome::NotCaptured,
            _ => LookupOutcome::Unknown(format!("lookup answered http {status}")),
        }
    }

    fn refund(&self, refund: &Refund<'_>) -> OutboundRequest {
        let body = CancelBody {
            cancel_reason: refund.reason.chars().take(200).collect(),
            cancel_amount: refund.amount,
        };
        self.request(
            HttpMethod::Post,
            &format!("/v1/payments/{}/cancel", segment(refund.payment_key)),
            Some(refund.idempotency_key),
            serde_json::to_string(&body).ok(),
        )
    }

    fn read_refund(&self, status: u16, body: &[u8]) -> RefundOutcome {
        match (status, payment_object(body)) {
            (200, Some(p)) if p.status == "CANCELED" => RefundOutcome::Refunded,
            // The money is already back: a refund delivered earlier under this key's twin.
            (400, _)
                if serde_json::from_slice::<ErrorBody>(body)
                    .is_ok_and(|e| e.code == ALREADY_CANCELED) =>
            {
                RefundOutcome::Refunded
            }
            _ => RefundOutcome::Failed(format!("refund answered http {status}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> HttpProvider {
        HttpProvider::new("http://127.0.0.1:9000/", "sk_test")
    }

    fn object(status: &str) -> Vec<u8> {
        serde_json::to_vec(&PaymentObject {
            payment_key: "pk_1".into(),
            order_id: "ORD-1".into(),
            amount: 3000,
            status: status.into(),
            approved_at: Some("2026-11-30T12:00:00.000Z".into()),
            method: Some("card".into()),
        })
        .expect("serializes")
    }

    #[test]
    fn a_resend_refused_without_an_answer_for_its_key_stays_unknown() {
        let body = br#"{"code":"ALREADY_PROCESSING","message":"busy"}"#;
        for status in [409, 429] {
            let outcome = provider().read_charge(status, body);
            assert!(
                matches!(outcome, ChargeOutcome::Declined { .. }),
                "first send: {status}"
            );
            assert!(
                matches!(outcome.for_resend(status), ChargeOutcome::Unknown(_)),
                "re-send: {status}"
            );
        }
        // The key's own decline, replayed, is definite on a re-send too.
        let declined = provider().read_charge(402, br#"{"code":"CARD_DECLINED","message":"no"}"#);
        assert_eq!(
            declined.for_resend(402),
            ChargeOutcome::Declined {
                code: "CARD_DECLINED".into()
            }
        );
    }

    #[test]
    fn a_charge_carries_the_secret_and_the_idempotency_key() {
        let request = provider().charge(&Charge {
            order_id: "ORD-1",
            amount: 3000,
            method: "card",
            idempotency_key: "charge-1",
            payment_key: None,
        });
        assert_eq!(request.method, HttpMethod::Post);
        assert_eq!(request.url, "http://127.0.0.1:9000/v1/payments/charge");
        assert!(
            request
                .headers
                .contains(&("authorization", "Bearer sk_test".into()))
        );
        assert!(
            request
                .headers
                .contains(&("idempotency-key", "charge-1".into()))
        );
        let body: ChargeBody =
            serde_json::from_str(request.body.as_deref().unwrap_or("")).expect("json");
        assert_eq!((body.order_id.as_str(), body.amount), ("ORD-1", 3000));
    }

    #[test]
    fn charge_answers_are_approved_declined_or_unknown() {
        let p = provider();
        assert!(
            matches!(p.read_charge(200, &object("DONE")), ChargeOutcome::Approved(c) if c.payment_key == "pk_1")
        );
        assert_eq!(
            p.read_charge(402, br#"{"code":"CARD_DECLINED","message":"no"}"#),
            ChargeOutcome::Declined {
                code: "CARD_DECLINED".into()
            }
        );
        assert!(matches!(p.read_charge(500, b""), ChargeOutcome::Unknown(_)));
        assert!(matches!(
            p.read_charge(200, b"garbage"),
            ChargeOutcome::Unknown(_)
        ));
    }

    #[test]
    fn lookups_tell_captured_refunded_and_never_captured_apart() {
        let p = provider();
        assert!(matches!(
            p.read_lookup(200, &object("DONE")),
            LookupOutcome::Captured(_)
        ));
        assert!(matches!(
            p.read_lookup(200, &object("CANCELED")),
            LookupOutcome::Refunded(_)
        ));
        assert_eq!(p.read_lookup(404, b"{}"), LookupOutcome::NotCaptured);
        assert!(matches!(p.read_lookup(503, b""), LookupOutcome::Unknown(_)));
        assert_eq!(
            p.lookup("ORD 1/x").url,
            "http://127.0.0.1:9000/v1/payments/orders/ORD%201%2Fx"
        );
    }

    #[test]
    fn only_a_canceled_payment_object_is_a_delivered_refund() {
        let p = provider();
        assert_eq!(
            p.read_refund(200, &object("CANCELED")),
            RefundOutcome::Refunded
        );
        assert!(matches!(
            p.read_refund(200, &object("DONE")),
            RefundOutcome::Failed(_)
        ));
        assert!(matches!(p.read_refund(503, b""), RefundOutcome::Failed(_)));
    }

    #[test]
    fn malformed_timestamps_are_dropped() {
        assert!(timestamp(Some("2026-11-30T12:00:00Z")).is_some());
        assert!(timestamp(Some("2026-11-30T12:00:00+09:00")).is_some());
        for bad in ["yesterday", "2026-11-30", "2026-11-30T12:00:00Z'; DROP", ""] {
            assert_eq!(timestamp(Some(bad)), None, "{bad}");
        }
    }
}
