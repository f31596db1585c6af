//! The statements the auth components run: each is one round trip, and every multi-row change is
//! a SQL function from migrations/ (20261125000002_auth.sql). UUIDs and JSON cross as text.

/// $1 email (normalized), $2 PHC hash, $3 name, $4 phone or NULL, $5 refresh-token hash,
/// $6 refresh TTL (s) → `outcome` (`created` | `email_taken`), `user_json`, `family_id`.
pub const REGISTER: &str = "SELECT outcome, user_json::text AS user_json, family_id \
     FROM auth_register($1, $2, $3, $4, $5, $6)";

/// $1 normalized email → `id`, `password_hash` (no row: unknown email).
pub const FIND_LOGIN: &str =
    "SELECT id::text AS id, password_hash FROM users WHERE lower(email) = lower($1)";

/// $1 user id, $2 refresh-token hash, $3 refresh TTL (s) → `outcome`, `user_json`, `family_id`.
pub const START_SESSION: &str = "SELECT outcome, user_json::text AS user_json, family_id \
     FROM auth_start_session($1::uuid, $2, $3)";

/// $1 presented token hash, $2 child hash, $3 wrapped child, $4 grace (ms), $5 TTL (s) →
/// `outcome`, `user_json`, `family_id`, `user_id`, `child_wrapped`.
pub const ROTATE: &str = "SELECT outcome, user_json::text AS user_json, family_id, user_id, \
     child_wrapped FROM auth_rotate_refresh($1, $2, $3, $4, $5)";

/// $1 user id, $2 family id, $3 every family?, $4 access TTL (s), $5 limit → `family_id` rows
/// whose access tokens may still be alive.
pub const LOGOUT: &str = "SELECT family_id FROM auth_logout($1::uuid, $2::uuid, $3, $4, $5)";

/// $1 user id → `user_json`.
pub const ME: &str =
    "SELECT auth_user_json(u)::text AS user_json FROM users u WHERE u.id = $1::uuid";

/// Most families a logout deny-lists at once (the newest): more live sessions than this within
/// half an hour is not a real user.
pub const MAX_DENY_FAMILIES: i32 = 100;

/// $1 Google `sub`, $2 verified email (normalized), $3 display name, $4 picture URL or NULL,
/// $5 refresh-token hash, $6 refresh TTL (s) → `outcome` (`signed_in` | `linked` | `created` |
/// `mismatch`), `user_json` (with `picture`), `family_id`. Links by `sub`, else by email, else
/// creates the account, and starts a session, in one call (migrations/20261208000031).
pub const GOOGLE_SIGN_IN: &str = "SELECT outcome, user_json::text AS user_json, family_id \
     FROM auth_google_sign_in($1, $2, $3, $4, $5, $6)";
