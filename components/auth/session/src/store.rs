//! The session store: `urr_component::pg` as the `urr_auth` role, where every failure is a 503
//! (logged, never shown).

use urr_component::pg::Store;

pub const STORE: Store = Store::always_unavailable("auth");
