package notifier_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/notifier"
)

const (
	smsKeyID    = "key-2025"
	smsSecret   = "gateway-shared-secret"
	samplePhone = "+85291234578"
)

// gatewayRequest is what the test gateway saw of one request.
type gatewayRequest struct {
	Header http.Header
	Body   map[string]any
	Status int
}

// startGateway runs an SMS gateway on 127.0.0.1 that checks each request's
// signature with its own HMAC code and responds with status(n) for the nth
// request (counting from 1) when the signature holds, or 401.
func startGateway(t *testing.T, status func(n int) int) (*httptest.Server, <-chan gatewayRequest) {
	t.Helper()
	requests := make(chan gatewayRequest, 100)
	var count atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(count.Add(1))
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		code := status(n)
		if !validGatewaySignature(r.Header, body) || r.Method != http.MethodPost {
			code = http.StatusUnauthorized
		}
		var fields map[string]any
		if err := json.Unmarshal(body, &fields); err != nil {
			code = http.StatusBadRequest
		}
		requests <- gatewayRequest{Header: r.Header.Clone(), Body: fields, Status: code}
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv, requests
}

func validGatewaySignature(h http.Header, body []byte) bool {
	if h.Get("X-Key-Id") != smsKeyID {
		return false
	}
	ts := h.Get("X-Signature-Timestamp")
	seconds, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(seconds, 0)).Abs() > time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(smsSecret))
	mac.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(h.Get("X-Signature")))
}

func newGatewayClient(t *testing.T, srv *httptest.Server, change func(*notifier.SMSConfig)) *notifier.SMSGateway {
	t.Helper()
	cfg := notifier.SMSConfig{URL: srv.URL + "/v1/messages", KeyID: smsKeyID, Secret: smsSecret, Sender: "idverify"}
	if change != nil {
		change(&cfg)
	}
	g, err := notifier.NewSMSGateway(cfg, srv.Client())
	if err != nil {
		t.Fatalf("NewSMSGateway: %v", err)
	}
	return g
}

func nextRequest(t *testing.T, requests <-chan gatewayRequest) gatewayRequest {
	t.Helper()
	select {
	case r := <-requests:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the gateway received no request within 10s")
		return gatewayRequest{}
	}
}

func TestSMSGatewaySendsSignedRequest(t *testing.T) {
	srv, requests := startGateway(t, func(int) int { return http.StatusAccepted })
	g := newGatewayClient(t, srv, nil)
	m := notifier.SMS{To: samplePhone, Text: "【idverify】您的申请 app-1 已通过审核。", IdempotencyKey: "notification-17"}

	if err := g.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := nextRequest(t, requests)
	if got.Status != http.StatusAccepted {
		t.Fatalf("gateway responded %d, so the signature or body did not verify", got.Status)
	}
	want := map[string]any{
		"to": samplePhone, "from": "idverify", "text": m.Text,
		"encoding": "UCS-2", "segments": float64(1), "idempotency_key": "notification-17",
	}
	if diff := cmp.Diff(want, got.Body); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", diff)
	}
	if got := got.Header.Get("Idempotency-Key"); got != "notification-17" {
		t.Errorf("Idempotency-Key header = %q, want %q", got, "notification-17")
	}
	if got := got.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type header = %q, want application/json", got)
	}
}

func TestSMSGatewayRetriesAfterUnavailable(t *testing.T) {
	const failures = 3
	srv, requests := startGateway(t, func(n int) int {
		if n <= failures {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	g := newGatewayClient(t, srv, nil)
	m := notifier.SMS{To: samplePhone, Text: "idverify: application app-1 was approved.", IdempotencyKey: "notification-18"}

	// The worker's retries, without the backoff between them.
	for attempt := 1; attempt <= failures; attempt++ {
		err := g.Send(context.Background(), m)
		if err == nil {
			t.Fatalf("attempt %d: Send returned no error for a 503", attempt)
		}
		if errors.Is(err, notifier.ErrPermanent) {
			t.Fatalf("attempt %d: Send error %q is permanent, want temporary", attempt, err)
		}
	}
	if err := g.Send(context.Background(), m); err != nil {
		t.Fatalf("attempt %d: Send: %v", failures+1, err)
	}

	for i := range failures + 1 {
		r := nextRequest(t, requests)
		if got := r.Header.Get("Idempotency-Key"); got != "notification-18" {
			t.Errorf("request %d: Idempotency-Key = %q, want the same key on every attempt", i+1, got)
		}
	}
}

func TestSMSGatewayClassifiesStatus(t *testing.T) {
	tests := []struct {
		status        int
		wantPermanent bool
	}{
		{http.StatusBadRequest, true},
		{http.StatusUnprocessableEntity, true},
		{http.StatusForbidden, true},
		{http.StatusNotFound, true},
		{http.StatusRequestTimeout, false},
		{http.StatusTooManyRequests, false},
		{http.StatusInternalServerError, false},
		{http.StatusBadGateway, false},
		{http.StatusServiceUnavailable, false},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			srv, _ := startGateway(t, func(int) int { return tt.status })
			g := newGatewayClient(t, srv, nil)

			err := g.Send(context.Background(), notifier.SMS{To: samplePhone, Text: "hi", IdempotencyKey: "k"})
			if err == nil {
				t.Fatalf("Send returned no error for status %d", tt.status)
			}
			if got := errors.Is(err, notifier.ErrPermanent); got != tt.wantPermanent {
				t.Errorf("Send error %q: permanent = %v, want %v", err, got, tt.wantPermanent)
			}
			if !strings.Contains(err.Error(), strconv.Itoa(tt.status)) {
				t.Errorf("Send error %q does not name the status", err)
			}
		})
	}
}

func TestSMSGatewayTimeoutIsTemporary(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	g := newGatewayClient(t, srv, func(c *notifier.SMSConfig) { c.Timeout = 200 * time.Millisecond })

	err := g.Send(context.Background(), notifier.SMS{To: samplePhone, Text: "hi", IdempotencyKey: "k"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send error = %v, want a deadline error", err)
	}
	if errors.Is(err, notifier.ErrPermanent) {
		t.Errorf("Send error %q is permanent, want temporary", err)
	}
	if strings.Contains(err.Error(), srv.URL) {
		t.Errorf("Send error %q repeats the gateway URL", err)
	}
}

func TestSMSGatewayRejectsInvalidMessage(t *testing.T) {
	srv, requests := startGateway(t, func(int) int { return http.StatusOK })
	g := newGatewayClient(t, srv, nil)
	valid := notifier.SMS{To: samplePhone, Text: "hi", IdempotencyKey: "k"}
	tests := []struct {
		name   string
		change func(*notifier.SMS)
	}{
		{"number without plus", func(m *notifier.SMS) { m.To = "85291234578" }},
		{"number with spaces", func(m *notifier.SMS) { m.To = "+852 9123 4578" }},
		{"number too long", func(m *notifier.SMS) { m.To = "+8529123457812345" }},
		{"number with leading zero", func(m *notifier.SMS) { m.To = "+085291234578" }},
		{"empty text", func(m *notifier.SMS) { m.Text = "" }},
		{"invalid UTF-8", func(m *notifier.SMS) { m.Text = "\xff" }},
		{"missing idempotency key", func(m *notifier.SMS) { m.IdempotencyKey = "" }},
		{"idempotency key with newline", func(m *notifier.SMS) { m.IdempotencyKey = "a\nb" }},
		{"four GSM-7 segments", func(m *notifier.SMS) { m.Text = strings.Repeat("a", 3*153+1) }},
		{"four UCS-2 segments", func(m *notifier.SMS) { m.Text = strings.Repeat("中", 3*67+1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid
			tt.change(&m)

			err := g.Send(context.Background(), m)
			if !errors.Is(err, notifier.ErrPermanent) {
				t.Fatalf("Send error = %v, want one wrapping ErrPermanent", err)
			}
			if strings.Contains(err.Error(), "9123") {
				t.Errorf("Send error %q repeats the phone number", err)
			}
		})
	}
	select {
	case r := <-requests:
		t.Errorf("the gateway received a request for an invalid message: %v", r.Body)
	default:
	}
}

func TestSMSGatewayMaxSegments(t *testing.T) {
	srv, _ := startGateway(t, func(int) int { return http.StatusOK })
	g := newGatewayClient(t, srv, func(c *notifier.SMSConfig) { c.MaxSegments = 1 })
	msg := func(text string) notifier.SMS { return notifier.SMS{To: samplePhone, Text: text, IdempotencyKey: "k"} }

	if err := g.Send(context.Background(), msg(strings.Repeat("a", 160))); err != nil {
		t.Errorf("Send of 1 segment: %v", err)
	}
	if err := g.Send(context.Background(), msg(strings.Repeat("a", 161))); !errors.Is(err, notifier.ErrPermanent) {
		t.Errorf("Send of 2 segments with MaxSegments 1: error = %v, want ErrPermanent", err)
	}
}

func TestNewSMSGatewayRejectsInvalidConfig(t *testing.T) {
	valid := notifier.SMSConfig{URL: "https://sms.example.com/v1/messages", KeyID: "k", Secret: "s", Sender: "idverify"}
	tests := []struct {
		name   string
		change func(*notifier.SMSConfig)
	}{
		{"missing url", func(c *notifier.SMSConfig) { c.URL = "" }},
		{"relative url", func(c *notifier.SMSConfig) { c.URL = "/v1/messages" }},
		{"ftp url", func(c *notifier.SMSConfig) { c.URL = "ftp://sms.example.com/" }},
		{"missing key id", func(c *notifier.SMSConfig) { c.KeyID = "" }},
		{"missing secret", func(c *notifier.SMSConfig) { c.Secret = "" }},
		{"missing sender", func(c *notifier.SMSConfig) { c.Sender = "" }},
		{"negative max segments", func(c *notifier.SMSConfig) { c.MaxSegments = -1 }},
		{"negative timeout", func(c *notifier.SMSConfig) { c.Timeout = -time.Second }},
	}
	if _, err := notifier.NewSMSGateway(valid, nil); err != nil {
		t.Fatalf("NewSMSGateway(valid config): %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.change(&cfg)
			if _, err := notifier.NewSMSGateway(cfg, nil); err == nil {
				t.Error("NewSMSGateway returned no error")
			}
		})
	}
}
