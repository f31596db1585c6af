//! Comments: a post's comments (paged, oldest first), and adding or deleting one (the post's
//! `comment_count` moves in the same transaction).

use spin_sdk::pg::ParameterValue;
use urr_community_domain::input::parse_new_comment;
use urr_community_domain::query::paging;
use urr_community_domain::reply::{CommentList, CommentReply, Message, Pagination};
use urr_community_domain::{Id, sql};
use urr_component::pg::{text, uuid};
use urr_component::{Response, Result, json};

use crate::store::{Author, STORE, comment, expect_outcome, page};

/// An unknown post has no comments: an empty page, as URR answers.
pub async fn list(post_id: &Id, raw_query: &str) -> Result<Response> {
    let paging = paging(raw_query)?;
    let rows = STORE
        .query(
            sql::LIST_COMMENTS,
            vec![
                uuid(post_id.as_str()),
                ParameterValue::Int64(paging.limit),
                ParameterValue::Int64(paging.offset()),
            ],
        )
        .await?;
    let (comments, total) = page(&rows, comment)?;
    Ok(json(
        200,
        &CommentList {
            comments,
            pagination: Pagination::new(paging.page, paging.limit, total),
        },
    ))
}

pub async fn create(author: &Author, post_id: &Id, body: &[u8]) -> Result<Response> {
    let content = parse_new_comment(body)?;
    let row = STORE
        .one(
            sql::CREATE_COMMENT,
            vec![
                uuid(&author.user_id),
                uuid(post_id.as_str()),
                text(&content),
            ],
        )
        .await?;
    expect_outcome(&row, "created")?;
    Ok(json(
        201,
        &CommentReply {
            comment: comment(&row)?,
        },
    ))
}

pub async fn delete(author: &Author, post_id: &Id, comment_id: &Id) -> Result<Response> {
    let row = STORE
        .one(
            sql::DELETE_COMMENT,
            vec![
                uuid(&author.user_id),
                ParameterValue::Boolean(author.is_admin),
                uuid(post_id.as_str()),
                uuid(comment_id.as_str()),
            ],
        )
        .await?;
    expect_outcome(&row, "deleted")?;
    Ok(json(
        200,
        &Message {
            message: "Comment deleted successfully",
        },
    ))
}
