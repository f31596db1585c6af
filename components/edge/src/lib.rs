//! The spin-sdk glue every URR Edge component shares, so each handler stays thin: the edge
//! wrapper every entry point goes through (CORS, security headers, request id, trace context),
//! who is calling (`caller`: identity, origin rule, rate limit), what a handler reads from the
//! request (`request`: route, bounded body), JSON responses in the contract's shape, variables,
//! and store connections whose failures become clear 503s. Domain decisions live in the pure
//! `shared/` crates, never here.

pub mod caller;
pub mod pg;
pub mod ratelimit;
pub mod request;
pub mod store;

pub use caller::{Access, Caller, RedisPolicy, Settings};

use spin_sdk::http::Request;
pub use urr_api::ApiError;
use urr_api::edge::{self as policy, AllowedOrigins, Preflight};
pub use urr_api::route::RouteError;
use urr_api::trace::TraceParent;

pub type Response = http::Response<Body>;
/// A response body, held whole: JSON text, or bytes such as a gzip-encoded seat map.
pub type Body = http_body_util::Full<bytes::Bytes>;
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// How long a client should wait before retrying when a store is down.
pub const STORE_RETRY_AFTER_SECS: u32 = 2;

/// A JSON response with the given status.
pub fn json<T: serde::Serialize>(status: u16, body: &T) -> Response {
    match serde_json::to_string(body) {
        Ok(text) => with_json_type(status, text),
        Err(_) => error(&ApiError::internal()),
    }
}

/// A response whose body is JSON text built elsewhere, sent as is: a read whose reply a SQL
/// function already wrote (the seat map of a 4,900-seat stadium is 0.7 MB, and parsing it into
/// a `Value` only to print it again cost most of that request's time in Wasm).
pub fn json_text(status: u16, text: String) -> Response {
    with_json_type(status, text)
}

fn with_json_type(status: u16, text: String) -> Response {
    let mut response = http::Response::new(Body::from(text));
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    set_content_length(&mut response);
    response
}

/// Declares the body's length, so the response goes out as one write and ends with its last
/// byte. Without it Spin sends the body chunked and writes the closing `0\r\n\r\n` as a second,
/// five-byte segment a moment later; its HTTP listener leaves Nagle's algorithm on, so on a
/// kept-alive connection (the ALB's, a browser's) that segment waits for the client's delayed
/// ACK: about 40 ms added to every response whose body is not ready at once, which is every
/// response that touched a store (docs/benchmarks.md, "Runtime comparison"). Statuses that carry
/// no body (1xx, 204, 304) get no length.
pub fn set_content_length(response: &mut Response) {
    let status = response.status();
    if status.is_informational()
        || status == http::StatusCode::NO_CONTENT
        || status == http::StatusCode::NOT_MODIFIED
    {
        return;
    }
    let Some(length) = http_body::Body::size_hint(response.body()).exact() else {
        return;
    };
    let length = http::HeaderValue::from(length);
    response
        .headers_mut()
        .insert(http::header::CONTENT_LENGTH, length);
}

/// A 200 of the JSON `body` with `cache_control` and a strong ETag over the exact body, or a
/// bodiless 304 when the client (or a CDN revalidating) already holds this exact body.
pub fn conditional_json(req: &Request, body: String, cache_control: &'static str) -> Response {
    let etag = urr_api::cache::strong_etag(body.as_bytes());
    let not_modified = req
        .headers()
        .get(http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|header| urr_api::cache::if_none_match_matches(header, &etag));
    let mut response = if not_modified {
        let mut response = http::Response::new(Body::default());
        *response.status_mut() = http::StatusCode::NOT_MODIFIED;
        response
    } else {
        json_text(200, body)
    };
    let headers = response.headers_mut();
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static(cache_control),
    );
    if let Ok(value) = http::HeaderValue::from_str(&etag) {
        headers.insert(http::header::ETAG, value);
    }
    response
}

/// The contract's error body, with `Retry-After` when the error carries one.
pub fn error(err: &ApiError) -> Response {
    let mut response = with_json_type(err.status, err.to_json(None));
    if let Some(secs) = err.retry_after_secs {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
    response
}

/// Turns a handler's result into the response the host sends.
pub fn respond(result: Result<Response>) -> Response {
    result.unwrap_or_else(|e| error(&e))
}

/// A 405 naming the allowed methods.
pub fn method_not_allowed(allowed: &'static str) -> Response {
    let mut response = error(&ApiError::method_not_allowed());
    response
        .headers_mut()
        .insert(http::header::ALLOW, http::HeaderValue::from_static(allowed));
    response
}

/// The answer to a request no route of the component takes: 404, 405 naming the allowed methods,
/// or the group's own refusal of a malformed path parameter.
pub fn route_refused<E: Into<ApiError>>(refusal: RouteError<E>) -> Response {
    match refusal {
        RouteError::NotFound => error(&ApiError::not_found()),
        RouteError::MethodNotAllowed(allowed) => method_not_allowed(allowed),
        RouteError::Invalid(e) => error(&e.into()),
    }
}

/// The route's path without its `/api/v1` or `/api` prefix: every API route is served under both.
pub fn api_path(path: &str) -> &str {
    path.strip_prefix("/api/v1")
        .or_else(|| path.strip_prefix("/api"))
        .unwrap_or(path)
}

/// A route parameter, as Spin passes it (`spin-path-match-<name>`).
pub fn path_param<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get(format!("spin-path-match-{name}").as_str())
        .and_then(|v| v.to_str().ok())
}

/// A component variable. A missing variable is a deployment mistake: 500, and the log says which.
pub async fn variable(name: &str) -> Result<String> {
    spin_sdk::variables::get(name).await.map_err(|e| {
        eprintln!("variable `{name}` is unavailable: {e:?}");
        ApiError::internal()
    })
}

/// Opens Redis; a failure is a 503 the caller may retry.
pub async fn redis() -> Result<spin_sdk::redis::Connection> {
    let address = variable("redis_address").await?;
    spin_sdk::redis::Connection::open(&address)
        .await
        .map_err(|e| {
            eprintln!("redis unavailable: {e:?}");
            ApiError::unavailable(
                "redis_unavailable",
                "A data store is temporarily unavailable",
                STORE_RETRY_AFTER_SECS,
            )
        })
}

/// Opens Postgres as this component's role; a failure is a 503 the caller may retry.
pub async fn postgres() -> Result<spin_sdk::pg::Connection> {
    let address = variable("pg_address").await?;
    spin_sdk::pg::Connection::open(address).await.map_err(|e| {
        eprintln!("postgres unavailable: {e:?}");
        pg::unavailable()
    })
}

/// Every component's entry point: answers CORS preflights from headers alone (no store is
/// touched), runs `route` for everything else, and puts the same edge headers on every response:
/// CORS for allowed origins, the security headers, `Cache-Control: no-store` unless the handler
/// chose a cache policy, and the request id (the client's when it is plain, else a fresh one).
///
/// ```ignore
/// #[http_service]
/// async fn handle(req: Request) -> Response {
///     urr_component::edge(req, route).await
/// }
/// ```
pub async fn edge<F, Fut>(req: Request, route: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let origin = header("origin");
    let trace = TraceParent::continue_or_start(header("traceparent").as_deref(), random_24());
    CURRENT_TRACE.with(|t| t.set(Some(trace)));
    let request_id = header("x-request-id")
        .filter(|id| policy::request_id_is_valid(id))
        .unwrap_or_else(fresh_request_id);
    let allowed = match origin {
        Some(_) => allowed_origins().await,
        None => AllowedOrigins::default(),
    };
    let preflight_method = header("access-control-request-method")
        .filter(|_| req.method() == spin_sdk::http::Method::OPTIONS);
    let mut response = match preflight_method {
        Some(method) => match policy::preflight(origin.as_deref(), &method, &allowed) {
            Preflight::Allowed(headers) => {
                let mut response = http::Response::new(Body::default());
                *response.status_mut() = http::StatusCode::NO_CONTENT;
                insert_all(&mut response, headers);
                response
            }
            Preflight::Refused => error(&ApiError::new(
                403,
                "cors_refused",
                "Cross-origin request not allowed from this origin",
            )),
        },
        None => {
            let mut response = route(req).await;
            insert_all(
                &mut response,
                policy::cors_headers(origin.as_deref(), &allowed),
            );
            response
        }
    };
    let headers = response.headers_mut();
    for (name, value) in policy::SECURITY_HEADERS {
        headers.insert(name, http::HeaderValue::from_static(value));
    }
    headers
        .entry(http::header::CACHE_CONTROL)
        .or_insert(http::HeaderValue::from_static(
            policy::DEFAULT_CACHE_CONTROL,
        ));
    // Caches must key CORS answers by origin.
    headers.append(http::header::VARY, http::HeaderValue::from_static("Origin"));
    if let Ok(value) = http::HeaderValue::from_str(&request_id) {
        headers.insert("x-request-id", value);
    }
    // W3C Trace Context Level 2: tells the caller which span answered, in which trace.
    if let Ok(value) = http::HeaderValue::from_str(&trace.header_value()) {
        headers.insert("traceresponse", value);
    }
    // Routes that build their own response (the catalog's ETag'd reads) get a length too.
    set_content_length(&mut response);
    response
}

thread_local! {
    /// This request's span (an instance serves one request at a time, reused or not).
    static CURRENT_TRACE: std::cell::Cell<Option<TraceParent>> = const { std::cell::Cell::new(None) };
}

/// The `traceparent` value for a call this request makes (the provider), naming this request's
/// span as the parent; `None` outside [`edge`].
pub fn outgoing_traceparent() -> Option<String> {
    CURRENT_TRACE.with(|t| t.get()).map(|t| t.header_value())
}

fn random_24() -> [u8; 24] {
    let mut bytes = [0u8; 24];
    // Without randomness the ids are still valid (never all zero), only not unique.
    let _ = getrandom::fill(&mut bytes);
    bytes
}

/// The configured web origins; a missing variable allows none (and says so in the log).
async fn allowed_origins() -> AllowedOrigins {
    match spin_sdk::variables::get("allowed_origins").await {
        Ok(text) => AllowedOrigins::parse(&text),
        Err(e) => {
            eprintln!("variable `allowed_origins` is unavailable: {e:?}");
            AllowedOrigins::default()
        }
    }
}

fn insert_all(response: &mut Response, headers: Vec<(&'static str, String)>) {
    for (name, value) in headers {
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
}

/// 128 random bits as hex: unique enough to find one request in the logs.
fn fresh_request_id() -> String {
    let mut bytes = [0u8; 16];
    match getrandom::fill(&mut bytes) {
        Ok(()) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        Err(_) => "unknown".to_string(),
    }
}
