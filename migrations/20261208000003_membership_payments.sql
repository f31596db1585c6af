-- Paying for a membership through the payments flow (docs/payments.md, "Memberships"), and the
-- points purchases earn.
--
--   payments.payment_type   `reservation` (every payment before this) or `membership`; a
--                           membership payment names its membership, not a reservation
--   payment_prepare_membership / payment_begin_membership
--                           the membership twins of payment_prepare / payment_begin: the same
--                           outcomes and columns, under the membership's row lock; the amount is
--                           always the artist's membership_price
--   payment_record_capture  now dispatches on the kind: a reservation's capture is the previous
--                           function (renamed payment_record_reservation_capture) plus its
--                           TICKET_PURCHASE points; a membership's capture activates it for a
--                           year with its MEMBERSHIP_JOIN / MEMBERSHIP_RENEW points — each in the
--                           transaction that confirms the payment
--   payment_outbox trigger  every refund owed of a confirmed payment takes its points back,
--                           exactly once, whichever path owes it (a buyer's cancel, an operator's,
--                           an event cancel, a refund made at the provider); a refunded
--                           membership payment also ends the membership it activated
--   membership_ledger       captured − refunded − owed = value of the activations, per artist

-- ---------------------------------------------------------------- schema

ALTER TABLE payments ADD COLUMN payment_type text NOT NULL DEFAULT 'reservation';
ALTER TABLE payments ADD COLUMN membership_id uuid;
ALTER TABLE payments ALTER COLUMN reservation_id DROP NOT NULL;
ALTER TABLE payments ADD CONSTRAINT payments_membership_id_fkey FOREIGN KEY (membership_id)
    REFERENCES artist_memberships (id) ON DELETE RESTRICT;
ALTER TABLE payments ADD CONSTRAINT payments_payment_type_check
    CHECK (payment_type IN ('reservation', 'membership'));
-- Each kind names exactly its own purchase.
ALTER TABLE payments ADD CONSTRAINT payments_purchase_check
    CHECK ((payment_type = 'reservation') = (reservation_id IS NOT NULL)
           AND (payment_type = 'membership') = (membership_id IS NOT NULL));
-- One open payment per membership cycle (a renewal is a new cycle: the last one is confirmed).
CREATE UNIQUE INDEX payments_one_open_per_membership ON payments (membership_id)
    WHERE status IN ('pending', 'processing');
CREATE INDEX payments_membership_idx ON payments (membership_id) WHERE membership_id IS NOT NULL;

-- Points a purchase earns (contract §2.2, Q22: hard-wired values, named here once).
CREATE FUNCTION membership_points(p_action text) RETURNS integer
LANGUAGE sql IMMUTABLE
RETURN CASE p_action WHEN 'MEMBERSHIP_JOIN' THEN 200 WHEN 'MEMBERSHIP_RENEW' THEN 200
                     WHEN 'TICKET_PURCHASE' THEN 100 END;

-- ---------------------------------------------------------------- prepare

-- POST /payments/prepare {paymentType:"membership", referenceId, amount}: the caller's pending
-- membership, asked for exactly its artist's price, gets its open payment (created on first
-- call, reused after). Outcomes: prepared | membership_not_found (unknown or another user's) |
-- membership_not_pending | amount_mismatch
CREATE FUNCTION payment_prepare_membership(p_membership_id uuid, p_user_id uuid,
                                           p_amount integer)
RETURNS TABLE (outcome text, payment_id uuid, order_id text, amount integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    m artist_memberships;
    v_price integer;
    p payments;
BEGIN
    SELECT * INTO m FROM artist_memberships
     WHERE id = p_membership_id AND user_id = p_user_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'membership_not_found'::text, NULL::uuid, NULL::text, NULL::integer;
        RETURN;
    END IF;
    SELECT a.membership_price INTO v_price FROM artists AS a WHERE a.id = m.artist_id;
    IF m.status <> 'pending' THEN
        RETURN QUERY SELECT 'membership_not_pending'::text, NULL::uuid, NULL::text, v_price;
        RETURN;
    END IF;
    SELECT * INTO p FROM payments
     WHERE membership_id = m.id AND status IN ('pending', 'processing');
    -- An open payment keeps the price it was prepared at.
    IF p_amount IS DISTINCT FROM coalesce(p.amount, v_price) THEN
        RETURN QUERY SELECT 'amount_mismatch'::text, NULL::uuid, NULL::text,
                            coalesce(p.amount, v_price);
        RETURN;
    END IF;
    IF p.id IS NULL THEN
        INSERT INTO payments (order_id, payment_type, membership_id, user_id, amount,
                              idempotency_key)
        VALUES ('ORD-' || replace(gen_random_uuid()::text, '-', ''), 'membership', m.id,
                m.user_id, v_price, 'charge-' || gen_random_uuid()::text)
        RETURNING * INTO p;
    END IF;
    RETURN QUERY SELECT 'prepared'::text, p.id, p.order_id, p.amount;
END;
$$;

-- ---------------------------------------------------------------- begin (before the provider)

-- POST /payments/process and /payments/confirm for a membership, step one, under the
-- membership's row lock. The outcomes and columns of payment_begin:
--   charge | resend | in_flight | parked | order_mismatch   as for a reservation
--   already_confirmed      the membership is active, paid by the returned payment (a replay)
--   membership_not_found   unknown, or another user's
--   membership_not_pending neither pending nor active (or active but paid otherwise)
CREATE FUNCTION payment_begin_membership(
    p_membership_id uuid, p_user_id uuid, p_method text, p_order_id text,
    p_stale_after_ms integer
)
RETURNS TABLE (outcome text, payment_id uuid, order_id text, amount integer, method text,
               idempotency_key text, payment_key text, approved_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    m artist_memberships;
    p payments;
    v_outcome text := 'charge';
BEGIN
    SELECT * INTO m FROM artist_memberships
     WHERE id = p_membership_id AND user_id = p_user_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'membership_not_found'::text, NULL::uuid, NULL::text, NULL::integer,
                            NULL::text, NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    IF m.status <> 'pending' THEN
        SELECT * INTO p FROM payments
         WHERE id = m.payment_reference_id AND status = 'confirmed'
           AND (p_order_id IS NULL OR order_id = p_order_id);
        IF m.status = 'active' AND FOUND THEN
            RETURN QUERY SELECT 'already_confirmed'::text, p.id, p.order_id, p.amount, p.method,
                                p.idempotency_key, p.payment_key, p.approved_at;
        ELSE
            RETURN QUERY SELECT 'membership_not_pending'::text, NULL::uuid, NULL::text,
                                NULL::integer, NULL::text, NULL::text, NULL::text,
                                NULL::timestamptz;
        END IF;
        RETURN;
    END IF;
    SELECT * INTO p FROM payments
     WHERE membership_id = m.id AND status IN ('pending', 'processing')
       FOR UPDATE;
    IF (FOUND AND p_order_id IS NOT NULL AND p.order_id <> p_order_id)
       OR (NOT FOUND AND p_order_id IS NOT NULL) THEN
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
        -- The amount is the server's: the artist's price now.
        INSERT INTO payments (order_id, payment_type, membership_id, user_id, amount, method,
                              status, idempotency_key, processing_started_at)
        SELECT 'ORD-' || replace(gen_random_uuid()::text, '-', ''), 'membership', m.id,
               m.user_id, a.membership_price, p_method, 'processing',
               'charge-' || gen_random_uuid()::text, now()
          FROM artists AS a WHERE a.id = m.artist_id
        RETURNING * INTO p;
    END IF;
    RETURN QUERY SELECT v_outcome, p.id, p.order_id, p.amount, p.method, p.idempotency_key,
                        NULL::text, NULL::timestamptz;
END;
$$;

-- ---------------------------------------------------------------- the provider captured

-- The previous payment_record_capture (20261207000005_money_safety.sql) becomes the reservation
-- half of the dispatcher below, unchanged.
ALTER FUNCTION payment_record_capture(uuid, text, timestamptz, integer)
    RENAME TO payment_record_reservation_capture;
REVOKE ALL ON FUNCTION payment_record_reservation_capture(uuid, text, timestamptz, integer)
    FROM PUBLIC, urr_payments;

-- A membership's capture, in ONE transaction, under the membership's lock then the payment's
-- (the order of payment_begin_membership):
--   confirmed          the payment confirmed; the membership active from now for a year, paid
--                      by this payment; MEMBERSHIP_JOIN (no points yet) or MEMBERSHIP_RENEW
--   already_confirmed  recorded before (idempotent)
--   refund_pending     the capture cannot activate it (`reason`: amount_mismatch,
--                      membership_not_pending): the payment fails with the capture on record
--                      and the whole captured amount is owed back in payment_outbox
CREATE FUNCTION payment_record_membership_capture(
    p_payment_id uuid, p_payment_key text, p_approved_at timestamptz, p_amount integer
)
RETURNS TABLE (outcome text, reason text, reservation_id uuid, event_id uuid, user_id uuid,
               refund_outbox_id bigint, refund_amount integer)
LANGUAGE plpgsql VOLATILE
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p payments;
    m artist_memberships;
    outbox payment_outbox;
    verdict text;
    v_captured integer;
    v_action text;
BEGIN
    SELECT * INTO p FROM payments WHERE id = p_payment_id;
    SELECT * INTO m FROM artist_memberships WHERE id = p.membership_id FOR UPDATE;
    SELECT * INTO p FROM payments WHERE id = p_payment_id FOR UPDATE;
    IF p.payment_key IS NOT NULL AND p.payment_key <> p_payment_key THEN
        RETURN QUERY SELECT 'not_found'::text, 'payment_key_mismatch'::text, NULL::uuid,
                            NULL::uuid, p.user_id, NULL::bigint, NULL::integer;
        RETURN;
    END IF;
    IF p.status IN ('confirmed', 'refunded') OR p.payment_key IS NOT NULL THEN
        SELECT * INTO outbox FROM payment_outbox AS o
         WHERE o.payment_id = p.id AND o.action = 'refund';
        RETURN QUERY SELECT
            CASE WHEN p.status = 'confirmed' THEN 'already_confirmed'
                 WHEN outbox.status = 'pending' THEN 'refund_pending'
                 ELSE 'already_refunded' END,
            NULL::text, NULL::uuid, NULL::uuid, p.user_id,
            CASE WHEN outbox.status = 'pending' THEN outbox.id END,
            CASE WHEN outbox.status = 'pending' THEN outbox.amount END;
        RETURN;
    END IF;
    v_captured := coalesce(p_amount, p.amount);
    verdict := CASE
        WHEN p_amount IS DISTINCT FROM p.amount THEN 'amount_mismatch'
        WHEN m.status <> 'pending' THEN 'membership_not_pending'
        ELSE 'payable'
    END;
    IF verdict = 'payable' THEN
        UPDATE payments
           SET status = 'confirmed', payment_key = p_payment_key, approved_at = p_approved_at,
               captured_amount = v_captured, failure_code = NULL, updated_at = now()
         WHERE id = p.id;
        -- One year of membership (contract Q22).
        UPDATE artist_memberships
           SET status = 'active', joined_at = now(), expires_at = now() + interval '1 year',
               payment_reference_id = p.id, updated_at = now()
         WHERE id = m.id;
        v_action := CASE WHEN m.points = 0 THEN 'MEMBERSHIP_JOIN' ELSE 'MEMBERSHIP_RENEW' END;
        PERFORM membership_award(m.id, v_action, membership_points(v_action),
                                 CASE v_action WHEN 'MEMBERSHIP_JOIN'
                                      THEN 'Welcome bonus for membership join'
                                      ELSE 'Membership renewed' END,
                                 p.id);
        RETURN QUERY SELECT 'confirmed'::text, NULL::text, NULL::uuid, NULL::uuid, p.user_id,
                            NULL::bigint, NULL::integer;
        RETURN;
    END IF;
    UPDATE payments
       SET status = 'failed', payment_key = p_payment_key, approved_at = p_approved_at,
           captured_amount = v_captured, failure_code = left(verdict, 40), updated_at = now()
     WHERE id = p.id;
    INSERT INTO payment_outbox (payment_id, action, amount, reason, idempotency_key)
    VALUES (p.id, 'refund', v_captured, 'capture without membership: ' || verdict,
            'refund-' || p.id::text)
    ON CONFLICT ON CONSTRAINT payment_outbox_payment_action_key
        DO UPDATE SET reason = payment_outbox.reason
    RETURNING * INTO outbox;
    RETURN QUERY SELECT 'refund_pending'::text, verdict, NULL::uuid, NULL::uuid, p.user_id,
                        outbox.id, outbox.amount;
END;
$$;

-- The provider captured payment `p_payment_id`: the capture of its kind. A confirmed
-- reservation also earns its buyer TICKET_PURCHASE points (100 per reservation) on the event's
-- artist, when they hold an active, unexpired membership of it — in this same transaction.
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
    v_type text;
    c record;
    v_membership uuid;
BEGIN
    SELECT p.payment_type INTO v_type FROM payments AS p WHERE p.id = p_payment_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::uuid, NULL::uuid, NULL::uuid,
                            NULL::bigint, NULL::integer;
        RETURN;
    END IF;
    IF v_type = 'membership' THEN
        RETURN QUERY SELECT * FROM payment_record_membership_capture(
            p_payment_id, p_payment_key, p_approved_at, p_amount);
        RETURN;
    END IF;
    SELECT * INTO c FROM payment_record_reservation_capture(
        p_payment_id, p_payment_key, p_approved_at, p_amount) AS x;
    IF c.outcome = 'confirmed' THEN
        SELECT m.id INTO v_membership
          FROM events AS e
          JOIN artist_memberships AS m ON m.artist_id = e.artist_id AND m.user_id = c.user_id
         WHERE e.id = c.event_id AND m.status = 'active' AND m.expires_at > now()
           FOR UPDATE OF m;
        IF FOUND THEN
            PERFORM membership_award(v_membership, 'TICKET_PURCHASE',
                                     membership_points('TICKET_PURCHASE'),
                                     'Ticket purchase', c.reservation_id);
        END IF;
    END IF;
    RETURN QUERY SELECT c.outcome, c.reason, c.reservation_id, c.event_id, c.user_id,
                        c.refund_outbox_id, c.refund_amount;
END;
$$;

-- ---------------------------------------------------------------- refunds take points back

-- A refund is owed for a payment (`payment_outbox` row inserted). When the payment was the
-- confirmed one of a purchase (not a capture that never became one), the points the purchase
-- earned go back, once (a `*_REVERSED` row with the negative amount, same reference), and the
-- tier is recomputed:
--   a reservation's TICKET_PURCHASE;
--   a membership's activation: its MEMBERSHIP_JOIN / MEMBERSHIP_RENEW, and the membership ends
--   (`cancelled`, expires now) when this payment is the one that activated it.
-- A trigger, because every path that owes a refund (cancel_reservation for buyers, operators
-- and event cancels, payment_refunded_by_provider) writes this row in its own transaction.
CREATE FUNCTION membership_points_on_refund() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    p payments;
    l membership_point_logs;
BEGIN
    SELECT * INTO p FROM payments WHERE id = NEW.payment_id;
    IF p.status <> 'confirmed' THEN
        RETURN NULL;
    END IF;
    IF p.payment_type = 'reservation' THEN
        FOR l IN SELECT * FROM membership_point_logs
                  WHERE reference_id = p.reservation_id AND action_type = 'TICKET_PURCHASE'
        LOOP
            PERFORM membership_award(l.membership_id, 'TICKET_PURCHASE_REVERSED', -l.points,
                                     'Ticket purchase refunded', l.reference_id);
        END LOOP;
    ELSIF p.payment_type = 'membership' THEN
        UPDATE artist_memberships
           SET status = 'cancelled', expires_at = least(expires_at, now()), updated_at = now()
         WHERE id = p.membership_id AND payment_reference_id = p.id AND status = 'active';
        FOR l IN SELECT * FROM membership_point_logs
                  WHERE membership_id = p.membership_id AND reference_id = p.id
                    AND action_type IN ('MEMBERSHIP_JOIN', 'MEMBERSHIP_RENEW')
        LOOP
            PERFORM membership_award(l.membership_id, l.action_type || '_REVERSED', -l.points,
                                     'Membership payment refunded', l.reference_id);
        END LOOP;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER membership_points_on_refund AFTER INSERT ON payment_outbox
    FOR EACH ROW WHEN (NEW.action = 'refund')
    EXECUTE FUNCTION membership_points_on_refund();

-- ---------------------------------------------------------------- ledger

-- Per artist, as payment_ledger is per event: money captured for its memberships and refunded
-- (from payments) against the value of the activations that stand (from the point log: an
-- activation not taken back, at what its payment captured). When every owed refund is
-- delivered, captured − refunded = value_sold.
CREATE VIEW membership_ledger AS
SELECT a.id AS artist_id,
       coalesce(money.captured, 0)::bigint AS captured,
       coalesce(money.refunded, 0)::bigint AS refunded,
       coalesce(money.refund_owed, 0)::bigint AS refund_owed,
       coalesce(sold.value_sold, 0)::bigint AS value_sold,
       (coalesce(money.captured, 0) - coalesce(money.refunded, 0)
        - coalesce(money.refund_owed, 0) = coalesce(sold.value_sold, 0)) AS balanced
  FROM artists AS a
  LEFT JOIN (
      SELECT m.artist_id,
             sum(coalesce(p.captured_amount, p.amount))
                 FILTER (WHERE p.payment_key IS NOT NULL) AS captured,
             sum(p.refund_amount) FILTER (WHERE p.status = 'refunded') AS refunded,
             sum(o.amount) FILTER (WHERE o.status = 'pending') AS refund_owed
        FROM payments AS p
        JOIN artist_memberships AS m ON m.id = p.membership_id
        LEFT JOIN payment_outbox AS o ON o.payment_id = p.id AND o.action = 'refund'
       GROUP BY m.artist_id
  ) AS money ON money.artist_id = a.id
  LEFT JOIN (
      SELECT m.artist_id, sum(coalesce(p.captured_amount, p.amount)) AS value_sold
        FROM membership_point_logs AS l
        JOIN artist_memberships AS m ON m.id = l.membership_id
        JOIN payments AS p ON p.id = l.reference_id
       WHERE l.action_type IN ('MEMBERSHIP_JOIN', 'MEMBERSHIP_RENEW')
         AND NOT EXISTS (SELECT FROM membership_point_logs AS r
                          WHERE r.membership_id = l.membership_id
                            AND r.reference_id = l.reference_id
                            AND r.action_type = l.action_type || '_REVERSED')
       GROUP BY m.artist_id
  ) AS sold ON sold.artist_id = a.id
 WHERE EXISTS (SELECT FROM artist_memberships AS m WHERE m.artist_id = a.id);

-- ---------------------------------------------------------------- grants

REVOKE ALL ON FUNCTION membership_points(text), membership_points_on_refund(),
    payment_record_membership_capture(uuid, text, timestamptz, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION
    payment_prepare_membership(uuid, uuid, integer),
    payment_begin_membership(uuid, uuid, text, text, integer),
    payment_record_capture(uuid, text, timestamptz, integer)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    payment_prepare_membership(uuid, uuid, integer),
    payment_begin_membership(uuid, uuid, text, text, integer),
    payment_record_capture(uuid, text, timestamptz, integer)
TO urr_payments;
GRANT SELECT ON membership_ledger TO urr_payments;
