//! Which figure a request asks for: method + path (without its `/api/v1` or `/api` prefix) → a
//! `Route`, the event id of `/stats/events/{id}` parsed here (a malformed one is a 400 before
//! any store is touched), an unknown path a 404, another method a 405.

use crate::StatsError;
use urr_api::id::canonical_uuid;
use urr_api::route::{allow, segments};

pub type RouteError = urr_api::route::RouteError<StatsError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Overview,
    Daily,
    Events,
    Event(String),
    Payments,
    Revenue,
    Users,
    HourlyTraffic,
    Conversion,
    Cancellations,
    Realtime,
    Performance,
    SeatPreferences,
    UserBehavior,
}

impl Route {
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError> {
        let route = match segments(path).as_slice() {
            ["stats", "overview"] => Self::Overview,
            ["stats", "daily"] => Self::Daily,
            ["stats", "events"] => Self::Events,
            ["stats", "events", id] => match canonical_uuid(id) {
                Some(id) => Self::Event(id),
                None => {
                    return allow(
                        method,
                        "GET, HEAD",
                        Err(RouteError::Invalid(StatsError::InvalidId("eventId"))),
                    );
                }
            },
            ["stats", "payments"] => Self::Payments,
            ["stats", "revenue"] => Self::Revenue,
            ["stats", "users"] => Self::Users,
            ["stats", "hourly-traffic"] => Self::HourlyTraffic,
            ["stats", "conversion"] => Self::Conversion,
            ["stats", "cancellations"] => Self::Cancellations,
            ["stats", "realtime"] => Self::Realtime,
            ["stats", "performance"] => Self::Performance,
            ["stats", "seat-preferences"] => Self::SeatPreferences,
            ["stats", "user-behavior"] => Self::UserBehavior,
            _ => return Err(RouteError::NotFound),
        };
        allow(method, "GET, HEAD", Ok(route))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b";

    #[test]
    fn the_fourteen_figures_parse() {
        let cases = [
            ("/stats/overview", Route::Overview),
            ("/stats/daily", Route::Daily),
            ("/stats/events", Route::Events),
            ("/stats/payments", Route::Payments),
            ("/stats/revenue", Route::Revenue),
            ("/stats/users", Route::Users),
            ("/stats/hourly-traffic", Route::HourlyTraffic),
            ("/stats/conversion", Route::Conversion),
            ("/stats/cancellations", Route::Cancellations),
            ("/stats/realtime", Route::Realtime),
            ("/stats/performance", Route::Performance),
            ("/stats/seat-preferences", Route::SeatPreferences),
            ("/stats/user-behavior/", Route::UserBehavior),
        ];
        for (path, route) in cases {
            assert_eq!(Route::parse("GET", path), Ok(route), "{path}");
        }
        assert_eq!(
            Route::parse("GET", &format!("/stats/events/{}", ID.to_uppercase())),
            Ok(Route::Event(ID.into()))
        );
    }

    #[test]
    fn bad_ids_unknown_paths_and_writes_are_told_apart() {
        assert_eq!(
            Route::parse("GET", "/stats/events/42"),
            Err(RouteError::Invalid(StatsError::InvalidId("eventId")))
        );
        assert_eq!(
            Route::parse("POST", "/stats/events/42"),
            Err(RouteError::MethodNotAllowed("GET, HEAD"))
        );
        assert_eq!(
            Route::parse("GET", "/stats/nothing"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            Route::parse("DELETE", "/stats/overview"),
            Err(RouteError::MethodNotAllowed("GET, HEAD"))
        );
    }
}
