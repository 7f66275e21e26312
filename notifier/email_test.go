package notifier_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/notifier"
)

// mailerFor returns a Mailer aimed at srv, after change adjusts its config.
func mailerFor(t *testing.T, srv *testSMTPServer, change func(*notifier.EmailConfig)) *notifier.Mailer {
	t.Helper()
	cfg := notifier.EmailConfig{
		Host:     srv.Host,
		Port:     srv.Port,
		TLS:      notifier.TLSNone,
		From:     "no-reply@idverify.example",
		FromName: "实名认证 idverify",
		RootCAs:  srv.RootCAs,
	}
	if change != nil {
		change(&cfg)
	}
	m, err := notifier.NewMailer(cfg, nil)
	if err != nil {
		t.Fatalf("NewMailer: %v", err)
	}
	return m
}

func sampleEmail(messageID string) notifier.Email {
	return notifier.Email{
		To:        "applicant@example.org",
		ToName:    "陈大文",
		Subject:   "您的实名认证申请已通过",
		Text:      "您的实名认证申请 app-1 已通过审核。\nSecond line: café.\n",
		HTML:      "<!DOCTYPE html><html><body><p>您的实名认证申请 <strong>app-1</strong> 已通过审核。</p></body></html>\n",
		MessageID: messageID,
	}
}

// parsedMail is what a receiver reads from a message with net/mail.
type parsedMail struct {
	FromName, FromAddress string
	ToName, ToAddress     string
	Subject               string
	MessageID             string
	AutoSubmitted         string
	Text, HTML            string
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("net/mail cannot read the message: %v\n%s", err, data)
	}
	var p parsedMail

	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 {
		t.Fatalf("From header %q: %v", msg.Header.Get("From"), err)
	}
	p.FromName, p.FromAddress = from[0].Name, from[0].Address
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 1 {
		t.Fatalf("To header %q: %v", msg.Header.Get("To"), err)
	}
	p.ToName, p.ToAddress = to[0].Name, to[0].Address

	p.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode Subject %q: %v", msg.Header.Get("Subject"), err)
	}
	p.MessageID = msg.Header.Get("Message-Id")
	p.AutoSubmitted = msg.Header.Get("Auto-Submitted")

	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	if mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", mediaType)
	}
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := parts.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read MIME part: %v", err)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatalf("read MIME part body: %v", err)
		}
		text := strings.ReplaceAll(string(body), "\r\n", "\n")
		partType, partParams, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if cs := strings.ToLower(partParams["charset"]); cs != "utf-8" {
			t.Errorf("part %s has charset %q, want utf-8", partType, cs)
		}
		switch partType {
		case "text/plain":
			p.Text = text
		case "text/html":
			p.HTML = text
		default:
			t.Errorf("unexpected part type %q", partType)
		}
	}
	return p
}

func TestMailerSendPlain(t *testing.T) {
	srv := startSMTPServer(t, smtpServerConfig{})
	var logs bytes.Buffer
	m, err := notifier.NewMailer(notifier.EmailConfig{
		Host: srv.Host, Port: srv.Port, TLS: notifier.TLSNone,
		From: "no-reply@idverify.example", FromName: "实名认证 idverify",
	}, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("NewMailer: %v", err)
	}
	e := sampleEmail(m.MessageID(42))

	if err := m.Send(context.Background(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := srv.receive(t)
	if diff := cmp.Diff("no-reply@idverify.example", got.From); diff != "" {
		t.Errorf("envelope sender mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{e.To}, got.To); diff != "" {
		t.Errorf("envelope recipients mismatch (-want +got):\n%s", diff)
	}
	want := parsedMail{
		FromName: "实名认证 idverify", FromAddress: "no-reply@idverify.example",
		ToName: e.ToName, ToAddress: e.To,
		Subject:       e.Subject,
		MessageID:     "<notification-42.idverify@idverify.example>",
		AutoSubmitted: "auto-generated",
		Text:          e.Text,
		HTML:          e.HTML,
	}
	if diff := cmp.Diff(want, parseMail(t, got.Data)); diff != "" {
		t.Errorf("received message mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(logs.String(), e.To) || strings.Contains(logs.String(), e.ToName) {
		t.Errorf("log contains the recipient's address or name:\n%s", logs.String())
	}
}

func TestMailerRoundTripsNamesAndSubjects(t *testing.T) {
	srv := startSMTPServer(t, smtpServerConfig{})
	tests := []struct {
		name, toName, fromName, subject string
	}{
		{"chinese", "陈大文", "实名认证服务", "您的实名认证申请已通过"},
		{"traditional chinese", "陳大文", "實名認證服務", "您的實名認證申請已通過"},
		{"quotes and comma", `O'Brien, "Jr"`, `Support, "idverify"`, `Re: "quoted", and commas`},
		{"accented latin", "José Ñúñez-Müller", "Zoë Ångström", "Votre demande a été approuvée – merci"},
		{"mixed scripts", "Анна 山田 O'Neil", "idverify", "Статус: 已通过 ✓"},
		{"long chinese name", strings.Repeat("欧阳", 30), "idverify",
			strings.Repeat("您的实名认证变更申请审核时间有所延长", 4)},
		{"long ascii subject", "Ann", "idverify", strings.Repeat("Your identity verification application ", 5) + "end"},
		{"backslash and angle brackets", `A\B <C>`, "idverify", `Subject with \ and <tags>`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mailerFor(t, srv, func(c *notifier.EmailConfig) { c.FromName = tt.fromName })
			e := sampleEmail(m.MessageID(int64(100 + i)))
			e.ToName, e.Subject = tt.toName, tt.subject

			if err := m.Send(context.Background(), e); err != nil {
				t.Fatalf("Send: %v", err)
			}

			got := parseMail(t, srv.receive(t).Data)
			if diff := cmp.Diff(tt.toName, got.ToName); diff != "" {
				t.Errorf("To display name mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.fromName, got.FromName); diff != "" {
				t.Errorf("From display name mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.subject, got.Subject); diff != "" {
				t.Errorf("Subject mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMailerSendRenderedContent(t *testing.T) {
	srv := startSMTPServer(t, smtpServerConfig{})
	m := mailerFor(t, srv, nil)
	c, err := notifier.Render(notifier.EventRejected, "zh-HK", notifier.Data{
		ApplicationID: "app-7", Reasons: []string{"name_mismatch"}, ResubmitAllowed: true,
	})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	e := notifier.Email{To: "a@example.org", ToName: "陳大文", Subject: c.Subject, Text: c.Text, HTML: c.HTML,
		MessageID: m.MessageID(7)}

	if err := m.Send(context.Background(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := parseMail(t, srv.receive(t).Data)
	if diff := cmp.Diff(c.Subject, got.Subject); diff != "" {
		t.Errorf("Subject mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(c.Text, got.Text); diff != "" {
		t.Errorf("text body mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(c.HTML, got.HTML); diff != "" {
		t.Errorf("HTML body mismatch (-want +got):\n%s", diff)
	}
}

func TestMailerTLSAndAuth(t *testing.T) {
	tests := []struct {
		name   string
		server smtpServerConfig
		tls    string
		auth   string
	}{
		{"starttls plain", smtpServerConfig{tls: "starttls", authMechanisms: []string{"PLAIN", "LOGIN"}}, notifier.TLSStartTLS, notifier.AuthPlain},
		{"starttls auto", smtpServerConfig{tls: "starttls", authMechanisms: []string{"PLAIN"}}, notifier.TLSStartTLS, notifier.AuthAuto},
		{"implicit plain", smtpServerConfig{tls: "implicit", authMechanisms: []string{"PLAIN"}}, notifier.TLSImplicit, notifier.AuthPlain},
		{"implicit auto", smtpServerConfig{tls: "implicit", authMechanisms: []string{"PLAIN", "LOGIN"}}, notifier.TLSImplicit, notifier.AuthAuto},
		{"starttls login only", smtpServerConfig{tls: "starttls", authMechanisms: []string{"LOGIN"}}, notifier.TLSStartTLS, notifier.AuthLogin},
		{"starttls login only auto", smtpServerConfig{tls: "starttls", authMechanisms: []string{"LOGIN"}}, notifier.TLSStartTLS, notifier.AuthAuto},
		{"implicit login only", smtpServerConfig{tls: "implicit", authMechanisms: []string{"LOGIN"}}, notifier.TLSImplicit, notifier.AuthLogin},
		{"starttls without auth", smtpServerConfig{tls: "starttls"}, notifier.TLSStartTLS, notifier.AuthNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.server.username, tt.server.password = "notifier", "s3cret: with spaces"
			srv := startSMTPServer(t, tt.server)
			m := mailerFor(t, srv, func(c *notifier.EmailConfig) {
				c.TLS, c.Auth = tt.tls, tt.auth
				if tt.auth != notifier.AuthNone {
					c.Username, c.Password = tt.server.username, tt.server.password
				}
			})

			if err := m.Send(context.Background(), sampleEmail(m.MessageID(1))); err != nil {
				t.Fatalf("Send: %v", err)
			}

			got := srv.receive(t)
			if !got.TLS {
				t.Errorf("message arrived over a connection without TLS")
			}
			wantUser := tt.server.username
			if tt.auth == notifier.AuthNone {
				wantUser = ""
			}
			if got.AuthUser != wantUser {
				t.Errorf("authenticated user = %q, want %q", got.AuthUser, wantUser)
			}
		})
	}
}

func TestMailerTemporaryFailures(t *testing.T) {
	tests := []struct {
		name   string
		server smtpServerConfig
		change func(*notifier.EmailConfig)
	}{
		{"wrong password", smtpServerConfig{tls: "starttls", authMechanisms: []string{"PLAIN"}, username: "u", password: "right"},
			func(c *notifier.EmailConfig) {
				c.TLS, c.Auth, c.Username, c.Password = notifier.TLSStartTLS, notifier.AuthPlain, "u", "wrong"
			}},
		{"server offers no STARTTLS", smtpServerConfig{},
			func(c *notifier.EmailConfig) { c.TLS = notifier.TLSStartTLS }},
		{"untrusted certificate", smtpServerConfig{tls: "starttls"},
			func(c *notifier.EmailConfig) { c.TLS, c.RootCAs = notifier.TLSStartTLS, nil }},
		{"untrusted certificate implicit", smtpServerConfig{tls: "implicit"},
			func(c *notifier.EmailConfig) { c.TLS, c.RootCAs = notifier.TLSImplicit, nil }},
		{"mechanism not offered", smtpServerConfig{tls: "starttls", authMechanisms: []string{"LOGIN"}, username: "u", password: "p"},
			func(c *notifier.EmailConfig) {
				c.TLS, c.Auth, c.Username, c.Password = notifier.TLSStartTLS, notifier.AuthCramMD5, "u", "p"
			}},
		{"mailbox busy", smtpServerConfig{rcptErr: &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "mailbox busy"}}, nil},
		{"data deferred", smtpServerConfig{dataErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTPServer(t, tt.server)
			m := mailerFor(t, srv, tt.change)

			err := m.Send(context.Background(), sampleEmail(m.MessageID(1)))
			if err == nil {
				t.Fatal("Send returned no error")
			}
			if errors.Is(err, notifier.ErrPermanent) {
				t.Errorf("Send error %q is permanent, want temporary", err)
			}
			srv.assertNothingReceived(t)
		})
	}
}

func TestMailerInsecureSkipVerify(t *testing.T) {
	srv := startSMTPServer(t, smtpServerConfig{tls: "starttls"})
	m := mailerFor(t, srv, func(c *notifier.EmailConfig) {
		c.TLS, c.RootCAs, c.InsecureSkipVerify = notifier.TLSStartTLS, nil, true
	})

	if err := m.Send(context.Background(), sampleEmail(m.MessageID(1))); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := srv.receive(t); !got.TLS {
		t.Errorf("message arrived over a connection without TLS")
	}
}

func TestMailerPermanentRejections(t *testing.T) {
	const address = "applicant@example.org"
	tests := []struct {
		name     string
		server   smtpServerConfig
		wantCode string
	}{
		{"recipient unknown", smtpServerConfig{rcptErr: &smtp.SMTPError{
			Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + address + ">: mailbox unavailable",
		}}, "550 5.1.1"},
		{"message refused", smtpServerConfig{dataErr: &smtp.SMTPError{
			Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "message to " + address + " refused",
		}}, "554 5.7.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTPServer(t, tt.server)
			m := mailerFor(t, srv, nil)
			e := sampleEmail(m.MessageID(9))
			e.To = address

			err := m.Send(context.Background(), e)
			if !errors.Is(err, notifier.ErrPermanent) {
				t.Fatalf("Send error = %v, want one wrapping ErrPermanent", err)
			}
			if !strings.Contains(err.Error(), tt.wantCode) {
				t.Errorf("Send error %q does not name the reply code %s", err, tt.wantCode)
			}
			for _, secret := range []string{address, e.ToName} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("Send error %q contains personal data %q", err, secret)
				}
			}
			srv.assertNothingReceived(t)
		})
	}
}

func TestMailerNoGreetingTimesOut(t *testing.T) {
	for _, mode := range []string{notifier.TLSNone, notifier.TLSStartTLS, notifier.TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			port := silentListener(t)
			m, err := notifier.NewMailer(notifier.EmailConfig{
				Host: "127.0.0.1", Port: port, TLS: mode, From: "no-reply@idverify.example",
				ConnectTimeout: 200 * time.Millisecond,
				SendTimeout:    time.Hour,
			}, nil)
			if err != nil {
				t.Fatalf("NewMailer: %v", err)
			}
			// The test's own deadline is far beyond ConnectTimeout. If only
			// it ends the attempt, ctx.Err() is set and the test fails.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			err = m.Send(ctx, sampleEmail(m.MessageID(1)))
			if err == nil {
				t.Fatal("Send returned no error from a server that never greets")
			}
			if ctx.Err() != nil {
				t.Fatalf("Send ran until the test's own deadline: %v", err)
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Send error = %v, want a deadline error", err)
			}
			if errors.Is(err, notifier.ErrPermanent) {
				t.Errorf("Send error %q is permanent, want temporary", err)
			}
		})
	}
}

func TestMailerStopsWhenContextEnds(t *testing.T) {
	tests := []struct {
		name        string
		sendTimeout time.Duration
		cancel      bool
		want        error
	}{
		{"caller cancels", time.Hour, true, context.Canceled},
		{"send timeout", 300 * time.Millisecond, false, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started, release := make(chan struct{}, 1), make(chan struct{})
			srv := startSMTPServer(t, smtpServerConfig{dataStarted: started, dataRelease: release})
			t.Cleanup(func() { close(release) })
			m := mailerFor(t, srv, func(c *notifier.EmailConfig) { c.SendTimeout = tt.sendTimeout })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()

			result := make(chan error, 1)
			go func() { result <- m.Send(ctx, sampleEmail(m.MessageID(1))) }()
			select {
			case <-started:
			case <-time.After(10 * time.Second):
				t.Fatal("the server never saw DATA")
			}
			if tt.cancel {
				cancel()
			}

			select {
			case err := <-result:
				if !errors.Is(err, tt.want) {
					t.Errorf("Send error = %v, want %v", err, tt.want)
				}
				if errors.Is(err, notifier.ErrPermanent) {
					t.Errorf("Send error %q is permanent, want temporary", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Send did not return after its context ended")
			}
		})
	}
}

func TestMailerConcurrentSends(t *testing.T) {
	srv := startSMTPServer(t, smtpServerConfig{})
	m := mailerFor(t, srv, nil)
	const n = 16

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := sampleEmail(m.MessageID(int64(i)))
			e.Subject = fmt.Sprintf("message %d", i)
			errs <- m.Send(context.Background(), e)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Send: %v", err)
		}
	}

	got := make(map[string]bool)
	for range n {
		got[parseMail(t, srv.receive(t).Data).MessageID] = true
	}
	want := make(map[string]bool)
	for i := range n {
		want["<"+m.MessageID(int64(i))+">"] = true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("received Message-IDs mismatch (-want +got):\n%s", diff)
	}
}

func TestMailerRejectsInvalidEmail(t *testing.T) {
	srv := startSMTPServer(t, smtpServerConfig{})
	m := mailerFor(t, srv, nil)
	valid := sampleEmail(m.MessageID(1))
	tests := []struct {
		name   string
		change func(*notifier.Email)
	}{
		{"missing recipient", func(e *notifier.Email) { e.To = "" }},
		{"recipient without domain", func(e *notifier.Email) { e.To = "applicant" }},
		{"recipient with display name", func(e *notifier.Email) { e.To = "Ann <applicant@example.org>" }},
		{"two recipients", func(e *notifier.Email) { e.To = "a@example.org, b@example.org" }},
		{"name with newline", func(e *notifier.Email) { e.ToName = "Ann\r\nBcc: x@example.org" }},
		{"empty subject", func(e *notifier.Email) { e.Subject = " " }},
		{"subject with newline", func(e *notifier.Email) { e.Subject = "Hi\nBcc: x@example.org" }},
		{"empty text", func(e *notifier.Email) { e.Text = "" }},
		{"invalid UTF-8 text", func(e *notifier.Email) { e.Text = "\xff" }},
		{"missing message id", func(e *notifier.Email) { e.MessageID = "" }},
		{"message id with brackets", func(e *notifier.Email) { e.MessageID = "<a@b>" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := valid
			tt.change(&e)

			err := m.Send(context.Background(), e)
			if !errors.Is(err, notifier.ErrPermanent) {
				t.Fatalf("Send error = %v, want one wrapping ErrPermanent", err)
			}
			if e.To != "" && strings.Contains(err.Error(), e.To) {
				t.Errorf("Send error %q repeats the recipient", err)
			}
			srv.assertNothingReceived(t)
		})
	}
}

func TestNewMailerRejectsInvalidConfig(t *testing.T) {
	valid := notifier.EmailConfig{Host: "smtp.example.com", From: "no-reply@example.com"}
	tests := []struct {
		name   string
		change func(*notifier.EmailConfig)
	}{
		{"missing host", func(c *notifier.EmailConfig) { c.Host = "" }},
		{"unknown tls mode", func(c *notifier.EmailConfig) { c.TLS = "ssl" }},
		{"port out of range", func(c *notifier.EmailConfig) { c.Port = 70000 }},
		{"unknown auth", func(c *notifier.EmailConfig) { c.Auth = "ntlm"; c.Username = "u" }},
		{"auth without username", func(c *notifier.EmailConfig) { c.Auth = notifier.AuthPlain }},
		{"username without auth", func(c *notifier.EmailConfig) { c.Username = "u" }},
		{"clear-text password", func(c *notifier.EmailConfig) {
			c.TLS, c.Auth, c.Username = notifier.TLSNone, notifier.AuthLogin, "u"
		}},
		{"missing from", func(c *notifier.EmailConfig) { c.From = "" }},
		{"from with display name", func(c *notifier.EmailConfig) { c.From = "Ann <a@example.com>" }},
		{"from name with newline", func(c *notifier.EmailConfig) { c.FromName = "a\nb" }},
		{"negative timeout", func(c *notifier.EmailConfig) { c.SendTimeout = -time.Second }},
	}
	if _, err := notifier.NewMailer(valid, nil); err != nil {
		t.Fatalf("NewMailer(valid config): %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.change(&cfg)
			if _, err := notifier.NewMailer(cfg, nil); err == nil {
				t.Error("NewMailer returned no error")
			}
		})
	}
}

func TestMailerMessageIDIsDeterministic(t *testing.T) {
	m, err := notifier.NewMailer(notifier.EmailConfig{Host: "smtp.example.com", From: "no-reply@mail.example.com"}, nil)
	if err != nil {
		t.Fatalf("NewMailer: %v", err)
	}
	tests := []struct {
		id   int64
		want string
	}{
		{1, "notification-1.idverify@mail.example.com"},
		{9007199254740993, "notification-9007199254740993.idverify@mail.example.com"},
	}
	for _, tt := range tests {
		for range 2 {
			if got := m.MessageID(tt.id); got != tt.want {
				t.Errorf("MessageID(%d) = %q, want %q", tt.id, got, tt.want)
			}
		}
	}
}
