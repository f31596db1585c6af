//! Access tokens: Ed25519 JWTs with a `kid`, 30 minutes, verified with a pinned algorithm,
//! issuer, audience, type and a leeway far below jwt-simple's 15-minute default.

use crate::keys::{KeySet, SigningKey};
use jwt_simple::prelude::*;

/// `iss` of every access token.
pub const ISSUER: &str = "urr-edge";
/// `aud` of every access token: the URR API.
pub const AUDIENCE: &str = "urr-api";
/// Access-token lifetime: the contract's 30-minute access cookie.
pub const ACCESS_TTL_SECS: u64 = 30 * 60;
/// Clock drift tolerated on `exp`/`nbf`/`iat`. Fleet clocks are NTP-synced; a minute (the
/// scorecard's ceiling) would only widen the window of a stolen token.
pub const ACCESS_LEEWAY_SECS: u64 = 30;
/// Largest token accepted before any parsing: ours are ~450 bytes; anything near a header limit
/// is an attack on the parser.
pub const MAX_TOKEN_BYTES: usize = 2048;
/// The only algorithm accepted (exact spelling: no `none`, no case variants, no HMAC).
pub const ALGORITHM: &str = "EdDSA";
/// The `typ` claim of an access token; refresh and queue entry tokens carry other types.
pub const ACCESS_TYPE: &str = "access";

/// `user` or `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

/// The claims beyond the registered ones (`sub`, `jti`, `iss`, `aud`, `iat`, `nbf`, `exp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub email: String,
    pub role: String,
    /// Token type: `access` here; anything else is refused as an access token.
    pub typ: String,
    /// Refresh family the session belongs to: a revoked family deny-lists its access tokens.
    pub fid: String,
}

/// Who a verified access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessUser {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    pub family_id: String,
    pub token_id: String,
    pub issued_at_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token too large")]
    TooLarge,
    #[error("token is not a compact JWS")]
    Malformed,
    #[error("algorithm not accepted")]
    Algorithm,
    #[error("unknown or missing key id")]
    UnknownKey,
    #[error("signature, issuer, audience or time check failed: {0}")]
    Rejected(String),
    #[error("required claim missing or invalid: {0}")]
    Claims(&'static str),
    #[error("not an access token")]
    WrongType,
    #[error("could not sign: {0}")]
    Signing(String),
}

/// Signs an access token for `user_id` in refresh family `family_id`.
pub fn mint_access(
    key: &SigningKey,
    user_id: &str,
    email: &str,
    role: Role,
    family_id: &str,
) -> Result<String, TokenError> {
    let jti = crate::random_bytes::<16>()
        .map_err(|e| TokenError::Signing(e.to_string()))
        .and_then(|b| {
            Base64UrlSafeNoPadding::encode_to_string(b)
                .map_err(|e| TokenError::Signing(e.to_string()))
        })?;
    let claims = Claims::with_custom_claims(
        AccessClaims {
            email: email.to_string(),
            role: role.as_str().to_string(),
            typ: ACCESS_TYPE.to_string(),
            fid: family_id.to_string(),
        },
        Duration::from_secs(ACCESS_TTL_SECS),
    )
    .with_issuer(ISSUER)
    .with_audience(AUDIENCE)
    .with_subject(user_id)
    .with_jwt_id(jti);
    key.key_pair
        .sign(claims)
        .map_err(|e| TokenError::Signing(e.to_string()))
}

/// Verifies an access token against the public key set (the steps are in `jws`), then the claims
/// this platform requires.
pub fn verify_access(keys: &KeySet, token: &str) -> Result<AccessUser, TokenError> {
    let claims: JWTClaims<AccessClaims> = crate::jws::verify(
        keys,
        token,
        crate::jws::Rules {
            audience: AUDIENCE,
            leeway_secs: ACCESS_LEEWAY_SECS,
        },
    )?;
    // jwt-simple treats `exp` and `iat` as optional; a token without them would never expire.
    claims.expires_at.ok_or(TokenError::Claims("exp"))?;
    let issued_at = claims.issued_at.ok_or(TokenError::Claims("iat"))?;
    if claims.custom.typ != ACCESS_TYPE {
        return Err(TokenError::WrongType);
    }
    let role = Role::parse(&claims.custom.role).ok_or(TokenError::Claims("role"))?;
    let user_id = claims
        .subject
        .filter(|s| !s.is_empty())
        .ok_or(TokenError::Claims("sub"))?;
    let token_id = claims
        .jwt_id
        .filter(|s| !s.is_empty())
        .ok_or(TokenError::Claims("jti"))?;
    if claims.custom.fid.is_empty() {
        return Err(TokenError::Claims("fid"));
    }
    Ok(AccessUser {
        user_id,
        email: claims.custom.email,
        role,
        family_id: claims.custom.fid,
        token_id,
        issued_at_secs: issued_at.as_secs(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (SigningKey, KeySet) {
        let key = SigningKey::generate("test-1").expect("key");
        let set = KeySet::parse(&key.public_entry()).expect("set");
        (key, set)
    }

    fn b64(value: &serde_json::Value) -> String {
        Base64UrlSafeNoPadding::encode_to_string(value.to_string()).expect("b64")
    }

    fn now() -> u64 {
        Clock::now_since_epoch().as_secs()
    }

    fn claims_json(overrides: serde_json::Value) -> serde_json::Value {
        let mut claims = serde_json::json!({
            "sub": "u1", "email": "a@b.c", "role": "user", "typ": "access", "fid": "f1",
            "jti": "j1", "iss": ISSUER, "aud": AUDIENCE, "iat": now(), "nbf": now(),
            "exp": now() + 600,
        });
        if let (Some(map), Some(extra)) = (claims.as_object_mut(), overrides.as_object()) {
            for (k, v) in extra {
                if v.is_null() {
                    map.remove(k);
                } else {
                    map.insert(k.clone(), v.clone());
                }
            }
        }
        claims
    }

    fn sign_raw(key: &SigningKey, header: serde_json::Value, claims: serde_json::Value) -> String {
        key.sign_raw(&header.to_string(), &claims.to_string())
    }

    fn header(kid: &str) -> serde_json::Value {
        serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": kid})
    }

    #[test]
    fn a_minted_token_verifies_with_the_public_set() {
        let (key, set) = keys();
        let token = mint_access(&key, "u1", "a@b.c", Role::Admin, "fam").expect("token");
        let user = verify_access(&set, &token).expect("valid");
        assert_eq!(user.user_id, "u1");
        assert_eq!(user.role, Role::Admin);
        assert_eq!(user.family_id, "fam");
        assert!(token.len() < 600, "{}", token.len());
    }

    #[test]
    fn raw_signing_matches_minting() {
        let (key, set) = keys();
        let token = sign_raw(&key, header("test-1"), claims_json(serde_json::json!({})));
        assert!(verify_access(&set, &token).is_ok());
    }

    #[test]
    fn a_previous_key_still_verifies_while_listed() {
        let (old, _) = keys();
        let new = SigningKey::generate("test-2").expect("key");
        let set =
            KeySet::parse(&format!("{},{}", new.public_entry(), old.public_entry())).expect("set");
        let token = mint_access(&old, "u1", "a@b.c", Role::User, "f").expect("token");
        assert!(verify_access(&set, &token).is_ok());
    }

    #[test]
    fn the_negative_matrix_is_refused() {
        let (key, set) = keys();
        let good = claims_json(serde_json::json!({}));
        let cases: Vec<(&str, String)> = vec![
            (
                "alg none",
                format!(
                    "{}.{}.",
                    b64(&serde_json::json!({"alg":"none","kid":"test-1"})),
                    b64(&good)
                ),
            ),
            (
                "alg noNE",
                format!(
                    "{}.{}.",
                    b64(&serde_json::json!({"alg":"noNE","kid":"test-1"})),
                    b64(&good)
                ),
            ),
            (
                "alg Ed25519 alias",
                sign_raw(
                    &key,
                    serde_json::json!({"alg":"Ed25519","kid":"test-1"}),
                    good.clone(),
                ),
            ),
            ("hs256 with the public key", {
                let hs = HS256Key::from_bytes(&key.public_key_bytes()).with_key_id("test-1");
                let claims = Claims::with_custom_claims(
                    AccessClaims {
                        email: "a@b.c".into(),
                        role: "user".into(),
                        typ: "access".into(),
                        fid: "f".into(),
                    },
                    Duration::from_secs(600),
                )
                .with_issuer(ISSUER)
                .with_audience(AUDIENCE)
                .with_subject("u1")
                .with_jwt_id("j");
                hs.authenticate(claims).expect("hs token")
            }),
            (
                "wrong aud",
                sign_raw(
                    &key,
                    header("test-1"),
                    claims_json(serde_json::json!({"aud":"other"})),
                ),
            ),
            (
                "wrong iss",
                sign_raw(
                    &key,
                    header("test-1"),
                    claims_json(serde_json::json!({"iss":"evil"})),
                ),
            ),
            (
                "expired beyond leeway",
                sign_raw(
                    &key,
                    header("test-1"),
                    claims_json(serde_json::json!({"exp": now() - ACCESS_LEEWAY_SECS - 5})),
                ),
            ),
            (
                "future nbf",
                sign_raw(
                    &key,
                    header("test-1"),
                    claims_json(serde_json::json!({"nbf": now() + 3600})),
                ),
            ),
            (
                "no exp",
                sign_raw(
                    &key,
                    header("test-1"),
                    claims_json(serde_json::json!({"exp": null})),
                ),
            ),
            ("unknown kid", sign_raw(&key, header("other"), good.clone())),
            (
                "no kid",
                sign_raw(&key, serde_json::json!({"alg":"EdDSA"}), good.clone()),
            ),
            (
                "refresh typ",
                sign_raw(
                    &key,
                    header("test-1"),
                    claims_json(serde_json::json!({"typ":"refresh"})),
                ),
            ),
            (
                "entry typ",
                sign_raw(
                    &key,
                    header("test-1"),
                    claims_json(serde_json::json!({"typ":"entry"})),
                ),
            ),
            (
                "bad role",
                sign_raw(
                    &key,
                    header("test-1"),
                    claims_json(serde_json::json!({"role":"root"})),
                ),
            ),
            (
                "oversized",
                sign_raw(
                    &key,
                    header("test-1"),
                    claims_json(serde_json::json!({"pad": "x".repeat(3000)})),
                ),
            ),
            ("garbage", "not.a.token".to_string()),
        ];
        let mut tampered = mint_access(&key, "u1", "a@b.c", Role::User, "f").expect("token");
        let last = tampered
            .pop()
            .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
        tampered.push(last);
        let mut all = cases;
        all.push(("tampered signature", tampered));
        let other_key = SigningKey::generate("test-1").expect("key");
        all.push((
            "signed by another key with the same kid",
            mint_access(&other_key, "u1", "a@b.c", Role::User, "f").expect("token"),
        ));
        for (name, token) in &all {
            assert!(verify_access(&set, token).is_err(), "{name} was accepted");
        }
    }
}
