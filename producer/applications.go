package producer

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/idverify/idverify/auth"
	"github.com/idverify/idverify/identity"
	"github.com/idverify/idverify/problem"
	"github.com/idverify/idverify/store"
)

// formFields lists the text fields a submission may carry.
var formFields = map[string]bool{
	"subject_type": true, "region": true, "document_type": true, "issuing_country": true,
	"full_name": true, "address": true, "document_number": true, "mrz": true,
	"enterprise_name": true, "registered_address": true, "business_registration_number": true,
	"consent": true, "terms_accepted": true,
}

var applicationIDPattern = regexp.MustCompile(`^app_[0-9A-HJKMNP-TV-Z]{26}$`)

// multipartOverhead is the allowance for boundaries and part headers in
// the body, on top of the photo and text field limits.
const multipartOverhead = 64 << 10

type submission struct {
	fields map[string]string
	photo  []byte
}

// readSubmission streams the multipart form into memory under hard caps:
// the whole body, each text field and the photo. Nothing touches the disk,
// so no temporary file can be left behind. On failure it writes the
// problem and returns false.
func (s *Server) readSubmission(w http.ResponseWriter, r *http.Request) (submission, bool) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		problem.Write(w, r, problem.New(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Send the application as multipart/form-data with the text fields and a photo part."))
		return submission{}, false
	}
	maxBody := s.cfg.MaxPhotoBytes + int64(len(formFields)*s.cfg.MaxFieldBytes) + multipartOverhead
	body := http.MaxBytesReader(w, r.Body, maxBody)
	mr := multipart.NewReader(body, params["boundary"])

	sub := submission{fields: make(map[string]string)}
	var bad []identity.Violation
	photoSeen := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.writeReadError(w, r, err, maxBody)
			return submission{}, false
		}
		name := part.FormName()
		switch {
		case name == "photo":
			if photoSeen {
				bad = append(bad, identity.Violation{Field: "photo", Code: "duplicate_field", Detail: "photo may be sent once."})
				continue
			}
			photoSeen = true
			data, err := io.ReadAll(io.LimitReader(part, s.cfg.MaxPhotoBytes+1))
			if err != nil {
				s.writeReadError(w, r, err, maxBody)
				return submission{}, false
			}
			if int64(len(data)) > s.cfg.MaxPhotoBytes {
				problem.Write(w, r, tooLarge("photo", "photo_too_large",
					fmt.Sprintf("photo is larger than the limit of %d bytes (%s); send a smaller JPEG or PNG.",
						s.cfg.MaxPhotoBytes, humanBytes(s.cfg.MaxPhotoBytes))))
				return submission{}, false
			}
			sub.photo = data
		case formFields[name]:
			if part.FileName() != "" {
				bad = append(bad, identity.Violation{Field: name, Code: "not_a_text_field", Detail: name + " must be a text field, not a file."})
				continue
			}
			data, err := io.ReadAll(io.LimitReader(part, int64(s.cfg.MaxFieldBytes)+1))
			if err != nil {
				s.writeReadError(w, r, err, maxBody)
				return submission{}, false
			}
			if len(data) > s.cfg.MaxFieldBytes {
				problem.Write(w, r, tooLarge(name, "field_too_large",
					fmt.Sprintf("%s is longer than the limit of %d bytes.", name, s.cfg.MaxFieldBytes)))
				return submission{}, false
			}
			if _, dup := sub.fields[name]; dup {
				bad = append(bad, identity.Violation{Field: name, Code: "duplicate_field", Detail: name + " may be sent once."})
				continue
			}
			if !utf8.Valid(data) {
				bad = append(bad, identity.Violation{Field: name, Code: "invalid_utf8", Detail: name + " must be UTF-8 text."})
				continue
			}
			sub.fields[name] = string(data)
		default:
			bad = append(bad, identity.Violation{Field: truncateName(name), Code: "unknown_field",
				Detail: "This form field is not part of the API; check its spelling against /openapi.yaml."})
		}
	}
	if len(bad) > 0 {
		problem.Write(w, r, problem.Invalid(bad))
		return submission{}, false
	}
	return sub, true
}

// tooLarge returns the 413 problem for one part over its cap. Its errors
// list names the field, as a 400 does for other field rules.
func tooLarge(field, code, detail string) problem.Problem {
	p := problem.New(http.StatusRequestEntityTooLarge, code, detail)
	p.Errors = []identity.Violation{{Field: field, Code: code, Detail: detail}}
	return p
}

func (s *Server) writeReadError(w http.ResponseWriter, r *http.Request, err error, maxBody int64) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		problem.Write(w, r, problem.New(http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("The request body is larger than the limit of %d bytes (%s).", maxBody, humanBytes(maxBody))))
		return
	}
	problem.Write(w, r, problem.New(http.StatusBadRequest, "invalid_multipart",
		"The multipart body is malformed: check the boundary and each part's headers."))
}

func humanBytes(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 2, 64) + " MiB"
}

func truncateName(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// shapeCheck applies the intake rules: required fields for the subject
// type, known enum values, consent. Content rules (document numbers, name
// characters, the photo's format) belong to validation in the worker.
func shapeCheck(f map[string]string, photo []byte) (store.NewApplication, []identity.Violation) {
	var bad []identity.Violation
	add := func(field, code, detail string) {
		bad = append(bad, identity.Violation{Field: field, Code: code, Detail: detail})
	}
	get := func(name string) string { return strings.TrimSpace(f[name]) }
	require := func(names ...string) {
		for _, n := range names {
			if get(n) == "" {
				add(n, "required", n+" is required.")
			}
		}
	}

	in := store.NewApplication{Photo: photo}
	switch get("subject_type") {
	case store.SubjectIndividual:
		in.SubjectType = store.SubjectIndividual
		require("document_type", "issuing_country", "full_name", "address", "document_number")
		for _, n := range []string{"enterprise_name", "registered_address", "business_registration_number", "terms_accepted"} {
			if _, ok := f[n]; ok {
				add(n, "not_allowed", n+" belongs to organization applications; remove it.")
			}
		}
		if dt := get("document_type"); dt != "" {
			norm, ok := identity.NormalizeDocumentType(dt)
			if !ok {
				add("document_type", "invalid_document_type", "document_type must be one of passport, national_id, drivers_license, work_permit.")
			}
			in.DocumentType = norm
		}
		if ic := get("issuing_country"); ic != "" {
			norm, ok := identity.NormalizeRegion(ic)
			if !ok {
				add("issuing_country", "invalid_country", "issuing_country must be an ISO 3166-1 alpha-2 code such as HK, CN or SG.")
			}
			in.IssuingCountry = norm
		}
		if _, ok := f["mrz"]; ok && in.DocumentType != "" && in.DocumentType != "passport" {
			add("mrz", "not_allowed", "mrz is accepted for passports only.")
		}
		// A person's name is stored in NFC, so stored names compare
		// equal whatever normalization form the caller sent.
		in.Fields = store.Fields{
			FullName: norm.NFC.String(get("full_name")), Address: get("address"), DocumentNumber: get("document_number"), MRZ: get("mrz"),
		}
	case store.SubjectOrganization:
		in.SubjectType = store.SubjectOrganization
		require("enterprise_name", "registered_address", "business_registration_number")
		for _, n := range []string{"document_type", "issuing_country", "full_name", "address", "document_number", "mrz"} {
			if _, ok := f[n]; ok {
				add(n, "not_allowed", n+" belongs to individual applications; remove it.")
			}
		}
		if get("terms_accepted") != "true" {
			add("terms_accepted", "terms_not_accepted", "terms_accepted must be true: the enterprise accepts the Terms of Service.")
		}
		in.TermsAccepted = true
		in.Fields = store.Fields{
			EnterpriseName: f["enterprise_name"], RegisteredAddress: get("registered_address"),
			RegistrationNumber: get("business_registration_number"),
		}
	case "":
		add("subject_type", "required", "subject_type is required: individual or organization.")
	default:
		add("subject_type", "invalid_subject_type", "subject_type must be individual or organization.")
	}

	if region := get("region"); region == "" {
		add("region", "required", "region (the registered region) is required, as an ISO 3166-1 alpha-2 code.")
	} else if norm, ok := identity.NormalizeRegion(region); !ok {
		add("region", "invalid_region", "region must be an ISO 3166-1 alpha-2 code such as HK, CN or SG.")
	} else {
		in.Region = norm
	}
	if get("consent") != "true" {
		add("consent", "consent_required", "consent must be true: the applicant agrees to the processing of the information for verification.")
	}
	if len(photo) == 0 {
		add("photo", "required", "photo is required: a JPEG or PNG of the document or certificate.")
	}
	return in, bad
}

type applicationResponse struct {
	ID             string             `json:"id"`
	AccountID      string             `json:"account_id"`
	Status         string             `json:"status"`
	Kind           string             `json:"kind"`
	SubjectType    string             `json:"subject_type"`
	Region         string             `json:"region"`
	DocumentType   string             `json:"document_type,omitempty"`
	IssuingCountry string             `json:"issuing_country,omitempty"`
	NameMasked     string             `json:"name_masked"`
	NumberMasked   string             `json:"number_masked"`
	SubmittedAt    time.Time          `json:"submitted_at"`
	ValidatedAt    *time.Time         `json:"validated_at,omitempty"`
	ReviewDueAt    *time.Time         `json:"review_due_at,omitempty"`
	DecidedAt      *time.Time         `json:"decided_at,omitempty"`
	Checks         *store.Checks      `json:"checks,omitempty"`
	Rejection      *rejectionResponse `json:"rejection,omitempty"`
}

type rejectionResponse struct {
	Reasons         []string             `json:"reasons"`
	FailedChecks    []identity.Violation `json:"failed_checks,omitempty"`
	ResubmitAllowed bool                 `json:"resubmit_allowed"`
}

func toResponse(a store.Application) applicationResponse {
	resp := applicationResponse{
		ID: a.ID, AccountID: a.AccountID, Status: a.Status, Kind: a.Kind, SubjectType: a.SubjectType,
		Region: a.Region, DocumentType: a.DocumentType, IssuingCountry: a.IssuingCountry,
		NameMasked: a.NameMasked, NumberMasked: a.NumberMasked, SubmittedAt: a.SubmittedAt,
		ValidatedAt: a.ValidatedAt, ReviewDueAt: a.ReviewDueAt, DecidedAt: a.DecidedAt,
	}
	if a.Checks != nil {
		// Callers see outcomes, not the reviewer-only flags.
		c := *a.Checks
		c.Flags = nil
		resp.Checks = &c
	}
	if a.Status == store.StatusRejected {
		rej := &rejectionResponse{Reasons: a.Reasons}
		if rej.Reasons == nil {
			rej.Reasons = []string{}
		}
		if a.ResubmitAllowed != nil {
			rej.ResubmitAllowed = *a.ResubmitAllowed
		}
		if a.Checks != nil && !a.Checks.Passed {
			rej.FailedChecks = a.Checks.Violations()
		}
		resp.Rejection = rej
	}
	return resp
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	id := accountID(w, r)
	if id == "" {
		return
	}
	idemKey := r.Header.Get("Idempotency-Key")
	if len(idemKey) > 255 {
		problem.Write(w, r, problem.New(http.StatusBadRequest, "invalid_idempotency_key", "Idempotency-Key must be at most 255 characters."))
		return
	}

	sub, ok := s.readSubmission(w, r)
	if !ok {
		return
	}
	in, bad := shapeCheck(sub.fields, sub.photo)
	if len(bad) > 0 {
		problem.Write(w, r, problem.Invalid(bad))
		return
	}
	in.AccountID = id
	if idemKey != "" {
		in.IdempotencyKey = idemKey
		in.RequestHash = requestHash(sub)
	}

	app, repeat, err := s.store.CreateApplication(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := app.Status
	if repeat {
		// A replay repeats the first response byte for byte, whatever the
		// application's status is now; GET shows the current one.
		status = store.StatusSubmitted
		w.Header().Set("Idempotent-Replayed", "true")
	} else {
		s.kick.Kick()
		s.cfg.Transition(app.Status)
		s.logger.Info("application submitted", "application_id", app.ID, "kind", app.Kind, "subject_type", app.SubjectType)
	}
	w.Header().Set("Location", "/v1/accounts/"+id+"/verifications/"+app.ID)
	problem.WriteJSON(w, http.StatusAccepted, map[string]any{
		"id": app.ID, "status": status, "kind": app.Kind, "submitted_at": app.SubmittedAt,
	})
}

func requestHash(sub submission) string {
	var parts [][]byte
	var names []string
	for n := range formFields {
		names = append(names, n)
	}
	// A fixed order makes the hash independent of the form's part order.
	sort.Strings(names)
	for _, n := range names {
		v, ok := sub.fields[n]
		if !ok {
			parts = append(parts, []byte{0})
			continue
		}
		parts = append(parts, append([]byte{1}, v...))
	}
	parts = append(parts, sub.photo)
	return store.RequestHash(parts...)
}

func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) {
	id := accountID(w, r)
	if id == "" {
		return
	}
	limit, ok := pageLimit(w, r)
	if !ok {
		return
	}
	if _, err := s.store.GetAccount(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	before := r.URL.Query().Get("before")
	if before != "" && !applicationIDPattern.MatchString(before) {
		problem.Write(w, r, problem.New(http.StatusBadRequest, "invalid_cursor", "before must be an application id from next_before."))
		return
	}
	apps, err := s.store.ListAccountApplications(r.Context(), id, before, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]applicationResponse, 0, len(apps))
	for _, a := range apps {
		out = append(out, toResponse(a))
	}
	resp := map[string]any{"verifications": out}
	if len(apps) == limit {
		resp["next_before"] = apps[len(apps)-1].ID
	}
	problem.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) {
	id := accountID(w, r)
	if id == "" {
		return
	}
	app, err := s.store.GetAccountApplication(r.Context(), id, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	problem.WriteJSON(w, http.StatusOK, toResponse(app))
}

func (s *Server) withdraw(w http.ResponseWriter, r *http.Request) {
	id := accountID(w, r)
	if id == "" {
		return
	}
	actor := "applicant"
	if p, ok := auth.FromContext(r.Context()); ok {
		actor = "intake:" + p.ID
	}
	app, err := s.store.Withdraw(r.Context(), id, r.PathValue("id"), actor)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.kick.Kick()
	s.cfg.Transition(app.Status)
	s.logger.Info("application withdrawn", "application_id", app.ID)
	problem.WriteJSON(w, http.StatusOK, toResponse(app))
}
