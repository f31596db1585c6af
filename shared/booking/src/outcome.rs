//! What a reserve function's outcome means: a response to send (created or replayed), a hold
//! that lost to a newer writer, or a refusal.

use crate::BookingError;
use serde_json::Value;

/// One row of `sql::RESERVE_SEATS` / `sql::RESERVE_STANDING`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReserveRow {
    pub outcome: String,
    pub http_status: i32,
    pub body: Value,
    pub fencing_token: Option<i64>,
    pub expires_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReserveOutcome {
    /// Send `body` with `status`. `expires_at_ms` is until when the seats are held (0: no
    /// longer; None: unknown) and `fencing_token` the reservation's own token (seated; a replay
    /// reads it from the first answer), for aligning the Redis holds.
    Respond {
        status: u16,
        body: Value,
        expires_at_ms: Option<i64>,
        fencing_token: Option<i64>,
    },
    /// The hold's token is older than a seat's: `row_token` is the newest written.
    Stale {
        seats: Vec<String>,
        row_token: i64,
    },
    Refused(BookingError),
}

fn ids(body: &Value, field: &str) -> Vec<String> {
    body.get(field)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl ReserveRow {
    /// `None` for an outcome the functions never return (a migration/code mismatch).
    pub fn outcome(self) -> Option<ReserveOutcome> {
        let limit = || self.body.get("limit").and_then(Value::as_i64).unwrap_or(0);
        let refused = |e| Some(ReserveOutcome::Refused(e));
        match self.outcome.as_str() {
            "created" | "replay" => Some(ReserveOutcome::Respond {
                status: u16::try_from(self.http_status).ok()?,
                expires_at_ms: self.expires_at_ms,
                fencing_token: self.fencing_token.or_else(|| {
                    self.body
                        .pointer("/reservation/fencingToken")
                        .and_then(Value::as_i64)
                }),
                body: self.body,
            }),
            "stale_hold" => Some(ReserveOutcome::Stale {
                seats: ids(&self.body, "seats"),
                row_token: self.body.get("fencingToken").and_then(Value::as_i64)?,
            }),
            "mismatch" => refused(BookingError::IdempotencyMismatch),
            "in_flight" => refused(BookingError::IdempotencyInFlight),
            "invalid_request" => refused(BookingError::InvalidBody),
            "event_not_found" => refused(BookingError::EventNotFound),
            "not_on_sale" => refused(BookingError::NotOnSale),
            "purchase_limit" => refused(BookingError::PurchaseLimit { limit: limit() }),
            "seat_not_found" => refused(BookingError::SeatNotFound {
                seats: ids(&self.body, "seats"),
            }),
            "seat_taken" => refused(BookingError::SeatTaken {
                seats: ids(&self.body, "seats"),
            }),
            "ticket_type_not_found" => refused(BookingError::TicketTypeNotFound),
            "sold_out" => refused(BookingError::SoldOut),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(outcome: &str, status: i32, body: Value) -> ReserveRow {
        ReserveRow {
            outcome: outcome.into(),
            http_status: status,
            body,
            fencing_token: None,
            expires_at_ms: None,
        }
    }

    #[test]
    fn a_replay_is_sent_with_the_first_status_and_body() {
        let body = json!({"message": "Seats reserved", "reservation": {"fencingToken": 42}});
        assert_eq!(
            row("replay", 201, body.clone()).outcome(),
            Some(ReserveOutcome::Respond {
                status: 201,
                body,
                expires_at_ms: None,
                fencing_token: Some(42),
            })
        );
    }

    #[test]
    fn refusals_carry_their_details() {
        assert_eq!(
            row("seat_taken", 409, json!({"seats": ["a", "b"]})).outcome(),
            Some(ReserveOutcome::Refused(BookingError::SeatTaken {
                seats: vec!["a".into(), "b".into()]
            }))
        );
        assert_eq!(
            row("purchase_limit", 409, json!({"limit": 4, "held": 3})).outcome(),
            Some(ReserveOutcome::Refused(BookingError::PurchaseLimit {
                limit: 4
            }))
        );
        assert_eq!(
            row(
                "stale_hold",
                409,
                json!({"seats": ["a"], "fencingToken": 9})
            )
            .outcome(),
            Some(ReserveOutcome::Stale {
                seats: vec!["a".into()],
                row_token: 9
            })
        );
        assert_eq!(row("surprise", 200, json!({})).outcome(), None);
    }
}
