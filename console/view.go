package console

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/idverify/idverify/review"
	"github.com/idverify/idverify/store"
)

// timeLayout is the format of every instant the console prints, always
// in UTC.
const timeLayout = "2006-01-02 15:04 UTC"

var templateFuncs = template.FuncMap{
	"utc":            formatUTC,
	"utcp":           formatUTCPtr,
	"label":          label,
	"reasonLabel":    reasonLabel,
	"applicationURL": applicationURL,
	"join":           strings.Join,
	"duration":       durationText,
}

// durationText prints a configured duration in whole hours or minutes
// when it has no smaller part, such as "8 hours".
func durationText(d time.Duration) string {
	unit, n := "", 0
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		unit, n = "hour", int(d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		unit, n = "minute", int(d/time.Minute)
	default:
		return d.String()
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}

func formatUTC(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(timeLayout)
}

func formatUTCPtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return formatUTC(*t)
}

func applicationURL(id string) string {
	return Path + "applications/" + url.PathEscape(id)
}

// labels are the English names of codes the pages show. A code missing
// here is shown as it is.
var labels = map[string]string{
	store.StatusSubmitted:      "Submitted",
	store.StatusAwaitingReview: "Awaiting review",
	store.StatusApproved:       "Approved",
	store.StatusRejected:       "Rejected",
	store.StatusWithdrawn:      "Withdrawn",

	store.KindInitial: "Initial",
	store.KindChange:  "Identity change",

	store.SubjectIndividual:   "Individual",
	store.SubjectOrganization: "Organization",

	"passport":        "Passport",
	"national_id":     "National identity card",
	"drivers_license": "Driver's license",
	"work_permit":     "Work permit",

	store.AuditViewDetail: "Viewed details",
	store.AuditViewPhoto:  "Viewed photo",
	store.AuditClaim:      "Claimed",
	store.AuditRelease:    "Released claim",
	store.AuditDecide:     "Decided",
	store.AuditWithdraw:   "Withdrawn",
}

func label(code string) string {
	if l, ok := labels[code]; ok {
		return l
	}
	return code
}

// reasonLabels describe store.ReasonCodes for the rejection form.
var reasonLabels = map[string]string{
	"name_mismatch":          "Name does not match the document",
	"photo_unreadable":       "Photo is unreadable",
	"address_incomplete":     "Address is incomplete",
	"document_expired":       "Document has expired",
	"document_invalid":       "Document is not valid",
	"quota_exceeded":         "Identity already verifies the maximum number of accounts",
	"document_already_bound": "Document is already bound to another account",
	"other":                  "Other (explain in the note)",
}

func reasonLabel(code string) string {
	if l, ok := reasonLabels[code]; ok {
		return l
	}
	return code
}

// deadline is the review deadline of a row or page, classified for
// display.
type deadline struct {
	// Class is the CSS class: "on-time", "due-soon", "overdue",
	// "breached", or "none" for an application not awaiting review.
	Class string
	// Label is a short state such as "Escalated (level 1)".
	Label string
	// Relative is the time left or passed, such as "in 1 d 4 h".
	Relative string
	DueAt    *time.Time
	BreachAt *time.Time
	Region   string
}

// dueSoon is the time before its deadline from which an application is
// marked due soon.
const dueSoon = 24 * time.Hour

// deadlineOf classifies s's review deadline at now. The escalation level
// stored by the worker wins over the clock, so a page agrees with the
// notifications already sent.
func deadlineOf(s review.Summary, now time.Time) deadline {
	d := deadline{DueAt: s.ReviewDueAt, BreachAt: s.BreachAt, Region: s.Region, Class: "none"}
	if s.Status != store.StatusAwaitingReview || s.ReviewDueAt == nil {
		return d
	}
	breached := s.EscalationLevel >= 2 || (s.BreachAt != nil && !now.Before(*s.BreachAt))
	switch {
	case breached:
		d.Class, d.Label = "breached", "Breached (level 2)"
	case s.EscalationLevel == 1 || s.Overdue:
		d.Class, d.Label = "overdue", "Escalated (level 1)"
		if s.EscalationLevel == 0 {
			d.Label = "Overdue"
		}
	case s.ReviewDueAt.Sub(now) <= dueSoon:
		d.Class, d.Label = "due-soon", "Due soon"
	default:
		d.Class, d.Label = "on-time", "On time"
	}
	d.Relative = relative(s.ReviewDueAt.Sub(now))
	return d
}

// relative prints a duration to or since a deadline in days, hours and
// minutes, at most two units.
func relative(d time.Duration) string {
	past := d < 0
	if past {
		d = -d
	}
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	minutes := int(d % time.Hour / time.Minute)
	var s string
	switch {
	case days > 0:
		s = fmt.Sprintf("%d d %d h", days, hours)
	case hours > 0:
		s = fmt.Sprintf("%d h %d min", hours, minutes)
	default:
		s = fmt.Sprintf("%d min", minutes)
	}
	if past {
		return s + " ago"
	}
	return "in " + s
}
