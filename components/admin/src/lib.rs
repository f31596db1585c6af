//! Component `admin`: every `/admin/...` route of the contract (the waiting room's admin routes
//! live in `queue`), as the `urr_admin` database role.
//!
//! - `GET /admin/dashboard`, `GET /admin/seat-layouts`, `GET /admin/audit-log` — `reads`
//! - `POST /admin/events`, `PUT|DELETE /admin/events/{id}`, `POST .../cancel`,
//!   `POST .../generate-seats`, `DELETE .../seats`                          — `events`
//! - `POST /admin/events/{id}/tickets`, `PUT /admin/tickets/{id}`             — `tickets`
//! - `GET /admin/reservations`, `PATCH /admin/reservations/{id}/status`       — `reservations`
//!
//! Every request has one shape: authenticate (401), require the admin role from the verified
//! access token (403), parse the route and its ids, apply the CSRF rule and the rate limit to
//! writes, parse the body with `urr-admin-domain`, then ONE statement — for a change, one call of
//! its audited SQL function, which writes the audit row in the same transaction. Writes check the
//! session deny-list and fail closed (503) when Redis cannot answer. Nothing here is cacheable:
//! every response carries `Cache-Control: no-store`. A change that cancels reservations (an
//! event cancel, a reservation's status) then frees their seat holds in Redis, so the seat map
//! and the hold script agree at once.

mod events;
mod reads;
mod reservations;
mod store;
mod tickets;

use spin_sdk::http::{Method, Request};
use spin_sdk::http_service;
use urr_admin_domain::{AdminError, Route};
use urr_component::request::{body, client_ip};
use urr_component::{Access, Caller, RedisPolicy, Response, Result, Settings, route_refused};
use urr_ratelimit::Category;
use urr_tokens::Role;

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    let mut response = match admin(req).await {
        Ok(response) => response,
        Err(e) => urr_component::error(&e),
    };
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}

/// Who is acting, for the audit row: the admin's user id and the client's address (`None` when
/// it is not an IP address, e.g. a misconfigured proxy header).
pub struct Actor {
    pub admin_id: String,
    pub client_ip: Option<String>,
}

/// Where the seat holds of reservations a change cancelled are freed after its commit.
pub struct Holds<'a> {
    pub redis: Option<&'a spin_sdk::redis::Connection>,
    pub key_prefix: &'a str,
}

impl Holds<'_> {
    /// Frees the holds a change function returned (its `holds` column). Never fails the
    /// request: the change is committed, and a hold not freed ends by itself.
    pub async fn free(&self, row: &spin_sdk::pg::Row, what: &str) {
        let Ok(holds) = urr_component::pg::column::<Option<String>>(row, "holds") else {
            return;
        };
        urr_booking_glue::free::free_holds(self.redis, self.key_prefix, holds.as_deref(), what)
            .await;
    }
}

async fn admin(req: Request) -> Result<Response> {
    let settings = Settings::load().await?;
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD);
    let access = if writes { Access::Write } else { Access::Read };
    // Identity first, for every path: an anonymous caller learns nothing about the route space.
    // Writes check the deny-list and fail closed; the rate limit lets a request through when
    // Redis cannot count it (reads need no Redis, writes already failed closed).
    let mut caller = Caller::identify(&req, &settings, access, RedisPolicy::Optional).await?;
    if caller.user.role != Role::Admin {
        return Err(AdminError::AdminRequired.into());
    }
    let path = urr_component::api_path(req.uri().path()).to_string();
    let route = match Route::parse(req.method().as_str(), &path) {
        Ok(route) => route,
        Err(refusal) => return Ok(route_refused(refusal)),
    };
    if route.is_write() {
        caller.check_origin(&req, &settings)?;
    }
    caller.charge(&settings, Category::Default).await?;
    let redis = caller.redis.as_ref();
    let actor = Actor {
        admin_id: caller.user.user_id.clone(),
        client_ip: Some(client_ip(&req, &settings))
            .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok()),
    };
    let query = req.uri().query().unwrap_or("").to_string();
    let holds = Holds {
        redis,
        key_prefix: &settings.key_prefix,
    };
    match route {
        Route::Dashboard => reads::dashboard(redis, &settings.key_prefix).await,
        Route::SeatLayouts => reads::seat_layouts().await,
        Route::AuditLog => reads::audit_log(&query).await,
        Route::ListReservations => reservations::list(&query).await,
        Route::CreateEvent => events::create(&actor, &body(req).await?).await,
        Route::UpdateEvent(id) => events::update(&actor, &id, &body(req).await?).await,
        Route::CancelEvent(id) => events::cancel(&actor, &holds, &id, &body(req).await?).await,
        Route::DeleteEvent(id) => events::delete(&actor, &id).await,
        Route::GenerateSeats(id) => events::generate_seats(&actor, &id).await,
        Route::DeleteSeats(id) => events::delete_seats(&actor, &id).await,
        Route::CreateTicketType(id) => tickets::create(&actor, &id, &body(req).await?).await,
        Route::UpdateTicketType(id) => tickets::update(&actor, &id, &body(req).await?).await,
        Route::SetReservationStatus(id) => {
            reservations::set_status(&actor, &holds, &id, &body(req).await?).await
        }
    }
}
