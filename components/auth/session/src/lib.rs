//! The spin-sdk side of the session, shared by components `auth` and `auth-refresh` so both
//! handlers stay thin: settings from variables, the request's body and origin checks, the GCRA
//! limiter over Redis (EVALSHA, EVAL on NOSCRIPT), the authenticated user with the family
//! deny-list, and the response that issues or clears a session. Decisions live in `urr-auth`,
//! `urr-tokens` and `urr-ratelimit`; the limiter and extractor parts are generic and move to the
//! shared glue crate once other components need them.

pub mod limits;
pub mod request;
pub mod respond;
pub mod settings;
pub mod store;
pub mod user;

pub use settings::Settings;
