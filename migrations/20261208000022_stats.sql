-- Admin statistics (`GET /stats/*`): one read function per endpoint, each answering the
-- endpoint's `data` as JSON in one round trip, computed from Edge's own tables (reservations,
-- their items, payments, the payments outbox, users, events, seats, ticket types). The figures
-- are defined in docs/admin.md; the comments here say how they are computed.
--
-- The `stats` component connects as `urr_stats`, which may only USE the schema and EXECUTE these
-- functions: it reads no table directly and writes nothing. The functions are SECURITY DEFINER
-- (their owner reads the tables) and STABLE (one snapshot per call).
--
-- Days are KST calendar days: a window of `p_days` days is today (KST) and the `p_days - 1`
-- days before it. Dates go out as `YYYY-MM-DD`, rates as numbers in percent with two decimals.
-- Every window is a range over an indexed timestamp (the indexes below), so a figure costs what
-- its window holds, not what the tables hold. JIT is off for each function: the planner cannot
-- size the day series joined to the per-day counts, estimates billions of rows, and compiling
-- for that estimate cost about a second per call (the figures run in tens of milliseconds).

GRANT USAGE ON SCHEMA public TO urr_stats;

-- ---------------------------------------------------------------- indexes

-- Windows over confirmations, cancellations and captures (reservations by creation already have
-- reservations_created_idx, 20261208000021_admin_shapes.sql).
CREATE INDEX reservations_confirmed_at_idx ON reservations (confirmed_at)
    WHERE confirmed_at IS NOT NULL;
CREATE INDEX reservations_cancelled_at_idx ON reservations (cancelled_at)
    WHERE cancelled_at IS NOT NULL;
-- A buyer's purchases (user behaviour: first purchase ever, purchases ever).
CREATE INDEX reservations_user_confirmed_idx ON reservations (user_id, confirmed_at)
    WHERE status = 'confirmed';
CREATE INDEX payments_approved_at_idx ON payments (approved_at) WHERE approved_at IS NOT NULL;
CREATE INDEX payments_refunded_at_idx ON payments (refunded_at) WHERE refunded_at IS NOT NULL;
CREATE INDEX payment_outbox_delivered_at_idx ON payment_outbox (delivered_at)
    WHERE delivered_at IS NOT NULL;
CREATE INDEX users_created_at_idx ON users (created_at);

-- ---------------------------------------------------------------- helpers

-- The KST calendar date of an instant.
CREATE FUNCTION stats_kst_date(at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (at AT TIME ZONE 'Asia/Seoul')::date;

-- The KST hour of day (0..23) of an instant.
CREATE FUNCTION stats_kst_hour(at timestamptz) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN extract(hour FROM at AT TIME ZONE 'Asia/Seoul')::integer;

-- The first instant of a window of p_days KST days ending today.
CREATE FUNCTION stats_window_start(p_days integer) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
RETURN kst_today_start(now()) - make_interval(days => greatest(p_days, 1) - 1);

-- part / whole in percent, two decimals; 0 when there is no whole.
CREATE FUNCTION stats_rate(part numeric, whole numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN coalesce(whole, 0) = 0 THEN 0 ELSE round(100 * coalesce(part, 0) / whole, 2) END;

-- What a payment took from the buyer: the amount the provider actually captured.
CREATE FUNCTION stats_captured(p payments) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p.payment_key IS NOT NULL THEN coalesce(p.captured_amount, p.amount) ELSE 0 END;

-- ---------------------------------------------------------------- 1. overview

CREATE FUNCTION stats_overview() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    SELECT jsonb_build_object(
        'total_users', (SELECT count(*) FROM users),
        'active_events', (SELECT count(*) FROM events AS e
                           WHERE NOT e.cancelled AND e.sale_start_date <= now()
                             AND e.sale_end_date > now()),
        'total_reservations', (SELECT count(*) FROM reservations),
        'confirmed_reservations', (SELECT count(*) FROM reservations WHERE status = 'confirmed'),
        'total_revenue', m.captured - m.refunded,
        'completed_payments', m.confirmed,
        'payment_revenue', m.captured)
    FROM (SELECT coalesce(sum(stats_captured(p)), 0) AS captured,
                 coalesce(sum(p.refund_amount) FILTER (WHERE p.status = 'refunded'), 0)
                     AS refunded,
                 count(*) FILTER (WHERE p.status = 'confirmed') AS confirmed
            FROM payments AS p) AS m;
END;

-- ---------------------------------------------------------------- 2. daily

-- Per KST day, newest first: reservations created, confirmed, cancelled that day, and the
-- amount captured that day (at capture time).
CREATE FUNCTION stats_daily(p_days integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    WITH days AS (
        SELECT d::date AS day
          FROM generate_series(stats_kst_date(stats_window_start(p_days)),
                               stats_kst_date(now()), interval '1 day') AS d
    ), created AS (
        SELECT stats_kst_date(created_at) AS day, count(*) AS n FROM reservations
         WHERE created_at >= stats_window_start(p_days) GROUP BY 1
    ), confirmed AS (
        SELECT stats_kst_date(confirmed_at) AS day, count(*) AS n FROM reservations
         WHERE confirmed_at >= stats_window_start(p_days) GROUP BY 1
    ), cancelled AS (
        SELECT stats_kst_date(cancelled_at) AS day, count(*) AS n FROM reservations
         WHERE cancelled_at >= stats_window_start(p_days) AND status = 'cancelled' GROUP BY 1
    ), captured AS (
        SELECT stats_kst_date(p.approved_at) AS day, sum(stats_captured(p)) AS amount
          FROM payments AS p
         WHERE p.approved_at >= stats_window_start(p_days) GROUP BY 1
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'date', to_char(days.day, 'YYYY-MM-DD'),
               'reservations', coalesce(created.n, 0),
               'confirmed', coalesce(confirmed.n, 0),
               'cancelled', coalesce(cancelled.n, 0),
               'revenue', coalesce(captured.amount, 0)) ORDER BY days.day DESC), '[]')
      FROM days
      LEFT JOIN created USING (day) LEFT JOIN confirmed USING (day)
      LEFT JOIN cancelled USING (day) LEFT JOIN captured USING (day);
END;

-- ---------------------------------------------------------------- 3, 4. events

-- Every event's figures (all time): reservations of any status, confirmed now, pending (live),
-- cancelled or expired, net revenue (captured minus delivered refunds), capacity (seats, or
-- standing tickets), sold (seats and tickets of confirmed reservations), available (seats
-- neither sold nor held by a hold that has not expired; standing tickets still on sale).
CREATE VIEW stats_event_figures AS
SELECT e.id, e.title, e.venue, e.event_date,
       event_status(e.cancelled, e.sale_start_date, e.sale_end_date, now()) AS status,
       coalesce(r.total, 0) AS total_reservations,
       coalesce(r.confirmed, 0) AS confirmed_reservations,
       coalesce(r.pending, 0) AS pending_reservations,
       coalesce(r.cancelled, 0) AS cancelled_reservations,
       coalesce(m.revenue, 0) AS total_revenue,
       coalesce(cap.total_seats, 0) AS total_seats,
       coalesce(sold.sold, 0) AS sold_seats,
       coalesce(cap.available, 0) AS available_seats
  FROM events AS e
  LEFT JOIN (
      SELECT event_id, count(*) AS total,
             count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
             count(*) FILTER (WHERE status = 'pending' AND expires_at > now()) AS pending,
             count(*) FILTER (WHERE status IN ('cancelled', 'expired')
                                 OR (status = 'pending' AND expires_at <= now())) AS cancelled
        FROM reservations GROUP BY event_id
  ) AS r ON r.event_id = e.id
  LEFT JOIN (
      SELECT x.event_id,
             sum(stats_captured(p))
             - coalesce(sum(p.refund_amount) FILTER (WHERE p.status = 'refunded'), 0) AS revenue
        FROM payments AS p JOIN reservations AS x ON x.id = p.reservation_id
       GROUP BY x.event_id
  ) AS m ON m.event_id = e.id
  LEFT JOIN (
      -- Sold, from the inventory rather than a join of every confirmed reservation to its
      -- items: a seat is `reserved` only by a confirmed reservation; a standing ticket leaves
      -- `available_quantity` at reserve and comes back when a reservation is cancelled or
      -- expired, so what is out is confirmed plus still-pending quantities (pending rows are
      -- few: reservations_status_created_idx).
      SELECT event_id, sum(n) AS sold FROM (
          SELECT event_id, count(*) AS n FROM seats WHERE status = 'reserved' GROUP BY event_id
          UNION ALL
          SELECT event_id, sum(total_quantity - available_quantity) FROM ticket_types
           GROUP BY event_id
          UNION ALL
          SELECT x.event_id, -sum(i.quantity)
            FROM reservations AS x JOIN reservation_items AS i ON i.reservation_id = x.id
           WHERE x.status = 'pending' AND i.ticket_type_id IS NOT NULL
           GROUP BY x.event_id) AS parts
       GROUP BY event_id
  ) AS sold ON sold.event_id = e.id
  LEFT JOIN (
      SELECT event_id, count(*) AS total_seats,
             count(*) FILTER (WHERE status = 'available'
                                 OR (status = 'locked' AND hold_expires_at <= now())) AS available
        FROM seats GROUP BY event_id
      UNION ALL
      SELECT t.event_id, sum(t.total_quantity), sum(t.available_quantity)
        FROM ticket_types AS t
       WHERE NOT EXISTS (SELECT FROM seats AS s WHERE s.event_id = t.event_id)
       GROUP BY t.event_id
  ) AS cap ON cap.event_id = e.id;
REVOKE ALL ON stats_event_figures FROM PUBLIC;

-- One event's figures as JSON, with both URR's names and the ones the web reads.
CREATE FUNCTION stats_event_json(f stats_event_figures) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN jsonb_build_object(
    'id', f.id, 'event_id', f.id, 'title', f.title, 'venue', f.venue,
    'event_date', booking_iso(f.event_date), 'status', f.status,
    'reservations', f.total_reservations, 'total_reservations', f.total_reservations,
    'confirmed_reservations', f.confirmed_reservations,
    'pending_reservations', f.pending_reservations,
    'cancelled_reservations', f.cancelled_reservations,
    'revenue', f.total_revenue, 'total_revenue', f.total_revenue,
    'total_seats', f.total_seats, 'sold_seats', f.sold_seats,
    'available_seats', f.available_seats,
    'occupancy_rate', stats_rate(f.sold_seats, f.total_seats),
    'seat_utilization', stats_rate(f.sold_seats, f.total_seats));

-- The top p_limit events by p_sort (`revenue`, `reservations`, `occupancy`), ties by title.
CREATE FUNCTION stats_events(p_limit integer, p_sort text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    SELECT coalesce(jsonb_agg(stats_event_json(f) ORDER BY rank), '[]')
      FROM (SELECT f, row_number() OVER (
                       ORDER BY CASE p_sort
                                    WHEN 'reservations' THEN f.total_reservations::numeric
                                    WHEN 'occupancy' THEN stats_rate(f.sold_seats, f.total_seats)
                                    ELSE f.total_revenue::numeric END DESC,
                                f.title, f.id) AS rank
              FROM stats_event_figures AS f) AS ranked
     WHERE rank <= p_limit;
END;

-- `{overview}` of one event, or NULL when there is no such event.
CREATE FUNCTION stats_event(p_event_id uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    SELECT jsonb_build_object('overview', stats_event_json(f))
      FROM stats_event_figures AS f WHERE f.id = p_event_id;
END;

-- ---------------------------------------------------------------- 5. payments

-- Confirmed payments (captured, not refunded) per method: every known method, zeros included.
CREATE FUNCTION stats_payments() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    SELECT jsonb_agg(jsonb_build_object(
               'method', m.method, 'count', coalesce(p.n, 0),
               'total_amount', coalesce(p.total, 0),
               'average_amount', coalesce(round(p.total::numeric / nullif(p.n, 0)), 0))
           ORDER BY coalesce(p.total, 0) DESC, m.method)
      FROM (SELECT unnest(ARRAY['naver_pay', 'kakao_pay', 'bank_transfer', 'card', 'toss'])
            UNION
            SELECT DISTINCT coalesce(method, 'unknown') FROM payments
             WHERE status = 'confirmed') AS m (method)
      LEFT JOIN (SELECT coalesce(method, 'unknown') AS method, count(*) AS n,
                        sum(coalesce(captured_amount, amount)) AS total
                   FROM payments WHERE status = 'confirmed' GROUP BY 1) AS p USING (method);
END;

-- ---------------------------------------------------------------- 6. revenue

-- Per period (`daily`, `weekly` from Monday, `monthly`) that starts in the window, newest first:
-- captures in it, captured minus refunds delivered in it, and the average capture.
CREATE FUNCTION stats_revenue(p_period text, p_days integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    WITH unit AS (
        SELECT CASE p_period WHEN 'weekly' THEN 'week' WHEN 'monthly' THEN 'month'
                             ELSE 'day' END AS unit
    ), periods AS (
        SELECT DISTINCT date_trunc(unit.unit, d)::date AS period
          FROM unit, generate_series(stats_kst_date(stats_window_start(p_days)),
                                     stats_kst_date(now()), interval '1 day') AS d
    ), captured AS (
        SELECT date_trunc(unit.unit, stats_kst_date(p.approved_at))::date AS period,
               count(*) AS n, sum(stats_captured(p)) AS amount
          FROM unit, payments AS p
         WHERE p.approved_at >= (SELECT min(period) FROM periods)::timestamp
                                AT TIME ZONE 'Asia/Seoul'
           AND p.payment_key IS NOT NULL
         GROUP BY 1
    ), refunded AS (
        SELECT date_trunc(unit.unit, stats_kst_date(p.refunded_at))::date AS period,
               sum(p.refund_amount) AS amount
          FROM unit, payments AS p
         WHERE p.refunded_at >= (SELECT min(period) FROM periods)::timestamp
                                AT TIME ZONE 'Asia/Seoul'
           AND p.status = 'refunded'
         GROUP BY 1
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'period', to_char(periods.period, 'YYYY-MM-DD'),
               'payment_count', coalesce(captured.n, 0),
               'total_revenue', coalesce(captured.amount, 0) - coalesce(refunded.amount, 0),
               'average_amount', coalesce(round(captured.amount::numeric
                                                / nullif(captured.n, 0)), 0))
               ORDER BY periods.period DESC), '[]')
      FROM periods LEFT JOIN captured USING (period) LEFT JOIN refunded USING (period);
END;

-- ---------------------------------------------------------------- 7. users

CREATE FUNCTION stats_users(p_days integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    WITH days AS (
        SELECT d::date AS day
          FROM generate_series(stats_kst_date(stats_window_start(p_days)),
                               stats_kst_date(now()), interval '1 day') AS d
    ), joined AS (
        SELECT stats_kst_date(created_at) AS day, count(*) AS n FROM users
         WHERE created_at >= stats_window_start(p_days) GROUP BY 1
    ), before AS (
        SELECT count(*) AS n FROM users WHERE created_at < stats_window_start(p_days)
    )
    SELECT jsonb_build_object(
        'daily', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'date', to_char(x.day, 'YYYY-MM-DD'), 'new_users', x.n,
                       'cumulative_users', x.cumulative) ORDER BY x.day DESC)
              FROM (SELECT days.day, coalesce(joined.n, 0) AS n,
                           (SELECT n FROM before)
                           + sum(coalesce(joined.n, 0)) OVER (ORDER BY days.day) AS cumulative
                      FROM days LEFT JOIN joined USING (day)) AS x), '[]'),
        'byRole', coalesce((
            SELECT jsonb_agg(jsonb_build_object('role', role, 'count', n) ORDER BY role)
              FROM (SELECT role, count(*) AS n FROM users GROUP BY role) AS r), '[]'));
END;

-- ---------------------------------------------------------------- 8. hourly traffic

-- Reservations created in the window by KST hour of day (all 24 hours), with how many of them
-- are confirmed or cancelled now and the amount of the confirmed ones; weekday against weekend
-- (KST); and the busiest hour (the earliest of equals).
CREATE FUNCTION stats_hourly_traffic(p_days integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    WITH created AS (
        SELECT stats_kst_hour(created_at) AS hour,
               extract(isodow FROM created_at AT TIME ZONE 'Asia/Seoul') >= 6 AS weekend,
               status, total_amount
          FROM reservations WHERE created_at >= stats_window_start(p_days)
    ), hours AS (
        SELECT h AS hour, count(c.hour) AS total,
               count(*) FILTER (WHERE c.status = 'confirmed') AS confirmed,
               count(*) FILTER (WHERE c.status = 'cancelled') AS cancelled,
               coalesce(sum(c.total_amount) FILTER (WHERE c.status = 'confirmed'), 0) AS revenue
          FROM generate_series(0, 23) AS h LEFT JOIN created AS c ON c.hour = h
         GROUP BY h
    )
    SELECT jsonb_build_object(
        'hourly', (SELECT jsonb_agg(jsonb_build_object(
                              'hour', hour, 'total_reservations', total,
                              'reservations', total, 'confirmed', confirmed,
                              'cancelled', cancelled, 'revenue', revenue) ORDER BY hour)
                     FROM hours),
        'weekdayComparison', (
            SELECT jsonb_agg(jsonb_build_object('day_type', day_type, 'reservations', n,
                                                'avg_amount', avg_amount) ORDER BY day_type)
              FROM (SELECT t.day_type, count(c.status) AS n,
                           coalesce(round(avg(c.total_amount)), 0) AS avg_amount
                      FROM (VALUES ('weekday', false), ('weekend', true)) AS t (day_type, weekend)
                      LEFT JOIN created AS c ON c.weekend = t.weekend
                     GROUP BY t.day_type) AS x),
        'peakHour', (SELECT jsonb_build_object('hour', hour, 'reservations', total)
                       FROM hours ORDER BY total DESC, hour LIMIT 1));
END;

-- ---------------------------------------------------------------- 9. conversion

-- Over reservations created in the window, by their effective status now.
CREATE FUNCTION stats_conversion(p_days integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    WITH created AS (
        SELECT stats_kst_date(created_at) AS day,
               reservation_effective_status(status, expires_at, now()) AS status
          FROM reservations WHERE created_at >= stats_window_start(p_days)
    ), funnel AS (
        SELECT count(*) AS total,
               count(*) FILTER (WHERE status = 'confirmed') AS completed,
               count(*) FILTER (WHERE status IN ('cancelled', 'expired')) AS cancelled,
               count(*) FILTER (WHERE status = 'pending') AS pending
          FROM created
    )
    SELECT jsonb_build_object(
        'funnel', jsonb_build_object('total_started', f.total, 'completed', f.completed,
                                     'cancelled', f.cancelled, 'pending', f.pending),
        'rates', jsonb_build_object('conversion_rate', stats_rate(f.completed, f.total),
                                    'cancellation_rate', stats_rate(f.cancelled, f.total),
                                    'pending_rate', stats_rate(f.pending, f.total)),
        'dailyTrend', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'date', to_char(day, 'YYYY-MM-DD'), 'total', total,
                       'completed', completed,
                       'conversion_rate', stats_rate(completed, total)) ORDER BY day DESC)
              FROM (SELECT day, count(*) AS total,
                           count(*) FILTER (WHERE status = 'confirmed') AS completed
                      FROM created GROUP BY day) AS d), '[]'))
      FROM funnel AS f;
END;

-- ---------------------------------------------------------------- 10. cancellations

-- Reservations cancelled in the window (status `cancelled`, by cancellation time; expiry is not
-- a cancellation), the hours from booking to cancelling, and the refunds delivered in it.
CREATE FUNCTION stats_cancellations(p_days integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    WITH cancelled AS (
        SELECT id, event_id, created_at, cancelled_at FROM reservations
         WHERE cancelled_at >= stats_window_start(p_days) AND status = 'cancelled'
    ), refunds AS (
        SELECT r.event_id, o.amount FROM payment_outbox AS o
          JOIN payments AS p ON p.id = o.payment_id
          JOIN reservations AS r ON r.id = p.reservation_id
         WHERE o.action = 'refund' AND o.delivered_at >= stats_window_start(p_days)
    ), by_event AS (
        SELECT e.id, e.title, c.n AS cancelled,
               (SELECT count(*) FROM reservations AS r WHERE r.event_id = e.id) AS total,
               coalesce((SELECT sum(amount) FROM refunds WHERE refunds.event_id = e.id), 0)
                   AS refunded
          FROM (SELECT event_id, count(*) AS n FROM cancelled GROUP BY event_id) AS c
          JOIN events AS e ON e.id = c.event_id
         ORDER BY c.n DESC, e.title, e.id
         LIMIT 10
    )
    SELECT jsonb_build_object(
        'overview', jsonb_build_object(
            'total_cancelled', (SELECT count(*) FROM cancelled),
            'avg_hours_before_cancel', coalesce((
                SELECT round((avg(extract(epoch FROM cancelled_at - created_at)) / 3600)::numeric, 2)
                  FROM cancelled), 0),
            'total_refund_amount', (SELECT coalesce(sum(amount), 0) FROM refunds)),
        'hourlyPattern', (
            SELECT jsonb_agg(jsonb_build_object('hour', h, 'cancellations', n) ORDER BY h)
              FROM (SELECT hours.h, count(c.id) AS n
                      FROM generate_series(0, 23) AS hours (h)
                      LEFT JOIN cancelled AS c ON stats_kst_hour(c.cancelled_at) = hours.h
                     GROUP BY hours.h) AS x),
        'byEvent', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'id', id, 'event_id', id, 'title', title, 'event_title', title,
                       'total_reservations', total, 'cancelled', cancelled,
                       'cancelled_count', cancelled, 'total_cancelled', cancelled,
                       'cancellation_rate', stats_rate(cancelled, total),
                       'refund_amount', refunded, 'total_refund', refunded)
                       ORDER BY cancelled DESC, title, id)
              FROM by_event), '[]'),
        'dailyTrend', coalesce((
            SELECT jsonb_agg(jsonb_build_object('date', to_char(day, 'YYYY-MM-DD'),
                                                'cancellations', n) ORDER BY day DESC)
              FROM (SELECT stats_kst_date(cancelled_at) AS day, count(*) AS n
                      FROM cancelled GROUP BY 1) AS d), '[]'));
END;

-- ---------------------------------------------------------------- 11. realtime

-- Right now: seats and standing tickets held by unexpired pending reservations, payments in
-- flight, the last 60 minutes' reservations and captures, and the 5 events with the most
-- reservations in them. `active_users` comes from the waiting room's Redis state (the component
-- adds it).
CREATE FUNCTION stats_realtime() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    WITH recent AS (
        SELECT event_id FROM reservations WHERE created_at > now() - interval '1 hour'
    )
    SELECT jsonb_build_object(
        'current', jsonb_build_object(
            'locked_seats', (
                SELECT coalesce(sum(i.quantity), 0)
                  FROM reservations AS r JOIN reservation_items AS i ON i.reservation_id = r.id
                 WHERE r.status = 'pending' AND r.expires_at > now()),
            'active_payments', (SELECT count(*) FROM payments
                                 WHERE status IN ('pending', 'processing'))),
        'lastHour', jsonb_build_object(
            'reservations', (SELECT count(*) FROM recent),
            'revenue', (SELECT coalesce(sum(stats_captured(p)), 0) FROM payments AS p
                         WHERE p.approved_at > now() - interval '1 hour')),
        'recentActivity', '[]'::jsonb,
        'trendingEvents', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'id', e.id, 'event_id', e.id, 'title', e.title,
                       'recent_reservations', t.n, 'reservations', t.n, 'count', t.n)
                       ORDER BY t.n DESC, e.title, e.id)
              FROM (SELECT event_id, count(*) AS n FROM recent GROUP BY event_id
                     ORDER BY count(*) DESC, event_id LIMIT 5) AS t
              JOIN events AS e ON e.id = t.event_id), '[]'));
END;

-- The events whose waiting room may still hold active users (the admin dashboard's rule: not
-- cancelled, sale ended less than a day ago), soonest first, at most p_limit.
CREATE FUNCTION stats_live_events(p_limit integer) RETURNS TABLE (id text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    SELECT e.id::text FROM events AS e
     WHERE NOT e.cancelled AND e.sale_end_date > now() - interval '1 day'
     ORDER BY e.sale_start_date, e.id LIMIT p_limit;
END;

-- ---------------------------------------------------------------- 12. performance

-- The database's size and row counts, and the booking funnel's health over the last 7 days:
-- reservations created (`totalRequests`), the share confirmed, how long confirmed ones waited
-- for payment, the share of finished payments that failed, and reservations per KST hour.
CREATE FUNCTION stats_performance() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    WITH week AS (
        SELECT created_at, confirmed_at, status FROM reservations
         WHERE created_at > now() - interval '7 days'
    ), paid AS (
        SELECT count(*) FILTER (WHERE status = 'failed') AS failed,
               count(*) FILTER (WHERE status IN ('confirmed', 'refunded', 'failed')) AS finished
          FROM payments WHERE created_at > now() - interval '7 days'
    )
    SELECT jsonb_build_object(
        'database', jsonb_build_object(
            'size', pg_size_pretty(pg_database_size(current_database())),
            'sizeBytes', pg_database_size(current_database()),
            'tableCounts', jsonb_build_object(
                'users', (SELECT count(*) FROM users),
                'events', (SELECT count(*) FROM events),
                'reservations', (SELECT count(*) FROM reservations),
                'seats', (SELECT count(*) FROM seats),
                'payments', (SELECT count(*) FROM payments))),
        'recentPerformance', jsonb_build_object(
            'successRate', (SELECT stats_rate(count(*) FILTER (WHERE status = 'confirmed'),
                                              count(*)) FROM week),
            'totalRequests', (SELECT count(*) FROM week)),
        'metrics', jsonb_build_object(
            'avgSeatLockSeconds', (
                SELECT to_char(coalesce(avg(extract(epoch FROM confirmed_at - created_at)), 0),
                               'FM999999990.00')
                  FROM week WHERE status = 'confirmed'),
            'paymentFailureRate', (SELECT stats_rate(failed, finished) FROM paid)),
        'loadPattern', (
            SELECT jsonb_agg(jsonb_build_object('hour', h, 'request_count', n,
                                                'avg_per_day', round(n / 7.0, 2)) ORDER BY h)
              FROM (SELECT hours.h, count(w.created_at) AS n
                      FROM generate_series(0, 23) AS hours (h)
                      LEFT JOIN week AS w ON stats_kst_hour(w.created_at) = hours.h
                     GROUP BY hours.h) AS x));
END;

-- ---------------------------------------------------------------- 13. seat preferences

-- Seats (of one event, or of all) by section, price tier and row: how many exist and how many
-- are sold (`reserved`). Tiers by seat price: budget < 50,000 <= standard < 100,000 <= premium
-- < 150,000 <= vip.
CREATE FUNCTION stats_seat_preferences(p_event_id uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    WITH s AS (
        SELECT section, row_number, price, status = 'reserved' AS sold,
               CASE WHEN price < 50000 THEN 'budget' WHEN price < 100000 THEN 'standard'
                    WHEN price < 150000 THEN 'premium' ELSE 'vip' END AS tier
          FROM seats WHERE p_event_id IS NULL OR event_id = p_event_id
    )
    SELECT jsonb_build_object(
        'bySection', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'section', section, 'total_seats', total, 'reserved_seats', sold,
                       'reservation_rate', stats_rate(sold, total)) ORDER BY section)
              FROM (SELECT section, count(*) AS total, count(*) FILTER (WHERE sold) AS sold
                      FROM s GROUP BY section) AS x), '[]'),
        'byPriceTier', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'price_tier', tier, 'tier', tier, 'total_seats', total,
                       'reserved_seats', sold, 'reservation_rate', stats_rate(sold, total),
                       'avg_price', avg_price) ORDER BY min_price)
              FROM (SELECT tier, count(*) AS total, count(*) FILTER (WHERE sold) AS sold,
                           round(avg(price)) AS avg_price, min(price) AS min_price
                      FROM s GROUP BY tier) AS x), '[]'),
        'topRows', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'row_number', row_number, 'total_seats', total, 'reserved_seats', sold,
                       'reservation_rate', stats_rate(sold, total))
                       ORDER BY stats_rate(sold, total) DESC, sold DESC, row_number)
              FROM (SELECT row_number, count(*) AS total, count(*) FILTER (WHERE sold) AS sold
                      FROM s GROUP BY row_number
                     ORDER BY stats_rate(count(*) FILTER (WHERE sold), count(*)) DESC,
                              count(*) FILTER (WHERE sold) DESC, row_number
                     LIMIT 10) AS x), '[]'));
END;

-- ---------------------------------------------------------------- 14. user behaviour

-- Buyers with a purchase (a reservation confirmed now) confirmed in the window. Loyal: at least
-- 3 purchases ever; otherwise new (the first purchase ever is in the window) or returning (an
-- earlier purchase exists). Spending is the buyers' purchases in the window.
CREATE FUNCTION stats_user_behavior(p_days integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET jit = off
BEGIN ATOMIC
    WITH bought AS (
        SELECT user_id, created_at, confirmed_at, total_amount FROM reservations
         WHERE confirmed_at >= stats_window_start(p_days) AND status = 'confirmed'
    ), ever AS (
        -- Every buyer's purchases in one ordered pass over reservations_user_confirmed_idx
        -- (an index probe per window buyer costs more once buyers number thousands).
        SELECT r.user_id, count(*) AS n, min(r.confirmed_at) AS first_at
          FROM reservations AS r
         WHERE r.status = 'confirmed'
         GROUP BY r.user_id
    ), buyers AS (
        SELECT b.user_id, count(*) AS n, sum(b.total_amount) AS spent,
               ever.n AS purchases_ever, ever.first_at
          FROM bought AS b JOIN ever USING (user_id)
         GROUP BY b.user_id, ever.n, ever.first_at
    ), typed AS (
        SELECT *, CASE WHEN purchases_ever >= 3 THEN 'loyal'
                       WHEN first_at >= stats_window_start(p_days) THEN 'new'
                       ELSE 'returning' END AS user_type,
                  CASE WHEN spent < 50000 THEN 1 WHEN spent < 100000 THEN 2
                       WHEN spent < 200000 THEN 3 WHEN spent < 500000 THEN 4 ELSE 5 END AS bucket
          FROM buyers
    )
    SELECT jsonb_build_object(
        'userTypes', (
            SELECT jsonb_agg(jsonb_build_object('user_type', user_type, 'user_count', users,
                                                'total_reservations', total) ORDER BY ord)
              FROM (SELECT t.user_type, t.ord, count(x.user_id) AS users,
                           coalesce(sum(x.n), 0) AS total
                      FROM (VALUES ('new', 1), ('returning', 2), ('loyal', 3))
                           AS t (user_type, ord)
                      LEFT JOIN typed AS x ON x.user_type = t.user_type
                     GROUP BY t.user_type, t.ord) AS y),
        'averageMetrics', (
            SELECT jsonb_build_object(
                       'avg_reservations', coalesce(round(avg(n), 2), 0),
                       'max_reservations', coalesce(max(n), 0),
                       'median_reservations',
                           coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY n), 0),
                       'avg_spending', coalesce(round(avg(spent)), 0))
              FROM typed),
        'spendingDistribution', (
            SELECT jsonb_agg(jsonb_build_object('range', label, 'tier', label,
                                                'spending_tier', bucket, 'user_count', users)
                             ORDER BY bucket)
              FROM (SELECT b.bucket, b.label, count(x.user_id) AS users
                      FROM (VALUES (1, '0-49,999'), (2, '50,000-99,999'),
                                   (3, '100,000-199,999'), (4, '200,000-499,999'),
                                   (5, '500,000+')) AS b (bucket, label)
                      LEFT JOIN typed AS x ON x.bucket = b.bucket
                     GROUP BY b.bucket, b.label) AS y),
        'avgTimeToPayment', (
            SELECT to_char(coalesce(avg(extract(epoch FROM confirmed_at - created_at)) / 60, 0),
                           'FM999999990.00') || ' min'
              FROM bought),
        'weekdayActivity', (
            SELECT jsonb_agg(jsonb_build_object('day_of_week', dow, 'day_name', name,
                                                'reservations', n) ORDER BY dow)
              FROM (SELECT d.dow, d.name, count(b.user_id) AS n
                      FROM (VALUES (0, 'Sun'), (1, 'Mon'), (2, 'Tue'), (3, 'Wed'), (4, 'Thu'),
                                   (5, 'Fri'), (6, 'Sat')) AS d (dow, name)
                      LEFT JOIN bought AS b
                        ON extract(dow FROM b.confirmed_at AT TIME ZONE 'Asia/Seoul') = d.dow
                     GROUP BY d.dow, d.name) AS y));
END;

-- ---------------------------------------------------------------- grants

REVOKE ALL ON FUNCTION stats_overview(), stats_daily(integer), stats_events(integer, text),
    stats_event(uuid), stats_payments(), stats_revenue(text, integer), stats_users(integer),
    stats_hourly_traffic(integer), stats_conversion(integer), stats_cancellations(integer),
    stats_realtime(), stats_live_events(integer), stats_performance(),
    stats_seat_preferences(uuid), stats_user_behavior(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stats_overview(), stats_daily(integer), stats_events(integer, text),
    stats_event(uuid), stats_payments(), stats_revenue(text, integer), stats_users(integer),
    stats_hourly_traffic(integer), stats_conversion(integer), stats_cancellations(integer),
    stats_realtime(), stats_live_events(integer), stats_performance(),
    stats_seat_preferences(uuid), stats_user_behavior(integer) TO urr_stats;
