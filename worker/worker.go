// Package worker holds the asynq task handlers of idverify — validation,
// review-deadline escalation, notification delivery and the deadline
// sweeper — and the loop that schedules the sweeper once per period
// across every process.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/idverify/idverify/calendar"
	"github.com/idverify/idverify/metrics"
	"github.com/idverify/idverify/notifier"
	"github.com/idverify/idverify/photo"
	"github.com/idverify/idverify/store"
	"github.com/idverify/idverify/tasks"
)

// Kicker wakes the outbox relay after a commit that added tasks.
type Kicker interface{ Kick() }

// Mailer sends one email. *notifier.Mailer satisfies it.
type Mailer interface {
	Send(ctx context.Context, e notifier.Email) error
}

// Staff names where internal escalations go.
type Staff struct {
	// LeadsEmail receives level 1 escalations (a review is due); empty
	// logs them only.
	LeadsEmail string
	// OperationsEmail receives level 2 escalations (a review breached its
	// deadline); empty logs them only.
	OperationsEmail string
}

// Deps are the handlers' dependencies. Only cmd/ builds them.
type Deps struct {
	Store     *store.Store
	Calendars *calendar.Set
	Photo     photo.Limits
	Mailer    Mailer             // nil disables email
	SMS       notifier.SMSSender // nil disables SMS
	Webhook   *notifier.Webhook  // nil disables webhooks
	Staff     Staff
	Kicker    Kicker
	Inspector *asynq.Inspector
	// Redis is the client asynq uses; the sweeper re-registers queue names
	// in it after Redis lost its data.
	Redis   redis.UniversalClient
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ConsoleURL is the base of links to an application in the cloud
	// console, shown in messages; empty leaves links out.
	ConsoleURL string
	// ReviewDays and BreachDays are the business days from entering review
	// to level 1 and level 2; defaults 2 and 3.
	ReviewDays, BreachDays int
}

// Handlers are the task handlers over their dependencies.
type Handlers struct {
	Deps
}

// New returns the handlers.
func New(d Deps) *Handlers {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ReviewDays == 0 {
		d.ReviewDays = 2
	}
	if d.BreachDays == 0 {
		d.BreachDays = 3
	}
	if d.Calendars == nil {
		d.Calendars = calendar.Default()
	}
	return &Handlers{Deps: d}
}

// Mux returns an asynq mux with every handler and the metrics middleware.
func (h *Handlers) Mux() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	if h.Metrics != nil {
		mux.Use(h.Metrics.TaskMiddleware)
	}
	mux.Use(redactErrors)
	mux.HandleFunc(tasks.TypeValidate, h.HandleValidate)
	mux.HandleFunc(tasks.TypeEscalate, h.HandleEscalate)
	mux.HandleFunc(tasks.TypeNotify, h.HandleNotify)
	mux.HandleFunc(tasks.TypeSweepDeadlines, h.HandleSweep)
	return mux
}

func (h *Handlers) kick() {
	if h.Kicker != nil {
		h.Kicker.Kick()
	}
}

func (h *Handlers) transition(status string) {
	if h.Metrics != nil {
		h.Metrics.Transitions.WithLabelValues(status).Inc()
	}
}

// taskLogger returns the logger with the task's id and type.
func (h *Handlers) taskLogger(ctx context.Context, t *asynq.Task) *slog.Logger {
	id, _ := asynq.GetTaskID(ctx)
	return h.Logger.With("task_id", id, "task_type", t.Type())
}

// redactErrors keeps database values out of the error asynq stores with
// the task (shown in asynqmon) while keeping asynq.SkipRetry visible.
func redactErrors(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		err := next.ProcessTask(ctx, t)
		if err == nil {
			return nil
		}
		safe := errors.New(store.SafeError(err))
		if errors.Is(err, asynq.SkipRetry) {
			return fmt.Errorf("%w: %w", safe, asynq.SkipRetry)
		}
		return safe
	})
}
