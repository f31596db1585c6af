//! The Google ID token: a compact RS256 JWS. The checks, cheapest and key-free first: size,
//! exactly three base64url parts, the header (`alg` exactly `RS256`, so `none` and HS256 never
//! reach a key; no `crit`; `typ` absent or `JWT`; a `kid`), then the signature with the key the
//! `kid` names, and only then the claims, which mean nothing before it: `iss`, `aud`, `exp`, `iat`
//! and `nbf` with [`CLOCK_SKEW_SECS`], `sub`, `email`, and `email_verified` last (a verified token
//! for an unverified address has its own answer).

use super::GOOGLE_ISSUERS;
use super::keys::GoogleKeys;
use crate::AuthError;
use crate::input::{Email, MAX_NAME_CHARS};
use ct_codecs::{Base64UrlSafeNoPadding, Decoder as _};
use rsa::Pkcs1v15Sign;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The only algorithm accepted: Google signs ID tokens with RS256.
pub const ALGORITHM: &str = "RS256";
/// Clock difference tolerated on `exp`, `iat` and `nbf` (the contract's bound: at most 60 s).
pub const CLOCK_SKEW_SECS: u64 = 60;
/// Largest token accepted (Google's are about 1.2 KB).
pub const MAX_ID_TOKEN_BYTES: usize = 8 * 1024;
/// Longest `sub` accepted (Google's are 21 digits; the column allows 255).
pub const MAX_SUBJECT_CHARS: usize = 255;
/// Longest picture URL passed back to the client.
pub const MAX_PICTURE_CHARS: usize = 2048;

fn invalid(why: &'static str) -> AuthError {
    AuthError::InvalidGoogleToken(why)
}

fn decode(part: &str) -> Result<Vec<u8>, AuthError> {
    Base64UrlSafeNoPadding::decode_to_vec(part, None).map_err(|_| invalid("not base64url"))
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<Value>,
}

/// A token whose shape and header passed, its signature not yet checked.
#[derive(Debug)]
pub struct UnverifiedIdToken<'a> {
    kid: String,
    signed: &'a str,
    claims: Vec<u8>,
    signature: Vec<u8>,
}

/// Who Google says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleIdentity {
    /// Google's stable account id (`sub`), what an account is linked by.
    pub sub: String,
    /// The verified address, lower-cased as every Edge address is.
    pub email: Email,
    /// The token's `name`, else the address: a new account's display name.
    pub name: String,
    /// The token's `picture` (an https URL), handed back to the client only.
    pub picture: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    aud: Option<Value>,
    exp: Option<u64>,
    iat: Option<u64>,
    nbf: Option<u64>,
    sub: Option<String>,
    email: Option<String>,
    email_verified: Option<Value>,
    name: Option<String>,
    picture: Option<String>,
}

impl<'a> UnverifiedIdToken<'a> {
    /// Shape and header checks; no key is touched.
    pub fn decode(token: &'a str) -> Result<Self, AuthError> {
        if token.len() > MAX_ID_TOKEN_BYTES {
            return Err(invalid("too large"));
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("not three parts"));
        };
        let header: Header =
            serde_json::from_slice(&decode(header_b64)?).map_err(|_| invalid("bad header"))?;
        if header.alg != ALGORITHM {
            return Err(invalid("algorithm"));
        }
        if header.crit.is_some() {
            return Err(invalid("crit"));
        }
        if header.typ.as_deref().is_some_and(|t| t != "JWT") {
            return Err(invalid("typ"));
        }
        let kid = header
            .kid
            .filter(|k| !k.is_empty() && k.len() <= super::keys::MAX_KID_BYTES)
            .ok_or_else(|| invalid("no kid"))?;
        let signature = decode(signature_b64)?;
        if signature.is_empty() {
            return Err(invalid("unsigned"));
        }
        Ok(Self {
            kid,
            signed: &token[..header_b64.len() + 1 + claims_b64.len()],
            claims: decode(claims_b64)?,
            signature,
        })
    }

    /// The key id the header names.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The signature against `keys`, then the claims for `client_id` at `now_secs`.
    pub fn verify(
        &self,
        keys: &GoogleKeys,
        client_id: &str,
        now_secs: u64,
    ) -> Result<GoogleIdentity, AuthError> {
        let key = keys.get(&self.kid).ok_or_else(|| invalid("unknown key"))?;
        let digest = Sha256::digest(self.signed.as_bytes());
        key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &self.signature)
            .map_err(|_| invalid("signature"))?;
        let claims: Claims =
            serde_json::from_slice(&self.claims).map_err(|_| invalid("bad claims"))?;
        check_claims(claims, client_id, now_secs)
    }
}

/// `aud` names exactly our client: a string, or a list holding only it.
fn audience_is(aud: Option<&Value>, client_id: &str) -> bool {
    match aud {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(list)) => {
            !list.is_empty() && list.iter().all(|a| a.as_str() == Some(client_id))
        }
        _ => false,
    }
}

fn check_claims(c: Claims, client_id: &str, now: u64) -> Result<GoogleIdentity, AuthError> {
    if !c
        .iss
        .as_deref()
        .is_some_and(|i| GOOGLE_ISSUERS.contains(&i))
    {
        return Err(invalid("issuer"));
    }
    if !audience_is(c.aud.as_ref(), client_id) {
        return Err(invalid("audience"));
    }
    let exp = c.exp.ok_or_else(|| invalid("no exp"))?;
    let iat = c.iat.ok_or_else(|| invalid("no iat"))?;
    if exp.saturating_add(CLOCK_SKEW_SECS) <= now {
        return Err(invalid("expired"));
    }
    let future = now.saturating_add(CLOCK_SKEW_SECS);
    if iat > future || c.nbf.is_some_and(|nbf| nbf > future) {
        return Err(invalid("issued in the future"));
    }
    if exp <= iat {
        return Err(invalid("lifetime"));
    }
    let sub = c
        .sub
        .filter(|s| {
            !s.is_empty()
                && s.chars().count() <= MAX_SUBJECT_CHARS
                && s.chars().all(|ch| ch.is_ascii_graphic())
        })
        .ok_or_else(|| invalid("sub"))?;
    let email = c
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or_else(|| invalid("email"))?;
    // Google sends a boolean; older tokens carried the string "true".
    let verified = matches!(&c.email_verified, Some(Value::Bool(true)))
        || matches!(&c.email_verified, Some(Value::String(s)) if s == "true");
    if !verified {
        return Err(AuthError::EmailNotVerified);
    }
    Ok(GoogleIdentity {
        name: display_name(c.name.as_deref(), &email),
        picture: c.picture.filter(|p| {
            p.starts_with("https://")
                && p.chars().count() <= MAX_PICTURE_CHARS
                && !p.chars().any(|ch| ch.is_whitespace() || ch.is_control())
        }),
        sub,
        email,
    })
}

/// The token's name without control characters, at most [`MAX_NAME_CHARS`]; the address when
/// that leaves nothing (URR's rule).
fn display_name(name: Option<&str>, email: &Email) -> String {
    let cleaned: String = name
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() {
        email.as_str().chars().take(MAX_NAME_CHARS).collect()
    } else {
        cleaned
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::keys::tests::{b64, jwk};
    use super::*;
    use rsa::RsaPrivateKey;
    use serde_json::json;

    const CLIENT: &str = "123-abc.apps.googleusercontent.com";
    const NOW: u64 = 1_800_000_000;

    /// One key for every test of the run (generation costs a moment).
    pub(crate) fn test_key() -> &'static RsaPrivateKey {
        static KEY: std::sync::OnceLock<RsaPrivateKey> = std::sync::OnceLock::new();
        KEY.get_or_init(|| {
            RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("generating a test RSA key")
        })
    }

    fn keys() -> GoogleKeys {
        let set = json!({"keys": [jwk("k1", &test_key().to_public_key())]}).to_string();
        GoogleKeys::parse(set.as_bytes()).expect("valid set")
    }

    fn claims() -> Value {
        json!({
            "iss": "https://accounts.google.com", "aud": CLIENT, "azp": CLIENT,
            "sub": "110169484474386276334", "email": "Kim@Example.com", "email_verified": true,
            "name": "Kim Min-ji", "picture": "https://lh3.googleusercontent.com/a/x",
            "iat": NOW - 10, "exp": NOW + 3590,
        })
    }

    fn sign(header: &Value, claims: &Value) -> String {
        let signed = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let digest = Sha256::digest(signed.as_bytes());
        let signature = test_key()
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            .expect("signing");
        format!("{signed}.{}", b64(&signature))
    }

    fn header() -> Value {
        json!({"alg": "RS256", "kid": "k1", "typ": "JWT"})
    }

    fn verdict(token: &str) -> Result<GoogleIdentity, AuthError> {
        UnverifiedIdToken::decode(token)?.verify(&keys(), CLIENT, NOW)
    }

    fn with(change: impl FnOnce(&mut Value)) -> Result<GoogleIdentity, AuthError> {
        let mut c = claims();
        change(&mut c);
        verdict(&sign(&header(), &c))
    }

    #[test]
    fn a_valid_token_names_the_account() {
        let who = verdict(&sign(&header(), &claims())).expect("valid");
        assert_eq!(who.sub, "110169484474386276334");
        assert_eq!(who.email.as_str(), "kim@example.com");
        assert_eq!(who.name, "Kim Min-ji");
        assert_eq!(
            who.picture.as_deref(),
            Some("https://lh3.googleusercontent.com/a/x")
        );
        let plain = with(|c| c["iss"] = json!("accounts.google.com")).expect("other issuer");
        assert_eq!(plain.sub, who.sub);
    }

    /// One bad-claim case: what it breaks, and how.
    type Breakage = (&'static str, Box<dyn FnOnce(&mut Value)>);

    #[test]
    fn every_bad_claim_is_refused() {
        let cases: Vec<Breakage> = vec![
            (
                "issuer",
                Box::new(|c| c["iss"] = json!("https://evil.example")),
            ),
            ("issuer", Box::new(|c| c["iss"] = json!(null))),
            ("audience", Box::new(|c| c["aud"] = json!("someone-else"))),
            (
                "audience",
                Box::new(|c| c["aud"] = json!([CLIENT, "other"])),
            ),
            ("audience", Box::new(|c| c["aud"] = json!([]))),
            (
                "expired",
                Box::new(|c| c["exp"] = json!(NOW - CLOCK_SKEW_SECS)),
            ),
            ("no exp", Box::new(|c| c["exp"] = json!(null))),
            ("no iat", Box::new(|c| c["iat"] = json!(null))),
            (
                "issued in the future",
                Box::new(|c| c["iat"] = json!(NOW + CLOCK_SKEW_SECS + 1)),
            ),
            (
                "issued in the future",
                Box::new(|c| c["nbf"] = json!(NOW + CLOCK_SKEW_SECS + 1)),
            ),
            ("sub", Box::new(|c| c["sub"] = json!(""))),
            ("sub", Box::new(|c| c["sub"] = json!(null))),
            ("email", Box::new(|c| c["email"] = json!("not-an-address"))),
            ("bad claims", Box::new(|c| c["exp"] = json!("soon"))),
        ];
        for (why, change) in cases {
            assert_eq!(
                with(change),
                Err(AuthError::InvalidGoogleToken(why)),
                "{why}"
            );
        }
        assert_eq!(
            with(|c| c["email_verified"] = json!(false)),
            Err(AuthError::EmailNotVerified)
        );
        assert_eq!(
            with(|c| c["email_verified"] = json!(null)),
            Err(AuthError::EmailNotVerified)
        );
        assert!(with(|c| c["email_verified"] = json!("true")).is_ok());
        assert!(with(|c| c["aud"] = json!([CLIENT])).is_ok());
        // Within the skew both ways.
        assert!(
            with(|c| {
                c["iat"] = json!(NOW - 3600);
                c["exp"] = json!(NOW - CLOCK_SKEW_SECS + 1);
            })
            .is_ok()
        );
        assert_eq!(
            with(|c| c["exp"] = c["iat"].clone()),
            Err(invalid("lifetime"))
        );
        assert!(with(|c| c["iat"] = json!(NOW + CLOCK_SKEW_SECS)).is_ok());
    }

    #[test]
    fn forged_shapes_never_reach_a_key() {
        let body = b64(claims().to_string().as_bytes());
        let none = format!("{}.{body}.", b64(br#"{"alg":"none","kid":"k1"}"#));
        assert_eq!(verdict(&none), Err(invalid("algorithm")));
        let unsigned_rs = format!("{}.{body}.", b64(br#"{"alg":"RS256","kid":"k1"}"#));
        assert_eq!(verdict(&unsigned_rs), Err(invalid("unsigned")));
        let hs = sign(&json!({"alg": "HS256", "kid": "k1"}), &claims());
        assert_eq!(verdict(&hs), Err(invalid("algorithm")));
        let crit = sign(
            &json!({"alg": "RS256", "kid": "k1", "crit": ["exp"]}),
            &claims(),
        );
        assert_eq!(verdict(&crit), Err(invalid("crit")));
        let typ = sign(
            &json!({"alg": "RS256", "kid": "k1", "typ": "at+jwt"}),
            &claims(),
        );
        assert_eq!(verdict(&typ), Err(invalid("typ")));
        let no_kid = sign(&json!({"alg": "RS256"}), &claims());
        assert_eq!(verdict(&no_kid), Err(invalid("no kid")));
        let unknown = sign(&json!({"alg": "RS256", "kid": "k9"}), &claims());
        assert_eq!(verdict(&unknown), Err(invalid("unknown key")));
        for malformed in [
            "",
            "a.b",
            "a.b.c.d",
            "%%%.e30.AA",
            &"a".repeat(MAX_ID_TOKEN_BYTES + 1),
        ] {
            assert!(
                matches!(verdict(malformed), Err(AuthError::InvalidGoogleToken(_))),
                "{malformed}"
            );
        }
    }

    #[test]
    fn a_changed_payload_or_signature_fails_the_signature() {
        let token = sign(&header(), &claims());
        let parts: Vec<&str> = token.split('.').collect();
        let mut other = claims();
        other["email"] = json!("attacker@example.com");
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            b64(other.to_string().as_bytes()),
            parts[2]
        );
        assert_eq!(verdict(&tampered), Err(invalid("signature")));
        let mut sig = decode(parts[2]).expect("b64");
        sig[10] ^= 1;
        let flipped = format!("{}.{}.{}", parts[0], parts[1], b64(&sig));
        assert_eq!(verdict(&flipped), Err(invalid("signature")));
        let short = format!("{}.{}.{}", parts[0], parts[1], b64(&sig[..100]));
        assert_eq!(verdict(&short), Err(invalid("signature")));
    }

    #[test]
    fn the_display_name_falls_back_to_the_address() {
        let email = Email::parse("a@b.co").expect("valid");
        assert_eq!(display_name(Some("  Kim \u{7} "), &email), "Kim");
        assert_eq!(display_name(Some("   "), &email), "a@b.co");
        assert_eq!(display_name(None, &email), "a@b.co");
        let long = "가".repeat(MAX_NAME_CHARS + 5);
        assert_eq!(
            display_name(Some(&long), &email).chars().count(),
            MAX_NAME_CHARS
        );
        let who = with(|c| c["picture"] = json!("http://insecure/x")).expect("valid");
        assert_eq!(who.picture, None);
    }
}
