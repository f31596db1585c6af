-- Booking: the reserve transitions (seated and standing) and the owner-only reads, one SQL
-- function per atomic transition, each one round trip from the component.
--
-- Keeps the seat row states of 20261130000001_booking_schema.sql exactly:
--   available  reservation_id, held_by, hold_expires_at NULL
--   locked     held for a pending reservation (reservation_id, held_by = its user,
--              hold_expires_at = its expires_at, fencing_token = the hold's token)
--   reserved   sold
-- and its rules: a locked seat past hold_expires_at is free (the reserve takes it over, marking
-- the old pending reservation `expired` and releasing its inventory exactly once, through
-- UPDATE ... WHERE status = 'pending' ... RETURNING); fencing_token only ever grows.
--
-- Every function is SECURITY DEFINER with a pinned search_path, and EXECUTE is granted only to
-- the role that needs it: `urr_booking` (component `reserve`) writes, `urr_booking_read`
-- (component `reservations`) reads. Neither role has any table grant.
--
-- Idempotency (`idempotency_keys`): the record is written in the same transaction as the
-- effect. A transaction-scoped advisory lock on (user, key) marks a call as in flight, so a
-- concurrent duplicate is told `in_flight` (409) instead of waiting; after commit the record
-- replays. Only successful effects are recorded: a refused request changed nothing, so its retry
-- is evaluated afresh.

-- ---------------------------------------------------------------- helpers

-- ISO-8601 UTC with milliseconds, the API's timestamp format.
CREATE FUNCTION booking_iso(at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

-- A human-facing reservation number, e.g. `R20261130-7KQ2M9XA` (32 random bits per day; the
-- unique constraint turns the rare collision into a retryable error, never a duplicate).
CREATE FUNCTION booking_reservation_number() RETURNS text
LANGUAGE sql VOLATILE
RETURN 'R' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') || '-'
       || upper(substr(md5(gen_random_uuid()::text), 1, 8));

-- Starts an idempotent call: `proceed` (no live record: go on, and record the result),
-- `replay` (same request already done: its response), `mismatch` (the key was used for another
-- request: 422), `in_flight` (a call with this key is running right now: 409).
CREATE FUNCTION booking_idempotency_begin(
    p_user_id uuid, p_key text, p_request_hash bytea,
    OUT outcome text, OUT http_status integer, OUT body jsonb, OUT resource_id uuid)
LANGUAGE plpgsql VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    k idempotency_keys;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('idem:' || p_user_id::text), hashtext(p_key)) THEN
        outcome := 'in_flight'; http_status := 409; body := '{}'::jsonb;
        RETURN;
    END IF;
    SELECT * INTO k FROM idempotency_keys
     WHERE user_id = p_user_id AND key = p_key AND expires_at > now();
    IF NOT FOUND THEN
        outcome := 'proceed';
    ELSIF k.request_hash = p_request_hash THEN
        outcome := 'replay'; http_status := k.response_status; body := k.response_body;
        resource_id := k.resource_id;
    ELSE
        outcome := 'mismatch'; http_status := 422; body := '{}'::jsonb;
    END IF;
END;
$$;

-- Records the response of an idempotent call, in the caller's transaction (an expired record
-- of the same key is replaced).
CREATE FUNCTION booking_idempotency_record(
    p_user_id uuid, p_key text, p_scope text, p_request_hash bytea,
    p_status integer, p_body jsonb, p_resource_id uuid) RETURNS void
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    INSERT INTO idempotency_keys
        (user_id, key, scope, request_hash, response_status, response_body, resource_id)
    VALUES (p_user_id, p_key, p_scope, p_request_hash, p_status, p_body, p_resource_id)
    ON CONFLICT ON CONSTRAINT idempotency_keys_pkey DO UPDATE
        SET scope = EXCLUDED.scope, request_hash = EXCLUDED.request_hash,
            response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body,
            resource_id = EXCLUDED.resource_id, created_at = now(),
            expires_at = now() + interval '24 hours'
        WHERE idempotency_keys.expires_at <= now();
END;

-- Serializes one user's reserves for one event, so the per-person cap cannot be passed by two
-- concurrent calls that each see the other's seats missing.
CREATE FUNCTION booking_lock_buyer(p_user_id uuid, p_event_id uuid) RETURNS void
LANGUAGE sql VOLATILE
RETURN pg_advisory_xact_lock(hashtext('cap:' || p_user_id::text), hashtext(p_event_id::text));

-- What one user holds live for one event: seats and standing tickets of pending (unexpired) and
-- confirmed reservations.
CREATE FUNCTION booking_live_quantities(
    p_user_id uuid, p_event_id uuid, OUT seats integer, OUT standing integer)
LANGUAGE sql STABLE
SET search_path = public, pg_temp
BEGIN ATOMIC
    SELECT coalesce(sum(i.quantity) FILTER (WHERE i.seat_id IS NOT NULL), 0)::int,
           coalesce(sum(i.quantity) FILTER (WHERE i.ticket_type_id IS NOT NULL), 0)::int
      FROM reservations AS r
      JOIN reservation_items AS i ON i.reservation_id = r.id
     WHERE r.user_id = p_user_id AND r.event_id = p_event_id
       AND (r.status = 'confirmed' OR (r.status = 'pending' AND r.expires_at > now()));
END;

-- Why an event cannot be booked now: NULL when it is on sale, else `event_not_found` or
-- `not_on_sale` (Postgres' clock decides).
CREATE FUNCTION booking_event_refusal(p_event_id uuid) RETURNS text
LANGUAGE sql STABLE
SET search_path = public, pg_temp
RETURN CASE
    WHEN NOT EXISTS (SELECT FROM events WHERE id = p_event_id) THEN 'event_not_found'
    WHEN (SELECT event_status(cancelled, sale_start_date, sale_end_date, now())
            FROM events WHERE id = p_event_id) <> 'on_sale' THEN 'not_on_sale'
END;

-- ---------------------------------------------------------------- reserve (seated)

-- Phases 2-3 of a seat reservation, all or nothing:
--   1. the idempotency key (replay / mismatch / in flight), the event (on sale), the cap;
--   2. pending reservations past their expiry that still lock a requested seat become
--      `expired` and release their inventory (exactly once: UPDATE ... WHERE status = 'pending');
--   3. the seat rows are locked FOR UPDATE in id order; each must be available (or locked past
--      its expiry), and the hold's fencing token must not be older than the row's;
--   4. the write repeats the guards as predicates (the version read in 3, the token), so a row
--      changed by anyone in between is never overwritten: then the rows become `locked` for the
--      new pending reservation, whose items record the token; the idempotency record is written.
-- p_fencing_token NULL means Redis could not issue one: the function derives it from its own
-- rows and clock, greatest(max(row token) + 1, clock in microseconds), which stays above every
-- token written so far and on the same scale as the ones Redis issues (docs/booking.md).
-- Outcomes (http_status): created (201), replay (the first one's), mismatch (422),
-- in_flight (409), invalid_request (400), event_not_found (404), not_on_sale (409),
-- purchase_limit (409), seat_not_found (404), seat_taken (409), stale_hold (409).
CREATE FUNCTION booking_reserve_seats(
    p_user_id uuid, p_event_id uuid, p_seat_ids uuid[], p_fencing_token bigint,
    p_ttl_secs integer, p_max_seats integer, p_idempotency_key text, p_request_hash bytea)
RETURNS TABLE (outcome text, http_status integer, body jsonb, fencing_token bigint,
               expires_at_ms bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_begin record;
    v_refusal text;
    v_live record;
    v_seat seats;
    v_ids uuid[] := '{}';
    v_versions integer[] := '{}';
    v_taken uuid[] := '{}';
    v_stale uuid[] := '{}';
    v_max_token bigint := 0;
    v_token bigint;
    v_expires timestamptz;
    v_reservation_id uuid := gen_random_uuid();
    v_number text;
    v_total integer;
    v_written integer;
    v_expired record;
    v_body jsonb;
BEGIN
    IF p_seat_ids IS NULL OR cardinality(p_seat_ids) NOT BETWEEN 1 AND 4
       OR (SELECT count(DISTINCT id) FROM unnest(p_seat_ids) AS id) <> cardinality(p_seat_ids)
       OR p_ttl_secs NOT BETWEEN 1 AND 3600 THEN
        RETURN QUERY SELECT 'invalid_request'::text, 400, '{}'::jsonb, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;
    IF p_idempotency_key IS NOT NULL THEN
        v_begin := booking_idempotency_begin(p_user_id, p_idempotency_key, p_request_hash);
        IF v_begin.outcome <> 'proceed' THEN
            -- A replay also says until when its seats are held (0: no longer), so the caller
            -- can align the holds it just refreshed.
            RETURN QUERY SELECT v_begin.outcome, v_begin.http_status, v_begin.body,
                                NULL::bigint,
                                (SELECT CASE WHEN r.status = 'pending'
                                             THEN floor(extract(epoch FROM r.expires_at) * 1000)::bigint
                                             ELSE 0 END
                                   FROM reservations AS r WHERE r.id = v_begin.resource_id);
            RETURN;
        END IF;
    END IF;
    v_refusal := booking_event_refusal(p_event_id);
    IF v_refusal IS NOT NULL THEN
        RETURN QUERY SELECT v_refusal, CASE v_refusal WHEN 'event_not_found' THEN 404 ELSE 409 END,
                            '{}'::jsonb, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    PERFORM booking_lock_buyer(p_user_id, p_event_id);
    v_live := booking_live_quantities(p_user_id, p_event_id);
    IF v_live.seats + cardinality(p_seat_ids) > p_max_seats THEN
        RETURN QUERY SELECT 'purchase_limit'::text, 409,
                            jsonb_build_object('limit', p_max_seats, 'held', v_live.seats),
                            NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    -- Expiry without workers: a pending reservation past its expiry that still locks one of
    -- these seats is expired here, and whoever moves it out of `pending` releases it.
    FOR v_expired IN
        UPDATE reservations AS r
           SET status = 'expired', cancelled_at = now(), updated_at = now()
         WHERE r.status = 'pending' AND r.expires_at <= now()
           AND r.id IN (SELECT s.reservation_id FROM seats AS s
                         WHERE s.id = ANY (p_seat_ids) AND s.event_id = p_event_id
                           AND s.status = 'locked' AND s.hold_expires_at <= now())
        RETURNING r.id
    LOOP
        PERFORM release_reservation_inventory(v_expired.id);
    END LOOP;

    FOR v_seat IN
        SELECT * FROM seats AS s
         WHERE s.id = ANY (p_seat_ids) AND s.event_id = p_event_id
         ORDER BY s.id
           FOR UPDATE
    LOOP
        v_ids := v_ids || v_seat.id;
        v_versions := v_versions || v_seat.version;
        v_max_token := greatest(v_max_token, v_seat.fencing_token);
        IF v_seat.status = 'reserved'
           OR (v_seat.status = 'locked' AND coalesce(v_seat.hold_expires_at > now(), true)) THEN
            v_taken := v_taken || v_seat.id;
        ELSIF p_fencing_token IS NOT NULL AND p_fencing_token < v_seat.fencing_token THEN
            v_stale := v_stale || v_seat.id;
        END IF;
    END LOOP;
    IF cardinality(v_ids) < cardinality(p_seat_ids) THEN
        RETURN QUERY SELECT 'seat_not_found'::text, 404,
                            jsonb_build_object('seats', (SELECT jsonb_agg(id ORDER BY id)
                                                           FROM unnest(p_seat_ids) AS id
                                                          WHERE id <> ALL (v_ids))),
                            NULL::bigint, NULL::bigint;
        RETURN;
    END IF;
    IF cardinality(v_taken) > 0 THEN
        RETURN QUERY SELECT 'seat_taken'::text, 409, jsonb_build_object('seats', to_jsonb(v_taken)),
                            NULL::bigint, NULL::bigint;
        RETURN;
    END IF;
    IF cardinality(v_stale) > 0 THEN
        RETURN QUERY SELECT 'stale_hold'::text, 409,
                            jsonb_build_object('seats', to_jsonb(v_stale),
                                               'fencingToken', v_max_token),
                            NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    v_token := coalesce(p_fencing_token,
                        greatest(v_max_token + 1,
                                 floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint));
    v_expires := now() + make_interval(secs => p_ttl_secs);
    v_number := booking_reservation_number();
    SELECT sum(s.price)::int INTO v_total FROM seats AS s WHERE s.id = ANY (v_ids);
    INSERT INTO reservations (id, reservation_number, user_id, event_id, kind, total_amount,
                              expires_at)
    VALUES (v_reservation_id, v_number, p_user_id, p_event_id, 'seated', v_total, v_expires);

    -- The guards once more, as predicates of the write: the version this call read and a
    -- token not older than the row's. Under the row locks they always hold; they are what
    -- stands between a future change of the read above and a double sale.
    UPDATE seats AS s
       SET status = 'locked', reservation_id = v_reservation_id, held_by = p_user_id,
           hold_expires_at = v_expires, fencing_token = v_token, version = s.version + 1,
           updated_at = now()
      FROM unnest(v_ids, v_versions) AS seen (id, version)
     WHERE s.id = seen.id AND s.version = seen.version AND s.fencing_token <= v_token;
    GET DIAGNOSTICS v_written = ROW_COUNT;
    IF v_written <> cardinality(v_ids) THEN
        RAISE EXCEPTION 'seat rows changed under a reserve' USING ERRCODE = 'serialization_failure';
    END IF;

    INSERT INTO reservation_items (reservation_id, seat_id, quantity, unit_price, fencing_token)
    SELECT v_reservation_id, s.id, 1, s.price, v_token FROM seats AS s WHERE s.id = ANY (v_ids);

    v_body := jsonb_build_object(
        'message', 'Seats reserved',
        'reservation', jsonb_build_object(
            'id', v_reservation_id,
            'reservationNumber', v_number, 'reservation_number', v_number,
            'totalAmount', v_total, 'total_amount', v_total,
            'expiresAt', booking_iso(v_expires), 'expires_at', booking_iso(v_expires),
            'status', 'pending',
            'seats', (SELECT jsonb_agg(jsonb_build_object(
                                 'id', s.id, 'section', s.section, 'row_number', s.row_number,
                                 'seat_number', s.seat_number, 'seat_label', s.seat_label,
                                 'price', s.price)
                             ORDER BY s.section, s.row_number, s.seat_number)
                        FROM seats AS s WHERE s.id = ANY (v_ids)),
            'fencingToken', v_token));
    IF p_idempotency_key IS NOT NULL THEN
        PERFORM booking_idempotency_record(p_user_id, p_idempotency_key, 'reserve',
                                           p_request_hash, 201, v_body, v_reservation_id);
    END IF;
    RETURN QUERY SELECT 'created'::text, 201, v_body, v_token,
                        floor(extract(epoch FROM v_expires) * 1000)::bigint;
END;
$$;

-- ---------------------------------------------------------------- reserve (standing)

-- A standing reservation, all or nothing: idempotency, event on sale, the cap; then pending
-- reservations of the requested ticket types past their expiry become `expired` and give their
-- quantities back (exactly once); then the ticket types are locked in id order, each must have
-- the quantity, and `available_quantity` is decremented (its CHECK >= 0 is the last word).
-- p_ticket_type_ids are distinct; p_quantities (1..10 each) go with them by position.
-- Outcomes: created (201), replay, mismatch (422), in_flight (409), invalid_request (400),
-- event_not_found (404), not_on_sale (409), purchase_limit (409), ticket_type_not_found (404),
-- sold_out (409).
CREATE FUNCTION booking_reserve_standing(
    p_user_id uuid, p_event_id uuid, p_ticket_type_ids uuid[], p_quantities integer[],
    p_ttl_secs integer, p_max_standing integer, p_idempotency_key text, p_request_hash bytea)
RETURNS TABLE (outcome text, http_status integer, body jsonb, expires_at_ms bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_begin record;
    v_refusal text;
    v_live record;
    v_wanted integer;
    v_found integer;
    v_short uuid[];
    v_expired record;
    v_expires timestamptz;
    v_reservation_id uuid := gen_random_uuid();
    v_number text;
    v_total integer;
    v_body jsonb;
BEGIN
    IF p_ticket_type_ids IS NULL OR p_quantities IS NULL
       OR cardinality(p_ticket_type_ids) NOT BETWEEN 1 AND 10
       OR cardinality(p_quantities) <> cardinality(p_ticket_type_ids)
       OR (SELECT count(DISTINCT id) FROM unnest(p_ticket_type_ids) AS id)
          <> cardinality(p_ticket_type_ids)
       OR EXISTS (SELECT FROM unnest(p_quantities) AS q WHERE q IS NULL OR q NOT BETWEEN 1 AND 10)
       OR p_ttl_secs NOT BETWEEN 1 AND 3600 THEN
        RETURN QUERY SELECT 'invalid_request'::text, 400, '{}'::jsonb, NULL::bigint;
        RETURN;
    END IF;
    v_wanted := (SELECT sum(q)::int FROM unnest(p_quantities) AS q);

    IF p_idempotency_key IS NOT NULL THEN
        v_begin := booking_idempotency_begin(p_user_id, p_idempotency_key, p_request_hash);
        IF v_begin.outcome <> 'proceed' THEN
            RETURN QUERY SELECT v_begin.outcome, v_begin.http_status, v_begin.body, NULL::bigint;
            RETURN;
        END IF;
    END IF;
    v_refusal := booking_event_refusal(p_event_id);
    IF v_refusal IS NOT NULL THEN
        RETURN QUERY SELECT v_refusal, CASE v_refusal WHEN 'event_not_found' THEN 404 ELSE 409 END,
                            '{}'::jsonb, NULL::bigint;
        RETURN;
    END IF;

    PERFORM booking_lock_buyer(p_user_id, p_event_id);
    v_live := booking_live_quantities(p_user_id, p_event_id);
    IF v_live.standing + v_wanted > p_max_standing THEN
        RETURN QUERY SELECT 'purchase_limit'::text, 409,
                            jsonb_build_object('limit', p_max_standing, 'held', v_live.standing),
                            NULL::bigint;
        RETURN;
    END IF;

    -- Expiry without workers, bounded per call (older leftovers go with the next calls).
    FOR v_expired IN
        UPDATE reservations AS r
           SET status = 'expired', cancelled_at = now(), updated_at = now()
         WHERE r.id IN (SELECT r2.id FROM reservations AS r2
                         WHERE r2.event_id = p_event_id AND r2.status = 'pending'
                           AND r2.expires_at <= now()
                           AND EXISTS (SELECT FROM reservation_items AS i
                                        WHERE i.reservation_id = r2.id
                                          AND i.ticket_type_id = ANY (p_ticket_type_ids))
                         ORDER BY r2.expires_at
                         LIMIT 100)
           AND r.status = 'pending' AND r.expires_at <= now()
        RETURNING r.id
    LOOP
        PERFORM release_reservation_inventory(v_expired.id);
    END LOOP;

    PERFORM 1 FROM ticket_types AS t
      WHERE t.id = ANY (p_ticket_type_ids) AND t.event_id = p_event_id
      ORDER BY t.id
        FOR UPDATE;
    GET DIAGNOSTICS v_found = ROW_COUNT;
    IF v_found < cardinality(p_ticket_type_ids) THEN
        RETURN QUERY SELECT 'ticket_type_not_found'::text, 404, '{}'::jsonb, NULL::bigint;
        RETURN;
    END IF;
    SELECT coalesce(array_agg(t.id ORDER BY t.id), '{}') INTO v_short
      FROM ticket_types AS t
      JOIN unnest(p_ticket_type_ids, p_quantities) AS w (id, quantity) ON w.id = t.id
     WHERE t.available_quantity < w.quantity;
    IF cardinality(v_short) > 0 THEN
        RETURN QUERY SELECT 'sold_out'::text, 409,
                            jsonb_build_object('ticketTypes', to_jsonb(v_short)), NULL::bigint;
        RETURN;
    END IF;

    UPDATE ticket_types AS t
       SET available_quantity = t.available_quantity - w.quantity, updated_at = now()
      FROM unnest(p_ticket_type_ids, p_quantities) AS w (id, quantity)
     WHERE t.id = w.id;

    v_expires := now() + make_interval(secs => p_ttl_secs);
    v_number := booking_reservation_number();
    SELECT sum(t.price * w.quantity)::int INTO v_total
      FROM ticket_types AS t
      JOIN unnest(p_ticket_type_ids, p_quantities) AS w (id, quantity) ON w.id = t.id;
    INSERT INTO reservations (id, reservation_number, user_id, event_id, kind, total_amount,
                              expires_at)
    VALUES (v_reservation_id, v_number, p_user_id, p_event_id, 'standing', v_total, v_expires);
    INSERT INTO reservation_items (reservation_id, ticket_type_id, quantity, unit_price)
    SELECT v_reservation_id, t.id, w.quantity, t.price
      FROM ticket_types AS t
      JOIN unnest(p_ticket_type_ids, p_quantities) AS w (id, quantity) ON w.id = t.id;

    v_body := jsonb_build_object(
        'message', 'Reservation created',
        'reservation', jsonb_build_object(
            'id', v_reservation_id,
            'reservationNumber', v_number,
            'eventTitle', (SELECT title FROM events WHERE id = p_event_id),
            'totalAmount', v_total,
            'status', 'pending',
            'paymentStatus', 'pending',
            'expiresAt', booking_iso(v_expires),
            'items', booking_items_json(v_reservation_id)));
    IF p_idempotency_key IS NOT NULL THEN
        PERFORM booking_idempotency_record(p_user_id, p_idempotency_key, 'reserve_standing',
                                           p_request_hash, 201, v_body, v_reservation_id);
    END IF;
    RETURN QUERY SELECT 'created'::text, 201, v_body,
                        floor(extract(epoch FROM v_expires) * 1000)::bigint;
END;
$$;

-- ---------------------------------------------------------------- reads (owner only)

-- One item of a reservation as every read shows it (seat fields NULL for standing tickets).
CREATE FUNCTION booking_item_json(i reservation_items) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = public, pg_temp
RETURN (
    SELECT jsonb_build_object(
        'ticketTypeName', coalesce(t.name, s.section),
        'quantity', i.quantity, 'unitPrice', i.unit_price, 'subtotal', i.subtotal,
        'seatId', i.seat_id, 'seatLabel', s.seat_label, 'section', s.section,
        'rowNumber', s.row_number, 'seatNumber', s.seat_number)
      FROM (SELECT 1) AS one
      LEFT JOIN ticket_types AS t ON t.id = i.ticket_type_id
      LEFT JOIN seats AS s ON s.id = i.seat_id
);

-- The items of one reservation, in seat / ticket order.
CREATE FUNCTION booking_items_json(p_reservation_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = public, pg_temp
RETURN coalesce((
    SELECT jsonb_agg(booking_item_json(i) ORDER BY s.section, s.row_number, s.seat_number, i.id)
      FROM reservation_items AS i
      LEFT JOIN seats AS s ON s.id = i.seat_id
     WHERE i.reservation_id = p_reservation_id), '[]'::jsonb);

-- `GET /reservations/my`: the user's newest reservations (at most p_limit), statuses as a
-- reader must show them at this instant (reservation_effective_status).
CREATE FUNCTION booking_my_reservations(p_user_id uuid, p_limit integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
RETURN jsonb_build_object('reservations', coalesce((
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
             LIMIT greatest(p_limit, 0)) AS r
      JOIN events AS e ON e.id = r.event_id), '[]'::jsonb));

-- `GET /reservations/{id}` and `GET /seats/reservation/{id}`: one reservation of its owner, NULL
-- when it does not exist or belongs to someone else (both are a 404).
CREATE FUNCTION booking_reservation(p_user_id uuid, p_reservation_id uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
RETURN (
    SELECT jsonb_build_object(
               'id', r.id, 'reservation_number', r.reservation_number,
               'reservationNumber', r.reservation_number,
               'total_amount', r.total_amount, 'totalAmount', r.total_amount,
               'status', reservation_effective_status(r.status, r.expires_at, now()),
               'payment_status', r.payment_status, 'payment_method', r.payment_method,
               'expires_at', booking_iso(r.expires_at), 'expiresAt', booking_iso(r.expires_at),
               'created_at', booking_iso(r.created_at),
               'event_id', r.event_id, 'event_title', e.title, 'venue', e.venue,
               'address', e.address, 'event_date', booking_iso(e.event_date),
               'items', booking_items_json(r.id),
               'seats', coalesce((
                   SELECT jsonb_agg(jsonb_build_object(
                              'id', s.id, 'section', s.section, 'row_number', s.row_number,
                              'seat_number', s.seat_number, 'seat_label', s.seat_label,
                              'price', i.unit_price)
                          ORDER BY s.section, s.row_number, s.seat_number)
                     FROM reservation_items AS i JOIN seats AS s ON s.id = i.seat_id
                    WHERE i.reservation_id = r.id), '[]'::jsonb))
      FROM reservations AS r
      JOIN events AS e ON e.id = r.event_id
     WHERE r.id = p_reservation_id AND r.user_id = p_user_id);

-- `GET /seats/events/{id}`: the event, its layout and every seat (at most p_limit) with the
-- status a buyer should see now: a lock past its expiry shows as available. NULL for an unknown
-- event.
CREATE FUNCTION booking_seat_map(p_event_id uuid, p_limit integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
RETURN (
    SELECT jsonb_build_object(
               'event', jsonb_build_object('id', e.id, 'title', e.title),
               'layout', (SELECT jsonb_build_object(
                                     'id', l.id, 'name', l.name, 'description', l.description,
                                     'total_seats', l.total_seats,
                                     'layout_config', l.layout_config)
                            FROM seat_layouts AS l WHERE l.id = e.seat_layout_id),
               'seats', coalesce((
                   SELECT jsonb_agg(jsonb_build_object(
                              'id', s.id, 'section', s.section, 'row_number', s.row_number,
                              'seat_number', s.seat_number, 'seat_label', s.seat_label,
                              'price', s.price,
                              'status', CASE
                                  WHEN s.status = 'reserved' THEN 'reserved'
                                  WHEN s.status = 'locked'
                                       AND coalesce(s.hold_expires_at > now(), true) THEN 'locked'
                                  ELSE 'available' END)
                          ORDER BY s.section, s.row_number, s.seat_number)
                     FROM (SELECT * FROM seats WHERE event_id = e.id
                            ORDER BY section, row_number, seat_number
                            LIMIT greatest(p_limit, 0)) AS s), '[]'::jsonb))
      FROM events AS e
     WHERE e.id = p_event_id);

-- ---------------------------------------------------------------- grants

REVOKE ALL ON FUNCTION
    booking_iso(timestamptz), booking_reservation_number(),
    booking_idempotency_begin(uuid, text, bytea),
    booking_idempotency_record(uuid, text, text, bytea, integer, jsonb, uuid),
    booking_lock_buyer(uuid, uuid), booking_live_quantities(uuid, uuid),
    booking_event_refusal(uuid),
    booking_reserve_seats(uuid, uuid, uuid[], bigint, integer, integer, text, bytea),
    booking_reserve_standing(uuid, uuid, uuid[], integer[], integer, integer, text, bytea),
    booking_item_json(reservation_items), booking_items_json(uuid),
    booking_my_reservations(uuid, integer), booking_reservation(uuid, uuid),
    booking_seat_map(uuid, integer)
FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    booking_reserve_seats(uuid, uuid, uuid[], bigint, integer, integer, text, bytea),
    booking_reserve_standing(uuid, uuid, uuid[], integer[], integer, integer, text, bytea)
TO urr_booking;

GRANT EXECUTE ON FUNCTION
    booking_my_reservations(uuid, integer), booking_reservation(uuid, uuid),
    booking_seat_map(uuid, integer)
TO urr_booking_read;
