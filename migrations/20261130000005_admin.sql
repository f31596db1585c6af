-- Admin: every change an operator makes through `/admin/...`, one SQL function per change.
--
-- Each function does its change AND appends its row to admin_audit_log in the same transaction
-- (the function call is one statement, so one transaction): if the audit row cannot be written,
-- the change does not happen either. Each is SECURITY DEFINER with a pinned search_path, and only
-- `urr_admin` may execute it. Refusals (unknown id, a rule that forbids the change) change nothing
-- and write no audit row; they come back as an `outcome` the component maps to 404/409.
--
-- Input shape (lengths, prices, dates) is validated by the component before it calls; the
-- table constraints of 20261125000003_catalog.sql stay the last word.

-- ---------------------------------------------------------------- grants for reads

-- The reservation list of the admin screens (payments and the outbox stay unreadable: the
-- dashboard reads them through `admin_dashboard`).
GRANT SELECT ON reservations TO urr_admin;

-- ---------------------------------------------------------------- audit

-- The one writer of audit rows, called only by the functions below (never granted).
CREATE FUNCTION admin_audit(
    p_admin_id uuid, p_client_ip inet, p_action text, p_resource_type text, p_resource_id text,
    p_summary jsonb, p_resulting_status text
) RETURNS void
LANGUAGE sql VOLATILE
SET search_path = public, pg_temp
BEGIN ATOMIC
    INSERT INTO admin_audit_log (admin_id, action, resource_type, resource_id, request_summary,
                                 resulting_status, client_ip)
    VALUES (p_admin_id, p_action, p_resource_type, p_resource_id, coalesce(p_summary, '{}'),
            p_resulting_status, p_client_ip);
END;

-- ---------------------------------------------------------------- ticket type rows

-- The shape both ticket-type functions return (the component's reply is built from it).
CREATE TYPE admin_ticket_type_result AS (
    outcome            text,
    id                 text,
    name               text,
    price              int8,
    total_quantity     int8,
    available_quantity int8,
    description        text
);

-- ---------------------------------------------------------------- events

-- Creates an event and its ticket types (`p_ticket_types`: [{name, price, totalQuantity,
-- description}], validated by the caller). Outcomes: `created`, `unknown_layout`.
CREATE FUNCTION admin_create_event(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb,
    p_title text, p_description text, p_venue text, p_address text,
    p_event_date timestamptz, p_sale_start_date timestamptz, p_sale_end_date timestamptz,
    p_poster_image_url text, p_artist_name text, p_seat_layout_id uuid, p_ticket_types jsonb
) RETURNS TABLE (outcome text, event_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_id uuid;
BEGIN
    IF p_seat_layout_id IS NOT NULL
       AND NOT EXISTS (SELECT FROM seat_layouts WHERE id = p_seat_layout_id) THEN
        RETURN QUERY SELECT 'unknown_layout'::text, NULL::uuid;
        RETURN;
    END IF;
    INSERT INTO events (title, description, venue, address, event_date, sale_start_date,
                        sale_end_date, poster_image_url, artist_name, seat_layout_id)
    VALUES (p_title, p_description, p_venue, p_address, p_event_date, p_sale_start_date,
            p_sale_end_date, p_poster_image_url, p_artist_name, p_seat_layout_id)
    RETURNING id INTO v_id;
    INSERT INTO ticket_types (event_id, name, price, total_quantity, available_quantity, description)
    SELECT v_id, t ->> 'name', (t ->> 'price')::int, (t ->> 'totalQuantity')::int,
           (t ->> 'totalQuantity')::int, coalesce(t ->> 'description', '')
    FROM jsonb_array_elements(coalesce(p_ticket_types, '[]')) AS t;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'event.create', 'event', v_id::text, p_summary,
                        'created');
    RETURN QUERY SELECT 'created'::text, v_id;
END;
$$;

-- Changes the given fields of an event (NULL: unchanged). Outcomes: `updated`, `not_found`,
-- `event_cancelled` (a cancelled event is final), `unknown_layout`, `seats_exist` (the layout of
-- an event with generated seats cannot change: delete its seats first), `invalid_sale_window`,
-- `sale_ends_after_event` (both checked on the merged result).
CREATE FUNCTION admin_update_event(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_event_id uuid,
    p_title text, p_description text, p_venue text, p_address text,
    p_event_date timestamptz, p_sale_start_date timestamptz, p_sale_end_date timestamptz,
    p_poster_image_url text, p_artist_name text, p_seat_layout_id uuid
) RETURNS TABLE (outcome text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    e events;
BEGIN
    SELECT * INTO e FROM events WHERE id = p_event_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text;
        RETURN;
    END IF;
    IF e.cancelled THEN
        RETURN QUERY SELECT 'event_cancelled'::text;
        RETURN;
    END IF;
    IF p_seat_layout_id IS NOT NULL AND p_seat_layout_id IS DISTINCT FROM e.seat_layout_id THEN
        IF NOT EXISTS (SELECT FROM seat_layouts WHERE id = p_seat_layout_id) THEN
            RETURN QUERY SELECT 'unknown_layout'::text;
            RETURN;
        END IF;
        IF EXISTS (SELECT FROM seats WHERE event_id = p_event_id) THEN
            RETURN QUERY SELECT 'seats_exist'::text;
            RETURN;
        END IF;
    END IF;
    IF coalesce(p_sale_start_date, e.sale_start_date) >= coalesce(p_sale_end_date, e.sale_end_date) THEN
        RETURN QUERY SELECT 'invalid_sale_window'::text;
        RETURN;
    END IF;
    IF coalesce(p_sale_end_date, e.sale_end_date) > coalesce(p_event_date, e.event_date) THEN
        RETURN QUERY SELECT 'sale_ends_after_event'::text;
        RETURN;
    END IF;
    UPDATE events
       SET title = coalesce(p_title, title),
           description = coalesce(p_description, description),
           venue = coalesce(p_venue, venue),
           address = coalesce(p_address, address),
           event_date = coalesce(p_event_date, event_date),
           sale_start_date = coalesce(p_sale_start_date, sale_start_date),
           sale_end_date = coalesce(p_sale_end_date, sale_end_date),
           poster_image_url = coalesce(p_poster_image_url, poster_image_url),
           artist_name = coalesce(p_artist_name, artist_name),
           seat_layout_id = coalesce(p_seat_layout_id, seat_layout_id),
           updated_at = now()
     WHERE id = p_event_id;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'event.update', 'event', p_event_id::text,
                        p_summary, 'updated');
    RETURN QUERY SELECT 'updated'::text;
END;
$$;

-- Cancels an event and, in the same transaction, every live reservation of it through
-- `cancel_reservation` (pending: cancelled and its seats freed; confirmed: cancelled and a refund
-- recorded in payment_outbox, delivered by the payments component). The loop is bounded by the
-- event's capacity (one live reservation per seat or ticket at most). Outcomes: `cancelled`
-- (with counts), `not_found`, `already_cancelled`.
CREATE FUNCTION admin_cancel_event(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_event_id uuid, p_reason text
) RETURNS TABLE (outcome text, reservations_cancelled int8, reservations_expired int8,
                 refunds_recorded int8)
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
    v_reason text := left('event cancelled: ' || coalesce(p_reason, 'by the organizer'), 200);
BEGIN
    SELECT * INTO e FROM events WHERE id = p_event_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, 0::int8, 0::int8, 0::int8;
        RETURN;
    END IF;
    IF e.cancelled THEN
        RETURN QUERY SELECT 'already_cancelled'::text, 0::int8, 0::int8, 0::int8;
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
    END LOOP;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'event.cancel', 'event', p_event_id::text,
                        coalesce(p_summary, '{}') || jsonb_build_object(
                            'reservationsCancelled', v_cancelled,
                            'reservationsExpired', v_expired,
                            'refundsRecorded', v_refunds),
                        'cancelled');
    RETURN QUERY SELECT 'cancelled'::text, v_cancelled, v_expired, v_refunds;
END;
$$;

-- Deletes an event (its ticket types and seats go with it) only while no reservation of any
-- status names it: sold history is never deleted; cancel the event instead. Outcomes:
-- `deleted`, `not_found`, `has_reservations`.
CREATE FUNCTION admin_delete_event(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_event_id uuid
) RETURNS TABLE (outcome text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    -- The row lock makes a concurrent reservation insert (its foreign key takes KEY SHARE on
    -- this row) either commit before the check below or fail after the delete.
    PERFORM FROM events WHERE id = p_event_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text;
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM reservations WHERE event_id = p_event_id) THEN
        RETURN QUERY SELECT 'has_reservations'::text;
        RETURN;
    END IF;
    DELETE FROM events WHERE id = p_event_id;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'event.delete', 'event', p_event_id::text,
                        p_summary, 'deleted');
    RETURN QUERY SELECT 'deleted'::text;
END;
$$;

-- ---------------------------------------------------------------- seats

-- Generates the event's seats from its layout with the one-statement `generate_event_seats`
-- (idempotent: existing seats stay). Outcomes: `generated` (with the number created and the
-- event's seat total), `not_found`, `no_layout` (a standing event), `event_cancelled`.
CREATE FUNCTION admin_generate_seats(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_event_id uuid
) RETURNS TABLE (outcome text, seats_created int8, total_seats int8)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    e events;
    v_created int8;
    v_total int8;
BEGIN
    -- FOR UPDATE: a concurrent seat delete of the same event waits for this to finish.
    SELECT * INTO e FROM events WHERE id = p_event_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, 0::int8, 0::int8;
        RETURN;
    END IF;
    IF e.seat_layout_id IS NULL THEN
        RETURN QUERY SELECT 'no_layout'::text, 0::int8, 0::int8;
        RETURN;
    END IF;
    IF e.cancelled THEN
        RETURN QUERY SELECT 'event_cancelled'::text, 0::int8, 0::int8;
        RETURN;
    END IF;
    v_created := generate_event_seats(p_event_id);
    SELECT count(*) INTO v_total FROM seats WHERE event_id = p_event_id;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'event.generate_seats', 'event',
                        p_event_id::text,
                        coalesce(p_summary, '{}') || jsonb_build_object(
                            'seatsCreated', v_created, 'totalSeats', v_total),
                        'seats_generated');
    RETURN QUERY SELECT 'generated'::text, v_created, v_total;
END;
$$;

-- Deletes every seat of an event. Refused while a live reservation (confirmed, or pending and
-- not yet expired) holds any of them (`seats_in_use`), and while any reservation item, even of a
-- dead reservation, names one (`seats_have_history`: a sold seat is never deleted from under its
-- ticket; cancel the event instead). Outcomes: `deleted` (with the count), `not_found`, and
-- those two.
CREATE FUNCTION admin_delete_seats(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_event_id uuid
) RETURNS TABLE (outcome text, seats_deleted int8)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_deleted int8;
BEGIN
    PERFORM FROM events WHERE id = p_event_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, 0::int8;
        RETURN;
    END IF;
    -- Lock the seats first: a reserve that wants one now waits, one that already wrote its
    -- items has committed (we waited for it) and is seen by the checks below.
    PERFORM FROM seats WHERE event_id = p_event_id FOR UPDATE;
    IF EXISTS (
        SELECT FROM seats AS s
        JOIN reservations AS r ON r.id = s.reservation_id
        WHERE s.event_id = p_event_id
          AND (r.status = 'confirmed' OR (r.status = 'pending' AND r.expires_at > now()))
    ) OR EXISTS (
        SELECT FROM reservation_items AS i
        JOIN seats AS s ON s.id = i.seat_id
        JOIN reservations AS r ON r.id = i.reservation_id
        WHERE s.event_id = p_event_id
          AND (r.status = 'confirmed' OR (r.status = 'pending' AND r.expires_at > now()))
    ) THEN
        RETURN QUERY SELECT 'seats_in_use'::text, 0::int8;
        RETURN;
    END IF;
    IF EXISTS (
        SELECT FROM reservation_items AS i
        JOIN seats AS s ON s.id = i.seat_id
        WHERE s.event_id = p_event_id
    ) THEN
        RETURN QUERY SELECT 'seats_have_history'::text, 0::int8;
        RETURN;
    END IF;
    DELETE FROM seats WHERE event_id = p_event_id;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'event.delete_seats', 'event', p_event_id::text,
                        coalesce(p_summary, '{}') || jsonb_build_object('seatsDeleted', v_deleted),
                        'seats_deleted');
    RETURN QUERY SELECT 'deleted'::text, v_deleted;
END;
$$;

-- ---------------------------------------------------------------- ticket types

-- Adds a ticket type to an event. Outcomes: `created`, `not_found`, `event_cancelled`,
-- `duplicate_name` (names are unique per event).
CREATE FUNCTION admin_create_ticket_type(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_event_id uuid,
    p_name text, p_price int, p_total_quantity int, p_description text
) RETURNS SETOF admin_ticket_type_result
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    e events;
    t ticket_types;
BEGIN
    SELECT * INTO e FROM events WHERE id = p_event_id FOR SHARE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL, NULL, NULL::int8, NULL::int8, NULL::int8, NULL;
        RETURN;
    END IF;
    IF e.cancelled THEN
        RETURN QUERY SELECT 'event_cancelled'::text, NULL, NULL, NULL::int8, NULL::int8, NULL::int8, NULL;
        RETURN;
    END IF;
    INSERT INTO ticket_types (event_id, name, price, total_quantity, available_quantity, description)
    VALUES (p_event_id, p_name, p_price, p_total_quantity, p_total_quantity,
            coalesce(p_description, ''))
    ON CONFLICT ON CONSTRAINT ticket_types_event_id_name_key DO NOTHING
    RETURNING * INTO t;
    IF t.id IS NULL THEN
        RETURN QUERY SELECT 'duplicate_name'::text, NULL, NULL, NULL::int8, NULL::int8, NULL::int8, NULL;
        RETURN;
    END IF;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'ticket_type.create', 'ticket_type', t.id::text,
                        coalesce(p_summary, '{}') || jsonb_build_object('eventId', p_event_id),
                        'created');
    RETURN QUERY SELECT 'created'::text, t.id::text, t.name, t.price::int8,
                        t.total_quantity::int8, t.available_quantity::int8, t.description;
END;
$$;

-- Changes the given fields of a ticket type (NULL: unchanged). The total never drops below what
-- is sold (sold = total - available); the available quantity moves by the same delta as the
-- total, so sold stays what it was. Outcomes: `updated`, `not_found`, `below_sold` (with the
-- current quantities, so the caller can say how many are sold), `duplicate_name`.
CREATE FUNCTION admin_update_ticket_type(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_ticket_type_id uuid,
    p_name text, p_price int, p_total_quantity int, p_description text
) RETURNS SETOF admin_ticket_type_result
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    t ticket_types;
    v_sold int;
BEGIN
    -- FOR UPDATE: a concurrent sale (available_quantity - n) waits, so `sold` cannot move
    -- between this read and the update.
    SELECT * INTO t FROM ticket_types WHERE id = p_ticket_type_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL, NULL, NULL::int8, NULL::int8, NULL::int8, NULL;
        RETURN;
    END IF;
    v_sold := t.total_quantity - t.available_quantity;
    IF p_total_quantity IS NOT NULL AND p_total_quantity < v_sold THEN
        RETURN QUERY SELECT 'below_sold'::text, t.id::text, t.name, t.price::int8,
                            t.total_quantity::int8, t.available_quantity::int8, t.description;
        RETURN;
    END IF;
    IF p_name IS NOT NULL AND p_name <> t.name
       AND EXISTS (SELECT FROM ticket_types WHERE event_id = t.event_id AND name = p_name) THEN
        RETURN QUERY SELECT 'duplicate_name'::text, NULL, NULL, NULL::int8, NULL::int8, NULL::int8, NULL;
        RETURN;
    END IF;
    UPDATE ticket_types
       SET name = coalesce(p_name, name),
           price = coalesce(p_price, price),
           available_quantity = available_quantity
                                + (coalesce(p_total_quantity, total_quantity) - total_quantity),
           total_quantity = coalesce(p_total_quantity, total_quantity),
           description = coalesce(p_description, description),
           updated_at = now()
     WHERE id = p_ticket_type_id
    RETURNING * INTO t;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'ticket_type.update', 'ticket_type', t.id::text,
                        coalesce(p_summary, '{}') || jsonb_build_object('eventId', t.event_id),
                        'updated');
    RETURN QUERY SELECT 'updated'::text, t.id::text, t.name, t.price::int8,
                        t.total_quantity::int8, t.available_quantity::int8, t.description;
END;
$$;

-- ---------------------------------------------------------------- reservations

-- An operator's status change of one reservation. The only transition an operator may make is
-- to `cancelled`, through `cancel_reservation` (pending: freed; confirmed: refund recorded in the
-- outbox); confirming without a payment, or reviving a dead reservation, is never allowed.
-- Outcomes: those of `cancel_reservation` (`cancelled`, `expired`, `refund_pending`,
-- `already_cancelled`, `not_found`) and `transition_not_allowed`.
CREATE FUNCTION admin_set_reservation_status(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_reservation_id uuid, p_status text,
    p_reason text
) RETURNS TABLE (outcome text, status text, refund_outbox_id int8, refund_amount int8)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    c record;
    v_status text;
BEGIN
    IF p_status IS DISTINCT FROM 'cancelled' THEN
        RETURN QUERY SELECT 'transition_not_allowed'::text, NULL::text, NULL::int8, NULL::int8;
        RETURN;
    END IF;
    SELECT * INTO c
      FROM cancel_reservation(p_reservation_id, NULL,
                              left(coalesce(p_reason, 'cancelled by an operator'), 200));
    IF c.outcome IN ('not_found', 'already_cancelled') THEN
        RETURN QUERY SELECT c.outcome, NULL::text, NULL::int8, NULL::int8;
        RETURN;
    END IF;
    SELECT r.status INTO v_status FROM reservations AS r WHERE r.id = p_reservation_id;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'reservation.status', 'reservation',
                        p_reservation_id::text,
                        coalesce(p_summary, '{}') || jsonb_build_object('outcome', c.outcome),
                        v_status);
    RETURN QUERY SELECT c.outcome, v_status, c.refund_outbox_id, c.refund_amount::int8;
END;
$$;

-- ---------------------------------------------------------------- dashboard

-- The dashboard's counts in one round trip, as JSON: events and reservations by the status a
-- reader sees at this instant, revenue of confirmed payments, seats sold, standing tickets sold,
-- and refunds recorded but not yet delivered. SECURITY DEFINER so `urr_admin` needs no read
-- grant on payments or the outbox.
CREATE FUNCTION admin_dashboard() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
BEGIN ATOMIC
    SELECT jsonb_build_object(
        'events', (
            SELECT jsonb_build_object(
                'total', count(*),
                'upcoming', count(*) FILTER (WHERE s = 'upcoming'),
                'on_sale', count(*) FILTER (WHERE s = 'on_sale'),
                'ended', count(*) FILTER (WHERE s = 'ended'),
                'cancelled', count(*) FILTER (WHERE s = 'cancelled'))
            FROM (SELECT event_status(e.cancelled, e.sale_start_date, e.sale_end_date, now()) AS s
                  FROM events AS e) AS x),
        'reservations', (
            SELECT jsonb_build_object(
                'total', count(*),
                'pending', count(*) FILTER (WHERE s = 'pending'),
                'confirmed', count(*) FILTER (WHERE s = 'confirmed'),
                'cancelled', count(*) FILTER (WHERE s = 'cancelled'),
                'expired', count(*) FILTER (WHERE s = 'expired'))
            FROM (SELECT reservation_effective_status(r.status, r.expires_at, now()) AS s
                  FROM reservations AS r) AS x),
        'revenue', (SELECT coalesce(sum(p.amount), 0) FROM payments AS p
                     WHERE p.status = 'confirmed'),
        'seatsSold', (SELECT count(*) FROM seats AS s WHERE s.status = 'reserved'),
        'standingTicketsSold', (
            SELECT coalesce(sum(i.quantity), 0)
            FROM reservation_items AS i
            JOIN reservations AS r ON r.id = i.reservation_id
            WHERE r.status = 'confirmed' AND i.ticket_type_id IS NOT NULL),
        'pendingRefunds', (
            SELECT jsonb_build_object('count', count(*), 'amount', coalesce(sum(o.amount), 0))
            FROM payment_outbox AS o
            WHERE o.status = 'pending' AND o.action = 'refund'));
END;

-- ---------------------------------------------------------------- grants

-- Every admin write goes through the audited functions above: the role keeps no direct write on
-- the catalog or the audit log (the catalog migration granted them before these functions
-- existed), so no code path can change the catalog without its audit row.
REVOKE INSERT, UPDATE, DELETE ON events, ticket_types, seats FROM urr_admin;
REVOKE INSERT ON admin_audit_log FROM urr_admin;
REVOKE EXECUTE ON FUNCTION generate_event_seats(uuid) FROM urr_admin;
GRANT SELECT ON seats TO urr_admin;

REVOKE ALL ON FUNCTION admin_audit(uuid, inet, text, text, text, jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION
    admin_create_event(uuid, inet, jsonb, text, text, text, text, timestamptz, timestamptz,
                       timestamptz, text, text, uuid, jsonb),
    admin_update_event(uuid, inet, jsonb, uuid, text, text, text, text, timestamptz, timestamptz,
                       timestamptz, text, text, uuid),
    admin_cancel_event(uuid, inet, jsonb, uuid, text),
    admin_delete_event(uuid, inet, jsonb, uuid),
    admin_generate_seats(uuid, inet, jsonb, uuid),
    admin_delete_seats(uuid, inet, jsonb, uuid),
    admin_create_ticket_type(uuid, inet, jsonb, uuid, text, int, int, text),
    admin_update_ticket_type(uuid, inet, jsonb, uuid, text, int, int, text),
    admin_set_reservation_status(uuid, inet, jsonb, uuid, text, text),
    admin_dashboard()
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    admin_create_event(uuid, inet, jsonb, text, text, text, text, timestamptz, timestamptz,
                       timestamptz, text, text, uuid, jsonb),
    admin_update_event(uuid, inet, jsonb, uuid, text, text, text, text, timestamptz, timestamptz,
                       timestamptz, text, text, uuid),
    admin_cancel_event(uuid, inet, jsonb, uuid, text),
    admin_delete_event(uuid, inet, jsonb, uuid),
    admin_generate_seats(uuid, inet, jsonb, uuid),
    admin_delete_seats(uuid, inet, jsonb, uuid),
    admin_create_ticket_type(uuid, inet, jsonb, uuid, text, int, int, text),
    admin_update_ticket_type(uuid, inet, jsonb, uuid, text, int, int, text),
    admin_set_reservation_status(uuid, inet, jsonb, uuid, text, text),
    admin_dashboard()
TO urr_admin;
