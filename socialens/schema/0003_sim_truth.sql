-- 0003_sim_truth: the ground truth of simulated organizations (socialens.simulate).
-- Empty in workspaces of real data. Columns are documented in docs/data_format.md.
CREATE TABLE sim_truth_params (
    name  VARCHAR PRIMARY KEY,
    value JSON
);

CREATE TABLE sim_truth_effects (
    name        VARCHAR PRIMARY KEY,
    planted     DOUBLE,
    description VARCHAR
);

CREATE TABLE sim_truth_people (
    person_id            VARCHAR PRIMARY KEY,
    account_id           VARCHAR,
    level                INTEGER,
    is_leader            BOOLEAN,
    department           VARCHAR,
    manager_id           VARCHAR,
    promoted_at          TIMESTAMPTZ,
    affinity             DOUBLE,
    adopted_at           TIMESTAMPTZ,
    adoption_cause       VARCHAR,
    influencer_person_id VARCHAR,
    leader_exposed_at    TIMESTAMPTZ,
    peer_exposed_at      TIMESTAMPTZ,
    post_rate            DOUBLE,
    tone_baseline        DOUBLE,
    tone_target          DOUBLE,
    personal_baseline    DOUBLE,
    personal_target      DOUBLE,
    follows_official     BOOLEAN
);

CREATE TABLE sim_truth_ties (
    src_person_id VARCHAR NOT NULL,
    dst_person_id VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,
    start_at      TIMESTAMPTZ NOT NULL,
    end_at        TIMESTAMPTZ,
    PRIMARY KEY (src_person_id, dst_person_id)
);

CREATE TABLE sim_truth_campaigns (
    campaign_id         INTEGER PRIMARY KEY,
    hashtag             VARCHAR NOT NULL,
    seed_kind           VARCHAR NOT NULL,
    seed_account_id     VARCHAR NOT NULL,
    seed_person_id      VARCHAR,
    introduced_at       TIMESTAMPTZ NOT NULL,
    n_users             BIGINT,
    n_trials_leader     BIGINT,
    n_trials_peer       BIGINT,
    n_trials_official   BIGINT,
    n_trials_delegate   BIGINT,
    n_successes_leader  BIGINT,
    n_successes_peer    BIGINT,
    n_successes_official BIGINT,
    n_successes_delegate BIGINT
);

CREATE TABLE sim_truth_campaign_uses (
    campaign_id       INTEGER NOT NULL,
    account_id        VARCHAR NOT NULL,
    person_id         VARCHAR,
    used_at           TIMESTAMPTZ NOT NULL,
    post_id           VARCHAR NOT NULL,
    source_account_id VARCHAR,
    source_kind       VARCHAR NOT NULL,
    PRIMARY KEY (campaign_id, account_id)
);

CREATE TABLE sim_truth_posts (
    post_id            VARCHAR PRIMARY KEY,
    account_id         VARCHAR NOT NULL,
    person_id          VARCHAR,
    kind               VARCHAR NOT NULL,
    exposed_to_leader  BOOLEAN,
    tone_planned       DOUBLE,
    personal           BOOLEAN,
    fragment_id        INTEGER,
    fragment_compound  DOUBLE,
    reply_to_leader    BOOLEAN,
    coordinated_marker VARCHAR
);
