package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestReviewQueue fills the queue with applications that differ in
// region, subject type, status, escalation level and deadline, and reads
// it through each filter, in order and in pages.
func TestReviewQueue(t *testing.T) {
	epoch := reviewEpoch(t)
	clock := newTestClock(epoch)
	b := setup(t, withClock(clock))

	// The applications enter review an hour apart on a Monday, so their
	// review deadlines (Wednesday, same clock time) are an hour apart too.
	hk1 := b.reviewSubmit("queue-hk-1", passportForm())
	clock.Set(epoch.Add(time.Hour))
	hk2 := b.reviewSubmit("queue-hk-2", reviewVariant(passportForm(), map[string]string{"document_number": "K1234567"}, nil))
	clock.Set(epoch.Add(2 * time.Hour))
	cn := b.reviewSubmit("queue-cn", enterpriseForm())
	clock.Set(epoch.Add(3 * time.Hour))
	rejected := b.reviewSubmit("queue-rejected", reviewVariant(passportForm(), map[string]string{"document_number": "R7654321"}, nil))
	if code := b.reviewDecide(testReviewerKey, rejected, map[string]any{"decision": "reject", "reasons": []string{"photo_unreadable"}}, nil); code != http.StatusOK {
		t.Fatalf("reject %s: status %d, want 200", rejected, code)
	}

	// Escalation raises the priority: hk2 to level 2, cn to level 1.
	b.reviewEscalate(hk2, 2)
	b.reviewEscalate(cn, 1)

	hk1Due := b.reviewFind(hk1).ReviewDueAt
	if hk1Due == nil || !hk1Due.Equal(epoch.AddDate(0, 0, 2)) {
		t.Fatalf("review_due_at of %s = %v, want Wednesday %v", hk1, hk1Due, epoch.AddDate(0, 0, 2))
	}

	filters := []struct {
		query string
		want  []string
	}{
		{query: "", want: []string{hk2, cn, hk1}},
		{query: "status=awaiting_review", want: []string{hk2, cn, hk1}},
		{query: "status=rejected", want: []string{rejected}},
		{query: "status=submitted", want: []string{}},
		{query: "status=any", want: []string{hk2, cn, hk1, rejected}},
		{query: "region=HK", want: []string{hk2, hk1}},
		{query: "region=cn", want: []string{cn}},
		{query: "subject_type=organization", want: []string{cn}},
		{query: "subject_type=individual", want: []string{hk2, hk1}},
		{query: "region=HK&subject_type=organization", want: []string{}},
		{query: "escalated=true", want: []string{hk2, cn}},
		{query: "escalated=false", want: []string{hk1}},
		{query: "overdue=true", want: []string{}},
		{query: "overdue=false", want: []string{hk2, cn, hk1}},
	}
	for _, tc := range filters {
		name := tc.query
		if name == "" {
			name = "no filter"
		}
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, b.reviewQueue(tc.query).ids()); diff != "" {
				t.Errorf("GET /v1/review/applications?%s ids (-want +got):\n%s", tc.query, diff)
			}
		})
	}

	t.Run("escalation level", func(t *testing.T) {
		got := map[string]int{}
		for _, a := range b.reviewQueue("status=any").Applications {
			got[a.ID] = a.EscalationLevel
		}
		want := map[string]int{hk2: 2, cn: 1, hk1: 0, rejected: 0}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("escalation_level by id (-want +got):\n%s", diff)
		}
	})

	t.Run("pages", func(t *testing.T) {
		two := 2
		four := 4
		pages := []struct {
			query string
			want  reviewPageIDs
		}{
			{query: "limit=2", want: reviewPageIDs{IDs: []string{hk2, cn}, Limit: 2, Offset: 0, NextOffset: &two}},
			{query: "limit=2&offset=2", want: reviewPageIDs{IDs: []string{hk1}, Limit: 2, Offset: 2}},
			{query: "status=any&limit=2&offset=2", want: reviewPageIDs{IDs: []string{hk1, rejected}, Limit: 2, Offset: 2, NextOffset: &four}},
			{query: "status=any&limit=2&offset=4", want: reviewPageIDs{IDs: []string{}, Limit: 2, Offset: 4}},
			{query: "", want: reviewPageIDs{IDs: []string{hk2, cn, hk1}, Limit: 50, Offset: 0}},
		}
		for _, p := range pages {
			page := b.reviewQueue(p.query)
			got := reviewPageIDs{IDs: page.ids(), Limit: page.Limit, Offset: page.Offset, NextOffset: page.NextOffset}
			if diff := cmp.Diff(p.want, got); diff != "" {
				t.Errorf("GET /v1/review/applications?%s (-want +got):\n%s", p.query, diff)
			}
		}
	})

	// One minute after hk1's review deadline only hk1 is overdue; hk2
	// (escalated by hand) and cn are due later.
	clock.Set(hk1Due.Add(time.Minute))
	t.Run("overdue", func(t *testing.T) {
		if diff := cmp.Diff([]string{hk1}, b.reviewQueue("overdue=true").ids()); diff != "" {
			t.Errorf("overdue=true ids (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{hk2, cn}, b.reviewQueue("overdue=false").ids()); diff != "" {
			t.Errorf("overdue=false ids (-want +got):\n%s", diff)
		}
		got := map[string]bool{}
		for _, a := range b.reviewQueue("").Applications {
			got[a.ID] = a.Overdue
		}
		if diff := cmp.Diff(map[string]bool{hk1: true, hk2: false, cn: false}, got); diff != "" {
			t.Errorf("overdue by id (-want +got):\n%s", diff)
		}
	})
}

// reviewPageIDs is what a queue page test compares: ids and paging.
type reviewPageIDs struct {
	IDs        []string
	Limit      int
	Offset     int
	NextOffset *int
}

// TestReviewQueueInvalidFilter sends each invalid filter value and expects
// 400 invalid_request naming the field and its rule.
func TestReviewQueueInvalidFilter(t *testing.T) {
	b := setup(t)
	cases := []struct {
		query string
		want  []reviewFieldError
	}{
		{query: "status=open", want: []reviewFieldError{{Field: "status", Code: "invalid_status"}}},
		{query: "region=XX", want: []reviewFieldError{{Field: "region", Code: "invalid_region"}}},
		{query: "region=HKG", want: []reviewFieldError{{Field: "region", Code: "invalid_region"}}},
		{query: "subject_type=company", want: []reviewFieldError{{Field: "subject_type", Code: "invalid_subject_type"}}},
		{query: "overdue=soon", want: []reviewFieldError{{Field: "overdue", Code: "invalid_boolean"}}},
		{query: "escalated=2", want: []reviewFieldError{{Field: "escalated", Code: "invalid_boolean"}}},
		{query: "limit=0", want: []reviewFieldError{{Field: "limit", Code: "invalid_limit"}}},
		{query: "limit=201", want: []reviewFieldError{{Field: "limit", Code: "invalid_limit"}}},
		{query: "limit=ten", want: []reviewFieldError{{Field: "limit", Code: "invalid_limit"}}},
		{query: "offset=-1", want: []reviewFieldError{{Field: "offset", Code: "invalid_offset"}}},
		{query: "offset=100001", want: []reviewFieldError{{Field: "offset", Code: "invalid_offset"}}},
		{
			query: "status=open&subject_type=company&limit=0",
			want: []reviewFieldError{
				{Field: "status", Code: "invalid_status"},
				{Field: "subject_type", Code: "invalid_subject_type"},
				{Field: "limit", Code: "invalid_limit"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			var p reviewProblem
			code := b.do(http.MethodGet, "/v1/review/applications?"+tc.query, testReviewerKey, nil, &p)
			if code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", code)
			}
			if p.Code != "invalid_request" {
				t.Errorf("problem code %q, want invalid_request", p.Code)
			}
			if diff := cmp.Diff(tc.want, p.Errors); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}
