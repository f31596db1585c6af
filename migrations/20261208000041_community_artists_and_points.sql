-- The community board meets the artists and memberships (the seam left in
-- 20261208000011_community_news.sql):
--
--   community_artist_exists   a new post must name an artist that exists, else the post
--                             function answers `artist_not_found` (404) and writes nothing. URR
--                             accepts any id; a board tab for an artist nobody can open is only
--                             noise. No foreign key: deleting an artist (an admin's audited
--                             change) must neither be blocked by fans' posts nor delete them;
--                             posts stay readable under the id they were written for.
--   community points          a post earns COMMUNITY_POST (30), a comment COMMUNITY_COMMENT (10)
--                             for the author's active membership of the post's artist, in the
--                             transaction that writes it (contract §2.2), at most
--                             COMMUNITY_POSTS_PER_DAY posts and COMMUNITY_COMMENTS_PER_DAY
--                             comments a KST day per membership (Q7: without a cap, posting and
--                             deleting farms points). Never taken back on delete (Q7). Awarded by
--                             triggers on the inserted rows, so every path that writes a post or
--                             a comment awards, and the write functions stay as they are.

CREATE OR REPLACE FUNCTION community_artist_exists(p_artist_id uuid) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = public, pg_temp
BEGIN ATOMIC
    SELECT EXISTS (SELECT FROM artists WHERE id = p_artist_id);
END;

-- Every award's size, one list (the purchase and activation awards were here already).
CREATE OR REPLACE FUNCTION membership_points(p_action text) RETURNS integer
LANGUAGE sql IMMUTABLE
RETURN CASE p_action WHEN 'MEMBERSHIP_JOIN' THEN 200 WHEN 'MEMBERSHIP_RENEW' THEN 200
                     WHEN 'TICKET_PURCHASE' THEN 100 WHEN 'COMMUNITY_POST' THEN 30
                     WHEN 'COMMUNITY_COMMENT' THEN 10 END;

-- How many awards of `p_action` one membership may earn in a KST day.
CREATE FUNCTION community_points_daily_cap(p_action text) RETURNS integer
LANGUAGE sql IMMUTABLE
RETURN CASE p_action WHEN 'COMMUNITY_POST' THEN 10 WHEN 'COMMUNITY_COMMENT' THEN 30 END;

-- Awards `p_action` for `p_reference_id` (the post or comment) to `p_user_id`'s active,
-- unexpired membership of `p_artist_id`, unless today's cap is reached. The membership row is
-- locked first, so two writes of one member count against the cap one after the other. Returns
-- whether points were awarded.
CREATE FUNCTION community_award_points(p_user_id uuid, p_artist_id uuid, p_action text,
                                       p_description text, p_reference_id uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_membership_id uuid;
    v_today_start timestamptz :=
        date_trunc('day', now() AT TIME ZONE 'Asia/Seoul') AT TIME ZONE 'Asia/Seoul';
BEGIN
    SELECT id INTO v_membership_id FROM artist_memberships
     WHERE user_id = p_user_id AND artist_id = p_artist_id
       AND membership_effective_status(status, expires_at, now()) = 'active'
       FOR NO KEY UPDATE;
    IF v_membership_id IS NULL THEN
        RETURN false;
    END IF;
    IF (SELECT count(*) FROM membership_point_logs
         WHERE membership_id = v_membership_id AND action_type = p_action
           AND created_at >= v_today_start) >= community_points_daily_cap(p_action) THEN
        RETURN false;
    END IF;
    RETURN membership_award(v_membership_id, p_action, membership_points(p_action),
                            p_description, p_reference_id);
END;
$$;
REVOKE ALL ON FUNCTION community_award_points(uuid, uuid, text, text, uuid) FROM PUBLIC;

CREATE FUNCTION community_points_on_post() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM community_award_points(NEW.author_id, NEW.artist_id, 'COMMUNITY_POST',
                                   '커뮤니티 글 작성', NEW.id);
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION community_points_on_post() FROM PUBLIC;

CREATE FUNCTION community_points_on_comment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM community_award_points(NEW.author_id,
                                   (SELECT artist_id FROM community_posts WHERE id = NEW.post_id),
                                   'COMMUNITY_COMMENT', '커뮤니티 댓글 작성', NEW.id);
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION community_points_on_comment() FROM PUBLIC;

CREATE TRIGGER community_posts_award_points AFTER INSERT ON community_posts
    FOR EACH ROW EXECUTE FUNCTION community_points_on_post();
CREATE TRIGGER community_comments_award_points AFTER INSERT ON community_comments
    FOR EACH ROW EXECUTE FUNCTION community_points_on_comment();
