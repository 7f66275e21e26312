package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/idverify/idverify/tasks"
)

// Notification channels.
const (
	ChannelConsole = "console"
	ChannelEmail   = "email"
	ChannelSMS     = "sms"
	ChannelWebhook = "webhook"
	// ChannelStaff reaches the reviewer leads or operations, not the
	// account holder.
	ChannelStaff = "staff"
)

// Notification events.
const (
	EventReceived              = "received"
	EventRejectedAutomatically = "rejected_automatically"
	EventApproved              = "approved"
	EventRejected              = "rejected"
	EventWithdrawn             = "withdrawn"
	EventReviewDelayed         = "review_delayed"
	EventEscalated             = "escalated"
	// EventInReview reaches webhooks only: the application passed the
	// automatic checks and waits for a reviewer.
	EventInReview = "in_review"
)

// holderChannels returns the account holder's channels without webhooks,
// for events that change no status.
func (s *Store) holderChannels() []string {
	var out []string
	for _, c := range s.channels {
		if c != ChannelWebhook {
			out = append(out, c)
		}
	}
	return out
}

func (s *Store) webhooks() bool {
	for _, c := range s.channels {
		if c == ChannelWebhook {
			return true
		}
	}
	return false
}

// Notification statuses.
const (
	NotificationPending = "pending"
	NotificationSent    = "sent"
	NotificationSkipped = "skipped"
	NotificationFailed  = "failed"
)

// EventData is the data a notification's templates may show. It contains
// no personal data.
type EventData struct {
	ApplicationID   string     `json:"application_id"`
	Kind            string     `json:"kind,omitempty"`
	SubjectType     string     `json:"subject_type,omitempty"`
	Region          string     `json:"region,omitempty"`
	Status          string     `json:"status,omitempty"`
	Reasons         []string   `json:"reasons,omitempty"`
	FailedChecks    []string   `json:"failed_checks,omitempty"`
	ResubmitAllowed bool       `json:"resubmit_allowed,omitempty"`
	DueAt           *time.Time `json:"due_at,omitempty"`
	Level           int        `json:"level,omitempty"`
}

// Notification is one (event, channel) delivery.
type Notification struct {
	ID            int64
	EventKey      string
	AccountID     string
	ApplicationID string
	Event         string
	Channel       string
	Status        string
	Attempts      int
	LastError     string
	Data          EventData
	CreatedAt     time.Time
	SentAt        *time.Time
}

type notificationEvent struct {
	Key           string // unique per event occurrence
	AccountID     string
	ApplicationID string
	Event         string
	Data          EventData
	// Channels overrides the store's account-holder channels.
	Channels []string
}

// addNotifications inserts one notification row per channel and one
// delivery task per row, inside tx. A repeat of the same event key adds
// nothing, so re-running the step that caused the event is harmless.
func (s *Store) addNotifications(ctx context.Context, tx *sqlx.Tx, ev notificationEvent, now time.Time) error {
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return fmt.Errorf("encode notification data: %w", err)
	}
	channels := ev.Channels
	if channels == nil {
		channels = s.channels
	}
	for _, ch := range channels {
		res, err := tx.ExecContext(ctx, `INSERT INTO notifications (event_key, account_id, application_id, event,
channel, status, attempts, data, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`,
			ev.Key, ev.AccountID, nullString(ev.ApplicationID), ev.Event, ch, NotificationPending, string(data), now)
		if isDuplicate(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("insert %s notification: %w", ch, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("read notification id: %w", err)
		}
		if err := s.addTask(ctx, tx, tasks.Notify(id), now); err != nil {
			return err
		}
	}
	return nil
}

type notificationRow struct {
	ID            int64          `db:"id"`
	EventKey      string         `db:"event_key"`
	AccountID     string         `db:"account_id"`
	ApplicationID sql.NullString `db:"application_id"`
	Event         string         `db:"event"`
	Channel       string         `db:"channel"`
	Status        string         `db:"status"`
	Attempts      int            `db:"attempts"`
	LastError     sql.NullString `db:"last_error"`
	Data          string         `db:"data"`
	CreatedAt     time.Time      `db:"created_at"`
	SentAt        sql.NullTime   `db:"sent_at"`
}

const notificationColumns = `id, event_key, account_id, application_id, event, channel, status, attempts,
last_error, data, created_at, sent_at`

func toNotification(r notificationRow) (Notification, error) {
	n := Notification{
		ID: r.ID, EventKey: r.EventKey, AccountID: r.AccountID, ApplicationID: r.ApplicationID.String,
		Event: r.Event, Channel: r.Channel, Status: r.Status, Attempts: r.Attempts, LastError: r.LastError.String,
		CreatedAt: r.CreatedAt.UTC(), SentAt: timePtr(r.SentAt),
	}
	if err := json.Unmarshal([]byte(r.Data), &n.Data); err != nil {
		return Notification{}, fmt.Errorf("notification %d: decode data: %w", r.ID, err)
	}
	return n, nil
}

// GetNotification returns one notification, or ErrNotFound.
func (s *Store) GetNotification(ctx context.Context, id int64) (Notification, error) {
	var r notificationRow
	err := s.db.GetContext(ctx, &r, "SELECT "+notificationColumns+" FROM notifications WHERE id = ?", id)
	if errors.Is(err, sql.ErrNoRows) {
		return Notification{}, ErrNotFound
	}
	if err != nil {
		return Notification{}, fmt.Errorf("load notification %d: %w", id, err)
	}
	return toNotification(r)
}

// ListNotifications returns the notifications of an application, oldest
// first.
func (s *Store) ListNotifications(ctx context.Context, applicationID string) ([]Notification, error) {
	var rows []notificationRow
	err := s.db.SelectContext(ctx, &rows, "SELECT "+notificationColumns+" FROM notifications WHERE application_id = ? ORDER BY id", applicationID)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	out := make([]Notification, 0, len(rows))
	for _, r := range rows {
		n, err := toNotification(r)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// RecordAttempt counts one delivery attempt and its error ("" for none).
// The error text must hold no personal data.
func (s *Store) RecordAttempt(ctx context.Context, id int64, errText string) error {
	_, err := s.db.ExecContext(ctx, "UPDATE notifications SET attempts = attempts + 1, last_error = ? WHERE id = ?",
		nullString(truncate(errText, 500)), id)
	if err != nil {
		return fmt.Errorf("record attempt of notification %d: %w", id, err)
	}
	return nil
}

// FinishNotification moves a pending notification to status (sent,
// skipped or failed), counting one more attempt when attempted. It
// returns false when the notification was no longer pending, so a second
// run changes nothing.
func (s *Store) FinishNotification(ctx context.Context, id int64, status string, attempted bool, errText string) (bool, error) {
	var sentAt sql.NullTime
	if status == NotificationSent {
		sentAt = sql.NullTime{Time: s.clock(), Valid: true}
	}
	extra := 0
	if attempted {
		extra = 1
	}
	res, err := s.db.ExecContext(ctx, `UPDATE notifications SET status = ?, sent_at = ?, last_error = ?,
attempts = attempts + ? WHERE id = ? AND status = ?`, status, sentAt, nullString(truncate(errText, 500)), extra, id,
		NotificationPending)
	if err != nil {
		return false, fmt.Errorf("finish notification %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeliverConsoleMessage stores the message-center entry of a console
// notification and marks it sent, in one transaction. Safe to repeat: the
// message is unique per notification.
func (s *Store) DeliverConsoleMessage(ctx context.Context, n Notification, subject, body string) error {
	now := s.clock()
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO messages (account_id, notification_id, application_id, event,
subject, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			n.AccountID, n.ID, nullString(n.ApplicationID), n.Event, truncate(subject, 255), body, now)
		if err != nil && !isDuplicate(err) {
			return fmt.Errorf("insert message: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE notifications SET status = ?, sent_at = ?, attempts = attempts + 1
WHERE id = ? AND status = ?`, NotificationSent, now, n.ID, NotificationPending)
		if err != nil {
			return fmt.Errorf("mark console notification sent: %w", err)
		}
		return nil
	})
}

// Message is one message-center entry.
type Message struct {
	ID            int64      `json:"id"`
	ApplicationID string     `json:"application_id,omitempty"`
	Event         string     `json:"event"`
	Subject       string     `json:"subject"`
	Body          string     `json:"body"`
	CreatedAt     time.Time  `json:"created_at"`
	ReadAt        *time.Time `json:"read_at,omitempty"`
}

// ListMessages returns an account's messages, newest first, at most limit,
// with ids below before when before > 0, only unread ones when unreadOnly.
// It also returns the unread count.
func (s *Store) ListMessages(ctx context.Context, accountID string, unreadOnly bool, before int64, limit int) ([]Message, int, error) {
	query := "SELECT id, application_id, event, subject, body, created_at, read_at FROM messages WHERE account_id = ?"
	args := []any{accountID}
	if unreadOnly {
		query += " AND read_at IS NULL"
	}
	if before > 0 {
		query += " AND id < ?"
		args = append(args, before)
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	var rows []struct {
		ID            int64          `db:"id"`
		ApplicationID sql.NullString `db:"application_id"`
		Event         string         `db:"event"`
		Subject       string         `db:"subject"`
		Body          string         `db:"body"`
		CreatedAt     time.Time      `db:"created_at"`
		ReadAt        sql.NullTime   `db:"read_at"`
	}
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, 0, fmt.Errorf("list messages: %w", err)
	}
	out := make([]Message, 0, len(rows))
	for _, r := range rows {
		out = append(out, Message{ID: r.ID, ApplicationID: r.ApplicationID.String, Event: r.Event, Subject: r.Subject,
			Body: r.Body, CreatedAt: r.CreatedAt.UTC(), ReadAt: timePtr(r.ReadAt)})
	}
	var unread int
	if err := s.db.GetContext(ctx, &unread, "SELECT COUNT(*) FROM messages WHERE account_id = ? AND read_at IS NULL", accountID); err != nil {
		return nil, 0, fmt.Errorf("count unread messages: %w", err)
	}
	return out, unread, nil
}

// MarkMessageRead marks one of an account's messages read. Safe to
// repeat; another account's message is ErrNotFound.
func (s *Store) MarkMessageRead(ctx context.Context, accountID string, id int64) (Message, error) {
	if _, err := s.db.ExecContext(ctx, "UPDATE messages SET read_at = ? WHERE id = ? AND account_id = ? AND read_at IS NULL",
		s.clock(), id, accountID); err != nil {
		return Message{}, fmt.Errorf("mark message read: %w", err)
	}
	var r struct {
		ID            int64          `db:"id"`
		ApplicationID sql.NullString `db:"application_id"`
		Event         string         `db:"event"`
		Subject       string         `db:"subject"`
		Body          string         `db:"body"`
		CreatedAt     time.Time      `db:"created_at"`
		ReadAt        sql.NullTime   `db:"read_at"`
	}
	err := s.db.GetContext(ctx, &r, "SELECT id, application_id, event, subject, body, created_at, read_at FROM messages WHERE id = ? AND account_id = ?", id, accountID)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, ErrNotFound
	}
	if err != nil {
		return Message{}, fmt.Errorf("load message: %w", err)
	}
	return Message{ID: r.ID, ApplicationID: r.ApplicationID.String, Event: r.Event, Subject: r.Subject, Body: r.Body,
		CreatedAt: r.CreatedAt.UTC(), ReadAt: timePtr(r.ReadAt)}, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
