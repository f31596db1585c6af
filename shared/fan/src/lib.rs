//! The fan side of URR: artists, their memberships and ticket resale, shared by the `artists`,
//! `memberships` and `transfers` components. No spin-sdk and no I/O, so everything here tests natively.
//!
//! - `error`  — bad input and refusals, each with its status and stable `code`
//! - `paging` — `page` / `limit` of `GET /artists`
//! - `input`  — request bodies: artist writes, subscribe
//! - `tier`   — tiers from points, the benefits table, BRONZE for non-members
//! - `route`  — which operation a request asks for (method + path → a typed route)
//! - `transfer` — resale: the price rule, routes, the listing body and the browse query
//! - `sql`    — every statement the three components run

pub mod error;
pub mod input;
pub mod paging;
pub mod route;
pub mod sql;
pub mod tier;
pub mod transfer;

pub use error::FanError;

/// An id in its canonical form (lower-case, hyphenated), parsed at the edge so a malformed id is
/// a 400 `invalid_id` and never reaches Postgres as a cast error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Id(String);

impl Id {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for Id {
    type Error = FanError;

    fn try_from(text: &str) -> Result<Self, FanError> {
        urr_api::id::canonical_uuid(text)
            .map(Self)
            .ok_or(FanError::InvalidId)
    }
}
