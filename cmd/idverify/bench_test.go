package main

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSubmit measures the intake path: a multipart submission with
// an 87 KiB JPEG, parsed, sealed and stored with its outbox rows in one
// transaction, with a 202 response. Accounts are created before the timer starts.
func BenchmarkSubmit(b *testing.B) {
	bb := setup(b, withConfig(func(c *Config) { c.LogLevel = "error" }))
	for i := range b.N {
		bb.putAccount(fmt.Sprintf("bench-submit-%d", i))
	}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			if code := bb.submit(fmt.Sprintf("bench-submit-%d", i), passportForm(), nil); code != http.StatusAccepted {
				b.Errorf("submit: status %d", code)
			}
		}
	})
}

// BenchmarkPipeline measures submission through automatic validation: it
// submits b.N applications and waits until every one awaits review, and
// reports applications per second.
func BenchmarkPipeline(b *testing.B) {
	bb := setup(b, withConfig(func(c *Config) { c.LogLevel = "error"; c.Concurrency = 8 }))
	ids := make([]string, b.N)
	for i := range b.N {
		bb.putAccount(fmt.Sprintf("bench-pipe-%d", i))
	}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		var created struct {
			ID string `json:"id"`
		}
		if code := bb.submit(fmt.Sprintf("bench-pipe-%d", i), passportForm(), &created); code != http.StatusAccepted {
			b.Fatalf("submit: status %d", code)
		}
		ids[i] = created.ID
	}
	for i, id := range ids {
		bb.waitStatus(fmt.Sprintf("bench-pipe-%d", i), id, "awaiting_review")
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "apps/s")
}
