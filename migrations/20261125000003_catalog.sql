-- Catalog: seat layouts, events, ticket types, seats and the admin audit log.
--
-- Rules that must hold for every writer live here, not in a component: totals derived from the
-- layout, seat labels derived from the position, quantities within bounds, and the sale window.
-- An event's status is never stored: it is computed at read time from the sale window and
-- Postgres' own clock (`event_status`), so no job has to flip it.
--
-- Grants: `urr_catalog` reads the public catalog; `urr_admin` manages it and appends to the audit
-- log. The seat-locking, reservation and payment roles get their grants with their own tables.

-- Trigram indexes make the catalog search (`ILIKE '%…%'` over title, artist and venue) an index
-- scan. pg_trgm is a trusted extension (PostgreSQL 13+) and is available on RDS.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- ---------------------------------------------------------------- seat layouts

-- A layout number as an integer when it is a JSON whole number of at most 9 digits, else NULL
-- (never an error, so a bad config fails its CHECK instead of a cast).
CREATE FUNCTION layout_int(value jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN jsonb_typeof(value) = 'number' AND value::text ~ '^[0-9]{1,9}$' THEN value::text::int
END;

-- Whether a layout config has the shape every reader relies on:
-- {"sections":[{"name": text, "rows": 1..1000, "seatsPerRow": 1..1000, "price": KRW >= 0,
--               "startRow": 1..10000 (optional, default 1)}, ...]}, 1..100 sections with unique
-- names. Names carry no '-' or whitespace, so a seat label `<section>-<row>-<n>` stays parseable.
CREATE FUNCTION layout_config_is_valid(config jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN jsonb_typeof(config -> 'sections') = 'array'
     AND jsonb_array_length(config -> 'sections') BETWEEN 1 AND 100
    THEN coalesce((
        SELECT bool_and(coalesce(
                   jsonb_typeof(s -> 'name') = 'string'
               AND (s ->> 'name') ~ '^[^-[:space:]]{1,20}$'
               AND layout_int(s -> 'rows') BETWEEN 1 AND 1000
               AND layout_int(s -> 'seatsPerRow') BETWEEN 1 AND 1000
               AND layout_int(s -> 'price') IS NOT NULL
               AND (NOT s ? 'startRow' OR layout_int(s -> 'startRow') BETWEEN 1 AND 10000),
                   false))
           AND count(DISTINCT s ->> 'name') = count(*)
        FROM jsonb_array_elements(config -> 'sections') AS s
    ), false)
    ELSE false
END;

-- Seats a layout config describes: the sum of rows x seatsPerRow over its sections (saturating,
-- so even an invalid config computes a number and fails its CHECK rather than overflowing).
CREATE FUNCTION layout_seat_count(config jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN jsonb_typeof(config -> 'sections') = 'array' THEN (
        SELECT least(coalesce(sum(layout_int(s -> 'rows')::bigint
                                  * layout_int(s -> 'seatsPerRow')::bigint), 0),
                     2147483647)::int
        FROM jsonb_array_elements(config -> 'sections') AS s
    )
    ELSE 0
END;

CREATE TABLE seat_layouts (
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    name          text        NOT NULL,
    description   text        NOT NULL DEFAULT '',
    layout_config jsonb       NOT NULL,
    -- Derived, so it can never disagree with the sections.
    total_seats   integer     GENERATED ALWAYS AS (layout_seat_count(layout_config)) STORED,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT seat_layouts_pkey PRIMARY KEY (id),
    CONSTRAINT seat_layouts_name_key UNIQUE (name),
    CONSTRAINT seat_layouts_name_check CHECK (name ~ '^[a-z0-9_]{1,50}$'),
    CONSTRAINT seat_layouts_config_check CHECK (layout_config_is_valid(layout_config)),
    -- The largest stadiums hold about 100,000; more is a typo, and one generation call must stay
    -- a bounded statement.
    CONSTRAINT seat_layouts_total_seats_check CHECK (total_seats BETWEEN 1 AND 100000)
);
-- Listing order of GET /seats/layouts.
CREATE INDEX seat_layouts_total_seats_idx ON seat_layouts (total_seats, name);

-- ---------------------------------------------------------------- events

CREATE TABLE events (
    id               uuid        NOT NULL DEFAULT gen_random_uuid(),
    title            text        NOT NULL,
    description      text        NOT NULL DEFAULT '',
    venue            text        NOT NULL,
    address          text        NOT NULL DEFAULT '',
    event_date       timestamptz NOT NULL,
    sale_start_date  timestamptz NOT NULL,
    sale_end_date    timestamptz NOT NULL,
    poster_image_url text,
    artist_name      text        NOT NULL DEFAULT '',
    -- NULL: a standing event, sold by ticket type; otherwise seats are generated from the layout.
    seat_layout_id   uuid,
    cancelled        boolean     NOT NULL DEFAULT false,
    cancelled_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_pkey PRIMARY KEY (id),
    CONSTRAINT events_seat_layout_id_fkey FOREIGN KEY (seat_layout_id)
        REFERENCES seat_layouts (id) ON DELETE RESTRICT,
    CONSTRAINT events_title_check CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    CONSTRAINT events_venue_check CHECK (length(btrim(venue)) BETWEEN 1 AND 200),
    CONSTRAINT events_sale_window_check CHECK (sale_start_date < sale_end_date),
    CONSTRAINT events_cancelled_at_check CHECK (cancelled OR cancelled_at IS NULL)
);
-- Listing order (GET /events) and its keyset.
CREATE INDEX events_event_date_idx ON events (event_date, id);
-- Status filters are ranges over the sale window.
CREATE INDEX events_sale_start_date_idx ON events (sale_start_date);
CREATE INDEX events_sale_end_date_idx ON events (sale_end_date);
-- Search (`q`): one trigram index per searched column, combined by a BitmapOr.
CREATE INDEX events_title_trgm_idx ON events USING gin (title gin_trgm_ops);
CREATE INDEX events_artist_name_trgm_idx ON events USING gin (artist_name gin_trgm_ops);
CREATE INDEX events_venue_trgm_idx ON events USING gin (venue gin_trgm_ops);
-- Refusing to delete a layout that events still use.
CREATE INDEX events_seat_layout_id_idx ON events (seat_layout_id) WHERE seat_layout_id IS NOT NULL;

-- The status clients see, at instant `at`: a cancelled event is `cancelled`; otherwise the sale
-- window decides, start inclusive and end exclusive. Pass Postgres' `now()` as `at` (one clock
-- for every decision); IMMUTABLE so it inlines and tests can pin the instant.
CREATE FUNCTION event_status(
    cancelled boolean, sale_start_date timestamptz, sale_end_date timestamptz, at timestamptz
) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN cancelled THEN 'cancelled'
    WHEN at < sale_start_date THEN 'upcoming'
    WHEN at < sale_end_date THEN 'on_sale'
    ELSE 'ended'
END;

-- ---------------------------------------------------------------- ticket types

CREATE TABLE ticket_types (
    id                 uuid        NOT NULL DEFAULT gen_random_uuid(),
    event_id           uuid        NOT NULL,
    name               text        NOT NULL,
    price              integer     NOT NULL,
    total_quantity     integer     NOT NULL,
    available_quantity integer     NOT NULL,
    description        text        NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ticket_types_pkey PRIMARY KEY (id),
    CONSTRAINT ticket_types_event_id_fkey FOREIGN KEY (event_id)
        REFERENCES events (id) ON DELETE CASCADE,
    -- Also the index of "ticket types of an event".
    CONSTRAINT ticket_types_event_id_name_key UNIQUE (event_id, name),
    CONSTRAINT ticket_types_name_check CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    CONSTRAINT ticket_types_price_check CHECK (price >= 0),
    CONSTRAINT ticket_types_quantity_check
        CHECK (available_quantity >= 0 AND available_quantity <= total_quantity)
);

-- ---------------------------------------------------------------- seats

CREATE TABLE seats (
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    event_id        uuid        NOT NULL,
    section         text        NOT NULL,
    row_number      integer     NOT NULL,
    seat_number     integer     NOT NULL,
    -- `<section>-<row>-<n>`, derived so it always names the seat's position.
    seat_label      text        GENERATED ALWAYS AS
                        (section || '-' || row_number::text || '-' || seat_number::text) STORED,
    price           integer     NOT NULL,
    status          text        NOT NULL DEFAULT 'available',
    -- Bumped by every state change (optimistic concurrency for the reserve function).
    version         integer     NOT NULL DEFAULT 0,
    -- The highest hold fencing token that wrote this row: older tokens are rejected.
    fencing_token   bigint      NOT NULL DEFAULT 0,
    -- The holding user (users live in the auth schema; no foreign key across that boundary).
    held_by         uuid,
    hold_expires_at timestamptz,
    -- The reservation that has the seat (its foreign key arrives with the reservations table).
    reservation_id  uuid,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT seats_pkey PRIMARY KEY (id),
    CONSTRAINT seats_event_id_fkey FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE CASCADE,
    -- Also the index of the seat map (seats of an event, in order).
    CONSTRAINT seats_event_position_key UNIQUE (event_id, section, row_number, seat_number),
    CONSTRAINT seats_position_check CHECK (row_number >= 1 AND seat_number >= 1),
    CONSTRAINT seats_price_check CHECK (price >= 0),
    CONSTRAINT seats_status_check CHECK (status IN ('available', 'locked', 'reserved')),
    CONSTRAINT seats_version_check CHECK (version >= 0),
    CONSTRAINT seats_fencing_token_check CHECK (fencing_token >= 0)
);
-- Seats of a reservation (confirm, cancel, expiry takeover).
CREATE INDEX seats_reservation_id_idx ON seats (reservation_id) WHERE reservation_id IS NOT NULL;

-- Generates every seat of an event from its layout in ONE statement: sections x rows x seats, row
-- numbers from the section's startRow, prices from the section. Seats that already exist are
-- left alone, so it is idempotent. Returns the number of seats inserted (0 for a standing event
-- or an unknown id). Used by the admin component and by the demo seed.
-- JIT is off for it: the planner cannot size generate_series over JSON values, guesses billions
-- of rows, and compiling for that estimate cost ten times the insert itself.
CREATE FUNCTION generate_event_seats(target_event_id uuid) RETURNS integer
LANGUAGE sql VOLATILE
SET jit = off
BEGIN ATOMIC
    WITH inserted AS (
        INSERT INTO seats (event_id, section, row_number, seat_number, price)
        SELECT e.id,
               s.value ->> 'name',
               coalesce(layout_int(s.value -> 'startRow'), 1) + r.offset_in_section,
               n.seat_number,
               layout_int(s.value -> 'price')
        FROM events AS e
        JOIN seat_layouts AS l ON l.id = e.seat_layout_id
        CROSS JOIN LATERAL jsonb_array_elements(l.layout_config -> 'sections') AS s (value)
        CROSS JOIN LATERAL generate_series(0, layout_int(s.value -> 'rows') - 1) AS r (offset_in_section)
        CROSS JOIN LATERAL generate_series(1, layout_int(s.value -> 'seatsPerRow')) AS n (seat_number)
        WHERE e.id = target_event_id
        ON CONFLICT ON CONSTRAINT seats_event_position_key DO NOTHING
        RETURNING 1
    )
    SELECT count(*)::int FROM inserted;
END;

-- ---------------------------------------------------------------- admin audit log

-- Append-only: every admin change writes its row in the same transaction as the change.
CREATE TABLE admin_audit_log (
    id               bigint      GENERATED ALWAYS AS IDENTITY,
    -- The acting admin's user id (no foreign key: users belong to the auth schema, and the log
    -- must outlive a deleted account).
    admin_id         uuid        NOT NULL,
    action           text        NOT NULL,
    resource_type    text        NOT NULL,
    resource_id      text,
    -- What was asked, without secrets.
    request_summary  jsonb       NOT NULL DEFAULT '{}',
    -- The resource's status after the change (e.g. `created`, `cancelled`).
    resulting_status text        NOT NULL,
    client_ip        inet,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT admin_audit_log_pkey PRIMARY KEY (id),
    CONSTRAINT admin_audit_log_action_check CHECK (action ~ '^[a-z][a-z0-9_.]{0,63}$'),
    CONSTRAINT admin_audit_log_resource_type_check CHECK (resource_type ~ '^[a-z][a-z0-9_]{0,63}$')
);
-- Newest first, overall and per resource.
CREATE INDEX admin_audit_log_created_at_idx ON admin_audit_log (created_at DESC, id DESC);
CREATE INDEX admin_audit_log_resource_idx
    ON admin_audit_log (resource_type, resource_id, created_at DESC);

-- ---------------------------------------------------------------- grants

GRANT SELECT ON seat_layouts, events, ticket_types TO urr_catalog;

GRANT SELECT ON seat_layouts TO urr_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON events, ticket_types, seats TO urr_admin;
GRANT SELECT, INSERT ON admin_audit_log TO urr_admin;

-- Seat generation writes seats: only the roles that may do so can call it.
REVOKE ALL ON FUNCTION generate_event_seats(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION generate_event_seats(uuid) TO urr_admin;
