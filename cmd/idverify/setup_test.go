package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/embedded"
	"github.com/idverify/idverify/notifier"
	"github.com/idverify/idverify/testenv"
)

// Keys used by the test instances.
const (
	testIntakeKey   = "intake-test-key-0123456789"
	testReviewerKey = "review-test-key-0123456789"
	testOtherKey    = "review-test-key-other-0123"
	testOperatorKey = "operator-test-key-01234567"
	testSMSSecret   = "sms-test-secret"
)

// bundle is one running instance with the servers it talks to.
type bundle struct {
	t       testing.TB
	in      *instance
	url     string
	mailbox *embedded.Mailbox
	sms     *smsGateway
	cfg     Config
	// redisProxy sits between idverify and Redis when setup was given
	// withRedisProxy.
	redisProxy *tcpProxy
}

// setupOptions are what options may change before the instance starts.
type setupOptions struct {
	cfg   *Config
	clock *testClock
}

type option func(*setupOptions)

// withRedisProxy routes idverify's Redis connections through a proxy the
// test can take down.
func withRedisProxy(o *setupOptions) { o.cfg.RedisURL = "proxy" }

// withClock runs business rules on the test's clock.
func withClock(c *testClock) option { return func(o *setupOptions) { o.clock = c } }

// withConfig changes the configuration.
func withConfig(fn func(*Config)) option { return func(o *setupOptions) { fn(o.cfg) } }

// testClock is a settable clock for rules that depend on time.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{now: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// setup starts idverify (API and workers) on port 0 against a fresh MySQL
// database and Redis database from testenv: in-process by default, the
// real servers when IDVERIFY_TEST_MYSQL_DSN and IDVERIFY_TEST_REDIS_URL are
// set. Email goes to a real SMTP server in the test, SMS to a test HTTP
// gateway that checks the signature.
func setup(t testing.TB, opts ...option) *bundle {
	t.Helper()
	redisTarget := testenv.Redis(t)
	dsn := testenv.MySQL(t)

	mailbox, err := embedded.StartMailbox("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mailbox.Close() })
	sms := newSMSGateway(t)

	host, port := splitHostPort(t, mailbox.Addr())
	cfg := Config{
		Addr:           "127.0.0.1:0",
		RedisURL:       redisURL(redisTarget),
		MySQLDSN:       dsn,
		EncryptionKeys: "t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)),
		FingerprintKey: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32)),
		IntakeKeys:     "console:" + testIntakeKey,
		ReviewerKeys:   "alice:" + testReviewerKey + ",bob:" + testOtherKey,
		OperatorKeys:   "ops:" + testOperatorKey,
		SMTP: notifier.EmailConfig{Host: host, Port: port, TLS: "none", From: "idverify@example.com",
			FromName: "idverify", ConnectTimeout: 5 * time.Second, SendTimeout: 10 * time.Second},
		SMS:               notifier.SMSConfig{URL: sms.server.URL, KeyID: "test", Secret: testSMSSecret, Sender: "idverify", MaxSegments: 3},
		MaxPhotoBytes:     2 << 20,
		ClaimTTL:          30 * time.Minute,
		Concurrency:       4,
		SweepInterval:     time.Minute,
		RelayInterval:     50 * time.Millisecond,
		ShutdownTimeout:   5 * time.Second,
		RetryBaseDelay:    20 * time.Millisecond,
		RetryMaxDelay:     200 * time.Millisecond,
		TaskCheckInterval: 50 * time.Millisecond,
		LogFormat:         "text",
		LogLevel:          "info",
	}
	so := setupOptions{cfg: &cfg}
	for _, o := range opts {
		o(&so)
	}
	var now func() time.Time
	if so.clock != nil {
		now = so.clock.Now
	}
	var proxy *tcpProxy
	if cfg.RedisURL == "proxy" {
		proxy = newTCPProxy(t, redisTarget.Addr)
		proxied := redisTarget
		proxied.Addr = proxy.addr
		cfg.RedisURL = redisURL(proxied)
	}
	level := slog.LevelInfo
	level.UnmarshalText([]byte(cfg.LogLevel))
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
	in, err := start(context.Background(), cfg, roles{API: true, Worker: true}, logger, now)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := in.shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &bundle{t: t, in: in, url: in.URL, mailbox: mailbox, sms: sms, cfg: cfg, redisProxy: proxy}
}

func redisURL(r testenv.RedisTarget) string {
	auth := ""
	if r.Password != "" {
		auth = ":" + r.Password + "@"
	}
	return fmt.Sprintf("redis://%s%s/%d", auth, r.Addr, r.DB)
}

func splitHostPort(t testing.TB, addr string) (string, int) {
	i := strings.LastIndex(addr, ":")
	port, err := strconv.Atoi(addr[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return addr[:i], port
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// smsGateway is a test HTTP SMS gateway that verifies the signature of
// each request and records the accepted ones.
type smsGateway struct {
	server *httptest.Server
	mu     sync.Mutex
	got    []smsRequest
	// fail is how many requests get 503 before the gateway accepts any.
	fail int
	// status, when set, is the response status of every request instead
	// of 202.
	status int
	// hold, when set, receives each accepted request before the gateway
	// responds. The gateway responds once release is closed.
	hold    chan smsRequest
	release chan struct{}
	// acceptedByKey counts accepted requests per idempotency key; a
	// gateway that de-duplicates delivers each key once.
	acceptedByKey map[string]int
	received      chan smsRequest
}

type smsRequest struct {
	To             string `json:"to"`
	Text           string `json:"text"`
	IdempotencyKey string `json:"idempotency_key"`
}

func newSMSGateway(t testing.TB) *smsGateway {
	g := &smsGateway{received: make(chan smsRequest, 100), acceptedByKey: map[string]int{}}
	g.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get("X-Signature-Timestamp")
		if r.Header.Get("X-Signature") != notifier.SignPayload(testSMSSecret, ts, body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var req smsRequest
		json.Unmarshal(body, &req)
		g.mu.Lock()
		if g.status != 0 {
			status := g.status
			g.mu.Unlock()
			http.Error(w, "rejected", status)
			return
		}
		if g.fail > 0 {
			g.fail--
			g.mu.Unlock()
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Idempotency-Key") != req.IdempotencyKey || req.IdempotencyKey == "" {
			g.mu.Unlock()
			http.Error(w, "missing idempotency key", http.StatusBadRequest)
			return
		}
		g.got = append(g.got, req)
		g.acceptedByKey[req.IdempotencyKey]++
		hold, release := g.hold, g.release
		g.mu.Unlock()
		// Tests read at most the buffer's worth; benchmarks read none.
		select {
		case g.received <- req:
		default:
		}
		if hold != nil {
			hold <- req
			<-release
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(g.server.Close)
	return g
}

func (g *smsGateway) set(fn func(g *smsGateway)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn(g)
}

func (g *smsGateway) requests() []smsRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]smsRequest(nil), g.got...)
}

// do sends a JSON request with the key and decodes a JSON answer into out
// (when not nil). It returns the status code.
func (b *bundle) do(method, path, key string, body any, out any) int {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			b.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, b.url+path, r)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return b.send(req, out)
}

func (b *bundle) send(req *http.Request, out any) int {
	b.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			b.t.Fatalf("%s %s: decode %q: %v", req.Method, req.URL.Path, data, err)
		}
	}
	return resp.StatusCode
}

// form is a multipart submission.
type form struct {
	fields    map[string]string
	photo     []byte
	photoName string
}

func (f form) body(t testing.TB) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range f.fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if f.photo != nil {
		name := f.photoName
		if name == "" {
			name = "photo.jpg"
		}
		fw, err := mw.CreateFormFile("photo", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(f.photo)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func (b *bundle) submit(account string, f form, out any) int {
	b.t.Helper()
	ctype, body := f.body(b.t)
	req, err := http.NewRequest(http.MethodPost, b.url+"/v1/accounts/"+account+"/verifications", bytes.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+testIntakeKey)
	return b.send(req, out)
}

func (b *bundle) putAccount(id string) {
	b.t.Helper()
	status := b.do(http.MethodPut, "/v1/accounts/"+id, testIntakeKey, map[string]any{
		"email": id + "@example.com", "phone": "+85291234567", "locale": "en",
		"subscriptions": map[string]bool{"email": true, "sms": true},
	}, nil)
	if status != http.StatusCreated && status != http.StatusOK {
		b.t.Fatalf("PUT account %s: status %d", id, status)
	}
}

type applicationView struct {
	ID          string          `json:"id"`
	Status      string          `json:"status"`
	Kind        string          `json:"kind"`
	ReviewDueAt *time.Time      `json:"review_due_at"`
	Checks      json.RawMessage `json:"checks"`
	Rejection   *struct {
		Reasons      []string `json:"reasons"`
		FailedChecks []struct {
			Field string `json:"field"`
			Code  string `json:"code"`
		} `json:"failed_checks"`
		ResubmitAllowed bool `json:"resubmit_allowed"`
	} `json:"rejection"`
}

// waitStatus polls an application until it reaches want or 30 seconds
// pass. Polling the API is what a caller does; each poll is a request,
// not a sleep standing in for a result.
func (b *bundle) waitStatus(account, id, want string) applicationView {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var v applicationView
	for time.Now().Before(deadline) {
		if code := b.do(http.MethodGet, "/v1/accounts/"+account+"/verifications/"+id, testIntakeKey, nil, &v); code != http.StatusOK {
			b.t.Fatalf("GET application: status %d", code)
		}
		if v.Status == want {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.t.Fatalf("application %s: status %q after 30s, want %q", id, v.Status, want)
	return v
}

func passportForm() form {
	return form{fields: map[string]string{
		"subject_type": "individual", "region": "HK", "document_type": "passport", "issuing_country": "NL",
		"full_name": "Anna Maria Eriksson", "address": "1 Queen's Road Central, Hong Kong",
		"document_number": "L898902C3", "consent": "true",
	}, photo: testJPEG}
}

var testJPEG, testPNG []byte

func TestMain(m *testing.M) {
	testJPEG = mustRead("testdata/passport.jpg")
	testPNG = mustRead("testdata/certificate.png")
	os.Exit(m.Run())
}

func mustRead(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return b
}
