// Command idverify verifies the identity of cloud accounts and runs the
// review that follows.
//
// Usage:
//
//	idverify serve     API, workers and scheduler in one process (embedded stores when none is configured)
//	idverify api       the HTTP API only (real Redis and MySQL)
//	idverify worker    the task workers and scheduler only (real Redis and MySQL)
//	idverify migrate   apply the schema and exit
//	idverify demo      drive a running server as a caller and a reviewer would
//	idverify keys      print fresh encryption, fingerprint and console session keys
//
// Configuration comes from IDVERIFY_* environment variables; see README.md.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/idverify/idverify/pii"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch os.Args[1] {
	case "serve":
		err = runServer(ctx, roles{API: true, Worker: true})
	case "api":
		err = runServer(ctx, roles{API: true})
	case "worker":
		err = runServer(ctx, roles{Worker: true})
	case "migrate":
		err = runMigrate(ctx)
	case "demo":
		err = runDemo(ctx, os.Args[2:], os.Stdout)
	case "keys":
		fmt.Printf("IDVERIFY_ENCRYPTION_KEYS=%s:%s\n", time.Now().UTC().Format("2006-01"), base64.StdEncoding.EncodeToString(pii.RandomKey()))
		fmt.Printf("IDVERIFY_FINGERPRINT_KEY=%s\n", base64.StdEncoding.EncodeToString(pii.RandomKey()))
		fmt.Printf("IDVERIFY_CONSOLE_SESSION_KEY=%s\n", base64.StdEncoding.EncodeToString(pii.RandomKey()))
	case "-h", "--help", "help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "idverify: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "idverify:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: idverify <command>

commands:
  serve     run API, workers and scheduler in one process; with no
            IDVERIFY_REDIS_URL and IDVERIFY_MYSQL_DSN it starts in-process
            stores that keep data in memory only
  api       run the HTTP API only
  worker    run the task workers and the scheduler only
  migrate   apply the database schema and exit
  demo      drive a running server: register, submit, review, print outcomes
  keys      print new IDVERIFY_ENCRYPTION_KEYS, IDVERIFY_FINGERPRINT_KEY and
            IDVERIFY_CONSOLE_SESSION_KEY values

Configuration is read from IDVERIFY_* environment variables; see README.md.
`)
}

func newLogger(cfg Config) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func runServer(ctx context.Context, r roles) error {
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	if err := cfg.checkRoles(r); err != nil {
		return err
	}
	logger := newLogger(cfg)
	if cfg.Embedded() && (!r.API || !r.Worker) {
		return fmt.Errorf("%s needs IDVERIFY_REDIS_URL and IDVERIFY_MYSQL_DSN: in-process stores cannot be shared between processes; use idverify serve to try idverify", os.Args[1])
	}
	logger.Info("starting idverify", append([]any{"command", os.Args[1]}, cfg.logAttrs()...)...)

	in, err := start(ctx, cfg, r, logger, nil)
	if err != nil {
		return err
	}
	if cfg.Embedded() {
		logger.Warn("EMBEDDED STORES: Redis and MySQL run in this process and hold data in memory only; everything is lost when it stops. Set IDVERIFY_REDIS_URL and IDVERIFY_MYSQL_DSN for real servers.")
		printDevKeys(in, logger)
	}
	logger.Info("idverify ready", "url", in.URL)

	<-ctx.Done()
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout+5*time.Second)
	defer cancel()
	if err := in.shutdown(sctx); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// devKeys is the file demo reads to find a development server.
type devKeys struct {
	URL      string `json:"url"`
	Intake   string `json:"intake_key"`
	Reviewer string `json:"reviewer_key"`
	Operator string `json:"operator_key"`
}

func printDevKeys(in *instance, logger *slog.Logger) {
	if len(in.Keys) == 0 {
		return
	}
	dk := devKeys{URL: in.URL}
	fmt.Fprintln(os.Stderr, "\nDevelopment API keys (generated for this run):")
	for _, k := range in.Keys {
		fmt.Fprintf(os.Stderr, "  %-8s %-10s %s\n", k.Scope, k.Name, k.Key)
		switch k.Scope {
		case "intake":
			dk.Intake = k.Key
		case "review":
			dk.Reviewer = k.Key
		case "operator":
			dk.Operator = k.Key
		}
	}
	fmt.Fprintf(os.Stderr, "\nKeys file for demo: %s\nTry it: go run ./cmd/idverify demo\nDashboard: %s/monitoring/ (any user name, operator key as password)\nDev mailbox: %s/dev/mailbox/\nReviewer console: %s/review/\n\n", devKeysFile(), in.URL, in.URL, in.URL)
	b, _ := json.MarshalIndent(dk, "", "  ")
	if err := os.WriteFile(devKeysFile(), b, 0o600); err != nil {
		logger.Warn("could not write the development keys file; pass keys to demo by environment", "path", devKeysFile(), "error", err)
	}
}

func runMigrate(ctx context.Context) error {
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	if cfg.MySQLDSN == "" {
		return fmt.Errorf("migrate needs IDVERIFY_MYSQL_DSN")
	}
	logger := newLogger(cfg)
	dsn, err := normalizeDSN(cfg.MySQLDSN)
	if err != nil {
		return fmt.Errorf("IDVERIFY_MYSQL_DSN: %w", err)
	}
	return migrateDSN(ctx, dsn, logger)
}
