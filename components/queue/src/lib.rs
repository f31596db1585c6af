//! Component `queue`: everything in the waiting room after the join (under `/api/v1` and `/api`).
//!
//! - `GET  /queue/status/{eventId}`              — position or admission (renews last seen / the slot)
//! - `POST /queue/heartbeat/{eventId}`           — `{status, queued}`, same effect as status
//! - `POST /queue/leave/{eventId}`               — idempotent; bodyless or a `text/plain` beacon
//! - `GET  /queue/admin/{eventId}`               — counts (admin)
//! - `POST /queue/admin/clear/{eventId}`         — empties the line and every slot (admin)
//! - `POST /queue/admin/threshold/{eventId}?threshold=N` — the event's maximum active (admin)
//!
//! Every route: event id → the caller (token, CSRF, queue rate limit) → one script or one
//! command → the contract's JSON. Redis down: 503 with `Retry-After`. No Postgres at all.

use serde_json::json;
use spin_sdk::http::Request;
use spin_sdk::http_service;
use urr_component::request::route as api_route;
use urr_component::{Response, Result, json, respond, route_refused};
use urr_queue::reply::{admin_body, heartbeat_body, slot_secs_left, visit_body};
use urr_queue::scripts::{JoinFacts, Mode, Placement};
use urr_queue::settings::parse_threshold;
use urr_queue::{LEAVE_SCRIPT, LEAVE_SCRIPT_SHA1, Route, Uuid};
use urr_queue_glue::{caller, entry_token, redis_down, require_admin, run_script};

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    let route = match Route::parse(req.method().as_str(), &api_route(&req)) {
        Ok(route) => route,
        Err(refusal) => return route_refused(refusal),
    };
    respond(match &route {
        Route::Status(event) => status(&req, event).await,
        Route::Heartbeat(event) => heartbeat(&req, event).await,
        Route::Leave(event) => leave(&req, event).await,
        Route::AdminCounts(event) => admin(&req, event).await,
        Route::AdminClear(event) => clear(&req, event).await,
        Route::AdminThreshold(event) => threshold(&req, event).await,
    })
}

async fn status(req: &Request, event: &Uuid) -> Result<Response> {
    let caller = caller(req).await?;
    let member = caller.member();
    let visit = caller
        .visit(event, &member, Mode::Status, &JoinFacts::default())
        .await?;
    let token = match visit.placement {
        Placement::Active { .. } => {
            Some(entry_token(&member, event, slot_secs_left(&visit)).await?)
        }
        _ => None,
    };
    let body = visit_body(&visit, caller.queue.rate_per_sec, token.as_deref());
    Ok(json(200, &body))
}

async fn heartbeat(req: &Request, event: &Uuid) -> Result<Response> {
    let caller = caller(req).await?;
    let visit = caller
        .visit(event, &caller.member(), Mode::Status, &JoinFacts::default())
        .await?;
    Ok(json(200, &heartbeat_body(&visit)))
}

/// The body (a beacon's `text/plain`, or nothing) is never read: the path says everything.
async fn leave(req: &Request, event: &Uuid) -> Result<Response> {
    let caller = caller(req).await?;
    let keys = caller.keys(event);
    run_script(
        &caller.redis,
        LEAVE_SCRIPT,
        LEAVE_SCRIPT_SHA1,
        &keys.leave(),
        &[caller.member()],
    )
    .await?;
    Ok(json(200, &json!({"message": "Left the queue"})))
}

async fn admin(req: &Request, event: &Uuid) -> Result<Response> {
    let caller = caller(req).await?;
    require_admin(&caller)?;
    // A visit by nobody: the counts after expiry, stale drop and lazy admission.
    let visit = caller
        .visit(event, "", Mode::Status, &JoinFacts::default())
        .await?;
    Ok(json(200, &admin_body(event.as_str(), &visit)))
}

async fn clear(req: &Request, event: &Uuid) -> Result<Response> {
    let caller = caller(req).await?;
    require_admin(&caller)?;
    // One DEL of keys sharing one hash tag: atomic, and the threshold (configuration) stays.
    caller
        .redis
        .del(caller.keys(event).cleared())
        .await
        .map_err(redis_down)?;
    eprintln!(
        "queue of event {event} cleared by admin {}",
        caller.user.user_id
    );
    Ok(json(200, &json!({"message": "Queue cleared"})))
}

async fn threshold(req: &Request, event: &Uuid) -> Result<Response> {
    let caller = caller(req).await?;
    require_admin(&caller)?;
    let threshold = parse_threshold(req.uri().query().unwrap_or(""))?;
    caller
        .redis
        .set(&caller.keys(event).threshold, threshold.to_string())
        .await
        .map_err(redis_down)?;
    eprintln!(
        "queue threshold of event {event} set to {threshold} by admin {}",
        caller.user.user_id
    );
    Ok(json(
        200,
        &json!({"eventId": event.as_str(), "threshold": threshold}),
    ))
}
