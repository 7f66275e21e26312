package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// reviewClaimStep is one request of a claim scenario and what it must
// return.
type reviewClaimStep struct {
	name string
	at   time.Duration // test clock offset from the start
	// method and path ("claim" or "decision") name the request; a step
	// without a method only reads the queue.
	method string
	path   string
	key    string
	// status and code are the expected HTTP status and problem code.
	status int
	code   string
	// holder is the reviewer with a live claim after the step, or "" for
	// no live claim. expires is the claim's end as an offset from the
	// start.
	holder  string
	expires time.Duration
}

// TestReviewClaims walks one application through claims by alice and bob
// on the test clock with the default 30-minute claim time. A live claim
// blocks the other reviewer's claim, decision and release. Its holder
// renews it, it expires on its own, and a release ends it early.
func TestReviewClaims(t *testing.T) {
	start := reviewEpoch(t)
	clock := newTestClock(start)
	b := setup(t, withClock(clock))
	id := b.reviewSubmit("claims", passportForm())

	const (
		post = http.MethodPost
		del  = http.MethodDelete
	)
	approve := map[string]any{"decision": "approve"}
	steps := []reviewClaimStep{
		{name: "alice claims", method: post, path: "claim", key: testReviewerKey,
			status: 200, holder: "alice", expires: 30 * time.Minute},
		{name: "bob cannot claim", method: post, path: "claim", key: testOtherKey,
			status: 409, code: "claimed_by_other", holder: "alice", expires: 30 * time.Minute},
		{name: "bob cannot decide", method: post, path: "decision", key: testOtherKey,
			status: 409, code: "claimed_by_other", holder: "alice", expires: 30 * time.Minute},
		{name: "bob cannot release", method: del, path: "claim", key: testOtherKey,
			status: 409, code: "claimed_by_other", holder: "alice", expires: 30 * time.Minute},
		{name: "alice renews", at: 10 * time.Minute, method: post, path: "claim", key: testReviewerKey,
			status: 200, holder: "alice", expires: 40 * time.Minute},
		{name: "renewal outlives first claim", at: 35 * time.Minute, method: post, path: "claim", key: testOtherKey,
			status: 409, code: "claimed_by_other", holder: "alice", expires: 40 * time.Minute},
		{name: "bob blocked until expiry", at: 40*time.Minute - time.Millisecond, method: post, path: "claim", key: testOtherKey,
			status: 409, code: "claimed_by_other", holder: "alice", expires: 40 * time.Minute},
		{name: "claim expires on its own", at: 40 * time.Minute},
		{name: "bob claims expired claim", at: 40 * time.Minute, method: post, path: "claim", key: testOtherKey,
			status: 200, holder: "bob", expires: 70 * time.Minute},
		{name: "alice cannot decide", at: 41 * time.Minute, method: post, path: "decision", key: testReviewerKey,
			status: 409, code: "claimed_by_other", holder: "bob", expires: 70 * time.Minute},
		{name: "bob releases", at: 41 * time.Minute, method: del, path: "claim", key: testOtherKey,
			status: 204},
		{name: "alice claims released", at: 41 * time.Minute, method: post, path: "claim", key: testReviewerKey,
			status: 200, holder: "alice", expires: 71 * time.Minute},
		{name: "alice releases", at: 42 * time.Minute, method: del, path: "claim", key: testReviewerKey,
			status: 204},
		{name: "release without claim", at: 42 * time.Minute, method: del, path: "claim", key: testReviewerKey,
			status: 204},
		{name: "bob claims again", at: 43 * time.Minute, method: post, path: "claim", key: testOtherKey,
			status: 200, holder: "bob", expires: 73 * time.Minute},
		{name: "bob decides", at: 44 * time.Minute, method: post, path: "decision", key: testOtherKey,
			status: 200},
	}
	for _, s := range steps {
		clock.Set(start.Add(s.at))
		var body any
		if s.path == "decision" {
			body = approve
		}
		var got reviewResult
		if s.method != "" {
			got = b.reviewCall(s.method, "/v1/review/applications/"+id+"/"+s.path, s.key, body)
			if got.Status != s.status || got.Problem.Code != s.code {
				t.Fatalf("%s: status %d code %q, want %d %q", s.name, got.Status, got.Problem.Code, s.status, s.code)
			}
		}

		// Both reviewers see the same holder in the queue, and the
		// response to a successful claim shows it too.
		want := reviewClaimView(s.holder, start.Add(s.expires))
		row := b.reviewFind(id)
		if diff := cmp.Diff(want, reviewClaimOf(row)); diff != "" {
			t.Errorf("%s: claim in alice's queue (-want +got):\n%s", s.name, diff)
		}
		var bobs reviewPage
		b.do(http.MethodGet, "/v1/review/applications?status=any", testOtherKey, nil, &bobs)
		if len(bobs.Applications) != 1 {
			t.Fatalf("%s: bob's queue has %d applications, want 1", s.name, len(bobs.Applications))
		}
		if diff := cmp.Diff(want, reviewClaimOf(bobs.Applications[0])); diff != "" {
			t.Errorf("%s: claim in bob's queue (-want +got):\n%s", s.name, diff)
		}
		if s.path == "claim" && s.method == post && s.status == 200 {
			if diff := cmp.Diff(want, reviewClaimOf(got.Row)); diff != "" {
				t.Errorf("%s: claim in the response (-want +got):\n%s", s.name, diff)
			}
		}
	}

	final := b.reviewFind(id)
	if final.Status != "approved" || final.DecidedBy != "bob" {
		t.Errorf("after bob's decision: status %q decided_by %q, want approved by bob", final.Status, final.DecidedBy)
	}

	// Refused requests leave no audit entry; each accepted one leaves one.
	type step struct{ Actor, Action string }
	var got []step
	for _, e := range b.reviewTrail(id) {
		got = append(got, step{e.Actor, e.Action})
	}
	want := []step{
		{"alice", "claim"}, {"alice", "claim"}, {"bob", "claim"}, {"bob", "release"}, {"alice", "claim"},
		{"alice", "release"}, {"alice", "release"}, {"bob", "claim"}, {"bob", "decide"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit trail (-want +got):\n%s", diff)
	}
}

// reviewClaimInfo is a claim as the claim tests compare it.
type reviewClaimInfo struct {
	Reviewer  string
	ExpiresAt time.Time
}

func reviewClaimView(holder string, expires time.Time) *reviewClaimInfo {
	if holder == "" {
		return nil
	}
	return &reviewClaimInfo{Reviewer: holder, ExpiresAt: expires.UTC()}
}

func reviewClaimOf(r reviewRow) *reviewClaimInfo {
	if r.Claim == nil {
		return nil
	}
	return &reviewClaimInfo{Reviewer: r.Claim.Reviewer, ExpiresAt: r.Claim.ExpiresAt.UTC()}
}

// TestReviewClaimTTLConfig shows that the configured claim time
// (IDVERIFY_CLAIM_TTL) replaces the default 30 minutes.
func TestReviewClaimTTLConfig(t *testing.T) {
	start := reviewEpoch(t)
	clock := newTestClock(start)
	b := setup(t, withClock(clock), withConfig(func(c *Config) { c.ClaimTTL = 5 * time.Minute }))
	id := b.reviewSubmit("claim-ttl", passportForm())
	path := "/v1/review/applications/" + id + "/claim"

	got := b.reviewCall(http.MethodPost, path, testReviewerKey, nil)
	if got.Status != http.StatusOK {
		t.Fatalf("alice claims: status %d, want 200", got.Status)
	}
	if diff := cmp.Diff(reviewClaimView("alice", start.Add(5*time.Minute)), reviewClaimOf(got.Row)); diff != "" {
		t.Errorf("claim (-want +got):\n%s", diff)
	}

	clock.Set(start.Add(5 * time.Minute))
	got = b.reviewCall(http.MethodPost, path, testOtherKey, nil)
	if got.Status != http.StatusOK {
		t.Fatalf("bob claims after 5 minutes: status %d code %q, want 200", got.Status, got.Problem.Code)
	}
	if diff := cmp.Diff(reviewClaimView("bob", start.Add(10*time.Minute)), reviewClaimOf(got.Row)); diff != "" {
		t.Errorf("bob's claim (-want +got):\n%s", diff)
	}
}
