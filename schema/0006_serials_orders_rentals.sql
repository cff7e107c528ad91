-- Serial numbers sold through shops. The code itself is kept only sealed (AES-256-GCM) for owner re-export; it is
-- found by a keyed hash.
CREATE TABLE serial_batches (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  plan_id BIGINT UNSIGNED NOT NULL,
  price_cents BIGINT NOT NULL,
  code_count INT NOT NULL,
  note VARCHAR(255) NOT NULL DEFAULT '',
  channel VARCHAR(64) NOT NULL DEFAULT '',
  expires_at DATETIME(6) NULL,
  created_by BIGINT UNSIGNED NULL,
  created_at DATETIME(6) NOT NULL,
  CONSTRAINT serial_batches_plan_fk FOREIGN KEY (plan_id) REFERENCES plans (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE serials (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  batch_id BIGINT UNSIGNED NOT NULL,
  lookup_hash CHAR(64) NOT NULL,
  code_sealed VARCHAR(255) NOT NULL,
  last_four CHAR(4) NOT NULL,
  status VARCHAR(16) NOT NULL DEFAULT 'unused',
  redeemed_by BIGINT UNSIGNED NULL,
  redeemed_at DATETIME(6) NULL,
  expires_at DATETIME(6) NULL,
  created_at DATETIME(6) NOT NULL,
  UNIQUE KEY serials_lookup (lookup_hash),
  KEY serials_batch (batch_id, status),
  KEY serials_redeemer (redeemed_by),
  CONSTRAINT serials_batch_fk FOREIGN KEY (batch_id) REFERENCES serial_batches (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Every redemption attempt, successful or not.
CREATE TABLE redemption_attempts (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at DATETIME(6) NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  serial_id BIGINT UNSIGNED NULL,
  outcome VARCHAR(32) NOT NULL,
  ip VARCHAR(64) NULL,
  user_agent VARCHAR(255) NULL,
  KEY redemption_attempts_user (user_id, at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE orders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  number VARCHAR(32) NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  plan_id BIGINT UNSIGNED NOT NULL,
  rental_id BIGINT UNSIGNED NULL,
  source VARCHAR(16) NOT NULL,
  serial_id BIGINT UNSIGNED NULL,
  kind VARCHAR(16) NOT NULL,
  amount_cents BIGINT NOT NULL,
  status VARCHAR(16) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  UNIQUE KEY orders_number (number),
  UNIQUE KEY orders_serial (serial_id),
  KEY orders_user (user_id, created_at),
  KEY orders_created (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- A customer's paid period, with a snapshot of the plan's terms it was sold under.
CREATE TABLE rentals (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT UNSIGNED NOT NULL,
  plan_id BIGINT UNSIGNED NOT NULL,
  plan_name VARCHAR(100) NOT NULL,
  duration_days INT NOT NULL,
  traffic_quota_bytes BIGINT UNSIGNED NOT NULL,
  device_limit INT NOT NULL,
  bandwidth_mbps INT NULL,
  replicas INT NOT NULL,
  regions TEXT NOT NULL,
  status VARCHAR(16) NOT NULL,
  degraded BOOLEAN NOT NULL DEFAULT FALSE,
  starts_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  traffic_used_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  KEY rentals_user (user_id),
  KEY rentals_expiry (status, expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE rental_events (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  rental_id BIGINT UNSIGNED NOT NULL,
  at DATETIME(6) NOT NULL,
  from_status VARCHAR(16) NULL,
  to_status VARCHAR(16) NOT NULL,
  reason VARCHAR(255) NOT NULL,
  KEY rental_events_rental (rental_id, at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
