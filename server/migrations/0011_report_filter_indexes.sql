-- The filtered frequency and customers reports read the purchases a store or a tier filter
-- keeps from an index in that filter's order (docs/reports.md, "Benchmark", session 19):
-- `store = $x` is one range of its index, in member order, instead of a scan of every purchase
-- of every member in rpt_flows_buys (migration 0008) that keeps a sixth of them (3.3 s for
-- 23.6 M purchases on PostgreSQL at 1,000,000 members). Each has every column the reports read,
-- so it is read alone, as rpt_flows_buys was. rpt_flows_buys goes: every read it served names a
-- store, a tier or a status (rpt_flows_other_status, 0009), or reads a few members by their
-- key (`status=active`, docs/reports.md, "Frequency and customers without reading purchases"),
-- so the purchases carry one more index entry than before, not two.
DROP INDEX rpt_flows_buys;
CREATE INDEX rpt_flows_store ON rpt_flows(store, member_id, at, n, day, card_type, tier, status)
    WHERE kind = 'purchase';
CREATE INDEX rpt_flows_tier ON rpt_flows(tier, member_id, at, n, day, store, card_type, status)
    WHERE kind = 'purchase';
