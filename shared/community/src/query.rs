//! The list routes' query strings: `page` and `limit` (the contract's §0 paging) and the post
//! list's `artistId` filter. Out-of-range paging is clamped; text that is not a number at all, an
//! absurd page or a malformed id is a 400.

use crate::{CommunityError, Id};
use urr_api::paging::PagingError;

/// Posts, comments and news per page when the client does not say (the web sends 20, and 100
/// for a post's comments).
pub const DEFAULT_LIMIT: i64 = 20;
/// One page of a list: 1-based `page`, `limit` rows (the public list rules of `urr_api::paging`).
pub use urr_api::paging::Page as Paging;
pub use urr_api::paging::{MAX_LIMIT, MAX_PAGE};

/// `page` and `limit` of a raw query string (other parameters are ignored; a blank value counts
/// as absent here).
pub fn paging(raw: &str) -> Result<Paging, CommunityError> {
    Ok(Paging::from_values(
        first(raw, "page").as_deref(),
        first(raw, "limit").as_deref(),
        DEFAULT_LIMIT,
    )?)
}

impl From<PagingError> for CommunityError {
    fn from(e: PagingError) -> Self {
        match e {
            PagingError::InvalidPage => CommunityError::InvalidPage,
            PagingError::InvalidLimit => CommunityError::InvalidLimit,
        }
    }
}

/// `GET /community/posts`: the paging and the artist tab (`artistId`, or `artist_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostQuery {
    pub artist_id: Option<Id>,
    pub paging: Paging,
}

impl PostQuery {
    pub fn parse(raw: &str) -> Result<Self, CommunityError> {
        let artist = first(raw, "artistId").or_else(|| first(raw, "artist_id"));
        Ok(Self {
            artist_id: artist.map(|text| Id::try_from(text.as_str())).transpose()?,
            paging: paging(raw)?,
        })
    }
}

/// The first non-blank value of `name` (trimmed); a repeated parameter counts once.
fn first(raw: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(raw.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_query_is_the_first_page_of_twenty() {
        let q = PostQuery::parse("").expect("valid");
        assert_eq!(q.artist_id, None);
        assert_eq!(q.paging, Paging { page: 1, limit: 20 });
        assert_eq!(q.paging.offset(), 0);
    }

    #[test]
    fn paging_is_clamped_where_the_contract_clamps_and_refused_where_it_is_nonsense() {
        let p = paging("page=3&limit=500").expect("valid");
        assert_eq!((p.page, p.limit, p.offset()), (3, 100, 200));
        assert_eq!(paging("page=0&limit=0"), Ok(Paging { page: 1, limit: 1 }));
        assert_eq!(paging("page=-4&limit=-1"), Ok(Paging { page: 1, limit: 1 }));
        assert_eq!(
            paging("limit=99999999999999999999").map(|p| p.limit),
            Ok(100)
        );
        assert_eq!(paging("page=10000").map(|p| p.page), Ok(10_000));
        assert_eq!(paging("page=10001"), Err(CommunityError::InvalidPage));
        assert_eq!(paging("page=two"), Err(CommunityError::InvalidPage));
        assert_eq!(paging("limit=1.5"), Err(CommunityError::InvalidLimit));
        assert_eq!(paging("page=&limit="), Ok(Paging { page: 1, limit: 20 }));
    }

    #[test]
    fn the_artist_filter_must_be_a_uuid() {
        let id = "0B5E7C1E-3F7A-4B8E-9A4E-1C2D3E4F5A6B";
        let q = PostQuery::parse(&format!("artistId={id}&page=2")).expect("valid");
        assert_eq!(
            q.artist_id.as_ref().map(Id::as_str),
            Some("0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b")
        );
        assert_eq!(q.paging.page, 2);
        assert_eq!(
            PostQuery::parse("artistId=1"),
            Err(CommunityError::InvalidId)
        );
        assert_eq!(PostQuery::parse("artistId=").map(|q| q.artist_id), Ok(None));
    }
}
