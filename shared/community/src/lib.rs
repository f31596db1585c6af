//! The community board's and the news' pure rules, shared by the `community` and `news`
//! components and their tests. No spin-sdk and no I/O, so everything here tests natively.
//!
//! - `route`   — method + path → the operation, ids parsed at the edge
//! - `query`   — the list routes' query strings (paging, the artist filter)
//! - `input`   — request bodies → validated text, each limit named, each refusal with a `code`
//! - `outcome` — what each SQL function's `outcome` means to the client (401, 403, 404)
//! - `reply`   — rows in, JSON out (content is raw text: the web renders it as text)
//! - `sql`     — every statement the components run (the functions live in migrations/)
//! - `error`   — `CommunityError` and its mapping to the API error shape

pub mod error;
pub mod input;
pub mod outcome;
pub mod query;
pub mod reply;
pub mod route;
pub mod sql;

pub use error::CommunityError;
pub use route::{CommunityRoute, NewsRoute};

/// An id in a path, a query or a body, in its canonical form (lower-case, hyphenated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Id(String);

impl Id {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for Id {
    type Error = CommunityError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        urr_api::id::canonical_uuid(text)
            .map(Self)
            .ok_or(CommunityError::InvalidId)
    }
}
