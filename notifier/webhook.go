package notifier

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook header names. Only Idverify-Signature is authenticated: the other
// headers are unsigned copies for logging and routing, so a receiver takes
// the event id from the verified body.
const (
	HeaderWebhookSignature = "Idverify-Signature"
	HeaderWebhookEventID   = "Idverify-Event-Id"
	HeaderWebhookAttempt   = "Idverify-Attempt"
)

// WebhookTypeStatusChanged is the type of the event sent when an
// application's status changes.
const WebhookTypeStatusChanged = "application.status_changed"

// DefaultWebhookTolerance is the tolerance VerifyWebhook applies when it is
// given none: how far the signature timestamp may lie from the receiver's
// clock, in either direction.
const DefaultWebhookTolerance = 5 * time.Minute

const defaultWebhookTimeout = 10 * time.Second

// Errors returned by VerifyWebhook.
var (
	// ErrInvalidSignature means the Idverify-Signature header is missing or
	// malformed, or none of its v1 values matches the body.
	ErrInvalidSignature = errors.New("invalid webhook signature")
	// ErrTimestampOutsideTolerance means the signature is valid but its
	// timestamp lies further from the receiver's clock than the tolerance,
	// as in a replayed request.
	ErrTimestampOutsideTolerance = errors.New("webhook timestamp outside tolerance")
)

// WebhookConfig configures a Webhook.
type WebhookConfig struct {
	// URL is the caller's endpoint, with scheme http or https. Required.
	URL string
	// Secret is the HMAC-SHA256 key shared with the caller. Required.
	Secret string
	// Timeout bounds one delivery attempt, from connecting to reading the
	// response. Default 10s.
	Timeout time.Duration
}

// WebhookEvent is the body of one webhook delivery.
type WebhookEvent struct {
	// ID is unique per event and the same on every delivery attempt, so the
	// receiver can drop duplicates. Required, printable ASCII.
	ID string `json:"id"`
	// Type is the event type. Default WebhookTypeStatusChanged.
	Type string `json:"type"`
	// ApplicationID is the verification application. Required.
	ApplicationID string `json:"application_id"`
	// AccountID is the account the application belongs to.
	AccountID string `json:"account_id"`
	// Status is the application's new status, such as "approved". Required.
	Status string `json:"status"`
	// Kind is "initial" or "change".
	Kind string `json:"kind"`
	// OccurredAt is when the status changed, sent in UTC. Required.
	OccurredAt time.Time `json:"occurred_at"`
}

// Webhook delivers events to one caller's endpoint. It is safe for
// concurrent use.
//
// Each delivery is a POST of the event as JSON with the header
// Idverify-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">,
// plus Idverify-Event-Id and Idverify-Attempt. VerifyWebhook checks it on the
// receiving side.
type Webhook struct {
	cfg    WebhookConfig
	client *http.Client
}

// NewWebhook checks cfg, fills in its defaults and returns a sender. A nil
// client means a new http.Client with default settings. It returns an error
// naming the first invalid field.
func NewWebhook(cfg WebhookConfig, client *http.Client) (*Webhook, error) {
	if err := checkEndpoint(cfg.URL); err != nil {
		return nil, fmt.Errorf("webhook config: url: %w", err)
	}
	if cfg.Secret == "" {
		return nil, errors.New("webhook config: secret is missing")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("webhook config: timeout %s is negative", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultWebhookTimeout
	}
	if client == nil {
		client = &http.Client{}
	}
	return &Webhook{cfg: cfg, client: client}, nil
}

// Send delivers ev as delivery attempt number attempt (1 for the first) and
// returns nil once the endpoint responds with a 2xx status. Every attempt is
// signed afresh with the current time.
//
// An invalid ev or an attempt below 1 fails with ErrPermanent before any
// request. A 4xx response other than 408 and 429 wraps ErrPermanent. A 5xx,
// 408 or 429 response, a network error or a timeout returns a plain,
// temporary error.
func (w *Webhook) Send(ctx context.Context, ev WebhookEvent, attempt int) error {
	if err := checkWebhookEvent(ev, attempt); err != nil {
		return err
	}
	if ev.Type == "" {
		ev.Type = WebhookTypeStatusChanged
	}
	ev.OccurredAt = ev.OccurredAt.UTC()

	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("send webhook %s: encode event: %w", ev.ID, err)
	}

	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("send webhook %s: build request: %w", ev.ID, err)
	}
	timestamp := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderWebhookSignature, "t="+timestamp+",v1="+SignPayload(w.cfg.Secret, timestamp, body))
	req.Header.Set(HeaderWebhookEventID, ev.ID)
	req.Header.Set(HeaderWebhookAttempt, strconv.Itoa(attempt))

	resp, err := w.client.Do(req)
	if err != nil {
		return requestError(ctx, "send webhook "+ev.ID, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))

	return classifyHTTPStatus("send webhook "+ev.ID, resp.StatusCode)
}

func checkWebhookEvent(ev WebhookEvent, attempt int) error {
	switch {
	case ev.ID == "":
		return permanentf("send webhook: field id is missing")
	case !isPrintableASCII(ev.ID):
		return permanentf("send webhook: field id has a character outside printable ASCII")
	case ev.ApplicationID == "":
		return permanentf("send webhook %s: field application_id is missing", ev.ID)
	case ev.Status == "":
		return permanentf("send webhook %s: field status is missing", ev.ID)
	case ev.OccurredAt.IsZero():
		return permanentf("send webhook %s: field occurred_at is missing", ev.ID)
	case attempt < 1:
		return permanentf("send webhook %s: attempt %d is below 1", ev.ID, attempt)
	}
	return nil
}

// VerifyWebhook checks a received delivery: the Idverify-Signature header in
// header must hold a v1 signature of body under secret, and its timestamp t
// must lie within tolerance of now, in either direction. A tolerance of zero
// or less means DefaultWebhookTolerance.
//
// The header may hold several v1 values, and one match is enough. Keys other
// than t and v1 are ignored, so newer signature schemes can be added beside
// v1. It returns an error wrapping ErrInvalidSignature or
// ErrTimestampOutsideTolerance, and nil when the delivery is authentic.
//
// VerifyWebhook does not detect a replay within the tolerance window: the
// receiver also remembers the ids of the events it processed, for longer than
// the tolerance, and drops a repeated id. The id to remember is the one in
// the verified body, because the Idverify-Event-Id header is not signed.
func VerifyWebhook(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultWebhookTolerance
	}
	value := header.Get(HeaderWebhookSignature)
	if value == "" {
		return fmt.Errorf("verify webhook: header %s is missing: %w", HeaderWebhookSignature, ErrInvalidSignature)
	}

	timestamp, signatures, err := parseSignatureHeader(value)
	if err != nil {
		return fmt.Errorf("verify webhook: %w: %w", err, ErrInvalidSignature)
	}
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("verify webhook: timestamp is not a Unix time in seconds: %w", ErrInvalidSignature)
	}

	expected := payloadMAC(secret, timestamp, body)
	matched := false
	for _, s := range signatures {
		got, err := hex.DecodeString(s)
		if err == nil && hmac.Equal(got, expected) {
			matched = true
		}
	}
	if !matched {
		return fmt.Errorf("verify webhook: no v1 signature matches the body: %w", ErrInvalidSignature)
	}

	age := now.Sub(time.Unix(seconds, 0))
	if age > tolerance || age < -tolerance {
		return fmt.Errorf("verify webhook: signed %s away from now, tolerance is %s: %w",
			age.Truncate(time.Second), tolerance, ErrTimestampOutsideTolerance)
	}
	return nil
}

// parseSignatureHeader splits "t=<unix>,v1=<hex>[,v1=<hex>...]" into the
// timestamp and the v1 values.
func parseSignatureHeader(value string) (timestamp string, signatures []string, err error) {
	for _, item := range strings.Split(value, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return "", nil, errors.New("signature header item has no \"=\"")
		}
		switch key {
		case "t":
			if timestamp != "" {
				return "", nil, errors.New("signature header has more than one timestamp")
			}
			timestamp = val
		case "v1":
			signatures = append(signatures, val)
		}
	}
	if timestamp == "" {
		return "", nil, errors.New("signature header has no timestamp")
	}
	if len(signatures) == 0 {
		return "", nil, errors.New("signature header has no v1 signature")
	}
	return timestamp, signatures, nil
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
