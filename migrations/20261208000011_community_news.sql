-- The community board (posts and comments) and the news (notices): api-contract-more.md §5, §6.
--
-- Two components, two roles: `urr_community` and `urr_news` may read their own tables and change
-- them only through the functions below (SECURITY DEFINER, pinned search_path, one statement =
-- one transaction). Refusals change nothing and come back as an `outcome` the component maps to
-- 401/403/404. Input shape (lengths, control characters, ids) is validated by the component
-- before it calls; the table checks here stay the last word.
--
-- Views without a hot row (Q16): a detail read APPENDS one row to a view log (an unindexed-key
-- heap insert, no lock any other view waits on) instead of updating the post's `views`. Every
-- read returns the folded `views` plus the rows still in the log, in one snapshot, so the count
-- is exact at every read. About one view in VIEW_FOLD_ONE_IN folds the log into the rows' `views`
-- (at most VIEW_FOLD_LIMIT rows, one folder at a time: a view that finds a fold running skips
-- it), so the log stays short without a background worker. See docs/community.md.

GRANT USAGE ON SCHEMA public TO urr_community, urr_news;

-- ---------------------------------------------------------------- tables

CREATE TABLE community_posts (
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    -- No foreign key yet: the artists table arrives in its own migration. See
    -- `community_artist_exists` below for where the check goes once it exists.
    artist_id     uuid        NOT NULL,
    -- The author's account (no foreign key: users belong to the auth schema, as in the audit log)
    -- and its display name when the post was written (Q13: never a part of the e-mail address).
    author_id     uuid        NOT NULL,
    author_name   text        NOT NULL,
    title         text        NOT NULL,
    content       text        NOT NULL,
    -- Views folded from community_post_view_log (a read adds what the log still holds).
    views         bigint      NOT NULL DEFAULT 0,
    comment_count integer     NOT NULL DEFAULT 0,
    -- No API sets it (as in URR); seeded notices of the board are pinned.
    is_pinned     boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT community_posts_pkey PRIMARY KEY (id),
    CONSTRAINT community_posts_title_length CHECK (char_length(title) BETWEEN 1 AND 255),
    CONSTRAINT community_posts_content_length CHECK (char_length(content) BETWEEN 1 AND 10000),
    CONSTRAINT community_posts_author_name_length CHECK (char_length(author_name) BETWEEN 1 AND 100),
    CONSTRAINT community_posts_views_check CHECK (views >= 0),
    CONSTRAINT community_posts_comment_count_check CHECK (comment_count >= 0)
);
-- The board's order (pinned first, then newest), overall and per artist tab.
CREATE INDEX community_posts_board_idx ON community_posts (is_pinned DESC, created_at DESC, id DESC);
CREATE INDEX community_posts_artist_idx
    ON community_posts (artist_id, is_pinned DESC, created_at DESC, id DESC);

CREATE TABLE community_comments (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    post_id     uuid        NOT NULL,
    author_id   uuid        NOT NULL,
    author_name text        NOT NULL,
    content     text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT community_comments_pkey PRIMARY KEY (id),
    CONSTRAINT community_comments_post_id_fkey FOREIGN KEY (post_id)
        REFERENCES community_posts (id) ON DELETE CASCADE,
    CONSTRAINT community_comments_content_length CHECK (char_length(content) BETWEEN 1 AND 1000),
    CONSTRAINT community_comments_author_name_length
        CHECK (char_length(author_name) BETWEEN 1 AND 100)
);
-- A post's comments, oldest first.
CREATE INDEX community_comments_post_idx ON community_comments (post_id, created_at, id);

CREATE TABLE news (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    title      text        NOT NULL,
    content    text        NOT NULL,
    -- The author's display name, from the account (Q15: never the client's text).
    author     text        NOT NULL,
    -- NULL for notices no account signed (the seeded ones).
    author_id  uuid,
    views      bigint      NOT NULL DEFAULT 0,
    is_pinned  boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT news_pkey PRIMARY KEY (id),
    CONSTRAINT news_title_length CHECK (char_length(title) BETWEEN 1 AND 255),
    CONSTRAINT news_content_length CHECK (char_length(content) BETWEEN 1 AND 10000),
    CONSTRAINT news_author_length CHECK (char_length(author) BETWEEN 1 AND 100),
    CONSTRAINT news_views_check CHECK (views >= 0)
);
CREATE INDEX news_list_idx ON news (is_pinned DESC, created_at DESC, id DESC);

-- One row per view not yet folded. No key and no foreign key: appends must not wait on anything
-- (a view of a post deleted meanwhile leaves a row the next fold drops). The index serves the
-- per-post count every read adds. Never truncated by vacuum: the truncation's ACCESS EXCLUSIVE
-- lock would queue every view behind it.
CREATE TABLE community_post_view_log (
    post_id uuid NOT NULL
) WITH (vacuum_truncate = false);
CREATE INDEX community_post_view_log_post_idx ON community_post_view_log (post_id);

CREATE TABLE news_view_log (
    news_id uuid NOT NULL
) WITH (vacuum_truncate = false);
CREATE INDEX news_view_log_news_idx ON news_view_log (news_id);

-- ---------------------------------------------------------------- reply rows

-- What every post function and read returns (times as Unix milliseconds; the component formats
-- them). `content` is NULL in lists.
CREATE TYPE community_post_result AS (
    outcome       text,
    id            text,
    artist_id     text,
    author_id     text,
    author_name   text,
    title         text,
    content       text,
    views         int8,
    comment_count int8,
    is_pinned     boolean,
    created_at    int8,
    updated_at    int8
);

CREATE TYPE community_comment_result AS (
    outcome     text,
    id          text,
    post_id     text,
    author_id   text,
    author_name text,
    content     text,
    created_at  int8
);

CREATE TYPE news_result AS (
    outcome    text,
    id         text,
    title      text,
    content    text,
    author     text,
    author_id  text,
    views      int8,
    is_pinned  boolean,
    created_at int8,
    updated_at int8
);

-- A post as the API shows it: folded views plus the views still in the log. STABLE, so it reads
-- in its caller's snapshot: called within one statement, a concurrent fold is seen either
-- wholly (rows moved into `views`) or not at all (rows still in the log), never half.
CREATE FUNCTION community_post_row(p_outcome text, p community_posts, p_with_content boolean)
RETURNS community_post_result
LANGUAGE sql STABLE
SET search_path = public, pg_temp
BEGIN ATOMIC
    SELECT p_outcome, p.id::text, p.artist_id::text, p.author_id::text, p.author_name, p.title,
           CASE WHEN p_with_content THEN p.content END,
           p.views + (SELECT count(*) FROM community_post_view_log AS l WHERE l.post_id = p.id),
           p.comment_count::int8, p.is_pinned,
           floor(extract(epoch FROM p.created_at) * 1000)::int8,
           floor(extract(epoch FROM p.updated_at) * 1000)::int8;
END;

CREATE FUNCTION community_comment_row(p_outcome text, c community_comments)
RETURNS community_comment_result
LANGUAGE sql IMMUTABLE
SET search_path = public, pg_temp
BEGIN ATOMIC
    SELECT p_outcome, c.id::text, c.post_id::text, c.author_id::text, c.author_name, c.content,
           floor(extract(epoch FROM c.created_at) * 1000)::int8;
END;

CREATE FUNCTION news_row(p_outcome text, n news)
RETURNS news_result
LANGUAGE sql STABLE
SET search_path = public, pg_temp
BEGIN ATOMIC
    SELECT p_outcome, n.id::text, n.title, n.content, n.author, n.author_id::text,
           n.views + (SELECT count(*) FROM news_view_log AS l WHERE l.news_id = n.id),
           n.is_pinned,
           floor(extract(epoch FROM n.created_at) * 1000)::int8,
           floor(extract(epoch FROM n.updated_at) * 1000)::int8;
END;

-- ---------------------------------------------------------------- folding views

-- Moves at most p_limit logged views into the posts' `views`; one folder at a time (a caller
-- that finds a fold in progress skips: views never wait for a fold). Each post is updated once
-- per fold however many views it had, and in id order, so two transactions never lock posts in
-- opposite orders.
CREATE FUNCTION community_fold_post_views(p_limit integer) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('community_fold_post_views')) THEN
        RETURN;
    END IF;
    WITH moved AS (
        DELETE FROM community_post_view_log
         WHERE ctid = ANY (ARRAY(SELECT ctid FROM community_post_view_log LIMIT p_limit))
        RETURNING post_id
    ), counted AS (
        SELECT post_id, count(*) AS views FROM moved GROUP BY post_id ORDER BY post_id
    )
    UPDATE community_posts AS p SET views = p.views + c.views
      FROM counted AS c
     WHERE p.id = c.post_id;
END;
$$;

CREATE FUNCTION news_fold_views(p_limit integer) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('news_fold_views')) THEN
        RETURN;
    END IF;
    WITH moved AS (
        DELETE FROM news_view_log
         WHERE ctid = ANY (ARRAY(SELECT ctid FROM news_view_log LIMIT p_limit))
        RETURNING news_id
    ), counted AS (
        SELECT news_id, count(*) AS views FROM moved GROUP BY news_id ORDER BY news_id
    )
    UPDATE news AS n SET views = n.views + c.views
      FROM counted AS c
     WHERE n.id = c.news_id;
END;
$$;

-- ---------------------------------------------------------------- artists (the seam)

-- ===== ARTIST SEAM: the one place the community depends on artists. =====
-- Whether a new post may name this artist. The artists table does not exist in this migration's
-- world, so every well-formed id is accepted (as URR does: no check, no foreign key). Once the
-- artists migration has run, a later migration replaces this body with
--     SELECT EXISTS (SELECT FROM artists WHERE id = p_artist_id)
-- and adds `community_posts_artist_id_fkey` (after deleting or re-pointing posts whose artist
-- does not exist); the post function already answers `artist_not_found` (404) on false.
CREATE FUNCTION community_artist_exists(p_artist_id uuid) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = public, pg_temp
BEGIN ATOMIC
    SELECT p_artist_id IS NOT NULL;
END;

-- ---------------------------------------------------------------- posts

-- A detail read: appends one view and returns the post with it counted. Outcomes: `viewed`,
-- `post_not_found`.
CREATE FUNCTION community_view_post(p_post_id uuid) RETURNS community_post_result
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    -- About one view in this many folds the log (expected fold capacity per view is
    -- VIEW_FOLD_LIMIT / VIEW_FOLD_ONE_IN rows, far more than the one row a view adds).
    view_fold_one_in CONSTANT integer := 32;
    view_fold_limit  CONSTANT integer := 10000;
    r community_post_result;
BEGIN
    IF NOT EXISTS (SELECT FROM community_posts WHERE id = p_post_id) THEN
        r.outcome := 'post_not_found';
        RETURN r;
    END IF;
    INSERT INTO community_post_view_log (post_id) VALUES (p_post_id);
    IF random() * view_fold_one_in < 1 THEN
        PERFORM community_fold_post_views(view_fold_limit);
    END IF;
    -- One statement: the post and the log in one snapshot.
    SELECT x.* INTO r
      FROM community_posts AS p
     CROSS JOIN LATERAL community_post_row('viewed', p, true) AS x
     WHERE p.id = p_post_id;
    IF NOT FOUND THEN
        r.outcome := 'post_not_found';
    END IF;
    RETURN r;
END;
$$;

-- Outcomes: `created`, `unknown_author` (the token's account does not exist), `artist_not_found`.
CREATE FUNCTION community_create_post(
    p_author_id uuid, p_artist_id uuid, p_title text, p_content text
) RETURNS community_post_result
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_name text;
    v_post community_posts;
    r community_post_result;
BEGIN
    SELECT name INTO v_name FROM users WHERE id = p_author_id;
    IF NOT FOUND THEN
        r.outcome := 'unknown_author';
        RETURN r;
    END IF;
    IF NOT community_artist_exists(p_artist_id) THEN
        r.outcome := 'artist_not_found';
        RETURN r;
    END IF;
    INSERT INTO community_posts (artist_id, author_id, author_name, title, content)
    VALUES (p_artist_id, p_author_id, v_name, p_title, p_content)
    RETURNING * INTO v_post;
    RETURN community_post_row('created', v_post, true);
END;
$$;

-- The author changes title and content (not even an admin may: the contract's rule).
-- Outcomes: `updated`, `post_not_found`, `not_post_author`.
CREATE FUNCTION community_update_post(
    p_user_id uuid, p_post_id uuid, p_title text, p_content text
) RETURNS community_post_result
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_post community_posts;
    r community_post_result;
BEGIN
    SELECT * INTO v_post FROM community_posts WHERE id = p_post_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        r.outcome := 'post_not_found';
        RETURN r;
    END IF;
    IF v_post.author_id <> p_user_id THEN
        r.outcome := 'not_post_author';
        RETURN r;
    END IF;
    UPDATE community_posts SET title = p_title, content = p_content, updated_at = now()
     WHERE id = p_post_id
    RETURNING * INTO v_post;
    RETURN community_post_row('updated', v_post, true);
END;
$$;

-- The author or an admin deletes a post; its comments go with it. Outcomes: `deleted`,
-- `post_not_found`, `cannot_delete_post`.
CREATE FUNCTION community_delete_post(p_user_id uuid, p_is_admin boolean, p_post_id uuid)
RETURNS TABLE (outcome text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_author uuid;
BEGIN
    SELECT author_id INTO v_author FROM community_posts WHERE id = p_post_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'post_not_found'::text;
        RETURN;
    END IF;
    IF v_author <> p_user_id AND NOT p_is_admin THEN
        RETURN QUERY SELECT 'cannot_delete_post'::text;
        RETURN;
    END IF;
    DELETE FROM community_posts WHERE id = p_post_id;
    RETURN QUERY SELECT 'deleted'::text;
END;
$$;

-- ---------------------------------------------------------------- comments

-- Adds a comment and counts it on the post, in that post-then-comment lock order (the same as a
-- post delete's, so the two cannot deadlock). Outcomes: `created`, `post_not_found`,
-- `unknown_author`.
CREATE FUNCTION community_create_comment(p_author_id uuid, p_post_id uuid, p_content text)
RETURNS community_comment_result
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_name text;
    v_comment community_comments;
    r community_comment_result;
BEGIN
    SELECT name INTO v_name FROM users WHERE id = p_author_id;
    IF NOT FOUND THEN
        r.outcome := 'unknown_author';
        RETURN r;
    END IF;
    UPDATE community_posts SET comment_count = comment_count + 1 WHERE id = p_post_id;
    IF NOT FOUND THEN
        r.outcome := 'post_not_found';
        RETURN r;
    END IF;
    INSERT INTO community_comments (post_id, author_id, author_name, content)
    VALUES (p_post_id, p_author_id, v_name, p_content)
    RETURNING * INTO v_comment;
    RETURN community_comment_row('created', v_comment);
END;
$$;

-- The author or an admin deletes a comment of that post (a comment of another post is not
-- found: Q14). Outcomes: `deleted`, `comment_not_found`, `cannot_delete_comment`.
CREATE FUNCTION community_delete_comment(
    p_user_id uuid, p_is_admin boolean, p_post_id uuid, p_comment_id uuid
) RETURNS TABLE (outcome text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_author uuid;
BEGIN
    -- The post first, then the comment: a post delete locks in the same order.
    PERFORM FROM community_posts WHERE id = p_post_id FOR NO KEY UPDATE;
    SELECT author_id INTO v_author FROM community_comments
     WHERE id = p_comment_id AND post_id = p_post_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'comment_not_found'::text;
        RETURN;
    END IF;
    IF v_author <> p_user_id AND NOT p_is_admin THEN
        RETURN QUERY SELECT 'cannot_delete_comment'::text;
        RETURN;
    END IF;
    DELETE FROM community_comments WHERE id = p_comment_id;
    UPDATE community_posts SET comment_count = greatest(comment_count - 1, 0)
     WHERE id = p_post_id;
    RETURN QUERY SELECT 'deleted'::text;
END;
$$;

-- ---------------------------------------------------------------- news

-- Like community_view_post. Outcomes: `viewed`, `news_not_found`.
CREATE FUNCTION news_view(p_news_id uuid) RETURNS news_result
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    view_fold_one_in CONSTANT integer := 32;
    view_fold_limit  CONSTANT integer := 10000;
    r news_result;
BEGIN
    IF NOT EXISTS (SELECT FROM news WHERE id = p_news_id) THEN
        r.outcome := 'news_not_found';
        RETURN r;
    END IF;
    INSERT INTO news_view_log (news_id) VALUES (p_news_id);
    IF random() * view_fold_one_in < 1 THEN
        PERFORM news_fold_views(view_fold_limit);
    END IF;
    SELECT x.* INTO r
      FROM news AS n CROSS JOIN LATERAL news_row('viewed', n) AS x
     WHERE n.id = p_news_id;
    IF NOT FOUND THEN
        r.outcome := 'news_not_found';
    END IF;
    RETURN r;
END;
$$;

-- An admin publishes a notice, signed with the account's name, and its audit row in the same
-- transaction (`admin_audit`, migrations/20261130000005_admin.sql). Outcomes: `created`,
-- `unknown_author`.
CREATE FUNCTION news_create(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb,
    p_title text, p_content text, p_is_pinned boolean
) RETURNS news_result
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_name text;
    v_news news;
    r news_result;
BEGIN
    SELECT name INTO v_name FROM users WHERE id = p_admin_id;
    IF NOT FOUND THEN
        r.outcome := 'unknown_author';
        RETURN r;
    END IF;
    INSERT INTO news (title, content, author, author_id, is_pinned)
    VALUES (p_title, p_content, v_name, p_admin_id, coalesce(p_is_pinned, false))
    RETURNING * INTO v_news;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'news.create', 'news', v_news.id::text,
                        p_summary, 'created');
    RETURN news_row('created', v_news);
END;
$$;

-- Any admin edits a notice (Q14; audited). `p_is_pinned` NULL keeps the pin. The author stays
-- the original one. Outcomes: `updated`, `news_not_found`.
CREATE FUNCTION news_update(
    p_admin_id uuid, p_client_ip inet, p_summary jsonb,
    p_news_id uuid, p_title text, p_content text, p_is_pinned boolean
) RETURNS news_result
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_news news;
    r news_result;
BEGIN
    UPDATE news SET title = p_title, content = p_content,
                    is_pinned = coalesce(p_is_pinned, is_pinned), updated_at = now()
     WHERE id = p_news_id
    RETURNING * INTO v_news;
    IF NOT FOUND THEN
        r.outcome := 'news_not_found';
        RETURN r;
    END IF;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'news.update', 'news', p_news_id::text,
                        p_summary, 'updated');
    RETURN news_row('updated', v_news);
END;
$$;

-- Outcomes: `deleted`, `news_not_found`.
CREATE FUNCTION news_delete(p_admin_id uuid, p_client_ip inet, p_summary jsonb, p_news_id uuid)
RETURNS TABLE (outcome text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    DELETE FROM news WHERE id = p_news_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'news_not_found'::text;
        RETURN;
    END IF;
    PERFORM admin_audit(p_admin_id, p_client_ip, 'news.delete', 'news', p_news_id::text,
                        p_summary, 'deleted');
    RETURN QUERY SELECT 'deleted'::text;
END;
$$;

-- ---------------------------------------------------------------- grants

REVOKE ALL ON TABLE community_posts, community_comments, community_post_view_log, news,
    news_view_log FROM PUBLIC;
REVOKE ALL ON FUNCTION
    community_post_row(text, community_posts, boolean),
    community_comment_row(text, community_comments),
    news_row(text, news),
    community_fold_post_views(integer),
    news_fold_views(integer),
    community_artist_exists(uuid),
    community_view_post(uuid),
    community_create_post(uuid, uuid, text, text),
    community_update_post(uuid, uuid, text, text),
    community_delete_post(uuid, boolean, uuid),
    community_create_comment(uuid, uuid, text),
    community_delete_comment(uuid, boolean, uuid, uuid),
    news_view(uuid),
    news_create(uuid, inet, jsonb, text, text, boolean),
    news_update(uuid, inet, jsonb, uuid, text, text, boolean),
    news_delete(uuid, inet, jsonb, uuid)
FROM PUBLIC;

-- The lists are plain reads (they count the unfolded views themselves); every change is a
-- function. Neither role reads `users` or the audit log: the functions do.
GRANT SELECT ON community_posts, community_comments, community_post_view_log TO urr_community;
GRANT EXECUTE ON FUNCTION
    community_post_row(text, community_posts, boolean),
    community_comment_row(text, community_comments),
    community_view_post(uuid),
    community_create_post(uuid, uuid, text, text),
    community_update_post(uuid, uuid, text, text),
    community_delete_post(uuid, boolean, uuid),
    community_create_comment(uuid, uuid, text),
    community_delete_comment(uuid, boolean, uuid, uuid)
TO urr_community;

GRANT SELECT ON news, news_view_log TO urr_news;
GRANT EXECUTE ON FUNCTION
    news_row(text, news),
    news_view(uuid),
    news_create(uuid, inet, jsonb, text, text, boolean),
    news_update(uuid, inet, jsonb, uuid, text, text, boolean),
    news_delete(uuid, inet, jsonb, uuid)
TO urr_news;
