//! `page` and `limit` of `GET /artists` (contract part 2, §0 and §1.2): `page` defaults to 1,
//! below 1 becomes 1, above [`MAX_PAGE`] is refused; `limit` defaults to [`DEFAULT_LIMIT`] and is
//! clamped to 1..[`MAX_LIMIT`]. Anything that is not a whole number is a 400. Other parameters
//! are ignored (URR ignores `q`).

use crate::FanError;

/// Artists per page when the client does not say (the web asks for 50 anyway).
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 100;
/// Deeper pages are absurd for a human-browsed list, and a huge OFFSET costs the database.
pub const MAX_PAGE: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: i64,
    pub limit: i64,
}

impl Page {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.limit
    }

    /// Parses a raw query string (`page=2&limit=20`); the first of a repeated parameter wins.
    pub fn parse(raw: &str) -> Result<Self, FanError> {
        let (mut page, mut limit) = (None, None);
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            let slot = match key.as_ref() {
                "page" => &mut page,
                "limit" => &mut limit,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        let page = match page.as_deref().map(whole) {
            None => 1,
            Some(Some(n)) if n <= MAX_PAGE => n.max(1),
            Some(_) => return Err(FanError::InvalidPage),
        };
        let limit = match limit.as_deref().map(whole) {
            None => DEFAULT_LIMIT,
            Some(Some(n)) => n.clamp(1, MAX_LIMIT),
            Some(None) => return Err(FanError::InvalidLimit),
        };
        Ok(Self { page, limit })
    }
}

/// A whole number written plainly (optional sign, digits), saturating at the i64 bounds.
pub(crate) fn whole(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<i64>().unwrap_or(if text.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_clamps_and_refusals() {
        assert_eq!(Page::parse("").expect("valid"), Page { page: 1, limit: 50 });
        assert_eq!(
            Page::parse("page=0&limit=0").expect("valid"),
            Page { page: 1, limit: 1 }
        );
        assert_eq!(
            Page::parse("page=-4&limit=500").expect("valid"),
            Page {
                page: 1,
                limit: 100
            }
        );
        assert_eq!(Page::parse("page=3&limit=20").expect("valid").offset(), 40);
        assert_eq!(Page::parse("q=iu&page=2&page=9").expect("valid").page, 2);
        assert_eq!(Page::parse("page=10001"), Err(FanError::InvalidPage));
        assert_eq!(
            Page::parse("page=99999999999999999999"),
            Err(FanError::InvalidPage)
        );
        assert_eq!(
            Page::parse("limit=99999999999999999999")
                .expect("valid")
                .limit,
            100
        );
        for bad in ["page=abc", "page=1.5", "page=", "page=0x1"] {
            assert_eq!(Page::parse(bad), Err(FanError::InvalidPage), "{bad}");
        }
        for bad in ["limit=ten", "limit=-", "limit=1e2"] {
            assert_eq!(Page::parse(bad), Err(FanError::InvalidLimit), "{bad}");
        }
    }
}
