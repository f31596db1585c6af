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
-- another insert waits on), and the log is folded into `business_counter_totals` in bounded
-- steps by every read (the dashboard, a `/metrics` scrape, the monitoring system). Folding costs
-- about what appending does, so it stays off the reserve path while anybody reads; only when
-- nobody has folded for a minute does a counting statement fold (see
-- `business_counters_maybe_fold`), so the log stays bounded without readers too.
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

-- Appended to by the triggers below, emptied into the totals by `business_counters_fold`.
-- Deliberately without an index or key: appends must not contend. Never truncated by vacuum:
-- after a fold empties it, the truncation would take an ACCESS EXCLUSIVE lock that every
-- reserve, capture and refund appending here would queue behind.
CREATE TABLE business_counter_log (
    counter business_counter NOT NULL,
    amount  bigint           NOT NULL,
    CONSTRAINT business_counter_log_amount_check CHECK (amount > 0)
) WITH (vacuum_truncate = false);

-- When the log was last folded (one row).
CREATE TABLE business_counter_folds (
    only_row  boolean     NOT NULL DEFAULT true,
    folded_at timestamptz NOT NULL DEFAULT '-infinity',
    CONSTRAINT business_counter_folds_pkey PRIMARY KEY (only_row),
    CONSTRAINT business_counter_folds_only_row_check CHECK (only_row)
);
INSERT INTO business_counter_folds DEFAULT VALUES;

CREATE TABLE business_counter_totals (
    counter business_counter NOT NULL,
    value   bigint           NOT NULL DEFAULT 0,
    CONSTRAINT business_counter_totals_pkey PRIMARY KEY (counter),
    CONSTRAINT business_counter_totals_value_check CHECK (value >= 0)
);
INSERT INTO business_counter_totals (counter)
SELECT unnest(enum_range(NULL::business_counter));

-- ---------------------------------------------------------------- folding

-- Moves at most p_limit log rows into the totals; one folder at a time (a caller that finds a
-- fold in progress skips it: appends never wait, and readers read totals + log). Called inside
-- a counting transaction it blocks nobody: only folders touch the totals and the fold time, and
-- they skip.
CREATE FUNCTION business_counters_fold(p_limit integer) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('business_counters_fold')) THEN
        RETURN;
    END IF;
    WITH moved AS (
        DELETE FROM business_counter_log
         WHERE ctid = ANY (ARRAY(SELECT ctid FROM business_counter_log LIMIT p_limit))
        RETURNING counter, amount
    )
    INSERT INTO business_counter_totals AS t (counter, value)
    SELECT counter, sum(amount) FROM moved GROUP BY counter
    ON CONFLICT (counter) DO UPDATE SET value = t.value + excluded.value;
    UPDATE business_counter_folds SET folded_at = now();
END;
$$;

-- The safety net for a log nobody reads: about one counting statement in FOLD_ONE_IN looks at
-- when the log was last folded (one primary-key read), and folds up to FOLD_LIMIT rows itself
-- when no fold ran for FOLD_AFTER. While readers fold, the reserve path pays only that read.
CREATE FUNCTION business_counters_maybe_fold() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    fold_one_in CONSTANT integer  := 256;
    fold_after  CONSTANT interval := interval '1 minute';
    fold_limit  CONSTANT integer  := 20000;
BEGIN
    IF random() * fold_one_in < 1
       AND (SELECT folded_at FROM business_counter_folds) < now() - fold_after THEN
        PERFORM business_counters_fold(fold_limit);
    END IF;
END;
$$;

-- ---------------------------------------------------------------- counting triggers

-- Statement-level with transition tables: one append per counter per statement, however many
-- rows the statement moved. Only transitions INTO a counted state count, so a no-op update
-- counts nothing, and only statuses the enum names are cast (a new status must never make a
-- business statement fail here).

-- Rows that moved INTO one of the statuses the trigger names count `<prefix>_<status>`; the
-- trigger's arguments are (prefix, status, status, ...). An inserted row moves into the status
-- it is inserted with.
CREATE FUNCTION business_count_status_moves() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    prefix  text   := TG_ARGV[0];
    counted text[] := TG_ARGV[1:TG_NARGS - 1];
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO business_counter_log (counter, amount)
        SELECT (prefix || '_' || n.status)::business_counter, count(*)
          FROM new_rows AS n
         WHERE n.status = ANY (counted)
         GROUP BY n.status;
    ELSE
        INSERT INTO business_counter_log (counter, amount)
        SELECT (prefix || '_' || n.status)::business_counter, count(*)
          FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
         WHERE n.status <> o.status AND n.status = ANY (counted)
         GROUP BY n.status;
    END IF;
    PERFORM business_counters_maybe_fold();
    RETURN NULL;
END;
$$;

-- Every reservation inserted is one created, whatever its status.
CREATE FUNCTION business_count_reservations_created() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    INSERT INTO business_counter_log (counter, amount)
    SELECT 'reservations_created', count(*) FROM new_rows HAVING count(*) > 0;
    PERFORM business_counters_maybe_fold();
    RETURN NULL;
END;
$$;

CREATE TRIGGER reservations_count_inserts AFTER INSERT ON reservations
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION business_count_reservations_created();
CREATE TRIGGER reservations_count_updates AFTER UPDATE ON reservations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION
        business_count_status_moves('reservations', 'confirmed', 'cancelled', 'expired');
CREATE TRIGGER payments_count_inserts AFTER INSERT ON payments
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION
        business_count_status_moves('payments', 'confirmed', 'failed', 'refunded');
CREATE TRIGGER payments_count_updates AFTER UPDATE ON payments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION
        business_count_status_moves('payments', 'confirmed', 'failed', 'refunded');

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
         WHERE n.action IN ('refund', 'void')
         GROUP BY n.action;
    ELSE
        INSERT INTO business_counter_log (counter, amount)
        SELECT (n.action || 's_delivered')::business_counter, count(*)
          FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
         WHERE n.status = 'delivered' AND o.status <> 'delivered'
           AND n.action IN ('refund', 'void')
         GROUP BY n.action;
    END IF;
    PERFORM business_counters_maybe_fold();
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

-- Every counter and its value since the database was created. Folds a bounded step first,
-- then reads totals + whatever the log still holds in one snapshot, so a concurrent fold or
-- append can neither hide nor double a count.
CREATE FUNCTION business_counters() RETURNS TABLE (counter text, value bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM business_counters_fold(100000);
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
REVOKE ALL ON TABLE business_counter_log, business_counter_totals, business_counter_folds
    FROM PUBLIC;
REVOKE ALL ON FUNCTION business_count_status_moves(), business_count_reservations_created(),
    business_count_outbox(), business_counters_fold(integer), business_counters_maybe_fold(),
    business_counters() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION business_counters() TO urr_metrics, urr_admin;
