//! Component `auth-refresh`: `POST /auth/refresh` (under `/api/v1` and `/api`), one of the hot
//! endpoints, so it is its own component.
//!
//! The presented refresh token (cookie, or `{refreshToken}` from API clients) goes to ONE SQL
//! function, `auth_rotate_refresh`, which decides under a row lock: rotate (spend → child), replay
//! inside the grace window (the same child again), or reuse (revoke the whole family). On reuse the
//! family id is deny-listed in Redis so its live access tokens die too. Redis down → 503: refresh
//! fails closed.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use spin_sdk::pg::ParameterValue;
use urr_auth::refresh::{RefreshToken, Rotation, parse_grace_ms};
use urr_auth::route::parse_refresh;
use urr_auth::{AuthError, input::parse_refresh_body, sql};
use urr_auth_session::limits::charge;
use urr_auth_session::request::wants_tokens_in_body;
use urr_auth_session::respond::{Framing, clearing, issue_from_row};
use urr_auth_session::settings::signing_key;
use urr_auth_session::store::STORE;
use urr_component::Settings;
use urr_component::pg::{column, optional};
use urr_component::request::{body, check_origin, client_ip, route as api_route};
use urr_component::store::{open_redis, run_script};
use urr_component::{ApiError, Response, Result, respond, route_refused, variable};
use urr_ratelimit::Identity;

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    if let Err(refusal) = parse_refresh(req.method().as_str(), &api_route(&req)) {
        return route_refused(refusal);
    }
    match refresh(req).await {
        // Any refusal ends the browser's session: stale cookies would only retry and fail.
        Err(e) if e.status == 401 => clearing(urr_component::error(&e)),
        other => respond(other),
    }
}

fn refused(reason: &'static str) -> ApiError {
    AuthError::RefreshRefused(reason).into()
}

async fn refresh(req: Request) -> Result<Response> {
    let settings = Settings::load().await?;
    let cookie = urr_tokens::refresh_cookie(req.headers());
    check_origin(&req, &settings, cookie.is_some())?;
    let redis = open_redis().await?;
    charge(&redis, &settings, &Identity::Ip(client_ip(&req, &settings))).await?;
    let in_body = wants_tokens_in_body(&req);
    let grace_ms = parse_grace_ms(&variable("refresh_grace_ms").await?).ok_or_else(|| {
        eprintln!("variable `refresh_grace_ms` is invalid");
        ApiError::internal()
    })?;
    let presented = parse_refresh_body(&body(req).await?)?
        .or(cookie)
        .ok_or_else(|| refused("missing"))?;
    let presented = RefreshToken::parse(&presented).ok_or_else(|| refused("malformed"))?;
    let key = signing_key().await?;

    let child = RefreshToken::generate().map_err(|e| {
        eprintln!("random source failed: {e}");
        ApiError::internal()
    })?;
    let found = STORE
        .query(
            sql::ROTATE,
            vec![
                presented.hash().into(),
                child.hash().into(),
                presented.wrap_child(&child).into(),
                ParameterValue::Int32(i32::try_from(grace_ms).unwrap_or(i32::MAX)),
                ParameterValue::Int32(
                    i32::try_from(urr_tokens::REFRESH_TTL_SECS).unwrap_or(i32::MAX),
                ),
            ],
        )
        .await?;
    let row = found.first().ok_or_else(ApiError::internal)?;
    let outcome =
        Rotation::parse(&column::<String>(row, "outcome")?).ok_or_else(ApiError::internal)?;
    if outcome == Rotation::Reused {
        deny_family(
            &redis,
            &settings,
            &column::<String>(row, "user_id")?,
            &column::<String>(row, "family_id")?,
        )
        .await;
    }
    if !outcome.issues_tokens() {
        eprintln!("refresh refused: {}", outcome.refusal());
        return Err(refused(outcome.refusal()));
    }
    // Rotated: our fresh child. Replayed: the child issued moments ago, unwrapped with the token.
    let issued = match outcome {
        Rotation::Replayed => optional::<Vec<u8>>(row, "child_wrapped")
            .ok()
            .flatten()
            .and_then(|w| presented.unwrap_child(&w))
            .ok_or_else(ApiError::internal)?,
        _ => child,
    };
    let framing = Framing {
        status: 200,
        message: "Token refreshed",
        tokens_in_body: in_body,
    };
    issue_from_row(&key, row, &issued.encode(), framing)
}

/// Deny-lists a reused family's access tokens. The family is already revoked in Postgres; if Redis
/// fails here its access tokens live out their 30 minutes, so it is logged loudly.
async fn deny_family(
    redis: &spin_sdk::redis::Connection,
    settings: &Settings,
    user_id: &str,
    family_id: &str,
) {
    let key = urr_tokens::deny_family_key(&settings.key_prefix, user_id, family_id);
    let ttl = i64::try_from(urr_tokens::DENY_TTL_SECS).unwrap_or(i64::MAX);
    if let Err(e) = run_script(
        redis,
        urr_tokens::DENY_FAMILIES_SCRIPT,
        urr_tokens::DENY_FAMILIES_SCRIPT_SHA1,
        &[key],
        &[ttl],
    )
    .await
    {
        eprintln!(
            "refresh reuse: deny-listing family {family_id} failed: {}",
            e.0
        );
    } else {
        eprintln!("refresh reuse: family {family_id} revoked and deny-listed");
    }
}
