-- Alerts for admins: a condition (a node offline, a rental degraded) raises one open alert per kind and subject,
-- resolved when the condition clears. open_kind is set only while the alert is unresolved, so the unique key allows
-- one open alert per (kind, subject) and any number of resolved ones (MySQL has no partial unique index).
CREATE TABLE alerts (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  kind VARCHAR(32) NOT NULL,
  severity VARCHAR(16) NOT NULL,
  subject_type VARCHAR(16) NOT NULL,
  subject_id BIGINT UNSIGNED NOT NULL,
  message VARCHAR(255) NOT NULL,
  raised_at DATETIME(6) NOT NULL,
  resolved_at DATETIME(6) NULL,
  acknowledged_at DATETIME(6) NULL,
  acknowledged_by BIGINT UNSIGNED NULL,
  open_kind VARCHAR(32) AS (IF(resolved_at IS NULL, kind, NULL)) STORED,
  UNIQUE KEY alerts_open (open_kind, subject_type, subject_id),
  KEY alerts_kind (kind, id),
  KEY alerts_subject (subject_type, subject_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
