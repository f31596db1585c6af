//! HTTP validators and encodings every cached or conditional reply shares: a strong ETag over an
//! exact body, `If-None-Match` matching, and whether a client takes a gzip-encoded body.

use sha2::{Digest as _, Sha256};

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

/// Whether an `Accept-Encoding` header value accepts `gzip` (RFC 9110 §12.5.3): named, or `*`,
/// with a quality above zero; `identity` is always acceptable, so a refusal never means a 406.
pub fn accepts_gzip(header: &str) -> bool {
    let mut star = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        match coding.as_str() {
            "gzip" | "x-gzip" => return quality > 0.0,
            "*" => star = Some(quality > 0.0),
            _ => {}
        }
    }
    star.unwrap_or(false)
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
        assert!(if_none_match_matches("*", &tag));
        assert!(if_none_match_matches(&format!("W/{tag}"), &tag));
        assert!(!if_none_match_matches("\"other\"", &tag));
        assert!(!if_none_match_matches("", &tag));
        let unquoted = tag.trim_matches('"').to_string();
        assert!(!if_none_match_matches(&unquoted, &tag));
    }

    #[test]
    fn gzip_is_taken_when_named_or_starred_with_a_positive_quality() {
        for yes in [
            "gzip",
            "gzip, deflate, br",
            "br;q=1.0, gzip;q=0.8",
            "*",
            "deflate, *;q=0.1",
            "GZIP",
        ] {
            assert!(accepts_gzip(yes), "{yes}");
        }
        for no in [
            "",
            "identity",
            "br",
            "gzip;q=0",
            "gzip;q=0.0, br",
            "*;q=0",
            "br, *;q=0",
        ] {
            assert!(!accepts_gzip(no), "{no}");
        }
        // A named refusal wins over a star.
        assert!(!accepts_gzip("gzip;q=0, *"));
    }
}
