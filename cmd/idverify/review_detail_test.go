package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/photo"
)

// TestReviewFlags shows the reviewer's flags: a photo already submitted by
// another account, and an enterprise already bound to another account.
func TestReviewFlags(t *testing.T) {
	b := setup(t)

	// Each application waits for review before the next is submitted, so
	// each one's flags describe only the applications before it.
	firstPhoto := b.reviewSubmit("flags-photo-1", passportForm())
	reusedPhoto := b.reviewSubmit("flags-photo-2",
		reviewVariant(passportForm(), map[string]string{"document_number": "K1234567", "full_name": "Li Wei"}, nil))
	boundOrg := b.reviewSubmit("flags-org-1", enterpriseForm())
	if code := b.reviewDecide(testReviewerKey, boundOrg, map[string]any{"decision": "approve"}, nil); code != http.StatusOK {
		t.Fatalf("approve %s: status %d", boundOrg, code)
	}
	// The same enterprise with a photo of its own.
	secondOrg := b.reviewSubmit("flags-org-2", reviewVariant(enterpriseForm(), nil, photo.SamplePNG(641, 480)))
	// The same enterprise with the bound account's certificate photo.
	thirdOrg := b.reviewSubmit("flags-org-3", enterpriseForm())

	cases := []struct {
		name string
		id   string
		want []string
	}{
		{name: "first photo", id: firstPhoto, want: []string{}},
		{name: "photo of another account", id: reusedPhoto, want: []string{"photo_reused"}},
		{name: "enterprise bound elsewhere", id: secondOrg, want: []string{"identity_bound_elsewhere"}},
		{name: "bound enterprise and its photo", id: thirdOrg, want: []string{"identity_bound_elsewhere", "photo_reused"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, b.reviewFind(tc.id).flagCodes()); diff != "" {
				t.Errorf("flags in the queue (-want +got):\n%s", diff)
			}
			var detail reviewRow
			if code := b.do(http.MethodGet, "/v1/review/applications/"+tc.id, testReviewerKey, nil, &detail); code != http.StatusOK {
				t.Fatalf("detail: status %d", code)
			}
			if diff := cmp.Diff(tc.want, detail.flagCodes()); diff != "" {
				t.Errorf("flags in the detail (-want +got):\n%s", diff)
			}
			for _, f := range detail.Flags {
				if f.Detail == "" {
					t.Errorf("flag %s has no detail for the reviewer", f.Code)
				}
			}
		})
	}

	// Flags are for reviewers: the applicant's view leaves them out.
	var raw json.RawMessage
	b.do(http.MethodGet, "/v1/accounts/flags-photo-2/verifications/"+reusedPhoto, testIntakeKey, nil, &raw)
	if strings.Contains(string(raw), "photo_reused") {
		t.Errorf("applicant view shows the reviewer's flag: %s", raw)
	}
}

// reviewDetail is GET /v1/review/applications/{id}.
type reviewDetail struct {
	reviewRow
	DocumentType   string            `json:"document_type"`
	Fields         map[string]string `json:"fields"`
	ConsentVersion string            `json:"consent_version"`
	ConsentAt      time.Time         `json:"consent_at"`
	TermsAccepted  bool              `json:"terms_accepted"`
	PhotoBytes     int               `json:"photo_bytes"`
	PhotoURL       string            `json:"photo_url"`
	History        []reviewRow       `json:"account_history"`
}

// TestReviewDetail reads an application's decrypted fields, its account's
// earlier applications and its photo, and shows that each read is
// written to the audit log with the reviewer's id.
func TestReviewDetail(t *testing.T) {
	start := reviewEpoch(t)
	clock := newTestClock(start)
	b := setup(t, withClock(clock))

	// The account's first application is rejected; it applies again a
	// minute later.
	earlier := b.reviewSubmit("detail", reviewVariant(passportForm(), map[string]string{"address": "1 Queen's Road"}, nil))
	if code := b.reviewDecide(testOtherKey, earlier, map[string]any{"decision": "reject", "reasons": []string{"address_incomplete"}}, nil); code != http.StatusOK {
		t.Fatalf("reject %s: status %d", earlier, code)
	}
	clock.Set(start.Add(time.Minute))
	id := b.reviewSubmit("detail", passportForm())
	org := b.reviewSubmit("detail-org", enterpriseForm())

	t.Run("individual", func(t *testing.T) {
		var d reviewDetail
		req, _ := http.NewRequest(http.MethodGet, b.url+"/v1/review/applications/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+testReviewerKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control %q, want no-store", got)
		}
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
			t.Fatal(err)
		}

		wantFields := map[string]string{
			"full_name":       "Anna Maria Eriksson",
			"address":         "1 Queen's Road Central, Hong Kong",
			"document_number": "L898902C3",
		}
		if diff := cmp.Diff(wantFields, d.Fields); diff != "" {
			t.Errorf("decrypted fields (-want +got):\n%s", diff)
		}
		type summary struct {
			ID, AccountID, Status, SubjectType, Region, DocumentType, ConsentVersion, PhotoURL string
			TermsAccepted, ChecksPassed                                                        bool
			PhotoBytes                                                                         int
		}
		want := summary{ID: id, AccountID: "detail", Status: "awaiting_review", SubjectType: "individual", Region: "HK",
			DocumentType: "passport", ConsentVersion: "2026-01", PhotoURL: "/v1/review/applications/" + id + "/photo",
			ChecksPassed: true, PhotoBytes: len(testJPEG)}
		got := summary{ID: d.ID, AccountID: d.AccountID, Status: d.Status, SubjectType: d.SubjectType, Region: d.Region,
			DocumentType: d.DocumentType, ConsentVersion: d.ConsentVersion, PhotoURL: d.PhotoURL,
			TermsAccepted: d.TermsAccepted, ChecksPassed: d.Checks != nil && d.Checks.Passed, PhotoBytes: d.PhotoBytes}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("detail (-want +got):\n%s", diff)
		}
		if !d.ConsentAt.Equal(start.Add(time.Minute)) {
			t.Errorf("consent_at %v, want the submission time %v", d.ConsentAt, start.Add(time.Minute))
		}

		type past struct {
			ID, Status, DecidedBy string
			Reasons               []string
		}
		var history []past
		for _, h := range d.History {
			history = append(history, past{h.ID, h.Status, h.DecidedBy, h.Reasons})
		}
		wantHistory := []past{{ID: earlier, Status: "rejected", DecidedBy: "bob", Reasons: []string{"address_incomplete"}}}
		if diff := cmp.Diff(wantHistory, history); diff != "" {
			t.Errorf("account_history (-want +got):\n%s", diff)
		}
	})

	t.Run("organization", func(t *testing.T) {
		var d reviewDetail
		if code := b.do(http.MethodGet, "/v1/review/applications/"+org, testOtherKey, nil, &d); code != http.StatusOK {
			t.Fatalf("status %d, want 200", code)
		}
		wantFields := map[string]string{
			"enterprise_name":              "福建示例科技有限公司",
			"registered_address":           "88 Wusi Road, Gulou District, Fuzhou",
			"business_registration_number": "91350100M000100Y43",
		}
		if diff := cmp.Diff(wantFields, d.Fields); diff != "" {
			t.Errorf("decrypted fields (-want +got):\n%s", diff)
		}
		if !d.TermsAccepted {
			t.Error("terms_accepted is false, want true")
		}
		if len(d.History) != 0 {
			t.Errorf("account_history has %d entries, want none", len(d.History))
		}
	})

	photos := []struct {
		name  string
		id    string
		key   string
		ctype string
		want  []byte
	}{
		{name: "jpeg", id: id, key: testReviewerKey, ctype: "image/jpeg", want: testJPEG},
		{name: "png", id: org, key: testOtherKey, ctype: "image/png", want: testPNG},
	}
	for _, p := range photos {
		t.Run("photo "+p.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, b.url+"/v1/review/applications/"+p.id+"/photo", nil)
			req.Header.Set("Authorization", "Bearer "+p.key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", resp.StatusCode, body)
			}
			if !bytes.Equal(body, p.want) {
				t.Errorf("photo is %d bytes that differ from the %d bytes submitted", len(body), len(p.want))
			}
			headers := map[string]string{
				"Content-Type":           p.ctype,
				"Cache-Control":          "no-store",
				"X-Content-Type-Options": "nosniff",
			}
			for name, want := range headers {
				if got := resp.Header.Get(name); got != want {
					t.Errorf("%s %q, want %q", name, got, want)
				}
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
				t.Errorf("Content-Security-Policy %q, want a sandbox", csp)
			}
		})
	}

	t.Run("audit", func(t *testing.T) {
		type read struct{ Actor, Action string }
		trails := []struct {
			id   string
			want []read
		}{
			{id: id, want: []read{{"alice", "view_detail"}, {"alice", "view_photo"}}},
			{id: org, want: []read{{"bob", "view_detail"}, {"bob", "view_photo"}}},
		}
		for _, tr := range trails {
			var got []read
			for _, e := range b.reviewTrail(tr.id) {
				got = append(got, read{e.Actor, e.Action})
			}
			if diff := cmp.Diff(tr.want, got); diff != "" {
				t.Errorf("audit trail of %s (-want +got):\n%s", tr.id, diff)
			}
		}
	})
}

// TestReviewDetailNeedsAudit makes the audit log unwritable and shows
// that the detail and the photo then fail with 500: no audit entry, no
// personal data.
func TestReviewDetailNeedsAudit(t *testing.T) {
	b := setup(t)
	id := b.reviewSubmit("detail-audit", passportForm())

	db := b.in.Store.DB()
	if _, err := db.Exec("RENAME TABLE audit_log TO audit_log_away"); err != nil {
		t.Fatalf("rename audit_log: %v", err)
	}
	restored := false
	restore := func() {
		if restored {
			return
		}
		restored = true
		if _, err := db.Exec("RENAME TABLE audit_log_away TO audit_log"); err != nil {
			t.Fatalf("rename audit_log back: %v", err)
		}
	}
	t.Cleanup(restore)

	for _, path := range []string{"/v1/review/applications/" + id, "/v1/review/applications/" + id + "/photo"} {
		req, _ := http.NewRequest(http.MethodGet, b.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+testReviewerKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("GET %s without an audit log: status %d, want 500", path, resp.StatusCode)
		}
		for _, secret := range []string{"Eriksson", "L898902C3", "Queen's Road"} {
			if strings.Contains(string(body), secret) {
				t.Errorf("GET %s without an audit log returned personal data: %s", path, body)
			}
		}
		if bytes.Contains(body, testJPEG[:64]) {
			t.Errorf("GET %s without an audit log returned the photo", path)
		}
	}

	restore()
	if code := b.do(http.MethodGet, "/v1/review/applications/"+id, testReviewerKey, nil, nil); code != http.StatusOK {
		t.Errorf("detail after the audit log is back: status %d, want 200", code)
	}
}

// TestReviewScope shows that the review API needs a key with the review
// scope.
func TestReviewScope(t *testing.T) {
	b := setup(t)
	cases := []struct {
		name   string
		key    string
		status int
		code   string
	}{
		{name: "no key", key: "", status: http.StatusUnauthorized, code: "unauthenticated"},
		{name: "unknown key", key: "not-a-key-0123456789", status: http.StatusUnauthorized, code: "invalid_api_key"},
		{name: "intake key", key: testIntakeKey, status: http.StatusForbidden, code: "wrong_scope"},
		{name: "operator key", key: testOperatorKey, status: http.StatusForbidden, code: "wrong_scope"},
		{name: "reviewer key", key: testOtherKey, status: http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := b.reviewCall(http.MethodGet, "/v1/review/applications", tc.key, nil)
			if got.Status != tc.status || got.Problem.Code != tc.code {
				t.Errorf("status %d code %q, want %d %q", got.Status, got.Problem.Code, tc.status, tc.code)
			}
		})
	}
}
