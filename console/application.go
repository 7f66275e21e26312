package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/idverify/idverify/review"
	"github.com/idverify/idverify/store"
)

type applicationPage struct {
	layout
	D            review.Detail
	Deadline     deadline
	Audit        []store.AuditEntry
	History      []queueRow
	PhotoURL     string
	Organization bool

	// AwaitingReview shows the claim box, and ClaimedByMe with it the
	// decision forms.
	AwaitingReview bool
	ClaimedByMe    bool
	ClaimedByOther bool
	ClaimTTL       time.Duration

	Form    decisionForm
	Reasons []reasonOption
}

// decisionForm holds what the reviewer entered, so a rejected submission
// shows the form filled in again.
type decisionForm struct {
	Decision        string
	Note            string
	ResubmitAllowed bool
}

type reasonOption struct {
	Code, Label string
	Checked     bool
}

// doneMessages confirm a successful action on the page that the action
// redirects to. The query parameter done selects one.
var doneMessages = map[string]string{
	"claimed":            "You claimed this application. Approve or reject it before the claim expires.",
	"released":           "You released your claim. Another reviewer may take the application now.",
	store.StatusApproved: "Application approved. The applicant will be notified.",
	store.StatusRejected: "Application rejected. The applicant will be notified.",
}

// application shows one application with its decrypted fields. Package
// review writes the read to the audit log before it returns them.
func (c *Console) application(w http.ResponseWriter, r *http.Request, s session) {
	var f *flash
	if msg, ok := doneMessages[r.URL.Query().Get("done")]; ok {
		f = &flash{Message: msg}
	}
	c.showApplication(w, r, s, http.StatusOK, f, decisionForm{ResubmitAllowed: true}, nil)
}

// showApplication loads and renders the application page with a flash
// message and the decision form filled with form and checked.
func (c *Console) showApplication(w http.ResponseWriter, r *http.Request, s session, status int, f *flash,
	form decisionForm, checked []string) {
	id := r.PathValue("id")
	d, err := c.review.LoadDetail(r, id)
	if errors.Is(err, store.ErrNotFound) {
		c.renderError(w, r, http.StatusNotFound, "Application not found", "No application has this id.")
		return
	}
	if err != nil {
		c.renderInternalError(w, r, id, err)
		return
	}
	audit, err := c.store.AuditTrail(r.Context(), id)
	if err != nil {
		c.renderInternalError(w, r, id, err)
		return
	}

	now := c.cfg.Now()
	page := applicationPage{
		layout:         layout{Title: "Application " + d.ID, Reviewer: s.Reviewer, CSRFToken: c.csrfToken(s), Flash: f},
		D:              d,
		Deadline:       deadlineOf(d.Summary, now),
		Audit:          audit,
		PhotoURL:       applicationURL(d.ID) + "/photo",
		Organization:   d.SubjectType == store.SubjectOrganization,
		AwaitingReview: d.Status == store.StatusAwaitingReview,
		ClaimedByMe:    d.Claim != nil && d.Claim.Reviewer == s.Reviewer,
		ClaimedByOther: d.Claim != nil && d.Claim.Reviewer != s.Reviewer,
		ClaimTTL:       c.cfg.ClaimTTL,
		Form:           form,
	}
	for _, h := range d.History {
		page.History = append(page.History, queueRow{Summary: h, URL: applicationURL(h.ID), Deadline: deadlineOf(h, now)})
	}
	for _, code := range store.ReasonCodes {
		page.Reasons = append(page.Reasons, reasonOption{Code: code, Label: reasonLabel(code), Checked: slices.Contains(checked, code)})
	}
	c.render(w, r, status, "application.html", page)
}

// photo serves the application's photo through package review, which
// writes the read to the audit log first.
func (c *Console) photo(w http.ResponseWriter, r *http.Request, s session) {
	c.review.ServePhoto(w, r, r.PathValue("id"))
}

// claim gives the application to the reviewer for ClaimTTL, or renews
// the reviewer's own claim.
func (c *Console) claim(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")
	if _, err := c.store.Claim(r.Context(), id, s.Reviewer, c.cfg.ClaimTTL); err != nil {
		c.actionFailed(w, r, s, err, decisionForm{ResubmitAllowed: true}, nil)
		return
	}
	redirectDone(w, r, id, "claimed")
}

// release ends the reviewer's claim.
func (c *Console) release(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")
	if err := c.store.Release(r.Context(), id, s.Reviewer); err != nil {
		c.actionFailed(w, r, s, err, decisionForm{ResubmitAllowed: true}, nil)
		return
	}
	redirectDone(w, r, id, "released")
}

// decide records an approval or rejection from the decision forms. Bad
// input and refusals by the store show the page again, with the message
// and the form as it was sent.
func (c *Console) decide(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")

	// Decode the form into the API's request, so both validate alike.
	req := review.DecisionRequest{
		Decision: r.PostForm.Get("decision"),
		Reasons:  r.PostForm["reasons"],
		Note:     r.PostForm.Get("note"),
	}
	form := decisionForm{Decision: req.Decision, Note: req.Note, ResubmitAllowed: true}
	if req.Decision == "reject" {
		// An unchecked checkbox sends nothing, so absence means false.
		allowed := r.PostForm.Get("resubmit_allowed") == "true"
		req.ResubmitAllowed = &allowed
		form.ResubmitAllowed = allowed
	}

	// Validate.
	decision, bad := req.Validate()
	if len(bad) > 0 {
		f := &flash{Error: true, Message: "The decision was not recorded. Fix the form and submit it again."}
		for _, v := range bad {
			f.Details = append(f.Details, v.Detail)
		}
		c.showApplication(w, r, s, http.StatusUnprocessableEntity, f, form, req.Reasons)
		return
	}

	// Decide.
	app, err := c.review.Decide(r, id, decision)
	if err != nil {
		c.actionFailed(w, r, s, err, form, req.Reasons)
		return
	}
	redirectDone(w, r, id, app.Status)
}

// redirectDone sends the browser back to the application page after a
// successful POST, so reloading the page does not repeat the action.
func redirectDone(w http.ResponseWriter, r *http.Request, id, done string) {
	http.Redirect(w, r, applicationURL(id)+"?done="+done, http.StatusSeeOther)
}

// actionFailed shows the application page with a readable message for an
// error from the store, or the not-found or internal error page.
func (c *Console) actionFailed(w http.ResponseWriter, r *http.Request, s session, err error, form decisionForm, checked []string) {
	status, message := actionError(err)
	switch {
	case errors.Is(err, store.ErrNotFound):
		c.renderError(w, r, http.StatusNotFound, "Application not found", "No application has this id.")
	case status == 0:
		c.renderInternalError(w, r, r.PathValue("id"), err)
	default:
		c.showApplication(w, r, s, status, &flash{Error: true, Message: message}, form, checked)
	}
}

// actionError returns the HTTP status and the message for an error that
// the store returns for a claim, release or decision, or 0 for an error
// that is not the reviewer's to resolve.
func actionError(err error) (int, string) {
	var early *store.ChangeTooEarlyError
	switch {
	case errors.Is(err, store.ErrClaimedByOther):
		return http.StatusConflict, "Another reviewer holds a live claim on this application, so nothing was changed. " +
			"Wait until the claim expires or is released."
	case errors.Is(err, store.ErrDecided):
		return http.StatusConflict, "The application was already approved, rejected or withdrawn, so nothing was changed."
	case errors.Is(err, store.ErrNotAwaitingReview):
		return http.StatusConflict, "The application is not awaiting review: automatic validation is still running, " +
			"or it was already decided. Nothing was changed."
	case errors.Is(err, store.ErrQuotaExceeded):
		return http.StatusConflict, "Approval failed because this identity already verifies the maximum number of accounts " +
			"(1 per personal document, 5 per enterprise). Reject the application with the quota reason instead."
	case errors.As(err, &early):
		return http.StatusUnprocessableEntity, fmt.Sprintf("Approval failed: a change from %s to %s identity is allowed "+
			"%d days after the last successful verification, from %s.",
			early.From, early.To, store.ChangeWaitDays, formatUTC(early.Earliest))
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, "The request timed out. Reload the page to see whether the action took effect."
	}
	return 0, ""
}
