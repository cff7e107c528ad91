-- What customers buy. Rentals keep a snapshot of these terms, so editing or retiring a plan never changes a
-- rental already sold. traffic_quota_bytes 0 means unmetered; bandwidth_mbps NULL means uncapped.
CREATE TABLE plans (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  duration_days INT NOT NULL,
  traffic_quota_bytes BIGINT UNSIGNED NOT NULL,
  device_limit INT NOT NULL,
  bandwidth_mbps INT NULL,
  price_cents BIGINT NOT NULL,
  replicas INT NOT NULL DEFAULT 3,
  regions TEXT NOT NULL,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  UNIQUE KEY plans_name (name),
  CONSTRAINT plans_duration_positive CHECK (duration_days > 0),
  CONSTRAINT plans_price_not_negative CHECK (price_cents >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
