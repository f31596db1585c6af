//! Which session operation a request asks for: method + path (without its `/api/v1` or `/api`
//! prefix and trailing `/`) → a `Route`. The paths have no parameters; an unknown path is a
//! 404 and a known one with another method a 405.

use crate::AuthError;
use urr_api::route::{RouteError, allow};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Register,
    Login,
    /// `POST /auth/google`: sign in with a Google ID token.
    Google,
    Logout,
    Me,
    VerifyToken,
}

impl Route {
    /// Parses `method` (upper-case) and `path` (e.g. `/auth/login`); never `Invalid`.
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError<AuthError>> {
        let (allowed, route) = match path {
            "/auth/register" => ("POST", Self::Register),
            "/auth/login" => ("POST", Self::Login),
            "/auth/google" => ("POST", Self::Google),
            "/auth/logout" => ("POST", Self::Logout),
            "/auth/me" => ("GET", Self::Me),
            "/auth/verify-token" => ("POST", Self::VerifyToken),
            _ => return Err(RouteError::NotFound),
        };
        allow(method, allowed, Ok(route))
    }
}

/// The one route of component `auth-refresh`, `POST /auth/refresh`.
pub fn parse_refresh(method: &str, path: &str) -> Result<(), RouteError<AuthError>> {
    match path {
        "/auth/refresh" => allow(method, "POST", Ok(())),
        _ => Err(RouteError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_names_its_operation_under_its_one_method() {
        let cases = [
            ("POST", "/auth/register", Route::Register),
            ("POST", "/auth/login", Route::Login),
            ("POST", "/auth/google", Route::Google),
            ("POST", "/auth/logout", Route::Logout),
            ("GET", "/auth/me", Route::Me),
            ("POST", "/auth/verify-token", Route::VerifyToken),
        ];
        for (method, path, route) in cases {
            assert_eq!(Route::parse(method, path), Ok(route), "{path}");
        }
    }

    #[test]
    fn other_methods_are_405_and_other_paths_404() {
        assert_eq!(
            Route::parse("POST", "/auth/me"),
            Err(RouteError::MethodNotAllowed("GET"))
        );
        assert_eq!(
            Route::parse("GET", "/auth/login"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(
            Route::parse("POST", "/auth/login/x"),
            Err(RouteError::NotFound)
        );
        assert_eq!(Route::parse("POST", "/auth"), Err(RouteError::NotFound));
        assert_eq!(
            Route::parse("POST", "/auth/refresh"),
            Err(RouteError::NotFound)
        );
    }

    #[test]
    fn refresh_is_its_own_components_one_route() {
        assert_eq!(parse_refresh("POST", "/auth/refresh"), Ok(()));
        assert_eq!(
            parse_refresh("GET", "/auth/refresh"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(
            parse_refresh("POST", "/auth/login"),
            Err(RouteError::NotFound)
        );
    }
}
