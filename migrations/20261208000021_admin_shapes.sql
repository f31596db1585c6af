-- Admin pages as URR's web app reads them: the dashboard's `stats` cards and recent
-- reservations, buyers' names and e-mails on the reservation list, and the operator's status
-- change with the targets the web sends (`confirmed`, `cancelled`, `refunded`), each moving
-- money the way the booking side does, never a flag flipped on its own.

-- ---------------------------------------------------------------- reads

-- The reservation list shows who booked: the name and e-mail only (no hash, no role, no phone).
GRANT SELECT (id, name, email) ON users TO urr_admin;

-- The start of the current KST calendar day (the web's operators are in Korea; `today` on the
-- dashboard and every statistics day are KST days).
CREATE FUNCTION kst_today_start(at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN date_trunc('day', at AT TIME ZONE 'Asia/Seoul') AT TIME ZONE 'Asia/Seoul';

-- The dashboard cards of the web's /admin page and its recent reservations, as JSON:
--   totalEvents        every event, of any status
--   totalReservations  live reservations: confirmed, plus pending not yet expired
--   totalRevenue       net captured for reservations: what providers took (at the captured
--                      amount) minus what they gave back (delivered refunds)
--   todayReservations  live reservations created since the start of the current KST day
--   recentReservations the 10 newest reservations, any status (the effective one)
-- SECURITY DEFINER: `urr_admin` reads neither payments nor the users' other columns.
CREATE FUNCTION admin_dashboard_web() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
BEGIN ATOMIC
    SELECT jsonb_build_object(
        'stats', jsonb_build_object(
            'totalEvents', (SELECT count(*) FROM events),
            'totalReservations', (
                SELECT count(*) FROM reservations AS r
                 WHERE r.status = 'confirmed' OR (r.status = 'pending' AND r.expires_at > now())),
            'totalRevenue', (
                SELECT coalesce(sum(coalesce(p.captured_amount, p.amount))
                                    FILTER (WHERE p.payment_key IS NOT NULL), 0)
                       - coalesce(sum(p.refund_amount) FILTER (WHERE p.status = 'refunded'), 0)
                  FROM payments AS p),
            'todayReservations', (
                SELECT count(*) FROM reservations AS r
                 WHERE r.created_at >= kst_today_start(now())
                   AND (r.status = 'confirmed'
                        OR (r.status = 'pending' AND r.expires_at > now())))),
        'recentReservations', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'id', x.id, 'user_id', x.user_id,
                       'reservation_number', x.reservation_number,
                       'total_amount', x.total_amount, 'status', x.status,
                       'payment_status', x.payment_status,
                       'created_at', booking_iso(x.created_at), 'event_title', x.event_title,
                       'user_name', x.user_name, 'user_email', x.user_email)
                   ORDER BY x.created_at DESC, x.id DESC)
              FROM (SELECT r.id, r.user_id, r.reservation_number, r.total_amount,
                           reservation_effective_status(r.status, r.expires_at, now()) AS status,
                           r.payment_status, r.created_at, e.title AS event_title,
                           u.name AS user_name, u.email AS user_email
                      FROM reservations AS r
                      JOIN events AS e ON e.id = r.event_id
                      LEFT JOIN users AS u ON u.id = r.user_id
                     ORDER BY r.created_at DESC, r.id DESC
                     LIMIT 10) AS x), '[]'::jsonb));
END;

-- "The newest reservations" (dashboard, statistics windows) without a sort of the whole table.
CREATE INDEX reservations_created_idx ON reservations (created_at DESC, id DESC);

-- ---------------------------------------------------------------- status change

-- An operator's status change of one reservation, URR's targets with Edge's rules:
--   cancelled  pending → cancelled (seats freed); confirmed → cancelled with the refund of its
--              confirmed payment recorded in payment_outbox (through `cancel_reservation`, the
--              one cancel path: delivered once by the payments component); cancelled or
--              expired (also a pending one past its expiry) → `already_cancelled`
--   refunded   confirmed with a confirmed payment → as cancelled; pending, or confirmed with
--              nothing captured → `transition_not_allowed`; cancelled / expired →
--              `already_cancelled`
--   confirmed  confirmed → `unchanged` (idempotent, nothing written); anything else →
--              `transition_not_allowed`: a reservation is confirmed only by its payment's
--              capture (a capture the provider made but we did not record is reconciled by the
--              payments component, never by an operator)
-- The reservation row is locked first, so two concurrent changes of one reservation serialize:
-- the second sees the first's result (one refund row ever; the outbox's unique key is the last
-- word). Every change writes its audit row in the same transaction; refusals write nothing.
DROP FUNCTION admin_set_reservation_status(uuid, inet, jsonb, uuid, text, text);
CREATE FUNCTION admin_set_reservation_status(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_reservation_id uuid, p_status text,
    p_reason text
) RETURNS TABLE (outcome text, status text, payment_status text, refund_outbox_id int8,
                 refund_amount int8, holds jsonb)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    r reservations;
    c record;
    v_effective text;
BEGIN
    IF p_status IS NULL OR p_status NOT IN ('cancelled', 'refunded', 'confirmed') THEN
        RETURN QUERY SELECT 'invalid_status'::text, NULL::text, NULL::text, NULL::int8,
                            NULL::int8, NULL::jsonb;
        RETURN;
    END IF;
    SELECT * INTO r FROM reservations AS x WHERE x.id = p_reservation_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::text, NULL::int8, NULL::int8,
                            NULL::jsonb;
        RETURN;
    END IF;
    v_effective := reservation_effective_status(r.status, r.expires_at, now());
    IF p_status = 'confirmed' THEN
        RETURN QUERY SELECT CASE WHEN v_effective = 'confirmed' THEN 'unchanged'
                                 ELSE 'transition_not_allowed' END,
                            v_effective, r.payment_status, NULL::int8, NULL::int8, NULL::jsonb;
        RETURN;
    END IF;
    IF v_effective IN ('cancelled', 'expired') THEN
        RETURN QUERY SELECT 'already_cancelled'::text, NULL::text, NULL::text, NULL::int8,
                            NULL::int8, NULL::jsonb;
        RETURN;
    END IF;
    IF p_status = 'refunded' AND NOT (
        v_effective = 'confirmed'
        AND EXISTS (SELECT FROM payments AS p
                     WHERE p.reservation_id = r.id AND p.status = 'confirmed')
    ) THEN
        RETURN QUERY SELECT 'transition_not_allowed'::text, NULL::text, NULL::text, NULL::int8,
                            NULL::int8, NULL::jsonb;
        RETURN;
    END IF;
    SELECT * INTO c
      FROM cancel_reservation(p_reservation_id, NULL,
                              left(coalesce(p_reason, 'cancelled by an operator'), 200));
    IF c.outcome NOT IN ('cancelled', 'refund_pending') THEN
        -- Cannot happen under the row lock above; refuse rather than audit a non-change.
        RAISE EXCEPTION 'admin_set_reservation_status: unexpected cancel outcome %', c.outcome;
    END IF;
    SELECT * INTO r FROM reservations AS x WHERE x.id = p_reservation_id;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'reservation.status', 'reservation',
                        p_reservation_id::text,
                        coalesce(p_summary, '{}') || jsonb_build_object('outcome', c.outcome),
                        r.status);
    RETURN QUERY SELECT c.outcome, r.status, r.payment_status, c.refund_outbox_id,
                        c.refund_amount::int8, c.holds;
END;
$$;

-- ---------------------------------------------------------------- grants

REVOKE ALL ON FUNCTION admin_set_reservation_status(uuid, inet, jsonb, uuid, text, text),
    admin_dashboard_web() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION admin_set_reservation_status(uuid, inet, jsonb, uuid, text, text),
    admin_dashboard_web() TO urr_admin;
