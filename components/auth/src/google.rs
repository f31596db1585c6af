//! `POST /auth/google`: sign in with a Google ID token. The same shape as login: settings →
//! origin rule → auth rate limit (fail closed) → parse → verify → one SQL function → the
//! session response login issues. Verification is local (`urr_auth::google`); the only outbound
//! call is the key set, cached in Redis for its `max-age`.

use crate::{new_refresh_token, ttl_param};
use spin_sdk::http::body::IncomingBodyExt as _;
use spin_sdk::http::{EmptyBody, Request};
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use urr_auth::google::keys::{
    JWKS_FETCH_TIMEOUT_MS, MAX_JWKS_BYTES, UNKNOWN_KID_REFETCH_SECS, cache_key,
    cache_lifetime_secs, plan, refetch_guard_key,
};
use urr_auth::google::{GoogleKeys, GoogleSettings, KeysPlan, UnverifiedIdToken, parse_sign_in};
use urr_auth::{AuthError, sql};
use urr_auth_session::limits::charge;
use urr_auth_session::request::wants_tokens_in_body;
use urr_auth_session::respond::{Framing, issue_from_row};
use urr_auth_session::settings::signing_key;
use urr_auth_session::store::STORE;
use urr_component::caller::misconfigured;
use urr_component::pg::{column, optional_text};
use urr_component::request::{body, check_origin, client_ip};
use urr_component::store::{RedisDown, open_redis};
use urr_component::{ApiError, Response, Result, Settings, variable};
use urr_ratelimit::Identity;

/// Seconds a client waits before retrying when Google's keys cannot be fetched.
const KEYS_RETRY_AFTER_SECS: u32 = 5;

pub async fn sign_in(req: Request) -> Result<Response> {
    let google = google_settings().await?;
    let settings = Settings::load().await?;
    check_origin(&req, &settings, false)?;
    let redis = open_redis().await?;
    charge(&redis, &settings, &Identity::Ip(client_ip(&req, &settings))).await?;
    let in_body = wants_tokens_in_body(&req);
    let credential = parse_sign_in(&body(req).await?)?;
    let token = UnverifiedIdToken::decode(&credential)?;
    let keys = keys_for(&redis, &settings.key_prefix, &google.jwks_url, token.kid()).await?;
    let who = token.verify(&keys, &google.client_id, now_secs())?;
    let key = signing_key().await?;

    let refresh = new_refresh_token()?;
    let row = STORE
        .one(
            sql::GOOGLE_SIGN_IN,
            vec![
                who.sub.clone().into(),
                who.email.as_str().to_string().into(),
                who.name.clone().into(),
                optional_text(who.picture.as_deref()),
                refresh.hash().into(),
                ttl_param(urr_tokens::REFRESH_TTL_SECS),
            ],
        )
        .await?;
    if column::<String>(&row, "outcome")? == "mismatch" {
        return Err(AuthError::GoogleAccountMismatch.into());
    }
    let framing = Framing {
        status: 200,
        message: "Google login successful",
        tokens_in_body: in_body,
    };
    issue_from_row(&key, &row, &refresh.encode(), framing)
}

/// The client id and key-set URL; 501 when no client id is configured.
async fn google_settings() -> Result<GoogleSettings> {
    let client_id = variable("google_client_id").await?;
    let jwks_url = variable("google_jwks_url").await?;
    GoogleSettings::parse(&client_id, &jwks_url)
        .map_err(|e| misconfigured("google_client_id", e))?
        .ok_or_else(|| AuthError::GoogleNotConfigured.into())
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The key set to verify a token naming `kid`: the cached one, else a fetch; for a `kid` the
/// cached set lacks, one refetch per interval for the whole deployment, else the token is
/// refused (a forged `kid` must not make us hammer Google).
async fn keys_for(redis: &Connection, prefix: &str, url: &str, kid: &str) -> Result<GoogleKeys> {
    let cache = cache_key(prefix, url);
    let cached = match redis.get(&cache).await {
        Ok(Some(raw)) => GoogleKeys::parse(&raw)
            .inspect_err(|e| eprintln!("google keys: ignoring the cached set: {e}"))
            .ok(),
        Ok(None) => None,
        Err(e) => return Err(RedisDown(format!("{e:?}")).into()),
    };
    match (plan(cached.as_ref(), kid), cached) {
        (KeysPlan::Use, Some(keys)) => Ok(keys),
        (KeysPlan::RefetchIfDue, _) if !refetch_is_due(redis, prefix, url).await? => {
            Err(AuthError::InvalidGoogleToken("unknown key, refetched recently").into())
        }
        _ => fetch_and_cache(redis, &cache, url).await,
    }
}

/// Claims the deployment-wide refetch slot (`SET NX PX`); false when another request holds it.
async fn refetch_is_due(redis: &Connection, prefix: &str, url: &str) -> Result<bool> {
    let guard = refetch_guard_key(prefix, url);
    let reply = redis
        .execute(
            "SET",
            vec![
                RedisParameter::Binary(guard.into_bytes()),
                RedisParameter::Binary(b"1".to_vec()),
                RedisParameter::Binary(b"NX".to_vec()),
                RedisParameter::Binary(b"PX".to_vec()),
                RedisParameter::Int64((UNKNOWN_KID_REFETCH_SECS * 1000) as i64),
            ],
        )
        .await
        .map_err(|e| RedisDown(format!("{e:?}")))?;
    Ok(matches!(reply.first(), Some(RedisResult::Status(s)) if s == "OK"))
}

/// Fetches the key set, caches it for its `max-age` (bounded), and returns it. Any failure is a
/// 503: sign-in cannot be judged without the keys.
async fn fetch_and_cache(redis: &Connection, cache: &str, url: &str) -> Result<GoogleKeys> {
    let (raw, cache_control) = fetch(url).await.map_err(|e| {
        eprintln!("google keys: fetching {url} failed: {e}");
        ApiError::unavailable(
            "google_keys_unavailable",
            "Google sign-in is temporarily unavailable",
            KEYS_RETRY_AFTER_SECS,
        )
    })?;
    let keys = GoogleKeys::parse(&raw).map_err(|e| {
        eprintln!("google keys: {url} sent an unusable set: {e}");
        ApiError::unavailable(
            "google_keys_unavailable",
            "Google sign-in is temporarily unavailable",
            KEYS_RETRY_AFTER_SECS,
        )
    })?;
    let lifetime_ms = cache_lifetime_secs(cache_control.as_deref()) * 1000;
    // A failed cache write only costs the next sign-in another fetch.
    if let Err(e) = redis
        .execute(
            "SET",
            vec![
                RedisParameter::Binary(cache.as_bytes().to_vec()),
                RedisParameter::Binary(raw),
                RedisParameter::Binary(b"PX".to_vec()),
                RedisParameter::Int64(i64::try_from(lifetime_ms).unwrap_or(i64::MAX)),
            ],
        )
        .await
    {
        eprintln!("google keys: caching the set failed: {e:?}");
    }
    Ok(keys)
}

/// GET `url` within [`JWKS_FETCH_TIMEOUT_MS`]: the body (200 only) and its `Cache-Control`.
async fn fetch(url: &str) -> std::result::Result<(Vec<u8>, Option<String>), String> {
    let request = http::Request::builder()
        .method(spin_sdk::http::Method::GET)
        .uri(url)
        .header("accept", "application/json")
        .body(EmptyBody::new())
        .map_err(|e| e.to_string())?;
    let exchange = std::pin::pin!(async {
        let response = spin_sdk::http::send(request)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let status = response.status().as_u16();
        let cache_control = response
            .headers()
            .get(http::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .into_body()
            .bytes()
            .await
            .map_err(|e| format!("{e:?}"))?;
        match (status, body.len()) {
            (200, len) if len <= MAX_JWKS_BYTES => Ok((body.to_vec(), cache_control)),
            (200, len) => Err(format!("{len}-byte key set")),
            (other, _) => Err(format!("status {other}")),
        }
    });
    let timer = std::pin::pin!(spin_sdk::time::sleep(std::time::Duration::from_millis(
        u64::from(JWKS_FETCH_TIMEOUT_MS)
    )));
    match futures::future::select(exchange, timer).await {
        futures::future::Either::Left((result, _)) => result,
        futures::future::Either::Right(((), _)) => Err("timed out".into()),
    }
}
