package problem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/idverify/idverify/store"
)

// ForError maps a domain error to its problem. The second result is false
// for errors with no mapping, which the caller logs and turns into a 500.
func ForError(err error) (Problem, bool) {
	var open *store.OpenApplicationError
	var early *store.ChangeTooEarlyError
	var claimed *store.ClaimedError
	switch {
	case errors.Is(err, store.ErrAccountNotFound):
		return New(http.StatusNotFound, "account_not_found",
			"No account has this id. Create it with PUT /v1/accounts/{account_id} first."), true
	case errors.Is(err, store.ErrNotFound):
		return New(http.StatusNotFound, "not_found", "No resource has this id; on account paths, the resource must also belong to the account."), true
	case errors.As(err, &open):
		p := New(http.StatusConflict, "open_application_exists",
			"The account already has an open application "+open.ApplicationID+
				". Wait for its decision or withdraw it before submitting another.")
		p.Extra = map[string]any{"open_application_id": open.ApplicationID}
		return p, true
	case errors.As(err, &early):
		p := New(http.StatusUnprocessableEntity, "identity_change_too_early",
			fmt.Sprintf("A change from %s to %s identity is allowed %d days after the last successful verification, from %s.",
				early.From, early.To, store.ChangeWaitDays, early.Earliest.UTC().Format(time.RFC3339)))
		p.Extra = map[string]any{"earliest_at": early.Earliest.UTC().Format(time.RFC3339)}
		return p, true
	case errors.Is(err, store.ErrDecided):
		return New(http.StatusConflict, "already_decided",
			"The application was already approved, rejected or withdrawn; nothing was changed."), true
	case errors.Is(err, store.ErrNotAwaitingReview):
		return New(http.StatusConflict, "not_awaiting_review",
			"The application is not awaiting review yet: automatic validation is still running. Retry in a moment."), true
	case errors.As(err, &claimed):
		p := New(http.StatusConflict, "claimed_by_other",
			fmt.Sprintf("Reviewer %s holds a claim on this application until %s; wait until it expires or is released.",
				claimed.Reviewer, claimed.ExpiresAt.UTC().Format(time.RFC3339)))
		p.Extra = map[string]any{"claimed_by": claimed.Reviewer, "claim_expires_at": claimed.ExpiresAt.UTC().Format(time.RFC3339)}
		return p, true
	case errors.Is(err, store.ErrClaimedByOther):
		return New(http.StatusConflict, "claimed_by_other",
			"Another reviewer holds a live claim on this application; wait until it expires or is released."), true
	case errors.Is(err, store.ErrQuotaExceeded):
		return New(http.StatusConflict, "quota_exceeded",
			"This identity already verifies the maximum number of accounts (1 per personal document, 5 per enterprise). Reject the application with reason quota_exceeded."), true
	case errors.Is(err, store.ErrIdempotencyMismatch):
		return New(http.StatusUnprocessableEntity, "idempotency_key_reused",
			"This Idempotency-Key was used with a different request in the last 24 hours. Use a new key for a new request."), true
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return New(http.StatusServiceUnavailable, "timeout", "The request timed out; retry it."), true
	}
	return Problem{}, false
}

// WriteError writes the problem that ForError maps err to. An error with
// no mapping is logged once, with database values removed, and gets a
// generic 500 that reveals nothing of it.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	if p, ok := ForError(err); ok {
		Write(w, r, p)
		return
	}
	logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", store.SafeError(err))
	Write(w, r, New(http.StatusInternalServerError, "internal_error", "The server failed to handle the request; retry later."))
}

// WriteJSON writes v as a JSON response that no cache keeps.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
