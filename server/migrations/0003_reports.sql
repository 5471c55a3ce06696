-- Reports (issue 15, docs/reports.md). Everything here is derived from the events table by the
-- engine's report facts (`loyalty_engine::report`): rewritten for a member in the transaction
-- that appends its event (booking::append) or replays it when time changed its figures
-- (workers::refresh_due), and recomputed from the events by `loyalty serve check`.
-- Money is in minor units (BIGINT) of the programme's currency; days are local dates
-- (YYYY-MM-DD) in the programme's time zone.

-- Per member: one row per event that moves money or points, and one per expiry instant.
CREATE TABLE rpt_flows (
    member_id TEXT NOT NULL,
    n BIGINT NOT NULL,
    at BIGINT NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    event_id TEXT,
    order_id TEXT,
    store TEXT NOT NULL,
    channel TEXT NOT NULL,
    card_type TEXT NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL,
    orders BIGINT NOT NULL,
    refunds BIGINT NOT NULL,
    gross BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    redeemed_amount BIGINT NOT NULL,
    paid BIGINT NOT NULL,
    redeemed BIGINT NOT NULL,
    earned BIGINT NOT NULL,
    clawed_back BIGINT NOT NULL,
    adjusted BIGINT NOT NULL,
    expired BIGINT NOT NULL,
    opening BIGINT NOT NULL,
    PRIMARY KEY (member_id, n)
);
CREATE INDEX rpt_flows_day ON rpt_flows(day, kind);

-- Per member: the instant its facts are computed as of (its cache's, or the rebuild's for a
-- member the server never looked at), and the card type its rows are summed under.
CREATE TABLE rpt_members (
    member_id TEXT PRIMARY KEY,
    as_of BIGINT NOT NULL,
    card_type TEXT NOT NULL
);

-- Per member: its state after every change (the first row: at joining).
CREATE TABLE rpt_points (
    member_id TEXT NOT NULL,
    n BIGINT NOT NULL,
    at BIGINT NOT NULL,
    day TEXT NOT NULL,
    available BIGINT NOT NULL,
    pending BIGINT NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL,
    card_type TEXT NOT NULL,
    PRIMARY KEY (member_id, n)
);

-- Flows summed by day and dimension (what the revenue and points reports read).
CREATE TABLE rpt_day (
    day TEXT NOT NULL,
    store TEXT NOT NULL,
    channel TEXT NOT NULL,
    card_type TEXT NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL,
    orders BIGINT NOT NULL,
    refunds BIGINT NOT NULL,
    redemptions BIGINT NOT NULL,
    gross BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    redeemed_amount BIGINT NOT NULL,
    paid BIGINT NOT NULL,
    redeemed BIGINT NOT NULL,
    earned BIGINT NOT NULL,
    clawed_back BIGINT NOT NULL,
    adjusted BIGINT NOT NULL,
    expired BIGINT NOT NULL,
    opening BIGINT NOT NULL,
    PRIMARY KEY (day, store, channel, card_type, tier, status)
);

-- Dated snapshots as changes: on `day`, members entering (+) and leaving (−) each
-- (card type, tier, status) with their points. The state at a day's end is the sum of every
-- row up to that day.
CREATE TABLE rpt_balance (
    day TEXT NOT NULL,
    card_type TEXT NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL,
    members BIGINT NOT NULL,
    available BIGINT NOT NULL,
    pending BIGINT NOT NULL,
    PRIMARY KEY (day, card_type, tier, status)
);

-- Tier changes by day: from → to.
CREATE TABLE rpt_moves (
    day TEXT NOT NULL,
    from_tier TEXT NOT NULL,
    to_tier TEXT NOT NULL,
    card_type TEXT NOT NULL,
    status TEXT NOT NULL,
    members BIGINT NOT NULL,
    PRIMARY KEY (day, from_tier, to_tier, card_type, status)
);

-- Background CSV exports: the file is kept in the database in parts (any server process can
-- serve it) and is served only once its job is `done`; a `failed` job says why and keeps no
-- parts.
CREATE TABLE rpt_exports (
    id TEXT PRIMARY KEY,
    report TEXT NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL,
    rows_done BIGINT NOT NULL,
    rows_total BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    finished_at BIGINT
);

CREATE TABLE rpt_export_parts (
    export_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (export_id, seq)
);

-- Whether the tables above were built from the events (a database migrated with events
-- already in it is filled once at start).
CREATE TABLE rpt_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
