//! Every statement the `catalog` component runs, each one round trip, read-only, and served by an
//! index of migrations/20261125000003_catalog.sql. Status is computed here from Postgres' `now()`
//! (one clock for every decision), never stored.
//!
//! Timestamps come back as whole seconds since the Unix epoch (`reply` formats them), ids as text.

/// The event columns every event reply is shaped from (`reply::EventRow`), over `events AS e`
/// joined with its price summary `p`.
macro_rules! event_columns {
    () => {
        "e.id::text AS id, e.title, e.description, e.venue, e.address, \
         floor(extract(epoch FROM e.event_date))::int8 AS event_date, \
         floor(extract(epoch FROM e.sale_start_date))::int8 AS sale_start_date, \
         floor(extract(epoch FROM e.sale_end_date))::int8 AS sale_end_date, \
         e.poster_image_url, e.artist_name, e.seat_layout_id::text AS seat_layout_id, \
         event_status(e.cancelled, e.sale_start_date, e.sale_end_date, now()) AS status, \
         e.cancelled, \
         floor(extract(epoch FROM e.created_at))::int8 AS created_at, \
         floor(extract(epoch FROM e.updated_at))::int8 AS updated_at, \
         p.ticket_type_count, p.min_price, p.max_price"
    };
}

/// Ticket-type count and price range of event `e`: prices of its ticket types and, for a seated
/// event, of its layout's sections.
macro_rules! event_prices {
    () => {
        "CROSS JOIN LATERAL ( \
            SELECT (SELECT count(*) FROM ticket_types AS t WHERE t.event_id = e.id) \
                       AS ticket_type_count, \
                   min(prices.price)::int8 AS min_price, max(prices.price)::int8 AS max_price \
            FROM ( \
                SELECT t.price FROM ticket_types AS t WHERE t.event_id = e.id \
                UNION ALL \
                SELECT layout_int(s.value -> 'price') \
                FROM seat_layouts AS l \
                CROSS JOIN LATERAL jsonb_array_elements(l.layout_config -> 'sections') AS s (value) \
                WHERE l.id = e.seat_layout_id \
            ) AS prices \
         ) AS p"
    };
}

/// One page of events plus the total that match, in one round trip. Parameters: `$1` status or
/// NULL, `$2` LIKE pattern (escaped with `\`) or NULL, `$3`/`$4` price bounds or NULL, `$5` limit,
/// `$6` offset. Exactly one row has `id` NULL when the page is empty (it still carries `total`).
/// An event matches a price range when its own range (cheapest to dearest) overlaps it.
pub const LIST_EVENTS: &str = concat!(
    "WITH matching AS ( SELECT ",
    event_columns!(),
    " FROM events AS e ",
    event_prices!(),
    " WHERE ($1::text IS NULL \
             OR event_status(e.cancelled, e.sale_start_date, e.sale_end_date, now()) = $1::text) \
        AND ($2::text IS NULL \
             OR e.title ILIKE $2::text ESCAPE '\\' \
             OR e.artist_name ILIKE $2::text ESCAPE '\\' \
             OR e.venue ILIKE $2::text ESCAPE '\\') \
        AND ($3::int8 IS NULL OR p.max_price >= $3::int8) \
        AND ($4::int8 IS NULL OR p.min_price <= $4::int8) \
     ), \
     page AS (SELECT * FROM matching ORDER BY event_date, id LIMIT $5::int8 OFFSET $6::int8) \
     SELECT counted.total, page.* \
     FROM (SELECT count(*) AS total FROM matching) AS counted \
     LEFT JOIN page ON true \
     ORDER BY page.event_date, page.id"
);

/// One event by id (`$1`), with its computed status and price summary.
pub const GET_EVENT: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events AS e ",
    event_prices!(),
    " WHERE e.id = $1::uuid"
);

/// The ticket types of event `$1` (at most `$2`), cheapest first. One row with `id` NULL when the
/// event exists but has none; no row when the event does not exist.
pub const LIST_TICKET_TYPES: &str = "\
    SELECT t.id::text AS id, t.name, t.price::int8 AS price, \
           t.total_quantity::int8 AS total_quantity, \
           t.available_quantity::int8 AS available_quantity, t.description \
    FROM events AS e \
    LEFT JOIN ticket_types AS t ON t.event_id = e.id \
    WHERE e.id = $1::uuid \
    ORDER BY t.price, t.name \
    LIMIT $2::int8";

/// Quantities of ticket type `$1`.
pub const TICKET_AVAILABILITY: &str = "\
    SELECT available_quantity::int8 AS available_quantity, \
           total_quantity::int8 AS total_quantity \
    FROM ticket_types WHERE id = $1::uuid";

/// Every seat layout (at most `$1`), smallest first.
pub const LIST_LAYOUTS: &str = "\
    SELECT id::text AS id, name, description, total_seats::int8 AS total_seats, layout_config \
    FROM seat_layouts ORDER BY total_seats, name LIMIT $1::int8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_states_its_escape_character() {
        assert_eq!(LIST_EVENTS.matches("ESCAPE '\\'").count(), 3);
    }

    #[test]
    fn every_list_query_is_bounded() {
        for sql in [LIST_EVENTS, LIST_TICKET_TYPES, LIST_LAYOUTS] {
            assert!(sql.contains("LIMIT $"), "{sql}");
        }
    }
}
