//! Every way an admin request is refused, each with a stable `code` and its status: 400 for bad
//! input (never a 500), 403 for a signed-in user who is not an admin, 404 for an unknown id, 409
//! for a change the current state forbids. Messages are safe to show and name the field.

use urr_api::ApiError;
use urr_catalog_domain::CatalogError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    // ---- 400: bad input
    #[error("{0}")]
    Catalog(CatalogError),
    #[error("The request body is not valid: {0}")]
    InvalidBody(String),
    #[error("`{0}` is required")]
    MissingField(&'static str),
    #[error("`{field}` must be at most {max} characters")]
    TextTooLong { field: &'static str, max: usize },
    #[error("`{0}` must not be blank or contain control characters")]
    InvalidText(&'static str),
    #[error("`{0}` must be an ISO-8601 date and time between the years 2000 and 2100")]
    InvalidDate(&'static str),
    #[error("`saleEndDate` must be after `saleStartDate`")]
    InvalidSaleWindow,
    #[error("The sale must end no later than the event (`saleEndDate` <= `eventDate`)")]
    SaleEndsAfterEvent,
    #[error("`{0}` must be a whole number of won from 0 to {max}", max = crate::input::MAX_PRICE_KRW)]
    InvalidPrice(&'static str),
    #[error("`{0}` must be a whole number from {min} to {max}", min = .1, max = crate::input::MAX_TICKET_QUANTITY)]
    InvalidQuantity(&'static str, i64),
    #[error("`posterImageUrl` must be an http(s) URL of at most {max} characters", max = crate::input::MAX_URL_CHARS)]
    InvalidUrl,
    #[error("`seatLayoutId` must be a UUID")]
    InvalidLayoutId,
    #[error("The seat layout does not exist")]
    UnknownLayout,
    #[error("At most {max} ticket types per request", max = crate::input::MAX_TICKET_TYPES_PER_REQUEST)]
    TooManyTicketTypes,
    #[error("Ticket type names must be unique within an event")]
    DuplicateTicketType,
    #[error("The request changes nothing: send at least one field")]
    EmptyUpdate,
    #[error("`status` must be one of pending, confirmed, cancelled, expired")]
    InvalidStatus,
    #[error(
        "`status` must be one of confirmed, cancelled, refunded (`paymentStatus`: completed, refunded), and the two must agree"
    )]
    InvalidStatusTarget,
    #[error("No status fields to update: send `status` (or `paymentStatus`)")]
    NoStatusFields,

    // ---- 403
    #[error("This route is for administrators")]
    AdminRequired,

    // ---- 404
    #[error("Not found")]
    NotFound,

    // ---- 409: the current state forbids the change
    #[error("The event is cancelled; a cancelled event cannot change")]
    EventCancelled,
    #[error("Already cancelled")]
    AlreadyCancelled,
    #[error("The event has seats: delete them before changing its seat layout")]
    SeatsExist,
    #[error("Live reservations hold seats of this event; cancel them (or the event) first")]
    SeatsInUse,
    #[error(
        "Seats of this event were sold before; sold seats are never deleted (cancel the event instead)"
    )]
    SeatsHaveHistory,
    #[error("The event has reservations and cannot be deleted; cancel it instead")]
    HasReservations,
    #[error("The event has no seat layout (a standing event sells ticket types)")]
    NoLayout,
    #[error("A ticket type of that name already exists for this event")]
    DuplicateName,
    #[error("`totalQuantity` cannot drop below the {sold} already sold")]
    BelowSold { sold: i64 },
    #[error("An operator may only move a reservation to `cancelled`")]
    TransitionNotAllowed,
    #[error("A reservation is confirmed only by its payment")]
    ConfirmedOnlyByPayment,
    #[error("Nothing was paid for this reservation, so there is nothing to refund")]
    NothingToRefund,
}

impl AdminError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Catalog(e) => e.code(),
            Self::InvalidBody(_) => "invalid_body",
            Self::MissingField(_) => "missing_field",
            Self::TextTooLong { .. } => "text_too_long",
            Self::InvalidText(_) => "invalid_text",
            Self::InvalidDate(_) => "invalid_date",
            Self::InvalidSaleWindow => "invalid_sale_window",
            Self::SaleEndsAfterEvent => "sale_ends_after_event",
            Self::InvalidPrice(_) => "invalid_price",
            Self::InvalidQuantity(..) => "invalid_quantity",
            Self::InvalidUrl => "invalid_url",
            Self::InvalidLayoutId => "invalid_layout_id",
            Self::UnknownLayout => "unknown_layout",
            Self::TooManyTicketTypes => "too_many_ticket_types",
            Self::DuplicateTicketType => "duplicate_ticket_type",
            Self::EmptyUpdate => "empty_update",
            Self::InvalidStatus | Self::InvalidStatusTarget => "invalid_status",
            Self::NoStatusFields => "missing_field",
            Self::AdminRequired => "admin_required",
            Self::NotFound => "not_found",
            Self::EventCancelled => "event_cancelled",
            Self::AlreadyCancelled => "already_cancelled",
            Self::SeatsExist => "seats_exist",
            Self::SeatsInUse => "seats_in_use",
            Self::SeatsHaveHistory => "seats_have_history",
            Self::HasReservations => "has_reservations",
            Self::NoLayout => "no_layout",
            Self::DuplicateName => "duplicate_name",
            Self::BelowSold { .. } => "below_sold",
            Self::TransitionNotAllowed | Self::ConfirmedOnlyByPayment | Self::NothingToRefund => {
                "transition_not_allowed"
            }
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::AdminRequired => 403,
            Self::NotFound => 404,
            Self::EventCancelled
            | Self::AlreadyCancelled
            | Self::SeatsExist
            | Self::SeatsInUse
            | Self::SeatsHaveHistory
            | Self::HasReservations
            | Self::NoLayout
            | Self::DuplicateName
            | Self::BelowSold { .. }
            | Self::TransitionNotAllowed
            | Self::ConfirmedOnlyByPayment
            | Self::NothingToRefund => 409,
            _ => 400,
        }
    }
}

impl From<CatalogError> for AdminError {
    fn from(err: CatalogError) -> Self {
        Self::Catalog(err)
    }
}

impl From<AdminError> for ApiError {
    fn from(err: AdminError) -> Self {
        ApiError::new(err.status(), err.code(), err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_are_400s_and_state_conflicts_409s() {
        assert_eq!(ApiError::from(AdminError::InvalidSaleWindow).status, 400);
        assert_eq!(ApiError::from(AdminError::SeatsInUse).status, 409);
        assert_eq!(ApiError::from(AdminError::AdminRequired).status, 403);
        let err = ApiError::from(AdminError::BelowSold { sold: 7 });
        assert_eq!((err.status, err.code), (409, "below_sold"));
        assert!(err.message.contains('7'), "{}", err.message);
    }

    #[test]
    fn catalog_errors_keep_their_codes() {
        let err = ApiError::from(AdminError::from(CatalogError::InvalidId));
        assert_eq!((err.status, err.code), (400, "invalid_id"));
    }
}
