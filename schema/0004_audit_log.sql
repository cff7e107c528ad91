-- The audit log: admin writes and security-relevant changes, one row each, written in the same transaction as the
-- change (the row exists exactly when the change committed). seq is assigned by the controller under the lock on
-- audit_head, never by AUTO_INCREMENT, so it has no gaps. hash = SHA-256 over prev_hash and a length-prefixed
-- serialisation of the stored column texts (controller/audit/audit_chain.hpp), so altering, deleting or reordering
-- a row breaks the chain and `derpmgr-controller audit verify` finds where.
CREATE TABLE audit_log (
  seq BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  at DATETIME(6) NOT NULL,
  actor_kind VARCHAR(16) NOT NULL,
  actor_id BIGINT UNSIGNED NULL,
  action VARCHAR(64) NOT NULL,
  target VARCHAR(128) NOT NULL,
  ip VARCHAR(64) NOT NULL,
  user_agent VARCHAR(255) NOT NULL,
  details TEXT NOT NULL,
  prev_hash CHAR(64) NOT NULL,
  hash CHAR(64) NOT NULL,
  KEY audit_log_at (at),
  KEY audit_log_action (action),
  KEY audit_log_actor (actor_kind, actor_id),
  KEY audit_log_target (target),
  CONSTRAINT audit_log_actor_kind CHECK (actor_kind IN ('admin', 'customer', 'system', 'agent'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The end of the chain: the last row's seq and hash. Appenders lock this one row (SELECT ... FOR UPDATE), which
-- serialises them; a head ahead of the last row means rows were deleted from the end.
CREATE TABLE audit_head (
  id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  seq BIGINT UNSIGNED NOT NULL,
  hash CHAR(64) NOT NULL,
  CONSTRAINT audit_head_single_row CHECK (id = 1)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
