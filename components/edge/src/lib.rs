//! The spin-sdk glue every URR Edge component shares, so each handler stays thin: JSON responses
//! in the contract's shape, variables, and store connections whose failures become clear 503s.
//! Domain decisions live in the pure `shared/` crates, never here.

use spin_sdk::http::Request;
pub use urr_api::ApiError;

pub type Response = http::Response<String>;
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

fn with_json_type(status: u16, text: String) -> Response {
    let mut response = http::Response::new(text);
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
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
        ApiError::unavailable(
            "postgres_unavailable",
            "A data store is temporarily unavailable",
            STORE_RETRY_AFTER_SECS,
        )
    })
}
