//! Who is calling, in one pipeline every signed-in route goes through: the caller's settings,
//! Redis as the route needs it, the user from a verified access token (refused when its session
//! family is revoked), the CSRF origin rule, and one charge to the shared GCRA limiter.
//!
//! ```ignore
//! let caller = Caller::admit(&req, &settings, Access::Write, Category::Booking, RedisPolicy::Required).await?;
//! let request = HoldRequest::parse(&urr_component::request::body(req).await?)?;
//! ```
//!
//! Routes whose order of checks differs (admin refuses non-admins before it parses the route)
//! call the three stages, [`Caller::identify`], [`Caller::check_origin`] and [`Caller::charge`],
//! themselves.

use crate::ratelimit::{decide, refused};
use crate::store::{RedisDown, open_redis};
use crate::{ApiError, Result, STORE_RETRY_AFTER_SECS, variable};
use http::HeaderMap;
use spin_sdk::http::Request;
use spin_sdk::redis::Connection;
use urr_ratelimit::{Category, Decision, Identity, Limits};
use urr_tokens::{AccessUser, AllowedOrigins, CredentialSource, KeySet};

/// What every signed-in route reads from Spin variables (once per request: an instance serves
/// one request).
pub struct Settings {
    pub key_prefix: String,
    pub public_keys: KeySet,
    pub allowed_origins: AllowedOrigins,
    pub trusted_client_ip_header: Option<String>,
    pub limits: Limits,
}

/// A variable that is present but unreadable: a deployment mistake, 500, and the log says which.
pub fn misconfigured(name: &str, err: impl std::fmt::Display) -> ApiError {
    eprintln!("variable `{name}` is invalid: {err}");
    ApiError::internal()
}

impl Settings {
    pub async fn load() -> Result<Self> {
        let public_keys = KeySet::parse(&variable("jwt_public_keys").await?)
            .map_err(|e| misconfigured("jwt_public_keys", e))?;
        let limits = Limits::parse(&variable("rate_limits").await?)
            .map_err(|e| misconfigured("rate_limits", e))?;
        let header = variable("trusted_client_ip_header").await?;
        Ok(Self {
            key_prefix: variable("key_prefix").await?,
            public_keys,
            allowed_origins: AllowedOrigins::parse(&variable("allowed_origins").await?),
            trusted_client_ip_header: Some(header.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty()),
            limits,
        })
    }
}

/// Whether a store failure may be ignored for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The token's own word stands when Redis cannot say whether its session was revoked.
    Read,
    /// A token that might be revoked fails closed (503) when Redis cannot say.
    Write,
}

/// What a route does without Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisPolicy {
    /// Redis is the route's store (holds, the waiting room): without it, 503.
    Required,
    /// The route is correct without Redis: it goes on uncounted by the limiter (and the caller
    /// sees [`Caller::counted`] false, to charge elsewhere if it must).
    Optional,
}

/// A verified access token and where it came from.
pub struct Authenticated {
    pub user: AccessUser,
    pub source: CredentialSource,
}

/// The caller of a signed-in route, once admitted.
pub struct Caller {
    pub user: AccessUser,
    pub source: CredentialSource,
    /// Always `Some` under [`RedisPolicy::Required`]; `None` when Redis could not be opened.
    pub redis: Option<Connection>,
    /// Whether the limiter counted this request (false only under [`RedisPolicy::Optional`]
    /// when Redis could not answer).
    pub counted: bool,
    policy: RedisPolicy,
}

impl Caller {
    /// Redis as `policy` says → the user (401) → the origin rule (403) → one request of
    /// `category` charged to the user (429).
    pub async fn admit(
        req: &Request,
        settings: &Settings,
        access: Access,
        category: Category,
        policy: RedisPolicy,
    ) -> Result<Self> {
        let mut caller = Self::identify(req, settings, access, policy).await?;
        caller.check_origin(req, settings)?;
        caller.charge(settings, category).await?;
        Ok(caller)
    }

    /// Redis as `policy` says, then the verified user (401 without one).
    pub async fn identify(
        req: &Request,
        settings: &Settings,
        access: Access,
        policy: RedisPolicy,
    ) -> Result<Self> {
        let redis = match policy {
            RedisPolicy::Required => Some(open_redis().await?),
            RedisPolicy::Optional => open_redis().await.ok(),
        };
        let who = require_user(req.headers(), settings, redis.as_ref(), access).await?;
        Ok(Self {
            user: who.user,
            source: who.source,
            redis,
            counted: false,
            policy,
        })
    }

    /// The CSRF origin rule, strict when the credential is a cookie (403 when refused).
    pub fn check_origin(&self, req: &Request, settings: &Settings) -> Result<()> {
        crate::request::check_origin(req, settings, self.source == CredentialSource::Cookie)
    }

    /// Charges one request of `category` to the user: 429 over the quota. When Redis cannot
    /// answer, a [`RedisPolicy::Required`] route fails closed (503) and an optional one goes on
    /// uncounted.
    pub async fn charge(&mut self, settings: &Settings, category: Category) -> Result<()> {
        let decision = match self.redis.as_ref() {
            Some(conn) => {
                let identity = Identity::User(self.user.user_id.clone());
                let key = urr_ratelimit::limiter_key(&settings.key_prefix, category, &identity);
                decide(conn, key, settings.limits.quota(category), true).await
            }
            None => Err(RedisDown("no connection".into())),
        };
        match (decision, self.policy) {
            (Ok(Decision::Allowed { .. }), _) => {
                self.counted = true;
                Ok(())
            }
            (Ok(over), _) => Err(refused(over)),
            (Err(down), RedisPolicy::Required) => Err(down.into()),
            (Err(RedisDown(why)), RedisPolicy::Optional) => {
                eprintln!("rate limiter skipped, redis: {why}");
                Ok(())
            }
        }
    }

    /// The Redis connection of a [`RedisPolicy::Required`] caller (503 if there is none, which
    /// [`Caller::identify`] already refused).
    pub fn required_redis(&self) -> Result<&Connection> {
        self.redis
            .as_ref()
            .ok_or_else(|| RedisDown("no connection".into()).into())
    }
}

/// The verified user, or 401; `None` when the request carries no credential at all.
pub async fn authenticate(
    headers: &HeaderMap,
    settings: &Settings,
    redis: Option<&Connection>,
    access: Access,
) -> Result<Option<Authenticated>> {
    let Some(credential) = urr_tokens::find_credential(headers) else {
        return Ok(None);
    };
    let user =
        urr_tokens::verify_access(&settings.public_keys, &credential.token).map_err(|e| {
            eprintln!("access token refused: {e}");
            ApiError::unauthenticated()
        })?;
    check_not_revoked(&user, settings, redis, access).await?;
    Ok(Some(Authenticated {
        user,
        source: credential.source,
    }))
}

/// Like [`authenticate`], but no credential is a 401 too.
pub async fn require_user(
    headers: &HeaderMap,
    settings: &Settings,
    redis: Option<&Connection>,
    access: Access,
) -> Result<Authenticated> {
    authenticate(headers, settings, redis, access)
        .await?
        .ok_or_else(ApiError::unauthenticated)
}

/// The family deny-list: a token of a revoked session is a 401 `session_revoked`. When Redis
/// cannot say, a read goes on with the token's own word and a write fails closed (503).
async fn check_not_revoked(
    user: &AccessUser,
    settings: &Settings,
    redis: Option<&Connection>,
    access: Access,
) -> Result<()> {
    let unavailable = || {
        ApiError::unavailable(
            "redis_unavailable",
            "A data store is temporarily unavailable",
            STORE_RETRY_AFTER_SECS,
        )
    };
    let Some(conn) = redis else {
        return match access {
            Access::Read => Ok(()),
            Access::Write => Err(unavailable()),
        };
    };
    let key = urr_tokens::deny_family_key(&settings.key_prefix, &user.user_id, &user.family_id);
    match conn.get(&key).await {
        Ok(None) => Ok(()),
        Ok(Some(_)) => {
            eprintln!("access token of revoked family {} refused", user.family_id);
            Err(ApiError::new(
                401,
                "session_revoked",
                "Session has been revoked",
            ))
        }
        Err(e) => {
            eprintln!("redis: deny-list check failed: {e:?}");
            match access {
                Access::Read => Ok(()),
                Access::Write => Err(unavailable()),
            }
        }
    }
}
