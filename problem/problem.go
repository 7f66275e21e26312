// Package problem writes RFC 9457 problem details (application/problem+json)
// with a stable code per rule and, for field errors, the list of fields.
package problem

import (
	"encoding/json"
	"net/http"

	"github.com/idverify/idverify/identity"
)

// Problem is an RFC 9457 problem details object with idverify's
// extension members code and errors.
type Problem struct {
	Type     string               `json:"type"`
	Title    string               `json:"title"`
	Status   int                  `json:"status"`
	Detail   string               `json:"detail,omitempty"`
	Instance string               `json:"instance,omitempty"`
	Code     string               `json:"code"`
	Errors   []identity.Violation `json:"errors,omitempty"`
	// Extra members, such as the open application's id, are merged into
	// the top-level object.
	Extra map[string]any `json:"-"`
}

// TypeBase prefixes each problem code to form the problem type URI.
const TypeBase = "https://idverify.dev/problems/"

// New returns a problem with the given status, code and detail; the title
// is the status text.
func New(status int, code, detail string) Problem {
	return Problem{Type: TypeBase + code, Title: http.StatusText(status), Status: status, Detail: detail, Code: code}
}

// Invalid returns a 400 problem listing field violations.
func Invalid(violations []identity.Violation) Problem {
	p := New(http.StatusBadRequest, "invalid_request", "The request has invalid fields; see errors for each field and rule.")
	p.Errors = violations
	return p
}

// Write sends p as application/problem+json. The instance member is the
// request path.
func Write(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Instance == "" && r != nil {
		p.Instance = r.URL.Path
		// A hostile path must not make every error as long as itself.
		if len(p.Instance) > 512 {
			p.Instance = p.Instance[:512]
		}
	}
	body := map[string]any{
		"type": p.Type, "title": p.Title, "status": p.Status, "code": p.Code, "instance": p.Instance,
	}
	if p.Detail != "" {
		body["detail"] = p.Detail
	}
	if len(p.Errors) > 0 {
		body["errors"] = p.Errors
	}
	for k, v := range p.Extra {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(body)
}
