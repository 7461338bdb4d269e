-- 0007_collected_as_run_options: how each post arrived. 'record' = a record of the file (a timeline entry,
-- a line of posts.jsonl); 'embedded' = inside another record (a quoted or reposted original, the
-- "latest status" of a profile, twarc includes). Coverage, windows and rates count records only.
-- Posts loaded before this migration: NULL (unknown; counted as records).
ALTER TABLE posts ADD COLUMN collected_as VARCHAR;
-- ingest_runs.options: the ingest options that shaped the rows (a roster declared public, a column
-- mapping), as JSON; NULL when none were given.
ALTER TABLE ingest_runs ADD COLUMN options JSON;
