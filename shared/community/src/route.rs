//! Which community or news operation a request asks for: method + path (without its `/api/v1`
//! or `/api` prefix) → a route with its ids already parsed, so a malformed id is a 400 before
//! any store is touched, an unknown path a 404 and a known path with another method a 405.

use crate::{CommunityError, Id};
use urr_api::route::{RouteError, allow, segments};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommunityRoute {
    /// `GET /community/posts?artistId&page&limit`
    ListPosts,
    /// `GET /community/posts/{id}`: counts a view.
    ViewPost(Id),
    /// `POST /community/posts`
    CreatePost,
    /// `PUT /community/posts/{id}`: the author only.
    UpdatePost(Id),
    /// `DELETE /community/posts/{id}`: the author or an admin.
    DeletePost(Id),
    /// `GET /community/posts/{postId}/comments?page&limit`
    ListComments(Id),
    /// `POST /community/posts/{postId}/comments`
    CreateComment(Id),
    /// `DELETE /community/posts/{postId}/comments/{commentId}`: the author or an admin.
    DeleteComment { post: Id, comment: Id },
}

impl CommunityRoute {
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError<CommunityError>> {
        let id = |text: &str| Id::try_from(text).map_err(RouteError::Invalid);
        let only = |allowed: &'static str, route| allow(method, allowed, route);
        match segments(path).as_slice() {
            ["community", "posts"] => match method {
                "GET" => Ok(Self::ListPosts),
                "POST" => Ok(Self::CreatePost),
                _ => Err(RouteError::MethodNotAllowed("GET, POST")),
            },
            ["community", "posts", post] => match method {
                "GET" => id(post).map(Self::ViewPost),
                "PUT" => id(post).map(Self::UpdatePost),
                "DELETE" => id(post).map(Self::DeletePost),
                _ => Err(RouteError::MethodNotAllowed("GET, PUT, DELETE")),
            },
            ["community", "posts", post, "comments"] => match method {
                "GET" => id(post).map(Self::ListComments),
                "POST" => id(post).map(Self::CreateComment),
                _ => Err(RouteError::MethodNotAllowed("GET, POST")),
            },
            ["community", "posts", post, "comments", comment] => only(
                "DELETE",
                id(post).and_then(|post| {
                    id(comment).map(|comment| Self::DeleteComment { post, comment })
                }),
            ),
            _ => Err(RouteError::NotFound),
        }
    }

    /// Whether the operation changes something: it needs a signed-in, unrevoked user, the CSRF
    /// origin rule and the write rate limit.
    pub fn is_write(&self) -> bool {
        !matches!(
            self,
            Self::ListPosts | Self::ViewPost(_) | Self::ListComments(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewsRoute {
    /// `GET /news?page&limit`
    List,
    /// `GET /news/{id}`: counts a view.
    View(Id),
    /// `POST /news`: admins.
    Create,
    /// `PUT /news/{id}`: admins (any admin; audited).
    Update(Id),
    /// `DELETE /news/{id}`: admins.
    Delete(Id),
}

impl NewsRoute {
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError<CommunityError>> {
        let id = |text: &str| Id::try_from(text).map_err(RouteError::Invalid);
        match segments(path).as_slice() {
            ["news"] => match method {
                "GET" => Ok(Self::List),
                "POST" => Ok(Self::Create),
                _ => Err(RouteError::MethodNotAllowed("GET, POST")),
            },
            ["news", news] => match method {
                "GET" => id(news).map(Self::View),
                "PUT" => id(news).map(Self::Update),
                "DELETE" => id(news).map(Self::Delete),
                _ => Err(RouteError::MethodNotAllowed("GET, PUT, DELETE")),
            },
            _ => Err(RouteError::NotFound),
        }
    }

    /// Writes are the admins' (401 anonymous, 403 a user), audited.
    pub fn is_write(&self) -> bool {
        !matches!(self, Self::List | Self::View(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b";
    const B: &str = "1b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b";

    fn id(text: &str) -> Id {
        Id::try_from(text).expect("valid id")
    }

    #[test]
    fn every_community_route_parses_to_its_operation() {
        use CommunityRoute as R;
        let cases = [
            ("GET", "/community/posts".to_string(), R::ListPosts),
            ("POST", "/community/posts/".into(), R::CreatePost),
            ("GET", format!("/community/posts/{A}"), R::ViewPost(id(A))),
            ("PUT", format!("/community/posts/{A}"), R::UpdatePost(id(A))),
            (
                "DELETE",
                format!("/community/posts/{A}"),
                R::DeletePost(id(A)),
            ),
            (
                "GET",
                format!("/community/posts/{A}/comments"),
                R::ListComments(id(A)),
            ),
            (
                "POST",
                format!("/community/posts/{A}/comments"),
                R::CreateComment(id(A)),
            ),
            (
                "DELETE",
                format!("/community/posts/{A}/comments/{B}"),
                R::DeleteComment {
                    post: id(A),
                    comment: id(B),
                },
            ),
        ];
        for (method, path, route) in cases {
            assert_eq!(
                CommunityRoute::parse(method, &path),
                Ok(route),
                "{method} {path}"
            );
        }
        assert!(!CommunityRoute::ListPosts.is_write());
        assert!(CommunityRoute::CreatePost.is_write());
    }

    #[test]
    fn bad_ids_wrong_methods_and_unknown_paths_are_told_apart() {
        assert_eq!(
            CommunityRoute::parse("GET", "/community/posts/42"),
            Err(RouteError::Invalid(CommunityError::InvalidId))
        );
        assert_eq!(
            CommunityRoute::parse("DELETE", &format!("/community/posts/{A}/comments/x")),
            Err(RouteError::Invalid(CommunityError::InvalidId))
        );
        assert_eq!(
            CommunityRoute::parse("PATCH", "/community/posts"),
            Err(RouteError::MethodNotAllowed("GET, POST"))
        );
        assert_eq!(
            CommunityRoute::parse("GET", &format!("/community/posts/{A}/comments/{B}")),
            Err(RouteError::MethodNotAllowed("DELETE"))
        );
        assert_eq!(
            CommunityRoute::parse("GET", "/community"),
            Err(RouteError::NotFound)
        );
    }

    #[test]
    fn every_news_route_parses_to_its_operation() {
        assert_eq!(NewsRoute::parse("GET", "/news"), Ok(NewsRoute::List));
        assert_eq!(NewsRoute::parse("POST", "/news"), Ok(NewsRoute::Create));
        assert_eq!(
            NewsRoute::parse("GET", &format!("/news/{A}")),
            Ok(NewsRoute::View(id(A)))
        );
        assert_eq!(
            NewsRoute::parse("PUT", &format!("/news/{A}")),
            Ok(NewsRoute::Update(id(A)))
        );
        assert_eq!(
            NewsRoute::parse("DELETE", &format!("/news/{A}")),
            Ok(NewsRoute::Delete(id(A)))
        );
        assert_eq!(
            NewsRoute::parse("GET", "/news/nope"),
            Err(RouteError::Invalid(CommunityError::InvalidId))
        );
        assert_eq!(
            NewsRoute::parse("PATCH", "/news"),
            Err(RouteError::MethodNotAllowed("GET, POST"))
        );
        assert_eq!(
            NewsRoute::parse("GET", "/news/a/b"),
            Err(RouteError::NotFound)
        );
        assert!(NewsRoute::Delete(id(A)).is_write() && !NewsRoute::List.is_write());
    }
}
