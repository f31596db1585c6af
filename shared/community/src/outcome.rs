//! What the community and news SQL functions' `outcome` column means to the client. Each function
//! returns its success outcome or a refusal named after it; anything else is our bug (a 500 and
//! a log line).

use crate::CommunityError;

/// How one function call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Refused(CommunityError),
    /// An outcome this code does not know: the migration and the component disagree.
    Unexpected(String),
}

/// Classifies `outcome` given the function's success outcome.
pub fn classify(outcome: &str, success: &str) -> Outcome {
    if outcome == success {
        return Outcome::Done;
    }
    let refusal = match outcome {
        "unknown_author" => CommunityError::UnknownAccount,
        "artist_not_found" => CommunityError::ArtistNotFound,
        "post_not_found" => CommunityError::PostNotFound,
        "comment_not_found" => CommunityError::CommentNotFound,
        "news_not_found" => CommunityError::NewsNotFound,
        "not_post_author" => CommunityError::NotPostAuthor,
        "cannot_delete_post" => CommunityError::CannotDeletePost,
        "cannot_delete_comment" => CommunityError::CannotDeleteComment,
        other => return Outcome::Unexpected(other.to_string()),
    };
    Outcome::Refused(refusal)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFUSALS: [&str; 8] = [
        "unknown_author",
        "artist_not_found",
        "post_not_found",
        "comment_not_found",
        "news_not_found",
        "not_post_author",
        "cannot_delete_post",
        "cannot_delete_comment",
    ];

    #[test]
    fn success_refusals_and_surprises_are_told_apart() {
        assert_eq!(classify("created", "created"), Outcome::Done);
        assert_eq!(
            classify("cannot_delete_comment", "deleted"),
            Outcome::Refused(CommunityError::CannotDeleteComment)
        );
        assert_eq!(
            classify("exploded", "deleted"),
            Outcome::Unexpected("exploded".into())
        );
    }

    #[test]
    fn every_refusal_the_migration_names_is_known() {
        let migration = include_str!("../../../migrations/20261208000011_community_news.sql");
        for refusal in REFUSALS {
            assert!(migration.contains(&format!("'{refusal}'")), "{refusal}");
            assert!(matches!(classify(refusal, "done"), Outcome::Refused(_)));
        }
    }
}
