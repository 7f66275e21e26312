package main

import (
	"database/sql"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/idverify/idverify/store"
	"github.com/idverify/idverify/tasks"
)

// TestReviewDeadlines submits applications at fixed instants on the test
// clock and reads review_due_at (2 business days after entering review)
// and breach_at (3 business days) through the API.
//
// The expected values follow calendar.AddBusinessDays: a clock that starts
// on a weekend or holiday starts at 00:00 of the next business day, and
// each business day keeps the local clock time. The instants lie in 2027,
// after the wall clock when this was written, so their escalation tasks
// wait in Redis. Once the wall clock passes them, asynq runs the tasks at
// once, which changes escalation levels but not these deadlines.
func TestReviewDeadlines(t *testing.T) {
	hk := time.FixedZone("HKT", 8*3600)
	clock := newTestClock(time.Date(2027, 3, 1, 9, 0, 0, 0, hk))
	b := setup(t, withClock(clock))

	usPassport := reviewVariant(passportForm(), map[string]string{"region": "US"}, nil)
	cases := []struct {
		name   string
		form   form
		at     time.Time
		due    time.Time
		breach time.Time
	}{
		{
			name: "HK Saturday",
			form: passportForm(), at: time.Date(2027, 3, 6, 10, 0, 0, 0, hk),
			// The clock starts Monday 00:00; Monday and Tuesday count.
			due: time.Date(2027, 3, 10, 0, 0, 0, 0, hk), breach: time.Date(2027, 3, 11, 0, 0, 0, 0, hk),
		},
		{
			name: "HK Saturday from Friday UTC",
			form: passportForm(), at: time.Date(2027, 3, 5, 16, 30, 0, 0, time.UTC),
			// 16:30 UTC on Friday is 00:30 on Saturday in Hong Kong.
			due: time.Date(2027, 3, 10, 0, 0, 0, 0, hk), breach: time.Date(2027, 3, 11, 0, 0, 0, 0, hk),
		},
		{
			name: "HK Easter holidays",
			form: passportForm(), at: time.Date(2027, 3, 25, 10, 0, 0, 0, hk),
			// Good Friday, the day after it, Sunday and Easter Monday are
			// skipped: Tuesday 30 and Wednesday 31 March count.
			due: time.Date(2027, 3, 31, 10, 0, 0, 0, hk), breach: time.Date(2027, 4, 1, 10, 0, 0, 0, hk),
		},
		{
			name: "CN make-up working Saturday",
			form: enterpriseForm(), at: time.Date(2027, 2, 19, 10, 0, 0, 0, hk),
			// Saturday 20 February is a make-up working day after the
			// Spring Festival break, so it counts.
			due: time.Date(2027, 2, 22, 10, 0, 0, 0, hk), breach: time.Date(2027, 2, 23, 10, 0, 0, 0, hk),
		},
		{
			name: "generic calendar",
			form: usPassport, at: time.Date(2027, 3, 5, 23, 30, 0, 0, time.UTC),
			// Regions without a calendar count UTC weekdays.
			due: time.Date(2027, 3, 9, 23, 30, 0, 0, time.UTC), breach: time.Date(2027, 3, 10, 23, 30, 0, 0, time.UTC),
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock.Set(tc.at)
			account := "deadline-" + string(rune('a'+i))
			id := b.reviewSubmit(account, tc.form)
			b.reviewCheckDeadlines(account, id, tc.due, tc.breach)
		})
	}

	// The clock starts when the application enters review, not when it
	// was submitted: validation held back from Friday to Monday 15:00
	// gives Wednesday 15:00.
	t.Run("review starts after validation", func(t *testing.T) {
		queue := tasks.Validate("").Queue
		if err := b.in.inspector.PauseQueue(queue); err != nil {
			t.Fatalf("pause queue %s: %v", queue, err)
		}
		clock.Set(time.Date(2027, 3, 5, 10, 0, 0, 0, hk))
		b.putAccount("deadline-late")
		var created struct {
			ID string `json:"id"`
		}
		if code := b.submit("deadline-late", passportForm(), &created); code != http.StatusAccepted {
			t.Fatalf("submit: status %d", code)
		}
		b.reviewWaitTask(tasks.Validate(created.ID), asynq.TaskStatePending)

		clock.Set(time.Date(2027, 3, 8, 15, 0, 0, 0, hk))
		if err := b.in.inspector.UnpauseQueue(queue); err != nil {
			t.Fatalf("unpause queue %s: %v", queue, err)
		}
		b.waitStatus("deadline-late", created.ID, "awaiting_review")
		b.reviewCheckDeadlines("deadline-late", created.ID,
			time.Date(2027, 3, 10, 15, 0, 0, 0, hk), time.Date(2027, 3, 11, 15, 0, 0, 0, hk))
	})
}

// reviewCheckDeadlines checks an application's deadlines in the
// applicant's view, the review queue and the outbox rows of its two
// escalation tasks.
func (b *bundle) reviewCheckDeadlines(account, id string, due, breach time.Time) {
	t := b.t
	t.Helper()
	type deadlines struct{ Due, Breach time.Time }
	want := deadlines{Due: due.UTC(), Breach: breach.UTC()}
	utc := func(p *time.Time) time.Time {
		if p == nil {
			return time.Time{}
		}
		return p.UTC()
	}

	var view applicationView
	if code := b.do(http.MethodGet, "/v1/accounts/"+account+"/verifications/"+id, testIntakeKey, nil, &view); code != http.StatusOK {
		t.Fatalf("applicant view: status %d", code)
	}
	if got := utc(view.ReviewDueAt); !got.Equal(want.Due) {
		t.Errorf("applicant view review_due_at = %v, want %v", got, want.Due)
	}

	row := b.reviewFind(id)
	if diff := cmp.Diff(want, deadlines{Due: utc(row.ReviewDueAt), Breach: utc(row.BreachAt)}); diff != "" {
		t.Errorf("review queue deadlines (-want +got):\n%s", diff)
	}

	var got deadlines
	for level, dst := range map[int]*time.Time{1: &got.Due, 2: &got.Breach} {
		var at sql.NullTime
		spec := tasks.Escalate(id, level, time.Time{})
		if err := b.in.Store.DB().Get(&at, "SELECT process_at FROM outbox WHERE task_id = ?", spec.ID); err != nil {
			t.Fatalf("outbox row of %s: %v", spec.ID, err)
		}
		*dst = at.Time.UTC()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("escalation task times in the outbox (-want +got):\n%s", diff)
	}
}

// reviewEvent is a notification as the escalation tests compare it.
type reviewEvent struct {
	Event, Channel string
	Level          int
}

// reviewEvents returns an application's notifications other than those
// of its submission and decision, which every application has.
func (b *bundle) reviewEvents(id string) []reviewEvent {
	b.t.Helper()
	ns, err := b.in.Store.ListNotifications(reviewContext(b.t), id)
	if err != nil {
		b.t.Fatal(err)
	}
	out := []reviewEvent{}
	for _, n := range ns {
		switch n.Event {
		case store.EventReceived, store.EventApproved, store.EventRejected:
			continue
		}
		out = append(out, reviewEvent{n.Event, n.Channel, n.Data.Level})
	}
	return out
}

// reviewMessageEvents returns the events of an account's message center,
// newest first.
func (b *bundle) reviewMessageEvents(account string) []string {
	b.t.Helper()
	var inbox struct {
		Messages []struct {
			Event string `json:"event"`
		} `json:"messages"`
	}
	if code := b.do(http.MethodGet, "/v1/accounts/"+account+"/messages", testIntakeKey, nil, &inbox); code != http.StatusOK {
		b.t.Fatalf("messages of %s: status %d", account, code)
	}
	var events []string
	for _, m := range inbox.Messages {
		events = append(events, m.Event)
	}
	return events
}

// TestReviewEscalation runs the escalation tasks by hand: they do nothing
// for a decided application, level 1 notifies the reviewer leads, and
// level 2 notifies operations and sends the applicant one review_delayed
// message.
func TestReviewEscalation(t *testing.T) {
	start := reviewEpoch(t)
	clock := newTestClock(start)
	b := setup(t, withClock(clock), withConfig(func(c *Config) {
		c.LeadsEmail = "leads@example.com"
		c.OperationsEmail = "operations@example.com"
	}))

	t.Run("scheduled at the deadlines", func(t *testing.T) {
		id := b.reviewSubmit("escalate-scheduled", passportForm())
		row := b.reviewFind(id)
		for level, at := range map[int]*time.Time{1: row.ReviewDueAt, 2: row.BreachAt} {
			info := b.reviewWaitTask(tasks.Escalate(id, level, time.Time{}), asynq.TaskStateScheduled)
			if at == nil || !info.NextProcessAt.Equal(*at) {
				t.Errorf("level %d task runs at %v, want the deadline %v", level, info.NextProcessAt, at)
			}
		}
	})

	t.Run("decided application", func(t *testing.T) {
		id := b.reviewSubmit("escalate-decided", reviewVariant(passportForm(), map[string]string{"document_number": "K1234567"}, nil))
		if code := b.reviewDecide(testReviewerKey, id, map[string]any{"decision": "approve"}, nil); code != http.StatusOK {
			t.Fatalf("approve: status %d", code)
		}
		b.reviewEscalate(id, 1)
		b.reviewEscalate(id, 2)

		if row := b.reviewFind(id); row.EscalationLevel != 0 || row.Status != "approved" {
			t.Errorf("after escalation tasks: level %d status %q, want 0 and approved", row.EscalationLevel, row.Status)
		}
		if diff := cmp.Diff([]reviewEvent{}, b.reviewEvents(id)); diff != "" {
			t.Errorf("escalation notifications of a decided application (-want +got):\n%s", diff)
		}
	})

	t.Run("level 1", func(t *testing.T) {
		id := b.reviewSubmit("escalate-one", reviewVariant(passportForm(), map[string]string{"document_number": "R7654321"}, nil))
		b.reviewEscalate(id, 1)

		if row := b.reviewFind(id); row.EscalationLevel != 1 {
			t.Errorf("escalation_level %d, want 1", row.EscalationLevel)
		}
		want := []reviewEvent{{Event: "escalated", Channel: "staff", Level: 1}}
		if diff := cmp.Diff(want, b.reviewEvents(id)); diff != "" {
			t.Errorf("notifications (-want +got):\n%s", diff)
		}
		b.reviewWaitMail("leads@example.com", id)
	})

	t.Run("level 2", func(t *testing.T) {
		account := "escalate-two"
		id := b.reviewSubmit(account, reviewVariant(passportForm(), map[string]string{"document_number": "M2468024"}, nil))
		b.reviewEscalate(id, 2)

		if row := b.reviewFind(id); row.EscalationLevel != 2 {
			t.Errorf("escalation_level %d, want 2", row.EscalationLevel)
		}
		want := []reviewEvent{
			{Event: "escalated", Channel: "staff", Level: 2},
			{Event: "review_delayed", Channel: "console", Level: 2},
			{Event: "review_delayed", Channel: "email", Level: 2},
			{Event: "review_delayed", Channel: "sms", Level: 2},
		}
		if diff := cmp.Diff(want, b.reviewEvents(id)); diff != "" {
			t.Errorf("notifications (-want +got):\n%s", diff)
		}
		reviewWait(t, "a review_delayed message for "+account, func() bool {
			return slices.Contains(b.reviewMessageEvents(account), "review_delayed")
		})
		b.reviewWaitMail("operations@example.com", id)

		// A late level 1 task and a repeated level 2 task change nothing.
		b.reviewEscalate(id, 1)
		repeat, err := b.in.client.Enqueue(asynq.NewTask(tasks.TypeEscalate,
			[]byte(`{"application_id":"`+id+`","level":2}`)), asynq.Queue(tasks.QueueCritical), asynq.Retention(time.Hour))
		if err != nil {
			t.Fatalf("enqueue repeated level 2 task: %v", err)
		}
		b.reviewWaitTask(tasks.Spec{ID: repeat.ID, Queue: repeat.Queue}, asynq.TaskStateCompleted)
		if row := b.reviewFind(id); row.EscalationLevel != 2 {
			t.Errorf("after late and repeated tasks: escalation_level %d, want 2", row.EscalationLevel)
		}
		if diff := cmp.Diff(want, b.reviewEvents(id)); diff != "" {
			t.Errorf("notifications after late and repeated tasks (-want +got):\n%s", diff)
		}
	})
}

// reviewWaitMail waits for an escalation email to a staff address that
// names the application.
func (b *bundle) reviewWaitMail(to, applicationID string) {
	b.t.Helper()
	reviewWait(b.t, "an email to "+to+" about "+applicationID, func() bool {
		for _, m := range b.mailbox.Messages() {
			if slices.Contains(m.To, to) && strings.Contains(m.Text, applicationID) {
				return true
			}
		}
		return false
	})
}
