//! The spin-sdk side of the session, shared by components `auth` and `auth-refresh` so both
//! handlers stay thin: the signing key, the auth rate limit and login throttle, and the response
//! that issues or clears a session. Who is calling, the origin rule and the body are every
//! component's (`urr_component`); decisions live in `urr-auth`, `urr-tokens` and
//! `urr-ratelimit`.

pub mod limits;
pub mod request;
pub mod respond;
pub mod settings;
pub mod store;
