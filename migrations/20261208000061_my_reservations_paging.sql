-- `GET /reservations/my?page&limit` (issue: capacity): one page of the caller's reservations,
-- newest first with their items, and `pagination:{page, limit, total, totalPages}`. The page is
-- read from `reservations_user_created_idx` (user_id, created_at DESC, id DESC), so it costs
-- about the same whatever the buyer's history; `total` counts the buyer's index entries only.
-- Without `page`/`limit` the route keeps the reply the web app reads today
-- (`booking_my_reservations`, now the first page of this one without `pagination`), so the row
-- shape lives in one function.
CREATE FUNCTION booking_my_reservations_page(p_user_id uuid, p_page integer, p_limit integer)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
RETURN jsonb_build_object(
    'reservations', coalesce((
        SELECT jsonb_agg(jsonb_build_object(
                   'id', r.id, 'reservation_number', r.reservation_number,
                   'total_amount', r.total_amount,
                   'status', reservation_effective_status(r.status, r.expires_at, now()),
                   'payment_status', r.payment_status,
                   'created_at', booking_iso(r.created_at), 'expires_at', booking_iso(r.expires_at),
                   'event_id', r.event_id, 'event_title', e.title, 'venue', e.venue,
                   'event_date', booking_iso(e.event_date),
                   'items', booking_items_json(r.id))
               ORDER BY r.created_at DESC, r.id DESC)
          FROM (SELECT * FROM reservations
                 WHERE user_id = p_user_id
                 ORDER BY created_at DESC, id DESC
                 LIMIT greatest(p_limit, 0)
                OFFSET greatest(p_page - 1, 0)::bigint * greatest(p_limit, 0)) AS r
          JOIN events AS e ON e.id = r.event_id), '[]'::jsonb),
    'pagination', (
        SELECT jsonb_build_object(
                   'page', p_page, 'limit', p_limit, 'total', n,
                   'totalPages', CASE WHEN p_limit > 0 THEN (n + p_limit - 1) / p_limit ELSE 0 END)
          FROM (SELECT count(*) AS n FROM reservations WHERE user_id = p_user_id) AS c));

-- The reply without paging: the newest `p_limit`, no `pagination` (what the web reads today).
CREATE OR REPLACE FUNCTION booking_my_reservations(p_user_id uuid, p_limit integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
RETURN jsonb_build_object(
    'reservations', booking_my_reservations_page(p_user_id, 1, p_limit) -> 'reservations');

REVOKE ALL ON FUNCTION booking_my_reservations_page(uuid, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION booking_my_reservations_page(uuid, integer, integer)
    TO urr_booking_read;
