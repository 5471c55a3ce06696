-- The server of record (SPEC §8). One schema read the same way by SQLite and PostgreSQL through
-- sqlx's Any driver: integers are BIGINT, money is decimal TEXT as the engine writes it, times
-- are epoch milliseconds (BIGINT), documents are JSON TEXT. No autoincrement (the two differ):
-- rows are keyed by ids the server makes, events by (member, sequence number).

-- Programme settings that are not the policy's: country for national phone numbers, hold time,
-- allowed widget origins, the widget-token secret (edited by an admin, audited).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every policy ever posted, by digest (drafts and published ones alike; never deleted).
CREATE TABLE policies (
    digest TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

-- Published versions (SPEC §3.1): in force from effective_at; never deleted.
CREATE TABLE policy_versions (
    effective_at BIGINT PRIMARY KEY,
    digest TEXT NOT NULL REFERENCES policies(digest),
    published_at BIGINT NOT NULL,
    published_by TEXT NOT NULL
);

CREATE TABLE stores (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE tills (
    id TEXT PRIMARY KEY,
    store_id TEXT NOT NULL REFERENCES stores(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Credentials that are not passwords: till keys and storefront keys. Only the SHA-256 of the
-- secret is kept; the key is shown once. A till holds at most two live keys (rotation).
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    till_id TEXT REFERENCES tills(id),
    secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE admins (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Admin and member sessions: the SHA-256 of the cookie's token, with the CSRF token.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Members. status / joined_at are the replay's `member` (the status at joining; later changes
-- are events). version is bumped by every write that concerns the member: on PostgreSQL the
-- bump takes the row lock that serializes holds and bookings of one member. The cached_*
-- columns are the replay as of cached_at, compared by `loyalty serve check`.
CREATE TABLE members (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    phone TEXT,
    name TEXT,
    email TEXT,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    cached_at BIGINT,
    cached_available BIGINT,
    cached_pending BIGINT,
    cached_tier TEXT,
    cached_status TEXT,
    next_due_at BIGINT
);
CREATE UNIQUE INDEX members_phone ON members(phone) WHERE phone IS NOT NULL;
CREATE INDEX members_due ON members(next_due_at);

CREATE TABLE cards (
    number TEXT PRIMARY KEY,
    member_id TEXT REFERENCES members(id),
    type TEXT NOT NULL,
    state TEXT NOT NULL,
    issued_at BIGINT NOT NULL
);
CREATE INDEX cards_member ON cards(member_id);

-- The append-only ledger: SPEC §3 events as JSON, never updated or deleted.
CREATE TABLE events (
    member_id TEXT NOT NULL REFERENCES members(id),
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    at BIGINT NOT NULL,
    body TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (member_id, seq)
);
CREATE UNIQUE INDEX events_id ON events(member_id, id);

-- Orders booked in two steps (SPEC §8.5): held → booked, or voided / expired.
CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES members(id),
    store_id TEXT NOT NULL,
    till_id TEXT NOT NULL,
    document_no TEXT NOT NULL,
    card TEXT,
    channel TEXT,
    state TEXT NOT NULL,
    offline BIGINT NOT NULL,
    flags TEXT NOT NULL,
    at BIGINT NOT NULL,
    redeemed_points BIGINT NOT NULL,
    earned_points BIGINT NOT NULL,
    subtotal TEXT NOT NULL,
    total TEXT NOT NULL,
    policy_digest TEXT NOT NULL,
    quote_request TEXT NOT NULL,
    quote TEXT NOT NULL,
    hold_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    booked_at BIGINT,
    closed_at BIGINT,
    confirm_answer TEXT,
    void_answer TEXT
);
-- A (store, till, document_no) belongs to at most one order that is held or booked.
CREATE UNIQUE INDEX orders_document ON orders(store_id, till_id, document_no)
    WHERE state IN ('held', 'booked');
CREATE INDEX orders_member_state ON orders(member_id, state);
CREATE INDEX orders_held ON orders(state, hold_expires_at);

-- Idempotency records (SPEC §8.5): the first kept answer under a key, byte for byte.
CREATE TABLE idempotency (
    principal TEXT NOT NULL,
    key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_created ON idempotency(created_at);

-- Who changed what, when.
CREATE TABLE audit (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_at ON audit(at);

-- Notices (SPEC §8.7), written in the transaction that causes them; the id is the event id.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    member_id TEXT,
    at BIGINT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_created ON outbox(created_at, id);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per (notice, webhook) once the worker has seen it: retried with backoff until a 2xx.
CREATE TABLE deliveries (
    outbox_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT,
    PRIMARY KEY (outbox_id, webhook_id)
);
CREATE INDEX deliveries_due ON deliveries(delivered_at, next_attempt_at);

-- Login and one-time-code throttles, per account and per address, shared by every process.
CREATE TABLE throttle (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (scope, subject)
);

-- Member one-time codes (hashed), for the card lookup page's login.
CREATE TABLE otps (
    member_id TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL
);
