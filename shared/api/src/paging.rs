//! `page` and `limit` of the public list routes (contract part 2, §0): `page` defaults to 1,
//! below 1 becomes 1, above [`MAX_PAGE`] is refused; `limit` defaults to the route's own default
//! and is clamped to 1..[`MAX_LIMIT`]. Text that is not a whole number is refused. Other
//! parameters are the route's business; the first of a repeated parameter wins.

/// The contract's largest page: a page the web renders at once.
pub const MAX_LIMIT: i64 = 100;
/// Deeper pages are absurd for a human-browsed list, and a huge OFFSET costs the database.
pub const MAX_PAGE: i64 = 10_000;

/// One page of a list: 1-based `page`, `limit` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: i64,
    pub limit: i64,
}

/// Why a `page` or `limit` was refused (each route maps it to its own 400 code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingError {
    InvalidPage,
    InvalidLimit,
}

impl Page {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.limit
    }

    /// From the raw values of `page` and `limit` (`None`: absent).
    pub fn from_values(
        page: Option<&str>,
        limit: Option<&str>,
        default_limit: i64,
    ) -> Result<Self, PagingError> {
        let page = match page.map(whole) {
            None => 1,
            Some(Some(n)) if n <= MAX_PAGE => n.max(1),
            Some(_) => return Err(PagingError::InvalidPage),
        };
        let limit = match limit.map(whole) {
            None => default_limit,
            Some(Some(n)) => n.clamp(1, MAX_LIMIT),
            Some(None) => return Err(PagingError::InvalidLimit),
        };
        Ok(Self { page, limit })
    }

    /// From a raw query string (`page=2&limit=20`).
    pub fn parse(raw: &str, default_limit: i64) -> Result<Self, PagingError> {
        let [page, limit] = first_values(raw, ["page", "limit"]);
        Self::from_values(page.as_deref(), limit.as_deref(), default_limit)
    }
}

/// The first value of each of `names` in a raw query string.
pub fn first_values<const N: usize>(raw: &str, names: [&str; N]) -> [Option<String>; N] {
    let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        if let Some(i) = names.iter().position(|n| *n == name)
            && values[i].is_none()
        {
            values[i] = Some(value.into_owned());
        }
    }
    values
}

/// A whole number written plainly (optional sign, digits), saturating at the i64 bounds.
pub fn whole(text: &str) -> Option<i64> {
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

/// `totalPages` of a list of `total` rows in pages of `limit`.
pub fn total_pages(total: i64, limit: i64) -> i64 {
    if limit <= 0 {
        return 0;
    }
    (total.max(0) + limit - 1) / limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_clamps_and_refusals() {
        let page = |raw| Page::parse(raw, 20);
        assert_eq!(page(""), Ok(Page { page: 1, limit: 20 }));
        assert_eq!(page("page=0&limit=0"), Ok(Page { page: 1, limit: 1 }));
        assert_eq!(
            page("page=-4&limit=500"),
            Ok(Page {
                page: 1,
                limit: 100
            })
        );
        assert_eq!(
            page("page=3&limit=7&page=9"),
            Ok(Page { page: 3, limit: 7 })
        );
        assert_eq!(
            page("limit=99999999999999999999"),
            Ok(Page {
                page: 1,
                limit: 100
            })
        );
        assert_eq!(page("page=10001"), Err(PagingError::InvalidPage));
        assert_eq!(page("page=abc"), Err(PagingError::InvalidPage));
        assert_eq!(page("page=1.5"), Err(PagingError::InvalidPage));
        assert_eq!(page("limit=x"), Err(PagingError::InvalidLimit));
        assert_eq!(page("limit="), Err(PagingError::InvalidLimit));
        assert_eq!(Page { page: 3, limit: 20 }.offset(), 40);
    }

    #[test]
    fn total_pages_round_up() {
        assert_eq!(total_pages(0, 20), 0);
        assert_eq!(total_pages(1, 20), 1);
        assert_eq!(total_pages(40, 20), 2);
        assert_eq!(total_pages(41, 20), 3);
        assert_eq!(total_pages(5, 0), 0);
    }
}
