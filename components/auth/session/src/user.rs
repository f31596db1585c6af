//! The user a request speaks for: an access token from a Bearer header or cookie, verified with
//! the public key set, and refused when its refresh family has been revoked (the deny-list).
//!
//! When Redis cannot answer, a read goes on with the token's own word, but a write by a token that
//! might be revoked fails closed (503).

use crate::Settings;
use http::HeaderMap;
use spin_sdk::redis::Connection;
use urr_auth::AuthError;
use urr_component::{ApiError, Result, STORE_RETRY_AFTER_SECS};
use urr_tokens::{AccessUser, CredentialSource};

pub struct Authenticated {
    pub user: AccessUser,
    pub source: CredentialSource,
}

/// Whether a store failure may be ignored for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
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
            ApiError::from(AuthError::Unauthenticated)
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
        .ok_or_else(|| AuthError::Unauthenticated.into())
}

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
