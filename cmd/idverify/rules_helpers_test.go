package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rulesPart is one part of a multipart submission. Unlike form, a list of
// parts can repeat a name, send a text field as a file and keep its order.
type rulesPart struct {
	name     string
	filename string // a non-empty filename makes the part a file
	data     []byte
}

// rulesParts returns f as parts: the text fields sorted by name, then the
// photo.
func rulesParts(f form) []rulesPart {
	names := make([]string, 0, len(f.fields))
	for name := range f.fields {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]rulesPart, 0, len(names)+1)
	for _, name := range names {
		parts = append(parts, rulesPart{name: name, data: []byte(f.fields[name])})
	}
	if f.photo != nil {
		filename := f.photoName
		if filename == "" {
			filename = "photo.jpg"
		}
		parts = append(parts, rulesPart{name: "photo", filename: filename, data: f.photo})
	}
	return parts
}

// rulesMultipart encodes parts as a multipart/form-data body and returns
// its Content-Type and bytes.
func rulesMultipart(t testing.TB, parts []rulesPart) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		header := textproto.MIMEHeader{}
		if p.filename != "" {
			header.Set("Content-Disposition", `form-data; name="`+p.name+`"; filename="`+p.filename+`"`)
			header.Set("Content-Type", "application/octet-stream")
		} else {
			header.Set("Content-Disposition", `form-data; name="`+p.name+`"`)
		}
		w, err := mw.CreatePart(header)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

// rulesResponse is an HTTP response with its body read.
type rulesResponse struct {
	status int
	header http.Header
	body   []byte
}

// rulesProblem is a problem+json body with idverify's extension members.
type rulesProblem struct {
	Status            int               `json:"status"`
	Code              string            `json:"code"`
	Detail            string            `json:"detail"`
	Errors            []rulesFieldError `json:"errors"`
	OpenApplicationID string            `json:"open_application_id"`
	EarliestAt        string            `json:"earliest_at"`
}

// rulesFieldError is one entry of a problem's errors list, or of an
// application's failed checks, without its detail.
type rulesFieldError struct {
	Field string `json:"field"`
	Code  string `json:"code"`
}

// rulesDo sends a request, with the intake key unless header sets
// Authorization, and reads the whole response.
func (b *bundle) rulesDo(method, path string, header http.Header, body io.Reader) rulesResponse {
	b.t.Helper()
	req, err := http.NewRequest(method, b.url+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if _, ok := header["Authorization"]; !ok {
		req.Header.Set("Authorization", "Bearer "+testIntakeKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return rulesResponse{status: resp.StatusCode, header: resp.Header, body: data}
}

// rulesPost posts a multipart body with the intake key from any
// goroutine: it reports a failed round trip as status 0 instead of
// stopping the test.
func rulesPost(url, ctype string, body []byte, header http.Header) rulesResponse {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return rulesResponse{body: []byte(err.Error())}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+testIntakeKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return rulesResponse{body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return rulesResponse{body: []byte(err.Error())}
	}
	return rulesResponse{status: resp.StatusCode, header: resp.Header, body: data}
}

// rulesSubmit posts parts as a submission for account, with extra headers.
func (b *bundle) rulesSubmit(account string, parts []rulesPart, header http.Header) rulesResponse {
	b.t.Helper()
	ctype, body := rulesMultipart(b.t, parts)
	h := http.Header{"Content-Type": {ctype}}
	for k, v := range header {
		h[k] = v
	}
	return b.rulesDo(http.MethodPost, "/v1/accounts/"+account+"/verifications", h, bytes.NewReader(body))
}

// rulesSubmitOK submits f for account and returns the new application's id,
// failing the test unless the response is 202.
func (b *bundle) rulesSubmitOK(account string, f form) string {
	b.t.Helper()
	resp := b.rulesSubmit(account, rulesParts(f), nil)
	if resp.status != http.StatusAccepted {
		b.t.Fatalf("submit for %s: status %d, want 202; body %s", account, resp.status, resp.body)
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp.body, &created); err != nil || created.ID == "" {
		b.t.Fatalf("submit for %s: decode %q: %v", account, resp.body, err)
	}
	return created.ID
}

// rulesApprove approves an application awaiting review with the reviewer key.
func (b *bundle) rulesApprove(id string) {
	b.t.Helper()
	resp := b.rulesDo(http.MethodPost, "/v1/review/applications/"+id+"/decision",
		http.Header{"Authorization": {"Bearer " + testReviewerKey}, "Content-Type": {"application/json"}},
		strings.NewReader(`{"decision":"approve"}`))
	if resp.status != http.StatusOK {
		b.t.Fatalf("approve %s: status %d, want 200; body %s", id, resp.status, resp.body)
	}
}

// rulesVerify creates account, submits f, waits for review and approves it. It
// returns the application id.
func (b *bundle) rulesVerify(account string, f form) string {
	b.t.Helper()
	b.putAccount(account)
	id := b.rulesSubmitOK(account, f)
	b.waitStatus(account, id, "awaiting_review")
	b.rulesApprove(id)
	return id
}

// rulesWithdraw withdraws an application with the intake key.
func (b *bundle) rulesWithdraw(account, id string) rulesResponse {
	b.t.Helper()
	return b.rulesDo(http.MethodPost, "/v1/accounts/"+account+"/verifications/"+id+"/withdraw", nil, nil)
}

// rulesVerifyAll verifies forms[i] for accounts[i], submitting them all
// before waiting, so their validations share the workers' polling delay.
// It returns the application ids in the same order.
func (b *bundle) rulesVerifyAll(accounts []string, forms []form) []string {
	b.t.Helper()
	ids := make([]string, len(accounts))
	for i, account := range accounts {
		b.putAccount(account)
		ids[i] = b.rulesSubmitOK(account, forms[i])
	}
	for i, account := range accounts {
		b.waitStatus(account, ids[i], "awaiting_review")
		b.rulesApprove(ids[i])
	}
	return ids
}

// rulesIdentityView is the body of GET /v1/accounts/{id}/identity.
type rulesIdentityView struct {
	Verified      bool       `json:"verified"`
	SubjectType   string     `json:"subject_type"`
	NameMasked    string     `json:"name_masked"`
	NumberMasked  string     `json:"number_masked"`
	ApplicationID string     `json:"application_id"`
	VerifiedAt    *time.Time `json:"verified_at"`
	Entitlements  struct {
		Resources   []string `json:"resources"`
		VATInvoices bool     `json:"vat_invoices"`
	} `json:"entitlements"`
	Changes []struct {
		To          string     `json:"to"`
		Allowed     bool       `json:"allowed"`
		AllowedFrom *time.Time `json:"allowed_from"`
	} `json:"changes"`
	OpenApplication *struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Kind   string `json:"kind"`
	} `json:"open_application"`
}

// rulesIdentity reads an account's identity, failing the test unless the
// response is 200.
func (b *bundle) rulesIdentity(account string) rulesIdentityView {
	b.t.Helper()
	var ident rulesIdentityView
	if code := b.do(http.MethodGet, "/v1/accounts/"+account+"/identity", testIntakeKey, nil, &ident); code != http.StatusOK {
		b.t.Fatalf("GET identity of %s: status %d, want 200", account, code)
	}
	return ident
}

// rulesICP runs the ICP name check for account and returns the matches
// and verified members.
func (b *bundle) rulesICP(account, entityName string) (matches, verified bool) {
	b.t.Helper()
	var out struct {
		Matches  bool `json:"matches"`
		Verified bool `json:"verified"`
	}
	code := b.do(http.MethodPost, "/v1/accounts/"+account+"/icp-name-check", testIntakeKey,
		map[string]string{"entity_name": entityName}, &out)
	if code != http.StatusOK {
		b.t.Fatalf("ICP name check for %s: status %d, want 200", account, code)
	}
	return out.Matches, out.Verified
}

// rulesReviewFields reads an application's decrypted fields through the
// review API.
func (b *bundle) rulesReviewFields(id string) map[string]string {
	b.t.Helper()
	var detail struct {
		Fields map[string]string `json:"fields"`
	}
	if code := b.do(http.MethodGet, "/v1/review/applications/"+id, testReviewerKey, nil, &detail); code != http.StatusOK {
		b.t.Fatalf("GET review detail %s: status %d, want 200", id, code)
	}
	return detail.Fields
}

// rulesCheckProblem asserts that resp is a problem+json response with the status,
// code and field errors given, and returns the decoded problem. Field
// errors are compared as a set.
func rulesCheckProblem(t testing.TB, resp rulesResponse, status int, code string, fields []rulesFieldError) rulesProblem {
	t.Helper()
	if resp.status != status {
		t.Errorf("status = %d, want %d; body %s", resp.status, status, resp.body)
	}
	if ct := resp.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p rulesProblem
	if err := json.Unmarshal(resp.body, &p); err != nil {
		t.Fatalf("decode problem %q: %v", resp.body, err)
	}
	if p.Code != code {
		t.Errorf("code = %q, want %q; detail %q", p.Code, code, p.Detail)
	}
	if p.Status != resp.status {
		t.Errorf("status member = %d, HTTP status %d", p.Status, resp.status)
	}
	if diff := cmp.Diff(rulesSorted(fields), rulesSorted(p.Errors)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	return p
}

func rulesSorted(in []rulesFieldError) []rulesFieldError {
	out := append([]rulesFieldError{}, in...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Field != out[j].Field {
			return out[i].Field < out[j].Field
		}
		return out[i].Code < out[j].Code
	})
	return out
}

// rulesField is shorthand for a rulesFieldError.
func rulesField(field, code string) rulesFieldError {
	return rulesFieldError{Field: field, Code: code}
}

// rulesFor returns a copy of b that reports failures to t, so helpers
// called inside a subtest stop the subtest and not its parent.
func (b *bundle) rulesFor(t testing.TB) *bundle {
	c := *b
	c.t = t
	return &c
}
