package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/idverify/idverify/store"
	"github.com/idverify/idverify/tasks"
)

// HandleEscalate raises an undecided application to the task's level. It
// does nothing for a decided application or one already at that level, so
// late and repeated tasks are harmless.
func (h *Handlers) HandleEscalate(ctx context.Context, t *asynq.Task) error {
	var p tasks.EscalatePayload
	if err := tasks.Decode(t.Payload(), &p); err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	if p.Level < 1 || p.Level > 2 {
		return fmt.Errorf("escalation level %d is not 1 or 2: %w", p.Level, asynq.SkipRetry)
	}
	log := h.taskLogger(ctx, t).With("application_id", p.ApplicationID, "level", p.Level)

	changed, err := h.Store.Escalate(ctx, p.ApplicationID, p.Level)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("application %s not found: %w", p.ApplicationID, asynq.SkipRetry)
	}
	if err != nil {
		return fmt.Errorf("escalate: %w", err)
	}
	if !changed {
		log.Debug("escalation not needed: decided or already escalated")
		return nil
	}

	if h.Metrics != nil {
		h.Metrics.Escalations.WithLabelValues(strconv.Itoa(p.Level)).Inc()
	}
	h.kick()
	log.Warn("review escalated")
	return nil
}

// HandleSweep re-creates the escalation tasks of open reviews that Redis
// lost, and re-queues validation and notification work that has waited
// too long. It writes through the outbox, so a task that still exists in
// Redis is not duplicated: its deterministic id collides and the relay
// marks it dispatched.
func (h *Handlers) HandleSweep(ctx context.Context, t *asynq.Task) error {
	log := h.taskLogger(ctx, t)

	if err := h.registerQueues(ctx); err != nil {
		return err
	}
	open, err := h.Store.OpenReviews(ctx)
	if err != nil {
		return fmt.Errorf("list open reviews: %w", err)
	}
	restored := 0
	for _, app := range open {
		for level, at := range map[int]*time.Time{1: app.ReviewDueAt, 2: app.BreachAt} {
			if at == nil || app.EscalationLevel >= level {
				continue
			}
			spec := tasks.Escalate(app.ID, level, *at)
			if h.Inspector != nil {
				if _, err := h.Inspector.GetTaskInfo(spec.Queue, spec.ID); err == nil {
					continue
				} else if !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
					return fmt.Errorf("inspect task %s: %w", spec.ID, err)
				}
			}
			if err := h.Store.RequeueTask(ctx, spec); err != nil {
				return fmt.Errorf("re-create escalation: %w", err)
			}
			restored++
			log.Warn("escalation task was missing from Redis; re-created", "application_id", app.ID, "level", level)
		}
	}

	stale, err := h.requeueStale(ctx, log)
	if err != nil {
		return err
	}
	if pruned, err := h.Store.PruneDispatched(ctx, outboxRetention); err != nil {
		return fmt.Errorf("prune outbox: %w", err)
	} else if pruned > 0 {
		log.Info("outbox pruned", "rows", pruned)
	}
	if restored+stale > 0 {
		if h.Metrics != nil {
			h.Metrics.SweeperRestored.Add(float64(restored + stale))
		}
		h.kick()
	}
	log.Info("deadline sweep finished", "open_reviews", len(open), "escalations_restored", restored, "stale_restored", stale)
	return h.writeSweepResult(t, len(open), restored, stale)
}

// staleAfter is how long validation or delivery may wait before the
// sweeper checks that its task still exists in Redis.
const staleAfter = 10 * time.Minute

// outboxRetention is how long dispatched outbox rows are kept, for
// investigating what was sent to Redis and when.
const outboxRetention = 7 * 24 * time.Hour

// requeueStale re-creates the validation and delivery tasks of work that
// has waited longer than staleAfter and whose task Redis lost. It returns
// how many it re-created.
func (h *Handlers) requeueStale(ctx context.Context, log *slog.Logger) (int, error) {
	specs, err := h.Store.StaleWork(ctx, staleAfter)
	if err != nil {
		return 0, fmt.Errorf("list stale work: %w", err)
	}
	n := 0
	for _, spec := range specs {
		if h.Inspector != nil {
			if _, err := h.Inspector.GetTaskInfo(spec.Queue, spec.ID); err == nil {
				continue
			} else if !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
				return n, fmt.Errorf("inspect task %s: %w", spec.ID, err)
			}
		}
		if err := h.Store.RequeueTask(ctx, spec); err != nil {
			return n, fmt.Errorf("re-create task %s: %w", spec.ID, err)
		}
		n++
		log.Warn("task was missing from Redis; re-created", "lost_task_id", spec.ID)
	}
	return n, nil
}

func (h *Handlers) writeSweepResult(t *asynq.Task, open, restored, stale int) error {
	if t.ResultWriter() == nil {
		return nil
	}
	_, err := fmt.Fprintf(t.ResultWriter(), `{"open_reviews":%d,"escalations_restored":%d,"stale_restored":%d}`, open, restored, stale)
	return err
}

// asynqQueuesKey is the set in which asynq lists queue names
// (base.AllQueues in asynq v0.26.0).
const asynqQueuesKey = "asynq:queues"

// registerQueues puts idverify's queue names back into asynq's queue set.
// An asynq client adds a queue there once per process, so after Redis lost
// its data the inspector and asynqmon would not see the queues (and report
// tasks in them as missing) until every process restarted.
//
// NOTE: this writes asynq's internal key; check it when upgrading asynq.
func (h *Handlers) registerQueues(ctx context.Context) error {
	if h.Redis == nil {
		return nil
	}
	names := make([]any, 0, len(tasks.Queues()))
	for q := range tasks.Queues() {
		names = append(names, q)
	}
	if err := h.Redis.SAdd(ctx, asynqQueuesKey, names...).Err(); err != nil {
		return fmt.Errorf("register queue names: %w", err)
	}
	return nil
}
