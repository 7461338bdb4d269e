-- 0001_initial: the tables of DESIGN.md. Columns are documented in docs/data_format.md.
CREATE TABLE people (
    person_id   VARCHAR PRIMARY KEY,
    name        VARCHAR,
    department  VARCHAR,
    opt_in      BOOLEAN NOT NULL DEFAULT false,
    attrs       JSON,
    run_id      VARCHAR,
    source_line BIGINT
);

CREATE TABLE roles (
    person_id   VARCHAR NOT NULL,
    title       VARCHAR NOT NULL,
    level       INTEGER NOT NULL,
    is_leader   BOOLEAN NOT NULL,
    start_at    TIMESTAMPTZ NOT NULL,
    end_at      TIMESTAMPTZ,
    attrs       JSON,
    run_id      VARCHAR,
    source_line BIGINT,
    PRIMARY KEY (person_id, title, start_at)
);

CREATE TABLE accounts (
    account_id   VARCHAR PRIMARY KEY,
    platform     VARCHAR NOT NULL,
    person_id    VARCHAR,
    handle       VARCHAR,
    kind         VARCHAR NOT NULL DEFAULT 'personal',
    created_at   TIMESTAMPTZ,
    display_name VARCHAR,
    bio          VARCHAR,
    url          VARCHAR,
    attrs        JSON,
    run_id       VARCHAR,
    source_line  BIGINT
);

CREATE TABLE account_snapshots (
    account_id   VARCHAR NOT NULL,
    observed_at  TIMESTAMPTZ NOT NULL,
    followers    BIGINT,
    following    BIGINT,
    posts_count  BIGINT,
    listed_count BIGINT,
    run_id       VARCHAR,
    source_line  BIGINT,
    PRIMARY KEY (account_id, observed_at)
);

CREATE TABLE posts (
    post_id             VARCHAR PRIMARY KEY,
    account_id          VARCHAR NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    text                VARCHAR,
    lang                VARCHAR,
    reply_to_post_id    VARCHAR,
    reply_to_account_id VARCHAR,
    quote_of            VARCHAR,
    repost_of           VARCHAR,
    like_count          BIGINT,
    repost_count        BIGINT,
    reply_count         BIGINT,
    quote_count         BIGINT,
    url                 VARCHAR,
    attrs               JSON,
    run_id              VARCHAR,
    source_line         BIGINT
);

CREATE TABLE post_entities (
    post_id VARCHAR NOT NULL,
    kind    VARCHAR NOT NULL,
    value   VARCHAR NOT NULL,
    run_id  VARCHAR,
    PRIMARY KEY (post_id, kind, value)
);

CREATE TABLE edges (
    src          VARCHAR NOT NULL,
    dst          VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,
    weight       DOUBLE NOT NULL DEFAULT 1,
    observed_at  TIMESTAMPTZ,
    window_start TIMESTAMPTZ,
    window_end   TIMESTAMPTZ,
    run_id       VARCHAR,
    source_line  BIGINT
);

CREATE TABLE ingest_runs (
    run_id            VARCHAR PRIMARY KEY,
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,
    source_path       VARCHAR NOT NULL,
    sha256            VARCHAR NOT NULL,
    format            VARCHAR NOT NULL,
    target            VARCHAR NOT NULL,
    timezone          VARCHAR,
    n_read            BIGINT NOT NULL,
    n_loaded          BIGINT NOT NULL,
    n_duplicate       BIGINT NOT NULL,
    n_quarantined     BIGINT NOT NULL,
    socialens_version VARCHAR
);

CREATE TABLE quarantine (
    run_id      VARCHAR NOT NULL,
    source_path VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    line        BIGINT,
    target      VARCHAR NOT NULL,
    field       VARCHAR,
    reason      VARCHAR NOT NULL,
    raw         VARCHAR
);

CREATE INDEX posts_account_time ON posts (account_id, created_at);
