//! The community store (`urr_component::pg`, as the `urr_community` role), who is writing, the
//! row shapes, and the outcome of a change function.

use spin_sdk::pg::Row;
use urr_community_domain::outcome::{Outcome, classify};
use urr_community_domain::reply::{Comment, Post, iso};
use urr_component::pg::{Store, column, optional};
use urr_component::{ApiError, Response, Result};

pub const STORE: Store = Store::new("community");

/// Lists may sit this long in a shared cache (the contract's "short shared caching"); a detail
/// read counts a view and is never cached.
pub const LIST_CACHE_CONTROL: &str = "public, max-age=0, s-maxage=5, stale-while-revalidate=30";

/// The signed-in user of a write.
pub struct Author {
    pub user_id: String,
    pub is_admin: bool,
}

/// A list reply with its shared-cache header.
pub fn shared_list(mut response: Response) -> Response {
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static(LIST_CACHE_CONTROL),
    );
    response
}

/// The row's `outcome` against the function's success outcome: refusals become their 4xx.
pub fn expect_outcome(row: &Row, success: &str) -> Result<()> {
    let outcome: String = column(row, "outcome")?;
    match classify(&outcome, success) {
        Outcome::Done => Ok(()),
        Outcome::Refused(err) => Err(err.into()),
        Outcome::Unexpected(other) => {
            eprintln!("community: unexpected outcome `{other}`");
            Err(ApiError::internal())
        }
    }
}

/// A `community_post_result` row (`content` is NULL in lists).
pub fn post(row: &Row) -> Result<Post> {
    Ok(Post {
        id: column(row, "id")?,
        artist_id: column(row, "artist_id")?,
        author_id: column(row, "author_id")?,
        author_name: column(row, "author_name")?,
        title: column(row, "title")?,
        content: optional(row, "content")?,
        views: column(row, "views")?,
        comment_count: column(row, "comment_count")?,
        is_pinned: column(row, "is_pinned")?,
        created_at: iso(column(row, "created_at")?),
        updated_at: iso(column(row, "updated_at")?),
    })
}

pub fn comment(row: &Row) -> Result<Comment> {
    Ok(Comment {
        id: column(row, "id")?,
        post_id: column(row, "post_id")?,
        author_id: column(row, "author_id")?,
        author_name: column(row, "author_name")?,
        content: column(row, "content")?,
        created_at: iso(column(row, "created_at")?),
    })
}

/// The rows of a paged list and its total: the one row of an empty page carries only the total.
pub fn page<T>(rows: &[Row], item: fn(&Row) -> Result<T>) -> Result<(Vec<T>, i64)> {
    let mut total = 0;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        total = column::<i64>(row, "total")?;
        if optional::<String>(row, "id")?.is_some() {
            items.push(item(row)?);
        }
    }
    Ok((items, total))
}
