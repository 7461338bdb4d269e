-- 0008_forgotten: the tombstones of `socialens forget` (socialens.forget). One row per identifier
-- of a forgotten person (person_id, account ids, handles), stored only as the SHA-256 of its
-- lower-cased text, so that ingest can refuse the person's records again without the workspace
-- keeping the identifiers themselves. Columns are documented in docs/data_format.md.
CREATE TABLE forgotten (
    id_hash      VARCHAR PRIMARY KEY,
    kind         VARCHAR NOT NULL,
    request_id   VARCHAR NOT NULL,
    forgotten_at TIMESTAMPTZ NOT NULL
);
