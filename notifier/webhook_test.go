package notifier_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/notifier"
)

const webhookSecret = "whsec-test-7f3a"

// webhookOutcome is what the test receiver did with one delivery.
type webhookOutcome struct {
	Header    http.Header
	Body      []byte
	Event     notifier.WebhookEvent
	Err       error // the VerifyWebhook error of a rejected delivery
	Duplicate bool  // verified, but the event id was already processed
}

// webhookReceiver is a caller's endpoint written the way WEBHOOKS.md
// describes: verify the signature within a tolerance, then drop event ids it
// has already processed. Its clock is the real one shifted by skew.
type webhookReceiver struct {
	skew     atomic.Int64 // nanoseconds added to time.Now
	status   func(n int) int
	count    atomic.Int64
	mu       sync.Mutex
	seen     map[string]bool
	outcomes chan webhookOutcome
}

func startWebhookReceiver(t *testing.T, status func(n int) int) (*webhookReceiver, *httptest.Server) {
	t.Helper()
	rcv := &webhookReceiver{status: status, seen: make(map[string]bool), outcomes: make(chan webhookOutcome, 100)}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	return rcv, srv
}

func (rcv *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(rcv.count.Add(1))
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	out := webhookOutcome{Header: r.Header.Clone(), Body: body}
	now := time.Now().Add(time.Duration(rcv.skew.Load()))
	if err := notifier.VerifyWebhook(webhookSecret, r.Header, body, now, 5*time.Minute); err != nil {
		out.Err = err
		rcv.outcomes <- out
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	if err := json.Unmarshal(body, &out.Event); err != nil {
		out.Err = err
		rcv.outcomes <- out
		http.Error(w, "invalid JSON", http.StatusBadRequest)
		return
	}
	if rcv.status != nil {
		if code := rcv.status(n); code != http.StatusOK {
			rcv.outcomes <- out
			w.WriteHeader(code)
			return
		}
	}

	rcv.mu.Lock()
	out.Duplicate = rcv.seen[out.Event.ID]
	rcv.seen[out.Event.ID] = true
	rcv.mu.Unlock()
	rcv.outcomes <- out
	w.WriteHeader(http.StatusNoContent)
}

func (rcv *webhookReceiver) next(t *testing.T) webhookOutcome {
	t.Helper()
	select {
	case out := <-rcv.outcomes:
		return out
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver got no delivery within 10s")
		return webhookOutcome{}
	}
}

func newTestWebhook(t *testing.T, srv *httptest.Server) *notifier.Webhook {
	t.Helper()
	w, err := notifier.NewWebhook(notifier.WebhookConfig{URL: srv.URL + "/hooks/idverify", Secret: webhookSecret}, srv.Client())
	if err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}
	return w
}

func sampleWebhookEvent() notifier.WebhookEvent {
	return notifier.WebhookEvent{
		ID:            "evt-0001",
		ApplicationID: "app-1",
		AccountID:     "acct-9",
		Status:        "approved",
		Kind:          "initial",
		OccurredAt:    time.Date(2025, time.March, 12, 17, 30, 0, 0, time.FixedZone("HKT", 8*3600)),
	}
}

func TestWebhookDeliversSignedEvent(t *testing.T) {
	rcv, srv := startWebhookReceiver(t, nil)
	w := newTestWebhook(t, srv)

	if err := w.Send(context.Background(), sampleWebhookEvent(), 1); err != nil {
		t.Fatalf("Send: %v", err)
	}

	out := rcv.next(t)
	if out.Err != nil {
		t.Fatalf("receiver rejected the delivery: %v", out.Err)
	}
	var body map[string]any
	if err := json.Unmarshal(out.Body, &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	want := map[string]any{
		"id": "evt-0001", "type": "application.status_changed", "application_id": "app-1",
		"account_id": "acct-9", "status": "approved", "kind": "initial", "occurred_at": "2025-03-12T09:30:00Z",
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
	headers := map[string]string{
		"Idverify-Event-Id": out.Header.Get("Idverify-Event-Id"),
		"Idverify-Attempt":  out.Header.Get("Idverify-Attempt"),
		"Content-Type":      out.Header.Get("Content-Type"),
	}
	wantHeaders := map[string]string{
		"Idverify-Event-Id": "evt-0001", "Idverify-Attempt": "1", "Content-Type": "application/json",
	}
	if diff := cmp.Diff(wantHeaders, headers); diff != "" {
		t.Errorf("headers mismatch (-want +got):\n%s", diff)
	}
}

func TestWebhookRetriesCarryAttemptAndEventID(t *testing.T) {
	rcv, srv := startWebhookReceiver(t, func(n int) int {
		if n < 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	w := newTestWebhook(t, srv)
	ev := sampleWebhookEvent()

	for attempt := 1; attempt <= 3; attempt++ {
		err := w.Send(context.Background(), ev, attempt)
		switch {
		case attempt < 3 && (err == nil || errors.Is(err, notifier.ErrPermanent)):
			t.Fatalf("attempt %d: Send error = %v, want a temporary error", attempt, err)
		case attempt == 3 && err != nil:
			t.Fatalf("attempt 3: Send: %v", err)
		}
		out := rcv.next(t)
		if got := out.Header.Get("Idverify-Attempt"); got != strconv.Itoa(attempt) {
			t.Errorf("attempt %d: Idverify-Attempt = %q", attempt, got)
		}
		if out.Event.ID != ev.ID {
			t.Errorf("attempt %d: event id = %q, want %q", attempt, out.Event.ID, ev.ID)
		}
	}
}

func TestWebhookReceiverRejectsReplayAndTampering(t *testing.T) {
	rcv, srv := startWebhookReceiver(t, nil)
	w := newTestWebhook(t, srv)
	if err := w.Send(context.Background(), sampleWebhookEvent(), 1); err != nil {
		t.Fatalf("Send: %v", err)
	}
	original := rcv.next(t)
	if original.Err != nil || original.Duplicate {
		t.Fatalf("first delivery: err = %v, duplicate = %v", original.Err, original.Duplicate)
	}

	// resend posts a captured delivery again, as an attacker would.
	resend := func(body []byte) int {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/hooks/idverify", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = original.Header.Clone()
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("replay within tolerance is a duplicate", func(t *testing.T) {
		if status := resend(original.Body); status != http.StatusNoContent {
			t.Errorf("status = %d, want 204", status)
		}
		if out := rcv.next(t); !out.Duplicate {
			t.Errorf("replayed event was processed again")
		}
	})
	t.Run("replay outside tolerance", func(t *testing.T) {
		rcv.skew.Store(int64(6 * time.Minute))
		defer rcv.skew.Store(0)
		if status := resend(original.Body); status != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", status)
		}
		if out := rcv.next(t); !errors.Is(out.Err, notifier.ErrTimestampOutsideTolerance) {
			t.Errorf("VerifyWebhook error = %v, want ErrTimestampOutsideTolerance", out.Err)
		}
	})
	t.Run("tampered body", func(t *testing.T) {
		tampered := bytes.Replace(original.Body, []byte(`"approved"`), []byte(`"rejected"`), 1)
		if bytes.Equal(tampered, original.Body) {
			t.Fatal("the body has no status to tamper with")
		}
		if status := resend(tampered); status != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", status)
		}
		if out := rcv.next(t); !errors.Is(out.Err, notifier.ErrInvalidSignature) {
			t.Errorf("VerifyWebhook error = %v, want ErrInvalidSignature", out.Err)
		}
	})
}

func TestVerifyWebhook(t *testing.T) {
	now := time.Unix(1_741_771_800, 0)
	body := []byte(`{"id":"evt-1","status":"approved"}`)
	sign := func(at time.Time, secret string, b []byte) string {
		ts := strconv.FormatInt(at.Unix(), 10)
		return "t=" + ts + ",v1=" + notifier.SignPayload(secret, ts, b)
	}
	valid := sign(now, webhookSecret, body)
	ts := strconv.FormatInt(now.Unix(), 10)

	tests := []struct {
		name      string
		header    string
		body      []byte
		tolerance time.Duration
		want      error
	}{
		{"valid", valid, body, time.Minute, nil},
		{"valid with spaces", strings.ReplaceAll(valid, ",", ", "), body, time.Minute, nil},
		{"rotated secrets, second matches", sign(now, "old-secret", body) + ",v1=" + notifier.SignPayload(webhookSecret, ts, body), body, time.Minute, nil},
		{"unknown scheme ignored", valid + ",v2=abc", body, time.Minute, nil},
		{"4 minutes old with default tolerance", sign(now.Add(-4*time.Minute), webhookSecret, body), body, 0, nil},
		{"6 minutes old with default tolerance", sign(now.Add(-6*time.Minute), webhookSecret, body), body, 0, notifier.ErrTimestampOutsideTolerance},
		{"2 minutes old with 1 minute tolerance", sign(now.Add(-2*time.Minute), webhookSecret, body), body, time.Minute, notifier.ErrTimestampOutsideTolerance},
		{"2 minutes in the future", sign(now.Add(2*time.Minute), webhookSecret, body), body, time.Minute, notifier.ErrTimestampOutsideTolerance},
		{"wrong secret", sign(now, "other-secret", body), body, time.Minute, notifier.ErrInvalidSignature},
		{"tampered body", valid, []byte(`{"id":"evt-1","status":"rejected"}`), time.Minute, notifier.ErrInvalidSignature},
		{"timestamp changed", strings.Replace(valid, "t="+ts, "t="+strconv.FormatInt(now.Unix()+1, 10), 1), body, time.Minute, notifier.ErrInvalidSignature},
		{"missing header", "", body, time.Minute, notifier.ErrInvalidSignature},
		{"no timestamp", "v1=" + notifier.SignPayload(webhookSecret, ts, body), body, time.Minute, notifier.ErrInvalidSignature},
		{"no signature", "t=" + ts, body, time.Minute, notifier.ErrInvalidSignature},
		{"timestamp not a number", "t=abc,v1=00", body, time.Minute, notifier.ErrInvalidSignature},
		{"two timestamps", "t=" + ts + "," + valid, body, time.Minute, notifier.ErrInvalidSignature},
		{"signature not hex", "t=" + ts + ",v1=zz", body, time.Minute, notifier.ErrInvalidSignature},
		{"garbage", "garbage", body, time.Minute, notifier.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("Idverify-Signature", tt.header)
			}
			err := notifier.VerifyWebhook(webhookSecret, h, tt.body, now, tt.tolerance)
			if tt.want == nil && err != nil {
				t.Errorf("VerifyWebhook: %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("VerifyWebhook error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestWebhookClassifiesStatus(t *testing.T) {
	tests := []struct {
		status        int
		wantPermanent bool
	}{
		{http.StatusBadRequest, true},
		{http.StatusGone, true},
		{http.StatusUnauthorized, true},
		{http.StatusRequestTimeout, false},
		{http.StatusTooManyRequests, false},
		{http.StatusInternalServerError, false},
		{http.StatusServiceUnavailable, false},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			_, srv := startWebhookReceiver(t, func(int) int { return tt.status })
			w := newTestWebhook(t, srv)

			err := w.Send(context.Background(), sampleWebhookEvent(), 1)
			if err == nil {
				t.Fatalf("Send returned no error for status %d", tt.status)
			}
			if got := errors.Is(err, notifier.ErrPermanent); got != tt.wantPermanent {
				t.Errorf("Send error %q: permanent = %v, want %v", err, got, tt.wantPermanent)
			}
		})
	}
}

func TestWebhookTimeoutIsTemporary(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	w, err := notifier.NewWebhook(notifier.WebhookConfig{URL: srv.URL + "/?token=abc", Secret: "s", Timeout: 200 * time.Millisecond}, srv.Client())
	if err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}

	err = w.Send(context.Background(), sampleWebhookEvent(), 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send error = %v, want a deadline error", err)
	}
	if errors.Is(err, notifier.ErrPermanent) {
		t.Errorf("Send error %q is permanent, want temporary", err)
	}
	if strings.Contains(err.Error(), "token=abc") {
		t.Errorf("Send error %q repeats the URL with its token", err)
	}
}

func TestWebhookRejectsInvalidEvent(t *testing.T) {
	rcv, srv := startWebhookReceiver(t, nil)
	w := newTestWebhook(t, srv)
	tests := []struct {
		name    string
		change  func(*notifier.WebhookEvent)
		attempt int
	}{
		{"missing id", func(e *notifier.WebhookEvent) { e.ID = "" }, 1},
		{"id with newline", func(e *notifier.WebhookEvent) { e.ID = "evt\n1" }, 1},
		{"missing application id", func(e *notifier.WebhookEvent) { e.ApplicationID = "" }, 1},
		{"missing status", func(e *notifier.WebhookEvent) { e.Status = "" }, 1},
		{"missing time", func(e *notifier.WebhookEvent) { e.OccurredAt = time.Time{} }, 1},
		{"attempt 0", func(*notifier.WebhookEvent) {}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := sampleWebhookEvent()
			tt.change(&ev)
			if err := w.Send(context.Background(), ev, tt.attempt); !errors.Is(err, notifier.ErrPermanent) {
				t.Errorf("Send error = %v, want one wrapping ErrPermanent", err)
			}
		})
	}
	select {
	case out := <-rcv.outcomes:
		t.Errorf("the receiver got a delivery for an invalid event: %s", out.Body)
	default:
	}
}

func TestNewWebhookRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  notifier.WebhookConfig
	}{
		{"missing url", notifier.WebhookConfig{Secret: "s"}},
		{"url without host", notifier.WebhookConfig{URL: "https:///hooks", Secret: "s"}},
		{"mailto url", notifier.WebhookConfig{URL: "mailto:a@example.com", Secret: "s"}},
		{"missing secret", notifier.WebhookConfig{URL: "https://example.com/hooks"}},
		{"negative timeout", notifier.WebhookConfig{URL: "https://example.com/hooks", Secret: "s", Timeout: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := notifier.NewWebhook(tt.cfg, nil); err == nil {
				t.Error("NewWebhook returned no error")
			}
		})
	}
}
