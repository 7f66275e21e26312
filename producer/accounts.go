package producer

import (
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/idverify/idverify/identity"
	"github.com/idverify/idverify/problem"
	"github.com/idverify/idverify/store"
)

type accountRequest struct {
	Email         string `json:"email"`
	Phone         string `json:"phone"`
	Locale        string `json:"locale"`
	Subscriptions *struct {
		Email *bool `json:"email"`
		SMS   *bool `json:"sms"`
	} `json:"subscriptions"`
}

type accountResponse struct {
	ID            string              `json:"id"`
	Email         string              `json:"email,omitempty"`
	Phone         string              `json:"phone,omitempty"`
	Locale        string              `json:"locale"`
	Subscriptions subscriptionsOutput `json:"subscriptions"`
	CreatedAt     time.Time           `json:"created_at"`
	UpdatedAt     time.Time           `json:"updated_at"`
}

type subscriptionsOutput struct {
	Email bool `json:"email"`
	SMS   bool `json:"sms"`
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func (s *Server) putAccount(w http.ResponseWriter, r *http.Request) {
	id := accountID(w, r)
	if id == "" {
		return
	}
	var req accountRequest
	if !decodeJSON(w, r, &req) {
		return
	}

	in := store.AccountInput{ID: id, Locale: "en", SubscribeEmail: true, SubscribeSMS: true}
	var bad []identity.Violation
	if req.Email != "" {
		addr, err := mail.ParseAddress(req.Email)
		if err != nil || addr.Address != req.Email || len(req.Email) > 254 {
			bad = append(bad, identity.Violation{Field: "email", Code: "invalid_email",
				Detail: "email must be a bare address such as name@example.com, at most 254 characters."})
		} else {
			in.Email = req.Email
		}
	}
	if req.Phone != "" {
		if !e164.MatchString(req.Phone) {
			bad = append(bad, identity.Violation{Field: "phone", Code: "invalid_phone",
				Detail: "phone must be in E.164 form: '+', country code and number, 8 to 16 characters, digits only, e.g. +85291234567."})
		} else {
			in.Phone = req.Phone
		}
	}
	if req.Locale != "" {
		tag, err := language.Parse(req.Locale)
		if err != nil || len(req.Locale) > 35 {
			bad = append(bad, identity.Violation{Field: "locale", Code: "invalid_locale",
				Detail: "locale must be a BCP 47 language tag such as en, zh-Hans or zh-HK."})
		} else {
			in.Locale = tag.String()
		}
	}
	if req.Subscriptions != nil {
		if req.Subscriptions.Email != nil {
			in.SubscribeEmail = *req.Subscriptions.Email
		}
		if req.Subscriptions.SMS != nil {
			in.SubscribeSMS = *req.Subscriptions.SMS
		}
	}
	if len(bad) > 0 {
		problem.Write(w, r, problem.Invalid(bad))
		return
	}

	created, err := s.store.PutAccount(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	acct, err := s.store.GetAccount(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	problem.WriteJSON(w, status, accountResponse{
		ID: acct.ID, Email: acct.Email, Phone: acct.Phone, Locale: acct.Locale,
		Subscriptions: subscriptionsOutput{Email: acct.SubscribeEmail, SMS: acct.SubscribeSMS},
		CreatedAt:     acct.CreatedAt, UpdatedAt: acct.UpdatedAt,
	})
}

type identityResponse struct {
	AccountID       string           `json:"account_id"`
	Verified        bool             `json:"verified"`
	SubjectType     string           `json:"subject_type,omitempty"`
	NameMasked      string           `json:"name_masked,omitempty"`
	NumberMasked    string           `json:"number_masked,omitempty"`
	Region          string           `json:"region,omitempty"`
	DocumentType    string           `json:"document_type,omitempty"`
	ApplicationID   string           `json:"application_id,omitempty"`
	VerifiedAt      *time.Time       `json:"verified_at,omitempty"`
	Entitlements    entitlements     `json:"entitlements"`
	Changes         []changeAllowed  `json:"changes"`
	OpenApplication *openApplication `json:"open_application,omitempty"`
}

// entitlements tell a billing system what the account may buy and use.
type entitlements struct {
	Resources   []string `json:"resources"`
	VATInvoices bool     `json:"vat_invoices"`
}

type changeAllowed struct {
	To          string     `json:"to"`
	Allowed     bool       `json:"allowed"`
	AllowedFrom *time.Time `json:"allowed_from,omitempty"`
	Requirement string     `json:"requirement"`
}

type openApplication struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Kind   string `json:"kind"`
}

func (s *Server) getIdentity(w http.ResponseWriter, r *http.Request) {
	id := accountID(w, r)
	if id == "" {
		return
	}
	ident, err := s.store.GetIdentity(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	resp := identityResponse{AccountID: id, Entitlements: entitlements{Resources: []string{}}, Changes: []changeAllowed{}}
	acct := ident.Account
	if ident.Application != nil && acct.VerifiedAt != nil {
		app := ident.Application
		resp.Verified = true
		resp.SubjectType = acct.SubjectType
		resp.NameMasked = app.NameMasked
		resp.NumberMasked = app.NumberMasked
		resp.Region = app.Region
		resp.DocumentType = app.DocumentType
		resp.ApplicationID = app.ID
		resp.VerifiedAt = acct.VerifiedAt
		resp.Entitlements = entitlementsFor(acct.SubjectType)
		resp.Changes = changesFor(acct.SubjectType, *acct.VerifiedAt, s.cfg.Now())
	}

	apps, err := s.store.ListAccountApplications(r.Context(), id, "", 1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(apps) == 1 && apps[0].Open() {
		resp.OpenApplication = &openApplication{ID: apps[0].ID, Status: apps[0].Status, Kind: apps[0].Kind}
	}
	problem.WriteJSON(w, http.StatusOK, resp)
}

// entitlementsFor returns the entitlements of a subject type. Individuals
// buy individual resources and get no VAT invoices. Organizations buy
// organization resources and may request VAT invoices.
func entitlementsFor(subjectType string) entitlements {
	switch subjectType {
	case store.SubjectIndividual:
		return entitlements{Resources: []string{"individual"}, VATInvoices: false}
	case store.SubjectOrganization:
		return entitlements{Resources: []string{"organization"}, VATInvoices: true}
	}
	return entitlements{Resources: []string{}}
}

func changesFor(from string, verifiedAt, now time.Time) []changeAllowed {
	var out []changeAllowed
	for _, to := range []string{store.SubjectIndividual, store.SubjectOrganization} {
		c := changeAllowed{To: to}
		from := from
		earliest := store.ChangeAllowedFrom(from, to, verifiedAt)
		if earliest.IsZero() {
			c.Allowed = true
			c.Requirement = "allowed at any time"
		} else {
			e := earliest.UTC()
			c.AllowedFrom = &e
			c.Allowed = !now.Before(earliest)
			c.Requirement = "allowed " + strconv.Itoa(store.ChangeWaitDays) + " days after the last successful verification"
		}
		out = append(out, c)
	}
	return out
}

type icpRequest struct {
	EntityName string `json:"entity_name"`
}

type icpResponse struct {
	Matches  bool `json:"matches"`
	Verified bool `json:"verified"`
}

func (s *Server) icpNameCheck(w http.ResponseWriter, r *http.Request) {
	id := accountID(w, r)
	if id == "" {
		return
	}
	var req icpRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.EntityName) == "" {
		problem.Write(w, r, problem.Invalid([]identity.Violation{{Field: "entity_name", Code: "required",
			Detail: "entity_name is required: the name of the ICP filing entity."}}))
		return
	}
	if len([]rune(req.EntityName)) > 200 {
		problem.Write(w, r, problem.Invalid([]identity.Violation{{Field: "entity_name", Code: "too_long",
			Detail: "entity_name must be at most 200 characters."}}))
		return
	}
	name, err := s.store.VerifiedName(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := icpResponse{Verified: name != ""}
	resp.Matches = name != "" && identity.NameKey(name) == identity.NameKey(req.EntityName)
	problem.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	id := accountID(w, r)
	if id == "" {
		return
	}
	limit, ok := pageLimit(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var before int64
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			problem.Write(w, r, problem.New(http.StatusBadRequest, "invalid_cursor", "before must be a message id from next_before."))
			return
		}
		before = n
	}
	unread := false
	if v := q.Get("unread"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			problem.Write(w, r, problem.New(http.StatusBadRequest, "invalid_unread", "unread must be true or false."))
			return
		}
		unread = b
	}
	if _, err := s.store.GetAccount(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	msgs, count, err := s.store.ListMessages(r.Context(), id, unread, before, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := map[string]any{"messages": msgs, "unread_count": count}
	if len(msgs) == limit {
		resp["next_before"] = msgs[len(msgs)-1].ID
	}
	problem.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) markRead(w http.ResponseWriter, r *http.Request) {
	id := accountID(w, r)
	if id == "" {
		return
	}
	msgID, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || msgID < 1 {
		problem.Write(w, r, problem.New(http.StatusNotFound, "not_found", "No such message for this account."))
		return
	}
	msg, err := s.store.MarkMessageRead(r.Context(), id, msgID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	problem.WriteJSON(w, http.StatusOK, msg)
}
