//! Component `reservations`: the signed-in user's reservations and the seat map, read-only as
//! `urr_booking_read` (EXECUTE on three SQL functions, no table grants).
//!
//! - `GET /reservations/my`, `GET /reservations/{id}`, `GET /seats/reservation/{id}` — owner
//!   only: someone else's reservation is a 404, exactly like a missing one;
//! - `GET /seats/events/{eventId}` — the seat map, behind the waiting-room gate; statuses come
//!   from Postgres (an expired hold shows available) through a shared copy at most about a
//!   second old (`seat_map`).
//!
//! Reads keep working without Redis: no limiter, the access token's own word, no slot check,
//! the seat map straight from Postgres.

mod seat_map;

use spin_sdk::http::Request;
use spin_sdk::http_service;
use spin_sdk::pg::ParameterValue;
use urr_booking::input::my_reservations_page;
use urr_booking::route::ReadRoute;
use urr_booking::{BookingError, EntityId, sql};
use urr_booking_glue::entry::require_entry;
use urr_booking_glue::{Handled, no_store, respond, store};
use urr_component::pg::uuid;
use urr_component::request::route as api_route;
use urr_component::{Access, ApiError, RedisPolicy, Response, route_refused};
use urr_ratelimit::Category;

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    match ReadRoute::parse(req.method().as_str(), &api_route(&req)) {
        Ok(read) => respond(reply(req, read).await),
        Err(refusal) => route_refused(refusal),
    }
}

/// One read: the caller (no origin rule on a GET; the limiter passes without Redis), then one
/// SQL function whose reply is the body.
async fn reply(req: Request, read: ReadRoute) -> Handled {
    let (settings, caller) =
        urr_booking_glue::admit(&req, Access::Read, Category::Default, RedisPolicy::Optional)
            .await?;
    let redis = caller.redis.as_ref();
    let user_id = caller.user.user_id.as_str();
    // Each reply is built whole by its SQL function: passed through as text, never re-parsed.
    let body = match read {
        ReadRoute::Mine => {
            let query = req.uri().query().unwrap_or("");
            let (statement, params) = match my_reservations_page(query)? {
                None => (
                    sql::MY_RESERVATIONS,
                    vec![
                        uuid(user_id),
                        ParameterValue::Int32(sql::MY_RESERVATIONS_LIMIT),
                    ],
                ),
                Some(page) => (
                    sql::MY_RESERVATIONS_PAGE,
                    vec![
                        uuid(user_id),
                        // Bounded by the paging rules (page <= 10,000, limit <= 100).
                        ParameterValue::Int32(
                            i32::try_from(page.page).map_err(|_| BookingError::InvalidPage)?,
                        ),
                        ParameterValue::Int32(
                            i32::try_from(page.limit).map_err(|_| BookingError::InvalidLimit)?,
                        ),
                    ],
                ),
            };
            store::json_text(&store::STORE.query(statement, params).await?)
                .ok_or_else(ApiError::internal)?
        }
        ReadRoute::Reservation(id) => {
            let id = EntityId::parse(&id, "id")?;
            let reservation = store::json_text(
                &store::STORE
                    .query(sql::RESERVATION, vec![uuid(user_id), uuid(id.as_str())])
                    .await?,
            )
            .ok_or_else(ApiError::not_found)?;
            format!(r#"{{"reservation":{reservation}}}"#)
        }
        ReadRoute::SeatMap(id) => {
            let event = EntityId::parse(&id, "eventId")?;
            require_entry(req.headers(), &settings, user_id, &event, redis).await?;
            let prefix = &settings.session.key_prefix;
            return seat_map::serve(&req, &event, redis, prefix).await;
        }
    };
    Ok(no_store(urr_component::json_text(200, body)))
}
