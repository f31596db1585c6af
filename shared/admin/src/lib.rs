//! The admin routes' pure rules, shared by the `admin` component and its tests. No spin-sdk and
//! no I/O, so everything here tests natively.
//!
//! - `route`   — method + path → the admin operation, ids parsed at the edge
//! - `input`   — request bodies → validated changes, each limit named, each refusal with a `code`
//! - `query`   — the list routes' query strings (paging, filters)
//! - `time`    — ISO-8601 timestamps in request bodies → Unix seconds
//! - `outcome` — what each SQL function's `outcome` means to the client (404, 409, ...)
//! - `reply`   — rows in, JSON out
//! - `sql`     — every statement the component runs (the functions live in migrations/)
//! - `error`   — `AdminError` and its mapping to the API error shape

pub mod error;
pub mod input;
pub mod live;
pub mod outcome;
pub mod query;
pub mod reply;
pub mod route;
pub mod sql;
pub mod time;

pub use error::AdminError;
pub use route::Route;
