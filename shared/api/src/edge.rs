//! What every response of every component carries, decided once: CORS for the configured web
//! origins, the security headers, the request id. Pure: the glue crate applies these headers to
//! spin-sdk responses; the host's tests and the OpenAPI checks read the same constants.

/// Methods a browser may use cross-origin (the contract's list).
pub const CORS_ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
/// Request headers a browser may send cross-origin: the contract's four, plus the request id and
/// the API clients' token-delivery switch (harmless: browsers never need them).
pub const CORS_ALLOWED_HEADERS: &str = "Content-Type, Authorization, x-queue-entry-token, Idempotency-Key, X-Request-Id, X-Token-Delivery";
/// Response headers scripts may read: the retry hint of 429/503, the id to quote in a support
/// ticket, and the validator of cached catalog reads.
pub const CORS_EXPOSED_HEADERS: &str = "Retry-After, X-Request-Id, ETag";
/// How long a browser may reuse a preflight answer. Ten minutes spares the on-sale surge one
/// extra round trip per call while keeping an origin removal effective quickly.
pub const PREFLIGHT_MAX_AGE_SECS: u32 = 600;

/// Headers on every response, whatever the component.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    ),
    ("x-frame-options", "DENY"),
];

/// The default for responses that set no `Cache-Control`: anything not explicitly public may be
/// user-specific, and a shared cache must never hand it to someone else.
pub const DEFAULT_CACHE_CONTROL: &str = "no-store";

/// Longest `X-Request-Id` accepted from a client; longer or odd ones are replaced, not echoed.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Whether a client-supplied request id is safe to echo and log.
pub fn request_id_is_valid(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// The web origins allowed to call the API with credentials (variable `allowed_origins`,
/// comma-separated). `*` and `null` are never honoured: credentials require exact origins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

/// Origins compare case-insensitively and without a trailing slash.
pub fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

impl AllowedOrigins {
    pub fn parse(text: &str) -> Self {
        Self(
            text.split(',')
                .map(normalize_origin)
                .filter(|o| !o.is_empty() && o != "*" && o != "null")
                .collect(),
        )
    }

    pub fn contains(&self, origin: &str) -> bool {
        let origin = normalize_origin(origin);
        self.0.contains(&origin)
    }
}

/// The CORS headers for a request from `origin`: none for an origin that is not allowed (the
/// browser then refuses to hand the response to the page).
pub fn cors_headers(origin: Option<&str>, allowed: &AllowedOrigins) -> Vec<(&'static str, String)> {
    match origin {
        Some(origin) if allowed.contains(origin) => vec![
            ("access-control-allow-origin", origin.trim().to_string()),
            ("access-control-allow-credentials", "true".to_string()),
            (
                "access-control-expose-headers",
                CORS_EXPOSED_HEADERS.to_string(),
            ),
        ],
        _ => Vec::new(),
    }
}

/// The answer to a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preflight {
    /// 204 with these headers.
    Allowed(Vec<(&'static str, String)>),
    /// 403: the origin is not listed, or the method is not one the API accepts.
    Refused,
}

/// Decides a preflight from its headers alone: no store is touched, so a preflight storm costs
/// nothing beyond the instance.
pub fn preflight(
    origin: Option<&str>,
    request_method: &str,
    allowed: &AllowedOrigins,
) -> Preflight {
    let method_ok = CORS_ALLOWED_METHODS
        .split(", ")
        .any(|m| m.eq_ignore_ascii_case(request_method.trim()));
    let Some(origin) = origin.filter(|o| allowed.contains(o)) else {
        return Preflight::Refused;
    };
    if !method_ok {
        return Preflight::Refused;
    }
    let mut headers = cors_headers(Some(origin), allowed);
    headers.extend([
        (
            "access-control-allow-methods",
            CORS_ALLOWED_METHODS.to_string(),
        ),
        (
            "access-control-allow-headers",
            CORS_ALLOWED_HEADERS.to_string(),
        ),
        ("access-control-max-age", PREFLIGHT_MAX_AGE_SECS.to_string()),
    ]);
    Preflight::Allowed(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> AllowedOrigins {
        AllowedOrigins::parse("http://localhost:3000, https://tickets.example.com/ ,*,null")
    }

    #[test]
    fn wildcards_and_null_are_never_allowed() {
        let allowed = web();
        assert!(allowed.contains("HTTP://LOCALHOST:3000"));
        assert!(allowed.contains("https://tickets.example.com"));
        assert!(!allowed.contains("*"));
        assert!(!allowed.contains("null"));
        assert!(!allowed.contains("https://evil.example.com"));
    }

    #[test]
    fn an_allowed_origin_gets_credentialed_cors_headers_and_others_get_none() {
        let headers = cors_headers(Some("http://localhost:3000"), &web());
        assert!(headers.contains(&(
            "access-control-allow-origin",
            "http://localhost:3000".to_string()
        )));
        assert!(headers.contains(&("access-control-allow-credentials", "true".to_string())));
        assert!(cors_headers(Some("https://evil.example.com"), &web()).is_empty());
        assert!(cors_headers(None, &web()).is_empty());
    }

    #[test]
    fn preflight_allows_listed_origins_and_methods_only() {
        let allowed = web();
        let Preflight::Allowed(headers) =
            preflight(Some("http://localhost:3000"), "POST", &allowed)
        else {
            panic!("allowed origin refused");
        };
        let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
        for name in [
            "access-control-allow-origin",
            "access-control-allow-credentials",
            "access-control-allow-methods",
            "access-control-allow-headers",
            "access-control-max-age",
        ] {
            assert!(names.contains(&name), "{name} missing");
        }
        assert_eq!(
            preflight(Some("https://evil.example.com"), "POST", &allowed),
            Preflight::Refused
        );
        assert_eq!(preflight(None, "GET", &allowed), Preflight::Refused);
        assert_eq!(
            preflight(Some("http://localhost:3000"), "TRACE", &allowed),
            Preflight::Refused
        );
    }

    #[test]
    fn request_ids_are_echoed_only_when_plain_and_short() {
        assert!(request_id_is_valid("abc-123_x.y:z"));
        assert!(!request_id_is_valid(""));
        assert!(!request_id_is_valid("a b"));
        assert!(!request_id_is_valid("x\r\nset-cookie: a=b"));
        assert!(!request_id_is_valid(&"a".repeat(MAX_REQUEST_ID_LEN + 1)));
    }
}
