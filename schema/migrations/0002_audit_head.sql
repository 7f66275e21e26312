-- The audit log's chain head: the id and hash of the newest entry,
-- written in the same transaction as the entry. Deleting the newest
-- entries leaves the head pointing past the end of the log, which the
-- chain check reports.

CREATE TABLE IF NOT EXISTS audit_head (
  id INT NOT NULL,
  last_id BIGINT NOT NULL,
  last_hash CHAR(64) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
