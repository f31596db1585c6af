//! The public event catalog's pure rules, shared by the `catalog` component (and, for the data it
//! writes, the `admin` component). No spin-sdk and no I/O, so everything here tests natively.
//!
//! - `error`  — bad input, each with a stable `code`, mapped to the API's 400
//! - `query`  — `GET /events` query parameters: status, search, price range, paging
//! - `id`     — UUID path parameters
//! - `cache`  — CDN cache headers, strong ETags, `If-None-Match`
//! - `reply`  — database rows in, the contract's JSON shapes out
//! - `route`  — which read a request asks for (method + path → `Route`)
//! - `sql`    — every statement the catalog runs

pub mod cache;
pub mod error;
pub mod id;
pub mod query;
pub mod reply;
pub mod route;
pub mod sql;

pub use error::CatalogError;
pub use id::EntityId;
pub use query::{EventStatus, ListQuery};
pub use route::Route;
