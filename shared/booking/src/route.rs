//! Which booking operation a request asks for, one parser per component: method + path
//! (without its `/api/v1` or `/api` prefix and trailing `/`) → a route, an unknown path a 404,
//! a known one with another method a 405 (never `Invalid`). A reservation's or event's id stays
//! text here: the read parses it after the caller is known, so an anonymous caller gets its 401
//! first.

use urr_api::ApiError;
use urr_api::route::{RouteError, allow, segments};

/// Component `seat-lock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatLockRoute {
    /// `POST /seats/lock`
    Hold,
    /// `DELETE /seats/lock`
    Release,
}

impl SeatLockRoute {
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError<ApiError>> {
        match (path, method) {
            ("/seats/lock", "POST") => Ok(Self::Hold),
            ("/seats/lock", "DELETE") => Ok(Self::Release),
            ("/seats/lock", _) => Err(RouteError::MethodNotAllowed("POST, DELETE")),
            _ => Err(RouteError::NotFound),
        }
    }
}

/// Component `reserve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReserveRoute {
    /// `POST /seats/reserve`
    Seats,
    /// `POST /reservations`
    Standing,
}

impl ReserveRoute {
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError<ApiError>> {
        let route = match path {
            "/seats/reserve" => Self::Seats,
            "/reservations" => Self::Standing,
            _ => return Err(RouteError::NotFound),
        };
        allow(method, "POST", Ok(route))
    }
}

/// Component `reservations`: every route is a `GET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadRoute {
    /// `GET /reservations/my`
    Mine,
    /// `GET /reservations/{id}` and `GET /seats/reservation/{id}`
    Reservation(String),
    /// `GET /seats/events/{eventId}`
    SeatMap(String),
}

impl ReadRoute {
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError<ApiError>> {
        let route = match segments(path).as_slice() {
            ["reservations", "my"] => Self::Mine,
            ["reservations", id] | ["seats", "reservation", id] => {
                Self::Reservation(id.to_string())
            }
            ["seats", "events", id] => Self::SeatMap(id.to_string()),
            _ => return Err(RouteError::NotFound),
        };
        allow(method, "GET", Ok(route))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_lock_holds_on_post_and_releases_on_delete() {
        assert_eq!(
            SeatLockRoute::parse("POST", "/seats/lock"),
            Ok(SeatLockRoute::Hold)
        );
        assert_eq!(
            SeatLockRoute::parse("DELETE", "/seats/lock"),
            Ok(SeatLockRoute::Release)
        );
        assert_eq!(
            SeatLockRoute::parse("GET", "/seats/lock"),
            Err(RouteError::MethodNotAllowed("POST, DELETE"))
        );
        assert_eq!(
            SeatLockRoute::parse("POST", "/seats/reserve"),
            Err(RouteError::NotFound)
        );
    }

    #[test]
    fn reserve_takes_seats_and_standing_by_post_only() {
        assert_eq!(
            ReserveRoute::parse("POST", "/seats/reserve"),
            Ok(ReserveRoute::Seats)
        );
        assert_eq!(
            ReserveRoute::parse("POST", "/reservations"),
            Ok(ReserveRoute::Standing)
        );
        assert_eq!(
            ReserveRoute::parse("GET", "/reservations"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(
            ReserveRoute::parse("POST", "/reservations/my"),
            Err(RouteError::NotFound)
        );
    }

    #[test]
    fn reads_name_their_id_and_take_only_get() {
        assert_eq!(
            ReadRoute::parse("GET", "/reservations/my"),
            Ok(ReadRoute::Mine)
        );
        assert_eq!(
            ReadRoute::parse("GET", "/reservations/r1"),
            Ok(ReadRoute::Reservation("r1".into()))
        );
        assert_eq!(
            ReadRoute::parse("GET", "/seats/reservation/r1/"),
            Ok(ReadRoute::Reservation("r1".into()))
        );
        assert_eq!(
            ReadRoute::parse("GET", "/seats/events/e1"),
            Ok(ReadRoute::SeatMap("e1".into()))
        );
        assert_eq!(
            ReadRoute::parse("POST", "/reservations/my"),
            Err(RouteError::MethodNotAllowed("GET"))
        );
        assert_eq!(
            ReadRoute::parse("POST", "/reservations"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            ReadRoute::parse("GET", "/seats/events"),
            Err(RouteError::NotFound)
        );
    }
}
