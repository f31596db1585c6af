//! One statement per figure: each calls its read function of
//! migrations/20261208000022_stats.sql, which answers the endpoint's `data` as JSON text in
//! one round trip. The `urr_stats` role may execute these functions and nothing else.

pub const OVERVIEW: &str = "SELECT stats_overview()::text AS data";
/// `$1` days.
pub const DAILY: &str = "SELECT stats_daily($1::int4)::text AS data";
/// `$1` limit, `$2` sort (`revenue`, `reservations`, `occupancy`).
pub const EVENTS: &str = "SELECT stats_events($1::int4, $2::text)::text AS data";
/// `$1` event id; `data` NULL when there is no such event.
pub const EVENT: &str = "SELECT stats_event($1::uuid)::text AS data";
pub const PAYMENTS: &str = "SELECT stats_payments()::text AS data";
/// `$1` period (`daily`, `weekly`, `monthly`), `$2` days.
pub const REVENUE: &str = "SELECT stats_revenue($1::text, $2::int4)::text AS data";
/// `$1` days.
pub const USERS: &str = "SELECT stats_users($1::int4)::text AS data";
/// `$1` days.
pub const HOURLY_TRAFFIC: &str = "SELECT stats_hourly_traffic($1::int4)::text AS data";
/// `$1` days.
pub const CONVERSION: &str = "SELECT stats_conversion($1::int4)::text AS data";
/// `$1` days.
pub const CANCELLATIONS: &str = "SELECT stats_cancellations($1::int4)::text AS data";
pub const REALTIME: &str = "SELECT stats_realtime()::text AS data";
/// The events whose waiting room may hold active users: `$1` the most to read.
pub const LIVE_EVENTS: &str = "SELECT id FROM stats_live_events($1::int4)";
pub const PERFORMANCE: &str = "SELECT stats_performance()::text AS data";
/// `$1` event id or NULL (every event's seats). Cast from text: see `urr_admin_domain::sql`.
pub const SEAT_PREFERENCES: &str = "SELECT stats_seat_preferences($1::text::uuid)::text AS data";
/// `$1` days.
pub const USER_BEHAVIOR: &str = "SELECT stats_user_behavior($1::int4)::text AS data";

/// Events whose waiting-room state is read per realtime call (one Redis read each; the
/// dashboard's bound too).
pub const MAX_LIVE_EVENTS: i32 = 200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_calls_a_function_the_migration_grants_to_the_stats_role() {
        let migration = include_str!("../../../migrations/20261208000022_stats.sql");
        let grants = migration
            .split("GRANT EXECUTE ON FUNCTION")
            .nth(1)
            .unwrap_or_default();
        for sql in [
            OVERVIEW,
            DAILY,
            EVENTS,
            EVENT,
            PAYMENTS,
            REVENUE,
            USERS,
            HOURLY_TRAFFIC,
            CONVERSION,
            CANCELLATIONS,
            REALTIME,
            LIVE_EVENTS,
            PERFORMANCE,
            SEAT_PREFERENCES,
            USER_BEHAVIOR,
        ] {
            let function = sql
                .split_whitespace()
                .find_map(|w| w.split('(').next().filter(|f| f.starts_with("stats_")))
                .unwrap_or_default();
            assert!(!function.is_empty(), "{sql}");
            assert!(
                migration.contains(&format!("CREATE FUNCTION {function}(")),
                "{function} is not defined"
            );
            assert!(
                grants.contains(&format!("{function}(")),
                "{function} not granted"
            );
        }
    }
}
