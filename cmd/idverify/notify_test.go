package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/idverify/idverify/notifier"
	"github.com/idverify/idverify/store"
	"github.com/idverify/idverify/tasks"
)

// notificationsOf waits until every notification of an application for
// the event has left pending, and returns them by channel.
func (b *bundle) notificationsOf(appID, event string) map[string]store.Notification {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		all, err := b.in.Store.ListNotifications(context.Background(), appID)
		if err != nil {
			b.t.Fatal(err)
		}
		out := map[string]store.Notification{}
		done := true
		for _, n := range all {
			if n.Event != event {
				continue
			}
			out[n.Channel] = n
			if n.Status == store.NotificationPending {
				done = false
			}
		}
		if done && len(out) > 0 {
			return out
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("notifications of %s for %s still pending after 30s: %+v", appID, event, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *bundle) submitPassport(account string) string {
	b.t.Helper()
	b.putAccount(account)
	var created struct {
		ID string `json:"id"`
	}
	if code := b.submit(account, passportForm(), &created); code != http.StatusAccepted {
		b.t.Fatalf("submit: status %d", code)
	}
	return created.ID
}

func TestNotifySMSRetriedAloneUntilDelivered(t *testing.T) {
	b := setup(t)
	b.sms.set(func(g *smsGateway) { g.fail = 2 })
	id := b.submitPassport("acct-retry")

	got := b.notificationsOf(id, store.EventReceived)
	if n := got[store.ChannelSMS]; n.Status != store.NotificationSent || n.Attempts != 3 {
		t.Errorf("sms notification: status %s after %d attempts, want sent after 3", n.Status, n.Attempts)
	}
	for _, ch := range []string{store.ChannelConsole, store.ChannelEmail} {
		if n := got[ch]; n.Status != store.NotificationSent || n.Attempts != 1 {
			t.Errorf("%s notification: status %s after %d attempts, want sent at the first attempt", ch, n.Status, n.Attempts)
		}
	}
	if reqs := b.sms.requests(); len(reqs) != 1 {
		t.Errorf("gateway accepted %d messages, want 1", len(reqs))
	}
}

func TestNotifyPermanentFailureArchived(t *testing.T) {
	b := setup(t)
	b.sms.set(func(g *smsGateway) { g.status = http.StatusBadRequest })
	id := b.submitPassport("acct-perm")

	got := b.notificationsOf(id, store.EventReceived)
	sms := got[store.ChannelSMS]
	if sms.Status != store.NotificationFailed || sms.Attempts != 1 {
		t.Errorf("sms notification: status %s after %d attempts, want failed after 1 (4xx is not retried)", sms.Status, sms.Attempts)
	}
	if got[store.ChannelEmail].Status != store.NotificationSent {
		t.Errorf("email notification: status %s, want sent despite the SMS failure", got[store.ChannelEmail].Status)
	}
	b.waitArchived(tasks.Notify(sms.ID).ID)
}

func TestNotifyLastRetryMarksFailed(t *testing.T) {
	b := setup(t)
	b.sms.set(func(g *smsGateway) { g.status = http.StatusServiceUnavailable })
	id := b.submitPassport("acct-exhaust")

	got := b.notificationsOf(id, store.EventReceived)
	sms := got[store.ChannelSMS]
	// Notification tasks allow 12 retries: 13 attempts in all.
	if sms.Status != store.NotificationFailed || sms.Attempts != 13 {
		t.Errorf("sms notification: status %s after %d attempts, want failed after 13", sms.Status, sms.Attempts)
	}
	b.waitArchived(tasks.Notify(sms.ID).ID)
}

func (b *bundle) waitArchived(taskID string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		info, err := b.in.inspector.GetTaskInfo(tasks.QueueNotifications, taskID)
		if err == nil && info.State == asynq.TaskStateArchived {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.t.Fatalf("task %s not archived in asynq after 30s", taskID)
}

func TestNotifyDeliveredNotSentAgain(t *testing.T) {
	b := setup(t)
	id := b.submitPassport("acct-once")
	sms := b.notificationsOf(id, store.EventReceived)[store.ChannelSMS]
	if sms.Status != store.NotificationSent {
		t.Fatalf("sms notification: status %s, want sent", sms.Status)
	}
	spec := tasks.Notify(sms.ID)
	b.waitCompleted(spec.ID)

	// Run the delivered notification's task again, as a retry or a
	// re-run of the event would.
	if err := b.in.inspector.DeleteTask(spec.Queue, spec.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.in.Store.RequeueTask(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	b.in.relay.Dispatch(context.Background())
	b.waitCompleted(spec.ID)

	if reqs := b.sms.requests(); len(reqs) != 1 {
		t.Errorf("gateway got %d messages, want 1: a delivered notification was sent again", len(reqs))
	}
}

func (b *bundle) waitCompleted(taskID string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		info, err := b.in.inspector.GetTaskInfo(tasks.QueueNotifications, taskID)
		if err == nil && info.State == asynq.TaskStateCompleted {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.t.Fatalf("task %s not completed after 30s", taskID)
}

// TestNotifyWorkerStoppedAfterGatewayAccepted stops the worker while the
// gateway has accepted an SMS but not yet responded, and starts a new one.
// The retry carries the same idempotency key, so a de-duplicating gateway
// delivers the message once.
func TestNotifyWorkerStoppedAfterGatewayAccepted(t *testing.T) {
	b := setup(t, withConfig(func(c *Config) { c.ShutdownTimeout = time.Second }))
	release := make(chan struct{})
	hold := make(chan smsRequest, 10)
	b.sms.set(func(g *smsGateway) { g.hold, g.release = hold, release })
	id := b.submitPassport("acct-crash")

	var first smsRequest
	select {
	case first = <-hold:
	case <-time.After(30 * time.Second):
		t.Fatal("gateway got no SMS")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.in.shutdown(ctx); err != nil {
		t.Fatalf("stop first worker: %v", err)
	}
	b.sms.set(func(g *smsGateway) { g.hold = nil })
	close(release)

	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	restarted, err := start(context.Background(), b.cfg, roles{API: true, Worker: true}, logger, nil)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	b.in = restarted
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		restarted.shutdown(ctx)
	})

	sms := b.notificationsOf(id, store.EventReceived)[store.ChannelSMS]
	if sms.Status != store.NotificationSent {
		t.Fatalf("sms notification: status %s, want sent after the restart", sms.Status)
	}
	var sameKey int
	for _, r := range b.sms.requests() {
		if r.IdempotencyKey == first.IdempotencyKey {
			sameKey++
		}
	}
	if sameKey != 2 {
		t.Errorf("gateway accepted %d requests with key %s, want 2 (the first and the retry after the restart)", sameKey, first.IdempotencyKey)
	}
	distinct := map[string]bool{}
	for _, r := range b.sms.requests() {
		if strings.Contains(r.Text, id) {
			distinct[r.IdempotencyKey] = true
		}
	}
	if len(distinct) != 1 {
		t.Errorf("the received message reached the gateway under %d idempotency keys, want 1: %v", len(distinct), distinct)
	}
}

func TestNotifyWebhookFollowsStatusChanges(t *testing.T) {
	const secret = "webhook-test-secret"
	var mu sync.Mutex
	var statuses []string
	events := make(chan string, 20)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := notifier.VerifyWebhook(secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev notifier.WebhookEvent
		json.Unmarshal(body, &ev)
		mu.Lock()
		statuses = append(statuses, ev.Status)
		mu.Unlock()
		events <- ev.Status
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	b := setup(t, withConfig(func(c *Config) {
		c.Webhook = notifier.WebhookConfig{URL: receiver.URL, Secret: secret}
	}))
	id := b.submitPassport("acct-hook")
	b.waitStatus("acct-hook", id, "awaiting_review")
	if code := b.do(http.MethodPost, "/v1/review/applications/"+id+"/decision", testReviewerKey,
		map[string]any{"decision": "approve"}, nil); code != http.StatusOK {
		t.Fatalf("approve: status %d", code)
	}

	seen := map[string]bool{}
	timeout := time.After(30 * time.Second)
	for len(seen) < 3 {
		select {
		case s := <-events:
			seen[s] = true
		case <-timeout:
			t.Fatalf("webhook statuses seen: %v, want submitted, awaiting_review and approved", seen)
		}
	}
	for _, want := range []string{"submitted", "awaiting_review", "approved"} {
		if !seen[want] {
			t.Errorf("no webhook for status %s; got %v", want, statuses)
		}
	}
}

func TestNotifyLocaleAndSubscriptions(t *testing.T) {
	b := setup(t)
	if code := b.do(http.MethodPut, "/v1/accounts/acct-zh", testIntakeKey, map[string]any{
		"email": "chan@example.com", "phone": "+85291234567", "locale": "zh-HK",
		"subscriptions": map[string]bool{"email": true, "sms": false},
	}, nil); code != http.StatusCreated {
		t.Fatalf("PUT account: status %d", code)
	}
	var created struct {
		ID string `json:"id"`
	}
	b.submit("acct-zh", passportForm(), &created)
	got := b.notificationsOf(created.ID, store.EventReceived)
	if got[store.ChannelSMS].Status != store.NotificationSkipped {
		t.Errorf("sms notification: status %s, want skipped (unsubscribed)", got[store.ChannelSMS].Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mails, err := b.mailbox.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	want, err := notifier.Render(notifier.EventReceived, "zh-HK", notifier.Data{ApplicationID: created.ID, Kind: "initial", SubjectType: "individual"})
	if err != nil {
		t.Fatal(err)
	}
	if mails[0].Subject != want.Subject {
		t.Errorf("email subject %q, want the Traditional Chinese %q", mails[0].Subject, want.Subject)
	}
	if len(b.sms.requests()) != 0 {
		t.Errorf("gateway got %d SMS for an account without the SMS subscription", len(b.sms.requests()))
	}
}
