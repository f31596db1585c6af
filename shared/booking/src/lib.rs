//! Seat holds, reservations and idempotency, minus the I/O, shared by components `seat-lock`,
//! `reserve` and `reservations`. No spin-sdk: everything here tests natively.
//!
//! - `error`       — every refusal, with its status, stable `code` and extra fields
//! - `input`       — request bodies parsed into domain types (ids, seat sets, idempotency keys)
//! - `config`      — hold/reservation lifetimes and the per-user caps, from variables
//! - `keys`        — every Redis key, hash-tagged per event
//! - `scripts`     — the Lua scripts (hold, release, align, slot, free) and their replies
//! - `freed`       — the seat holds a cancel owes Redis, as the cancelling functions return them
//! - `idempotency` — the request hash an idempotency record is matched on
//! - `sql`         — the statements the components run (functions of the booking migration)
//! - `outcome`     — what a reserve function's outcome means for the response
//! - `reply`       — the hold and release replies
//! - `seat_map`    — the seat map's shared, compressed copy and how fresh it is
//! - `route`       — which operation a request asks for, per component (method + path)

pub mod config;
pub mod error;
pub mod freed;
pub mod idempotency;
pub mod input;
pub mod keys;
pub mod outcome;
pub mod reply;
pub mod route;
pub mod scripts;
pub mod seat_map;
pub mod sql;

pub use error::BookingError;
pub use input::{EntityId, SeatSet};

/// Most seats one hold or one seated reservation may name (the contract's 4).
pub const MAX_SEATS_PER_REQUEST: usize = 4;
/// Most ticket types in one standing reservation: a buyer picks from an event's few types.
pub const MAX_TICKET_TYPES_PER_REQUEST: usize = 10;
/// Standing tickets of one type per reservation (the contract's 1..10).
pub const MAX_STANDING_QUANTITY: u32 = 10;
