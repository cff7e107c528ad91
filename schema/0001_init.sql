-- Scheduled jobs: one replica at a time holds a job's lease row (GET_LOCK is not cluster-wide).
CREATE TABLE job_leases (
  job VARCHAR(64) NOT NULL PRIMARY KEY,
  holder VARCHAR(128) NOT NULL,
  expires_at DATETIME(6) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Controller replicas alive, so agent sessions and jobs can name the replica that holds them.
CREATE TABLE controller_replicas (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  version VARCHAR(32) NOT NULL,
  started_at DATETIME(6) NOT NULL,
  last_seen DATETIME(6) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
