//! Every statement the booking components run: one call of a function of
//! migrations/20261130000003_booking.sql (or 20261207000002_seat_release.sql) each (one round
//! trip, one transaction). JSON comes back as text; ids go in as text and are cast in the
//! statement.

/// `booking_reserve_seats`: `$1` user, `$2` event, `$3` seat ids (text[]), `$4` fencing token or
/// NULL (Redis could not issue one), `$5` reservation TTL secs, `$6` seat cap per event, `$7`
/// idempotency key or NULL, `$8` request hash or NULL.
pub const RESERVE_SEATS: &str = "\
    SELECT outcome, http_status, body::text AS body, fencing_token, expires_at_ms \
    FROM booking_reserve_seats($1::uuid, $2::uuid, $3::text[]::uuid[], $4::int8, $5::int4, \
                               $6::int4, $7::text, $8::bytea)";

/// `booking_reserve_standing`: `$1` user, `$2` event, `$3` ticket type ids (text[]), `$4`
/// quantities (text[], by position), `$5` TTL secs, `$6` standing cap, `$7` key, `$8` hash.
pub const RESERVE_STANDING: &str = "\
    SELECT outcome, http_status, body::text AS body, NULL::int8 AS fencing_token, expires_at_ms \
    FROM booking_reserve_standing($1::uuid, $2::uuid, $3::text[]::uuid[], $4::text[]::int4[], \
                                  $5::int4, $6::int4, $7::text, $8::bytea)";

/// `GET /reservations/my`: `$1` user, `$2` limit.
pub const MY_RESERVATIONS: &str =
    "SELECT booking_my_reservations($1::uuid, $2::int4)::text AS body";

/// `GET /reservations/my?page&limit`: `$1` user, `$2` page, `$3` limit.
pub const MY_RESERVATIONS_PAGE: &str =
    "SELECT booking_my_reservations_page($1::uuid, $2::int4, $3::int4)::text AS body";

/// `GET /reservations/{id}`, `GET /seats/reservation/{id}`: `$1` user, `$2` reservation; NULL
/// body when it is not the user's.
pub const RESERVATION: &str = "SELECT booking_reservation($1::uuid, $2::uuid)::text AS body";

/// `GET /seats/events/{id}`: `$1` event, `$2` most seats; NULL body for an unknown event.
pub const SEAT_MAP: &str = "SELECT booking_seat_map($1::uuid, $2::int4)::text AS body";

/// `booking_fallback_charge` (migrations/20261207000002_seat_release.sql): charges one reserve
/// to `$1` user against `$2` calls per minute while Redis cannot; `retry_after_secs` 0: allowed.
pub const FALLBACK_CHARGE: &str =
    "SELECT booking_fallback_charge($1::uuid, $2::int4) AS retry_after_secs";

/// Most reservations `GET /reservations/my` lists: a buyer's history fits; no unbounded read.
pub const MY_RESERVATIONS_LIMIT: i32 = 100;
/// Reservations per page of `GET /reservations/my?page=` when `limit` is not given.
pub const MY_RESERVATIONS_PAGE_LIMIT: i64 = 20;
/// Most seats a seat map returns: the layout table's own bound on seats per event.
pub const SEAT_MAP_LIMIT: i32 = 100_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_calls_one_booking_function() {
        for sql in [
            RESERVE_SEATS,
            RESERVE_STANDING,
            MY_RESERVATIONS,
            RESERVATION,
            SEAT_MAP,
            FALLBACK_CHARGE,
        ] {
            assert_eq!(sql.matches("booking_").count(), 1, "{sql}");
        }
    }
}
