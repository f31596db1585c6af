//! Request bodies parsed at the edge into domain types: a malformed id, a duplicate seat or a
//! bad key is a 400 here and never reaches Redis or Postgres.

use crate::MAX_TICKET_TYPES_PER_REQUEST as MAX_ITEMS;
use crate::{BookingError, MAX_SEATS_PER_REQUEST, MAX_STANDING_QUANTITY};
use serde_json::{Map, Value};

/// Longest idempotency key accepted (the table's CHECK).
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;

/// An id in its canonical form: lower-case, hyphenated, 36 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityId(String);

impl EntityId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses `text` as the id named `field` (the name goes into the 400's message).
    pub fn parse(text: &str, field: &'static str) -> Result<Self, BookingError> {
        urr_api::id::canonical_uuid(text)
            .map(Self)
            .ok_or(BookingError::InvalidId(field))
    }
}

impl std::fmt::Display for EntityId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// 1..=4 distinct seats, in id order: the order every lock is taken in (Redis and Postgres), so
/// two requests for overlapping seats can never wait on each other in a cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatSet(Vec<EntityId>);

impl SeatSet {
    pub fn parse(value: Option<&Value>) -> Result<Self, BookingError> {
        let items = match value {
            None | Some(Value::Null) => return Err(BookingError::NoSeats),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(BookingError::InvalidId("seatIds")),
        };
        if items.is_empty() {
            return Err(BookingError::NoSeats);
        }
        if items.len() > MAX_SEATS_PER_REQUEST {
            return Err(BookingError::TooManySeats);
        }
        let mut seats = items
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or(BookingError::InvalidId("seatIds"))
                    .and_then(|s| EntityId::parse(s, "seatIds"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        seats.sort();
        let before = seats.len();
        seats.dedup();
        if seats.len() != before {
            return Err(BookingError::DuplicateSeat);
        }
        Ok(Self(seats))
    }

    pub fn ids(&self) -> &[EntityId] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The seat ids as strings, in lock order.
    pub fn strings(&self) -> Vec<String> {
        self.0.iter().map(|id| id.as_str().to_string()).collect()
    }
}

fn object(body: &[u8]) -> Result<Map<String, Value>, BookingError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(BookingError::InvalidBody),
    }
}

fn event_id(map: &Map<String, Value>) -> Result<EntityId, BookingError> {
    map.get("eventId")
        .and_then(Value::as_str)
        .ok_or(BookingError::InvalidId("eventId"))
        .and_then(|s| EntityId::parse(s, "eventId"))
}

/// The idempotency key of a request: the `Idempotency-Key` header or the `idempotencyKey` field
/// (the same value if both are sent), or none.
pub fn idempotency_key(
    header: Option<&str>,
    field: Option<&Value>,
) -> Result<Option<String>, BookingError> {
    let field = match field {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(BookingError::InvalidIdempotencyKey),
    };
    let key = match (header, field) {
        (Some(h), Some(f)) if h != f => return Err(BookingError::IdempotencyKeyConflict),
        (Some(k), _) | (None, Some(k)) => k,
        (None, None) => return Ok(None),
    };
    let valid = (1..=MAX_IDEMPOTENCY_KEY_CHARS).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_graphic());
    if !valid {
        return Err(BookingError::InvalidIdempotencyKey);
    }
    Ok(Some(key.to_string()))
}

/// `POST /seats/lock`: `{eventId, seatIds}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    pub event_id: EntityId,
    pub seats: SeatSet,
}

impl HoldRequest {
    pub fn parse(body: &[u8]) -> Result<Self, BookingError> {
        let map = object(body)?;
        Ok(Self {
            event_id: event_id(&map)?,
            seats: SeatSet::parse(map.get("seatIds"))?,
        })
    }
}

/// `DELETE /seats/lock`: `{eventId, seatIds, fencingToken}` (the token the hold returned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRequest {
    pub event_id: EntityId,
    pub seats: SeatSet,
    pub fencing_token: i64,
}

impl ReleaseRequest {
    pub fn parse(body: &[u8]) -> Result<Self, BookingError> {
        let map = object(body)?;
        let token = match map.get("fencingToken") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.parse::<i64>().ok(),
            _ => None,
        }
        .filter(|t| *t > 0)
        .ok_or(BookingError::InvalidFencingToken)?;
        Ok(Self {
            event_id: event_id(&map)?,
            seats: SeatSet::parse(map.get("seatIds"))?,
            fencing_token: token,
        })
    }
}

/// `POST /seats/reserve`: `{eventId, seatIds, idempotencyKey?}` (+ `Idempotency-Key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveRequest {
    pub event_id: EntityId,
    pub seats: SeatSet,
    pub idempotency_key: Option<String>,
}

impl ReserveRequest {
    pub fn parse(body: &[u8], key_header: Option<&str>) -> Result<Self, BookingError> {
        let map = object(body)?;
        Ok(Self {
            event_id: event_id(&map)?,
            seats: SeatSet::parse(map.get("seatIds"))?,
            idempotency_key: idempotency_key(key_header, map.get("idempotencyKey"))?,
        })
    }
}

/// One line of a standing reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandingItem {
    pub ticket_type_id: EntityId,
    pub quantity: u32,
}

/// `POST /reservations`: `{eventId, items:[{ticketTypeId, quantity}], idempotencyKey?}`; items
/// come out in ticket-type id order (the lock order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandingRequest {
    pub event_id: EntityId,
    pub items: Vec<StandingItem>,
    pub idempotency_key: Option<String>,
}

impl StandingRequest {
    pub fn parse(body: &[u8], key_header: Option<&str>) -> Result<Self, BookingError> {
        let map = object(body)?;
        let raw = match map.get("items") {
            Some(Value::Array(items)) if !items.is_empty() => items,
            Some(Value::Array(_)) | None | Some(Value::Null) => return Err(BookingError::NoItems),
            Some(_) => return Err(BookingError::InvalidBody),
        };
        if raw.len() > MAX_ITEMS {
            return Err(BookingError::TooManyItems);
        }
        let mut items = raw
            .iter()
            .map(|item| {
                let ticket_type_id = item
                    .get("ticketTypeId")
                    .and_then(Value::as_str)
                    .ok_or(BookingError::InvalidId("ticketTypeId"))
                    .and_then(|s| EntityId::parse(s, "ticketTypeId"))?;
                let quantity = item
                    .get("quantity")
                    .and_then(Value::as_u64)
                    .and_then(|q| u32::try_from(q).ok())
                    .filter(|q| (1..=MAX_STANDING_QUANTITY).contains(q))
                    .ok_or(BookingError::InvalidQuantity)?;
                Ok(StandingItem {
                    ticket_type_id,
                    quantity,
                })
            })
            .collect::<Result<Vec<_>, BookingError>>()?;
        items.sort_by(|a, b| a.ticket_type_id.cmp(&b.ticket_type_id));
        if items
            .windows(2)
            .any(|w| w[0].ticket_type_id == w[1].ticket_type_id)
        {
            return Err(BookingError::DuplicateItem);
        }
        Ok(Self {
            event_id: event_id(&map)?,
            items,
            idempotency_key: idempotency_key(key_header, map.get("idempotencyKey"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EVENT: &str = "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b";
    const S1: &str = "11111111-1111-4111-8111-111111111111";
    const S2: &str = "22222222-2222-4222-8222-222222222222";

    fn bytes(v: Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }

    #[test]
    fn seats_come_out_in_id_order_and_lower_case() {
        let req = HoldRequest::parse(&bytes(
            json!({"eventId": EVENT.to_uppercase(), "seatIds": [S2, S1.to_uppercase()]}),
        ))
        .expect("valid");
        assert_eq!(req.seats.strings(), vec![S1.to_string(), S2.to_string()]);
        assert_eq!(req.event_id.as_str(), EVENT);
    }

    #[test]
    fn every_bad_seat_list_is_refused_with_its_code() {
        let cases = [
            (json!({"eventId": EVENT}), BookingError::NoSeats),
            (
                json!({"eventId": EVENT, "seatIds": []}),
                BookingError::NoSeats,
            ),
            (
                json!({"eventId": EVENT, "seatIds": [S1, S1]}),
                BookingError::DuplicateSeat,
            ),
            (
                json!({"eventId": EVENT, "seatIds": [S1, S2, EVENT, "33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444"]}),
                BookingError::TooManySeats,
            ),
            (
                json!({"eventId": EVENT, "seatIds": ["seat-1"]}),
                BookingError::InvalidId("seatIds"),
            ),
            (
                json!({"eventId": EVENT, "seatIds": [7]}),
                BookingError::InvalidId("seatIds"),
            ),
            (
                json!({"eventId": "x", "seatIds": [S1]}),
                BookingError::InvalidId("eventId"),
            ),
            (json!([S1]), BookingError::InvalidBody),
        ];
        for (body, expected) in cases {
            assert_eq!(
                HoldRequest::parse(&bytes(body.clone())),
                Err(expected),
                "{body}"
            );
        }
        assert_eq!(
            HoldRequest::parse(b"not json"),
            Err(BookingError::InvalidBody)
        );
    }

    #[test]
    fn the_idempotency_key_comes_from_the_header_or_the_body_but_they_must_agree() {
        assert_eq!(idempotency_key(Some("a"), None), Ok(Some("a".into())));
        assert_eq!(
            idempotency_key(None, Some(&json!("b"))),
            Ok(Some("b".into()))
        );
        assert_eq!(
            idempotency_key(Some("a"), Some(&json!("a"))),
            Ok(Some("a".into()))
        );
        assert_eq!(
            idempotency_key(Some("a"), Some(&json!("b"))),
            Err(BookingError::IdempotencyKeyConflict)
        );
        assert_eq!(idempotency_key(None, None), Ok(None));
        for bad in ["", "has space", &"k".repeat(201), "ключ"] {
            assert_eq!(
                idempotency_key(Some(bad), None),
                Err(BookingError::InvalidIdempotencyKey),
                "{bad}"
            );
        }
        assert_eq!(
            idempotency_key(None, Some(&json!(5))),
            Err(BookingError::InvalidIdempotencyKey)
        );
    }

    #[test]
    fn a_release_needs_the_holds_token() {
        let ok = ReleaseRequest::parse(&bytes(
            json!({"eventId": EVENT, "seatIds": [S1], "fencingToken": "17"}),
        ))
        .expect("valid");
        assert_eq!(ok.fencing_token, 17);
        for token in [json!(null), json!(0), json!(-3), json!("x"), json!(1.5)] {
            assert_eq!(
                ReleaseRequest::parse(&bytes(
                    json!({"eventId": EVENT, "seatIds": [S1], "fencingToken": token})
                )),
                Err(BookingError::InvalidFencingToken)
            );
        }
    }

    #[test]
    fn standing_items_are_bounded_distinct_and_sorted() {
        let req = StandingRequest::parse(
            &bytes(json!({"eventId": EVENT, "items": [
                {"ticketTypeId": S2, "quantity": 2}, {"ticketTypeId": S1, "quantity": 10}
            ]})),
            None,
        )
        .expect("valid");
        assert_eq!(req.items[0].ticket_type_id.as_str(), S1);
        assert_eq!(req.items[1].quantity, 2);
        let bad = |items: Value| {
            StandingRequest::parse(&bytes(json!({"eventId": EVENT, "items": items})), None)
        };
        assert_eq!(bad(json!([])), Err(BookingError::NoItems));
        for quantity in [json!(0), json!(11), json!("2"), json!(-1), json!(2.5)] {
            assert_eq!(
                bad(json!([{"ticketTypeId": S1, "quantity": quantity}])),
                Err(BookingError::InvalidQuantity)
            );
        }
        assert_eq!(
            bad(json!([{"ticketTypeId": S1, "quantity": 1}, {"ticketTypeId": S1, "quantity": 2}])),
            Err(BookingError::DuplicateItem)
        );
        assert_eq!(
            bad(json!([{"ticketTypeId": "x", "quantity": 1}])),
            Err(BookingError::InvalidId("ticketTypeId"))
        );
    }
}

/// The paging of `GET /reservations/my`: `None` without `page` and `limit` (the newest
/// reservations, as the web app reads them today), else that page under the public list rules
/// (`urr_api::paging`; [`crate::sql::MY_RESERVATIONS_PAGE_LIMIT`] rows unless `limit` says).
pub fn my_reservations_page(
    raw_query: &str,
) -> Result<Option<urr_api::paging::Page>, BookingError> {
    use urr_api::paging::{Page, first_values};
    let [page, limit] = first_values(raw_query, ["page", "limit"]);
    if page.is_none() && limit.is_none() {
        return Ok(None);
    }
    Ok(Some(Page::from_values(
        page.as_deref(),
        limit.as_deref(),
        crate::sql::MY_RESERVATIONS_PAGE_LIMIT,
    )?))
}

impl From<urr_api::paging::PagingError> for BookingError {
    fn from(e: urr_api::paging::PagingError) -> Self {
        match e {
            urr_api::paging::PagingError::InvalidPage => BookingError::InvalidPage,
            urr_api::paging::PagingError::InvalidLimit => BookingError::InvalidLimit,
        }
    }
}

#[cfg(test)]
mod my_reservations_tests {
    use super::*;
    use urr_api::paging::Page;

    #[test]
    fn no_paging_keeps_todays_reply_and_paging_follows_the_list_rules() {
        assert_eq!(my_reservations_page(""), Ok(None));
        assert_eq!(my_reservations_page("status=confirmed"), Ok(None));
        assert_eq!(
            my_reservations_page("page=2"),
            Ok(Some(Page { page: 2, limit: 20 }))
        );
        assert_eq!(
            my_reservations_page("limit=500"),
            Ok(Some(Page {
                page: 1,
                limit: 100
            }))
        );
        assert_eq!(
            my_reservations_page("page=x"),
            Err(BookingError::InvalidPage)
        );
        assert_eq!(
            my_reservations_page("page=1&limit=ten"),
            Err(BookingError::InvalidLimit)
        );
    }
}
