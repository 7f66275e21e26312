package main

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/idverify/idverify/calendar"
	"github.com/idverify/idverify/store"
	"github.com/idverify/idverify/tasks"
)

// Helpers of the review tests (review_*_test.go). Their names start with
// "review" so that they do not collide with helpers of other test files.

// reviewRow is a review queue row, a claim or a decision as the review API
// returns it. It is declared here, not taken from package review, so that a
// renamed JSON member fails the tests.
type reviewRow struct {
	ID              string     `json:"id"`
	AccountID       string     `json:"account_id"`
	Status          string     `json:"status"`
	Kind            string     `json:"kind"`
	SubjectType     string     `json:"subject_type"`
	Region          string     `json:"region"`
	SubmittedAt     time.Time  `json:"submitted_at"`
	ReviewDueAt     *time.Time `json:"review_due_at"`
	BreachAt        *time.Time `json:"breach_at"`
	Overdue         bool       `json:"overdue"`
	EscalationLevel int        `json:"escalation_level"`
	Flags           []struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	} `json:"flags"`
	Claim *struct {
		Reviewer  string    `json:"reviewer"`
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"claim"`
	Checks *struct {
		Passed bool `json:"passed"`
	} `json:"checks"`
	DecidedBy       string   `json:"decided_by"`
	Reasons         []string `json:"reasons"`
	ResubmitAllowed *bool    `json:"resubmit_allowed"`
}

// flagCodes returns the codes of the row's flags in order.
func (r reviewRow) flagCodes() []string {
	codes := []string{}
	for _, f := range r.Flags {
		codes = append(codes, f.Code)
	}
	return codes
}

// reviewPage is one page of the review queue.
type reviewPage struct {
	Applications []reviewRow `json:"applications"`
	Limit        int         `json:"limit"`
	Offset       int         `json:"offset"`
	NextOffset   *int        `json:"next_offset"`
}

// ids returns the application ids of the page in order.
func (p reviewPage) ids() []string {
	ids := []string{}
	for _, a := range p.Applications {
		ids = append(ids, a.ID)
	}
	return ids
}

// reviewProblem is an RFC 9457 problem body; field errors keep field and
// code, since the detail text is for people.
type reviewProblem struct {
	Status int                `json:"status"`
	Code   string             `json:"code"`
	Errors []reviewFieldError `json:"errors"`
}

type reviewFieldError struct {
	Field string `json:"field"`
	Code  string `json:"code"`
}

// reviewAuditEntry is one entry of an audit trail.
type reviewAuditEntry struct {
	ID            int64     `json:"id"`
	ApplicationID string    `json:"application_id"`
	Actor         string    `json:"actor"`
	Action        string    `json:"action"`
	Detail        string    `json:"detail"`
	CreatedAt     time.Time `json:"created_at"`
	PrevHash      string    `json:"prev_hash"`
	Hash          string    `json:"hash"`
}

// reviewVariant returns a copy of f with the given fields replaced and,
// when photo is not nil, another photo.
func reviewVariant(f form, fields map[string]string, photo []byte) form {
	out := form{fields: maps.Clone(f.fields), photo: f.photo, photoName: f.photoName}
	maps.Copy(out.fields, fields)
	if photo != nil {
		out.photo = photo
	}
	return out
}

// reviewSubmit creates the account, submits f and waits until automatic
// validation moved the application to awaiting_review. It returns the
// application id.
func (b *bundle) reviewSubmit(account string, f form) string {
	b.t.Helper()
	b.putAccount(account)
	var created struct {
		ID string `json:"id"`
	}
	if code := b.submit(account, f, &created); code != http.StatusAccepted {
		b.t.Fatalf("submit for %s: status %d, want 202", account, code)
	}
	b.waitStatus(account, created.ID, store.StatusAwaitingReview)
	return created.ID
}

// reviewQueue reads one page of the review queue as alice; query is the
// query string without "?".
func (b *bundle) reviewQueue(query string) reviewPage {
	b.t.Helper()
	var page reviewPage
	if code := b.do(http.MethodGet, "/v1/review/applications?"+query, testReviewerKey, nil, &page); code != http.StatusOK {
		b.t.Fatalf("GET review queue ?%s: status %d, want 200", query, code)
	}
	return page
}

// reviewFind returns the queue row of one application, looked up among
// every status.
func (b *bundle) reviewFind(id string) reviewRow {
	b.t.Helper()
	page := b.reviewQueue("status=any&limit=200")
	for _, a := range page.Applications {
		if a.ID == id {
			return a
		}
	}
	b.t.Fatalf("application %s is not in the review queue with status=any", id)
	return reviewRow{}
}

// reviewDecide posts a decision with the reviewer key and decodes the
// response, a reviewRow or a reviewProblem, into out.
func (b *bundle) reviewDecide(key, id string, body map[string]any, out any) int {
	b.t.Helper()
	return b.do(http.MethodPost, "/v1/review/applications/"+id+"/decision", key, body, out)
}

// reviewTrail returns the audit trail of one application.
func (b *bundle) reviewTrail(id string) []reviewAuditEntry {
	b.t.Helper()
	var trail struct {
		Entries []reviewAuditEntry `json:"entries"`
	}
	if code := b.do(http.MethodGet, "/v1/review/applications/"+id+"/audit", testReviewerKey, nil, &trail); code != http.StatusOK {
		b.t.Fatalf("GET audit trail of %s: status %d, want 200", id, code)
	}
	return trail.Entries
}

// reviewWaitTask waits until the task of spec is in Redis in state want
// and returns its info.
func (b *bundle) reviewWaitTask(spec tasks.Spec, want asynq.TaskState) *asynq.TaskInfo {
	b.t.Helper()
	var info *asynq.TaskInfo
	reviewWait(b.t, "task "+spec.ID+" in state "+want.String(), func() bool {
		var err error
		info, err = b.in.inspector.GetTaskInfo(spec.Queue, spec.ID)
		if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
			return false
		}
		if err != nil {
			b.t.Fatalf("inspect task %s: %v", spec.ID, err)
		}
		return info.State == want
	})
	return info
}

// reviewWait polls cond every 20 ms until it returns true, and fails the
// test after 30 seconds. Each poll reads the system's state through its
// API or stores, as a client would.
func reviewWait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-timeout.C:
			t.Fatalf("timed out after 30s waiting for %s", what)
		}
	}
}

// reviewEpoch returns 09:00 Hong Kong time on the first Monday at least a
// week after the wall clock from which Monday to Friday are business days
// in both the HK and the CN calendar.
//
// Escalation tasks are scheduled at review_due_at and breach_at on asynq's
// wall clock, so tests that run them by hand start their business clock
// in the future: an instant in the past would make them run at once.
func reviewEpoch(t testing.TB) time.Time {
	t.Helper()
	hk, err := time.LoadLocation("Asia/Hong_Kong")
	if err != nil {
		t.Fatal(err)
	}
	cals := calendar.Default()
	day := time.Now().In(hk).AddDate(0, 0, 7)
	day = time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, hk)
	for range 100 {
		for day.Weekday() != time.Monday {
			day = day.AddDate(0, 0, 1)
		}
		weekOK := true
		for i := range 5 {
			d := day.AddDate(0, 0, i)
			if !cals.For("HK").IsBusinessDay(d) || !cals.For("CN").IsBusinessDay(d) {
				weekOK = false
			}
		}
		if weekOK {
			return day
		}
		day = day.AddDate(0, 0, 7)
	}
	t.Fatal("no week of five HK and CN business days in the next 100 weeks")
	return time.Time{}
}

// reviewContext returns a context that ends with the test or after 30
// seconds.
func reviewContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// reviewEscalate runs the scheduled escalation task of an application to
// level now, instead of at its deadline, and waits until it completed.
func (b *bundle) reviewEscalate(id string, level int) {
	b.t.Helper()
	spec := tasks.Escalate(id, level, time.Time{})
	b.reviewWaitTask(spec, asynq.TaskStateScheduled)
	if err := b.in.inspector.RunTask(spec.Queue, spec.ID); err != nil {
		b.t.Fatalf("run escalation task %s: %v", spec.ID, err)
	}
	b.reviewWaitTask(spec, asynq.TaskStateCompleted)
}

// reviewResult is the response to a review API call: a row on success, a
// problem otherwise.
type reviewResult struct {
	Status  int
	Row     reviewRow
	Problem reviewProblem
}

// reviewCall sends a review API request with key and decodes the
// response by its status: a reviewRow for 2xx, a reviewProblem otherwise.
func (b *bundle) reviewCall(method, path, key string, body any) reviewResult {
	b.t.Helper()
	var raw json.RawMessage
	status := b.do(method, path, key, body, &raw)
	return b.reviewResultOf(method+" "+path, status, raw)
}

// reviewResultOf decodes a response body by its status.
func (b *bundle) reviewResultOf(request string, status int, raw json.RawMessage) reviewResult {
	b.t.Helper()
	res := reviewResult{Status: status}
	if len(raw) == 0 {
		return res
	}
	var err error
	if status >= 200 && status < 300 {
		err = json.Unmarshal(raw, &res.Row)
	} else {
		err = json.Unmarshal(raw, &res.Problem)
	}
	if err != nil {
		b.t.Fatalf("%s: decode %s: %v", request, raw, err)
	}
	return res
}
