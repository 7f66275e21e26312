package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestApplicationEndToEnd(t *testing.T) {
	b := setup(t)
	b.putAccount("acct-e2e")

	var created struct {
		ID          string    `json:"id"`
		Status      string    `json:"status"`
		Kind        string    `json:"kind"`
		SubmittedAt time.Time `json:"submitted_at"`
	}
	if code := b.submit("acct-e2e", passportForm(), &created); code != http.StatusAccepted {
		t.Fatalf("submit: status %d, want 202", code)
	}
	if created.Status != "submitted" || created.Kind != "initial" || created.ID == "" {
		t.Fatalf("submit answer = %+v, want submitted initial with an id", created)
	}

	v := b.waitStatus("acct-e2e", created.ID, "awaiting_review")
	if v.ReviewDueAt == nil {
		t.Error("awaiting_review application has no review_due_at")
	}

	var queue struct {
		Applications []struct {
			ID string `json:"id"`
		} `json:"applications"`
	}
	if code := b.do(http.MethodGet, "/v1/review/applications", testReviewerKey, nil, &queue); code != http.StatusOK {
		t.Fatalf("review queue: status %d", code)
	}
	if len(queue.Applications) != 1 || queue.Applications[0].ID != created.ID {
		t.Fatalf("review queue = %+v, want the one application", queue.Applications)
	}

	var decided struct {
		Status string `json:"status"`
	}
	code := b.do(http.MethodPost, "/v1/review/applications/"+created.ID+"/decision", testReviewerKey,
		map[string]any{"decision": "approve"}, &decided)
	if code != http.StatusOK || decided.Status != "approved" {
		t.Fatalf("approve: status %d, application %q", code, decided.Status)
	}

	for _, status := range []string{"submitted", "awaiting_review", "approved"} {
		if n := testutil.ToFloat64(b.in.metrics.Transitions.WithLabelValues(status)); n != 1 {
			t.Errorf("transitions metric for %s = %v, want 1", status, n)
		}
	}

	var ident struct {
		Verified     bool   `json:"verified"`
		SubjectType  string `json:"subject_type"`
		NumberMasked string `json:"number_masked"`
		Entitlements struct {
			Resources   []string `json:"resources"`
			VATInvoices bool     `json:"vat_invoices"`
		} `json:"entitlements"`
	}
	if code := b.do(http.MethodGet, "/v1/accounts/acct-e2e/identity", testIntakeKey, nil, &ident); code != http.StatusOK {
		t.Fatalf("identity: status %d", code)
	}
	if !ident.Verified || ident.SubjectType != "individual" {
		t.Errorf("identity = %+v, want a verified individual", ident)
	}
	if strings.Contains(ident.NumberMasked, "898902") {
		t.Errorf("number_masked %q shows the number", ident.NumberMasked)
	}
	if ident.Entitlements.VATInvoices || len(ident.Entitlements.Resources) != 1 || ident.Entitlements.Resources[0] != "individual" {
		t.Errorf("entitlements = %+v, want individual resources and no VAT invoices", ident.Entitlements)
	}

	// Received and approved each reach the console, email and SMS.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mails, err := b.mailbox.Wait(ctx, 2)
	if err != nil {
		t.Fatalf("waiting for 2 emails: %v", err)
	}
	var approvedMail bool
	for _, m := range mails {
		if len(m.To) != 1 || m.To[0] != "acct-e2e@example.com" {
			t.Errorf("email to %v, want acct-e2e@example.com", m.To)
		}
		if strings.Contains(strings.ToLower(m.Subject), "approved") {
			approvedMail = true
		}
	}
	if !approvedMail {
		t.Errorf("no email with 'approved' in the subject among %d", len(mails))
	}

	for i := 0; i < 2; i++ {
		select {
		case req := <-b.sms.received:
			if req.To != "+85291234567" {
				t.Errorf("SMS to %q, want +85291234567", req.To)
			}
		case <-ctx.Done():
			t.Fatalf("SMS %d of 2 not received", i+1)
		}
	}

	var inbox struct {
		Messages []struct {
			ID      int64  `json:"id"`
			Event   string `json:"event"`
			Subject string `json:"subject"`
		} `json:"messages"`
		UnreadCount int `json:"unread_count"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b.do(http.MethodGet, "/v1/accounts/acct-e2e/messages", testIntakeKey, nil, &inbox)
		if len(inbox.Messages) >= 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(inbox.Messages) != 2 || inbox.Messages[0].Event != "approved" || inbox.Messages[1].Event != "received" {
		t.Fatalf("message center = %+v, want approved then received", inbox.Messages)
	}
	if inbox.UnreadCount != 2 {
		t.Errorf("unread_count = %d, want 2", inbox.UnreadCount)
	}
	if code := b.do(http.MethodPost, "/v1/accounts/acct-e2e/messages/"+itoa(inbox.Messages[0].ID)+"/read", testIntakeKey, nil, nil); code != http.StatusOK {
		t.Fatalf("mark read: status %d", code)
	}
	b.do(http.MethodGet, "/v1/accounts/acct-e2e/messages?unread=true", testIntakeKey, nil, &inbox)
	if inbox.UnreadCount != 1 || len(inbox.Messages) != 1 {
		t.Errorf("after mark read: unread_count %d, %d unread messages; want 1 and 1", inbox.UnreadCount, len(inbox.Messages))
	}
}

func TestInvalidApplicationRejected(t *testing.T) {
	b := setup(t)
	b.putAccount("acct-bad")

	gif := []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
	f := form{fields: map[string]string{
		"subject_type": "individual", "region": "HK", "document_type": "national_id", "issuing_country": "HK",
		"full_name": "Chan Tai Man", "address": "1 Queen's Road Central, Hong Kong",
		"document_number": "A123456(4)", "consent": "true",
	}, photo: gif, photoName: "id-card.jpg"}
	var created struct {
		ID string `json:"id"`
	}
	if code := b.submit("acct-bad", f, &created); code != http.StatusAccepted {
		t.Fatalf("submit: status %d, want 202 (content rules run in the worker)", code)
	}

	v := b.waitStatus("acct-bad", created.ID, "rejected")
	if v.Rejection == nil {
		t.Fatal("rejected application has no rejection")
	}
	got := map[string]bool{}
	for _, fc := range v.Rejection.FailedChecks {
		got[fc.Field+":"+fc.Code] = true
	}
	for _, want := range []string{"document_number:hkid_check_digit", "photo:photo_unsupported_format"} {
		if !got[want] {
			t.Errorf("failed checks %v do not include %s", got, want)
		}
	}
	if !v.Rejection.ResubmitAllowed {
		t.Error("automatic rejection does not allow a resubmission")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
