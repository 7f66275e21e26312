package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"sync"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	vitess "github.com/dolthub/vitess/go/mysql"
	"github.com/go-sql-driver/mysql"
)

// MySQLCollation is the connection collation that [MySQL.DSN] requests. It is
// the one utf8mb4 collation that MySQL 8, MariaDB 10.11 and go-mysql-server
// all know, so DSNs built with it work against each of them. Columns and
// tables still use the collations their CREATE TABLE statements name.
const MySQLCollation = "utf8mb4_general_ci"

// closeTimeout bounds how long Close waits for open client connections to
// finish after it has closed them.
const closeTimeout = 10 * time.Second

// fileAccessDisabledDir is the value given to go-mysql-server's
// secure_file_priv. The path can never exist because /dev/null is not a
// directory, so LOAD_FILE, LOAD DATA INFILE and SELECT ... INTO OUTFILE fail
// instead of reading or writing files of this process. go-mysql-server
// treats the default empty value as "any file".
const fileAccessDisabledDir = "/dev/null/idverify-file-access-disabled"

// databaseNamePattern limits database names to unquoted MySQL identifiers so
// that the name can be placed into a DSN and SQL without escaping.
var databaseNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// MySQL is an in-process MySQL-compatible server (go-mysql-server v0.20.0
// with its in-memory storage engine) listening on a TCP port. It accepts any
// user name without a password, so it should listen on a loopback address.
//
// It serves one database, created empty at start. Clients use the normal
// MySQL wire protocol, so go-sql-driver/mysql connects to it as to a real
// server. The SQL features idverify relies on are covered by this package's
// tests, which also run against a real server when IDVERIFY_TEST_MYSQL_DSN is
// set.
//
// NOTE: The server runs one transaction at a time, because the memory engine
// loses concurrent writes. While one connection is inside a transaction,
// statements on every other connection wait, and fail with error 1205 after
// 50 seconds. Code that opens a transaction and then waits for a statement
// on another connection therefore stalls here but not on MySQL. Other
// differences from MySQL 8 and MariaDB: utf8mb4_bin compares trailing spaces
// as significant (no PAD SPACE), SELECT ... FOR SHARE is a syntax error and
// SAVEPOINT is not supported.
type MySQL struct {
	engine   *sqle.Engine
	server   *server.Server
	listener *trackingListener
	lock     *statementLock
	dsn      string

	// acceptDone is closed when the accept loop has returned.
	acceptDone chan struct{}

	unregisterLogSink func()

	closeOnce sync.Once
	closeErr  error
}

// StartMySQL starts an in-process MySQL server on 127.0.0.1 with a port chosen
// by the kernel, serving one empty database named dbName. dbName must consist
// of 1 to 64 ASCII letters, digits or underscores. Warnings and errors of the
// server go to logger, which may be nil to discard them.
//
// It returns an error if dbName is invalid or the listener cannot be opened.
// The caller must call [MySQL.Close].
func StartMySQL(ctx context.Context, dbName string, logger *slog.Logger) (*MySQL, error) {
	return StartMySQLAt(ctx, "127.0.0.1:0", dbName, logger)
}

// StartMySQLAt is [StartMySQL] with the listen address given as host:port
// (port 0 picks a free port).
func StartMySQLAt(ctx context.Context, addr, dbName string, logger *slog.Logger) (*MySQL, error) {
	if !databaseNamePattern.MatchString(dbName) {
		return nil, fmt.Errorf("start embedded mysql: invalid database name %q: use 1 to 64 ASCII letters, digits or underscores", dbName)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	if err := disableFileAccess(); err != nil {
		return nil, fmt.Errorf("start embedded mysql: %w", err)
	}

	var listenConfig net.ListenConfig
	netListener, err := listenConfig.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start embedded mysql on %s: %w", addr, err)
	}
	listener := newTrackingListener(netListener)

	database := memory.NewDatabase(dbName)
	database.BaseDatabase.EnablePrimaryKeyIndexes()
	provider := memory.NewDBProvider(database)
	engine := sqle.NewDefault(provider)

	config := server.Config{
		Protocol: "tcp",
		Address:  listener.Addr().String(),
		Listener: listener,
	}
	lock := newStatementLock(lockWaitTimeout)
	sessions := &sessionRegistry{sessions: make(map[uint32]sql.Session)}
	sessionLogger := newSessionLogger(logger)
	newMemorySession := memory.NewSessionBuilder(provider)
	newSession := func(ctx context.Context, conn *vitess.Conn, addr string) (sql.Session, error) {
		session, err := newMemorySession(ctx, conn, addr)
		if err != nil {
			return nil, err
		}
		session.SetLogger(sessionLogger.WithFields(nil))
		sessions.put(conn.ConnectionID, session)
		return session, nil
	}
	serialize := func(h vitess.Handler) (vitess.Handler, error) {
		return &serialHandler{Handler: h, lock: lock, sessions: sessions}, nil
	}
	unregisterLogSink := registerStandardLogSink(logger)
	srv, err := server.NewServerWithHandler(config, engine, sql.NewContext, newSession, nil, serialize)
	if err != nil {
		unregisterLogSink()
		_ = listener.Close()
		_ = engine.Close()
		return nil, fmt.Errorf("start embedded mysql on %s: %w", addr, err)
	}

	driverConfig := mysql.NewConfig()
	driverConfig.User = "root"
	driverConfig.Net = "tcp"
	driverConfig.Addr = listener.Addr().String()
	driverConfig.DBName = dbName
	driverConfig.ParseTime = true
	driverConfig.Collation = MySQLCollation

	m := &MySQL{
		engine:            engine,
		server:            srv,
		listener:          listener,
		lock:              lock,
		dsn:               driverConfig.FormatDSN(),
		acceptDone:        make(chan struct{}),
		unregisterLogSink: unregisterLogSink,
	}

	// server.Server.Start would also log "Server ready" and a warning about
	// secure_file_priv through logrus. Accepting directly skips both.
	go func() {
		defer close(m.acceptDone)
		srv.Listener.Accept()
	}()
	return m, nil
}

// disableFileAccess points go-mysql-server's process-wide secure_file_priv
// at a directory that cannot exist.
func disableFileAccess() error {
	// AssignValues sets initial values, which is allowed for read-only
	// variables, where SetGlobal is not.
	err := sql.SystemVariables.AssignValues(map[string]any{"secure_file_priv": fileAccessDisabledDir})
	if err != nil {
		return fmt.Errorf("disable file access through secure_file_priv: %w", err)
	}
	return nil
}

// DSN returns a go-sql-driver/mysql DSN for the database: user root without
// password, parseTime=true, UTC time zone and the utf8mb4 connection
// collation [MySQLCollation]. For example
// "root@tcp(127.0.0.1:41234)/idverify?collation=utf8mb4_general_ci&parseTime=true".
func (m *MySQL) DSN() string {
	return m.dsn
}

// Addr returns the host:port the server listens on.
func (m *MySQL) Addr() string {
	return m.listener.Addr().String()
}

// Close stops accepting connections, closes the open client connections,
// waits up to 10 seconds for their handlers to finish and discards the data.
// It returns an error if a handler did not finish in time. It is safe to call
// more than once; later calls return the first call's result.
func (m *MySQL) Close() error {
	m.closeOnce.Do(func() {
		m.closeErr = m.close()
	})
	return m.closeErr
}

func (m *MySQL) close() error {
	defer m.unregisterLogSink()

	// Shut the accept loop first so that no connection arrives after the
	// open ones are closed.
	if err := m.server.Close(); err != nil {
		return fmt.Errorf("close embedded mysql listener: %w", err)
	}
	<-m.acceptDone
	m.lock.close()

	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	waitErr := m.listener.closeConnections(ctx)

	// Engine.Close kills the processes still registered and stops the
	// engine's background threads, whose shutdown reports context.Canceled
	// as its normal result.
	engineErr := m.engine.Close()
	if errors.Is(engineErr, context.Canceled) {
		engineErr = nil
	}
	if engineErr != nil {
		engineErr = fmt.Errorf("close embedded mysql engine: %w", engineErr)
	}

	return errors.Join(waitErr, engineErr)
}

// trackingListener is a net.Listener that remembers the connections it
// accepted, so that Close can end them. vitess's listener leaves open
// connections running after it is closed.
type trackingListener struct {
	net.Listener

	mu    sync.Mutex
	conns map[*trackedConn]struct{}
	wg    sync.WaitGroup
}

func newTrackingListener(l net.Listener) *trackingListener {
	return &trackingListener{Listener: l, conns: make(map[*trackedConn]struct{})}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}

	tracked := &trackedConn{Conn: conn, listener: l}
	l.mu.Lock()
	l.conns[tracked] = struct{}{}
	l.wg.Add(1)
	l.mu.Unlock()
	return tracked, nil
}

// closeConnections closes every open connection and waits until each one's
// handler has closed it too, which is the handler's last step, or until ctx
// ends.
func (l *trackingListener) closeConnections(ctx context.Context) error {
	l.mu.Lock()
	open := make([]*trackedConn, 0, len(l.conns))
	for conn := range l.conns {
		open = append(open, conn)
	}
	l.mu.Unlock()

	for _, conn := range open {
		_ = conn.Conn.Close()
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		l.wg.Wait()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		remaining := len(l.conns)
		l.mu.Unlock()
		return fmt.Errorf("close embedded mysql: %d client connection handlers still running: %w", remaining, ctx.Err())
	}
}

// trackedConn removes itself from its listener the first time Close is
// called.
type trackedConn struct {
	net.Conn
	listener *trackingListener
	once     sync.Once
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.listener.mu.Lock()
		delete(c.listener.conns, c)
		c.listener.mu.Unlock()
		c.listener.wg.Done()
	})
	return err
}
