//! Component `seat-lock`: `POST /seats/lock` holds 1..4 seats of one event, all or none, and
//! returns the hold's fencing token; `DELETE /seats/lock` releases holds, only for their holder
//! presenting that token. Redis only: a hold is the fast filter in front of Postgres, never a
//! sale, so without Redis holds fail closed (503). Seats that do not exist are found out by the
//! reserve step, which checks them against Postgres.
//!
//! Shape: settings → the caller (user, origin rule, booking rate limit) → parse → (entry gate)
//! → one Lua script → reply.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use urr_booking::input::{HoldRequest, ReleaseRequest};
use urr_booking::reply;
use urr_booking::route::SeatLockRoute;
use urr_booking::scripts::{self, HoldTerms};
use urr_booking_glue::entry::require_entry;
use urr_booking_glue::{BookingSettings, Handled, held, no_store, respond, store};
use urr_component::request::{body, route as api_route};
use urr_component::{Access, Caller, RedisPolicy, Response, route_refused};
use urr_ratelimit::Category;

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    match SeatLockRoute::parse(req.method().as_str(), &api_route(&req)) {
        Ok(SeatLockRoute::Hold) => respond(hold(req).await),
        Ok(SeatLockRoute::Release) => respond(release(req).await),
        Err(refusal) => route_refused(refusal),
    }
}

/// What both methods check before reading the body: Redis (fail closed), the user, the origin
/// rule and the booking rate limit.
async fn admit(req: &Request) -> Result<(BookingSettings, Caller), urr_booking_glue::Refusal> {
    urr_booking_glue::admit(req, Access::Write, Category::Booking, RedisPolicy::Required).await
}

async fn hold(req: Request) -> Handled {
    let (settings, caller) = admit(&req).await?;
    let redis = caller.required_redis()?;
    let headers = req.headers().clone();
    let request = HoldRequest::parse(&body(req).await?)?;
    let user_id = caller.user.user_id.as_str();
    require_entry(&headers, &settings, user_id, &request.event_id, Some(redis)).await?;
    let terms = HoldTerms {
        ttl_ms: i64::from(settings.hold_ttl_secs) * 1000,
        limits: settings.hold_limits,
        token_floor: 0,
    };
    let call = scripts::hold(
        &settings.session.key_prefix,
        &request.event_id,
        user_id,
        &request.seats,
        terms,
    );
    let answer = store::run(redis, &call).await?;
    let (token, expires_at_ms) = held(&answer, &request.seats, &settings)?;
    Ok(no_store(urr_component::json(
        200,
        &reply::held(&request.event_id, &request.seats, token, expires_at_ms),
    )))
}

async fn release(req: Request) -> Handled {
    let (settings, caller) = admit(&req).await?;
    let redis = caller.required_redis()?;
    let request = ReleaseRequest::parse(&body(req).await?)?;
    let call = scripts::release(
        &settings.session.key_prefix,
        &request.event_id,
        &caller.user.user_id,
        &request.seats,
        request.fencing_token,
    );
    let answer = store::run(redis, &call).await?;
    let released = answer.first().copied().unwrap_or(0);
    Ok(no_store(urr_component::json(
        200,
        &reply::released(released),
    )))
}
