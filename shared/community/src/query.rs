//! The list routes' query strings: `page` and `limit` (the contract's §0 paging) and the post
//! list's `artistId` filter. Out-of-range paging is clamped; text that is not a number at all, an
//! absurd page or a malformed id is a 400.

use crate::{CommunityError, Id};

/// Posts, comments and news per page when the client does not say (the web sends 20, and 100
/// for a post's comments).
pub const DEFAULT_LIMIT: i64 = 20;
/// The contract clamps `limit` to 1..100: a page the web renders at once.
pub const MAX_LIMIT: i64 = 100;
/// The contract's highest page: a huge OFFSET makes Postgres walk and discard every row before it.
pub const MAX_PAGE: i64 = 10_000;

/// One page of a list: 1-based `page`, `limit` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: i64,
    pub limit: i64,
}

impl Paging {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.limit
    }

    /// `page` and `limit` of a raw query string (other parameters are ignored).
    pub fn parse(raw: &str) -> Result<Self, CommunityError> {
        Ok(Self {
            page: parse_page(first(raw, "page"))?,
            limit: parse_limit(first(raw, "limit"))?,
        })
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
            paging: Paging::parse(raw)?,
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

/// A whole number, saturating at the i64 bounds (`limit=99999999999999999999` is a big number,
/// not garbage); `None` when the text is not a whole number at all.
fn parse_whole(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.parse::<i64>().unwrap_or(i64::MAX);
    Some(if negative { -magnitude } else { magnitude })
}

/// Below 1 is page 1 (as URR does); above [`MAX_PAGE`] or not a number is a 400.
fn parse_page(value: Option<String>) -> Result<i64, CommunityError> {
    let Some(text) = value else {
        return Ok(1);
    };
    match parse_whole(&text) {
        Some(page) if page <= MAX_PAGE => Ok(page.max(1)),
        _ => Err(CommunityError::InvalidPage),
    }
}

fn parse_limit(value: Option<String>) -> Result<i64, CommunityError> {
    let Some(text) = value else {
        return Ok(DEFAULT_LIMIT);
    };
    parse_whole(&text)
        .map(|limit| limit.clamp(1, MAX_LIMIT))
        .ok_or(CommunityError::InvalidLimit)
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
        let p = Paging::parse("page=3&limit=500").expect("valid");
        assert_eq!((p.page, p.limit, p.offset()), (3, 100, 200));
        assert_eq!(
            Paging::parse("page=0&limit=0"),
            Ok(Paging { page: 1, limit: 1 })
        );
        assert_eq!(
            Paging::parse("page=-4&limit=-1"),
            Ok(Paging { page: 1, limit: 1 })
        );
        assert_eq!(
            Paging::parse("limit=99999999999999999999").map(|p| p.limit),
            Ok(100)
        );
        assert_eq!(Paging::parse("page=10000").map(|p| p.page), Ok(10_000));
        assert_eq!(
            Paging::parse("page=10001"),
            Err(CommunityError::InvalidPage)
        );
        assert_eq!(Paging::parse("page=two"), Err(CommunityError::InvalidPage));
        assert_eq!(
            Paging::parse("limit=1.5"),
            Err(CommunityError::InvalidLimit)
        );
        assert_eq!(
            Paging::parse("page=&limit="),
            Ok(Paging { page: 1, limit: 20 })
        );
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
