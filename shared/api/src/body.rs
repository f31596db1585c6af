//! Structural limits on request bodies, checked before any JSON parser sees them.

/// Largest request body any component reads: our largest request (an admin event with its
/// ticket types) is a few KiB, so 64 KiB leaves room and still bounds what a client can make a
/// component buffer.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Deepest nesting of JSON arrays and objects accepted in a request body. Our deepest request
/// (an admin event with ticket types) nests 3 levels; serde_json stops at 128 on its own, but a
/// body of 64 KiB of `[` still costs a recursive descent per byte before failing, and no client
/// of ours needs more than a handful.
pub const MAX_JSON_DEPTH: usize = 16;

/// Whether `body` nests arrays/objects deeper than `max` (brackets inside strings don't count).
/// One linear pass, no allocation; the body need not be valid JSON (the parser decides that).
pub fn json_too_deep(body: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn depth_is_counted_up_to_the_limit_inclusive() {
        assert!(!json_too_deep(
            nested(MAX_JSON_DEPTH).as_bytes(),
            MAX_JSON_DEPTH
        ));
        assert!(json_too_deep(
            nested(MAX_JSON_DEPTH + 1).as_bytes(),
            MAX_JSON_DEPTH
        ));
        assert!(!json_too_deep(br#"{"a":{"b":[1,{"c":2}]}}"#, 4));
        assert!(json_too_deep(br#"{"a":{"b":[1,{"c":2}]}}"#, 3));
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let body = format!(r#"{{"name":"{}","x":"\"[[["}}"#, "[".repeat(100));
        assert!(!json_too_deep(body.as_bytes(), 2));
    }

    #[test]
    fn siblings_do_not_add_up() {
        let body = format!("[{}]", vec!["[[1]]"; 1000].join(","));
        assert!(!json_too_deep(body.as_bytes(), 3));
    }
}
