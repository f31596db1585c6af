//! The auth domain, free of I/O so it tests natively: what a valid registration or login body is,
//! how passwords are hashed (Argon2id at or above the OWASP floor), what a refresh token is and
//! how it is stored, what each rotation outcome means to the client, how failed logins are
//! throttled per account, and the SQL the components run.
//!
//! - `input`    — request bodies → domain values, every refusal with a stable `code`
//! - `password` — Argon2id parameters, the floor, hashing and equal-work verification
//! - `refresh`  — opaque refresh tokens, their hashes, the wrapped child, rotation outcomes
//! - `throttle` — per-account login failure quota
//! - `google`   — Google sign-in: the published keys, the ID token and its claims
//! - `route`    — which session operation a request asks for (method + path → `Route`)
//! - `sql`      — the statements (each one round trip; the functions live in migrations/)
//! - `error`    — `AuthError` and its mapping to the API error shape

pub mod error;
pub mod google;
pub mod input;
pub mod password;
pub mod refresh;
pub mod route;
pub mod sql;
pub mod throttle;

pub use error::AuthError;
