-- The prepaid balance ledger: users.balance_cents is a cache of SUM(amount_cents) kept in the same transaction,
-- and never negative (CHECK on users).
CREATE TABLE balance_entries (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT UNSIGNED NOT NULL,
  amount_cents BIGINT NOT NULL,
  kind VARCHAR(16) NOT NULL,
  reason VARCHAR(255) NOT NULL DEFAULT '',
  admin_id BIGINT UNSIGNED NULL,
  order_id BIGINT UNSIGNED NULL,
  created_at DATETIME(6) NOT NULL,
  KEY balance_entries_user (user_id, created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
