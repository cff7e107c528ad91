-- DERP hosts (nodes), their one-time enrollment tokens, and allocations: one customer derper on one node port.
CREATE TABLE nodes (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  region VARCHAR(64) NOT NULL,
  public_ipv4 VARCHAR(45) NULL,
  public_ipv6 VARCHAR(45) NULL,
  dns_name VARCHAR(253) NULL,
  bind_ip VARCHAR(45) NULL,
  port_min INT NOT NULL,
  port_max INT NOT NULL,
  capacity INT NOT NULL,
  bandwidth_mbps INT NOT NULL DEFAULT 0,
  monthly_traffic_cap_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
  traffic_reset_day TINYINT NOT NULL DEFAULT 1,
  provider VARCHAR(64) NOT NULL DEFAULT '',
  monthly_cost_cents BIGINT NOT NULL DEFAULT 0,
  paid_until DATE NULL,
  paid_reminder_for DATE NULL,
  draining BOOLEAN NOT NULL DEFAULT FALSE,
  -- The agent certificate accepted on the channel; the previous one stays valid until the agent connects with the
  -- current one (a renewal whose answer was lost must not lock the agent out).
  cert_serial VARCHAR(64) NULL,
  prev_cert_serial VARCHAR(64) NULL,
  cert_expires_at DATETIME(6) NULL,
  enrolled_at DATETIME(6) NULL,
  desired_generation BIGINT UNSIGNED NOT NULL DEFAULT 1,
  applied_generation BIGINT UNSIGNED NOT NULL DEFAULT 0,
  session_replica VARCHAR(64) NULL,
  session_started_at DATETIME(6) NULL,
  last_seen_at DATETIME(6) NULL,
  agent_version VARCHAR(64) NULL,
  host_facts TEXT NULL,
  rtt_ms DOUBLE NULL,
  agent_errors TEXT NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  deleted_at DATETIME(6) NULL,
  live_name VARCHAR(64) AS (IF(deleted_at IS NULL, name, NULL)) STORED,
  UNIQUE KEY nodes_live_name (live_name),
  KEY nodes_cert_serial (cert_serial)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE enrollment_tokens (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  node_id BIGINT UNSIGNED NOT NULL,
  token_hash CHAR(64) NOT NULL,
  created_by BIGINT UNSIGNED NULL,
  created_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  used_at DATETIME(6) NULL,
  UNIQUE KEY enrollment_tokens_hash (token_hash),
  KEY enrollment_tokens_node (node_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE allocations (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  rental_id BIGINT UNSIGNED NULL,
  node_id BIGINT UNSIGNED NOT NULL,
  port INT NOT NULL,
  config_version BIGINT UNSIGNED NOT NULL DEFAULT 1,
  public_host VARCHAR(253) NOT NULL,
  cert_pem TEXT NOT NULL,
  cert_key_sealed TEXT NOT NULL,
  cert_pin VARCHAR(80) NOT NULL,
  cert_expires_at DATETIME(6) NOT NULL,
  state VARCHAR(16) NOT NULL,
  observed_state VARCHAR(16) NULL,
  observed_error VARCHAR(255) NULL,
  observed_config_version BIGINT UNSIGNED NULL,
  observed_at DATETIME(6) NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  released_at DATETIME(6) NULL,
  live_port INT AS (IF(released_at IS NULL, port, NULL)) STORED,
  UNIQUE KEY allocations_node_port (node_id, live_port),
  KEY allocations_node_state (node_id, state),
  KEY allocations_rental (rental_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Node keys admitted by one allocation when set by hand (rentals later admit their customer's devices too).
CREATE TABLE allocation_keys (
  allocation_id BIGINT UNSIGNED NOT NULL,
  node_key CHAR(72) NOT NULL,
  PRIMARY KEY (allocation_id, node_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
