-- 0006_visibility_interactions: each post's audience, and interaction edges derived from posts.
-- posts.visibility: public / unlisted / followers / direct, NULL = unknown (only public posts are
-- ever published). edges.post_id: the post an interaction edge (reply/mention/repost/quote) was
-- derived from (NULL for observed edges such as follows). Columns are in docs/data_format.md.
ALTER TABLE posts ADD COLUMN visibility VARCHAR;
ALTER TABLE edges ADD COLUMN post_id VARCHAR;
