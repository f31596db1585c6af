//! The keys: `jwt_public_keys` (every verifying component) and `jwt_signing_key` +
//! `jwt_signing_kid` (only `auth` and `auth-refresh`).
//!
//! Formats (docs/auth.md):
//! - `jwt_public_keys`: `kid:base64(raw 32-byte Ed25519 public key)`, comma-separated, current key
//!   first, then the previous one while tokens signed by it may still be alive.
//! - `jwt_signing_key`: the Ed25519 private key as PEM PKCS#8 (`openssl genpkey -algorithm ed25519`).

use ed25519_dalek::VerifyingKey;
use jwt_simple::prelude::*;

/// At most this many keys verify at once: the current and the previous one, with room for an
/// overlapping emergency rotation. A longer list is a configuration mistake.
pub const MAX_PUBLIC_KEYS: usize = 4;

/// Longest key id accepted: it is copied into every token header.
pub const MAX_KID_BYTES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("jwt_public_keys is empty")]
    NoPublicKeys,
    #[error("jwt_public_keys lists more than {MAX_PUBLIC_KEYS} keys")]
    TooManyKeys,
    #[error("jwt_public_keys entry {0} is not `kid:base64(32-byte key)`")]
    MalformedPublicKey(usize),
    #[error("key id `{0}` is empty, too long or not [A-Za-z0-9._-]")]
    BadKid(String),
    #[error("key id `{0}` appears twice")]
    DuplicateKid(String),
    #[error("jwt_signing_key is not an Ed25519 PEM PKCS#8 private key")]
    MalformedSigningKey,
}

fn check_kid(kid: &str) -> Result<(), KeyError> {
    let ok = !kid.is_empty()
        && kid.len() <= MAX_KID_BYTES
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(KeyError::BadKid(kid.to_string()))
    }
}

/// The public keys tokens are verified with, by key id. Kept as raw bytes: components parse the
/// set on every request, and a key is decompressed into a curve point (a field exponentiation,
/// about a tenth of a verification) only when a token names it (see `jws`).
#[derive(Clone)]
pub struct KeySet {
    keys: Vec<(String, [u8; 32])>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("kids", &self.kids().collect::<Vec<_>>())
            .finish()
    }
}

impl KeySet {
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let mut keys: Vec<(String, [u8; 32])> = Vec::new();
        for (index, entry) in text
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let (kid, encoded) = entry
                .split_once(':')
                .ok_or(KeyError::MalformedPublicKey(index))?;
            let kid = kid.trim();
            check_kid(kid)?;
            if keys.iter().any(|(k, _)| k == kid) {
                return Err(KeyError::DuplicateKid(kid.to_string()));
            }
            let raw = Base64::decode_to_vec(encoded.trim(), None)
                .map_err(|_| KeyError::MalformedPublicKey(index))?;
            let raw: [u8; 32] = raw
                .try_into()
                .map_err(|_| KeyError::MalformedPublicKey(index))?;
            keys.push((kid.to_string(), raw));
            if keys.len() > MAX_PUBLIC_KEYS {
                return Err(KeyError::TooManyKeys);
            }
        }
        if keys.is_empty() {
            return Err(KeyError::NoPublicKeys);
        }
        Ok(Self { keys })
    }

    /// One `jwt_public_keys` entry for a raw public key.
    pub fn format_entry(kid: &str, public_key: &[u8]) -> String {
        format!(
            "{kid}:{}",
            Base64::encode_to_string(public_key).unwrap_or_default()
        )
    }

    /// The key `kid` names, as a curve point; `None` for an unknown id or bytes that are not a
    /// valid point (boot checks refuse such a set with [`KeySet::check_points`]).
    pub fn verifier(&self, kid: &str) -> Option<VerifyingKey> {
        self.keys
            .iter()
            .find(|(k, _)| k == kid)
            .and_then(|(_, raw)| VerifyingKey::from_bytes(raw).ok())
    }

    /// Every key decompresses to a valid curve point (the host checks this once at boot).
    pub fn check_points(&self) -> Result<(), KeyError> {
        for (index, (_, raw)) in self.keys.iter().enumerate() {
            VerifyingKey::from_bytes(raw).map_err(|_| KeyError::MalformedPublicKey(index))?;
        }
        Ok(())
    }

    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(k, _)| k.as_str())
    }
}

/// The current private key and its id. Its `Debug` never prints the key.
pub struct SigningKey {
    pub(crate) key_pair: Ed25519KeyPair,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn from_pem(pem: &str, kid: &str) -> Result<Self, KeyError> {
        let kid = kid.trim();
        check_kid(kid)?;
        let key_pair = Ed25519KeyPair::from_pem(pem.trim())
            .map_err(|_| KeyError::MalformedSigningKey)?
            .with_key_id(kid);
        Ok(Self {
            key_pair,
            kid: kid.to_string(),
        })
    }

    /// A fresh key pair (development keys and tests; production keys come from the secret store).
    pub fn generate(kid: &str) -> Result<Self, KeyError> {
        check_kid(kid)?;
        Ok(Self {
            key_pair: Ed25519KeyPair::generate().with_key_id(kid),
            kid: kid.to_string(),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn to_pem(&self) -> String {
        self.key_pair.to_pem()
    }

    /// The raw 32-byte public key.
    pub fn public_key_bytes(&self) -> Vec<u8> {
        self.key_pair.public_key().to_bytes()
    }

    /// Signs an arbitrary header and claims set, exactly as given: the negative test matrix needs
    /// tokens jwt-simple would never produce. Not for production paths.
    #[cfg(any(test, feature = "test-support"))]
    pub fn sign_raw(&self, header_json: &str, claims_json: &str) -> String {
        let encode =
            |bytes: &[u8]| Base64UrlSafeNoPadding::encode_to_string(bytes).unwrap_or_default();
        let signing_input = format!(
            "{}.{}",
            encode(header_json.as_bytes()),
            encode(claims_json.as_bytes())
        );
        let signature = self
            .key_pair
            .key_pair()
            .as_ref()
            .sk
            .sign(signing_input.as_bytes(), None);
        format!("{signing_input}.{}", encode(signature.as_ref()))
    }

    /// This key's `jwt_public_keys` entry.
    pub fn public_entry(&self) -> String {
        KeySet::format_entry(&self.kid, &self.public_key_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_set_parses_current_and_previous_keys() {
        let a = SigningKey::generate("k2").expect("key");
        let b = SigningKey::generate("k1").expect("key");
        let set = KeySet::parse(&format!("{}, {}", a.public_entry(), b.public_entry()))
            .expect("valid set");
        assert_eq!(set.kids().collect::<Vec<_>>(), vec!["k2", "k1"]);
        assert!(set.verifier("k1").is_some());
        assert!(set.verifier("k3").is_none());
    }

    #[test]
    fn malformed_key_sets_are_refused() {
        let a = SigningKey::generate("k").expect("key");
        assert_eq!(KeySet::parse(" ").err(), Some(KeyError::NoPublicKeys));
        assert!(matches!(
            KeySet::parse("k:AAAA"),
            Err(KeyError::MalformedPublicKey(0))
        ));
        assert!(matches!(
            KeySet::parse("no-colon"),
            Err(KeyError::MalformedPublicKey(0))
        ));
        assert!(matches!(
            KeySet::parse(&format!("{},{}", a.public_entry(), a.public_entry())),
            Err(KeyError::DuplicateKid(_))
        ));
        assert!(matches!(
            KeySet::parse(&a.public_entry().replacen('k', "bad kid", 1)),
            Err(KeyError::BadKid(_))
        ));
    }

    #[test]
    fn bytes_that_are_no_curve_point_fail_the_point_check() {
        // Some 32-byte strings decode to no point on the curve; find one (about half do).
        let raw = (0u8..=255)
            .map(|b| [b; 32])
            .find(|raw| VerifyingKey::from_bytes(raw).is_err())
            .expect("an invalid encoding");
        let set = KeySet::parse(&KeySet::format_entry("k", &raw)).expect("well-formed");
        assert!(set.verifier("k").is_none());
        assert_eq!(set.check_points(), Err(KeyError::MalformedPublicKey(0)));
        let good = SigningKey::generate("g").expect("key");
        let set = KeySet::parse(&good.public_entry()).expect("set");
        assert_eq!(set.check_points(), Ok(()));
        assert!(set.verifier("g").is_some());
    }

    #[test]
    fn a_signing_key_round_trips_through_pem_and_hides_itself_in_debug() {
        let key = SigningKey::generate("dev-1").expect("key");
        let again = SigningKey::from_pem(&key.to_pem(), "dev-1").expect("pem parses");
        assert_eq!(key.public_key_bytes(), again.public_key_bytes());
        assert!(!format!("{key:?}").contains("PRIVATE"));
        assert_eq!(
            SigningKey::from_pem("not a key", "k").err(),
            Some(KeyError::MalformedSigningKey)
        );
    }
}
