// Package producer is the intake API: callers register accounts, submit
// verification applications, follow them, withdraw them, and read the
// message center. It checks the shape of each request only, stores the
// application with its outbox task in one transaction and responds 202.
// The workers do everything else.
package producer

import (
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/idverify/idverify/auth"
	"github.com/idverify/idverify/problem"
	"github.com/idverify/idverify/store"
)

// Kicker wakes the outbox relay after a commit, so a task reaches Redis
// without waiting for the next poll.
type Kicker interface{ Kick() }

// Config sets the intake limits.
type Config struct {
	// MaxPhotoBytes caps the photo; default 2 MiB (2,097,152 bytes).
	MaxPhotoBytes int64
	// MaxFieldBytes caps each text field of the form; default 1,024 bytes.
	MaxFieldBytes int
	// Transition, when set, is called with the new status after each
	// status change this API makes, for metrics.
	Transition func(status string)
	// Now is the clock for business rules; default time.Now.
	Now func() time.Time
}

// Server serves the intake API.
type Server struct {
	store  *store.Store
	kick   Kicker
	cfg    Config
	logger *slog.Logger
}

// New returns the intake API over s.
func New(s *store.Store, kick Kicker, cfg Config, logger *slog.Logger) *Server {
	if cfg.MaxPhotoBytes <= 0 {
		cfg.MaxPhotoBytes = 2 << 20
	}
	if cfg.MaxFieldBytes <= 0 {
		cfg.MaxFieldBytes = 1024
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Transition == nil {
		cfg.Transition = func(string) {}
	}
	return &Server{store: s, kick: kick, cfg: cfg, logger: logger}
}

// Register mounts the intake routes on mux behind keys with the intake
// scope.
func (s *Server) Register(mux *http.ServeMux, keys *auth.Keys) {
	route := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, keys.Require(auth.ScopeIntake, h))
	}
	route("PUT /v1/accounts/{account_id}", s.putAccount)
	route("GET /v1/accounts/{account_id}/identity", s.getIdentity)
	route("POST /v1/accounts/{account_id}/verifications", s.submit)
	route("GET /v1/accounts/{account_id}/verifications", s.listApplications)
	route("GET /v1/accounts/{account_id}/verifications/{id}", s.getApplication)
	route("POST /v1/accounts/{account_id}/verifications/{id}/withdraw", s.withdraw)
	route("POST /v1/accounts/{account_id}/icp-name-check", s.icpNameCheck)
	route("GET /v1/accounts/{account_id}/messages", s.listMessages)
	route("POST /v1/accounts/{account_id}/messages/{id}/read", s.markRead)
}

var accountIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

// accountID returns the path's account id, or writes a 400 and returns "".
func accountID(w http.ResponseWriter, r *http.Request) string {
	id := r.PathValue("account_id")
	if !accountIDPattern.MatchString(id) {
		problem.Write(w, r, problem.New(http.StatusBadRequest, "invalid_account_id",
			"account_id must be 1-64 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit."))
		return ""
	}
	return id
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	problem.WriteError(w, r, s.logger, err)
}

// decodeJSON reads the JSON body into v; see problem.DecodeJSON.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	return problem.DecodeJSON(w, r, v)
}

// pageLimit parses ?limit= (1-100, default 20).
func pageLimit(w http.ResponseWriter, r *http.Request) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 20, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		problem.Write(w, r, problem.New(http.StatusBadRequest, "invalid_limit", "limit must be an integer from 1 to 100."))
		return 0, false
	}
	return n, true
}
