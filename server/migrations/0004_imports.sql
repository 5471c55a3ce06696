-- Import jobs (`loyalty serve import`, POST /v1/imports): a live programme's exports, or member
-- NDJSON, loaded into members, cards and events in the background. One row per job with its
-- progress and counts (updated in the transaction of each batch of members it stores), and the
-- job's report in chunks of at most 1 MiB of text (a report can list millions of rejected rows).
CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    state TEXT NOT NULL,
    phase TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    heartbeat_at BIGINT,
    bytes_total BIGINT NOT NULL,
    bytes_read BIGINT NOT NULL,
    members_expected BIGINT,
    members_read BIGINT NOT NULL,
    members_created BIGINT NOT NULL,
    members_unchanged BIGINT NOT NULL,
    members_conflicting BIGINT NOT NULL,
    members_rejected BIGINT NOT NULL,
    events_written BIGINT NOT NULL,
    cards_written BIGINT NOT NULL,
    conflicts BIGINT NOT NULL,
    error TEXT,
    summary TEXT
);
CREATE INDEX imports_created ON imports(created_at);

CREATE TABLE import_reports (
    import_id TEXT NOT NULL REFERENCES imports(id),
    n BIGINT NOT NULL,
    chunk TEXT NOT NULL,
    PRIMARY KEY (import_id, n)
);
