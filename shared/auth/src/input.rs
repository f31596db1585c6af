//! Request bodies → domain values. Malformed JSON, wrong types, missing fields, oversized or
//! non-UTF-8 bodies are refused here, before anything is stored, each with its own `code`.

use crate::AuthError;
use serde_json::{Map, Value};

/// Largest auth request body (a registration is a few hundred bytes): every component's limit.
pub use urr_api::body::MAX_BODY_BYTES;
/// Password length in characters (the contract's minimum; the maximum bounds hashing work).
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;
/// RFC 5321 limits: 254 for the address, 64 for the local part.
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_EMAIL_LOCAL_CHARS: usize = 64;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_PHONE_CHARS: usize = 20;

/// A syntactically valid, lower-cased email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        let bad = || AuthError::bad_input("invalid_email", "A valid email address is required");
        let email = raw.trim().to_lowercase();
        if email.chars().count() > MAX_EMAIL_CHARS {
            return Err(bad());
        }
        let (local, domain) = email.split_once('@').ok_or_else(bad)?;
        let local_ok = !local.is_empty()
            && local.chars().count() <= MAX_EMAIL_LOCAL_CHARS
            && !local.starts_with('.')
            && !local.ends_with('.')
            && local
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"@,;:<>()[]\\\"".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Self(email))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password within the length bounds. Its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    pub fn parse(raw: String) -> Result<Self, AuthError> {
        let chars = raw.chars().count();
        if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
            Ok(Self(raw))
        } else {
            Err(AuthError::bad_input(
                "invalid_password",
                format!("Password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
            ))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub name: String,
    pub phone: Option<String>,
}

/// A login attempt. The email is only normalized (not syntax-checked): an address that could
/// never register simply does not exist, and must cost the same as one that does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub email: String,
    pub password: String,
}

/// The body as a JSON object: size, UTF-8 and syntax first.
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, AuthError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(AuthError::TooLarge);
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| AuthError::bad_input("invalid_utf8", "Request body is not valid UTF-8"))?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AuthError::bad_input(
            "invalid_json",
            "Request body must be a JSON object",
        )),
        Err(_) => Err(AuthError::bad_input(
            "invalid_json",
            "Request body is not valid JSON",
        )),
    }
}

/// A string field: missing (or null) and wrong type are different refusals.
fn string_field(map: &Map<String, Value>, name: &str) -> Result<Option<String>, AuthError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(AuthError::bad_input(
            "invalid_type",
            format!("Field `{name}` must be a string"),
        )),
    }
}

fn required(map: &Map<String, Value>, name: &str) -> Result<String, AuthError> {
    string_field(map, name)?
        .ok_or_else(|| AuthError::bad_input("missing_field", format!("Field `{name}` is required")))
}

pub fn parse_registration(body: &[u8]) -> Result<Registration, AuthError> {
    let map = json_object(body)?;
    let email = Email::parse(&required(&map, "email")?)?;
    let password = Password::parse(required(&map, "password")?)?;
    let name = required(&map, "name")?.trim().to_string();
    let name_chars = name.chars().count();
    if name_chars == 0 || name_chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AuthError::bad_input(
            "invalid_name",
            format!("Name must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    let phone = string_field(&map, "phone")?
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty());
    if let Some(p) = &phone {
        let ok = p.chars().count() <= MAX_PHONE_CHARS
            && p.chars().any(|c| c.is_ascii_digit())
            && p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        if !ok {
            return Err(AuthError::bad_input(
                "invalid_phone",
                "Phone may hold digits, spaces, +, - and parentheses (at most 20)",
            ));
        }
    }
    Ok(Registration {
        email,
        password,
        name,
        phone,
    })
}

pub fn parse_login(body: &[u8]) -> Result<Login, AuthError> {
    let map = json_object(body)?;
    let email = required(&map, "email")?.trim().to_lowercase();
    let password = required(&map, "password")?;
    if email.chars().count() > MAX_EMAIL_CHARS || password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(AuthError::bad_input(
            "invalid_input",
            "Email or password is too long",
        ));
    }
    Ok(Login { email, password })
}

/// `POST /auth/verify-token`: `{token}`.
pub fn parse_verify_token(body: &[u8]) -> Result<String, AuthError> {
    required(&json_object(body)?, "token")
}

/// `POST /auth/refresh` may carry `{refreshToken}` (API clients); an empty body means "use the
/// cookie".
pub fn parse_refresh_body(body: &[u8]) -> Result<Option<String>, AuthError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    string_field(&json_object(body)?, "refreshToken")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<impl std::fmt::Debug, AuthError>) -> &'static str {
        result.expect_err("refused").code()
    }

    #[test]
    fn a_valid_registration_is_normalized() {
        let r = parse_registration(
            br#"{"email":" Kim@Example.COM ","password":"correct horse","name":" Kim ","phone":"010-1234-5678"}"#,
        )
        .expect("valid");
        assert_eq!(r.email.as_str(), "kim@example.com");
        assert_eq!(r.name, "Kim");
        assert_eq!(r.phone.as_deref(), Some("010-1234-5678"));
        assert_eq!(format!("{:?}", r.password), "Password(<redacted>)");
    }

    #[test]
    fn bad_bodies_are_refused_with_their_own_codes() {
        assert_eq!(code(parse_registration(b"{not json")), "invalid_json");
        assert_eq!(code(parse_registration(b"[1,2]")), "invalid_json");
        assert_eq!(code(parse_registration(b"\xff\xfe{}")), "invalid_utf8");
        assert_eq!(
            code(parse_registration(&vec![b' '; MAX_BODY_BYTES + 1])),
            "payload_too_large"
        );
        assert_eq!(
            code(parse_registration(
                br#"{"email":"a@b.co","password":"12345678"}"#
            )),
            "missing_field"
        );
        assert_eq!(
            code(parse_registration(
                br#"{"email":5,"password":"12345678","name":"n"}"#
            )),
            "invalid_type"
        );
        assert_eq!(
            code(parse_registration(
                br#"{"email":"a@b.co","password":"short","name":"n"}"#
            )),
            "invalid_password"
        );
        let long = "x".repeat(MAX_PASSWORD_CHARS + 1);
        assert_eq!(
            code(parse_registration(
                format!(r#"{{"email":"a@b.co","password":"{long}","name":"n"}}"#).as_bytes()
            )),
            "invalid_password"
        );
        assert_eq!(
            code(parse_registration(
                br#"{"email":"a@b.co","password":"12345678","name":"  "}"#
            )),
            "invalid_name"
        );
        assert_eq!(
            code(parse_registration(
                br#"{"email":"a@b.co","password":"12345678","name":"n","phone":"call me"}"#
            )),
            "invalid_phone"
        );
        assert_eq!(code(parse_login(br#"{"email":"a@b.co"}"#)), "missing_field");
        assert_eq!(
            code(parse_login(br#"{"email":"a@b.co","password":1}"#)),
            "invalid_type"
        );
    }

    #[test]
    fn email_syntax() {
        for ok in ["a@b.co", "first.last+tag@sub.example.kr", "kim@한국.kr"] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a", "a@", "@b.co", "a@b", "a b@c.co", "a@b..co", "a@-b.co", ".a@b.co", "a@@b.co",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let local = "x".repeat(MAX_EMAIL_LOCAL_CHARS + 1);
        assert!(Email::parse(&format!("{local}@b.co")).is_err());
    }

    #[test]
    fn a_refresh_body_is_optional() {
        assert_eq!(parse_refresh_body(b""), Ok(None));
        assert_eq!(parse_refresh_body(b"  \n"), Ok(None));
        assert_eq!(parse_refresh_body(b"{}"), Ok(None));
        assert_eq!(
            parse_refresh_body(br#"{"refreshToken":"abc"}"#),
            Ok(Some("abc".into()))
        );
        assert_eq!(code(parse_refresh_body(b"{")), "invalid_json");
    }
}
