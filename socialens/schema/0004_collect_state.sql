-- 0004_collect_state: where each live collection (socialens collect) stopped, per account.
-- One row per (platform, account_id); updated after every raw page is written to disk, so a run
-- that dies continues from here. Columns are documented in docs/data_format.md.
CREATE TABLE collect_state (
    platform         VARCHAR NOT NULL,
    account_id       VARCHAR NOT NULL,
    native_id        VARCHAR,
    server           VARCHAR,
    newest_post_id   VARCHAR,
    newest_post_at   TIMESTAMPTZ,
    sweep_newest_id  VARCHAR,
    sweep_newest_at  TIMESTAMPTZ,
    cursor           VARCHAR,
    etag             VARCHAR,
    last_modified    VARCHAR,
    status           VARCHAR,
    note             VARCHAR,
    last_run_at      TIMESTAMPTZ,
    last_ok_at       TIMESTAMPTZ,
    PRIMARY KEY (platform, account_id)
);
