package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Audit actions.
const (
	AuditViewDetail = "view_detail"
	AuditViewPhoto  = "view_photo"
	AuditClaim      = "claim"
	AuditRelease    = "release"
	AuditDecide     = "decide"
	AuditWithdraw   = "withdraw"
)

// genesisHash is the previous hash of the first audit entry.
var genesisHash = strings.Repeat("0", 64)

// AuditEntry is one line of the audit log. Each entry's Hash covers its
// fields and the previous entry's hash, so editing or deleting an entry
// breaks the chain for every later one.
type AuditEntry struct {
	ID            int64     `db:"id" json:"id"`
	ApplicationID string    `db:"application_id" json:"application_id"`
	Actor         string    `db:"actor" json:"actor"`
	Action        string    `db:"action" json:"action"`
	Detail        string    `db:"detail" json:"detail,omitempty"`
	CreatedAt     time.Time `db:"created_at" json:"created_at"`
	PrevHash      string    `db:"prev_hash" json:"prev_hash"`
	Hash          string    `db:"hash" json:"hash"`
}

func auditHash(prev, applicationID, actor, action, detail string, at time.Time) string {
	h := sha256.New()
	for _, part := range []string{prev, applicationID, actor, action, detail, at.UTC().Format(time.RFC3339Nano)} {
		fmt.Fprintf(h, "%d:%s|", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// appendAudit adds an entry at the end of the chain inside tx. The unique
// prev_hash column lets only one of two concurrent appends extend the same
// entry. The other fails with a duplicate key, so its transaction is
// retried.
func (s *Store) appendAudit(ctx context.Context, tx *sqlx.Tx, applicationID, actor, action, detail string, now time.Time) error {
	var prev string
	err := tx.GetContext(ctx, &prev, "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
	if errors.Is(err, sql.ErrNoRows) {
		prev = genesisHash
	} else if err != nil {
		return fmt.Errorf("read audit chain head: %w", err)
	}
	detail = truncate(detail, 255)
	hash := auditHash(prev, applicationID, actor, action, detail, now)
	res, err := tx.ExecContext(ctx, `INSERT INTO audit_log (application_id, actor, action, detail, created_at, prev_hash, hash)
VALUES (?, ?, ?, ?, ?, ?, ?)`, applicationID, actor, action, detail, now, prev, hash)
	if isDuplicate(err) {
		return errRetryTransaction
	}
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("read audit entry id: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_head (id, last_id, last_hash, updated_at) VALUES (1, ?, ?, ?)
ON DUPLICATE KEY UPDATE last_id = VALUES(last_id), last_hash = VALUES(last_hash), updated_at = VALUES(updated_at)`,
		id, hash, now)
	if err != nil {
		return fmt.Errorf("move audit chain head: %w", err)
	}
	return nil
}

// RecordAccess appends one audit entry outside other changes, for reads
// of personal data. The read must not be served when this fails.
func (s *Store) RecordAccess(ctx context.Context, applicationID, actor, action, detail string) error {
	now := s.clock()
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		return s.appendAudit(ctx, tx, applicationID, actor, action, detail, now)
	})
}

// AuditTrail returns an application's audit entries, oldest first.
func (s *Store) AuditTrail(ctx context.Context, applicationID string) ([]AuditEntry, error) {
	out := []AuditEntry{}
	err := s.db.SelectContext(ctx, &out, `SELECT id, application_id, actor, action, detail, created_at, prev_hash, hash
FROM audit_log WHERE application_id = ? ORDER BY id`, applicationID)
	if err != nil {
		return nil, fmt.Errorf("read audit trail: %w", err)
	}
	for i := range out {
		out[i].CreatedAt = out[i].CreatedAt.UTC()
	}
	return out, nil
}

// VerifyAuditChain walks the whole audit log and returns the id of the
// first entry whose hash or link does not hold, or 0 when the chain is
// intact. When the newest entries were deleted, it returns the id the
// chain head records as the last entry.
func (s *Store) VerifyAuditChain(ctx context.Context) (int64, error) {
	prev := genesisHash
	var after int64
	for {
		var batch []AuditEntry
		err := s.db.SelectContext(ctx, &batch, `SELECT id, application_id, actor, action, detail, created_at, prev_hash, hash
FROM audit_log WHERE id > ? ORDER BY id LIMIT 1000`, after)
		if err != nil {
			return 0, fmt.Errorf("read audit log: %w", err)
		}
		if len(batch) == 0 {
			return s.checkAuditHead(ctx, after, prev)
		}
		for _, e := range batch {
			if e.PrevHash != prev || auditHash(e.PrevHash, e.ApplicationID, e.Actor, e.Action, e.Detail, e.CreatedAt) != e.Hash {
				return e.ID, nil
			}
			prev = e.Hash
			after = e.ID
		}
	}
}

// checkAuditHead compares the end of the walked chain with the recorded
// head and returns the head's entry id when they differ.
func (s *Store) checkAuditHead(ctx context.Context, lastID int64, lastHash string) (int64, error) {
	var head struct {
		LastID   int64  `db:"last_id"`
		LastHash string `db:"last_hash"`
	}
	err := s.db.GetContext(ctx, &head, "SELECT last_id, last_hash FROM audit_head WHERE id = 1")
	if errors.Is(err, sql.ErrNoRows) {
		if lastID == 0 {
			return 0, nil
		}
		// Entries without a head: the head row itself was deleted.
		return lastID, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read audit chain head: %w", err)
	}
	if head.LastID != lastID || head.LastHash != lastHash {
		return head.LastID, nil
	}
	return 0, nil
}
