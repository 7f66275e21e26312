package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/idverify/idverify/tasks"
)

// reviewRawDecision posts body as it is to an application's decision
// endpoint with alice's key.
func (b *bundle) reviewRawDecision(id, body string) reviewResult {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.url+"/v1/review/applications/"+id+"/decision", strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testReviewerKey)
	var raw json.RawMessage
	status := b.send(req, &raw)
	return b.reviewResultOf("POST decision", status, raw)
}

// TestReviewDecisionInvalid sends malformed and rule-breaking decisions
// and expects 400 naming the field and rule, with nothing recorded.
func TestReviewDecisionInvalid(t *testing.T) {
	b := setup(t)
	id := b.reviewSubmit("decision-invalid", passportForm())

	field := func(f, code string) []reviewFieldError { return []reviewFieldError{{Field: f, Code: code}} }
	cases := []struct {
		name   string
		body   string
		status int // 400 when 0
		code   string
		errors []reviewFieldError
	}{
		{name: "reject without reasons", body: `{"decision":"reject"}`,
			code: "invalid_request", errors: field("reasons", "required")},
		{name: "reject with empty reasons", body: `{"decision":"reject","reasons":[]}`,
			code: "invalid_request", errors: field("reasons", "required")},
		{name: "unknown reason", body: `{"decision":"reject","reasons":["blurry"]}`,
			code: "invalid_request", errors: field("reasons", "invalid_reason")},
		{name: "automatic reason", body: `{"decision":"reject","reasons":["automatic_checks_failed"]}`,
			code: "invalid_request", errors: field("reasons", "invalid_reason")},
		{name: "duplicate reason", body: `{"decision":"reject","reasons":["name_mismatch","name_mismatch"]}`,
			code: "invalid_request", errors: field("reasons", "duplicate_reason")},
		{name: "other without note", body: `{"decision":"reject","reasons":["other"]}`,
			code: "invalid_request", errors: field("note", "required")},
		{name: "other with blank note", body: `{"decision":"reject","reasons":["other"],"note":"  \n "}`,
			code: "invalid_request", errors: field("note", "required")},
		{name: "note too long", body: `{"decision":"reject","reasons":["name_mismatch"],"note":"` + strings.Repeat("審", 2001) + `"}`,
			code: "invalid_request", errors: field("note", "too_long")},
		{name: "approve with reasons", body: `{"decision":"approve","reasons":["name_mismatch"]}`,
			code: "invalid_request", errors: field("reasons", "not_allowed")},
		{name: "unknown decision", body: `{"decision":"maybe"}`,
			code: "invalid_request", errors: field("decision", "invalid_decision")},
		{name: "missing decision", body: `{"reasons":["other"],"note":"x"}`,
			code: "invalid_request", errors: field("decision", "required")},
		{name: "several rules", body: `{"decision":"reject","reasons":["blurry","other"]}`,
			code: "invalid_request", errors: []reviewFieldError{
				{Field: "reasons", Code: "invalid_reason"}, {Field: "note", Code: "required"}}},
		{name: "unknown member", body: `{"decision":"approve","priority":1}`, code: "invalid_json"},
		{name: "reasons not a list", body: `{"decision":"reject","reasons":"other"}`, code: "invalid_json"},
		{name: "not JSON", body: `approve`, code: "invalid_json"},
		{name: "empty body", body: ``, code: "invalid_json"},
		{name: "second JSON value", body: `{"decision":"reject","reasons":["other"],"note":"x"} {"decision":"approve"}`, code: "invalid_json"},
		{name: "body over 64 KiB", body: `{"decision":"approve","note":"` + strings.Repeat("a", 64<<10) + `"}`,
			status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.status
			if want == 0 {
				want = http.StatusBadRequest
			}
			got := b.reviewRawDecision(id, tc.body)
			if got.Status != want {
				t.Errorf("status %d, want %d", got.Status, want)
			}
			if got.Problem.Code != tc.code {
				t.Errorf("problem code %q, want %q", got.Problem.Code, tc.code)
			}
			if diff := cmp.Diff(tc.errors, got.Problem.Errors); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}

	row := b.reviewFind(id)
	if row.Status != "awaiting_review" || row.DecidedBy != "" {
		t.Errorf("after invalid decisions: status %q decided_by %q, want awaiting_review and no decider", row.Status, row.DecidedBy)
	}
	if trail := b.reviewTrail(id); len(trail) != 0 {
		t.Errorf("invalid decisions wrote %d audit entries, want 0: %+v", len(trail), trail)
	}
}

// TestReviewDecisionOutcome records approvals and rejections and reads
// them back through the review API and the applicant's view. A second
// decision on the same application gets 409 already_decided.
func TestReviewDecisionOutcome(t *testing.T) {
	b := setup(t)
	longNote := strings.Repeat("審", 2000)
	no, yes := false, true

	cases := []struct {
		name    string
		account string
		form    form
		body    map[string]any
		// status, reasons, resubmit and note are the expected decision
		// and the reviewer's note as stored (trimmed).
		status   string
		reasons  []string
		resubmit *bool
		note     string
	}{
		{name: "reject without resubmission", account: "decide-no-resubmit", form: passportForm(),
			body:   map[string]any{"decision": "reject", "reasons": []string{"name_mismatch"}, "resubmit_allowed": false},
			status: "rejected", reasons: []string{"name_mismatch"}, resubmit: &no},
		{name: "reject with default resubmission", account: "decide-resubmit",
			form: reviewVariant(passportForm(), map[string]string{"document_number": "K1234567"}, nil),
			body: map[string]any{"decision": "reject", "reasons": []string{"photo_unreadable", "other"},
				"note": "  Glare covers the face.  "},
			status: "rejected", reasons: []string{"photo_unreadable", "other"}, resubmit: &yes, note: "Glare covers the face."},
		{name: "reject with longest note", account: "decide-long-note",
			form:   reviewVariant(passportForm(), map[string]string{"document_number": "R7654321"}, nil),
			body:   map[string]any{"decision": "reject", "reasons": []string{"address_incomplete"}, "note": longNote},
			status: "rejected", reasons: []string{"address_incomplete"}, resubmit: &yes, note: longNote},
		{name: "approve", account: "decide-approve", form: enterpriseForm(),
			body:   map[string]any{"decision": "approve", "resubmit_allowed": false},
			status: "approved"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := b.reviewSubmit(tc.account, tc.form)

			got := b.reviewCall(http.MethodPost, "/v1/review/applications/"+id+"/decision", testReviewerKey, tc.body)
			if got.Status != http.StatusOK {
				t.Fatalf("decide: status %d code %q, want 200", got.Status, got.Problem.Code)
			}
			type outcome struct {
				Status, DecidedBy string
				Reasons           []string
				Resubmit          *bool
			}
			want := outcome{Status: tc.status, DecidedBy: "alice", Reasons: tc.reasons, Resubmit: tc.resubmit}
			for where, row := range map[string]reviewRow{"response": got.Row, "queue": b.reviewFind(id)} {
				if diff := cmp.Diff(want, outcome{row.Status, row.DecidedBy, row.Reasons, row.ResubmitAllowed}); diff != "" {
					t.Errorf("decision in the %s (-want +got):\n%s", where, diff)
				}
			}

			// The reviewer's note is shown to reviewers only.
			var detail struct {
				Note string `json:"note"`
			}
			b.do(http.MethodGet, "/v1/review/applications/"+id, testReviewerKey, nil, &detail)
			if detail.Note != tc.note {
				t.Errorf("note in the detail = %.40q, want %.40q", detail.Note, tc.note)
			}
			var raw json.RawMessage
			if code := b.do(http.MethodGet, "/v1/accounts/"+tc.account+"/verifications/"+id, testIntakeKey, nil, &raw); code != http.StatusOK {
				t.Fatalf("applicant view: status %d", code)
			}
			if tc.note != "" && strings.Contains(string(raw), tc.note[:6]) {
				t.Errorf("applicant view shows the reviewer's note: %s", raw)
			}
			var view applicationView
			if err := json.Unmarshal(raw, &view); err != nil {
				t.Fatal(err)
			}
			if view.Status != tc.status {
				t.Errorf("applicant view status %q, want %q", view.Status, tc.status)
			}
			switch {
			case tc.status == "approved" && view.Rejection != nil:
				t.Errorf("approved application shows a rejection: %+v", view.Rejection)
			case tc.status == "rejected" && view.Rejection == nil:
				t.Error("rejected application shows no rejection")
			case tc.status == "rejected":
				if diff := cmp.Diff(tc.reasons, view.Rejection.Reasons); diff != "" {
					t.Errorf("applicant view rejection.reasons (-want +got):\n%s", diff)
				}
				if view.Rejection.ResubmitAllowed != *tc.resubmit {
					t.Errorf("applicant view rejection.resubmit_allowed = %v, want %v", view.Rejection.ResubmitAllowed, *tc.resubmit)
				}
			}

			// A second decision, either way, changes nothing.
			for _, again := range []map[string]any{
				{"decision": "approve"},
				{"decision": "reject", "reasons": []string{"document_expired"}},
			} {
				res := b.reviewCall(http.MethodPost, "/v1/review/applications/"+id+"/decision", testOtherKey, again)
				if res.Status != http.StatusConflict || res.Problem.Code != "already_decided" {
					t.Errorf("second decision %v: status %d code %q, want 409 already_decided", again["decision"], res.Status, res.Problem.Code)
				}
			}
			row := b.reviewFind(id)
			if diff := cmp.Diff(want, outcome{row.Status, row.DecidedBy, row.Reasons, row.ResubmitAllowed}); diff != "" {
				t.Errorf("decision after the rejected second decisions (-want +got):\n%s", diff)
			}
			var decides int
			for _, e := range b.reviewTrail(id) {
				if e.Action == "decide" {
					decides++
				}
			}
			if decides != 1 {
				t.Errorf("audit trail has %d decide entries, want 1", decides)
			}
		})
	}
}

// TestReviewDecisionConflict decides and claims applications that are
// still in automatic validation, withdrawn or missing.
func TestReviewDecisionConflict(t *testing.T) {
	b := setup(t)
	approve := map[string]any{"decision": "approve"}

	t.Run("still submitted", func(t *testing.T) {
		// Pausing the queue of validation tasks keeps the application in
		// submitted.
		queue := tasks.Validate("").Queue
		if err := b.in.inspector.PauseQueue(queue); err != nil {
			t.Fatalf("pause queue %s: %v", queue, err)
		}
		b.putAccount("conflict-submitted")
		var created struct {
			ID string `json:"id"`
		}
		if code := b.submit("conflict-submitted", passportForm(), &created); code != http.StatusAccepted {
			t.Fatalf("submit: status %d", code)
		}
		b.reviewWaitTask(tasks.Validate(created.ID), asynq.TaskStatePending)
		path := "/v1/review/applications/" + created.ID

		for _, req := range []struct{ name, path string }{{"decide", path + "/decision"}, {"claim", path + "/claim"}} {
			got := b.reviewCall(http.MethodPost, req.path, testReviewerKey, approve)
			if got.Status != http.StatusConflict || got.Problem.Code != "not_awaiting_review" {
				t.Errorf("%s while submitted: status %d code %q, want 409 not_awaiting_review", req.name, got.Status, got.Problem.Code)
			}
		}
		if row := b.reviewFind(created.ID); row.Status != "submitted" {
			t.Errorf("status %q, want submitted", row.Status)
		}

		if err := b.in.inspector.UnpauseQueue(queue); err != nil {
			t.Fatalf("unpause queue %s: %v", queue, err)
		}
		b.waitStatus("conflict-submitted", created.ID, "awaiting_review")
		if got := b.reviewCall(http.MethodPost, path+"/decision", testReviewerKey, approve); got.Status != http.StatusOK {
			t.Errorf("decide after validation: status %d code %q, want 200", got.Status, got.Problem.Code)
		}
	})

	t.Run("withdrawn", func(t *testing.T) {
		id := b.reviewSubmit("conflict-withdrawn", reviewVariant(passportForm(), map[string]string{"document_number": "K1234567"}, nil))
		if code := b.do(http.MethodPost, "/v1/accounts/conflict-withdrawn/verifications/"+id+"/withdraw", testIntakeKey, nil, nil); code != http.StatusOK {
			t.Fatalf("withdraw: status %d", code)
		}
		path := "/v1/review/applications/" + id
		cases := []struct {
			name, path string
			body       any
			code       string
		}{
			{name: "decide", path: path + "/decision", body: approve, code: "already_decided"},
			{name: "claim", path: path + "/claim", code: "already_decided"},
		}
		for _, c := range cases {
			got := b.reviewCall(http.MethodPost, c.path, testReviewerKey, c.body)
			if got.Status != http.StatusConflict || got.Problem.Code != c.code {
				t.Errorf("%s after withdrawal: status %d code %q, want 409 %s", c.name, got.Status, got.Problem.Code, c.code)
			}
		}
		if row := b.reviewFind(id); row.Status != "withdrawn" {
			t.Errorf("status %q, want withdrawn", row.Status)
		}
	})

	t.Run("missing", func(t *testing.T) {
		path := "/v1/review/applications/app_00000000000000000000000000"
		cases := []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, path, nil},
			{http.MethodGet, path + "/photo", nil},
			{http.MethodGet, path + "/audit", nil},
			{http.MethodPost, path + "/claim", nil},
			{http.MethodDelete, path + "/claim", nil},
			{http.MethodPost, path + "/decision", approve},
		}
		for _, c := range cases {
			got := b.reviewCall(c.method, c.path, testReviewerKey, c.body)
			if got.Status != http.StatusNotFound || got.Problem.Code != "not_found" {
				t.Errorf("%s %s: status %d code %q, want 404 not_found", c.method, c.path, got.Status, got.Problem.Code)
			}
		}
		var n int
		if err := b.in.Store.DB().Get(&n, "SELECT COUNT(*) FROM audit_log WHERE application_id = ?", "app_00000000000000000000000000"); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("requests for a missing application wrote %d audit entries, want 0", n)
		}
	})
}
