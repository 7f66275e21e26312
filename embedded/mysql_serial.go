package embedded

import (
	"context"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	vitess "github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
)

// go-mysql-server v0.20.0's in-memory engine does not support concurrent
// writers, as the comment on memory.Session.StartTransaction states, and
// TestSQLConcurrentWriters shows lost writes without this file. Each
// transaction works
// on private copies of the tables it touches, and its commit replaces the
// shared tables with those copies. Two connections that write at the same
// time therefore silently lose each other's changes, even with single
// autocommit statements, and unique indexes do not hold across them.
//
// serialHandler prevents that by letting one connection at a time run
// statements: a connection takes the server's statement lock before each
// command and keeps it until it is no longer inside a transaction. This is
// stricter than InnoDB's row locks: while one connection has a transaction
// open, every other connection waits, including plain reads.

// lockWaitTimeout is how long a connection waits for the statement lock
// before its statement fails with error 1205, like InnoDB's default
// innodb_lock_wait_timeout of 50 seconds.
const lockWaitTimeout = 50 * time.Second

// statementLock is a mutex with a timed acquire, held by at most one
// connection.
type statementLock struct {
	slot    chan struct{}
	closing chan struct{}
	timeout time.Duration

	mu     sync.Mutex
	holder uint32 // connection id, valid while locked is true
	locked bool
}

func newStatementLock(timeout time.Duration) *statementLock {
	return &statementLock{slot: make(chan struct{}, 1), closing: make(chan struct{}), timeout: timeout}
}

// acquire takes the lock for connectionID, or does nothing if that
// connection already holds it. It returns MySQL error 1205 after the lock's
// timeout, error 1053 once the server is shutting down and error 1317 when
// ctx ends.
func (l *statementLock) acquire(ctx context.Context, connectionID uint32) error {
	l.mu.Lock()
	if l.locked && l.holder == connectionID {
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()

	timer := time.NewTimer(l.timeout)
	defer timer.Stop()
	select {
	case l.slot <- struct{}{}:
	case <-timer.C:
		return vitess.NewSQLError(vitess.ERLockWaitTimeout, vitess.SSUnknownSQLState,
			"Lock wait timeout exceeded; try restarting transaction (the embedded MySQL runs one transaction at a time)")
	case <-l.closing:
		return vitess.NewSQLError(vitess.ERServerShutdown, vitess.SSUnknownSQLState, "Server shutdown in progress")
	case <-ctx.Done():
		return vitess.NewSQLError(vitess.ERQueryInterrupted, vitess.SSUnknownSQLState, "Query execution was interrupted")
	}

	l.mu.Lock()
	l.holder = connectionID
	l.locked = true
	l.mu.Unlock()
	return nil
}

// release frees the lock if connectionID holds it.
func (l *statementLock) release(connectionID uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.locked || l.holder != connectionID {
		return
	}
	l.locked = false
	<-l.slot
}

// close makes every current and future acquire fail.
func (l *statementLock) close() {
	close(l.closing)
}

// sessionRegistry maps connection ids to the sessions the session builder
// created, so that serialHandler can inspect their transaction state.
type sessionRegistry struct {
	mu       sync.Mutex
	sessions map[uint32]sql.Session
}

func (r *sessionRegistry) put(connectionID uint32, session sql.Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sessions[connectionID] = session
}

func (r *sessionRegistry) get(connectionID uint32) sql.Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[connectionID]
}

func (r *sessionRegistry) remove(connectionID uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.sessions, connectionID)
}

// serialHandler wraps go-mysql-server's handler and runs each command that
// can read or write tables under the statement lock.
type serialHandler struct {
	vitess.Handler
	lock     *statementLock
	sessions *sessionRegistry
}

func (h *serialHandler) ComQuery(ctx context.Context, c *vitess.Conn, query string, callback vitess.ResultSpoolFn) error {
	if err := h.lock.acquire(ctx, c.ConnectionID); err != nil {
		return err
	}
	defer h.releaseOutsideTransaction(c.ConnectionID)
	return h.Handler.ComQuery(ctx, c, query, callback)
}

func (h *serialHandler) ComMultiQuery(ctx context.Context, c *vitess.Conn, query string, callback vitess.ResultSpoolFn) (string, error) {
	if err := h.lock.acquire(ctx, c.ConnectionID); err != nil {
		return "", err
	}
	defer h.releaseOutsideTransaction(c.ConnectionID)
	return h.Handler.ComMultiQuery(ctx, c, query, callback)
}

func (h *serialHandler) ComPrepare(ctx context.Context, c *vitess.Conn, query string, prepare *vitess.PrepareData) ([]*querypb.Field, error) {
	if err := h.lock.acquire(ctx, c.ConnectionID); err != nil {
		return nil, err
	}
	defer h.releaseOutsideTransaction(c.ConnectionID)
	return h.Handler.ComPrepare(ctx, c, query, prepare)
}

func (h *serialHandler) ComStmtExecute(ctx context.Context, c *vitess.Conn, prepare *vitess.PrepareData, callback func(*sqltypes.Result) error) error {
	if err := h.lock.acquire(ctx, c.ConnectionID); err != nil {
		return err
	}
	defer h.releaseOutsideTransaction(c.ConnectionID)
	return h.Handler.ComStmtExecute(ctx, c, prepare, callback)
}

func (h *serialHandler) ComResetConnection(c *vitess.Conn) error {
	if err := h.lock.acquire(context.Background(), c.ConnectionID); err != nil {
		return err
	}
	defer h.releaseOutsideTransaction(c.ConnectionID)
	return h.Handler.ComResetConnection(c)
}

// ConnectionClosed frees the lock of a connection that went away inside a
// transaction. Its uncommitted changes only exist in its session, which is
// dropped, so that is a rollback.
func (h *serialHandler) ConnectionClosed(c *vitess.Conn) {
	defer h.lock.release(c.ConnectionID)
	defer h.sessions.remove(c.ConnectionID)
	h.Handler.ConnectionClosed(c)
}

// releaseOutsideTransaction frees the lock unless the connection's session
// is inside a transaction that later statements continue: one opened with
// BEGIN or START TRANSACTION, or any open transaction while autocommit is
// off. An autocommit statement that failed before go-mysql-server committed
// leaves its transaction open, and the next statement would reuse its stale
// table copies, so such a transaction is rolled back here.
func (h *serialHandler) releaseOutsideTransaction(connectionID uint32) {
	session := h.sessions.get(connectionID)
	if session == nil {
		h.lock.release(connectionID)
		return
	}

	tx := session.GetTransaction()
	if tx == nil {
		h.lock.release(connectionID)
		return
	}
	if session.GetIgnoreAutoCommit() || !sessionAutocommit(session) {
		return
	}

	if transactionSession, ok := session.(sql.TransactionSession); ok {
		ctx := sql.NewContext(context.Background(), sql.WithSession(session))
		_ = transactionSession.Rollback(ctx, tx)
	}
	session.SetTransaction(nil)
	h.lock.release(connectionID)
}

// sessionAutocommit reports the session's autocommit variable. It reports
// true when the variable cannot be read, which makes the caller release the
// lock rather than hold it forever.
func sessionAutocommit(session sql.Session) bool {
	ctx := sql.NewContext(context.Background(), sql.WithSession(session))
	value, err := session.GetSessionVariable(ctx, sql.AutoCommitSessionVar)
	if err != nil {
		return true
	}
	autocommit, err := sql.ConvertToBool(ctx, value)
	if err != nil {
		return true
	}
	return autocommit
}
