//! The request hash an idempotency record is matched on: SHA-256 over the scope and the
//! request's canonical body, so the same key sent with another request (or to another route)
//! is told apart (422) from a retry (the first response again).

use crate::input::{ReserveRequest, StandingRequest};
use serde_json::json;
use sha2::{Digest, Sha256};

/// Scope of a seated reserve (`idempotency_keys.scope`).
pub const SCOPE_RESERVE: &str = "reserve";
/// Scope of a standing reserve.
pub const SCOPE_RESERVE_STANDING: &str = "reserve_standing";

fn hash(scope: &str, canonical: &serde_json::Value) -> Vec<u8> {
    let mut digest = Sha256::new();
    digest.update(scope.as_bytes());
    digest.update(b"\n");
    digest.update(canonical.to_string().as_bytes());
    digest.finalize().to_vec()
}

/// The canonical body is the parsed request (ids lower-cased, seats and items in id order), so
/// a retry that lists the same seats differently is the same request.
pub fn reserve_hash(req: &ReserveRequest) -> Vec<u8> {
    hash(
        SCOPE_RESERVE,
        &json!({ "eventId": req.event_id.as_str(), "seatIds": req.seats.strings() }),
    )
}

pub fn standing_hash(req: &StandingRequest) -> Vec<u8> {
    let items: Vec<_> = req
        .items
        .iter()
        .map(|i| json!([i.ticket_type_id.as_str(), i.quantity]))
        .collect();
    hash(
        SCOPE_RESERVE_STANDING,
        &json!({ "eventId": req.event_id.as_str(), "items": items }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b";
    const S1: &str = "11111111-1111-4111-8111-111111111111";
    const S2: &str = "22222222-2222-4222-8222-222222222222";

    fn reserve(seats: serde_json::Value) -> ReserveRequest {
        let body = json!({"eventId": EVENT, "seatIds": seats, "idempotencyKey": "k"});
        ReserveRequest::parse(body.to_string().as_bytes(), None).expect("valid")
    }

    #[test]
    fn the_same_seats_in_another_order_are_the_same_request() {
        assert_eq!(
            reserve_hash(&reserve(json!([S1, S2]))),
            reserve_hash(&reserve(json!([S2, S1.to_uppercase()])))
        );
        assert_eq!(reserve_hash(&reserve(json!([S1]))).len(), 32);
    }

    #[test]
    fn other_seats_or_another_scope_are_another_request() {
        assert_ne!(
            reserve_hash(&reserve(json!([S1]))),
            reserve_hash(&reserve(json!([S2])))
        );
        let standing = StandingRequest::parse(
            json!({"eventId": EVENT, "items": [{"ticketTypeId": S1, "quantity": 1}]})
                .to_string()
                .as_bytes(),
            None,
        )
        .expect("valid");
        assert_ne!(
            standing_hash(&standing),
            reserve_hash(&reserve(json!([S1])))
        );
    }
}
