//! `page` and `limit` of `GET /artists` and the resale lists: the public list rules of
//! `urr_api::paging` (contract part 2, §0), with the artists' default page size. Other
//! parameters are ignored (URR ignores `q`).

use crate::FanError;
use urr_api::paging::PagingError;
pub use urr_api::paging::{MAX_LIMIT, MAX_PAGE, Page, total_pages};

/// Artists per page when the client does not say (the web asks for 50 anyway).
pub const DEFAULT_LIMIT: i64 = 50;

impl From<PagingError> for FanError {
    fn from(e: PagingError) -> Self {
        match e {
            PagingError::InvalidPage => FanError::InvalidPage,
            PagingError::InvalidLimit => FanError::InvalidLimit,
        }
    }
}

/// The page of `GET /artists`.
pub fn parse(raw: &str) -> Result<Page, FanError> {
    Ok(Page::parse(raw, DEFAULT_LIMIT)?)
}

/// The page named by the raw `page` and `limit` values, `default_limit` rows when absent.
pub fn from_values(
    page: Option<&str>,
    limit: Option<&str>,
    default_limit: i64,
) -> Result<Page, FanError> {
    Ok(Page::from_values(page, limit, default_limit)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_artists_default_and_the_fan_codes() {
        assert_eq!(parse("").expect("valid"), Page { page: 1, limit: 50 });
        assert_eq!(parse("q=iu&page=2&page=9").expect("valid").page, 2);
        assert_eq!(
            parse("page=99999999999999999999"),
            Err(FanError::InvalidPage)
        );
        for bad in ["page=abc", "page=", "page=0x1"] {
            assert_eq!(parse(bad), Err(FanError::InvalidPage), "{bad}");
        }
        for bad in ["limit=ten", "limit=-", "limit=1e2"] {
            assert_eq!(parse(bad), Err(FanError::InvalidLimit), "{bad}");
        }
    }
}
