-- Auth: users, refresh-token families and the SQL functions that do each session transition in
-- one round trip (Spin has no transaction API). Only `urr_auth` (components `auth` and
-- `auth-refresh`) may touch these tables.
--
-- Refresh tokens are stored only as SHA-256 hashes. A spent token keeps its child wrapped
-- (XOR) under a key derived from the spent token itself, so the "two tabs" replay inside the
-- grace window can hand back the very same child while the table alone reveals nothing usable.

CREATE TABLE users (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    email text NOT NULL,
    password_hash text NOT NULL,
    name text NOT NULL,
    phone text,
    role text NOT NULL DEFAULT 'user',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_role_check CHECK (role IN ('user', 'admin')),
    CONSTRAINT users_email_length CHECK (char_length(email) BETWEEN 3 AND 254),
    CONSTRAINT users_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT users_phone_length CHECK (phone IS NULL OR char_length(phone) <= 20),
    CONSTRAINT users_password_hash_argon2id CHECK (password_hash LIKE '$argon2id$v=19$%')
);
-- Unique case-insensitively: `A@x.io` and `a@x.io` are one account.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- One family per login: every rotation stays in it, and reuse revokes all of it.
CREATE TABLE refresh_families (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Last time a token of the family was issued: access tokens live at most 30 min after it.
    last_issued_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    revoked_reason text,
    CONSTRAINT refresh_families_pkey PRIMARY KEY (id),
    CONSTRAINT refresh_families_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT refresh_families_reason_check
        CHECK (revoked_reason IS NULL OR revoked_reason IN ('reuse', 'logout', 'logout_all'))
);
CREATE INDEX refresh_families_user_idx ON refresh_families (user_id, last_issued_at);

CREATE TABLE refresh_tokens (
    token_hash bytea NOT NULL,
    family_id uuid NOT NULL,
    parent_hash bytea,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    spent_at timestamptz,
    -- Set when spent: the child's hash and the child wrapped under a key only the spent token's
    -- holder can derive.
    child_hash bytea,
    child_wrapped bytea,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (token_hash),
    CONSTRAINT refresh_tokens_family_fkey FOREIGN KEY (family_id) REFERENCES refresh_families (id) ON DELETE CASCADE,
    CONSTRAINT refresh_tokens_hash_length CHECK (octet_length(token_hash) = 32),
    CONSTRAINT refresh_tokens_spent_has_child CHECK ((spent_at IS NULL) = (child_hash IS NULL))
);
-- A token has at most one child: the family can never fork, whatever the interleaving.
CREATE UNIQUE INDEX refresh_tokens_one_child ON refresh_tokens (parent_hash) WHERE parent_hash IS NOT NULL;
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

-- The user as every auth response shows it (createdAt as ISO-8601 UTC).
CREATE FUNCTION auth_user_json(u users) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', u.id::text,
        'email', u.email,
        'name', u.name,
        'role', u.role,
        'createdAt', to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
$$;

-- A new family for `p_user_id` with its first refresh token; returns the family id.
CREATE FUNCTION auth_new_family(p_user_id uuid, p_token_hash bytea, p_ttl_secs integer)
RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_family uuid := gen_random_uuid();
BEGIN
    INSERT INTO refresh_families (id, user_id) VALUES (v_family, p_user_id);
    INSERT INTO refresh_tokens (token_hash, family_id, expires_at)
    VALUES (p_token_hash, v_family, now() + make_interval(secs => p_ttl_secs));
    RETURN v_family;
END
$$;

-- Registration: the user, their first family and refresh token, or nothing (email taken).
CREATE FUNCTION auth_register(
    p_email text, p_password_hash text, p_name text, p_phone text,
    p_token_hash bytea, p_ttl_secs integer)
RETURNS TABLE (outcome text, user_json jsonb, family_id text)
LANGUAGE plpgsql AS $$
DECLARE
    v_user users;
BEGIN
    INSERT INTO users (email, password_hash, name, phone)
    VALUES (p_email, p_password_hash, p_name, p_phone)
    ON CONFLICT ((lower(email))) DO NOTHING
    RETURNING * INTO v_user;
    IF v_user.id IS NULL THEN
        RETURN QUERY SELECT 'email_taken'::text, NULL::jsonb, NULL::text;
        RETURN;
    END IF;
    RETURN QUERY SELECT 'created'::text, auth_user_json(v_user),
        auth_new_family(v_user.id, p_token_hash, p_ttl_secs)::text;
END
$$;

-- Login, second half (the password was verified by the component): a new family and token.
CREATE FUNCTION auth_start_session(p_user_id uuid, p_token_hash bytea, p_ttl_secs integer)
RETURNS TABLE (outcome text, user_json jsonb, family_id text)
LANGUAGE plpgsql AS $$
DECLARE
    v_user users;
BEGIN
    SELECT * INTO v_user FROM users WHERE id = p_user_id;
    IF v_user.id IS NULL THEN
        RETURN QUERY SELECT 'unknown_user'::text, NULL::jsonb, NULL::text;
        RETURN;
    END IF;
    RETURN QUERY SELECT 'started'::text, auth_user_json(v_user),
        auth_new_family(p_user_id, p_token_hash, p_ttl_secs)::text;
END
$$;

-- Rotation, the whole decision in one function. The row lock serializes concurrent refreshes of
-- one token: the first spends it and issues the child, every later one sees it spent.
--   rotated  — the token was live: spent now, `p_child_*` stored and issued
--   replayed — spent within the grace window and its child not yet spent: the same child again
--   reused   — spent earlier than that (or its child already spent): the family is revoked now
--   revoked / expired / invalid — nothing changes
-- `family_id`, `user_id` and `last_issued_at` are returned for the deny-list on reuse.
CREATE FUNCTION auth_rotate_refresh(
    p_token_hash bytea, p_child_hash bytea, p_child_wrapped bytea,
    p_grace_ms integer, p_ttl_secs integer)
RETURNS TABLE (outcome text, user_json jsonb, family_id text, user_id text, child_wrapped bytea)
LANGUAGE plpgsql AS $$
DECLARE
    v_token refresh_tokens;
    v_family refresh_families;
    v_user users;
    v_child_spent boolean;
BEGIN
    SELECT * INTO v_token FROM refresh_tokens WHERE token_hash = p_token_hash FOR UPDATE;
    IF v_token.token_hash IS NULL THEN
        RETURN QUERY SELECT 'invalid'::text, NULL::jsonb, NULL::text, NULL::text, NULL::bytea;
        RETURN;
    END IF;
    SELECT * INTO v_family FROM refresh_families WHERE id = v_token.family_id FOR UPDATE;
    SELECT * INTO v_user FROM users WHERE id = v_family.user_id;
    IF v_family.revoked_at IS NOT NULL THEN
        RETURN QUERY SELECT 'revoked'::text, NULL::jsonb, v_family.id::text, v_user.id::text, NULL::bytea;
        RETURN;
    END IF;

    IF v_token.spent_at IS NULL THEN
        IF v_token.expires_at <= now() THEN
            RETURN QUERY SELECT 'expired'::text, NULL::jsonb, v_family.id::text, v_user.id::text, NULL::bytea;
            RETURN;
        END IF;
        UPDATE refresh_tokens
           SET spent_at = now(), child_hash = p_child_hash, child_wrapped = p_child_wrapped
         WHERE token_hash = p_token_hash;
        INSERT INTO refresh_tokens (token_hash, family_id, parent_hash, expires_at)
        VALUES (p_child_hash, v_family.id, p_token_hash, now() + make_interval(secs => p_ttl_secs));
        UPDATE refresh_families SET last_issued_at = now() WHERE id = v_family.id;
        RETURN QUERY SELECT 'rotated'::text, auth_user_json(v_user), v_family.id::text, v_user.id::text, p_child_wrapped;
        RETURN;
    END IF;

    SELECT c.spent_at IS NOT NULL INTO v_child_spent FROM refresh_tokens c WHERE c.token_hash = v_token.child_hash;
    IF now() - v_token.spent_at <= make_interval(secs => p_grace_ms / 1000.0)
       AND NOT coalesce(v_child_spent, true) THEN
        RETURN QUERY SELECT 'replayed'::text, auth_user_json(v_user), v_family.id::text, v_user.id::text, v_token.child_wrapped;
        RETURN;
    END IF;

    UPDATE refresh_families SET revoked_at = now(), revoked_reason = 'reuse' WHERE id = v_family.id;
    RETURN QUERY SELECT 'reused'::text, NULL::jsonb, v_family.id::text, v_user.id::text, NULL::bytea;
END
$$;

-- Logout: revoke the session's family, or every family of the user. Returns the revoked families
-- whose access tokens may still be alive (a token issued within `p_access_ttl_secs`), newest
-- first and at most `p_limit`, for the deny-list.
CREATE FUNCTION auth_logout(
    p_user_id uuid, p_family_id uuid, p_all boolean, p_access_ttl_secs integer, p_limit integer)
RETURNS TABLE (family_id text)
LANGUAGE sql AS $$
    WITH revoked AS (
        UPDATE refresh_families f
           SET revoked_at = coalesce(f.revoked_at, now()),
               revoked_reason = coalesce(f.revoked_reason,
                                         CASE WHEN p_all THEN 'logout_all' ELSE 'logout' END)
         WHERE f.user_id = p_user_id
           AND (p_all OR f.id = p_family_id)
        RETURNING f.id, f.last_issued_at
    )
    SELECT id::text FROM revoked
     WHERE last_issued_at > now() - make_interval(secs => p_access_ttl_secs)
     ORDER BY last_issued_at DESC
     LIMIT p_limit
$$;

-- Functions run with the caller's rights (SECURITY INVOKER): `urr_auth` needs the table grants
-- too, and nobody else may call them.
REVOKE EXECUTE ON FUNCTION
    auth_user_json(users),
    auth_new_family(uuid, bytea, integer),
    auth_register(text, text, text, text, bytea, integer),
    auth_start_session(uuid, bytea, integer),
    auth_rotate_refresh(bytea, bytea, bytea, integer, integer),
    auth_logout(uuid, uuid, boolean, integer, integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    auth_user_json(users),
    auth_new_family(uuid, bytea, integer),
    auth_register(text, text, text, text, bytea, integer),
    auth_start_session(uuid, bytea, integer),
    auth_rotate_refresh(bytea, bytea, bytea, integer, integer),
    auth_logout(uuid, uuid, boolean, integer, integer)
    TO urr_auth;
GRANT SELECT, INSERT, UPDATE ON users, refresh_families, refresh_tokens TO urr_auth;
