//! Component `queue-join`: `POST /queue/check/{eventId}` (under `/api/v1` and `/api`), the one
//! route the surge hits first, so it is its own component.
//!
//! Shape: event id → the caller (token, CSRF, queue rate limit) → the event gate (Redis cache,
//! else one read as `urr_queue`) → before the opening, the fair-start draw (seed made once,
//! HMAC here) → ONE visit script (admit at once, enqueue, pool, or report) → an entry token when
//! active. Redis down: 503 (fail closed); Postgres down on a cache miss: 503.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use urr_component::pg::{Store, column, uuid};
use urr_component::request::route as api_route;
use urr_component::{ApiError, Response, Result, json, respond, route_refused};
use urr_queue::Uuid;
use urr_queue::event::{CachedEvent, EventSnapshot, READ_EVENT};
use urr_queue::reply::{slot_secs_left, visit_body};
use urr_queue::route::parse_check;
use urr_queue::scripts::{JoinFacts, Mode, Placement};
use urr_queue::settings::EVENT_CACHE_MS;
use urr_queue_glue::{Caller, caller, entry_token, redis_down};

/// The gate's one read (as `urr_queue`): any failure is a 503, like Redis' (the waiting room
/// fails closed).
const STORE: Store = Store::always_unavailable("queue-join");

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    // Spin passes `:event_id` as `spin-path-match-event-id`; the path itself is unambiguous.
    match parse_check(req.method().as_str(), &api_route(&req)) {
        Ok(event) => respond(check(&req, event).await),
        Err(refusal) => route_refused(refusal),
    }
}

async fn check(req: &Request, event: Uuid) -> Result<Response> {
    let caller = caller(req).await?;
    let cached = event_gate(&caller, &event).await?;
    let snapshot = cached
        .admits_joins(caller.queue.open_lead_ms())
        .map_err(ApiError::from)?;
    let info = snapshot.info_json();
    let member = caller.member();
    // Fair start: a join before the opening brings its draw; the script (on Redis' clock) pools
    // the user only if the sale has indeed not opened and the pool has room.
    let draw = if snapshot.before_opening() && caller.queue.presale_pool > 0 {
        Some(caller.presale_draw(&event, &member).await?)
    } else {
        None
    };
    let facts = JoinFacts {
        event_info: Some(&info),
        opens_at_ms: snapshot.opens_at_ms(),
        draw: draw.as_ref(),
    };
    let visit = caller.visit(&event, &member, Mode::Join, &facts).await?;
    let token = match visit.placement {
        Placement::Active { .. } => {
            Some(entry_token(&member, &event, slot_secs_left(&visit)).await?)
        }
        _ => None,
    };
    let body = visit_body(&visit, caller.queue.rate_per_sec, token.as_deref());
    Ok(json(200, &body))
}

/// The event as the gate sees it: from the Redis cache, else from Postgres (then cached for a
/// few seconds, unknown ids included).
async fn event_gate(caller: &Caller, event: &Uuid) -> Result<CachedEvent> {
    let keys = caller.keys(event);
    let cached = caller.redis.get(&keys.event).await.map_err(redis_down)?;
    if let Some(hit) = cached.as_deref().and_then(CachedEvent::from_cache) {
        return Ok(hit);
    }
    let found = STORE.query(READ_EVENT, vec![uuid(event.as_str())]).await?;
    let read = match found.first() {
        None => CachedEvent::Missing,
        Some(row) => CachedEvent::Found(EventSnapshot {
            status: column(row, "status")?,
            opens_in_ms: column(row, "opens_in_ms")?,
            opens_at_ms: column(row, "opens_at_ms")?,
            title: column(row, "title")?,
            artist: column(row, "artist_name")?,
        }),
    };
    // A failed cache write only costs the next request a Postgres read.
    let _ = caller
        .redis
        .execute(
            "SET",
            vec![
                spin_sdk::redis::RedisParameter::Binary(keys.event.clone().into_bytes()),
                spin_sdk::redis::RedisParameter::Binary(read.to_cache().into_bytes()),
                spin_sdk::redis::RedisParameter::Binary(b"PX".to_vec()),
                spin_sdk::redis::RedisParameter::Int64(EVENT_CACHE_MS as i64),
            ],
        )
        .await;
    Ok(read)
}
