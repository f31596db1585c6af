//! Request bodies → validated values. Every limit is a named constant; every refusal is a
//! `CommunityError` with its own `code`, so bad input is a clear 400 that changed nothing and
//! never reaches Postgres as something it could fail on.
//!
//! Text is stored exactly as written (trimmed at both ends, as the web trims it): never
//! HTML-escaped, because the web renders `content` as React text (`white-space: pre-wrap`) and
//! escaping here would show up doubled on the page. Control characters are refused (Postgres
//! refuses NUL outright); multi-line fields keep `\n`, `\r` and `\t`.

use serde_json::{Map, Value};

use crate::{CommunityError, Id};

/// The contract's title rule (URR's `varchar(255)`; the web's input has `maxLength` 255).
pub const MAX_TITLE_CHARS: usize = 255;
/// The contract's post body rule: ten thousand characters is a long essay, and the largest body
/// (in three-byte Hangul) stays well within the 64 KiB request limit.
pub const MAX_POST_CONTENT_CHARS: usize = 10_000;
/// The contract's comment rule.
pub const MAX_COMMENT_CHARS: usize = 1_000;
/// A notice is an operator's announcement: the same bound as a post.
pub const MAX_NEWS_CONTENT_CHARS: usize = 10_000;

/// `POST /community/posts`: `{title, content, artist_id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPost {
    pub title: String,
    pub content: String,
    pub artist_id: Id,
}

/// `PUT /community/posts/{id}` (`{title, content}`) and a news body (`{title, content,
/// is_pinned?}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub title: String,
    pub content: String,
}

/// `POST|PUT /news...`: `author` and `author_id` are ignored (the server names the author from
/// the account); `is_pinned` absent or null keeps the old value (a new notice: not pinned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsText {
    pub text: Text,
    pub is_pinned: Option<bool>,
}

impl NewsText {
    /// What the audit row records of the request: never the body text itself.
    pub fn summary(&self) -> Value {
        serde_json::json!({
            "title": self.text.title,
            "contentChars": self.text.content.chars().count(),
            "isPinned": self.is_pinned,
        })
    }
}

pub fn parse_new_post(body: &[u8]) -> Result<NewPost, CommunityError> {
    let f = Fields::parse(body)?;
    let text = f.post_text(MAX_POST_CONTENT_CHARS)?;
    Ok(NewPost {
        title: text.title,
        content: text.content,
        artist_id: f.id(("artist_id", "artistId"))?,
    })
}

pub fn parse_post_edit(body: &[u8]) -> Result<Text, CommunityError> {
    Fields::parse(body)?.post_text(MAX_POST_CONTENT_CHARS)
}

/// `POST /community/posts/{postId}/comments`: `{content}`.
pub fn parse_new_comment(body: &[u8]) -> Result<String, CommunityError> {
    Fields::parse(body)?.required(("content", "content"), MAX_COMMENT_CHARS, Lines::Many)
}

pub fn parse_news(body: &[u8]) -> Result<NewsText, CommunityError> {
    let f = Fields::parse(body)?;
    Ok(NewsText {
        text: f.post_text(MAX_NEWS_CONTENT_CHARS)?,
        is_pinned: f.flag(("is_pinned", "isPinned"))?,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    One,
    Many,
}

/// A JSON object body, read field by field (`(name, alias)`: the contract's name and the other
/// spelling; `null` is the same as absent).
struct Fields(Map<String, Value>);

impl Fields {
    fn parse(body: &[u8]) -> Result<Self, CommunityError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(CommunityError::InvalidBody("expected a JSON object".into())),
            Err(e) => Err(CommunityError::InvalidBody(e.to_string())),
        }
    }

    fn get(&self, (name, alias): (&str, &str)) -> Option<&Value> {
        self.0
            .get(name)
            .or_else(|| self.0.get(alias))
            .filter(|v| !v.is_null())
    }

    /// Text that must be present and not blank, at most `max` characters once trimmed.
    fn required(
        &self,
        field: (&'static str, &str),
        max: usize,
        lines: Lines,
    ) -> Result<String, CommunityError> {
        let name = field.0;
        let text = match self.get(field) {
            None => return Err(CommunityError::MissingField(name)),
            Some(Value::String(text)) => text.trim(),
            Some(_) => return Err(CommunityError::InvalidText(name)),
        };
        if text.is_empty() {
            return Err(CommunityError::MissingField(name));
        }
        if text.chars().count() > max {
            return Err(CommunityError::TextTooLong { field: name, max });
        }
        let allowed = |c: char| lines == Lines::Many && matches!(c, '\n' | '\r' | '\t');
        if text.chars().any(|c| c.is_control() && !allowed(c)) {
            return Err(CommunityError::InvalidText(name));
        }
        Ok(text.to_string())
    }

    fn post_text(&self, max_content: usize) -> Result<Text, CommunityError> {
        Ok(Text {
            title: self.required(("title", "title"), MAX_TITLE_CHARS, Lines::One)?,
            content: self.required(("content", "content"), max_content, Lines::Many)?,
        })
    }

    fn id(&self, field: (&'static str, &str)) -> Result<Id, CommunityError> {
        match self.get(field) {
            None => Err(CommunityError::MissingField(field.0)),
            Some(Value::String(text)) if text.trim().is_empty() => {
                Err(CommunityError::MissingField(field.0))
            }
            Some(Value::String(text)) => {
                Id::try_from(text.trim()).map_err(|_| CommunityError::InvalidFieldId(field.0))
            }
            Some(_) => Err(CommunityError::InvalidFieldId(field.0)),
        }
    }

    fn flag(&self, field: (&'static str, &str)) -> Result<Option<bool>, CommunityError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(_) => Err(CommunityError::InvalidFlag(field.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARTIST: &str = "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b";

    fn bytes(value: Value) -> Vec<u8> {
        value.to_string().into_bytes()
    }

    #[test]
    fn a_post_keeps_its_text_raw_and_trimmed() {
        let raw = "<b>bold?</b> & \"quotes\" 'n' <script>x</script>\n\tline two";
        let post = parse_new_post(&bytes(json!({
            "title": "  첫 글 <3  ", "content": format!("  {raw}\n "), "artist_id": ARTIST
        })))
        .expect("valid");
        assert_eq!(post.title, "첫 글 <3");
        assert_eq!(post.content, raw);
        assert_eq!(post.artist_id.as_str(), ARTIST);
        let camel = parse_new_post(&bytes(json!({
            "title": "t", "content": "c", "artistId": ARTIST.to_uppercase()
        })))
        .expect("valid");
        assert_eq!(camel.artist_id.as_str(), ARTIST);
    }

    #[test]
    fn missing_blank_and_mistyped_fields_are_named() {
        let cases = [
            (
                json!({"content": "c", "artist_id": ARTIST}),
                "missing_field",
                "title",
            ),
            (
                json!({"title": " ", "content": "c", "artist_id": ARTIST}),
                "missing_field",
                "title",
            ),
            (
                json!({"title": "t", "content": null, "artist_id": ARTIST}),
                "missing_field",
                "content",
            ),
            (
                json!({"title": "t", "content": "c"}),
                "missing_field",
                "artist_id",
            ),
            (
                json!({"title": 5, "content": "c", "artist_id": ARTIST}),
                "invalid_text",
                "title",
            ),
            (
                json!({"title": "t", "content": "c", "artist_id": "42"}),
                "invalid_id",
                "artist_id",
            ),
            (
                json!({"title": "t", "content": "c", "artist_id": 42}),
                "invalid_id",
                "artist_id",
            ),
            (
                json!({"title": "a\u{0}b", "content": "c", "artist_id": ARTIST}),
                "invalid_text",
                "title",
            ),
            (
                json!({"title": "a\nb", "content": "c", "artist_id": ARTIST}),
                "invalid_text",
                "title",
            ),
            (
                json!({"title": "t", "content": "c\u{7}", "artist_id": ARTIST}),
                "invalid_text",
                "content",
            ),
        ];
        for (body, code, field) in cases {
            let err = parse_new_post(&bytes(body.clone())).expect_err("refused");
            assert_eq!(err.code(), code, "{body}");
            assert!(err.to_string().contains(field), "{body}: {err}");
        }
        for body in [b"[]".as_slice(), b"not json", b""] {
            assert_eq!(
                parse_new_post(body).map_err(|e| e.code()),
                Err("invalid_body")
            );
        }
    }

    #[test]
    fn lengths_are_counted_in_characters_up_to_each_named_limit() {
        let hangul = |n: usize| "가".repeat(n);
        let post = |title: String, content: String| {
            parse_new_post(&bytes(
                json!({"title": title, "content": content, "artist_id": ARTIST}),
            ))
        };
        assert!(post(hangul(MAX_TITLE_CHARS), hangul(MAX_POST_CONTENT_CHARS)).is_ok());
        assert_eq!(
            post(hangul(MAX_TITLE_CHARS + 1), "c".into()),
            Err(CommunityError::TextTooLong {
                field: "title",
                max: MAX_TITLE_CHARS
            })
        );
        assert_eq!(
            post("t".into(), hangul(MAX_POST_CONTENT_CHARS + 1)).map_err(|e| e.code()),
            Err("text_too_long")
        );
        let comment = |n: usize| parse_new_comment(&bytes(json!({"content": hangul(n)})));
        assert!(comment(MAX_COMMENT_CHARS).is_ok());
        assert_eq!(
            comment(MAX_COMMENT_CHARS + 1).map_err(|e| e.code()),
            Err("text_too_long")
        );
        assert_eq!(comment(0).map_err(|e| e.code()), Err("missing_field"));
    }

    #[test]
    fn news_ignores_the_client_author_and_reads_an_optional_pin() {
        let news = parse_news(&bytes(json!({
            "title": "공지", "content": "본문", "author": "someone else",
            "author_id": ARTIST, "is_pinned": true
        })))
        .expect("valid");
        assert_eq!(news.is_pinned, Some(true));
        assert_eq!(news.summary()["contentChars"], 2);
        let edit = parse_news(&bytes(
            json!({"title": "t", "content": "c", "is_pinned": null}),
        ))
        .expect("valid");
        assert_eq!(edit.is_pinned, None);
        assert_eq!(
            parse_news(&bytes(
                json!({"title": "t", "content": "c", "isPinned": "yes"})
            ))
            .map_err(|e| e.code()),
            Err("invalid_body")
        );
    }
}
