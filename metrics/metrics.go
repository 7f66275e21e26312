// Package metrics defines idverify's Prometheus collectors. Labels carry
// routes, statuses, task types and channels only, never personal data or
// ids.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors and their registry.
type Metrics struct {
	Registry *prometheus.Registry

	Requests        *prometheus.CounterVec
	RequestDuration *prometheus.HistogramVec
	Transitions     *prometheus.CounterVec
	TaskOutcomes    *prometheus.CounterVec
	TaskDuration    *prometheus.HistogramVec
	Deliveries      *prometheus.CounterVec
	Escalations     *prometheus.CounterVec
	SweeperRestored prometheus.Counter
}

// New registers every collector on a new registry, plus the Go and process
// collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idverify_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "idverify_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idverify_application_transitions_total", Help: "Application status changes by new status.",
		}, []string{"status"}),
		TaskOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idverify_task_outcomes_total", Help: "Task runs by type and outcome (ok, retry, failed).",
		}, []string{"task_type", "outcome"}),
		TaskDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "idverify_task_duration_seconds", Help: "Task handler latency by type.", Buckets: prometheus.DefBuckets,
		}, []string{"task_type"}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idverify_notification_deliveries_total", Help: "Notification delivery attempts by channel and outcome (sent, skipped, retry, failed).",
		}, []string{"channel", "outcome"}),
		Escalations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idverify_review_escalations_total", Help: "Review SLA escalations by level (1: due, 2: breached).",
		}, []string{"level"}),
		SweeperRestored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "idverify_sweeper_restored_tasks_total", Help: "Tasks the deadline sweeper re-created because Redis had lost them.",
		}),
	}
	m.Registry.MustRegister(m.Requests, m.RequestDuration, m.Transitions, m.TaskOutcomes, m.TaskDuration,
		m.Deliveries, m.Escalations, m.SweeperRestored,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// RegisterQueueSizes adds a gauge of asynq queue sizes by queue and state,
// read from Redis at each scrape.
func (m *Metrics) RegisterQueueSizes(inspector *asynq.Inspector) {
	m.Registry.MustRegister(&queueCollector{inspector: inspector, desc: prometheus.NewDesc(
		"idverify_queue_tasks", "Tasks in each asynq queue by state.", []string{"queue", "state"}, nil)})
}

type queueCollector struct {
	inspector *asynq.Inspector
	desc      *prometheus.Desc
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	queues, err := c.inspector.Queues()
	if err != nil {
		return
	}
	for _, q := range queues {
		info, err := c.inspector.GetQueueInfo(q)
		if err != nil {
			continue
		}
		for state, n := range map[string]int{"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed} {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), q, state)
		}
	}
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Instrument wraps an HTTP handler registered under route (the mux
// pattern, never the raw path, so ids stay out of labels).
func (m *Metrics) Instrument(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		m.Requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.code)).Inc()
		m.RequestDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// TaskMiddleware counts task outcomes and latency.
func (m *Metrics) TaskMiddleware(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		err := next.ProcessTask(ctx, t)
		outcome := "ok"
		if err != nil {
			outcome = "retry"
			retried, _ := asynq.GetRetryCount(ctx)
			max, _ := asynq.GetMaxRetry(ctx)
			if retried >= max || isSkipRetry(err) {
				outcome = "failed"
			}
		}
		m.TaskOutcomes.WithLabelValues(t.Type(), outcome).Inc()
		m.TaskDuration.WithLabelValues(t.Type()).Observe(time.Since(start).Seconds())
		return err
	})
}
