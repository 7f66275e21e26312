package notifier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// ErrPermanent marks a delivery failure that a retry cannot fix: the server
// rejected the recipient or the message for good, or the input is invalid.
// Senders wrap it, so callers test with errors.Is(err, ErrPermanent) and skip
// retries. Every other error a sender returns is temporary and worth a retry
// with backoff.
var ErrPermanent = errors.New("permanent delivery failure")

// permanentf returns an error that wraps ErrPermanent after the formatted
// message.
func permanentf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrPermanent)
}

// classifyHTTPStatus returns nil for a 2xx status and otherwise an error
// naming the status. Statuses 408 and 429 and every 5xx are temporary.
// Any other 4xx wraps ErrPermanent. A 1xx or 3xx status is unexpected
// because net/http follows redirects, so it is treated as temporary.
func classifyHTTPStatus(what string, status int) error {
	switch {
	case status >= 200 && status <= 299:
		return nil
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return fmt.Errorf("%s: server returned status %d, retry later", what, status)
	case status >= 400:
		return permanentf("%s: server rejected the request with status %d", what, status)
	default:
		return fmt.Errorf("%s: unexpected status %d", what, status)
	}
}

// requestError wraps an error from http.Client.Do as a temporary error. It
// drops the request URL, which may carry a token in its query, and keeps the
// cause, so errors.Is(err, context.DeadlineExceeded) holds after a timeout.
func requestError(ctx context.Context, what string, err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%s: %w (%w)", what, ctxErr, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
