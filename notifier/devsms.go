package notifier

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// devSMSCapacity is how many messages DevSMS keeps.
const devSMSCapacity = 200

// DevSMS is the SMS sender of the embedded development setup. It sends
// nothing: it logs each message with the phone number masked and keeps the
// last 200 in memory for the dev outbox page. It is safe for concurrent use.
//
// The log line contains the text, because templates keep personal data out of
// SMS texts.
type DevSMS struct {
	logger      *slog.Logger
	maxSegments int

	mu       sync.Mutex
	messages []SMS // oldest first, at most devSMSCapacity
}

var _ SMSSender = (*DevSMS)(nil)

// NewDevSMS returns an empty outbox that logs to logger. A nil logger
// discards the log lines.
func NewDevSMS(logger *slog.Logger) *DevSMS {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &DevSMS{logger: logger, maxSegments: defaultMaxSegments}
}

// Send validates m by the rules of SMSGateway.Send with the default of 3
// segments, then logs and stores it. An invalid m fails with ErrPermanent.
// A message whose IdempotencyKey is still in the outbox is accepted again
// but stored and logged once, as a de-duplicating gateway would do.
func (d *DevSMS) Send(ctx context.Context, m SMS) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	encoding, segments, err := checkSMS(m, d.maxSegments)
	if err != nil {
		return err
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	for _, old := range d.messages {
		if old.IdempotencyKey == m.IdempotencyKey {
			return nil
		}
	}
	if len(d.messages) == devSMSCapacity {
		d.messages = append(d.messages[:0], d.messages[1:]...)
	}
	d.messages = append(d.messages, m)

	d.logger.LogAttrs(ctx, slog.LevelInfo, "sms captured by dev outbox",
		slog.String("channel", "sms"),
		slog.String("to", MaskPhone(m.To)),
		slog.String("idempotency_key", m.IdempotencyKey),
		slog.String("encoding", encoding),
		slog.Int("segments", segments),
		slog.String("text", m.Text))
	return nil
}

// Messages returns a copy of the stored messages, oldest first.
func (d *DevSMS) Messages() []SMS {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]SMS, len(d.messages))
	copy(out, d.messages)
	return out
}

// MaskPhone hides the middle of an E.164 number for logs and pages:
// "+85291234578" becomes "+852****78". It keeps the "+", the first three
// digits and the last two. A number of fewer than seven digits keeps only its
// last two digits, and one of fewer than three keeps nothing.
func MaskPhone(phone string) string {
	digits := []rune(strings.TrimPrefix(phone, "+"))
	n := len(digits)
	switch {
	case n >= 7:
		return "+" + string(digits[:3]) + "****" + string(digits[n-2:])
	case n >= 3:
		return "+****" + string(digits[n-2:])
	default:
		return "+****"
	}
}
