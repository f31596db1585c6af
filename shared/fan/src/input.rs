//! Request bodies, parsed at the edge into domain types with named limits: whatever reaches SQL
//! is well-formed, and every bad input is a 400 with its own code. Fields are read under their
//! camelCase name or its snake_case twin (old clients send either).

use crate::{FanError, Id};
use serde_json::{Map, Value, json};

/// Longest artist name (the column's limit in URR: varchar(255)).
pub const MAX_NAME_CHARS: usize = 255;
/// Longest description: a paragraph or two for the artist page.
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;
/// Longest image URL.
pub const MAX_URL_CHARS: usize = 2_000;
/// Dearest yearly membership, in KRW: far above any real price, far below `i32::MAX`.
pub const MAX_MEMBERSHIP_PRICE: i64 = 10_000_000;
/// Image hosts the web app's `next/image` renders (anything else throws at render time, Q4):
/// an exact host, or a suffix starting with a dot.
pub const IMAGE_HOSTS: [&str; 2] = [".amazonaws.com", "lh3.googleusercontent.com"];
pub const IMAGE_HOSTS_TEXT: &str = "*.amazonaws.com, lh3.googleusercontent.com";

/// `POST /artists`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArtist {
    pub name: String,
    pub image_url: Option<String>,
    pub description: Option<String>,
    /// `None`: the default price (30,000 KRW).
    pub membership_price: Option<i32>,
}

/// `PATCH /artists/{id}`: `None` leaves a field unchanged; `Some(None)` (JSON `null`) clears a
/// nullable one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArtistChanges {
    pub name: Option<String>,
    pub image_url: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub membership_price: Option<i32>,
}

/// `POST /memberships/subscribe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    pub artist_id: Id,
}

pub(crate) fn object(body: &[u8]) -> Result<Map<String, Value>, FanError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(FanError::InvalidBody),
    }
}

/// The field as sent: absent → `None`, present (even `null`) → `Some`.
pub(crate) fn field<'a>(
    map: &'a Map<String, Value>,
    camel: &str,
    snake: &str,
) -> Option<&'a Value> {
    map.get(camel).or_else(|| map.get(snake))
}

fn text(value: &Value, name: &'static str, max: usize) -> Result<String, FanError> {
    let invalid = FanError::InvalidText(name, max);
    let text = value.as_str().ok_or(invalid.clone())?.trim();
    if text.is_empty() || text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(invalid);
    }
    Ok(text.to_string())
}

/// A description may span lines: only other control characters are refused.
fn description(value: &Value) -> Result<String, FanError> {
    let invalid = FanError::InvalidText("description", MAX_DESCRIPTION_CHARS);
    let text = value.as_str().ok_or(invalid.clone())?.trim();
    if text.chars().count() > MAX_DESCRIPTION_CHARS
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(invalid);
    }
    Ok(text.to_string())
}

fn price(value: &Value) -> Result<i32, FanError> {
    value
        .as_i64()
        .filter(|n| (1..=MAX_MEMBERSHIP_PRICE).contains(n))
        .and_then(|n| i32::try_from(n).ok())
        .ok_or(FanError::InvalidPrice)
}

/// An https URL whose host is one of [`IMAGE_HOSTS`].
pub fn image_url(value: &Value) -> Result<String, FanError> {
    let url = value.as_str().ok_or(FanError::InvalidImageUrl)?.trim();
    let rest = url
        .strip_prefix("https://")
        .ok_or(FanError::InvalidImageUrl)?;
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let allowed = IMAGE_HOSTS.iter().any(|allowed| {
        if allowed.starts_with('.') {
            host.ends_with(allowed) && host.len() > allowed.len()
        } else {
            host == *allowed
        }
    });
    let clean = url.len() <= MAX_URL_CHARS
        && url.bytes().all(|b| b.is_ascii_graphic())
        && !host.contains(['@', ':']);
    if allowed && clean {
        Ok(url.to_string())
    } else {
        Err(FanError::InvalidImageUrl)
    }
}

/// A nullable field: absent → unchanged, `null` → cleared, else parsed.
fn nullable<T>(
    value: Option<&Value>,
    parse: impl Fn(&Value) -> Result<T, FanError>,
) -> Result<Option<Option<T>>, FanError> {
    match value {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(v) => parse(v).map(|t| Some(Some(t))),
    }
}

pub fn parse_new_artist(body: &[u8]) -> Result<NewArtist, FanError> {
    let map = object(body)?;
    let name = match field(&map, "name", "name") {
        None | Some(Value::Null) => return Err(FanError::MissingField("name")),
        Some(v) => text(v, "name", MAX_NAME_CHARS)?,
    };
    Ok(NewArtist {
        name,
        image_url: nullable(field(&map, "imageUrl", "image_url"), image_url)?.flatten(),
        description: nullable(field(&map, "description", "description"), description)?.flatten(),
        membership_price: nullable(field(&map, "membershipPrice", "membership_price"), price)?
            .flatten(),
    })
}

pub fn parse_artist_changes(body: &[u8]) -> Result<ArtistChanges, FanError> {
    let map = object(body)?;
    let name = match field(&map, "name", "name") {
        None => None,
        Some(Value::Null) => return Err(FanError::InvalidText("name", MAX_NAME_CHARS)),
        Some(v) => Some(text(v, "name", MAX_NAME_CHARS)?),
    };
    let membership_price = match field(&map, "membershipPrice", "membership_price") {
        None => None,
        Some(v) => Some(price(v)?),
    };
    let changes = ArtistChanges {
        name,
        image_url: nullable(field(&map, "imageUrl", "image_url"), image_url)?,
        description: nullable(field(&map, "description", "description"), description)?,
        membership_price,
    };
    if changes == ArtistChanges::default() {
        return Err(FanError::NothingToChange);
    }
    Ok(changes)
}

pub fn parse_subscribe(body: &[u8]) -> Result<Subscribe, FanError> {
    let map = object(body)?;
    let id = match field(&map, "artistId", "artist_id") {
        None | Some(Value::Null) => return Err(FanError::MissingField("artistId")),
        Some(v) => v.as_str().ok_or(FanError::InvalidId)?,
    };
    Ok(Subscribe {
        artist_id: Id::try_from(id)?,
    })
}

impl NewArtist {
    /// What the audit row records of the request.
    pub fn summary(&self) -> Value {
        json!({"name": self.name, "imageUrl": self.image_url,
               "membershipPrice": self.membership_price})
    }
}

impl ArtistChanges {
    pub fn summary(&self) -> Value {
        let mut fields: Vec<&str> = Vec::new();
        if self.name.is_some() {
            fields.push("name");
        }
        if self.image_url.is_some() {
            fields.push("imageUrl");
        }
        if self.description.is_some() {
            fields.push("description");
        }
        if self.membership_price.is_some() {
            fields.push("membershipPrice");
        }
        json!({"fields": fields, "name": self.name, "membershipPrice": self.membership_price})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMG: &str = "https://urr-assets.s3.ap-northeast-2.amazonaws.com/iu.jpg";

    #[test]
    fn a_new_artist_needs_a_name_and_takes_the_rest_when_valid() {
        let a = parse_new_artist(
            format!(r#"{{"name":"  IU ","imageUrl":"{IMG}","membershipPrice":40000}}"#).as_bytes(),
        )
        .expect("valid");
        assert_eq!(a.name, "IU");
        assert_eq!(a.image_url.as_deref(), Some(IMG));
        assert_eq!(a.membership_price, Some(40_000));
        assert_eq!(
            parse_new_artist(br#"{"image_url":null}"#),
            Err(FanError::MissingField("name"))
        );
        assert_eq!(parse_new_artist(b"[1]"), Err(FanError::InvalidBody));
        for bad in [r#"{"name":""}"#, r#"{"name":7}"#, r#"{"name":"a\u0000b"}"#] {
            assert!(
                matches!(
                    parse_new_artist(bad.as_bytes()),
                    Err(FanError::InvalidText(..))
                ),
                "{bad}"
            );
        }
        for bad in [
            r#"{"name":"x","membershipPrice":0}"#,
            r#"{"name":"x","membershipPrice":1.5}"#,
            r#"{"name":"x","membershipPrice":"30000"}"#,
            r#"{"name":"x","membershipPrice":10000001}"#,
        ] {
            assert_eq!(
                parse_new_artist(bad.as_bytes()),
                Err(FanError::InvalidPrice),
                "{bad}"
            );
        }
    }

    #[test]
    fn image_urls_must_be_https_on_a_host_the_web_app_renders() {
        for ok in [IMG, "https://lh3.googleusercontent.com/a/b=s96"] {
            assert!(image_url(&Value::from(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "http://x.amazonaws.com/a.jpg",
            "https://i.scdn.co/image/ab67",
            "https://amazonaws.com/a.jpg",
            "https://evilamazonaws.com/a.jpg",
            "https://x.amazonaws.com.evil.com/a.jpg",
            "https://user@x.amazonaws.com/a.jpg",
            "https://x.amazonaws.com:444/a.jpg",
            "https://x.amazonaws.com/a b.jpg",
        ] {
            assert_eq!(
                image_url(&Value::from(bad)),
                Err(FanError::InvalidImageUrl),
                "{bad}"
            );
        }
    }

    #[test]
    fn changes_tell_unchanged_from_cleared_and_refuse_an_empty_patch() {
        let c =
            parse_artist_changes(br#"{"image_url":null,"description":"Singer"}"#).expect("valid");
        assert_eq!(c.image_url, Some(None));
        assert_eq!(c.description, Some(Some("Singer".into())));
        assert_eq!(c.name, None);
        assert_eq!(parse_artist_changes(b"{}"), Err(FanError::NothingToChange));
        assert_eq!(
            parse_artist_changes(br#"{"name":null}"#),
            Err(FanError::InvalidText("name", MAX_NAME_CHARS))
        );
    }

    #[test]
    fn subscribe_needs_an_artist_uuid() {
        let id = "0B5E7C1E-3F7A-4B8E-9A4E-1C2D3E4F5A6B";
        let s = parse_subscribe(format!(r#"{{"artistId":"{id}"}}"#).as_bytes()).expect("valid");
        assert_eq!(s.artist_id.as_str(), id.to_ascii_lowercase());
        assert_eq!(
            parse_subscribe(b"{}"),
            Err(FanError::MissingField("artistId"))
        );
        assert_eq!(
            parse_subscribe(br#"{"artistId":"nope"}"#),
            Err(FanError::InvalidId)
        );
        assert_eq!(
            parse_subscribe(br#"{"artistId":5}"#),
            Err(FanError::InvalidId)
        );
        assert_eq!(parse_subscribe(b"nope"), Err(FanError::InvalidBody));
    }
}
