//! Every statement of the `artists` and `memberships` components, each one round trip. Changes
//! are calls of the SQL functions of migrations/20261208000001_artists.sql and
//! 20261208000002_memberships.sql; reads build their JSON reply in Postgres (snake_case column
//! names, as the contract asks) and come back as one text column. Timestamps are ISO-8601 in
//! UTC, in whole seconds written with milliseconds, exactly as the catalog writes them.
//!
//! A parameter that may be NULL is cast from text (`$5::text`), so a statement first prepared
//! with an untyped NULL there keeps its type.

/// A `timestamptz` expression as the API's ISO-8601 text.
macro_rules! iso {
    ($column:literal) => {
        concat!(
            "to_char(date_trunc('second', ",
            $column,
            ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        )
    };
}

/// The artist row of every reply (`a`: artists).
macro_rules! artist_json {
    () => {
        concat!(
            "json_build_object('id', a.id, 'name', a.name, 'image_url', a.image_url, \
             'description', a.description, 'membership_price', a.membership_price, \
             'created_at', ",
            iso!("a.created_at"),
            ", 'updated_at', ",
            iso!("a.updated_at"),
            ")"
        )
    };
}

/// Events one artist page lists at most (every status, soonest first): far more than any artist
/// has, and a bound on the reply.
pub const MAX_ARTIST_EVENTS: i64 = 500;
/// Newest point-log entries `GET /memberships/my/{artistId}` returns (contract §2.5).
pub const POINT_HISTORY_LIMIT: i64 = 50;
/// Memberships `GET /memberships/my` returns at most: one per artist a user follows.
pub const MAX_MEMBERSHIPS: i64 = 500;

/// `GET /artists`: `$1` limit, `$2` offset → `total` and the page as JSON text (`artists`),
/// ordered by name. `event_count` counts events of every status; `member_count` active,
/// unexpired memberships.
pub const LIST_ARTISTS: &str = concat!(
    "SELECT (SELECT count(*) FROM artists) AS total, \
            coalesce((SELECT json_agg(page.item ORDER BY page.name, page.id) FROM ( \
                SELECT a.name, a.id, (",
    artist_json!(),
    "::jsonb || jsonb_build_object( \
                    'event_count', (SELECT count(*) FROM events AS e WHERE e.artist_id = a.id), \
                    'member_count', artist_member_count(a.id))) AS item \
                FROM artists AS a ORDER BY a.name, a.id LIMIT $1::int8 OFFSET $2::int8 \
            ) AS page), '[]')::text AS artists"
);

/// `GET /artists/{id}`: `$1` artist, `$2` most events → the whole reply as JSON text (`body`);
/// no row for an unknown artist. Each event's status, price range and pre-sale schedule are
/// computed as `GET /events` computes them (`event_status`, ticket types and layout sections);
/// the schedule opens Diamond at the sale start, Gold 1 h, Silver 24 h, Bronze 48 h later.
pub const ARTIST_DETAIL: &str = concat!(
    "SELECT json_build_object('artist', ",
    artist_json!(),
    ", 'memberCount', artist_member_count(a.id), \
       'events', coalesce((SELECT json_agg(ev.item ORDER BY ev.event_date, ev.id) FROM ( \
           SELECT e.event_date, e.id, json_build_object( \
               'id', e.id, 'title', e.title, 'venue', e.venue, \
               'event_date', ",
    iso!("e.event_date"),
    ", 'sale_start_date', ",
    iso!("e.sale_start_date"),
    ", 'sale_end_date', ",
    iso!("e.sale_end_date"),
    ", 'status', event_status(e.cancelled, e.sale_start_date, e.sale_end_date, now()), \
               'poster_image_url', e.poster_image_url, \
               'min_price', p.min_price, 'max_price', p.max_price, \
               'pre_sale_schedule', json_build_object( \
                   'diamond', ",
    iso!("e.sale_start_date"),
    ", 'gold', ",
    iso!("(e.sale_start_date + interval '1 hour')"),
    ", 'silver', ",
    iso!("(e.sale_start_date + interval '24 hours')"),
    ", 'bronze', ",
    iso!("(e.sale_start_date + interval '48 hours')"),
    ")) AS item \
           FROM events AS e \
           CROSS JOIN LATERAL ( \
               SELECT min(prices.price)::int8 AS min_price, max(prices.price)::int8 AS max_price \
               FROM ( \
                   SELECT t.price FROM ticket_types AS t WHERE t.event_id = e.id \
                   UNION ALL \
                   SELECT layout_int(s.value -> 'price') \
                   FROM seat_layouts AS l \
                   CROSS JOIN LATERAL jsonb_array_elements(l.layout_config -> 'sections') AS s (value) \
                   WHERE l.id = e.seat_layout_id \
               ) AS prices \
           ) AS p \
           WHERE e.artist_id = a.id \
           ORDER BY e.event_date, e.id LIMIT $2::int8 \
       ) AS ev), '[]'))::text AS body \
     FROM artists AS a WHERE a.id = $1::uuid"
);

/// One artist row as JSON text (`artist`), for the replies of the writes.
pub const ARTIST_ROW: &str = concat!(
    "SELECT ",
    artist_json!(),
    "::text AS artist FROM artists AS a WHERE a.id = $1::uuid"
);

/// The audited changes: `$1` admin id, `$2` client IP or NULL, `$3` request summary, then:
/// `$4` name, `$5` image URL or NULL, `$6` description or NULL, `$7` price or NULL.
pub const CREATE_ARTIST: &str = "\
    SELECT outcome, artist_id::text AS artist_id \
    FROM artist_create($1::uuid, $2::text::inet, $3::jsonb, $4::text, $5::text, $6::text, \
                       $7::text::int4)";

/// `$4` artist, `$5` name or NULL, `$6` image URL or NULL, `$7` clear the image, `$8`
/// description or NULL, `$9` clear the description, `$10` price or NULL.
pub const UPDATE_ARTIST: &str = "\
    SELECT outcome FROM artist_update($1::uuid, $2::text::inet, $3::jsonb, $4::uuid, $5::text, \
                                      $6::text, $7::bool, $8::text, $9::bool, $10::text::int4)";

/// `$4` artist.
pub const DELETE_ARTIST: &str = "\
    SELECT outcome FROM artist_delete($1::uuid, $2::text::inet, $3::jsonb, $4::uuid)";

/// `$1` user, `$2` artist.
pub const SUBSCRIBE: &str = "\
    SELECT outcome, membership_id::text AS membership_id, artist_name, price::int8 AS price, \
           status \
    FROM membership_subscribe($1::uuid, $2::uuid)";

/// A membership row with its artist and what a reader sees now (`m`: artist_memberships, `a`:
/// artists): `status` is the effective one (`expired` once past `expires_at`) and
/// `effective_tier` is BRONZE unless it is active.
macro_rules! membership_json {
    () => {
        concat!(
            "json_build_object('id', m.id, 'user_id', m.user_id, 'artist_id', m.artist_id, \
             'tier', m.tier, 'points', m.points, \
             'status', membership_effective_status(m.status, m.expires_at, now()), \
             'joined_at', ",
            iso!("m.joined_at"),
            ", 'expires_at', ",
            iso!("m.expires_at"),
            ", 'payment_reference_id', m.payment_reference_id, 'created_at', ",
            iso!("m.created_at"),
            ", 'updated_at', ",
            iso!("m.updated_at"),
            ", 'artist_name', a.name, 'artist_image_url', a.image_url, \
             'membership_price', a.membership_price, \
             'effective_tier', CASE WHEN membership_effective_status(m.status, m.expires_at, now()) \
                                         = 'active' THEN m.tier ELSE 'BRONZE' END)"
        )
    };
}

/// `GET /memberships/my`: `$1` user, `$2` most → the caller's memberships as a JSON array text
/// (`memberships`), newest joined first. Pending rows (subscribed, never paid) are left out
/// (Q8): they are not memberships yet.
pub const MY_MEMBERSHIPS: &str = concat!(
    "SELECT coalesce((SELECT json_agg(page.item ORDER BY page.joined_at DESC, page.id) FROM ( \
         SELECT m.joined_at, m.id, ",
    membership_json!(),
    " AS item FROM artist_memberships AS m JOIN artists AS a ON a.id = m.artist_id \
         WHERE m.user_id = $1::uuid AND m.status <> 'pending' \
         ORDER BY m.joined_at DESC, m.id LIMIT $2::int8) AS page), '[]')::text AS memberships"
);

/// `GET /memberships/my/{artistId}`: `$1` user, `$2` artist, `$3` history length → the
/// membership (JSON text), its newest point-log entries (JSON array text), and its effective
/// status and points (for the benefits). No row when the caller has none, or only a pending one.
pub const MY_MEMBERSHIP: &str = concat!(
    "SELECT ",
    membership_json!(),
    "::text AS membership, \
     coalesce((SELECT json_agg(h.item ORDER BY h.created_at DESC, h.id) FROM ( \
         SELECT l.created_at, l.id, json_build_object('id', l.id, 'action_type', l.action_type, \
                'points', l.points, 'description', l.description, \
                'reference_id', l.reference_id, 'created_at', ",
    iso!("l.created_at"),
    ") AS item FROM membership_point_logs AS l WHERE l.membership_id = m.id \
         ORDER BY l.created_at DESC, l.id LIMIT $3::int8) AS h), '[]')::text AS point_history, \
     membership_effective_status(m.status, m.expires_at, now()) AS status, \
     m.points::int8 AS points \
     FROM artist_memberships AS m JOIN artists AS a ON a.id = m.artist_id \
     WHERE m.user_id = $1::uuid AND m.artist_id = $2::uuid AND m.status <> 'pending'"
);

/// `GET /memberships/benefits/{artistId}`: `$1` user, `$2` artist → the artist's price and the
/// caller's effective status and points (NULL without a membership). No row for an unknown
/// artist.
pub const BENEFITS: &str = "\
    SELECT a.membership_price::int8 AS membership_price, \
           membership_effective_status(m.status, m.expires_at, now()) AS status, \
           m.points::int8 AS points \
    FROM artists AS a \
    LEFT JOIN artist_memberships AS m ON m.artist_id = a.id AND m.user_id = $1::uuid \
    WHERE a.id = $2::uuid";

// ---------------------------------------------------------------- transfers
// The `transfers` component runs these five and nothing else: its role may execute the five
// functions of migrations/20261208000051_transfers.sql and read no table.

/// `POST /transfers`: `$1` caller, `$2` reservation → `outcome` and the listing as JSON text
/// (`transfer`, when `listed`).
pub const LIST_TRANSFER: &str = "SELECT outcome, transfer::text AS transfer \
     FROM transfer_list($1::uuid, $2::uuid)";

/// `POST /transfers/{id}/cancel`: `$1` caller, `$2` listing → `outcome`.
pub const CANCEL_TRANSFER: &str = "SELECT transfer_cancel($1::uuid, $2::uuid) AS outcome";

/// `GET /transfers`: `$1` caller, `$2` artist or NULL, `$3` limit, `$4` offset → `total` and
/// the page as JSON text (`transfers`), newest first, only listings still for sale.
pub const BROWSE_TRANSFERS: &str = "SELECT total, transfers::text AS transfers \
     FROM transfers_browse($1::uuid, $2::text::uuid, $3::int4, $4::int4)";

/// `GET /transfers/my`: `$1` caller, `$2` limit → the caller's listings as JSON text.
pub const MY_TRANSFERS: &str = "SELECT transfers_of_seller($1::uuid, $2::int4)::text AS transfers";

/// `GET /transfers/{id}`: `$1` listing, `$2` caller → the listing as JSON text, or NULL.
pub const TRANSFER_DETAIL: &str = "SELECT transfer_detail($1::uuid, $2::uuid)::text AS transfer";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_is_bounded_and_every_user_read_is_scoped_to_the_caller() {
        for sql in [LIST_ARTISTS, ARTIST_DETAIL, MY_MEMBERSHIPS, MY_MEMBERSHIP] {
            assert!(sql.contains("LIMIT $"), "{sql}");
        }
        for sql in [MY_MEMBERSHIPS, MY_MEMBERSHIP, BENEFITS] {
            assert!(sql.contains("user_id = $1::uuid"), "{sql}");
        }
    }

    #[test]
    fn changes_are_one_function_call_each() {
        for sql in [CREATE_ARTIST, UPDATE_ARTIST, DELETE_ARTIST, SUBSCRIBE] {
            assert_eq!(sql.matches("FROM ").count(), 1, "{sql}");
            assert!(!sql.contains(';'));
        }
        for sql in [
            LIST_TRANSFER,
            CANCEL_TRANSFER,
            BROWSE_TRANSFERS,
            MY_TRANSFERS,
            TRANSFER_DETAIL,
        ] {
            // One call of a transfer function, no table touched directly.
            assert_eq!(
                sql.matches("transfer_").count() + sql.matches("transfers_").count(),
                1,
                "{sql}"
            );
            assert!(!sql.contains(';') && !sql.contains(" JOIN "), "{sql}");
        }
    }

    #[test]
    fn timestamps_are_formatted_in_utc_with_milliseconds() {
        assert_eq!(
            iso!("x"),
            "to_char(date_trunc('second', x) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        );
    }
}
