package embedded_test

import (
	"context"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	gomail "github.com/wneessen/go-mail"

	"github.com/idverify/idverify/embedded"
)

func startMailbox(t *testing.T) *embedded.Mailbox {
	t.Helper()

	box, err := embedded.StartMailbox("127.0.0.1:0", nil)
	if err != nil {
		t.Fatalf("StartMailbox: %v", err)
	}
	t.Cleanup(func() {
		if err := box.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return box
}

// sendRaw delivers raw exactly as given, after turning LF line ends into
// the CRLF that SMTP requires.
func sendRaw(t *testing.T, addr, from string, to []string, raw string) {
	t.Helper()

	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	if err := smtp.SendMail(addr, nil, from, to, []byte(raw)); err != nil {
		t.Fatalf("send mail to %s: %v", addr, err)
	}
}

func waitMails(t *testing.T, box *embedded.Mailbox, n int) []embedded.Mail {
	t.Helper()

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	mails, err := box.Wait(ctx, n)
	if err != nil {
		t.Fatalf("Wait(%d): %v", n, err)
	}
	return mails
}

func TestMailboxDecoding(t *testing.T) {
	type decoded struct {
		From, Subject, Text, HTML string
		HasDecodeError            bool
	}
	tests := []struct {
		name string
		raw  string
		want decoded
	}{
		{
			name: "plain ASCII without Content-Type",
			raw: "From: sender@example.com\n" +
				"Subject: Hello\n" +
				"\n" +
				"Line one.\nLine two.\n",
			want: decoded{From: "sender@example.com", Subject: "Hello", Text: "Line one.\nLine two.\n"},
		},
		{
			name: "quoted-printable UTF-8 text",
			raw: "From: sender@example.com\n" +
				"Subject: QP\n" +
				"MIME-Version: 1.0\n" +
				"Content-Type: text/plain; charset=utf-8\n" +
				"Content-Transfer-Encoding: quoted-printable\n" +
				"\n" +
				"Zo=C3=AB, your application =F0=9F=98=80 was rec=\n" +
				"eived.\n",
			want: decoded{From: "sender@example.com", Subject: "QP", Text: "Zo\u00eb, your application \U0001F600 was received.\n"},
		},
		{
			name: "base64 HTML",
			raw: "From: sender@example.com\n" +
				"Subject: B64\n" +
				"MIME-Version: 1.0\n" +
				"Content-Type: text/html; charset=UTF-8\n" +
				"Content-Transfer-Encoding: base64\n" +
				"\n" +
				// "<p>王 𠀀</p>" in base64, wrapped over two lines.
				"PHA+546LIPCg\n" +
				"gIA8L3A+\n",
			want: decoded{From: "sender@example.com", Subject: "B64", HTML: "<p>\u738b \U00020000</p>"},
		},
		{
			name: "RFC 2047 encoded words",
			raw: "From: =?UTF-8?B?546L5bCP5piO?= <wang@example.com>\n" +
				"Subject: =?UTF-8?Q?Verification_approved_=F0=9F=98=80?= =?UTF-8?B?IPCggIA=?=\n" +
				"\n" +
				"ok\n",
			want: decoded{From: "\u738b\u5c0f\u660e <wang@example.com>", Subject: "Verification approved \U0001F600 \U00020000", Text: "ok\n"},
		},
		{
			name: "multipart alternative",
			raw: "From: sender@example.com\n" +
				"Subject: Alt\n" +
				"MIME-Version: 1.0\n" +
				"Content-Type: multipart/alternative; boundary=\"b1\"\n" +
				"\n" +
				"--b1\n" +
				"Content-Type: text/plain; charset=utf-8\n" +
				"Content-Transfer-Encoding: quoted-printable\n" +
				"\n" +
				"Zo=C3=AB\n" +
				"--b1\n" +
				"Content-Type: text/html; charset=utf-8\n" +
				"Content-Transfer-Encoding: base64\n" +
				"\n" +
				"PGI+Wm/DqzwvYj4=\n" +
				"--b1--\n",
			want: decoded{From: "sender@example.com", Subject: "Alt", Text: "Zo\u00eb", HTML: "<b>Zo\u00eb</b>"},
		},
		{
			name: "multipart mixed with attachment",
			raw: "From: sender@example.com\n" +
				"Subject: Mixed\n" +
				"MIME-Version: 1.0\n" +
				"Content-Type: multipart/mixed; boundary=outer\n" +
				"\n" +
				"--outer\n" +
				"Content-Type: multipart/alternative; boundary=inner\n" +
				"\n" +
				"--inner\n" +
				"Content-Type: text/plain; charset=utf-8\n" +
				"\n" +
				"body text\n" +
				"--inner\n" +
				"Content-Type: text/html; charset=utf-8\n" +
				"\n" +
				"<p>body html</p>\n" +
				"--inner--\n" +
				"--outer\n" +
				"Content-Type: text/plain; charset=utf-8\n" +
				"Content-Disposition: attachment; filename=notes.txt\n" +
				"\n" +
				"attachment text\n" +
				"--outer--\n",
			want: decoded{From: "sender@example.com", Subject: "Mixed", Text: "body text", HTML: "<p>body html</p>"},
		},
		{
			name: "ISO-8859-1 header and body",
			raw: "From: =?ISO-8859-1?Q?Zo=EB?= <zoe@example.com>\n" +
				"Subject: =?iso-8859-1?q?Caf=E9?=\n" +
				"MIME-Version: 1.0\n" +
				"Content-Type: text/plain; charset=iso-8859-1\n" +
				"Content-Transfer-Encoding: quoted-printable\n" +
				"\n" +
				"Caf=E9\n",
			want: decoded{From: "Zo\u00eb <zoe@example.com>", Subject: "Caf\u00e9", Text: "Caf\u00e9\n"},
		},
		{
			name: "GBK body",
			raw: "From: sender@example.com\n" +
				"Subject: GBK\n" +
				"Content-Type: text/plain; charset=gbk\n" +
				"Content-Transfer-Encoding: base64\n" +
				"\n" +
				"zfU=\n",
			want: decoded{From: "sender@example.com", Subject: "GBK", Text: "\u738b"},
		},
		{
			name: "invalid UTF-8 in UTF-8 part",
			raw: "From: sender@example.com\n" +
				"Subject: Broken\n" +
				"Content-Type: text/plain; charset=utf-8\n" +
				"Content-Transfer-Encoding: base64\n" +
				"\n" +
				"/w==\n",
			want: decoded{From: "sender@example.com", Subject: "Broken", HasDecodeError: true},
		},
		{
			name: "unknown charset",
			raw: "From: sender@example.com\n" +
				"Subject: Unknown\n" +
				"Content-Type: text/plain; charset=x-no-such-charset\n" +
				"\n" +
				"text\n",
			want: decoded{From: "sender@example.com", Subject: "Unknown", HasDecodeError: true},
		},
		{
			name: "unknown transfer encoding",
			raw: "From: sender@example.com\n" +
				"Subject: Unknown CTE\n" +
				"Content-Type: text/plain; charset=utf-8\n" +
				"Content-Transfer-Encoding: x-uuencode\n" +
				"\n" +
				"text\n",
			want: decoded{From: "sender@example.com", Subject: "Unknown CTE", HasDecodeError: true},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			box := startMailbox(t)

			sendRaw(t, box.Addr(), "envelope@example.com", []string{"rcpt@example.com"}, tt.raw)
			mails := waitMails(t, box, 1)

			got := decoded{
				From:           mails[0].From,
				Subject:        mails[0].Subject,
				Text:           mails[0].Text,
				HTML:           mails[0].HTML,
				HasDecodeError: mails[0].DecodeError != "",
			}
			if tt.want.HasDecodeError {
				// A message that fails to decode keeps whatever decoded.
				got.Text, got.HTML = "", ""
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decoded mail differs (-want +got):\n%s\nDecodeError: %s", diff, mails[0].DecodeError)
			}
		})
	}
}

func TestMailboxEnvelope(t *testing.T) {
	box := startMailbox(t)
	date := time.Date(2025, time.May, 6, 7, 8, 9, 0, time.FixedZone("", 8*3600))

	sendRaw(t, box.Addr(), "bounce@example.com", []string{"to@example.com", "bcc@example.com"},
		"From: Sender <sender@example.com>\nTo: to@example.com\nDate: "+date.Format(time.RFC1123Z)+"\nSubject: One\n\none\n")
	sendRaw(t, box.Addr(), "bounce@example.com", []string{"third@example.com"},
		"Subject: Two\n\ntwo\n")
	mails := waitMails(t, box, 2)

	type envelope struct {
		ID      int
		From    string
		To      []string
		Subject string
	}
	var got []envelope
	for _, m := range mails {
		got = append(got, envelope{ID: m.ID, From: m.From, To: m.To, Subject: m.Subject})
	}
	want := []envelope{
		{ID: 1, From: "Sender <sender@example.com>", To: []string{"to@example.com", "bcc@example.com"}, Subject: "One"},
		{ID: 2, From: "bounce@example.com", To: []string{"third@example.com"}, Subject: "Two"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("envelopes differ (-want +got):\n%s", diff)
	}
	if !mails[0].Date.Equal(date) {
		t.Errorf("mail 1 Date = %v, want %v", mails[0].Date, date)
	}
	if mails[1].Date.IsZero() || !mails[1].Date.Equal(mails[1].ReceivedAt) {
		t.Errorf("mail 2 without Date header: Date = %v, want ReceivedAt %v", mails[1].Date, mails[1].ReceivedAt)
	}
	if got := mails[0].Header.Get("To"); got != "to@example.com" {
		t.Errorf("mail 1 To header = %q, want %q", got, "to@example.com")
	}
	if !strings.Contains(string(mails[0].Raw), "\r\nSubject: One\r\n") {
		t.Errorf("mail 1 Raw does not contain the Subject line with CRLF:\n%q", mails[0].Raw)
	}
}

// TestMailboxGoMail sends through github.com/wneessen/go-mail, the library
// idverify's email channel uses, with the options the mailbox requires.
func TestMailboxGoMail(t *testing.T) {
	box := startMailbox(t)
	host, portText, err := net.SplitHostPort(box.Addr())
	if err != nil {
		t.Fatalf("SplitHostPort: %v", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		t.Fatalf("parse port: %v", err)
	}

	const (
		name    = "\u738b\u5c0f\u660e \U00020000"
		subject = "\u8eab\u4efd\u9a8c\u8bc1 \U0001F600 approved"
		text    = "Dear Zo\u00eb,\n\nyour verification \U0001F600 was approved.\n"
		body    = "<p>Dear Zo\u00eb, <b>\u738b</b> \U00020000</p>"
	)
	message := gomail.NewMsg()
	if err := message.FromFormat(name, "noreply@example.com"); err != nil {
		t.Fatalf("FromFormat: %v", err)
	}
	if err := message.To("applicant@example.com"); err != nil {
		t.Fatalf("To: %v", err)
	}
	message.Subject(subject)
	message.SetBodyString(gomail.TypeTextPlain, text)
	message.AddAlternativeString(gomail.TypeTextHTML, body)

	client, err := gomail.NewClient(host, gomail.WithPort(port), gomail.WithTLSPolicy(gomail.NoTLS))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, message); err != nil {
		t.Fatalf("DialAndSendWithContext: %v", err)
	}
	mails := waitMails(t, box, 1)

	want := embedded.Mail{
		ID:      1,
		From:    name + " <noreply@example.com>",
		To:      []string{"applicant@example.com"},
		Subject: subject,
		Text:    text,
		HTML:    body,
	}
	ignore := cmpopts.IgnoreFields(embedded.Mail{}, "Date", "ReceivedAt", "Header", "Raw")
	if diff := cmp.Diff(want, mails[0], ignore); diff != "" {
		t.Errorf("mail differs (-want +got):\n%s", diff)
	}
}

func TestMailboxWait(t *testing.T) {
	box := startMailbox(t)

	type result struct {
		mails []embedded.Mail
		err   error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		mails, err := box.Wait(ctx, 2)
		done <- result{mails, err}
	}()
	sendRaw(t, box.Addr(), "a@example.com", []string{"b@example.com"}, "Subject: 1\n\n1\n")
	sendRaw(t, box.Addr(), "a@example.com", []string{"b@example.com"}, "Subject: 2\n\n2\n")

	got := <-done
	if got.err != nil {
		t.Fatalf("Wait(2): %v", got.err)
	}
	if len(got.mails) != 2 {
		t.Errorf("Wait(2) returned %d mails, want 2", len(got.mails))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := box.Wait(ctx, 3); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait(3) with canceled context: error %v, want context.Canceled", err)
	}
}

func TestMailboxRejectsOversizedMessage(t *testing.T) {
	box := startMailbox(t)
	raw := "Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("x", 998)+"\r\n", embedded.MailboxMaxMessageBytes/1000+1)

	err := smtp.SendMail(box.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte(raw))

	if err == nil || !strings.Contains(err.Error(), "552") {
		t.Errorf("send %d bytes: error %v, want SMTP 552", len(raw), err)
	}
	if n := len(box.Messages()); n != 0 {
		t.Errorf("Messages() has %d mails, want 0", n)
	}
}

func TestMailboxClose(t *testing.T) {
	box, err := embedded.StartMailbox("127.0.0.1:0", nil)
	if err != nil {
		t.Fatalf("StartMailbox: %v", err)
	}
	sendRaw(t, box.Addr(), "a@example.com", []string{"b@example.com"}, "Subject: kept\n\nx\n")
	waitMails(t, box, 1)

	if err := box.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := box.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	if err := smtp.SendMail(box.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte("Subject: x\r\n\r\nx\r\n")); err == nil {
		t.Error("send after Close succeeded, want a connection error")
	}
	if got := len(box.Messages()); got != 1 {
		t.Errorf("Messages() after Close has %d mails, want 1", got)
	}
}

func TestMailboxCloseRightAfterStart(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		for range 200 {
			box, err := embedded.StartMailbox("127.0.0.1:0", nil)
			if err != nil {
				done <- err
				return
			}
			if err := box.Close(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("start and close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close right after StartMailbox did not return within 30 seconds")
	}
}

// srcdocPattern finds the srcdoc attribute that the mail page renders.
var srcdocPattern = regexp.MustCompile(`<iframe sandbox="" [^>]*srcdoc="([^"]*)"`)

func TestMailboxHandler(t *testing.T) {
	box := startMailbox(t)
	const body = `<p onclick="x()">"Quoted" & 'single' <script>alert(1)</script></p>`
	sendRaw(t, box.Addr(), "a@example.com", []string{"b@example.com"},
		"Subject: First <b>bold</b>\nContent-Type: text/html; charset=utf-8\n\n"+body)
	sendRaw(t, box.Addr(), "a@example.com", []string{"b@example.com"}, "Subject: Second\n\nsecond text\n")
	mails := waitMails(t, box, 2)

	mux := http.NewServeMux()
	mux.Handle("/dev/mailbox/", box.Handler())
	mux.Handle("/stripped/", http.StripPrefix("/stripped", box.Handler()))
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)

	for _, base := range []string{"/dev/mailbox/", "/stripped/"} {
		t.Run(strings.Trim(base, "/"), func(t *testing.T) {
			index := get(t, server.URL+base, http.StatusOK)
			first := strings.Index(index, `href="1"`)
			second := strings.Index(index, `href="2"`)
			if first < 0 || second < 0 || second > first {
				t.Errorf("index page: links to mail 2 then 1 expected, got positions %d and %d", second, first)
			}
			if !strings.Contains(index, "First &lt;b&gt;bold&lt;/b&gt;") {
				t.Error("index page does not show the escaped subject of mail 1")
			}

			page := get(t, server.URL+base+"1", http.StatusOK)
			match := srcdocPattern.FindStringSubmatch(page)
			if match == nil {
				t.Fatalf("mail page has no sandboxed iframe with srcdoc:\n%s", page)
			}
			// net/smtp ends the data with a line break, which stays in the body.
			if got := html.UnescapeString(match[1]); got != body+"\n" {
				t.Errorf("srcdoc = %q, want %q", got, body+"\n")
			}
			if strings.Contains(page, "<script>") {
				t.Error("mail page contains an unescaped <script> tag")
			}

			raw := get(t, server.URL+base+"2/raw", http.StatusOK)
			if raw != string(mails[1].Raw) {
				t.Errorf("raw page = %q, want %q", raw, mails[1].Raw)
			}

			get(t, server.URL+base+"99", http.StatusNotFound)
			get(t, server.URL+base+"nothing", http.StatusNotFound)
		})
	}

	response, err := http.Post(server.URL+"/dev/mailbox/", "text/plain", strings.NewReader(""))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	response.Body.Close()
	if response.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST status = %d, want %d", response.StatusCode, http.StatusMethodNotAllowed)
	}
}

func TestMailboxHandlerHeaders(t *testing.T) {
	box := startMailbox(t)
	server := httptest.NewServer(box.Handler())
	t.Cleanup(server.Close)

	response, err := http.Get(server.URL + "/")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer response.Body.Close()

	want := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
	}
	got := map[string]string{}
	for name := range want {
		got[name] = response.Header.Get(name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response headers differ (-want +got):\n%s", diff)
	}
}

func get(t *testing.T, url string, wantStatus int) string {
	t.Helper()

	response, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	if response.StatusCode != wantStatus {
		t.Errorf("GET %s: status %d, want %d", url, response.StatusCode, wantStatus)
	}
	return string(body)
}
