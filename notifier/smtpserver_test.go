package notifier_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// receivedMail is one message accepted by the test SMTP server.
type receivedMail struct {
	From     string
	To       []string
	Data     []byte
	AuthUser string
	TLS      bool
}

// smtpServerConfig shapes the behaviour of a test SMTP server.
type smtpServerConfig struct {
	// tls is "" (plain), "starttls" (offer STARTTLS) or "implicit".
	tls string
	// authMechanisms are offered after TLS. Empty means no AUTH.
	authMechanisms []string
	// username and password are the only accepted credentials.
	username, password string
	// rcptErr, when set, is the reply to every RCPT TO.
	rcptErr error
	// dataErr, when set, is the reply at the end of DATA.
	dataErr error
	// dataStarted, when set, receives a value when DATA begins, and DATA then
	// waits for dataRelease to close.
	dataStarted chan struct{}
	dataRelease chan struct{}
}

// testSMTPServer is a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 with a random port.
type testSMTPServer struct {
	Host     string
	Port     int
	RootCAs  *x509.CertPool
	Received chan receivedMail

	cfg smtpServerConfig
}

func startSMTPServer(t *testing.T, cfg smtpServerConfig) *testSMTPServer {
	t.Helper()
	ts := &testSMTPServer{Host: "127.0.0.1", Received: make(chan receivedMail, 100), cfg: cfg}

	srv := smtp.NewServer(ts)
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.tls != "" {
		tlsConfig, pool := selfSignedTLS(t)
		ts.RootCAs = pool
		srv.TLSConfig = tlsConfig
		if cfg.tls == "implicit" {
			ln = tls.NewListener(ln, tlsConfig)
		}
	}
	ts.Port = ln.Addr().(*net.TCPAddr).Port

	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		// Server.Close closes only the listeners that Serve has registered,
		// so the listener is closed here too in case Serve has not started.
		_ = srv.Close()
		_ = ln.Close()
		<-served
	})
	return ts
}

// NewSession implements smtp.Backend.
func (ts *testSMTPServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &testSMTPSession{server: ts, conn: c, tls: isTLS}, nil
}

type testSMTPSession struct {
	server   *testSMTPServer
	conn     *smtp.Conn
	tls      bool
	authUser string
	from     string
	to       []string
}

func (s *testSMTPSession) AuthMechanisms() []string { return s.server.cfg.authMechanisms }

func (s *testSMTPSession) Auth(mech string) (sasl.Server, error) {
	check := func(username, password string) error {
		if username != s.server.cfg.username || password != s.server.cfg.password {
			return smtp.ErrAuthFailed
		}
		s.authUser = username
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, username, password string) error {
			return check(username, password)
		}), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *testSMTPSession) Mail(from string, _ *smtp.MailOptions) error {
	if len(s.server.cfg.authMechanisms) > 0 && s.authUser == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *testSMTPSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.server.cfg.rcptErr != nil {
		return s.server.cfg.rcptErr
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSMTPSession) Data(r io.Reader) error {
	if s.server.cfg.dataStarted != nil {
		s.server.cfg.dataStarted <- struct{}{}
		<-s.server.cfg.dataRelease
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.server.cfg.dataErr != nil {
		return s.server.cfg.dataErr
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.server.Received <- receivedMail{From: s.from, To: s.to, Data: data, AuthUser: s.authUser, TLS: isTLS}
	return nil
}

func (s *testSMTPSession) Reset() {
	s.from = ""
	s.to = nil
}

func (s *testSMTPSession) Logout() error { return nil }

// loginServer is the server side of the LOGIN mechanism, which go-sasl
// implements for clients only. It requests the username, then the password.
type loginServer struct {
	check    func(username, password string) error
	step     int
	username string
}

func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch l.step {
	case 0:
		l.step++
		if response != nil {
			l.username = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.step++
		l.username = string(response)
		return []byte("Password:"), false, nil
	case 2:
		l.step++
		return nil, true, l.check(l.username, string(response))
	}
	return nil, false, errors.New("unexpected LOGIN response")
}

// receive waits for the next accepted message.
func (ts *testSMTPServer) receive(t *testing.T) receivedMail {
	t.Helper()
	select {
	case m := <-ts.Received:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("the SMTP server received no message within 10s")
		return receivedMail{}
	}
}

// assertNothingReceived fails when the server accepted a message.
func (ts *testSMTPServer) assertNothingReceived(t *testing.T) {
	t.Helper()
	select {
	case m := <-ts.Received:
		t.Errorf("the SMTP server accepted a message to %v", m.To)
	default:
	}
}

func (ts *testSMTPServer) addr() string {
	return net.JoinHostPort(ts.Host, strconv.Itoa(ts.Port))
}

// selfSignedTLS returns a server TLS config with a fresh self-signed
// certificate for 127.0.0.1 and localhost, and a pool that trusts it.
func selfSignedTLS(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "idverify test SMTP server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}, pool
}

// silentListener accepts TCP connections and never writes to them, like an
// SMTP server that hangs before its greeting.
func silentListener(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-accepted
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}
