package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/hibiken/asynq"

	"github.com/idverify/idverify/identity"
	"github.com/idverify/idverify/photo"
	"github.com/idverify/idverify/store"
	"github.com/idverify/idverify/tasks"
)

// HandleValidate runs the automatic checks of one application and moves it
// to awaiting_review or rejects it with every failed check. The check
// results (rule codes, never values) are also written as the task result.
// Running it again after it finished changes nothing.
func (h *Handlers) HandleValidate(ctx context.Context, t *asynq.Task) error {
	var p tasks.ApplicationPayload
	if err := tasks.Decode(t.Payload(), &p); err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	log := h.taskLogger(ctx, t).With("application_id", p.ApplicationID)

	// Load.
	app, err := h.Store.GetApplicationDecrypted(ctx, p.ApplicationID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("application %s not found: %w", p.ApplicationID, asynq.SkipRetry)
	}
	if err != nil {
		return fmt.Errorf("load application: %w", err)
	}
	if app.Status != store.StatusSubmitted {
		log.Info("validation skipped: application already past submission", "status", app.Status)
		return h.writeResult(t, app.Checks)
	}
	img, err := h.Store.GetPhoto(ctx, app.ID)
	if err != nil {
		return fmt.Errorf("load photo: %w", err)
	}

	// Check.
	outcome, err := h.check(ctx, app, img)
	if err != nil {
		return err
	}

	// Record.
	updated, changed, err := h.Store.CompleteValidation(ctx, app.ID, outcome)
	if err != nil {
		return fmt.Errorf("record validation: %w", err)
	}
	if changed {
		// The status this run set: by the time updated was read back, a
		// fast reviewer may have decided already.
		status := store.StatusRejected
		if outcome.Checks.Passed {
			status = store.StatusAwaitingReview
		}
		h.transition(status)
		h.kick()
		log.Info("application validated", "status", status, "failed_checks", len(outcome.Checks.Violations()))
	}
	return h.writeResult(t, updated.Checks)
}

func (h *Handlers) writeResult(t *asynq.Task, checks *store.Checks) error {
	if checks == nil || t.ResultWriter() == nil {
		return nil
	}
	b, err := json.Marshal(checks)
	if err != nil {
		return fmt.Errorf("encode task result: %w", err)
	}
	if _, err := t.ResultWriter().Write(b); err != nil {
		return fmt.Errorf("write task result: %w", err)
	}
	return nil
}

// check runs every rule and collects all failures, grouped into named
// checks by field.
func (h *Handlers) check(ctx context.Context, app store.Application, img []byte) (store.ValidationOutcome, error) {
	var out store.ValidationOutcome
	var violations []identity.Violation
	var identityKey string

	switch app.SubjectType {
	case store.SubjectOrganization:
		norm, v := identity.ValidateOrganization(identity.Organization{
			Region: app.Region, EnterpriseName: app.Fields.EnterpriseName,
			RegisteredAddress: app.Fields.RegisteredAddress, RegistrationNumber: app.Fields.RegistrationNumber,
		})
		violations = append(violations, v...)
		identityKey = norm.IdentityKey()
		out.NameMasked = identity.Mask(norm.EnterpriseName)
		out.NumberMasked = identity.Mask(norm.RegistrationNumber)
	default:
		norm, v := identity.ValidateIndividual(identity.Individual{
			Region: app.Region, DocumentType: app.DocumentType, IssuingCountry: app.IssuingCountry,
			FullName: app.Fields.FullName, Address: app.Fields.Address,
			DocumentNumber: app.Fields.DocumentNumber, MRZ: app.Fields.MRZ,
		})
		violations = append(violations, v...)
		identityKey = norm.IdentityKey()
		out.NameMasked = identity.Mask(norm.FullName)
		out.NumberMasked = identity.Mask(norm.DocumentNumber)
	}

	_, pv := photo.Inspect(img, h.Photo)
	violations = append(violations, pv...)

	out.IdentityFingerprint = h.Store.Keys().Fingerprint("identity", []byte(identityKey))
	use, err := h.Store.IdentityUse(ctx, out.IdentityFingerprint, app.AccountID)
	if err != nil {
		return out, err
	}
	quota := store.Quota(app.SubjectType)
	numberField := "document_number"
	if app.SubjectType == store.SubjectOrganization {
		numberField = "business_registration_number"
	}
	if !use.ThisAccount && use.OtherAccounts >= quota {
		violations = append(violations, identity.Violation{Field: numberField, Code: "quota_exceeded",
			Detail: fmt.Sprintf("This identity already verifies %d account(s), the maximum for a %s.", use.OtherAccounts, subjectNoun(app.SubjectType))})
	}

	// Flags inform the reviewer without failing validation.
	if use.OtherAccounts > 0 && use.OtherAccounts < quota {
		out.Checks.Flags = append(out.Checks.Flags, store.Flag{Code: "identity_bound_elsewhere",
			Detail: fmt.Sprintf("This identity already verifies %d other account(s).", use.OtherAccounts)})
	}
	photoUse, err := h.Store.PhotoUseElsewhere(ctx, app.PhotoFingerprint, app.AccountID)
	if err != nil {
		return out, err
	}
	if photoUse > 0 {
		out.Checks.Flags = append(out.Checks.Flags, store.Flag{Code: "photo_reused",
			Detail: fmt.Sprintf("The same photo was submitted by %d other account(s).", photoUse)})
	}

	out.Checks.Checks = groupChecks(app.SubjectType, violations)
	out.Checks.Passed = len(violations) == 0
	out.Checks.CheckedAt = h.Now().UTC()

	if out.Checks.Passed {
		cal := h.Calendars.For(app.Region)
		start := h.Now()
		out.ReviewDueAt = cal.AddBusinessDays(start, h.ReviewDays)
		out.BreachAt = cal.AddBusinessDays(start, h.BreachDays)
	}
	return out, nil
}

func subjectNoun(subjectType string) string {
	if subjectType == store.SubjectOrganization {
		return "enterprise (5)"
	}
	return "personal document (1)"
}

// groupChecks returns one check per field the subject type has, each
// holding its violations, in a fixed order.
func groupChecks(subjectType string, violations []identity.Violation) []store.Check {
	fields := []string{"region", "document_type", "issuing_country", "full_name", "address", "document_number", "mrz", "photo"}
	if subjectType == store.SubjectOrganization {
		fields = []string{"region", "enterprise_name", "registered_address", "business_registration_number", "photo"}
	}
	byField := make(map[string][]identity.Violation)
	for _, v := range violations {
		byField[v.Field] = append(byField[v.Field], v)
	}
	var out []store.Check
	seen := make(map[string]bool)
	for _, f := range fields {
		seen[f] = true
		out = append(out, store.Check{Name: f, Passed: len(byField[f]) == 0, Violations: byField[f]})
	}
	// Violations on fields outside the list still fail, under their own
	// check, so nothing is dropped.
	var extra []string
	for f := range byField {
		if !seen[f] {
			extra = append(extra, f)
		}
	}
	sort.Strings(extra)
	for _, f := range extra {
		out = append(out, store.Check{Name: f, Passed: false, Violations: byField[f]})
	}
	return out
}
