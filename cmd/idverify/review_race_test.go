package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/store"
)

// reviewConcurrently sends the requests at the same moment and returns
// their results in order. A transport error fails the test.
func (b *bundle) reviewConcurrently(requests []func() reviewResult) []reviewResult {
	results := make([]reviewResult, len(requests))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, send := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = send()
		}()
	}
	close(start)
	wg.Wait()
	return results
}

// TestReviewConcurrentClaims has alice and bob claim one application at
// the same moment, four times each: one reviewer gets it (and renews it),
// the other gets claimed_by_other, and each granted claim is audited once.
func TestReviewConcurrentClaims(t *testing.T) {
	b := setup(t)
	id := b.reviewSubmit("race-claim", passportForm())

	var requests []func() reviewResult
	keys := map[string]string{testReviewerKey: "alice", testOtherKey: "bob"}
	var reviewers []string
	for range 4 {
		for _, key := range []string{testReviewerKey, testOtherKey} {
			reviewers = append(reviewers, keys[key])
			requests = append(requests, func() reviewResult {
				return b.reviewCall(http.MethodPost, "/v1/review/applications/"+id+"/claim", key, nil)
			})
		}
	}
	results := b.reviewConcurrently(requests)

	granted := map[string]int{}
	for i, r := range results {
		switch {
		case r.Status == http.StatusOK:
			granted[reviewers[i]]++
		case r.Status == http.StatusConflict && r.Problem.Code == "claimed_by_other":
		default:
			t.Errorf("claim by %s: status %d code %q, want 200 or 409 claimed_by_other", reviewers[i], r.Status, r.Problem.Code)
		}
	}
	if len(granted) != 1 {
		t.Fatalf("claims granted per reviewer %v, want all to one reviewer", granted)
	}
	var holder string
	for h := range granted {
		holder = h
	}
	if row := b.reviewFind(id); row.Claim == nil || row.Claim.Reviewer != holder {
		t.Errorf("claim %+v, want held by %s", row.Claim, holder)
	}
	claims := 0
	for _, e := range b.reviewTrail(id) {
		if e.Action == "claim" {
			claims++
			if e.Actor != holder {
				t.Errorf("audit entry %d: claim by %s, want only %s", e.ID, e.Actor, holder)
			}
		}
	}
	if claims != granted[holder] {
		t.Errorf("%d claim entries in the audit trail for %d granted claims", claims, granted[holder])
	}
}

// TestReviewConcurrentDecisions has alice approve and bob reject the same
// application at the same moment, on five applications: one decision
// wins, the other gets already_decided, and only the winner is recorded,
// audited and announced.
func TestReviewConcurrentDecisions(t *testing.T) {
	b := setup(t)
	for i := range 5 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			number := fmt.Sprintf("C%07d", i)
			id := b.reviewSubmit("race-decide-"+fmt.Sprint(i), reviewVariant(passportForm(), map[string]string{"document_number": number}, nil))
			path := "/v1/review/applications/" + id + "/decision"
			results := b.reviewConcurrently([]func() reviewResult{
				func() reviewResult {
					return b.reviewCall(http.MethodPost, path, testReviewerKey, map[string]any{"decision": "approve"})
				},
				func() reviewResult {
					return b.reviewCall(http.MethodPost, path, testOtherKey, map[string]any{"decision": "reject", "reasons": []string{"other"}, "note": "race"})
				},
			})

			type outcome struct{ Status, DecidedBy string }
			var winner outcome
			wins := 0
			for i, r := range results {
				switch {
				case r.Status == http.StatusOK:
					wins++
					winner = outcome{r.Row.Status, r.Row.DecidedBy}
				case r.Status == http.StatusConflict && r.Problem.Code == "already_decided":
				default:
					t.Errorf("decision %d: status %d code %q, want 200 or 409 already_decided", i, r.Status, r.Problem.Code)
				}
			}
			if wins != 1 {
				t.Fatalf("%d decisions succeeded, want exactly 1", wins)
			}
			row := b.reviewFind(id)
			if diff := cmp.Diff(winner, outcome{row.Status, row.DecidedBy}); diff != "" {
				t.Errorf("stored decision differs from the winning response (-want +got):\n%s", diff)
			}

			decides := 0
			for _, e := range b.reviewTrail(id) {
				if e.Action == "decide" {
					decides++
				}
			}
			if decides != 1 {
				t.Errorf("%d decide entries in the audit trail, want 1", decides)
			}
			ns, err := b.in.Store.ListNotifications(reviewContext(t), id)
			if err != nil {
				t.Fatal(err)
			}
			announced := map[string]int{}
			for _, n := range ns {
				if n.Channel == store.ChannelConsole && n.Event != store.EventReceived {
					announced[n.Event]++
				}
			}
			if diff := cmp.Diff(map[string]int{winner.Status: 1}, announced); diff != "" {
				t.Errorf("console notifications of the decision (-want +got):\n%s", diff)
			}
		})
	}
}
