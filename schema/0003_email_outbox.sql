-- Transactional email: a row is written in the same transaction as the event that causes it, so the message exists
-- exactly when the event committed; a worker claims due rows and sends them over SMTP.
-- status: pending (waiting for next_attempt_at) -> sending (claimed until claimed_until by the worker holding
-- claim_token; a claim that runs out is taken over, so a dead worker's messages are retried) -> sent, or back to
-- pending with a later next_attempt_at after a failed attempt, or failed once the attempts are used up.
CREATE TABLE email_outbox (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  created_at DATETIME(6) NOT NULL,
  recipient VARCHAR(254) NOT NULL,
  template VARCHAR(64) NOT NULL,
  locale VARCHAR(16) NOT NULL,
  subject VARCHAR(255) NOT NULL,
  body_text TEXT NOT NULL,
  status VARCHAR(16) NOT NULL DEFAULT 'pending',
  attempts INT NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(6) NOT NULL,
  claimed_until DATETIME(6) NULL,
  claim_token CHAR(32) NULL,
  last_error VARCHAR(512) NULL,
  sent_at DATETIME(6) NULL,
  KEY email_outbox_due (status, next_attempt_at),
  KEY email_outbox_claims (status, claimed_until),
  KEY email_outbox_recipient (recipient, id),
  CONSTRAINT email_outbox_status CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
  CONSTRAINT email_outbox_attempts CHECK (attempts >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
