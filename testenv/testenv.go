// Package testenv gives integration tests a MySQL database and a Redis
// database of their own.
//
// By default each call starts an in-process server from package embedded,
// so tests need nothing installed. When the environment names real servers,
// the same tests run against those instead:
//
//	IDVERIFY_TEST_MYSQL_DSN   go-sql-driver DSN of a user allowed to CREATE and
//	                          DROP DATABASE, e.g. "idverify:idverify@tcp(127.0.0.1:3306)/"
//	IDVERIFY_TEST_REDIS_URL   Redis URL, e.g. "redis://127.0.0.1:6379"; the server
//	                          needs more than one database and must allow CONFIG GET
//
// Everything a call creates is removed in t.Cleanup.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/idverify/idverify/embedded"
)

// Environment variables that select real servers.
const (
	// MySQLDSNEnv names a MySQL 8 or MariaDB 10.11 server for [MySQL].
	MySQLDSNEnv = "IDVERIFY_TEST_MYSQL_DSN"
	// RedisURLEnv names a Redis 7 server for [Redis].
	RedisURLEnv = "IDVERIFY_TEST_REDIS_URL"
)

// RedisDBCounterKey is the key in DB 0 of the real Redis server that [Redis]
// increments to give each test its own database number.
const RedisDBCounterKey = "idverify:testenv:db-counter"

// setupTimeout bounds each round trip that creates or removes a test
// database.
const setupTimeout = 30 * time.Second

// Real reports whether at least one real server is configured, that is
// whether [MySQLDSNEnv] or [RedisURLEnv] is set.
func Real() bool {
	return RealMySQL() || RealRedis()
}

// RealMySQL reports whether [MySQL] uses the real server named by
// [MySQLDSNEnv].
func RealMySQL() bool {
	return os.Getenv(MySQLDSNEnv) != ""
}

// RealRedis reports whether [Redis] uses the real server named by
// [RedisURLEnv].
func RealRedis() bool {
	return os.Getenv(RedisURLEnv) != ""
}

// MySQL returns a go-sql-driver DSN of a new, empty database for this test,
// with parseTime=true and a utf8mb4 connection collation.
//
// With [MySQLDSNEnv] set, it creates the database "idv_test_<16 hex digits>"
// (CHARACTER SET utf8mb4) on that server and drops it in t.Cleanup. The
// variable's user name, password, address and parameters are kept; a database
// name in it is ignored. Otherwise it starts an embedded MySQL serving one
// database and closes it in t.Cleanup. Server warnings go to the test log.
//
// It stops the test with t.Fatal if the server cannot be reached or the
// database cannot be created.
func MySQL(t testing.TB) string {
	t.Helper()

	name := "idv_test_" + randomHex(t, 8)
	if dsn := os.Getenv(MySQLDSNEnv); dsn != "" {
		return realMySQL(t, dsn, name)
	}
	return embeddedMySQL(t, name)
}

func embeddedMySQL(t testing.TB, name string) string {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	server, err := embedded.StartMySQL(ctx, name, testLogger(t))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := server.Close(); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return server.DSN()
}

func realMySQL(t testing.TB, dsn, name string) string {
	t.Helper()

	config, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The DSN may contain a password, so the error names only the variable.
		t.Fatalf("testenv: invalid %s: fix the DSN syntax (go-sql-driver/mysql format)", MySQLDSNEnv)
	}
	config.DBName = ""
	config.ParseTime = true
	if config.Collation == "" {
		config.Collation = embedded.MySQLCollation
	}
	connector, err := mysql.NewConnector(config)
	if err != nil {
		t.Fatalf("testenv: invalid %s: %v", MySQLDSNEnv, err)
	}
	admin := sql.OpenDB(connector)

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	// The name is generated from hex digits, so quoting it with backticks is
	// enough.
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4"); err != nil {
		_ = admin.Close()
		t.Fatalf("testenv: create database %s on %s: %v", name, config.Addr, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("testenv: drop database %s on %s: %v", name, config.Addr, err)
		}
	})

	config.DBName = name
	return config.FormatDSN()
}

// RedisTarget is a Redis server and database number reserved for one test.
type RedisTarget struct {
	// Addr is the server's host:port.
	Addr string
	// DB is the database number to SELECT. It is 0 on an embedded server and
	// between 1 and the server's databases setting minus 1 on a real one.
	DB int
	// Username is the ACL user name; empty means the default user.
	Username string
	// Password is the AUTH password; empty means none.
	Password string
}

// RedisOptions returns go-redis client options for the target.
func (r RedisTarget) RedisOptions() *redis.Options {
	return &redis.Options{Addr: r.Addr, DB: r.DB, Username: r.Username, Password: r.Password}
}

// AsynqOpt returns asynq client options for the target.
func (r RedisTarget) AsynqOpt() asynq.RedisClientOpt {
	return asynq.RedisClientOpt{Addr: r.Addr, DB: r.DB, Username: r.Username, Password: r.Password}
}

// Redis returns a Redis database that is empty at the start of this test.
//
// With [RedisURLEnv] set, it increments [RedisDBCounterKey] in DB 0 and maps
// the result onto the databases 1 to N-1, where N is the server's "databases"
// setting read with CONFIG GET. It runs FLUSHDB on that database now and
// again in t.Cleanup. Up to N-1 tests, across all test processes that share
// the server, can hold a database at once. Beyond that, tests share a
// database and may see each other's keys. TLS (rediss://) is not supported. Otherwise it starts an
// embedded Redis and closes it in t.Cleanup.
//
// It stops the test with t.Fatal if the server cannot be reached or has
// fewer than 2 databases.
func Redis(t testing.TB) RedisTarget {
	t.Helper()

	if url := os.Getenv(RedisURLEnv); url != "" {
		return realRedis(t, url)
	}

	server, err := embedded.StartRedis()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(server.Close)
	return RedisTarget{Addr: server.Addr()}
}

func realRedis(t testing.TB, url string) RedisTarget {
	t.Helper()

	options, err := redis.ParseURL(url)
	if err != nil {
		// The URL may contain a password, so the error names only the variable.
		t.Fatalf("testenv: invalid %s: use the form redis://[user:password@]host:port", RedisURLEnv)
	}
	if options.TLSConfig != nil {
		t.Fatalf("testenv: invalid %s: rediss:// (TLS) is not supported, use redis://", RedisURLEnv)
	}

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	options.DB = 0
	admin := redis.NewClient(options)
	defer admin.Close()

	databases, err := redisDatabases(ctx, admin)
	if err != nil {
		t.Fatalf("testenv: %s at %s: %v", RedisURLEnv, options.Addr, err)
	}
	counter, err := admin.Incr(ctx, RedisDBCounterKey).Result()
	if err != nil {
		t.Fatalf("testenv: increment %s at %s: %v", RedisDBCounterKey, options.Addr, err)
	}

	target := RedisTarget{
		Addr:     options.Addr,
		DB:       1 + int((counter-1)%int64(databases-1)),
		Username: options.Username,
		Password: options.Password,
	}
	flush := func(ctx context.Context) error {
		client := redis.NewClient(target.RedisOptions())
		defer client.Close()
		if err := client.FlushDB(ctx).Err(); err != nil {
			return fmt.Errorf("flush redis db %d at %s: %w", target.DB, target.Addr, err)
		}
		return nil
	}
	if err := flush(ctx); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if err := flush(ctx); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return target
}

// redisDatabases returns the server's "databases" setting.
func redisDatabases(ctx context.Context, client *redis.Client) (int64, error) {
	config, err := client.ConfigGet(ctx, "databases").Result()
	if err != nil {
		return 0, fmt.Errorf("config get databases: %w", err)
	}
	databases, err := strconv.ParseInt(config["databases"], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("config get databases: invalid value %q: %w", config["databases"], err)
	}
	if databases < 2 {
		return 0, fmt.Errorf("server has %d databases, need at least 2: start redis-server with --databases 64", databases)
	}
	return databases, nil
}

func randomHex(t testing.TB, bytes int) string {
	t.Helper()

	buf := make([]byte, bytes)
	if _, err := rand.Read(buf); err != nil {
		t.Fatalf("testenv: read random bytes: %v", err)
	}
	return hex.EncodeToString(buf)
}

// testLogger returns a logger that writes warnings and errors to the test
// log while the test runs, and to standard error after it has finished,
// because testing.T panics on Log calls after the test completes.
func testLogger(t testing.TB) *slog.Logger {
	writer := &testLogWriter{t: t}
	t.Cleanup(writer.finish)
	return slog.New(slog.NewTextHandler(writer, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testLogWriter struct {
	t testing.TB

	mu       sync.Mutex
	finished bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished {
		return os.Stderr.Write(p)
	}
	w.t.Log(string(p))
	return len(p), nil
}

func (w *testLogWriter) finish() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.finished = true
}
