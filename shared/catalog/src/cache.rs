//! CDN-friendly caching of public catalog reads: every 200 carries `Cache-Control` for a short
//! shared cache and a strong ETag over its exact body (`urr_api::cache`), and a matching
//! `If-None-Match` gets a 304 without the body.

pub use urr_api::cache::{if_none_match_matches, strong_etag};

/// Browsers revalidate every time (`max-age=0`); the CDN keeps a reply 5 s and may serve it up to
/// 30 s stale while it refetches, so an on-sale rush hits the origin about once per 5 s per URL
/// and a status change shows within seconds.
pub const PUBLIC_CACHE_CONTROL: &str = "public, max-age=0, s-maxage=5, stale-while-revalidate=30";

/// Replies that must never be cached anywhere (the server clock).
pub const NO_STORE: &str = "no-store";
