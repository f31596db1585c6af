//! Which waiting-room operation a request asks for: method + path (without its `/api/v1` or
//! `/api` prefix) → a `Route` with its event id already parsed, so a malformed id is a 400
//! before the caller or any store is touched.

use crate::{QueueError, Uuid};
use urr_api::route::{RouteError, allow, segments};

/// The routes of component `queue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Status(Uuid),
    Heartbeat(Uuid),
    Leave(Uuid),
    AdminCounts(Uuid),
    AdminClear(Uuid),
    AdminThreshold(Uuid),
}

impl Route {
    /// Parses `method` (upper-case) and `path` (e.g. `/queue/status/<id>`).
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError<QueueError>> {
        let id = |text: &str| Uuid::try_from(text).map_err(RouteError::Invalid);
        match segments(path).as_slice() {
            ["queue", "status", event] => allow(method, "GET", id(event).map(Self::Status)),
            ["queue", "heartbeat", event] => allow(method, "POST", id(event).map(Self::Heartbeat)),
            ["queue", "leave", event] => allow(method, "POST", id(event).map(Self::Leave)),
            ["queue", "admin", "clear", event] => {
                allow(method, "POST", id(event).map(Self::AdminClear))
            }
            ["queue", "admin", "threshold", event] => {
                allow(method, "POST", id(event).map(Self::AdminThreshold))
            }
            ["queue", "admin", event] => allow(method, "GET", id(event).map(Self::AdminCounts)),
            _ => Err(RouteError::NotFound),
        }
    }
}

/// The one route of component `queue-join`, `POST /queue/check/{eventId}`: its event id. Every
/// other method is a 405; whatever follows the prefix must be the id (the manifest routes only
/// `/queue/check/...` here).
pub fn parse_check(method: &str, path: &str) -> Result<Uuid, RouteError<QueueError>> {
    allow(
        method,
        "POST",
        Uuid::try_from(path.strip_prefix("/queue/check/").unwrap_or(""))
            .map_err(RouteError::Invalid),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b";

    fn id() -> Uuid {
        Uuid::try_from(ID).expect("valid id")
    }

    #[test]
    fn each_path_names_its_operation_with_the_event_id_parsed() {
        let cases = [
            ("GET", format!("/queue/status/{ID}"), Route::Status(id())),
            (
                "POST",
                format!("/queue/heartbeat/{ID}/"),
                Route::Heartbeat(id()),
            ),
            ("POST", format!("/queue/leave/{ID}"), Route::Leave(id())),
            (
                "GET",
                format!("/queue/admin/{ID}"),
                Route::AdminCounts(id()),
            ),
            (
                "POST",
                format!("/queue/admin/clear/{ID}"),
                Route::AdminClear(id()),
            ),
            (
                "POST",
                format!("/queue/admin/threshold/{ID}"),
                Route::AdminThreshold(id()),
            ),
        ];
        for (method, path, route) in cases {
            assert_eq!(Route::parse(method, &path), Ok(route), "{method} {path}");
        }
    }

    #[test]
    fn wrong_methods_bad_ids_and_unknown_paths_are_told_apart() {
        assert_eq!(
            Route::parse("POST", &format!("/queue/status/{ID}")),
            Err(RouteError::MethodNotAllowed("GET"))
        );
        assert_eq!(
            Route::parse("GET", "/queue/leave/not-a-uuid"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(
            Route::parse("POST", "/queue/leave/not-a-uuid"),
            Err(RouteError::Invalid(QueueError::InvalidEventId))
        );
        // `clear` alone is read as an event id of the counts route.
        assert_eq!(
            Route::parse("GET", "/queue/admin/clear"),
            Err(RouteError::Invalid(QueueError::InvalidEventId))
        );
        assert_eq!(
            Route::parse("POST", "/queue/admin/clear"),
            Err(RouteError::MethodNotAllowed("GET"))
        );
        assert_eq!(
            Route::parse("GET", "/queue/status"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            Route::parse("GET", "/queue/check/x/y"),
            Err(RouteError::NotFound)
        );
    }

    #[test]
    fn the_join_takes_only_post_and_a_uuid_after_its_prefix() {
        assert_eq!(parse_check("POST", &format!("/queue/check/{ID}")), Ok(id()));
        assert_eq!(
            parse_check("GET", &format!("/queue/check/{ID}")),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        for bad in [
            "/queue/check/",
            "/queue/check/x",
            "/elsewhere",
            &format!("/queue/check/{ID}/x"),
        ] {
            assert_eq!(
                parse_check("POST", bad),
                Err(RouteError::Invalid(QueueError::InvalidEventId)),
                "{bad}"
            );
        }
    }
}
