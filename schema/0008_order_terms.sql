-- What an order added to its rental, so cancelling or refunding it can take exactly that back.
ALTER TABLE orders ADD COLUMN added_days INT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN added_quota_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0;
