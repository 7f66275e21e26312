// Package auth checks API keys sent as "Authorization: Bearer <key>" and
// their scopes: intake for callers, review for reviewers (each with an
// own id), operator for dashboards and metrics.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/idverify/idverify/problem"
)

// Scopes.
const (
	ScopeIntake   = "intake"
	ScopeReview   = "review"
	ScopeOperator = "operator"
)

// Principal is the holder of a key.
type Principal struct {
	ID    string // reviewer id, or the key's name for other scopes
	Scope string
}

// Keys maps API keys to principals. Keys are compared by SHA-256 digest in
// constant time, so lookups leak neither keys nor their lengths.
type Keys struct {
	entries []entry

	// Logger, when set, receives one line per rejected request, at most
	// one a second; the lines in between are counted in the next one.
	Logger *slog.Logger

	mu         sync.Mutex
	lastLogAt  time.Time
	suppressed int
}

type entry struct {
	digest    [32]byte
	principal Principal
}

// Add registers key for principal. It returns an error for a key shorter
// than 16 characters or one registered twice.
func (k *Keys) Add(key string, p Principal) error {
	if len(key) < 16 {
		return fmt.Errorf("api key for %s %q: must be at least 16 characters", p.Scope, p.ID)
	}
	d := sha256.Sum256([]byte(key))
	for _, e := range k.entries {
		if subtle.ConstantTimeCompare(e.digest[:], d[:]) == 1 {
			return fmt.Errorf("api key for %s %q: already registered for %s %q", p.Scope, p.ID, e.principal.Scope, e.principal.ID)
		}
	}
	k.entries = append(k.entries, entry{digest: d, principal: p})
	return nil
}

// Lookup returns the principal of key.
func (k *Keys) Lookup(key string) (Principal, bool) {
	d := sha256.Sum256([]byte(key))
	var found Principal
	ok := false
	for _, e := range k.entries {
		if subtle.ConstantTimeCompare(e.digest[:], d[:]) == 1 {
			found, ok = e.principal, true
		}
	}
	return found, ok
}

// HasPrincipal reports whether some key still belongs to p, so a session
// made from a key that was since removed can be ended.
func (k *Keys) HasPrincipal(p Principal) bool {
	for _, e := range k.entries {
		if e.principal == p {
			return true
		}
	}
	return false
}

type principalKey struct{}

// FromContext returns the authenticated principal of a request.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// BearerToken returns the token of an "Authorization: Bearer" header, or
// the password of "Authorization: Basic", which browsers send for the
// operator dashboard.
func BearerToken(r *http.Request) string {
	if _, password, ok := r.BasicAuth(); ok {
		return password
	}
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

func challenge(w http.ResponseWriter, scope, errParam string) {
	if scope == ScopeOperator {
		// Browsers prompt for Basic credentials; the key is the password.
		w.Header().Set("WWW-Authenticate", `Basic realm="idverify operator", charset="UTF-8"`)
		return
	}
	v := `Bearer realm="idverify"`
	if errParam != "" {
		v += `, error="` + errParam + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
}

// Require wraps next so it runs only for a key of the given scope. A
// missing or unknown key gets 401, a key of another scope 403.
func (k *Keys) Require(scope string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := BearerToken(r)
		if token == "" {
			k.logRejected(r, scope, "missing key")
			challenge(w, scope, "")
			detail := "Send an API key as \"Authorization: Bearer <key>\"."
			if scope == ScopeOperator {
				detail = "Send an operator key as \"Authorization: Bearer <key>\", or as the password of HTTP Basic authentication with any user name."
			}
			problem.Write(w, r, problem.New(http.StatusUnauthorized, "unauthenticated", detail))
			return
		}
		p, ok := k.Lookup(token)
		if !ok {
			k.logRejected(r, scope, "unknown key")
			challenge(w, scope, "invalid_token")
			problem.Write(w, r, problem.New(http.StatusUnauthorized, "invalid_api_key", "The API key is not valid."))
			return
		}
		if p.Scope != scope {
			k.logRejected(r, scope, "key of scope "+p.Scope)
			problem.Write(w, r, problem.New(http.StatusForbidden, "wrong_scope",
				fmt.Sprintf("This endpoint needs a key with the %s scope; the key sent has the %s scope.", scope, p.Scope)))
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// logRejected logs a rejected request without the key, rate-limited to
// one line a second, so a scan cannot flood the log.
func (k *Keys) logRejected(r *http.Request, scope, reason string) {
	if k.Logger == nil {
		return
	}
	k.mu.Lock()
	now := time.Now()
	if now.Sub(k.lastLogAt) < time.Second {
		k.suppressed++
		k.mu.Unlock()
		return
	}
	suppressed := k.suppressed
	k.lastLogAt, k.suppressed = now, 0
	k.mu.Unlock()
	k.Logger.Warn("api key rejected", "reason", reason, "scope", scope, "method", r.Method,
		"path", truncatePath(r.URL.Path), "remote_addr", r.RemoteAddr, "rejections_not_logged", suppressed)
}

func truncatePath(p string) string {
	if len(p) > 200 {
		return p[:200]
	}
	return p
}
