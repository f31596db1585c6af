//! The seat holds a cancel owes Redis: what the cancelling SQL functions return in `holds`
//! (`{"eventId", "holds": [{"seatId", "userId", "token"}]}`, migrations/20261207000002_seat_
//! release.sql), read as values. Each hold is freed only while it still carries exactly
//! `<user>:<token>`, the value the reserve wrote (`free.lua`).

use crate::input::EntityId;
use serde::Deserialize;

/// One seat hold of a reservation that is no longer live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreedHold {
    pub seat: EntityId,
    pub user_id: String,
    pub token: i64,
}

impl FreedHold {
    /// The hold key's value while the reservation's hold is in place: `<user>:<token>`.
    pub fn value(&self) -> String {
        format!("{}:{}", self.user_id, self.token)
    }
}

/// Every hold to free, all of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreedHolds {
    pub event: EntityId,
    pub holds: Vec<FreedHold>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    event_id: String,
    holds: Vec<RawHold>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHold {
    seat_id: String,
    user_id: String,
    token: i64,
}

impl FreedHolds {
    /// Reads the functions' JSON; `None` for anything else (a migration/code mismatch: the
    /// holds then expire by themselves, and the caller says so in its log).
    pub fn parse(text: &str) -> Option<Self> {
        let raw: Raw = serde_json::from_str(text).ok()?;
        let id = |text: &str| EntityId::parse(text, "id").ok();
        let holds = raw
            .holds
            .into_iter()
            .map(|h| {
                Some(FreedHold {
                    seat: id(&h.seat_id)?,
                    // A user id is a UUID too, written into the key names as Postgres prints it.
                    user_id: id(&h.user_id)?.as_str().to_string(),
                    token: h.token,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            event: id(&raw.event_id)?,
            holds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_functions_json_reads_as_holds_with_their_values() {
        let text = json!({
            "eventId": "0B5E7C1E-3F7A-4B8E-9A4E-1C2D3E4F5A6B",
            "holds": [{"seatId": "11111111-1111-4111-8111-111111111111",
                       "userId": "22222222-2222-4222-8222-222222222222", "token": 1765120000000001_i64}],
        })
        .to_string();
        let freed = FreedHolds::parse(&text).expect("holds");
        assert_eq!(freed.event.as_str(), "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b");
        assert_eq!(
            freed.holds[0].value(),
            "22222222-2222-4222-8222-222222222222:1765120000000001"
        );
    }

    #[test]
    fn anything_else_is_none() {
        for bad in [
            "null",
            "{}",
            r#"{"eventId": "x", "holds": []}"#,
            r#"{"eventId": "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b", "holds": [{"seatId": "s"}]}"#,
        ] {
            assert_eq!(FreedHolds::parse(bad), None, "{bad}");
        }
    }
}
