// Package store is idverify's system of record in MySQL: accounts,
// applications and their photos, identity bindings (quotas), the outbox of
// tasks, notifications, the message center, the audit log and idempotency
// keys.
//
// Every state change that must be atomic is one transaction here, and a
// transaction that meets a deadlock or a lock wait timeout is retried
// whole. The SQL runs on MySQL 8, MariaDB 10.11 and go-mysql-server.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/idverify/idverify/pii"
)

// Store reads and writes idverify's tables.
type Store struct {
	db   *sqlx.DB
	keys *pii.Keyring
	now  func() time.Time

	// Channels lists the notification channels each account-holder event
	// fans out to. The console channel is always first.
	channels []string
}

// Options configure a Store.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Webhooks adds the webhook channel to every account-holder event.
	Webhooks bool
}

// New returns a store over db. keys seals personal fields and computes
// fingerprints.
func New(db *sqlx.DB, keys *pii.Keyring, opts Options) *Store {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	channels := []string{ChannelConsole, ChannelEmail, ChannelSMS}
	if opts.Webhooks {
		channels = append(channels, ChannelWebhook)
	}
	return &Store{db: db, keys: keys, now: now, channels: channels}
}

// DB returns the underlying pool, for health checks.
func (s *Store) DB() *sqlx.DB { return s.db }

// Keys returns the keyring, for fingerprints computed outside the store.
func (s *Store) Keys() *pii.Keyring { return s.keys }

func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Errors returned by the store. The HTTP layer maps each to one status and
// problem code.
var (
	ErrNotFound            = errors.New("not found")
	ErrAccountNotFound     = errors.New("account not found")
	ErrDecided             = errors.New("application already decided")
	ErrNotAwaitingReview   = errors.New("application is not awaiting review")
	ErrClaimedByOther      = errors.New("application is claimed by another reviewer")
	ErrQuotaExceeded       = errors.New("identity quota exceeded")
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	errRetryTransaction    = errors.New("retry transaction")
)

// OpenApplicationError reports that the account already has an open
// application.
type OpenApplicationError struct{ ApplicationID string }

func (e *OpenApplicationError) Error() string {
	return "account already has an open application " + e.ApplicationID
}

// ClaimedError reports who holds a live claim and until when. It matches
// ErrClaimedByOther with errors.Is.
type ClaimedError struct {
	Reviewer  string
	ExpiresAt time.Time
}

func (e *ClaimedError) Error() string { return ErrClaimedByOther.Error() + " " + e.Reviewer }

// Is reports whether target is ErrClaimedByOther.
func (e *ClaimedError) Is(target error) bool { return target == ErrClaimedByOther }

// ChangeTooEarlyError reports that an identity change is not allowed yet.
type ChangeTooEarlyError struct {
	From, To string
	Earliest time.Time
}

func (e *ChangeTooEarlyError) Error() string {
	return fmt.Sprintf("identity change from %s to %s is allowed from %s", e.From, e.To, e.Earliest.Format(time.RFC3339))
}

// NewID returns a new sortable id: 10 characters of millisecond time and
// 16 of randomness in Crockford base32 (the ULID layout), after prefix.
func NewID(prefix string, now time.Time) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [26]byte
	ms := uint64(now.UnixMilli())
	for i := 9; i >= 0; i-- {
		b[i] = alphabet[ms&31]
		ms >>= 5
	}
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error())
	}
	for i := 0; i < 16; i++ {
		b[10+i] = alphabet[r[i]&31]
	}
	return prefix + string(b[:])
}

// MySQL error numbers the store reacts to.
const (
	errDuplicateKey     = 1062
	errDeadlock         = 1213
	errLockWaitTimeout  = 1205
	maxTransactionTries = 8
)

func isMySQLError(err error, number uint16) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == number
}

func isDuplicate(err error) bool {
	if isMySQLError(err, errDuplicateKey) {
		return true
	}
	// go-mysql-server reports some unique violations with its own text.
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "duplicate")
}

func isRetryable(err error) bool {
	return isMySQLError(err, errDeadlock) || isMySQLError(err, errLockWaitTimeout) || errors.Is(err, errRetryTransaction)
}

// inTx runs fn in a transaction and commits. A deadlock, lock wait timeout
// or errRetryTransaction rolls back and runs fn again, up to
// maxTransactionTries times, with a short growing pause.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	var err error
	for attempt := 1; attempt <= maxTransactionTries; attempt++ {
		err = s.tryTx(ctx, fn)
		if err == nil || !isRetryable(err) {
			return err
		}
		pause := time.Duration(attempt*attempt) * 5 * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause + jitter(pause)):
		}
	}
	return fmt.Errorf("transaction failed after %d tries: %w", maxTransactionTries, err)
}

func jitter(d time.Duration) time.Duration {
	var b [1]byte
	rand.Read(b[:])
	return d * time.Duration(b[0]) / 256
}

func (s *Store) tryTx(ctx context.Context, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func nullTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: *t, Valid: true}
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}
