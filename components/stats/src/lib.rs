//! Component `stats`: the admin statistics of URR's `/admin/statistics` page, the 14
//! `GET /stats/*` figures, as the read-only `urr_stats` database role.
//!
//! Every request has one shape: authenticate (401), require the admin role from the verified
//! access token (403), parse the route and its query (400 with a code per parameter), charge
//! the default rate limit, then ONE statement: the figure's read function
//! (migrations/20261208000022_stats.sql), whose JSON is the reply's `data` in URR's
//! `{success: true, data}` wrapper. Realtime adds the waiting room's active users from Redis.
//! Figures are never cached: every response carries `Cache-Control: no-store`.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use spin_sdk::pg::ParameterValue;
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use urr_component::pg::{Store, column, optional_text, text, uuid};
use urr_component::{
    Access, ApiError, Caller, RedisPolicy, Response, Result, Settings, route_refused,
};
use urr_ratelimit::Category;
use urr_stats_domain::query::{self, DEFAULT_DAYS, DEFAULT_HOURLY_DAYS, MAX_DAYS, MAX_HOURLY_DAYS};
use urr_stats_domain::{Route, StatsError, sql};
use urr_tokens::Role;

const STORE: Store = Store::new("stats");

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    let mut response = match stats(req).await {
        Ok(response) => response,
        Err(e) => urr_component::error(&e),
    };
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}

async fn stats(req: Request) -> Result<Response> {
    let settings = Settings::load().await?;
    // Identity first: an anonymous caller learns nothing about the route space. Reads only, so
    // the rate limit lets a request through when Redis cannot count it.
    let mut caller = Caller::identify(&req, &settings, Access::Read, RedisPolicy::Optional).await?;
    if caller.user.role != Role::Admin {
        return Err(StatsError::AdminRequired.into());
    }
    let path = urr_component::api_path(req.uri().path()).to_string();
    let route = match Route::parse(req.method().as_str(), &path) {
        Ok(route) => route,
        Err(refusal) => return Ok(route_refused(refusal)),
    };
    caller.charge(&settings, Category::Default).await?;
    let q = req.uri().query().unwrap_or("");
    let days = |default, max| query::days(q, default, max).map(days_param);
    let (statement, params) = match &route {
        Route::Overview => (sql::OVERVIEW, vec![]),
        Route::Daily => (sql::DAILY, vec![days(DEFAULT_DAYS, MAX_DAYS)?]),
        Route::Events => {
            let limit = days_param(query::event_limit(q)?);
            (sql::EVENTS, vec![limit, text(query::sort_by(q)?.as_str())])
        }
        Route::Event(id) => (sql::EVENT, vec![uuid(id)]),
        Route::Payments => (sql::PAYMENTS, vec![]),
        Route::Revenue => {
            let period = text(query::period(q)?.as_str());
            (sql::REVENUE, vec![period, days(DEFAULT_DAYS, MAX_DAYS)?])
        }
        Route::Users => (sql::USERS, vec![days(DEFAULT_DAYS, MAX_DAYS)?]),
        Route::HourlyTraffic => (
            sql::HOURLY_TRAFFIC,
            vec![days(DEFAULT_HOURLY_DAYS, MAX_HOURLY_DAYS)?],
        ),
        Route::Conversion => (sql::CONVERSION, vec![days(DEFAULT_DAYS, MAX_DAYS)?]),
        Route::Cancellations => (sql::CANCELLATIONS, vec![days(DEFAULT_DAYS, MAX_DAYS)?]),
        Route::Realtime => (sql::REALTIME, vec![]),
        Route::Performance => (sql::PERFORMANCE, vec![]),
        Route::SeatPreferences => (
            sql::SEAT_PREFERENCES,
            vec![optional_text(query::event_id(q)?.as_deref())],
        ),
        Route::UserBehavior => (sql::USER_BEHAVIOR, vec![days(DEFAULT_DAYS, MAX_DAYS)?]),
    };
    let mut data = figure(statement, params).await?;
    if route == Route::Realtime {
        let active = match caller.redis.as_ref() {
            Some(conn) => active_users(conn, &settings.key_prefix).await?,
            None => None,
        };
        data["current"]["active_users"] = active.into();
    }
    Ok(urr_component::json(
        200,
        &serde_json::json!({"success": true, "data": data}),
    ))
}

/// Day counts and limits are bounded far below `i32::MAX` by the query rules.
fn days_param(n: i64) -> ParameterValue {
    ParameterValue::Int32(i32::try_from(n).unwrap_or(i32::MAX))
}

/// Runs a figure's function: its `data` column as JSON; NULL is an unknown event (404).
async fn figure(statement: &str, params: Vec<ParameterValue>) -> Result<serde_json::Value> {
    let row = STORE.one(statement, params).await?;
    let data: Option<String> = column(&row, "data")?;
    let data = data.ok_or(StatsError::EventNotFound)?;
    serde_json::from_str(&data).map_err(|e| {
        eprintln!("stats: a figure is not JSON: {e}");
        ApiError::internal()
    })
}

/// The occupied waiting-room slots (unexpired members of each live event's `active` set);
/// `None` when Redis fails part-way (a partial sum would mislead).
async fn active_users(conn: &Connection, key_prefix: &str) -> Result<Option<i64>> {
    let rows = STORE
        .query(
            sql::LIVE_EVENTS,
            vec![ParameterValue::Int32(sql::MAX_LIVE_EVENTS)],
        )
        .await?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let mut total = 0;
    for row in &rows {
        let id: String = column(row, "id")?;
        let key = urr_queue::EventKeys::new(key_prefix, &id).active;
        let args: Vec<_> = [key, format!("({now_ms}"), "+inf".to_string()]
            .into_iter()
            .map(|a| RedisParameter::Binary(a.into_bytes()))
            .collect();
        match conn.execute("ZCOUNT", args).await {
            Ok(values) => match values.first() {
                Some(RedisResult::Int64(n)) => total += n,
                _ => return Ok(None),
            },
            Err(e) => {
                eprintln!("stats: active users unavailable, redis: {e:?}");
                return Ok(None);
            }
        }
    }
    Ok(Some(total))
}
