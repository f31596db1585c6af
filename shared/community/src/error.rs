//! Every way a community or news request is refused, each with a stable `code` and its status:
//! 400 for bad input (never a 500), 401 for an account that no longer exists, 403 for another
//! user's post or comment and for a user on the news' admin writes, 404 for an unknown id.
//! Messages are safe to show, name the field, and repeat URR's text where the web shows it.

use urr_api::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommunityError {
    // ---- 400: bad input
    #[error("The id must be a UUID")]
    InvalidId,
    #[error("`page` must be a whole number from 1 to {max}", max = crate::query::MAX_PAGE)]
    InvalidPage,
    #[error("`limit` must be a whole number")]
    InvalidLimit,
    #[error("The request body is not valid: {0}")]
    InvalidBody(String),
    #[error("`{0}` is required")]
    MissingField(&'static str),
    #[error("`{field}` must be at most {max} characters")]
    TextTooLong { field: &'static str, max: usize },
    #[error("`{0}` must be text without control characters")]
    InvalidText(&'static str),
    #[error("`{0}` must be a UUID")]
    InvalidFieldId(&'static str),
    #[error("`{0}` must be true or false")]
    InvalidFlag(&'static str),

    // ---- 401
    #[error("The signed-in account no longer exists")]
    UnknownAccount,

    // ---- 403
    #[error("Only the author can edit this post")]
    NotPostAuthor,
    #[error("No permission to delete this post")]
    CannotDeletePost,
    #[error("No permission to delete this comment")]
    CannotDeleteComment,
    #[error("Admin role required")]
    AdminRequired,

    // ---- 404
    #[error("Post not found")]
    PostNotFound,
    #[error("Comment not found")]
    CommentNotFound,
    #[error("News not found")]
    NewsNotFound,
    #[error("Artist not found")]
    ArtistNotFound,
}

impl CommunityError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidId | Self::InvalidFieldId(_) => "invalid_id",
            Self::InvalidPage => "invalid_page",
            Self::InvalidLimit => "invalid_limit",
            Self::InvalidBody(_) | Self::InvalidFlag(_) => "invalid_body",
            Self::MissingField(_) => "missing_field",
            Self::TextTooLong { .. } => "text_too_long",
            Self::InvalidText(_) => "invalid_text",
            Self::UnknownAccount => "unauthenticated",
            Self::NotPostAuthor | Self::CannotDeletePost | Self::CannotDeleteComment => {
                "not_author"
            }
            Self::AdminRequired => "admin_required",
            Self::PostNotFound => "post_not_found",
            Self::CommentNotFound => "comment_not_found",
            Self::NewsNotFound => "news_not_found",
            Self::ArtistNotFound => "artist_not_found",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::UnknownAccount => 401,
            Self::NotPostAuthor
            | Self::CannotDeletePost
            | Self::CannotDeleteComment
            | Self::AdminRequired => 403,
            Self::PostNotFound
            | Self::CommentNotFound
            | Self::NewsNotFound
            | Self::ArtistNotFound => 404,
            _ => 400,
        }
    }
}

impl From<CommunityError> for ApiError {
    fn from(err: CommunityError) -> Self {
        ApiError::new(err.status(), err.code(), err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_are_400s_ownership_403s_and_unknown_ids_404s() {
        let err = ApiError::from(CommunityError::TextTooLong {
            field: "title",
            max: 255,
        });
        assert_eq!((err.status, err.code), (400, "text_too_long"));
        assert!(err.message.contains("title") && err.message.contains("255"));
        let err = ApiError::from(CommunityError::NotPostAuthor);
        assert_eq!((err.status, err.code), (403, "not_author"));
        assert_eq!(err.message, "Only the author can edit this post");
        assert_eq!(ApiError::from(CommunityError::PostNotFound).status, 404);
        assert_eq!(
            ApiError::from(CommunityError::AdminRequired).code,
            "admin_required"
        );
        assert_eq!(ApiError::from(CommunityError::UnknownAccount).status, 401);
    }
}
