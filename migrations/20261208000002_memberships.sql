-- Memberships (docs/fan.md): one row per user and artist, reused on renewal; the point log;
-- tiers from points; expiry computed at read time (no worker). Writes go through SECURITY
-- DEFINER functions only: `membership_subscribe` for the `memberships` component, and the
-- payment functions of 20261208000003_membership_payments.sql for activation and points.

-- ---------------------------------------------------------------- schema

CREATE TABLE artist_memberships (
    id                   uuid        NOT NULL DEFAULT gen_random_uuid(),
    -- No foreign key: users belong to the auth schema (as payments.user_id).
    user_id              uuid        NOT NULL,
    -- RESTRICT, not URR's CASCADE: a paid membership is never deleted with its artist (the
    -- artist delete refuses first, `has_members`).
    artist_id            uuid        NOT NULL,
    -- Always membership_tier(points): recomputed in the statement that changes points.
    tier                 text        NOT NULL DEFAULT 'SILVER',
    points               integer     NOT NULL DEFAULT 0,
    -- pending (subscribed, not paid) → active (paid; `expired` once expires_at passes, computed
    -- at read time) → pending again on renewal; cancelled: its payment was refunded.
    status               text        NOT NULL,
    joined_at            timestamptz NOT NULL DEFAULT now(),
    expires_at           timestamptz NOT NULL DEFAULT now(),
    -- The payment that last activated it.
    payment_reference_id uuid,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT artist_memberships_pkey PRIMARY KEY (id),
    CONSTRAINT artist_memberships_user_artist_key UNIQUE (user_id, artist_id),
    CONSTRAINT artist_memberships_artist_id_fkey FOREIGN KEY (artist_id)
        REFERENCES artists (id) ON DELETE RESTRICT,
    CONSTRAINT artist_memberships_tier_check CHECK (tier IN ('SILVER', 'GOLD', 'DIAMOND')),
    CONSTRAINT artist_memberships_points_check CHECK (points >= 0),
    CONSTRAINT artist_memberships_status_check
        CHECK (status IN ('pending', 'active', 'cancelled'))
);
-- Member counts per artist.
CREATE INDEX artist_memberships_artist_idx ON artist_memberships (artist_id, expires_at)
    WHERE status = 'active';

CREATE TABLE membership_point_logs (
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    membership_id uuid        NOT NULL,
    action_type   text        NOT NULL,
    -- Negative for a take-back (`*_REVERSED`).
    points        integer     NOT NULL,
    description   text,
    reference_id  uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT membership_point_logs_pkey PRIMARY KEY (id),
    CONSTRAINT membership_point_logs_membership_id_fkey FOREIGN KEY (membership_id)
        REFERENCES artist_memberships (id) ON DELETE CASCADE,
    CONSTRAINT membership_point_logs_action_type_check
        CHECK (action_type ~ '^[A-Z][A-Z_]{0,49}$')
);
-- The newest entries of one membership (pointHistory).
CREATE INDEX membership_point_logs_membership_idx
    ON membership_point_logs (membership_id, created_at DESC);
-- Exactly once: one award per purchase (reference: the reservation, or the activating payment)
-- and one take-back of it.
CREATE UNIQUE INDEX membership_point_logs_once_idx
    ON membership_point_logs (membership_id, action_type, reference_id)
    WHERE reference_id IS NOT NULL;

-- ---------------------------------------------------------------- rules

-- The tier of `p_points` (contract §2.2): ≥ 1500 DIAMOND, ≥ 500 GOLD, else SILVER. A user
-- without an active membership is BRONZE, which no row stores.
CREATE FUNCTION membership_tier(p_points integer) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE WHEN p_points >= 1500 THEN 'DIAMOND' WHEN p_points >= 500 THEN 'GOLD' ELSE 'SILVER' END;

-- The status a reader sees at `p_at`: an active membership past its expiry is `expired`.
CREATE FUNCTION membership_effective_status(p_status text, p_expires_at timestamptz,
                                            p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE WHEN p_status = 'active' AND p_expires_at <= p_at THEN 'expired' ELSE p_status END;

-- Adds `p_points` (negative: takes back) to membership `p_membership_id` with its log row, and
-- recomputes the tier, in the caller's transaction. A second call with the same (membership,
-- action, reference) changes nothing. Returns whether it applied.
CREATE FUNCTION membership_award(p_membership_id uuid, p_action text, p_points integer,
                                 p_description text, p_reference_id uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = public, pg_temp
AS $$
BEGIN
    INSERT INTO membership_point_logs (membership_id, action_type, points, description,
                                       reference_id)
    VALUES (p_membership_id, p_action, p_points, p_description, p_reference_id)
    ON CONFLICT (membership_id, action_type, reference_id) WHERE reference_id IS NOT NULL
        DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE artist_memberships
       SET points = points + p_points, tier = membership_tier(points + p_points),
           updated_at = now()
     WHERE id = p_membership_id;
    RETURN true;
END;
$$;

-- ---------------------------------------------------------------- subscribe

-- POST /memberships/subscribe: the caller's membership of `p_artist_id` as `pending`, to be
-- paid. No row: one is created (SILVER, 0 points). A pending row: the same one (idempotent).
-- A row that is not an unexpired active one (expired, cancelled): back to pending, points and
-- tier kept (renewal). Outcomes: subscribed | artist_not_found | already_member.
CREATE FUNCTION membership_subscribe(p_user_id uuid, p_artist_id uuid)
RETURNS TABLE (outcome text, membership_id uuid, artist_name text, price integer, status text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    a artists;
    m artist_memberships;
BEGIN
    -- FOR SHARE: an artist delete waits for this, then sees the membership.
    SELECT * INTO a FROM artists WHERE id = p_artist_id FOR SHARE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'artist_not_found'::text, NULL::uuid, NULL::text, NULL::integer,
                            NULL::text;
        RETURN;
    END IF;
    INSERT INTO artist_memberships (user_id, artist_id, status)
    VALUES (p_user_id, p_artist_id, 'pending')
    ON CONFLICT ON CONSTRAINT artist_memberships_user_artist_key DO NOTHING
    RETURNING * INTO m;
    IF m.id IS NULL THEN
        SELECT * INTO m FROM artist_memberships
         WHERE user_id = p_user_id AND artist_id = p_artist_id FOR UPDATE;
        IF membership_effective_status(m.status, m.expires_at, now()) = 'active' THEN
            RETURN QUERY SELECT 'already_member'::text, m.id, a.name, a.membership_price,
                                m.status;
            RETURN;
        END IF;
        IF m.status <> 'pending' THEN
            UPDATE artist_memberships
               SET status = 'pending', updated_at = now()
             WHERE id = m.id
            RETURNING * INTO m;
        END IF;
    END IF;
    RETURN QUERY SELECT 'subscribed'::text, m.id, a.name, a.membership_price, m.status;
END;
$$;

-- Active, unexpired members of artist `p_artist_id` (GET /artists, GET /artists/{id}):
-- SECURITY DEFINER, so the `artists` role counts members without reading whose they are.
CREATE FUNCTION artist_member_count(p_artist_id uuid) RETURNS int8
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
RETURN (SELECT count(*) FROM artist_memberships
         WHERE artist_id = p_artist_id AND status = 'active' AND expires_at > now());

-- ---------------------------------------------------------------- grants

REVOKE ALL ON FUNCTION membership_award(uuid, text, integer, text, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION membership_subscribe(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION membership_subscribe(uuid, uuid) TO urr_memberships;
-- Reads: the component filters by the caller.
GRANT SELECT ON artists, artist_memberships, membership_point_logs TO urr_memberships;
REVOKE ALL ON FUNCTION artist_member_count(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION artist_member_count(uuid) TO urr_artists;
