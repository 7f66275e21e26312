package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/idverify/idverify/auth"
	"github.com/idverify/idverify/calendar"
	"github.com/idverify/idverify/console"
	"github.com/idverify/idverify/embedded"
	"github.com/idverify/idverify/metrics"
	"github.com/idverify/idverify/notifier"
	"github.com/idverify/idverify/openapi"
	"github.com/idverify/idverify/outbox"
	"github.com/idverify/idverify/photo"
	"github.com/idverify/idverify/producer"
	"github.com/idverify/idverify/review"
	"github.com/idverify/idverify/schema"
	"github.com/idverify/idverify/store"
	"github.com/idverify/idverify/tasks"
	"github.com/idverify/idverify/worker"
)

// roles select what one process runs.
type roles struct {
	API    bool // intake, review and operator HTTP endpoints
	Worker bool // asynq handlers and the sweep scheduler
}

// instance is one running idverify process: its stores, HTTP server,
// workers and background loops.
type instance struct {
	cfg     Config
	logger  *slog.Logger
	URL     string
	Keys    []generatedKey
	Store   *store.Store
	Mailbox *embedded.Mailbox
	DevSMS  *notifier.DevSMS

	db        *sqlx.DB
	redisOpt  asynq.RedisConnOpt
	redis     redis.UniversalClient
	client    *asynq.Client
	inspector *asynq.Inspector
	server    *asynq.Server
	http      *http.Server
	relay     *outbox.Relay
	embRedis  *embedded.Redis
	embMySQL  *embedded.MySQL
	metrics   *metrics.Metrics

	stopLoops context.CancelFunc
	loops     sync.WaitGroup
}

// start brings up a process with the given roles. now is the clock for
// business rules; nil means time.Now. On error everything started so far
// is closed again.
func start(ctx context.Context, cfg Config, r roles, logger *slog.Logger, now func() time.Time) (_ *instance, err error) {
	if now == nil {
		now = time.Now
	}
	in := &instance{cfg: cfg, logger: logger}
	defer func() {
		if err != nil {
			if in.stopLoops != nil {
				in.stopLoops()
			}
			if in.server != nil {
				in.server.Shutdown()
			}
			in.loops.Wait()
			in.closeStores()
		}
	}()

	if err := in.openStores(ctx); err != nil {
		return nil, err
	}

	keyring, err := cfg.keyring()
	if err != nil {
		return nil, fmt.Errorf("encryption keys: %w", err)
	}
	apiKeys, generated, err := cfg.apiKeys()
	if err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	}
	in.Keys = generated
	apiKeys.Logger = logger.With("component", "auth")
	cals := calendar.Default()
	if cfg.CalendarFile != "" {
		if cals, err = calendar.LoadFile(cfg.CalendarFile); err != nil {
			return nil, fmt.Errorf("IDVERIFY_CALENDAR_FILE: %w", err)
		}
	}

	in.Store = store.New(in.db, keyring, store.Options{Now: now, Webhooks: cfg.Webhook.URL != ""})
	in.client = asynq.NewClientFromRedisClient(in.redis)
	in.inspector = asynq.NewInspectorFromRedisClient(in.redis)
	in.relay = outbox.NewRelay(in.Store, in.client, logger.With("component", "outbox"), cfg.RelayInterval)
	m := metrics.New()
	m.RegisterQueueSizes(in.inspector)
	in.metrics = m

	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	in.stopLoops = stop
	in.loop(func() { in.relay.Run(loopCtx) })

	// Take the port before starting workers, so a taken address stops
	// the process before it fetches any task.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("IDVERIFY_ADDR %s: %w (every api, worker and serve process needs its own address)", cfg.Addr, err)
	}
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()

	if r.Worker {
		if err := in.startWorker(loopCtx, cals, m, now); err != nil {
			return nil, err
		}
	}

	mux := http.NewServeMux()
	if err := in.routes(mux, r, apiKeys, m, now); err != nil {
		return nil, err
	}
	in.URL = "http://" + ln.Addr().String()
	in.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	in.loop(func() {
		if err := in.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "error", err)
		}
	})
	return in, nil
}

func (in *instance) loop(fn func()) {
	in.loops.Add(1)
	go func() {
		defer in.loops.Done()
		fn()
	}()
}

// openStores connects to Redis and MySQL, starting in-process ones when
// none is configured, and applies the schema.
func (in *instance) openStores(ctx context.Context) error {
	cfg := in.cfg
	if cfg.RedisURL == "" {
		r, err := embedded.StartRedis()
		if err != nil {
			return fmt.Errorf("start embedded redis: %w", err)
		}
		in.embRedis = r
		in.redisOpt = asynq.RedisClientOpt{Addr: r.Addr()}
	} else {
		opt, err := asynq.ParseRedisURI(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("IDVERIFY_REDIS_URL: %w", err)
		}
		in.redisOpt = opt
	}
	in.redis = in.redisOpt.MakeRedisClient().(redis.UniversalClient)

	dsn := cfg.MySQLDSN
	if dsn == "" {
		m, err := embedded.StartMySQL(ctx, "idverify", in.logger.With("component", "embedded-mysql"))
		if err != nil {
			return fmt.Errorf("start embedded mysql: %w", err)
		}
		in.embMySQL = m
		dsn = m.DSN()
	}
	dsn, err := normalizeDSN(dsn)
	if err != nil {
		return fmt.Errorf("IDVERIFY_MYSQL_DSN: %w", err)
	}
	db, err := sqlx.Open("mysql", dsn)
	if err != nil {
		return fmt.Errorf("IDVERIFY_MYSQL_DSN: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(16)
	db.SetConnMaxLifetime(30 * time.Minute)
	in.db = db
	pingCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		return fmt.Errorf("connect to mysql: %w", err)
	}
	if err := schema.Apply(ctx, db, in.logger); err != nil {
		return err
	}

	if cfg.SMTP.Host == "" && in.embRedis != nil {
		box, err := embedded.StartMailbox("127.0.0.1:0", in.logger.With("component", "dev-mailbox"))
		if err != nil {
			return fmt.Errorf("start dev mailbox: %w", err)
		}
		in.Mailbox = box
	}
	return nil
}

// normalizeDSN sets the driver options idverify relies on: parsed UTC
// times and utf8mb4 end to end.
func normalizeDSN(dsn string) (string, error) {
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", err
	}
	c.ParseTime = true
	c.Loc = time.UTC
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	c.Collation = "utf8mb4_bin"
	c.Params["charset"] = "utf8mb4"
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = time.Minute
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = time.Minute
	}
	return c.FormatDSN(), nil
}

func (in *instance) startWorker(ctx context.Context, cals *calendar.Set, m *metrics.Metrics, now func() time.Time) error {
	cfg := in.cfg
	deps := worker.Deps{
		Store: in.Store, Calendars: cals, Kicker: in.relay, Inspector: in.inspector, Redis: in.redis, Metrics: m,
		Logger: in.logger.With("component", "worker"), Now: now, ConsoleURL: cfg.ConsoleURL,
		Photo: photo.DefaultLimits(),
		Staff: worker.Staff{LeadsEmail: cfg.LeadsEmail, OperationsEmail: cfg.OperationsEmail},
	}
	deps.Photo.MaxBytes = cfg.MaxPhotoBytes

	mailCfg := cfg.SMTP
	if mailCfg.Host == "" && in.Mailbox != nil {
		host, port, _ := net.SplitHostPort(in.Mailbox.Addr())
		mailCfg.Host = host
		mailCfg.Port, _ = strconv.Atoi(port)
		mailCfg.TLS = "none"
	}
	if mailCfg.Host == "" {
		in.logger.Warn("IDVERIFY_SMTP_HOST is not set: email notifications are skipped")
	}
	if mailCfg.Host != "" {
		mailer, err := notifier.NewMailer(mailCfg, in.logger.With("component", "email"))
		if err != nil {
			return fmt.Errorf("IDVERIFY_SMTP_*: %w", err)
		}
		deps.Mailer = mailer
	}
	if cfg.SMS.URL != "" {
		gw, err := notifier.NewSMSGateway(cfg.SMS, nil)
		if err != nil {
			return fmt.Errorf("IDVERIFY_SMS_*: %w", err)
		}
		deps.SMS = gw
	} else if cfg.Embedded() {
		in.DevSMS = notifier.NewDevSMS(in.logger.With("component", "dev-sms"))
		deps.SMS = in.DevSMS
	} else {
		in.logger.Warn("IDVERIFY_SMS_URL is not set: SMS notifications are skipped")
	}
	if cfg.Webhook.URL != "" {
		wh, err := notifier.NewWebhook(cfg.Webhook, nil)
		if err != nil {
			return fmt.Errorf("IDVERIFY_WEBHOOK_*: %w", err)
		}
		deps.Webhook = wh
	}

	handlers := worker.New(deps)
	in.server = asynq.NewServerFromRedisClient(in.redis, asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   tasks.Queues(),
		ShutdownTimeout:          cfg.ShutdownTimeout,
		RetryDelayFunc:           backoff(cfg.RetryBaseDelay, cfg.RetryMaxDelay),
		DelayedTaskCheckInterval: cfg.TaskCheckInterval,
		// An idle worker polls its queues at least once a second.
		TaskCheckInterval: min(cfg.TaskCheckInterval, time.Second),
		Logger:            asynqLogger{in.logger.With("component", "asynq")},
		LogLevel:          asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			// Handlers log their own failures with ids; this only counts.
		}),
	})
	if err := in.server.Start(handlers.Mux()); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	in.loop(func() {
		worker.RunSweepScheduler(ctx, in.client, cfg.SweepInterval, now, in.logger.With("component", "scheduler"))
	})
	return nil
}

func (in *instance) routes(mux *http.ServeMux, r roles, keys *auth.Keys, m *metrics.Metrics, now func() time.Time) error {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.HandleFunc("GET /readyz", in.readyz)
	mux.Handle("GET /metrics", keys.Require(auth.ScopeOperator, m.Handler()))
	if !r.API {
		return nil
	}
	mux.Handle("GET /openapi.yaml", openapi.Handler())

	transition := func(status string) { m.Transitions.WithLabelValues(status).Inc() }
	api := http.NewServeMux()
	producer.New(in.Store, in.relay, producer.Config{MaxPhotoBytes: in.cfg.MaxPhotoBytes, Now: now, Transition: transition}, in.logger.With("component", "intake")).Register(api, keys)
	reviewSrv := review.New(in.Store, in.relay, review.Config{ClaimTTL: in.cfg.ClaimTTL, Now: now, Transition: transition}, in.logger.With("component", "review"))
	reviewSrv.Register(api, keys)
	mux.Handle("/v1/", instrument(m, api))

	sessionKey, err := in.cfg.consoleSessionKey()
	if err != nil {
		return fmt.Errorf("IDVERIFY_CONSOLE_SESSION_KEY: %w", err)
	}
	con, err := console.New(reviewSrv, in.Store, keys, console.Config{SessionKey: sessionKey, ClaimTTL: in.cfg.ClaimTTL, Now: now},
		in.logger.With("component", "console"))
	if err != nil {
		return fmt.Errorf("IDVERIFY_CONSOLE_SESSION_KEY: %w", err)
	}
	con.Register(mux)

	mon := asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: in.redisOpt})
	mux.Handle("/monitoring/", keys.Require(auth.ScopeOperator, mon))

	if in.Mailbox != nil {
		mux.Handle("/dev/mailbox/", keys.Require(auth.ScopeOperator, http.StripPrefix("/dev/mailbox", in.Mailbox.Handler())))
		mux.Handle("GET /dev/mailbox.json", keys.Require(auth.ScopeOperator, http.HandlerFunc(in.mailboxJSON)))
	}
	if in.DevSMS != nil {
		mux.Handle("GET /dev/sms.json", keys.Require(auth.ScopeOperator, http.HandlerFunc(in.smsJSON)))
	}
	return nil
}

// instrument counts requests by the mux pattern that matched, so ids in
// paths never become label values.
func instrument(m *metrics.Metrics, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		if pattern == "" {
			pattern = "unmatched"
		}
		m.Instrument(pattern, mux).ServeHTTP(w, r)
	})
}

func (in *instance) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status := map[string]string{"mysql": "ok", "redis": "ok"}
	code := http.StatusOK
	if err := in.db.PingContext(ctx); err != nil {
		status["mysql"] = "unreachable"
		code = http.StatusServiceUnavailable
	}
	if err := in.redis.Ping(ctx).Err(); err != nil {
		status["redis"] = "unreachable"
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(status)
}

func (in *instance) mailboxJSON(w http.ResponseWriter, r *http.Request) {
	type mailView struct {
		ID      int       `json:"id"`
		From    string    `json:"from"`
		To      []string  `json:"to"`
		Subject string    `json:"subject"`
		Date    time.Time `json:"date"`
		Text    string    `json:"text"`
	}
	out := []mailView{}
	for _, m := range in.Mailbox.Messages() {
		out = append(out, mailView{ID: m.ID, From: m.From, To: m.To, Subject: m.Subject, Date: m.Date, Text: m.Text})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (in *instance) smsJSON(w http.ResponseWriter, r *http.Request) {
	type smsView struct {
		To             string `json:"to"`
		Text           string `json:"text"`
		IdempotencyKey string `json:"idempotency_key"`
	}
	out := []smsView{}
	for _, m := range in.DevSMS.Messages() {
		out = append(out, smsView{To: m.To, Text: m.Text, IdempotencyKey: m.IdempotencyKey})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// shutdown stops the process in order. First HTTP stops accepting and
// finishes the requests in flight. Then the relay and scheduler loops
// stop. Then the workers stop fetching and let in-flight tasks finish
// within the shutdown timeout, and asynq returns unfinished ones to the
// queue. Redis and MySQL close last.
func (in *instance) shutdown(ctx context.Context) error {
	var errs []error
	if in.http != nil {
		if err := in.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
	}
	if in.stopLoops != nil {
		in.stopLoops()
	}
	if in.server != nil {
		in.server.Shutdown()
	}
	in.loops.Wait()
	in.closeStores()
	return errors.Join(errs...)
}

func (in *instance) closeStores() {
	if in.client != nil {
		in.client.Close()
	}
	if in.inspector != nil {
		in.inspector.Close()
	}
	if in.redis != nil {
		in.redis.Close()
	}
	if in.db != nil {
		in.db.Close()
	}
	if in.Mailbox != nil {
		in.Mailbox.Close()
	}
	if in.embMySQL != nil {
		in.embMySQL.Close()
	}
	if in.embRedis != nil {
		in.embRedis.Close()
	}
}

// backoff returns asynq's retry delay: base*2^n for the retry that follows
// n earlier retries, at most max, and between 80% and 120% of that, so
// tasks that failed together do not retry together.
func backoff(base, max time.Duration) asynq.RetryDelayFunc {
	return func(n int, _ error, _ *asynq.Task) time.Duration {
		d := max
		if n < 40 && base<<n > 0 && base<<n < max {
			d = base << n
		}
		return d*8/10 + time.Duration(mrand.Int64N(int64(d)*4/10+1))
	}
}

// devKeysFile returns the path where serve writes the generated
// development keys, so that `idverify demo` finds them.
func devKeysFile() string { return filepath.Join(os.TempDir(), "idverify-dev-keys.json") }

// asynqLogger adapts slog to asynq's logger interface.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...))
	os.Exit(1)
}
