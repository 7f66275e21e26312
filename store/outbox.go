package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/idverify/idverify/tasks"
)

// OutboxTask is a task stored with the state change that caused it and
// not yet handed to Redis.
type OutboxTask struct {
	ID        int64        `db:"id"`
	TaskID    string       `db:"task_id"`
	TaskType  string       `db:"task_type"`
	Queue     string       `db:"queue"`
	Payload   []byte       `db:"payload"`
	ProcessAt sql.NullTime `db:"process_at"`
}

// Spec returns the task to enqueue.
func (o OutboxTask) Spec() tasks.Spec {
	spec := tasks.Spec{Type: o.TaskType, ID: o.TaskID, Queue: o.Queue, Payload: o.Payload}
	if o.ProcessAt.Valid {
		spec.ProcessAt = o.ProcessAt.Time.UTC()
	}
	return spec
}

// addTask stores spec in the outbox inside tx. A spec whose task id is
// already there is marked for dispatch again, so re-creating a task that
// Redis lost is one call.
func (s *Store) addTask(ctx context.Context, tx *sqlx.Tx, spec tasks.Spec, now time.Time) error {
	var processAt sql.NullTime
	if !spec.ProcessAt.IsZero() {
		processAt = sql.NullTime{Time: spec.ProcessAt.UTC(), Valid: true}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox (task_id, task_type, queue, payload, process_at, created_at)
VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE dispatched_at = NULL, process_at = ?`,
		spec.ID, spec.Type, spec.Queue, spec.Payload, processAt, now, processAt)
	if err != nil {
		return fmt.Errorf("add task %s to outbox: %w", spec.ID, err)
	}
	return nil
}

// RequeueTask marks spec for dispatch again outside any other change.
func (s *Store) RequeueTask(ctx context.Context, spec tasks.Spec) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error { return s.addTask(ctx, tx, spec, s.clock()) })
}

// PendingTasks returns up to limit outbox tasks not yet dispatched, oldest
// first.
func (s *Store) PendingTasks(ctx context.Context, limit int) ([]OutboxTask, error) {
	var out []OutboxTask
	err := s.db.SelectContext(ctx, &out, `SELECT id, task_id, task_type, queue, payload, process_at FROM outbox
WHERE dispatched_at IS NULL ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list pending outbox tasks: %w", err)
	}
	return out, nil
}

// MarkDispatched records that an outbox task reached Redis. Safe to
// repeat.
func (s *Store) MarkDispatched(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, "UPDATE outbox SET dispatched_at = ? WHERE id = ?", s.clock(), id)
	if err != nil {
		return fmt.Errorf("mark outbox task %d dispatched: %w", id, err)
	}
	return nil
}

// PruneDispatched deletes dispatched outbox rows older than age and
// returns how many it deleted.
func (s *Store) PruneDispatched(ctx context.Context, age time.Duration) (int64, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM outbox WHERE dispatched_at IS NOT NULL AND dispatched_at < ?", s.clock().Add(-age))
	if err != nil {
		return 0, fmt.Errorf("prune outbox: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// StaleWork returns the validation tasks of applications still submitted
// and the delivery tasks of notifications still pending after age, except
// those still waiting in the outbox for the relay. The caller re-queues
// the ones Redis no longer holds.
func (s *Store) StaleWork(ctx context.Context, age time.Duration) ([]tasks.Spec, error) {
	cutoff := s.clock().Add(-age)
	var apps []string
	if err := s.db.SelectContext(ctx, &apps, "SELECT id FROM applications WHERE status = ? AND submitted_at < ? LIMIT 1000",
		StatusSubmitted, cutoff); err != nil {
		return nil, fmt.Errorf("list stale submissions: %w", err)
	}
	var notes []int64
	if err := s.db.SelectContext(ctx, &notes, "SELECT id FROM notifications WHERE status = ? AND created_at < ? LIMIT 1000",
		NotificationPending, cutoff); err != nil {
		return nil, fmt.Errorf("list stale notifications: %w", err)
	}
	candidates := make([]tasks.Spec, 0, len(apps)+len(notes))
	for _, id := range apps {
		candidates = append(candidates, tasks.Validate(id))
	}
	for _, id := range notes {
		candidates = append(candidates, tasks.Notify(id))
	}
	var out []tasks.Spec
	for _, spec := range candidates {
		var dispatched sql.NullTime
		err := s.db.GetContext(ctx, &dispatched, "SELECT dispatched_at FROM outbox WHERE task_id = ?", spec.ID)
		if err == nil && !dispatched.Valid {
			continue // still waiting for the relay
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("look up outbox task %s: %w", spec.ID, err)
		}
		out = append(out, spec)
	}
	return out, nil
}
