-- Seat release: what a cancel owes Redis, when a buyer may still cancel, how high a price may
-- go, and a reserve budget that holds while Redis is down.
--
-- 1. Holds follow Postgres. Every function that moves reservations out of a live status here
--    (`cancel_reservation`, and the operator paths through it) also returns the seat holds those
--    reservations may still have in Redis: `holds` = {"eventId", "holds": [{"seatId", "userId",
--    "token"}]} (NULL: none). reservation_items record (seat, fencing token) and never change, so
--    the component can release, after the commit, exactly the holds that still carry the
--    reservation's token (`<user>:<token>`), and nobody else's. Only reservations whose holds
--    can still be alive are listed: a hold is set with a lifetime of at most an hour (the
--    largest `hold_ttl_secs` / `reservation_ttl_secs`), by a call made before the reservation
--    expires, so a reservation past its expiry by more than an hour has none left.
-- 2. The buyer's cancel cut-off. A buyer (p_user_id given) may cancel until `p_cutoff_secs`
--    before the event's start (`events.event_date`; NULL: 0, the start itself); after it the
--    outcome is `cancel_window_closed` and nothing changes. Operator paths (p_user_id NULL: an
--    admin's status change, an event cancel) are not bound by it.
-- 3. Prices. Every price column is bounded to 0..10,000,000 KRW (`booking_max_price()`): far above
--    any ticket, and small enough that the largest order — 4 seats, or 10 standing lines of 10 —
--    totals at most 1,000,000,000, inside `integer`. Totals and subtotals stay `integer`.
-- 4. `booking_fallback_charge`: the per-user reserve budget (the booking rate limit) kept in
--    Postgres, used by the reserve component only while Redis cannot answer.

-- ---------------------------------------------------------------- holds owed to Redis

-- The seat holds the given reservations of one event may still have in Redis (see 1 above), as
-- {"eventId", "holds": [{"seatId", "userId", "token"}]} in seat order, or NULL when there are
-- none.
CREATE FUNCTION booking_holds_to_release(p_event_id uuid, p_reservation_ids uuid[])
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = public, pg_temp
BEGIN ATOMIC
    SELECT jsonb_build_object(
               'eventId', p_event_id,
               'holds', jsonb_agg(jsonb_build_object(
                            'seatId', i.seat_id, 'userId', r.user_id, 'token', i.fencing_token)
                        ORDER BY i.seat_id))
      FROM reservations AS r
      JOIN reservation_items AS i ON i.reservation_id = r.id
     WHERE r.id = ANY (p_reservation_ids) AND r.event_id = p_event_id
       AND i.seat_id IS NOT NULL
       AND r.expires_at > now() - interval '3600 seconds'
    HAVING count(*) > 0;
END;

-- ---------------------------------------------------------------- cancel

-- Cancels one reservation in ONE transaction — the boundary between booking and payments:
--   pending (not yet expired) → cancelled, inventory released            outcome `cancelled`
--   pending but past expiry  → expired, inventory released               outcome `expired`
--   confirmed                → cancelled, inventory released, and a refund of its confirmed
--                              payment recorded in payment_outbox          outcome `refund_pending`
--   cancelled / expired      → nothing changes                           outcome `already_cancelled`
--   a buyer past the cut-off → nothing changes                           outcome `cancel_window_closed`
--   unknown, or another user's (when p_user_id is given)                  outcome `not_found`
-- p_user_id NULL means the caller is an operator path (admin, event cancel) that checked rights;
-- only a buyer is bound by the cut-off, `p_cutoff_secs` before the event's start (NULL: 0).
-- `holds`: the seat holds the component releases after the commit (see the file's header).
-- The refund is DELIVERED by the payments component after commit (outbox); payments.status
-- becomes `refunded` and reservations.payment_status `refunded` only when the provider confirms.
DROP FUNCTION cancel_reservation(uuid, uuid, text);
CREATE FUNCTION cancel_reservation(
    p_reservation_id uuid, p_user_id uuid, p_reason text, p_cutoff_secs integer DEFAULT NULL)
RETURNS TABLE (outcome text, refund_outbox_id bigint, refund_amount integer, holds jsonb)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    r reservations;
    p payments;
    v_holds jsonb;
BEGIN
    SELECT * INTO r FROM reservations
     WHERE id = p_reservation_id AND (p_user_id IS NULL OR user_id = p_user_id)
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::bigint, NULL::integer, NULL::jsonb;
        RETURN;
    END IF;
    IF r.status IN ('cancelled', 'expired') THEN
        RETURN QUERY SELECT 'already_cancelled'::text, NULL::bigint, NULL::integer, NULL::jsonb;
        RETURN;
    END IF;
    IF p_user_id IS NOT NULL AND EXISTS (
        SELECT FROM events AS e
         WHERE e.id = r.event_id
           AND now() >= e.event_date
                         - make_interval(secs => greatest(coalesce(p_cutoff_secs, 0), 0))
    ) THEN
        RETURN QUERY SELECT 'cancel_window_closed'::text, NULL::bigint, NULL::integer, NULL::jsonb;
        RETURN;
    END IF;
    v_holds := booking_holds_to_release(r.event_id, ARRAY[r.id]);
    IF r.status = 'pending' THEN
        UPDATE reservations
           SET status = CASE WHEN expires_at <= now() THEN 'expired' ELSE 'cancelled' END,
               cancelled_at = now(), updated_at = now()
         WHERE id = r.id
        RETURNING status INTO r.status;
        PERFORM release_reservation_inventory(r.id);
        RETURN QUERY SELECT r.status, NULL::bigint, NULL::integer, v_holds;
        RETURN;
    END IF;
    -- confirmed: the ticket goes back on sale and the captured money goes back to the buyer.
    UPDATE reservations SET status = 'cancelled', cancelled_at = now(), updated_at = now()
     WHERE id = r.id;
    PERFORM release_reservation_inventory(r.id);
    SELECT * INTO p FROM payments
     WHERE reservation_id = r.id AND status = 'confirmed'
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'cancelled'::text, NULL::bigint, NULL::integer, v_holds;
        RETURN;
    END IF;
    RETURN QUERY
    INSERT INTO payment_outbox (payment_id, action, amount, reason, idempotency_key)
    VALUES (p.id, 'refund', p.amount, left(coalesce(p_reason, 'cancelled'), 200),
            'refund-' || p.id::text)
    ON CONFLICT ON CONSTRAINT payment_outbox_payment_action_key
        DO UPDATE SET reason = payment_outbox.reason
    RETURNING 'refund_pending'::text, payment_outbox.id, payment_outbox.amount, v_holds;
END;
$$;

-- ---------------------------------------------------------------- operator paths

-- As in 20261130000005_admin.sql, plus `holds`: the seat holds of every reservation the cancel
-- moved, for the component to release after the commit (the event is no longer on sale, so
-- none of them may keep a seat from anyone). Outcomes: `cancelled` (with counts), `not_found`,
-- `already_cancelled`.
DROP FUNCTION admin_cancel_event(uuid, inet, jsonb, uuid, text);
CREATE FUNCTION admin_cancel_event(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_event_id uuid, p_reason text
) RETURNS TABLE (outcome text, reservations_cancelled int8, reservations_expired int8,
                 refunds_recorded int8, holds jsonb)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    e events;
    r record;
    c record;
    v_cancelled int8 := 0;
    v_expired int8 := 0;
    v_refunds int8 := 0;
    v_moved uuid[] := '{}';
    v_reason text := left('event cancelled: ' || coalesce(p_reason, 'by the organizer'), 200);
BEGIN
    SELECT * INTO e FROM events WHERE id = p_event_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, 0::int8, 0::int8, 0::int8, NULL::jsonb;
        RETURN;
    END IF;
    IF e.cancelled THEN
        RETURN QUERY SELECT 'already_cancelled'::text, 0::int8, 0::int8, 0::int8, NULL::jsonb;
        RETURN;
    END IF;
    UPDATE events SET cancelled = true, cancelled_at = now(), updated_at = now()
     WHERE id = p_event_id;
    -- In id order, so two concurrent cancels lock reservations in the same order.
    FOR r IN SELECT id FROM reservations
              WHERE event_id = p_event_id AND status IN ('pending', 'confirmed')
              ORDER BY id
    LOOP
        SELECT * INTO c FROM cancel_reservation(r.id, NULL, v_reason);
        CASE c.outcome
            WHEN 'cancelled' THEN v_cancelled := v_cancelled + 1;
            WHEN 'expired' THEN v_expired := v_expired + 1;
            WHEN 'refund_pending' THEN
                v_cancelled := v_cancelled + 1;
                v_refunds := v_refunds + 1;
            ELSE NULL;
        END CASE;
        IF c.holds IS NOT NULL THEN
            v_moved := v_moved || r.id;
        END IF;
    END LOOP;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'event.cancel', 'event', p_event_id::text,
                        coalesce(p_summary, '{}') || jsonb_build_object(
                            'reservationsCancelled', v_cancelled,
                            'reservationsExpired', v_expired,
                            'refundsRecorded', v_refunds),
                        'cancelled');
    RETURN QUERY SELECT 'cancelled'::text, v_cancelled, v_expired, v_refunds,
                        booking_holds_to_release(p_event_id, v_moved);
END;
$$;

-- As in 20261130000005_admin.sql, plus `holds` (from `cancel_reservation`). An operator is not
-- bound by the buyer's cancel cut-off.
DROP FUNCTION admin_set_reservation_status(uuid, inet, jsonb, uuid, text, text);
CREATE FUNCTION admin_set_reservation_status(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_reservation_id uuid, p_status text,
    p_reason text
) RETURNS TABLE (outcome text, status text, refund_outbox_id int8, refund_amount int8,
                 holds jsonb)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    c record;
    v_status text;
BEGIN
    IF p_status IS DISTINCT FROM 'cancelled' THEN
        RETURN QUERY SELECT 'transition_not_allowed'::text, NULL::text, NULL::int8, NULL::int8,
                            NULL::jsonb;
        RETURN;
    END IF;
    SELECT * INTO c
      FROM cancel_reservation(p_reservation_id, NULL,
                              left(coalesce(p_reason, 'cancelled by an operator'), 200));
    IF c.outcome IN ('not_found', 'already_cancelled') THEN
        RETURN QUERY SELECT c.outcome, NULL::text, NULL::int8, NULL::int8, NULL::jsonb;
        RETURN;
    END IF;
    SELECT r.status INTO v_status FROM reservations AS r WHERE r.id = p_reservation_id;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'reservation.status', 'reservation',
                        p_reservation_id::text,
                        coalesce(p_summary, '{}') || jsonb_build_object('outcome', c.outcome),
                        v_status);
    RETURN QUERY SELECT c.outcome, v_status, c.refund_outbox_id, c.refund_amount::int8, c.holds;
END;
$$;

-- A dropped function loses its grants: the same ones again, for the new signatures.
REVOKE ALL ON FUNCTION booking_holds_to_release(uuid, uuid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION cancel_reservation(uuid, uuid, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION admin_cancel_event(uuid, inet, jsonb, uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION admin_set_reservation_status(uuid, inet, jsonb, uuid, text, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cancel_reservation(uuid, uuid, text, integer) TO urr_payments, urr_admin;
GRANT EXECUTE ON FUNCTION admin_cancel_event(uuid, inet, jsonb, uuid, text),
                          admin_set_reservation_status(uuid, inet, jsonb, uuid, text, text)
    TO urr_admin;

-- ---------------------------------------------------------------- prices

-- The largest price of one seat or one standing ticket, in won.
CREATE FUNCTION booking_max_price() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 10000000;

-- Whether every section price of a layout config is within the bound (a config that is not
-- the right shape at all passes here and fails seat_layouts_config_check instead).
CREATE FUNCTION layout_prices_in_range(config jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN jsonb_typeof(config -> 'sections') = 'array' THEN NOT EXISTS (
        SELECT FROM jsonb_array_elements(config -> 'sections') AS s
        WHERE jsonb_typeof(s -> 'price') = 'number'
          AND (s ->> 'price')::numeric > booking_max_price())
    ELSE true
END;

ALTER TABLE seat_layouts ADD CONSTRAINT seat_layouts_price_range_check
    CHECK (layout_prices_in_range(layout_config));
ALTER TABLE seats ADD CONSTRAINT seats_price_range_check
    CHECK (price <= booking_max_price());
ALTER TABLE ticket_types ADD CONSTRAINT ticket_types_price_range_check
    CHECK (price <= booking_max_price());
ALTER TABLE reservation_items ADD CONSTRAINT reservation_items_unit_price_range_check
    CHECK (unit_price <= booking_max_price());

-- ---------------------------------------------------------------- the reserve budget without Redis

-- One row per buyer who reserved while Redis was down: the GCRA's theoretical arrival time.
-- UNLOGGED: a limiter's state may be lost in a crash (the budget starts afresh), and it costs
-- no WAL on the reserve path.
CREATE UNLOGGED TABLE booking_fallback_limits (
    user_id uuid        NOT NULL,
    tat     timestamptz NOT NULL,
    CONSTRAINT booking_fallback_limits_pkey PRIMARY KEY (user_id)
);

-- Charges one reserve to `p_user_id` against a budget of `p_per_minute` calls per minute, with a
-- burst of the whole minute (the same GCRA as the Redis limiter). Returns 0 when allowed, else
-- the seconds to wait. Postgres' clock decides. Rows of buyers idle for an hour are pruned now
-- and then, a bounded batch at a time.
CREATE FUNCTION booking_fallback_charge(p_user_id uuid, p_per_minute integer) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_step interval := make_interval(secs => 60.0 / greatest(p_per_minute, 1));
    v_window constant interval := interval '60 seconds';
    v_tat timestamptz;
    v_wait integer;
BEGIN
    INSERT INTO booking_fallback_limits AS l (user_id, tat)
    VALUES (p_user_id, now() + v_step)
    ON CONFLICT ON CONSTRAINT booking_fallback_limits_pkey DO UPDATE
        SET tat = greatest(l.tat, now()) + v_step
        WHERE greatest(l.tat, now()) + v_step <= now() + v_window
    RETURNING tat INTO v_tat;
    IF random() < 0.01 THEN
        DELETE FROM booking_fallback_limits
         WHERE user_id IN (SELECT user_id FROM booking_fallback_limits
                            WHERE tat < now() - interval '1 hour' LIMIT 100);
    END IF;
    IF v_tat IS NOT NULL THEN
        RETURN 0;
    END IF;
    SELECT greatest(1, ceil(extract(epoch FROM
               greatest(l.tat, now()) + v_step - now() - v_window)))::integer
      INTO v_wait
      FROM booking_fallback_limits AS l WHERE l.user_id = p_user_id;
    RETURN coalesce(v_wait, 1);
END;
$$;

REVOKE ALL ON FUNCTION booking_fallback_charge(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION booking_fallback_charge(uuid, integer) TO urr_booking;
