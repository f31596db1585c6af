-- Money safety: the holes an outside review found, closed where the decision is made.
--
--   1. A reserve racing an event cancel: the reserve functions read the event without a lock,
--      so a reserve that started while `admin_cancel_event` was in flight answered 201 for a
--      cancelled event. `booking_event_refusal` now locks the event row FOR SHARE before it
--      decides (a cancel holds it FOR UPDATE until commit, so the reserve waits and then sees
--      the cancel), and no payment path sells a reservation of a cancelled event:
--      `payment_reservation_is_payable` says `event_cancelled`, `payment_prepare` refuses, and a
--      capture that happens anyway is refunded and its reservation cancelled.
--   4. A stale re-send: `payment_begin` tells a first charge (`charge`: nothing was ever sent,
--      so a send that never left may fail the payment) from a re-send of a payment whose
--      earlier attempt may be captured (`resend`: never failed on our side alone), and a
--      lookup that finds nothing fails a payment only while no re-send was stamped since
--      (`payment_record_not_captured`).
--   5. One bad row stopping reconciliation: a row that fails in a way no retry mends is parked
--      with its reason (`payment_park_work`), counted, shown on the dashboard, and skipped by
--      the work list, so the rest proceed. A capture of another amount than the order's is
--      recorded as captured (`captured_amount`) and refunded in full: the ledger counts what
--      was taken, and the refund bound is what was taken.
--   7. A refund made at the provider (its console, a chargeback) arrives as a CANCELED webhook
--      with no refund owed on our side: the reservation is cancelled, its seats or quantities
--      freed, the refund recorded as delivered, and counted (`refunds_by_provider`).

-- ---------------------------------------------------------------- schema

-- What the provider actually captured, when it said (NULL: the order's amount).
ALTER TABLE payments ADD COLUMN captured_amount integer;
ALTER TABLE payments ADD CONSTRAINT payments_captured_amount_check
    CHECK (captured_amount IS NULL OR captured_amount > 0);
-- A refund gives back at most what was captured.
ALTER TABLE payments DROP CONSTRAINT payments_refund_check;
ALTER TABLE payments ADD CONSTRAINT payments_refund_check
    CHECK ((status = 'refunded') = (refunded_at IS NOT NULL)
           AND (refund_amount IS NULL
                OR refund_amount BETWEEN 0 AND coalesce(captured_amount, amount)));

-- Parked work: set aside by the reconciliation pass after a failure no retry mends (a broken
-- invariant, a provider answer our records cannot hold). Skipped by `payment_pending_work`
-- until an operator has looked (`payment_unpark_work`).
ALTER TABLE payments ADD COLUMN parked_at timestamptz;
ALTER TABLE payments ADD COLUMN parked_reason text;
ALTER TABLE payments ADD CONSTRAINT payments_parked_check
    CHECK ((parked_at IS NULL) = (parked_reason IS NULL));
ALTER TABLE payment_outbox ADD COLUMN parked_at timestamptz;
ALTER TABLE payment_outbox ADD COLUMN parked_reason text;
ALTER TABLE payment_outbox ADD CONSTRAINT payment_outbox_parked_check
    CHECK ((parked_at IS NULL) = (parked_reason IS NULL));

-- Captures recorded before this migration that took another amount than the order's owe
-- exactly the outbox amount back (that is what they captured).
UPDATE payments AS p
   SET captured_amount = o.amount
  FROM payment_outbox AS o
 WHERE o.payment_id = p.id AND o.action = 'refund' AND p.payment_key IS NOT NULL
   AND p.failure_code = 'amount_mismatch' AND o.amount > 0;

INSERT INTO business_counter_totals (counter)
VALUES ('work_parked'), ('refunds_by_provider')
ON CONFLICT (counter) DO NOTHING;

-- ---------------------------------------------------------------- the event, locked

-- Why an event cannot be booked now: NULL when it is on sale, else `event_not_found` or
-- `not_on_sale` (Postgres' clock decides). Locks the event row FOR SHARE first and keeps the
-- lock until the reserve commits: a concurrent cancel (which holds the row FOR UPDATE until it
-- commits) makes this wait and then read the cancelled row, and a cancel that starts later
-- waits for the reserve and then finds its reservation. Shared locks do not wait on each
-- other, so reserves of one event still run side by side.
CREATE OR REPLACE FUNCTION booking_event_refusal(p_event_id uuid) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    e events;
BEGIN
    SELECT * INTO e FROM events WHERE id = p_event_id FOR SHARE;
    IF NOT FOUND THEN
        RETURN 'event_not_found';
    END IF;
    IF event_status(e.cancelled, e.sale_start_date, e.sale_end_date, now()) <> 'on_sale' THEN
        RETURN 'not_on_sale';
    END IF;
    RETURN NULL;
END;
$$;

-- ---------------------------------------------------------------- payable

-- Whether reservation `p_reservation_id` can still become a ticket right now: pending, of an
-- event that is not cancelled, not past its expiry, and every seat still locked for it with the
-- fencing token its item was reserved with.
CREATE OR REPLACE FUNCTION payment_reservation_is_payable(p_reservation_id uuid) RETURNS text
LANGUAGE sql STABLE
SET search_path = public, pg_temp
RETURN (
    SELECT CASE
        WHEN r.status = 'confirmed' THEN 'confirmed'
        WHEN e.cancelled THEN 'event_cancelled'
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
      JOIN events AS e ON e.id = r.event_id
     WHERE r.id = p_reservation_id
);

-- ---------------------------------------------------------------- prepare

-- POST /payments/prepare: the owner's pending, unexpired reservation of an event that is not
-- cancelled, asked for exactly its total, gets its open payment (created on first call, reused
-- after). Outcomes: prepared | not_found | expired | already_paid | amount_mismatch |
-- event_cancelled
CREATE OR REPLACE FUNCTION payment_prepare(p_reservation_id uuid, p_user_id uuid, p_amount integer)
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
    IF (SELECT e.cancelled FROM events AS e WHERE e.id = r.event_id) THEN
        RETURN QUERY SELECT 'event_cancelled'::text, NULL::uuid, NULL::text, r.total_amount;
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
-- parallel calls line up. Outcomes (the caller asks the provider only on `charge` / `resend`):
--   charge            the payment is now `processing`, stamped now, and was never sent before:
--                     if the request cannot leave this host, nothing was captured and the
--                     payment may fail at once
--   resend            a `processing` payment older than p_stale_after_ms (its outcome unknown)
--                     is sent again with the same idempotency key (the provider answers with
--                     the original result, or captures now). Its earlier attempt may be
--                     captured: only the provider's answer (or reconciliation) may fail it
--   in_flight         another call is asking the provider right now: 409, retry shortly
--   parked            the payment is set aside for an operator (see payment_park_work)
--   already_confirmed the reservation is paid: the caller replays the confirmed payment
--   expired | hold_lost | event_cancelled | not_found
--   order_mismatch    p_order_id names no open payment of this reservation (confirm)
CREATE OR REPLACE FUNCTION payment_begin(
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
    v_outcome text := 'charge';
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
    IF FOUND AND p.parked_at IS NOT NULL THEN
        RETURN QUERY SELECT 'parked'::text, p.id, p.order_id, p.amount, p.method,
                            p.idempotency_key, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    IF FOUND AND p.status = 'processing'
       AND p.processing_started_at > now() - make_interval(secs => p_stale_after_ms / 1000.0) THEN
        RETURN QUERY SELECT 'in_flight'::text, p.id, p.order_id, p.amount, p.method,
                            p.idempotency_key, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    IF FOUND THEN
        IF p.status = 'processing' THEN
            v_outcome := 'resend';
        END IF;
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
    RETURN QUERY SELECT v_outcome, p.id, p.order_id, p.amount, p.method, p.idempotency_key,
                        NULL::text, NULL::timestamptz;
END;
$$;

-- ---------------------------------------------------------------- the provider captured

-- The provider says payment `p_payment_id` was captured as `p_payment_key` for `p_amount`
-- (from the process answer, a webhook, or a status query). ONE transaction decides what the
-- capture becomes:
--   confirmed          payment confirmed; reservation confirmed; every seat `locked` →
--                      `reserved` — only if the reservation is payable (pending, unexpired,
--                      its event not cancelled, every seat still carrying its token) and the
--                      provider took exactly the order's amount
--   already_confirmed  this capture was recorded before (idempotent)
--   refund_pending     the capture cannot become a ticket (`reason`: amount_mismatch,
--                      already_paid, hold_lost, expired, event_cancelled): the payment keeps
--                      the capture on record, fails, and the WHOLE captured amount is owed
--                      back in payment_outbox, in this same transaction; a reservation whose
--                      time ran out or whose hold was lost expires, one of a cancelled event is
--                      cancelled, and what they still hold goes back on sale
--   not_found
CREATE OR REPLACE FUNCTION payment_record_capture(
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
    v_captured integer;
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

    -- A capture that does not say its amount is not taken as the order's: refunded, never sold.
    v_captured := coalesce(p_amount, p.amount);
    verdict := CASE
        WHEN p_amount IS DISTINCT FROM p.amount THEN 'amount_mismatch'
        WHEN EXISTS (SELECT 1 FROM payments AS o
                      WHERE o.reservation_id = r.id AND o.status = 'confirmed') THEN 'already_paid'
        ELSE payment_reservation_is_payable(r.id)
    END;

    IF verdict = 'payable' THEN
        UPDATE payments
           SET status = 'confirmed', payment_key = p_payment_key, approved_at = p_approved_at,
               captured_amount = v_captured, failure_code = NULL, updated_at = now()
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
    -- always visible, at the amount actually taken), fail the payment, and owe it all back.
    UPDATE payments
       SET status = 'failed', payment_key = p_payment_key, approved_at = p_approved_at,
           captured_amount = v_captured, failure_code = left(verdict, 40), updated_at = now()
     WHERE id = p.id;
    IF verdict IN ('hold_lost', 'expired') THEN
        PERFORM payment_expire_reservation(r.id);
    ELSIF verdict = 'event_cancelled' THEN
        UPDATE reservations
           SET status = 'cancelled', cancelled_at = now(), updated_at = now()
         WHERE id = r.id AND status = 'pending';
        IF FOUND THEN
            PERFORM release_reservation_inventory(r.id);
        END IF;
    END IF;
    INSERT INTO payment_outbox (payment_id, action, amount, reason, idempotency_key)
    VALUES (p.id, 'refund', v_captured, 'capture without ticket: ' || verdict,
            'refund-' || p.id::text)
    ON CONFLICT ON CONSTRAINT payment_outbox_payment_action_key
        DO UPDATE SET reason = payment_outbox.reason
    RETURNING * INTO outbox;
    RETURN QUERY SELECT 'refund_pending'::text, verdict, r.id, r.event_id, r.user_id, outbox.id,
                        outbox.amount;
END;
$$;

-- ---------------------------------------------------------------- reconciliation work list

-- What is owed to or unknown at the provider, oldest first, at most p_limit of each kind,
-- parked rows left out:
--   refund   an undelivered outbox row (deliver it)
--   unknown  a `processing` payment older than p_stale_after_ms (ask the provider)
-- p_user_id narrows it to one user's (a user's own next call resolves their rows); NULL is the
-- operator's delivery pass.
CREATE OR REPLACE FUNCTION payment_pending_work(p_user_id uuid, p_stale_after_ms integer,
                                                p_limit integer)
RETURNS TABLE (kind text, outbox_id bigint, payment_id uuid, order_id text, payment_key text,
               amount integer, idempotency_key text, reason text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
BEGIN ATOMIC
    (SELECT 'refund', o.id, p.id, p.order_id, p.payment_key, o.amount, o.idempotency_key,
            o.reason
       FROM payment_outbox AS o
       JOIN payments AS p ON p.id = o.payment_id
      WHERE o.status = 'pending' AND o.parked_at IS NULL
        AND (p_user_id IS NULL OR p.user_id = p_user_id)
      ORDER BY o.created_at
      LIMIT p_limit)
    UNION ALL
    (SELECT 'unknown', NULL::bigint, p.id, p.order_id, NULL::text, p.amount, p.idempotency_key,
            NULL::text
       FROM payments AS p
      WHERE p.status = 'processing' AND p.parked_at IS NULL
        AND p.processing_started_at <= now() - make_interval(secs => p_stale_after_ms / 1000.0)
        AND (p_user_id IS NULL OR p.user_id = p_user_id)
      ORDER BY p.processing_started_at
      LIMIT p_limit);
END;

-- Sets one work row aside with `p_reason` after a failure no retry mends: the outbox row
-- `p_outbox_id` (a refund that cannot be recorded), else the `processing` payment
-- `p_payment_id` (an outcome that cannot be recorded). Counted once (`work_parked`).
-- Outcomes: parked | not_parked (already parked, or resolved meanwhile).
CREATE FUNCTION payment_park_work(p_outbox_id bigint, p_payment_id uuid, p_reason text)
RETURNS TABLE (outcome text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF p_outbox_id IS NOT NULL THEN
        UPDATE payment_outbox
           SET parked_at = now(), parked_reason = left(coalesce(p_reason, 'unknown'), 500)
         WHERE id = p_outbox_id AND status = 'pending' AND parked_at IS NULL;
    ELSE
        UPDATE payments
           SET parked_at = now(), parked_reason = left(coalesce(p_reason, 'unknown'), 500),
               updated_at = now()
         WHERE id = p_payment_id AND status = 'processing' AND parked_at IS NULL;
    END IF;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_parked'::text;
        RETURN;
    END IF;
    INSERT INTO business_counter_log (counter, amount) VALUES ('work_parked', 1);
    RETURN QUERY SELECT 'parked'::text;
END;
$$;

-- The provider says payment `p_payment_id`, whose outcome was unknown, was never captured:
-- it fails, but only while it is still stale (no re-send has been stamped since the caller
-- read its work list: a re-send in flight may still capture). Outcomes: failed |
-- not_processing (resolved, re-sent or parked meanwhile: nothing changes).
CREATE FUNCTION payment_record_not_captured(p_payment_id uuid, p_stale_after_ms integer)
RETURNS TABLE (outcome text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
BEGIN ATOMIC
    WITH failed AS (
        UPDATE payments
           SET status = 'failed', failure_code = 'not_captured', updated_at = now()
         WHERE id = p_payment_id AND status = 'processing' AND payment_key IS NULL
           AND parked_at IS NULL
           AND processing_started_at <= now() - make_interval(secs => p_stale_after_ms / 1000.0)
        RETURNING 1
    )
    SELECT CASE WHEN EXISTS (SELECT 1 FROM failed) THEN 'failed' ELSE 'not_processing' END;
END;

-- For operators, once the cause is mended: every parked row goes back on the work list.
-- Returns how many.
CREATE FUNCTION payment_unpark_work() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
BEGIN ATOMIC
    WITH outbox AS (
        UPDATE payment_outbox SET parked_at = NULL, parked_reason = NULL
         WHERE parked_at IS NOT NULL
        RETURNING 1
    ), payment AS (
        UPDATE payments SET parked_at = NULL, parked_reason = NULL, updated_at = now()
         WHERE parked_at IS NOT NULL
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM payment);
END;

-- ---------------------------------------------------------------- webhooks

-- A webhook whose signature the component verified, applied once: the event id is recorded in
-- the same transaction as its effect, so a replay changes nothing. `p_status`:
--   DONE      the provider captured: as payment_record_capture
--   CANCELED  the provider refunded: as payment_refunded_by_provider (our owed refund is
--             delivered; with none owed, a refund made at the provider — its console, a
--             chargeback — cancels the sale and is recorded as delivered)
--   ABORTED   the provider declined / gave up: as payment_record_failure
-- Outcomes: duplicate | unknown_order | ignored | the inner function's outcome.
CREATE OR REPLACE FUNCTION payment_apply_webhook(
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
        result := payment_refunded_by_provider(p.id);
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

-- The provider says it refunded payment `p_payment_id`. Decided under the reservation's and
-- the payment's locks (a cancel may be committing its own refund right now):
--   refund_delivered      our owed refund is the one the provider made: delivered
--   ignored               our refund was delivered already, or nothing was captured
--   parked                we still think it is `processing`: refunded before we recorded its
--                         capture; set aside for an operator, and never re-sent (a re-send
--                         would replay the capture and sell a ticket whose money went back)
--   refunded_by_provider  a confirmed payment the provider refunded on its own (its console, a
--                         chargeback): its reservation is cancelled and what it held goes back
--                         on sale, and the refund is recorded and delivered at once, so the
--                         ledger balances
CREATE FUNCTION payment_refunded_by_provider(p_payment_id uuid) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    p payments;
    o payment_outbox;
BEGIN
    SELECT * INTO p FROM payments WHERE id = p_payment_id;
    -- Reservation first, then payment: the lock order of every payment function.
    PERFORM 1 FROM reservations WHERE id = p.reservation_id FOR UPDATE;
    SELECT * INTO p FROM payments WHERE id = p_payment_id FOR UPDATE;
    SELECT * INTO o FROM payment_outbox WHERE payment_id = p.id AND action = 'refund';
    IF FOUND THEN
        IF o.status = 'pending' THEN
            PERFORM payment_refund_delivered(o.id);
            RETURN 'refund_delivered';
        END IF;
        RETURN 'ignored';
    END IF;
    IF p.status = 'processing' THEN
        PERFORM payment_park_work(NULL, p.id,
                                  'refunded at the provider before its capture was recorded');
        RETURN 'parked';
    END IF;
    IF p.status <> 'confirmed' THEN
        RETURN 'ignored';
    END IF;
    UPDATE reservations
       SET status = 'cancelled', cancelled_at = now(), updated_at = now()
     WHERE id = p.reservation_id AND status = 'confirmed';
    IF FOUND THEN
        PERFORM release_reservation_inventory(p.reservation_id);
    END IF;
    INSERT INTO payment_outbox (payment_id, action, amount, reason, idempotency_key)
    VALUES (p.id, 'refund', coalesce(p.captured_amount, p.amount), 'refunded at the provider',
            'refund-' || p.id::text)
    RETURNING * INTO o;
    PERFORM payment_refund_delivered(o.id);
    INSERT INTO business_counter_log (counter, amount) VALUES ('refunds_by_provider', 1);
    RETURN 'refunded_by_provider';
END;
$$;

-- ---------------------------------------------------------------- ledger

-- As before, with money captured counted at what the provider actually took.
CREATE OR REPLACE VIEW payment_ledger AS
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
             sum(coalesce(p.captured_amount, p.amount))
                 FILTER (WHERE p.payment_key IS NOT NULL) AS captured,
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

-- ---------------------------------------------------------------- dashboard

-- As before, plus `parkedWork`: the reconciliation rows set aside for an operator, by kind.
CREATE OR REPLACE FUNCTION admin_dashboard() RETURNS jsonb
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
            WHERE o.status = 'pending' AND o.action = 'refund'),
        'parkedWork', jsonb_build_object(
            'refunds', (SELECT count(*) FROM payment_outbox AS o
                         WHERE o.parked_at IS NOT NULL AND o.status = 'pending'),
            'payments', (SELECT count(*) FROM payments AS p
                          WHERE p.parked_at IS NOT NULL AND p.status = 'processing')));
END;

-- ---------------------------------------------------------------- grants

REVOKE ALL ON FUNCTION payment_park_work(bigint, uuid, text), payment_unpark_work(),
    payment_refunded_by_provider(uuid), payment_record_not_captured(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION payment_park_work(bigint, uuid, text),
    payment_record_not_captured(uuid, integer) TO urr_payments;
