//! The browser session: where a request's credential comes from (Bearer, our cookies, the old
//! cookie names), the `Set-Cookie` lines, the CSRF origin rule, and the Redis key that marks a
//! revoked refresh family.

use http::{HeaderMap, Method};

/// The origin list lives with the rest of the edge policy (CORS) in `urr-api`.
pub use urr_api::edge::AllowedOrigins;
use urr_api::edge::normalize_origin;

/// Access cookie (30 minutes). `__Host-` makes the browser insist on Secure, Path=/ and no Domain.
pub const ACCESS_COOKIE: &str = "__Host-urr_access";
/// Refresh cookie (7 days), SameSite=Strict: never sent on a cross-site request.
pub const REFRESH_COOKIE: &str = "__Host-urr_refresh";
/// Names the old platform used; still accepted on requests, never set.
pub const LEGACY_ACCESS_COOKIE: &str = "access_token";
pub const LEGACY_REFRESH_COOKIE: &str = "refresh_token";
/// Refresh-token lifetime: the contract's 7-day refresh cookie.
pub const REFRESH_TTL_SECS: u64 = 7 * 24 * 60 * 60;

/// Where a credential came from: a cookie-authenticated unsafe request must pass the CSRF rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    Bearer,
    Cookie,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub token: String,
    pub source: CredentialSource,
}

/// A cookie's value from every `Cookie` header of the request (HTTP/2 may split them).
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// The access credential: a Bearer header wins (API clients), else our cookie, else the old name.
pub fn find_credential(headers: &HeaderMap) -> Option<Credential> {
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        })
        .filter(|t| !t.is_empty());
    if let Some(token) = bearer {
        return Some(Credential {
            token,
            source: CredentialSource::Bearer,
        });
    }
    cookie_value(headers, ACCESS_COOKIE)
        .or_else(|| cookie_value(headers, LEGACY_ACCESS_COOKIE))
        .map(|token| Credential {
            token,
            source: CredentialSource::Cookie,
        })
}

/// The refresh cookie (ours, else the old name).
pub fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, REFRESH_COOKIE).or_else(|| cookie_value(headers, LEGACY_REFRESH_COOKIE))
}

fn cookie(name: &str, value: &str, max_age_secs: u64, same_site: &str) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; Secure; SameSite={same_site}"
    )
}

/// `Set-Cookie` for a new access token.
pub fn access_cookie(token: &str) -> String {
    cookie(ACCESS_COOKIE, token, crate::ACCESS_TTL_SECS, "Lax")
}

/// `Set-Cookie` for a new refresh token.
pub fn refresh_cookie_line(token: &str) -> String {
    cookie(REFRESH_COOKIE, token, REFRESH_TTL_SECS, "Strict")
}

/// `Set-Cookie` lines that delete both session cookies.
pub fn clearing_cookies() -> [String; 2] {
    [
        cookie(ACCESS_COOKIE, "", 0, "Lax"),
        cookie(REFRESH_COOKIE, "", 0, "Strict"),
    ]
}

/// The API's own origin (`scheme://host[:port]`) from the request's full URL.
pub fn own_origin(full_url: &str) -> Option<String> {
    let (scheme, rest) = full_url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| normalize_origin(&format!("{scheme}://{authority}")))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    #[error("the request's origin is not allowed")]
    ForeignOrigin,
    #[error("a cross-site request from an unlisted origin")]
    CrossSite,
    #[error("a cookie-authenticated request must carry an Origin header")]
    MissingOrigin,
}

/// The CSRF rule of the contract, for unsafe methods:
/// - an `Origin` must be the API's own or an allowed web origin (any unsafe request: a foreign
///   page must not even log a victim into an attacker's account);
/// - `Sec-Fetch-Site: cross-site` without an allowed `Origin` is refused;
/// - a request authenticated by cookie must carry an `Origin` (API clients use Bearer tokens).
///
/// Bodyless POSTs pass like any other: no content type is required.
pub fn check_csrf(
    method: &Method,
    headers: &HeaderMap,
    cookie_authenticated: bool,
    own: Option<&str>,
    allowed: &AllowedOrigins,
) -> Result<(), CsrfError> {
    if matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return Ok(());
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match header("origin") {
        Some(origin) => {
            let is_own = own.is_some_and(|o| normalize_origin(origin) == o);
            if is_own || allowed.contains(origin) {
                Ok(())
            } else {
                Err(CsrfError::ForeignOrigin)
            }
        }
        None if header("sec-fetch-site").is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) => {
            Err(CsrfError::CrossSite)
        }
        None if cookie_authenticated => Err(CsrfError::MissingOrigin),
        None => Ok(()),
    }
}

/// The script that deny-lists revoked families (KEYS: their deny keys; ARGV[1]: TTL in seconds).
pub const DENY_FAMILIES_SCRIPT: &str = include_str!("deny_families.lua");
/// SHA-1 of [`DENY_FAMILIES_SCRIPT`], for EVALSHA (a unit test keeps the two in step).
pub const DENY_FAMILIES_SCRIPT_SHA1: &str = "a0da75c3e519cf8a6b18c9519dd1c3f380a4bfcf";
/// How long a deny-list entry lives: no access token of the family outlives it.
pub const DENY_TTL_SECS: u64 = crate::ACCESS_TTL_SECS + crate::ACCESS_LEEWAY_SECS;

/// The deny-list key of a revoked refresh family: access tokens carrying that `fid` are refused
/// until they would have expired anyway. Hash-tagged by user so a user's keys share a slot.
pub fn deny_family_key(prefix: &str, user_id: &str, family_id: &str) -> String {
    format!("{prefix}:auth:{{u:{user_id}}}:deny:fid:{family_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, v.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn bearer_wins_then_our_cookie_then_the_legacy_name() {
        let h = headers(&[
            ("authorization", "Bearer abc"),
            ("cookie", "__Host-urr_access=fromcookie"),
        ]);
        assert_eq!(
            find_credential(&h),
            Some(Credential {
                token: "abc".into(),
                source: CredentialSource::Bearer
            })
        );
        let h = headers(&[
            ("cookie", "x=1; access_token=old"),
            ("cookie", "__Host-urr_access=new"),
        ]);
        assert_eq!(find_credential(&h).map(|c| c.token), Some("new".into()));
        let h = headers(&[("cookie", "x=1; access_token=old")]);
        let c = find_credential(&h).expect("legacy cookie");
        assert_eq!(
            (c.token.as_str(), c.source),
            ("old", CredentialSource::Cookie)
        );
        assert_eq!(
            find_credential(&headers(&[("authorization", "Basic x")])),
            None
        );
        let h = headers(&[("cookie", "refresh_token=r")]);
        assert_eq!(refresh_cookie(&h), Some("r".into()));
    }

    #[test]
    fn cookies_carry_the_contract_attributes() {
        let refresh = refresh_cookie_line("t");
        assert_eq!(
            refresh,
            "__Host-urr_refresh=t; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict"
        );
        assert!(access_cookie("t").ends_with("HttpOnly; Secure; SameSite=Lax"));
        assert!(!refresh.contains("Domain"));
        assert!(clearing_cookies().iter().all(|c| c.contains("Max-Age=0")));
    }

    #[test]
    fn the_csrf_rule() {
        let allowed = AllowedOrigins::parse("http://localhost:3000, https://urr.example/");
        let own = own_origin("http://localhost:3001/api/v1/auth/refresh");
        assert_eq!(own.as_deref(), Some("http://localhost:3001"));
        let check = |method: Method, pairs: &[(&'static str, &str)], cookie: bool| {
            check_csrf(&method, &headers(pairs), cookie, own.as_deref(), &allowed)
        };
        // Bodyless POST from the web app: passes.
        assert_eq!(
            check(Method::POST, &[("origin", "http://localhost:3000")], true),
            Ok(())
        );
        assert_eq!(
            check(Method::POST, &[("origin", "https://URR.example")], true),
            Ok(())
        );
        assert_eq!(
            check(Method::POST, &[("origin", "http://localhost:3001")], true),
            Ok(())
        );
        assert_eq!(
            check(Method::POST, &[("origin", "https://evil.example")], true),
            Err(CsrfError::ForeignOrigin)
        );
        assert_eq!(
            check(Method::POST, &[("origin", "null")], false),
            Err(CsrfError::ForeignOrigin)
        );
        assert_eq!(
            check(Method::POST, &[("sec-fetch-site", "cross-site")], false),
            Err(CsrfError::CrossSite)
        );
        assert_eq!(
            check(Method::POST, &[], true),
            Err(CsrfError::MissingOrigin)
        );
        assert_eq!(
            check(Method::POST, &[], false),
            Ok(()),
            "API clients send no Origin"
        );
        assert_eq!(
            check(Method::GET, &[("origin", "https://evil.example")], true),
            Ok(())
        );
    }

    #[test]
    fn the_deny_script_sha1_matches() {
        assert_eq!(
            sha1_smol::Sha1::from(DENY_FAMILIES_SCRIPT)
                .digest()
                .to_string(),
            DENY_FAMILIES_SCRIPT_SHA1
        );
    }

    #[test]
    fn deny_keys_are_prefixed_and_hash_tagged_by_user() {
        assert_eq!(
            deny_family_key("urr", "u1", "f1"),
            "urr:auth:{u:u1}:deny:fid:f1"
        );
    }
}
