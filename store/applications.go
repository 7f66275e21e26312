package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/idverify/idverify/identity"
	"github.com/idverify/idverify/tasks"
)

// Application statuses.
const (
	StatusSubmitted      = "submitted"
	StatusAwaitingReview = "awaiting_review"
	StatusApproved       = "approved"
	StatusRejected       = "rejected"
	StatusWithdrawn      = "withdrawn"
)

// Application kinds.
const (
	KindInitial = "initial"
	KindChange  = "change"
)

// ConsentVersion names the consent text shown to applicants. Change it
// when the text changes; each application stores the version it agreed to.
const ConsentVersion = "2026-01"

// Fields are the personal fields of an application, sealed together.
type Fields struct {
	FullName           string `json:"full_name,omitempty"`
	Address            string `json:"address,omitempty"`
	DocumentNumber     string `json:"document_number,omitempty"`
	MRZ                string `json:"mrz,omitempty"`
	EnterpriseName     string `json:"enterprise_name,omitempty"`
	RegisteredAddress  string `json:"registered_address,omitempty"`
	RegistrationNumber string `json:"business_registration_number,omitempty"`
}

// Check is one automatic check and its outcome.
type Check struct {
	Name       string               `json:"name"`
	Passed     bool                 `json:"passed"`
	Violations []identity.Violation `json:"violations,omitempty"`
}

// Flag is a finding for the reviewer that does not fail validation.
type Flag struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// Checks is the stored result of automatic validation. It holds rule
// codes and field names only, never personal data, so it is also written
// as the asynq task result.
type Checks struct {
	Passed    bool      `json:"passed"`
	Checks    []Check   `json:"checks"`
	Flags     []Flag    `json:"flags,omitempty"`
	CheckedAt time.Time `json:"checked_at"`
}

// Violations returns every violation of every failed check.
func (c Checks) Violations() []identity.Violation {
	var out []identity.Violation
	for _, ch := range c.Checks {
		out = append(out, ch.Violations...)
	}
	return out
}

// Application is one verification application. Fields is filled only by
// the calls that decrypt it.
type Application struct {
	ID              string     `db:"id"`
	AccountID       string     `db:"account_id"`
	Kind            string     `db:"kind"`
	SubjectType     string     `db:"subject_type"`
	Region          string     `db:"region"`
	DocumentType    string     `db:"document_type"`
	IssuingCountry  string     `db:"issuing_country"`
	Status          string     `db:"status"`
	NameMasked      string     `db:"name_masked"`
	NumberMasked    string     `db:"number_masked"`
	PhotoBytes      int        `db:"photo_bytes"`
	ConsentVersion  string     `db:"consent_version"`
	ConsentAt       time.Time  `db:"consent_at"`
	TermsAccepted   bool       `db:"terms_accepted"`
	Checks          *Checks    `db:"-"`
	Reasons         []string   `db:"-"`
	ResubmitAllowed *bool      `db:"-"`
	DecidedBy       string     `db:"decided_by"`
	DecidedAt       *time.Time `db:"-"`
	ClaimedBy       string     `db:"claimed_by"`
	ClaimExpiresAt  *time.Time `db:"-"`
	SubmittedAt     time.Time  `db:"submitted_at"`
	ValidatedAt     *time.Time `db:"-"`
	ReviewStartedAt *time.Time `db:"-"`
	ReviewDueAt     *time.Time `db:"-"`
	BreachAt        *time.Time `db:"-"`
	EscalationLevel int        `db:"escalation_level"`
	Priority        int        `db:"priority"`
	WithdrawnAt     *time.Time `db:"-"`
	UpdatedAt       time.Time  `db:"updated_at"`

	IdentityFingerprint []byte `db:"-"`
	PhotoFingerprint    []byte `db:"-"`
	Fields              *Fields
	Note                string
}

// Open reports whether no decision has been made yet.
func (a Application) Open() bool {
	return a.Status == StatusSubmitted || a.Status == StatusAwaitingReview
}

type applicationRow struct {
	ID                  string         `db:"id"`
	AccountID           string         `db:"account_id"`
	Kind                string         `db:"kind"`
	SubjectType         string         `db:"subject_type"`
	Region              string         `db:"region"`
	DocumentType        sql.NullString `db:"document_type"`
	IssuingCountry      sql.NullString `db:"issuing_country"`
	Status              string         `db:"status"`
	FieldsEnc           []byte         `db:"fields_enc"`
	NameMasked          string         `db:"name_masked"`
	NumberMasked        string         `db:"number_masked"`
	IdentityFingerprint []byte         `db:"identity_fingerprint"`
	PhotoFingerprint    []byte         `db:"photo_fingerprint"`
	PhotoBytes          int            `db:"photo_bytes"`
	ConsentVersion      string         `db:"consent_version"`
	ConsentAt           time.Time      `db:"consent_at"`
	TermsAccepted       bool           `db:"terms_accepted"`
	Checks              sql.NullString `db:"checks"`
	Reasons             sql.NullString `db:"reasons"`
	NoteEnc             []byte         `db:"note_enc"`
	ResubmitAllowed     sql.NullBool   `db:"resubmit_allowed"`
	DecidedBy           sql.NullString `db:"decided_by"`
	DecidedAt           sql.NullTime   `db:"decided_at"`
	ClaimedBy           sql.NullString `db:"claimed_by"`
	ClaimExpiresAt      sql.NullTime   `db:"claim_expires_at"`
	SubmittedAt         time.Time      `db:"submitted_at"`
	ValidatedAt         sql.NullTime   `db:"validated_at"`
	ReviewStartedAt     sql.NullTime   `db:"review_started_at"`
	ReviewDueAt         sql.NullTime   `db:"review_due_at"`
	BreachAt            sql.NullTime   `db:"breach_at"`
	EscalationLevel     int            `db:"escalation_level"`
	Priority            int            `db:"priority"`
	WithdrawnAt         sql.NullTime   `db:"withdrawn_at"`
	UpdatedAt           time.Time      `db:"updated_at"`
}

const applicationColumns = `id, account_id, kind, subject_type, region, document_type, issuing_country, status,
fields_enc, name_masked, number_masked, identity_fingerprint, photo_fingerprint, photo_bytes, consent_version,
consent_at, terms_accepted, checks, reasons, note_enc, resubmit_allowed, decided_by, decided_at, claimed_by,
claim_expires_at, submitted_at, validated_at, review_started_at, review_due_at, breach_at, escalation_level,
priority, withdrawn_at, updated_at`

func fieldsAAD(applicationID string) []byte {
	return []byte("application/" + applicationID + "/fields")
}
func noteAAD(applicationID string) []byte  { return []byte("application/" + applicationID + "/note") }
func photoAAD(applicationID string) []byte { return []byte("application/" + applicationID + "/photo") }

func (s *Store) toApplication(row applicationRow, decrypt bool) (Application, error) {
	a := Application{
		ID:                  row.ID,
		AccountID:           row.AccountID,
		Kind:                row.Kind,
		SubjectType:         row.SubjectType,
		Region:              row.Region,
		DocumentType:        row.DocumentType.String,
		IssuingCountry:      row.IssuingCountry.String,
		Status:              row.Status,
		NameMasked:          row.NameMasked,
		NumberMasked:        row.NumberMasked,
		PhotoBytes:          row.PhotoBytes,
		ConsentVersion:      row.ConsentVersion,
		ConsentAt:           row.ConsentAt.UTC(),
		TermsAccepted:       row.TermsAccepted,
		DecidedBy:           row.DecidedBy.String,
		DecidedAt:           timePtr(row.DecidedAt),
		ClaimedBy:           row.ClaimedBy.String,
		ClaimExpiresAt:      timePtr(row.ClaimExpiresAt),
		SubmittedAt:         row.SubmittedAt.UTC(),
		ValidatedAt:         timePtr(row.ValidatedAt),
		ReviewStartedAt:     timePtr(row.ReviewStartedAt),
		ReviewDueAt:         timePtr(row.ReviewDueAt),
		BreachAt:            timePtr(row.BreachAt),
		EscalationLevel:     row.EscalationLevel,
		Priority:            row.Priority,
		WithdrawnAt:         timePtr(row.WithdrawnAt),
		UpdatedAt:           row.UpdatedAt.UTC(),
		IdentityFingerprint: row.IdentityFingerprint,
		PhotoFingerprint:    row.PhotoFingerprint,
	}
	if row.ResubmitAllowed.Valid {
		v := row.ResubmitAllowed.Bool
		a.ResubmitAllowed = &v
	}
	if row.Checks.Valid && row.Checks.String != "" {
		var c Checks
		if err := json.Unmarshal([]byte(row.Checks.String), &c); err != nil {
			return Application{}, fmt.Errorf("application %s: decode checks: %w", row.ID, err)
		}
		a.Checks = &c
	}
	if row.Reasons.Valid && row.Reasons.String != "" {
		if err := json.Unmarshal([]byte(row.Reasons.String), &a.Reasons); err != nil {
			return Application{}, fmt.Errorf("application %s: decode reasons: %w", row.ID, err)
		}
	}
	if !decrypt {
		return a, nil
	}
	plain, err := s.keys.Open(row.FieldsEnc, fieldsAAD(row.ID))
	if err != nil {
		return Application{}, fmt.Errorf("application %s: open fields: %w", row.ID, err)
	}
	f, err := decodeFields(plain)
	if err != nil {
		return Application{}, fmt.Errorf("application %s: decode fields: %w", row.ID, err)
	}
	a.Fields = &f
	if len(row.NoteEnc) > 0 {
		note, err := s.keys.Open(row.NoteEnc, noteAAD(row.ID))
		if err != nil {
			return Application{}, fmt.Errorf("application %s: open note: %w", row.ID, err)
		}
		a.Note = string(note)
	}
	return a, nil
}

func (s *Store) getApplication(ctx context.Context, q sqlx.QueryerContext, id string, decrypt, forUpdate bool) (Application, error) {
	query := "SELECT " + applicationColumns + " FROM applications WHERE id = ?"
	if forUpdate {
		query += " FOR UPDATE"
	}
	var row applicationRow
	err := sqlx.GetContext(ctx, q, &row, query, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Application{}, ErrNotFound
	}
	if err != nil {
		return Application{}, fmt.Errorf("load application %s: %w", id, err)
	}
	return s.toApplication(row, decrypt)
}

// GetApplication returns an application without its personal fields, or
// ErrNotFound.
func (s *Store) GetApplication(ctx context.Context, id string) (Application, error) {
	return s.getApplication(ctx, s.db, id, false, false)
}

// GetApplicationDecrypted returns an application with its personal
// fields. Callers that show them to a person record the read in the audit
// log; the worker uses it to validate.
func (s *Store) GetApplicationDecrypted(ctx context.Context, id string) (Application, error) {
	return s.getApplication(ctx, s.db, id, true, false)
}

// GetAccountApplication returns one of an account's applications without
// personal fields. Another account's application is ErrNotFound.
func (s *Store) GetAccountApplication(ctx context.Context, accountID, id string) (Application, error) {
	a, err := s.GetApplication(ctx, id)
	if err != nil {
		return Application{}, err
	}
	if a.AccountID != accountID {
		return Application{}, ErrNotFound
	}
	return a, nil
}

// ListAccountApplications returns an account's applications, newest
// first, at most limit (1-100), before the id cursor when it is not empty.
func (s *Store) ListAccountApplications(ctx context.Context, accountID, before string, limit int) ([]Application, error) {
	query := "SELECT " + applicationColumns + " FROM applications WHERE account_id = ?"
	args := []any{accountID}
	if before != "" {
		query += " AND id < ?"
		args = append(args, before)
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	var rows []applicationRow
	if err := sqlx.SelectContext(ctx, s.db, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
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

// GetPhoto returns an application's decrypted photo, or ErrNotFound.
func (s *Store) GetPhoto(ctx context.Context, applicationID string) ([]byte, error) {
	var enc []byte
	err := s.db.GetContext(ctx, &enc, "SELECT data_enc FROM photos WHERE application_id = ?", applicationID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load photo: %w", err)
	}
	data, err := s.keys.Open(enc, photoAAD(applicationID))
	if err != nil {
		return nil, fmt.Errorf("open photo of %s: %w", applicationID, err)
	}
	return data, nil
}

// NewApplication is a submission that passed the intake shape checks.
type NewApplication struct {
	AccountID      string
	SubjectType    string
	Region         string
	DocumentType   string
	IssuingCountry string
	Fields         Fields
	Photo          []byte
	TermsAccepted  bool
	// IdempotencyKey, when set, makes a repeat of the same request
	// (RequestHash) return the first application for 24 hours.
	IdempotencyKey string
	RequestHash    string
}

// IdempotencyWindow is how long an Idempotency-Key is remembered.
const IdempotencyWindow = 24 * time.Hour

// RequestHash returns a hash of a submission's content, for idempotency
// comparisons.
func RequestHash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// CreateApplication stores a submission, its photo, its validation task in
// the outbox and the "received" notifications in one transaction. It
// returns the stored application and whether it was an idempotent repeat.
//
// Errors: ErrAccountNotFound; *OpenApplicationError when the account has
// an open application; *ChangeTooEarlyError when an identity change is not
// allowed yet; ErrIdempotencyMismatch when the key was used for another
// request.
func (s *Store) CreateApplication(ctx context.Context, in NewApplication) (Application, bool, error) {
	now := s.clock()
	id := NewID("app_", now)
	nameMasked, numberMasked := maskFields(in.SubjectType, in.Fields)
	photoFP := s.keys.Fingerprint("photo", in.Photo)
	fieldsEnc := s.keys.Seal(encodeFields(in.Fields), fieldsAAD(id))
	photoEnc := s.keys.Seal(in.Photo, photoAAD(id))

	var (
		repeatID string
		openID   string
	)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		repeatID, openID = "", ""

		acct, err := s.getAccount(ctx, tx, in.AccountID, true)
		if err != nil {
			return err
		}

		if in.IdempotencyKey != "" {
			prior, err := s.lookupIdempotency(ctx, tx, in.AccountID, in.IdempotencyKey, in.RequestHash, now)
			if err != nil {
				return err
			}
			if prior != "" {
				repeatID = prior
				return nil
			}
		}

		kind := KindInitial
		if acct.SubjectType != "" {
			kind = KindChange
			if err := checkChange(acct, in.SubjectType, now); err != nil {
				return err
			}
		}

		_, err = tx.ExecContext(ctx, `INSERT INTO applications (id, account_id, open_account_id, kind, subject_type,
region, document_type, issuing_country, status, fields_enc, name_masked, number_masked, photo_fingerprint,
photo_bytes, consent_version, consent_at, terms_accepted, submitted_at, escalation_level, priority, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?)`,
			id, in.AccountID, in.AccountID, kind, in.SubjectType, in.Region, nullString(in.DocumentType),
			nullString(in.IssuingCountry), StatusSubmitted, fieldsEnc, nameMasked, numberMasked, photoFP,
			len(in.Photo), ConsentVersion, now, in.TermsAccepted, now, now)
		if isDuplicate(err) {
			// The unique open_account_id column holds one open
			// application per account, whatever the concurrency.
			return errOpenApplication
		}
		if err != nil {
			return fmt.Errorf("insert application: %w", err)
		}

		if _, err := tx.ExecContext(ctx, "INSERT INTO photos (application_id, data_enc, created_at) VALUES (?, ?, ?)",
			id, photoEnc, now); err != nil {
			return fmt.Errorf("insert photo: %w", err)
		}

		if in.IdempotencyKey != "" {
			_, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (account_id, idem_key, request_hash,
application_id, created_at) VALUES (?, ?, ?, ?, ?)`, in.AccountID, in.IdempotencyKey, in.RequestHash, id, now)
			if isDuplicate(err) {
				// A concurrent request with the same key won; the
				// next try returns its application.
				return errRetryTransaction
			}
			if err != nil {
				return fmt.Errorf("insert idempotency key: %w", err)
			}
		}

		if err := s.addTask(ctx, tx, tasks.Validate(id), now); err != nil {
			return err
		}
		return s.addNotifications(ctx, tx, notificationEvent{
			Key: "application:" + id + ":received", AccountID: in.AccountID, ApplicationID: id,
			Event: EventReceived, Data: EventData{ApplicationID: id, Kind: kind, SubjectType: in.SubjectType, Region: in.Region, Status: StatusSubmitted},
		}, now)
	})
	if errors.Is(err, errOpenApplication) {
		openID, err = s.openApplicationID(ctx, in.AccountID)
		if err != nil {
			return Application{}, false, err
		}
		return Application{}, false, &OpenApplicationError{ApplicationID: openID}
	}
	if err != nil {
		return Application{}, false, err
	}
	if repeatID != "" {
		a, err := s.GetApplication(ctx, repeatID)
		return a, true, err
	}
	a, err := s.GetApplication(ctx, id)
	return a, false, err
}

var errOpenApplication = errors.New("open application exists")

func (s *Store) openApplicationID(ctx context.Context, accountID string) (string, error) {
	var id string
	err := s.db.GetContext(ctx, &id, "SELECT id FROM applications WHERE open_account_id = ?", accountID)
	if errors.Is(err, sql.ErrNoRows) {
		// It was decided in the meantime; the caller may submit again.
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find open application: %w", err)
	}
	return id, nil
}

func (s *Store) lookupIdempotency(ctx context.Context, tx *sqlx.Tx, accountID, key, hash string, now time.Time) (string, error) {
	var row struct {
		RequestHash   string    `db:"request_hash"`
		ApplicationID string    `db:"application_id"`
		CreatedAt     time.Time `db:"created_at"`
	}
	err := tx.GetContext(ctx, &row, `SELECT request_hash, application_id, created_at FROM idempotency_keys
WHERE account_id = ? AND idem_key = ?`, accountID, key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up idempotency key: %w", err)
	}
	if now.Sub(row.CreatedAt) > IdempotencyWindow {
		if _, err := tx.ExecContext(ctx, "DELETE FROM idempotency_keys WHERE account_id = ? AND idem_key = ?", accountID, key); err != nil {
			return "", fmt.Errorf("expire idempotency key: %w", err)
		}
		return "", nil
	}
	if row.RequestHash != hash {
		return "", ErrIdempotencyMismatch
	}
	return row.ApplicationID, nil
}

func maskFields(subjectType string, f Fields) (name, number string) {
	if subjectType == SubjectOrganization {
		return fitMask(identity.Mask(f.EnterpriseName), nameMaskedLength), fitMask(identity.Mask(f.RegistrationNumber), numberMaskedLength)
	}
	return fitMask(identity.Mask(f.FullName), nameMaskedLength), fitMask(identity.Mask(f.DocumentNumber), numberMaskedLength)
}

// Lengths in characters of the VARCHAR columns applications.name_masked
// and applications.number_masked.
const (
	nameMaskedLength   = 128
	numberMaskedLength = 64
)

// fitMask cuts a masked value to at most n code points, so it fits its
// column. identity.Mask keeps each character it shows whole, with all its
// combining marks and joined code points, so text with hundreds of marks
// on one letter gives a mask longer than the column.
func fitMask(masked string, n int) string {
	count := 0
	for i := range masked {
		if count == n {
			return masked[:i]
		}
		count++
	}
	return masked
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}
