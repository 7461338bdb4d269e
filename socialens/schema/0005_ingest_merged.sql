-- 0005_ingest_merged: duplicates of people/accounts may fill columns that were empty; count them.
ALTER TABLE ingest_runs ADD COLUMN n_merged BIGINT DEFAULT 0;
