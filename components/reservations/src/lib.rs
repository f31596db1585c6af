//! Component `reservations`: the signed-in user's reservations and the seat map, read-only as
//! `urr_booking_read` (EXECUTE on three SQL functions, no table grants).
//!
//! - `GET /reservations/my`, `GET /reservations/{id}`, `GET /seats/reservation/{id}` — owner
//!   only: someone else's reservation is a 404, exactly like a missing one;
//! - `GET /seats/events/{eventId}` — the seat map, behind the waiting-room gate; statuses come
//!   from Postgres (an expired hold shows available), never cached.
//!
//! Reads keep working without Redis: no limiter, the access token's own word, no slot check.

use spin_sdk::http::{Method, Request};
use spin_sdk::http_service;
use spin_sdk::pg::ParameterValue;
use urr_booking::{EntityId, sql};
use urr_booking_glue::entry::require_entry;
use urr_booking_glue::{Handled, no_store, respond, store};
use urr_component::pg::uuid;
use urr_component::request::route as api_route;
use urr_component::{Access, ApiError, RedisPolicy, Response, method_not_allowed};
use urr_ratelimit::Category;

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

/// Which read a path asks for.
enum Read {
    Mine,
    Reservation(String),
    SeatMap(String),
}

async fn route(req: Request) -> Response {
    let path = api_route(&req);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let read = match segments.as_slice() {
        ["reservations", "my"] => Read::Mine,
        ["reservations", id] | ["seats", "reservation", id] => Read::Reservation(id.to_string()),
        ["seats", "events", id] => Read::SeatMap(id.to_string()),
        _ => return urr_component::error(&ApiError::not_found()),
    };
    if req.method() != Method::GET {
        return method_not_allowed("GET");
    }
    respond(serve(req, read).await)
}

async fn serve(req: Request, read: Read) -> Handled {
    let (settings, caller) =
        urr_booking_glue::admit(&req, Access::Read, Category::Default, RedisPolicy::Optional)
            .await?;
    let redis = caller.redis.as_ref();
    let user_id = caller.user.user_id.as_str();
    // Each reply is built whole by its SQL function: passed through as text, never re-parsed.
    let body = match read {
        Read::Mine => store::json_text(
            &store::STORE
                .query(
                    sql::MY_RESERVATIONS,
                    vec![
                        uuid(user_id),
                        ParameterValue::Int32(sql::MY_RESERVATIONS_LIMIT),
                    ],
                )
                .await?,
        )
        .ok_or_else(ApiError::internal)?,
        Read::Reservation(id) => {
            let id = EntityId::parse(&id, "id")?;
            let reservation = store::json_text(
                &store::STORE
                    .query(sql::RESERVATION, vec![uuid(user_id), uuid(id.as_str())])
                    .await?,
            )
            .ok_or_else(ApiError::not_found)?;
            format!(r#"{{"reservation":{reservation}}}"#)
        }
        Read::SeatMap(id) => {
            let event = EntityId::parse(&id, "eventId")?;
            require_entry(req.headers(), &settings, user_id, &event, redis).await?;
            store::json_text(
                &store::STORE
                    .query(
                        sql::SEAT_MAP,
                        vec![
                            uuid(event.as_str()),
                            ParameterValue::Int32(sql::SEAT_MAP_LIMIT),
                        ],
                    )
                    .await?,
            )
            .ok_or_else(ApiError::not_found)?
        }
    };
    Ok(no_store(urr_component::json_text(200, body)))
}
