-- 0006_visibility_interactions: each post's audience, and interaction edges derived from posts.
-- posts.visibility: public / unlisted / followers / direct, NULL = unknown (only public posts are
-- ever published). edges.post_id: the post an interaction edge (reply/mention/repost/quote) was
-- derived from (NULL for observed edges such as follows). Columns are in docs/data_format.md.
ALTER TABLE posts ADD COLUMN visibility VARCHAR;
ALTER TABLE edges ADD COLUMN post_id VARCHAR;
-- Posts loaded before this migration: Mastodon statuses kept the API's visibility in attrs; posts
-- of other platforms had no audience setting (public tweets, Bluesky, feeds) and are public;
-- Mastodon posts without a recorded visibility (outbox activities) are unknown.
UPDATE posts SET visibility = CASE lower(json_extract_string(attrs, '$.visibility'))
        WHEN 'public' THEN 'public' WHEN 'unlisted' THEN 'unlisted'
        WHEN 'private' THEN 'followers' WHEN 'direct' THEN 'direct'
        ELSE CASE WHEN post_id LIKE 'mastodon:%' THEN NULL ELSE 'public' END END;
