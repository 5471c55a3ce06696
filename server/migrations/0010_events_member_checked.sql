-- The events' member is no longer a foreign key. Its check ran once per event row (a query and
-- a lock on the member's row): 12 % of a 100,000-customer import into PostgreSQL (32.4 → 28.5 s,
-- docs/migration.md, "Session 17"). Every path that writes events writes or reads the member in
-- the same transaction first (a booking, an adjustment, a card's action, an import, the
-- loader, `serve copy`), members are never deleted, and `loyalty serve check` reports any
-- event whose member does not exist. SQLite cannot drop a constraint: the table is rebuilt on
-- both databases, the same schema for both.
CREATE TABLE events_new (
    member_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    at BIGINT NOT NULL,
    body TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (member_id, seq)
);
INSERT INTO events_new (member_id, seq, id, type, at, body, recorded_at, recorded_by)
    SELECT member_id, seq, id, type, at, body, recorded_at, recorded_by FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE UNIQUE INDEX events_id ON events(member_id, id);
