package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Limits of the mailbox. A message over MailboxMaxMessageBytes or a
// transaction with more than MailboxMaxRecipients recipients is rejected
// with an SMTP error; past MailboxMaxMessages the oldest message is dropped.
const (
	MailboxMaxMessageBytes = 25 << 20 // 25 MiB
	MailboxMaxRecipients   = 100
	MailboxMaxMessages     = 1000
)

// mailboxTimeout is the SMTP read and write timeout per command, so that a
// client that stops talking does not hold a connection forever.
const mailboxTimeout = time.Minute

// Mail is one message received by a [Mailbox].
type Mail struct {
	// ID numbers messages from 1 in the order they were received.
	ID int
	// From is the From header with encoded words decoded, formatted as
	// "Display Name <local@domain>" or "local@domain". When the header is
	// missing it is the envelope sender (MAIL FROM).
	From string
	// To contains the envelope recipients (RCPT TO) in the order given, so
	// Bcc recipients are included and header-only addresses are not.
	To []string
	// Subject is the Subject header with RFC 2047 encoded words decoded.
	Subject string
	// Date is the Date header, or the time of receipt when that header is
	// missing or invalid.
	Date time.Time
	// ReceivedAt is when the mailbox accepted the message.
	ReceivedAt time.Time
	// Text and HTML are the first text/plain and text/html parts that are
	// not attachments, with the transfer encoding undone, converted to
	// UTF-8 and with CRLF line ends turned into LF. Either may be empty.
	Text, HTML string
	// Header contains the top-level header fields as received, without
	// decoding.
	Header mail.Header
	// DecodeError describes the first header or part that could not be
	// decoded, or is empty when the whole message was decoded. The message
	// is kept either way.
	DecodeError string
	// Raw is the message exactly as received in the SMTP DATA command.
	Raw []byte
}

// Mailbox is an SMTP server that accepts every message, without
// authentication or TLS, and keeps it in memory. Clients must not require
// STARTTLS or SMTP AUTH; with github.com/wneessen/go-mail that means
// mail.WithTLSPolicy(mail.NoTLS) and no SMTP auth option.
//
// A Mailbox is safe for concurrent use.
type Mailbox struct {
	server   *smtp.Server
	listener net.Listener
	logger   *slog.Logger
	now      func() time.Time

	// serveDone is closed when Serve has returned.
	serveDone chan struct{}

	mu       sync.Mutex
	messages []Mail
	received int
	// changed is closed and replaced each time a message arrives.
	changed chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// StartMailbox starts an SMTP sink listening on addr (host:port; port 0
// picks a free port, for example "127.0.0.1:0"). It logs one line per
// received message at info level (id and recipient count, never addresses)
// and SMTP protocol errors at warn level to logger, which may be nil.
//
// It returns an error if the listener cannot be opened. The caller must call
// [Mailbox.Close].
func StartMailbox(addr string, logger *slog.Logger) (*Mailbox, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start mailbox on %s: %w", addr, err)
	}

	box := &Mailbox{
		listener:  listener,
		logger:    logger,
		now:       time.Now,
		serveDone: make(chan struct{}),
		changed:   make(chan struct{}),
	}
	server := smtp.NewServer(smtp.BackendFunc(box.newSession))
	server.Domain = "localhost"
	server.MaxMessageBytes = MailboxMaxMessageBytes
	server.MaxRecipients = MailboxMaxRecipients
	server.ReadTimeout = mailboxTimeout
	server.WriteTimeout = mailboxTimeout
	server.EnableSMTPUTF8 = true
	server.ErrorLog = smtpErrorLog{logger: logger}
	box.server = server

	go func() {
		defer close(box.serveDone)
		if err := server.Serve(listener); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			logger.Error("mailbox stopped accepting connections", "error", err)
		}
	}()
	return box, nil
}

// Addr returns the host:port the server listens on.
func (b *Mailbox) Addr() string {
	return b.listener.Addr().String()
}

// Messages returns a copy of the kept messages, oldest first.
func (b *Mailbox) Messages() []Mail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.messages)
}

// Wait blocks until at least n messages have been received since the
// mailbox started, then returns [Mailbox.Messages]. It returns ctx's error,
// wrapped, if ctx ends first.
func (b *Mailbox) Wait(ctx context.Context, n int) ([]Mail, error) {
	for {
		b.mu.Lock()
		received, changed := b.received, b.changed
		b.mu.Unlock()
		if received >= n {
			return b.Messages(), nil
		}

		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %d mails, received %d: %w", n, received, ctx.Err())
		}
	}
}

// Close closes the listener and every open SMTP connection and waits for
// the accept loop to end. The messages stay readable. It is safe to call
// more than once; later calls return the first call's result.
func (b *Mailbox) Close() error {
	b.closeOnce.Do(func() {
		err := b.server.Close()
		// go-smtp v0.26.0's Close only closes listeners that Serve has
		// registered, so a Close right after start would leave Serve blocked
		// in Accept. Closing the listener here covers that race.
		if listenerErr := b.listener.Close(); err == nil && !errors.Is(listenerErr, net.ErrClosed) {
			err = listenerErr
		}
		<-b.serveDone
		if err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			b.closeErr = fmt.Errorf("close mailbox: %w", err)
		}
	})
	return b.closeErr
}

// deliver decodes raw and stores it as a new message.
func (b *Mailbox) deliver(envelopeFrom string, recipients []string, raw []byte) {
	receivedAt := b.now()
	parsed, decodeErr := parseMail(raw, receivedAt)

	message := Mail{
		From:       parsed.from,
		To:         recipients,
		Subject:    parsed.subject,
		Date:       parsed.date,
		ReceivedAt: receivedAt,
		Text:       parsed.text,
		HTML:       parsed.html,
		Header:     parsed.header,
		Raw:        raw,
	}
	if message.From == "" {
		message.From = envelopeFrom
	}
	if decodeErr != nil {
		message.DecodeError = decodeErr.Error()
	}

	b.mu.Lock()
	b.received++
	message.ID = b.received
	b.messages = append(b.messages, message)
	if len(b.messages) > MailboxMaxMessages {
		b.messages = slices.Delete(b.messages, 0, len(b.messages)-MailboxMaxMessages)
	}
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()

	if decodeErr != nil {
		// The decode error may quote header text, so it stays out of the log.
		b.logger.Warn("mailbox received a mail that could not be fully decoded", "mail_id", message.ID, "recipients", len(recipients))
	} else {
		b.logger.Info("mailbox received a mail", "mail_id", message.ID, "recipients", len(recipients))
	}
}

func (b *Mailbox) newSession(*smtp.Conn) (smtp.Session, error) {
	return &mailboxSession{box: b}, nil
}

// mailboxSession collects one SMTP transaction at a time.
type mailboxSession struct {
	box        *Mailbox
	from       string
	recipients []string
}

func (s *mailboxSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	s.recipients = nil
	return nil
}

func (s *mailboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.recipients = append(s.recipients, to)
	return nil
}

func (s *mailboxSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		// go-smtp reports an oversized message as an *smtp.SMTPError with
		// the right reply code; pass it on unchanged.
		return err
	}
	s.box.deliver(s.from, slices.Clone(s.recipients), raw)
	return nil
}

func (s *mailboxSession) Reset() {
	s.from = ""
	s.recipients = nil
}

func (s *mailboxSession) Logout() error {
	return nil
}

// smtpErrorLog adapts go-smtp's ErrorLog to slog.
type smtpErrorLog struct {
	logger *slog.Logger
}

func (l smtpErrorLog) Printf(format string, v ...any) {
	l.logger.Warn("mailbox smtp error", "error", fmt.Sprintf(format, v...))
}

func (l smtpErrorLog) Println(v ...any) {
	l.logger.Warn("mailbox smtp error", "error", fmt.Sprint(v...))
}
