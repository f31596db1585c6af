//! Which admin operation a request asks for: method + path (without its `/api/v1` or `/api`
//! prefix) → a `Route` with its ids already parsed, so a malformed id is a 400 before any store
//! is touched, an unknown path a 404 and a known path with the wrong method a 405.

use crate::AdminError;
use urr_api::route::{allow, segments};
use urr_catalog_domain::{CatalogError, EntityId};

/// A request that names no admin operation (`Invalid`: a malformed id).
pub type RouteError = urr_api::route::RouteError<AdminError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Dashboard,
    SeatLayouts,
    CreateEvent,
    UpdateEvent(EntityId),
    CancelEvent(EntityId),
    DeleteEvent(EntityId),
    GenerateSeats(EntityId),
    DeleteSeats(EntityId),
    CreateTicketType(EntityId),
    UpdateTicketType(EntityId),
    ListReservations,
    SetReservationStatus(EntityId),
    AuditLog,
}

impl Route {
    /// Parses `method` (upper-case) and `path` (e.g. `/admin/events/<id>/cancel`).
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError> {
        let id = |text: &str| {
            EntityId::try_from(text)
                .map_err(|_| RouteError::Invalid(AdminError::from(CatalogError::InvalidId)))
        };
        let only =
            |allowed: &'static str, route: Result<Self, RouteError>| allow(method, allowed, route);
        match segments(path).as_slice() {
            // `/stats` is the path URR's own dashboard page called.
            ["admin", "dashboard"] | ["admin", "dashboard", "stats"] => {
                only("GET", Ok(Self::Dashboard))
            }
            ["admin", "seat-layouts"] => only("GET", Ok(Self::SeatLayouts)),
            ["admin", "events"] => only("POST", Ok(Self::CreateEvent)),
            ["admin", "events", event] => match method {
                "PUT" => id(event).map(Self::UpdateEvent),
                "DELETE" => id(event).map(Self::DeleteEvent),
                _ => Err(RouteError::MethodNotAllowed("PUT, DELETE")),
            },
            ["admin", "events", event, "cancel"] => only("POST", id(event).map(Self::CancelEvent)),
            ["admin", "events", event, "generate-seats"] => {
                only("POST", id(event).map(Self::GenerateSeats))
            }
            ["admin", "events", event, "seats"] => only("DELETE", id(event).map(Self::DeleteSeats)),
            ["admin", "events", event, "tickets"] => {
                only("POST", id(event).map(Self::CreateTicketType))
            }
            ["admin", "tickets", ticket] => only("PUT", id(ticket).map(Self::UpdateTicketType)),
            ["admin", "reservations"] => only("GET", Ok(Self::ListReservations)),
            ["admin", "reservations", reservation, "status"] => {
                only("PATCH", id(reservation).map(Self::SetReservationStatus))
            }
            ["admin", "audit-log"] => only("GET", Ok(Self::AuditLog)),
            _ => Err(RouteError::NotFound),
        }
    }

    /// Whether the operation changes state: writes need an unrevoked session (the deny-list
    /// check fails closed) and pass the CSRF origin rule.
    pub fn is_write(&self) -> bool {
        !matches!(
            self,
            Self::Dashboard | Self::SeatLayouts | Self::ListReservations | Self::AuditLog
        )
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
    fn every_contract_route_parses_to_its_operation() {
        let cases = [
            ("GET", "/admin/dashboard".to_string(), Route::Dashboard),
            ("GET", "/admin/dashboard/stats".into(), Route::Dashboard),
            ("GET", "/admin/seat-layouts".into(), Route::SeatLayouts),
            ("POST", "/admin/events".into(), Route::CreateEvent),
            (
                "PUT",
                format!("/admin/events/{ID}"),
                Route::UpdateEvent(id()),
            ),
            (
                "POST",
                format!("/admin/events/{ID}/cancel"),
                Route::CancelEvent(id()),
            ),
            (
                "DELETE",
                format!("/admin/events/{ID}"),
                Route::DeleteEvent(id()),
            ),
            (
                "POST",
                format!("/admin/events/{ID}/generate-seats"),
                Route::GenerateSeats(id()),
            ),
            (
                "DELETE",
                format!("/admin/events/{ID}/seats"),
                Route::DeleteSeats(id()),
            ),
            (
                "POST",
                format!("/admin/events/{ID}/tickets"),
                Route::CreateTicketType(id()),
            ),
            (
                "PUT",
                format!("/admin/tickets/{ID}"),
                Route::UpdateTicketType(id()),
            ),
            ("GET", "/admin/reservations".into(), Route::ListReservations),
            (
                "PATCH",
                format!("/admin/reservations/{ID}/status"),
                Route::SetReservationStatus(id()),
            ),
            ("GET", "/admin/audit-log/".into(), Route::AuditLog),
        ];
        for (method, path, route) in cases {
            assert_eq!(Route::parse(method, &path), Ok(route), "{method} {path}");
        }
    }

    #[test]
    fn reads_are_not_writes() {
        assert!(!Route::Dashboard.is_write());
        assert!(!Route::ListReservations.is_write());
        assert!(Route::CreateEvent.is_write());
        assert!(Route::SetReservationStatus(id()).is_write());
    }

    #[test]
    fn bad_ids_unknown_paths_and_wrong_methods_are_told_apart() {
        assert_eq!(
            Route::parse("PUT", "/admin/events/42"),
            Err(RouteError::Invalid(AdminError::from(
                CatalogError::InvalidId
            )))
        );
        assert_eq!(
            Route::parse("PATCH", "/admin/reservations/x'--/status"),
            Err(RouteError::Invalid(AdminError::from(
                CatalogError::InvalidId
            )))
        );
        assert_eq!(
            Route::parse("GET", "/admin/nothing"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            Route::parse("GET", &format!("/admin/events/{ID}/cancel/more")),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            Route::parse("GET", "/admin/events"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(
            Route::parse("POST", &format!("/admin/events/{ID}")),
            Err(RouteError::MethodNotAllowed("PUT, DELETE"))
        );
    }
}
