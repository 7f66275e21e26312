package auth_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idverify/idverify/auth"
)

func TestRequire(t *testing.T) {
	var logs bytes.Buffer
	keys := &auth.Keys{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := keys.Add("intake-key-0123456789", auth.Principal{ID: "console", Scope: auth.ScopeIntake}); err != nil {
		t.Fatal(err)
	}
	if err := keys.Add("review-key-0123456789", auth.Principal{ID: "alice", Scope: auth.ScopeReview}); err != nil {
		t.Fatal(err)
	}
	var got auth.Principal
	h := keys.Require(auth.ScopeReview, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = auth.FromContext(r.Context())
	}))

	cases := []struct {
		name, header string
		status       int
	}{
		{name: "review key", header: "Bearer review-key-0123456789", status: http.StatusOK},
		{name: "missing", header: "", status: http.StatusUnauthorized},
		{name: "unknown", header: "Bearer nope-nope-nope-nope", status: http.StatusUnauthorized},
		{name: "wrong scope", header: "Bearer intake-key-0123456789", status: http.StatusForbidden},
		{name: "basic password", header: "Basic eDpyZXZpZXcta2V5LTAxMjM0NTY3ODk=", status: http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got = auth.Principal{}
			r := httptest.NewRequest(http.MethodGet, "/v1/review/applications", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if tc.status == http.StatusOK && got.ID != "alice" {
				t.Errorf("principal %+v, want alice", got)
			}
			if tc.status != http.StatusOK && w.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("content type %q, want application/problem+json", w.Header().Get("Content-Type"))
			}
		})
	}
	if !strings.Contains(logs.String(), "api key rejected") {
		t.Errorf("no rejection logged: %q", logs.String())
	}
	if strings.Contains(logs.String(), "nope-nope") || strings.Contains(logs.String(), "intake-key") {
		t.Errorf("log contains a key: %q", logs.String())
	}
}

func TestAddRejectsShortAndDuplicateKeys(t *testing.T) {
	keys := &auth.Keys{}
	if err := keys.Add("short", auth.Principal{ID: "a", Scope: auth.ScopeIntake}); err == nil {
		t.Error("Add accepted a 5-character key")
	}
	if err := keys.Add("long-enough-key-0001", auth.Principal{ID: "a", Scope: auth.ScopeIntake}); err != nil {
		t.Fatal(err)
	}
	if err := keys.Add("long-enough-key-0001", auth.Principal{ID: "b", Scope: auth.ScopeReview}); err == nil {
		t.Error("Add accepted the same key twice")
	}
}
