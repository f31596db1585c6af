//! Provider webhooks: the signature is HMAC-SHA256 over `timestamp + "." + body` with the shared
//! webhook secret, sent as `v1=<hex>` in [`SIGNATURE_HEADER`] with the Unix timestamp in
//! [`TIMESTAMP_HEADER`]. A signature older (or newer) than [`TOLERANCE_SECS`] is refused, so a
//! captured request cannot be replayed later; replays inside the window are caught by the event
//! id (deduplicated in the database).

use crate::PaymentError;
use crate::provider::PaymentObject;
use serde::{Deserialize, Serialize};

pub const SIGNATURE_HEADER: &str = "x-provider-signature";
pub const TIMESTAMP_HEADER: &str = "x-provider-timestamp";
/// How far a webhook's timestamp may be from our clock: 5 minutes, the common industry window
/// (covers clock skew and provider retries, short enough to bound replays).
pub const TOLERANCE_SECS: i64 = 300;
/// Longest signature header accepted (`v1=` + 64 hex digits, a few schemes at most).
const MAX_SIGNATURE_HEADER_LEN: usize = 512;

/// A webhook as the provider sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    pub event_id: String,
    pub event_type: String,
    pub data: PaymentObject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature or timestamp header missing")]
    Missing,
    #[error("timestamp outside the tolerance window")]
    Stale,
    #[error("signature does not match")]
    Mismatch,
}

impl From<SignatureError> for PaymentError {
    fn from(_: SignatureError) -> Self {
        PaymentError::BadSignature
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> [u8; 32] {
    let mut h = hmac_sha256::HMAC::new(secret);
    h.update(timestamp.to_string().as_bytes());
    h.update(b".");
    h.update(body);
    h.finalize()
}

/// The signature header value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("v1={}", hex(&mac(secret, timestamp, body)))
}

/// Compares without an early exit, so timing tells nothing about how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a webhook: both headers present, the timestamp within the window around `now_secs`,
/// and one of the header's `v1=` signatures (comma-separated, for secret rotation) matching.
pub fn verify(
    secret: &[u8],
    signature_header: Option<&str>,
    timestamp_header: Option<&str>,
    body: &[u8],
    now_secs: i64,
) -> Result<(), SignatureError> {
    let (Some(signatures), Some(timestamp)) = (signature_header, timestamp_header) else {
        return Err(SignatureError::Missing);
    };
    if signatures.len() > MAX_SIGNATURE_HEADER_LEN {
        return Err(SignatureError::Mismatch);
    }
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::Missing)?;
    if (now_secs - timestamp).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    let expected = hex(&mac(secret, timestamp, body));
    let matched = signatures
        .split(',')
        .filter_map(|s| s.trim().strip_prefix("v1="))
        .any(|s| constant_time_eq(s.as_bytes(), expected.as_bytes()));
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The verified body as an event, with its references validated.
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, PaymentError> {
    let invalid = PaymentError::Invalid {
        code: "invalid_webhook",
        message: "Webhook body is not a payment event",
    };
    let event: WebhookEvent = serde_json::from_slice(body).map_err(|_| invalid.clone())?;
    for text in [
        &event.event_id,
        &event.data.order_id,
        &event.data.payment_key,
    ] {
        crate::input::reference(text, "invalid_webhook").map_err(|_| invalid.clone())?;
    }
    if event.event_type.is_empty() || event.event_type.len() > 100 {
        return Err(invalid);
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const NOW: i64 = 1_800_000_000;
    const BODY: &[u8] = br#"{"eventId":"evt_1"}"#;

    #[test]
    fn a_fresh_signature_over_the_exact_body_verifies() {
        let sig = sign(SECRET, NOW, BODY);
        assert_eq!(
            verify(SECRET, Some(&sig), Some(&NOW.to_string()), BODY, NOW + 10),
            Ok(())
        );
        // Rotation: any listed v1 signature may match.
        let both = format!("v1=00, {sig}");
        assert_eq!(
            verify(SECRET, Some(&both), Some(&NOW.to_string()), BODY, NOW),
            Ok(())
        );
    }

    #[test]
    fn the_signature_matrix_is_refused() {
        let ts = NOW.to_string();
        let sig = sign(SECRET, NOW, BODY);
        let wrong_secret = sign(b"other", NOW, BODY);
        assert_eq!(
            verify(SECRET, Some(&wrong_secret), Some(&ts), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                SECRET,
                Some(&sig),
                Some(&ts),
                br#"{"eventId":"evt_2"}"#,
                NOW
            ),
            Err(SignatureError::Mismatch),
            "tampered body"
        );
        assert_eq!(
            verify(SECRET, Some(&sig), Some(&(NOW + 1).to_string()), BODY, NOW),
            Err(SignatureError::Mismatch),
            "timestamp swapped under a valid signature"
        );
        let old = sign(SECRET, NOW - TOLERANCE_SECS - 1, BODY);
        assert_eq!(
            verify(
                SECRET,
                Some(&old),
                Some(&(NOW - TOLERANCE_SECS - 1).to_string()),
                BODY,
                NOW
            ),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(SECRET, None, Some(&ts), BODY, NOW),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(SECRET, Some(&sig), Some("soon"), BODY, NOW),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(SECRET, Some(&sig[3..]), Some(&ts), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231-style known answer, computed independently: HMAC-SHA256("key", "1.x").
        let expected = hex(&hmac_sha256::HMAC::mac(b"1.x", b"key"));
        assert_eq!(sign(b"key", 1, b"x"), format!("v1={expected}"));
    }

    #[test]
    fn events_must_name_well_formed_references() {
        let good = br#"{"eventId":"evt_1","eventType":"PAYMENT_STATUS_CHANGED","data":{"paymentKey":"pk_1","orderId":"ORD-1","amount":5,"status":"DONE"}}"#;
        assert_eq!(parse_event(good).expect("valid").data.status, "DONE");
        let bad = br#"{"eventId":"evt 1","eventType":"X","data":{"paymentKey":"pk_1","orderId":"ORD-1","amount":5,"status":"DONE"}}"#;
        assert!(parse_event(bad).is_err());
        assert!(parse_event(b"{}").is_err());
    }
}
