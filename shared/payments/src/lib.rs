//! Payments, minus the I/O. Components `pay` and `payments` parse requests here, shape every
//! provider request and read every provider answer here (behind the [`provider::PaymentProvider`]
//! trait), verify webhook signatures here, and run the SQL named here. The mock payment provider
//! speaks the same wire types, so both sides of the protocol live in one place.
//!
//! - `input`    — request bodies and query strings, parsed into domain types (bad input: 400)
//! - `error`    — the payment errors with their status and stable code
//! - `provider` — the provider's wire protocol: requests to send, answers to classify
//! - `webhook`  — HMAC-SHA256 signatures over `timestamp + "." + body`, with a tolerance window
//! - `reply`    — the response bodies of the contract
//! - `route`    — which operation a request asks for, per component (method + path)
//! - `sql`      — the statements (each calls one SQL function of the payments migration)
//! - `development` — development mode and the mock provider's well-known values (refused outside it)

pub mod development;
pub mod error;
pub mod input;
pub mod provider;
pub mod reply;
pub mod route;
pub mod sql;
pub mod webhook;

pub use error::PaymentError;
