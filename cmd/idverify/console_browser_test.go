package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
)

// chromiumPath returns the Chromium binary for the browser test. Without
// one the test is skipped, except under CI=true, where CI installs
// Chromium and a missing binary is a failure.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	const msg = "chromium not found at /usr/bin/chromium or in PATH. Install it with `apt-get install -y chromium` to run the reviewer console browser test"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestConsoleInBrowser drives the reviewer console in headless Chromium:
// sign in with the reviewer key, find the application in the queue, open
// it, claim it and approve it. The JSON API must then report it approved.
// Screenshots of the queue and the application page go to the temporary
// directory as console-queue.png and console-application.png.
func TestConsoleInBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	b := setup(t)
	if code := b.do(http.MethodGet, "/review/login", "", nil, nil); code != http.StatusOK {
		t.Fatalf("GET /review/login: status %d, want 200. The reviewer console is not mounted: routes must call console.New(...).Register(mux)", code)
	}

	// Submit an application through the API and wait for validation.
	const account = "acct-browser"
	b.putAccount(account)
	var created struct {
		ID string `json:"id"`
	}
	if code := b.submit(account, passportForm(), &created); code != http.StatusAccepted {
		t.Fatalf("submit: status %d, want 202", code)
	}
	b.waitStatus(account, created.ID, "awaiting_review")

	// Start Chromium with a fresh profile and nothing running in the
	// background that could reach the network. The default options already
	// contain headless, no-first-run, disable-background-networking and
	// disable-sync. They are repeated so that the list here is complete.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1400, 1000),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	// Sign in: the queue sends a signed-out browser to the sign-in page.
	err := chromedp.Do(ctx,
		chromedp.Navigate(b.url+"/review/"),
		chromedp.WaitVisible(chromedp.ID("api_key")),
		chromedp.SendKeys(chromedp.ID("api_key"), testReviewerKey),
		chromedp.Click(chromedp.CSS(`form[action="/review/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.queue")),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	queueText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("table.queue")))
	if err != nil {
		t.Fatalf("read the queue: %v", err)
	}
	consoleScreenshot(t, ctx, "console-queue.png")
	if !strings.Contains(queueText, created.ID) {
		t.Fatalf("queue does not list %s:\n%s", created.ID, queueText)
	}
	if strings.Contains(queueText, "Anna Maria Eriksson") {
		t.Error("queue shows the decrypted name")
	}

	// Open the application and claim it.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/review/applications/`+created.ID+`"]`)),
		chromedp.WaitVisible(chromedp.ID("claim-h")),
		chromedp.Click(chromedp.CSS(`form[action$="/claim"] button`)),
		chromedp.WaitVisible(chromedp.CSS("button.approve")),
	)
	if err != nil {
		t.Fatalf("open and claim the application: %v", err)
	}
	fieldsText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`section[aria-labelledby="fields-h"]`)))
	if err != nil {
		t.Fatalf("read the fields: %v", err)
	}
	if !strings.Contains(fieldsText, "Anna Maria Eriksson") {
		t.Errorf("application page does not show the decrypted name:\n%s", fieldsText)
	}
	photoLoaded, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`(() => { const i = document.querySelector("img.photo"); return i.complete && i.naturalWidth > 0; })()`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil || !photoLoaded {
		t.Errorf("photo did not load: %v", err)
	}
	consoleScreenshot(t, ctx, "console-application.png")

	// Approve. The decision section replaces the forms once the decision
	// is recorded.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("button.approve")),
		chromedp.WaitVisible(chromedp.ID("decision-h")),
	)
	if err != nil {
		t.Fatalf("approve the application: %v", err)
	}
	flashText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash-ok")))
	if err != nil {
		t.Fatalf("read the confirmation: %v", err)
	}
	if !strings.Contains(flashText, "Application approved.") {
		t.Errorf("flash after approval = %q, want it to confirm the approval", flashText)
	}

	// The JSON API reports the approval, and the audit trail names the
	// reviewer for each read and action.
	var app applicationView
	if code := b.do(http.MethodGet, "/v1/accounts/"+account+"/verifications/"+created.ID, testIntakeKey, nil, &app); code != http.StatusOK {
		t.Fatalf("GET application: status %d", code)
	}
	if app.Status != "approved" {
		t.Errorf("status = %q, want approved", app.Status)
	}
	var trail struct {
		Entries []struct {
			Actor  string `json:"actor"`
			Action string `json:"action"`
		} `json:"entries"`
	}
	if code := b.do(http.MethodGet, "/v1/review/applications/"+created.ID+"/audit", testReviewerKey, nil, &trail); code != http.StatusOK {
		t.Fatalf("GET audit trail: status %d", code)
	}
	var got []string
	for _, e := range trail.Entries {
		got = append(got, e.Actor+":"+e.Action)
	}
	slices.Sort(got)
	got = slices.Compact(got)
	want := []string{"alice:claim", "alice:decide", "alice:view_detail", "alice:view_photo"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("distinct audit entries (-want +got):\n%s", diff)
	}
}

func consoleScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	// Quality 100 selects the PNG format.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(os.TempDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("write screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", path)
}
