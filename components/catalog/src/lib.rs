//! Component `catalog`: the public, CDN-cacheable event catalog and the server clock, read-only
//! as the `urr_catalog` role.
//!
//! - `GET /events`, `GET /events/{id}`                    — `events`
//! - `GET /tickets/event/{id}`, `/tickets/availability/{id}` — `tickets`
//! - `GET /seats/layouts`                                  — `layouts`
//! - `GET /time`                                           — the clock (never cached)
//! - `GET /openapi.yaml`                                   — this API's OpenAPI description
//!
//! Every handler has one shape: parse the request with `urr-catalog-domain`, run one statement,
//! shape the rows with `urr-catalog-domain::reply`, and let `urr_component::conditional_json`
//! add the cache headers and answer `If-None-Match` with 304. Postgres being down is a 503 with `Retry-After`.

mod events;
mod layouts;
mod rows;
mod tickets;

use spin_sdk::http::Request;
use spin_sdk::http_service;
use urr_api::time::{TimeReply, format_unix_millis};
use urr_catalog_domain::Route;
use urr_catalog_domain::cache::{NO_STORE, PUBLIC_CACHE_CONTROL};
use urr_component::ratelimit::charge_client_or_pass;
use urr_component::request::route as api_route;
use urr_component::{Response, RouteError, json, method_not_allowed, route_refused};
use urr_ratelimit::Category;

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    let route = Route::parse(req.method().as_str(), &api_route(&req));
    if let Err(RouteError::MethodNotAllowed(allowed)) = route {
        return method_not_allowed(allowed);
    }
    // Per client IP, `default` category; most reads never get here (the CDN answers them).
    if let Err(e) = charge_client_or_pass(&req, Category::Default).await {
        return urr_component::error(&e);
    }
    let route = match route {
        Ok(route) => route,
        Err(refusal) => return route_refused(refusal),
    };
    let query = req.uri().query().unwrap_or("");
    let body = match &route {
        Route::Time => return now(),
        Route::OpenApi => return openapi(&req),
        Route::Events => events::list(query).await,
        Route::Event(id) => events::detail(id).await,
        Route::TicketTypes(id) => tickets::of_event(id).await,
        Route::Availability(id) => tickets::availability(id).await,
        Route::Layouts => layouts::list().await,
    };
    match body {
        Ok(body) => urr_component::conditional_json(&req, body, PUBLIC_CACHE_CONTROL),
        Err(e) => urr_component::error(&e),
    }
}

/// `GET /time`: the server clock, for the web client's on-sale countdowns.
fn now() -> Response {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    let mut response = json(
        200,
        &TimeReply {
            time: format_unix_millis(millis),
        },
    );
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static(NO_STORE),
    );
    response
}

/// `GET /openapi.yaml`: the API's description (docs/openapi.yaml), built in, so the served spec is
/// exactly the one of this build; cached and revalidated like the catalog reads.
fn openapi(req: &Request) -> Response {
    const SPEC: &str = include_str!("../../../docs/openapi.yaml");
    let mut response = urr_component::conditional_json(req, SPEC.to_string(), PUBLIC_CACHE_CONTROL);
    if response.status() == http::StatusCode::OK {
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/yaml"),
        );
    }
    response
}
