-- The day sums in shards (docs/server.md, "Numbers"): every booking of a store and day adds to
-- the same rows of rpt_day, rpt_balance, rpt_cells (and rpt_moves on a tier change). On
-- PostgreSQL a transaction holds those rows' locks until its COMMIT, so concurrent bookings
-- queued on them; now concurrent commits add to different rows of a key (`shard`: the first
-- free of 16, storage/writer.rs; always 0 on SQLite, which has one writer). Every reader sums
-- over the shards. Same SQL on both databases: each table is rebuilt with `shard` in its key.

CREATE TABLE rpt_day_new (
    day TEXT NOT NULL,
    store TEXT NOT NULL,
    channel TEXT NOT NULL,
    card_type TEXT NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL,
    shard BIGINT NOT NULL,
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
    PRIMARY KEY (day, store, channel, card_type, tier, status, shard)
);
INSERT INTO rpt_day_new (day, store, channel, card_type, tier, status, shard, orders, refunds,
    redemptions, gross, discount, redeemed_amount, paid, redeemed, earned, clawed_back, adjusted,
    expired, opening)
SELECT day, store, channel, card_type, tier, status, 0, orders, refunds, redemptions, gross,
    discount, redeemed_amount, paid, redeemed, earned, clawed_back, adjusted, expired, opening
FROM rpt_day;
DROP TABLE rpt_day;
ALTER TABLE rpt_day_new RENAME TO rpt_day;

CREATE TABLE rpt_balance_new (
    day TEXT NOT NULL,
    card_type TEXT NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL,
    shard BIGINT NOT NULL,
    members BIGINT NOT NULL,
    available BIGINT NOT NULL,
    pending BIGINT NOT NULL,
    PRIMARY KEY (day, card_type, tier, status, shard)
);
INSERT INTO rpt_balance_new (day, card_type, tier, status, shard, members, available, pending)
SELECT day, card_type, tier, status, 0, members, available, pending FROM rpt_balance;
DROP TABLE rpt_balance;
ALTER TABLE rpt_balance_new RENAME TO rpt_balance;

CREATE TABLE rpt_moves_new (
    day TEXT NOT NULL,
    from_tier TEXT NOT NULL,
    to_tier TEXT NOT NULL,
    card_type TEXT NOT NULL,
    status TEXT NOT NULL,
    shard BIGINT NOT NULL,
    members BIGINT NOT NULL,
    PRIMARY KEY (day, from_tier, to_tier, card_type, status, shard)
);
INSERT INTO rpt_moves_new (day, from_tier, to_tier, card_type, status, shard, members)
SELECT day, from_tier, to_tier, card_type, status, 0, members FROM rpt_moves;
DROP TABLE rpt_moves;
ALTER TABLE rpt_moves_new RENAME TO rpt_moves;

CREATE TABLE rpt_cells_new (
    a BIGINT NOT NULL,
    b BIGINT NOT NULL,
    card_type TEXT NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL,
    shard BIGINT NOT NULL,
    o BIGINT NOT NULL,
    l1 BIGINT NOT NULL,
    l2 BIGINT NOT NULL,
    l3 BIGINT NOT NULL,
    l4 BIGINT NOT NULL,
    l6 BIGINT NOT NULL,
    l7 BIGINT NOT NULL,
    l12 BIGINT NOT NULL,
    l13 BIGINT NOT NULL,
    tn BIGINT NOT NULL,
    jd BIGINT NOT NULL,
    jn BIGINT NOT NULL,
    j BIGINT NOT NULL,
    act BIGINT NOT NULL,
    PRIMARY KEY (a, b, card_type, tier, status, shard)
);
INSERT INTO rpt_cells_new (a, b, card_type, tier, status, shard, o, l1, l2, l3, l4, l6, l7, l12,
    l13, tn, jd, jn, j, act)
SELECT a, b, card_type, tier, status, 0, o, l1, l2, l3, l4, l6, l7, l12, l13, tn, jd, jn, j, act
FROM rpt_cells;
DROP TABLE rpt_cells;
ALTER TABLE rpt_cells_new RENAME TO rpt_cells;
