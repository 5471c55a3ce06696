-- Webhooks may subscribe to some notice kinds only: `events` lists them separated by spaces
-- (`tier_up points_expiring`); NULL is every kind (the webhooks made before this column).
ALTER TABLE webhooks ADD COLUMN events TEXT;
