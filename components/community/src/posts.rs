//! Posts: the board (paged, per artist), a post (counting one view), and the author's writes.

use spin_sdk::pg::ParameterValue;
use urr_community_domain::input::{parse_new_post, parse_post_edit};
use urr_community_domain::query::PostQuery;
use urr_community_domain::reply::{Message, Pagination, PostList, PostReply};
use urr_community_domain::{Id, sql};
use urr_component::pg::{optional_text, text, uuid};
use urr_component::{Response, Result, json};

use crate::store::{Author, STORE, expect_outcome, page, post};

pub async fn list(raw_query: &str) -> Result<Response> {
    let query = PostQuery::parse(raw_query)?;
    let rows = STORE
        .query(
            sql::LIST_POSTS,
            vec![
                optional_text(query.artist_id.as_ref().map(Id::as_str)),
                ParameterValue::Int64(query.paging.limit),
                ParameterValue::Int64(query.paging.offset()),
            ],
        )
        .await?;
    let (posts, total) = page(&rows, post)?;
    Ok(json(
        200,
        &PostList {
            posts,
            pagination: Pagination::new(query.paging.page, query.paging.limit, total),
        },
    ))
}

/// Counts one view (the returned `views` includes it).
pub async fn view(post_id: &Id) -> Result<Response> {
    let row = STORE
        .one(sql::VIEW_POST, vec![uuid(post_id.as_str())])
        .await?;
    expect_outcome(&row, "viewed")?;
    Ok(json(200, &PostReply { post: post(&row)? }))
}

pub async fn create(author: &Author, body: &[u8]) -> Result<Response> {
    let new = parse_new_post(body)?;
    let row = STORE
        .one(
            sql::CREATE_POST,
            vec![
                uuid(&author.user_id),
                uuid(new.artist_id.as_str()),
                text(&new.title),
                text(&new.content),
            ],
        )
        .await?;
    expect_outcome(&row, "created")?;
    Ok(json(201, &PostReply { post: post(&row)? }))
}

pub async fn update(author: &Author, post_id: &Id, body: &[u8]) -> Result<Response> {
    let edit = parse_post_edit(body)?;
    let row = STORE
        .one(
            sql::UPDATE_POST,
            vec![
                uuid(&author.user_id),
                uuid(post_id.as_str()),
                text(&edit.title),
                text(&edit.content),
            ],
        )
        .await?;
    expect_outcome(&row, "updated")?;
    Ok(json(200, &PostReply { post: post(&row)? }))
}

pub async fn delete(author: &Author, post_id: &Id) -> Result<Response> {
    let row = STORE
        .one(
            sql::DELETE_POST,
            vec![
                uuid(&author.user_id),
                ParameterValue::Boolean(author.is_admin),
                uuid(post_id.as_str()),
            ],
        )
        .await?;
    expect_outcome(&row, "deleted")?;
    Ok(json(
        200,
        &Message {
            message: "Post deleted successfully",
        },
    ))
}
