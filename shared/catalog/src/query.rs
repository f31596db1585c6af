//! `GET /events` query parameters, parsed into a `ListQuery` the SQL can take as is: a status
//! filter, a LIKE pattern with its metacharacters escaped, a price range, and clamped paging.
//!
//! Out-of-range paging is clamped (the contract says `limit` is clamped to 1..100); text that is
//! not a number at all, an absurd page, a negative price or an unknown status is a 400.

use crate::CatalogError;

/// Events per page when the client does not say.
pub const DEFAULT_LIMIT: i64 = 10;
/// The contract clamps `limit` to 1..100: a page the web client can render at once.
pub const MAX_LIMIT: i64 = 100;
/// Deeper pages than this are absurd for a human-browsed catalog, and a huge OFFSET makes
/// Postgres walk and discard every row before it.
pub const MAX_PAGE: i64 = 10_000;
/// A search box, not a document: longer text is refused before it reaches a trigram index.
pub const MAX_SEARCH_CHARS: usize = 100;
/// One billion won: far above any ticket, far below i32::MAX (prices are `integer` columns).
pub const MAX_PRICE_KRW: i64 = 1_000_000_000;

/// An event's status, computed at read time from the sale window and Postgres' clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    Upcoming,
    OnSale,
    Ended,
    Cancelled,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upcoming => "upcoming",
            Self::OnSale => "on_sale",
            Self::Ended => "ended",
            Self::Cancelled => "cancelled",
        }
    }
}

impl TryFrom<&str> for EventStatus {
    type Error = CatalogError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        match text {
            "upcoming" => Ok(Self::Upcoming),
            "on_sale" => Ok(Self::OnSale),
            "ended" => Ok(Self::Ended),
            "cancelled" => Ok(Self::Cancelled),
            _ => Err(CatalogError::InvalidStatus),
        }
    }
}

/// A validated listing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub status: Option<EventStatus>,
    /// `q` as a LIKE pattern (`%…%`, metacharacters escaped with `\`).
    pub search_pattern: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// 1-based.
    pub page: i64,
    pub limit: i64,
}

impl ListQuery {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.limit
    }

    /// Parses a raw query string (`status=on_sale&q=IU&page=2`). Unknown parameters are ignored;
    /// a repeated parameter counts once, first value wins.
    pub fn parse(raw: &str) -> Result<Self, CatalogError> {
        let mut status = None;
        let mut search = None;
        let mut page = None;
        let mut limit = None;
        let mut min_price = None;
        let mut max_price = None;
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            let slot = match name.as_ref() {
                "status" => &mut status,
                "q" => &mut search,
                "page" => &mut page,
                "limit" => &mut limit,
                "min_price" | "minPrice" => &mut min_price,
                "max_price" | "maxPrice" => &mut max_price,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        let query = Self {
            status: non_empty(status)
                .map(|s| EventStatus::try_from(s.as_str()))
                .transpose()?,
            search_pattern: parse_search(search)?,
            min_price: parse_price(min_price)?,
            max_price: parse_price(max_price)?,
            page: parse_page(page)?,
            limit: parse_limit(limit)?,
        };
        if let (Some(min), Some(max)) = (query.min_price, query.max_price)
            && min > max
        {
            return Err(CatalogError::InvalidPriceRange);
        }
        Ok(query)
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
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

fn parse_page(value: Option<String>) -> Result<i64, CatalogError> {
    let Some(text) = non_empty(value) else {
        return Ok(1);
    };
    match parse_whole(&text) {
        Some(page) if page > MAX_PAGE => Err(CatalogError::InvalidPage),
        Some(page) => Ok(page.max(1)),
        None => Err(CatalogError::InvalidPage),
    }
}

fn parse_limit(value: Option<String>) -> Result<i64, CatalogError> {
    let Some(text) = non_empty(value) else {
        return Ok(DEFAULT_LIMIT);
    };
    parse_whole(&text)
        .map(|limit| limit.clamp(1, MAX_LIMIT))
        .ok_or(CatalogError::InvalidLimit)
}

fn parse_price(value: Option<String>) -> Result<Option<i64>, CatalogError> {
    let Some(text) = non_empty(value) else {
        return Ok(None);
    };
    match parse_whole(&text) {
        Some(price) if (0..=MAX_PRICE_KRW).contains(&price) => Ok(Some(price)),
        _ => Err(CatalogError::InvalidPrice),
    }
}

fn parse_search(value: Option<String>) -> Result<Option<String>, CatalogError> {
    let Some(text) = non_empty(value) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_SEARCH_CHARS || text.chars().any(char::is_control) {
        return Err(CatalogError::InvalidSearch);
    }
    Ok(Some(format!("%{}%", escape_like(&text))))
}

/// Escapes LIKE's metacharacters (`%`, `_` and the escape character `\` itself), so a search
/// for `100%` matches that text and not everything starting with `100`. The SQL states
/// `ESCAPE '\'` explicitly.
pub fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<ListQuery, CatalogError> {
        ListQuery::parse(raw)
    }

    #[test]
    fn an_empty_query_lists_the_first_page_of_everything() {
        let q = parse("").expect("valid");
        assert_eq!(
            q,
            ListQuery {
                status: None,
                search_pattern: None,
                min_price: None,
                max_price: None,
                page: 1,
                limit: DEFAULT_LIMIT,
            }
        );
        assert_eq!(q.offset(), 0);
    }

    #[test]
    fn every_status_parses_and_an_empty_one_means_all() {
        for (text, status) in [
            ("upcoming", EventStatus::Upcoming),
            ("on_sale", EventStatus::OnSale),
            ("ended", EventStatus::Ended),
            ("cancelled", EventStatus::Cancelled),
        ] {
            assert_eq!(
                parse(&format!("status={text}")).expect("valid").status,
                Some(status)
            );
            assert_eq!(status.as_str(), text);
        }
        assert_eq!(parse("status=").expect("valid").status, None);
    }

    #[test]
    fn an_unknown_status_is_refused() {
        for bad in [
            "status=ON_SALE",
            "status=all",
            "status=open",
            "status=on%20sale",
        ] {
            assert_eq!(parse(bad), Err(CatalogError::InvalidStatus), "{bad}");
        }
    }

    #[test]
    fn limit_is_clamped_to_one_through_a_hundred() {
        for (raw, limit) in [
            ("limit=0", 1),
            ("limit=-5", 1),
            ("limit=1", 1),
            ("limit=100", 100),
            ("limit=101", 100),
            ("limit=99999999999999999999999", 100),
            ("limit=+7", 7),
        ] {
            assert_eq!(parse(raw).expect(raw).limit, limit, "{raw}");
        }
    }

    #[test]
    fn page_is_clamped_below_and_refused_when_absurd() {
        assert_eq!(parse("page=0").expect("valid").page, 1);
        assert_eq!(parse("page=-3").expect("valid").page, 1);
        assert_eq!(
            parse(&format!("page={MAX_PAGE}")).expect("valid").page,
            MAX_PAGE
        );
        assert_eq!(
            parse(&format!("page={}", MAX_PAGE + 1)),
            Err(CatalogError::InvalidPage)
        );
        assert_eq!(
            parse("page=99999999999999999999"),
            Err(CatalogError::InvalidPage)
        );
    }

    #[test]
    fn paging_that_is_not_a_number_is_refused() {
        for bad in ["page=abc", "page=1.5", "page=1e3", "page=-", "page=0x10"] {
            assert_eq!(parse(bad), Err(CatalogError::InvalidPage), "{bad}");
        }
        for bad in ["limit=ten", "limit=2.0", "limit=%2B"] {
            assert_eq!(parse(bad), Err(CatalogError::InvalidLimit), "{bad}");
        }
    }

    #[test]
    fn the_offset_follows_page_and_limit() {
        assert_eq!(parse("page=3&limit=20").expect("valid").offset(), 40);
    }

    #[test]
    fn prices_are_whole_non_negative_won_in_either_spelling() {
        let q = parse("min_price=1000&maxPrice=50000").expect("valid");
        assert_eq!((q.min_price, q.max_price), (Some(1000), Some(50000)));
        let q = parse("minPrice=0").expect("valid");
        assert_eq!(q.min_price, Some(0));
        for bad in [
            "min_price=-1",
            "max_price=1.5",
            "min_price=abc",
            "max_price=1000000001",
        ] {
            assert_eq!(parse(bad), Err(CatalogError::InvalidPrice), "{bad}");
        }
        assert_eq!(
            parse("min_price=5&max_price=4"),
            Err(CatalogError::InvalidPriceRange)
        );
    }

    #[test]
    fn search_text_becomes_an_escaped_contains_pattern() {
        let q = parse("q=%20%EC%95%84%EC%9D%B4%EC%9C%A0+").expect("valid");
        assert_eq!(q.search_pattern.as_deref(), Some("%아이유%"));
        let q = parse("q=100%25_off%5C").expect("valid");
        assert_eq!(q.search_pattern.as_deref(), Some("%100\\%\\_off\\\\%"));
        assert_eq!(parse("q=++").expect("valid").search_pattern, None);
    }

    #[test]
    fn like_metacharacters_are_escaped_and_nothing_else() {
        assert_eq!(escape_like("a%b_c\\d"), "a\\%b\\_c\\\\d");
        assert_eq!(escape_like("IU [Live] *"), "IU [Live] *");
        assert_eq!(escape_like(""), "");
    }

    /// SQL `LIKE` with `ESCAPE '\'`, as Postgres evaluates it: the reference for the test below.
    fn like(text: &[char], pattern: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some(('%', rest)) => (0..=text.len()).any(|skip| like(&text[skip..], rest)),
            Some(('_', rest)) => !text.is_empty() && like(&text[1..], rest),
            Some(('\\', rest)) => match (rest.split_first(), text.split_first()) {
                (Some((escaped, rest)), Some((first, tail))) => {
                    escaped == first && like(tail, rest)
                }
                _ => false,
            },
            Some((literal, rest)) => text.first() == Some(literal) && like(&text[1..], rest),
        }
    }

    /// Every string over the metacharacters, up to `len` characters.
    fn strings(len: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..len {
            frontier = frontier
                .iter()
                .flat_map(|s| ['a', '%', '_', '\\'].map(|c| format!("{s}{c}")))
                .collect();
            all.extend(frontier.iter().cloned());
        }
        all
    }

    #[test]
    fn an_escaped_search_matches_exactly_the_texts_that_contain_it() {
        let texts: Vec<Vec<char>> = strings(4).iter().map(|t| t.chars().collect()).collect();
        for needle in strings(3).iter().filter(|n| !n.is_empty()) {
            let pattern: Vec<char> = format!("%{}%", escape_like(needle)).chars().collect();
            for text in &texts {
                let haystack: String = text.iter().collect();
                assert_eq!(
                    like(text, &pattern),
                    haystack.contains(needle.as_str()),
                    "needle {needle:?} in {haystack:?}"
                );
            }
        }
    }

    #[test]
    fn overlong_or_control_character_search_is_refused() {
        let long = "a".repeat(MAX_SEARCH_CHARS + 1);
        assert_eq!(
            parse(&format!("q={long}")),
            Err(CatalogError::InvalidSearch)
        );
        let longest = "가".repeat(MAX_SEARCH_CHARS);
        assert!(parse(&format!("q={longest}")).is_ok());
        assert_eq!(parse("q=a%00b"), Err(CatalogError::InvalidSearch));
    }

    #[test]
    fn the_first_of_repeated_parameters_wins_and_unknown_ones_are_ignored() {
        let q = parse("page=2&page=5&utm_source=x&sort=evil").expect("valid");
        assert_eq!(q.page, 2);
    }
}
