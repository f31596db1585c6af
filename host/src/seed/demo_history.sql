-- The demo sales history: a few weeks of buyers, sales, cancellations and refunds on the demo
-- events, so a fresh local stack's admin dashboard and statistics have something to show.
--
-- Run by `urr-edge seed` in its transaction, after the catalog. Deterministic (no random():
-- every choice is arithmetic on the row number) and idempotent (it does nothing once a `DEMO-`
-- reservation exists). Rows are written as the booking functions leave them, and moved through
-- their statuses by UPDATEs so the business counters count each move as a real sale does:
-- reservation pending -> confirmed (-> cancelled with a delivered refund), pending -> cancelled,
-- pending -> expired; payment processing -> confirmed (-> refunded). Sold seats are `reserved`
-- by their reservation and sold standing tickets leave `available_quantity`, so the seat map,
-- the ledger and the statistics agree with the rows. Demo buyers have no password: nobody can
-- sign in as one (an account without a password, like a Google-only one).
DO $demo$
BEGIN
    IF EXISTS (SELECT FROM reservations WHERE reservation_number LIKE 'DEMO-%') THEN
        RETURN;
    END IF;

    INSERT INTO users (id, email, password_hash, name, created_at, updated_at)
    SELECT ('d0000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid,
           'demo.buyer' || g || '@example.com', NULL,
           (ARRAY['김민준', '이서연', '박지호', '최수아', '정예준', '강하은', '조도윤', '윤지우',
                  '장서준', '임하린', '한지민', '오시우'])[1 + (g - 1) % 12],
           now() - make_interval(days => 70 - g), now() - make_interval(days => 70 - g)
      FROM generate_series(1, 24) AS g
    ON CONFLICT DO NOTHING;

    -- What each demo event sells: how many reservations, over its sale window up to now.
    -- fate (g % 10): 0-5 and 9 paid; 6 paid, then cancelled and refunded; 7 cancelled unpaid;
    -- 8 let expire unpaid.
    CREATE TEMP TABLE demo_sales ON COMMIT DROP AS
    SELECT gen_random_uuid() AS id, e.id AS event_id, plan.ord, g,
           ('d0000000-0000-4000-8000-' || lpad((1 + (g * 7 + plan.ord) % 24)::text, 12, '0'))::uuid
               AS user_id,
           e.sale_start_date
               + (least(e.sale_end_date, now() - interval '30 minutes') - e.sale_start_date)
                 * ((g * 7919 % 1000) / 1000.0) AS created_at,
           g % 10 AS fate,
           (ARRAY['card', 'kakao_pay', 'naver_pay', 'bank_transfer'])[1 + g % 4] AS method,
           EXISTS (SELECT FROM seats AS s WHERE s.event_id = e.id) AS seated
      FROM (VALUES (1, '5e3d0a4c-1b7e-4c2a-9f00-000000000001'::uuid, 36),
                   (2, '5e3d0a4c-1b7e-4c2a-9f00-000000000003'::uuid, 60),
                   (3, '5e3d0a4c-1b7e-4c2a-9f00-000000000004'::uuid, 40),
                   (4, '5e3d0a4c-1b7e-4c2a-9f00-000000000005'::uuid, 80)) AS plan (ord, id, n)
      JOIN events AS e ON e.id = plan.id AND e.sale_start_date < now() - interval '1 hour'
           AND NOT e.cancelled
     CROSS JOIN LATERAL generate_series(1, plan.n) AS g;

    -- Seated: two neighbouring seats each, pairs spread over the house by a stride coprime
    -- with the number of pairs (so no two demo reservations share a seat).
    CREATE TEMP TABLE demo_items ON COMMIT DROP AS
    WITH ordered AS (
        SELECT s.id, s.event_id, s.price, s.fencing_token,
               row_number() OVER (PARTITION BY s.event_id
                                  ORDER BY s.section, s.row_number, s.seat_number) - 1 AS rn,
               count(*) OVER (PARTITION BY s.event_id) / 2 AS pairs
          FROM seats AS s
         WHERE s.event_id IN (SELECT event_id FROM demo_sales WHERE seated)
    ), stride AS (
        SELECT DISTINCT event_id, pairs,
               (SELECT p FROM unnest(ARRAY[97, 89, 83, 79, 73, 71]) AS p
                 WHERE gcd(p, pairs::integer) = 1 LIMIT 1) AS step
          FROM ordered
    )
    SELECT d.id AS reservation_id, o.id AS seat_id, NULL::uuid AS ticket_type_id, 1 AS quantity,
           o.price AS unit_price, o.fencing_token + 1 AS fencing_token
      FROM demo_sales AS d
      JOIN stride AS st ON st.event_id = d.event_id AND d.g <= st.pairs
      JOIN ordered AS o ON o.event_id = d.event_id
           AND o.rn IN (((d.g - 1) * st.step % st.pairs) * 2, ((d.g - 1) * st.step % st.pairs) * 2 + 1)
     WHERE d.seated
    UNION ALL
    -- Standing: one to three tickets of one of the event's types.
    SELECT d.id, NULL, t.id, 1 + d.g % 3, t.price, NULL
      FROM demo_sales AS d
      JOIN LATERAL (SELECT id, price FROM ticket_types AS t WHERE t.event_id = d.event_id
                     ORDER BY t.price DESC, t.id
                    OFFSET d.g % (SELECT count(*) FROM ticket_types AS c
                                   WHERE c.event_id = d.event_id)
                     LIMIT 1) AS t ON true
     WHERE NOT d.seated;

    INSERT INTO reservations (id, reservation_number, user_id, event_id, kind, total_amount,
                              expires_at, created_at, updated_at)
    SELECT d.id, 'DEMO-' || to_char(d.created_at AT TIME ZONE 'Asia/Seoul', 'YYYYMMDD') || '-'
                 || d.ord || lpad(d.g::text, 3, '0'),
           d.user_id, d.event_id, CASE WHEN d.seated THEN 'seated' ELSE 'standing' END,
           (SELECT sum(i.quantity * i.unit_price) FROM demo_items AS i WHERE i.reservation_id = d.id),
           d.created_at + interval '10 minutes', d.created_at, d.created_at
      FROM demo_sales AS d
     WHERE EXISTS (SELECT FROM demo_items AS i WHERE i.reservation_id = d.id);
    DELETE FROM demo_sales AS d WHERE NOT EXISTS (SELECT FROM reservations AS r WHERE r.id = d.id);

    INSERT INTO reservation_items (reservation_id, seat_id, ticket_type_id, quantity, unit_price,
                                   fencing_token)
    SELECT reservation_id, seat_id, ticket_type_id, quantity, unit_price, fencing_token
      FROM demo_items WHERE reservation_id IN (SELECT id FROM demo_sales);

    -- Paid: the payment recorded before the provider call, then its capture two minutes later.
    INSERT INTO payments (order_id, reservation_id, user_id, amount, method, status,
                          idempotency_key, processing_started_at, created_at, updated_at)
    SELECT 'demo-' || r.id, r.id, r.user_id, r.total_amount, d.method, 'processing',
           'demo-ik-' || r.id, r.created_at + interval '1 minute',
           r.created_at + interval '1 minute', r.created_at + interval '1 minute'
      FROM demo_sales AS d JOIN reservations AS r ON r.id = d.id
     WHERE d.fate NOT IN (7, 8);
    UPDATE payments AS p
       SET status = 'confirmed', payment_key = 'demo-pk-' || p.reservation_id,
           captured_amount = p.amount, approved_at = p.created_at + interval '1 minute',
           updated_at = p.created_at + interval '1 minute'
     WHERE p.order_id LIKE 'demo-%' AND p.status = 'processing';
    UPDATE reservations AS r
       SET status = 'confirmed', payment_status = 'completed', payment_method = p.method,
           confirmed_at = p.approved_at, updated_at = p.approved_at
      FROM payments AS p
     WHERE p.reservation_id = r.id AND p.order_id LIKE 'demo-%';
    UPDATE seats AS s
       SET status = 'reserved', reservation_id = i.reservation_id,
           fencing_token = i.fencing_token, version = s.version + 1, updated_at = now()
      FROM reservation_items AS i JOIN reservations AS r ON r.id = i.reservation_id
     WHERE i.seat_id = s.id AND r.status = 'confirmed' AND r.reservation_number LIKE 'DEMO-%';
    UPDATE ticket_types AS t
       SET available_quantity = t.available_quantity - sold.n
      FROM (SELECT i.ticket_type_id, sum(i.quantity) AS n
              FROM reservation_items AS i JOIN reservations AS r ON r.id = i.reservation_id
             WHERE r.status = 'confirmed' AND r.reservation_number LIKE 'DEMO-%'
               AND i.ticket_type_id IS NOT NULL
             GROUP BY i.ticket_type_id) AS sold
     WHERE t.id = sold.ticket_type_id;

    -- Fate 6: cancelled by the buyer some hours after paying; the refund recorded, delivered.
    UPDATE reservations AS r
       SET status = 'cancelled', payment_status = 'refunded',
           cancelled_at = least(r.confirmed_at + make_interval(hours => 1 + d.g % 40),
                                now() - interval '5 minutes'),
           updated_at = least(r.confirmed_at + make_interval(hours => 1 + d.g % 40),
                              now() - interval '5 minutes')
      FROM demo_sales AS d
     WHERE d.id = r.id AND d.fate = 6;
    UPDATE seats AS s
       SET status = 'available', reservation_id = NULL, version = s.version + 1, updated_at = now()
      FROM reservation_items AS i JOIN demo_sales AS d ON d.id = i.reservation_id AND d.fate = 6
     WHERE i.seat_id = s.id;
    UPDATE ticket_types AS t
       SET available_quantity = t.available_quantity + back.n
      FROM (SELECT i.ticket_type_id, sum(i.quantity) AS n
              FROM reservation_items AS i JOIN demo_sales AS d ON d.id = i.reservation_id
             WHERE d.fate = 6 AND i.ticket_type_id IS NOT NULL
             GROUP BY i.ticket_type_id) AS back
     WHERE t.id = back.ticket_type_id;
    INSERT INTO payment_outbox (payment_id, action, amount, reason, idempotency_key, created_at)
    SELECT p.id, 'refund', p.captured_amount, 'user_cancel', 'demo-refund-' || p.id, r.cancelled_at
      FROM payments AS p JOIN reservations AS r ON r.id = p.reservation_id
      JOIN demo_sales AS d ON d.id = r.id AND d.fate = 6;
    UPDATE payment_outbox AS o
       SET status = 'delivered', attempts = 1, delivered_at = o.created_at + interval '1 minute'
     WHERE o.idempotency_key LIKE 'demo-refund-%' AND o.status = 'pending';
    UPDATE payments AS p
       SET status = 'refunded', refund_amount = o.amount, refunded_at = o.delivered_at,
           updated_at = o.delivered_at
      FROM payment_outbox AS o
     WHERE o.payment_id = p.id AND o.idempotency_key LIKE 'demo-refund-%';

    -- Fate 7: cancelled before paying. Fate 8: never paid, its ten minutes ran out.
    UPDATE reservations AS r
       SET status = CASE d.fate WHEN 7 THEN 'cancelled' ELSE 'expired' END,
           cancelled_at = CASE d.fate WHEN 7 THEN r.created_at + interval '3 minutes' END,
           updated_at = r.created_at + interval '10 minutes'
      FROM demo_sales AS d
     WHERE d.id = r.id AND d.fate IN (7, 8);
END;
$demo$;
