//! UUID path parameters (`/events/{id}`, `/tickets/availability/{id}`), parsed at the edge so a
//! malformed id is a 400 and never reaches Postgres as a cast error.

use crate::CatalogError;

/// An entity id in its canonical form: lower-case, hyphenated, 36 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityId(String);

impl EntityId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for EntityId {
    type Error = CatalogError;

    /// Accepts only the hyphenated form (what the API hands out), in either case.
    fn try_from(text: &str) -> Result<Self, Self::Error> {
        urr_api::id::canonical_uuid(text)
            .map(Self)
            .ok_or(CatalogError::InvalidId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hyphenated_uuid_is_accepted_and_lower_cased() {
        let id = EntityId::try_from("0B5E7C1E-3F7A-4B8E-9A4E-1C2D3E4F5A6B").expect("valid");
        assert_eq!(id.as_str(), "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b");
    }

    #[test]
    fn anything_else_is_an_invalid_id() {
        // Every malformed form is `urr_api::id`'s to test; here, that each one is this 400.
        for bad in ["", "not-a-uuid", "' OR 1=1 --                         "] {
            assert_eq!(
                EntityId::try_from(bad),
                Err(CatalogError::InvalidId),
                "{bad}"
            );
        }
    }
}
