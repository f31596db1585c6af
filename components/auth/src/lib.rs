//! Component `auth`: `/auth/register`, `/auth/login`, `/auth/google`, `/auth/logout`,
//! `/auth/me`, `/auth/verify-token` (under `/api/v1` and `/api`). Refresh is its own component
//! (`auth-refresh`), as one of the hot endpoints.
//!
//! Every route has one shape: settings → origin rule → rate limit → parse → one SQL statement or
//! function → response. Register, login (and refresh) fail closed when Redis is down: without the
//! limiter they would be an open door for guessing.

mod google;

use spin_sdk::http::Request;
use spin_sdk::http_service;
use spin_sdk::pg::ParameterValue;
use urr_auth::input::{parse_login, parse_registration, parse_verify_token};
use urr_auth::password::{SALT_BYTES, hash_password, verify_password};
use urr_auth::refresh::RefreshToken;
use urr_auth::route::Route;
use urr_auth::{AuthError, sql};
use urr_auth_session::limits::{charge, charge_or_pass, give_back};
use urr_auth_session::request::wants_tokens_in_body;
use urr_auth_session::respond::{Framing, clearing, issue_from_row, user_object};
use urr_auth_session::settings::signing_key;
use urr_auth_session::store::STORE;
use urr_component::caller::{authenticate, require_user};
use urr_component::pg::{column, json, null, uuid};
use urr_component::ratelimit::decide;
use urr_component::request::{body, check_origin, client_ip, route as api_route};
use urr_component::store::{RedisDown, open_redis, run_script};
use urr_component::{Access, ApiError, Response, Result, Settings, respond, route_refused};
use urr_ratelimit::{Decision, Identity};

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    let route = match Route::parse(req.method().as_str(), &api_route(&req)) {
        Ok(route) => route,
        Err(refusal) => return route_refused(refusal),
    };
    respond(match route {
        Route::Register => register(req).await,
        Route::Login => login(req).await,
        Route::Google => google::sign_in(req).await,
        Route::Logout => logout(req).await,
        Route::Me => me(req).await,
        Route::VerifyToken => verify_token(req).await,
    })
}

fn ttl_param(secs: u64) -> ParameterValue {
    ParameterValue::Int32(i32::try_from(secs).unwrap_or(i32::MAX))
}

fn new_refresh_token() -> Result<RefreshToken> {
    RefreshToken::generate().map_err(|e| {
        eprintln!("random source failed: {e}");
        ApiError::internal()
    })
}

async fn register(req: Request) -> Result<Response> {
    let settings = Settings::load().await?;
    check_origin(&req, &settings, false)?;
    let redis = open_redis().await?;
    charge(&redis, &settings, &Identity::Ip(client_ip(&req, &settings))).await?;
    let in_body = wants_tokens_in_body(&req);
    let registration = parse_registration(&body(req).await?)?;
    let key = signing_key().await?;

    let salt: [u8; SALT_BYTES] = urr_tokens::random_bytes().map_err(|e| {
        eprintln!("random source failed: {e}");
        ApiError::internal()
    })?;
    let phc = hash_password(registration.password.expose(), &salt).map_err(|e| {
        eprintln!("hashing failed: {e}");
        ApiError::internal()
    })?;
    let refresh = new_refresh_token()?;
    let found = STORE
        .query(
            sql::REGISTER,
            vec![
                registration.email.as_str().to_string().into(),
                phc.into(),
                registration.name.into(),
                registration.phone.map_or_else(null, Into::into),
                refresh.hash().into(),
                ttl_param(urr_tokens::REFRESH_TTL_SECS),
            ],
        )
        .await?;
    let row = found.first().ok_or_else(ApiError::internal)?;
    if column::<String>(row, "outcome")? != "created" {
        return Err(AuthError::EmailTaken.into());
    }
    let framing = Framing {
        status: 201,
        message: "Registration successful",
        tokens_in_body: in_body,
    };
    issue_from_row(&key, row, &refresh.encode(), framing)
}

async fn login(req: Request) -> Result<Response> {
    let settings = Settings::load().await?;
    check_origin(&req, &settings, false)?;
    let redis = open_redis().await?;
    charge(&redis, &settings, &Identity::Ip(client_ip(&req, &settings))).await?;
    let in_body = wants_tokens_in_body(&req);
    let attempt = parse_login(&body(req).await?)?;
    let key = signing_key().await?;

    // Per-account throttle: every attempt is charged before the expensive check, in one atomic
    // step, so attempts sent at once cost as much as attempts sent one by one. Only a wrong
    // password keeps its charge.
    let throttle_key = urr_auth::throttle::login_failure_key(&settings.key_prefix, &attempt.email);
    let quota = urr_auth::throttle::login_failure_quota();
    if let limited @ Decision::Limited { .. } =
        decide(&redis, throttle_key.clone(), quota, true).await?
    {
        return Err(AuthError::AccountThrottled {
            retry_after_secs: limited
                .retry_after_secs()
                .unwrap_or(urr_component::ratelimit::MIN_RETRY_AFTER_SECS),
        }
        .into());
    }
    let checked = check_password(&attempt).await;
    if !matches!(checked, Ok(None)) {
        give_back(&redis, throttle_key, quota).await;
    }
    let Some(user_id) = checked? else {
        return Err(AuthError::InvalidCredentials.into());
    };
    let refresh = new_refresh_token()?;
    let started = STORE
        .query(
            sql::START_SESSION,
            vec![
                uuid(&user_id),
                refresh.hash().into(),
                ttl_param(urr_tokens::REFRESH_TTL_SECS),
            ],
        )
        .await?;
    let row = started.first().ok_or_else(ApiError::internal)?;
    if column::<String>(row, "outcome")? != "started" {
        return Err(AuthError::InvalidCredentials.into());
    }
    let framing = Framing {
        status: 200,
        message: "Login successful",
        tokens_in_body: in_body,
    };
    issue_from_row(&key, row, &refresh.encode(), framing)
}

/// The account's id when `attempt`'s password is right, `None` when it is wrong or the account
/// does not exist (the same Argon2id work against the dummy hash, the same answer).
async fn check_password(attempt: &urr_auth::input::Login) -> Result<Option<String>> {
    let found = STORE
        .query(sql::FIND_LOGIN, vec![attempt.email.clone().into()])
        .await?;
    let account = found.first();
    let stored = account.and_then(|r| r.get::<String>("password_hash"));
    if !verify_password(&attempt.password, stored.as_deref()) {
        return Ok(None);
    }
    account
        .map(|r| column::<String>(r, "id"))
        .transpose()?
        .ok_or_else(ApiError::internal)
        .map(Some)
}

/// Revokes this session's family (`?all=true`: every family of the user), deny-lists the ones
/// whose access tokens may still be alive, and clears the cookies. Always 200: a client that is
/// already logged out is logged out.
async fn logout(req: Request) -> Result<Response> {
    let settings = Settings::load().await?;
    let all = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "all=true" || p == "all=1"));
    let redis = open_redis().await.ok();
    let who = match authenticate(req.headers(), &settings, redis.as_ref(), Access::Read).await {
        Ok(who) => who,
        Err(e) if e.status == 401 => None,
        Err(e) => return Err(e),
    };
    let cookie_authenticated = who
        .as_ref()
        .is_some_and(|a| a.source == urr_tokens::CredentialSource::Cookie)
        || urr_tokens::refresh_cookie(req.headers()).is_some();
    check_origin(&req, &settings, cookie_authenticated)?;
    let identity = who.as_ref().map_or_else(
        || Identity::Ip(client_ip(&req, &settings)),
        |a| Identity::User(a.user.user_id.clone()),
    );
    charge_or_pass(redis.as_ref(), &settings, &identity).await?;

    if let Some(who) = who {
        let revoked = STORE
            .query(
                sql::LOGOUT,
                vec![
                    uuid(&who.user.user_id),
                    uuid(&who.user.family_id),
                    all.into(),
                    ttl_param(urr_tokens::DENY_TTL_SECS),
                    sql::MAX_DENY_FAMILIES.into(),
                ],
            )
            .await?;
        let keys: Vec<String> = revoked
            .iter()
            .filter_map(|r| r.get::<String>("family_id"))
            .map(|fid| urr_tokens::deny_family_key(&settings.key_prefix, &who.user.user_id, &fid))
            .collect();
        if let (Some(conn), false) = (redis.as_ref(), keys.is_empty()) {
            let ttl = i64::try_from(urr_tokens::DENY_TTL_SECS).unwrap_or(i64::MAX);
            if let Err(RedisDown(e)) = run_script(
                conn,
                urr_tokens::DENY_FAMILIES_SCRIPT,
                urr_tokens::DENY_FAMILIES_SCRIPT_SHA1,
                &keys,
                &[ttl],
            )
            .await
            {
                // The families are revoked in Postgres: refresh is closed. Their access tokens
                // live out their 30 minutes; say so in the log.
                eprintln!("logout: deny-listing {} families failed: {e}", keys.len());
            }
        }
    }
    Ok(clearing(urr_component::json(
        200,
        &serde_json::json!({ "message": "Logged out successfully" }),
    )))
}

async fn me(req: Request) -> Result<Response> {
    let settings = Settings::load().await?;
    let redis = open_redis().await.ok();
    let who = require_user(req.headers(), &settings, redis.as_ref(), Access::Read).await;
    // Charged per user, else per IP: a flood of bad tokens is limited like anything else.
    let identity = who.as_ref().map_or_else(
        |_| Identity::Ip(client_ip(&req, &settings)),
        |a| Identity::User(a.user.user_id.clone()),
    );
    charge_or_pass(redis.as_ref(), &settings, &identity).await?;
    let who = who?;
    let found = STORE.query(sql::ME, vec![uuid(&who.user.user_id)]).await?;
    let row = found
        .first()
        .ok_or_else(|| ApiError::from(AuthError::Unauthenticated))?;
    Ok(urr_component::json(
        200,
        &serde_json::json!({ "user": json(row, "user_json")? }),
    ))
}

/// `{token}` → `{valid, user}`: the same verification every component does, deny-list included.
async fn verify_token(req: Request) -> Result<Response> {
    let settings = Settings::load().await?;
    check_origin(&req, &settings, false)?;
    let redis = open_redis().await.ok();
    charge_or_pass(
        redis.as_ref(),
        &settings,
        &Identity::Ip(client_ip(&req, &settings)),
    )
    .await?;
    let token = parse_verify_token(&body(req).await?)?;
    let mut headers = http::HeaderMap::new();
    if let Ok(value) = format!("Bearer {token}").parse() {
        headers.insert(http::header::AUTHORIZATION, value);
    }
    let verdict = match require_user(&headers, &settings, redis.as_ref(), Access::Read).await {
        Ok(who) => serde_json::json!({
            "valid": true,
            "user": user_object(serde_json::json!({
                "id": who.user.user_id,
                "email": who.user.email,
                "role": who.user.role.as_str(),
            })),
        }),
        Err(e) if e.status == 401 => serde_json::json!({ "valid": false, "user": null }),
        Err(e) => return Err(e),
    };
    Ok(urr_component::json(200, &verdict))
}
