//! Verification of our compact EdDSA JWS tokens (access and entry tokens).
//!
//! jwt-simple mints the tokens; verification takes the same steps as its `verify_token` but checks
//! the signature with `ed25519-dalek`. Why: every authenticated request verifies one or two
//! tokens, and jwt-simple's Ed25519 (ed25519-compact) multiplies field elements as `u128`, which
//! wasm32 has no instruction for: each product becomes a `__multi3` call, and profiling a queue
//! join showed about a third of the host's CPU inside that one function. curve25519-dalek picks
//! 32-bit limbs on wasm32 (native `i64` products) and verifies about 3× faster in Wasm.
//!
//! The checks, in order, cheapest and key-free first: size; exactly three base64url parts; header
//! size; the header's `alg` (exactly `EdDSA`), `crit` (none understood, so any is refused), `typ`
//! (absent, `JWT` or `*+JWT`) and `kid` (must name a key of the set); the claims: `iss`, `aud`,
//! `iat` and `nbf` not in the future and `exp` not past, each with the leeway; last, the costly
//! one, the signature (`verify_strict`: canonical S, no small-order keys or points).

use crate::access::{ALGORITHM, ISSUER, MAX_TOKEN_BYTES, TokenError};
use crate::keys::KeySet;
use jwt_simple::prelude::*;
use serde::de::DeserializeOwned;

/// Largest encoded header accepted: ours are about 80 bytes.
const MAX_HEADER_B64_BYTES: usize = 512;

/// What a token must satisfy beyond its signature.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    pub audience: &'static str,
    pub leeway_secs: u64,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<Vec<String>>,
}

fn decode(part: &str) -> Result<Vec<u8>, TokenError> {
    Base64UrlSafeNoPadding::decode_to_vec(part, None).map_err(|_| TokenError::Malformed)
}

fn rejected(why: &str) -> TokenError {
    TokenError::Rejected(why.to_string())
}

/// The verified claims of `token`, or why it is refused.
pub(crate) fn verify<C: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    rules: Rules,
) -> Result<JWTClaims<C>, TokenError> {
    verify_at(keys, token, rules, Clock::now_since_epoch().as_secs())
}

pub(crate) fn verify_at<C: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    rules: Rules,
    now_secs: u64,
) -> Result<JWTClaims<C>, TokenError> {
    inspect_at(keys, token, rules, now_secs)?.verify_signature()
}

/// A token that passed every check except its signature.
pub(crate) struct Inspected<'a, C> {
    pub claims: JWTClaims<C>,
    signed: &'a str,
    signature: [u8; 64],
    key: ed25519_dalek::VerifyingKey,
}

impl<C> Inspected<'_, C> {
    /// `verify_strict`: canonical S, no small-order keys or points.
    pub fn verify_signature(self) -> Result<JWTClaims<C>, TokenError> {
        self.key
            .verify_strict(
                self.signed.as_bytes(),
                &ed25519_dalek::Signature::from_bytes(&self.signature),
            )
            .map_err(|_| rejected("signature"))?;
        Ok(self.claims)
    }
}

/// Every check of [`verify`] except the signature: for a caller that can prove the same fact
/// more cheaply elsewhere and checks the signature only when it cannot (the entry gate).
pub(crate) fn inspect<'a, C: DeserializeOwned>(
    keys: &'a KeySet,
    token: &'a str,
    rules: Rules,
) -> Result<Inspected<'a, C>, TokenError> {
    inspect_at(keys, token, rules, Clock::now_since_epoch().as_secs())
}

fn inspect_at<'a, C: DeserializeOwned>(
    keys: &'a KeySet,
    token: &'a str,
    rules: Rules,
    now_secs: u64,
) -> Result<Inspected<'a, C>, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    if header_b64.len() > MAX_HEADER_B64_BYTES {
        return Err(TokenError::Malformed);
    }
    let header: Header =
        serde_json::from_slice(&decode(header_b64)?).map_err(|_| TokenError::Malformed)?;
    if header.alg != ALGORITHM {
        return Err(TokenError::Algorithm);
    }
    if header.crit.is_some_and(|c| !c.is_empty()) {
        return Err(rejected("unknown critical header extension"));
    }
    if let Some(typ) = header.typ {
        let typ = typ.to_ascii_uppercase();
        if typ != "JWT" && !typ.ends_with("+JWT") {
            return Err(rejected("not a JWT"));
        }
    }
    let kid = header.kid.ok_or(TokenError::UnknownKey)?;
    let key = keys.verifier(&kid).ok_or(TokenError::UnknownKey)?;
    let signature: [u8; 64] = decode(signature_b64)?
        .try_into()
        .map_err(|_| rejected("signature length"))?;
    let claims: JWTClaims<C> =
        serde_json::from_slice(&decode(claims_b64)?).map_err(|_| TokenError::Malformed)?;
    check_claims(&claims, rules, now_secs)?;
    Ok(Inspected {
        claims,
        signed: &token[..header_b64.len() + 1 + claims_b64.len()],
        signature,
        key,
    })
}

fn check_claims<C>(claims: &JWTClaims<C>, rules: Rules, now: u64) -> Result<(), TokenError> {
    let secs = |t: Option<UnixTimeStamp>| t.map(|t| t.as_secs());
    let leeway = rules.leeway_secs;
    if secs(claims.issued_at).is_some_and(|iat| iat > now + leeway) {
        return Err(rejected("issued in the future"));
    }
    if secs(claims.invalid_before).is_some_and(|nbf| nbf > now + leeway) {
        return Err(rejected("not valid yet"));
    }
    if secs(claims.expires_at).is_some_and(|exp| now.saturating_sub(leeway) > exp) {
        return Err(rejected("expired"));
    }
    if claims.issuer.as_deref() != Some(ISSUER) {
        return Err(rejected("issuer"));
    }
    let audience = HashSet::from_strings(&[rules.audience]);
    if !claims
        .audiences
        .as_ref()
        .is_some_and(|a| a.contains(&audience))
    {
        return Err(rejected("audience"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{ACCESS_LEEWAY_SECS, AUDIENCE, AccessClaims};
    use crate::keys::SigningKey;
    use serde_json::{Value, json};

    const NOW: u64 = 1_800_000_000;
    const RULES: Rules = Rules {
        audience: AUDIENCE,
        leeway_secs: ACCESS_LEEWAY_SECS,
    };

    fn claims(overrides: Value) -> Value {
        let mut c = json!({
            "sub": "u1", "email": "a@b.c", "role": "user", "typ": "access", "fid": "f1",
            "jti": "j1", "iss": ISSUER, "aud": AUDIENCE, "iat": NOW, "nbf": NOW, "exp": NOW + 600,
        });
        for (k, v) in overrides.as_object().expect("object") {
            c[k] = v.clone();
        }
        c
    }

    fn header(overrides: Value) -> Value {
        let mut h = json!({"alg": "EdDSA", "kid": "k1", "typ": "JWT"});
        for (k, v) in overrides.as_object().expect("object") {
            h[k] = v.clone();
        }
        h
    }

    fn setup() -> (SigningKey, KeySet) {
        let key = SigningKey::generate("k1").expect("key");
        let set = KeySet::parse(&key.public_entry()).expect("set");
        (key, set)
    }

    fn check(set: &KeySet, token: &str) -> Result<(), TokenError> {
        verify_at::<AccessClaims>(set, token, RULES, NOW).map(drop)
    }

    #[test]
    fn the_leeway_bounds_are_inclusive() {
        let (key, set) = setup();
        let sign = |c: Value| key.sign_raw(&header(json!({})).to_string(), &c.to_string());
        let lee = ACCESS_LEEWAY_SECS;
        assert!(check(&set, &sign(claims(json!({"exp": NOW - lee})))).is_ok());
        assert!(check(&set, &sign(claims(json!({"exp": NOW - lee - 1})))).is_err());
        assert!(check(&set, &sign(claims(json!({"nbf": NOW + lee})))).is_ok());
        assert!(check(&set, &sign(claims(json!({"nbf": NOW + lee + 1})))).is_err());
        assert!(check(&set, &sign(claims(json!({"iat": NOW + lee})))).is_ok());
        assert!(check(&set, &sign(claims(json!({"iat": NOW + lee + 1})))).is_err());
    }

    #[test]
    fn header_and_encoding_refusals() {
        let (key, set) = setup();
        let good = key.sign_raw(
            &header(json!({})).to_string(),
            &claims(json!({})).to_string(),
        );
        assert!(check(&set, &good).is_ok());
        let sign = |h: Value| key.sign_raw(&h.to_string(), &claims(json!({})).to_string());
        for (case, token) in [
            ("crit", sign(header(json!({"crit": ["exp"]})))),
            ("typ JWS", sign(header(json!({"typ": "JWS"})))),
            ("alg case", sign(header(json!({"alg": "eddsa"})))),
            ("four parts", format!("{good}.x")),
            (
                "two parts",
                good.rsplit_once('.').expect("three parts").0.to_string(),
            ),
            ("short signature", format!("{}A", &good[..good.len() - 3])),
            ("padded signature", format!("{good}=")),
            ("huge header", {
                let h = header(json!({"pad": "x".repeat(MAX_HEADER_B64_BYTES)}));
                sign(h)
            }),
        ] {
            assert!(check(&set, &token).is_err(), "{case} must be refused");
        }
        assert!(check(&set, &sign(header(json!({"typ": "at+jwt"})))).is_ok());
        assert!(check(&set, &sign(json!({"alg": "EdDSA", "kid": "k1"}))).is_ok());
    }

    /// The same tokens through jwt-simple's own verifier and through ours: the verdicts agree.
    #[test]
    fn verdicts_agree_with_jwt_simple() {
        let (key, set) = setup();
        let simple = Ed25519PublicKey::from_bytes(&key.public_key_bytes()).expect("key");
        let options = VerificationOptions {
            allowed_issuers: Some(HashSet::from_strings(&[ISSUER])),
            allowed_audiences: Some(HashSet::from_strings(&[AUDIENCE])),
            time_tolerance: Some(Duration::from_secs(ACCESS_LEEWAY_SECS)),
            artificial_time: Some(Duration::from_secs(NOW)),
            ..Default::default()
        };
        let lee = ACCESS_LEEWAY_SECS;
        let cases = [
            (header(json!({})), claims(json!({}))),
            (header(json!({})), claims(json!({"aud": ["x", AUDIENCE]}))),
            (header(json!({})), claims(json!({"aud": ["x"]}))),
            (header(json!({})), claims(json!({"aud": null}))),
            (header(json!({})), claims(json!({"iss": "evil"}))),
            (header(json!({})), claims(json!({"iss": null}))),
            (header(json!({})), claims(json!({"exp": NOW - lee}))),
            (header(json!({})), claims(json!({"exp": NOW - lee - 1}))),
            (header(json!({})), claims(json!({"nbf": NOW + lee + 1}))),
            (header(json!({})), claims(json!({"iat": NOW + lee + 1}))),
            (header(json!({"typ": "JWS"})), claims(json!({}))),
            (header(json!({"crit": ["x"]})), claims(json!({}))),
            (header(json!({"typ": "at+JWT"})), claims(json!({}))),
        ];
        for (h, c) in cases {
            let token = key.sign_raw(&h.to_string(), &c.to_string());
            let theirs = simple.verify_token::<AccessClaims>(&token, Some(options.clone()));
            let ours = check(&set, &token);
            assert_eq!(
                theirs.is_ok(),
                ours.is_ok(),
                "header {h} claims {c}: jwt-simple {theirs:?}, ours {ours:?}"
            );
        }
        let good = key.sign_raw(
            &header(json!({})).to_string(),
            &claims(json!({})).to_string(),
        );
        let mut bytes = good.into_bytes();
        let at = bytes.len() - 10;
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).expect("ascii");
        assert!(
            simple
                .verify_token::<AccessClaims>(&tampered, Some(options))
                .is_err()
        );
        assert!(check(&set, &tampered).is_err());
    }
}
