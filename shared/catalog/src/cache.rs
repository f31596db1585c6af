//! CDN-friendly caching of public catalog reads: every 200 carries `Cache-Control` for a short
//! shared cache and a strong ETag over its exact body, and a matching `If-None-Match` gets a 304
//! without the body.

use sha2::{Digest as _, Sha256};

/// Browsers revalidate every time (`max-age=0`); the CDN keeps a reply 5 s and may serve it up to
/// 30 s stale while it refetches, so an on-sale rush hits the origin about once per 5 s per URL
/// and a status change shows within seconds.
pub const PUBLIC_CACHE_CONTROL: &str = "public, max-age=0, s-maxage=5, stale-while-revalidate=30";

/// Replies that must never be cached anywhere (the server clock).
pub const NO_STORE: &str = "no-store";

/// A strong validator for an exact body: the first 128 bits of its SHA-256, quoted. Equal bodies
/// get equal tags on every instance, so any replica can answer a revalidation.
pub fn strong_etag(body: &[u8]) -> String {
    const TAG_BYTES: usize = 16;
    let digest = Sha256::digest(body);
    let mut tag = String::with_capacity(TAG_BYTES * 2 + 2);
    tag.push('"');
    for byte in &digest[..TAG_BYTES] {
        tag.push(char::from(HEX[usize::from(byte >> 4)]));
        tag.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    tag.push('"');
    tag
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether an `If-None-Match` header value matches `etag` (RFC 9110 §13.1.2: `*`, or a list of
/// entity tags compared weakly, i.e. a `W/` prefix is ignored on either side).
pub fn if_none_match_matches(header: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    let wanted = opaque(etag);
    header
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || opaque(candidate) == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bodies_get_equal_strong_tags_and_different_bodies_different_ones() {
        let a = strong_etag(br#"{"events":[]}"#);
        assert_eq!(a, strong_etag(br#"{"events":[]}"#));
        assert_ne!(a, strong_etag(br#"{"events":[1]}"#));
        assert!(a.starts_with('"') && a.ends_with('"') && !a.starts_with("W/"));
        assert_eq!(a.len(), 34);
    }

    #[test]
    fn if_none_match_accepts_lists_wildcards_and_weak_forms() {
        let tag = strong_etag(b"x");
        assert!(if_none_match_matches(&tag, &tag));
        assert!(if_none_match_matches(&format!("\"other\", {tag}"), &tag));
        assert!(if_none_match_matches(&format!("W/{tag}"), &tag));
        assert!(if_none_match_matches("*", &tag));
        assert!(!if_none_match_matches("\"other\"", &tag));
        assert!(!if_none_match_matches("", &tag));
        let unquoted = tag.trim_matches('"').to_string();
        assert!(!if_none_match_matches(&unquoted, &tag));
    }
}
