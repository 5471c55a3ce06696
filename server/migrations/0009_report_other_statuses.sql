-- The purchase rows of rpt_flows whose member was not active (inactive, excluded, unassigned:
-- a few per cent of a programme's purchases), with the columns of rpt_flows_buys. A frequency
-- or customers report filtered to another status than `active` reads its purchases here
-- alone; filtered to `active`, it takes the members found here away from the unfiltered cells
-- and counts them again on their active purchases (docs/reports.md, "Frequency and customers
-- without reading purchases"), instead of reading nearly every purchase of the period.
CREATE INDEX rpt_flows_other_status ON rpt_flows(member_id, at, n, day, store, card_type, tier, status)
    WHERE kind = 'purchase' AND status <> 'active';
