//! The admin statistics routes' pure rules (`GET /stats/*`), shared by the `stats` component and
//! its tests. No spin-sdk and no I/O.
//!
//! - `route` — method + path → which of the 14 figures, the event id parsed at the edge
//! - `query` — `days`, `limit`, `sortBy`, `period`, `eventId` with their defaults and bounds
//! - `sql`   — the one statement per figure (the functions live in migrations/)
//! - `error` — `StatsError` and its mapping to the API error shape

pub mod error;
pub mod query;
pub mod route;
pub mod sql;

pub use error::StatsError;
pub use route::Route;
