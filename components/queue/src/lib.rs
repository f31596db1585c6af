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
use spin_sdk::http::{Method, Request};
use spin_sdk::http_service;
use urr_component::{ApiError, Response, Result, api_path, json, method_not_allowed, respond};
use urr_queue::reply::{admin_body, heartbeat_body, slot_secs_left, visit_body};
use urr_queue::scripts::{JoinFacts, Mode, Placement};
use urr_queue::settings::parse_threshold;
use urr_queue::{LEAVE_SCRIPT, LEAVE_SCRIPT_SHA1};
use urr_queue_glue::{caller, entry_token, event_id, redis_down, require_admin, run_script};

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    let path = api_path(req.uri().path()).trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = req.method().clone();
    match (segments.as_slice(), method) {
        (["queue", "status", id], Method::GET) => respond(status(&req, id).await),
        (["queue", "heartbeat", id], Method::POST) => respond(heartbeat(&req, id).await),
        (["queue", "leave", id], Method::POST) => respond(leave(&req, id).await),
        (["queue", "admin", "clear", id], Method::POST) => respond(clear(&req, id).await),
        (["queue", "admin", "threshold", id], Method::POST) => respond(threshold(&req, id).await),
        (["queue", "admin", id], Method::GET) => respond(admin(&req, id).await),
        (["queue", "status" | "admin", _], _) => method_not_allowed("GET"),
        (["queue", "heartbeat" | "leave", _] | ["queue", "admin", "clear" | "threshold", _], _) => {
            method_not_allowed("POST")
        }
        _ => urr_component::error(&ApiError::not_found()),
    }
}

async fn status(req: &Request, id: &str) -> Result<Response> {
    let event = event_id(Some(id))?;
    let caller = caller(req).await?;
    let member = caller.member();
    let visit = caller
        .visit(&event, &member, Mode::Status, &JoinFacts::default())
        .await?;
    let token = match visit.placement {
        Placement::Active { .. } => {
            Some(entry_token(&member, &event, slot_secs_left(&visit)).await?)
        }
        _ => None,
    };
    let body = visit_body(&visit, caller.queue.rate_per_sec, token.as_deref());
    Ok(json(200, &body))
}

async fn heartbeat(req: &Request, id: &str) -> Result<Response> {
    let event = event_id(Some(id))?;
    let caller = caller(req).await?;
    let visit = caller
        .visit(
            &event,
            &caller.member(),
            Mode::Status,
            &JoinFacts::default(),
        )
        .await?;
    Ok(json(200, &heartbeat_body(&visit)))
}

/// The body (a beacon's `text/plain`, or nothing) is never read: the path says everything.
async fn leave(req: &Request, id: &str) -> Result<Response> {
    let event = event_id(Some(id))?;
    let caller = caller(req).await?;
    let keys = caller.keys(&event);
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

async fn admin(req: &Request, id: &str) -> Result<Response> {
    let event = event_id(Some(id))?;
    let caller = caller(req).await?;
    require_admin(&caller)?;
    // A visit by nobody: the counts after expiry, stale drop and lazy admission.
    let visit = caller
        .visit(&event, "", Mode::Status, &JoinFacts::default())
        .await?;
    Ok(json(200, &admin_body(event.as_str(), &visit)))
}

async fn clear(req: &Request, id: &str) -> Result<Response> {
    let event = event_id(Some(id))?;
    let caller = caller(req).await?;
    require_admin(&caller)?;
    // One DEL of keys sharing one hash tag: atomic, and the threshold (configuration) stays.
    caller
        .redis
        .del(caller.keys(&event).cleared())
        .await
        .map_err(redis_down)?;
    eprintln!(
        "queue of event {event} cleared by admin {}",
        caller.user.user_id
    );
    Ok(json(200, &json!({"message": "Queue cleared"})))
}

async fn threshold(req: &Request, id: &str) -> Result<Response> {
    let event = event_id(Some(id))?;
    let caller = caller(req).await?;
    require_admin(&caller)?;
    let threshold = parse_threshold(req.uri().query().unwrap_or(""))?;
    caller
        .redis
        .set(&caller.keys(&event).threshold, threshold.to_string())
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
