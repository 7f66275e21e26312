package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

const (
	testEncKeys = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
	testFPKey   = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
)

func realEnv() map[string]string {
	return map[string]string{
		"IDVERIFY_REDIS_URL": "redis://127.0.0.1:6379/0", "IDVERIFY_MYSQL_DSN": "u:p@tcp(127.0.0.1:3306)/idverify",
		"IDVERIFY_ENCRYPTION_KEYS": testEncKeys, "IDVERIFY_FINGERPRINT_KEY": testFPKey,
		"IDVERIFY_INTAKE_KEYS": "c:intake-key-0123456789", "IDVERIFY_REVIEWER_KEYS": "alice:review-key-0123456789",
		"IDVERIFY_OPERATOR_KEYS": "ops:operator-key-0123456789",
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := loadConfig(lookupFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Embedded() || c.Addr != "127.0.0.1:8080" || c.LogFormat != "text" {
		t.Errorf("embedded defaults: embedded %v, addr %q, log format %q", c.Embedded(), c.Addr, c.LogFormat)
	}
	if c.MaxPhotoBytes != 2<<20 || c.ClaimTTL != 30*time.Minute || c.SMTP.Port != 587 || c.SMTP.TLS != "starttls" {
		t.Errorf("limits: photo %d, claim %s, smtp %d %s", c.MaxPhotoBytes, c.ClaimTTL, c.SMTP.Port, c.SMTP.TLS)
	}

	c, err = loadConfig(lookupFrom(realEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if c.Embedded() || c.Addr != ":8080" || c.LogFormat != "json" {
		t.Errorf("real-server defaults: embedded %v, addr %q, log format %q", c.Embedded(), c.Addr, c.LogFormat)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	cases := []struct {
		name     string
		set      map[string]string
		unset    []string
		variable string
	}{
		{name: "bad port", set: map[string]string{"IDVERIFY_SMTP_PORT": "70000"}, variable: "IDVERIFY_SMTP_PORT"},
		{name: "bad tls", set: map[string]string{"IDVERIFY_SMTP_TLS": "ssl"}, variable: "IDVERIFY_SMTP_TLS"},
		{name: "bad duration", set: map[string]string{"IDVERIFY_CLAIM_TTL": "soon"}, variable: "IDVERIFY_CLAIM_TTL"},
		{name: "short claim", set: map[string]string{"IDVERIFY_CLAIM_TTL": "1s"}, variable: "IDVERIFY_CLAIM_TTL"},
		{name: "bad encryption key", set: map[string]string{"IDVERIFY_ENCRYPTION_KEYS": "k1:short"}, variable: "IDVERIFY_ENCRYPTION_KEYS"},
		{name: "short fingerprint key", set: map[string]string{"IDVERIFY_FINGERPRINT_KEY": "AAAA"}, variable: "IDVERIFY_FINGERPRINT_KEY"},
		{name: "missing encryption keys", unset: []string{"IDVERIFY_ENCRYPTION_KEYS"}, variable: "IDVERIFY_ENCRYPTION_KEYS"},
		{name: "missing api keys", unset: []string{"IDVERIFY_REVIEWER_KEYS"}, variable: "IDVERIFY_REVIEWER_KEYS"},
		{name: "sms without secret", set: map[string]string{"IDVERIFY_SMS_URL": "http://127.0.0.1:1/sms"}, variable: "IDVERIFY_SMS_SECRET"},
		{name: "webhook without secret", set: map[string]string{"IDVERIFY_WEBHOOK_URL": "http://127.0.0.1:1/hook"}, variable: "IDVERIFY_WEBHOOK_SECRET"},
		{name: "retry max below base", set: map[string]string{"IDVERIFY_RETRY_BASE_DELAY": "1m", "IDVERIFY_RETRY_MAX_DELAY": "1s"}, variable: "IDVERIFY_RETRY_MAX_DELAY"},
		{name: "bad session key", set: map[string]string{"IDVERIFY_CONSOLE_SESSION_KEY": "AAAA"}, variable: "IDVERIFY_CONSOLE_SESSION_KEY"},
		{name: "missing secret file", set: map[string]string{"IDVERIFY_SMTP_PASSWORD_FILE": "/nonexistent/idverify"}, variable: "IDVERIFY_SMTP_PASSWORD_FILE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := realEnv()
			for k, v := range tc.set {
				env[k] = v
			}
			for _, k := range tc.unset {
				delete(env, k)
			}
			_, err := loadConfig(lookupFrom(env))
			if err == nil {
				t.Fatal("loadConfig succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.variable) {
				t.Errorf("error %q does not name %s", err, tc.variable)
			}
		})
	}
}

func TestConfigSecretFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(path, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := realEnv()
	env["IDVERIFY_SMTP_PASSWORD_FILE"] = path
	c, err := loadConfig(lookupFrom(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Password != "s3cret" {
		t.Errorf("password from file = %q, want s3cret", c.SMTP.Password)
	}
	for _, a := range c.logAttrs() {
		text := a.(interface{ String() string }).String()
		for _, secret := range []string{"s3cret", "intake-key-0123456789", "review-key-0123456789", testFPKey} {
			if strings.Contains(text, secret) {
				t.Errorf("logged configuration shows a secret: %v", a)
			}
		}
	}
}

func TestConfigSessionKeyNeededByAPIOnly(t *testing.T) {
	c, err := loadConfig(lookupFrom(realEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.checkRoles(roles{Worker: true}); err != nil {
		t.Errorf("worker without a session key: %v, want no error", err)
	}
	err = c.checkRoles(roles{API: true})
	if err == nil || !strings.Contains(err.Error(), "IDVERIFY_CONSOLE_SESSION_KEY") {
		t.Errorf("api without a session key: %v, want an error naming IDVERIFY_CONSOLE_SESSION_KEY", err)
	}
}
