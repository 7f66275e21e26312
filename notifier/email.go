package notifier

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// Values of EmailConfig.TLS.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "implicit"
	TLSNone     = "none"
)

// Values of EmailConfig.Auth.
const (
	AuthNone    = ""
	AuthPlain   = "plain"
	AuthLogin   = "login"
	AuthCramMD5 = "cram-md5"
	AuthAuto    = "auto"
)

const (
	defaultSMTPPort         = 587
	defaultSMTPImplicitPort = 465
	defaultConnectTimeout   = 10 * time.Second
	defaultSendTimeout      = 30 * time.Second
)

// EmailConfig configures a Mailer.
type EmailConfig struct {
	// Host is the SMTP server's host name, which its TLS certificate must
	// also carry. Required.
	Host string
	// Port is the SMTP server's TCP port. Default 587, or 465 when TLS is
	// "implicit".
	Port int
	// TLS is "starttls" (default: the server must offer STARTTLS),
	// "implicit" (TLS from the first byte, RFC 8314) or "none".
	TLS string
	// Username and Password are the SMTP AUTH credentials, used when Auth is
	// set.
	Username, Password string
	// Auth is the SMTP AUTH mechanism: "" (no authentication), "plain",
	// "login", "cram-md5" or "auto". "auto" takes the first mechanism the
	// server offers from SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN and LOGIN.
	// PLAIN and LOGIN send the password only over TLS or to a localhost
	// server.
	Auth string
	// From is the sender's address, such as no-reply@example.com. Required.
	From string
	// FromName is the sender's display name, in any script.
	FromName string
	// ConnectTimeout bounds connecting and reading the greeting. go-mail
	// v0.8.1 starts the same deadline again before EHLO and before the
	// message transaction, so each of these phases may take up to
	// ConnectTimeout. Default 10s.
	ConnectTimeout time.Duration
	// SendTimeout bounds one whole Send, from connecting to QUIT. Default 30s.
	SendTimeout time.Duration
	// InsecureSkipVerify turns off the check of the server's TLS certificate.
	// Use it only against a test server.
	InsecureSkipVerify bool
	// RootCAs are the certificate authorities trusted for the server's
	// certificate. Nil means the system's.
	RootCAs *x509.CertPool
}

// Email is one message to one recipient.
type Email struct {
	// To is the recipient's bare address, such as user@example.com.
	To string
	// ToName is the recipient's display name in any script, or empty.
	ToName string
	// Subject is one line of text in any script.
	Subject string
	// Text is the plain text body. Required.
	Text string
	// HTML is the HTML body. When set, the message is multipart/alternative.
	HTML string
	// MessageID is the Message-ID header without angle brackets. It must be
	// the same on every attempt to send one notification, so receivers can
	// drop duplicates. Mailer.MessageID derives one from a notification id.
	// Required.
	MessageID string
}

// Mailer sends email through one SMTP server with go-mail.
//
// Mailer is safe for concurrent use because each Send opens its own SMTP
// connection with its own go-mail client and closes it at the end. Sends do
// not wait for each other, and a broken connection affects one send only.
type Mailer struct {
	cfg       EmailConfig
	from      *netmail.Address
	tlsConfig *tls.Config
	logger    *slog.Logger
}

// NewMailer checks cfg, fills in its defaults and returns a Mailer. A nil
// logger discards log lines. It returns an error naming the first invalid
// field.
func NewMailer(cfg EmailConfig, logger *slog.Logger) (*Mailer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Host == "" {
		return nil, errors.New("email config: host is missing")
	}

	switch cfg.TLS {
	case "":
		cfg.TLS = TLSStartTLS
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("email config: tls %q is not one of starttls, implicit, none", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = defaultSMTPPort
		if cfg.TLS == TLSImplicit {
			cfg.Port = defaultSMTPImplicitPort
		}
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("email config: port %d is outside 1-65535", cfg.Port)
	}

	if err := checkAuthConfig(cfg); err != nil {
		return nil, err
	}

	from, err := parseBareAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email config: from: %w", err)
	}
	if err := checkHeaderText(cfg.FromName); err != nil {
		return nil, fmt.Errorf("email config: from name: %w", err)
	}
	from.Name = cfg.FromName

	if cfg.ConnectTimeout < 0 || cfg.SendTimeout < 0 {
		return nil, errors.New("email config: connect and send timeouts must not be negative")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	if cfg.SendTimeout == 0 {
		cfg.SendTimeout = defaultSendTimeout
	}

	tlsConfig := &tls.Config{
		ServerName:         cfg.Host,
		MinVersion:         tls.VersionTLS12,
		RootCAs:            cfg.RootCAs,
		InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // off by default and documented as test-only
	}
	return &Mailer{cfg: cfg, from: from, tlsConfig: tlsConfig, logger: logger}, nil
}

func checkAuthConfig(cfg EmailConfig) error {
	switch cfg.Auth {
	case AuthNone:
		if cfg.Username != "" {
			return errors.New("email config: username is set but auth is empty, so set auth to plain, login, cram-md5 or auto")
		}
		return nil
	case AuthPlain, AuthLogin, AuthCramMD5, AuthAuto:
	default:
		return fmt.Errorf("email config: auth %q is not one of plain, login, cram-md5, auto", cfg.Auth)
	}
	if cfg.Username == "" {
		return fmt.Errorf("email config: auth %s needs a username", cfg.Auth)
	}
	clearText := cfg.Auth == AuthPlain || cfg.Auth == AuthLogin
	if clearText && cfg.TLS == TLSNone && !isLocalhost(cfg.Host) {
		return fmt.Errorf("email config: auth %s would send the password in clear text, so set tls to starttls or implicit", cfg.Auth)
	}
	return nil
}

// isLocalhost matches go-mail's rule for sending PLAIN and LOGIN credentials
// without TLS.
func isLocalhost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// MessageID returns the Message-ID for a notification,
// "notification-<id>.idverify@<domain of From>". The same id always gives the
// same value.
func (m *Mailer) MessageID(notificationID int64) string {
	_, domain, _ := strings.Cut(m.from.Address, "@")
	return fmt.Sprintf("notification-%d.idverify@%s", notificationID, domain)
}

// Send delivers e through the SMTP server and returns nil once the server
// has accepted the message.
//
// An invalid e, a recipient the server rejects with a 5xx reply, or a message
// it rejects with a 5xx reply to DATA fails with an error wrapping
// ErrPermanent. Any other failure is temporary: network errors, timeouts, 4xx
// replies, and TLS, authentication or sender rejections, which an operator
// fixes in the configuration. Errors never contain the recipient's address
// or name. For failures in MAIL, RCPT and DATA they keep only the SMTP reply
// codes, because servers often repeat the address in the reply text.
//
// Send is safe to repeat: a retry carries the same Message-ID.
func (m *Mailer) Send(ctx context.Context, e Email) error {
	msg, err := m.buildMessage(e)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, m.cfg.SendTimeout)
	defer cancel()
	client, err := gomail.NewClient(m.cfg.Host, m.clientOptions(ctx)...)
	if err != nil {
		return fmt.Errorf("send email %s: configure smtp client: %w", e.MessageID, err)
	}

	err = client.DialAndSendWithContext(ctx, msg)
	if err != nil && msg.IsDelivered() {
		// The server accepted the message, and only the RSET or QUIT after
		// it failed. A retry would send a duplicate, so the send is done.
		m.logger.LogAttrs(ctx, slog.LevelWarn, "smtp session failed after the message was accepted",
			slog.String("channel", "email"), slog.String("message_id", e.MessageID),
			slog.String("error", err.Error()))
		err = nil
	}
	if err != nil {
		return classifySMTPError(ctx, e.MessageID, err)
	}

	m.logger.LogAttrs(ctx, slog.LevelDebug, "email accepted by smtp server",
		slog.String("channel", "email"), slog.String("message_id", e.MessageID))
	return nil
}

// messageIDPattern matches "<local>@<domain>" written with a subset of the
// RFC 5322 dot-atom characters.
var messageIDPattern = regexp.MustCompile(`^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+$`)

// buildMessage validates e and returns it as a go-mail message. Every error
// wraps ErrPermanent and names the field, never its value.
func (m *Mailer) buildMessage(e Email) (*gomail.Msg, error) {
	if !messageIDPattern.MatchString(e.MessageID) {
		return nil, permanentf("send email: field message_id is not of the form local@domain with characters A-Z a-z 0-9 . _ + -")
	}
	to, err := parseBareAddress(e.To)
	if err != nil {
		return nil, permanentf("send email %s: field to: %v", e.MessageID, err)
	}
	if err := checkHeaderText(e.ToName); err != nil {
		return nil, permanentf("send email %s: field to_name: %v", e.MessageID, err)
	}
	to.Name = e.ToName
	if strings.TrimSpace(e.Subject) == "" {
		return nil, permanentf("send email %s: field subject is empty", e.MessageID)
	}
	if err := checkHeaderText(e.Subject); err != nil {
		return nil, permanentf("send email %s: field subject: %v", e.MessageID, err)
	}
	if strings.TrimSpace(e.Text) == "" {
		return nil, permanentf("send email %s: field text is empty", e.MessageID)
	}
	if !utf8.ValidString(e.Text) || !utf8.ValidString(e.HTML) {
		return nil, permanentf("send email %s: body is not valid UTF-8", e.MessageID)
	}

	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(m.from)
	msg.ToMailAddress(to)
	msg.Subject(e.Subject)
	msg.SetMessageIDWithValue(e.MessageID)
	msg.SetDate()
	// Auto-Submitted (RFC 3834) marks the message as automatic, so
	// auto-responders do not reply to it.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	}
	return msg, nil
}

// parseBareAddress parses an address without display name. Its errors do not
// repeat the address.
func parseBareAddress(s string) (*netmail.Address, error) {
	if s == "" {
		return nil, errors.New("address is missing")
	}
	addr, err := netmail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return nil, errors.New("not a bare address of the form user@domain")
	}
	return addr, nil
}

// checkHeaderText rejects invalid UTF-8 and control characters, which have no
// place in a one-line header value such as a name or a subject.
func checkHeaderText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return errors.New("contains a control character")
	}
	return nil
}

// clientOptions returns the go-mail options for one send bounded by ctx.
func (m *Mailer) clientOptions(ctx context.Context) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(m.cfg.Port),
		gomail.WithTimeout(m.cfg.ConnectTimeout),
		gomail.WithTLSConfig(m.tlsConfig),
		gomail.WithDialContextFunc(m.dialer(ctx)),
	}
	switch m.cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		// WithSSL makes go-mail skip STARTTLS, and m.dialer does the handshake.
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}

	switch m.cfg.Auth {
	case AuthPlain:
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain))
	case AuthLogin:
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthLogin))
	case AuthCramMD5:
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthCramMD5))
	case AuthAuto:
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256,
			gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	if m.cfg.Auth != AuthNone {
		opts = append(opts, gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password))
	}
	return opts
}

// dialer returns the go-mail dial function for one send. go-mail passes it a
// context that ends after ConnectTimeout, which bounds connecting and the
// TLS handshake of implicit TLS. go-mail uses that context only to dial.
// The returned connection is closed when sendCtx ends. So cancelling the
// caller's context or reaching SendTimeout stops a send at any step.
//
// The connection is returned unwrapped, because go-mail detects implicit TLS
// by its type (*tls.Conn) and refuses PLAIN and LOGIN on other connections.
func (m *Mailer) dialer(sendCtx context.Context) gomail.DialContextFunc {
	return func(dialCtx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(dialCtx, network, address)
		if err != nil {
			return nil, err
		}
		if m.cfg.TLS == TLSImplicit {
			tlsConn := tls.Client(conn, m.tlsConfig)
			if err := tlsConn.HandshakeContext(dialCtx); err != nil {
				_ = conn.Close()
				return nil, fmt.Errorf("tls handshake: %w", err)
			}
			conn = tlsConn
		}
		context.AfterFunc(sendCtx, func() { _ = conn.Close() })
		return conn, nil
	}
}

// classifySMTPError turns a go-mail error into a temporary error or one
// wrapping ErrPermanent.
//
// A go-mail SendError prints the recipient's address and the server's reply,
// which may repeat it, so only its step and reply codes are kept. Errors from
// connecting, TLS and AUTH carry no recipient data and are wrapped whole.
func classifySMTPError(ctx context.Context, messageID string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = fmt.Errorf("%w (%s)", ctxErr, sanitizeSMTPError(err))
		return fmt.Errorf("send email %s: %w", messageID, err)
	}

	var sendErr *gomail.SendError
	if !errors.As(err, &sendErr) {
		return fmt.Errorf("send email %s: %w", messageID, err)
	}
	detail := sanitizeSMTPError(sendErr)
	switch sendErr.Reason {
	case gomail.ErrGetSender, gomail.ErrGetRcpts:
		return permanentf("send email %s: %s", messageID, detail)
	case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
		if code := sendErr.ErrorCode(); code >= 500 && code <= 599 {
			return permanentf("send email %s: %s", messageID, detail)
		}
	}
	return fmt.Errorf("send email %s: %s", messageID, detail)
}

// sanitizeSMTPError describes err without recipient data: for a go-mail
// SendError its step, SMTP reply code and enhanced status code, and for
// other errors their text.
func sanitizeSMTPError(err error) string {
	var sendErr *gomail.SendError
	if !errors.As(err, &sendErr) {
		return err.Error()
	}
	detail := sendErr.Reason.String()
	if code := sendErr.ErrorCode(); code != 0 {
		detail += fmt.Sprintf(": smtp reply %d", code)
		if enhanced := sendErr.EnhancedStatusCode(); enhanced != "" {
			detail += " " + enhanced
		}
	} else {
		detail += ": failed without an smtp reply (connection closed or timed out)"
	}
	return detail
}
