package embedded_test

// These tests record which SQL the idverify schema may rely on. Each runs
// against the embedded go-mysql-server and, when IDVERIFY_TEST_MYSQL_DSN is
// set, against that real MySQL or MariaDB server too. Where the engines
// differ, the test states the expected behaviour of each.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"

	"github.com/idverify/idverify/embedded"
	"github.com/idverify/idverify/testenv"
)

// engine identifies the server a test runs against.
type engine string

const (
	engineGMS     engine = "go-mysql-server"
	engineMySQL   engine = "mysql"
	engineMariaDB engine = "mariadb"
)

// MySQL error numbers the tests expect.
const (
	errDuplicateKey     = 1062
	errUnknownCollation = 1273
)

// server is one database under test.
type server struct {
	engine engine
	db     *sql.DB
}

// forEachServer runs test once against a fresh embedded database and, when
// configured, once against a fresh database on the real server.
func forEachServer(t *testing.T, test func(t *testing.T, s server)) {
	t.Helper()

	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		mysqlServer := startMySQL(t)
		test(t, server{engine: engineGMS, db: openDB(t, mysqlServer.DSN())})
	})
	if testenv.RealMySQL() {
		t.Run("real", func(t *testing.T) {
			db := openDB(t, testenv.MySQL(t))
			test(t, server{engine: realEngine(t, db), db: db})
		})
	}
}

func startMySQL(t *testing.T) *embedded.MySQL {
	t.Helper()

	logger := slog.New(slog.NewTextHandler(&testWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mysqlServer, err := embedded.StartMySQL(context.Background(), "idverify", logger)
	if err != nil {
		t.Fatalf("StartMySQL: %v", err)
	}
	t.Cleanup(func() {
		if err := mysqlServer.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return mysqlServer
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()

	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func realEngine(t *testing.T, db *sql.DB) engine {
	t.Helper()

	var version string
	if err := db.QueryRowContext(testContext(t), "SELECT VERSION()").Scan(&version); err != nil {
		t.Fatalf("SELECT VERSION(): %v", err)
	}
	if strings.Contains(strings.ToLower(version), "mariadb") {
		return engineMariaDB
	}
	return engineMySQL
}

func testContext(t *testing.T) context.Context {
	t.Helper()

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mustExec(t *testing.T, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args ...any) sql.Result {
	t.Helper()

	result, err := db.ExecContext(testContext(t), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return result
}

// mysqlErrorNumber returns the server error number of err, or 0 if err is
// not a server error.
func mysqlErrorNumber(err error) uint16 {
	var mysqlErr *mysql.MySQLError
	if errors.As(err, &mysqlErr) {
		return mysqlErr.Number
	}
	return 0
}

// testWriter sends log output to the test log.
type testWriter struct {
	t *testing.T
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func TestSQLCreateTable(t *testing.T) {
	tests := []struct {
		name string
		ddl  string
		// wantErr maps engines to the error number they return; engines not
		// listed must accept the statement.
		wantErr map[engine]uint16
	}{
		{
			name: "utf8mb4_bin",
			ddl: `CREATE TABLE t (
				id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
				name VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL
			) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
		},
		{
			// MariaDB 10.11 does not know the MySQL 8 UCA 9.0.0 collations.
			name: "utf8mb4_0900_bin",
			ddl: `CREATE TABLE t (
				id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
				name VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_bin NOT NULL
			) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_bin`,
			wantErr: map[engine]uint16{engineMariaDB: errUnknownCollation},
		},
		{
			name: "column types",
			ddl: `CREATE TABLE t (
				id BIGINT NOT NULL AUTO_INCREMENT,
				fingerprint VARBINARY(32) NOT NULL,
				photo LONGBLOB NULL,
				checks JSON NULL,
				status ENUM('submitted', 'approved') NOT NULL DEFAULT 'submitted',
				consent BOOLEAN NOT NULL DEFAULT FALSE,
				slot TINYINT UNSIGNED NOT NULL,
				note TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
				created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
				updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
				PRIMARY KEY (id)
			) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
		},
		{
			name: "indexes",
			ddl: `CREATE TABLE t (
				id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
				fingerprint VARBINARY(32) NOT NULL,
				slot INT NOT NULL,
				idempotency_key VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
				due_at DATETIME(6) NOT NULL,
				UNIQUE KEY uq_t_fingerprint_slot (fingerprint, slot),
				UNIQUE KEY uq_t_idempotency_key (idempotency_key),
				KEY ix_t_due_at (due_at)
			) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
		},
		{
			name: "foreign key",
			ddl: `CREATE TABLE t (
				id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
				parent_id BIGINT NOT NULL,
				CONSTRAINT fk_t_parent FOREIGN KEY (parent_id) REFERENCES parent (id)
			) ENGINE=InnoDB`,
		},
		{
			name: "check constraint",
			ddl: `CREATE TABLE t (
				id BIGINT NOT NULL PRIMARY KEY,
				slot INT NOT NULL,
				CONSTRAINT ck_t_slot CHECK (slot BETWEEN 1 AND 5)
			) ENGINE=InnoDB`,
		},
	}

	forEachServer(t, func(t *testing.T, s server) {
		mustExec(t, s.db, "CREATE TABLE parent (id BIGINT NOT NULL PRIMARY KEY) ENGINE=InnoDB")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := testContext(t)
				t.Cleanup(func() { _, _ = s.db.ExecContext(context.Background(), "DROP TABLE IF EXISTS t") })

				_, err := s.db.ExecContext(ctx, tt.ddl)

				if want := tt.wantErr[s.engine]; want != 0 {
					if got := mysqlErrorNumber(err); got != want {
						t.Fatalf("CREATE TABLE on %s: error %v (number %d), want error number %d", s.engine, err, got, want)
					}
					return
				}
				if err != nil {
					t.Fatalf("CREATE TABLE on %s: %v", s.engine, err)
				}
			})
		}
	})
}

func TestSQLRoundTrip(t *testing.T) {
	type row struct {
		Name        string
		Fingerprint []byte
		Photo       []byte
		Checks      map[string]any
		CreatedAt   time.Time
	}

	photo := make([]byte, 3<<20)
	if _, err := rand.Read(photo); err != nil {
		t.Fatalf("rand.Read: %v", err)
	}
	fingerprint := bytes.Repeat([]byte{0x00, 0xff, 0x80, 0x7f}, 8)
	tests := []struct {
		name string
		row  row
	}{
		{
			name: "4-byte UTF-8",
			row: row{
				// U+1F600 (emoji) and U+20000 (CJK Extension B) need 4 bytes in
				// UTF-8; U+00EB and U+738B need 2 and 3.
				Name:        "Zo\u00eb \U0001F600 \U00020000 \u738b",
				Fingerprint: fingerprint,
				Photo:       []byte{},
				Checks:      map[string]any{"name": "\U0001F600\U00020000", "ok": true, "count": float64(3)},
				CreatedAt:   time.Date(2025, time.March, 4, 5, 6, 7, 123456000, time.UTC),
			},
		},
		{
			name: "3 MiB blob",
			row: row{
				Name:        "blob",
				Fingerprint: []byte{0},
				Photo:       photo,
				Checks:      map[string]any{},
				CreatedAt:   time.Date(2030, time.December, 31, 23, 59, 59, 999999000, time.UTC),
			},
		},
	}

	forEachServer(t, func(t *testing.T, s server) {
		mustExec(t, s.db, `CREATE TABLE t (
			id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
			name VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
			fingerprint VARBINARY(32) NOT NULL,
			photo LONGBLOB NOT NULL,
			checks JSON NOT NULL,
			created_at DATETIME(6) NOT NULL
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`)

		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := testContext(t)
				checks, err := json.Marshal(tt.row.Checks)
				if err != nil {
					t.Fatalf("json.Marshal: %v", err)
				}
				result := mustExec(t, s.db,
					"INSERT INTO t (name, fingerprint, photo, checks, created_at) VALUES (?, ?, ?, ?, ?)",
					tt.row.Name, tt.row.Fingerprint, tt.row.Photo, checks, tt.row.CreatedAt)
				id, err := result.LastInsertId()
				if err != nil {
					t.Fatalf("LastInsertId: %v", err)
				}

				var got row
				var gotChecks []byte
				err = s.db.QueryRowContext(ctx,
					"SELECT name, fingerprint, photo, checks, created_at FROM t WHERE id = ?", id).
					Scan(&got.Name, &got.Fingerprint, &got.Photo, &gotChecks, &got.CreatedAt)
				if err != nil {
					t.Fatalf("SELECT: %v", err)
				}
				// MySQL stores JSON in a binary form and returns it
				// reformatted, so only the decoded value can be compared.
				if err := json.Unmarshal(gotChecks, &got.Checks); err != nil {
					t.Fatalf("decode JSON column %q: %v", gotChecks, err)
				}

				want := tt.row
				if want.Photo == nil {
					want.Photo = []byte{}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("row read back differs (-want +got):\n%s", diff)
				}
				if !bytes.Equal([]byte(got.Name), []byte(tt.row.Name)) {
					t.Errorf("name bytes = %x, want %x", got.Name, tt.row.Name)
				}
			})
		}
	})
}

func TestSQLAutoIncrement(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server) {
		mustExec(t, s.db, "CREATE TABLE t (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB")

		var got []int64
		for v := range 3 {
			id, err := mustExec(t, s.db, "INSERT INTO t (v) VALUES (?)", v).LastInsertId()
			if err != nil {
				t.Fatalf("LastInsertId: %v", err)
			}
			got = append(got, id)
		}

		if diff := cmp.Diff([]int64{1, 2, 3}, got); diff != "" {
			t.Errorf("LastInsertId values differ (-want +got):\n%s", diff)
		}
	})
}

func TestSQLUniqueIndex(t *testing.T) {
	type insert struct {
		fingerprint []byte
		slot        int
		key         any // nil inserts NULL
	}
	tests := []struct {
		name    string
		inserts []insert
		// wantErr is the error number of the last insert; the earlier ones
		// must succeed.
		wantErr uint16
	}{
		{
			name:    "several NULLs in nullable unique column",
			inserts: []insert{{[]byte{1}, 1, nil}, {[]byte{1}, 2, nil}, {[]byte{1}, 3, nil}},
		},
		{
			name:    "duplicate in nullable unique column",
			inserts: []insert{{[]byte{1}, 1, "k"}, {[]byte{1}, 2, "k"}},
			wantErr: errDuplicateKey,
		},
		{
			name:    "same fingerprint, next slot",
			inserts: []insert{{[]byte{1}, 1, nil}, {[]byte{1}, 2, nil}, {[]byte{2}, 1, nil}},
		},
		{
			name:    "same fingerprint and slot",
			inserts: []insert{{[]byte{1}, 1, nil}, {[]byte{1}, 1, nil}},
			wantErr: errDuplicateKey,
		},
		{
			name:    "fingerprints differing in one byte",
			inserts: []insert{{[]byte{0, 1}, 1, nil}, {[]byte{0, 2}, 1, nil}},
		},
	}

	forEachServer(t, func(t *testing.T, s server) {
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := testContext(t)
				table := fmt.Sprintf("t%d", i)
				mustExec(t, s.db, `CREATE TABLE `+table+` (
					id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
					fingerprint VARBINARY(32) NOT NULL,
					slot INT NOT NULL,
					idempotency_key VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
					UNIQUE KEY uq_fingerprint_slot (fingerprint, slot),
					UNIQUE KEY uq_idempotency_key (idempotency_key)
				) ENGINE=InnoDB`)

				var err error
				for n, in := range tt.inserts {
					_, err = s.db.ExecContext(ctx, "INSERT INTO "+table+" (fingerprint, slot, idempotency_key) VALUES (?, ?, ?)",
						in.fingerprint, in.slot, in.key)
					if err != nil && n < len(tt.inserts)-1 {
						t.Fatalf("insert %d: %v", n+1, err)
					}
				}

				if got := mysqlErrorNumber(err); got != tt.wantErr {
					t.Errorf("last insert: error %v (number %d), want error number %d", err, got, tt.wantErr)
				}
			})
		}
	})
}

// TestSQLPadSpace records that go-mysql-server ignores the PAD SPACE
// attribute of utf8mb4_bin: MySQL and MariaDB compare 'a' and 'a ' as equal
// under utf8mb4_bin, so a unique index rejects the second, while
// go-mysql-server treats them as different. Values that may end in spaces
// belong in VARBINARY columns or must be trimmed before storing.
func TestSQLPadSpace(t *testing.T) {
	wantErr := map[engine]uint16{engineMySQL: errDuplicateKey, engineMariaDB: errDuplicateKey, engineGMS: 0}

	forEachServer(t, func(t *testing.T, s server) {
		mustExec(t, s.db, `CREATE TABLE t (
			name VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
			UNIQUE KEY uq_name (name)
		) ENGINE=InnoDB`)
		mustExec(t, s.db, "INSERT INTO t (name) VALUES ('a')")

		_, err := s.db.ExecContext(testContext(t), "INSERT INTO t (name) VALUES ('a ')")

		if got := mysqlErrorNumber(err); got != wantErr[s.engine] {
			t.Errorf("insert 'a ' after 'a' on %s: error %v (number %d), want error number %d", s.engine, err, got, wantErr[s.engine])
		}
	})
}

func TestSQLTransaction(t *testing.T) {
	tests := []struct {
		name      string
		commit    bool
		wantCount int
	}{
		{name: "commit", commit: true, wantCount: 2},
		{name: "rollback", commit: false, wantCount: 0},
	}

	forEachServer(t, func(t *testing.T, s server) {
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := testContext(t)
				table := fmt.Sprintf("t%d", i)
				mustExec(t, s.db, "CREATE TABLE "+table+" (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB")

				tx, err := s.db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatalf("BeginTx: %v", err)
				}
				mustExec(t, tx, "INSERT INTO "+table+" (v) VALUES (1)")
				mustExec(t, tx, "INSERT INTO "+table+" (v) VALUES (2)")
				var inside int
				if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&inside); err != nil {
					t.Fatalf("count inside transaction: %v", err)
				}
				if inside != 2 {
					t.Errorf("rows seen inside the transaction = %d, want 2", inside)
				}
				if tt.commit {
					err = tx.Commit()
				} else {
					err = tx.Rollback()
				}
				if err != nil {
					t.Fatalf("end transaction: %v", err)
				}

				var got int
				if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&got); err != nil {
					t.Fatalf("count after transaction: %v", err)
				}
				if got != tt.wantCount {
					t.Errorf("rows after %s = %d, want %d", tt.name, got, tt.wantCount)
				}
			})
		}
	})
}

// TestSQLFailedStatementKeepsOtherWrites checks that a statement that fails
// inside autocommit does not make the same connection's next statement undo
// another connection's write.
func TestSQLFailedStatementKeepsOtherWrites(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server) {
		ctx := testContext(t)
		mustExec(t, s.db, "CREATE TABLE t (v INT NOT NULL PRIMARY KEY) ENGINE=InnoDB")
		first, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatalf("first connection: %v", err)
		}
		defer first.Close()
		second, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatalf("second connection: %v", err)
		}
		defer second.Close()

		mustExec(t, first, "INSERT INTO t (v) VALUES (1)")
		if _, err := first.ExecContext(ctx, "INSERT INTO t (v) VALUES (2), (1)"); mysqlErrorNumber(err) != errDuplicateKey {
			t.Fatalf("duplicate insert: error %v, want error number %d", err, errDuplicateKey)
		}
		mustExec(t, second, "INSERT INTO t (v) VALUES (3)")
		mustExec(t, first, "INSERT INTO t (v) VALUES (4)")

		got := queryInts(t, s.db, "SELECT v FROM t WHERE v <> 2 ORDER BY v")
		if diff := cmp.Diff([]int{1, 3, 4}, got); diff != "" {
			t.Errorf("rows differ (-want +got):\n%s", diff)
		}
	})
}

func TestSQLInsertOnDuplicateKeyUpdate(t *testing.T) {
	tests := []struct {
		name  string
		query string
		// wantErr maps engines to the error number they return.
		wantErr map[engine]uint16
	}{
		{
			name:  "VALUES function",
			query: "INSERT INTO t (k, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)",
		},
		{
			// MariaDB 10.11 does not support MySQL 8.0.19's row alias.
			name:    "row alias",
			query:   "INSERT INTO t (k, v) VALUES (?, ?) AS new ON DUPLICATE KEY UPDATE v = new.v",
			wantErr: map[engine]uint16{engineMariaDB: 1064},
		},
	}

	forEachServer(t, func(t *testing.T, s server) {
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := testContext(t)
				table := fmt.Sprintf("t%d", i)
				query := strings.Replace(tt.query, "INTO t ", "INTO "+table+" ", 1)
				mustExec(t, s.db, "CREATE TABLE "+table+" (k VARCHAR(20) NOT NULL PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB")

				// Rows affected: 1 for an insert, 2 for an update that changed
				// the row, 0 for one that did not.
				var gotAffected []int64
				for _, v := range []int{1, 2, 2} {
					result, err := s.db.ExecContext(ctx, query, "a", v)
					if want := tt.wantErr[s.engine]; want != 0 {
						if got := mysqlErrorNumber(err); got != want {
							t.Fatalf("upsert on %s: error %v (number %d), want error number %d", s.engine, err, got, want)
						}
						return
					}
					if err != nil {
						t.Fatalf("upsert: %v", err)
					}
					affected, err := result.RowsAffected()
					if err != nil {
						t.Fatalf("RowsAffected: %v", err)
					}
					gotAffected = append(gotAffected, affected)
				}

				if diff := cmp.Diff([]int64{1, 2, 0}, gotAffected); diff != "" {
					t.Errorf("rows affected differ (-want +got):\n%s", diff)
				}
				if got := queryInts(t, s.db, "SELECT v FROM "+table); !cmp.Equal(got, []int{2}) {
					t.Errorf("stored values = %v, want [2]", got)
				}
			})
		}
	})
}

func TestSQLLockingReads(t *testing.T) {
	tests := []struct {
		name   string
		suffix string
		// wantErr maps engines to the error number they return.
		wantErr map[engine]uint16
	}{
		{name: "FOR UPDATE", suffix: "FOR UPDATE"},
		{name: "FOR UPDATE SKIP LOCKED", suffix: "FOR UPDATE SKIP LOCKED"},
		{name: "LOCK IN SHARE MODE", suffix: "LOCK IN SHARE MODE"},
		{
			// go-mysql-server v0.20.0's parser and MariaDB 10.11 reject the
			// MySQL 8 spelling; LOCK IN SHARE MODE works everywhere.
			name:    "FOR SHARE",
			suffix:  "FOR SHARE",
			wantErr: map[engine]uint16{engineGMS: 1105, engineMariaDB: 1064},
		},
	}

	forEachServer(t, func(t *testing.T, s server) {
		mustExec(t, s.db, "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB")
		mustExec(t, s.db, "INSERT INTO t (id, v) VALUES (1, 10), (2, 20)")

		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := testContext(t)
				tx, err := s.db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatalf("BeginTx: %v", err)
				}
				defer tx.Rollback()

				var v int
				err = tx.QueryRowContext(ctx, "SELECT v FROM t WHERE id = ? "+tt.suffix, 2).Scan(&v)

				if want := tt.wantErr[s.engine]; want != 0 {
					if got := mysqlErrorNumber(err); got != want {
						t.Fatalf("SELECT ... %s on %s: error %v (number %d), want error number %d", tt.suffix, s.engine, err, got, want)
					}
					return
				}
				if err != nil {
					t.Fatalf("SELECT ... %s: %v", tt.suffix, err)
				}
				if v != 20 {
					t.Errorf("SELECT ... %s = %d, want 20", tt.suffix, v)
				}
			})
		}
	})
}

// TestSQLConcurrentWriters runs writers on several connections at once. On
// go-mysql-server this only passes because the embedded server runs one
// transaction at a time; its memory engine would otherwise lose writes.
func TestSQLConcurrentWriters(t *testing.T) {
	const (
		workers    = 4
		iterations = 25
		slotLimit  = 5
	)

	forEachServer(t, func(t *testing.T, s server) {
		ctx := testContext(t)
		mustExec(t, s.db, "CREATE TABLE counter (id INT NOT NULL PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB")
		mustExec(t, s.db, "INSERT INTO counter (id, n) VALUES (1, 0)")
		mustExec(t, s.db, "CREATE TABLE event (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, worker INT NOT NULL) ENGINE=InnoDB")
		mustExec(t, s.db, `CREATE TABLE binding (
			fingerprint VARBINARY(32) NOT NULL,
			slot INT NOT NULL,
			worker INT NOT NULL,
			PRIMARY KEY (fingerprint, slot)
		) ENGINE=InnoDB`)
		s.db.SetMaxOpenConns(workers + 1)

		var wg sync.WaitGroup
		errs := make(chan error, workers*iterations*3)
		for worker := range workers {
			wg.Go(func() {
				for range iterations {
					if err := incrementInTransaction(ctx, s.db); err != nil {
						errs <- fmt.Errorf("increment: %w", err)
					}
					if _, err := s.db.ExecContext(ctx, "INSERT INTO event (worker) VALUES (?)", worker); err != nil {
						errs <- fmt.Errorf("insert event: %w", err)
					}
				}
				if err := takeSlot(ctx, s.db, worker, slotLimit); err != nil {
					errs <- fmt.Errorf("take slot: %w", err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}

		if got := queryInts(t, s.db, "SELECT n FROM counter"); !cmp.Equal(got, []int{workers * iterations}) {
			t.Errorf("counter = %v, want [%d]", got, workers*iterations)
		}
		if got := queryInts(t, s.db, "SELECT COUNT(*) FROM event"); !cmp.Equal(got, []int{workers * iterations}) {
			t.Errorf("event rows = %v, want [%d]", got, workers*iterations)
		}
		wantSlots := []int{1, 2, 3, 4}[:min(workers, slotLimit)]
		if diff := cmp.Diff(wantSlots, queryInts(t, s.db, "SELECT slot FROM binding ORDER BY slot")); diff != "" {
			t.Errorf("slots taken differ (-want +got):\n%s", diff)
		}
	})
}

// incrementInTransaction adds 1 to the counter with a locking read followed
// by an update, the pattern that loses updates without row locks.
func incrementInTransaction(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	var n int
	if err := tx.QueryRowContext(ctx, "SELECT n FROM counter WHERE id = 1 FOR UPDATE").Scan(&n); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE counter SET n = ? WHERE id = 1", n+1); err != nil {
		return err
	}
	return tx.Commit()
}

// takeSlot inserts the first free slot between 1 and limit for one
// fingerprint, relying on the primary key to reject taken slots.
func takeSlot(ctx context.Context, db *sql.DB, worker, limit int) error {
	for slot := 1; slot <= limit; slot++ {
		_, err := db.ExecContext(ctx, "INSERT INTO binding (fingerprint, slot, worker) VALUES (?, ?, ?)", []byte("fp"), slot, worker)
		if mysqlErrorNumber(err) == errDuplicateKey {
			continue
		}
		return err
	}
	return errors.New("all slots taken")
}

func queryInts(t *testing.T, db *sql.DB, query string) []int {
	t.Helper()

	rows, err := db.QueryContext(testContext(t), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var values []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatalf("%s: scan: %v", query, err)
		}
		values = append(values, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return values
}

// TestSQLSavepoint records that go-mysql-server's memory sessions reject
// SAVEPOINT, so the schema code must not rely on it.
func TestSQLSavepoint(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server) {
		ctx := testContext(t)
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatalf("BeginTx: %v", err)
		}
		defer tx.Rollback()

		_, err = tx.ExecContext(ctx, "SAVEPOINT sp1")

		if s.engine == engineGMS {
			if err == nil {
				t.Error("SAVEPOINT on go-mysql-server succeeded, want an error")
			}
			return
		}
		if err != nil {
			t.Errorf("SAVEPOINT on %s: %v", s.engine, err)
		}
	})
}
