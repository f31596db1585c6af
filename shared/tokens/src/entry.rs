//! Queue entry tokens: proof that a user was admitted from the waiting room of ONE event.
//!
//! Signed by the queue components' own Ed25519 key (`queue_signing_key` / `queue_signing_kid`,
//! held only by `queue-join` and `queue`), verified by seat-lock, reserve and reservations with
//! the public set `queue_public_keys` (same `kid:base64` format as `jwt_public_keys`). A leaked
//! access-token key therefore cannot forge admission, and the reverse.
//!
//! Claims: `sub` (user id), `evt` (event id), `typ` = `entry`, `jti`, `iss`, `aud` = `urr-entry`,
//! `iat`, `exp` (10 minutes). The token is reusable until it expires; whether the user's active
//! slot still exists is a Redis question the verifying component asks separately.

use crate::access::{ISSUER, TokenError};
use crate::keys::{KeySet, SigningKey};
use jwt_simple::prelude::*;

/// `aud` of every entry token: distinct from access tokens so neither passes as the other.
pub const ENTRY_AUDIENCE: &str = "urr-entry";
/// The `typ` claim of an entry token.
pub const ENTRY_TYPE: &str = "entry";
/// Entry-token lifetime: the contract's 10 minutes, the default active-slot lifetime.
pub const ENTRY_TTL_SECS: u64 = 10 * 60;
/// Clock drift tolerated on `exp`/`nbf`/`iat` (as for access tokens).
pub const ENTRY_LEEWAY_SECS: u64 = 30;
/// The header the web client sends the entry token in.
pub const ENTRY_TOKEN_HEADER: &str = "x-queue-entry-token";

/// The claims beyond the registered ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryClaims {
    /// The event this admission is for.
    pub evt: String,
    /// Token type: `entry`; anything else is refused.
    pub typ: String,
}

/// What a verified entry token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub user_id: String,
    pub event_id: String,
    pub token_id: String,
    pub expires_at_secs: u64,
}

/// Why an otherwise valid entry token does not admit this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EntryMismatch {
    #[error("entry token is for another event")]
    OtherEvent,
    #[error("entry token is for another user")]
    OtherUser,
}

impl Entry {
    /// The token admits exactly its own user to its own event.
    pub fn admits(&self, user_id: &str, event_id: &str) -> Result<(), EntryMismatch> {
        if !self.event_id.eq_ignore_ascii_case(event_id) {
            return Err(EntryMismatch::OtherEvent);
        }
        if self.user_id != user_id {
            return Err(EntryMismatch::OtherUser);
        }
        Ok(())
    }
}

/// Signs an entry token admitting `user_id` to `event_id` for [`ENTRY_TTL_SECS`].
pub fn mint_entry(key: &SigningKey, user_id: &str, event_id: &str) -> Result<String, TokenError> {
    mint_entry_for(key, user_id, event_id, ENTRY_TTL_SECS)
}

/// Like [`mint_entry`] with an explicit lifetime (a slot that ends sooner gets a shorter token).
pub fn mint_entry_for(
    key: &SigningKey,
    user_id: &str,
    event_id: &str,
    ttl_secs: u64,
) -> Result<String, TokenError> {
    let jti = crate::random_bytes::<16>()
        .map_err(|e| TokenError::Signing(e.to_string()))
        .and_then(|b| {
            Base64UrlSafeNoPadding::encode_to_string(b)
                .map_err(|e| TokenError::Signing(e.to_string()))
        })?;
    let claims = Claims::with_custom_claims(
        EntryClaims {
            evt: event_id.to_ascii_lowercase(),
            typ: ENTRY_TYPE.to_string(),
        },
        Duration::from_secs(ttl_secs.clamp(1, ENTRY_TTL_SECS)),
    )
    .with_issuer(ISSUER)
    .with_audience(ENTRY_AUDIENCE)
    .with_subject(user_id)
    .with_jwt_id(jti);
    key.key_pair
        .sign(claims)
        .map_err(|e| TokenError::Signing(e.to_string()))
}

/// Verifies an entry token against the queue's public key set, with the same pinned checks as
/// access tokens (size, `alg`, `kid` before any key is touched, then claims and signature).
pub fn verify_entry(keys: &KeySet, token: &str) -> Result<Entry, TokenError> {
    inspect_entry(keys, token)?.verify_signature()
}

/// An entry token that passed every check but the signature. The seat routes need either a live
/// active slot in Redis (the queue's own record of the admission, authoritative and stronger
/// than the token) or, when Redis cannot answer, the verified signature: they inspect first and
/// verify only on that fallback, saving an Ed25519 verification on every seat request.
pub struct InspectedEntry<'a> {
    entry: Entry,
    inspected: crate::jws::Inspected<'a, EntryClaims>,
}

impl InspectedEntry<'_> {
    /// What the token claims (not yet proven by its signature).
    pub fn claimed(&self) -> &Entry {
        &self.entry
    }

    pub fn verify_signature(self) -> Result<Entry, TokenError> {
        self.inspected.verify_signature()?;
        Ok(self.entry)
    }
}

/// Every check of [`verify_entry`] except the signature (see [`InspectedEntry`]).
pub fn inspect_entry<'a>(
    keys: &'a KeySet,
    token: &'a str,
) -> Result<InspectedEntry<'a>, TokenError> {
    let inspected = crate::jws::inspect::<EntryClaims>(
        keys,
        token,
        crate::jws::Rules {
            audience: ENTRY_AUDIENCE,
            leeway_secs: ENTRY_LEEWAY_SECS,
        },
    )?;
    let claims = &inspected.claims;
    let expires_at = claims.expires_at.ok_or(TokenError::Claims("exp"))?;
    claims.issued_at.ok_or(TokenError::Claims("iat"))?;
    if claims.custom.typ != ENTRY_TYPE {
        return Err(TokenError::WrongType);
    }
    if claims.custom.evt.is_empty() {
        return Err(TokenError::Claims("evt"));
    }
    let user_id = claims
        .subject
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or(TokenError::Claims("sub"))?;
    let token_id = claims
        .jwt_id
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or(TokenError::Claims("jti"))?;
    let entry = Entry {
        user_id,
        event_id: claims.custom.evt.clone(),
        token_id,
        expires_at_secs: expires_at.as_secs(),
    };
    Ok(InspectedEntry { entry, inspected })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Role, mint_access};

    const EVENT: &str = "0b9b7c1e-6f1a-4a53-9d4e-3f0c2a7e9a10";

    fn keys(kid: &str) -> (SigningKey, KeySet) {
        let key = SigningKey::generate(kid).expect("key");
        let set = KeySet::parse(&key.public_entry()).expect("set");
        (key, set)
    }

    #[test]
    fn a_minted_entry_token_admits_its_user_to_its_event_only() {
        let (key, set) = keys("queue-1");
        let token = mint_entry(&key, "u1", &EVENT.to_uppercase()).expect("token");
        let entry = verify_entry(&set, &token).expect("valid");
        assert_eq!(entry.event_id, EVENT);
        assert_eq!(entry.admits("u1", EVENT), Ok(()));
        assert_eq!(
            entry.admits("u1", "5d1c8a0e-0000-4000-8000-000000000000"),
            Err(EntryMismatch::OtherEvent)
        );
        assert_eq!(entry.admits("u2", EVENT), Err(EntryMismatch::OtherUser));
    }

    #[test]
    fn access_and_entry_tokens_never_pass_as_each_other() {
        let (key, set) = keys("shared-kid");
        let access = mint_access(&key, "u1", "a@b.c", Role::User, "f").expect("access");
        assert!(verify_entry(&set, &access).is_err());
        let entry = mint_entry(&key, "u1", EVENT).expect("entry");
        assert!(crate::access::verify_access(&set, &entry).is_err());
    }

    #[test]
    fn another_key_or_a_tampered_token_is_refused() {
        let (_, set) = keys("queue-1");
        let (other, _) = keys("queue-1");
        let forged = mint_entry(&other, "u1", EVENT).expect("token");
        assert!(verify_entry(&set, &forged).is_err());
        assert!(verify_entry(&set, "not.a.token").is_err());
        // Inspection reads the claims of a well-formed forgery; only the signature refuses it.
        let inspected = inspect_entry(&set, &forged).expect("well-formed");
        assert_eq!(inspected.claimed().user_id, "u1");
        assert!(inspected.verify_signature().is_err());
        assert!(inspect_entry(&set, "not.a.token").is_err());
    }

    #[test]
    fn expired_entry_tokens_are_refused() {
        let (key, set) = keys("queue-1");
        let now = Clock::now_since_epoch().as_secs();
        let claims = serde_json::json!({
            "sub": "u1", "evt": EVENT, "typ": "entry", "jti": "j", "iss": ISSUER,
            "aud": ENTRY_AUDIENCE, "iat": now - 1000, "exp": now - ENTRY_LEEWAY_SECS - 5,
        });
        let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": "queue-1"});
        let token = key.sign_raw(&header.to_string(), &claims.to_string());
        assert!(matches!(
            verify_entry(&set, &token),
            Err(TokenError::Rejected(_))
        ));
    }
}
