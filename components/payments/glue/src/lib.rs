//! The spin-sdk side of payments, shared by components `pay` and `payments` so both stay thin:
//! settings from variables, the caller (authenticated, origin-checked, rate-limited), the
//! provider over `wasi:http` with its own timeout, the payment SQL calls, and the steps that
//! settle a capture, deliver a refund and resolve a payment whose outcome is unknown. Decisions
//! live in `urr-payments` and in the SQL functions.

pub mod caller;
pub mod provider;
pub mod settings;
pub mod settle;
pub mod store;

pub use settings::PaySettings;
