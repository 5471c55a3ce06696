-- Frequency and customers with a store, tier or status filter from rpt_cells (issue 15,
-- docs/reports.md "Frequency and customers"): the purchase counts are kept again among the
-- purchases each filter keeps, in rows of their own — `f` names the filter ('s:' a store,
-- 't:' a tier, 'x:' the status an order was priced with; '' every purchase, the rows there
-- were; 'act' the activated cards, the rows with a = 0). The key is (f, b, a, ...): a booking's
-- rows nearly all have b = its purchase's day, so they share a few pages, and a period is a
-- range of b. Rebuilt (SQLite cannot change a primary key in place); the 'cells' mark is
-- removed so that the first start after this migration rebuilds the report tables once
-- (reports/store.rs ensure_built), which writes the filters' rows.
CREATE TABLE rpt_cells_new (
    f TEXT NOT NULL,
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
    PRIMARY KEY (f, b, a, card_type, tier, status, shard)
);
INSERT INTO rpt_cells_new (f, a, b, card_type, tier, status, shard, o, l1, l2, l3, l4, l6, l7,
    l12, l13, tn, jd, jn, j, act)
SELECT CASE WHEN a = 0 THEN 'act' ELSE '' END, a, b, card_type, tier, status, shard, o, l1, l2, l3,
    l4, l6, l7, l12, l13, tn, jd, jn, j, act
FROM rpt_cells;
DROP TABLE rpt_cells;
ALTER TABLE rpt_cells_new RENAME TO rpt_cells;
DELETE FROM rpt_meta WHERE key = 'cells';
