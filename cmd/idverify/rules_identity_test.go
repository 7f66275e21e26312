package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rulesEpoch is the test clock's start: a Monday, in whole seconds so
// RFC 3339 dates compare exactly. asynq runs scheduled tasks by the real
// clock, and this date lies years ahead of it, so the review escalations
// scheduled from the test clock do not fire during a test.
var rulesEpoch = time.Date(2031, time.March, 3, 9, 0, 0, 0, time.UTC)

// rulesPassport returns passportForm with another passport number and name.
func rulesPassport(number, name string) form {
	f := passportForm()
	f.fields["document_number"] = number
	f.fields["full_name"] = name
	return f
}

// TestRulesOneOpenApplication submits twice while the first application
// is open, in both open statuses, and expects 409 naming the open one.
func TestRulesOneOpenApplication(t *testing.T) {
	b := setup(t)
	b.putAccount("acct-open")
	first := b.rulesSubmitOK("acct-open", passportForm())

	second := rulesPassport("X12345678", "Anna Eriksson")
	check := func(t *testing.T) {
		b := b.rulesFor(t)
		resp := b.rulesSubmit("acct-open", rulesParts(second), nil)
		p := rulesCheckProblem(t, resp, http.StatusConflict, "open_application_exists", nil)
		if p.OpenApplicationID != first {
			t.Errorf("open_application_id = %q, want %q", p.OpenApplicationID, first)
		}
		if !strings.Contains(p.Detail, first) {
			t.Errorf("detail %q does not name the open application", p.Detail)
		}
	}
	t.Run("submitted", check)
	b.waitStatus("acct-open", first, "awaiting_review")
	t.Run("awaiting_review", check)

	if ident := b.rulesIdentity("acct-open"); ident.OpenApplication == nil || ident.OpenApplication.ID != first {
		t.Errorf("identity open_application = %+v, want %s", ident.OpenApplication, first)
	}

	// After a decision the account may submit again.
	if code := b.do(http.MethodPost, "/v1/accounts/acct-open/verifications/"+first+"/withdraw", testIntakeKey, nil, nil); code != http.StatusOK {
		t.Fatalf("withdraw: status %d", code)
	}
	b.rulesSubmitOK("acct-open", second)
}

// TestRulesOneOpenApplicationConcurrent fires ten submissions for one
// account at once: exactly one is accepted and every other gets 409 naming
// it.
func TestRulesOneOpenApplicationConcurrent(t *testing.T) {
	b := setup(t)
	b.putAccount("acct-race")
	const n = 10
	responses := make([]rulesResponse, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		f := rulesPassport(fmt.Sprintf("X%08d", i), "Anna Maria Eriksson")
		ctype, body := rulesMultipart(t, rulesParts(f))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			responses[i] = rulesPost(b.url+"/v1/accounts/acct-race/verifications", ctype, body, nil)
		}()
	}
	close(start)
	wg.Wait()

	var winner string
	var conflicts []rulesProblem
	for i, resp := range responses {
		switch resp.status {
		case http.StatusAccepted:
			var created struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(resp.body, &created); err != nil {
				t.Fatal(err)
			}
			if winner != "" {
				t.Errorf("submissions %s and %s both accepted", winner, created.ID)
			}
			winner = created.ID
		case http.StatusConflict:
			conflicts = append(conflicts, rulesCheckProblem(t, resp, http.StatusConflict, "open_application_exists", nil))
		default:
			t.Errorf("submission %d: status %d, want 202 or 409; body %s", i, resp.status, resp.body)
		}
	}
	if winner == "" {
		t.Fatal("no submission accepted")
	}
	if len(conflicts) != n-1 {
		t.Errorf("%d submissions got 409, want %d", len(conflicts), n-1)
	}
	for _, p := range conflicts {
		if p.OpenApplicationID != winner {
			t.Errorf("open_application_id = %q, want the accepted %q", p.OpenApplicationID, winner)
		}
	}
}

// TestRulesIdentityChange runs the identity change rules on the test
// clock: individual to individual waits 30 days (422 on day 29, 202 on day
// 30), the current identity stays until approval, and approval switches
// it and frees the old identity's quota slot.
func TestRulesIdentityChange(t *testing.T) {
	clock := newTestClock(rulesEpoch)
	b := setup(t, withClock(clock))
	oldForm := passportForm()
	oldID := b.rulesVerify("acct-change", oldForm)
	verifiedAt := rulesEpoch
	earliest := verifiedAt.AddDate(0, 0, 30)

	before := b.rulesIdentity("acct-change")
	if before.ApplicationID != oldID || before.VerifiedAt == nil || !before.VerifiedAt.Equal(verifiedAt) {
		t.Fatalf("identity after verification = %+v, want application %s verified at %s", before, oldID, verifiedAt)
	}

	newForm := rulesPassport("X12345678", "Anna Maria Svensson")
	t.Run("day 29", func(t *testing.T) {
		b := b.rulesFor(t)
		for _, at := range []time.Time{verifiedAt.AddDate(0, 0, 29), earliest.Add(-time.Second)} {
			clock.Set(at)
			resp := b.rulesSubmit("acct-change", rulesParts(newForm), nil)
			p := rulesCheckProblem(t, resp, http.StatusUnprocessableEntity, "identity_change_too_early", nil)
			if want := earliest.Format(time.RFC3339); p.EarliestAt != want {
				t.Errorf("at %s: earliest_at = %q, want %q", at, p.EarliestAt, want)
			}
			if !strings.Contains(p.Detail, earliest.Format(time.RFC3339)) {
				t.Errorf("at %s: detail %q does not name the earliest date", at, p.Detail)
			}
		}
	})

	clock.Set(earliest)
	var created struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
	}
	resp := b.rulesSubmit("acct-change", rulesParts(newForm), nil)
	if resp.status != http.StatusAccepted {
		t.Fatalf("change on day 30: status %d, want 202; body %s", resp.status, resp.body)
	}
	if err := json.Unmarshal(resp.body, &created); err != nil {
		t.Fatal(err)
	}
	if created.Kind != "change" {
		t.Errorf("kind = %q, want change", created.Kind)
	}
	b.waitStatus("acct-change", created.ID, "awaiting_review")

	t.Run("old identity in force until approval", func(t *testing.T) {
		b := b.rulesFor(t)
		during := b.rulesIdentity("acct-change")
		if during.ApplicationID != oldID || during.NumberMasked != before.NumberMasked || !during.VerifiedAt.Equal(verifiedAt) {
			t.Errorf("identity during the change = %+v, want the old one %+v", during, before)
		}
		if during.OpenApplication == nil || during.OpenApplication.ID != created.ID || during.OpenApplication.Kind != "change" {
			t.Errorf("open_application = %+v, want the change %s", during.OpenApplication, created.ID)
		}
		if matches, _ := b.rulesICP("acct-change", oldForm.fields["full_name"]); !matches {
			t.Error("ICP check of the old name fails before the change is approved")
		}
	})

	// While the account holds the old passport, another account cannot
	// verify it.
	b.putAccount("acct-heir")
	rejectedID := b.rulesSubmitOK("acct-heir", oldForm)
	v := b.waitStatus("acct-heir", rejectedID, "rejected")
	if !rulesHasFailedCheck(v, "document_number", "quota_exceeded") {
		t.Errorf("old passport on another account before the change: failed checks %+v, want document_number:quota_exceeded", v.Rejection)
	}

	b.rulesApprove(created.ID)

	t.Run("new identity after approval", func(t *testing.T) {
		b := b.rulesFor(t)
		after := b.rulesIdentity("acct-change")
		if after.ApplicationID != created.ID || after.VerifiedAt == nil || !after.VerifiedAt.Equal(earliest) {
			t.Errorf("identity after the change = %+v, want application %s verified at %s", after, created.ID, earliest)
		}
		if after.NumberMasked == before.NumberMasked {
			t.Errorf("number_masked %q did not change", after.NumberMasked)
		}
		if matches, _ := b.rulesICP("acct-change", oldForm.fields["full_name"]); matches {
			t.Error("ICP check still matches the old name")
		}
		if matches, _ := b.rulesICP("acct-change", newForm.fields["full_name"]); !matches {
			t.Error("ICP check does not match the new name")
		}
	})

	t.Run("old quota slot freed", func(t *testing.T) {
		b := b.rulesFor(t)
		id := b.rulesSubmitOK("acct-heir", oldForm)
		b.waitStatus("acct-heir", id, "awaiting_review")
		b.rulesApprove(id)
		if got := b.rulesIdentity("acct-heir"); got.ApplicationID != id {
			t.Errorf("acct-heir identity application = %q, want %q", got.ApplicationID, id)
		}
	})
}

// TestRulesChangeAllowedAtNamedDate verifies an account at a time with a
// fraction of a second and submits a change at exactly the earliest_at
// that the 422 and the identity name: it must be accepted.
func TestRulesChangeAllowedAtNamedDate(t *testing.T) {
	verifiedAt := rulesEpoch.Add(250 * time.Millisecond)
	clock := newTestClock(verifiedAt)
	b := setup(t, withClock(clock))
	b.rulesVerify("acct-fraction", passportForm())
	newForm := rulesPassport("X12345678", "Anna Maria Svensson")

	clock.Set(verifiedAt.AddDate(0, 0, 29))
	resp := b.rulesSubmit("acct-fraction", rulesParts(newForm), nil)
	p := rulesCheckProblem(t, resp, http.StatusUnprocessableEntity, "identity_change_too_early", nil)
	named, err := time.Parse(time.RFC3339, p.EarliestAt)
	if err != nil {
		t.Fatalf("earliest_at %q: %v", p.EarliestAt, err)
	}
	var allowedFrom *time.Time
	for _, c := range b.rulesIdentity("acct-fraction").Changes {
		if c.To == "individual" {
			allowedFrom = c.AllowedFrom
		}
	}
	if allowedFrom == nil || !allowedFrom.Equal(named) {
		t.Errorf("identity changes[to=individual].allowed_from = %v, want earliest_at %s", allowedFrom, named)
	}

	clock.Set(named)
	resp = b.rulesSubmit("acct-fraction", rulesParts(newForm), nil)
	if resp.status != http.StatusAccepted {
		t.Errorf("change at the named earliest_at %s: status %d, want 202; body %s", p.EarliestAt, resp.status, resp.body)
	}
}

// rulesHasFailedCheck reports whether a rejected application lists the
// field and code among its failed checks.
func rulesHasFailedCheck(v applicationView, field, code string) bool {
	if v.Rejection == nil {
		return false
	}
	for _, fc := range v.Rejection.FailedChecks {
		if fc.Field == field && fc.Code == code {
			return true
		}
	}
	return false
}

// TestRulesChangeToOrganization checks that an individual may change to an
// organization at once, and that the organization then waits 30 days for
// any further change.
func TestRulesChangeToOrganization(t *testing.T) {
	clock := newTestClock(rulesEpoch)
	b := setup(t, withClock(clock))
	b.rulesVerify("acct-i2o", passportForm())

	clock.Set(rulesEpoch.Add(time.Minute))
	resp := b.rulesSubmit("acct-i2o", rulesParts(enterpriseForm()), nil)
	if resp.status != http.StatusAccepted {
		t.Fatalf("individual to organization right after verification: status %d, want 202; body %s", resp.status, resp.body)
	}
	var created struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(resp.body, &created); err != nil {
		t.Fatal(err)
	}
	if created.Kind != "change" {
		t.Errorf("kind = %q, want change", created.Kind)
	}
	b.waitStatus("acct-i2o", created.ID, "awaiting_review")
	if ident := b.rulesIdentity("acct-i2o"); ident.SubjectType != "individual" || ident.Entitlements.VATInvoices {
		t.Errorf("identity before approval = %+v, want the individual without VAT invoices", ident)
	}

	approvedAt := rulesEpoch.Add(2 * time.Minute)
	clock.Set(approvedAt)
	b.rulesApprove(created.ID)
	ident := b.rulesIdentity("acct-i2o")
	if ident.SubjectType != "organization" || !ident.Entitlements.VATInvoices || ident.ApplicationID != created.ID {
		t.Errorf("identity after approval = %+v, want the organization with VAT invoices", ident)
	}

	// The passport's slot is free again.
	heir := b.rulesVerify("acct-i2o-heir", passportForm())
	if got := b.rulesIdentity("acct-i2o-heir"); got.ApplicationID != heir {
		t.Errorf("acct-i2o-heir identity application = %q, want %q", got.ApplicationID, heir)
	}

	// Every change from an organization waits 30 days from the approval.
	earliest := approvedAt.AddDate(0, 0, 30)
	tests := []struct {
		name string
		form form
	}{
		{name: "to individual", form: rulesPassport("X12345678", "Anna Maria Svensson")},
		{name: "to organization", form: func() form {
			f := enterpriseForm()
			f.fields["region"], f.fields["business_registration_number"] = "HK", "12345678"
			return f
		}()},
	}
	clock.Set(earliest.Add(-time.Second))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := b.rulesFor(t)
			resp := b.rulesSubmit("acct-i2o", rulesParts(tc.form), nil)
			p := rulesCheckProblem(t, resp, http.StatusUnprocessableEntity, "identity_change_too_early", nil)
			if want := earliest.Format(time.RFC3339); p.EarliestAt != want {
				t.Errorf("earliest_at = %q, want %q", p.EarliestAt, want)
			}
		})
	}
	clock.Set(earliest)
	b.rulesSubmitOK("acct-i2o", tests[0].form)
}

// TestRulesWithdrawal withdraws open applications, an initial one and a
// change, and expects 409 already_decided afterwards and for decided
// applications, with the account's identity untouched.
func TestRulesWithdrawal(t *testing.T) {
	clock := newTestClock(rulesEpoch)
	b := setup(t, withClock(clock))

	t.Run("initial application", func(t *testing.T) {
		b := b.rulesFor(t)
		b.putAccount("acct-wd")
		id := b.rulesSubmitOK("acct-wd", passportForm())
		resp := b.rulesWithdraw("acct-wd", id)
		if resp.status != http.StatusOK {
			t.Fatalf("withdraw: status %d, want 200; body %s", resp.status, resp.body)
		}
		var app struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(resp.body, &app); err != nil || app.Status != "withdrawn" {
			t.Errorf("withdraw answer %s, want status withdrawn", resp.body)
		}
		rulesCheckProblem(t, b.rulesWithdraw("acct-wd", id), http.StatusConflict, "already_decided", nil)
		if ident := b.rulesIdentity("acct-wd"); ident.Verified || ident.OpenApplication != nil {
			t.Errorf("identity after withdrawal = %+v, want unverified with no open application", ident)
		}

		// A reviewer can no longer decide it, and validation left it
		// withdrawn.
		decision := b.rulesDo(http.MethodPost, "/v1/review/applications/"+id+"/decision",
			http.Header{"Authorization": {"Bearer " + testReviewerKey}, "Content-Type": {"application/json"}},
			strings.NewReader(`{"decision":"approve"}`))
		rulesCheckProblem(t, decision, http.StatusConflict, "already_decided", nil)
		b.waitStatus("acct-wd", id, "withdrawn")
	})

	oldID := b.rulesVerify("acct-wd-change", passportForm())
	before := b.rulesIdentity("acct-wd-change")

	t.Run("approved application", func(t *testing.T) {
		rulesCheckProblem(t, b.rulesWithdraw("acct-wd-change", oldID), http.StatusConflict, "already_decided", nil)
	})
	t.Run("rejected application", func(t *testing.T) {
		b := b.rulesFor(t)
		b.putAccount("acct-wd-rejected")
		f := passportForm()
		f.fields["document_number"] = "L898902C31"
		id := b.rulesSubmitOK("acct-wd-rejected", f)
		b.waitStatus("acct-wd-rejected", id, "rejected")
		rulesCheckProblem(t, b.rulesWithdraw("acct-wd-rejected", id), http.StatusConflict, "already_decided", nil)
	})
	t.Run("another account's application", func(t *testing.T) {
		b := b.rulesFor(t)
		rulesCheckProblem(t, b.rulesWithdraw("acct-wd-rejected", oldID), http.StatusNotFound, "not_found", nil)
	})
	t.Run("unknown application", func(t *testing.T) {
		b := b.rulesFor(t)
		rulesCheckProblem(t, b.rulesWithdraw("acct-wd-change", "app_00000000000000000000000000"), http.StatusNotFound, "not_found", nil)
	})
	t.Run("change application", func(t *testing.T) {
		b := b.rulesFor(t)
		id := b.rulesSubmitOK("acct-wd-change", enterpriseForm())
		b.waitStatus("acct-wd-change", id, "awaiting_review")
		if resp := b.rulesWithdraw("acct-wd-change", id); resp.status != http.StatusOK {
			t.Fatalf("withdraw change: status %d, want 200; body %s", resp.status, resp.body)
		}
		rulesCheckProblem(t, b.rulesWithdraw("acct-wd-change", id), http.StatusConflict, "already_decided", nil)
		after := b.rulesIdentity("acct-wd-change")
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("identity changed by a withdrawal (-before +after):\n%s", diff)
		}
	})
}

// TestRulesEntitlements reads the identity of an unverified account, an
// individual and an organization: entitlements and when each change is
// allowed.
func TestRulesEntitlements(t *testing.T) {
	clock := newTestClock(rulesEpoch)
	b := setup(t, withClock(clock))
	b.putAccount("acct-ent-none")
	b.rulesVerifyAll([]string{"acct-ent-person", "acct-ent-org"}, []form{passportForm(), enterpriseForm()})
	in30 := rulesEpoch.AddDate(0, 0, 30)

	type change struct {
		To          string
		Allowed     bool
		AllowedFrom *time.Time
	}
	tests := []struct {
		account     string
		verified    bool
		subjectType string
		resources   []string
		vat         bool
		changes     []change
	}{
		{account: "acct-ent-none", resources: []string{}, changes: []change{}},
		{account: "acct-ent-person", verified: true, subjectType: "individual", resources: []string{"individual"},
			changes: []change{{To: "individual", AllowedFrom: &in30}, {To: "organization", Allowed: true}}},
		{account: "acct-ent-org", verified: true, subjectType: "organization", resources: []string{"organization"}, vat: true,
			changes: []change{{To: "individual", AllowedFrom: &in30}, {To: "organization", AllowedFrom: &in30}}},
	}
	check := func(t *testing.T, at time.Time) {
		b := b.rulesFor(t)
		for _, tc := range tests {
			t.Run(tc.account, func(t *testing.T) {
				b := b.rulesFor(t)
				ident := b.rulesIdentity(tc.account)
				if ident.Verified != tc.verified || ident.SubjectType != tc.subjectType {
					t.Errorf("verified %t subject_type %q, want %t %q", ident.Verified, ident.SubjectType, tc.verified, tc.subjectType)
				}
				if diff := cmp.Diff(tc.resources, ident.Entitlements.Resources); diff != "" {
					t.Errorf("resources (-want +got):\n%s", diff)
				}
				if ident.Entitlements.VATInvoices != tc.vat {
					t.Errorf("vat_invoices = %t, want %t", ident.Entitlements.VATInvoices, tc.vat)
				}
				got := []change{}
				for _, c := range ident.Changes {
					got = append(got, change{To: c.To, Allowed: c.Allowed, AllowedFrom: c.AllowedFrom})
				}
				want := []change{}
				for _, c := range tc.changes {
					c.Allowed = c.Allowed || (c.AllowedFrom != nil && !at.Before(*c.AllowedFrom))
					want = append(want, c)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("changes (-want +got):\n%s", diff)
				}
			})
		}
	}
	t.Run("day 0", func(t *testing.T) { check(t, rulesEpoch) })
	clock.Set(in30.Add(-time.Second))
	t.Run("day 30 minus a second", func(t *testing.T) { check(t, in30.Add(-time.Second)) })
	clock.Set(in30)
	t.Run("day 30", func(t *testing.T) { check(t, in30) })

	t.Run("unknown account", func(t *testing.T) {
		b := b.rulesFor(t)
		resp := b.rulesDo(http.MethodGet, "/v1/accounts/acct-nobody/identity", nil, nil)
		rulesCheckProblem(t, resp, http.StatusNotFound, "account_not_found", nil)
	})
}

// TestRulesICPNameCheck checks the ICP name check for verified, unverified
// and unknown accounts and its request rules.
func TestRulesICPNameCheck(t *testing.T) {
	b := setup(t)
	b.putAccount("acct-icp-none")
	b.rulesVerify("acct-icp-org", enterpriseForm())
	name := enterpriseForm().fields["enterprise_name"]

	tests := []struct {
		account, entityName string
		matches, verified   bool
	}{
		{account: "acct-icp-org", entityName: name, matches: true, verified: true},
		{account: "acct-icp-org", entityName: " " + name + " ", matches: true, verified: true},
		{account: "acct-icp-org", entityName: "福建示例科技公司", verified: true},
		{account: "acct-icp-org", entityName: "福建示例科技有限公司（分公司）", verified: true},
		{account: "acct-icp-none", entityName: name},
	}
	for _, tc := range tests {
		t.Run(tc.account+" "+tc.entityName, func(t *testing.T) {
			b := b.rulesFor(t)
			matches, verified := b.rulesICP(tc.account, tc.entityName)
			if matches != tc.matches || verified != tc.verified {
				t.Errorf("matches %t verified %t, want %t %t", matches, verified, tc.matches, tc.verified)
			}
		})
	}

	bad := []struct {
		name, account, body string
		status              int
		code                string
		errors              []rulesFieldError
	}{
		{name: "blank name", account: "acct-icp-org", body: `{"entity_name":"  "}`, status: http.StatusBadRequest,
			code: "invalid_request", errors: []rulesFieldError{rulesField("entity_name", "required")}},
		{name: "name over 200 characters", account: "acct-icp-org", body: `{"entity_name":"` + strings.Repeat("名", 201) + `"}`,
			status: http.StatusBadRequest, code: "invalid_request", errors: []rulesFieldError{rulesField("entity_name", "too_long")}},
		{name: "unknown member", account: "acct-icp-org", body: `{"name":"x"}`, status: http.StatusBadRequest, code: "invalid_json"},
		{name: "unknown account", account: "acct-nobody", body: `{"entity_name":"x"}`, status: http.StatusNotFound, code: "account_not_found"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			b := b.rulesFor(t)
			resp := b.rulesDo(http.MethodPost, "/v1/accounts/"+tc.account+"/icp-name-check",
				http.Header{"Content-Type": {"application/json"}}, strings.NewReader(tc.body))
			rulesCheckProblem(t, resp, tc.status, tc.code, tc.errors)
		})
	}
}

// TestRulesIdempotencyKey repeats a submission with the same
// Idempotency-Key: the same request replays the first application, a
// different one is rejected, and after 24 hours the key is free.
func TestRulesIdempotencyKey(t *testing.T) {
	clock := newTestClock(rulesEpoch)
	b := setup(t, withClock(clock))
	b.putAccount("acct-idem")
	key := http.Header{"Idempotency-Key": {"submit-7f3a"}}
	parts := rulesParts(passportForm())

	type accepted struct {
		ID          string    `json:"id"`
		Status      string    `json:"status"`
		Kind        string    `json:"kind"`
		SubmittedAt time.Time `json:"submitted_at"`
	}
	decode := func(t *testing.T, resp rulesResponse) accepted {
		t.Helper()
		if resp.status != http.StatusAccepted {
			t.Fatalf("status %d, want 202; body %s", resp.status, resp.body)
		}
		var a accepted
		if err := json.Unmarshal(resp.body, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}

	firstResp := b.rulesSubmit("acct-idem", parts, key)
	first := decode(t, firstResp)
	if got := firstResp.header.Get("Idempotent-Replayed"); got != "" {
		t.Errorf("first response has Idempotent-Replayed %q", got)
	}

	t.Run("same request", func(t *testing.T) {
		b := b.rulesFor(t)
		// The parts in reverse order are the same request.
		reversed := make([]rulesPart, len(parts))
		for i, p := range parts {
			reversed[len(parts)-1-i] = p
		}
		for _, p := range [][]rulesPart{parts, reversed} {
			resp := b.rulesSubmit("acct-idem", p, key)
			again := decode(t, resp)
			if again.ID != first.ID || again.Kind != first.Kind || !again.SubmittedAt.Equal(first.SubmittedAt) {
				t.Errorf("replay = %+v, want the first application %+v", again, first)
			}
			// The first response had status submitted, and a replay
			// repeats it even after validation moved the application on.
			if again.Status != "submitted" {
				t.Errorf("replay status = %q, want the first response's submitted", again.Status)
			}
			if got := resp.header.Get("Idempotent-Replayed"); got != "true" {
				t.Errorf("Idempotent-Replayed = %q, want true", got)
			}
			if got, want := resp.header.Get("Location"), "/v1/accounts/acct-idem/verifications/"+first.ID; got != want {
				t.Errorf("Location = %q, want %q", got, want)
			}
		}
		var list struct {
			Verifications []struct {
				ID string `json:"id"`
			} `json:"verifications"`
		}
		if code := b.do(http.MethodGet, "/v1/accounts/acct-idem/verifications", testIntakeKey, nil, &list); code != http.StatusOK {
			t.Fatalf("list: status %d", code)
		}
		if len(list.Verifications) != 1 || list.Verifications[0].ID != first.ID {
			t.Errorf("applications %+v, want only %s", list.Verifications, first.ID)
		}
	})

	t.Run("different request", func(t *testing.T) {
		b := b.rulesFor(t)
		changed := passportForm()
		changed.fields["address"] = "2 Queen's Road Central, Hong Kong"
		resp := b.rulesSubmit("acct-idem", rulesParts(changed), key)
		rulesCheckProblem(t, resp, http.StatusUnprocessableEntity, "idempotency_key_reused", nil)

		otherPhoto := passportForm()
		otherPhoto.photo = testPNG
		resp = b.rulesSubmit("acct-idem", rulesParts(otherPhoto), key)
		rulesCheckProblem(t, resp, http.StatusUnprocessableEntity, "idempotency_key_reused", nil)
	})

	t.Run("concurrent repeats", func(t *testing.T) {
		b := b.rulesFor(t)
		b.putAccount("acct-idem-race")
		ctype, body := rulesMultipart(t, parts)

		const n = 8
		responses := make([]rulesResponse, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				responses[i] = rulesPost(b.url+"/v1/accounts/acct-idem-race/verifications", ctype, body, key)
			}()
		}
		close(start)
		wg.Wait()

		ids := map[string]bool{}
		replayed := 0
		for i, resp := range responses {
			if resp.status != http.StatusAccepted {
				t.Errorf("request %d: status %d, want 202; body %s", i, resp.status, resp.body)
				continue
			}
			var a accepted
			if err := json.Unmarshal(resp.body, &a); err != nil {
				t.Fatal(err)
			}
			ids[a.ID] = true
			if resp.header.Get("Idempotent-Replayed") == "true" {
				replayed++
			}
		}
		if len(ids) != 1 || replayed != n-1 {
			t.Errorf("%d application ids and %d replays from %d identical requests, want 1 and %d", len(ids), replayed, n, n-1)
		}
	})

	t.Run("same key on another account", func(t *testing.T) {
		b := b.rulesFor(t)
		b.putAccount("acct-idem-other")
		other := decode(t, b.rulesSubmit("acct-idem-other", parts, key))
		if other.ID == first.ID {
			t.Errorf("another account's submission replayed %s", first.ID)
		}
	})

	// The key is remembered for 24 hours, whatever became of the
	// application.
	if code := b.do(http.MethodPost, "/v1/accounts/acct-idem/verifications/"+first.ID+"/withdraw", testIntakeKey, nil, nil); code != http.StatusOK {
		t.Fatalf("withdraw: status %d", code)
	}
	t.Run("after 24 hours", func(t *testing.T) {
		b := b.rulesFor(t)
		clock.Set(rulesEpoch.Add(24 * time.Hour))
		if again := decode(t, b.rulesSubmit("acct-idem", parts, key)); again.ID != first.ID {
			t.Errorf("at 24 hours: id %s, want the replay of %s", again.ID, first.ID)
		}

		clock.Set(rulesEpoch.Add(24*time.Hour + time.Second))
		resp := b.rulesSubmit("acct-idem", parts, key)
		fresh := decode(t, resp)
		if fresh.ID == first.ID || fresh.Status != "submitted" {
			t.Errorf("after 24 hours: %+v, want a new submitted application", fresh)
		}
		if got := resp.header.Get("Idempotent-Replayed"); got != "" {
			t.Errorf("new application has Idempotent-Replayed %q", got)
		}
	})
}
