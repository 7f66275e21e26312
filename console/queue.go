package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/idverify/idverify/review"
	"github.com/idverify/idverify/store"
)

type queueRow struct {
	review.Summary
	URL         string
	Deadline    deadline
	ClaimedByMe bool
}

// option is one choice of a select element.
type option struct {
	Value, Label string
	Selected     bool
}

type queuePage struct {
	layout
	Region      string
	Status      []option
	SubjectType []option
	Overdue     []option
	Escalated   []option
	// Limit is the page size from the query, kept through the filter form
	// and the page links. It is empty for the default.
	Limit string

	Rows    []queueRow
	Invalid bool
	// FirstRow and LastRow number the rows shown, counting from 1.
	FirstRow, LastRow int
	PrevURL, NextURL  string
}

func options(current string, values ...string) []option {
	out := make([]option, 0, len(values)/2)
	for i := 0; i+1 < len(values); i += 2 {
		out = append(out, option{Value: values[i], Label: values[i+1], Selected: values[i] == current})
	}
	return out
}

// queue shows the review queue with the filters of the query string, in
// the API's order: highest escalation first, then the oldest review
// deadline, then the oldest submission.
func (c *Console) queue(w http.ResponseWriter, r *http.Request, s session) {
	q := r.URL.Query()
	status := q.Get("status")
	if status == "" {
		status = store.StatusAwaitingReview
	}
	page := queuePage{
		layout: layout{Title: "Review queue", Reviewer: s.Reviewer, CSRFToken: c.csrfToken(s)},
		Region: q.Get("region"),
		Status: options(status,
			store.StatusAwaitingReview, "Awaiting review", store.StatusSubmitted, "Submitted (validation running)",
			store.StatusApproved, "Approved", store.StatusRejected, "Rejected", store.StatusWithdrawn, "Withdrawn",
			"any", "Any status"),
		SubjectType: options(q.Get("subject_type"), "", "Any", store.SubjectIndividual, "Individual",
			store.SubjectOrganization, "Organization"),
		Overdue:   options(q.Get("overdue"), "", "Any", "true", "Overdue only", "false", "Not overdue"),
		Escalated: options(q.Get("escalated"), "", "Any", "true", "Escalated only", "false", "Not escalated"),
		Limit:     q.Get("limit"),
	}

	// Validate the filters.
	filter, bad := review.ParseFilter(q)
	if len(bad) > 0 {
		f := &flash{Error: true, Message: "Some filters are not valid. Fix them and apply the filters again."}
		for _, v := range bad {
			f.Details = append(f.Details, v.Detail)
		}
		page.Flash, page.Invalid = f, true
		c.render(w, r, http.StatusBadRequest, "queue.html", page)
		return
	}

	// Load one row more than the page holds, to know whether a next page
	// exists.
	probe := filter
	probe.Limit++
	apps, err := c.store.ListReview(r.Context(), probe)
	if err != nil {
		c.renderInternalError(w, r, "", err)
		return
	}
	hasNext := len(apps) > filter.Limit
	if hasNext {
		apps = apps[:filter.Limit]
	}

	// Build the rows and the page links.
	now := c.cfg.Now()
	for _, a := range apps {
		sum := review.Summarize(a, now)
		page.Rows = append(page.Rows, queueRow{
			Summary: sum, URL: applicationURL(a.ID), Deadline: deadlineOf(sum, now),
			ClaimedByMe: sum.Claim != nil && sum.Claim.Reviewer == s.Reviewer,
		})
	}
	if len(apps) > 0 {
		page.FirstRow, page.LastRow = filter.Offset+1, filter.Offset+len(apps)
	}
	if filter.Offset > 0 {
		page.PrevURL = pageURL(q, max(filter.Offset-filter.Limit, 0))
	}
	if hasNext {
		page.NextURL = pageURL(q, filter.Offset+filter.Limit)
	}
	c.render(w, r, http.StatusOK, "queue.html", page)
}

// pageURL returns the queue URL with the filters of q at offset.
func pageURL(q url.Values, offset int) string {
	out := url.Values{}
	for k, v := range q {
		if k != "offset" && len(v) > 0 && v[0] != "" {
			out.Set(k, v[0])
		}
	}
	if offset > 0 {
		out.Set("offset", strconv.Itoa(offset))
	}
	if len(out) == 0 {
		return Path
	}
	return Path + "?" + out.Encode()
}
