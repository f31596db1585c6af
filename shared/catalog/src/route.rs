//! Which catalog read a request asks for: method + path (without its `/api/v1` or `/api`
//! prefix) → a `Route` with its id already parsed, so a malformed id is a 400 before any store
//! is touched. Every catalog route is a read: `GET` or `HEAD`.

use crate::{CatalogError, EntityId};
use urr_api::route::{RouteError, allow, segments};

/// The methods of every catalog route.
pub const ALLOWED_METHODS: &str = "GET, HEAD";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /time`: the server clock.
    Time,
    /// `GET /openapi.yaml`: the API's description.
    OpenApi,
    /// `GET /events`: filtered, searched, paged.
    Events,
    /// `GET /events/{id}`: one event with its ticket types.
    Event(EntityId),
    /// `GET /tickets/event/{id}`: an event's ticket types.
    TicketTypes(EntityId),
    /// `GET /tickets/availability/{id}`: one ticket type's availability.
    Availability(EntityId),
    /// `GET /seats/layouts`.
    Layouts,
}

impl Route {
    /// Parses `method` (upper-case) and `path` (e.g. `/events/<id>`). Another method is a 405
    /// on every path, known or not.
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError<CatalogError>> {
        let id = |text: &str| EntityId::try_from(text).map_err(RouteError::Invalid);
        let route = match segments(path).as_slice() {
            ["time"] => Ok(Self::Time),
            ["openapi.yaml"] => Ok(Self::OpenApi),
            ["events"] => Ok(Self::Events),
            ["events", event] => id(event).map(Self::Event),
            ["tickets", "event", event] => id(event).map(Self::TicketTypes),
            ["tickets", "availability", ticket] => id(ticket).map(Self::Availability),
            ["seats", "layouts"] => Ok(Self::Layouts),
            _ => Err(RouteError::NotFound),
        };
        allow(method, ALLOWED_METHODS, route)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b";

    fn id() -> EntityId {
        EntityId::try_from(ID).expect("valid id")
    }

    #[test]
    fn each_path_names_its_read_with_the_id_parsed() {
        let cases = [
            ("/time".to_string(), Route::Time),
            ("/openapi.yaml".to_string(), Route::OpenApi),
            ("/events/".to_string(), Route::Events),
            (format!("/events/{ID}"), Route::Event(id())),
            (format!("/tickets/event/{ID}"), Route::TicketTypes(id())),
            (
                format!("/tickets/availability/{ID}"),
                Route::Availability(id()),
            ),
            ("/seats/layouts".to_string(), Route::Layouts),
        ];
        for (path, route) in cases {
            assert_eq!(Route::parse("GET", &path), Ok(route.clone()), "{path}");
            assert_eq!(Route::parse("HEAD", &path), Ok(route), "{path}");
        }
    }

    #[test]
    fn writes_are_405_everywhere_and_bad_ids_and_unknown_paths_are_told_apart() {
        for path in ["/events", "/nowhere", "/events/not-a-uuid"] {
            assert_eq!(
                Route::parse("POST", path),
                Err(RouteError::MethodNotAllowed(ALLOWED_METHODS)),
                "{path}"
            );
        }
        assert_eq!(
            Route::parse("GET", "/events/not-a-uuid"),
            Err(RouteError::Invalid(CatalogError::InvalidId))
        );
        assert_eq!(
            Route::parse("GET", "/events/a/b"),
            Err(RouteError::NotFound)
        );
        assert_eq!(Route::parse("GET", "/seats"), Err(RouteError::NotFound));
    }
}
