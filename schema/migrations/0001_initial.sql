-- Initial schema. Portable across MySQL 8, MariaDB 10.11 and
-- go-mysql-server: no foreign keys, triggers, generated columns or
-- CHECK constraints, so MySQL-compatible distributed databases run it too.
-- Statements are separated by a line holding only ";", and each one is
-- safe to run again, so a migration interrupted halfway can be rerun.

CREATE TABLE IF NOT EXISTS accounts (
  id VARCHAR(64) NOT NULL,
  email_enc VARBINARY(2048) NULL,
  phone_enc VARBINARY(512) NULL,
  locale VARCHAR(35) NOT NULL,
  subscribe_email BOOLEAN NOT NULL,
  subscribe_sms BOOLEAN NOT NULL,
  subject_type VARCHAR(16) NULL,
  identity_application_id VARCHAR(32) NULL,
  identity_fingerprint VARBINARY(32) NULL,
  verified_at DATETIME(6) NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
;
CREATE TABLE IF NOT EXISTS applications (
  id VARCHAR(32) NOT NULL,
  account_id VARCHAR(64) NOT NULL,
  open_account_id VARCHAR(64) NULL,
  kind VARCHAR(16) NOT NULL,
  subject_type VARCHAR(16) NOT NULL,
  region CHAR(2) NOT NULL,
  document_type VARCHAR(32) NULL,
  issuing_country CHAR(2) NULL,
  status VARCHAR(24) NOT NULL,
  fields_enc VARBINARY(8192) NOT NULL,
  name_masked VARCHAR(128) NOT NULL,
  number_masked VARCHAR(64) NOT NULL,
  identity_fingerprint VARBINARY(32) NULL,
  photo_fingerprint VARBINARY(32) NOT NULL,
  photo_bytes INT NOT NULL,
  consent_version VARCHAR(32) NOT NULL,
  consent_at DATETIME(6) NOT NULL,
  terms_accepted BOOLEAN NOT NULL,
  checks MEDIUMTEXT NULL,
  flags TEXT NULL,
  reasons TEXT NULL,
  note_enc VARBINARY(8192) NULL,
  resubmit_allowed BOOLEAN NULL,
  decided_by VARCHAR(64) NULL,
  decided_at DATETIME(6) NULL,
  claimed_by VARCHAR(64) NULL,
  claim_expires_at DATETIME(6) NULL,
  submitted_at DATETIME(6) NOT NULL,
  validated_at DATETIME(6) NULL,
  review_started_at DATETIME(6) NULL,
  review_due_at DATETIME(6) NULL,
  breach_at DATETIME(6) NULL,
  escalation_level INT NOT NULL,
  priority INT NOT NULL,
  withdrawn_at DATETIME(6) NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY applications_open_account (open_account_id),
  KEY applications_account (account_id, submitted_at),
  KEY applications_queue (status, review_due_at),
  KEY applications_photo (photo_fingerprint),
  KEY applications_identity (identity_fingerprint)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
;
CREATE TABLE IF NOT EXISTS photos (
  application_id VARCHAR(32) NOT NULL,
  data_enc LONGBLOB NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (application_id)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
;
CREATE TABLE IF NOT EXISTS identity_bindings (
  fingerprint VARBINARY(32) NOT NULL,
  slot INT NOT NULL,
  account_id VARCHAR(64) NOT NULL,
  application_id VARCHAR(32) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (fingerprint, slot),
  UNIQUE KEY identity_bindings_account (fingerprint, account_id),
  KEY identity_bindings_by_account (account_id)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
;
CREATE TABLE IF NOT EXISTS outbox (
  id BIGINT NOT NULL AUTO_INCREMENT,
  task_id VARCHAR(128) NOT NULL,
  task_type VARCHAR(64) NOT NULL,
  queue VARCHAR(32) NOT NULL,
  payload VARBINARY(1024) NOT NULL,
  process_at DATETIME(6) NULL,
  created_at DATETIME(6) NOT NULL,
  dispatched_at DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY outbox_task (task_id),
  KEY outbox_pending (dispatched_at, id)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
;
CREATE TABLE IF NOT EXISTS notifications (
  id BIGINT NOT NULL AUTO_INCREMENT,
  event_key VARCHAR(128) NOT NULL,
  account_id VARCHAR(64) NOT NULL,
  application_id VARCHAR(32) NULL,
  event VARCHAR(32) NOT NULL,
  channel VARCHAR(16) NOT NULL,
  status VARCHAR(16) NOT NULL,
  attempts INT NOT NULL,
  last_error VARCHAR(512) NULL,
  data TEXT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  sent_at DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY notifications_event_channel (event_key, channel),
  KEY notifications_status (status, created_at)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
;
CREATE TABLE IF NOT EXISTS messages (
  id BIGINT NOT NULL AUTO_INCREMENT,
  account_id VARCHAR(64) NOT NULL,
  notification_id BIGINT NOT NULL,
  application_id VARCHAR(32) NULL,
  event VARCHAR(32) NOT NULL,
  subject VARCHAR(255) NOT NULL,
  body TEXT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  read_at DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY messages_notification (notification_id),
  KEY messages_account (account_id, id)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
;
CREATE TABLE IF NOT EXISTS audit_log (
  id BIGINT NOT NULL AUTO_INCREMENT,
  application_id VARCHAR(32) NOT NULL,
  actor VARCHAR(64) NOT NULL,
  action VARCHAR(32) NOT NULL,
  detail VARCHAR(255) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  prev_hash CHAR(64) NOT NULL,
  hash CHAR(64) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY audit_log_prev (prev_hash),
  KEY audit_log_application (application_id, id)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
;
CREATE TABLE IF NOT EXISTS idempotency_keys (
  account_id VARCHAR(64) NOT NULL,
  idem_key VARCHAR(255) NOT NULL,
  request_hash CHAR(64) NOT NULL,
  application_id VARCHAR(32) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (account_id, idem_key)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
