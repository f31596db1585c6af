//! `GET /seats/events/{eventId}`: the seat map, from its shared copy in Redis
//! (`urr_booking::seat_map`: at most about a second old, gzip-compressed, with an ETag). One
//! request per event rebuilds the copy from Postgres when it is stale, holding a short lease;
//! the others serve the stale copy meanwhile. Without Redis, every request reads Postgres, as
//! before the copy existed.

use spin_sdk::http::Request;
use spin_sdk::pg::ParameterValue;
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use urr_booking::seat_map::{self, Representation, SharedSeatMap};
use urr_booking::{EntityId, keys, sql};
use urr_booking_glue::{Handled, Refusal, store};
use urr_component::pg::uuid;
use urr_component::{ApiError, Body, Response};

/// The seat map of `event` for a caller the waiting room has admitted.
pub async fn serve(
    req: &Request,
    event: &EntityId,
    redis: Option<&Connection>,
    prefix: &str,
) -> Handled {
    let now = now_ms();
    let copy = match redis {
        Some(redis) => shared_copy(redis, prefix, event, now).await?,
        None => build(event, now).await?,
    };
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let (form, etag) = seat_map::representation(
        &copy,
        header(http::header::IF_NONE_MATCH),
        header(http::header::ACCEPT_ENCODING),
    );
    let mut response = match form {
        Representation::NotModified => {
            let mut response = http::Response::new(Body::default());
            *response.status_mut() = http::StatusCode::NOT_MODIFIED;
            response
        }
        Representation::Gzip => {
            let mut response = json_typed(Body::from(copy.gzip));
            response.headers_mut().insert(
                http::header::CONTENT_ENCODING,
                http::HeaderValue::from_static("gzip"),
            );
            response
        }
        Representation::Identity => {
            let json = copy.json().ok_or_else(|| {
                eprintln!("seat map: the shared copy of {event} does not inflate");
                ApiError::internal()
            })?;
            json_typed(Body::from(json))
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static(seat_map::CACHE_CONTROL),
    );
    headers.insert(
        http::header::VARY,
        http::HeaderValue::from_static("Accept-Encoding"),
    );
    if let Ok(value) = http::HeaderValue::from_str(&etag) {
        headers.insert(http::header::ETAG, value);
    }
    Ok(response)
}

/// The fresh copy, or a new one built under the lease, or the stale one while another request
/// holds the lease. A Redis failure past the first read only costs the next reader a rebuild.
async fn shared_copy(
    redis: &Connection,
    prefix: &str,
    event: &EntityId,
    now: u64,
) -> Result<SharedSeatMap, Refusal> {
    let key = keys::seat_map_key(prefix, event);
    let stale = match redis.get(&key).await {
        Ok(Some(bytes)) => SharedSeatMap::decode(&bytes),
        Ok(None) => None,
        Err(e) => {
            eprintln!("seat map: reading the shared copy failed: {e:?}");
            return build(event, now).await;
        }
    };
    let stale = match stale {
        Some(copy) if copy.is_fresh(now) => return Ok(copy),
        other => other,
    };
    let lease = keys::seat_map_lease_key(prefix, event);
    let leased = set_px(redis, &lease, b"1", seat_map::LEASE_MS, true).await;
    if let (false, Some(stale)) = (leased, stale) {
        return Ok(stale);
    }
    let copy = build(event, now).await?;
    set_px(redis, &key, &copy.encode(), seat_map::KEEP_MS, false).await;
    if leased {
        let _ = redis.del(&[lease.as_str()]).await;
    }
    Ok(copy)
}

/// `SET key value PX ms [NX]`; whether Redis stored it.
async fn set_px(redis: &Connection, key: &str, value: &[u8], ms: u64, only_new: bool) -> bool {
    let mut args = vec![
        RedisParameter::Binary(key.as_bytes().to_vec()),
        RedisParameter::Binary(value.to_vec()),
        RedisParameter::Binary(b"PX".to_vec()),
        RedisParameter::Int64(i64::try_from(ms).unwrap_or(i64::MAX)),
    ];
    if only_new {
        args.push(RedisParameter::Binary(b"NX".to_vec()));
    }
    match redis.execute("SET", args).await {
        Ok(reply) => !reply.is_empty() && !matches!(reply.first(), Some(RedisResult::Nil)),
        Err(e) => {
            eprintln!("seat map: SET failed: {e:?}");
            false
        }
    }
}

/// The map as Postgres builds it now; 404 for an unknown event.
async fn build(event: &EntityId, now: u64) -> Result<SharedSeatMap, Refusal> {
    let rows = store::STORE
        .query(
            sql::SEAT_MAP,
            vec![
                uuid(event.as_str()),
                ParameterValue::Int32(sql::SEAT_MAP_LIMIT),
            ],
        )
        .await?;
    let json = store::json_text(&rows).ok_or_else(ApiError::not_found)?;
    Ok(SharedSeatMap::build(&json, now))
}

fn json_typed(body: Body) -> Response {
    let mut response = http::Response::new(body);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
