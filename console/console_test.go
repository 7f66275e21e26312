package console_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
	"github.com/jmoiron/sqlx"

	"github.com/idverify/idverify/auth"
	"github.com/idverify/idverify/console"
	"github.com/idverify/idverify/pii"
	"github.com/idverify/idverify/review"
	"github.com/idverify/idverify/schema"
	"github.com/idverify/idverify/store"
	"github.com/idverify/idverify/testenv"
)

// API keys of the test console.
const (
	aliceKey  = "review-key-alice-0123456789"
	bobKey    = "review-key-bob-0123456789"
	intakeKey = "intake-key-0123456789abcdef"
)

const sessionCookie = "idverify_review_session"

// env is a console over a real store on a fresh database, served by an
// HTTP test server.
type env struct {
	t      *testing.T
	store  *store.Store
	server *httptest.Server

	mu     sync.Mutex
	offset time.Duration // added to the real time on the console's clock
}

func (e *env) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return time.Now().Add(e.offset)
}

// advance moves the console's clock forward. The store keeps real time.
func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.offset += d
}

type noKick struct{}

func (noKick) Kick() {}

// setup starts the console on a fresh database from testenv. tlsServer
// serves it over HTTPS.
//
// NOTE: the tests do not call t.Parallel. Starting two embedded MySQL
// servers at once races in go-mysql-server v0.20.0, whose engine
// constructor resets package-level status variables without a lock, and
// go test -race reports it.
func setup(t *testing.T, tlsServer bool) *env {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, nil))

	db, err := sqlx.Open("mysql", testenv.MySQL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := schema.Apply(ctx, db, logger); err != nil {
		t.Fatal(err)
	}
	keyring, err := pii.NewKeyring(map[string][]byte{"t1": pii.RandomKey()}, "t1", pii.RandomKey())
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(db, keyring, store.Options{})

	keys := &auth.Keys{}
	for key, p := range map[string]auth.Principal{
		aliceKey:  {ID: "alice", Scope: auth.ScopeReview},
		bobKey:    {ID: "bob", Scope: auth.ScopeReview},
		intakeKey: {ID: "cloud-console", Scope: auth.ScopeIntake},
	} {
		if err := keys.Add(key, p); err != nil {
			t.Fatal(err)
		}
	}

	e := &env{t: t, store: st}
	rev := review.New(st, noKick{}, review.Config{}, logger)
	con, err := console.New(rev, st, keys, console.Config{SessionKey: bytes.Repeat([]byte{7}, 32), Now: e.now}, logger)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	con.Register(mux)
	if tlsServer {
		e.server = httptest.NewTLSServer(mux)
	} else {
		e.server = httptest.NewServer(mux)
	}
	t.Cleanup(e.server.Close)
	return e
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each response.
type browser struct {
	t      *testing.T
	e      *env
	client *http.Client
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	// Copy the server's client: it is shared, and each browser needs its
	// own jar.
	client := new(http.Client)
	*client = *e.server.Client()
	client.Jar = jar
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: e.t, e: e, client: client}
}

// response is a finished request: status, headers and body.
type response struct {
	Status int
	Header http.Header
	Body   string
	resp   *http.Response
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(body), resp: resp}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.server.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form with the extra request headers.
func (b *browser) post(path string, form url.Values, headers map[string]string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.server.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return b.do(req)
}

var tokenPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// token returns the first CSRF token in a page.
func (b *browser) token(page response) string {
	b.t.Helper()
	m := tokenPattern.FindStringSubmatch(page.Body)
	if m == nil {
		b.t.Fatalf("page has no csrf_token field:\n%s", page.Body)
	}
	return m[1]
}

// signIn signs in with key and fails the test unless it works.
func (b *browser) signIn(key string) {
	b.t.Helper()
	page := b.get("/review/login")
	resp := b.post("/review/login", url.Values{"api_key": {key}, "csrf_token": {b.token(page)}}, nil)
	if resp.Status != http.StatusSeeOther || resp.Header.Get("Location") != "/review/" {
		b.t.Fatalf("sign in: status %d, Location %q; want 303 to /review/\n%s", resp.Status, resp.Header.Get("Location"), resp.Body)
	}
}

// sessionCookie returns the session cookie the jar would send to the
// console, if any.
func (b *browser) sessionCookie() *http.Cookie {
	u, _ := url.Parse(b.e.server.URL + "/review/")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c
		}
	}
	return nil
}

func testJPEG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 40))
	for y := 0; y < 40; y++ {
		for x := 0; x < 64; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 6), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// seed stores an individual's application for a new account and moves it
// to awaiting_review as passed validation does. It returns the id.
func (e *env) seed(account string) string {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.store.PutAccount(ctx, store.AccountInput{ID: account, Email: account + "@example.com", Locale: "en"}); err != nil {
		e.t.Fatal(err)
	}
	app, _, err := e.store.CreateApplication(ctx, store.NewApplication{
		AccountID: account, SubjectType: store.SubjectIndividual, Region: "HK", DocumentType: "passport",
		IssuingCountry: "NL",
		Fields: store.Fields{FullName: "Anna Maria Eriksson", Address: "1 Queen's Road Central, Hong Kong",
			DocumentNumber: "L898902C3"},
		Photo: testJPEG(e.t),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now().UTC()
	_, _, err = e.store.CompleteValidation(ctx, app.ID, store.ValidationOutcome{
		Checks: store.Checks{Passed: true, CheckedAt: now,
			Checks: []store.Check{{Name: "full_name", Passed: true}, {Name: "document_number", Passed: true}},
			Flags:  []store.Flag{{Code: "photo_reused", Detail: "The same photo was submitted by 1 other account(s)."}}},
		IdentityFingerprint: e.store.Keys().Fingerprint("identity", []byte("passport/NL/"+account)),
		NameMasked:          "A***a E****n", NumberMasked: "L8****C3",
		ReviewDueAt: now.Add(48 * time.Hour), BreachAt: now.Add(72 * time.Hour),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return app.ID
}

func (e *env) status(id string) string {
	e.t.Helper()
	app, err := e.store.GetApplication(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return app.Status
}

func (e *env) auditActions(id string) []string {
	e.t.Helper()
	entries, err := e.store.AuditTrail(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		out = append(out, en.Actor+":"+en.Action)
	}
	return out
}

func TestLoginRejectsBadKey(t *testing.T) {
	e := setup(t, false)

	tests := []struct {
		name string
		key  string
	}{
		{"unknown key", "not-a-key-0123456789abcdef"},
		{"intake key", intakeKey},
		{"empty key", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser()
			page := b.get("/review/login")
			resp := b.post("/review/login", url.Values{"api_key": {tt.key}, "csrf_token": {b.token(page)}}, nil)

			if resp.Status != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", resp.Status)
			}
			if !strings.Contains(resp.Body, "This is not a valid reviewer API key.") {
				t.Errorf("page does not show the error:\n%s", resp.Body)
			}
			for _, c := range resp.resp.Cookies() {
				if c.Name == sessionCookie {
					t.Errorf("response sets a session cookie %q", c.Value)
				}
			}
			if c := b.sessionCookie(); c != nil {
				t.Errorf("browser holds a session cookie %q", c.Value)
			}
			if got := b.get("/review/"); got.Status != http.StatusSeeOther {
				t.Errorf("queue after failed sign-in: status %d, want 303 to the sign-in page", got.Status)
			}
		})
	}
}

func TestLoginSessionCookie(t *testing.T) {
	tests := []struct {
		name   string
		tls    bool
		secure bool
	}{
		{"plain http", false, false},
		{"tls", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, tt.tls)
			b := e.browser()
			page := b.get("/review/login")
			resp := b.post("/review/login", url.Values{"api_key": {aliceKey}, "csrf_token": {b.token(page)}}, nil)
			if resp.Status != http.StatusSeeOther {
				t.Fatalf("status = %d, want 303\n%s", resp.Status, resp.Body)
			}

			type attributes struct {
				Path     string
				HttpOnly bool
				Secure   bool
				SameSite http.SameSite
				MaxAge   int
			}
			var got *attributes
			for _, c := range resp.resp.Cookies() {
				if c.Name == sessionCookie {
					got = &attributes{c.Path, c.HttpOnly, c.Secure, c.SameSite, c.MaxAge}
				}
			}
			want := &attributes{Path: "/review/", HttpOnly: true, Secure: tt.secure, SameSite: http.SameSiteStrictMode,
				MaxAge: int((8 * time.Hour).Seconds())}
			if got != nil && got.MaxAge >= want.MaxAge-2 && got.MaxAge <= want.MaxAge {
				got.MaxAge = want.MaxAge // a second may pass between the clocks
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("session cookie attributes (-want +got):\n%s", diff)
			}

			queue := b.get("/review/")
			if queue.Status != http.StatusOK || !strings.Contains(queue.Body, "Signed in as <strong>alice</strong>") {
				t.Errorf("queue after sign-in: status %d, want 200 with alice signed in\n%s", queue.Status, queue.Body)
			}
		})
	}
}

func TestLoginWithoutFormToken(t *testing.T) {
	e := setup(t, false)
	b := e.browser()
	b.get("/review/login")

	resp := b.post("/review/login", url.Values{"api_key": {aliceKey}}, nil)
	if resp.Status != http.StatusForbidden {
		t.Errorf("status = %d, want 403", resp.Status)
	}
	if b.sessionCookie() != nil {
		t.Error("sign-in without a form token set a session cookie")
	}
}

func TestLoginRedirectsToRequestedPage(t *testing.T) {
	e := setup(t, false)

	tests := []struct {
		next string
		want string
	}{
		{"/review/applications/app_1?done=claimed", "/review/applications/app_1?done=claimed"},
		{"/review/?status=any", "/review/?status=any"},
		{"https://attacker.example/review/", "/review/"},
		{"//attacker.example/review/", "/review/"},
		{"/review/../v1/review/applications", "/review/"},
		{"/review/%2e%2e/metrics", "/review/"},
		{"/reviewer/", "/review/"},
		{"/review/login", "/review/"},
		{`/review/\attacker.example`, "/review/"},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			b := e.browser()
			page := b.get("/review/login?next=" + url.QueryEscape(tt.next))
			resp := b.post("/review/login", url.Values{"api_key": {aliceKey}, "csrf_token": {b.token(page)},
				"next": {tt.next}}, nil)
			if resp.Status != http.StatusSeeOther {
				t.Fatalf("status = %d, want 303", resp.Status)
			}
			if got := resp.Header.Get("Location"); got != tt.want {
				t.Errorf("Location = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPagesRequireSession(t *testing.T) {
	e := setup(t, false)
	id := e.seed("acct-anon")
	b := e.browser()

	tests := []struct {
		path string
		want string
	}{
		{"/review/", "/review/login"},
		{"/review/applications/" + id, "/review/login?next=%2Freview%2Fapplications%2F" + id},
		{"/review/applications/" + id + "/photo", "/review/login?next=%2Freview%2Fapplications%2F" + id + "%2Fphoto"},
	}
	for _, tt := range tests {
		resp := b.get(tt.path)
		if resp.Status != http.StatusSeeOther || resp.Header.Get("Location") != tt.want {
			t.Errorf("GET %s: status %d, Location %q; want 303 to %s", tt.path, resp.Status, resp.Header.Get("Location"), tt.want)
		}
	}
	if got := e.auditActions(id); len(got) != 0 {
		t.Errorf("audit trail = %v, want no reads without a session", got)
	}
}

func TestSessionCookieTampered(t *testing.T) {
	e := setup(t, false)
	b := e.browser()
	b.signIn(aliceKey)
	original := b.sessionCookie().Value

	parts := strings.Split(original, ".")
	forgedReviewer := "Ym9i" + "." + strings.Join(parts[1:], ".") // "bob" in base64url
	tests := []struct {
		name  string
		value string
	}{
		{"other reviewer", forgedReviewer},
		{"no signature", strings.Join(parts[:3], ".")},
		{"longer expiry", parts[0] + ".99999999999." + parts[2] + "." + parts[3]},
		{"garbage", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, e.server.URL+"/review/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: tt.value})
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/review/login") {
				t.Errorf("status %d, Location %q; want 303 to the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

func TestSessionExpires(t *testing.T) {
	e := setup(t, false)
	b := e.browser()
	b.signIn(aliceKey)
	cookie := b.sessionCookie()

	e.advance(8*time.Hour + time.Minute)

	// Send the cookie by hand: the jar itself drops it once expired.
	req, err := http.NewRequest(http.MethodGet, e.server.URL+"/review/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(cookie)
	resp := b.do(req)
	if resp.Status != http.StatusSeeOther || resp.Header.Get("Location") != "/review/login?expired=1" {
		t.Errorf("status %d, Location %q; want 303 to /review/login?expired=1", resp.Status, resp.Header.Get("Location"))
	}
}

func TestPostWithoutCSRFToken(t *testing.T) {
	e := setup(t, false)
	id := e.seed("acct-csrf")
	b := e.browser()
	b.signIn(aliceKey)
	page := b.get("/review/applications/" + id)
	valid := b.token(page)

	tests := []struct {
		name  string
		path  string
		token []string
	}{
		{"claim without token", "/review/applications/" + id + "/claim", nil},
		{"claim with wrong token", "/review/applications/" + id + "/claim", []string{"AAAA" + valid[4:]}},
		{"decision without token", "/review/applications/" + id + "/decision", nil},
		{"logout without token", "/review/logout", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"decision": {"approve"}}
			if tt.token != nil {
				form["csrf_token"] = tt.token
			}
			resp := b.post(tt.path, form, nil)
			if resp.Status != http.StatusForbidden {
				t.Errorf("status = %d, want 403", resp.Status)
			}
		})
	}

	// Another session's token is no good either.
	other := e.browser()
	other.signIn(bobKey)
	bobToken := other.token(other.get("/review/"))
	if resp := b.post("/review/applications/"+id+"/claim", url.Values{"csrf_token": {bobToken}}, nil); resp.Status != http.StatusForbidden {
		t.Errorf("claim with another session's token: status %d, want 403", resp.Status)
	}

	app, err := e.store.GetApplication(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if app.Status != store.StatusAwaitingReview || app.ClaimedBy != "" {
		t.Errorf("application status %q claimed by %q, want awaiting_review and unclaimed", app.Status, app.ClaimedBy)
	}
	if b.sessionCookie() == nil {
		t.Error("logout without a token ended the session")
	}
}

func TestCrossOriginPostRejected(t *testing.T) {
	e := setup(t, false)
	id := e.seed("acct-cross")
	b := e.browser()
	b.signIn(aliceKey)
	token := b.token(b.get("/review/applications/" + id))

	tests := []struct {
		name    string
		headers map[string]string
	}{
		{"sec-fetch-site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"sec-fetch-site same-site", map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"origin of another host", map[string]string{"Origin": "https://attacker.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := b.post("/review/applications/"+id+"/claim", url.Values{"csrf_token": {token}}, tt.headers)
			if resp.Status != http.StatusForbidden {
				t.Errorf("status = %d, want 403", resp.Status)
			}
		})
	}

	// A cross-origin sign-in is rejected too, before any key is checked.
	login := e.browser()
	page := login.get("/review/login")
	resp := login.post("/review/login", url.Values{"api_key": {aliceKey}, "csrf_token": {login.token(page)}},
		map[string]string{"Sec-Fetch-Site": "cross-site"})
	if resp.Status != http.StatusForbidden || login.sessionCookie() != nil {
		t.Errorf("cross-site sign-in: status %d, session set %v; want 403 and no session", resp.Status, login.sessionCookie() != nil)
	}

	// The same form from the console's own origin works.
	same := b.post("/review/applications/"+id+"/claim", url.Values{"csrf_token": {token}},
		map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.server.URL})
	if same.Status != http.StatusSeeOther {
		t.Errorf("same-origin claim: status %d, want 303\n%s", same.Status, same.Body)
	}
}

func TestDecisionClaimedByOther(t *testing.T) {
	e := setup(t, false)
	id := e.seed("acct-claimed")
	if _, err := e.store.Claim(context.Background(), id, "bob", 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn(aliceKey)
	page := b.get("/review/applications/" + id)
	if !strings.Contains(page.Body, "<strong>bob</strong> holds the claim") {
		t.Errorf("page does not say that bob holds the claim:\n%s", page.Body)
	}

	tests := []struct {
		name string
		path string
		form url.Values
	}{
		{"approve", "/decision", url.Values{"decision": {"approve"}}},
		{"reject", "/decision", url.Values{"decision": {"reject"}, "reasons": {"name_mismatch"}, "note": {"typed note"}}},
		{"claim", "/claim", url.Values{}},
		{"release", "/release", url.Values{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("csrf_token", b.token(page))
			resp := b.post("/review/applications/"+id+tt.path, tt.form, nil)
			if resp.Status != http.StatusConflict {
				t.Errorf("status = %d, want 409", resp.Status)
			}
			if !strings.Contains(resp.Body, `role="alert"`) ||
				!strings.Contains(resp.Body, "Another reviewer holds a live claim on this application, so nothing was changed.") {
				t.Errorf("page has no flash message about the claim:\n%s", resp.Body)
			}
		})
	}
	if got := e.status(id); got != store.StatusAwaitingReview {
		t.Errorf("status = %q, want awaiting_review", got)
	}
}

func TestClaimAndApprove(t *testing.T) {
	e := setup(t, false)
	id := e.seed("acct-approve")
	b := e.browser()
	b.signIn(aliceKey)

	page := b.get("/review/applications/" + id)
	for _, want := range []string{"Anna Maria Eriksson", "L898902C3", "Claim application", "photo_reused", "Audit trail"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("application page does not show %q", want)
		}
	}
	if strings.Contains(page.Body, "Approve application") {
		t.Error("approve form shown before the reviewer claimed the application")
	}

	claim := b.post("/review/applications/"+id+"/claim", url.Values{"csrf_token": {b.token(page)}}, nil)
	if claim.Status != http.StatusSeeOther || claim.Header.Get("Location") != "/review/applications/"+id+"?done=claimed" {
		t.Fatalf("claim: status %d, Location %q", claim.Status, claim.Header.Get("Location"))
	}
	page = b.get(claim.Header.Get("Location"))
	if !strings.Contains(page.Body, "You claimed this application.") || !strings.Contains(page.Body, "You hold the claim until") {
		t.Errorf("page after claim does not confirm it:\n%s", page.Body)
	}

	approve := b.post("/review/applications/"+id+"/decision", url.Values{"csrf_token": {b.token(page)},
		"decision": {"approve"}, "note": {"matches the passport"}}, nil)
	if approve.Status != http.StatusSeeOther || approve.Header.Get("Location") != "/review/applications/"+id+"?done=approved" {
		t.Fatalf("approve: status %d, Location %q\n%s", approve.Status, approve.Header.Get("Location"), approve.Body)
	}
	if got := e.status(id); got != store.StatusApproved {
		t.Errorf("status = %q, want approved", got)
	}

	want := []string{"alice:view_detail", "alice:claim", "alice:view_detail", "alice:decide"}
	if diff := cmp.Diff(want, e.auditActions(id)); diff != "" {
		t.Errorf("audit trail (-want +got):\n%s", diff)
	}

	page = b.get(approve.Header.Get("Location"))
	for _, want := range []string{"Application approved.", "matches the passport", "By</dt><dd>alice"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("page after approval does not show %q", want)
		}
	}
}

func TestRejectFormErrors(t *testing.T) {
	e := setup(t, false)
	id := e.seed("acct-reject")
	b := e.browser()
	b.signIn(aliceKey)
	page := b.get("/review/applications/" + id)
	token := b.token(page)
	if resp := b.post("/review/applications/"+id+"/claim", url.Values{"csrf_token": {token}}, nil); resp.Status != http.StatusSeeOther {
		t.Fatalf("claim: status %d", resp.Status)
	}

	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"no reason", url.Values{"decision": {"reject"}, "note": {"kept note"}},
			"A rejection needs at least one reason code"},
		{"other without note", url.Values{"decision": {"reject"}, "reasons": {"other"}},
			"A note is required with reason other."},
		{"unknown reason", url.Values{"decision": {"reject"}, "reasons": {"bogus"}, "note": {"kept note"}},
			"Unknown reason code"},
		{"unknown decision", url.Values{"decision": {"maybe"}}, "decision must be approve or reject."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("csrf_token", token)
			resp := b.post("/review/applications/"+id+"/decision", tt.form, nil)
			if resp.Status != http.StatusUnprocessableEntity {
				t.Errorf("status = %d, want 422", resp.Status)
			}
			if !strings.Contains(resp.Body, "The decision was not recorded.") || !strings.Contains(resp.Body, tt.want) {
				t.Errorf("page does not show %q:\n%s", tt.want, resp.Body)
			}
			if note := tt.form.Get("note"); note != "" && !strings.Contains(resp.Body, ">"+note+"</textarea>") {
				t.Errorf("the note %q was not kept in the form", note)
			}
		})
	}

	// A valid rejection with resubmission unchecked records it.
	resp := b.post("/review/applications/"+id+"/decision", url.Values{"csrf_token": {token}, "decision": {"reject"},
		"reasons": {"photo_unreadable", "address_incomplete"}}, nil)
	if resp.Status != http.StatusSeeOther {
		t.Fatalf("reject: status %d\n%s", resp.Status, resp.Body)
	}
	app, err := e.store.GetApplication(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"photo_unreadable", "address_incomplete"}, app.Reasons); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	if app.Status != store.StatusRejected || app.ResubmitAllowed == nil || *app.ResubmitAllowed {
		t.Errorf("status %q, resubmit_allowed %v; want rejected without resubmission", app.Status, app.ResubmitAllowed)
	}

	// A second decision meets the stored one.
	again := b.post("/review/applications/"+id+"/decision", url.Values{"csrf_token": {token}, "decision": {"approve"}}, nil)
	if again.Status != http.StatusConflict || !strings.Contains(again.Body, "already approved, rejected or withdrawn") {
		t.Errorf("second decision: status %d, want 409 with a flash message\n%s", again.Status, again.Body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := setup(t, false)
	id := e.seed("acct-headers")
	b := e.browser()

	type headers struct {
		CSP, FrameOptions, Referrer, CacheControl, ContentType string
	}
	pageHeaders := headers{
		CSP:          "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		FrameOptions: "DENY", Referrer: "no-referrer", CacheControl: "no-store", ContentType: "text/html; charset=utf-8",
	}
	login := b.get("/review/login")
	b.signIn(aliceKey)

	tests := []struct {
		name string
		resp response
		want headers
	}{
		{"login page", login, pageHeaders},
		{"queue", b.get("/review/"), pageHeaders},
		{"application", b.get("/review/applications/" + id), pageHeaders},
		{"not found", b.get("/review/nothing-here"), pageHeaders},
		{"photo", b.get("/review/applications/" + id + "/photo"), headers{
			CSP: "default-src 'none'; sandbox", FrameOptions: "DENY", Referrer: "no-referrer",
			CacheControl: "no-store", ContentType: "image/jpeg"}},
		{"stylesheet", b.get("/review/static/console.css"), headers{
			CSP: pageHeaders.CSP, FrameOptions: "DENY", Referrer: "no-referrer",
			CacheControl: "no-cache", ContentType: "text/css; charset=utf-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.resp.Header
			got := headers{h.Get("Content-Security-Policy"), h.Get("X-Frame-Options"), h.Get("Referrer-Policy"),
				h.Get("Cache-Control"), h.Get("Content-Type")}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if strings.Contains(tt.resp.Body, "<script") {
				t.Error("page contains a script element")
			}
		})
	}

	want := []string{"alice:view_detail", "alice:view_photo"}
	if diff := cmp.Diff(want, e.auditActions(id)); diff != "" {
		t.Errorf("audit trail (-want +got):\n%s", diff)
	}
}

func TestQueuePage(t *testing.T) {
	e := setup(t, false)
	ids := []string{e.seed("acct-q1"), e.seed("acct-q2"), e.seed("acct-q3")}
	if _, err := e.store.Escalate(context.Background(), ids[2], 1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Claim(context.Background(), ids[1], "bob", 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn(aliceKey)

	first := b.get("/review/?limit=2")
	if first.Status != http.StatusOK {
		t.Fatalf("status = %d, want 200\n%s", first.Status, first.Body)
	}
	// The escalated application comes first, then the earliest deadline.
	if got := appIDs(first.Body); !cmp.Equal(got, []string{ids[2], ids[0]}) {
		t.Errorf("first page = %v, want %v", got, []string{ids[2], ids[0]})
	}
	for _, want := range []string{"Escalated (level 1)", "A***a E****n", "HK business days", `href="/review/?limit=2&amp;offset=2"`} {
		if !strings.Contains(first.Body, want) {
			t.Errorf("first page does not show %q", want)
		}
	}
	if strings.Contains(first.Body, "Anna Maria Eriksson") {
		t.Error("queue shows a decrypted name")
	}

	second := b.get("/review/?limit=2&offset=2")
	if got := appIDs(second.Body); !cmp.Equal(got, []string{ids[1]}) {
		t.Errorf("second page = %v, want %v", got, []string{ids[1]})
	}
	if !strings.Contains(second.Body, "bob<br><small>until") || !strings.Contains(second.Body, `rel="prev"`) {
		t.Errorf("second page does not show bob's claim and a previous-page link:\n%s", second.Body)
	}

	escalated := b.get("/review/?escalated=true")
	if got := appIDs(escalated.Body); !cmp.Equal(got, []string{ids[2]}) {
		t.Errorf("escalated filter = %v, want %v", got, []string{ids[2]})
	}

	bad := b.get("/review/?region=ZZZ&overdue=soon")
	if bad.Status != http.StatusBadRequest {
		t.Errorf("invalid filters: status %d, want 400", bad.Status)
	}
	for _, want := range []string{"region must be an ISO 3166-1 alpha-2 code.", "overdue must be true or false."} {
		if !strings.Contains(bad.Body, want) {
			t.Errorf("invalid filters page does not show %q", want)
		}
	}
}

var appLink = regexp.MustCompile(`<td><a href="/review/applications/([^"]+)">`)

func appIDs(body string) []string {
	var out []string
	for _, m := range appLink.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestLogout(t *testing.T) {
	e := setup(t, false)
	b := e.browser()
	b.signIn(aliceKey)
	token := b.token(b.get("/review/"))

	resp := b.post("/review/logout", url.Values{"csrf_token": {token}}, nil)
	if resp.Status != http.StatusSeeOther || resp.Header.Get("Location") != "/review/login?signed_out=1" {
		t.Errorf("logout: status %d, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	if b.sessionCookie() != nil {
		t.Error("session cookie still set after logout")
	}
	if got := b.get("/review/login?signed_out=1"); !strings.Contains(got.Body, "You are signed out.") {
		t.Errorf("sign-in page does not confirm the sign-out:\n%s", got.Body)
	}
}

func TestApplicationNotFound(t *testing.T) {
	e := setup(t, false)
	b := e.browser()
	b.signIn(aliceKey)
	token := b.token(b.get("/review/"))

	if resp := b.get("/review/applications/app_missing"); resp.Status != http.StatusNotFound {
		t.Errorf("GET: status %d, want 404", resp.Status)
	}
	if resp := b.post("/review/applications/app_missing/claim", url.Values{"csrf_token": {token}}, nil); resp.Status != http.StatusNotFound {
		t.Errorf("claim: status %d, want 404", resp.Status)
	}
}

func TestNewRejectsShortSessionKey(t *testing.T) {
	_, err := console.New(nil, nil, &auth.Keys{}, console.Config{SessionKey: make([]byte, 31)}, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("New accepted a 31-byte session key")
	}
}
