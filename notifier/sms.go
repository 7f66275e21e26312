package notifier

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// SMSSender sends one text message. Both SMSGateway and DevSMS implement it.
//
// Send returns an error wrapping ErrPermanent when a retry cannot help (an
// invalid message, or the gateway rejected it with a 4xx status other than
// 408 and 429). Any other error is temporary. Sending the same SMS twice is
// safe when the receiving side de-duplicates by IdempotencyKey.
type SMSSender interface {
	Send(ctx context.Context, m SMS) error
}

// SMS is one text message.
type SMS struct {
	// To is the recipient's phone number in E.164 form, such as +85291234567.
	To string
	// Text is the message body. Segments returns its encoding and length.
	Text string
	// IdempotencyKey is the same on every attempt to send one notification, so
	// the gateway sends it only once. Required, at most 255 printable ASCII
	// characters.
	IdempotencyKey string
}

// SMSConfig configures an SMSGateway.
type SMSConfig struct {
	// URL is the gateway endpoint that accepts the signed POST request, with
	// scheme http or https. Required.
	URL string
	// KeyID names the signing key and is sent in the X-Key-Id header. Required.
	KeyID string
	// Secret is the HMAC-SHA256 key that signs each request. Required.
	Secret string
	// Sender is the "from" value: a sender id or number the gateway allows.
	// Required.
	Sender string
	// MaxSegments is the maximum number of segments of one message. A longer
	// text is rejected before sending. Default 3.
	MaxSegments int
	// Timeout bounds one request, from connecting to reading the response.
	// Default 10s.
	Timeout time.Duration
}

const (
	defaultMaxSegments = 3
	defaultSMSTimeout  = 10 * time.Second
	maxIdempotencyKey  = 255
	// maxDrainBytes is how much of a response body is read and discarded, so
	// that the connection can be reused.
	maxDrainBytes = 64 << 10
)

// SMSGateway sends text messages through an HTTP gateway. It is safe for
// concurrent use.
//
// Each message is one POST of a JSON object {"to", "from", "text",
// "encoding", "segments", "idempotency_key"} with these headers:
//
//	Idempotency-Key        the message's IdempotencyKey
//	X-Key-Id               SMSConfig.KeyID
//	X-Signature-Timestamp  Unix time in seconds
//	X-Signature            hex HMAC-SHA256 of "<timestamp>.<body>" keyed with SMSConfig.Secret
type SMSGateway struct {
	cfg    SMSConfig
	client *http.Client
}

var _ SMSSender = (*SMSGateway)(nil)

// NewSMSGateway checks cfg, fills in its defaults and returns a gateway
// client. A nil client means a new http.Client with default settings.
// It returns an error naming the first invalid field.
func NewSMSGateway(cfg SMSConfig, client *http.Client) (*SMSGateway, error) {
	if err := checkEndpoint(cfg.URL); err != nil {
		return nil, fmt.Errorf("sms config: url: %w", err)
	}
	if cfg.KeyID == "" {
		return nil, errors.New("sms config: key id is missing")
	}
	if cfg.Secret == "" {
		return nil, errors.New("sms config: secret is missing")
	}
	if cfg.Sender == "" {
		return nil, errors.New("sms config: sender is missing")
	}
	if cfg.MaxSegments < 0 {
		return nil, fmt.Errorf("sms config: max segments %d is negative", cfg.MaxSegments)
	}
	if cfg.MaxSegments == 0 {
		cfg.MaxSegments = defaultMaxSegments
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("sms config: timeout %s is negative", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultSMSTimeout
	}
	if client == nil {
		client = &http.Client{}
	}
	return &SMSGateway{cfg: cfg, client: client}, nil
}

// smsRequest is the JSON body of a gateway request.
type smsRequest struct {
	To             string `json:"to"`
	From           string `json:"from"`
	Text           string `json:"text"`
	Encoding       string `json:"encoding"`
	Segments       int    `json:"segments"`
	IdempotencyKey string `json:"idempotency_key"`
}

// Send posts m to the gateway and returns nil once the gateway responds with
// a 2xx status.
//
// An invalid m (a To that is not E.164, empty text, a missing idempotency key,
// a text longer than MaxSegments segments) fails with ErrPermanent before any
// request. A 4xx response other than 408 and 429 wraps ErrPermanent. A 5xx,
// 408 or 429 response, a network error or a timeout returns a plain,
// temporary error. Errors never contain the phone number or the text.
func (g *SMSGateway) Send(ctx context.Context, m SMS) error {
	encoding, segments, err := checkSMS(m, g.cfg.MaxSegments)
	if err != nil {
		return err
	}

	body, err := json.Marshal(smsRequest{
		To:             m.To,
		From:           g.cfg.Sender,
		Text:           m.Text,
		Encoding:       encoding,
		Segments:       segments,
		IdempotencyKey: m.IdempotencyKey,
	})
	if err != nil {
		return fmt.Errorf("send sms: encode request: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("send sms: build request: %w", err)
	}
	timestamp := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.IdempotencyKey)
	req.Header.Set("X-Key-Id", g.cfg.KeyID)
	req.Header.Set("X-Signature-Timestamp", timestamp)
	req.Header.Set("X-Signature", SignPayload(g.cfg.Secret, timestamp, body))

	resp, err := g.client.Do(req)
	if err != nil {
		return requestError(ctx, "send sms", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))

	return classifyHTTPStatus("send sms", resp.StatusCode)
}

// SignPayload returns the hex HMAC-SHA256 of "<timestamp>.<body>" keyed with
// secret. The SMS gateway's X-Signature header and the v1 value of the
// Idverify-Signature webhook header are computed this way.
func SignPayload(secret, timestamp string, body []byte) string {
	return hex.EncodeToString(payloadMAC(secret, timestamp, body))
}

func payloadMAC(secret, timestamp string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// e164Pattern matches a "+" and 7 to 15 digits without a leading zero.
// E.164 allows at most 15 digits, country code included.
var e164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// checkSMS validates m and returns the encoding and segment count of its text.
// Every error wraps ErrPermanent and names the field, never its value.
func checkSMS(m SMS, maxSegments int) (encoding string, segments int, err error) {
	if !e164Pattern.MatchString(m.To) {
		return "", 0, permanentf("send sms: field to is not an E.164 phone number")
	}
	if m.Text == "" {
		return "", 0, permanentf("send sms: field text is empty")
	}
	if !utf8.ValidString(m.Text) {
		return "", 0, permanentf("send sms: field text is not valid UTF-8")
	}
	if err := checkIdempotencyKey(m.IdempotencyKey); err != nil {
		return "", 0, err
	}

	encoding, segments = Segments(m.Text)
	if segments > maxSegments {
		return "", 0, permanentf("send sms: text needs %d %s segments, more than the maximum of %d",
			segments, encoding, maxSegments)
	}
	return encoding, segments, nil
}

func checkIdempotencyKey(key string) error {
	if key == "" {
		return permanentf("send sms: field idempotency_key is missing")
	}
	if len(key) > maxIdempotencyKey {
		return permanentf("send sms: field idempotency_key is longer than %d bytes", maxIdempotencyKey)
	}
	if !isPrintableASCII(key) {
		return permanentf("send sms: field idempotency_key has a character outside printable ASCII")
	}
	return nil
}

// checkEndpoint returns an error unless raw is an absolute http or https URL.
// The error does not repeat the URL, which may carry a token.
func checkEndpoint(raw string) error {
	if raw == "" {
		return errors.New("is missing")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	return nil
}
