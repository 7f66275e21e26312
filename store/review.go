package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// ReasonCodes are the reasons a reviewer may give for a rejection.
var ReasonCodes = []string{
	"name_mismatch",
	"photo_unreadable",
	"address_incomplete",
	"document_expired",
	"document_invalid",
	"quota_exceeded",
	"document_already_bound",
	"other",
}

// ValidReason reports whether code is one of ReasonCodes.
func ValidReason(code string) bool {
	for _, c := range ReasonCodes {
		if c == code {
			return true
		}
	}
	return false
}

// Claim gives reviewer the application until now+ttl. The holder of a
// live claim may renew it; anyone may take an expired one. Errors:
// ErrNotFound, ErrNotAwaitingReview while validation runs, ErrDecided,
// ErrClaimedByOther.
func (s *Store) Claim(ctx context.Context, applicationID, reviewer string, ttl time.Duration) (Application, error) {
	now := s.clock()
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		app, err := s.getApplication(ctx, tx, applicationID, false, true)
		if err != nil {
			return err
		}
		switch {
		case app.Status == StatusSubmitted:
			return ErrNotAwaitingReview
		case app.Status != StatusAwaitingReview:
			return ErrDecided
		case claimedByOther(app, reviewer, now):
			return claimedError(app)
		}
		_, err = tx.ExecContext(ctx, "UPDATE applications SET claimed_by = ?, claim_expires_at = ?, updated_at = ? WHERE id = ?",
			reviewer, now.Add(ttl), now, applicationID)
		if err != nil {
			return fmt.Errorf("claim application: %w", err)
		}
		return s.appendAudit(ctx, tx, applicationID, reviewer, AuditClaim, "until "+now.Add(ttl).Format(time.RFC3339), now)
	})
	if err != nil {
		return Application{}, err
	}
	return s.GetApplication(ctx, applicationID)
}

// Release ends reviewer's claim early. Releasing a claim one does not hold
// is ErrClaimedByOther.
func (s *Store) Release(ctx context.Context, applicationID, reviewer string) error {
	now := s.clock()
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		app, err := s.getApplication(ctx, tx, applicationID, false, true)
		if err != nil {
			return err
		}
		if claimedByOther(app, reviewer, now) {
			return claimedError(app)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE applications SET claimed_by = NULL, claim_expires_at = NULL WHERE id = ?", applicationID); err != nil {
			return fmt.Errorf("release claim: %w", err)
		}
		return s.appendAudit(ctx, tx, applicationID, reviewer, AuditRelease, "", now)
	})
}

func claimedError(app Application) error {
	return &ClaimedError{Reviewer: app.ClaimedBy, ExpiresAt: *app.ClaimExpiresAt}
}

func claimedByOther(app Application, reviewer string, now time.Time) bool {
	return app.ClaimedBy != "" && app.ClaimedBy != reviewer && app.ClaimExpiresAt != nil && app.ClaimExpiresAt.After(now)
}

// Decision is a reviewer's verdict.
type Decision struct {
	Approve         bool
	Reasons         []string
	Note            string
	ResubmitAllowed bool
}

// Decide records a reviewer's decision. Approval re-checks the
// identity-change rule and takes a quota slot for the identity in the same
// transaction, then switches the account's identity and frees the slot of
// the identity it replaces.
//
// Errors: ErrNotFound; ErrDecided when a decision exists (including a
// withdrawal); ErrNotAwaitingReview while validation runs;
// ErrClaimedByOther; ErrQuotaExceeded; *ChangeTooEarlyError. On every
// error nothing changes.
func (s *Store) Decide(ctx context.Context, applicationID, reviewer string, d Decision) (Application, error) {
	now := s.clock()
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		app, err := s.getApplication(ctx, tx, applicationID, false, true)
		if err != nil {
			return err
		}
		switch {
		case app.Status == StatusSubmitted:
			return ErrNotAwaitingReview
		case app.Status != StatusAwaitingReview:
			return ErrDecided
		case claimedByOther(app, reviewer, now):
			return claimedError(app)
		}

		status, event := StatusRejected, EventRejected
		if d.Approve {
			status, event = StatusApproved, EventApproved
			if err := s.bindIdentity(ctx, tx, app, now); err != nil {
				return err
			}
		}

		reasons, err := json.Marshal(d.Reasons)
		if err != nil {
			return fmt.Errorf("encode reasons: %w", err)
		}
		var noteEnc []byte
		if d.Note != "" {
			noteEnc = s.keys.Seal([]byte(d.Note), noteAAD(applicationID))
		}
		var resubmit sql.NullBool
		if !d.Approve {
			resubmit = sql.NullBool{Bool: d.ResubmitAllowed, Valid: true}
		}
		_, err = tx.ExecContext(ctx, `UPDATE applications SET status = ?, open_account_id = NULL, reasons = ?,
note_enc = ?, resubmit_allowed = ?, decided_by = ?, decided_at = ?, claimed_by = NULL, claim_expires_at = NULL,
updated_at = ? WHERE id = ?`, status, string(reasons), noteEnc, resubmit, reviewer, now, now, applicationID)
		if err != nil {
			return fmt.Errorf("record decision: %w", err)
		}

		detail := status
		if len(d.Reasons) > 0 {
			detail += " " + strings.Join(d.Reasons, ",")
		}
		if err := s.appendAudit(ctx, tx, applicationID, reviewer, AuditDecide, detail, now); err != nil {
			return err
		}
		return s.addNotifications(ctx, tx, notificationEvent{
			Key: "application:" + applicationID + ":" + status, AccountID: app.AccountID, ApplicationID: applicationID,
			Event: event,
			Data: EventData{ApplicationID: applicationID, Kind: app.Kind, SubjectType: app.SubjectType, Region: app.Region,
				Status: status, Reasons: d.Reasons, ResubmitAllowed: !d.Approve && d.ResubmitAllowed},
		}, now)
	})
	if err != nil {
		return Application{}, err
	}
	return s.GetApplication(ctx, applicationID)
}

// bindIdentity takes a quota slot for app's identity and makes it the
// account's identity. The bindings table has one row per (fingerprint,
// slot), slots 1..Quota. Its primary key makes two transactions that race
// for the last slot collide, so the loser moves to the next slot or fails
// with ErrQuotaExceeded.
func (s *Store) bindIdentity(ctx context.Context, tx *sqlx.Tx, app Application, now time.Time) error {
	if len(app.IdentityFingerprint) == 0 {
		return fmt.Errorf("application %s has no identity fingerprint", app.ID)
	}
	acct, err := s.getAccount(ctx, tx, app.AccountID, true)
	if err != nil {
		return err
	}
	if err := checkChange(acct, app.SubjectType, now); err != nil {
		return err
	}

	// Release the slot of the identity being replaced.
	if len(acct.IdentityFingerprint) > 0 {
		if _, err := tx.ExecContext(ctx, "DELETE FROM identity_bindings WHERE fingerprint = ? AND account_id = ?",
			acct.IdentityFingerprint, acct.ID); err != nil {
			return fmt.Errorf("release old identity binding: %w", err)
		}
	}

	if err := s.takeSlot(ctx, tx, app, now); err != nil {
		return err
	}

	_, err = tx.ExecContext(ctx, `UPDATE accounts SET subject_type = ?, identity_application_id = ?,
identity_fingerprint = ?, verified_at = ?, updated_at = ? WHERE id = ?`,
		app.SubjectType, app.ID, app.IdentityFingerprint, now, now, acct.ID)
	if err != nil {
		return fmt.Errorf("switch account identity: %w", err)
	}
	return nil
}

func (s *Store) takeSlot(ctx context.Context, tx *sqlx.Tx, app Application, now time.Time) error {
	var used []struct {
		Slot      int    `db:"slot"`
		AccountID string `db:"account_id"`
	}
	if err := tx.SelectContext(ctx, &used, "SELECT slot, account_id FROM identity_bindings WHERE fingerprint = ?",
		app.IdentityFingerprint); err != nil {
		return fmt.Errorf("read identity bindings: %w", err)
	}
	usedSlots := make(map[int]bool)
	for _, u := range used {
		if u.AccountID == app.AccountID {
			return nil // this account already holds the identity
		}
		usedSlots[u.Slot] = true
	}
	for slot := 1; slot <= Quota(app.SubjectType); slot++ {
		if usedSlots[slot] {
			continue
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO identity_bindings (fingerprint, slot, account_id, application_id,
created_at) VALUES (?, ?, ?, ?, ?)`, app.IdentityFingerprint, slot, app.AccountID, app.ID, now)
		if err == nil {
			return nil
		}
		if !isDuplicate(err) {
			return fmt.Errorf("take identity slot %d: %w", slot, err)
		}
		// A concurrent approval took this slot after our read: try the
		// next one. A duplicate on (fingerprint, account_id) means this
		// account got it concurrently, which the retried read resolves.
	}
	return ErrQuotaExceeded
}

// Withdraw ends an open application on the applicant's request. actor is
// the caller's id for the audit log. The account's identity is untouched.
// Errors: ErrNotFound (also for another account's application), ErrDecided.
func (s *Store) Withdraw(ctx context.Context, accountID, applicationID, actor string) (Application, error) {
	now := s.clock()
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		app, err := s.getApplication(ctx, tx, applicationID, false, true)
		if err != nil {
			return err
		}
		if app.AccountID != accountID {
			return ErrNotFound
		}
		if !app.Open() {
			return ErrDecided
		}
		_, err = tx.ExecContext(ctx, `UPDATE applications SET status = ?, open_account_id = NULL, withdrawn_at = ?,
decided_at = ?, decided_by = ?, claimed_by = NULL, claim_expires_at = NULL, updated_at = ? WHERE id = ?`,
			StatusWithdrawn, now, now, actor, now, applicationID)
		if err != nil {
			return fmt.Errorf("withdraw application: %w", err)
		}
		if err := s.appendAudit(ctx, tx, applicationID, actor, AuditWithdraw, "", now); err != nil {
			return err
		}
		return s.addNotifications(ctx, tx, notificationEvent{
			Key: "application:" + applicationID + ":withdrawn", AccountID: app.AccountID, ApplicationID: applicationID,
			Event: EventWithdrawn,
			Data:  EventData{ApplicationID: applicationID, Kind: app.Kind, SubjectType: app.SubjectType, Region: app.Region, Status: StatusWithdrawn},
		}, now)
	})
	if err != nil {
		return Application{}, err
	}
	return s.GetApplication(ctx, applicationID)
}

// ReviewFilter selects the review queue.
type ReviewFilter struct {
	Status      string // default awaiting_review; "any" for every status
	Region      string
	SubjectType string
	Overdue     *bool // review_due_at passed
	Escalated   *bool // escalation_level > 0
	Limit       int
	Offset      int
}

// ListReview returns applications for reviewers: highest priority first,
// then the oldest review deadline, then the oldest submission.
func (s *Store) ListReview(ctx context.Context, f ReviewFilter) ([]Application, error) {
	now := s.clock()
	var where []string
	var args []any
	switch f.Status {
	case "":
		where = append(where, "status = ?")
		args = append(args, StatusAwaitingReview)
	case "any":
	default:
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.Region != "" {
		where = append(where, "region = ?")
		args = append(args, f.Region)
	}
	if f.SubjectType != "" {
		where = append(where, "subject_type = ?")
		args = append(args, f.SubjectType)
	}
	// Only an application still awaiting review can be overdue, which is
	// how the API's overdue member is defined.
	if f.Overdue != nil {
		if *f.Overdue {
			where = append(where, "status = ? AND review_due_at IS NOT NULL AND review_due_at <= ?")
		} else {
			where = append(where, "(status <> ? OR review_due_at IS NULL OR review_due_at > ?)")
		}
		args = append(args, StatusAwaitingReview, now)
	}
	if f.Escalated != nil {
		if *f.Escalated {
			where = append(where, "escalation_level > 0")
		} else {
			where = append(where, "escalation_level = 0")
		}
	}
	query := "SELECT " + applicationColumns + " FROM applications"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	// NULL deadlines (not yet in review) sort last.
	query += " ORDER BY priority DESC, review_due_at IS NULL, review_due_at, submitted_at, id LIMIT ? OFFSET ?"
	args = append(args, f.Limit, f.Offset)
	var rows []applicationRow
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list review queue: %w", err)
	}
	out := make([]Application, 0, len(rows))
	for _, r := range rows {
		a, err := s.toApplication(r, false)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Escalate raises an undecided application to level. Level 1 raises its
// priority and notifies the reviewer leads. Level 2 is a breach: it
// notifies operations and the applicant, who learns of the delay. It returns false when the
// application was decided or already at that level, so a repeat or a late
// task changes nothing.
func (s *Store) Escalate(ctx context.Context, applicationID string, level int) (bool, error) {
	now := s.clock()
	var changed bool
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		app, err := s.getApplication(ctx, tx, applicationID, false, true)
		if err != nil {
			return err
		}
		changed = app.Status == StatusAwaitingReview && app.EscalationLevel < level
		if !changed {
			return nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE applications SET escalation_level = ?, priority = ?, updated_at = ? WHERE id = ?",
			level, level, now, applicationID); err != nil {
			return fmt.Errorf("escalate application: %w", err)
		}
		data := EventData{ApplicationID: applicationID, Kind: app.Kind, SubjectType: app.SubjectType, Region: app.Region,
			Status: app.Status, Level: level, DueAt: app.ReviewDueAt}
		if err := s.addNotifications(ctx, tx, notificationEvent{
			Key:       fmt.Sprintf("application:%s:escalated:%d", applicationID, level),
			AccountID: app.AccountID, ApplicationID: applicationID, Event: EventEscalated, Data: data,
			Channels: []string{ChannelStaff},
		}, now); err != nil {
			return err
		}
		if level < 2 {
			return nil
		}
		return s.addNotifications(ctx, tx, notificationEvent{
			Key:       "application:" + applicationID + ":review_delayed",
			AccountID: app.AccountID, ApplicationID: applicationID, Event: EventReviewDelayed, Data: data,
			Channels: s.holderChannels(),
		}, now)
	})
	return changed, err
}

// OpenReviews returns the ids, deadlines and escalation levels of every
// application awaiting review, for the deadline sweeper.
func (s *Store) OpenReviews(ctx context.Context) ([]Application, error) {
	var rows []struct {
		ID              string       `db:"id"`
		ReviewDueAt     sql.NullTime `db:"review_due_at"`
		BreachAt        sql.NullTime `db:"breach_at"`
		EscalationLevel int          `db:"escalation_level"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, review_due_at, breach_at, escalation_level FROM applications
WHERE status = ?`, StatusAwaitingReview); err != nil {
		return nil, fmt.Errorf("list open reviews: %w", err)
	}
	out := make([]Application, 0, len(rows))
	for _, r := range rows {
		out = append(out, Application{ID: r.ID, Status: StatusAwaitingReview, ReviewDueAt: timePtr(r.ReviewDueAt),
			BreachAt: timePtr(r.BreachAt), EscalationLevel: r.EscalationLevel})
	}
	return out, nil
}

// Identity is an account's verified identity as callers see it.
type Identity struct {
	Account     Account
	Application *Application // the approved application, nil while unverified
}

// GetIdentity returns an account's identity. Errors: ErrAccountNotFound.
func (s *Store) GetIdentity(ctx context.Context, accountID string) (Identity, error) {
	acct, err := s.GetAccount(ctx, accountID)
	if err != nil {
		return Identity{}, err
	}
	id := Identity{Account: acct}
	if acct.IdentityApplicationID == "" {
		return id, nil
	}
	app, err := s.GetApplication(ctx, acct.IdentityApplicationID)
	if errors.Is(err, ErrNotFound) {
		return id, fmt.Errorf("account %s: identity application %s is missing", accountID, acct.IdentityApplicationID)
	}
	if err != nil {
		return Identity{}, err
	}
	id.Application = &app
	return id, nil
}

// VerifiedName returns the decrypted verified name of an account (the
// person's or the enterprise's), or "" while unverified.
func (s *Store) VerifiedName(ctx context.Context, accountID string) (string, error) {
	acct, err := s.GetAccount(ctx, accountID)
	if err != nil {
		return "", err
	}
	if acct.IdentityApplicationID == "" {
		return "", nil
	}
	app, err := s.GetApplicationDecrypted(ctx, acct.IdentityApplicationID)
	if err != nil {
		return "", err
	}
	if app.SubjectType == SubjectOrganization {
		return app.Fields.EnterpriseName, nil
	}
	return app.Fields.FullName, nil
}
