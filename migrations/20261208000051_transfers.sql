-- Transfers: reselling a confirmed ticket to another user (docs/fan.md, "Transfers").
--
--   ticket_transfers        one row per listing (URR's column names, which the web reads);
--                           at most one `listed` row per reservation (a partial unique index)
--   transfer_payouts        what the platform owes a seller for a sale: total_price − fee,
--                           written in the sale's transaction, once per listing
--   payments.transfer_id    a third kind of payment, `transfer`, names its listing
--   transfer_list / transfer_cancel
--                           the `transfers` component's two writes, one transaction each
--   payment_prepare_transfer / payment_begin_transfer
--                           the transfer twins of payment_prepare / payment_begin (and of the
--                           membership ones): the buyer's open payment at the listing's price
--   payment_record_capture  now also dispatches `transfer`: THE SALE, in one transaction —
--                           payment confirmed, the reservation's owner becomes the buyer, the
--                           payout recorded, the listing `completed`; a capture that can no
--                           longer buy (listing gone, event cancelled or started) fails and
--                           its whole amount is owed back in payment_outbox, exactly once
--   cancel_reservation      a cancel refunds the CURRENT owner what they paid (after a sale:
--                           the buyer's transfer payment, never the seller's original one) and
--                           voids the reservation's live listing, in its transaction; every
--                           operator path (admin status change, event cancel) goes through it
--   payment_refunded_by_provider  the same current-owner rule for a refund made at the provider
--   payment_refund_delivered      marks `refunded` the reservation nobody holds by a payment now
--   payment_ledger          a resold ticket's original payment stays sold (the seller sold it on)
--   transfer_ledger         per event: captured − refunded − owed = value of the sales that
--                           stand, and payouts = sales − fees
--
-- A sale MOVES the reservation (`reservations.user_id` becomes the buyer) rather than issuing a
-- new one: seats, standing quantities, fencing tokens and the reservation number all hang off
-- the reservation's id, so nothing else has to change and no instant exists in which the
-- ticket has zero or two reservations. The seller's original payment stays with the
-- reservation as it was; it is no longer refundable (the seller was paid out instead).

-- ---------------------------------------------------------------- schema

CREATE TABLE ticket_transfers (
    id                   uuid        NOT NULL DEFAULT gen_random_uuid(),
    reservation_id       uuid        NOT NULL,
    seller_id            uuid        NOT NULL,
    -- Set by the sale only.
    buyer_id             uuid,
    -- events.artist_id when listed (no foreign key, as in URR V7).
    artist_id            uuid,
    -- The face value: reservations.total_amount. The seller cannot set a price (the cap).
    original_price       integer     NOT NULL,
    transfer_fee         integer     NOT NULL,
    transfer_fee_percent integer     NOT NULL,
    -- What the buyer pays: original_price + transfer_fee.
    total_price          integer     NOT NULL,
    -- listed → completed (sold) | cancelled (by the seller, or voided with its reservation or
    -- event; a listing whose event has started reads as cancelled).
    status               text        NOT NULL DEFAULT 'listed',
    created_at           timestamptz NOT NULL DEFAULT now(),
    completed_at         timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ticket_transfers_pkey PRIMARY KEY (id),
    CONSTRAINT ticket_transfers_reservation_id_fkey FOREIGN KEY (reservation_id)
        REFERENCES reservations (id) ON DELETE RESTRICT,
    CONSTRAINT ticket_transfers_status_check
        CHECK (status IN ('listed', 'completed', 'cancelled')),
    CONSTRAINT ticket_transfers_price_check
        CHECK (original_price > 0 AND transfer_fee >= 0
               AND total_price = original_price + transfer_fee),
    CONSTRAINT ticket_transfers_fee_percent_check
        CHECK (transfer_fee_percent BETWEEN 0 AND 100),
    CONSTRAINT ticket_transfers_sold_check
        CHECK ((status = 'completed') = (buyer_id IS NOT NULL AND completed_at IS NOT NULL)),
    CONSTRAINT ticket_transfers_buyer_check CHECK (buyer_id IS DISTINCT FROM seller_id)
);
-- A reservation is never listed twice at once (URR's check-then-insert, Q10).
CREATE UNIQUE INDEX ticket_transfers_one_listed_idx ON ticket_transfers (reservation_id)
    WHERE status = 'listed';
-- Browse (newest first, optionally by artist), and the seller's own list.
CREATE INDEX ticket_transfers_listed_idx ON ticket_transfers (created_at DESC, id DESC)
    WHERE status = 'listed';
CREATE INDEX ticket_transfers_status_artist_idx ON ticket_transfers (status, artist_id);
CREATE INDEX ticket_transfers_seller_idx ON ticket_transfers (seller_id, created_at DESC);
CREATE INDEX ticket_transfers_reservation_idx ON ticket_transfers (reservation_id);

CREATE TABLE transfer_payouts (
    transfer_id uuid        NOT NULL,
    seller_id   uuid        NOT NULL,
    -- The buyer's payment that made the sale.
    payment_id  uuid        NOT NULL,
    -- total_price − transfer_fee = original_price: the platform keeps the fee.
    amount      integer     NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transfer_payouts_pkey PRIMARY KEY (transfer_id),
    CONSTRAINT transfer_payouts_transfer_id_fkey FOREIGN KEY (transfer_id)
        REFERENCES ticket_transfers (id) ON DELETE RESTRICT,
    CONSTRAINT transfer_payouts_payment_id_fkey FOREIGN KEY (payment_id)
        REFERENCES payments (id) ON DELETE RESTRICT,
    CONSTRAINT transfer_payouts_payment_id_key UNIQUE (payment_id),
    CONSTRAINT transfer_payouts_amount_check CHECK (amount > 0)
);
CREATE INDEX transfer_payouts_seller_idx ON transfer_payouts (seller_id);

ALTER TABLE payments ADD COLUMN transfer_id uuid;
ALTER TABLE payments ADD CONSTRAINT payments_transfer_id_fkey FOREIGN KEY (transfer_id)
    REFERENCES ticket_transfers (id) ON DELETE RESTRICT;
ALTER TABLE payments DROP CONSTRAINT payments_payment_type_check;
ALTER TABLE payments ADD CONSTRAINT payments_payment_type_check
    CHECK (payment_type IN ('reservation', 'membership', 'transfer'));
ALTER TABLE payments DROP CONSTRAINT payments_purchase_check;
ALTER TABLE payments ADD CONSTRAINT payments_purchase_check
    CHECK ((payment_type = 'reservation') = (reservation_id IS NOT NULL)
           AND (payment_type = 'membership') = (membership_id IS NOT NULL)
           AND (payment_type = 'transfer') = (transfer_id IS NOT NULL));
-- One open payment per (listing, buyer): a purchase attempt; prepare/process reuse it.
CREATE UNIQUE INDEX payments_one_open_per_transfer_buyer ON payments (transfer_id, user_id)
    WHERE status IN ('pending', 'processing');
-- A listing is sold once: a second confirmed payment can never exist, whatever a function does.
CREATE UNIQUE INDEX payments_one_confirmed_per_transfer ON payments (transfer_id)
    WHERE status = 'confirmed';

-- ---------------------------------------------------------------- rules

-- The fee percent a seller pays by tier (contract §4.2): SILVER 10, GOLD 5, DIAMOND 5; an
-- event without an artist (p_tier NULL) 10. The same table is urr_fan::transfer::fee_percent.
CREATE FUNCTION transfer_fee_percent(p_tier text) RETURNS integer
LANGUAGE sql IMMUTABLE
RETURN CASE p_tier WHEN 'GOLD' THEN 5 WHEN 'DIAMOND' THEN 5 ELSE 10 END;

-- Whether event `e` can still change hands: not cancelled and not started.
CREATE FUNCTION transfer_event_open(e events) RETURNS boolean
LANGUAGE sql STABLE
RETURN NOT e.cancelled AND e.event_date > now();

-- The tier of `p_user_id`'s active, unexpired membership of `p_artist_id` (NULL: none).
CREATE FUNCTION transfer_member_tier(p_user_id uuid, p_artist_id uuid) RETURNS text
LANGUAGE sql STABLE
SET search_path = public, pg_temp
RETURN (SELECT m.tier FROM artist_memberships AS m
         WHERE m.user_id = p_user_id AND m.artist_id = p_artist_id
           AND membership_effective_status(m.status, m.expires_at, now()) = 'active');

-- ---------------------------------------------------------------- reads

-- One listing as every read shows it (T of contract §4.4): every column, the event's title,
-- venue and date, the artist's name and image, the seats by label. `status` is what a reader
-- must see now: a listing whose event was cancelled or has started is `cancelled`. `buyer_id`
-- only to the seller and the buyer (`p_viewer`; NULL: nobody).
CREATE FUNCTION transfer_json(t ticket_transfers, p_viewer uuid) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = public, pg_temp
RETURN (
    SELECT jsonb_build_object(
        'id', t.id, 'reservation_id', t.reservation_id, 'seller_id', t.seller_id,
        'buyer_id', CASE WHEN p_viewer IN (t.seller_id, t.buyer_id) THEN t.buyer_id END,
        'artist_id', t.artist_id, 'original_price', t.original_price,
        'transfer_fee', t.transfer_fee, 'transfer_fee_percent', t.transfer_fee_percent,
        'total_price', t.total_price,
        'status', CASE WHEN t.status = 'listed' AND NOT transfer_event_open(e)
                       THEN 'cancelled' ELSE t.status END,
        'created_at', booking_iso(t.created_at), 'completed_at', booking_iso(t.completed_at),
        'updated_at', booking_iso(t.updated_at),
        'event_title', e.title, 'venue', e.venue, 'event_date', booking_iso(e.event_date),
        'poster_image_url', e.poster_image_url,
        'artist_name', coalesce(a.name, nullif(e.artist_name, '')),
        'artist_image_url', a.image_url,
        'seats', (SELECT string_agg(s.seat_label, ', '
                                    ORDER BY s.section, s.row_number, s.seat_number)
                    FROM reservation_items AS i JOIN seats AS s ON s.id = i.seat_id
                   WHERE i.reservation_id = t.reservation_id))
      FROM reservations AS r
      JOIN events AS e ON e.id = r.event_id
      LEFT JOIN artists AS a ON a.id = t.artist_id
     WHERE r.id = t.reservation_id
);

-- GET /transfers: listings still for sale (listed, event open), newest first, optionally of one
-- artist; `total` and one page.
CREATE FUNCTION transfers_browse(p_viewer uuid, p_artist_id uuid, p_limit integer,
                                 p_offset integer)
RETURNS TABLE (total int8, transfers jsonb)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
    WITH open AS (
        SELECT t FROM ticket_transfers AS t
          JOIN reservations AS r ON r.id = t.reservation_id
          JOIN events AS e ON e.id = r.event_id
         WHERE t.status = 'listed' AND transfer_event_open(e)
           AND (p_artist_id IS NULL OR t.artist_id = p_artist_id)
    )
    SELECT (SELECT count(*) FROM open),
           coalesce((SELECT jsonb_agg(transfer_json(page.t, p_viewer)
                                      ORDER BY (page.t).created_at DESC, (page.t).id DESC)
                       FROM (SELECT o.t FROM open AS o
                              ORDER BY (o.t).created_at DESC, (o.t).id DESC
                              LIMIT p_limit OFFSET p_offset) AS page), '[]'::jsonb);
$$;

-- GET /transfers/my: the caller's listings as seller, every status, newest first.
CREATE FUNCTION transfers_of_seller(p_user_id uuid, p_limit integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
RETURN coalesce((
    SELECT jsonb_agg(transfer_json(page.t, p_user_id) - 'artist_image_url'
                     ORDER BY (page.t).created_at DESC, (page.t).id DESC)
      FROM (SELECT t FROM ticket_transfers AS t WHERE t.seller_id = p_user_id
             ORDER BY t.created_at DESC, t.id DESC LIMIT p_limit) AS page), '[]'::jsonb);

-- GET /transfers/{id}: any listing, to any signed-in user (NULL: unknown).
CREATE FUNCTION transfer_detail(p_transfer_id uuid, p_viewer uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
RETURN (SELECT transfer_json(t, p_viewer) FROM ticket_transfers AS t WHERE t.id = p_transfer_id);

-- ---------------------------------------------------------------- list, cancel

-- POST /transfers {reservationId}: lists the caller's whole reservation at face value, under the
-- reservation's lock (so two lists of it are serialized and the second sees the first).
-- Outcomes: listed (with `transfer`) | reservation_not_found (unknown or another user's) |
-- reservation_not_transferable (not confirmed, or free) | event_not_transferable (cancelled or
-- started) | already_listed | membership_required (the event's artist, and no active
-- membership of it)
CREATE FUNCTION transfer_list(p_user_id uuid, p_reservation_id uuid)
RETURNS TABLE (outcome text, transfer jsonb)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    r reservations;
    e events;
    t ticket_transfers;
    v_tier text;
    v_percent integer;
    v_fee integer;
BEGIN
    SELECT * INTO r FROM reservations
     WHERE id = p_reservation_id AND user_id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'reservation_not_found'::text, NULL::jsonb;
        RETURN;
    END IF;
    IF r.status <> 'confirmed' OR r.total_amount <= 0 THEN
        RETURN QUERY SELECT 'reservation_not_transferable'::text, NULL::jsonb;
        RETURN;
    END IF;
    SELECT * INTO e FROM events WHERE id = r.event_id;
    IF NOT transfer_event_open(e) THEN
        RETURN QUERY SELECT 'event_not_transferable'::text, NULL::jsonb;
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM ticket_transfers
                WHERE reservation_id = r.id AND status = 'listed') THEN
        RETURN QUERY SELECT 'already_listed'::text, NULL::jsonb;
        RETURN;
    END IF;
    IF e.artist_id IS NOT NULL THEN
        v_tier := transfer_member_tier(p_user_id, e.artist_id);
        IF v_tier IS NULL THEN
            RETURN QUERY SELECT 'membership_required'::text, NULL::jsonb;
            RETURN;
        END IF;
    END IF;
    v_percent := transfer_fee_percent(v_tier);
    -- Floor of price × percent / 100, in bigint (a total may reach 10^9).
    v_fee := (r.total_amount::bigint * v_percent / 100)::integer;
    INSERT INTO ticket_transfers (reservation_id, seller_id, artist_id, original_price,
                                  transfer_fee, transfer_fee_percent, total_price)
    VALUES (r.id, p_user_id, e.artist_id, r.total_amount, v_fee, v_percent,
            r.total_amount + v_fee)
    RETURNING * INTO t;
    RETURN QUERY SELECT 'listed'::text, transfer_json(t, p_user_id);
END;
$$;

-- POST /transfers/{id}/cancel: the seller ends their listing while it is listed.
-- Outcomes: cancelled | transfer_not_found | not_seller | not_listed (sold, cancelled, or voided)
CREATE FUNCTION transfer_cancel(p_user_id uuid, p_transfer_id uuid) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    t ticket_transfers;
BEGIN
    SELECT * INTO t FROM ticket_transfers WHERE id = p_transfer_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'transfer_not_found';
    END IF;
    IF t.seller_id <> p_user_id THEN
        RETURN 'not_seller';
    END IF;
    IF t.status <> 'listed' THEN
        RETURN 'not_listed';
    END IF;
    UPDATE ticket_transfers SET status = 'cancelled', updated_at = now() WHERE id = t.id;
    RETURN 'cancelled';
END;
$$;

-- ---------------------------------------------------------------- buying

-- Why `p_user_id` may not buy listing `t` now (NULL: they may): own_transfer |
-- transfer_unavailable (not listed, its event cancelled or started) | buyer_membership_required
CREATE FUNCTION transfer_purchase_refusal(t ticket_transfers, p_user_id uuid) RETURNS text
LANGUAGE sql STABLE
SET search_path = public, pg_temp
RETURN CASE
    WHEN t.seller_id = p_user_id THEN 'own_transfer'
    WHEN t.status <> 'listed' THEN 'transfer_unavailable'
    WHEN NOT (SELECT transfer_event_open(e) FROM reservations AS r
                JOIN events AS e ON e.id = r.event_id WHERE r.id = t.reservation_id)
        THEN 'transfer_unavailable'
    WHEN t.artist_id IS NOT NULL AND transfer_member_tier(p_user_id, t.artist_id) IS NULL
        THEN 'buyer_membership_required'
END;

-- POST /payments/prepare {paymentType:"transfer", referenceId, amount}: the buyer's open payment
-- of the listing, asked for exactly its total_price (created on first call, reused after).
-- Outcomes: prepared | transfer_not_found | already_paid (the caller bought it) |
-- own_transfer | transfer_unavailable | buyer_membership_required | amount_mismatch
CREATE FUNCTION payment_prepare_transfer(p_transfer_id uuid, p_user_id uuid, p_amount integer)
RETURNS TABLE (outcome text, payment_id uuid, order_id text, amount integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t ticket_transfers;
    p payments;
    v_refusal text;
BEGIN
    SELECT * INTO t FROM ticket_transfers WHERE id = p_transfer_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'transfer_not_found'::text, NULL::uuid, NULL::text, NULL::integer;
        RETURN;
    END IF;
    IF t.status = 'completed' AND t.buyer_id = p_user_id THEN
        RETURN QUERY SELECT 'already_paid'::text, NULL::uuid, NULL::text, t.total_price;
        RETURN;
    END IF;
    v_refusal := transfer_purchase_refusal(t, p_user_id);
    IF v_refusal IS NOT NULL THEN
        RETURN QUERY SELECT v_refusal, NULL::uuid, NULL::text, t.total_price;
        RETURN;
    END IF;
    SELECT * INTO p FROM payments
     WHERE transfer_id = t.id AND user_id = p_user_id AND status IN ('pending', 'processing');
    IF p_amount IS DISTINCT FROM coalesce(p.amount, t.total_price) THEN
        RETURN QUERY SELECT 'amount_mismatch'::text, NULL::uuid, NULL::text,
                            coalesce(p.amount, t.total_price);
        RETURN;
    END IF;
    IF p.id IS NULL THEN
        INSERT INTO payments (order_id, payment_type, transfer_id, user_id, amount,
                              idempotency_key)
        VALUES ('ORD-' || replace(gen_random_uuid()::text, '-', ''), 'transfer', t.id,
                p_user_id, t.total_price, 'charge-' || gen_random_uuid()::text)
        RETURNING * INTO p;
    END IF;
    RETURN QUERY SELECT 'prepared'::text, p.id, p.order_id, p.amount;
END;
$$;

-- POST /payments/process and /payments/confirm for a listing, step one, under the listing's
-- row lock. The outcomes and columns of payment_begin:
--   charge | resend | in_flight | parked | order_mismatch   as for a reservation
--   already_confirmed   the caller bought this listing, with the returned payment (a replay)
--   transfer_not_found | own_transfer | transfer_unavailable | buyer_membership_required
CREATE FUNCTION payment_begin_transfer(
    p_transfer_id uuid, p_user_id uuid, p_method text, p_order_id text, p_stale_after_ms integer
)
RETURNS TABLE (outcome text, payment_id uuid, order_id text, amount integer, method text,
               idempotency_key text, payment_key text, approved_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t ticket_transfers;
    p payments;
    v_refusal text;
    v_outcome text := 'charge';
BEGIN
    SELECT * INTO t FROM ticket_transfers WHERE id = p_transfer_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'transfer_not_found'::text, NULL::uuid, NULL::text, NULL::integer,
                            NULL::text, NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    IF t.status = 'completed' AND t.buyer_id = p_user_id THEN
        SELECT * INTO p FROM payments
         WHERE transfer_id = t.id AND user_id = p_user_id AND status = 'confirmed'
           AND (p_order_id IS NULL OR order_id = p_order_id);
        IF FOUND THEN
            RETURN QUERY SELECT 'already_confirmed'::text, p.id, p.order_id, p.amount, p.method,
                                p.idempotency_key, p.payment_key, p.approved_at;
            RETURN;
        END IF;
    END IF;
    v_refusal := transfer_purchase_refusal(t, p_user_id);
    IF v_refusal IS NOT NULL THEN
        RETURN QUERY SELECT v_refusal, NULL::uuid, NULL::text, NULL::integer, NULL::text,
                            NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    SELECT * INTO p FROM payments
     WHERE transfer_id = t.id AND user_id = p_user_id AND status IN ('pending', 'processing')
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
        -- The amount is the server's: the listing's total_price.
        INSERT INTO payments (order_id, payment_type, transfer_id, user_id, amount, method,
                              status, idempotency_key, processing_started_at)
        VALUES ('ORD-' || replace(gen_random_uuid()::text, '-', ''), 'transfer', t.id,
                p_user_id, t.total_price, p_method, 'processing',
                'charge-' || gen_random_uuid()::text, now())
        RETURNING * INTO p;
    END IF;
    RETURN QUERY SELECT v_outcome, p.id, p.order_id, p.amount, p.method, p.idempotency_key,
                        NULL::text, NULL::timestamptz;
END;
$$;

-- ---------------------------------------------------------------- the sale

-- Whether listing `t` can be sold NOW, under the locks of the sale (NULL: it can; else why
-- not): the listing is still listed, its reservation still confirmed and the seller's, its
-- event open. The sale's one guard, kept in one function (the resale storm's broken control
-- replaces exactly this, and must be caught).
CREATE FUNCTION transfer_unsellable_reason(t ticket_transfers, r reservations) RETURNS text
LANGUAGE sql STABLE
SET search_path = public, pg_temp
RETURN CASE
    WHEN t.status <> 'listed' THEN 'transfer_unavailable'
    WHEN r.status <> 'confirmed' OR r.user_id <> t.seller_id THEN 'transfer_unavailable'
    WHEN NOT (SELECT transfer_event_open(e) FROM events AS e WHERE e.id = r.event_id)
        THEN 'event_not_transferable'
END;

-- What a capture already recorded answers when the provider's news comes again (a replay):
-- already_confirmed | refund_pending (with its pending refund) | already_refunded. The
-- membership capture answers the same inline; these two helpers keep the transfer one short.
CREATE FUNCTION payment_capture_replay(p payments)
RETURNS TABLE (outcome text, reason text, reservation_id uuid, event_id uuid, user_id uuid,
               refund_outbox_id bigint, refund_amount integer)
LANGUAGE sql STABLE
SET search_path = public, pg_temp
AS $$
    SELECT CASE WHEN p.status = 'confirmed' THEN 'already_confirmed'
                WHEN o.status = 'pending' THEN 'refund_pending'
                ELSE 'already_refunded' END,
           NULL::text, NULL::uuid, NULL::uuid, p.user_id,
           CASE WHEN o.status = 'pending' THEN o.id END,
           CASE WHEN o.status = 'pending' THEN o.amount END
      FROM (SELECT 1) AS one
      LEFT JOIN payment_outbox AS o ON o.payment_id = p.id AND o.action = 'refund';
$$;

-- A capture that cannot buy what it paid for (`p_verdict`): the payment fails with the capture
-- on record, and the whole captured amount is owed back in payment_outbox, once.
CREATE FUNCTION payment_capture_refused(
    p payments, p_payment_key text, p_approved_at timestamptz, p_captured integer,
    p_verdict text, p_why text
)
RETURNS TABLE (outcome text, reason text, reservation_id uuid, event_id uuid, user_id uuid,
               refund_outbox_id bigint, refund_amount integer)
LANGUAGE plpgsql VOLATILE
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    outbox payment_outbox;
BEGIN
    UPDATE payments
       SET status = 'failed', payment_key = p_payment_key, approved_at = p_approved_at,
           captured_amount = p_captured, failure_code = left(p_verdict, 40), updated_at = now()
     WHERE id = p.id;
    INSERT INTO payment_outbox (payment_id, action, amount, reason, idempotency_key)
    VALUES (p.id, 'refund', p_captured, p_why || ': ' || p_verdict, 'refund-' || p.id::text)
    ON CONFLICT ON CONSTRAINT payment_outbox_payment_action_key
        DO UPDATE SET reason = payment_outbox.reason
    RETURNING * INTO outbox;
    RETURN QUERY SELECT 'refund_pending'::text, p_verdict, NULL::uuid, NULL::uuid, p.user_id,
                        outbox.id, outbox.amount;
END;
$$;

-- A listing's capture, in ONE transaction, under the reservation's lock, then the listing's,
-- then the payment's (reservation first: the order of every payment function and of
-- cancel_reservation, so a sale and a cancel or event cancel serialize without deadlock):
--   confirmed          the payment confirmed; the reservation's owner is the buyer; the
--                      seller's payout recorded; the listing completed
--   already_confirmed  recorded before (idempotent)
--   refund_pending     the capture cannot buy (`reason`: amount_mismatch, transfer_unavailable,
--                      event_not_transferable): the payment fails with the capture on record
--                      and the whole captured amount is owed back in payment_outbox, once
CREATE FUNCTION payment_record_transfer_capture(
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
    t ticket_transfers;
    r reservations;
    verdict text;
    v_captured integer;
BEGIN
    SELECT * INTO p FROM payments WHERE id = p_payment_id;
    SELECT * INTO r FROM reservations
     WHERE id = (SELECT x.reservation_id FROM ticket_transfers AS x WHERE x.id = p.transfer_id)
       FOR UPDATE;
    SELECT * INTO t FROM ticket_transfers WHERE id = p.transfer_id FOR UPDATE;
    SELECT * INTO p FROM payments WHERE id = p_payment_id FOR UPDATE;
    IF p.payment_key IS NOT NULL AND p.payment_key <> p_payment_key THEN
        RETURN QUERY SELECT 'not_found'::text, 'payment_key_mismatch'::text, NULL::uuid,
                            NULL::uuid, p.user_id, NULL::bigint, NULL::integer;
        RETURN;
    END IF;
    IF p.status IN ('confirmed', 'refunded') OR p.payment_key IS NOT NULL THEN
        RETURN QUERY SELECT * FROM payment_capture_replay(p);
        RETURN;
    END IF;
    v_captured := coalesce(p_amount, p.amount);
    verdict := CASE
        WHEN p_amount IS DISTINCT FROM p.amount THEN 'amount_mismatch'
        ELSE coalesce(transfer_unsellable_reason(t, r), 'payable')
    END;
    IF verdict = 'payable' THEN
        UPDATE payments
           SET status = 'confirmed', payment_key = p_payment_key, approved_at = p_approved_at,
               captured_amount = v_captured, failure_code = NULL, updated_at = now()
         WHERE id = p.id;
        -- The ticket changes hands: seats and quantities follow the reservation's id.
        UPDATE reservations SET user_id = p.user_id, updated_at = now() WHERE id = r.id;
        UPDATE ticket_transfers
           SET status = 'completed', buyer_id = p.user_id, completed_at = now(),
               updated_at = now()
         WHERE id = t.id;
        INSERT INTO transfer_payouts (transfer_id, seller_id, payment_id, amount)
        VALUES (t.id, t.seller_id, p.id, t.total_price - t.transfer_fee);
        -- No reservation or event in the answer: the buyer holds no queue slot to free.
        RETURN QUERY SELECT 'confirmed'::text, NULL::text, NULL::uuid, NULL::uuid, p.user_id,
                            NULL::bigint, NULL::integer;
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM payment_capture_refused(
        p, p_payment_key, p_approved_at, v_captured, verdict, 'capture without a transfer');
END;
$$;

-- The dispatcher of 20261208000003_membership_payments.sql, with the third kind.
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
    IF v_type = 'transfer' THEN
        RETURN QUERY SELECT * FROM payment_record_transfer_capture(
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

-- ---------------------------------------------------------------- cancels after a sale

-- The payment through which the current owner holds reservation `p_reservation_id`: the
-- confirmed payment of its latest sale, or (never resold) its own confirmed payment.
CREATE FUNCTION reservation_owner_payment(p_reservation_id uuid) RETURNS uuid
LANGUAGE sql STABLE
SET search_path = public, pg_temp
RETURN coalesce(
    (SELECT p.id FROM ticket_transfers AS t
       JOIN payments AS p ON p.transfer_id = t.id AND p.status = 'confirmed'
      WHERE t.reservation_id = p_reservation_id AND t.status = 'completed'
      ORDER BY t.completed_at DESC, t.id DESC LIMIT 1),
    (SELECT p.id FROM payments AS p
      WHERE p.reservation_id = p_reservation_id AND p.status = 'confirmed'
        AND NOT EXISTS (SELECT FROM ticket_transfers AS t
                         WHERE t.reservation_id = p_reservation_id
                           AND t.status = 'completed')));

-- As in 20261207000002_seat_release.sql, with two changes for resale:
--   * the refund of a confirmed reservation is of what its CURRENT owner paid
--     (reservation_owner_payment): after a sale the buyer's transfer payment, at its price; the
--     seller keeps their payout and their original payment stays captured;
--   * its live listing, if any, is voided (`cancelled`) in this same transaction, so a
--     cancelled ticket can never be bought.
CREATE OR REPLACE FUNCTION cancel_reservation(
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
    -- confirmed: the ticket goes back on sale and its owner's money goes back to them.
    UPDATE reservations SET status = 'cancelled', cancelled_at = now(), updated_at = now()
     WHERE id = r.id;
    PERFORM release_reservation_inventory(r.id);
    UPDATE ticket_transfers SET status = 'cancelled', updated_at = now()
     WHERE reservation_id = r.id AND status = 'listed';
    SELECT * INTO p FROM payments WHERE id = reservation_owner_payment(r.id) FOR UPDATE;
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

-- As in 20261207000005_money_safety.sql, except that the ticket a payment paid for is its
-- reservation or its listing's, and it is cancelled (and its live listing voided) only when the
-- refunded payment is the one its current owner holds it by: a chargeback of a resold ticket's
-- original payment takes nothing from the buyer who owns it now, and one of the buyer's payment
-- puts the ticket back on sale as for a primary sale.
CREATE OR REPLACE FUNCTION payment_refunded_by_provider(p_payment_id uuid) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    p payments;
    o payment_outbox;
    -- The ticket the payment paid for: its reservation, or its listing's.
    v_reservation uuid;
BEGIN
    SELECT * INTO p FROM payments WHERE id = p_payment_id;
    v_reservation := coalesce(p.reservation_id, (SELECT t.reservation_id FROM ticket_transfers AS t
                                                   WHERE t.id = p.transfer_id));
    -- Reservation first, then payment: the lock order of every payment function.
    PERFORM 1 FROM reservations WHERE id = v_reservation FOR UPDATE;
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
    -- Only the payment its current owner holds the ticket by: a resold ticket's original
    -- payment refunded at the provider takes nothing from the buyer who owns it now.
    UPDATE reservations
       SET status = 'cancelled', cancelled_at = now(), updated_at = now()
     WHERE id = v_reservation AND status = 'confirmed'
       AND reservation_owner_payment(v_reservation) = p.id;
    IF FOUND THEN
        PERFORM release_reservation_inventory(v_reservation);
        UPDATE ticket_transfers SET status = 'cancelled', updated_at = now()
         WHERE reservation_id = v_reservation AND status = 'listed';
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

-- As in 20261130000004_payments.sql, except which reservation a delivered refund marks
-- `refunded`: the one the payment paid for (its own, or its listing's), and only once nobody
-- holds it by a confirmed payment any more (reservation_owner_payment is NULL). So the buyer of
-- a resold ticket sees their refund, and a refund of the seller's original payment (a
-- chargeback after the sale) does not mark the buyer's live ticket refunded.
CREATE OR REPLACE FUNCTION payment_refund_delivered(p_outbox_id bigint)
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
    UPDATE reservations AS r
       SET payment_status = 'refunded', updated_at = now()
     WHERE r.id = coalesce(p.reservation_id, (SELECT t.reservation_id FROM ticket_transfers AS t
                                               WHERE t.id = p.transfer_id))
       AND r.payment_status = 'completed'
       AND reservation_owner_payment(r.id) IS NULL;
    RETURN QUERY SELECT 'delivered'::text;
END;
$$;

-- ---------------------------------------------------------------- ledgers

-- As in 20261207000005_money_safety.sql, except that a resold ticket's original sale stands
-- even once its reservation is cancelled: the seller sold it on and keeps both their payout and
-- their captured payment; the refund of that cancel is the last buyer's (transfer_ledger).
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
          OR EXISTS (SELECT FROM ticket_transfers AS x
                      WHERE x.reservation_id = r.id AND x.status = 'completed')
       GROUP BY r.event_id
  ) AS sold ON sold.event_id = e.id
 WHERE EXISTS (SELECT 1 FROM reservations AS r WHERE r.event_id = e.id);

-- Per event, as payment_ledger: the money of its transfer payments against the sales that stand
-- (a completed listing whose payment is confirmed and owes no refund), and the payouts against
-- every sale made (a later refund to the buyer does not take the seller's payout back).
-- `balanced` once every owed refund is delivered: captured − refunded − owed = value_sold and
-- payouts = sales − fees.
CREATE VIEW transfer_ledger AS
SELECT e.id AS event_id,
       coalesce(money.captured, 0)::bigint AS captured,
       coalesce(money.refunded, 0)::bigint AS refunded,
       coalesce(money.refund_owed, 0)::bigint AS refund_owed,
       coalesce(money.value_sold, 0)::bigint AS value_sold,
       coalesce(sales.sales, 0)::bigint AS sales,
       coalesce(sales.fees, 0)::bigint AS fees,
       coalesce(sales.payouts, 0)::bigint AS payouts,
       (coalesce(money.captured, 0) - coalesce(money.refunded, 0)
        - coalesce(money.refund_owed, 0) = coalesce(money.value_sold, 0)
        AND coalesce(sales.payouts, 0) = coalesce(sales.sales, 0) - coalesce(sales.fees, 0))
           AS balanced
  FROM events AS e
  LEFT JOIN (
      SELECT r.event_id,
             sum(coalesce(p.captured_amount, p.amount))
                 FILTER (WHERE p.payment_key IS NOT NULL) AS captured,
             sum(p.refund_amount) FILTER (WHERE p.status = 'refunded') AS refunded,
             sum(o.amount) FILTER (WHERE o.status = 'pending') AS refund_owed,
             sum(coalesce(p.captured_amount, p.amount))
                 FILTER (WHERE p.status = 'confirmed' AND o.id IS NULL
                           AND t.status = 'completed' AND t.buyer_id = p.user_id) AS value_sold
        FROM payments AS p
        JOIN ticket_transfers AS t ON t.id = p.transfer_id
        JOIN reservations AS r ON r.id = t.reservation_id
        LEFT JOIN payment_outbox AS o ON o.payment_id = p.id AND o.action = 'refund'
       GROUP BY r.event_id
  ) AS money ON money.event_id = e.id
  LEFT JOIN (
      SELECT r.event_id, sum(t.total_price) AS sales, sum(t.transfer_fee) AS fees,
             sum(po.amount) AS payouts
        FROM ticket_transfers AS t
        JOIN reservations AS r ON r.id = t.reservation_id
        LEFT JOIN transfer_payouts AS po ON po.transfer_id = t.id
       WHERE t.status = 'completed'
       GROUP BY r.event_id
  ) AS sales ON sales.event_id = e.id
 WHERE EXISTS (SELECT FROM ticket_transfers AS t
                 JOIN reservations AS r ON r.id = t.reservation_id
                WHERE r.event_id = e.id);

-- ---------------------------------------------------------------- grants

REVOKE ALL ON FUNCTION
    transfer_fee_percent(text), transfer_event_open(events), transfer_member_tier(uuid, uuid),
    transfer_json(ticket_transfers, uuid), transfer_purchase_refusal(ticket_transfers, uuid),
    transfer_unsellable_reason(ticket_transfers, reservations),
    payment_record_transfer_capture(uuid, text, timestamptz, integer),
    payment_capture_replay(payments),
    payment_capture_refused(payments, text, timestamptz, integer, text, text),
    reservation_owner_payment(uuid)
FROM PUBLIC;
-- The `transfers` component: its two writes and three reads, and no table.
GRANT USAGE ON SCHEMA public TO urr_transfers;
REVOKE ALL ON FUNCTION
    transfers_browse(uuid, uuid, integer, integer), transfers_of_seller(uuid, integer),
    transfer_detail(uuid, uuid), transfer_list(uuid, uuid), transfer_cancel(uuid, uuid)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    transfers_browse(uuid, uuid, integer, integer), transfers_of_seller(uuid, integer),
    transfer_detail(uuid, uuid), transfer_list(uuid, uuid), transfer_cancel(uuid, uuid)
TO urr_transfers;
-- Paying for a listing is `pay`'s.
REVOKE ALL ON FUNCTION
    payment_prepare_transfer(uuid, uuid, integer),
    payment_begin_transfer(uuid, uuid, text, text, integer)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    payment_prepare_transfer(uuid, uuid, integer),
    payment_begin_transfer(uuid, uuid, text, text, integer)
TO urr_payments;
GRANT SELECT ON transfer_ledger TO urr_payments;
