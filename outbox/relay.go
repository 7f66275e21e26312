// Package outbox moves tasks stored in MySQL (the outbox table) into
// Redis. A state change and its task are written in one transaction, so a
// task is not lost when Redis is down: the relay enqueues it once Redis is
// reachable again. Task ids are deterministic, so a task enqueued twice
// exists once.
package outbox

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/idverify/idverify/store"
)

// Relay dispatches pending outbox tasks to asynq.
type Relay struct {
	store    *store.Store
	client   *asynq.Client
	logger   *slog.Logger
	interval time.Duration
	kick     chan struct{}

	mu         sync.Mutex
	lastFailAt time.Time
	failures   int
}

// NewRelay returns a relay that polls every interval (default 2s) and
// whenever Kick is called.
func NewRelay(s *store.Store, client *asynq.Client, logger *slog.Logger, interval time.Duration) *Relay {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	return &Relay{store: s, client: client, logger: logger, interval: interval, kick: make(chan struct{}, 1)}
}

// Kick wakes the relay to dispatch now. It never blocks.
func (r *Relay) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx is cancelled.
func (r *Relay) Run(ctx context.Context) {
	ticker := time.NewTicker(r.interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-r.kick:
		}
		r.Dispatch(ctx)
	}
}

// enqueueTimeout bounds one enqueue, so an unreachable Redis delays the
// relay by this much per pass, not by the client's dial timeouts.
const enqueueTimeout = 3 * time.Second

// Dispatch enqueues pending tasks in batches until none is left or Redis
// fails, and returns how many it handed over. Errors are logged here,
// rate-limited to one line a minute while Redis stays unreachable.
func (r *Relay) Dispatch(ctx context.Context) int {
	total := 0
	for ctx.Err() == nil {
		pending, err := r.store.PendingTasks(ctx, 100)
		if ctx.Err() != nil {
			return total // shutting down: not a failure
		}
		if err != nil {
			r.fail("outbox read failed", err, "")
			return total
		}
		if len(pending) == 0 {
			r.recovered()
			return total
		}
		for _, t := range pending {
			ectx, cancel := context.WithTimeout(ctx, enqueueTimeout)
			_, err := r.client.EnqueueContext(ectx, t.Spec().NewTask())
			cancel()
			if ctx.Err() != nil {
				return total
			}
			if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
				r.fail("enqueue failed; the task stays in the outbox", err, t.TaskID)
				return total
			}
			if err := r.store.MarkDispatched(ctx, t.ID); err != nil {
				if ctx.Err() == nil {
					r.fail("outbox update failed", err, t.TaskID)
				}
				return total
			}
			total++
		}
	}
	return total
}

func (r *Relay) fail(msg string, err error, taskID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures++
	now := time.Now()
	if now.Sub(r.lastFailAt) < time.Minute {
		return
	}
	r.lastFailAt = now
	r.logger.Warn(msg, "error", store.SafeError(err), "task_id", taskID, "failures_since_last_log", r.failures)
	r.failures = 0
}

func (r *Relay) recovered() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.lastFailAt.IsZero() {
		r.logger.Info("outbox relay recovered")
		r.lastFailAt = time.Time{}
		r.failures = 0
	}
}
