// Package review is the reviewers' API: the queue, an application's full
// decrypted detail and photo (each read written to the audit log with the
// reviewer's id), claims, decisions and the audit trail.
package review

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/idverify/idverify/auth"
	"github.com/idverify/idverify/identity"
	"github.com/idverify/idverify/photo"
	"github.com/idverify/idverify/problem"
	"github.com/idverify/idverify/store"
)

// Kicker wakes the outbox relay after a commit that added tasks.
type Kicker interface{ Kick() }

// Config sets the review rules.
type Config struct {
	// ClaimTTL is how long a claim lasts; default 30 minutes.
	ClaimTTL time.Duration
	// Transition, when set, is called with the new status after each
	// status change this API makes, for metrics.
	Transition func(status string)
	// Now is the clock for deadlines and claims; default time.Now.
	Now func() time.Time
}

// Server serves the review API.
type Server struct {
	store  *store.Store
	kick   Kicker
	cfg    Config
	logger *slog.Logger
}

// New returns the review API over s.
func New(s *store.Store, kick Kicker, cfg Config, logger *slog.Logger) *Server {
	if cfg.ClaimTTL <= 0 {
		cfg.ClaimTTL = 30 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Transition == nil {
		cfg.Transition = func(string) {}
	}
	return &Server{store: s, kick: kick, cfg: cfg, logger: logger}
}

// Register mounts the review routes on mux behind keys with the review
// scope.
func (s *Server) Register(mux *http.ServeMux, keys *auth.Keys) {
	route := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, keys.Require(auth.ScopeReview, h))
	}
	route("GET /v1/review/applications", s.list)
	route("GET /v1/review/applications/{id}", s.detail)
	route("GET /v1/review/applications/{id}/photo", s.photo)
	route("POST /v1/review/applications/{id}/claim", s.claim)
	route("DELETE /v1/review/applications/{id}/claim", s.release)
	route("POST /v1/review/applications/{id}/decision", s.decide)
	route("GET /v1/review/applications/{id}/audit", s.audit)
	route("GET /v1/review/reasons", s.reasons)
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	problem.WriteError(w, r, s.logger, err)
}

func reviewer(r *http.Request) string {
	p, _ := auth.FromContext(r.Context())
	return p.ID
}

// Summary is one row of the review queue.
type Summary struct {
	ID              string        `json:"id"`
	AccountID       string        `json:"account_id"`
	Status          string        `json:"status"`
	Kind            string        `json:"kind"`
	SubjectType     string        `json:"subject_type"`
	Region          string        `json:"region"`
	DocumentType    string        `json:"document_type,omitempty"`
	NameMasked      string        `json:"name_masked"`
	NumberMasked    string        `json:"number_masked"`
	SubmittedAt     time.Time     `json:"submitted_at"`
	ReviewDueAt     *time.Time    `json:"review_due_at,omitempty"`
	BreachAt        *time.Time    `json:"breach_at,omitempty"`
	Overdue         bool          `json:"overdue"`
	EscalationLevel int           `json:"escalation_level"`
	Flags           []store.Flag  `json:"flags"`
	Claim           *ClaimInfo    `json:"claim,omitempty"`
	Checks          *store.Checks `json:"checks,omitempty"`
	DecidedBy       string        `json:"decided_by,omitempty"`
	DecidedAt       *time.Time    `json:"decided_at,omitempty"`
	Reasons         []string      `json:"reasons,omitempty"`
	ResubmitAllowed *bool         `json:"resubmit_allowed,omitempty"`
}

// ClaimInfo is the holder of a live claim and its end.
type ClaimInfo struct {
	Reviewer  string    `json:"reviewer"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Summarize builds a queue row from an application: overdue once its
// review deadline passed while it awaits review, and a claim only while
// the claim is live.
func Summarize(a store.Application, now time.Time) Summary {
	s := Summary{
		ID: a.ID, AccountID: a.AccountID, Status: a.Status, Kind: a.Kind, SubjectType: a.SubjectType,
		Region: a.Region, DocumentType: a.DocumentType, NameMasked: a.NameMasked, NumberMasked: a.NumberMasked,
		SubmittedAt: a.SubmittedAt, ReviewDueAt: a.ReviewDueAt, BreachAt: a.BreachAt,
		EscalationLevel: a.EscalationLevel, Flags: []store.Flag{}, Checks: a.Checks,
		DecidedBy: a.DecidedBy, DecidedAt: a.DecidedAt, Reasons: a.Reasons, ResubmitAllowed: a.ResubmitAllowed,
	}
	s.Overdue = a.Status == store.StatusAwaitingReview && a.ReviewDueAt != nil && !now.Before(*a.ReviewDueAt)
	if a.Checks != nil && a.Checks.Flags != nil {
		s.Flags = a.Checks.Flags
	}
	if a.ClaimedBy != "" && a.ClaimExpiresAt != nil && a.ClaimExpiresAt.After(now) {
		s.Claim = &ClaimInfo{Reviewer: a.ClaimedBy, ExpiresAt: *a.ClaimExpiresAt}
	}
	return s
}

// ParseFilter reads the queue filters from a query string. It returns the
// violations of bad values.
func ParseFilter(q map[string][]string) (store.ReviewFilter, []identity.Violation) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	var bad []identity.Violation
	f := store.ReviewFilter{Limit: 50}
	switch st := get("status"); st {
	case "", store.StatusAwaitingReview, store.StatusSubmitted, store.StatusApproved, store.StatusRejected, store.StatusWithdrawn, "any":
		f.Status = st
	default:
		bad = append(bad, identity.Violation{Field: "status", Code: "invalid_status",
			Detail: "status must be submitted, awaiting_review, approved, rejected, withdrawn or any."})
	}
	if r := get("region"); r != "" {
		norm, ok := identity.NormalizeRegion(r)
		if !ok {
			bad = append(bad, identity.Violation{Field: "region", Code: "invalid_region", Detail: "region must be an ISO 3166-1 alpha-2 code."})
		}
		f.Region = norm
	}
	switch st := get("subject_type"); st {
	case "", store.SubjectIndividual, store.SubjectOrganization:
		f.SubjectType = st
	default:
		bad = append(bad, identity.Violation{Field: "subject_type", Code: "invalid_subject_type", Detail: "subject_type must be individual or organization."})
	}
	for _, name := range []string{"overdue", "escalated"} {
		v := get(name)
		if v == "" {
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad = append(bad, identity.Violation{Field: name, Code: "invalid_boolean", Detail: name + " must be true or false."})
			continue
		}
		if name == "overdue" {
			f.Overdue = &b
		} else {
			f.Escalated = &b
		}
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			bad = append(bad, identity.Violation{Field: "limit", Code: "invalid_limit", Detail: "limit must be an integer from 1 to 200."})
		} else {
			f.Limit = n
		}
	}
	if v := get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100000 {
			bad = append(bad, identity.Violation{Field: "offset", Code: "invalid_offset", Detail: "offset must be an integer from 0 to 100000."})
		} else {
			f.Offset = n
		}
	}
	return f, bad
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	f, bad := ParseFilter(r.URL.Query())
	if len(bad) > 0 {
		problem.Write(w, r, problem.Invalid(bad))
		return
	}
	apps, err := s.store.ListReview(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.cfg.Now()
	out := make([]Summary, 0, len(apps))
	for _, a := range apps {
		out = append(out, Summarize(a, now))
	}
	resp := map[string]any{"applications": out, "limit": f.Limit, "offset": f.Offset}
	if len(apps) == f.Limit {
		resp["next_offset"] = f.Offset + f.Limit
	}
	problem.WriteJSON(w, http.StatusOK, resp)
}

// Detail is the full view of one application for a reviewer.
type Detail struct {
	Summary
	Fields         store.Fields `json:"fields"`
	ConsentVersion string       `json:"consent_version"`
	ConsentAt      time.Time    `json:"consent_at"`
	TermsAccepted  bool         `json:"terms_accepted"`
	PhotoBytes     int          `json:"photo_bytes"`
	PhotoURL       string       `json:"photo_url"`
	Note           string       `json:"note,omitempty"`
	History        []Summary    `json:"account_history"`
}

// LoadDetail reads an application with its decrypted fields and the
// account's other applications, after writing the read to the audit log.
// No audit entry, no data.
func (s *Server) LoadDetail(r *http.Request, id string) (Detail, error) {
	ctx := r.Context()
	if _, err := s.store.GetApplication(ctx, id); err != nil {
		return Detail{}, err
	}
	if err := s.store.RecordAccess(ctx, id, reviewer(r), store.AuditViewDetail, ""); err != nil {
		return Detail{}, err
	}
	app, err := s.store.GetApplicationDecrypted(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	now := s.cfg.Now()
	d := Detail{
		Summary: Summarize(app, now), Fields: *app.Fields, ConsentVersion: app.ConsentVersion, ConsentAt: app.ConsentAt,
		TermsAccepted: app.TermsAccepted, PhotoBytes: app.PhotoBytes,
		PhotoURL: "/v1/review/applications/" + app.ID + "/photo", Note: app.Note, History: []Summary{},
	}
	others, err := s.store.ListAccountApplications(ctx, app.AccountID, "", 20)
	if err != nil {
		return Detail{}, err
	}
	for _, o := range others {
		if o.ID != app.ID {
			d.History = append(d.History, Summarize(o, now))
		}
	}
	return d, nil
}

func (s *Server) detail(w http.ResponseWriter, r *http.Request) {
	d, err := s.LoadDetail(r, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	problem.WriteJSON(w, http.StatusOK, d)
}

// ServePhoto writes an application's photo after recording the read in
// the audit log.
func (s *Server) ServePhoto(w http.ResponseWriter, r *http.Request, id string) {
	ctx := r.Context()
	if _, err := s.store.GetApplication(ctx, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.RecordAccess(ctx, id, reviewer(r), store.AuditViewPhoto, ""); err != nil {
		s.writeError(w, r, err)
		return
	}
	data, err := s.store.GetPhoto(ctx, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	contentType := "application/octet-stream"
	switch photo.Sniff(data) {
	case "jpeg":
		contentType = "image/jpeg"
	case "png":
		contentType = "image/png"
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

func (s *Server) photo(w http.ResponseWriter, r *http.Request) {
	s.ServePhoto(w, r, r.PathValue("id"))
}

func (s *Server) claim(w http.ResponseWriter, r *http.Request) {
	app, err := s.store.Claim(r.Context(), r.PathValue("id"), reviewer(r), s.cfg.ClaimTTL)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	problem.WriteJSON(w, http.StatusOK, Summarize(app, s.cfg.Now()))
}

func (s *Server) release(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Release(r.Context(), r.PathValue("id"), reviewer(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// DecisionRequest is the body of a decision.
type DecisionRequest struct {
	Decision        string   `json:"decision"`
	Reasons         []string `json:"reasons"`
	Note            string   `json:"note"`
	ResubmitAllowed *bool    `json:"resubmit_allowed"`
}

// Validate returns the decision it describes, or the violations.
func (d DecisionRequest) Validate() (store.Decision, []identity.Violation) {
	var bad []identity.Violation
	out := store.Decision{Note: strings.TrimSpace(d.Note), Reasons: d.Reasons, ResubmitAllowed: true}
	switch d.Decision {
	case "approve":
		out.Approve = true
		if len(d.Reasons) > 0 {
			bad = append(bad, identity.Violation{Field: "reasons", Code: "not_allowed", Detail: "reasons are given for rejections only."})
		}
	case "reject":
		if len(d.Reasons) == 0 {
			bad = append(bad, identity.Violation{Field: "reasons", Code: "required",
				Detail: "A rejection needs at least one reason code: " + strings.Join(store.ReasonCodes, ", ") + "."})
		}
		seen := map[string]bool{}
		for _, c := range d.Reasons {
			if !store.ValidReason(c) {
				bad = append(bad, identity.Violation{Field: "reasons", Code: "invalid_reason",
					Detail: "Unknown reason code; use one of " + strings.Join(store.ReasonCodes, ", ") + "."})
			} else if seen[c] {
				bad = append(bad, identity.Violation{Field: "reasons", Code: "duplicate_reason", Detail: "Each reason code may be given once."})
			}
			seen[c] = true
		}
		if seen["other"] && out.Note == "" {
			bad = append(bad, identity.Violation{Field: "note", Code: "required", Detail: "A note is required with reason other."})
		}
		if d.ResubmitAllowed != nil {
			out.ResubmitAllowed = *d.ResubmitAllowed
		}
	case "":
		bad = append(bad, identity.Violation{Field: "decision", Code: "required", Detail: "decision is required: approve or reject."})
	default:
		bad = append(bad, identity.Violation{Field: "decision", Code: "invalid_decision", Detail: "decision must be approve or reject."})
	}
	if len([]rune(out.Note)) > 2000 {
		bad = append(bad, identity.Violation{Field: "note", Code: "too_long", Detail: "note must be at most 2000 characters."})
	}
	return out, bad
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request) {
	var req DecisionRequest
	if !problem.DecodeJSON(w, r, &req) {
		return
	}
	d, bad := req.Validate()
	if len(bad) > 0 {
		problem.Write(w, r, problem.Invalid(bad))
		return
	}
	app, err := s.Decide(r, r.PathValue("id"), d)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	problem.WriteJSON(w, http.StatusOK, Summarize(app, s.cfg.Now()))
}

// Decide records a decision by the request's reviewer and wakes the relay.
func (s *Server) Decide(r *http.Request, id string, d store.Decision) (store.Application, error) {
	app, err := s.store.Decide(r.Context(), id, reviewer(r), d)
	var early *store.ChangeTooEarlyError
	if errors.Is(err, store.ErrQuotaExceeded) || errors.As(err, &early) {
		s.logger.Info("approval rejected: a rule no longer holds", "application_id", id, "error", err)
	}
	if err != nil {
		return app, err
	}
	s.kick.Kick()
	s.cfg.Transition(app.Status)
	s.logger.Info("application decided", "application_id", id, "status", app.Status, "reviewer", reviewer(r))
	return app, nil
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.store.GetApplication(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	entries, err := s.store.AuditTrail(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	problem.WriteJSON(w, http.StatusOK, map[string]any{"entries": entries})
}

func (s *Server) reasons(w http.ResponseWriter, r *http.Request) {
	problem.WriteJSON(w, http.StatusOK, map[string]any{"reasons": store.ReasonCodes})
}
