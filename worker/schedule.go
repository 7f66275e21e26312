package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/idverify/idverify/tasks"
)

// RunSweepScheduler enqueues the deadline sweep once per period until ctx
// ends. Every process runs this loop. The sweep task's id names its period
// and asynq keeps the id after the sweep finishes, so each period gets one
// sweep however many processes run.
func RunSweepScheduler(ctx context.Context, client *asynq.Client, period time.Duration, now func() time.Time, logger *slog.Logger) {
	if now == nil {
		now = time.Now
	}
	enqueue := func() {
		spec := tasks.SweepDeadlines(now().UTC().Truncate(period))
		ectx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		_, err := client.EnqueueContext(ectx, spec.NewTask())
		switch {
		case err == nil:
			logger.Debug("deadline sweep scheduled", "task_id", spec.ID)
		case errors.Is(err, asynq.ErrTaskIDConflict):
			// Another process scheduled this period's sweep.
		case ctx.Err() != nil:
		default:
			logger.Warn("scheduling the deadline sweep failed; the next period tries again", "task_id", spec.ID, "error", err)
		}
	}

	enqueue()
	ticker := time.NewTicker(period / 4)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			enqueue()
		}
	}
}
