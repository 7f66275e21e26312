package main

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/idverify/idverify/tasks"
)

// TestSweeperOncePerPeriodAcrossProcesses runs two server processes on the
// same Redis and MySQL and counts sweeper runs: one per period in all.
func TestSweeperOncePerPeriodAcrossProcesses(t *testing.T) {
	b := setup(t, withConfig(func(c *Config) { c.SweepInterval = time.Second }))
	second := b.cfg
	second.Addr = "127.0.0.1:0"
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	other, err := start(context.Background(), second, roles{API: true, Worker: true}, logger, nil)
	if err != nil {
		t.Fatalf("start second process: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		other.shutdown(ctx)
	})

	runs := func() int {
		n := 0
		for _, in := range []*instance{b.in, other} {
			n += int(testutil.ToFloat64(in.metrics.TaskOutcomes.WithLabelValues(tasks.TypeSweepDeadlines, "ok")))
		}
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	for runs() < 4 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}

	// Stop both schedulers before the final count, so no run is in flight.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	other.shutdown(ctx)
	total := runs()
	completed, err := b.in.inspector.ListCompletedTasks(tasks.QueueMaintenance, asynq.PageSize(1000))
	if err != nil {
		t.Fatal(err)
	}
	periods := map[string]bool{}
	for _, c := range completed {
		periods[c.ID] = true
	}
	if total < 4 {
		t.Fatalf("only %d sweeper runs in 20 seconds with a 1s period", total)
	}
	if total != len(periods) {
		t.Errorf("%d sweeper runs for %d periods (%v), want one run per period", total, len(periods), periods)
	}
}

// TestSweeperRestoresLostEscalation flushes Redis after an application
// entered review, so its scheduled escalations are gone, and shows the
// sweeper re-creates them and the escalation fires.
func TestSweeperRestoresLostEscalation(t *testing.T) {
	b := setup(t, withConfig(func(c *Config) { c.SweepInterval = time.Second }))
	b.putAccount("acct-lost")
	var created struct {
		ID string `json:"id"`
	}
	if code := b.submit("acct-lost", passportForm(), &created); code != http.StatusAccepted {
		t.Fatalf("submit: status %d", code)
	}
	b.waitStatus("acct-lost", created.ID, "awaiting_review")

	escalation := tasks.Escalate(created.ID, 1, time.Time{})
	waitTask := func(what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := b.in.inspector.GetTaskInfo(escalation.Queue, escalation.ID); err == nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("escalation task %s not in Redis %s", escalation.ID, what)
	}
	waitTask("after validation")

	redisOpt := b.in.redisOpt.MakeRedisClient().(redis.UniversalClient)
	defer redisOpt.Close()
	if err := redisOpt.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.in.inspector.GetTaskInfo(escalation.Queue, escalation.ID); err == nil {
		t.Fatal("escalation task survived FLUSHDB")
	}

	waitTask("after the sweeper ran")

	// Run the restored task now instead of waiting two business days.
	if err := b.in.inspector.RunTask(escalation.Queue, escalation.ID); err != nil {
		t.Fatalf("run restored escalation: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var queue struct {
			Applications []struct {
				ID              string `json:"id"`
				EscalationLevel int    `json:"escalation_level"`
			} `json:"applications"`
		}
		b.do(http.MethodGet, "/v1/review/applications?escalated=true", testReviewerKey, nil, &queue)
		if len(queue.Applications) == 1 && queue.Applications[0].ID == created.ID && queue.Applications[0].EscalationLevel == 1 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("restored escalation did not raise the application to level 1")
}

// TestSweeperRestoresLostValidation deletes a validation task from Redis
// before it runs and shows the sweeper re-creates it once the application
// has waited too long.
func TestSweeperRestoresLostValidation(t *testing.T) {
	clock := newTestClock(time.Now())
	b := setup(t, withClock(clock), withConfig(func(c *Config) { c.SweepInterval = time.Second }))
	b.putAccount("acct-lost-validation")

	// A paused queue keeps the task pending, so the test can lose it.
	if err := b.in.inspector.PauseQueue(tasks.QueueCritical); err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID string `json:"id"`
	}
	if code := b.submit("acct-lost-validation", passportForm(), &created); code != http.StatusAccepted {
		t.Fatalf("submit: status %d", code)
	}
	taskID := "validate:" + created.ID
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := b.in.inspector.GetTaskInfo(tasks.QueueCritical, taskID); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s never reached Redis", taskID)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := b.in.inspector.DeleteTask(tasks.QueueCritical, taskID); err != nil {
		t.Fatal(err)
	}
	if err := b.in.inspector.UnpauseQueue(tasks.QueueCritical); err != nil {
		t.Fatal(err)
	}

	// Younger than ten minutes, the submission is left alone.
	var v applicationView
	b.do(http.MethodGet, "/v1/accounts/acct-lost-validation/verifications/"+created.ID, testIntakeKey, nil, &v)
	if v.Status != "submitted" {
		t.Fatalf("status %q before the sweeper acted, want submitted", v.Status)
	}

	clock.Set(time.Now().Add(11 * time.Minute))
	b.waitStatus("acct-lost-validation", created.ID, "awaiting_review")
	if n := testutil.ToFloat64(b.in.metrics.SweeperRestored); n < 1 {
		t.Errorf("sweeper restored %v tasks, want at least the validation task", n)
	}
}
