// Package console serves the reviewer console: server-rendered HTML pages
// under /review/ where a reviewer signs in with a reviewer API key, browses
// the review queue, and reads, claims, approves or rejects one application.
//
// The pages need no JavaScript. Reads of personal data and decisions go
// through package review, so the console writes the same audit entries as
// the JSON API. Every POST passes two CSRF checks: net/http's
// CrossOriginProtection (Sec-Fetch-Site and Origin headers) and a
// per-session token in a hidden form field.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/idverify/idverify/auth"
	"github.com/idverify/idverify/review"
	"github.com/idverify/idverify/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/console.css
var stylesheet []byte

// Path is the URL prefix the console serves. Its links and redirects
// assume it.
const Path = "/review/"

// MinSessionKeyBytes is the shortest SessionKey that New accepts.
const MinSessionKeyBytes = 32

// Config sets up the console.
type Config struct {
	// SessionKey signs session cookies and CSRF tokens with HMAC-SHA256.
	// Required, at least MinSessionKeyBytes bytes. Every process that
	// serves the console must use the same key, so that a session started
	// on one process works on any other. Changing it signs everyone out.
	SessionKey []byte
	// SessionTTL is how long a sign-in lasts. Default 8 hours.
	SessionTTL time.Duration
	// ClaimTTL is how long a claim taken in the console lasts. Default 30
	// minutes. Set it to the review API's claim time.
	ClaimTTL time.Duration
	// Now is the clock for session expiry and for the deadlines and claims
	// shown on the pages. Default time.Now.
	Now func() time.Time
}

// Console serves the reviewer console pages.
type Console struct {
	review *review.Server
	store  *store.Store
	keys   *auth.Keys
	cfg    Config
	logger *slog.Logger

	pages     map[string]*template.Template
	cssETag   string
	rejection *logLimiter
}

// New returns the console over the review API helpers rev, the store st
// and the API keys a reviewer signs in with. It returns an error when
// cfg.SessionKey is shorter than MinSessionKeyBytes or a template fails to
// parse.
func New(rev *review.Server, st *store.Store, keys *auth.Keys, cfg Config, logger *slog.Logger) (*Console, error) {
	if len(cfg.SessionKey) < MinSessionKeyBytes {
		return nil, fmt.Errorf("console session key: %d bytes, want at least %d", len(cfg.SessionKey), MinSessionKeyBytes)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.ClaimTTL <= 0 {
		cfg.ClaimTTL = 30 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(stylesheet)
	return &Console{
		review: rev, store: st, keys: keys, cfg: cfg, logger: logger,
		pages:     pages,
		cssETag:   `"` + hex.EncodeToString(sum[:8]) + `"`,
		rejection: newLogLimiter(time.Minute, cfg.Now),
	}, nil
}

// Register mounts the console on mux at Path.
func (c *Console) Register(mux *http.ServeMux) {
	mux.Handle(Path, c.Handler())
}

// Handler returns the console with its security headers and cross-origin
// protection, for requests whose path starts with Path.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /review/login", c.loginPage)
	mux.HandleFunc("POST /review/login", c.login)
	mux.Handle("POST /review/logout", c.requireSession(c.requireCSRF(c.logout)))
	mux.HandleFunc("GET /review/static/console.css", c.serveCSS)

	mux.Handle("GET /review/{$}", c.requireSession(c.queue))
	mux.Handle("GET /review/applications/{id}", c.requireSession(c.application))
	mux.Handle("GET /review/applications/{id}/photo", c.requireSession(c.photo))
	mux.Handle("POST /review/applications/{id}/claim", c.requireSession(c.requireCSRF(c.claim)))
	mux.Handle("POST /review/applications/{id}/release", c.requireSession(c.requireCSRF(c.release)))
	mux.Handle("POST /review/applications/{id}/decision", c.requireSession(c.requireCSRF(c.decide)))
	mux.HandleFunc("/review/", func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, http.StatusNotFound, "Page not found", "The console has no page at this address.")
	})

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.logRejection(r, "cross-origin request rejected")
		c.renderError(w, r, http.StatusForbidden, "Request rejected",
			"The form was sent from another site, so it was rejected. Open the console directly and submit the form again.")
	}))
	return securityHeaders(cop.Handler(mux))
}

// contentSecurityPolicy allows the console's own stylesheet and images and
// nothing else, so the pages run no script and cannot be framed.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every console response carries. Pages
// may show personal data, so nothing is cached unless a handler sets
// another Cache-Control (the stylesheet and the photo do).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (c *Console) serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	// The stylesheet contains no personal data, so browsers may keep it and
	// revalidate it by ETag.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", c.cssETag)
	http.ServeContent(w, r, "console.css", time.Time{}, bytes.NewReader(stylesheet))
}

// pageNames are the templates under templates/ that render a whole page
// inside layout.html.
var pageNames = []string{"login.html", "queue.html", "application.html", "error.html"}

func parsePages() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(templateFuncs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("parse console template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// layout is the part of every page's data that layout.html reads.
type layout struct {
	Title string
	// Reviewer is the signed-in reviewer's id. It is empty on the sign-in
	// page, which hides the navigation and the sign-out form.
	Reviewer  string
	CSRFToken string
	Flash     *flash
}

// flash is a message at the top of a page about the last action.
type flash struct {
	Error   bool
	Message string
	// Details lists one line per broken form rule.
	Details []string
}

// render executes page into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := c.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		c.logger.Error("render console page failed", "page", page, "path", r.URL.Path, "error", err)
		http.Error(w, "The console failed to render this page. Retry later.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type errorPage struct {
	layout
	Status  int
	Message string
}

// renderError shows a page with a title and a message. The signed-in
// reviewer, when there is one, keeps the navigation.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	data := errorPage{layout: layout{Title: title}, Status: status, Message: message}
	if s, ok := c.readSession(r); ok {
		data.Reviewer, data.CSRFToken = s.Reviewer, c.csrfToken(s)
	}
	c.render(w, r, status, "error.html", data)
}

// renderInternalError logs err once with the application id, if any, and
// shows a generic 500 page that reveals nothing of the error.
func (c *Console) renderInternalError(w http.ResponseWriter, r *http.Request, applicationID string, err error) {
	c.logger.Error("console request failed", "method", r.Method, "path", r.URL.Path,
		"application_id", applicationID, "error", store.SafeError(err))
	c.renderError(w, r, http.StatusInternalServerError, "Something went wrong",
		"The console failed to handle the request. Retry in a moment; if it keeps failing, tell the operators.")
}

// logRejection logs a rejected sign-in or form at most once a minute per
// message, with the number of repeats left out since the last line, so a
// flood of bad requests writes one line per minute and message.
func (c *Console) logRejection(r *http.Request, message string) {
	ok, dropped := c.rejection.allow(message)
	if !ok {
		return
	}
	c.logger.Warn(message, "method", r.Method, "path", r.URL.Path, "repeats_not_logged", dropped)
}

// logLimiter lets one log line per key through per interval and counts
// the lines it holds back.
type logLimiter struct {
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	last    map[string]time.Time
	dropped map[string]int
}

func newLogLimiter(interval time.Duration, now func() time.Time) *logLimiter {
	return &logLimiter{interval: interval, now: now, last: map[string]time.Time{}, dropped: map[string]int{}}
}

// allow reports whether a line for key may be logged now and, if so, how
// many lines for key it held back since the last one.
func (l *logLimiter) allow(key string) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if last, ok := l.last[key]; ok && now.Sub(last) < l.interval {
		l.dropped[key]++
		return false, 0
	}
	dropped := l.dropped[key]
	l.last[key] = now
	l.dropped[key] = 0
	return true, dropped
}
