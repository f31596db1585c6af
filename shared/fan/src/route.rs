//! Which operation a request asks for: method + path (without its `/api/v1` or `/api` prefix)
//! → a typed route with its ids already parsed, so a malformed id is a 400 before any store is
//! touched.

use crate::{FanError, Id};
use urr_api::route::{RouteError, allow, segments};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtistRoute {
    /// `GET /artists` (anon).
    List,
    /// `GET /artists/{id}` (anon).
    Detail(Id),
    /// `POST /artists` (admin).
    Create,
    /// `PATCH /artists/{id}` (admin).
    Update(Id),
    /// `DELETE /artists/{id}` (admin).
    Delete(Id),
    /// `POST /artists/enrich` (admin): 501.
    Enrich,
}

impl ArtistRoute {
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError<FanError>> {
        let id = |text: &str| Id::try_from(text).map_err(RouteError::Invalid);
        match segments(path).as_slice() {
            ["artists"] => allow(
                method,
                "GET, HEAD, POST",
                Ok(if method == "POST" {
                    Self::Create
                } else {
                    Self::List
                }),
            ),
            ["artists", "enrich"] => allow(method, "POST", Ok(Self::Enrich)),
            ["artists", artist] => {
                let route = match method {
                    "PATCH" => id(artist).map(Self::Update),
                    "DELETE" => id(artist).map(Self::Delete),
                    _ => id(artist).map(Self::Detail),
                };
                allow(method, "GET, HEAD, PATCH, DELETE", route)
            }
            _ => Err(RouteError::NotFound),
        }
    }

    /// Whether the route is an admin's (everything but the two public reads).
    pub fn is_admin(&self) -> bool {
        !matches!(self, Self::List | Self::Detail(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipRoute {
    /// `POST /memberships/subscribe`.
    Subscribe,
    /// `GET /memberships/my`.
    Mine,
    /// `GET /memberships/my/{artistId}`.
    MineFor(Id),
    /// `GET /memberships/benefits/{artistId}`.
    Benefits(Id),
}

impl MembershipRoute {
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError<FanError>> {
        let id = |text: &str| Id::try_from(text).map_err(RouteError::Invalid);
        match segments(path).as_slice() {
            ["memberships", "subscribe"] => allow(method, "POST", Ok(Self::Subscribe)),
            ["memberships", "my"] => allow(method, "GET, HEAD", Ok(Self::Mine)),
            ["memberships", "my", artist] => {
                allow(method, "GET, HEAD", id(artist).map(Self::MineFor))
            }
            ["memberships", "benefits", artist] => {
                allow(method, "GET, HEAD", id(artist).map(Self::Benefits))
            }
            _ => Err(RouteError::NotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b";

    fn id() -> Id {
        Id::try_from(ID).expect("valid")
    }

    #[test]
    fn artist_paths_name_their_operation() {
        let p = ArtistRoute::parse;
        assert_eq!(p("GET", "/artists"), Ok(ArtistRoute::List));
        assert_eq!(p("POST", "/artists/"), Ok(ArtistRoute::Create));
        assert_eq!(
            p("GET", &format!("/artists/{ID}")),
            Ok(ArtistRoute::Detail(id()))
        );
        assert_eq!(
            p("PATCH", &format!("/artists/{ID}")),
            Ok(ArtistRoute::Update(id()))
        );
        assert_eq!(
            p("DELETE", &format!("/artists/{ID}")),
            Ok(ArtistRoute::Delete(id()))
        );
        assert_eq!(p("POST", "/artists/enrich"), Ok(ArtistRoute::Enrich));
        assert_eq!(
            p("GET", "/artists/enrich"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(
            p("GET", "/artists/nope"),
            Err(RouteError::Invalid(FanError::InvalidId))
        );
        assert_eq!(
            p("PUT", &format!("/artists/{ID}")),
            Err(RouteError::MethodNotAllowed("GET, HEAD, PATCH, DELETE"))
        );
        assert_eq!(p("GET", "/artists/a/b"), Err(RouteError::NotFound));
        assert!(ArtistRoute::Enrich.is_admin() && !ArtistRoute::List.is_admin());
    }

    #[test]
    fn membership_paths_name_their_operation() {
        let p = MembershipRoute::parse;
        assert_eq!(
            p("POST", "/memberships/subscribe"),
            Ok(MembershipRoute::Subscribe)
        );
        assert_eq!(p("GET", "/memberships/my"), Ok(MembershipRoute::Mine));
        assert_eq!(
            p("GET", &format!("/memberships/my/{ID}")),
            Ok(MembershipRoute::MineFor(id()))
        );
        assert_eq!(
            p("GET", &format!("/memberships/benefits/{ID}")),
            Ok(MembershipRoute::Benefits(id()))
        );
        assert_eq!(
            p("GET", "/memberships/benefits/x"),
            Err(RouteError::Invalid(FanError::InvalidId))
        );
        assert_eq!(
            p("GET", "/memberships/subscribe"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(p("GET", "/memberships"), Err(RouteError::NotFound));
    }
}
