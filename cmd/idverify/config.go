package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/idverify/idverify/auth"
	"github.com/idverify/idverify/console"
	"github.com/idverify/idverify/notifier"
	"github.com/idverify/idverify/pii"
)

// Config is everything idverify reads from its environment. Each field
// names its variable; secrets also accept VAR_FILE with the path of a file
// holding the value.
type Config struct {
	// Addr is the HTTP listen address (IDVERIFY_ADDR). Default
	// 127.0.0.1:8080 on the embedded stores, :8080 with real servers.
	Addr string
	// RedisURL (IDVERIFY_REDIS_URL), e.g. redis://:password@host:6379/0.
	// Empty starts an in-process Redis that holds data in memory only.
	RedisURL string
	// MySQLDSN (IDVERIFY_MYSQL_DSN) in go-sql-driver form, e.g.
	// user:pass@tcp(host:3306)/idverify. Empty starts an in-process
	// MySQL-compatible server that holds data in memory only.
	MySQLDSN string

	// EncryptionKeys (IDVERIFY_ENCRYPTION_KEYS): "id:base64key,..." with
	// 32-byte AES keys, the first one current. Required with MySQLDSN.
	EncryptionKeys string
	// FingerprintKey (IDVERIFY_FINGERPRINT_KEY): base64 of at least 32
	// bytes for HMAC fingerprints. Required with MySQLDSN; it cannot be
	// rotated without recomputing stored fingerprints.
	FingerprintKey string

	// IntakeKeys, ReviewerKeys, OperatorKeys (IDVERIFY_INTAKE_KEYS,
	// IDVERIFY_REVIEWER_KEYS, IDVERIFY_OPERATOR_KEYS): "name:key,..."; for
	// reviewers the name is the reviewer id written to the audit log. On
	// the embedded stores, empty lists get one generated key each.
	IntakeKeys, ReviewerKeys, OperatorKeys string

	// SMTP settings (IDVERIFY_SMTP_HOST, _PORT default 587, _TLS
	// starttls|implicit|none default starttls, _USERNAME, _PASSWORD, _AUTH,
	// IDVERIFY_MAIL_FROM, IDVERIFY_MAIL_FROM_NAME default "idverify").
	// Empty host: an in-process SMTP sink on the embedded stores, no email
	// otherwise.
	SMTP notifier.EmailConfig
	// SMS gateway (IDVERIFY_SMS_URL, _KEY_ID, _SECRET, _SENDER,
	// _MAX_SEGMENTS default 3). Empty URL: SMS goes to the log and the dev
	// outbox page.
	SMS notifier.SMSConfig
	// Webhook (IDVERIFY_WEBHOOK_URL, IDVERIFY_WEBHOOK_SECRET). Empty URL
	// disables webhooks.
	Webhook notifier.WebhookConfig

	// LeadsEmail and OperationsEmail (IDVERIFY_LEADS_EMAIL,
	// IDVERIFY_OPERATIONS_EMAIL) receive level 1 and level 2 escalations.
	LeadsEmail, OperationsEmail string
	// CalendarFile (IDVERIFY_CALENDAR_FILE) merges business-day calendars
	// over the built-in HK, CN and SG data.
	CalendarFile string
	// MaxPhotoBytes (IDVERIFY_MAX_PHOTO_BYTES), default 2097152.
	MaxPhotoBytes int64
	// ClaimTTL (IDVERIFY_CLAIM_TTL), default 30m.
	ClaimTTL time.Duration
	// Concurrency (IDVERIFY_WORKER_CONCURRENCY) of task handlers, default 10.
	Concurrency int
	// SweepInterval (IDVERIFY_SWEEP_INTERVAL), default 1m.
	SweepInterval time.Duration
	// RelayInterval (IDVERIFY_RELAY_INTERVAL) between outbox polls, default 2s.
	RelayInterval time.Duration
	// ShutdownTimeout (IDVERIFY_SHUTDOWN_TIMEOUT), default 30s.
	ShutdownTimeout time.Duration
	// RetryBaseDelay and RetryMaxDelay (IDVERIFY_RETRY_BASE_DELAY, default
	// 10s; IDVERIFY_RETRY_MAX_DELAY, default 1h) shape the backoff of failed
	// tasks: the nth retry waits base*2^(n-1), at most max, with jitter.
	RetryBaseDelay, RetryMaxDelay time.Duration
	// TaskCheckInterval (IDVERIFY_TASK_CHECK_INTERVAL), default 5s: how
	// often workers move scheduled and retrying tasks whose time has come
	// to their queues, so a retry or an escalation runs up to this late.
	// Idle workers poll their queues at this interval or once a second,
	// whichever is shorter.
	TaskCheckInterval time.Duration
	// ConsoleSessionKey (IDVERIFY_CONSOLE_SESSION_KEY): standard base64 of
	// at least 32 bytes that signs reviewer console sessions. Every API
	// process must use the same key. Required with real servers; on the
	// embedded stores an empty value gets a random key per start, so
	// reviewers sign in again after a restart.
	ConsoleSessionKey string
	// ConsoleURL (IDVERIFY_CONSOLE_URL) prefixes application ids in
	// message links; empty leaves links out.
	ConsoleURL string
	// LogFormat (IDVERIFY_LOG_FORMAT) text or json; default text on the
	// embedded stores, json otherwise. LogLevel (IDVERIFY_LOG_LEVEL)
	// debug|info|warn|error, default info.
	LogFormat, LogLevel string
}

// Embedded reports whether any store runs in process.
func (c Config) Embedded() bool { return c.RedisURL == "" || c.MySQLDSN == "" }

type envReader struct {
	lookup func(string) (string, bool)
	errs   []string
}

func (e *envReader) str(name, def string) string {
	if v, ok := e.lookup(name); ok && v != "" {
		return v
	}
	return def
}

// secret reads NAME or the file named by NAME_FILE.
func (e *envReader) secret(name string) string {
	if path, ok := e.lookup(name + "_FILE"); ok && path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("%s_FILE: %v", name, err))
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	return e.str(name, "")
}

func (e *envReader) integer(name string, def, min, max int64) int64 {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min || n > max {
		e.errs = append(e.errs, fmt.Sprintf("%s: %q is not an integer from %d to %d", name, v, min, max))
		return def
	}
	return n
}

func (e *envReader) duration(name string, def, min time.Duration) time.Duration {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min {
		e.errs = append(e.errs, fmt.Sprintf("%s: %q is not a duration of at least %s (e.g. 30s, 5m)", name, v, min))
		return def
	}
	return d
}

func (e *envReader) oneOf(name, def string, allowed ...string) string {
	v := e.str(name, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	e.errs = append(e.errs, fmt.Sprintf("%s: %q must be one of %s", name, v, strings.Join(allowed, ", ")))
	return def
}

// checkRoles validates what depends on the process's roles: every API
// process on real servers must sign console sessions with the same key.
func (c Config) checkRoles(r roles) error {
	if r.API && !c.Embedded() && c.ConsoleSessionKey == "" {
		return fmt.Errorf("invalid configuration:\n  IDVERIFY_CONSOLE_SESSION_KEY: required for the API with real servers, " +
			"so that every API process accepts the same reviewer sessions; generate it with `idverify keys`")
	}
	return nil
}

// loadConfig reads and validates the configuration. Every bad variable is
// named in the returned error.
func loadConfig(lookup func(string) (string, bool)) (Config, error) {
	e := &envReader{lookup: lookup}
	var c Config
	c.RedisURL = e.secret("IDVERIFY_REDIS_URL")
	c.MySQLDSN = e.secret("IDVERIFY_MYSQL_DSN")
	defAddr := ":8080"
	if c.Embedded() {
		defAddr = "127.0.0.1:8080"
	}
	c.Addr = e.str("IDVERIFY_ADDR", defAddr)
	c.EncryptionKeys = e.secret("IDVERIFY_ENCRYPTION_KEYS")
	c.FingerprintKey = e.secret("IDVERIFY_FINGERPRINT_KEY")
	c.IntakeKeys = e.secret("IDVERIFY_INTAKE_KEYS")
	c.ReviewerKeys = e.secret("IDVERIFY_REVIEWER_KEYS")
	c.OperatorKeys = e.secret("IDVERIFY_OPERATOR_KEYS")

	c.SMTP = notifier.EmailConfig{
		Host:     e.str("IDVERIFY_SMTP_HOST", ""),
		Port:     int(e.integer("IDVERIFY_SMTP_PORT", 587, 1, 65535)),
		TLS:      e.oneOf("IDVERIFY_SMTP_TLS", "starttls", "starttls", "implicit", "none"),
		Username: e.str("IDVERIFY_SMTP_USERNAME", ""),
		Password: e.secret("IDVERIFY_SMTP_PASSWORD"),
		Auth:     e.oneOf("IDVERIFY_SMTP_AUTH", "", "", "auto", "plain", "login", "cram-md5"),
		From:     e.str("IDVERIFY_MAIL_FROM", "idverify@localhost"),
		FromName: e.str("IDVERIFY_MAIL_FROM_NAME", "idverify"),
	}
	c.SMS = notifier.SMSConfig{
		URL:         e.str("IDVERIFY_SMS_URL", ""),
		KeyID:       e.str("IDVERIFY_SMS_KEY_ID", ""),
		Secret:      e.secret("IDVERIFY_SMS_SECRET"),
		Sender:      e.str("IDVERIFY_SMS_SENDER", "idverify"),
		MaxSegments: int(e.integer("IDVERIFY_SMS_MAX_SEGMENTS", 3, 1, 10)),
	}
	c.Webhook = notifier.WebhookConfig{URL: e.str("IDVERIFY_WEBHOOK_URL", ""), Secret: e.secret("IDVERIFY_WEBHOOK_SECRET")}
	c.LeadsEmail = e.str("IDVERIFY_LEADS_EMAIL", "")
	c.OperationsEmail = e.str("IDVERIFY_OPERATIONS_EMAIL", "")
	c.CalendarFile = e.str("IDVERIFY_CALENDAR_FILE", "")
	c.MaxPhotoBytes = e.integer("IDVERIFY_MAX_PHOTO_BYTES", 2<<20, 1024, 64<<20)
	c.ClaimTTL = e.duration("IDVERIFY_CLAIM_TTL", 30*time.Minute, time.Minute)
	c.Concurrency = int(e.integer("IDVERIFY_WORKER_CONCURRENCY", 10, 1, 1000))
	c.SweepInterval = e.duration("IDVERIFY_SWEEP_INTERVAL", time.Minute, time.Second)
	c.RelayInterval = e.duration("IDVERIFY_RELAY_INTERVAL", 2*time.Second, 10*time.Millisecond)
	c.ShutdownTimeout = e.duration("IDVERIFY_SHUTDOWN_TIMEOUT", 30*time.Second, time.Second)
	c.RetryBaseDelay = e.duration("IDVERIFY_RETRY_BASE_DELAY", 10*time.Second, time.Millisecond)
	c.RetryMaxDelay = e.duration("IDVERIFY_RETRY_MAX_DELAY", time.Hour, time.Millisecond)
	c.TaskCheckInterval = e.duration("IDVERIFY_TASK_CHECK_INTERVAL", 5*time.Second, 10*time.Millisecond)
	if c.RetryMaxDelay < c.RetryBaseDelay {
		e.errs = append(e.errs, "IDVERIFY_RETRY_MAX_DELAY: must not be below IDVERIFY_RETRY_BASE_DELAY")
	}
	c.ConsoleURL = e.str("IDVERIFY_CONSOLE_URL", "")
	c.ConsoleSessionKey = e.secret("IDVERIFY_CONSOLE_SESSION_KEY")
	defFormat := "json"
	if c.Embedded() {
		defFormat = "text"
	}
	c.LogFormat = e.oneOf("IDVERIFY_LOG_FORMAT", defFormat, "text", "json")
	c.LogLevel = e.oneOf("IDVERIFY_LOG_LEVEL", "info", "debug", "info", "warn", "error")

	if c.MySQLDSN != "" && (c.EncryptionKeys == "" || c.FingerprintKey == "") {
		e.errs = append(e.errs, "IDVERIFY_ENCRYPTION_KEYS and IDVERIFY_FINGERPRINT_KEY: required with IDVERIFY_MYSQL_DSN, "+
			"because data sealed with generated keys could never be read again; generate them with `idverify keys`")
	}
	if c.EncryptionKeys != "" {
		if _, _, err := pii.ParseKeys(c.EncryptionKeys); err != nil {
			e.errs = append(e.errs, "IDVERIFY_ENCRYPTION_KEYS: "+err.Error())
		}
	}
	if c.FingerprintKey != "" {
		if b, err := base64.StdEncoding.DecodeString(c.FingerprintKey); err != nil || len(b) < 32 {
			e.errs = append(e.errs, "IDVERIFY_FINGERPRINT_KEY: must be standard base64 of at least 32 bytes")
		}
	}
	if !c.Embedded() && (c.IntakeKeys == "" || c.ReviewerKeys == "" || c.OperatorKeys == "") {
		e.errs = append(e.errs, "IDVERIFY_INTAKE_KEYS, IDVERIFY_REVIEWER_KEYS and IDVERIFY_OPERATOR_KEYS: required with real servers")
	}
	if c.ConsoleSessionKey != "" {
		if b, err := base64.StdEncoding.DecodeString(c.ConsoleSessionKey); err != nil || len(b) < console.MinSessionKeyBytes {
			e.errs = append(e.errs, "IDVERIFY_CONSOLE_SESSION_KEY: must be standard base64 of at least 32 bytes")
		}
	}
	if c.SMS.URL != "" && c.SMS.Secret == "" {
		e.errs = append(e.errs, "IDVERIFY_SMS_SECRET: required with IDVERIFY_SMS_URL")
	}
	if c.Webhook.URL != "" && c.Webhook.Secret == "" {
		e.errs = append(e.errs, "IDVERIFY_WEBHOOK_SECRET: required with IDVERIFY_WEBHOOK_URL")
	}
	if len(e.errs) > 0 {
		return c, fmt.Errorf("invalid configuration:\n  %s", strings.Join(e.errs, "\n  "))
	}
	return c, nil
}

// keyring builds the PII keyring, generating throwaway keys on the
// embedded stores.
func (c Config) keyring() (*pii.Keyring, error) {
	if c.EncryptionKeys == "" {
		return pii.NewKeyring(map[string][]byte{"dev": pii.RandomKey()}, "dev", pii.RandomKey())
	}
	keys, current, err := pii.ParseKeys(c.EncryptionKeys)
	if err != nil {
		return nil, err
	}
	fp, err := base64.StdEncoding.DecodeString(c.FingerprintKey)
	if err != nil {
		return nil, err
	}
	return pii.NewKeyring(keys, current, fp)
}

// consoleSessionKey decodes ConsoleSessionKey, or returns a random key
// when it is empty (embedded stores only; loadConfig requires it otherwise).
func (c Config) consoleSessionKey() ([]byte, error) {
	if c.ConsoleSessionKey == "" {
		return pii.RandomKey(), nil
	}
	return base64.StdEncoding.DecodeString(c.ConsoleSessionKey)
}

// generatedKey is one API key made up for the embedded default.
type generatedKey struct{ Scope, Name, Key string }

// apiKeys builds the key table. Empty lists on the embedded stores get
// one generated key each, returned so they can be printed.
func (c Config) apiKeys() (*auth.Keys, []generatedKey, error) {
	keys := &auth.Keys{}
	var generated []generatedKey
	for _, spec := range []struct {
		scope, list, defName string
	}{
		{auth.ScopeIntake, c.IntakeKeys, "console"},
		{auth.ScopeReview, c.ReviewerKeys, "reviewer-1"},
		{auth.ScopeOperator, c.OperatorKeys, "operator"},
	} {
		list := spec.list
		if list == "" {
			k := spec.scope + "_" + randomToken()
			generated = append(generated, generatedKey{Scope: spec.scope, Name: spec.defName, Key: k})
			list = spec.defName + ":" + k
		}
		for i, item := range strings.Split(list, ",") {
			name, key, ok := strings.Cut(strings.TrimSpace(item), ":")
			if !ok || name == "" {
				return nil, nil, fmt.Errorf("%s keys, item %d: want name:key", spec.scope, i+1)
			}
			if err := keys.Add(key, auth.Principal{ID: name, Scope: spec.scope}); err != nil {
				return nil, nil, err
			}
		}
	}
	return keys, generated, nil
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// logAttrs returns the configuration as log attributes, secrets hidden.
func (c Config) logAttrs() []any {
	hide := func(s string) string {
		if s == "" {
			return ""
		}
		return "(set)"
	}
	redisURL, dsn := "embedded", "embedded"
	if c.RedisURL != "" {
		redisURL = redactURL(c.RedisURL)
	}
	if c.MySQLDSN != "" {
		dsn = redactDSN(c.MySQLDSN)
	}
	attrs := map[string]string{
		"addr": c.Addr, "redis": redisURL, "mysql": dsn, "encryption_keys": hide(c.EncryptionKeys),
		"fingerprint_key": hide(c.FingerprintKey), "console_session_key": hide(c.ConsoleSessionKey), "smtp_host": c.SMTP.Host, "smtp_port": strconv.Itoa(c.SMTP.Port),
		"smtp_tls": c.SMTP.TLS, "smtp_password": hide(c.SMTP.Password), "sms_url": c.SMS.URL,
		"sms_secret": hide(c.SMS.Secret), "webhook_url": c.Webhook.URL, "webhook_secret": hide(c.Webhook.Secret),
		"calendar_file": c.CalendarFile, "max_photo_bytes": strconv.FormatInt(c.MaxPhotoBytes, 10),
		"claim_ttl": c.ClaimTTL.String(), "concurrency": strconv.Itoa(c.Concurrency),
		"relay_interval": c.RelayInterval.String(), "shutdown_timeout": c.ShutdownTimeout.String(),
		"mail_from": c.SMTP.From, "smtp_username": c.SMTP.Username, "smtp_auth": c.SMTP.Auth,
		"sms_key_id": c.SMS.KeyID, "sms_sender": c.SMS.Sender, "leads_email": c.LeadsEmail,
		"operations_email": c.OperationsEmail, "console_url": c.ConsoleURL,
		"intake_keys": keyNames(c.IntakeKeys), "reviewer_keys": keyNames(c.ReviewerKeys), "operator_keys": keyNames(c.OperatorKeys),
		"sweep_interval": c.SweepInterval.String(), "retry_base_delay": c.RetryBaseDelay.String(), "retry_max_delay": c.RetryMaxDelay.String(), "task_check_interval": c.TaskCheckInterval.String(), "log_format": c.LogFormat, "log_level": c.LogLevel,
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]any, 0, len(names))
	for _, k := range names {
		out = append(out, slog.String(k, attrs[k]))
	}
	return out
}

// keyNames returns the names of a "name:key,..." list, without the keys.
func keyNames(list string) string {
	if list == "" {
		return "(generated)"
	}
	var names []string
	for _, item := range strings.Split(list, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(item), ":")
		names = append(names, name)
	}
	return strings.Join(names, ",")
}

func redactURL(u string) string {
	if at := strings.LastIndex(u, "@"); at >= 0 {
		if scheme := strings.Index(u, "://"); scheme >= 0 && scheme < at {
			return u[:scheme+3] + "***@" + u[at+1:]
		}
	}
	return u
}

func redactDSN(dsn string) string {
	if at := strings.LastIndex(dsn, "@"); at >= 0 {
		return "***@" + dsn[at+1:]
	}
	return dsn
}
