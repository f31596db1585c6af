-- Artists (docs/fan.md): the `artists` table, `events.artist_id`, the artist an event's
-- `artist_name` names, and the audited admin changes of the `artists` component.
--
-- Reads are plain statements as `urr_artists` (SELECT on the catalog tables and on this one);
-- every write is ONE SECURITY DEFINER function that also writes its row to admin_audit_log in
-- the same transaction, through the admin migration's `admin_audit` (if the audit row cannot be
-- written, the change does not happen either). Refusals change nothing and write no audit row;
-- they come back as an `outcome` the component maps to 404/409.

-- ---------------------------------------------------------------- schema

-- The two new component roles (bootstrapped by `urr-edge migrate`, like every component role).
GRANT USAGE ON SCHEMA public TO urr_artists, urr_memberships;

CREATE TABLE artists (
    id               uuid        NOT NULL DEFAULT gen_random_uuid(),
    name             text        NOT NULL,
    image_url        text,
    description      text,
    -- KRW for one year of membership (URR's hard-wired price is the default).
    membership_price integer     NOT NULL DEFAULT 30000,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT artists_pkey PRIMARY KEY (id),
    CONSTRAINT artists_name_key UNIQUE (name),
    CONSTRAINT artists_name_check CHECK (length(btrim(name)) BETWEEN 1 AND 255),
    CONSTRAINT artists_membership_price_check CHECK (membership_price BETWEEN 1 AND 10000000)
);
-- GET /artists is ordered by name (the unique index serves it).

-- The artist an event belongs to (NULL: none). RESTRICT: an artist with events is never deleted
-- (the delete function refuses first, with its own outcome).
ALTER TABLE events ADD COLUMN artist_id uuid;
ALTER TABLE events ADD CONSTRAINT events_artist_id_fkey FOREIGN KEY (artist_id)
    REFERENCES artists (id) ON DELETE RESTRICT;
CREATE INDEX events_artist_id_idx ON events (artist_id, event_date) WHERE artist_id IS NOT NULL;

-- ---------------------------------------------------------------- an event's artist

-- The artist named `p_name` (trimmed), created when it is new; NULL for an empty name.
CREATE FUNCTION artist_for_name(p_name text) RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_name text := btrim(coalesce(p_name, ''));
    v_id uuid;
BEGIN
    IF v_name = '' THEN
        RETURN NULL;
    END IF;
    SELECT id INTO v_id FROM artists WHERE name = v_name;
    IF FOUND THEN
        RETURN v_id;
    END IF;
    INSERT INTO artists (name) VALUES (left(v_name, 255))
    ON CONFLICT ON CONSTRAINT artists_name_key DO UPDATE SET name = excluded.name
    RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;

-- URR's admin screens write only `artist_name`, so their events belonged to no artist (contract
-- Q3). Here every insert, and every change of `artist_name`, resolves the name to its artist
-- (created when new) in the same statement, whoever writes the event: the admin functions, the
-- seed, a migration.
CREATE FUNCTION events_resolve_artist() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.artist_name IS DISTINCT FROM OLD.artist_name THEN
        NEW.artist_id := artist_for_name(NEW.artist_name);
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER events_resolve_artist BEFORE INSERT OR UPDATE OF artist_name ON events
    FOR EACH ROW EXECUTE FUNCTION events_resolve_artist();

-- The events that exist already: one artist per distinct non-empty name (as URR's V3 did).
UPDATE events SET artist_id = artist_for_name(artist_name) WHERE btrim(artist_name) <> '';

-- ---------------------------------------------------------------- admin changes

-- Creates an artist. Outcomes: `created`, `duplicate_name`.
CREATE FUNCTION artist_create(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb,
    p_name text, p_image_url text, p_description text, p_membership_price integer
) RETURNS TABLE (outcome text, artist_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_id uuid;
BEGIN
    INSERT INTO artists (name, image_url, description, membership_price)
    VALUES (p_name, p_image_url, p_description, coalesce(p_membership_price, 30000))
    ON CONFLICT ON CONSTRAINT artists_name_key DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RETURN QUERY SELECT 'duplicate_name'::text, NULL::uuid;
        RETURN;
    END IF;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'artist.create', 'artist', v_id::text,
                        p_summary, 'created');
    RETURN QUERY SELECT 'created'::text, v_id;
END;
$$;

-- Changes the given fields (NULL: unchanged; `p_clear_image` / `p_clear_description` set them to
-- NULL). A new name is also written to the artist's events' `artist_name`, so the catalog shows
-- it. Outcomes: `updated`, `not_found`, `duplicate_name`.
CREATE FUNCTION artist_update(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_artist_id uuid,
    p_name text, p_image_url text, p_clear_image boolean, p_description text,
    p_clear_description boolean, p_membership_price integer
) RETURNS TABLE (outcome text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    a artists;
BEGIN
    SELECT * INTO a FROM artists WHERE id = p_artist_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text;
        RETURN;
    END IF;
    IF p_name IS NOT NULL AND p_name <> a.name
       AND EXISTS (SELECT FROM artists WHERE name = p_name) THEN
        RETURN QUERY SELECT 'duplicate_name'::text;
        RETURN;
    END IF;
    UPDATE artists
       SET name = coalesce(p_name, name),
           image_url = CASE WHEN p_clear_image THEN NULL ELSE coalesce(p_image_url, image_url) END,
           description = CASE WHEN p_clear_description THEN NULL
                              ELSE coalesce(p_description, description) END,
           membership_price = coalesce(p_membership_price, membership_price),
           updated_at = now()
     WHERE id = p_artist_id;
    IF p_name IS NOT NULL AND p_name <> a.name THEN
        -- The trigger resolves the new name back to this same artist.
        UPDATE events SET artist_name = p_name, updated_at = now() WHERE artist_id = p_artist_id;
    END IF;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'artist.update', 'artist', p_artist_id::text,
                        p_summary, 'updated');
    RETURN QUERY SELECT 'updated'::text;
END;
$$;

-- Deletes an artist that nothing refers to. Outcomes: `deleted`, `not_found`, `has_events`
-- (detaching would leave the events' `artist_name` naming no artist, and the next change of the
-- event would create it again), `has_members` (memberships, paid for, are never deleted).
CREATE FUNCTION artist_delete(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_artist_id uuid
) RETURNS TABLE (outcome text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    -- The row lock orders this after a concurrent event insert naming it (its foreign key
    -- takes KEY SHARE on this row).
    PERFORM FROM artists WHERE id = p_artist_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text;
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM events WHERE artist_id = p_artist_id) THEN
        RETURN QUERY SELECT 'has_events'::text;
        RETURN;
    END IF;
    IF to_regclass('artist_memberships') IS NOT NULL
       AND EXISTS (SELECT FROM artist_memberships WHERE artist_id = p_artist_id) THEN
        RETURN QUERY SELECT 'has_members'::text;
        RETURN;
    END IF;
    DELETE FROM artists WHERE id = p_artist_id;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'artist.delete', 'artist', p_artist_id::text,
                        p_summary, 'deleted');
    RETURN QUERY SELECT 'deleted'::text;
END;
$$;

-- ---------------------------------------------------------------- grants

REVOKE ALL ON FUNCTION artist_for_name(text), events_resolve_artist() FROM PUBLIC;
REVOKE ALL ON FUNCTION
    artist_create(uuid, inet, jsonb, text, text, text, integer),
    artist_update(uuid, inet, jsonb, uuid, text, text, boolean, text, boolean, integer),
    artist_delete(uuid, inet, jsonb, uuid)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    artist_create(uuid, inet, jsonb, text, text, text, integer),
    artist_update(uuid, inet, jsonb, uuid, text, text, boolean, text, boolean, integer),
    artist_delete(uuid, inet, jsonb, uuid)
TO urr_artists;
-- Reads: the artists, and their events with prices as the catalog computes them.
GRANT SELECT ON artists, events, ticket_types, seat_layouts TO urr_artists;
