-- Payments: one SQL function per atomic transition of a payment, the webhook dedupe table, and
-- the ledger view that checks money against what was sold.
--
-- The flow (docs/payments.md):
--   payment_prepare          create or reuse the reservation's pending payment (order id)
--   payment_begin            record the payment as `processing` (with its idempotency key)
--                            BEFORE the provider is asked — or say why it must not be asked
--   payment_record_capture   the provider captured: confirm payment + reservation + seats in one
--                            step, or, when the hold was lost or the reservation expired or was
--                            cancelled meanwhile, owe a refund in payment_outbox (never money
--                            without a ticket)
--   payment_record_failure   the provider declined (or never captured): the payment fails and the
--                            reservation stays payable until it expires
--   payment_refund_delivered the provider confirmed a refund: outbox delivered, payment refunded,
--                            reservation payment_status refunded
--   payment_apply_webhook    a verified webhook, deduplicated by event id in the same transaction
-- Every function is SECURITY DEFINER with a pinned search_path: the `urr_payments` role writes
-- only through them.

-- ---------------------------------------------------------------- schema additions

-- When the payment was last sent to the provider: a `processing` payment older than the
-- provider timeout (plus a margin) has an unknown outcome and is reconciled, never before (its
-- first request may still be in flight).
ALTER TABLE payments ADD COLUMN processing_started_at timestamptz;
ALTER TABLE payments ADD CONSTRAINT payments_processing_started_check
    CHECK (status <> 'processing' OR processing_started_at IS NOT NULL);
-- Payments whose outcome is still unknown, oldest first (reconciliation).
CREATE INDEX payments_processing_idx ON payments (processing_started_at)
    WHERE status = 'processing';

-- Provider webhooks already applied, by the provider's event id: a replayed event changes nothing.
CREATE TABLE payment_webhook_events (
    event_id    text        NOT NULL,
    event_type  text        NOT NULL,
    order_id    text        NOT NULL,
    -- What applying it did (`confirmed`, `refund_pending`, `ignored`, ...), for operators.
    outcome     text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payment_webhook_events_pkey PRIMARY KEY (event_id),
    CONSTRAINT payment_webhook_events_event_id_check CHECK (length(event_id) BETWEEN 1 AND 200)
);

-- ---------------------------------------------------------------- shared checks

-- Whether reservation `p_reservation_id` can still become a ticket right now: pending, not past
-- its expiry, and every seat still locked for it with the fencing token its item was reserved
-- with (a newer holder's write would have replaced the token). Standing items need no check:
-- their quantities were taken at reserve time.
CREATE FUNCTION payment_reservation_is_payable(p_reservation_id uuid) RETURNS text
LANGUAGE sql STABLE
SET search_path = public, pg_temp
RETURN (
    SELECT CASE
        WHEN r.status = 'confirmed' THEN 'confirmed'
        WHEN r.status <> 'pending' OR r.expires_at <= now() THEN 'expired'
        WHEN EXISTS (
            SELECT 1
              FROM reservation_items AS i
              LEFT JOIN seats AS s ON s.id = i.seat_id
             WHERE i.reservation_id = r.id
               AND i.seat_id IS NOT NULL
               AND (s.id IS NULL
                    OR s.status <> 'locked'
                    OR s.reservation_id IS DISTINCT FROM r.id
                    OR s.fencing_token <> i.fencing_token)
        ) THEN 'hold_lost'
        ELSE 'payable'
    END
      FROM reservations AS r
     WHERE r.id = p_reservation_id
);

-- Moves a pending reservation that can no longer be paid out of `pending` (expired: its time
-- ran out or its hold was lost) and returns what it still holds: seats that still carry its id
-- AND its item's fencing token (a seat a newer holder took is not ours to free), and its
-- standing quantities. Exactly once: only the caller that moves it out of `pending` releases.
CREATE FUNCTION payment_expire_reservation(p_reservation_id uuid) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    UPDATE reservations
       SET status = 'expired', cancelled_at = now(), updated_at = now()
     WHERE id = p_reservation_id AND status = 'pending';
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE seats AS s
       SET status = 'available', reservation_id = NULL, held_by = NULL, hold_expires_at = NULL,
           version = s.version + 1, updated_at = now()
      FROM reservation_items AS i
     WHERE i.reservation_id = p_reservation_id
       AND s.id = i.seat_id
       AND s.reservation_id = p_reservation_id
       AND s.fencing_token = i.fencing_token;
    UPDATE ticket_types AS t
       SET available_quantity = t.available_quantity + i.quantity, updated_at = now()
      FROM (SELECT ticket_type_id, sum(quantity)::int AS quantity
              FROM reservation_items
             WHERE reservation_id = p_reservation_id AND ticket_type_id IS NOT NULL
             GROUP BY ticket_type_id) AS i
     WHERE t.id = i.ticket_type_id;
END;
$$;

-- ---------------------------------------------------------------- prepare

-- POST /payments/prepare: the owner's pending, unexpired reservation, asked for exactly its
-- total, gets its open payment (created on first call, reused after). Outcomes:
--   prepared | not_found | expired | already_paid | amount_mismatch
CREATE FUNCTION payment_prepare(p_reservation_id uuid, p_user_id uuid, p_amount integer)
RETURNS TABLE (outcome text, payment_id uuid, order_id text, amount integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    r reservations;
    p payments;
BEGIN
    SELECT * INTO r FROM reservations
     WHERE id = p_reservation_id AND user_id = p_user_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::text, NULL::integer;
        RETURN;
    END IF;
    IF r.status = 'confirmed' THEN
        RETURN QUERY SELECT 'already_paid'::text, NULL::uuid, NULL::text, r.total_amount;
        RETURN;
    END IF;
    IF r.status <> 'pending' OR r.expires_at <= now() THEN
        RETURN QUERY SELECT 'expired'::text, NULL::uuid, NULL::text, r.total_amount;
        RETURN;
    END IF;
    IF p_amount IS DISTINCT FROM r.total_amount THEN
        RETURN QUERY SELECT 'amount_mismatch'::text, NULL::uuid, NULL::text, r.total_amount;
        RETURN;
    END IF;
    SELECT * INTO p FROM payments
     WHERE reservation_id = r.id AND status IN ('pending', 'processing');
    IF NOT FOUND THEN
        INSERT INTO payments (order_id, reservation_id, user_id, amount, idempotency_key)
        VALUES ('ORD-' || replace(gen_random_uuid()::text, '-', ''), r.id, r.user_id,
                r.total_amount, 'charge-' || gen_random_uuid()::text)
        RETURNING * INTO p;
    END IF;
    RETURN QUERY SELECT 'prepared'::text, p.id, p.order_id, p.amount;
END;
$$;

-- ---------------------------------------------------------------- begin (before the provider)

-- POST /payments/process and /payments/confirm, step one, under the reservation's row lock so
-- parallel calls line up. Outcomes (the caller asks the provider only on `charge`):
--   charge            the payment is now `processing`, stamped now; ask the provider with its
--                     idempotency key (a re-sent charge with the same key is never charged twice)
--   in_flight         another call is asking the provider right now: 409, retry shortly
--   already_confirmed the reservation is paid: the caller replays the confirmed payment
--   expired | hold_lost | not_found
--   order_mismatch    p_order_id names no open payment of this reservation (confirm)
-- A `processing` payment older than p_stale_after_ms has an unknown outcome: it is re-sent with
-- the same idempotency key (the provider answers with the original result, or captures now).
CREATE FUNCTION payment_begin(
    p_reservation_id uuid, p_user_id uuid, p_method text, p_order_id text, p_stale_after_ms integer
)
RETURNS TABLE (outcome text, payment_id uuid, order_id text, amount integer, method text,
               idempotency_key text, payment_key text, approved_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    r reservations;
    p payments;
    verdict text;
BEGIN
    SELECT * INTO r FROM reservations
     WHERE id = p_reservation_id AND user_id = p_user_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::text, NULL::integer, NULL::text,
                            NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    verdict := payment_reservation_is_payable(r.id);
    IF verdict = 'confirmed' THEN
        SELECT * INTO p FROM payments WHERE reservation_id = r.id AND status = 'confirmed';
        IF FOUND THEN
            RETURN QUERY SELECT 'already_confirmed'::text, p.id, p.order_id, p.amount, p.method,
                                p.idempotency_key, p.payment_key, p.approved_at;
        ELSE
            RETURN QUERY SELECT 'expired'::text, NULL::uuid, NULL::text, NULL::integer,
                                NULL::text, NULL::text, NULL::text, NULL::timestamptz;
        END IF;
        RETURN;
    END IF;
    IF verdict <> 'payable' THEN
        RETURN QUERY SELECT verdict, NULL::uuid, NULL::text, NULL::integer, NULL::text,
                            NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    SELECT * INTO p FROM payments
     WHERE reservation_id = r.id AND status IN ('pending', 'processing')
       FOR UPDATE;
    IF FOUND AND p_order_id IS NOT NULL AND p.order_id <> p_order_id THEN
        RETURN QUERY SELECT 'order_mismatch'::text, NULL::uuid, NULL::text, NULL::integer,
                            NULL::text, NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    IF NOT FOUND AND p_order_id IS NOT NULL THEN
        RETURN QUERY SELECT 'order_mismatch'::text, NULL::uuid, NULL::text, NULL::integer,
                            NULL::text, NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    IF FOUND AND p.status = 'processing'
       AND p.processing_started_at > now() - make_interval(secs => p_stale_after_ms / 1000.0) THEN
        RETURN QUERY SELECT 'in_flight'::text, p.id, p.order_id, p.amount, p.method,
                            p.idempotency_key, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    IF FOUND THEN
        UPDATE payments
           SET status = 'processing', method = coalesce(payments.method, p_method),
               processing_started_at = now(), updated_at = now()
         WHERE id = p.id
        RETURNING * INTO p;
    ELSE
        INSERT INTO payments (order_id, reservation_id, user_id, amount, method, status,
                              idempotency_key, processing_started_at)
        VALUES ('ORD-' || replace(gen_random_uuid()::text, '-', ''), r.id, r.user_id,
                r.total_amount, p_method, 'processing', 'charge-' || gen_random_uuid()::text,
                now())
        RETURNING * INTO p;
    END IF;
    RETURN QUERY SELECT 'charge'::text, p.id, p.order_id, p.amount, p.method, p.idempotency_key,
                        NULL::text, NULL::timestamptz;
END;
$$;

-- ---------------------------------------------------------------- the provider captured

-- The provider says payment `p_payment_id` was captured as `p_payment_key` (from the process
-- answer, a webhook, or a status query). ONE transaction decides what the capture becomes:
--   confirmed          payment confirmed; reservation confirmed (payment_status completed,
--                      payment_method); every seat `locked` → `reserved` — only if the
--                      reservation is pending, unexpired, and every seat still carries its id
--                      and its item's fencing token
--   already_confirmed  this capture was recorded before (idempotent)
--   refund_pending     the capture cannot become a ticket (hold lost, expired, cancelled, or
--                      another payment already paid): the reservation leaves `pending` and a
--                      refund is owed in payment_outbox, in this same transaction
--   amount_mismatch    the provider captured another amount than the payment's: refunded too
--   not_found
-- `reason` says which; refund_outbox_id/refund_amount name the owed refund.
CREATE FUNCTION payment_record_capture(
    p_payment_id uuid, p_payment_key text, p_approved_at timestamptz, p_amount integer
)
RETURNS TABLE (outcome text, reason text, reservation_id uuid, event_id uuid, user_id uuid,
               refund_outbox_id bigint, refund_amount integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p payments;
    r reservations;
    verdict text;
    outbox payment_outbox;
BEGIN
    SELECT * INTO p FROM payments WHERE id = p_payment_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::uuid, NULL::uuid, NULL::uuid,
                            NULL::bigint, NULL::integer;
        RETURN;
    END IF;
    -- Reservation first, then payment: the same lock order as payment_begin and
    -- cancel_reservation, so they never deadlock.
    SELECT * INTO r FROM reservations WHERE id = p.reservation_id FOR UPDATE;
    SELECT * INTO p FROM payments WHERE id = p_payment_id FOR UPDATE;
    IF p.payment_key IS NOT NULL AND p.payment_key <> p_payment_key THEN
        -- A second, different capture of one order: never expected from the provider; refuse to
        -- overwrite the first one (operators see the log line).
        RETURN QUERY SELECT 'not_found'::text, 'payment_key_mismatch'::text, r.id, r.event_id,
                            r.user_id, NULL::bigint, NULL::integer;
        RETURN;
    END IF;
    IF p.status IN ('confirmed', 'refunded') OR p.payment_key IS NOT NULL THEN
        SELECT * INTO outbox FROM payment_outbox AS o
         WHERE o.payment_id = p.id AND o.action = 'refund';
        RETURN QUERY SELECT
            CASE WHEN p.status = 'confirmed' THEN 'already_confirmed'
                 WHEN outbox.status = 'pending' THEN 'refund_pending'
                 ELSE 'already_refunded' END,
            NULL::text, r.id, r.event_id, r.user_id,
            CASE WHEN outbox.status = 'pending' THEN outbox.id END,
            CASE WHEN outbox.status = 'pending' THEN outbox.amount END;
        RETURN;
    END IF;

    verdict := CASE
        WHEN p_amount IS DISTINCT FROM p.amount THEN 'amount_mismatch'
        WHEN EXISTS (SELECT 1 FROM payments AS o
                      WHERE o.reservation_id = r.id AND o.status = 'confirmed') THEN 'already_paid'
        ELSE payment_reservation_is_payable(r.id)
    END;

    IF verdict = 'payable' THEN
        UPDATE payments
           SET status = 'confirmed', payment_key = p_payment_key, approved_at = p_approved_at,
               failure_code = NULL, updated_at = now()
         WHERE id = p.id;
        UPDATE reservations
           SET status = 'confirmed', confirmed_at = now(), payment_status = 'completed',
               payment_method = coalesce(p.method, 'card'), updated_at = now()
         WHERE id = r.id;
        UPDATE seats AS s
           SET status = 'reserved', held_by = NULL, hold_expires_at = NULL,
               version = s.version + 1, updated_at = now()
          FROM reservation_items AS i
         WHERE i.reservation_id = r.id AND s.id = i.seat_id;
        RETURN QUERY SELECT 'confirmed'::text, NULL::text, r.id, r.event_id, r.user_id,
                            NULL::bigint, NULL::integer;
        RETURN;
    END IF;

    -- Captured, but no ticket can come of it: keep the capture on record (captured money is
    -- always visible), fail the payment, and owe the whole captured amount back.
    UPDATE payments
       SET status = 'failed', payment_key = p_payment_key, approved_at = p_approved_at,
           failure_code = left(verdict, 40), updated_at = now()
     WHERE id = p.id;
    IF verdict IN ('hold_lost', 'expired') THEN
        PERFORM payment_expire_reservation(r.id);
    END IF;
    INSERT INTO payment_outbox (payment_id, action, amount, reason, idempotency_key)
    VALUES (p.id, 'refund', coalesce(p_amount, p.amount), 'capture without ticket: ' || verdict,
            'refund-' || p.id::text)
    ON CONFLICT ON CONSTRAINT payment_outbox_payment_action_key
        DO UPDATE SET reason = payment_outbox.reason
    RETURNING * INTO outbox;
    RETURN QUERY SELECT 'refund_pending'::text, verdict, r.id, r.event_id, r.user_id, outbox.id,
                        outbox.amount;
END;
$$;

-- ---------------------------------------------------------------- the provider did not capture

-- The provider declined payment `p_payment_id` (or says it never captured it): a `processing`
-- payment fails with `p_code`; the reservation stays payable until it expires. Outcomes:
--   failed | not_processing (it was already resolved: nothing changes)
CREATE FUNCTION payment_record_failure(p_payment_id uuid, p_code text)
RETURNS TABLE (outcome text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
BEGIN ATOMIC
    WITH failed AS (
        UPDATE payments
           SET status = 'failed', failure_code = left(coalesce(p_code, 'declined'), 40),
               updated_at = now()
         WHERE id = p_payment_id AND status IN ('pending', 'processing') AND payment_key IS NULL
        RETURNING 1
    )
    SELECT CASE WHEN EXISTS (SELECT 1 FROM failed) THEN 'failed' ELSE 'not_processing' END;
END;

-- ---------------------------------------------------------------- refunds

-- Outbox row `p_outbox_id` was confirmed by the provider: delivered, the payment refunded, and
-- its reservation's payment_status refunded (when the reservation had completed its payment),
-- in one step. Outcomes: delivered | already_delivered | not_found
CREATE FUNCTION payment_refund_delivered(p_outbox_id bigint)
RETURNS TABLE (outcome text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o payment_outbox;
    p payments;
BEGIN
    SELECT * INTO o FROM payment_outbox WHERE id = p_outbox_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text;
        RETURN;
    END IF;
    IF o.status = 'delivered' THEN
        RETURN QUERY SELECT 'already_delivered'::text;
        RETURN;
    END IF;
    UPDATE payment_outbox SET status = 'delivered', delivered_at = now(),
                              attempts = attempts + 1, last_error = NULL
     WHERE id = o.id;
    UPDATE payments
       SET status = 'refunded', refund_amount = o.amount, refunded_at = now(), updated_at = now()
     WHERE id = o.payment_id
    RETURNING * INTO p;
    UPDATE reservations
       SET payment_status = 'refunded', updated_at = now()
     WHERE id = p.reservation_id AND payment_status = 'completed'
       AND NOT EXISTS (SELECT 1 FROM payments AS other
                        WHERE other.reservation_id = p.reservation_id
                          AND other.status = 'confirmed');
    RETURN QUERY SELECT 'delivered'::text;
END;
$$;

-- A delivery attempt of outbox row `p_outbox_id` failed: count it and keep the error for
-- operators; the row stays pending for the next delivery.
CREATE FUNCTION payment_refund_failed(p_outbox_id bigint, p_error text) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
BEGIN ATOMIC
    UPDATE payment_outbox
       SET attempts = attempts + 1, last_error = left(p_error, 500)
     WHERE id = p_outbox_id AND status = 'pending';
END;

-- ---------------------------------------------------------------- reconciliation work list

-- What is owed to or unknown at the provider, oldest first, at most p_limit of each kind:
--   refund   an undelivered outbox row (deliver it)
--   unknown  a `processing` payment older than p_stale_after_ms (ask the provider)
-- p_user_id narrows it to one user's (a user's own next call resolves their rows); NULL is the
-- operator's delivery pass.
CREATE FUNCTION payment_pending_work(p_user_id uuid, p_stale_after_ms integer, p_limit integer)
RETURNS TABLE (kind text, outbox_id bigint, payment_id uuid, order_id text, payment_key text,
               amount integer, idempotency_key text, reason text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
BEGIN ATOMIC
    (SELECT 'refund', o.id, p.id, p.order_id, p.payment_key, o.amount, o.idempotency_key,
            o.reason
       FROM payment_outbox AS o
       JOIN payments AS p ON p.id = o.payment_id
      WHERE o.status = 'pending' AND (p_user_id IS NULL OR p.user_id = p_user_id)
      ORDER BY o.created_at
      LIMIT p_limit)
    UNION ALL
    (SELECT 'unknown', NULL::bigint, p.id, p.order_id, NULL::text, p.amount, p.idempotency_key,
            NULL::text
       FROM payments AS p
      WHERE p.status = 'processing'
        AND p.processing_started_at <= now() - make_interval(secs => p_stale_after_ms / 1000.0)
        AND (p_user_id IS NULL OR p.user_id = p_user_id)
      ORDER BY p.processing_started_at
      LIMIT p_limit);
END;

-- ---------------------------------------------------------------- webhooks

-- A webhook whose signature the component verified, applied once: the event id is recorded in
-- the same transaction as its effect, so a replay changes nothing. `p_status`:
--   DONE      the provider captured: as payment_record_capture
--   CANCELED  the provider refunded: the payment's pending refund is delivered
--   ABORTED   the provider declined / gave up: as payment_record_failure
-- Outcomes: duplicate | unknown_order | ignored | the inner function's outcome.
CREATE FUNCTION payment_apply_webhook(
    p_event_id text, p_event_type text, p_order_id text, p_payment_key text, p_status text,
    p_amount integer, p_approved_at timestamptz
)
RETURNS TABLE (outcome text, reservation_id uuid, event_id uuid, user_id uuid,
               refund_outbox_id bigint, refund_amount integer, payment_key text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p payments;
    captured record;
    result text;
    o payment_outbox;
BEGIN
    INSERT INTO payment_webhook_events (event_id, event_type, order_id, outcome)
    VALUES (p_event_id, left(p_event_type, 100), left(p_order_id, 200), 'applying')
    ON CONFLICT ON CONSTRAINT payment_webhook_events_pkey DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'duplicate'::text, NULL::uuid, NULL::uuid, NULL::uuid, NULL::bigint,
                            NULL::integer, NULL::text;
        RETURN;
    END IF;
    SELECT * INTO p FROM payments WHERE order_id = p_order_id;
    IF NOT FOUND THEN
        result := 'unknown_order';
    ELSIF p_status = 'DONE' AND p_payment_key IS NOT NULL THEN
        SELECT * INTO captured
          FROM payment_record_capture(p.id, p_payment_key, coalesce(p_approved_at, now()),
                                      p_amount) AS c;
        UPDATE payment_webhook_events SET outcome = captured.outcome WHERE event_id = p_event_id;
        RETURN QUERY SELECT captured.outcome, captured.reservation_id, captured.event_id,
                            captured.user_id, captured.refund_outbox_id, captured.refund_amount,
                            p_payment_key;
        RETURN;
    ELSIF p_status = 'CANCELED' THEN
        SELECT * INTO o FROM payment_outbox
         WHERE payment_id = p.id AND action = 'refund' AND status = 'pending';
        IF FOUND THEN
            PERFORM payment_refund_delivered(o.id);
            result := 'refund_delivered';
        ELSE
            result := 'ignored';
        END IF;
    ELSIF p_status = 'ABORTED' THEN
        SELECT f.outcome INTO result FROM payment_record_failure(p.id, 'provider_aborted') AS f;
    ELSE
        result := 'ignored';
    END IF;
    UPDATE payment_webhook_events SET outcome = result WHERE event_id = p_event_id;
    RETURN QUERY SELECT result, p.reservation_id, NULL::uuid, p.user_id, NULL::bigint,
                        NULL::integer, p.payment_key;
END;
$$;

-- ---------------------------------------------------------------- ledger

-- Per event: money captured and refunded (from payments) against the value sold (from seat and
-- ticket-type prices of confirmed reservations' items — never from the payments table). When
-- every owed refund is delivered, captured − refunded = value_sold; `refund_owed` is what the
-- outbox still has to deliver. A row for every event with any reservation.
CREATE VIEW payment_ledger AS
SELECT e.id AS event_id,
       coalesce(money.captured, 0)::bigint AS captured,
       coalesce(money.refunded, 0)::bigint AS refunded,
       coalesce(owed.refund_owed, 0)::bigint AS refund_owed,
       coalesce(sold.value_sold, 0)::bigint AS value_sold,
       (coalesce(money.captured, 0) - coalesce(money.refunded, 0) - coalesce(owed.refund_owed, 0)
        = coalesce(sold.value_sold, 0)) AS balanced
  FROM events AS e
  LEFT JOIN (
      SELECT r.event_id,
             sum(p.amount) FILTER (WHERE p.payment_key IS NOT NULL) AS captured,
             sum(p.refund_amount) FILTER (WHERE p.status = 'refunded') AS refunded
        FROM payments AS p
        JOIN reservations AS r ON r.id = p.reservation_id
       GROUP BY r.event_id
  ) AS money ON money.event_id = e.id
  LEFT JOIN (
      SELECT r.event_id, sum(o.amount) AS refund_owed
        FROM payment_outbox AS o
        JOIN payments AS p ON p.id = o.payment_id
        JOIN reservations AS r ON r.id = p.reservation_id
       WHERE o.status = 'pending'
       GROUP BY r.event_id
  ) AS owed ON owed.event_id = e.id
  LEFT JOIN (
      SELECT r.event_id,
             sum(CASE WHEN i.seat_id IS NOT NULL THEN s.price
                      ELSE t.price * i.quantity END) AS value_sold
        FROM reservations AS r
        JOIN reservation_items AS i ON i.reservation_id = r.id
        LEFT JOIN seats AS s ON s.id = i.seat_id
        LEFT JOIN ticket_types AS t ON t.id = i.ticket_type_id
       WHERE r.status = 'confirmed'
       GROUP BY r.event_id
  ) AS sold ON sold.event_id = e.id
 WHERE EXISTS (SELECT 1 FROM reservations AS r WHERE r.event_id = e.id);

-- ---------------------------------------------------------------- grants

REVOKE ALL ON FUNCTION payment_reservation_is_payable(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION payment_expire_reservation(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION payment_prepare(uuid, uuid, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION payment_begin(uuid, uuid, text, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION payment_record_capture(uuid, text, timestamptz, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION payment_record_failure(uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION payment_refund_delivered(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION payment_refund_failed(bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION payment_pending_work(uuid, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION payment_apply_webhook(text, text, text, text, text, integer, timestamptz)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    payment_prepare(uuid, uuid, integer),
    payment_begin(uuid, uuid, text, text, integer),
    payment_record_capture(uuid, text, timestamptz, integer),
    payment_record_failure(uuid, text),
    payment_refund_delivered(bigint),
    payment_refund_failed(bigint, text),
    payment_pending_work(uuid, integer, integer),
    payment_apply_webhook(text, text, text, text, text, integer, timestamptz)
    TO urr_payments;
-- Reads: a user's own payments (the component filters by user), what a pending refund needs
-- for its delivery, and the ledger for operators. Reservations are read only inside the
-- functions above.
GRANT SELECT ON payments, payment_outbox, payment_ledger TO urr_payments;
