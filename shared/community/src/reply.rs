//! Rows in, the contract's JSON out: snake_case column names as URR sent them, times ISO-8601 in
//! UTC, `content` raw (never escaped: the web renders it as text).

use serde::Serialize;
use urr_api::time::format_unix_millis;

/// A post: the list leaves `content` out (the contract's list has none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Post {
    pub id: String,
    pub artist_id: String,
    pub author_id: String,
    pub author_name: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    pub views: i64,
    pub comment_count: i64,
    pub is_pinned: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub id: String,
    pub post_id: String,
    pub author_id: String,
    pub author_name: String,
    pub content: String,
    pub created_at: String,
}

/// A notice. `author_id` is null for notices nobody signed (the seeded ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct News {
    pub id: String,
    pub title: String,
    pub content: String,
    pub author: String,
    pub author_id: Option<String>,
    pub views: i64,
    pub is_pinned: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// The contract's `pagination` (the comment list gets `totalPages` too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pagination {
    pub page: i64,
    pub limit: i64,
    pub total: i64,
    #[serde(rename = "totalPages")]
    pub total_pages: i64,
}

impl Pagination {
    pub fn new(page: i64, limit: i64, total: i64) -> Self {
        let limit = limit.max(1);
        Self {
            page,
            limit,
            total,
            total_pages: (total.max(0) + limit - 1) / limit,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostList {
    pub posts: Vec<Post>,
    pub pagination: Pagination,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostReply {
    pub post: Post,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentList {
    pub comments: Vec<Comment>,
    pub pagination: Pagination,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentReply {
    pub comment: Comment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewsList {
    pub news: Vec<News>,
    pub pagination: Pagination,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewsReply {
    pub news: News,
}

/// `{message}`: deletes, with URR's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub message: &'static str,
}

/// Milliseconds since the epoch (as the SQL returns times) → ISO-8601 UTC.
pub fn iso(unix_millis: i64) -> String {
    format_unix_millis(unix_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_post_has_no_content_and_raw_text_stays_raw() {
        let post = Post {
            id: "p".into(),
            artist_id: "a".into(),
            author_id: "u".into(),
            author_name: "팬".into(),
            title: "<b>&amp;</b>".into(),
            content: None,
            views: 3,
            comment_count: 1,
            is_pinned: false,
            created_at: iso(0),
            updated_at: iso(1_500),
        };
        let value = serde_json::to_value(&post).expect("serializes");
        assert!(value.get("content").is_none());
        assert_eq!(value["title"], "<b>&amp;</b>");
        assert_eq!(value["updated_at"], "1970-01-01T00:00:01.500Z");
        let full = Post {
            content: Some("a\n<i>b</i>".into()),
            ..post
        };
        assert_eq!(
            serde_json::to_value(&full).expect("serializes")["content"],
            "a\n<i>b</i>"
        );
    }

    #[test]
    fn total_pages_round_up() {
        assert_eq!(Pagination::new(1, 20, 0).total_pages, 0);
        assert_eq!(Pagination::new(1, 20, 20).total_pages, 1);
        assert_eq!(Pagination::new(1, 20, 21).total_pages, 2);
        let value = serde_json::to_value(Pagination::new(2, 5, 12)).expect("serializes");
        assert_eq!(value["totalPages"], 3);
    }
}
