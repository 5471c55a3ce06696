-- Purchase-frequency and customer-type counts without reading purchases (issue 15,
-- docs/reports.md "Frequency and customers"). Each row counts purchases, one column per kind
-- (reports/cells.rs), by a pair of local days
-- (day numbers: days since 0001-01-01): `b` a purchase's day (or the next purchase's), `a` a day
-- before it (the j-th previous purchase's, the member's joining). A report for the period
-- [F, T] sums the rows with F <= a and b <= T (and a <= b: events are never before joining) —
-- a few rows per pair of days of the period, however many members there are. Derived from
-- rpt_flows / rpt_points like the other sums: kept in the same transaction, rebuilt and
-- compared by `loyalty serve check`.
CREATE TABLE rpt_cells (
    a BIGINT NOT NULL,
    b BIGINT NOT NULL,
    card_type TEXT NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL,
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
    PRIMARY KEY (a, b, card_type, tier, status)
);

-- The cards a member's `act` cells were counted with: a JSON array of [type, issued day
-- number] (the cells of a member are replaced by difference, so the old ones must be known).
ALTER TABLE rpt_members ADD COLUMN cards TEXT NOT NULL DEFAULT '[]';
