//! What a handler reads from the request: the route, a header, the client's address, the CSRF
//! origin rule, and a bounded body. Every component reads its body here.

use crate::caller::Settings;
use crate::{ApiError, Result};
use spin_sdk::http::Request;
use spin_sdk::http::body::IncomingBodyExt as _;
use urr_api::body::{MAX_BODY_BYTES, MAX_JSON_DEPTH, json_too_deep};

/// The path without its `/api/v1` or `/api` prefix and without a trailing `/` (every route is
/// served under both prefixes).
pub fn route(req: &Request) -> String {
    crate::api_path(req.uri().path())
        .trim_end_matches('/')
        .to_string()
}

/// A header as text (`None` when absent or not visible ASCII).
pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The client's IP (the trusted proxy header when configured, else the peer address).
pub fn client_ip(req: &Request, settings: &Settings) -> String {
    let trusted = settings
        .trusted_client_ip_header
        .as_deref()
        .and_then(|name| header(req, name));
    urr_ratelimit::client_ip(trusted, header(req, "spin-client-addr"))
}

/// The CSRF origin rule (403 when refused; safe methods always pass).
pub fn check_origin(req: &Request, settings: &Settings, cookie_authenticated: bool) -> Result<()> {
    let own = header(req, "spin-full-url").and_then(urr_tokens::own_origin);
    urr_tokens::check_csrf(
        req.method(),
        req.headers(),
        cookie_authenticated,
        own.as_deref(),
        &settings.allowed_origins,
    )
    .map_err(|e| {
        ApiError::forbidden(match e {
            urr_tokens::CsrfError::ForeignOrigin => "csrf_origin",
            urr_tokens::CsrfError::CrossSite => "csrf_cross_site",
            urr_tokens::CsrfError::MissingOrigin => "csrf_origin_missing",
        })
    })
}

/// The body, refused with 413 past [`MAX_BODY_BYTES`] (declared length first, then what
/// arrived) and with 400 `json_too_deep` past the nesting limit.
pub async fn body(req: Request) -> Result<Vec<u8>> {
    let declared = header(&req, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(ApiError::payload_too_large());
    }
    let bytes = req.into_body().bytes().await.map_err(|e| {
        eprintln!("reading the request body failed: {e:?}");
        ApiError::bad_request("invalid_body", "Request body could not be read")
    })?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::payload_too_large());
    }
    if json_too_deep(&bytes, MAX_JSON_DEPTH) {
        return Err(ApiError::bad_request(
            "json_too_deep",
            format!("JSON nests deeper than {MAX_JSON_DEPTH} levels"),
        ));
    }
    Ok(bytes.to_vec())
}
