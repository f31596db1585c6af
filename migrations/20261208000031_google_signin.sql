-- Google sign-in (docs/auth.md "Google sign-in"): an account may be linked to one Google account
-- (its stable `sub`), and an account created by Google sign-in has no password (password login
-- then answers the same 401 as a wrong password: the dummy hash is checked instead).

ALTER TABLE users ADD COLUMN google_id text;
ALTER TABLE users ADD CONSTRAINT users_google_id_length
    CHECK (google_id IS NULL OR char_length(google_id) BETWEEN 1 AND 255);
-- NULL: no password. The Argon2id CHECK still holds for every hash that is set.
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;
-- One account per Google account, whatever the interleaving of concurrent first sign-ins.
CREATE UNIQUE INDEX users_google_id_key ON users (google_id) WHERE google_id IS NOT NULL;

-- Sign-in with a verified Google identity, in one call: find the account, link or create it, and
-- start a session (a new refresh family), as login and registration do.
--   signed_in — an account is linked to `p_sub`
--   linked    — no account had `p_sub`; the account with this e-mail (case-insensitive) had no
--               Google link and now has this one
--   created   — neither existed: a new account without a password, linked to `p_sub`
--   mismatch  — the e-mail's account is linked to another Google account: nothing changes
-- Concurrent first sign-ins of one Google user: both may miss and both insert; the unique
-- indexes let one row in, the other insert does nothing (or its link update conflicts), and the
-- next pass of the loop finds the winner's row. `user_json` carries the token's `picture` for
-- the response only (it is not stored).
CREATE FUNCTION auth_google_sign_in(
    p_sub text, p_email text, p_name text, p_picture text,
    p_token_hash bytea, p_ttl_secs integer)
RETURNS TABLE (outcome text, user_json jsonb, family_id text)
LANGUAGE plpgsql AS $$
DECLARE
    v_user users;
    v_outcome text;
BEGIN
    FOR attempt IN 1..3 LOOP
        SELECT * INTO v_user FROM users WHERE google_id = p_sub;
        IF v_user.id IS NOT NULL THEN
            v_outcome := 'signed_in';
            EXIT;
        END IF;

        SELECT * INTO v_user FROM users WHERE lower(email) = lower(p_email) FOR UPDATE;
        IF v_user.id IS NOT NULL THEN
            IF v_user.google_id IS NOT NULL AND v_user.google_id <> p_sub THEN
                RETURN QUERY SELECT 'mismatch'::text, NULL::jsonb, NULL::text;
                RETURN;
            END IF;
            BEGIN
                UPDATE users SET google_id = p_sub, updated_at = now()
                 WHERE id = v_user.id
                RETURNING * INTO v_user;
                v_outcome := 'linked';
                EXIT;
            EXCEPTION WHEN unique_violation THEN
                -- `p_sub` was linked to another row meanwhile: look again.
                v_user := NULL;
                CONTINUE;
            END;
        END IF;

        INSERT INTO users (email, password_hash, name, google_id)
        VALUES (p_email, NULL, p_name, p_sub)
        ON CONFLICT DO NOTHING
        RETURNING * INTO v_user;
        IF v_user.id IS NOT NULL THEN
            v_outcome := 'created';
            EXIT;
        END IF;
    END LOOP;

    IF v_outcome IS NULL THEN
        -- Three passes each lost a race: not a real user's pattern; the caller answers 503.
        RAISE EXCEPTION 'auth_google_sign_in: no stable account for the subject'
            USING ERRCODE = '40001';
    END IF;
    RETURN QUERY SELECT v_outcome,
        auth_user_json(v_user) || jsonb_build_object('picture', p_picture),
        auth_new_family(v_user.id, p_token_hash, p_ttl_secs)::text;
END
$$;

REVOKE EXECUTE ON FUNCTION auth_google_sign_in(text, text, text, text, bytea, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_google_sign_in(text, text, text, text, bytea, integer) TO urr_auth;
