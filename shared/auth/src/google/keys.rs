//! Google's published signing keys (a JWKS): what a usable key is, how long a fetched set may be
//! cached, and when a token naming a key we do not hold may make us fetch again.
//!
//! Instances are fresh per request, so the set is cached in Redis (the raw JSON, re-parsed per
//! request: a few keys, microseconds), for the `max-age` Google sends, bounded both ways. Google
//! publishes a new key well before it signs with it, so an unknown `kid` usually means a forged
//! or stale token: it may trigger one refetch per [`UNKNOWN_KID_REFETCH_SECS`] for the whole
//! deployment (a Redis `SET NX` guard), never one per request.

use ct_codecs::{Base64UrlSafeNoPadding, Decoder as _};
use rsa::{BigUint, RsaPublicKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Largest key-set body accepted (Google's is about 1.5 KB).
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Most keys a set may hold (Google publishes two or three).
pub const MAX_JWKS_KEYS: usize = 16;
/// RSA modulus bounds: below 2048 bits is breakable, above 4096 only costs verification time.
pub const MIN_RSA_BITS: usize = 2048;
pub const MAX_RSA_BITS: usize = 4096;
/// Longest key id accepted.
pub const MAX_KID_BYTES: usize = 128;
/// Shortest time a fetched set is kept, whatever its `Cache-Control` says (`no-store`, `max-age=0`
/// or none at all): a burst of sign-ins must not become a burst of fetches.
pub const MIN_KEYS_CACHE_SECS: u64 = 60;
/// Longest time a fetched set is kept, whatever its `max-age` says (Google sends about 6 hours).
pub const MAX_KEYS_CACHE_SECS: u64 = 24 * 60 * 60;
/// At most one refetch per this interval because a token named a key the cached set lacks.
pub const UNKNOWN_KID_REFETCH_SECS: u64 = 30;
/// How long one fetch of the set may take before sign-in answers 503.
pub const JWKS_FETCH_TIMEOUT_MS: u32 = 3_000;

/// The usable RS256 keys of a published set, by key id.
#[derive(Debug, Clone)]
pub struct GoogleKeys(Vec<(String, RsaPublicKey)>);

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: Option<String>,
    kid: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

impl Jwk {
    /// The key when it is an RSA signing key for RS256 within the size bounds; anything else in
    /// the set (another type, an encryption key) is skipped.
    fn usable(self) -> Option<(String, RsaPublicKey)> {
        let rsa_signing = self.kty.as_deref() == Some("RSA")
            && self.use_.as_deref().is_none_or(|u| u == "sig")
            && self
                .alg
                .as_deref()
                .is_none_or(|a| a == super::token::ALGORITHM);
        let kid = self
            .kid
            .filter(|k| !k.is_empty() && k.len() <= MAX_KID_BYTES)?;
        if !rsa_signing {
            return None;
        }
        let n = Base64UrlSafeNoPadding::decode_to_vec(self.n?, None).ok()?;
        let e = Base64UrlSafeNoPadding::decode_to_vec(self.e?, None).ok()?;
        let key = RsaPublicKey::new_with_max_size(
            BigUint::from_bytes_be(&n),
            BigUint::from_bytes_be(&e),
            MAX_RSA_BITS,
        )
        .ok()?;
        let bits = rsa::traits::PublicKeyParts::n(&key).bits();
        (bits >= MIN_RSA_BITS).then_some((kid, key))
    }
}

impl GoogleKeys {
    /// Parses a fetched (or cached) set. A set with no usable key is refused: caching it would
    /// refuse every sign-in until it expires.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        if body.len() > MAX_JWKS_BYTES {
            return Err(format!("key set larger than {MAX_JWKS_BYTES} bytes"));
        }
        let jwks: Jwks =
            serde_json::from_slice(body).map_err(|e| format!("key set is not a JWKS: {e}"))?;
        if jwks.keys.len() > MAX_JWKS_KEYS {
            return Err(format!("key set has more than {MAX_JWKS_KEYS} keys"));
        }
        let keys: Vec<_> = jwks.keys.into_iter().filter_map(Jwk::usable).collect();
        if keys.is_empty() {
            return Err("key set has no usable RS256 key".into());
        }
        Ok(Self(keys))
    }

    pub fn get(&self, kid: &str) -> Option<&RsaPublicKey> {
        self.0.iter().find(|(k, _)| k == kid).map(|(_, key)| key)
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.get(kid).is_some()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What to do for a token naming `kid`, given the cached set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysPlan {
    /// The cached set holds the key.
    Use,
    /// Nothing cached (first sign-in, or the set expired): fetch.
    Fetch,
    /// Cached, but without this key: fetch again only if no other request did so within
    /// [`UNKNOWN_KID_REFETCH_SECS`], else refuse the token.
    RefetchIfDue,
}

pub fn plan(cached: Option<&GoogleKeys>, kid: &str) -> KeysPlan {
    match cached {
        None => KeysPlan::Fetch,
        Some(keys) if keys.contains(kid) => KeysPlan::Use,
        Some(_) => KeysPlan::RefetchIfDue,
    }
}

/// How long a fetched set is cached: its `Cache-Control: max-age`, within
/// [`MIN_KEYS_CACHE_SECS`]..=[`MAX_KEYS_CACHE_SECS`] (the minimum when there is none).
pub fn cache_lifetime_secs(cache_control: Option<&str>) -> u64 {
    let max_age = cache_control.and_then(|value| {
        value.split(',').find_map(|directive| {
            let (name, secs) = directive.trim().split_once('=')?;
            if !name.trim().eq_ignore_ascii_case("max-age") {
                return None;
            }
            secs.trim().trim_matches('"').parse::<u64>().ok()
        })
    });
    max_age
        .unwrap_or(0)
        .clamp(MIN_KEYS_CACHE_SECS, MAX_KEYS_CACHE_SECS)
}

/// A short digest of the key-set URL, so a changed `google_jwks_url` never reads the old set.
fn url_tag(jwks_url: &str) -> String {
    Sha256::digest(jwks_url.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `<prefix>:auth:google:jwks:<url tag>`: the cached key set (raw JSON), with its lifetime.
pub fn cache_key(prefix: &str, jwks_url: &str) -> String {
    format!("{prefix}:auth:google:jwks:{}", url_tag(jwks_url))
}

/// `<prefix>:auth:google:jwks-refetch:<url tag>`: set (NX, for [`UNKNOWN_KID_REFETCH_SECS`]) by
/// the one request that may refetch the set for an unknown key id.
pub fn refetch_guard_key(prefix: &str, jwks_url: &str) -> String {
    format!("{prefix}:auth:google:jwks-refetch:{}", url_tag(jwks_url))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ct_codecs::Encoder as _;
    use rsa::traits::PublicKeyParts as _;

    pub(crate) fn b64(bytes: &[u8]) -> String {
        Base64UrlSafeNoPadding::encode_to_string(bytes).unwrap_or_default()
    }

    pub(crate) fn jwk(kid: &str, key: &RsaPublicKey) -> serde_json::Value {
        serde_json::json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be()),
        })
    }

    #[test]
    fn a_published_set_keeps_only_rsa_signing_keys() {
        let key = super::super::token::tests::test_key().to_public_key();
        let set = serde_json::json!({"keys": [
            jwk("good", &key),
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "use": "enc", "kid": "enc", "n": b64(&key.n().to_bytes_be()), "e": "AQAB"},
            {"kty": "RSA", "alg": "RS512", "kid": "rs512", "n": b64(&key.n().to_bytes_be()), "e": "AQAB"},
            {"kty": "RSA", "kid": "small", "n": b64(&[0xff; 128]), "e": "AQAB"},
            {"kty": "RSA", "kid": "broken", "n": "***", "e": "AQAB"},
        ]});
        let keys = GoogleKeys::parse(set.to_string().as_bytes()).expect("one usable key");
        assert_eq!(keys.len(), 1);
        assert!(keys.contains("good"));
        for skipped in ["ec", "enc", "rs512", "small", "broken"] {
            assert!(!keys.contains(skipped), "{skipped}");
        }
    }

    #[test]
    fn a_set_without_usable_keys_or_too_big_is_refused() {
        assert!(GoogleKeys::parse(br#"{"keys":[]}"#).is_err());
        assert!(GoogleKeys::parse(br#"{"nokeys":1}"#).is_err());
        assert!(GoogleKeys::parse(b"<html>").is_err());
        let many =
            serde_json::json!({"keys": vec![serde_json::json!({"kty": "EC"}); MAX_JWKS_KEYS + 1]});
        assert!(GoogleKeys::parse(many.to_string().as_bytes()).is_err());
        assert!(GoogleKeys::parse(&vec![b' '; MAX_JWKS_BYTES + 1]).is_err());
    }

    #[test]
    fn cached_sets_live_for_their_max_age_within_bounds() {
        assert_eq!(
            cache_lifetime_secs(Some("public, max-age=21351, must-revalidate, no-transform")),
            21_351
        );
        assert_eq!(cache_lifetime_secs(Some("MAX-AGE = 600")), 600);
        assert_eq!(cache_lifetime_secs(Some("max-age=5")), MIN_KEYS_CACHE_SECS);
        assert_eq!(cache_lifetime_secs(Some("no-store")), MIN_KEYS_CACHE_SECS);
        assert_eq!(cache_lifetime_secs(None), MIN_KEYS_CACHE_SECS);
        assert_eq!(
            cache_lifetime_secs(Some("max-age=99999999")),
            MAX_KEYS_CACHE_SECS
        );
        assert_eq!(cache_lifetime_secs(Some("max-age=-3")), MIN_KEYS_CACHE_SECS);
    }

    #[test]
    fn an_unknown_kid_refetches_only_when_due() {
        let key = super::super::token::tests::test_key().to_public_key();
        let set = serde_json::json!({"keys": [jwk("k1", &key)]}).to_string();
        let keys = GoogleKeys::parse(set.as_bytes()).expect("valid");
        assert_eq!(plan(None, "k1"), KeysPlan::Fetch);
        assert_eq!(plan(Some(&keys), "k1"), KeysPlan::Use);
        assert_eq!(plan(Some(&keys), "k2"), KeysPlan::RefetchIfDue);
    }

    #[test]
    fn cache_keys_are_under_the_prefix_and_follow_the_url() {
        let a = cache_key("urr", "https://a/certs");
        assert!(a.starts_with("urr:auth:google:jwks:"));
        assert_ne!(a, cache_key("urr", "https://b/certs"));
        assert!(
            refetch_guard_key("urr", "https://a/certs")
                .starts_with("urr:auth:google:jwks-refetch:")
        );
    }
}
