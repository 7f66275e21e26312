package problem_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idverify/idverify/problem"
)

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Name    string   `json:"name"`
		Reasons []string `json:"reasons"`
	}
	cases := []struct {
		name, in   string
		ok         bool
		status     int
		detailPart string
	}{
		{name: "valid", in: `{"name":"x","reasons":["a"]}`, ok: true},
		{name: "null", in: `null`, status: 400, detailPart: "one JSON object"},
		{name: "empty", in: ``, status: 400, detailPart: "one JSON object"},
		{name: "array", in: `[1]`, status: 400, detailPart: "one JSON object"},
		{name: "trailing value", in: `{"name":"x"} {"name":"y"}`, status: 400, detailPart: "exactly one"},
		{name: "unknown member", in: `{"nmae":"x"}`, status: 400, detailPart: `Unknown member "nmae"`},
		{name: "wrong type", in: `{"reasons":"a"}`, status: 400, detailPart: `"reasons" must be an array`},
		{name: "syntax", in: `{"name":}`, status: 400, detailPart: "not valid JSON"},
		{name: "too large", in: `{"name":"` + strings.Repeat("a", problem.MaxJSONBody) + `"}`, status: 413, detailPart: "65536"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(tc.in))
			var v body
			ok := problem.DecodeJSON(w, r, &v)
			if ok != tc.ok {
				t.Fatalf("DecodeJSON = %v, want %v (body %s)", ok, tc.ok, w.Body)
			}
			if tc.ok {
				return
			}
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			var p struct {
				Detail string `json:"detail"`
			}
			json.Unmarshal(w.Body.Bytes(), &p)
			if !strings.Contains(p.Detail, tc.detailPart) {
				t.Errorf("detail %q does not contain %q", p.Detail, tc.detailPart)
			}
			if strings.Contains(p.Detail, "Go ") || strings.Contains(p.Detail, "problem_test") {
				t.Errorf("detail %q shows Go internals", p.Detail)
			}
		})
	}
}
