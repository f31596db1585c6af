//! The virtual waiting room's pure rules, shared by the `queue-join` and `queue` components (and,
//! for the slot check, by every component that acts for an admitted user). No spin-sdk, no I/O.
//!
//! - `keys`     — the Redis key layout of one event's waiting room (hash-tagged `{evt:<id>}`)
//! - `scripts`  — the Lua scripts (visit, leave, slot touch) with their SHA-1s and arguments
//! - `settings` — the `queue_settings` variable: threshold, admission rate, slot lifetimes
//! - `event`    — whether an event takes joins now (the gate at the surge), its SQL and cache
//! - `reply`    — a visit's outcome in, the contract's JSON out (positions, ETA, next poll)
//! - `fair`     — fair start: the pre-sale pool's seed, its published hash and each user's draw
//! - `error`    — bad input and refusals, each with a stable `code`
//! - `id`       — UUID path parameters
//! - `route`    — which operation a request asks for (method + path → `Route`)

pub mod error;
pub mod event;
pub mod fair;
pub mod id;
pub mod keys;
pub mod reply;
pub mod route;
pub mod scripts;
pub mod settings;

pub use error::QueueError;
pub use id::Uuid;
pub use keys::EventKeys;
pub use route::Route;
pub use scripts::{
    LEAVE_SCRIPT, LEAVE_SCRIPT_SHA1, Mode, SLOT_TOUCH_SCRIPT, SLOT_TOUCH_SCRIPT_SHA1, SlotTouch,
    VISIT_SCRIPT, VISIT_SCRIPT_SHA1, Visit,
};
pub use settings::QueueSettings;
