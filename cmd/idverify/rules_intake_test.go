package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRulesIntakeShape sends forms that break one shape rule each and
// expects 400 invalid_request naming every broken field and rule, with
// nothing stored.
func TestRulesIntakeShape(t *testing.T) {
	without := func(names ...string) func(form) form {
		return func(f form) form {
			for _, n := range names {
				delete(f.fields, n)
			}
			return f
		}
	}
	with := func(name, value string) func(form) form {
		return func(f form) form {
			f.fields[name] = value
			return f
		}
	}
	noPhoto := func(f form) form {
		f.photo = nil
		return f
	}

	tests := []struct {
		name  string
		base  func() form
		edit  func(form) form
		extra []rulesPart // parts sent after the form's own
		want  []rulesFieldError
	}{
		// Required fields of an individual.
		{name: "individual without document_type", base: passportForm, edit: without("document_type"),
			want: []rulesFieldError{rulesField("document_type", "required")}},
		{name: "individual without issuing_country", base: passportForm, edit: without("issuing_country"),
			want: []rulesFieldError{rulesField("issuing_country", "required")}},
		{name: "individual without full_name", base: passportForm, edit: without("full_name"),
			want: []rulesFieldError{rulesField("full_name", "required")}},
		{name: "individual with blank full_name", base: passportForm, edit: with("full_name", "  \t "),
			want: []rulesFieldError{rulesField("full_name", "required")}},
		{name: "individual without address", base: passportForm, edit: without("address"),
			want: []rulesFieldError{rulesField("address", "required")}},
		{name: "individual without document_number", base: passportForm, edit: without("document_number"),
			want: []rulesFieldError{rulesField("document_number", "required")}},
		{name: "individual without region", base: passportForm, edit: without("region"),
			want: []rulesFieldError{rulesField("region", "required")}},
		{name: "individual without consent", base: passportForm, edit: without("consent"),
			want: []rulesFieldError{rulesField("consent", "consent_required")}},
		{name: "individual without photo", base: passportForm, edit: noPhoto,
			want: []rulesFieldError{rulesField("photo", "required")}},
		{name: "without subject_type", base: passportForm, edit: without("subject_type"),
			want: []rulesFieldError{rulesField("subject_type", "required")}},
		{name: "empty form", base: passportForm,
			edit: func(f form) form { return form{fields: map[string]string{}} },
			want: []rulesFieldError{rulesField("subject_type", "required"), rulesField("region", "required"),
				rulesField("consent", "consent_required"), rulesField("photo", "required")}},

		// Required fields of an organization.
		{name: "organization without enterprise_name", base: enterpriseForm, edit: without("enterprise_name"),
			want: []rulesFieldError{rulesField("enterprise_name", "required")}},
		{name: "organization without registered_address", base: enterpriseForm, edit: without("registered_address"),
			want: []rulesFieldError{rulesField("registered_address", "required")}},
		{name: "organization without business_registration_number", base: enterpriseForm, edit: without("business_registration_number"),
			want: []rulesFieldError{rulesField("business_registration_number", "required")}},
		{name: "organization without terms_accepted", base: enterpriseForm, edit: without("terms_accepted"),
			want: []rulesFieldError{rulesField("terms_accepted", "terms_not_accepted")}},
		{name: "organization with terms_accepted false", base: enterpriseForm, edit: with("terms_accepted", "false"),
			want: []rulesFieldError{rulesField("terms_accepted", "terms_not_accepted")}},
		{name: "organization without region", base: enterpriseForm, edit: without("region"),
			want: []rulesFieldError{rulesField("region", "required")}},
		{name: "organization without consent", base: enterpriseForm, edit: without("consent"),
			want: []rulesFieldError{rulesField("consent", "consent_required")}},
		{name: "organization without photo", base: enterpriseForm, edit: noPhoto,
			want: []rulesFieldError{rulesField("photo", "required")}},

		// Enumerations and booleans.
		{name: "unknown subject_type", base: passportForm, edit: with("subject_type", "company"),
			want: []rulesFieldError{rulesField("subject_type", "invalid_subject_type")}},
		{name: "unknown document_type", base: passportForm, edit: with("document_type", "visa"),
			want: []rulesFieldError{rulesField("document_type", "invalid_document_type")}},
		{name: "unassigned issuing_country", base: passportForm, edit: with("issuing_country", "UK"),
			want: []rulesFieldError{rulesField("issuing_country", "invalid_country")}},
		{name: "unassigned region", base: enterpriseForm, edit: with("region", "ZZ"),
			want: []rulesFieldError{rulesField("region", "invalid_region")}},
		{name: "consent false", base: passportForm, edit: with("consent", "false"),
			want: []rulesFieldError{rulesField("consent", "consent_required")}},
		{name: "consent yes", base: enterpriseForm, edit: with("consent", "yes"),
			want: []rulesFieldError{rulesField("consent", "consent_required")}},

		// Fields of the other subject type.
		{name: "individual with enterprise_name", base: passportForm, edit: with("enterprise_name", "Acme Limited"),
			want: []rulesFieldError{rulesField("enterprise_name", "not_allowed")}},
		{name: "individual with terms_accepted", base: passportForm, edit: with("terms_accepted", "true"),
			want: []rulesFieldError{rulesField("terms_accepted", "not_allowed")}},
		{name: "organization with full_name", base: enterpriseForm, edit: with("full_name", "Anna Maria Eriksson"),
			want: []rulesFieldError{rulesField("full_name", "not_allowed")}},
		{name: "organization with mrz", base: enterpriseForm, edit: with("mrz", rulesSpecimenMRZ),
			want: []rulesFieldError{rulesField("mrz", "not_allowed")}},
		{name: "mrz on a national id", base: passportForm,
			edit: func(f form) form {
				f.fields["document_type"] = "national_id"
				f.fields["mrz"] = rulesSpecimenMRZ
				return f
			},
			want: []rulesFieldError{rulesField("mrz", "not_allowed")}},

		// Parts the form does not have, or has twice.
		{name: "unknown field", base: passportForm, extra: []rulesPart{{name: "nickname", data: []byte("Annie")}},
			want: []rulesFieldError{rulesField("nickname", "unknown_field")}},
		{name: "unknown file", base: passportForm, extra: []rulesPart{{name: "selfie", filename: "me.jpg", data: testJPEG}},
			want: []rulesFieldError{rulesField("selfie", "unknown_field")}},
		{name: "duplicate text field", base: passportForm, extra: []rulesPart{{name: "full_name", data: []byte("Anna Eriksson")}},
			want: []rulesFieldError{rulesField("full_name", "duplicate_field")}},
		{name: "duplicate photo", base: passportForm, extra: []rulesPart{{name: "photo", filename: "second.jpg", data: testJPEG}},
			want: []rulesFieldError{rulesField("photo", "duplicate_field")}},
		{name: "text field sent as a file", base: passportForm, edit: without("address"),
			extra: []rulesPart{{name: "address", filename: "address.txt", data: []byte("1 Queen's Road Central, Hong Kong")}},
			want:  []rulesFieldError{rulesField("address", "not_a_text_field")}},
		{name: "text field not UTF-8", base: passportForm, edit: without("full_name"),
			extra: []rulesPart{{name: "full_name", data: []byte("Anna \xff\xfe Eriksson")}},
			want:  []rulesFieldError{rulesField("full_name", "invalid_utf8")}},
	}

	b := setup(t)
	b.putAccount("acct-shape")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := b.rulesFor(t)
			f := tc.base()
			if tc.edit != nil {
				f = tc.edit(f)
			}
			parts := append(rulesParts(f), tc.extra...)
			resp := b.rulesSubmit("acct-shape", parts, nil)
			rulesCheckProblem(t, resp, http.StatusBadRequest, "invalid_request", tc.want)
		})
	}

	// Nothing of a rejected request is stored.
	var list struct {
		Verifications []json.RawMessage `json:"verifications"`
	}
	if code := b.do(http.MethodGet, "/v1/accounts/acct-shape/verifications", testIntakeKey, nil, &list); code != http.StatusOK {
		t.Fatalf("list applications: status %d", code)
	}
	if len(list.Verifications) != 0 {
		t.Errorf("%d applications stored after rejected requests, want 0", len(list.Verifications))
	}
}

// TestRulesIntakeRequest covers the request around the form: media type,
// a malformed body, the account, the path and the Idempotency-Key header.
func TestRulesIntakeRequest(t *testing.T) {
	b := setup(t)
	b.putAccount("acct-request")
	ctype, body := rulesMultipart(t, rulesParts(passportForm()))

	tests := []struct {
		name    string
		path    string
		header  http.Header
		body    []byte
		status  int
		code    string
		message string // a part of the detail
	}{
		{name: "JSON body", path: "/v1/accounts/acct-request/verifications",
			header: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{"subject_type":"individual"}`),
			status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", message: "multipart/form-data"},
		{name: "urlencoded body", path: "/v1/accounts/acct-request/verifications",
			header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: []byte("subject_type=individual"),
			status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "multipart without boundary", path: "/v1/accounts/acct-request/verifications",
			header: http.Header{"Content-Type": {"multipart/form-data"}}, body: body,
			status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "no content type", path: "/v1/accounts/acct-request/verifications", body: body,
			status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "malformed multipart", path: "/v1/accounts/acct-request/verifications",
			header: http.Header{"Content-Type": {"multipart/form-data; boundary=xyz"}}, body: []byte("no parts in here"),
			status: http.StatusBadRequest, code: "invalid_multipart"},
		{name: "unknown account", path: "/v1/accounts/acct-nobody/verifications",
			header: http.Header{"Content-Type": {ctype}}, body: body,
			status: http.StatusNotFound, code: "account_not_found", message: "PUT /v1/accounts/{account_id}"},
		{name: "invalid account id", path: "/v1/accounts/-acct/verifications",
			header: http.Header{"Content-Type": {ctype}}, body: body,
			status: http.StatusBadRequest, code: "invalid_account_id"},
		{name: "Idempotency-Key too long", path: "/v1/accounts/acct-request/verifications",
			header: http.Header{"Content-Type": {ctype}, "Idempotency-Key": {strings.Repeat("k", 256)}}, body: body,
			status: http.StatusBadRequest, code: "invalid_idempotency_key", message: "255"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := b.rulesFor(t)
			resp := b.rulesDo(http.MethodPost, tc.path, tc.header, bytes.NewReader(tc.body))
			p := rulesCheckProblem(t, resp, tc.status, tc.code, nil)
			if !strings.Contains(p.Detail, tc.message) {
				t.Errorf("detail %q does not contain %q", p.Detail, tc.message)
			}
		})
	}
}

// TestRulesIntakeLimits sends a photo, a text field and a whole body over
// their caps and expects 413 naming the limit. Values exactly at a cap are
// accepted, and no temporary file is left behind.
func TestRulesIntakeLimits(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)

	b := setup(t)
	const (
		maxPhoto = 2 << 20
		maxField = 1024
		// The photo, 13 text fields and 64 KiB of multipart overhead.
		maxBody = maxPhoto + 13*maxField + 64<<10
	)
	withPhoto := func(size int) form {
		f := passportForm()
		f.photo = bytes.Repeat([]byte{0xFF}, size)
		return f
	}
	withName := func(size int) form {
		f := passportForm()
		f.fields["full_name"] = strings.Repeat("a", size)
		return f
	}

	t.Run("photo over the limit", func(t *testing.T) {
		b := b.rulesFor(t)
		b.putAccount("acct-big-photo")
		resp := b.rulesSubmit("acct-big-photo", rulesParts(withPhoto(maxPhoto+1)), nil)
		p := rulesCheckProblem(t, resp, http.StatusRequestEntityTooLarge, "photo_too_large",
			[]rulesFieldError{rulesField("photo", "photo_too_large")})
		for _, limit := range []string{"2097152", "2 MiB"} {
			if !strings.Contains(p.Detail, limit) {
				t.Errorf("detail %q does not name the limit %s", p.Detail, limit)
			}
		}
	})
	t.Run("photo at the limit", func(t *testing.T) {
		b := b.rulesFor(t)
		b.putAccount("acct-max-photo")
		b.rulesSubmitOK("acct-max-photo", withPhoto(maxPhoto))
	})
	t.Run("text field over the limit", func(t *testing.T) {
		b := b.rulesFor(t)
		b.putAccount("acct-big-field")
		resp := b.rulesSubmit("acct-big-field", rulesParts(withName(maxField+1)), nil)
		p := rulesCheckProblem(t, resp, http.StatusRequestEntityTooLarge, "field_too_large",
			[]rulesFieldError{rulesField("full_name", "field_too_large")})
		if !strings.Contains(p.Detail, "1024") {
			t.Errorf("detail %q does not name the limit of 1024 bytes", p.Detail)
		}
	})
	t.Run("text field at the limit", func(t *testing.T) {
		b := b.rulesFor(t)
		b.putAccount("acct-max-field")
		b.rulesSubmitOK("acct-max-field", withName(maxField))
	})
	t.Run("every text field at the limit", func(t *testing.T) {
		b := b.rulesFor(t)
		// JSON escapes "<", U+0001 and U+2028 to six bytes each, so these
		// fields would grow to several times their size as JSON.
		fills := []string{"<", "\x01", "a\u2028"}
		ids := make([]string, len(fills))
		for i, fill := range fills {
			account := "acct-max-fields-" + strconv.Itoa(i)
			b.putAccount(account)
			f := passportForm()
			for _, name := range []string{"full_name", "address", "document_number", "mrz"} {
				f.fields[name] = strings.Repeat(fill, maxField/len(fill))
			}
			ids[i] = b.rulesSubmitOK(account, f)
		}
		for i, id := range ids {
			b.waitStatus("acct-max-fields-"+strconv.Itoa(i), id, "rejected")
		}
	})
	t.Run("name of one character with many combining marks", func(t *testing.T) {
		b := b.rulesFor(t)
		b.putAccount("acct-marks")
		f := passportForm()
		f.fields["full_name"] = "Z" + strings.Repeat("\u0301\u0327", 250) + " A"
		id := b.rulesSubmitOK("acct-marks", f)
		v := b.waitStatus("acct-marks", id, "rejected")
		if !rulesHasFailedCheck(v, "full_name", "too_long") {
			t.Errorf("failed checks %+v, want full_name:too_long", v.Rejection)
		}
	})
	t.Run("whole body over the limit", func(t *testing.T) {
		b := b.rulesFor(t)
		b.putAccount("acct-big-body")
		// The unknown part is never read by the handler, so only the cap
		// on the whole body can stop it.
		parts := append(rulesParts(passportForm()), rulesPart{name: "padding", data: bytes.Repeat([]byte("x"), maxBody)})
		resp := b.rulesSubmit("acct-big-body", parts, nil)
		p := rulesCheckProblem(t, resp, http.StatusRequestEntityTooLarge, "body_too_large", nil)
		if !strings.Contains(p.Detail, strconv.Itoa(maxBody)) {
			t.Errorf("detail %q does not name the limit of %d bytes", p.Detail, maxBody)
		}
	})
	t.Run("endless body stops at the limit", func(t *testing.T) {
		b := b.rulesFor(t)
		b.putAccount("acct-endless")
		// A 1 GiB body sent in chunks: the server must respond once the cap
		// is passed instead of reading it all.
		const total = 1 << 30
		body := &rulesEndlessBody{prefix: []byte("--xyz\r\nContent-Disposition: form-data; name=\"padding\"\r\n\r\n"), total: total}
		resp := b.rulesDo(http.MethodPost, "/v1/accounts/acct-endless/verifications",
			http.Header{"Content-Type": {"multipart/form-data; boundary=xyz"}}, body)
		rulesCheckProblem(t, resp, http.StatusRequestEntityTooLarge, "body_too_large", nil)
		if sent := body.sent.Load(); sent >= total/2 {
			t.Errorf("the server read %d bytes of a body over its %d-byte cap", sent, maxBody)
		}
	})

	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "multipart-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// rulesEndlessBody is a request body of total bytes: prefix, then 'x'
// padding. It counts what the client has sent.
type rulesEndlessBody struct {
	prefix []byte
	total  int64
	sent   atomic.Int64
}

func (r *rulesEndlessBody) Read(p []byte) (int, error) {
	sent := r.sent.Load()
	if sent >= r.total {
		return 0, io.EOF
	}
	if rest := r.total - sent; int64(len(p)) > rest {
		p = p[:rest]
	}
	n := 0
	if sent < int64(len(r.prefix)) {
		n = copy(p, r.prefix[sent:])
	}
	for i := n; i < len(p); i++ {
		p[i] = 'x'
	}
	r.sent.Add(int64(len(p)))
	return len(p), nil
}

// TestRulesAuth checks that every intake and review endpoint returns 401
// without a valid key and 403 for a key of another scope.
func TestRulesAuth(t *testing.T) {
	b := setup(t)
	endpoints := []struct {
		method, path, scope string
	}{
		{http.MethodPut, "/v1/accounts/acct-auth", "intake"},
		{http.MethodGet, "/v1/accounts/acct-auth/identity", "intake"},
		{http.MethodPost, "/v1/accounts/acct-auth/verifications", "intake"},
		{http.MethodGet, "/v1/accounts/acct-auth/verifications", "intake"},
		{http.MethodGet, "/v1/accounts/acct-auth/verifications/app_x", "intake"},
		{http.MethodPost, "/v1/accounts/acct-auth/verifications/app_x/withdraw", "intake"},
		{http.MethodPost, "/v1/accounts/acct-auth/icp-name-check", "intake"},
		{http.MethodGet, "/v1/accounts/acct-auth/messages", "intake"},
		{http.MethodPost, "/v1/accounts/acct-auth/messages/1/read", "intake"},
		{http.MethodGet, "/v1/review/applications", "review"},
		{http.MethodGet, "/v1/review/applications/app_x", "review"},
		{http.MethodGet, "/v1/review/applications/app_x/photo", "review"},
		{http.MethodPost, "/v1/review/applications/app_x/claim", "review"},
		{http.MethodPost, "/v1/review/applications/app_x/decision", "review"},
	}
	otherScope := map[string]string{"intake": testReviewerKey, "review": testIntakeKey}
	for _, e := range endpoints {
		t.Run(e.method+" "+e.path, func(t *testing.T) {
			b := b.rulesFor(t)
			cases := []struct {
				name   string
				auth   string
				status int
				code   string
			}{
				{name: "no key", auth: "", status: http.StatusUnauthorized, code: "unauthenticated"},
				{name: "unknown key", auth: "Bearer not-a-key-0123456789", status: http.StatusUnauthorized, code: "invalid_api_key"},
				{name: "other scope", auth: "Bearer " + otherScope[e.scope], status: http.StatusForbidden, code: "wrong_scope"},
				{name: "operator key", auth: "Bearer " + testOperatorKey, status: http.StatusForbidden, code: "wrong_scope"},
			}
			for _, c := range cases {
				resp := b.rulesDo(e.method, e.path, http.Header{"Authorization": {c.auth}}, nil)
				t.Run(c.name, func(t *testing.T) {
					rulesCheckProblem(t, resp, c.status, c.code, nil)
					if c.status == http.StatusUnauthorized && resp.header.Get("WWW-Authenticate") == "" {
						t.Error("401 without a WWW-Authenticate header")
					}
				})
			}
		})
	}
}
