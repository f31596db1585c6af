//! Responses that issue a session (cookies, and tokens in the body only on request) or end one.

use http::HeaderValue;
use serde_json::{Value, json};
use urr_component::{ApiError, Response, Result};
use urr_tokens::{Role, SigningKey};

/// The user object of auth responses: the SQL's fields plus `userId` (old clients read it).
pub fn user_object(mut user: Value) -> Value {
    if let Some(map) = user.as_object_mut()
        && let Some(id) = map.get("id").cloned()
    {
        map.insert("userId".into(), id);
    }
    user
}

fn field<'a>(user: &'a Value, name: &str) -> Result<&'a str> {
    user.get(name).and_then(Value::as_str).ok_or_else(|| {
        eprintln!("user json lacks `{name}`");
        ApiError::internal()
    })
}

/// Signs the access token for `user` (as the SQL functions return it) in `family_id`.
pub fn access_token(key: &SigningKey, user: &Value, family_id: &str) -> Result<String> {
    let role = Role::parse(field(user, "role")?).ok_or_else(ApiError::internal)?;
    urr_tokens::mint_access(
        key,
        field(user, "id")?,
        field(user, "email")?,
        role,
        family_id,
    )
    .map_err(|e| {
        eprintln!("signing failed: {e}");
        ApiError::internal()
    })
}

pub fn add_cookie(response: &mut Response, line: &str) {
    if let Ok(value) = HeaderValue::from_str(line) {
        response
            .headers_mut()
            .append(http::header::SET_COOKIE, value);
    }
}

/// Browsers must never cache a response that carries a session.
fn no_store(response: &mut Response) {
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
}

/// `{message, user}` with both cookies; `token`/`refreshToken` in the body only when asked.
pub fn session(
    status: u16,
    message: &str,
    user: Value,
    access: &str,
    refresh: &str,
    tokens_in_body: bool,
) -> Response {
    let mut body = json!({ "message": message, "user": user_object(user) });
    if tokens_in_body && let Some(map) = body.as_object_mut() {
        map.insert("token".into(), json!(access));
        map.insert("refreshToken".into(), json!(refresh));
    }
    let mut response = urr_component::json(status, &body);
    add_cookie(&mut response, &urr_tokens::access_cookie(access));
    add_cookie(&mut response, &urr_tokens::refresh_cookie_line(refresh));
    no_store(&mut response);
    response
}

/// Any response, with both session cookies deleted.
pub fn clearing(mut response: Response) -> Response {
    for line in urr_tokens::clearing_cookies() {
        add_cookie(&mut response, &line);
    }
    no_store(&mut response);
    response
}

/// How a session response is framed: status, message, and whether tokens go in the body.
pub struct Framing<'a> {
    pub status: u16,
    pub message: &'a str,
    pub tokens_in_body: bool,
}

/// The session response for a row of `auth_register`, `auth_start_session` or
/// `auth_rotate_refresh` (`user_json`, `family_id`): signs the access token, sets both cookies.
pub fn issue_from_row(
    key: &SigningKey,
    row: &spin_sdk::pg::Row,
    refresh: &str,
    framing: Framing<'_>,
) -> Result<Response> {
    let user = urr_component::pg::json(row, "user_json")?;
    let family_id: String = urr_component::pg::column(row, "family_id")?;
    let access = access_token(key, &user, &family_id)?;
    Ok(session(
        framing.status,
        framing.message,
        user,
        &access,
        refresh,
        framing.tokens_in_body,
    ))
}
