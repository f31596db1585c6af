//! The shape of every group's `Route::parse`: method + path (without its `/api/v1` or `/api`
//! prefix) → a typed route with its path parameters parsed, or why not: an unknown path is a
//! 404, a known path with another method a 405 naming the allowed ones, a malformed parameter
//! the group's own 400.

/// A request that names no route of the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError<E> {
    NotFound,
    /// The path exists with other methods (the `Allow` header's value).
    MethodNotAllowed(&'static str),
    /// A path parameter is malformed: the group's refusal.
    Invalid(E),
}

/// The path's segments, without leading or trailing `/`.
pub fn segments(path: &str) -> Vec<&str> {
    path.trim_matches('/').split('/').collect()
}

/// `route` when `method` is one of `allowed` (`"GET, HEAD"`), else a 405 whatever `route` is.
pub fn allow<T, E>(
    method: &str,
    allowed: &'static str,
    route: Result<T, RouteError<E>>,
) -> Result<T, RouteError<E>> {
    if allowed.split(", ").any(|m| m == method) {
        route
    } else {
        Err(RouteError::MethodNotAllowed(allowed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_ignore_the_slashes_at_either_end() {
        assert_eq!(segments("/queue/status/e1/"), ["queue", "status", "e1"]);
        assert_eq!(segments("queue"), ["queue"]);
    }

    #[test]
    fn another_method_is_a_405_naming_the_allowed_ones_even_for_a_bad_parameter() {
        let bad: Result<(), RouteError<&str>> = Err(RouteError::Invalid("bad id"));
        assert_eq!(
            allow("POST", "GET, HEAD", bad.clone()),
            Err(RouteError::MethodNotAllowed("GET, HEAD"))
        );
        assert_eq!(allow("HEAD", "GET, HEAD", bad.clone()), bad);
        assert_eq!(allow::<_, ()>("GET", "GET", Ok(1)), Ok(1));
    }
}
