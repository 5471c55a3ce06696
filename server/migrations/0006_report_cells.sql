-- Purchase-frequency and customer-type counts without reading purchases (issue 15,
-- docs/reports.md "Frequency and customers"). Each row counts purchases by a pair of local days
-- (day numbers: days since 0001-01-01): `b` a purchase's day (or the next purchase's), `a` a day
-- before it (the j-th previous purchase's, the member's joining). A report for the period
-- [F, T] sums the rows with F <= a and b <= T (and a <= b: events are never before joining) —
-- a few rows per pair of days of the period, however many members there are. Derived from rpt_flows / rpt_points like the other sums: kept in the
-- same transaction, rebuilt and compared by `loyalty serve check`.
CREATE TABLE rpt_cells (
    b BIGINT NOT NULL,
    a BIGINT NOT NULL,
    kind TEXT NOT NULL,
    card_type TEXT NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (a, b, kind, card_type, tier, status)
);

-- The cards a member's `act` cells were counted with: a JSON array of [type, issued day
-- number] (the cells of a member are replaced by difference, so the old ones must be known).
ALTER TABLE rpt_members ADD COLUMN cards TEXT NOT NULL DEFAULT '[]';
