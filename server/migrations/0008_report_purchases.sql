-- The purchase rows of rpt_flows in member order with every column the filtered frequency and
-- customers reports read (docs/reports.md, "Benchmark"): a report with a store, tier or status
-- filter scans this index alone instead of finding the period's rows by day and looking each
-- up in the table (20 s of random reads at 1,000,000 members on SQLite, 1.4 s for the index).
-- Partial: the other kinds of rows are never scanned this way.
CREATE INDEX rpt_flows_buys ON rpt_flows(member_id, at, n, day, store, card_type, tier, status)
    WHERE kind = 'purchase';
