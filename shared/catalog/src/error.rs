//! Bad catalog input. Each variant has a stable `code` clients and tests may match on; all of
//! them are 400s, never a 500.

use urr_api::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("The id must be a UUID")]
    InvalidId,
    #[error("`status` must be one of upcoming, on_sale, ended, cancelled")]
    InvalidStatus,
    #[error("`page` must be a whole number from 1 to {max}", max = crate::query::MAX_PAGE)]
    InvalidPage,
    #[error("`limit` must be a whole number")]
    InvalidLimit,
    #[error("Prices must be whole numbers of won from 0 to {max}", max = crate::query::MAX_PRICE_KRW)]
    InvalidPrice,
    #[error("`min_price` must not be above `max_price`")]
    InvalidPriceRange,
    #[error("The search text must be at most {max} characters, without control characters", max = crate::query::MAX_SEARCH_CHARS)]
    InvalidSearch,
}

impl CatalogError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidId => "invalid_id",
            Self::InvalidStatus => "invalid_status",
            Self::InvalidPage => "invalid_page",
            Self::InvalidLimit => "invalid_limit",
            Self::InvalidPrice => "invalid_price",
            Self::InvalidPriceRange => "invalid_price_range",
            Self::InvalidSearch => "invalid_search",
        }
    }
}

impl From<CatalogError> for ApiError {
    fn from(err: CatalogError) -> Self {
        ApiError::bad_request(err.code(), err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_error_is_a_400_with_its_code() {
        let err = ApiError::from(CatalogError::InvalidPriceRange);
        assert_eq!(err.status, 400);
        assert_eq!(err.code, "invalid_price_range");
        assert!(err.message.contains("max_price"));
    }
}
