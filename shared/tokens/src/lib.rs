//! Access and queue entry tokens and the session around them, shared by every component: the
//! public key set (current + previous) that verifies, the signing key only `auth` and
//! `auth-refresh` hold, the user extractor (Bearer or cookie), the session cookies, the CSRF
//! origin rule, and the deny-list key that revoked refresh families leave behind. Pure: no spin-sdk, no I/O.
//!
//! - `keys`    — `jwt_public_keys` / `jwt_signing_key` parsing
//! - `access`  — claims, minting and the pinned verification
//! - `session` — credentials from a request, cookies, the CSRF rule, deny-list keys
//! - `entry`   — queue entry tokens (the queue's own key), bound to one event and one user

/// jwt-simple itself, for tests that forge tokens with other algorithms (HS256 etc.).
#[cfg(feature = "test-support")]
pub use jwt_simple;

pub mod access;
pub mod entry;
mod jws;
pub mod keys;
pub mod session;

pub use access::{
    ACCESS_LEEWAY_SECS, ACCESS_TTL_SECS, AUDIENCE, AccessClaims, AccessUser, ISSUER,
    MAX_TOKEN_BYTES, Role, TokenError, mint_access, verify_access,
};
pub use entry::{
    ENTRY_TOKEN_HEADER, ENTRY_TTL_SECS, Entry, EntryMismatch, InspectedEntry, inspect_entry,
    mint_entry, mint_entry_for, verify_entry,
};
pub use keys::{KeyError, KeySet, SigningKey};
pub use session::{
    ACCESS_COOKIE, AllowedOrigins, Credential, CredentialSource, CsrfError, DENY_FAMILIES_SCRIPT,
    DENY_FAMILIES_SCRIPT_SHA1, DENY_TTL_SECS, LEGACY_ACCESS_COOKIE, LEGACY_REFRESH_COOKIE,
    REFRESH_COOKIE, REFRESH_TTL_SECS, access_cookie, check_csrf, clearing_cookies, cookie_value,
    deny_family_key, find_credential, own_origin, refresh_cookie, refresh_cookie_line,
};

/// Fills `buf` from the platform's secure random source (WASI `random` inside a component).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)?;
    Ok(buf)
}
