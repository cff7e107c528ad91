-- Expiry reminders sent, one row per rental, paid-until date and kind, so each is sent once (a renewal moves the
-- date and the reminders start afresh).
CREATE TABLE rental_reminders (
  rental_id BIGINT UNSIGNED NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  sent_at DATETIME(6) NOT NULL,
  PRIMARY KEY (rental_id, expires_at, kind)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
