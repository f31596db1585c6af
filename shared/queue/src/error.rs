//! Why a waiting-room request is refused, each with a stable `code`. None of them is a 500.

use urr_api::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("The event id must be a UUID")]
    InvalidEventId,
    #[error("`threshold` must be a whole number from 1 to {max}", max = crate::settings::MAX_THRESHOLD)]
    InvalidThreshold,
    #[error("Event not found")]
    EventNotFound,
    #[error("This event has been cancelled")]
    EventCancelled,
    #[error("Ticket sales for this event have ended")]
    SaleEnded,
    #[error("Ticket sales for this event have not opened yet")]
    SaleNotOpen,
    #[error("Admin access required")]
    AdminOnly,
}

impl QueueError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidEventId => "invalid_event_id",
            Self::InvalidThreshold => "invalid_threshold",
            Self::EventNotFound => "event_not_found",
            Self::EventCancelled => "event_cancelled",
            Self::SaleEnded => "sale_ended",
            Self::SaleNotOpen => "sale_not_open",
            Self::AdminOnly => "forbidden",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidEventId | Self::InvalidThreshold => 400,
            Self::EventNotFound => 404,
            Self::EventCancelled | Self::SaleEnded | Self::SaleNotOpen => 409,
            Self::AdminOnly => 403,
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(err: QueueError) -> Self {
        ApiError::new(err.status(), err.code(), err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_their_status_and_code() {
        let cases = [
            (QueueError::InvalidEventId, 400, "invalid_event_id"),
            (QueueError::EventNotFound, 404, "event_not_found"),
            (QueueError::EventCancelled, 409, "event_cancelled"),
            (QueueError::SaleEnded, 409, "sale_ended"),
            (QueueError::SaleNotOpen, 409, "sale_not_open"),
            (QueueError::AdminOnly, 403, "forbidden"),
        ];
        for (err, status, code) in cases {
            let api = ApiError::from(err);
            assert_eq!((api.status, api.code), (status, code));
        }
    }
}
