-- Business counters for what Postgres decides: reservations created / confirmed / cancelled /
-- expired, payments confirmed / failed / refunded, refunds and voids recorded and delivered.
--
-- Counted by triggers on the rows that change, so every function that moves a reservation, a
-- payment or an outbox row (reserve, capture, webhook, cancel, operator cancel, event cancel,
-- expiry takeover, refund delivery) counts in the same transaction as the change: a rolled-back
-- change counts nothing, a committed one counts exactly once, and a future function cannot
-- forget to count.
--
-- Why a log and not a counter row: every reserve of an on-sale event would update the same
-- counter row and wait on its row lock until the reserving transaction commits, and a
-- transaction that counts two things while holding seat locks can deadlock with another. Instead
-- each statement APPENDS one row per counter it moved (an unindexed heap insert takes no lock
-- another insert waits on), and the reader folds the log into `business_counter_totals`.
-- `expired` is counted when an expiry is recorded (a later reserve takes the seats over, a
-- payment or cancel finds it expired, an event is cancelled), which can lag the instant of
-- expiry; the dashboard's table counts show the effective status at the instant of reading.

-- The counters, in the order they are reported. One list: the totals are seeded from it and the
-- log can hold nothing else.
CREATE TYPE business_counter AS ENUM (
    'reservations_created',
    'reservations_confirmed',
    'reservations_cancelled',
    'reservations_expired',
    'payments_confirmed',
    'payments_failed',
    'payments_refunded',
    'refunds_recorded',
    'refunds_delivered',
    'voids_recorded',
    'voids_delivered'
);

-- Appended to by the triggers below, emptied into the totals by `business_counters()`.
-- Deliberately without an index or key: appends must not contend.
CREATE TABLE business_counter_log (
    counter business_counter NOT NULL,
    amount  bigint           NOT NULL,
    CONSTRAINT business_counter_log_amount_check CHECK (amount > 0)
);

CREATE TABLE business_counter_totals (
    counter business_counter NOT NULL,
    value   bigint           NOT NULL DEFAULT 0,
    CONSTRAINT business_counter_totals_pkey PRIMARY KEY (counter),
    CONSTRAINT business_counter_totals_value_check CHECK (value >= 0)
);
INSERT INTO business_counter_totals (counter)
SELECT unnest(enum_range(NULL::business_counter));

-- ---------------------------------------------------------------- counting triggers

-- Statement-level with transition tables: one append per counter per statement, however many
-- rows the statement moved (an event cancel moves hundreds of reservations at once). Only
-- transitions INTO a counted state count, so a no-op update counts nothing.

CREATE FUNCTION business_count_reservations() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO business_counter_log (counter, amount)
        SELECT 'reservations_created', count(*) FROM new_rows HAVING count(*) > 0;
    ELSE
        INSERT INTO business_counter_log (counter, amount)
        SELECT ('reservations_' || n.status)::business_counter, count(*)
          FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
         WHERE n.status <> o.status AND n.status IN ('confirmed', 'cancelled', 'expired')
         GROUP BY n.status;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER reservations_count_inserts AFTER INSERT ON reservations
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION business_count_reservations();
CREATE TRIGGER reservations_count_updates AFTER UPDATE ON reservations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION business_count_reservations();

CREATE FUNCTION business_count_payments() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO business_counter_log (counter, amount)
        SELECT ('payments_' || n.status)::business_counter, count(*)
          FROM new_rows AS n
         WHERE n.status IN ('confirmed', 'failed', 'refunded')
         GROUP BY n.status;
    ELSE
        INSERT INTO business_counter_log (counter, amount)
        SELECT ('payments_' || n.status)::business_counter, count(*)
          FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
         WHERE n.status <> o.status AND n.status IN ('confirmed', 'failed', 'refunded')
         GROUP BY n.status;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER payments_count_inserts AFTER INSERT ON payments
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION business_count_payments();
CREATE TRIGGER payments_count_updates AFTER UPDATE ON payments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION business_count_payments();

-- An outbox row is recorded (`refunds_recorded`, `voids_recorded`) and later delivered.
CREATE FUNCTION business_count_outbox() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO business_counter_log (counter, amount)
        SELECT (n.action || 's_recorded')::business_counter, count(*)
          FROM new_rows AS n
         GROUP BY n.action;
    ELSE
        INSERT INTO business_counter_log (counter, amount)
        SELECT (n.action || 's_delivered')::business_counter, count(*)
          FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
         WHERE n.status = 'delivered' AND o.status <> 'delivered'
         GROUP BY n.action;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER payment_outbox_count_inserts AFTER INSERT ON payment_outbox
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION business_count_outbox();
CREATE TRIGGER payment_outbox_count_updates AFTER UPDATE ON payment_outbox
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION business_count_outbox();

-- ---------------------------------------------------------------- reading

-- Every counter and its value since the database was created. Folds the log into the totals
-- first (one reader at a time: a reader that finds the fold in progress skips it), then reads
-- totals + whatever the log holds, in one snapshot, so a concurrent fold or append can neither
-- hide nor double a count.
CREATE FUNCTION business_counters() RETURNS TABLE (counter text, value bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF pg_try_advisory_xact_lock(hashtext('business_counters_fold')) THEN
        WITH moved AS (DELETE FROM business_counter_log RETURNING counter, amount)
        UPDATE business_counter_totals AS t
           SET value = t.value + m.total
          FROM (SELECT counter, sum(amount) AS total FROM moved GROUP BY counter) AS m
         WHERE t.counter = m.counter;
    END IF;
    RETURN QUERY
    SELECT t.counter::text, t.value + coalesce(l.total, 0)::bigint
      FROM business_counter_totals AS t
      LEFT JOIN (SELECT counter, sum(amount) AS total
                   FROM business_counter_log GROUP BY counter) AS l ON l.counter = t.counter
     ORDER BY t.counter;
END;
$$;

-- ---------------------------------------------------------------- grants

-- The host reads the counters for `/metrics` as `urr_metrics`, which may do nothing else; the
-- admin component reads them for the dashboard. Nobody writes the log or totals directly.
GRANT USAGE ON SCHEMA public TO urr_metrics;
REVOKE ALL ON TABLE business_counter_log, business_counter_totals FROM PUBLIC;
REVOKE ALL ON FUNCTION business_count_reservations(), business_count_payments(),
    business_count_outbox(), business_counters() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION business_counters() TO urr_metrics, urr_admin;
