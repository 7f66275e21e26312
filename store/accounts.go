package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Subject types.
const (
	SubjectIndividual   = "individual"
	SubjectOrganization = "organization"
)

// ChangeWaitDays is how long after the last successful verification an
// identity change other than individual to organization is allowed.
const ChangeWaitDays = 30

// Account is an account holder's contact data and verified identity. Email
// and Phone are decrypted.
type Account struct {
	ID                    string
	Email                 string
	Phone                 string
	Locale                string
	SubscribeEmail        bool
	SubscribeSMS          bool
	SubjectType           string // "" while unverified
	IdentityApplicationID string
	IdentityFingerprint   []byte
	VerifiedAt            *time.Time
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// AccountInput is the caller-supplied part of an account.
type AccountInput struct {
	ID             string
	Email          string
	Phone          string
	Locale         string
	SubscribeEmail bool
	SubscribeSMS   bool
}

type accountRow struct {
	ID                    string         `db:"id"`
	EmailEnc              []byte         `db:"email_enc"`
	PhoneEnc              []byte         `db:"phone_enc"`
	Locale                string         `db:"locale"`
	SubscribeEmail        bool           `db:"subscribe_email"`
	SubscribeSMS          bool           `db:"subscribe_sms"`
	SubjectType           sql.NullString `db:"subject_type"`
	IdentityApplicationID sql.NullString `db:"identity_application_id"`
	IdentityFingerprint   []byte         `db:"identity_fingerprint"`
	VerifiedAt            sql.NullTime   `db:"verified_at"`
	CreatedAt             time.Time      `db:"created_at"`
	UpdatedAt             time.Time      `db:"updated_at"`
}

const accountColumns = `id, email_enc, phone_enc, locale, subscribe_email, subscribe_sms, subject_type,
identity_application_id, identity_fingerprint, verified_at, created_at, updated_at`

func contactAAD(accountID, field string) []byte { return []byte("account/" + accountID + "/" + field) }

// PutAccount creates the account or updates its contact data and
// settings. It reports whether the account was created. The verified
// identity is never changed here. Safe to repeat.
func (s *Store) PutAccount(ctx context.Context, in AccountInput) (created bool, err error) {
	now := s.clock()
	var emailEnc, phoneEnc []byte
	if in.Email != "" {
		emailEnc = s.keys.Seal([]byte(in.Email), contactAAD(in.ID, "email"))
	}
	if in.Phone != "" {
		phoneEnc = s.keys.Seal([]byte(in.Phone), contactAAD(in.ID, "phone"))
	}

	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var exists int
		err := tx.GetContext(ctx, &exists, "SELECT COUNT(*) FROM accounts WHERE id = ? FOR UPDATE", in.ID)
		if err != nil {
			return fmt.Errorf("look up account: %w", err)
		}
		if exists > 0 {
			created = false
			_, err = tx.ExecContext(ctx, `UPDATE accounts SET email_enc = ?, phone_enc = ?, locale = ?,
subscribe_email = ?, subscribe_sms = ?, updated_at = ? WHERE id = ?`,
				emailEnc, phoneEnc, in.Locale, in.SubscribeEmail, in.SubscribeSMS, now, in.ID)
			if err != nil {
				return fmt.Errorf("update account: %w", err)
			}
			return nil
		}
		created = true
		_, err = tx.ExecContext(ctx, `INSERT INTO accounts (id, email_enc, phone_enc, locale, subscribe_email,
subscribe_sms, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			in.ID, emailEnc, phoneEnc, in.Locale, in.SubscribeEmail, in.SubscribeSMS, now, now)
		if isDuplicate(err) {
			// A concurrent PUT created it first; update on the next try.
			return errRetryTransaction
		}
		if err != nil {
			return fmt.Errorf("insert account: %w", err)
		}
		return nil
	})
	return created, err
}

// GetAccount returns the account with decrypted contact data, or
// ErrAccountNotFound.
func (s *Store) GetAccount(ctx context.Context, id string) (Account, error) {
	return s.getAccount(ctx, s.db, id, false)
}

func (s *Store) getAccount(ctx context.Context, q sqlx.QueryerContext, id string, forUpdate bool) (Account, error) {
	query := "SELECT " + accountColumns + " FROM accounts WHERE id = ?"
	if forUpdate {
		query += " FOR UPDATE"
	}
	var row accountRow
	err := sqlx.GetContext(ctx, q, &row, query, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrAccountNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("load account: %w", err)
	}
	a := Account{
		ID:                    row.ID,
		Locale:                row.Locale,
		SubscribeEmail:        row.SubscribeEmail,
		SubscribeSMS:          row.SubscribeSMS,
		SubjectType:           row.SubjectType.String,
		IdentityApplicationID: row.IdentityApplicationID.String,
		IdentityFingerprint:   row.IdentityFingerprint,
		VerifiedAt:            timePtr(row.VerifiedAt),
		CreatedAt:             row.CreatedAt.UTC(),
		UpdatedAt:             row.UpdatedAt.UTC(),
	}
	if len(row.EmailEnc) > 0 {
		b, err := s.keys.Open(row.EmailEnc, contactAAD(row.ID, "email"))
		if err != nil {
			return Account{}, fmt.Errorf("open account email: %w", err)
		}
		a.Email = string(b)
	}
	if len(row.PhoneEnc) > 0 {
		b, err := s.keys.Open(row.PhoneEnc, contactAAD(row.ID, "phone"))
		if err != nil {
			return Account{}, fmt.Errorf("open account phone: %w", err)
		}
		a.Phone = string(b)
	}
	return a, nil
}

// ChangeAllowedFrom returns when an account verified as from (at
// verifiedAt) may change to the subject type to, or the zero time when the
// change is allowed at once. Individual to organization is allowed at
// once; every other change waits ChangeWaitDays days after the last
// successful verification, rounded up to a whole second. The API states
// the date in RFC 3339 without fractions, and a change submitted at the
// stated second must be allowed.
func ChangeAllowedFrom(from, to string, verifiedAt time.Time) time.Time {
	if from == SubjectIndividual && to == SubjectOrganization {
		return time.Time{}
	}
	earliest := verifiedAt.AddDate(0, 0, ChangeWaitDays)
	if whole := earliest.Truncate(time.Second); !whole.Equal(earliest) {
		return whole.Add(time.Second)
	}
	return earliest
}

// checkChange returns a *ChangeTooEarlyError when acct may not change to
// subject type to at now, and nil for unverified accounts.
func checkChange(acct Account, to string, now time.Time) error {
	if acct.SubjectType == "" || acct.VerifiedAt == nil {
		return nil
	}
	earliest := ChangeAllowedFrom(acct.SubjectType, to, *acct.VerifiedAt)
	if now.Before(earliest) {
		return &ChangeTooEarlyError{From: acct.SubjectType, To: to, Earliest: earliest}
	}
	return nil
}
