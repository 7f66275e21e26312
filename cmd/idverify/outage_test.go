package main

import (
	"context"
	"net/http"
	"testing"
)

func TestSubmitWhileRedisUnreachable(t *testing.T) {
	b := setup(t, withRedisProxy)
	b.putAccount("acct-outage")

	b.redisProxy.Down()
	var created struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if code := b.submit("acct-outage", passportForm(), &created); code != http.StatusAccepted {
		t.Fatalf("submit with Redis down: status %d, want 202", code)
	}

	// The relay cannot hand the task to Redis, so it stays in the outbox
	// and the application stays submitted.
	b.in.relay.Dispatch(context.Background())
	pending, err := b.in.Store.PendingTasks(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range pending {
		if p.TaskID == "validate:"+created.ID {
			found = true
		}
	}
	if !found {
		t.Fatalf("validation task of %s not pending in the outbox while Redis is down: %+v", created.ID, pending)
	}
	var v applicationView
	b.do(http.MethodGet, "/v1/accounts/acct-outage/verifications/"+created.ID, testIntakeKey, nil, &v)
	if v.Status != "submitted" {
		t.Fatalf("status with Redis down = %q, want submitted", v.Status)
	}

	b.redisProxy.Up()
	b.waitStatus("acct-outage", created.ID, "awaiting_review")
}
