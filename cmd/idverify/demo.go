package main

//go:generate go run testdata/gen.go

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"time"
)

//go:embed testdata/passport.jpg
var demoJPEG []byte

//go:embed testdata/certificate.png
var demoPNG []byte

// demoClient talks to a running server as a caller, a reviewer and an
// operator would.
type demoClient struct {
	url                        string
	intake, reviewer, operator string
	http                       *http.Client
	out                        io.Writer
}

// runDemo registers accounts, submits a passport, a Hong Kong identity
// card and an enterprise application with real photos, approves one,
// rejects one, and prints statuses, identities, messages and captured
// notifications.
func runDemo(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	keysPath := fs.String("keys", devKeysFile(), "JSON `file` with url, intake_key, reviewer_key and operator_key, written by idverify serve")
	url := fs.String("url", os.Getenv("IDVERIFY_DEMO_URL"), "server `URL` (default: from the keys file)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: idverify demo [-keys file] [-url URL]\n\n"+
			"Keys come from the keys file that idverify serve writes, or, for any other server, from\n"+
			"IDVERIFY_DEMO_INTAKE_KEY, IDVERIFY_DEMO_REVIEWER_KEY and IDVERIFY_DEMO_OPERATOR_KEY, with the\n"+
			"server's URL in IDVERIFY_DEMO_URL or -url.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}

	c := &demoClient{url: *url, out: out, http: &http.Client{Timeout: 30 * time.Second},
		intake: os.Getenv("IDVERIFY_DEMO_INTAKE_KEY"), reviewer: os.Getenv("IDVERIFY_DEMO_REVIEWER_KEY"),
		operator: os.Getenv("IDVERIFY_DEMO_OPERATOR_KEY")}
	if c.intake == "" || c.reviewer == "" {
		b, err := os.ReadFile(*keysPath)
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no keys file at %s: start `go run ./cmd/idverify serve` first, or set IDVERIFY_DEMO_URL and IDVERIFY_DEMO_*_KEY", *keysPath)
		}
		if err != nil {
			return fmt.Errorf("read keys file: %w", err)
		}
		var dk devKeys
		if err := json.Unmarshal(b, &dk); err != nil {
			return fmt.Errorf("keys file %s: %w", *keysPath, err)
		}
		c.intake, c.reviewer, c.operator = dk.Intake, dk.Reviewer, dk.Operator
		if c.url == "" {
			c.url = dk.URL
		}
		c.printf("keys and URL from %s\n", *keysPath)
	}
	if c.url == "" {
		c.url = "http://127.0.0.1:8080"
	}
	// Check before submitting anything, so a missing key leaves no
	// half-run demo behind.
	if c.intake == "" || c.reviewer == "" {
		return fmt.Errorf("demo needs an intake and a reviewer key: serve generates them only when IDVERIFY_INTAKE_KEYS and IDVERIFY_REVIEWER_KEYS are unset; otherwise set IDVERIFY_DEMO_INTAKE_KEY and IDVERIFY_DEMO_REVIEWER_KEY")
	}
	c.url = strings.TrimRight(c.url, "/")
	return c.run(ctx)
}

func (c *demoClient) printf(format string, args ...any) { fmt.Fprintf(c.out, format, args...) }

func (c *demoClient) run(ctx context.Context) error {
	suffix := time.Now().UTC().Format("150405")
	type demoCase struct {
		account, label string
		fields         map[string]string
		photo          []byte
		photoName      string
		decision       map[string]any
	}
	cases := []demoCase{
		{
			account: "demo-passport-" + suffix, label: "passport (ICAO 9303 specimen L898902C3)",
			fields: map[string]string{"subject_type": "individual", "region": "HK", "document_type": "passport",
				"issuing_country": "NL", "full_name": "Anna Maria Eriksson", "address": "1 Harbour Road, Wan Chai, Hong Kong",
				"document_number": "L898902C3", "consent": "true"},
			photo: demoJPEG, photoName: "passport.jpg",
			decision: map[string]any{"decision": "approve"},
		},
		{
			account: "demo-hkid-" + suffix, label: "Hong Kong identity card A123456(3)",
			fields: map[string]string{"subject_type": "individual", "region": "HK", "document_type": "national_id",
				"issuing_country": "HK", "full_name": "陳大文", "address": "8 Finance Street, Central, Hong Kong",
				"document_number": "A123456(3)", "consent": "true"},
			photo: demoJPEG, photoName: "hkid.jpg",
			decision: map[string]any{"decision": "reject", "reasons": []string{"photo_unreadable"},
				"note": "The card is out of focus.", "resubmit_allowed": true},
		},
		{
			account: "demo-enterprise-" + suffix, label: "enterprise, unified social credit code 91350100M000100Y43",
			fields: map[string]string{"subject_type": "organization", "region": "CN", "enterprise_name": "福建示例科技有限公司",
				"registered_address": "88 Wusi Road, Gulou District, Fuzhou", "business_registration_number": "91350100M000100Y43",
				"terms_accepted": "true", "consent": "true"},
			photo: demoPNG, photoName: "certificate.png",
		},
	}

	ids := make([]string, len(cases))
	for i, dc := range cases {
		if err := c.json(ctx, http.MethodPut, "/v1/accounts/"+dc.account, c.intake, map[string]any{
			"email": dc.account + "@example.com", "phone": "+85291234567", "locale": "en",
			"subscriptions": map[string]bool{"email": true, "sms": true},
		}, nil); err != nil {
			return err
		}
		var created struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Kind   string `json:"kind"`
		}
		if err := c.submit(ctx, dc.account, dc.fields, dc.photo, dc.photoName, &created); err != nil {
			return fmt.Errorf("submit %s: %w", dc.label, err)
		}
		ids[i] = created.ID
		c.printf("submitted  %-58s %s  %s (%s)\n", dc.label, created.ID, created.Status, created.Kind)
	}

	for i, dc := range cases {
		status, err := c.waitPast(ctx, dc.account, ids[i], "submitted")
		if err != nil {
			return err
		}
		c.printf("validated  %-58s %s  %s\n", dc.label, ids[i], status)
	}

	for i, dc := range cases {
		if dc.decision == nil {
			continue
		}
		var decided struct {
			Status string `json:"status"`
		}
		if err := c.json(ctx, http.MethodPost, "/v1/review/applications/"+ids[i]+"/claim", c.reviewer, nil, nil); err != nil {
			return err
		}
		if err := c.json(ctx, http.MethodPost, "/v1/review/applications/"+ids[i]+"/decision", c.reviewer, dc.decision, &decided); err != nil {
			return err
		}
		c.printf("reviewed   %-58s %s  %s\n", dc.label, ids[i], decided.Status)
	}

	// Let the notification tasks run before reading what they produced.
	time.Sleep(2 * time.Second)
	for i, dc := range cases {
		var app map[string]any
		if err := c.json(ctx, http.MethodGet, "/v1/accounts/"+dc.account+"/verifications/"+ids[i], c.intake, nil, &app); err != nil {
			return err
		}
		var ident struct {
			Verified     bool   `json:"verified"`
			SubjectType  string `json:"subject_type"`
			NameMasked   string `json:"name_masked"`
			NumberMasked string `json:"number_masked"`
			Entitlements struct {
				Resources   []string `json:"resources"`
				VATInvoices bool     `json:"vat_invoices"`
			} `json:"entitlements"`
		}
		if err := c.json(ctx, http.MethodGet, "/v1/accounts/"+dc.account+"/identity", c.intake, nil, &ident); err != nil {
			return err
		}
		var msgs struct {
			Messages []struct {
				Subject string `json:"subject"`
			} `json:"messages"`
			UnreadCount int `json:"unread_count"`
		}
		if err := c.json(ctx, http.MethodGet, "/v1/accounts/"+dc.account+"/messages", c.intake, nil, &msgs); err != nil {
			return err
		}
		c.printf("\n== %s (account %s)\n", dc.label, dc.account)
		c.printf("status:    %v", app["status"])
		if rej, ok := app["rejection"].(map[string]any); ok {
			c.printf("  reasons %v, may resubmit: %v", rej["reasons"], rej["resubmit_allowed"])
		}
		if ident.Verified {
			c.printf("\nidentity:  verified %s, name %s, number %s; may buy %s resources, VAT invoices %s\n",
				ident.SubjectType, ident.NameMasked, ident.NumberMasked, strings.Join(ident.Entitlements.Resources, ", "),
				yesNo(ident.Entitlements.VATInvoices))
		} else {
			c.printf("\nidentity:  not verified; no resources, no VAT invoices\n")
		}
		c.printf("messages:  %d (%d unread)\n", len(msgs.Messages), msgs.UnreadCount)
		for _, m := range msgs.Messages {
			c.printf("           - %s\n", m.Subject)
		}
	}

	if c.operator == "" {
		return nil
	}
	var mails []struct {
		To      []string `json:"to"`
		Subject string   `json:"subject"`
	}
	if err := c.json(ctx, http.MethodGet, "/dev/mailbox.json", c.operator, nil, &mails); err != nil {
		c.printf("\n(no development mailbox on this server; emails went to its SMTP server, if one is set)\n")
	} else {
		c.printf("\n== emails captured by the dev mailbox (%s/dev/mailbox/)\n", c.url)
		for _, m := range mails {
			c.printf("  to %-40s %s\n", strings.Join(m.To, ","), m.Subject)
		}
	}
	var sms []struct {
		To   string `json:"to"`
		Text string `json:"text"`
	}
	if err := c.json(ctx, http.MethodGet, "/dev/sms.json", c.operator, nil, &sms); err == nil {
		c.printf("\n== SMS in the dev outbox\n")
		for _, m := range sms {
			c.printf("  to %s: %s\n", maskPhone(m.To), m.Text)
		}
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func maskPhone(p string) string {
	if len(p) < 6 {
		return "****"
	}
	return p[:4] + "****" + p[len(p)-2:]
}

// waitPast polls an application until its status differs from from.
func (c *demoClient) waitPast(ctx context.Context, account, id, from string) (string, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var v struct {
			Status string `json:"status"`
		}
		if err := c.json(ctx, http.MethodGet, "/v1/accounts/"+account+"/verifications/"+id, c.intake, nil, &v); err != nil {
			return "", err
		}
		if v.Status != from {
			return v.Status, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("application %s still %s after 60 seconds; are the workers running?", id, from)
}

func (c *demoClient) json(ctx context.Context, method, path, key string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.do(req, key, out)
}

func (c *demoClient) submit(ctx context.Context, account string, fields map[string]string, photo []byte, name string, out any) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("photo", name)
	if err != nil {
		return err
	}
	fw.Write(photo)
	mw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/v1/accounts/"+account+"/verifications", &buf)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req, c.intake, out)
}

func (c *demoClient) do(req *http.Request, key string, out any) error {
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is `idverify serve` running at %s?)", req.Method, req.URL.Path, err, c.url)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode response: %w", req.Method, req.URL.Path, err)
		}
	}
	return nil
}
