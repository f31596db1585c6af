//! Every way a statistics request is refused, each with a stable `code`: 400 for a malformed
//! query value (never the 500 URR answered), 403 for a signed-in user who is not an admin, 404
//! for an unknown event.

use urr_api::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    #[error("`days` must be a whole number")]
    InvalidDays,
    #[error("`limit` must be a whole number")]
    InvalidLimit,
    #[error("`sortBy` must be one of revenue, reservations, occupancy")]
    InvalidSort,
    #[error("`period` must be one of daily, weekly, monthly")]
    InvalidPeriod,
    #[error("`{0}` must be a UUID")]
    InvalidId(&'static str),
    #[error("Admin role required")]
    AdminRequired,
    #[error("Event not found")]
    EventNotFound,
}

impl StatsError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidDays => "invalid_days",
            Self::InvalidLimit => "invalid_limit",
            Self::InvalidSort => "invalid_sort",
            Self::InvalidPeriod => "invalid_period",
            Self::InvalidId(_) => "invalid_id",
            Self::AdminRequired => "admin_required",
            Self::EventNotFound => "event_not_found",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::AdminRequired => 403,
            Self::EventNotFound => 404,
            _ => 400,
        }
    }
}

impl From<StatsError> for ApiError {
    fn from(err: StatsError) -> Self {
        ApiError::new(err.status(), err.code(), err.to_string())
    }
}
