//! Database rows in, the contract's JSON out (api-contract "Events"). Where the contract lists a
//! field as `a|b`, both names are sent; list items carry exactly the contract's fields.

use serde::Serialize;
use urr_api::time::format_unix_millis;

/// An event as `sql::LIST_EVENTS` and `sql::GET_EVENT` return it. Times are whole seconds since
/// the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub id: String,
    pub title: String,
    pub description: String,
    pub venue: String,
    pub address: String,
    pub event_date: i64,
    pub sale_start_date: i64,
    pub sale_end_date: i64,
    pub poster_image_url: Option<String>,
    pub artist_name: String,
    pub seat_layout_id: Option<String>,
    pub status: String,
    pub cancelled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub ticket_type_count: i64,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
}

/// ISO-8601 in UTC, as every timestamp of the API.
pub fn iso_time(unix_secs: i64) -> String {
    format_unix_millis(unix_secs.saturating_mul(1000))
}

/// An item of `GET /events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventSummary {
    pub id: String,
    pub title: String,
    pub description: String,
    pub venue: String,
    pub address: String,
    pub event_date: String,
    pub sale_start_date: String,
    pub sale_end_date: String,
    pub poster_image_url: Option<String>,
    pub status: String,
    pub artist_name: String,
    pub ticket_type_count: i64,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
}

impl From<EventRow> for EventSummary {
    fn from(row: EventRow) -> Self {
        Self {
            event_date: iso_time(row.event_date),
            sale_start_date: iso_time(row.sale_start_date),
            sale_end_date: iso_time(row.sale_end_date),
            id: row.id,
            title: row.title,
            description: row.description,
            venue: row.venue,
            address: row.address,
            poster_image_url: row.poster_image_url,
            status: row.status,
            artist_name: row.artist_name,
            ticket_type_count: row.ticket_type_count,
            min_price: row.min_price,
            max_price: row.max_price,
        }
    }
}

/// The `event` of `GET /events/{id}`: every column, multi-word ones under both names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventDetail {
    pub id: String,
    pub title: String,
    pub description: String,
    pub venue: String,
    pub address: String,
    pub event_date: String,
    #[serde(rename = "eventDate")]
    pub event_date_camel: String,
    pub sale_start_date: String,
    #[serde(rename = "saleStartDate")]
    pub sale_start_date_camel: String,
    pub sale_end_date: String,
    #[serde(rename = "saleEndDate")]
    pub sale_end_date_camel: String,
    pub poster_image_url: Option<String>,
    #[serde(rename = "posterImageUrl")]
    pub poster_image_url_camel: Option<String>,
    pub artist_name: String,
    #[serde(rename = "artistName")]
    pub artist_name_camel: String,
    pub seat_layout_id: Option<String>,
    #[serde(rename = "seatLayoutId")]
    pub seat_layout_id_camel: Option<String>,
    pub status: String,
    pub cancelled: bool,
    pub ticket_type_count: i64,
    #[serde(rename = "ticketTypeCount")]
    pub ticket_type_count_camel: i64,
    pub min_price: Option<i64>,
    #[serde(rename = "minPrice")]
    pub min_price_camel: Option<i64>,
    pub max_price: Option<i64>,
    #[serde(rename = "maxPrice")]
    pub max_price_camel: Option<i64>,
    pub created_at: String,
    #[serde(rename = "createdAt")]
    pub created_at_camel: String,
    pub updated_at: String,
    #[serde(rename = "updatedAt")]
    pub updated_at_camel: String,
}

impl From<EventRow> for EventDetail {
    fn from(row: EventRow) -> Self {
        let (event_date, sale_start_date, sale_end_date, created_at, updated_at) = (
            iso_time(row.event_date),
            iso_time(row.sale_start_date),
            iso_time(row.sale_end_date),
            iso_time(row.created_at),
            iso_time(row.updated_at),
        );
        Self {
            id: row.id,
            title: row.title,
            description: row.description,
            venue: row.venue,
            address: row.address,
            event_date_camel: event_date.clone(),
            event_date,
            sale_start_date_camel: sale_start_date.clone(),
            sale_start_date,
            sale_end_date_camel: sale_end_date.clone(),
            sale_end_date,
            poster_image_url_camel: row.poster_image_url.clone(),
            poster_image_url: row.poster_image_url,
            artist_name_camel: row.artist_name.clone(),
            artist_name: row.artist_name,
            seat_layout_id_camel: row.seat_layout_id.clone(),
            seat_layout_id: row.seat_layout_id,
            status: row.status,
            cancelled: row.cancelled,
            ticket_type_count: row.ticket_type_count,
            ticket_type_count_camel: row.ticket_type_count,
            min_price: row.min_price,
            min_price_camel: row.min_price,
            max_price: row.max_price,
            max_price_camel: row.max_price,
            created_at_camel: created_at.clone(),
            created_at,
            updated_at_camel: updated_at.clone(),
            updated_at,
        }
    }
}

/// A ticket type of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketType {
    pub id: String,
    pub name: String,
    pub price: i64,
    pub total_quantity: i64,
    pub available_quantity: i64,
    pub description: String,
}

/// `GET /events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventList {
    pub events: Vec<EventSummary>,
    pub pagination: Pagination,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pagination {
    pub page: i64,
    pub limit: i64,
    pub total: i64,
    #[serde(rename = "totalPages")]
    pub total_pages: i64,
}

impl Pagination {
    pub fn new(page: i64, limit: i64, total: i64) -> Self {
        let limit = limit.max(1);
        Self {
            page,
            limit,
            total,
            total_pages: (total.max(0) + limit - 1) / limit,
        }
    }
}

/// `GET /events/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventWithTicketTypes {
    pub event: EventDetail,
    #[serde(rename = "ticketTypes")]
    pub ticket_types: Vec<TicketType>,
}

/// `GET /tickets/event/{eventId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketTypeList {
    #[serde(rename = "ticketTypes")]
    pub ticket_types: Vec<TicketType>,
}

/// `GET /tickets/availability/{ticketTypeId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Availability {
    pub available_quantity: i64,
    pub total_quantity: i64,
}

/// A seat layout of `GET /seats/layouts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layout {
    pub id: String,
    pub name: String,
    pub description: String,
    pub total_seats: i64,
    pub layout_config: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayoutList {
    pub layouts: Vec<Layout>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> EventRow {
        EventRow {
            id: "0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b".into(),
            title: "Golden Hour".into(),
            description: "Live".into(),
            venue: "Olympic Hall".into(),
            address: "Seoul".into(),
            event_date: 1_795_564_800,
            sale_start_date: 1_795_478_400,
            sale_end_date: 1_795_561_200,
            poster_image_url: None,
            artist_name: "IU".into(),
            seat_layout_id: Some("1c2d3e4f-0000-4000-8000-000000000000".into()),
            status: "on_sale".into(),
            cancelled: false,
            created_at: 0,
            updated_at: 0,
            ticket_type_count: 2,
            min_price: Some(55_000),
            max_price: Some(154_000),
        }
    }

    fn keys(value: &serde_json::Value) -> Vec<String> {
        let mut keys: Vec<_> = value
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }

    #[test]
    fn a_list_item_has_exactly_the_contract_fields() {
        let value = serde_json::to_value(EventSummary::from(row())).expect("serializes");
        let mut expected = vec![
            "id",
            "title",
            "description",
            "venue",
            "address",
            "event_date",
            "sale_start_date",
            "sale_end_date",
            "poster_image_url",
            "status",
            "artist_name",
            "ticket_type_count",
            "min_price",
            "max_price",
        ];
        expected.sort_unstable();
        assert_eq!(keys(&value), expected);
        assert_eq!(value["event_date"], "2026-11-25T00:00:00.000Z");
        assert_eq!(value["poster_image_url"], serde_json::Value::Null);
    }

    #[test]
    fn the_detail_sends_snake_and_camel_names_with_equal_values() {
        let value = serde_json::to_value(EventDetail::from(row())).expect("serializes");
        for (snake, camel) in [
            ("seat_layout_id", "seatLayoutId"),
            ("sale_start_date", "saleStartDate"),
            ("sale_end_date", "saleEndDate"),
            ("event_date", "eventDate"),
            ("artist_name", "artistName"),
            ("poster_image_url", "posterImageUrl"),
            ("created_at", "createdAt"),
        ] {
            assert!(value.get(snake).is_some(), "{snake}");
            assert_eq!(value[snake], value[camel], "{snake} vs {camel}");
        }
        assert_eq!(value["saleStartDate"], "2026-11-24T00:00:00.000Z");
    }

    #[test]
    fn total_pages_rounds_up_and_is_zero_for_nothing() {
        assert_eq!(Pagination::new(1, 10, 0).total_pages, 0);
        assert_eq!(Pagination::new(1, 10, 10).total_pages, 1);
        assert_eq!(Pagination::new(1, 10, 11).total_pages, 2);
        assert_eq!(Pagination::new(1, 100, 6).total_pages, 1);
        let value = serde_json::to_value(Pagination::new(2, 5, 12)).expect("serializes");
        assert_eq!(value["totalPages"], 3);
    }
}
