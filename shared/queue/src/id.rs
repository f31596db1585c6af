//! UUID path parameters and user ids, in their canonical form (lower-case, hyphenated), so one
//! user or event is always one Redis member and one key.

use crate::QueueError;

/// A UUID in canonical form: lower-case, hyphenated, 36 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uuid(String);

impl Uuid {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for Uuid {
    type Error = QueueError;

    /// Accepts only the hyphenated form (what the API hands out), in either case.
    fn try_from(text: &str) -> Result<Self, Self::Error> {
        urr_api::id::canonical_uuid(text)
            .map(Self)
            .ok_or(QueueError::InvalidEventId)
    }
}

impl std::fmt::Display for Uuid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hyphenated_uuid_is_accepted_and_lower_cased() {
        let id = Uuid::try_from("0B5E7C1E-3F7A-4B8E-9A4E-1C2D3E4F5A6B").expect("valid");
        assert_eq!(id.as_str(), "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b");
    }

    #[test]
    fn anything_else_is_an_invalid_event_id() {
        for bad in [
            "",
            "42",
            "0b5e7c1e3f7a4b8e9a4e1c2d3e4f5a6b",
            "{0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b}",
            "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6g",
            "x}:active:{evt:0b5e7c1e-3f7a-4b8e-9a",
        ] {
            assert_eq!(
                Uuid::try_from(bad),
                Err(QueueError::InvalidEventId),
                "{bad}"
            );
        }
    }
}
