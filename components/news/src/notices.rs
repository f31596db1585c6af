//! Notices: the list (pinned first, then newest), one notice (counting one view), and the
//! admins' audited changes.

use spin_sdk::pg::{ParameterValue, Row};
use urr_community_domain::input::{NewsText, parse_news};
use urr_community_domain::outcome::{Outcome, classify};
use urr_community_domain::query::paging;
use urr_community_domain::reply::{Message, News, NewsList, NewsReply, Pagination, iso};
use urr_community_domain::{Id, sql};
use urr_component::pg::{Store, column, jsonb, optional, optional_text, text, uuid};
use urr_component::{ApiError, Response, Result, json};

use crate::Actor;

const STORE: Store = Store::new("news");

/// The list may sit this long in a shared cache; a detail read counts a view and is never cached.
const LIST_CACHE_CONTROL: &str = "public, max-age=0, s-maxage=5, stale-while-revalidate=30";

pub async fn list(raw_query: &str) -> Result<Response> {
    let paging = paging(raw_query)?;
    let rows = STORE
        .query(
            sql::LIST_NEWS,
            vec![
                ParameterValue::Int64(paging.limit),
                ParameterValue::Int64(paging.offset()),
            ],
        )
        .await?;
    let mut total = 0;
    let mut news = Vec::with_capacity(rows.len());
    for row in &rows {
        total = column::<i64>(row, "total")?;
        // The one row of an empty page carries only the total.
        if optional::<String>(row, "id")?.is_some() {
            news.push(notice(row)?);
        }
    }
    let mut response = json(
        200,
        &NewsList {
            news,
            pagination: Pagination::new(paging.page, paging.limit, total),
        },
    );
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static(LIST_CACHE_CONTROL),
    );
    Ok(response)
}

/// Counts one view (the returned `views` includes it).
pub async fn view(id: &Id) -> Result<Response> {
    let row = STORE.one(sql::VIEW_NEWS, vec![uuid(id.as_str())]).await?;
    saved(&row, "viewed", 200)
}

pub async fn create(actor: &Actor, body: &[u8]) -> Result<Response> {
    let input = parse_news(body)?;
    let mut params = audit(actor, &input);
    params.extend([
        text(&input.text.title),
        text(&input.text.content),
        pin(input.is_pinned),
    ]);
    let row = STORE.one(sql::CREATE_NEWS, params).await?;
    saved(&row, "created", 201)
}

pub async fn update(actor: &Actor, id: &Id, body: &[u8]) -> Result<Response> {
    let input = parse_news(body)?;
    let mut params = audit(actor, &input);
    params.extend([
        uuid(id.as_str()),
        text(&input.text.title),
        text(&input.text.content),
        pin(input.is_pinned),
    ]);
    let row = STORE.one(sql::UPDATE_NEWS, params).await?;
    saved(&row, "updated", 200)
}

pub async fn delete(actor: &Actor, id: &Id) -> Result<Response> {
    let row = STORE
        .one(
            sql::DELETE_NEWS,
            vec![
                uuid(&actor.admin_id),
                optional_text(actor.client_ip.as_deref()),
                jsonb(&serde_json::json!({})),
                uuid(id.as_str()),
            ],
        )
        .await?;
    expect_outcome(&row, "deleted")?;
    Ok(json(
        200,
        &Message {
            message: "News deleted successfully",
        },
    ))
}

/// `$1..$3` of every change: the admin, the client IP, the request summary for the audit row.
fn audit(actor: &Actor, input: &NewsText) -> Vec<ParameterValue> {
    vec![
        uuid(&actor.admin_id),
        optional_text(actor.client_ip.as_deref()),
        jsonb(&input.summary()),
    ]
}

/// A pin as the statement's `text::boolean` (NULL: unchanged, or not pinned when new).
fn pin(is_pinned: Option<bool>) -> ParameterValue {
    optional_text(is_pinned.map(|p| if p { "true" } else { "false" }))
}

fn saved(row: &Row, success: &str, status: u16) -> Result<Response> {
    expect_outcome(row, success)?;
    Ok(json(status, &NewsReply { news: notice(row)? }))
}

fn expect_outcome(row: &Row, success: &str) -> Result<()> {
    let outcome: String = column(row, "outcome")?;
    match classify(&outcome, success) {
        Outcome::Done => Ok(()),
        Outcome::Refused(err) => Err(err.into()),
        Outcome::Unexpected(other) => {
            eprintln!("news: unexpected outcome `{other}`");
            Err(ApiError::internal())
        }
    }
}

/// A `news_result` row.
fn notice(row: &Row) -> Result<News> {
    Ok(News {
        id: column(row, "id")?,
        title: column(row, "title")?,
        content: column(row, "content")?,
        author: column(row, "author")?,
        author_id: optional(row, "author_id")?,
        views: column(row, "views")?,
        is_pinned: column(row, "is_pinned")?,
        created_at: iso(column(row, "created_at")?),
        updated_at: iso(column(row, "updated_at")?),
    })
}
