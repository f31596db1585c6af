//! Every statement the `community` and `news` components run, each one round trip. Changes and
//! detail reads (which count a view) are calls of the functions of
//! migrations/20261208000011_community_news.sql; lists are plain reads that add the views still
//! in the log (`community_post_row`, `news_row`) for the page's rows only.
//!
//! Rows come back in the functions' result types: ids as text, times as Unix milliseconds. A
//! parameter that may be NULL is cast from text (`$1::text::uuid`): a statement first prepared
//! with an untyped NULL there would take the cast's type, and a later value would then arrive in
//! the wrong binary format.

/// The post columns of `community_post_result` (after `outcome`).
pub const POST_COLUMNS: &str = "id, artist_id, author_id, author_name, title, content, views, \
                                comment_count, is_pinned, created_at, updated_at";

/// One page of the board, pinned first then newest, plus the total that match: `$1` artist id
/// (text) or NULL, `$2` limit, `$3` offset. Exactly one row has `id` NULL when the page is empty
/// (it still carries `total`). The unfolded views are counted for the page's posts only.
pub const LIST_POSTS: &str = "\
    SELECT counted.total, r.* \
    FROM (SELECT count(*) AS total FROM community_posts \
          WHERE $1::text IS NULL OR artist_id = $1::text::uuid) AS counted \
    LEFT JOIN LATERAL ( \
        SELECT x.* \
        FROM (SELECT p FROM community_posts AS p \
              WHERE $1::text IS NULL OR p.artist_id = $1::text::uuid \
              ORDER BY p.is_pinned DESC, p.created_at DESC, p.id DESC \
              LIMIT $2::int8 OFFSET $3::int8) AS page \
        CROSS JOIN LATERAL community_post_row('listed', page.p, false) AS x \
    ) AS r ON true \
    ORDER BY r.is_pinned DESC, r.created_at DESC, r.id DESC";

/// `$1` post id: counts one view and returns the post with it.
pub const VIEW_POST: &str = "SELECT * FROM community_view_post($1::uuid)";

/// `$1` author, `$2` artist, `$3` title, `$4` content.
pub const CREATE_POST: &str =
    "SELECT * FROM community_create_post($1::uuid, $2::uuid, $3::text, $4::text)";

/// `$1` the caller, `$2` post, `$3` title, `$4` content.
pub const UPDATE_POST: &str =
    "SELECT * FROM community_update_post($1::uuid, $2::uuid, $3::text, $4::text)";

/// `$1` the caller, `$2` whether the caller is an admin, `$3` post.
pub const DELETE_POST: &str =
    "SELECT outcome FROM community_delete_post($1::uuid, $2::boolean, $3::uuid)";

/// One page of a post's comments, oldest first, plus their total: `$1` post, `$2` limit, `$3`
/// offset. One row with `id` NULL when the page is empty (an unknown post has none).
pub const LIST_COMMENTS: &str = "\
    SELECT counted.total, c.id::text AS id, c.post_id::text AS post_id, \
           c.author_id::text AS author_id, c.author_name, c.content, \
           floor(extract(epoch FROM c.created_at) * 1000)::int8 AS created_at \
    FROM (SELECT count(*) AS total FROM community_comments WHERE post_id = $1::uuid) AS counted \
    LEFT JOIN LATERAL ( \
        SELECT * FROM community_comments WHERE post_id = $1::uuid \
        ORDER BY created_at, id LIMIT $2::int8 OFFSET $3::int8 \
    ) AS c ON true \
    ORDER BY c.created_at, c.id";

/// `$1` author, `$2` post, `$3` content.
pub const CREATE_COMMENT: &str =
    "SELECT * FROM community_create_comment($1::uuid, $2::uuid, $3::text)";

/// `$1` the caller, `$2` whether the caller is an admin, `$3` post, `$4` comment.
pub const DELETE_COMMENT: &str =
    "SELECT outcome FROM community_delete_comment($1::uuid, $2::boolean, $3::uuid, $4::uuid)";

/// One page of notices, pinned first then newest, plus their total: `$1` limit, `$2` offset.
pub const LIST_NEWS: &str = "\
    SELECT counted.total, r.* \
    FROM (SELECT count(*) AS total FROM news) AS counted \
    LEFT JOIN LATERAL ( \
        SELECT x.* \
        FROM (SELECT n FROM news AS n \
              ORDER BY n.is_pinned DESC, n.created_at DESC, n.id DESC \
              LIMIT $1::int8 OFFSET $2::int8) AS page \
        CROSS JOIN LATERAL news_row('listed', page.n) AS x \
    ) AS r ON true \
    ORDER BY r.is_pinned DESC, r.created_at DESC, r.id DESC";

/// `$1` notice id: counts one view and returns the notice with it.
pub const VIEW_NEWS: &str = "SELECT * FROM news_view($1::uuid)";

/// Every news change takes `$1` the admin, `$2` the client IP (text) or NULL, `$3` the request
/// summary; then `$4` title, `$5` content, `$6` pin (`true`/`false` text) or NULL.
pub const CREATE_NEWS: &str = "\
    SELECT * FROM news_create($1::uuid, $2::text::inet, $3::jsonb, $4::text, $5::text, \
                              $6::text::boolean)";

/// `$4` notice, `$5` title, `$6` content, `$7` pin or NULL (unchanged).
pub const UPDATE_NEWS: &str = "\
    SELECT * FROM news_update($1::uuid, $2::text::inet, $3::jsonb, $4::uuid, $5::text, $6::text, \
                              $7::text::boolean)";

/// `$4` notice.
pub const DELETE_NEWS: &str =
    "SELECT outcome FROM news_delete($1::uuid, $2::text::inet, $3::jsonb, $4::uuid)";

#[cfg(test)]
mod tests {
    use super::*;

    const MIGRATION: &str = include_str!("../../../migrations/20261208000011_community_news.sql");

    #[test]
    fn every_function_a_statement_calls_is_defined_and_granted() {
        for (statement, function) in [
            (VIEW_POST, "community_view_post"),
            (CREATE_POST, "community_create_post"),
            (UPDATE_POST, "community_update_post"),
            (DELETE_POST, "community_delete_post"),
            (CREATE_COMMENT, "community_create_comment"),
            (DELETE_COMMENT, "community_delete_comment"),
            (LIST_POSTS, "community_post_row"),
            (VIEW_NEWS, "news_view"),
            (CREATE_NEWS, "news_create"),
            (UPDATE_NEWS, "news_update"),
            (DELETE_NEWS, "news_delete"),
            (LIST_NEWS, "news_row"),
        ] {
            assert!(statement.contains(&format!("{function}(")), "{function}");
            assert!(
                MIGRATION.contains(&format!("CREATE FUNCTION {function}(")),
                "{function} is not defined"
            );
            let grants = MIGRATION
                .split("GRANT EXECUTE ON FUNCTION")
                .skip(1)
                .collect::<String>();
            assert!(
                grants.contains(&format!("{function}(")),
                "{function} is not granted"
            );
        }
    }

    #[test]
    fn every_list_is_bounded_and_every_news_change_is_audited() {
        for list in [LIST_POSTS, LIST_COMMENTS, LIST_NEWS] {
            assert!(list.contains("LIMIT $"), "{list}");
        }
        for action in ["news.create", "news.update", "news.delete"] {
            assert!(MIGRATION.contains(&format!("'{action}'")), "{action}");
        }
    }
}
