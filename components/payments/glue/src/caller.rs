//! Who is calling: the authenticated user, the CSRF origin rule for cookie-authenticated writes,
//! and the shared GCRA limiter. Pay may proceed on Postgres alone (Postgres decides), so when
//! Redis is down the limiter and the revocation deny-list are skipped rather than failing closed.

use crate::PaySettings;
use spin_sdk::http::Request;
use spin_sdk::redis::Connection;
use urr_auth_session::limits::decide;
use urr_auth_session::request::check_origin;
use urr_auth_session::store::open_redis;
use urr_auth_session::user::{Access, require_user};
use urr_component::{ApiError, Result};
use urr_ratelimit::{Category, Decision, Identity};
use urr_tokens::{AccessUser, CredentialSource};

pub struct Caller {
    pub user: AccessUser,
    pub redis: Option<Connection>,
}

/// The verified user of `req`, charged one request of `category`. Writes also pass the origin
/// rule when the credential is a cookie.
pub async fn caller(req: &Request, settings: &PaySettings, category: Category) -> Result<Caller> {
    let redis = open_redis().await.ok();
    // Access::Read: with Redis down the token's own word stands (30-minute tokens), so a buyer
    // can still pay; a revoked family is refused whenever Redis answers.
    let who = require_user(
        req.headers(),
        &settings.session,
        redis.as_ref(),
        Access::Read,
    )
    .await?;
    if req.method() != spin_sdk::http::Method::GET {
        check_origin(
            req,
            &settings.session,
            who.source == CredentialSource::Cookie,
        )?;
    }
    if let Some(conn) = redis.as_ref() {
        let identity = Identity::User(who.user.user_id.clone());
        let key = urr_ratelimit::limiter_key(&settings.session.key_prefix, category, &identity);
        match decide(conn, key, settings.session.limits.quota(category), true).await {
            Ok(Decision::Allowed { .. }) => {}
            Ok(limited) => {
                return Err(ApiError {
                    retry_after_secs: Some(limited.retry_after_secs().unwrap_or(1)),
                    ..ApiError::new(429, "rate_limited", "Too many requests; try again later")
                });
            }
            Err(e) => eprintln!("rate limiter unavailable, passing: {}", e.0),
        }
    }
    Ok(Caller {
        user: who.user,
        redis,
    })
}
