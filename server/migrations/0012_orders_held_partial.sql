-- The holds' index keeps held orders only. The sweeper (`storage::orders::expired_holds`: state
-- 'held', by hold_expires_at) and the member's held points read held orders alone, yet every
-- booked, voided and refunded order had an entry here too: a one-call booking wrote one B-tree
-- entry more than any read needs (docs/server.md, "Numbers", session 21).
DROP INDEX orders_held;
CREATE INDEX orders_held ON orders(hold_expires_at) WHERE state = 'held';
