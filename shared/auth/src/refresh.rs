//! Refresh tokens: 256 random bits, shown to the client as base64url, stored as a SHA-256 hash.
//! Rotation spends a token and issues its child; the child is kept wrapped under a key derived
//! from the spent token, so a replay inside the grace window can return the very same child while
//! the database alone never holds a usable token.

use ct_codecs::{Base64UrlSafeNoPadding, Decoder as _, Encoder as _};
use sha2::{Digest, Sha256};

/// Entropy of a refresh token (bytes): 256 bits, beyond any guessing.
pub const REFRESH_TOKEN_BYTES: usize = 32;
/// Length of the text form (base64url without padding).
pub const REFRESH_TOKEN_CHARS: usize = 43;
/// Default grace window: two tabs refreshing at once both get the one child.
pub const DEFAULT_GRACE_MS: u32 = 10_000;
/// Longest grace window accepted from configuration: longer would hand a thief a real window.
pub const MAX_GRACE_MS: u32 = 60_000;
/// Domain separation of the child-wrapping key.
const WRAP_CONTEXT: &[u8] = b"urr-refresh-child-wrap-v1";

/// A refresh token in the clear: only in the response that issues it and the request that spends it.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken([u8; REFRESH_TOKEN_BYTES]);

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

impl RefreshToken {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; REFRESH_TOKEN_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// The text form as the client presents it; anything else is not a token (no database trip).
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != REFRESH_TOKEN_CHARS {
            return None;
        }
        let bytes = Base64UrlSafeNoPadding::decode_to_vec(text, None).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn encode(&self) -> String {
        Base64UrlSafeNoPadding::encode_to_string(self.0).unwrap_or_default()
    }

    /// What the database stores and looks up.
    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0).to_vec()
    }

    fn wrap_key(&self) -> [u8; REFRESH_TOKEN_BYTES] {
        Sha256::new()
            .chain_update(WRAP_CONTEXT)
            .chain_update(self.0)
            .finalize()
            .into()
    }

    /// `child` wrapped under this (parent) token: stored with the parent when it is spent.
    pub fn wrap_child(&self, child: &RefreshToken) -> Vec<u8> {
        let key = self.wrap_key();
        child.0.iter().zip(key).map(|(c, k)| c ^ k).collect()
    }

    /// The child back from its wrapped form (only the parent's holder can do this).
    pub fn unwrap_child(&self, wrapped: &[u8]) -> Option<RefreshToken> {
        let bytes: [u8; REFRESH_TOKEN_BYTES] = wrapped.try_into().ok()?;
        let key = self.wrap_key();
        let mut child = [0u8; REFRESH_TOKEN_BYTES];
        for (i, byte) in child.iter_mut().enumerate() {
            *byte = bytes[i] ^ key[i];
        }
        Some(RefreshToken(child))
    }
}

/// What `auth_rotate_refresh` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live: it is spent and its child issued.
    Rotated,
    /// Spent inside the grace window, child unspent: the same child again.
    Replayed,
    /// Spent before that: the whole family is revoked now (and deny-listed in Redis).
    Reused,
    /// The family was already revoked.
    Revoked,
    Expired,
    Invalid,
}

impl Rotation {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "rotated" => Rotation::Rotated,
            "replayed" => Rotation::Replayed,
            "reused" => Rotation::Reused,
            "revoked" => Rotation::Revoked,
            "expired" => Rotation::Expired,
            "invalid" => Rotation::Invalid,
            _ => return None,
        })
    }

    /// Whether the client gets a (child) token pair.
    pub fn issues_tokens(self) -> bool {
        matches!(self, Rotation::Rotated | Rotation::Replayed)
    }

    /// The code of a refusal, for logs and the error body.
    pub fn refusal(self) -> &'static str {
        match self {
            Rotation::Rotated | Rotation::Replayed => "",
            Rotation::Reused => "reused",
            Rotation::Revoked => "revoked",
            Rotation::Expired => "expired",
            Rotation::Invalid => "invalid",
        }
    }
}

/// The grace window from the `refresh_grace_ms` variable (empty: the default).
pub fn parse_grace_ms(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() {
        return Some(DEFAULT_GRACE_MS);
    }
    text.parse().ok().filter(|ms| *ms <= MAX_GRACE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_through_its_text_form() {
        let token = RefreshToken::generate().expect("random");
        let text = token.encode();
        assert_eq!(text.len(), REFRESH_TOKEN_CHARS);
        assert_eq!(RefreshToken::parse(&text), Some(token.clone()));
        assert_eq!(token.hash().len(), 32);
        assert_ne!(token.hash(), token.0.to_vec());
        assert_eq!(format!("{token:?}"), "RefreshToken(<redacted>)");
    }

    #[test]
    fn anything_else_is_not_a_token() {
        assert_eq!(RefreshToken::parse(""), None);
        assert_eq!(RefreshToken::parse(&"A".repeat(44)), None);
        assert_eq!(RefreshToken::parse(&"*".repeat(43)), None);
        assert_eq!(RefreshToken::parse("eyJhbGciOiJFZERTQSJ9.e30.sig"), None);
    }

    #[test]
    fn only_the_parent_unwraps_its_child() {
        let parent = RefreshToken::generate().expect("random");
        let child = RefreshToken::generate().expect("random");
        let stranger = RefreshToken::generate().expect("random");
        let wrapped = parent.wrap_child(&child);
        assert_ne!(wrapped, child.0.to_vec());
        assert_eq!(parent.unwrap_child(&wrapped), Some(child.clone()));
        assert_ne!(stranger.unwrap_child(&wrapped), Some(child));
        assert_eq!(parent.unwrap_child(&[1, 2, 3]), None);
    }

    #[test]
    fn outcomes_parse_and_only_two_issue_tokens() {
        for (text, issues) in [
            ("rotated", true),
            ("replayed", true),
            ("reused", false),
            ("revoked", false),
            ("expired", false),
            ("invalid", false),
        ] {
            assert_eq!(
                Rotation::parse(text).map(Rotation::issues_tokens),
                Some(issues)
            );
        }
        assert_eq!(Rotation::parse("other"), None);
    }

    #[test]
    fn the_grace_window_is_bounded() {
        assert_eq!(parse_grace_ms(""), Some(DEFAULT_GRACE_MS));
        assert_eq!(parse_grace_ms("1000"), Some(1_000));
        assert_eq!(parse_grace_ms("600000"), None);
        assert_eq!(parse_grace_ms("soon"), None);
    }
}
