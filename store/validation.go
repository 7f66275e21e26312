package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/idverify/idverify/tasks"
)

// Quota returns how many accounts one identity of subjectType may verify:
// one for a personal document, five for an enterprise.
func Quota(subjectType string) int {
	if subjectType == SubjectOrganization {
		return 5
	}
	return 1
}

// IdentityUse describes where an identity fingerprint is already bound.
type IdentityUse struct {
	// OtherAccounts counts accounts other than the asking one that hold
	// the identity.
	OtherAccounts int
	// ThisAccount reports whether the asking account holds it.
	ThisAccount bool
}

// IdentityUse returns where fingerprint is bound, seen from accountID.
func (s *Store) IdentityUse(ctx context.Context, fingerprint []byte, accountID string) (IdentityUse, error) {
	var accounts []string
	if err := s.db.SelectContext(ctx, &accounts, "SELECT account_id FROM identity_bindings WHERE fingerprint = ?", fingerprint); err != nil {
		return IdentityUse{}, fmt.Errorf("look up identity bindings: %w", err)
	}
	var use IdentityUse
	for _, a := range accounts {
		if a == accountID {
			use.ThisAccount = true
		} else {
			use.OtherAccounts++
		}
	}
	return use, nil
}

// PhotoUseElsewhere counts other accounts that submitted a photo with the
// same fingerprint.
func (s *Store) PhotoUseElsewhere(ctx context.Context, photoFingerprint []byte, accountID string) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT COUNT(DISTINCT account_id) FROM applications
WHERE photo_fingerprint = ? AND account_id <> ?`, photoFingerprint, accountID)
	if err != nil {
		return 0, fmt.Errorf("count photo reuse: %w", err)
	}
	return n, nil
}

// ValidationOutcome is the result of automatic validation.
type ValidationOutcome struct {
	Checks              Checks
	IdentityFingerprint []byte
	NameMasked          string
	NumberMasked        string
	// ReviewDueAt and BreachAt are the level 1 and level 2 deadlines, used
	// when the checks passed.
	ReviewDueAt time.Time
	BreachAt    time.Time
}

// CompleteValidation records the outcome of automatic validation. Passed
// checks move the application to awaiting_review and schedule its two
// escalations; failed checks reject it and notify the account holder. It
// returns the application and false when it was no longer in submitted
// (decided, withdrawn or validated by an earlier run), so a second run
// changes nothing.
func (s *Store) CompleteValidation(ctx context.Context, applicationID string, out ValidationOutcome) (Application, bool, error) {
	now := s.clock()
	checksJSON, err := json.Marshal(out.Checks)
	if err != nil {
		return Application{}, false, fmt.Errorf("encode checks: %w", err)
	}
	flagsJSON, err := json.Marshal(out.Checks.Flags)
	if err != nil {
		return Application{}, false, fmt.Errorf("encode flags: %w", err)
	}

	nameMasked := fitMask(out.NameMasked, nameMaskedLength)
	numberMasked := fitMask(out.NumberMasked, numberMaskedLength)

	var changed bool
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		app, err := s.getApplication(ctx, tx, applicationID, false, true)
		if err != nil {
			return err
		}
		changed = app.Status == StatusSubmitted
		if !changed {
			return nil
		}

		if out.Checks.Passed {
			due, breach := out.ReviewDueAt.UTC(), out.BreachAt.UTC()
			_, err = tx.ExecContext(ctx, `UPDATE applications SET status = ?, checks = ?, flags = ?,
identity_fingerprint = ?, name_masked = ?, number_masked = ?, validated_at = ?, review_started_at = ?,
review_due_at = ?, breach_at = ?, updated_at = ? WHERE id = ?`,
				StatusAwaitingReview, string(checksJSON), string(flagsJSON), out.IdentityFingerprint,
				nameMasked, numberMasked, now, now, due, breach, now, applicationID)
			if err != nil {
				return fmt.Errorf("move application to review: %w", err)
			}
			if err := s.addTask(ctx, tx, tasks.Escalate(applicationID, 1, due), now); err != nil {
				return err
			}
			if err := s.addTask(ctx, tx, tasks.Escalate(applicationID, 2, breach), now); err != nil {
				return err
			}
			// Entering review notifies webhook receivers only, because
			// they follow every status change.
			if !s.webhooks() {
				return nil
			}
			return s.addNotifications(ctx, tx, notificationEvent{
				Key: "application:" + applicationID + ":in_review", AccountID: app.AccountID, ApplicationID: applicationID,
				Event: EventInReview, Channels: []string{ChannelWebhook},
				Data: EventData{ApplicationID: applicationID, Kind: app.Kind, SubjectType: app.SubjectType, Region: app.Region,
					Status: StatusAwaitingReview, DueAt: &due},
			}, now)
		}

		reasons, _ := json.Marshal([]string{"automatic_checks_failed"})
		_, err = tx.ExecContext(ctx, `UPDATE applications SET status = ?, open_account_id = NULL, checks = ?,
flags = ?, identity_fingerprint = ?, name_masked = ?, number_masked = ?, validated_at = ?, decided_at = ?,
decided_by = ?, reasons = ?, resubmit_allowed = ?, updated_at = ? WHERE id = ?`,
			StatusRejected, string(checksJSON), string(flagsJSON), out.IdentityFingerprint, nameMasked,
			numberMasked, now, now, "system", string(reasons), true, now, applicationID)
		if err != nil {
			return fmt.Errorf("reject application: %w", err)
		}
		var failed []string
		for _, v := range out.Checks.Violations() {
			failed = append(failed, v.Field+":"+v.Code)
		}
		return s.addNotifications(ctx, tx, notificationEvent{
			Key: "application:" + applicationID + ":rejected", AccountID: app.AccountID, ApplicationID: applicationID,
			Event: EventRejectedAutomatically,
			Data: EventData{ApplicationID: applicationID, Kind: app.Kind, SubjectType: app.SubjectType, Region: app.Region,
				Status: StatusRejected, FailedChecks: failed, ResubmitAllowed: true},
		}, now)
	})
	if err != nil {
		return Application{}, false, err
	}
	app, err := s.GetApplication(ctx, applicationID)
	return app, changed, err
}
