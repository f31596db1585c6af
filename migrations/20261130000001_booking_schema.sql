-- Booking and payments: the tables every booking-side component agrees on.
--
-- The transitions (reserve, expire, confirm, cancel, refund) are SQL functions in the migrations
-- that follow, one function per atomic transition; this file only fixes the shape and the
-- invariants no writer may break:
--   * a seat belongs to at most one live reservation (seats.reservation_id + the reserve function);
--   * at most one confirmed payment per reservation, and at most one in-flight one;
--   * every provider action (refund, void) has its own idempotency key and is recorded in the
--     outbox in the same transaction as the state change that needs it;
--   * idempotency records are unique per (user, key) and live at least 24 hours.
-- Users belong to the auth schema: user ids carry no foreign key across that boundary.

-- ---------------------------------------------------------------- reservations

CREATE TABLE reservations (
    id                 uuid        NOT NULL DEFAULT gen_random_uuid(),
    -- Human-facing number printed on the ticket, e.g. `R20261130-7KQ2M9XA`.
    reservation_number text        NOT NULL,
    user_id            uuid        NOT NULL,
    event_id           uuid        NOT NULL,
    -- `seated` (reservation_items name seats) or `standing` (items name ticket types).
    kind               text        NOT NULL,
    total_amount       integer     NOT NULL,
    -- pending → confirmed (paid) | cancelled | expired. An expired-but-not-yet-marked pending
    -- reservation is one whose expires_at has passed: readers treat it as expired at that instant.
    status             text        NOT NULL DEFAULT 'pending',
    -- pending (nothing captured) → completed (captured) → refunded.
    payment_status     text        NOT NULL DEFAULT 'pending',
    payment_method     text,
    expires_at         timestamptz NOT NULL,
    confirmed_at       timestamptz,
    cancelled_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reservations_pkey PRIMARY KEY (id),
    CONSTRAINT reservations_reservation_number_key UNIQUE (reservation_number),
    CONSTRAINT reservations_event_id_fkey FOREIGN KEY (event_id)
        REFERENCES events (id) ON DELETE RESTRICT,
    CONSTRAINT reservations_kind_check CHECK (kind IN ('seated', 'standing')),
    CONSTRAINT reservations_total_amount_check CHECK (total_amount >= 0),
    CONSTRAINT reservations_status_check
        CHECK (status IN ('pending', 'confirmed', 'cancelled', 'expired')),
    CONSTRAINT reservations_payment_status_check
        CHECK (payment_status IN ('pending', 'completed', 'refunded')),
    CONSTRAINT reservations_confirmed_check
        CHECK ((status = 'confirmed') = (confirmed_at IS NOT NULL) OR status = 'cancelled'),
    CONSTRAINT reservations_paid_check
        CHECK (payment_status = 'pending' OR confirmed_at IS NOT NULL)
);
-- "My reservations", newest first.
CREATE INDEX reservations_user_created_idx ON reservations (user_id, created_at DESC, id DESC);
-- The per-person cap counts a user's live reservations for one event.
CREATE INDEX reservations_user_event_live_idx ON reservations (user_id, event_id)
    WHERE status IN ('pending', 'confirmed');
-- Admin listing by status, and event cancel (all reservations of an event).
CREATE INDEX reservations_event_status_idx ON reservations (event_id, status);
CREATE INDEX reservations_status_created_idx ON reservations (status, created_at DESC, id DESC);

CREATE TABLE reservation_items (
    id             uuid    NOT NULL DEFAULT gen_random_uuid(),
    reservation_id uuid    NOT NULL,
    -- Exactly one of seat_id (seated) and ticket_type_id (standing) is set.
    seat_id        uuid,
    ticket_type_id uuid,
    quantity       integer NOT NULL,
    unit_price     integer NOT NULL,
    -- The hold's fencing token the reserve wrote on the seat row: confirming the payment checks
    -- that the seat still carries it (a newer holder's write would have replaced it).
    fencing_token  bigint,
    subtotal       integer GENERATED ALWAYS AS (quantity * unit_price) STORED,
    CONSTRAINT reservation_items_pkey PRIMARY KEY (id),
    CONSTRAINT reservation_items_reservation_id_fkey FOREIGN KEY (reservation_id)
        REFERENCES reservations (id) ON DELETE CASCADE,
    -- A seat that was ever sold cannot be deleted from under its ticket.
    CONSTRAINT reservation_items_seat_id_fkey FOREIGN KEY (seat_id)
        REFERENCES seats (id) ON DELETE RESTRICT,
    CONSTRAINT reservation_items_ticket_type_id_fkey FOREIGN KEY (ticket_type_id)
        REFERENCES ticket_types (id) ON DELETE RESTRICT,
    CONSTRAINT reservation_items_target_check
        CHECK ((seat_id IS NULL) <> (ticket_type_id IS NULL)),
    CONSTRAINT reservation_items_quantity_check
        CHECK (quantity BETWEEN 1 AND 10 AND (seat_id IS NULL OR quantity = 1)),
    CONSTRAINT reservation_items_unit_price_check CHECK (unit_price >= 0),
    CONSTRAINT reservation_items_fencing_token_check
        CHECK ((seat_id IS NULL) = (fencing_token IS NULL))
);
CREATE INDEX reservation_items_reservation_id_idx ON reservation_items (reservation_id);
CREATE INDEX reservation_items_seat_id_idx ON reservation_items (seat_id) WHERE seat_id IS NOT NULL;
CREATE INDEX reservation_items_ticket_type_id_idx ON reservation_items (ticket_type_id)
    WHERE ticket_type_id IS NOT NULL;

-- The seat's current reservation (the column exists since the catalog migration).
ALTER TABLE seats ADD CONSTRAINT seats_reservation_id_fkey FOREIGN KEY (reservation_id)
    REFERENCES reservations (id) ON DELETE SET NULL;

-- ---------------------------------------------------------------- idempotency

-- One row per (user, Idempotency-Key), written by the same SQL function as the effect it guards.
-- `request_hash` covers the route and the canonical body: the same key with another request is a
-- 422. Rows are kept at least 24 hours (expires_at); a later call may reuse an expired key.
CREATE TABLE idempotency_keys (
    user_id         uuid        NOT NULL,
    key             text        NOT NULL,
    -- The operation the key was first used for (`reserve`, `reserve_standing`, `pay`, ...).
    scope           text        NOT NULL,
    request_hash    bytea       NOT NULL,
    -- The response the first call produced, replayed verbatim.
    response_status integer     NOT NULL,
    response_body   jsonb       NOT NULL,
    resource_id     uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key),
    CONSTRAINT idempotency_keys_key_check CHECK (length(key) BETWEEN 1 AND 200),
    CONSTRAINT idempotency_keys_scope_check CHECK (scope ~ '^[a-z][a-z_]{0,39}$'),
    CONSTRAINT idempotency_keys_hash_check CHECK (length(request_hash) = 32),
    CONSTRAINT idempotency_keys_retention_check
        CHECK (expires_at >= created_at + interval '24 hours')
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- ---------------------------------------------------------------- payments

CREATE TABLE payments (
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    -- The merchant order id the client and the provider see.
    order_id        text        NOT NULL,
    reservation_id  uuid        NOT NULL,
    user_id         uuid        NOT NULL,
    amount          integer     NOT NULL,
    method          text,
    -- pending (prepared) → processing (recorded BEFORE the provider is asked) → confirmed | failed;
    -- confirmed → refunded.
    status          text        NOT NULL DEFAULT 'pending',
    -- The provider's reference for the capture (`paymentKey` in the API).
    payment_key     text,
    -- Sent to the provider with the capture, so a retried capture is never charged twice.
    idempotency_key text        NOT NULL,
    failure_code    text,
    refund_amount   integer,
    refunded_at     timestamptz,
    approved_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payments_pkey PRIMARY KEY (id),
    CONSTRAINT payments_order_id_key UNIQUE (order_id),
    CONSTRAINT payments_payment_key_key UNIQUE (payment_key),
    CONSTRAINT payments_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT payments_reservation_id_fkey FOREIGN KEY (reservation_id)
        REFERENCES reservations (id) ON DELETE RESTRICT,
    CONSTRAINT payments_amount_check CHECK (amount > 0),
    CONSTRAINT payments_method_check
        CHECK (method IS NULL OR method IN ('naver_pay', 'kakao_pay', 'bank_transfer', 'card')),
    CONSTRAINT payments_status_check
        CHECK (status IN ('pending', 'processing', 'confirmed', 'failed', 'refunded')),
    CONSTRAINT payments_confirmed_check
        CHECK (status NOT IN ('confirmed', 'refunded') OR (payment_key IS NOT NULL AND approved_at IS NOT NULL)),
    CONSTRAINT payments_refund_check
        CHECK ((status = 'refunded') = (refunded_at IS NOT NULL)
               AND (refund_amount IS NULL OR refund_amount BETWEEN 0 AND amount))
);
-- At most one confirmed payment per reservation: a second capture can never become a ticket.
CREATE UNIQUE INDEX payments_one_confirmed_per_reservation ON payments (reservation_id)
    WHERE status = 'confirmed';
-- At most one payment in flight per reservation: prepare/process reuse it.
CREATE UNIQUE INDEX payments_one_open_per_reservation ON payments (reservation_id)
    WHERE status IN ('pending', 'processing');
CREATE INDEX payments_reservation_id_idx ON payments (reservation_id);
CREATE INDEX payments_user_created_idx ON payments (user_id, created_at DESC, id DESC);

-- Provider actions owed after a commit: refunds of captured payments (cancel, event cancel, a
-- capture that lost its seats) and voids. Written in the SAME transaction as the change that owes
-- them, delivered right after commit, and re-delivered until the provider confirms (its
-- idempotency key makes redelivery safe).
CREATE TABLE payment_outbox (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    payment_id      uuid        NOT NULL,
    action          text        NOT NULL,
    amount          integer     NOT NULL,
    reason          text        NOT NULL,
    idempotency_key text        NOT NULL,
    -- pending → delivered (the provider confirmed); `attempts`/`last_error` record failures.
    status          text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    CONSTRAINT payment_outbox_pkey PRIMARY KEY (id),
    CONSTRAINT payment_outbox_payment_id_fkey FOREIGN KEY (payment_id)
        REFERENCES payments (id) ON DELETE RESTRICT,
    CONSTRAINT payment_outbox_idempotency_key_key UNIQUE (idempotency_key),
    -- A payment is refunded (or voided) at most once.
    CONSTRAINT payment_outbox_payment_action_key UNIQUE (payment_id, action),
    CONSTRAINT payment_outbox_action_check CHECK (action IN ('refund', 'void')),
    CONSTRAINT payment_outbox_amount_check CHECK (amount >= 0),
    CONSTRAINT payment_outbox_status_check CHECK (status IN ('pending', 'delivered')),
    CONSTRAINT payment_outbox_delivered_check
        CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
    CONSTRAINT payment_outbox_attempts_check CHECK (attempts >= 0)
);
-- Undelivered actions, oldest first.
CREATE INDEX payment_outbox_pending_idx ON payment_outbox (created_at) WHERE status = 'pending';

-- ---------------------------------------------------------------- shared rules

-- Seat row states, which every booking function keeps:
--   available  reservation_id, held_by, hold_expires_at NULL
--   locked     held for a pending reservation: reservation_id = it, held_by = its user,
--              hold_expires_at = its expires_at, fencing_token = the hold's token
--   reserved   sold: reservation_id = the confirmed reservation
-- A `locked` seat whose hold_expires_at has passed is free at that instant: the reserve function
-- takes it over (marking the old reservation expired). fencing_token only ever grows.
-- Seats and standing quantities are returned by whoever moves a reservation OUT of `pending` or
-- `confirmed` (an UPDATE ... WHERE status = ... RETURNING), so they come back exactly once.

-- The status a reader should show at instant `at`: a pending reservation past its expiry is
-- expired even before any writer has marked it.
CREATE FUNCTION reservation_effective_status(status text, expires_at timestamptz, at timestamptz)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN status = 'pending' AND expires_at <= at THEN 'expired' ELSE status END;

-- Returns a reservation's seats and standing quantities to sale. Called only by a function that
-- has just moved the reservation out of a live status (see above), inside its transaction.
CREATE FUNCTION release_reservation_inventory(p_reservation_id uuid) RETURNS void
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    UPDATE seats
       SET status = 'available', reservation_id = NULL, held_by = NULL, hold_expires_at = NULL,
           version = version + 1, updated_at = now()
     WHERE reservation_id = p_reservation_id;
    UPDATE ticket_types AS t
       SET available_quantity = t.available_quantity + i.quantity, updated_at = now()
      FROM (SELECT ticket_type_id, sum(quantity)::int AS quantity
              FROM reservation_items
             WHERE reservation_id = p_reservation_id AND ticket_type_id IS NOT NULL
             GROUP BY ticket_type_id) AS i
     WHERE t.id = i.ticket_type_id;
END;

-- Cancels one reservation in ONE transaction — the boundary between booking and payments:
--   pending (not yet expired) → cancelled, inventory released            outcome `cancelled`
--   pending but past expiry  → expired, inventory released               outcome `expired`
--   confirmed                → cancelled, inventory released, and a refund of its confirmed
--                              payment recorded in payment_outbox          outcome `refund_pending`
--   cancelled / expired      → nothing changes                           outcome `already_cancelled`
--   unknown, or another user's (when p_user_id is given)                  outcome `not_found`
-- p_user_id NULL means the caller is an operator path (admin, event cancel) that checked rights.
-- The refund is DELIVERED by the payments component after commit (outbox); payments.status
-- becomes `refunded` and reservations.payment_status `refunded` only when the provider confirms.
CREATE FUNCTION cancel_reservation(p_reservation_id uuid, p_user_id uuid, p_reason text)
RETURNS TABLE (outcome text, refund_outbox_id bigint, refund_amount integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    r reservations;
    p payments;
BEGIN
    SELECT * INTO r FROM reservations
     WHERE id = p_reservation_id AND (p_user_id IS NULL OR user_id = p_user_id)
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::bigint, NULL::integer;
        RETURN;
    END IF;
    IF r.status IN ('cancelled', 'expired') THEN
        RETURN QUERY SELECT 'already_cancelled'::text, NULL::bigint, NULL::integer;
        RETURN;
    END IF;
    IF r.status = 'pending' THEN
        UPDATE reservations
           SET status = CASE WHEN expires_at <= now() THEN 'expired' ELSE 'cancelled' END,
               cancelled_at = now(), updated_at = now()
         WHERE id = r.id
        RETURNING status INTO r.status;
        PERFORM release_reservation_inventory(r.id);
        RETURN QUERY SELECT r.status, NULL::bigint, NULL::integer;
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
        RETURN QUERY SELECT 'cancelled'::text, NULL::bigint, NULL::integer;
        RETURN;
    END IF;
    RETURN QUERY
    INSERT INTO payment_outbox (payment_id, action, amount, reason, idempotency_key)
    VALUES (p.id, 'refund', p.amount, left(coalesce(p_reason, 'cancelled'), 200),
            'refund-' || p.id::text)
    ON CONFLICT ON CONSTRAINT payment_outbox_payment_action_key
        DO UPDATE SET reason = payment_outbox.reason
    RETURNING 'refund_pending'::text, payment_outbox.id, payment_outbox.amount;
END;
$$;

REVOKE ALL ON FUNCTION cancel_reservation(uuid, uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION release_reservation_inventory(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cancel_reservation(uuid, uuid, text) TO urr_payments, urr_admin;
