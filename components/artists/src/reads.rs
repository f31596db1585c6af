//! `GET /artists` and `GET /artists/{id}`: one statement each (Postgres builds the JSON), then
//! the catalog's cache policy: a public 200 with a short shared lifetime and a strong ETag, or a
//! bodiless 304. `memberCount` may be up to one cache lifetime stale (contract §10).

use spin_sdk::http::Request;
use spin_sdk::pg::ParameterValue;
use urr_catalog_domain::cache::PUBLIC_CACHE_CONTROL;
use urr_component::pg::{Store, column, uuid};
use urr_component::ratelimit::charge_client_or_pass;
use urr_component::{ApiError, Response, Result};
use urr_fan::route::ArtistRoute;
use urr_fan::sql::{self, MAX_ARTIST_EVENTS};
use urr_fan::{FanError, Id};
use urr_ratelimit::Category;

/// Reads and the audited changes: a lost connection is a 503 worth retrying, a bad statement or
/// column a 500 and a log line.
pub const STORE: Store = Store::new("artists");

pub async fn public(req: Request, route: ArtistRoute) -> Response {
    // Per client IP, `default` category; most reads never get here (the CDN answers them).
    if let Err(e) = charge_client_or_pass(&req, Category::Default).await {
        return urr_component::error(&e);
    }
    let body = match &route {
        ArtistRoute::Detail(id) => detail(id).await,
        _ => list(req.uri().query().unwrap_or("")).await,
    };
    match body {
        Ok(body) => urr_component::conditional_json(&req, body, PUBLIC_CACHE_CONTROL),
        Err(e) => urr_component::error(&e),
    }
}

async fn list(query: &str) -> Result<String> {
    let page = urr_fan::paging::parse(query)?;
    let row = STORE
        .one(
            sql::LIST_ARTISTS,
            vec![
                ParameterValue::Int64(page.limit),
                ParameterValue::Int64(page.offset()),
            ],
        )
        .await?;
    let total: i64 = column(&row, "total")?;
    let artists: String = column(&row, "artists")?;
    let limit = page.limit.max(1);
    // The page is JSON Postgres wrote; only the envelope is built here.
    Ok(format!(
        r#"{{"artists":{artists},"pagination":{{"page":{},"limit":{limit},"total":{total},"totalPages":{}}}}}"#,
        page.page,
        (total.max(0) + limit - 1) / limit
    ))
}

async fn detail(id: &Id) -> Result<String> {
    let rows = STORE
        .query(
            sql::ARTIST_DETAIL,
            vec![uuid(id.as_str()), ParameterValue::Int64(MAX_ARTIST_EVENTS)],
        )
        .await?;
    let row = rows.first().ok_or(FanError::ArtistNotFound)?;
    column(row, "body")
}

/// The 404 of an unknown artist.
pub fn not_found() -> ApiError {
    FanError::ArtistNotFound.into()
}
