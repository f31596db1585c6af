//! Every statement the `admin` component runs, each one round trip. Changes are calls of the
//! audited functions of migrations/20261130000005_admin.sql; every change function takes the
//! same first three parameters: `$1` the admin's user id, `$2` the client IP (NULL when unknown),
//! `$3` the request summary (JSON text). Times go in as Unix seconds and come back as such.
//!
//! A parameter that may be NULL is cast from text (`$2::text::inet`, `$13::text::uuid`): a
//! statement first prepared with an untyped NULL there would take the cast's type for that
//! parameter, and a later text value would then arrive in the wrong binary format.
//!
//! The event and ticket-type replies reuse the catalog's statements (`urr_catalog_domain::sql`),
//! so an admin sees exactly what the public catalog will show.

/// `$4..$13`: title, description, venue, address, event/sale start/sale end (Unix seconds),
/// poster URL or NULL, artist, layout id or NULL; `$14` ticket types (JSON array text).
pub const CREATE_EVENT: &str = "\
    SELECT outcome, event_id::text AS event_id \
    FROM admin_create_event($1::uuid, $2::text::inet, $3::jsonb, $4::text, $5::text, $6::text, \
         $7::text, to_timestamp($8::int8), to_timestamp($9::int8), to_timestamp($10::int8), \
         $11::text, $12::text, $13::text::uuid, $14::jsonb)";

/// `$4` event id, then the fields of [`CREATE_EVENT`] without ticket types, each NULL when
/// unchanged.
pub const UPDATE_EVENT: &str = "\
    SELECT outcome \
    FROM admin_update_event($1::uuid, $2::text::inet, $3::jsonb, $4::uuid, $5::text, $6::text, \
         $7::text, $8::text, to_timestamp($9::int8), to_timestamp($10::int8), \
         to_timestamp($11::int8), $12::text, $13::text, $14::text::uuid)";

/// `$4` event id, `$5` reason or NULL. `holds`: the seat holds the cancelled reservations may
/// still have in Redis (JSON text or NULL), freed after the commit.
pub const CANCEL_EVENT: &str = "\
    SELECT outcome, reservations_cancelled, reservations_expired, refunds_recorded, \
           holds::text AS holds \
    FROM admin_cancel_event($1::uuid, $2::text::inet, $3::jsonb, $4::uuid, $5::text)";

/// `$4` event id.
pub const DELETE_EVENT: &str = "\
    SELECT outcome FROM admin_delete_event($1::uuid, $2::text::inet, $3::jsonb, $4::uuid)";

/// `$4` event id.
pub const GENERATE_SEATS: &str = "\
    SELECT outcome, seats_created, total_seats \
    FROM admin_generate_seats($1::uuid, $2::text::inet, $3::jsonb, $4::uuid)";

/// `$4` event id.
pub const DELETE_SEATS: &str = "\
    SELECT outcome, seats_deleted \
    FROM admin_delete_seats($1::uuid, $2::text::inet, $3::jsonb, $4::uuid)";

/// The columns both ticket-type functions return.
macro_rules! ticket_type_result {
    () => {
        "SELECT outcome, id, name, price, total_quantity, available_quantity, description "
    };
}

/// `$4` event id, `$5` name, `$6` price, `$7` total quantity, `$8` description.
pub const CREATE_TICKET_TYPE: &str = concat!(
    ticket_type_result!(),
    "FROM admin_create_ticket_type($1::uuid, $2::text::inet, $3::jsonb, $4::uuid, $5::text, \
     $6::int4, $7::int4, $8::text)"
);

/// `$4` ticket type id, then name, price, total quantity, description, each NULL when unchanged.
pub const UPDATE_TICKET_TYPE: &str = concat!(
    ticket_type_result!(),
    "FROM admin_update_ticket_type($1::uuid, $2::text::inet, $3::jsonb, $4::uuid, $5::text, \
     $6::int4, $7::int4, $8::text)"
);

/// `$4` reservation id, `$5` target status (`confirmed`, `cancelled`, `refunded`), `$6` reason
/// or NULL. `holds` as in [`CANCEL_EVENT`].
pub const SET_RESERVATION_STATUS: &str = "\
    SELECT outcome, status, payment_status, refund_outbox_id, refund_amount, \
           holds::text AS holds \
    FROM admin_set_reservation_status($1::uuid, $2::text::inet, $3::jsonb, $4::uuid, $5::text, $6::text)";

/// The dashboard's counts as one JSON document (text), and the business counters Postgres kept
/// with each change, grouped by what they count: `{"reservations": {"created": n, ...},
/// "payments": {...}, "refunds": {...}, "voids": {...}}` (counter `<group>_<what>`, split at
/// the first underscore). `web`: the `stats` cards and `recentReservations` URR's web app reads
/// (`admin_dashboard_web()`).
pub const DASHBOARD: &str = "\
    SELECT admin_dashboard()::text AS dashboard, admin_dashboard_web()::text AS web, \
           (SELECT jsonb_object_agg(grp, fields)::text \
              FROM (SELECT grp, jsonb_object_agg(substr(counter, length(grp) + 2), value) AS fields \
                      FROM (SELECT split_part(counter, '_', 1) AS grp, counter, value \
                              FROM business_counters()) AS c \
                     GROUP BY grp) AS g) AS counters";

/// The events that may still have live Redis state (not cancelled, sale ended less than a day
/// ago — the queue's keys expire with the event's activity), soonest first: `$1` the limit.
pub const LIVE_EVENTS: &str = "\
    SELECT id::text AS id FROM events \
    WHERE NOT cancelled AND sale_end_date > now() - interval '1 day' \
    ORDER BY sale_start_date, id LIMIT $1::int8";

/// One page of reservations, newest first, plus the total that match, in one round trip: `$1`
/// effective status or NULL, `$2` limit, `$3` offset. Exactly one row has `id` NULL when the
/// page is empty (it still carries `total`).
pub const LIST_RESERVATIONS: &str = "\
    WITH matching AS ( \
        SELECT r.id::text AS id, r.reservation_number, r.user_id::text AS user_id, \
               r.event_id::text AS event_id, e.title AS event_title, e.venue, \
               floor(extract(epoch FROM e.event_date))::int8 AS event_date, \
               u.name AS user_name, u.email AS user_email, r.kind, \
               r.total_amount::int8 AS total_amount, \
               reservation_effective_status(r.status, r.expires_at, now()) AS status, \
               r.payment_status, r.payment_method, \
               floor(extract(epoch FROM r.created_at))::int8 AS created_at, \
               floor(extract(epoch FROM r.expires_at))::int8 AS expires_at, \
               floor(extract(epoch FROM r.cancelled_at))::int8 AS cancelled_at, \
               extract(epoch FROM r.created_at) AS created_order \
        FROM reservations AS r JOIN events AS e ON e.id = r.event_id \
        LEFT JOIN users AS u ON u.id = r.user_id \
        WHERE $1::text IS NULL \
           OR reservation_effective_status(r.status, r.expires_at, now()) = $1::text \
    ), \
    page AS (SELECT * FROM matching ORDER BY created_order DESC, id DESC \
             LIMIT $2::int8 OFFSET $3::int8) \
    SELECT counted.total, page.* \
    FROM (SELECT count(*) AS total FROM matching) AS counted \
    LEFT JOIN page ON true \
    ORDER BY page.created_order DESC, page.id DESC";

/// One page of the audit log, newest first, plus the total: `$1` resource type or NULL, `$2`
/// resource id or NULL, `$3` limit, `$4` offset. One row with `id` NULL when the page is empty.
pub const LIST_AUDIT_LOG: &str = "\
    WITH matching AS ( \
        SELECT a.id, a.admin_id::text AS admin_id, a.action, a.resource_type, a.resource_id, \
               a.request_summary::text AS request_summary, a.resulting_status, \
               host(a.client_ip) AS client_ip, \
               floor(extract(epoch FROM a.created_at))::int8 AS created_at, \
               extract(epoch FROM a.created_at) AS created_order \
        FROM admin_audit_log AS a \
        WHERE ($1::text IS NULL OR a.resource_type = $1::text) \
          AND ($2::text IS NULL OR a.resource_id = $2::text) \
    ), \
    page AS (SELECT * FROM matching ORDER BY created_order DESC, id DESC \
             LIMIT $3::int8 OFFSET $4::int8) \
    SELECT counted.total, page.* \
    FROM (SELECT count(*) AS total FROM matching) AS counted \
    LEFT JOIN page ON true \
    ORDER BY page.created_order DESC, page.id DESC";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_goes_through_an_audited_function() {
        let migration = include_str!("../../../migrations/20261130000005_admin.sql");
        for sql in [
            CREATE_EVENT,
            UPDATE_EVENT,
            CANCEL_EVENT,
            DELETE_EVENT,
            GENERATE_SEATS,
            DELETE_SEATS,
            CREATE_TICKET_TYPE,
            UPDATE_TICKET_TYPE,
            SET_RESERVATION_STATUS,
        ] {
            let function = sql
                .split("FROM ")
                .nth(1)
                .and_then(|rest| rest.split('(').next())
                .unwrap_or_default();
            assert!(function.starts_with("admin_"), "{sql}");
            assert!(
                migration.contains(&format!("CREATE FUNCTION {function}(")),
                "{function} is not defined by the migration"
            );
            assert!(sql.contains("$1::uuid, $2::text::inet, $3::jsonb"), "{sql}");
        }
    }

    #[test]
    fn every_list_query_is_bounded() {
        for sql in [LIST_RESERVATIONS, LIST_AUDIT_LOG] {
            assert!(sql.contains("LIMIT $"), "{sql}");
        }
    }
}
