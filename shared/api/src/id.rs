//! Entity ids as the API hands them out: UUIDs in the hyphenated form. Every group's id type
//! parses through [`canonical_uuid`], so a malformed id is refused the same way everywhere and
//! never reaches Postgres as a cast error.

/// Length of a hyphenated UUID, the only form accepted (not the simple, braced or URN forms).
pub const HYPHENATED_LEN: usize = 36;

/// Where the hyphens of the hyphenated form stand (8-4-4-4-12 hex digits).
const HYPHEN_POSITIONS: [usize; 4] = [8, 13, 18, 23];

/// `text` as a canonical UUID (lower-case, hyphenated), in either case; `None` for anything else.
pub fn canonical_uuid(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == HYPHENATED_LEN
        && bytes.iter().enumerate().all(|(at, byte)| {
            if HYPHEN_POSITIONS.contains(&at) {
                *byte == b'-'
            } else {
                byte.is_ascii_hexdigit()
            }
        });
    well_formed.then(|| text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hyphenated_uuid_in_either_case_comes_back_lower_case() {
        assert_eq!(
            canonical_uuid("0B5E7C1E-3F7A-4B8E-9A4E-1C2D3E4F5A6B").as_deref(),
            Some("0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b")
        );
        assert_eq!(
            canonical_uuid("00000000-0000-0000-0000-000000000000").as_deref(),
            Some("00000000-0000-0000-0000-000000000000")
        );
    }

    #[test]
    fn every_other_form_is_refused() {
        for bad in [
            "",
            "1",
            "not-a-uuid",
            "0b5e7c1e3f7a4b8e9a4e1c2d3e4f5a6b",
            "{0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b}",
            "urn:uuid:0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b",
            "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6g",
            "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b'",
            "0b5e7c1e-3f7a-4b8e-9a4e_1c2d3e4f5a6b",
            "0b5e7c1e3-f7a-4b8e-9a4e-1c2d3e4f5a6b",
            "' OR 1=1 --                         ",
            "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6\u{e9}",
        ] {
            assert_eq!(canonical_uuid(bad), None, "{bad}");
        }
    }
}
