package console

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/idverify/idverify/auth"
)

func TestSessionOfRemovedReviewerRejected(t *testing.T) {
	keys := &auth.Keys{}
	if err := keys.Add("alice-review-key-0123", auth.Principal{ID: "alice", Scope: auth.ScopeReview}); err != nil {
		t.Fatal(err)
	}
	c, err := New(nil, nil, keys, Config{SessionKey: bytes.Repeat([]byte{7}, 32), Now: time.Now}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		reviewer string
		want     bool
	}{
		{reviewer: "alice", want: true},
		// carol's key was removed after she signed in: her cookie is
		// still signed and unexpired, but no key belongs to her.
		{reviewer: "carol", want: false},
	} {
		r := httptest.NewRequest(http.MethodGet, Path, nil)
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.encodeSession(c.newSession(tc.reviewer))})
		if _, ok := c.readSession(r); ok != tc.want {
			t.Errorf("session of %s accepted = %v, want %v", tc.reviewer, ok, tc.want)
		}
	}
}
