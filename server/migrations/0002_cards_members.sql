-- Members and cards as the seed programmes run them (issue 14): card types with a number
-- format and a check digit, anonymous pre-issued batches, blocked cards and their
-- replacements, diacritics-free name search, erasure of personal data.

-- A card type: numbers are `prefix` + a zero-padded sequence + (check_digit `luhn`) one Luhn
-- digit, `length` digits in all. `next_seq` is the next sequence number handed out.
CREATE TABLE card_types (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    length BIGINT NOT NULL,
    check_digit TEXT NOT NULL,
    next_seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
-- The demo's numbers (`8800` + 8 digits + Luhn) are standard and VIP cards; virtual cards
-- (e-wallet passes) have their own prefix.
INSERT INTO card_types (id, name, prefix, length, check_digit, next_seq, created_at)
    VALUES ('standard', 'Standard', '8800', 13, 'luhn', 10000000, 0);
INSERT INTO card_types (id, name, prefix, length, check_digit, next_seq, created_at)
    VALUES ('vip', 'VIP', '8800', 13, 'luhn', 20000000, 0);
INSERT INTO card_types (id, name, prefix, length, check_digit, next_seq, created_at)
    VALUES ('virtual', 'Virtual', '8801', 13, 'luhn', 1, 0);

-- A batch of anonymous pre-issued cards (numbers first..last of one type, printed from the CSV
-- export). Each card of a batch has its own member of status `unassigned` (its ledger: it earns
-- per `members.unassigned_card_earns`) until a till or an admin binds it to a phone.
CREATE TABLE card_batches (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    first_number TEXT NOT NULL,
    last_number TEXT NOT NULL,
    count BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

ALTER TABLE cards ADD COLUMN batch_id TEXT;
-- A blocked (lost) card names the card that replaced it; state_at is the last state change.
ALTER TABLE cards ADD COLUMN replaced_by TEXT;
ALTER TABLE cards ADD COLUMN state_at BIGINT;
CREATE INDEX cards_batch ON cards(batch_id);

-- The name folded for search (lower case, diacritics and đ removed: `nguyen van an`).
ALTER TABLE members ADD COLUMN search_name TEXT;
-- The store where the member was enrolled (a till's activation), for the store filter.
ALTER TABLE members ADD COLUMN home_store TEXT;
-- When the member's personal data was erased (the row and its events stay).
ALTER TABLE members ADD COLUMN erased_at BIGINT;
CREATE INDEX members_search ON members(search_name);
CREATE INDEX members_tier ON members(cached_tier);
CREATE INDEX orders_store_member ON orders(store_id, member_id);
