//! Admin request bodies → validated values. Every limit is a named constant; every refusal is an
//! `AdminError` with its own `code`, so bad input is a clear 400 and never reaches Postgres as
//! something it could fail on. Fields are read by their contract (camelCase) name, or the
//! snake_case one old clients send; JSON `null` is the same as absent.

use serde_json::{Map, Value, json};
use urr_catalog_domain::EntityId;

use crate::AdminError;
use crate::time::parse_timestamp;

/// The highest price of one seat or ticket, in won — the schema's `booking_max_price()`
/// (migrations/20261207000002_seat_release.sql). Far above any real ticket, and low enough that
/// the largest order (4 seats, or 10 standing lines of 10 tickets) totals at most 1,000,000,000
/// won, inside the `integer` totals; a billion-won price once overflowed a total into a 500.
pub const MAX_PRICE_KRW: i64 = 10_000_000;
/// The `events` table's checks allow 200 characters of title and venue.
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_VENUE_CHARS: usize = 200;
pub const MAX_ARTIST_CHARS: usize = 200;
/// A street address with building and floor, in Korean or English.
pub const MAX_ADDRESS_CHARS: usize = 300;
/// An event page's text: a few paragraphs. Bounded so the largest body (an event with
/// [`MAX_TICKET_TYPES_PER_REQUEST`] ticket types) stays within the 64 KiB body limit even in
/// three-byte Hangul.
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;
/// Browsers and CDNs handle URLs up to about 2 KB everywhere.
pub const MAX_URL_CHARS: usize = 2_048;
/// The `ticket_types` table's check allows 100 characters of name.
pub const MAX_TICKET_NAME_CHARS: usize = 100;
pub const MAX_TICKET_DESCRIPTION_CHARS: usize = 500;
/// Ticket types created with one event: real events have a handful; more come one by one.
pub const MAX_TICKET_TYPES_PER_REQUEST: usize = 20;
/// Tickets of one type: the largest stadiums hold about 100,000 (the seat-layout bound too).
pub const MAX_TICKET_QUANTITY: i64 = 100_000;
/// A cancel reason is stored in the outbox (`left(reason, 200)`) and the audit log.
pub const MAX_REASON_CHARS: usize = 200;

/// A new event (`POST /admin/events`). Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub title: String,
    pub description: String,
    pub venue: String,
    pub address: String,
    pub event_date: i64,
    pub sale_start_date: i64,
    pub sale_end_date: i64,
    pub poster_image_url: Option<String>,
    pub artist_name: String,
    pub seat_layout_id: Option<EntityId>,
    pub ticket_types: Vec<NewTicketType>,
}

/// The fields `PUT /admin/events/{id}` changes (`None`: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub venue: Option<String>,
    pub address: Option<String>,
    pub event_date: Option<i64>,
    pub sale_start_date: Option<i64>,
    pub sale_end_date: Option<i64>,
    pub poster_image_url: Option<String>,
    pub artist_name: Option<String>,
    pub seat_layout_id: Option<EntityId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicketType {
    pub name: String,
    pub price: i64,
    pub total_quantity: i64,
    pub description: String,
}

/// The fields `PUT /admin/tickets/{id}` changes (`None`: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketTypeChanges {
    pub name: Option<String>,
    pub price: Option<i64>,
    pub total_quantity: Option<i64>,
    pub description: Option<String>,
}

/// A reservation status an operator names in `PATCH /admin/reservations/{id}/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationStatus {
    Pending,
    Confirmed,
    Cancelled,
    Expired,
}

impl ReservationStatus {
    pub fn parse(text: &str) -> Result<Self, AdminError> {
        match text {
            "pending" => Ok(Self::Pending),
            "confirmed" => Ok(Self::Confirmed),
            "cancelled" => Ok(Self::Cancelled),
            "expired" => Ok(Self::Expired),
            _ => Err(AdminError::InvalidStatus),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }
}

/// What an operator asks a reservation to become (`PATCH /admin/reservations/{id}/status`):
/// URR's web sends one of these three; what each may do is decided by the SQL function
/// `admin_set_reservation_status` (migrations/20261208000021_admin_shapes.sql).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusTarget {
    /// Only ever a no-op: a reservation is confirmed by its payment's capture.
    Confirmed,
    /// Cancel; a paid reservation's refund is recorded in the payments outbox.
    Cancelled,
    /// Cancel a paid reservation and refund it; refused when nothing was paid.
    Refunded,
}

impl StatusTarget {
    pub fn parse(text: &str) -> Result<Self, AdminError> {
        match text {
            "confirmed" => Ok(Self::Confirmed),
            "cancelled" => Ok(Self::Cancelled),
            "refunded" => Ok(Self::Refunded),
            _ => Err(AdminError::InvalidStatusTarget),
        }
    }

    /// URR's `paymentStatus` names the money side: `completed` (paid) or `refunded`.
    fn parse_payment(text: &str) -> Result<Self, AdminError> {
        match text {
            "completed" => Ok(Self::Confirmed),
            "refunded" => Ok(Self::Refunded),
            _ => Err(AdminError::InvalidStatusTarget),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
        }
    }
}

/// `{status?, paymentStatus?, reason?}` with at least one of the two statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: StatusTarget,
    pub reason: Option<String>,
}

/// The body of a cancel (`{reason?}`); the web client sends none at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CancelRequest {
    pub reason: Option<String>,
}

/// Single-line text refuses every control character; multi-line text allows `\n`, `\r`, `\t`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    One,
    Many,
}

/// A JSON object body, read field by field.
struct Fields(Map<String, Value>);

impl Fields {
    /// An empty body is an empty object (bodyless POSTs); anything else must be a JSON object.
    fn parse(body: &[u8]) -> Result<Self, AdminError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Map::new()));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(AdminError::InvalidBody("expected a JSON object".into())),
            Err(e) => Err(AdminError::InvalidBody(e.to_string())),
        }
    }

    fn from_value(value: &Value) -> Result<Self, AdminError> {
        match value {
            Value::Object(map) => Ok(Self(map.clone())),
            _ => Err(AdminError::InvalidBody(
                "each ticket type must be an object".into(),
            )),
        }
    }

    /// The value under the contract name or its snake_case alias; `null` counts as absent.
    fn get(&self, name: &str, alias: &str) -> Option<&Value> {
        self.0
            .get(name)
            .or_else(|| self.0.get(alias))
            .filter(|v| !v.is_null())
    }

    fn text(
        &self,
        (name, alias): (&'static str, &str),
        max: usize,
        lines: Lines,
    ) -> Result<Option<String>, AdminError> {
        let Some(value) = self.get(name, alias) else {
            return Ok(None);
        };
        let text = value
            .as_str()
            .ok_or_else(|| AdminError::InvalidBody(format!("`{name}` must be a string")))?
            .trim();
        if text.chars().count() > max {
            return Err(AdminError::TextTooLong { field: name, max });
        }
        let allowed = |c: char| lines == Lines::Many && matches!(c, '\n' | '\r' | '\t');
        if text.chars().any(|c| c.is_control() && !allowed(c)) {
            return Err(AdminError::InvalidText(name));
        }
        Ok(Some(text.to_string()))
    }

    /// Text that must be present and not blank.
    fn required_text(&self, field: (&'static str, &str), max: usize) -> Result<String, AdminError> {
        self.text(field, max, Lines::One)?
            .filter(|t| !t.is_empty())
            .ok_or(AdminError::MissingField(field.0))
    }

    /// Text that may be blank when changed (`Some("")` is a change to blank).
    fn changed_text(
        &self,
        field: (&'static str, &str),
        max: usize,
        lines: Lines,
    ) -> Result<Option<String>, AdminError> {
        self.text(field, max, lines)
    }

    /// A whole number: a JSON integer, or a string of digits (HTML form values).
    fn whole(&self, name: &'static str, alias: &str) -> Option<Result<i64, ()>> {
        self.get(name, alias).map(|value| match value {
            Value::Number(n) => n.as_i64().ok_or(()),
            Value::String(s) => s.trim().parse::<i64>().map_err(|_| ()),
            _ => Err(()),
        })
    }

    fn price(&self) -> Result<Option<i64>, AdminError> {
        match self.whole("price", "price") {
            None => Ok(None),
            Some(Ok(price)) if (0..=MAX_PRICE_KRW).contains(&price) => Ok(Some(price)),
            Some(_) => Err(AdminError::InvalidPrice("price")),
        }
    }

    fn quantity(&self, min: i64) -> Result<Option<i64>, AdminError> {
        const FIELD: &str = "totalQuantity";
        match self.whole(FIELD, "total_quantity") {
            None => Ok(None),
            Some(Ok(n)) if (min..=MAX_TICKET_QUANTITY).contains(&n) => Ok(Some(n)),
            Some(_) => Err(AdminError::InvalidQuantity(FIELD, min)),
        }
    }

    fn timestamp(&self, (name, alias): (&'static str, &str)) -> Result<Option<i64>, AdminError> {
        self.get(name, alias)
            .map(|value| {
                value
                    .as_str()
                    .and_then(parse_timestamp)
                    .ok_or(AdminError::InvalidDate(name))
            })
            .transpose()
    }

    fn poster_url(&self) -> Result<Option<String>, AdminError> {
        let url = self.text(
            ("posterImageUrl", "poster_image_url"),
            MAX_URL_CHARS,
            Lines::One,
        );
        let url = url.map_err(|e| match e {
            AdminError::InvalidBody(_) => e,
            _ => AdminError::InvalidUrl,
        })?;
        match url.filter(|u| !u.is_empty()) {
            None => Ok(None),
            Some(u)
                if (u.starts_with("https://") || u.starts_with("http://"))
                    && !u.contains(char::is_whitespace) =>
            {
                Ok(Some(u))
            }
            Some(_) => Err(AdminError::InvalidUrl),
        }
    }

    fn layout_id(&self) -> Result<Option<EntityId>, AdminError> {
        match self.get("seatLayoutId", "seat_layout_id") {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => EntityId::try_from(s.trim())
                .map(Some)
                .map_err(|_| AdminError::InvalidLayoutId),
            Some(_) => Err(AdminError::InvalidLayoutId),
        }
    }

    fn reason(&self) -> Result<Option<String>, AdminError> {
        Ok(self
            .text(("reason", "reason"), MAX_REASON_CHARS, Lines::One)?
            .filter(|r| !r.is_empty()))
    }
}

const TITLE: (&str, &str) = ("title", "title");
const DESCRIPTION: (&str, &str) = ("description", "description");
const VENUE: (&str, &str) = ("venue", "venue");
const ADDRESS: (&str, &str) = ("address", "address");
const ARTIST: (&str, &str) = ("artistName", "artist_name");
const EVENT_DATE: (&str, &str) = ("eventDate", "event_date");
const SALE_START: (&str, &str) = ("saleStartDate", "sale_start_date");
const SALE_END: (&str, &str) = ("saleEndDate", "sale_end_date");
const NAME: (&str, &str) = ("name", "name");

/// The sale window rules: it opens before it closes, and closes no later than the event.
fn check_window(start: i64, end: i64, event: i64) -> Result<(), AdminError> {
    if start >= end {
        return Err(AdminError::InvalidSaleWindow);
    }
    if end > event {
        return Err(AdminError::SaleEndsAfterEvent);
    }
    Ok(())
}

pub fn parse_new_event(body: &[u8]) -> Result<NewEvent, AdminError> {
    let f = Fields::parse(body)?;
    let required_time =
        |field: (&'static str, &str)| f.timestamp(field)?.ok_or(AdminError::MissingField(field.0));
    let event = NewEvent {
        title: f.required_text(TITLE, MAX_TITLE_CHARS)?,
        description: f
            .text(DESCRIPTION, MAX_DESCRIPTION_CHARS, Lines::Many)?
            .unwrap_or_default(),
        venue: f.required_text(VENUE, MAX_VENUE_CHARS)?,
        address: f
            .text(ADDRESS, MAX_ADDRESS_CHARS, Lines::One)?
            .unwrap_or_default(),
        event_date: required_time(EVENT_DATE)?,
        sale_start_date: required_time(SALE_START)?,
        sale_end_date: required_time(SALE_END)?,
        poster_image_url: f.poster_url()?,
        artist_name: f
            .text(ARTIST, MAX_ARTIST_CHARS, Lines::One)?
            .unwrap_or_default(),
        seat_layout_id: f.layout_id()?,
        ticket_types: parse_ticket_types(f.get("ticketTypes", "ticket_types"))?,
    };
    check_window(event.sale_start_date, event.sale_end_date, event.event_date)?;
    Ok(event)
}

fn parse_ticket_types(value: Option<&Value>) -> Result<Vec<NewTicketType>, AdminError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let items = value
        .as_array()
        .ok_or_else(|| AdminError::InvalidBody("`ticketTypes` must be an array".into()))?;
    if items.len() > MAX_TICKET_TYPES_PER_REQUEST {
        return Err(AdminError::TooManyTicketTypes);
    }
    let mut types: Vec<NewTicketType> = Vec::with_capacity(items.len());
    for item in items {
        let ticket_type = new_ticket_type(&Fields::from_value(item)?)?;
        if types.iter().any(|t| t.name == ticket_type.name) {
            return Err(AdminError::DuplicateTicketType);
        }
        types.push(ticket_type);
    }
    Ok(types)
}

fn new_ticket_type(f: &Fields) -> Result<NewTicketType, AdminError> {
    Ok(NewTicketType {
        name: f.required_text(NAME, MAX_TICKET_NAME_CHARS)?,
        price: f.price()?.ok_or(AdminError::MissingField("price"))?,
        total_quantity: f
            .quantity(1)?
            .ok_or(AdminError::MissingField("totalQuantity"))?,
        description: f
            .text(DESCRIPTION, MAX_TICKET_DESCRIPTION_CHARS, Lines::Many)?
            .unwrap_or_default(),
    })
}

pub fn parse_new_ticket_type(body: &[u8]) -> Result<NewTicketType, AdminError> {
    new_ticket_type(&Fields::parse(body)?)
}

pub fn parse_event_changes(body: &[u8]) -> Result<EventChanges, AdminError> {
    let f = Fields::parse(body)?;
    let non_blank = |field: (&'static str, &str), max| match f.text(field, max, Lines::One)? {
        Some(t) if t.is_empty() => Err(AdminError::InvalidText(field.0)),
        other => Ok(other),
    };
    let changes = EventChanges {
        title: non_blank(TITLE, MAX_TITLE_CHARS)?,
        description: f.changed_text(DESCRIPTION, MAX_DESCRIPTION_CHARS, Lines::Many)?,
        venue: non_blank(VENUE, MAX_VENUE_CHARS)?,
        address: f.changed_text(ADDRESS, MAX_ADDRESS_CHARS, Lines::One)?,
        event_date: f.timestamp(EVENT_DATE)?,
        sale_start_date: f.timestamp(SALE_START)?,
        sale_end_date: f.timestamp(SALE_END)?,
        poster_image_url: f.poster_url()?,
        artist_name: f.changed_text(ARTIST, MAX_ARTIST_CHARS, Lines::One)?,
        seat_layout_id: f.layout_id()?,
    };
    if changes == EventChanges::default() {
        return Err(AdminError::EmptyUpdate);
    }
    // What can be checked without the stored event; the SQL checks the merged result.
    if let (Some(start), Some(end)) = (changes.sale_start_date, changes.sale_end_date) {
        check_window(start, end, changes.event_date.unwrap_or(i64::MAX))?;
    }
    Ok(changes)
}

pub fn parse_ticket_type_changes(body: &[u8]) -> Result<TicketTypeChanges, AdminError> {
    let f = Fields::parse(body)?;
    let changes = TicketTypeChanges {
        name: match f.text(NAME, MAX_TICKET_NAME_CHARS, Lines::One)? {
            Some(t) if t.is_empty() => return Err(AdminError::InvalidText("name")),
            other => other,
        },
        price: f.price()?,
        // Zero is a valid new total when nothing is sold (a type taken off sale).
        total_quantity: f.quantity(0)?,
        description: f.changed_text(DESCRIPTION, MAX_TICKET_DESCRIPTION_CHARS, Lines::Many)?,
    };
    if changes == TicketTypeChanges::default() {
        return Err(AdminError::EmptyUpdate);
    }
    Ok(changes)
}

/// `{status?, paymentStatus?, reason?}`: neither status is a 400 (`missing_field`), an unknown
/// one a 400 (`invalid_status`), two that disagree a 400 too. `cancelled` with `paymentStatus:
/// refunded` is a refund (a paid reservation's cancel refunds it anyway).
pub fn parse_status_change(body: &[u8]) -> Result<StatusChange, AdminError> {
    let f = Fields::parse(body)?;
    let text = |name: &'static str| {
        f.text((name, name), 20, Lines::One)
            .map_err(|_| AdminError::InvalidStatusTarget)
    };
    let status = text("status")?
        .map(|s| StatusTarget::parse(&s))
        .transpose()?;
    let payment = text("paymentStatus")?
        .map(|s| StatusTarget::parse_payment(&s))
        .transpose()?;
    let status = match (status, payment) {
        (None, None) => return Err(AdminError::NoStatusFields),
        (Some(s), None) | (None, Some(s)) => s,
        (Some(StatusTarget::Cancelled), Some(StatusTarget::Refunded)) => StatusTarget::Refunded,
        (Some(s), Some(p)) if s == p => s,
        (Some(_), Some(_)) => return Err(AdminError::InvalidStatusTarget),
    };
    Ok(StatusChange {
        status,
        reason: f.reason()?,
    })
}

pub fn parse_cancel(body: &[u8]) -> Result<CancelRequest, AdminError> {
    Ok(CancelRequest {
        reason: Fields::parse(body)?.reason()?,
    })
}

// ---------------------------------------------------------------- audit summaries
//
// What each change asked for, as stored in admin_audit_log.request_summary: built from the
// validated values (never the raw body or headers, so nothing the client did not mean as data
// can land in the log), with long free text reduced to its length.

impl NewTicketType {
    /// The shape `admin_create_event` reads from its `p_ticket_types` array.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "price": self.price,
            "totalQuantity": self.total_quantity,
            "description": self.description,
        })
    }

    pub fn summary(&self) -> Value {
        json!({"name": self.name, "price": self.price, "totalQuantity": self.total_quantity})
    }
}

impl NewEvent {
    pub fn summary(&self) -> Value {
        json!({
            "title": self.title,
            "venue": self.venue,
            "artistName": self.artist_name,
            "eventDate": self.event_date,
            "saleStartDate": self.sale_start_date,
            "saleEndDate": self.sale_end_date,
            "seatLayoutId": self.seat_layout_id.as_ref().map(EntityId::as_str),
            "descriptionChars": self.description.chars().count(),
            "ticketTypes": self.ticket_types.iter().map(NewTicketType::summary).collect::<Vec<_>>(),
        })
    }
}

impl EventChanges {
    pub fn summary(&self) -> Value {
        let mut changed = Map::new();
        let mut put = |name: &str, value: Value| {
            if !value.is_null() {
                changed.insert(name.to_string(), value);
            }
        };
        put("title", json!(self.title));
        put("venue", json!(self.venue));
        put("address", json!(self.address));
        put("artistName", json!(self.artist_name));
        put("eventDate", json!(self.event_date));
        put("saleStartDate", json!(self.sale_start_date));
        put("saleEndDate", json!(self.sale_end_date));
        put("posterImageUrl", json!(self.poster_image_url));
        put(
            "seatLayoutId",
            json!(self.seat_layout_id.as_ref().map(EntityId::as_str)),
        );
        put(
            "descriptionChars",
            json!(self.description.as_ref().map(|d| d.chars().count())),
        );
        json!({ "changed": changed })
    }
}

impl TicketTypeChanges {
    pub fn summary(&self) -> Value {
        json!({
            "name": self.name,
            "price": self.price,
            "totalQuantity": self.total_quantity,
            "descriptionChanged": self.description.is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code<T: std::fmt::Debug>(result: Result<T, AdminError>) -> &'static str {
        result.expect_err("should be refused").code()
    }

    fn event(overrides: Value) -> Vec<u8> {
        let mut body = json!({
            "title": "Golden Hour", "venue": "Olympic Hall", "artistName": "IU",
            "eventDate": "2026-12-24T19:00:00+09:00",
            "saleStartDate": "2026-12-01T20:00:00+09:00",
            "saleEndDate": "2026-12-24T18:00:00+09:00",
            "seatLayoutId": "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b",
            "ticketTypes": [{"name": "VIP", "price": 154000, "totalQuantity": 100}],
        });
        if let (Some(map), Value::Object(extra)) = (body.as_object_mut(), overrides) {
            map.extend(extra);
        }
        body.to_string().into_bytes()
    }

    #[test]
    fn a_complete_event_parses_with_its_ticket_types() {
        let e = parse_new_event(&event(json!({}))).expect("valid");
        assert_eq!(e.title, "Golden Hour");
        assert_eq!(e.sale_end_date - e.sale_start_date, 23 * 86_400 - 2 * 3600);
        assert_eq!(e.ticket_types.len(), 1);
        assert_eq!(e.ticket_types[0].total_quantity, 100);
        assert!(e.seat_layout_id.is_some());
        let summary = e.summary();
        assert_eq!(summary["ticketTypes"][0]["name"], "VIP");
    }

    #[test]
    fn snake_case_names_are_accepted_too() {
        let body = json!({
            "title": "T", "venue": "V", "event_date": "2026-12-24T19:00:00Z",
            "sale_start_date": "2026-12-01T00:00:00Z", "sale_end_date": "2026-12-02T00:00:00Z",
            "ticket_types": [{"name": "GA", "price": "5000", "total_quantity": 10}],
        });
        let e = parse_new_event(body.to_string().as_bytes()).expect("valid");
        assert_eq!(e.ticket_types[0].price, 5000);
    }

    #[test]
    fn the_bad_inputs_matrix_names_each_refusal() {
        let long = "x".repeat(MAX_TITLE_CHARS + 1);
        for (overrides, expected) in [
            (
                json!({"saleEndDate": "2026-11-30T00:00:00Z"}),
                "invalid_sale_window",
            ),
            (
                json!({"saleStartDate": "2026-12-24T18:00:00+09:00"}),
                "invalid_sale_window",
            ),
            (
                json!({"eventDate": "2026-12-24T17:00:00+09:00"}),
                "sale_ends_after_event",
            ),
            (json!({"eventDate": "next friday"}), "invalid_date"),
            (json!({"eventDate": 1_800_000_000}), "invalid_date"),
            (json!({"title": long}), "text_too_long"),
            (json!({"title": "  "}), "missing_field"),
            (json!({"title": null}), "missing_field"),
            (json!({"title": "a\u{0}b"}), "invalid_text"),
            (json!({"title": 5}), "invalid_body"),
            (
                json!({"venue": "x".repeat(MAX_VENUE_CHARS + 1)}),
                "text_too_long",
            ),
            (
                json!({"description": "x".repeat(MAX_DESCRIPTION_CHARS + 1)}),
                "text_too_long",
            ),
            (
                json!({"seatLayoutId": "small_theater"}),
                "invalid_layout_id",
            ),
            (json!({"seatLayoutId": 7}), "invalid_layout_id"),
            (
                json!({"posterImageUrl": "javascript:alert(1)"}),
                "invalid_url",
            ),
            (
                json!({"posterImageUrl": "https://x/".repeat(MAX_URL_CHARS)}),
                "invalid_url",
            ),
            (
                json!({"ticketTypes": [{"name": "A", "price": -1, "totalQuantity": 1}]}),
                "invalid_price",
            ),
            (
                json!({"ticketTypes": [{"name": "A", "price": 1.5, "totalQuantity": 1}]}),
                "invalid_price",
            ),
            (
                json!({"ticketTypes": [{"name": "A", "price": 1_000_000_001_i64, "totalQuantity": 1}]}),
                "invalid_price",
            ),
            (
                json!({"ticketTypes": [{"name": "A", "price": MAX_PRICE_KRW + 1, "totalQuantity": 1}]}),
                "invalid_price",
            ),
            (
                json!({"ticketTypes": [{"name": "A", "price": 1, "totalQuantity": 0}]}),
                "invalid_quantity",
            ),
            (
                json!({"ticketTypes": [{"name": "A", "price": 1, "totalQuantity": 100_001}]}),
                "invalid_quantity",
            ),
            (
                json!({"ticketTypes": [{"name": "A", "totalQuantity": 1}]}),
                "missing_field",
            ),
            (
                json!({"ticketTypes": [{"name": "A", "price": 1, "totalQuantity": 1},
                                    {"name": "A", "price": 2, "totalQuantity": 1}]}),
                "duplicate_ticket_type",
            ),
            (json!({"ticketTypes": "VIP"}), "invalid_body"),
            (json!({"ticketTypes": ["VIP"]}), "invalid_body"),
        ] {
            assert_eq!(
                code(parse_new_event(&event(overrides.clone()))),
                expected,
                "{overrides}"
            );
        }
        let too_many: Vec<Value> = (0..=MAX_TICKET_TYPES_PER_REQUEST)
            .map(|n| json!({"name": format!("T{n}"), "price": 1, "totalQuantity": 1}))
            .collect();
        assert_eq!(
            code(parse_new_event(&event(json!({"ticketTypes": too_many})))),
            "too_many_ticket_types"
        );
        assert_eq!(code(parse_new_event(b"")), "missing_field");
        assert_eq!(code(parse_new_event(b"[1]")), "invalid_body");
        assert_eq!(code(parse_new_event(b"{\"title\":")), "invalid_body");
    }

    #[test]
    fn an_update_changes_only_what_it_names_and_must_name_something() {
        let c = parse_event_changes(br#"{"title":"New","posterImageUrl":null}"#).expect("valid");
        assert_eq!(c.title.as_deref(), Some("New"));
        assert_eq!(c.poster_image_url, None);
        assert_eq!(c.summary()["changed"], json!({"title": "New"}));
        assert_eq!(code(parse_event_changes(b"{}")), "empty_update");
        assert_eq!(
            code(parse_event_changes(br#"{"title":""}"#)),
            "invalid_text"
        );
        assert_eq!(
            code(parse_event_changes(
                br#"{"saleStartDate":"2026-12-02T00:00Z","saleEndDate":"2026-12-01T00:00Z"}"#
            )),
            "invalid_sale_window"
        );
    }

    #[test]
    fn ticket_type_changes_allow_a_zero_total_but_nothing_negative() {
        let c = parse_ticket_type_changes(br#"{"totalQuantity":0}"#).expect("valid");
        assert_eq!(c.total_quantity, Some(0));
        assert_eq!(
            code(parse_ticket_type_changes(br#"{"totalQuantity":-1}"#)),
            "invalid_quantity"
        );
        assert_eq!(
            code(parse_ticket_type_changes(br#"{"price":-5}"#)),
            "invalid_price"
        );
        assert_eq!(code(parse_ticket_type_changes(b"{}")), "empty_update");
        assert_eq!(
            code(parse_new_ticket_type(br#"{"name":"A","price":1}"#)),
            "missing_field"
        );
    }

    #[test]
    fn the_web_s_three_targets_parse_and_anything_else_is_a_400() {
        let change =
            parse_status_change(br#"{"status":"cancelled","reason":"fraud"}"#).expect("valid");
        assert_eq!(change.status, StatusTarget::Cancelled);
        assert_eq!(change.reason.as_deref(), Some("fraud"));
        for (body, target) in [
            (r#"{"status":"confirmed"}"#, StatusTarget::Confirmed),
            (r#"{"status":"refunded"}"#, StatusTarget::Refunded),
            (r#"{"paymentStatus":"refunded"}"#, StatusTarget::Refunded),
            (r#"{"paymentStatus":"completed"}"#, StatusTarget::Confirmed),
            (
                r#"{"status":"cancelled","paymentStatus":"refunded"}"#,
                StatusTarget::Refunded,
            ),
        ] {
            let change = parse_status_change(body.as_bytes()).expect(body);
            assert_eq!(change.status, target, "{body}");
        }
        for body in [
            r#"{"status":"pending"}"#,
            r#"{"status":"expired"}"#,
            r#"{"status":"paid"}"#,
            r#"{"status":3}"#,
            r#"{"paymentStatus":"pending"}"#,
            r#"{"status":"confirmed","paymentStatus":"refunded"}"#,
        ] {
            assert_eq!(
                code(parse_status_change(body.as_bytes())),
                "invalid_status",
                "{body}"
            );
        }
        assert_eq!(code(parse_status_change(b"{}")), "missing_field");
        let long_reason =
            json!({"status": "cancelled", "reason": "x".repeat(MAX_REASON_CHARS + 1)});
        assert_eq!(
            code(parse_status_change(long_reason.to_string().as_bytes())),
            "text_too_long"
        );
    }

    #[test]
    fn a_bodyless_cancel_has_no_reason() {
        assert_eq!(parse_cancel(b"").expect("valid"), CancelRequest::default());
        assert_eq!(
            parse_cancel(br#"{"reason":" weather "}"#)
                .expect("valid")
                .reason
                .as_deref(),
            Some("weather")
        );
    }

    #[test]
    fn the_price_bound_is_the_schemas() {
        let migration = include_str!("../../../migrations/20261207000002_seat_release.sql");
        assert!(
            migration.contains(&format!("RETURN {MAX_PRICE_KRW};")),
            "booking_max_price() must return MAX_PRICE_KRW"
        );
    }
}
