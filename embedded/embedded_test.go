package embedded_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/idverify/idverify/embedded"
)

// TestMain fails the package if a test leaves goroutines running, which
// checks that every Close stops what its Start began.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestRedis(t *testing.T) {
	server, err := embedded.StartRedis()
	if err != nil {
		t.Fatalf("StartRedis: %v", err)
	}
	addr := server.Addr()
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	ctx := t.Context()

	if err := client.Set(ctx, "key", "\U0001F600", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	got, err := client.Get(ctx, "key").Result()
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	if got != "\U0001F600" {
		t.Errorf("GET = %q, want %q", got, "\U0001F600")
	}
	// asynq runs its queue operations as Lua scripts.
	sum, err := client.Eval(ctx, "return tonumber(ARGV[1]) + 1", nil, 41).Int()
	if err != nil {
		t.Fatalf("EVAL: %v", err)
	}
	if sum != 42 {
		t.Errorf("EVAL = %d, want 42", sum)
	}

	server.Close()
	server.Close()
	if server.Addr() != addr {
		t.Errorf("Addr after Close = %q, want %q", server.Addr(), addr)
	}
	if err := client.Ping(ctx).Err(); err == nil {
		t.Error("PING after Close succeeded, want a connection error")
	}
}

func TestStartRedisAtBusyAddress(t *testing.T) {
	server, err := embedded.StartRedis()
	if err != nil {
		t.Fatalf("StartRedis: %v", err)
	}
	defer server.Close()

	if second, err := embedded.StartRedisAt(server.Addr()); err == nil {
		second.Close()
		t.Errorf("StartRedisAt(%s) on a busy address succeeded, want an error", server.Addr())
	}
}

func TestMySQLDSN(t *testing.T) {
	mysqlServer := startMySQL(t)

	config, err := mysql.ParseDSN(mysqlServer.DSN())
	if err != nil {
		t.Fatalf("ParseDSN(%q): %v", mysqlServer.DSN(), err)
	}
	type dsn struct {
		User, Passwd, Net, Addr, DBName, Collation string
		ParseTime                                  bool
		Location                                   string
	}
	want := dsn{User: "root", Net: "tcp", Addr: mysqlServer.Addr(), DBName: "idverify", Collation: embedded.MySQLCollation, ParseTime: true, Location: "UTC"}
	got := dsn{config.User, config.Passwd, config.Net, config.Addr, config.DBName, config.Collation, config.ParseTime, config.Loc.String()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DSN fields differ (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(mysqlServer.Addr(), "127.0.0.1:") {
		t.Errorf("Addr = %q, want 127.0.0.1:<port>", mysqlServer.Addr())
	}

	db := openDB(t, mysqlServer.DSN())
	var database, charset string
	if err := db.QueryRowContext(t.Context(), "SELECT DATABASE(), @@character_set_connection").Scan(&database, &charset); err != nil {
		t.Fatalf("SELECT DATABASE(): %v", err)
	}
	if database != "idverify" || charset != "utf8mb4" {
		t.Errorf("DATABASE(), @@character_set_connection = %q, %q, want %q, %q", database, charset, "idverify", "utf8mb4")
	}
}

func TestStartMySQLInvalidDatabaseName(t *testing.T) {
	for _, name := range []string{"", "a-b", "a b", "db`x", strings.Repeat("a", 65), "na\u00efve"} {
		t.Run(name, func(t *testing.T) {
			server, err := embedded.StartMySQL(context.Background(), name, nil)
			if err == nil {
				server.Close()
				t.Fatalf("StartMySQL(%q) succeeded, want an error", name)
			}
		})
	}
}

func TestMySQLFileAccessDisabled(t *testing.T) {
	mysqlServer := startMySQL(t)
	db := openDB(t, mysqlServer.DSN())
	dir := t.TempDir()
	readable := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(readable, []byte("secret"), 0o600); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	outfile := filepath.Join(dir, "out.txt")

	var content sql.NullString
	err := db.QueryRowContext(t.Context(), "SELECT LOAD_FILE(?)", readable).Scan(&content)
	if err == nil && content.Valid {
		t.Errorf("LOAD_FILE read %q, want an error or NULL", content.String)
	}

	if _, err := db.ExecContext(t.Context(), "SELECT 1 INTO OUTFILE '"+outfile+"'"); err == nil {
		t.Error("SELECT ... INTO OUTFILE succeeded, want an error")
	}
	if _, err := os.Stat(outfile); !os.IsNotExist(err) {
		t.Errorf("INTO OUTFILE created %s (stat error %v)", outfile, err)
	}
}

func TestMySQLClose(t *testing.T) {
	mysqlServer, err := embedded.StartMySQL(context.Background(), "idverify", nil)
	if err != nil {
		t.Fatalf("StartMySQL: %v", err)
	}
	db, err := sql.Open("mysql", mysqlServer.DSN())
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	defer db.Close()
	db.SetMaxIdleConns(1)
	if err := db.PingContext(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	// An open transaction holds the statement lock; Close must still finish.
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatalf("BeginTx: %v", err)
	}
	defer tx.Rollback()

	if err := mysqlServer.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := mysqlServer.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	if _, err := tx.ExecContext(t.Context(), "SELECT 1"); err == nil {
		t.Error("statement on a connection open before Close succeeded, want an error")
	}
	if err := db.PingContext(t.Context()); err == nil {
		t.Error("Ping after Close succeeded, want a connection error")
	}
}
