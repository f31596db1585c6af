//! Every refusal of the booking routes: status, a stable `code`, a message that is safe to show,
//! and the extra fields some of them carry (the seats that were taken, where the queue is).

use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    #[error("The request body must be a JSON object")]
    InvalidBody,
    #[error("`page` must be a whole number from 1 to {max}", max = urr_api::paging::MAX_PAGE)]
    InvalidPage,
    #[error("`limit` must be a whole number")]
    InvalidLimit,
    #[error("`{0}` must be a UUID")]
    InvalidId(&'static str),
    #[error("Choose at least one seat")]
    NoSeats,
    #[error("At most {max} seats per request", max = crate::MAX_SEATS_PER_REQUEST)]
    TooManySeats,
    #[error("A seat is listed twice")]
    DuplicateSeat,
    #[error("Choose at least one ticket type")]
    NoItems,
    #[error("At most {max} ticket types per reservation", max = crate::MAX_TICKET_TYPES_PER_REQUEST)]
    TooManyItems,
    #[error("A ticket type is listed twice")]
    DuplicateItem,
    #[error("`quantity` must be a whole number from 1 to {max}", max = crate::MAX_STANDING_QUANTITY)]
    InvalidQuantity,
    #[error("`fencingToken` must be the positive whole number the hold returned")]
    InvalidFencingToken,
    #[error("The idempotency key must be 1 to 200 visible ASCII characters")]
    InvalidIdempotencyKey,
    #[error("The Idempotency-Key header and `idempotencyKey` differ")]
    IdempotencyKeyConflict,
    #[error("This idempotency key was used for a different request")]
    IdempotencyMismatch,
    #[error("A request with this idempotency key is still in progress")]
    IdempotencyInFlight,
    #[error("Entry from the waiting room is required")]
    QueueRequired { event_id: String },
    #[error("Event not found")]
    EventNotFound,
    #[error("The event is not on sale")]
    NotOnSale,
    #[error("Seat not found in this event")]
    SeatNotFound { seats: Vec<String> },
    #[error("Ticket type not found in this event")]
    TicketTypeNotFound,
    #[error("Seats are already taken")]
    SeatTaken { seats: Vec<String> },
    #[error("The hold is older than the seat's last writer")]
    StaleHold { seats: Vec<String> },
    #[error("Sold out")]
    SoldOut,
    #[error("Per-person purchase limit reached for this event")]
    PurchaseLimit { limit: i64 },
    #[error("Too many seats held at once")]
    HoldLimit { limit: i64 },
    #[error("Another change to these seats happened at the same time; try again")]
    ConcurrentChange,
    #[error("No hold with this token")]
    HoldNotFound,
    #[error(
        "This reservation can no longer be cancelled: the event is about to start or has started"
    )]
    CancelWindowClosed,
}

impl BookingError {
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidBody
            | Self::InvalidPage
            | Self::InvalidLimit
            | Self::InvalidId(_)
            | Self::NoSeats
            | Self::TooManySeats
            | Self::DuplicateSeat
            | Self::NoItems
            | Self::TooManyItems
            | Self::DuplicateItem
            | Self::InvalidQuantity
            | Self::InvalidFencingToken
            | Self::InvalidIdempotencyKey
            | Self::IdempotencyKeyConflict => 400,
            Self::QueueRequired { .. } => 403,
            Self::EventNotFound
            | Self::SeatNotFound { .. }
            | Self::TicketTypeNotFound
            | Self::HoldNotFound => 404,
            Self::IdempotencyMismatch => 422,
            Self::IdempotencyInFlight
            | Self::NotOnSale
            | Self::SeatTaken { .. }
            | Self::StaleHold { .. }
            | Self::SoldOut
            | Self::PurchaseLimit { .. }
            | Self::HoldLimit { .. }
            | Self::ConcurrentChange
            | Self::CancelWindowClosed => 409,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidBody => "invalid_body",
            Self::InvalidPage => "invalid_page",
            Self::InvalidLimit => "invalid_limit",
            Self::InvalidId(_) => "invalid_id",
            Self::NoSeats => "no_seats",
            Self::TooManySeats => "too_many_seats",
            Self::DuplicateSeat => "duplicate_seat",
            Self::NoItems => "no_items",
            Self::TooManyItems => "too_many_items",
            Self::DuplicateItem => "duplicate_item",
            Self::InvalidQuantity => "invalid_quantity",
            Self::InvalidFencingToken => "invalid_fencing_token",
            Self::InvalidIdempotencyKey => "invalid_idempotency_key",
            Self::IdempotencyKeyConflict => "idempotency_key_conflict",
            Self::IdempotencyMismatch => "idempotency_key_reused",
            Self::IdempotencyInFlight => "idempotency_in_flight",
            Self::QueueRequired { .. } => "queue_required",
            Self::EventNotFound => "event_not_found",
            Self::NotOnSale => "event_not_on_sale",
            Self::SeatNotFound { .. } => "seat_not_found",
            Self::TicketTypeNotFound => "ticket_type_not_found",
            Self::SeatTaken { .. } => "seat_taken",
            Self::StaleHold { .. } => "stale_hold",
            Self::SoldOut => "sold_out",
            Self::PurchaseLimit { .. } => "purchase_limit",
            Self::HoldLimit { .. } => "hold_limit",
            Self::ConcurrentChange => "concurrent_change",
            Self::HoldNotFound => "hold_not_found",
            Self::CancelWindowClosed => "cancel_window_closed",
        }
    }

    /// The contract's error body `{error, message, code}` plus this refusal's own fields.
    pub fn body(&self) -> Value {
        let text = self.to_string();
        let mut body = json!({ "error": text, "message": text, "code": self.code() });
        let extra = match self {
            Self::QueueRequired { event_id } => {
                json!({ "redirectTo": format!("/queue/{event_id}") })
            }
            Self::SeatNotFound { seats }
            | Self::SeatTaken { seats }
            | Self::StaleHold { seats } => {
                json!({ "seats": seats })
            }
            Self::PurchaseLimit { limit } | Self::HoldLimit { limit } => json!({ "limit": limit }),
            _ => Value::Null,
        };
        if let (Some(map), Value::Object(extra)) = (body.as_object_mut(), extra) {
            map.extend(extra);
        }
        body
    }
}

/// For components that answer in the shared `ApiError` shape (payments' cancel): the status,
/// code and message. A refusal's own fields (`seats`, `limit`, `redirectTo`) are not carried:
/// only refusals without them should travel this way.
impl From<BookingError> for urr_api::ApiError {
    fn from(e: BookingError) -> Self {
        urr_api::ApiError::new(e.status(), e.code(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_refusal_says_where_the_queue_is() {
        let err = BookingError::QueueRequired {
            event_id: "e1".into(),
        };
        assert_eq!(err.status(), 403);
        let body = err.body();
        assert_eq!(body["code"], "queue_required");
        assert_eq!(body["redirectTo"], "/queue/e1");
        assert_eq!(body["error"], body["message"]);
    }

    #[test]
    fn a_taken_seat_refusal_names_the_seats() {
        let body = BookingError::SeatTaken {
            seats: vec!["s1".into()],
        }
        .body();
        assert_eq!(body["seats"], json!(["s1"]));
        assert_eq!(body["code"], "seat_taken");
    }

    #[test]
    fn bad_input_is_400_and_conflicts_are_409() {
        assert_eq!(BookingError::DuplicateSeat.status(), 400);
        assert_eq!(BookingError::IdempotencyMismatch.status(), 422);
        assert_eq!(BookingError::IdempotencyInFlight.status(), 409);
        assert_eq!(BookingError::PurchaseLimit { limit: 4 }.status(), 409);
        let closed = urr_api::ApiError::from(BookingError::CancelWindowClosed);
        assert_eq!((closed.status, closed.code), (409, "cancel_window_closed"));
    }
}
