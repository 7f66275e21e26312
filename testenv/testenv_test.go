package testenv_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/idverify/idverify/testenv"
)

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()

	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func databaseName(t *testing.T, db *sql.DB) string {
	t.Helper()

	var name string
	if err := db.QueryRowContext(t.Context(), "SELECT DATABASE()").Scan(&name); err != nil {
		t.Fatalf("SELECT DATABASE(): %v", err)
	}
	return name
}

func tableNames(t *testing.T, db *sql.DB) []string {
	t.Helper()

	rows, err := db.QueryContext(t.Context(), "SHOW TABLES")
	if err != nil {
		t.Fatalf("SHOW TABLES: %v", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatalf("SHOW TABLES: scan: %v", err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("SHOW TABLES: %v", err)
	}
	return names
}

func TestMySQL(t *testing.T) {
	dsn := testenv.MySQL(t)
	db := openDB(t, dsn)

	config, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("ParseDSN: %v", err)
	}
	if !config.ParseTime {
		t.Error("DSN has parseTime=false, want true")
	}
	if name := databaseName(t, db); !strings.HasPrefix(name, "idv_test_") || name != config.DBName {
		t.Errorf("DATABASE() = %q, DSN database = %q, want the same name starting with idv_test_", name, config.DBName)
	}
	if tables := tableNames(t, db); len(tables) != 0 {
		t.Errorf("new database has tables %v, want none", tables)
	}

	createdAt := time.Date(2025, time.January, 2, 3, 4, 5, 600000000, time.UTC)
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE t (name VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, created_at DATETIME(6) NOT NULL)"); err != nil {
		t.Fatalf("CREATE TABLE: %v", err)
	}
	if _, err := db.ExecContext(t.Context(), "INSERT INTO t VALUES (?, ?)", "\U0001F600", createdAt); err != nil {
		t.Fatalf("INSERT: %v", err)
	}
	var name string
	var gotCreatedAt time.Time
	if err := db.QueryRowContext(t.Context(), "SELECT name, created_at FROM t").Scan(&name, &gotCreatedAt); err != nil {
		t.Fatalf("SELECT: %v", err)
	}
	if name != "\U0001F600" || !gotCreatedAt.Equal(createdAt) {
		t.Errorf("row = %q, %v, want %q, %v", name, gotCreatedAt, "\U0001F600", createdAt)
	}
}

func TestMySQLSeparateDatabases(t *testing.T) {
	first := openDB(t, testenv.MySQL(t))
	second := openDB(t, testenv.MySQL(t))

	if a, b := databaseName(t, first), databaseName(t, second); a == b {
		t.Fatalf("both calls returned database %q", a)
	}
	if _, err := first.ExecContext(t.Context(), "CREATE TABLE only_in_first (id INT PRIMARY KEY)"); err != nil {
		t.Fatalf("CREATE TABLE: %v", err)
	}
	if tables := tableNames(t, second); len(tables) != 0 {
		t.Errorf("second database has tables %v, want none", tables)
	}
}

func TestMySQLCleanup(t *testing.T) {
	var dsn string
	t.Run("user", func(t *testing.T) {
		dsn = testenv.MySQL(t)
		db := openDB(t, dsn)
		if _, err := db.ExecContext(t.Context(), "CREATE TABLE t (id INT PRIMARY KEY)"); err != nil {
			t.Fatalf("CREATE TABLE: %v", err)
		}
	})

	config, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("ParseDSN: %v", err)
	}
	if !testenv.RealMySQL() {
		// The embedded server is gone, so connecting fails.
		db := openDB(t, dsn)
		if err := db.PingContext(t.Context()); err == nil {
			t.Errorf("embedded server for %s still answers after cleanup", config.DBName)
		}
		return
	}

	database := config.DBName
	config.DBName = ""
	db := openDB(t, config.FormatDSN())
	var count int
	err = db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", database).Scan(&count)
	if err != nil {
		t.Fatalf("query information_schema: %v", err)
	}
	if count != 0 {
		t.Errorf("database %s still exists after cleanup", database)
	}
}

func TestRedis(t *testing.T) {
	target := testenv.Redis(t)
	client := redis.NewClient(target.RedisOptions())
	defer client.Close()
	ctx := t.Context()

	size, err := client.DBSize(ctx).Result()
	if err != nil {
		t.Fatalf("DBSIZE: %v", err)
	}
	if size != 0 {
		t.Errorf("DBSIZE = %d, want 0", size)
	}
	if testenv.RealRedis() && target.DB == 0 {
		t.Error("real server: DB = 0, want 1 or more because DB 0 holds the counter")
	}
	if err := client.Set(ctx, "key", "value", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := client.Get(ctx, "key").Result(); err != nil || got != "value" {
		t.Errorf("GET = %q, %v, want %q", got, err, "value")
	}
}

func TestRedisSeparateTargets(t *testing.T) {
	first := testenv.Redis(t)
	second := testenv.Redis(t)
	if first == second {
		t.Fatalf("both calls returned %+v", first)
	}

	firstClient := redis.NewClient(first.RedisOptions())
	defer firstClient.Close()
	secondClient := redis.NewClient(second.RedisOptions())
	defer secondClient.Close()
	if err := firstClient.Set(t.Context(), "key", "first", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if n, err := secondClient.Exists(t.Context(), "key").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS key in second target = %d, %v, want 0", n, err)
	}
}

func TestRedisCleanup(t *testing.T) {
	var target testenv.RedisTarget
	t.Run("user", func(t *testing.T) {
		target = testenv.Redis(t)
		client := redis.NewClient(target.RedisOptions())
		defer client.Close()
		if err := client.Set(t.Context(), "left-behind", "x", 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
	})

	client := redis.NewClient(target.RedisOptions())
	defer client.Close()
	size, err := client.DBSize(t.Context()).Result()
	if !testenv.RealRedis() {
		if err == nil {
			t.Error("embedded server still answers after cleanup")
		}
		return
	}
	if err != nil {
		t.Fatalf("DBSIZE: %v", err)
	}
	if size != 0 {
		t.Errorf("DBSIZE after cleanup = %d, want 0", size)
	}
}

// TestAsynq runs an asynq client, server and inspector against the target,
// which exercises the Lua scripts asynq relies on.
func TestAsynq(t *testing.T) {
	target := testenv.Redis(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	type payload struct {
		ApplicationID int64 `json:"application_id"`
	}
	body, err := json.Marshal(payload{ApplicationID: 42})
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	client := asynq.NewClient(target.AsynqOpt())
	defer client.Close()
	if _, err := client.EnqueueContext(ctx, asynq.NewTask("test:echo", body), asynq.TaskID("echo-42"), asynq.Retention(time.Hour)); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	_, err = client.EnqueueContext(ctx, asynq.NewTask("test:echo", body), asynq.TaskID("echo-42"))
	if !errors.Is(err, asynq.ErrTaskIDConflict) {
		t.Errorf("second Enqueue with the same task ID: error %v, want asynq.ErrTaskIDConflict", err)
	}

	received := make(chan payload, 1)
	server := asynq.NewServer(target.AsynqOpt(), asynq.Config{Concurrency: 1, LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc("test:echo", func(ctx context.Context, task *asynq.Task) error {
		var p payload
		if err := json.Unmarshal(task.Payload(), &p); err != nil {
			return err
		}
		if _, err := task.ResultWriter().Write([]byte(`{"ok":true}`)); err != nil {
			return err
		}
		received <- p
		return nil
	})
	if err := server.Start(mux); err != nil {
		t.Fatalf("asynq server Start: %v", err)
	}
	defer server.Shutdown()

	select {
	case got := <-received:
		if diff := cmp.Diff(payload{ApplicationID: 42}, got); diff != "" {
			t.Errorf("payload differs (-want +got):\n%s", diff)
		}
	case <-ctx.Done():
		t.Fatalf("task not processed: %v", ctx.Err())
	}
}

func TestReal(t *testing.T) {
	tests := []struct {
		name            string
		mysqlDSN, redis string
		want, wantMySQL bool
		wantRedis       bool
	}{
		{name: "none", want: false},
		{name: "mysql only", mysqlDSN: "u:p@tcp(127.0.0.1:3306)/", want: true, wantMySQL: true},
		{name: "redis only", redis: "redis://127.0.0.1:6379", want: true, wantRedis: true},
		{name: "both", mysqlDSN: "u:p@tcp(127.0.0.1:3306)/", redis: "redis://127.0.0.1:6379", want: true, wantMySQL: true, wantRedis: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(testenv.MySQLDSNEnv, tt.mysqlDSN)
			t.Setenv(testenv.RedisURLEnv, tt.redis)

			got := []bool{testenv.Real(), testenv.RealMySQL(), testenv.RealRedis()}

			if diff := cmp.Diff([]bool{tt.want, tt.wantMySQL, tt.wantRedis}, got); diff != "" {
				t.Errorf("Real, RealMySQL, RealRedis differ (-want +got):\n%s", diff)
			}
		})
	}
}
